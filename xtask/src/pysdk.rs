//! Reads the Yida modules of the official Python SDK (`alibabacloud-dingtalk`) without running
//! Python.
//!
//! The files are machine generated and regular: `client.py` has one `*_with_options` method per
//! operation that fills `query[...]`/`body[...]` maps from the request model and ends in
//! `open_api_models.Params(action=..., version=..., pathname=..., method=...)`; `models.py` has
//! one `TeaModel` class per request, reply body and nested object, whose `__init__` carries the
//! Python types (with `# This parameter is required.` above required fields) and whose
//! `from_map` carries the wire names. This module reads exactly those shapes, line by line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A type as the SDK annotates it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PyType {
    Str,
    Int,
    Float,
    Bool,
    Any,
    List(Box<PyType>),
    Dict(Box<PyType>),
    /// A model class, as `module.Class` (for example `yida_1_0.GetOpenUrlResponseBody`).
    Model(String),
    /// An annotation this reader does not know.
    Other(String),
}

impl PyType {
    /// Parses an annotation such as `List[Dict[str, Any]]`; model names are qualified with
    /// `module`.
    pub fn parse(text: &str, module: &str) -> PyType {
        let t = text.trim();
        let inner = |prefix: &str| {
            t.strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(']'))
                .map(str::trim)
        };
        match t {
            "str" => PyType::Str,
            "int" => PyType::Int,
            "float" => PyType::Float,
            "bool" => PyType::Bool,
            "Any" | "dict" => PyType::Any,
            _ => {
                if let Some(i) = inner("List[") {
                    PyType::List(Box::new(PyType::parse(i, module)))
                } else if let Some(i) = inner("Dict[") {
                    match i.split_once(',') {
                        Some((k, v)) if k.trim() == "str" => {
                            PyType::Dict(Box::new(PyType::parse(v, module)))
                        }
                        _ => PyType::Other(t.to_string()),
                    }
                } else if !t.is_empty()
                    && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && t.starts_with(|c: char| c.is_ascii_uppercase())
                {
                    PyType::Model(format!("{module}.{t}"))
                } else {
                    PyType::Other(t.to_string())
                }
            }
        }
    }

    /// The annotation as the SDK writes it (model names without their module).
    pub fn python(&self) -> String {
        match self {
            PyType::Str => "str".into(),
            PyType::Int => "int".into(),
            PyType::Float => "float".into(),
            PyType::Bool => "bool".into(),
            PyType::Any => "Any".into(),
            PyType::List(t) => format!("List[{}]", t.python()),
            PyType::Dict(t) => format!("Dict[str, {}]", t.python()),
            PyType::Model(m) => m.rsplit('.').next().unwrap_or(m).to_string(),
            PyType::Other(o) => o.clone(),
        }
    }
}

/// Where a parameter travels: the spec's own enum, so the two sides compare directly.
pub use yida_codegen::ir::Location;

/// One request parameter of an SDK operation.
#[derive(Debug, Clone)]
pub struct SdkParam {
    /// Wire name (for path parameters: the Python argument name turned into camelCase).
    pub name: String,
    /// The Python attribute or argument name.
    pub py_name: String,
    pub location: Location,
    pub ty: PyType,
    pub required: bool,
}

/// One operation of the SDK.
#[derive(Debug, Clone)]
pub struct SdkOperation {
    pub action: String,
    /// `"1.0"`, `"2.0"`.
    pub version: String,
    pub method: String,
    /// The path with `{camelCase}` placeholders.
    pub path: String,
    pub params: Vec<SdkParam>,
    /// The reply body model (`module.Class`), if the reply has one.
    pub response: Option<String>,
    /// The SDK's one-line summary (`@summary`), if any.
    pub summary: Option<String>,
    /// `yida_1_0/client.py:29`.
    pub source: String,
}

/// One field of an SDK model.
#[derive(Debug, Clone)]
pub struct SdkField {
    /// Wire name.
    pub name: String,
    pub py_name: String,
    pub ty: PyType,
    pub required: bool,
}

/// An SDK model class.
#[derive(Debug, Clone)]
pub struct SdkModel {
    /// `module.Class`.
    pub name: String,
    pub fields: Vec<SdkField>,
}

/// Everything read from the SDK's Yida modules.
#[derive(Debug, Clone, Default)]
pub struct Sdk {
    /// Package version, when the wheel's or sdist's metadata says.
    pub version: Option<String>,
    /// Operations ordered by action, then version.
    pub operations: Vec<SdkOperation>,
    /// Models by `module.Class`.
    pub models: BTreeMap<String, SdkModel>,
}

