//! Rust code for a form's typed records, from its component definitions
//! (GetFormComponentDefinitionList), and the comparison of such code with a live form — the
//! library side of `yida codegen form` and `yida forms check` (feature `formgen`).
//!
//! Field names come from the component's alias when the app has one, else from its label:
//! Chinese characters become their pinyin without tones (the `pinyin` crate, a maintained
//! table of Mandarin readings, with no dependencies of its own), other text its words in
//! snake_case; the label and the component id stay in the field's doc comment. Names are
//! deterministic (the form's component order) and collision-free (`_2`, `_3`, …); a names
//! file overrides any of them.
//!
//! ```
//! use yida_api::formgen::{generate, parse_definitions, Options};
//! let defs = parse_definitions(&serde_json::json!({"result": [
//!     {"fieldId": "textField_a", "label": "客户名称", "componentName": "TextField"},
//!     {"fieldId": "numberField_b", "label": "{\"zh_CN\":\"金额\",\"en_US\":\"Amount\",\"type\":\"i18n\"}",
//!      "componentName": "NumberField"},
//! ]})).unwrap();
//! let code = generate("FORM-X", &defs, &Options::new("Order")).unwrap();
//! assert!(code.contains("pub ke_hu_ming_cheng: Option<String>,"));
//! assert!(code.contains("pub amount: Option<f64>,"));
//! ```

use crate::components::ComponentKind;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// One component of a form, as GetFormComponentDefinitionList describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentDef {
    /// Component id (`textField_abc`).
    pub field_id: String,
    /// Label, resolved to one text (i18n labels: English when it has Latin letters and no
    /// Chinese, else Chinese).
    pub label: String,
    /// `componentName` (`TextField`).
    pub component_name: String,
    /// The sub-form it belongs to.
    pub parent_id: Option<String>,
    /// Alias, when the app gives the component one (GetFormComponentAliasList).
    pub alias: Option<String>,
}

impl ComponentDef {
    /// The kind, when known.
    pub fn kind(&self) -> Option<ComponentKind> {
        ComponentKind::from_component_name(&self.component_name)
            .or_else(|| ComponentKind::from_field_id(&self.field_id))
    }
}

/// Code generation settings.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Name of the form's struct (PascalCase).
    pub struct_name: String,
    /// Rust field names by component id, overriding the derived ones.
    pub names: BTreeMap<String, String>,
}

impl Options {
    /// Defaults with this struct name.
    pub fn new(struct_name: impl Into<String>) -> Self {
        Options {
            struct_name: struct_name.into(),
            names: BTreeMap::new(),
        }
    }
}

fn has_cjk(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c))
}

/// A label as Yida sends it: plain text, an i18n object, or JSON text of one.
pub fn resolve_label(label: &Value) -> String {
    let obj = match label {
        Value::String(s) if s.trim_start().starts_with('{') => {
            serde_json::from_str::<Value>(s).unwrap_or_else(|_| Value::String(s.clone()))
        }
        v => v.clone(),
    };
    match &obj {
        Value::String(s) => s.trim().to_string(),
        Value::Object(m) => {
            let get = |k: &str| {
                m.get(k)
                    .and_then(Value::as_str)
                    .map(str::trim)
                    .unwrap_or("")
            };
            let (zh, en) = (get("zh_CN"), get("en_US"));
            if !en.is_empty() && !has_cjk(en) && en.chars().any(|c| c.is_ascii_alphabetic()) {
                en.to_string()
            } else if !zh.is_empty() {
                zh.to_string()
            } else if !en.is_empty() {
                en.to_string()
            } else {
                m.values()
                    .find_map(Value::as_str)
                    .unwrap_or("")
                    .trim()
                    .to_string()
            }
        }
        _ => String::new(),
    }
}

