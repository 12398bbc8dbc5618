//! `cargo xtask import <Action> [--version V] --sdk <dir>`: writes the spec of an operation the
//! spec lacks, from the official Python SDK.
//!
//! Every wire fact (method, path, each parameter's name, location, type and required flag, the
//! reply's fields and types) comes from the SDK. Every `doc` is left as a `TODO:` marker, which
//! the spec's validation rejects, so the operation cannot be generated until a person has
//! described it in our own words. Facts the SDK does not hold (permission scope, app kinds,
//! whether the call only reads) are filled from a matching doc page when `--docs` is given, and
//! otherwise carry a `# TODO` comment to check.

use crate::docpages::{self, DocPage};
use crate::drift::{load_spec, Spec};
use crate::pysdk::{self, PyType, Sdk, SdkModel, SdkOperation};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The marker every generated `doc` starts with.
pub const DOC_MARKER: &str = "TODO: describe";

/// Names whose values must not print (`secret: true`).
fn is_secret(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(name, "systemToken" | "token" | "accessKey" | "signature")
        || lower.contains("secret")
        || lower.contains("password")
}

/// What `import` produces.
#[derive(Debug, Clone)]
pub struct Imported {
    /// `Action@version`.
    pub operation: String,
    pub area: String,
    /// Spec file, relative to the spec folder.
    pub file: String,
    /// The operation's YAML list item (indented for `operations:`).
    pub operation_yaml: String,
    /// The models' YAML entries (indented for `models:`), possibly empty.
    pub models_yaml: String,
    /// How many `doc` markers are left to write.
    pub markers: usize,
}

impl Imported {
    /// The text of a new spec file holding just this operation.
    pub fn new_file(&self) -> String {
        let mut s = format!("operations:\n{}", self.operation_yaml);
        if !self.models_yaml.is_empty() {
            s.push_str("models:\n");
            s.push_str(&self.models_yaml);
        }
        s
    }

    /// `existing` (a spec file) with this operation and its models added.
    pub fn merge_into(&self, existing: &str) -> String {
        let mut text = existing.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        let models_at = text
            .match_indices("\nmodels:")
            .map(|(i, _)| i + 1)
            .find(|&i| text[i..].starts_with("models:\n") || text[i..].trim_end() == "models:");
        match models_at {
            Some(i) => {
                let mut out = String::new();
                out.push_str(&text[..i]);
                out.push_str(&self.operation_yaml);
                out.push_str(&text[i..]);
                out.push_str(&self.models_yaml);
                out
            }
            None => {
                text.push_str(&self.operation_yaml);
                if !self.models_yaml.is_empty() {
                    text.push_str("models:\n");
                    text.push_str(&self.models_yaml);
                }
                text
            }
        }
    }
}

struct Names<'a> {
    taken: &'a BTreeSet<String>,
    chosen: BTreeMap<String, String>,
}

impl Names<'_> {
    /// A spec model name for an SDK class, unique in the spec.
    fn model(&mut self, class: &str, prefix_strip: &str, base: &str) -> String {
        if let Some(n) = self.chosen.get(class) {
            return n.clone();
        }
        let short = class.rsplit('.').next().unwrap_or(class);
        let rest = short.strip_prefix(prefix_strip).unwrap_or(short);
        let mut name = if rest.is_empty() {
            format!("{base}Response")
        } else {
            format!("{base}{rest}")
        };
        let stem = name.clone();
        let mut n = 2;
        while self.taken.contains(&name) || self.chosen.values().any(|v| v == &name) {
            name = format!("{stem}{n}");
            n += 1;
        }
        self.chosen.insert(class.to_string(), name.clone());
        name
    }
}

/// Turns SDK reply classes into spec models: a class whose fields (names and types) equal a
/// shared model of `spec/models.yaml` or of the target file, or one written earlier in this
/// import, reuses that model.
struct ModelWriter<'a, 'n> {
    sdk: &'a Sdk,
    existing: &'a BTreeMap<String, yida_codegen::ir::Model>,
    names: &'n mut Names<'a>,
    prefix_strip: &'a str,
    base: &'a str,
    action: &'a str,
    top: &'a str,
    /// The spec file being written (its models may be reused).
    file: &'a str,
    resolved: BTreeMap<String, String>,
    shapes: BTreeMap<Vec<(String, String)>, String>,
    visiting: BTreeSet<String>,
    /// YAML blocks, children before parents.
    emitted: Vec<String>,
    markers: usize,
}

