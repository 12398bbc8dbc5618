//! `yida schema <Action>`: the request and reply schema of an operation, as JSON Schema built
//! from its descriptor's typed model (`ParamType`, `ModelMeta`).

use crate::fail::Fail;
use crate::output::Doc;
use std::io::IsTerminal;
use yida_api::{ModelMeta, OperationMeta, ParamType};

/// Print the request and reply schema of an operation: parameters (type, required, where they
/// go) and the reply's fields, nested models expanded; `--json` prints JSON Schemas.
#[derive(clap::Args, Debug)]
pub struct SchemaArgs {
    /// The operation's action name, e.g. SearchFormDatas (see `yida ops`).
    pub action: String,
    /// API version [default: the current one].
    #[arg(long, value_name = "VERSION", value_parser = ["1.0", "2.0"])]
    pub api_version: Option<String>,
    /// Print `{"operation", "request", "reply"}` with JSON Schemas (draft 2020-12).
    #[arg(long)]
    pub json: bool,
}

/// Prints the schema.
pub async fn run(args: SchemaArgs) -> Result<(), Fail> {
    let meta = crate::call::find_op(&args.action, args.api_version.as_deref())?;
    let request = request_schema(meta);
    let reply = meta.reply.map_or(Doc::Null, reply_schema);
    if args.json {
        let doc = Doc::Obj(vec![
            ("operation".into(), Doc::Str(meta.id.to_string())),
            ("request".into(), request),
            ("reply".into(), reply),
        ]);
        let text = if std::io::stdout().is_terminal() {
            doc.pretty()
        } else {
            doc.compact()
        };
        return crate::out::stdout(&format!("{text}\n"));
    }
    crate::out::stdout(&render(meta, &request, &reply))
}

fn s(text: &str) -> Doc {
    Doc::Str(text.to_string())
}

/// The JSON Schema keywords of a type; models it names are added to `defs` (once).
fn type_schema(ty: &ParamType, defs: &mut Vec<&'static ModelMeta>) -> Vec<(String, Doc)> {
    let kind = |k: &str| vec![("type".to_string(), s(k))];
    match ty {
        ParamType::String => kind("string"),
        ParamType::I64 => kind("integer"),
        ParamType::F64 => kind("number"),
        ParamType::Bool => kind("boolean"),
        ParamType::Json => vec![],
        ParamType::JsonText => vec![
            ("type".into(), s("string")),
            ("contentMediaType".into(), s("application/json")),
        ],
        ParamType::List(inner) => vec![
            ("type".into(), s("array")),
            ("items".into(), Doc::Obj(type_schema(inner, defs))),
        ],
        ParamType::Map(inner) => vec![
            ("type".into(), s("object")),
            (
                "additionalProperties".into(),
                Doc::Obj(type_schema(inner, defs)),
            ),
        ],
        ParamType::Model(m) => {
            if !defs.iter().any(|d| d.name == m.name) {
                defs.push(m);
            }
            vec![("$ref".into(), Doc::Str(format!("#/$defs/{}", m.name)))]
        }
    }
}

/// `$defs` for `defs` and every model their fields reach.
fn defs_schema(mut defs: Vec<&'static ModelMeta>) -> Doc {
    let mut out = Vec::new();
    let mut i = 0;
    while i < defs.len() {
        let m = defs[i];
        let mut props = Vec::new();
        for f in m.fields {
            let mut field = type_schema(&f.ty, &mut defs);
            field.push(("description".into(), s(f.doc)));
            if f.secret {
                field.push(("x-secret".into(), Doc::Bool(true)));
            }
            props.push((f.name.to_string(), Doc::Obj(field)));
        }
        out.push((
            m.name.to_string(),
            Doc::Obj(vec![
                ("type".into(), s("object")),
                ("description".into(), s(m.doc)),
                ("properties".into(), Doc::Obj(props)),
            ]),
        ));
        i += 1;
    }
    Doc::Obj(out)
}

/// The request as JSON Schema: an object of the parameters by wire name; `x-in` says where
/// each goes, `x-context` marks those filled from the app context when unset (not required).
fn request_schema(meta: &OperationMeta) -> Doc {
    let mut defs = Vec::new();
    let mut props = Vec::new();
    let mut required = Vec::new();
    for p in meta.params {
        let mut prop = type_schema(&p.ty, &mut defs);
        prop.push(("description".into(), s(p.doc)));
        if !p.values.is_empty() {
            prop.push((
                "enum".into(),
                Doc::Arr(p.values.iter().map(|v| s(v)).collect()),
            ));
        }
        prop.push(("x-in".into(), s(p.location.as_str())));
        if p.context {
            prop.push(("x-context".into(), Doc::Bool(true)));
        }
        if p.secret {
            prop.push(("x-secret".into(), Doc::Bool(true)));
        }
        props.push((p.name.to_string(), Doc::Obj(prop)));
        if p.required && !p.context {
            required.push(s(p.name));
        }
    }
    let mut schema = vec![
        ("type".to_string(), s("object")),
        ("properties".into(), Doc::Obj(props)),
        ("required".into(), Doc::Arr(required)),
        ("additionalProperties".into(), Doc::Bool(false)),
    ];
    if !defs.is_empty() {
        schema.push(("$defs".into(), defs_schema(defs)));
    }
    Doc::Obj(schema)
}

/// The reply as JSON Schema: its model, with every model it reaches in `$defs`.
fn reply_schema(model: &'static ModelMeta) -> Doc {
    Doc::Obj(vec![
        ("$ref".into(), Doc::Str(format!("#/$defs/{}", model.name))),
        ("$defs".into(), defs_schema(vec![model])),
    ])
}