/// Reads a GetFormComponentDefinitionList reply (`{"result": [...]}`) or its list. Bad input
/// is an error naming the entry.
pub fn parse_definitions(reply: &Value) -> Result<Vec<ComponentDef>, String> {
    let list = match reply {
        Value::Array(a) => a,
        Value::Object(m) => match m.get("result").or_else(|| m.get("data")) {
            Some(Value::Array(a)) => a,
            _ => return Err("expected a list of components or an object with `result`".into()),
        },
        _ => return Err("expected a list of components or an object with `result`".into()),
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, c) in list.iter().enumerate() {
        let o = c
            .as_object()
            .ok_or_else(|| format!("component {i}: not an object"))?;
        let field_id = o
            .get("fieldId")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| format!("component {i}: no `fieldId`"))?
            .to_string();
        let component_name = o
            .get("componentName")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| ComponentKind::from_field_id(&field_id).map(|k| k.component_name().into()))
            .unwrap_or_default();
        out.push(ComponentDef {
            label: o.get("label").map(resolve_label).unwrap_or_default(),
            component_name,
            parent_id: o
                .get("parentId")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            alias: o
                .get("alias")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            field_id,
        });
    }
    Ok(out)
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe",
    "use", "where", "while", "abstract", "become", "box", "do", "final", "macro", "override",
    "priv", "try", "typeof", "unsized", "virtual", "yield", "extra",
];

/// A snake_case Rust identifier for a text: pinyin for Chinese, words for the rest.
pub fn ident_from_text(text: &str) -> String {
    use pinyin::ToPinyin;
    let mut words: Vec<String> = vec![];
    let mut cur = String::new();
    let mut prev_lower = false;
    let flush = |cur: &mut String, words: &mut Vec<String>| {
        if !cur.is_empty() {
            words.push(std::mem::take(cur));
        }
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase() && prev_lower {
                flush(&mut cur, &mut words);
            }
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            cur.push(c.to_ascii_lowercase());
        } else if let Some(p) = c.to_pinyin() {
            flush(&mut cur, &mut words);
            words.push(p.plain().to_string());
            prev_lower = false;
        } else {
            flush(&mut cur, &mut words);
            prev_lower = false;
        }
    }
    flush(&mut cur, &mut words);
    let mut s = words.join("_");
    if s.len() > 48 {
        s.truncate(48);
        while s.ends_with('_') {
            s.pop();
        }
    }
    s
}

fn valid_ident(s: &str) -> bool {
    let mut ch = s.chars();
    matches!(ch.next(), Some(c) if c == '_' || c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c == '_' || c.is_ascii_lowercase() || c.is_ascii_digit())
        && s != "_"
        && !KEYWORDS.contains(&s)
}