impl ModelWriter<'_, '_> {
    fn ty(&mut self, ty: &PyType) -> String {
        match ty {
            PyType::Str => "string".into(),
            PyType::Int => "i64".into(),
            PyType::Float => "f64".into(),
            PyType::Bool => "bool".into(),
            PyType::Any | PyType::Other(_) => "json".into(),
            PyType::Dict(t) if **t == PyType::Any => "json".into(),
            PyType::Dict(t) => format!("map<{}>", self.ty(t)),
            PyType::List(t) => format!("list<{}>", self.ty(t)),
            PyType::Model(m) => self.resolve(m),
        }
    }

    /// The spec type name for an SDK class (`json` for an empty or recursive one).
    fn resolve(&mut self, class: &str) -> String {
        if let Some(n) = self.resolved.get(class) {
            return n.clone();
        }
        let sdk = self.sdk;
        let Some(model) = sdk.models.get(class).filter(|m| !m.fields.is_empty()) else {
            return "json".into();
        };
        if !self.visiting.insert(class.to_string()) {
            return "json".into();
        }
        let shape: Vec<(String, String)> = model
            .fields
            .iter()
            .map(|f| (f.name.clone(), self.ty(&f.ty)))
            .collect();
        self.visiting.remove(class);
        let same = |fields: &[yida_codegen::ir::Field]| {
            fields.len() == shape.len()
                && fields
                    .iter()
                    .all(|f| shape.contains(&(f.name.clone(), f.ty.spec_name())))
        };
        let reuse = self
            .existing
            .values()
            .filter(|m| m.file == "models.yaml" || m.file == self.file)
            .find(|m| same(&m.fields))
            .map(|m| m.name.clone())
            .or_else(|| self.shapes.get(&shape).cloned());
        if let Some(name) = reuse {
            self.resolved.insert(class.to_string(), name.clone());
            return name;
        }
        let name = self.names.model(class, self.prefix_strip, self.base);
        let mut block = format!("  {name}:\n");
        block.push_str(&format!(
            "    doc: \"{DOC_MARKER} {}\"\n",
            if class == self.top {
                format!("the reply of {}", self.action)
            } else {
                format!("this part of the {} reply", self.action)
            }
        ));
        block.push_str("    fields:\n");
        for (fname, ty) in &shape {
            block.push_str(&format!(
                "      - {{ name: {fname}, type: {}, doc: \"{DOC_MARKER} {fname}\"{} }}\n",
                if ty.contains('<') {
                    yaml_str(ty)
                } else {
                    ty.clone()
                },
                if is_secret(fname) {
                    ", secret: true"
                } else {
                    ""
                },
            ));
        }
        self.markers += 1 + shape.len();
        self.emitted.push(block);
        self.shapes.insert(shape, name.clone());
        self.resolved.insert(class.to_string(), name.clone());
        name
    }
}

/// A request parameter's spec type. Request objects are sent as given (`json`); in a query
/// string the SDK flattens them into a JSON string (its `*_shrink` fields): `json_text`.
fn param_type(ty: &PyType, location: pysdk::Location) -> String {
    let scalar = |t: &PyType| match t {
        PyType::Str => Some("string"),
        PyType::Int => Some("i64"),
        PyType::Float => Some("f64"),
        PyType::Bool => Some("bool"),
        _ => None,
    };
    if let Some(s) = scalar(ty) {
        return s.into();
    }
    if location != pysdk::Location::Body {
        return "json_text".into();
    }
    match ty {
        PyType::List(t) => scalar(t).map_or("json".into(), |s| format!("list<{s}>")),
        PyType::Dict(t) => scalar(t).map_or("json".into(), |s| format!("map<{s}>")),
        _ => "json".into(),
    }
}