impl Sdk {
    /// The operation `action@version`, if the SDK has it.
    pub fn operation(&self, action: &str, version: &str) -> Option<&SdkOperation> {
        self.operations
            .iter()
            .find(|o| o.action == action && o.version == version)
    }
}

/// `app_type` → `appType`.
pub fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A name reduced to what survives the SDK's snake_case conversion (lower case, no `_`).
pub fn loose(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Finds the Yida module folders (`yida_1_0`, `yida_2_0`, …) below `root`: an unpacked wheel,
/// an unpacked sdist, the `alibabacloud_dingtalk` package folder or a module folder itself.
pub fn find_modules(root: &Path) -> Result<Vec<PathBuf>, String> {
    fn is_module(p: &Path) -> bool {
        p.file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("yida_"))
            .is_some_and(|rest| {
                let parts: Vec<&str> = rest.split('_').collect();
                parts.len() == 2
                    && parts
                        .iter()
                        .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            })
            && p.join("client.py").is_file()
            && p.join("models.py").is_file()
    }
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        if is_module(dir) {
            out.push(dir.to_path_buf());
            return;
        }
        if depth == 0 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for d in dirs {
            walk(&d, depth - 1, out);
        }
    }
    if !root.is_dir() {
        return Err(format!("--sdk {}: not a folder", root.display()));
    }
    let mut out = Vec::new();
    walk(root, 4, &mut out);
    if out.is_empty() {
        return Err(format!(
            "--sdk {}: no yida_<major>_<minor> module with client.py and models.py below it \
             (unpack the alibabacloud-dingtalk wheel or sdist first)",
            root.display()
        ));
    }
    Ok(out)
}

/// The package version from a `*.dist-info/METADATA` or `PKG-INFO` near the modules.
fn package_version(root: &Path, modules: &[PathBuf]) -> Option<String> {
    let mut candidates = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    for m in modules {
        for a in m.ancestors().skip(1).take(3) {
            dirs.push(a.to_path_buf());
        }
    }
    for d in dirs {
        candidates.push(d.join("PKG-INFO"));
        if let Ok(entries) = std::fs::read_dir(&d) {
            for e in entries.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "dist-info") {
                    candidates.push(p.join("METADATA"));
                }
            }
        }
    }
    candidates.into_iter().find_map(|p| {
        let text = std::fs::read_to_string(p).ok()?;
        let has_name = text.lines().any(|l| {
            l.strip_prefix("Name:")
                .is_some_and(|n| n.trim().replace('_', "-") == "alibabacloud-dingtalk")
        });
        if !has_name {
            return None;
        }
        text.lines()
            .find_map(|l| l.strip_prefix("Version:").map(|v| v.trim().to_string()))
    })
}

/// Reads every Yida module below `root`.
pub fn load(root: &Path) -> Result<Sdk, String> {
    let modules = find_modules(root)?;
    let mut sdk = Sdk {
        version: package_version(root, &modules),
        ..Default::default()
    };
    for dir in &modules {
        let module = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let read = |f: &str| {
            std::fs::read_to_string(dir.join(f))
                .map_err(|e| format!("{}: {e}", dir.join(f).display()))
        };
        let models = parse_models(&module, &read("models.py")?);
        let ops = parse_client(&module, &read("client.py")?, &models)?;
        sdk.models.extend(models);
        sdk.operations.extend(ops);
    }
    sdk.operations
        .sort_by(|a, b| (&a.action, &a.version).cmp(&(&b.action, &b.version)));
    Ok(sdk)
}

/// The text between the first pair of single (or double) quotes after `key=`, if the line
/// sets `key`.
fn quoted_value(line: &str, key: &str) -> Option<String> {
    let t = line.trim();
    let rest = t
        .strip_prefix(key)?
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let rest = rest.strip_prefix('f').unwrap_or(rest);
    let q = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let body = &rest[1..];
    let end = body.find(q)?;
    Some(body[..end].to_string())
}