fn pascal(s: &str) -> String {
    s.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Field names for components, in order, unique within each struct.
fn names_for(defs: &[&ComponentDef], opts: &Options) -> Result<Vec<String>, String> {
    let mut used = BTreeSet::new();
    let mut out = vec![];
    for d in defs {
        let base = if let Some(n) = opts.names.get(&d.field_id) {
            if !valid_ident(n) {
                return Err(format!(
                    "names file: {:?} for {} is not a snake_case Rust field name",
                    n, d.field_id
                ));
            }
            if used.contains(n) {
                return Err(format!(
                    "names file: {n:?} for {} is used twice",
                    d.field_id
                ));
            }
            n.clone()
        } else {
            let from = d
                .alias
                .as_deref()
                .map(ident_from_text)
                .filter(|s| !s.is_empty());
            let mut n = from.unwrap_or_else(|| ident_from_text(&d.label));
            if n.is_empty() {
                n = ident_from_text(d.field_id.split_once('_').map_or(&d.field_id, |(_, s)| s));
                n = format!("field_{n}");
            }
            if n.starts_with(|c: char| c.is_ascii_digit()) {
                n = format!("f_{n}");
            }
            if KEYWORDS.contains(&n.as_str()) {
                n.push('_');
            }
            n
        };
        let mut name = base.clone();
        let mut i = 2;
        while used.contains(&name) {
            name = format!("{base}_{i}");
            i += 1;
        }
        used.insert(name.clone());
        out.push(name);
    }
    Ok(out)
}

fn rust_type(kind: Option<ComponentKind>, row: &str) -> String {
    use ComponentKind as K;
    match kind {
        Some(K::TextField | K::TextareaField | K::RadioField | K::SelectField | K::EditorField)
        | Some(K::SerialNumberField | K::DigitalSignatureField) => "Option<String>".into(),
        Some(K::NumberField | K::RateField) => "Option<f64>".into(),
        Some(K::CheckboxField | K::MultiSelectField | K::CascadeSelectField) => {
            "Vec<String>".into()
        }
        Some(K::DateField) => "Option<DateMs>".into(),
        Some(K::CascadeDateField) => "Option<DateRange>".into(),
        Some(K::EmployeeField) => "Members".into(),
        Some(K::DepartmentSelectField) => "Departments".into(),
        Some(K::CountrySelectField) => "Countries".into(),
        Some(K::CityField) => "City".into(),
        Some(K::AddressField) => "Option<Address>".into(),
        Some(K::AttachmentField) => "Attachments".into(),
        Some(K::ImageField) => "Images".into(),
        Some(K::LinkField) => "Links".into(),
        Some(K::AssociationFormField) => "AssociationRefs".into(),
        Some(K::TableField) => format!("Table<{row}>"),
        Some(K::LocationField) => "Option<Location>".into(),
        _ => "serde_json::Value".into(),
    }
}

fn doc_text(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The Rust module for a form: a `#[derive(YidaForm)]` struct (and one per sub-form's rows),
/// deterministic for the same input.
pub fn generate(form_uuid: &str, defs: &[ComponentDef], opts: &Options) -> Result<String, String> {
    if !form_uuid.starts_with("FORM-") {
        return Err(format!("form uuid {form_uuid:?} does not start with FORM-"));
    }
    let sname = pascal(&opts.struct_name);
    if sname.is_empty() || !sname.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Err(format!(
            "struct name {:?} is not a PascalCase name",
            opts.struct_name
        ));
    }
    let mut seen = BTreeSet::new();
    for d in defs {
        if !seen.insert(&d.field_id) {
            return Err(format!("component id {} appears twice", d.field_id));
        }
    }
    let top: Vec<&ComponentDef> = defs.iter().filter(|d| d.parent_id.is_none()).collect();
    let top_names = names_for(&top, opts)?;
    let mut uses: BTreeSet<&str> = BTreeSet::new();
    let mut structs = String::new();
    let mut main = String::new();
    let mut row_names = BTreeSet::new();
    for (d, name) in top.iter().zip(&top_names) {
        let kind = d.kind();
        let mut row = String::new();
        if kind == Some(ComponentKind::TableField) {
            let mut r = format!("{sname}{}Row", pascal(name));
            while !row_names.insert(r.clone()) {
                r.push('_');
            }
            row = r;
            let children: Vec<&ComponentDef> = defs
                .iter()
                .filter(|c| c.parent_id.as_deref() == Some(d.field_id.as_str()))
                .collect();
            let child_names = names_for(&children, opts)?;
            let _ = writeln!(
                structs,
                "/// A row of sub-form {} (`{}`) of form `{form_uuid}`.",
                quote_label(&d.label),
                d.field_id
            );
            structs.push_str("#[derive(YidaForm, Debug, Clone, Default, PartialEq)]\n");
            let _ = writeln!(structs, "pub struct {row} {{");
            for (c, cn) in children.iter().zip(&child_names) {
                field(&mut structs, c, cn, "", &mut uses);
            }
            structs.push_str("}\n\n");
        }
        field(&mut main, d, name, &row, &mut uses);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "//! Typed records of form `{form_uuid}`, generated by `yida codegen form` from the form's\n//! component definitions. Regenerate when the form changes (`yida forms check` tells).\n"
    );
    let types: Vec<&str> = uses.iter().copied().filter(|u| !u.is_empty()).collect();
    match types.len() {
        0 => {}
        1 => {
            let _ = writeln!(out, "use yida_api::form_values::{};", types[0]);
        }
        _ => {
            let line = format!("use yida_api::form_values::{{{}}};", types.join(", "));
            if line.len() <= 100 {
                let _ = writeln!(out, "{line}");
            } else {
                out.push_str("use yida_api::form_values::{\n");
                let mut cur = String::from("   ");
                for t in &types {
                    // rustfmt's style: a comma after every item of a multi-line list.
                    let piece = format!(" {t},");
                    if cur.len() + piece.len() > 100 {
                        let _ = writeln!(out, "{cur}");
                        cur = String::from("   ");
                    }
                    cur.push_str(&piece);
                }
                let _ = writeln!(out, "{cur}");
                out.push_str("};\n");
            }
        }
    }
    out.push_str("use yida_api::YidaForm;\n\n");
    out.push_str(&structs);
    let _ = writeln!(out, "/// Form `{form_uuid}`.");
    out.push_str("#[derive(YidaForm, Debug, Clone, Default, PartialEq)]\n");
    let _ = writeln!(out, "#[yida(form = \"{form_uuid}\")]");
    let _ = writeln!(out, "pub struct {sname} {{");
    out.push_str(&main);
    out.push_str("    /// Keys of a reply that no field takes (never written back).\n");
    out.push_str("    #[yida(extra)]\n");
    out.push_str("    pub extra: serde_json::Map<String, serde_json::Value>,\n");
    out.push_str("}\n");
    Ok(out)
}

fn quote_label(label: &str) -> String {
    if label.is_empty() {
        "(no label)".into()
    } else {
        format!("“{}”", doc_text(label))
    }
}

fn field(
    out: &mut String,
    d: &ComponentDef,
    name: &str,
    row: &str,
    uses: &mut BTreeSet<&'static str>,
) {
    let kind = d.kind();
    let ty = rust_type(kind, row);
    for t in [
        "DateMs",
        "DateRange",
        "Members",
        "Departments",
        "Countries",
        "City",
        "Address",
        "Attachments",
        "Images",
        "Links",
        "AssociationRefs",
        "Table",
        "Location",
    ] {
        if ty == t || ty.starts_with(&format!("{t}<")) || ty.contains(&format!("<{t}>")) {
            uses.insert(t);
        }
    }
    let kind_text = match kind {
        Some(k) => k.component_name().to_string(),
        None => format!("{} (not known to this version: raw JSON)", d.component_name),
    };
    let _ = writeln!(
        out,
        "    /// {} — `{}`, {}{}.",
        quote_label(&d.label),
        d.field_id,
        kind_text,
        if kind.is_some_and(ComponentKind::read_only) {
            ", read-only"
        } else {
            ""
        }
    );
    match kind {
        Some(k) => {
            let _ = writeln!(
                out,
                "    #[yida(id = \"{}\", kind = \"{}\")]",
                d.field_id,
                k.component_name()
            );
        }
        None => {
            let _ = writeln!(out, "    #[yida(id = \"{}\")]", d.field_id);
        }
    }
    let _ = writeln!(out, "    pub {name}: {ty},");
}

/// A component as a generated module declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredField {
    /// Component id.
    pub field_id: String,
    /// `kind = …`, when given.
    pub component_name: Option<String>,
}

/// The form uuid and components a generated module (or any `#[derive(YidaForm)]` source)
/// declares, read from its `#[yida(…)]` attributes.
pub fn declared_fields(source: &str) -> Result<(Option<String>, Vec<DeclaredField>), String> {
    let mut form = None;
    let mut out = vec![];
    for (n, line) in source.lines().enumerate() {
        let t = line.trim();
        if !t.starts_with("#[yida(") {
            continue;
        }
        let attr = |key: &str| -> Option<String> {
            let pat = format!("{key} = \"");
            let i = t.find(&pat)? + pat.len();
            let rest = &t[i..];
            Some(rest[..rest.find('"')?].to_string())
        };
        if let Some(f) = attr("form") {
            if form.replace(f).is_some() {
                return Err(format!("line {}: a second #[yida(form = …)]", n + 1));
            }
        } else if let Some(id) = attr("id") {
            out.push(DeclaredField {
                field_id: id,
                component_name: attr("kind"),
            });
        }
    }
    if out.is_empty() {
        return Err("no #[yida(id = …)] field found: not a generated module".into());
    }
    Ok((form, out))
}

/// How a declared form differs from the live one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drift {
    /// In the live form, not declared: (id, componentName, label).
    pub added: Vec<(String, String, String)>,
    /// Declared, gone from the live form.
    pub removed: Vec<String>,
    /// Same id, another kind: (id, declared, live).
    pub retyped: Vec<(String, String, String)>,
}