fn yaml_str(s: &str) -> String {
    let escaped = s.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

/// Is the reply paged like `page_number`/`current_page` wants?
fn pagination(op: &SdkOperation, body: Option<&SdkModel>) -> Option<&'static str> {
    let has = |n: &str| op.params.iter().any(|p| p.name == n && p.ty == PyType::Int);
    let reply_ok = body.is_some_and(|b| {
        b.fields
            .iter()
            .any(|f| f.name == "totalCount" && f.ty == PyType::Int)
            && b.fields
                .iter()
                .any(|f| f.name == "data" && matches!(f.ty, PyType::List(_)))
    });
    if !reply_ok || !has("pageSize") {
        return None;
    }
    if has("pageNumber") {
        Some("page_number")
    } else if has("currentPage") {
        Some("current_page")
    } else {
        None
    }
}

/// Builds the spec text of `op` (which `spec` lacks).
pub fn build(
    spec: &Spec,
    sdk: &Sdk,
    op: &SdkOperation,
    area: &str,
    page: Option<(&DocPage, &str)>,
    docs_given: bool,
) -> Imported {
    let base = if op.version == "1.0" {
        op.action.clone()
    } else {
        format!(
            "{}V{}",
            op.action,
            op.version.split('.').next().unwrap_or("")
        )
    };
    let taken: BTreeSet<String> = spec.api.models.keys().cloned().collect();
    let mut names = Names {
        taken: &taken,
        chosen: BTreeMap::new(),
    };
    let mut markers = 0;
    let body = op.response.as_ref().and_then(|r| sdk.models.get(r));
    // The SDK names nested reply classes `{Action}ResponseBody{Field...}`.
    let prefix_strip = format!("{}ResponseBody", op.action);

    let mut y = String::new();
    y.push_str(&format!("  - action: {}\n", op.action));
    y.push_str(&format!("    version: \"{}\"\n", op.version));
    y.push_str(&format!("    method: {}\n", op.method));
    y.push_str(&format!("    path: {}\n", op.path));
    y.push_str(&format!("    area: {area}\n"));
    markers += 1;
    let summary = op
        .summary
        .as_deref()
        .map(|s| format!("  # SDK summary: {s}"))
        .unwrap_or_default();
    y.push_str(&format!(
        "    doc: \"{DOC_MARKER} {} in one line of our own words\"{summary}\n",
        op.action
    ));
    match page.map(|(p, _)| p) {
        Some(p) => {
            y.push_str(&format!(
                "    permission: {}\n",
                p.permission.as_deref().unwrap_or("null")
            ));
            let kinds = if p.app_kinds.is_empty() {
                "[internal]  # TODO: the page names no app kinds".to_string()
            } else {
                format!("[{}]", p.app_kinds.join(", "))
            };
            y.push_str(&format!("    app_kinds: {kinds}\n"));
        }
        None => {
            y.push_str("    permission: null  # TODO: the SDK does not say; check the doc page\n");
            y.push_str(
                "    app_kinds: [internal, third_party_enterprise]  # TODO: the SDK does not say; check the doc page\n",
            );
        }
    }
    if op.method == "GET" {
        y.push_str("    risk: read\n");
    } else {
        y.push_str(
            "    risk: write  # TODO: read if this call only reads (then a failed call may be retried), irreversible if it cannot be undone\n",
        );
    }
    if let Some(p) = pagination(op, body) {
        y.push_str(&format!("    pagination: {p}\n"));
    }
    if let Some((p, _)) = page.filter(|(p, _)| p.source_url.is_some()) {
        if let Some(url) = &p.source_url {
            y.push_str(&format!("    doc_url: {url}\n"));
        }
        if let Some(title) = &p.title {
            y.push_str(&format!("    doc_title: {:?}\n", title));
        }
    } else if docs_given {
        y.push_str("    note: \"No DingTalk doc page; described only by the official SDK.\"\n");
    }
    if op.params.is_empty() {
        y.push_str("    params: []\n");
    } else {
        y.push_str("    params:\n");
        for p in &op.params {
            let ty = param_type(&p.ty, p.location);
            markers += 1;
            y.push_str(&format!(
                "      - {{ name: {}, in: {}, type: {}, required: {}, doc: \"{DOC_MARKER} {}\"{} }}\n",
                p.name,
                p.location.as_str(),
                if ty.contains('<') { yaml_str(&ty) } else { ty },
                p.required || p.location == pysdk::Location::Path,
                p.name,
                if is_secret(&p.name) { ", secret: true" } else { "" },
            ));
        }
    }
    let file = format!("{area}/{}.yaml", op.action);
    // Reply.
    let mut models_yaml = String::new();
    if let Some(b) = body.filter(|b| !b.fields.is_empty()) {
        let mut w = ModelWriter {
            sdk,
            existing: &spec.api.models,
            names: &mut names,
            prefix_strip: &prefix_strip,
            base: &base,
            action: &op.action,
            top: &b.name,
            file: &file,
            resolved: BTreeMap::new(),
            shapes: BTreeMap::new(),
            visiting: BTreeSet::new(),
            emitted: Vec::new(),
            markers: 0,
        };
        let top = w.resolve(&b.name);
        y.push_str(&format!("    response: {top}\n"));
        markers += w.markers;
        // Parents before the models they use.
        for block in w.emitted.iter().rev() {
            models_yaml.push_str(block);
        }
    }
    Imported {
        operation: format!("{}@{}", op.action, op.version),
        area: area.to_string(),
        file,
        operation_yaml: y,
        models_yaml,
        markers,
    }
}