fn get<'a>(d: &'a Doc, key: &str) -> Option<&'a Doc> {
    match d {
        Doc::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

fn text<'a>(d: &'a Doc, key: &str) -> &'a str {
    match get(d, key) {
        Some(Doc::Str(s)) => s,
        _ => "",
    }
}

fn fields(d: Option<&Doc>) -> &[(String, Doc)] {
    match d {
        Some(Doc::Obj(f)) => f,
        _ => &[],
    }
}

/// The spec's name of a schema's type (`string`, `list<Model>`, `json_text`, …).
fn type_name(node: &Doc) -> String {
    if let Some(Doc::Str(r)) = get(node, "$ref") {
        return r.trim_start_matches("#/$defs/").to_string();
    }
    match text(node, "type") {
        "array" => format!(
            "list<{}>",
            get(node, "items").map_or("json".into(), type_name)
        ),
        "object" => match get(node, "additionalProperties") {
            Some(inner) => format!("map<{}>", type_name(inner)),
            None => "object".into(),
        },
        "string" if !text(node, "contentMediaType").is_empty() => "json_text".into(),
        "integer" => "i64".into(),
        "number" => "f64".into(),
        "boolean" => "bool".into(),
        "" => "json".into(),
        other => other.into(),
    }
}

/// The model a type reaches (through lists and maps), if any.
fn model_of(node: &Doc) -> Option<&str> {
    if let Some(Doc::Str(r)) = get(node, "$ref") {
        return Some(r.trim_start_matches("#/$defs/"));
    }
    get(node, "items")
        .or_else(|| get(node, "additionalProperties"))
        .and_then(model_of)
}

fn render(meta: &OperationMeta, request: &Doc, reply: &Doc) -> String {
    let mut s = meta.id.to_string();
    if let Some(t) = meta.doc_title {
        s.push_str(&format!("  {t}"));
    }
    s.push_str(&format!(
        "\n{}\n{} {}  (risk: {})\n",
        meta.doc,
        meta.method,
        meta.path,
        meta.risk.as_str()
    ));
    if let Some(url) = meta.doc_url {
        s.push_str(&format!("{url}\n"));
    }
    // The request: one row per parameter.
    let required: Vec<&str> = match get(request, "required") {
        Some(Doc::Arr(items)) => items
            .iter()
            .filter_map(|i| match i {
                Doc::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .collect(),
        _ => vec![],
    };
    let mut rows: Vec<[String; 5]> = vec![[
        "name".into(),
        "type".into(),
        "required".into(),
        "in".into(),
        "description".into(),
    ]];
    for (name, p) in fields(get(request, "properties")) {
        let needed = if required.contains(&name.as_str()) {
            "yes"
        } else if matches!(get(p, "x-context"), Some(Doc::Bool(true))) {
            "context"
        } else {
            "no"
        };
        let mut doc = text(p, "description").to_string();
        if let Some(Doc::Arr(values)) = get(p, "enum") {
            let values: Vec<String> = values.iter().map(Doc::compact).collect();
            doc.push_str(&format!(" [one of {}]", values.join(", ")));
        }
        rows.push([
            name.clone(),
            type_name(p),
            needed.into(),
            text(p, "x-in").into(),
            doc,
        ]);
    }
    s.push_str("\nRequest (--input, by wire name; context: from the app context when unset):\n");
    s.push_str(&columns(&rows, 2));
    // The reply: the model's fields, nested models indented under the field that holds them.
    let defs = get(reply, "$defs");
    match model_of(reply) {
        None => s.push_str("\nReply: empty\n"),
        Some(root) => {
            s.push_str(&format!("\nReply ({root}):\n"));
            let mut rows = vec![[
                "field".to_string(),
                "type".to_string(),
                "description".to_string(),
            ]];
            reply_rows(defs, root, 0, &mut vec![root.to_string()], &mut rows);
            let rows: Vec<[String; 5]> = rows
                .into_iter()
                .map(|[a, b, c]| [a, b, c, String::new(), String::new()])
                .collect();
            s.push_str(&columns(&rows, 2));
        }
    }
    s
}

/// Rows for the fields of `model`, recursing into the models they hold (once per path).
fn reply_rows(
    defs: Option<&Doc>,
    model: &str,
    depth: usize,
    path: &mut Vec<String>,
    rows: &mut Vec<[String; 3]>,
) {
    let Some(m) = defs.and_then(|d| get(d, model)) else {
        return;
    };
    for (name, f) in fields(get(m, "properties")) {
        rows.push([
            format!("{}{name}", "  ".repeat(depth)),
            type_name(f),
            text(f, "description").to_string(),
        ]);
        if let Some(inner) = model_of(f) {
            if !path.iter().any(|p| p == inner) && depth < 8 {
                path.push(inner.to_string());
                reply_rows(defs, inner, depth + 1, path, rows);
                path.pop();
            }
        }
    }
}

/// Rows as aligned columns (empty trailing cells dropped), indented by `indent`.
fn columns(rows: &[[String; 5]], indent: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    let n = (0..5)
        .rev()
        .find(|&i| rows.iter().any(|r| !r[i].is_empty()))
        .map_or(0, |i| i + 1);
    let widths: Vec<usize> = (0..n)
        .map(|i| rows.iter().map(|r| r[i].width()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = " ".repeat(indent);
        for i in 0..n {
            line.push_str(&r[i]);
            if i + 1 < n {
                line.push_str(&" ".repeat(widths[i] - r[i].width() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