impl Drift {
    /// No difference.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.retyped.is_empty()
    }
}

/// Compares declared components with the live definitions.
pub fn compare(declared: &[DeclaredField], live: &[ComponentDef]) -> Drift {
    let mut d = Drift::default();
    let live_by: BTreeMap<&str, &ComponentDef> =
        live.iter().map(|c| (c.field_id.as_str(), c)).collect();
    let declared_ids: BTreeSet<&str> = declared.iter().map(|f| f.field_id.as_str()).collect();
    for f in declared {
        match live_by.get(f.field_id.as_str()) {
            None => d.removed.push(f.field_id.clone()),
            Some(c) => {
                let declared_kind = f
                    .component_name
                    .as_deref()
                    .and_then(ComponentKind::from_component_name)
                    .or_else(|| ComponentKind::from_field_id(&f.field_id));
                let live_kind = c.kind();
                let differs = match (declared_kind, live_kind) {
                    (Some(a), Some(b)) => a != b,
                    _ => f
                        .component_name
                        .as_deref()
                        .is_some_and(|n| n != c.component_name),
                };
                if differs {
                    d.retyped.push((
                        f.field_id.clone(),
                        f.component_name
                            .clone()
                            .or(declared_kind.map(|k| k.component_name().into()))
                            .unwrap_or_default(),
                        c.component_name.clone(),
                    ));
                }
            }
        }
    }
    for c in live {
        if !declared_ids.contains(c.field_id.as_str()) {
            d.added.push((
                c.field_id.clone(),
                c.component_name.clone(),
                c.label.clone(),
            ));
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs() -> Vec<ComponentDef> {
        parse_definitions(&json!({"result": [
            {"fieldId": "textField_a", "label": "客户名称", "componentName": "TextField"},
            {"fieldId": "textField_b", "label": "客户名称", "componentName": "TextField"},
            {"fieldId": "numberField_c", "label": {"zh_CN": "金额", "en_US": "Amount", "type": "i18n"}, "componentName": "NumberField"},
            {"fieldId": "employeeField_d", "label": "Owner", "componentName": "EmployeeField", "alias": "ownerUser"},
            {"fieldId": "tableField_e", "label": "明细", "componentName": "TableField"},
            {"fieldId": "textField_f", "label": "品名", "componentName": "TextField", "parentId": "tableField_e"},
            {"fieldId": "fancyField_g", "label": "type", "componentName": "FancyField"},
            {"fieldId": "textField_h", "label": "", "componentName": "TextField"},
        ]}))
        .unwrap()
    }

    #[test]
    fn names_are_readable_unique_and_stable() {
        let code = generate("FORM-X", &defs(), &Options::new("order")).unwrap();
        for want in [
            "pub ke_hu_ming_cheng: Option<String>,",
            "pub ke_hu_ming_cheng_2: Option<String>,",
            "pub amount: Option<f64>,",
            "pub owner_user: Members,",
            "pub ming_xi: Table<OrderMingXiRow>,",
            "pub pin_ming: Option<String>,",
            "pub type_: serde_json::Value,",
            "pub field_h: Option<String>,",
            "/// “客户名称” — `textField_a`, TextField.",
            "#[yida(form = \"FORM-X\")]",
            "pub struct Order {",
        ] {
            assert!(code.contains(want), "{want}\n{code}");
        }
        assert_eq!(
            code,
            generate("FORM-X", &defs(), &Options::new("order")).unwrap()
        );
        let mut o = Options::new("Order");
        o.names.insert("textField_a".into(), "customer".into());
        assert!(generate("FORM-X", &defs(), &o)
            .unwrap()
            .contains("pub customer: Option<String>,"));
        o.names.insert("textField_b".into(), "Bad Name".into());
        assert!(generate("FORM-X", &defs(), &o)
            .unwrap_err()
            .contains("textField_b"));
    }

    #[test]
    fn check_names_added_removed_and_retyped() {
        let code = generate("FORM-X", &defs(), &Options::new("Order")).unwrap();
        let (form, declared) = declared_fields(&code).unwrap();
        assert_eq!(form.as_deref(), Some("FORM-X"));
        assert!(compare(&declared, &defs()).is_empty());
        let mut live = defs();
        live.retain(|d| d.field_id != "textField_b");
        live.push(ComponentDef {
            field_id: "dateField_new".into(),
            label: "新".into(),
            component_name: "DateField".into(),
            parent_id: None,
            alias: None,
        });
        live[0].component_name = "TextareaField".into();
        let d = compare(&declared, &live);
        assert_eq!(d.removed, ["textField_b"]);
        assert_eq!(d.added[0].0, "dateField_new");
        assert_eq!(
            d.retyped,
            [(
                "textField_a".into(),
                "TextField".into(),
                "TextareaField".into()
            )]
        );
    }

    #[test]
    fn labels_in_every_shape() {
        assert_eq!(resolve_label(&json!("名称")), "名称");
        assert_eq!(
            resolve_label(&json!("{\"zh_CN\":\"名称\",\"en_US\":\"Name\"}")),
            "Name"
        );
        assert_eq!(
            resolve_label(&json!({"zh_CN": "名称", "en_US": "名称"})),
            "名称"
        );
        assert_eq!(ident_from_text("Total Amount (CNY)"), "total_amount_cny");
        assert_eq!(ident_from_text("orderID"), "order_id");
        assert!(parse_definitions(&json!({"result": [{"label": "x"}]}))
            .unwrap_err()
            .contains("component 0"));
    }
}