/// The text with every `doc` marker replaced by `replacement` (what a person would write).
pub fn fill_markers(text: &str, replacement: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    let needle = format!("\"{DOC_MARKER}");
    while let Some(i) = rest.find(&needle) {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find('"').map_or(after.len(), |e| e + 1);
        out.push_str(&yaml_str(replacement));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

struct Args {
    action: String,
    version: Option<String>,
    sdk: PathBuf,
    spec: PathBuf,
    area: Option<String>,
    docs: Option<PathBuf>,
    stdout: bool,
}

const USAGE: &str = "usage: cargo xtask import <Action> [--version 1.0|2.0] --sdk <unpacked alibabacloud-dingtalk> [--area <folder>] [--docs <folder of pages>] [--spec <dir>] [--stdout]";

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut action = None;
    let mut a = Args {
        action: String::new(),
        version: None,
        sdk: PathBuf::new(),
        spec: crate::root().join("spec"),
        area: None,
        docs: None,
        stdout: false,
    };
    let mut sdk = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))
        };
        match arg.as_str() {
            "--version" => a.version = Some(value("--version")?),
            "--sdk" => sdk = Some(PathBuf::from(value("--sdk")?)),
            "--spec" => a.spec = PathBuf::from(value("--spec")?),
            "--area" => a.area = Some(value("--area")?),
            "--docs" => a.docs = Some(PathBuf::from(value("--docs")?)),
            "--stdout" => a.stdout = true,
            s if s.starts_with("--") => return Err(format!("unknown option `{s}`\n{USAGE}")),
            s => {
                if action.replace(s.to_string()).is_some() {
                    return Err(format!("one action at a time\n{USAGE}"));
                }
            }
        }
    }
    a.action = action.ok_or_else(|| format!("name the action to import\n{USAGE}"))?;
    a.sdk = sdk.ok_or_else(|| format!("--sdk is required\n{USAGE}"))?;
    Ok(a)
}