/// `query['wire'] = request.attr` → `("query", "wire", "attr")`.
fn map_assignment(line: &str) -> Option<(Location, String, String)> {
    let t = line.trim();
    let (loc, rest) = if let Some(r) = t.strip_prefix("query[") {
        (Location::Query, r)
    } else if let Some(r) = t.strip_prefix("body[") {
        (Location::Body, r)
    } else {
        return None;
    };
    let q = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let rest = &rest[1..];
    let end = rest.find(q)?;
    let wire = rest[..end].to_string();
    let after = rest[end + 1..].trim_start().strip_prefix(']')?.trim_start();
    let value = after.strip_prefix('=')?.trim();
    let pos = value.find("request.")?;
    let attr: String = value[pos + "request.".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    Some((loc, wire, attr))
}

/// Splits a Python file into blocks that start with a line for which `start` returns a name;
/// each block runs to the next start.
fn blocks<'a>(
    text: &'a str,
    start: impl Fn(&str) -> Option<String>,
) -> Vec<(String, usize, Vec<&'a str>)> {
    let mut out: Vec<(String, usize, Vec<&'a str>)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(name) = start(line) {
            out.push((name, i + 1, vec![line]));
        } else if let Some(last) = out.last_mut() {
            last.2.push(line);
        }
    }
    out
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Parses a `models.py`: every `class X(TeaModel)` with its fields.
pub fn parse_models(module: &str, text: &str) -> BTreeMap<String, SdkModel> {
    let class_start = |line: &str| {
        let rest = line.strip_prefix("class ")?;
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    };
    let mut out = BTreeMap::new();
    for (class, _, lines) in blocks(text, class_start) {
        let mut types: BTreeMap<String, PyType> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut required: Vec<String> = Vec::new();
        let mut wire: BTreeMap<String, String> = BTreeMap::new();
        let mut section = "";
        let mut pending_required = false;
        let mut pending_wire: Option<String> = None;
        for line in &lines {
            let t = line.trim();
            if indent_of(line) == 4 && t.starts_with("def ") {
                section = if t.starts_with("def __init__(") {
                    "init"
                } else if t.starts_with("def from_map(") {
                    "from_map"
                } else {
                    ""
                };
                pending_wire = None;
                continue;
            }
            match section {
                "init" => {
                    // Signature: `name: Type = None,`
                    if let Some((name, rest)) = t.split_once(':') {
                        let name = name.trim();
                        if let Some(ty) = rest.trim().strip_suffix(',').and_then(|r| {
                            r.trim()
                                .strip_suffix("= None")
                                .or_else(|| r.trim().strip_suffix("=None"))
                        }) {
                            if name != "self" && is_ident(name) {
                                types.insert(name.to_string(), PyType::parse(ty, module));
                                order.push(name.to_string());
                            }
                            continue;
                        }
                    }
                    if t.starts_with('#') && t.contains("This parameter is required") {
                        pending_required = true;
                    } else if let Some(rest) = t.strip_prefix("self.") {
                        let attr: String = rest
                            .chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect();
                        if pending_required {
                            required.push(attr);
                        }
                        pending_required = false;
                    } else if !t.starts_with('#') && !t.is_empty() {
                        pending_required = false;
                    }
                }
                "from_map" => {
                    // `if m.get('wire') is not None:` then the first `self.attr` names it.
                    if let Some(pos) = t.find("m.get(") {
                        if t.starts_with("if ") {
                            let rest = &t[pos + "m.get(".len()..];
                            if let Some(q) = rest.chars().next().filter(|c| *c == '\'' || *c == '"')
                            {
                                if let Some(end) = rest[1..].find(q) {
                                    pending_wire = Some(rest[1..1 + end].to_string());
                                    continue;
                                }
                            }
                        }
                    }
                    if let Some(w) = &pending_wire {
                        if let Some(pos) = t.find("self.") {
                            let attr: String = t[pos + 5..]
                                .chars()
                                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                                .collect();
                            if !attr.is_empty() {
                                wire.entry(attr).or_insert_with(|| w.clone());
                                pending_wire = None;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let fields = order
            .iter()
            .map(|py| SdkField {
                name: wire.get(py).cloned().unwrap_or_else(|| camel(py)),
                py_name: py.clone(),
                ty: types[py].clone(),
                required: required.contains(py),
            })
            .collect();
        let name = format!("{module}.{class}");
        out.insert(name.clone(), SdkModel { name, fields });
    }
    out
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// Version from `yida_1.0` (or `1.0`).
fn version_of(v: &str) -> String {
    v.rsplit('_').next().unwrap_or(v).to_string()
}

/// Parses a `client.py` given the module's models.
pub fn parse_client(
    module: &str,
    text: &str,
    models: &BTreeMap<String, SdkModel>,
) -> Result<Vec<SdkOperation>, String> {
    let method_start = |line: &str| {
        if indent_of(line) != 4 {
            return None;
        }
        let t = line.trim();
        let rest = t
            .strip_prefix("async def ")
            .or_else(|| t.strip_prefix("def "))?;
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        Some(if t.starts_with("async ") {
            format!("async {name}")
        } else {
            name
        })
    };
    let mut out: Vec<SdkOperation> = Vec::new();
    for (name, line_no, lines) in blocks(text, method_start) {
        // The operation methods are the ones that build `open_api_models.Params(...)` (their
        // names end in `with_options`, not always `_with_options`: `get_form_data_by_idwith_options`).
        // The async twins repeat the same facts.
        if name.starts_with("async ")
            || !lines.iter().any(|l| l.contains("open_api_models.Params("))
        {
            continue;
        }
        let mut in_sig = true;
        let mut path_args: Vec<(String, PyType)> = Vec::new();
        let mut request_class: Option<String> = None;
        let mut response_class: Option<String> = None;
        let mut assigns: Vec<(Location, String, String)> = Vec::new();
        let (mut action, mut version, mut pathname, mut method) = (None, None, None, None);
        let mut summary = None;
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim();
            if in_sig {
                if i > 0 && (t.starts_with(')') || t.starts_with("):")) {
                    if let Some(ret) = t.split("->").nth(1) {
                        response_class = ret
                            .trim()
                            .trim_end_matches(':')
                            .rsplit('.')
                            .next()
                            .map(|s| s.trim().to_string());
                    }
                    in_sig = false;
                    continue;
                }
                if i == 0 {
                    continue;
                }
                if let Some((arg, ty)) = t.trim_end_matches(',').split_once(':') {
                    let (arg, ty) = (arg.trim(), ty.trim());
                    let class = ty.rsplit('.').next().unwrap_or(ty);
                    match arg {
                        "self" | "headers" | "runtime" => {}
                        // `request`, or `tmp_req` where the SDK flattens lists into `*_shrink`
                        // strings; `*Headers` classes carry only the access token.
                        _ if ty.contains("models.") && class.ends_with("Headers") => {}
                        _ if ty.contains("models.") => {
                            request_class = Some(class.to_string());
                        }
                        _ if is_ident(arg) => {
                            path_args.push((arg.to_string(), PyType::parse(ty, module)));
                        }
                        _ => {}
                    }
                }
                continue;
            }
            if let Some(s) = t.strip_prefix("@summary ") {
                summary.get_or_insert_with(|| s.trim().to_string());
            }
            if let Some(a) = map_assignment(t) {
                assigns.push(a);
            }
            if let Some(v) = quoted_value(t, "action") {
                action = Some(v);
            }
            if let Some(v) = quoted_value(t, "version") {
                version = Some(version_of(&v));
            }
            if let Some(v) = quoted_value(t, "pathname") {
                pathname = Some(v);
            }
            if let Some(v) = quoted_value(t, "method") {
                method = Some(v.to_ascii_uppercase());
            }
        }
        let source = format!("{module}/client.py:{line_no}");
        let (Some(action), Some(version), Some(pathname), Some(method)) =
            (action, version, pathname, method)
        else {
            return Err(format!(
                "{source}: `{name}` has no complete open_api_models.Params(action, version, \
                 pathname, method)"
            ));
        };
        // Path: `{app_type}` → `{appType}`.
        let mut path = String::new();
        let mut rest = pathname.as_str();
        while let Some(open) = rest.find('{') {
            path.push_str(&rest[..=open]);
            let after = &rest[open + 1..];
            let close = after.find('}').unwrap_or(after.len());
            path.push_str(&camel(&after[..close]));
            rest = &after[close..];
        }
        path.push_str(rest);
        let request = request_class
            .as_ref()
            .and_then(|c| models.get(&format!("{module}.{c}")));
        let mut params = Vec::new();
        for (arg, ty) in &path_args {
            params.push(SdkParam {
                name: camel(arg),
                py_name: arg.clone(),
                location: Location::Path,
                ty: ty.clone(),
                required: true,
            });
        }
        // Query and body parameters, in the request model's order.
        let mut ordered: Vec<&(Location, String, String)> = assigns.iter().collect();
        if let Some(req) = request {
            ordered.sort_by_key(|(_, _, attr)| {
                let base = attr.strip_suffix("_shrink").unwrap_or(attr);
                req.fields
                    .iter()
                    .position(|f| f.py_name == base)
                    .unwrap_or(usize::MAX)
            });
        }
        for (loc, wire, attr) in ordered {
            if params.iter().any(|p: &SdkParam| &p.name == wire) {
                continue;
            }
            let base = attr.strip_suffix("_shrink").unwrap_or(attr);
            let field = request.and_then(|r| {
                r.fields
                    .iter()
                    .find(|f| &f.py_name == attr)
                    .or_else(|| r.fields.iter().find(|f| f.py_name == base))
            });
            params.push(SdkParam {
                name: wire.clone(),
                py_name: attr.clone(),
                location: *loc,
                ty: field.map_or(PyType::Other("?".into()), |f| f.ty.clone()),
                required: field.is_some_and(|f| f.required),
            });
        }
        // The reply body: the `body` field of the response class.
        let response = response_class
            .and_then(|c| models.get(&format!("{module}.{c}")))
            .and_then(|r| r.fields.iter().find(|f| f.py_name == "body"))
            .and_then(|f| match &f.ty {
                PyType::Model(m) => Some(m.clone()),
                _ => None,
            });
        out.push(SdkOperation {
            action,
            version,
            method,
            path,
            params,
            response,
            summary,
            source,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_parse() {
        assert_eq!(
            PyType::parse("List[str]", "m"),
            PyType::List(Box::new(PyType::Str))
        );
        assert_eq!(
            PyType::parse("Dict[str, Any]", "m"),
            PyType::Dict(Box::new(PyType::Any))
        );
        assert_eq!(
            PyType::parse("List[FooBody]", "m"),
            PyType::List(Box::new(PyType::Model("m.FooBody".into())))
        );
        assert_eq!(
            PyType::parse("Dict[str, Any]", "m").python(),
            "Dict[str, Any]"
        );
        assert!(matches!(PyType::parse("Tuple[int]", "m"), PyType::Other(_)));
    }

    #[test]
    fn names() {
        assert_eq!(camel("app_type"), "appType");
        assert_eq!(camel("id"), "id");
        assert_eq!(loose("sid_instDetail"), loose("sid_inst_detail"));
    }

    #[test]
    fn assignments() {
        assert_eq!(
            map_assignment("query['fileUrl'] = request.file_url"),
            Some((Location::Query, "fileUrl".into(), "file_url".into()))
        );
        assert_eq!(map_assignment("real_headers['x'] = headers.x"), None);
        assert_eq!(
            quoted_value("pathname=f'/v1.0/yida/{app_type}',", "pathname").as_deref(),
            Some("/v1.0/yida/{app_type}")
        );
        assert_eq!(
            quoted_value("version='yida_1.0',", "version").as_deref(),
            Some("yida_1.0")
        );
    }

    #[test]
    fn shrink_requests_and_odd_method_names() {
        // Other generated modules send a list flattened to a JSON string (`*_shrink`) and take
        // the original request as `tmp_req`; some method names lack the `_` before `with`.
        let models = r#"
class PutThingRequest(TeaModel):
    def __init__(
        self,
        items: List[str] = None,
    ):
        # This parameter is required.
        self.items = items

    def from_map(self, m: dict = None):
        if m.get('items') is not None:
            self.items = m.get('items')
        return self
"#;
        let client = r#"
class Client(OpenApiClient):
    def put_thing_by_idwith_options(
        self,
        thing_id: str,
        tmp_req: my_models.PutThingRequest,
        headers: my_models.PutThingHeaders,
        runtime: util_models.RuntimeOptions,
    ) -> my_models.PutThingResponse:
        request = my_models.PutThingShrinkRequest()
        if not UtilClient.is_unset(tmp_req.items):
            request.items_shrink = OpenApiUtilClient.array_to_string_with_specified_style(tmp_req.items, 'items', 'json')
        query = {}
        if not UtilClient.is_unset(request.items_shrink):
            query['items'] = request.items_shrink
        params = open_api_models.Params(
            action='PutThingByID',
            version='yida_2.0',
            pathname=f'/v2.0/yida/things/{thing_id}',
            method='PUT',
        )
"#;
        let models = parse_models("yida_2_0", models);
        let ops = parse_client("yida_2_0", client, &models).unwrap();
        assert_eq!(ops.len(), 1);
        let op = &ops[0];
        assert_eq!(
            (op.action.as_str(), op.version.as_str()),
            ("PutThingByID", "2.0")
        );
        assert_eq!(op.path, "/v2.0/yida/things/{thingId}");
        let p: Vec<(&str, &str, String, bool)> = op
            .params
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.location.as_str(),
                    p.ty.python(),
                    p.required,
                )
            })
            .collect();
        assert_eq!(
            p,
            [
                ("thingId", "path", "str".to_string(), true),
                ("items", "query", "List[str]".to_string(), true)
            ]
        );
    }
}