/// Picks the SDK operation to import.
fn pick<'a>(
    sdk: &'a Sdk,
    spec: &Spec,
    action: &str,
    version: Option<&str>,
) -> Result<&'a SdkOperation, String> {
    let versions: Vec<&SdkOperation> = sdk
        .operations
        .iter()
        .filter(|o| o.action == action)
        .collect();
    if versions.is_empty() {
        return Err(format!("the SDK has no operation `{action}`"));
    }
    let in_spec = |o: &SdkOperation| {
        spec.api
            .operations
            .iter()
            .find(|s| s.action == o.action && s.version == o.version)
            .map(|s| s.file.clone())
    };
    let op = match version {
        Some(v) => versions
            .iter()
            .find(|o| o.version == v)
            .copied()
            .ok_or_else(|| {
                let have: Vec<&str> = versions.iter().map(|o| o.version.as_str()).collect();
                format!(
                    "the SDK has `{action}` in version(s) {}, not {v}",
                    have.join(", ")
                )
            })?,
        None => {
            let missing: Vec<&&SdkOperation> =
                versions.iter().filter(|o| in_spec(o).is_none()).collect();
            match missing.as_slice() {
                [one] => one,
                [] => versions[0],
                _ => {
                    return Err(format!(
                        "the spec lacks `{action}` in several versions ({}); pass --version",
                        missing
                            .iter()
                            .map(|o| o.version.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                }
            }
        }
    };
    if let Some(file) = in_spec(op) {
        return Err(format!(
            "{action}@{} is already in spec/{file}; `cargo xtask drift --sdk` shows how it differs",
            op.version
        ));
    }
    Ok(op)
}

/// The area: given, or that of another version of the same action.
fn choose_area(spec: &Spec, op: &SdkOperation, given: Option<&str>) -> Result<String, String> {
    let areas: BTreeSet<&str> = spec
        .api
        .operations
        .iter()
        .map(|o| o.area.as_str())
        .collect();
    if let Some(a) = given {
        return Ok(a.to_string());
    }
    if let Some(o) = spec.api.operations.iter().find(|o| o.action == op.action) {
        return Ok(o.area.clone());
    }
    Err(format!(
        "pass --area <folder> for {}@{} (existing areas: {})",
        op.action,
        op.version,
        areas.into_iter().collect::<Vec<_>>().join(", ")
    ))
}

/// Checks that `imported` validates together with the spec once its docs are written.
fn self_check(spec_dir: &Path, imported: &Imported, text: &str) -> Result<(), String> {
    let mut files = Vec::new();
    collect_yaml(spec_dir, spec_dir, &mut files).map_err(|e| e.to_string())?;
    let mut texts = Vec::new();
    for rel in files {
        if rel == imported.file {
            continue;
        }
        let t = std::fs::read_to_string(spec_dir.join(&rel)).map_err(|e| format!("{rel}: {e}"))?;
        texts.push((rel, t));
    }
    texts.push((imported.file.clone(), fill_markers(text, "Described.")));
    texts.sort();
    yida_codegen::load_texts(&texts)
        .map(|_| ())
        .map_err(|e| format!("the imported spec would not validate even with its docs written (a bug in import):\n{e}"))
}

fn collect_yaml(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.is_dir() {
            collect_yaml(root, &p, out)?;
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            let rel = p.strip_prefix(root).unwrap_or(&p);
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

/// Runs `cargo xtask import ...`.
pub fn run(args: &[String]) -> std::process::ExitCode {
    match run_inner(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            crate::err(&e);
            std::process::ExitCode::from(2)
        }
    }
}

fn run_inner(args: &[String]) -> Result<(), String> {
    let a = parse_args(args)?;
    let spec = load_spec(&a.spec)?;
    let sdk = pysdk::load(&a.sdk)?;
    let op = pick(&sdk, &spec, &a.action, a.version.as_deref())?;
    let area = choose_area(&spec, op, a.area.as_deref())?;
    let pages = match &a.docs {
        Some(d) => docpages::load(d)?,
        None => Vec::new(),
    };
    let page = pages.iter().find(|p| {
        p.method == op.method && crate::drift::path_key(&p.path) == crate::drift::path_key(&op.path)
    });
    // `doc_page` is relative to the pages' parent folder (`yida/0352-....md`).
    let folder = a
        .docs
        .as_ref()
        .and_then(|d| d.canonicalize().ok())
        .and_then(|d| d.file_name().map(|n| format!("{}/", n.to_string_lossy())))
        .unwrap_or_default();
    let imported = build(
        &spec,
        &sdk,
        op,
        &area,
        page.map(|p| (p, folder.as_str())),
        a.docs.is_some(),
    );
    let target = a.spec.join(&imported.file);
    let text = match std::fs::read_to_string(&target) {
        Ok(existing) => imported.merge_into(&existing),
        Err(_) => imported.new_file(),
    };
    self_check(&a.spec, &imported, &text)?;
    if a.stdout {
        crate::out(&text);
        return Ok(());
    }
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&target, &text).map_err(|e| format!("{}: {e}", target.display()))?;
    crate::out(&format!(
        "wrote spec/{} with {}: {} `doc` marker(s) to replace with descriptions in our own words \
         (validation rejects `TODO`), and the `# TODO` comments to check; then run `cargo xtask gen`\n",
        imported.file, imported.operation, imported.markers
    ));
    Ok(())
}
