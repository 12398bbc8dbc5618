//! Loading `spec/` and lowering it to the validated IR.
//!
//! The steps, each its own function: [`load_dir`] reads the files (regular files only, with a
//! size cap), [`load_texts`] parses them ([`yaml`](crate::yaml), which gives every value its line),
//! [`Lowering::declare_model`] and [`Lowering::operation`] check what each definition says on
//! its own, and [`Lowering::finish`] checks what needs the whole spec (types of model fields,
//! legacy links, pagination replies, which areas reach each model, recursive models, shared
//! enums). Every problem is collected, with file and line, before anything is reported.

use crate::drift::Place;
use crate::ir::*;
use crate::names::{is_wire_name, op_names, pascal, rust_field_name, snake_ident_ok, type_name_ok};
use crate::spec::{DriftDef, ModelDef, OperationDef, ParamDef, Spanned, SpecFile};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// Parameters filled from the client's app context when a request leaves them unset.
///
/// The one list of context parameters: the generated code fills these from
/// `AppContext::value(wire_name)`; `yida-api`'s `AppContext` holds their values.
pub const CONTEXT_PARAMS: [&str; 4] = ["appType", "systemToken", "userId", "language"];

/// Deepest type accepted (`list<map<list<…>>>`): real specs use 2; the bound keeps every
/// recursive walk over types (here and in the emitters) shallow.
pub const MAX_TYPE_DEPTH: usize = 8;

/// Largest spec file read (the largest real one is under 10 KB).
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// A problem in the spec, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// File, relative to the spec folder.
    pub file: String,
    /// Line in that file, where known.
    pub line: Option<usize>,
    /// `Action@version`, where the problem belongs to one operation.
    pub operation: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spec/{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(op) = &self.operation {
            write!(f, ": {op}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// All problems found in one pass (the generator reports every one, not just the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecErrors(pub Vec<SpecError>);

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} problem(s) in spec/:", self.0.len())?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecErrors {}

fn file_error(file: &str, message: String) -> SpecErrors {
    SpecErrors(vec![SpecError {
        file: file.to_string(),
        line: None,
        operation: None,
        message,
    }])
}

/// Reads every `*.yaml` file below `dir` (sorted), parses and validates them.
///
/// Only regular files are read (a FIFO or device named `*.yaml` is an error, never opened),
/// each at most [`MAX_FILE_BYTES`]; symbolic links to folders are not followed.
pub fn load_dir(dir: &Path) -> Result<Api, SpecErrors> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files)
        .map_err(|e| file_error("", format!("cannot read {}: {e}", dir.display())))?;
    files.sort();
    let mut texts = Vec::new();
    for rel in files {
        let text = read_spec_file(&dir.join(&rel)).map_err(|e| file_error(&rel, e))?;
        texts.push((rel, text));
    }
    load_texts(&texts)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            out.push(rel.join("/"));
        }
    }
    Ok(())
}

/// Reads one spec file: a regular file (checked before opening, so a FIFO cannot block),
/// UTF-8, at most [`MAX_FILE_BYTES`].
fn read_spec_file(path: &Path) -> Result<String, String> {
    use std::io::Read;
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file (only regular files are read)".into());
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8".to_string())
}

/// Parses and validates spec files given as `(path relative to spec/, text)`.
pub fn load_texts(files: &[(String, String)]) -> Result<Api, SpecErrors> {
    let mut lower = Lowering::default();
    let mut parsed = Vec::new();
    for (file, text) in files {
        match parse_file(text) {
            Ok(spec) => parsed.push((file.as_str(), spec)),
            Err(message) => lower.errors.push(SpecError {
                file: file.clone(),
                line: None,
                operation: None,
                message,
            }),
        }
    }
    // Models first, so that operations can refer to models of any file.
    for (file, spec) in &parsed {
        for (name, def) in &spec.models {
            lower.declare_model(file, name, def);
        }
    }
    for (file, spec) in &parsed {
        for def in &spec.operations {
            lower.operation(file, def);
        }
    }
    lower.finish()
}

/// Deepest YAML nesting accepted; the real spec nests 5 deep.
const MAX_YAML_DEPTH: usize = 32;

fn parse_file(text: &str) -> Result<SpecFile, String> {
    // Bound the nesting before the parser recurses (a file nested 100,000 deep must be an
    // error, not a stack overflow).
    if let Some(line) = too_deep(text, MAX_YAML_DEPTH) {
        return Err(format!(
            "invalid YAML: nested deeper than {MAX_YAML_DEPTH} levels (line {line})"
        ));
    }
    crate::yaml::from_str::<SpecFile>(text).map_err(|e| format!("invalid YAML: {e}"))
}

/// The line where flow brackets (`[`, `{`) or indentation go deeper than `max`, if anywhere.
/// Conservative: brackets inside quoted strings count too, which no real spec comes near.
fn too_deep(text: &str, max: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start_matches([' ', '-']).len();
        if indent / 2 > max {
            return Some(i + 1);
        }
        for c in line.chars() {
            match c {
                '[' | '{' => {
                    depth += 1;
                    if depth > max {
                        return Some(i + 1);
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    None
}

/// A model as declared, before its field types are resolved.
struct ModelDecl<'a> {
    file: String,
    line: usize,
    def: &'a ModelDef,
}

#[derive(Default)]
struct Lowering<'a> {
    errors: Vec<SpecError>,
    model_decls: BTreeMap<String, ModelDecl<'a>>,
    operations: Vec<Operation>,
    seen_ops: BTreeMap<(String, String), String>,
    rust_names: BTreeMap<String, String>,
    /// Legacy links as written, resolved in `finish`.
    legacy: Vec<(usize, String, String)>,
    /// Spec values of enum parameters, by (operation index, parameter index).
    enum_values: Vec<(usize, usize, Vec<String>)>,
}

/// Where a problem is: file, line and (for operations) `Action@version`.
#[derive(Clone, Copy)]
struct At<'s> {
    file: &'s str,
    line: usize,
    op: Option<&'s str>,
}

fn line_of<T>(s: &Spanned<T>) -> usize {
    s.line
}

/// A one-line text of our own words (`doc`): not empty, no TODO, no line breaks or other
/// control characters (a bare CR does not compile in a doc comment).
fn check_doc(doc: &str) -> Option<String> {
    let d = doc.trim();
    if d.is_empty() {
        Some("is empty".into())
    } else if d.contains("TODO") {
        Some("still says TODO".into())
    } else if d.contains('\n') {
        Some("must be one line".into())
    } else {
        check_text(d)
    }
}

/// Any text that ends up in generated code (notes, titles, values).
fn check_text(s: &str) -> Option<String> {
    s.chars()
        .find(|c| c.is_control() && *c != '\n')
        .map(|c| format!("holds the control character {:?}", c))
}

/// Characters a path template may hold besides placeholders: RFC 3986 unreserved and `/`.
fn path_char_ok(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '.' | '_' | '~')
}

/// A path template, parsed once: literals and placeholder names, in order.
pub(crate) fn parse_path(path: &str) -> Result<Vec<(bool, String)>, String> {
    let mut out: Vec<(bool, String)> = Vec::new();
    let mut rest = path;
    let mut names = BTreeSet::new();
    loop {
        let open = rest.find('{').unwrap_or(rest.len());
        let lit = &rest[..open];
        if let Some(bad) = lit.chars().find(|c| !path_char_ok(*c)) {
            return Err(if bad == '}' {
                format!("path `{path}` has a stray `}}`")
            } else {
                format!("path `{path}` holds {bad:?}; only letters, digits, `/-._~` and {{placeholders}} are allowed")
            });
        }
        if !lit.is_empty() {
            out.push((false, lit.to_string()));
        }
        if open == rest.len() {
            break;
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("path `{path}` has an unclosed `{{`"))?;
        let name = &after[..close];
        if !is_wire_name(name) {
            return Err(format!("path `{path}` has a bad placeholder `{{{name}}}`"));
        }
        if !names.insert(name) {
            return Err(format!(
                "path `{path}` has the placeholder `{{{name}}}` twice"
            ));
        }
        out.push((true, name.to_string()));
        rest = &after[close + 1..];
    }
    for seg in path.split('/').skip(1) {
        if seg == "." || seg == ".." || seg.is_empty() {
            return Err(format!("path `{path}` has an empty, `.` or `..` segment"));
        }
    }
    Ok(out)
}

/// The `{name}` placeholders of a path, in order.
pub fn path_placeholders(path: &str) -> Result<Vec<String>, String> {
    Ok(parse_path(path)?
        .into_iter()
        .filter(|(ph, _)| *ph)
        .map(|(_, n)| n)
        .collect())
}

fn parse_type(ty: &str, models: &BTreeMap<String, ModelDecl<'_>>) -> Result<Type, String> {
    parse_type_at(ty, models, 0)
}

fn parse_type_at(
    ty: &str,
    models: &BTreeMap<String, ModelDecl<'_>>,
    depth: usize,
) -> Result<Type, String> {
    if depth > MAX_TYPE_DEPTH {
        return Err(format!("type nests deeper than {MAX_TYPE_DEPTH} levels"));
    }
    let ty = ty.trim();
    let inner = |prefix: &str| {
        ty.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix('>'))
            .map(str::trim)
    };
    Ok(match ty {
        "string" => Type::String,
        "i64" => Type::I64,
        "f64" => Type::F64,
        "bool" => Type::Bool,
        "json" => Type::Json,
        "json_text" => Type::JsonText,
        _ => {
            if let Some(t) = inner("list<") {
                Type::List(Box::new(parse_type_at(t, models, depth + 1)?))
            } else if let Some(t) = inner("map<") {
                Type::Map(Box::new(parse_type_at(t, models, depth + 1)?))
            } else if models.contains_key(ty) {
                Type::Model(ty.to_string())
            } else {
                let shown: String = ty.chars().take(60).collect();
                return Err(format!("unknown type `{shown}`"));
            }
        }
    })
}

impl<'a> Lowering<'a> {
    fn err(&mut self, at: At<'_>, msg: String) {
        self.errors.push(SpecError {
            file: at.file.to_string(),
            line: Some(at.line).filter(|l| *l > 0),
            operation: at.op.map(str::to_string),
            message: msg,
        });
    }

    fn declare_model(&mut self, file: &str, name: &str, def: &'a ModelDef) {
        let at = At {
            file,
            line: line_of(&def.doc),
            op: None,
        };
        if let Some(other) = self.model_decls.get(name) {
            let msg = format!("model `{name}` is also defined in spec/{}", other.file);
            self.err(at, msg);
            return;
        }
        if !type_name_ok(name) {
            let msg = format!("model name `{name}` must be a PascalCase Rust identifier");
            self.err(at, msg);
        }
        if let Some(problem) = check_doc(&def.doc.value) {
            self.err(at, format!("model `{name}`: doc {problem}"));
        }
        self.model_decls.insert(
            name.to_string(),
            ModelDecl {
                file: file.to_string(),
                line: at.line,
                def,
            },
        );
    }

    /// Validates one operation and lowers it into the IR (kept only when it has no error).
    fn operation(&mut self, file: &str, def: &OperationDef) {
        let id = format!("{}@{}", def.action.value, def.version);
        let at = At {
            file,
            line: line_of(&def.action),
            op: Some(&id),
        };
        let start = self.errors.len();
        self.check_identity(at, def);
        let method = self.method(at, &def.method);
        let risk = self.risk(at, &def.risk, method);
        self.check_area(at, file, &def.area);
        self.check_texts(at, def);
        let app_kinds = self.app_kinds(at, &def.app_kinds);
        let pagination = self.pagination(at, def.pagination.as_deref());
        let params = self.params(at, def, pagination);
        let path_parts = self.path(at, &def.path, &params);
        self.check_paging_params(at, pagination, &params);
        if let Some(r) = &def.response {
            if !self.model_decls.contains_key(r) {
                self.err(at, format!("response model `{r}` is not defined"));
            }
        }
        let rust = self.rust_names(at, &def.action.value, &def.version, &id);
        let drift = self.operation_drift(at, def);
        if self.errors.len() > start {
            return;
        }
        let index = self.operations.len();
        if let Some(l) = &def.legacy {
            match l.split_once('@') {
                Some((a, v)) if !a.is_empty() && !v.is_empty() => {
                    self.legacy.push((index, a.to_string(), v.to_string()))
                }
                _ => self.err(at, format!("legacy `{l}` must be Action@version")),
            }
        }
        for (pi, p) in def.params.iter().enumerate() {
            if let Some(values) = &p.values {
                self.enum_values.push((index, pi, values.clone()));
            }
        }
        self.operations.push(Operation {
            action: def.action.value.clone(),
            version: def.version.clone(),
            method,
            path: def.path.clone(),
            path_parts,
            area: def.area.clone(),
            doc: def.doc.trim().to_string(),
            doc_url: def.doc_url.clone(),
            doc_title: def.doc_title.clone(),
            permission: def.permission.clone(),
            app_kinds,
            risk,
            seed: def.seed,
            legacy: None,
            pagination,
            note: def.note.clone(),
            drift,
            params,
            response: def.response.clone(),
            file: file.to_string(),
            line: at.line,
            rust,
        });
    }

    /// Action name, uniqueness, version and its path prefix.
    fn check_identity(&mut self, at: At<'_>, def: &OperationDef) {
        if !type_name_ok(&def.action.value) {
            self.err(at, "action must be a PascalCase identifier".into());
        }
        let key = (def.action.value.clone(), def.version.clone());
        if let Some(other) = self.seen_ops.insert(key, at.file.to_string()) {
            self.err(at, format!("duplicate operation (also in spec/{other})"));
        }
        if def.version != "1.0" && def.version != "2.0" {
            let msg = format!("version must be \"1.0\" or \"2.0\", not {:?}", def.version);
            self.err(at, msg);
        } else if !def.path.starts_with(&format!("/v{}/", def.version)) {
            let msg = format!("path `{}` does not start with /v{}/", def.path, def.version);
            self.err(at, msg);
        }
    }

    fn method(&mut self, at: At<'_>, method: &str) -> Method {
        match method {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            other => {
                self.err(at, format!("unknown method `{other}`"));
                Method::Get
            }
        }
    }

    /// The risk class, consistent with the method: a GET only reads, a DELETE changes data.
    fn risk(&mut self, at: At<'_>, risk: &str, method: Method) -> Risk {
        let risk = match risk {
            "read" => Risk::Read,
            "write" => Risk::Write,
            "irreversible" => Risk::Irreversible,
            other => {
                self.err(
                    at,
                    format!("unknown risk `{other}` (read, write or irreversible)"),
                );
                return Risk::Write;
            }
        };
        match (method, risk) {
            (Method::Get, Risk::Write | Risk::Irreversible) => self.err(
                at,
                format!("a GET operation has risk `read`, not `{}`", risk.as_str()),
            ),
            (Method::Delete, Risk::Read) => {
                self.err(at, "a DELETE operation cannot have risk `read`".into())
            }
            _ => {}
        }
        risk
    }

    fn check_area(&mut self, at: At<'_>, file: &str, area: &str) {
        match file.split_once('/') {
            None => self.err(at, "operations must live in an area folder".into()),
            Some((folder, _)) if folder != area => {
                let msg = format!("area `{area}` does not match its folder `{folder}`");
                self.err(at, msg);
            }
            Some(_) => {}
        }
        if !snake_ident_ok(area) {
            self.err(at, format!("area `{area}` must be a snake_case identifier"));
        }
    }

    /// `doc`, `note`, `permission`, `doc_url` and `doc_title`.
    fn check_texts(&mut self, at: At<'_>, def: &OperationDef) {
        if let Some(p) = check_doc(&def.doc) {
            self.err(at, format!("doc {p}"));
        }
        if let Some(p) = def.note.as_deref().and_then(check_text) {
            self.err(at, format!("note {p}"));
        }
        if let Some(p) = def.doc_title.as_deref().and_then(check_doc) {
            self.err(at, format!("doc_title {p}"));
        }
        if let Some(url) = &def.doc_url {
            let ok = url.starts_with("https://")
                && url
                    .chars()
                    .all(|c| c.is_ascii_graphic() && !"\"<>\\`".contains(c));
            if !ok {
                let msg = format!("doc_url `{url}` must be an https:// page");
                self.err(at, msg);
            }
        }
        if let Some(p) = &def.permission {
            let parts: Vec<&str> = p.split('.').collect();
            if parts.len() != 3 || parts[0] != "Yida" || parts.iter().any(|s| !type_name_ok(s)) {
                self.err(
                    at,
                    format!("permission `{p}` is not of the form Yida.Area.Read"),
                );
            }
        }
    }

    fn app_kinds(&mut self, at: At<'_>, kinds: &[String]) -> Vec<AppKind> {
        let mut out = Vec::new();
        for k in kinds {
            match k.as_str() {
                "internal" => out.push(AppKind::Internal),
                "third_party_enterprise" => out.push(AppKind::ThirdPartyEnterprise),
                "third_party_personal" => out.push(AppKind::ThirdPartyPersonal),
                other => self.err(at, format!("unknown app kind `{other}`")),
            }
        }
        out.sort();
        out.dedup();
        if out.is_empty() {
            self.err(at, "app_kinds must name at least one kind".into());
        }
        out
    }

    fn pagination(&mut self, at: At<'_>, style: Option<&str>) -> Option<Pagination> {
        match style {
            None => None,
            Some("page_number") => Some(Pagination::PageNumber),
            Some("current_page") => Some(Pagination::CurrentPage),
            Some(other) => {
                self.err(at, format!("unknown pagination `{other}`"));
                None
            }
        }
    }

    fn params(
        &mut self,
        at: At<'_>,
        def: &OperationDef,
        pagination: Option<Pagination>,
    ) -> Vec<Param> {
        let mut params = Vec::new();
        let mut wire_seen = BTreeSet::new();
        let mut rust_seen = BTreeMap::new();
        for p in &def.params {
            let pat = At {
                line: line_of(&p.name),
                ..at
            };
            let name = &p.name.value;
            if !wire_seen.insert(name.clone()) {
                self.err(pat, format!("duplicate parameter `{name}`"));
            }
            let Some(param) = self.param(pat, p, pagination) else {
                continue;
            };
            if let Some(other) = rust_seen.insert(param.rust.clone(), name.clone()) {
                let msg = format!(
                    "parameters `{other}` and `{name}` both become the Rust name `{}`",
                    param.rust
                );
                self.err(pat, msg);
            }
            params.push(param);
        }
        params
    }

    fn param(&mut self, at: At<'_>, p: &ParamDef, pagination: Option<Pagination>) -> Option<Param> {
        let name = &p.name.value;
        if !is_wire_name(name) {
            self.err(
                at,
                format!("parameter name `{name}` is not a valid wire name"),
            );
            return None;
        }
        let location = match p.location.as_str() {
            "path" => Location::Path,
            "query" => Location::Query,
            "body" => Location::Body,
            other => {
                self.err(
                    at,
                    format!("parameter `{name}`: unknown location `{other}`"),
                );
                Location::Body
            }
        };
        let ty = match parse_type(&p.ty, &self.model_decls) {
            Ok(t) => t,
            Err(e) => {
                self.err(at, format!("parameter `{name}`: {e}"));
                Type::Json
            }
        };
        if location != Location::Body && !ty.is_scalar() {
            let msg = format!(
                "parameter `{name}` in {} must be a scalar type, not {}",
                location.as_str(),
                ty.spec_name()
            );
            self.err(at, msg);
        }
        if location == Location::Path && !p.required {
            self.err(at, format!("path parameter `{name}` must be required"));
        }
        if let Some(problem) = check_doc(&p.doc) {
            self.err(at, format!("parameter `{name}`: doc {problem}"));
        }
        if let Some(problem) = p.note.as_deref().and_then(check_text) {
            self.err(at, format!("parameter `{name}`: note {problem}"));
        }
        let drift = self.drift(
            at,
            &format!("parameter `{name}`: "),
            &p.drift,
            &Place::Param(name),
            p.note.as_deref(),
        );
        let context = CONTEXT_PARAMS.contains(&name.as_str()) && ty == Type::String;
        if let Some(values) = &p.values {
            self.check_values(at, name, &ty, p.secret, values);
        }
        let rust = match rust_field_name(name) {
            Ok(r) => r,
            Err(e) => {
                self.err(at, format!("parameter `{name}`: {e}"));
                return None;
            }
        };
        Some(Param {
            name: name.clone(),
            location,
            ty,
            required: p.required,
            doc: p.doc.trim().to_string(),
            secret: p.secret,
            note: p.note.clone(),
            drift,
            context,
            paging: pagination.is_some()
                && matches!(name.as_str(), "pageNumber" | "currentPage" | "pageSize"),
            values: None,
            rust,
        })
    }

    fn check_values(&mut self, at: At<'_>, name: &str, ty: &Type, secret: bool, values: &[String]) {
        if *ty != Type::String || secret {
            self.err(
                at,
                format!("parameter `{name}`: `values` needs a non-secret string"),
            );
        }
        let mut variants = BTreeSet::new();
        if values.is_empty() {
            self.err(at, format!("parameter `{name}`: `values` is empty"));
        }
        for v in values {
            let variant = pascal(v);
            let ok = !v.is_empty()
                && v.chars().all(|c| c.is_ascii_graphic())
                && type_name_ok(&variant)
                && variant != "Other";
            if !ok {
                self.err(
                    at,
                    format!("parameter `{name}`: value {v:?} gives no Rust variant"),
                );
            } else if !variants.insert(variant.clone()) {
                let msg = format!("parameter `{name}`: two values become the variant `{variant}`");
                self.err(at, msg);
            }
        }
    }

    /// Parses the path template once, pairing each placeholder with its path parameter.
    fn path(&mut self, at: At<'_>, path: &str, params: &[Param]) -> Vec<PathPart> {
        let parsed = match parse_path(path) {
            Ok(p) => p,
            Err(e) => {
                self.err(at, e);
                return Vec::new();
            }
        };
        let mut parts = Vec::new();
        let mut used = BTreeSet::new();
        for (placeholder, text) in parsed {
            if !placeholder {
                parts.push(PathPart::Literal(text));
                continue;
            }
            match params
                .iter()
                .position(|p| p.location == Location::Path && p.name == text)
            {
                Some(i) => {
                    used.insert(i);
                    parts.push(PathPart::Param(i));
                }
                None => self.err(
                    at,
                    format!("path placeholder `{{{text}}}` has no path parameter"),
                ),
            }
        }
        for (i, p) in params.iter().enumerate() {
            if p.location == Location::Path && !used.contains(&i) {
                let msg = format!(
                    "path parameter `{}` has no `{{{}}}` in the path",
                    p.name, p.name
                );
                self.err(at, msg);
            }
        }
        parts
    }

    /// Checks and lowers `drift:` entries written at `place`, reporting each problem at the
    /// entry's line with `prefix` (naming the parameter or field).
    fn drift(
        &mut self,
        at: At<'_>,
        prefix: &str,
        defs: &[DriftDef],
        place: &Place<'_>,
        note: Option<&str>,
    ) -> Vec<Drift> {
        let (entries, problems) = crate::drift::lower(defs, place, note);
        for (line, msg) in problems {
            self.err(At { line, ..at }, format!("{prefix}{msg}"));
        }
        entries
    }

    /// An operation's own `drift:` entries; a reply path they name must exist.
    fn operation_drift(&mut self, at: At<'_>, def: &OperationDef) -> Vec<Drift> {
        let params: Vec<&str> = def.params.iter().map(|p| p.name.value.as_str()).collect();
        let place = Place::Operation {
            params: &params,
            has_reply: def.response.is_some(),
        };
        let entries = self.drift(at, "", &def.drift, &place, def.note.as_deref());
        for e in &entries {
            if let DriftSubject::Reply(path) = &e.subject {
                let added = e.fact == DriftFact::Added;
                let response = def.response.as_deref();
                if let Some(problem) = self.reply_path_problem(response, path, added) {
                    self.err(At { line: e.line, ..at }, format!("drift: {problem}"));
                }
            }
        }
        entries
    }

    /// Why `path` (`result[].formUuid`) names no field of the reply model `response`, if it
    /// does not; for `added` (a field only the source has) the last step must name no field.
    fn reply_path_problem(
        &self,
        response: Option<&str>,
        path: &str,
        added: bool,
    ) -> Option<String> {
        let mut model = response.map(str::to_string);
        let steps: Vec<&str> = path.split('.').filter(|s| !s.is_empty()).collect();
        for (i, seg) in steps.iter().enumerate() {
            let name = seg.trim_end_matches(['[', ']', '{', '}']);
            let Some(decl) = model.as_ref().and_then(|m| self.model_decls.get(m)) else {
                return Some(format!(
                    "subject `reply {path}`: `{name}` is not inside a model"
                ));
            };
            let found = decl.def.fields.iter().find(|f| f.name.value == name);
            let m = model.clone().unwrap_or_default();
            let last = i + 1 == steps.len();
            let f = match found {
                Some(_) if added && last => {
                    return Some(format!(
                        "subject `reply {path}`: model `{m}` has the field `{name}`; `added` is for a field only the source has"
                    ))
                }
                None if added && last => return None,
                Some(f) => f,
                None => {
                    return Some(format!(
                        "subject `reply {path}`: model `{m}` has no field `{name}`"
                    ))
                }
            };
            model = parse_type(&f.ty, &self.model_decls)
                .ok()
                .and_then(|t| t.model().map(str::to_string));
        }
        None
    }

    fn check_paging_params(&mut self, at: At<'_>, style: Option<Pagination>, params: &[Param]) {
        let Some(style) = style else { return };
        let page = match style {
            Pagination::PageNumber => "pageNumber",
            Pagination::CurrentPage => "currentPage",
        };
        for needed in [page, "pageSize"] {
            if !params.iter().any(|p| p.name == needed && p.ty == Type::I64) {
                self.err(at, format!("pagination needs an i64 parameter `{needed}`"));
            }
        }
    }

    fn rust_names(&mut self, at: At<'_>, action: &str, version: &str, id: &str) -> OpNames {
        let names = op_names(action, version);
        if let Some(other) = self.rust_names.insert(names.method.clone(), id.to_string()) {
            if other != id {
                let msg = format!("Rust name `{}` clashes with {other}", names.method);
                self.err(at, msg);
            }
        }
        if self.model_decls.contains_key(&names.request) {
            let msg = format!("model `{}` clashes with the request type", names.request);
            self.err(at, msg);
        }
        names
    }

    /// Checks that need the whole spec, then sorts the result.
    fn finish(mut self) -> Result<Api, SpecErrors> {
        let mut models = self.resolve_models();
        self.link_legacy();
        self.check_paginated_replies(&models);
        self.mark_reachable(&mut models);
        self.check_recursion(&models);
        self.name_enums();
        if !self.errors.is_empty() {
            return Err(SpecErrors(self.errors));
        }
        self.operations.sort_by(|a, b| {
            (&a.area, &a.action, &a.version).cmp(&(&b.area, &b.action, &b.version))
        });
        Ok(Api {
            operations: self.operations,
            models,
        })
    }

    /// Field types of every model.
    fn resolve_models(&mut self) -> BTreeMap<String, Model> {
        let decls = std::mem::take(&mut self.model_decls);
        let mut models = BTreeMap::new();
        for (name, decl) in &decls {
            let mut fields = Vec::new();
            let mut seen = BTreeMap::new();
            for f in &decl.def.fields {
                let fname = &f.name.value;
                let at = At {
                    file: &decl.file,
                    line: line_of(&f.name),
                    op: None,
                };
                let ctx = format!("model `{name}`, field `{fname}`");
                if !is_wire_name(fname) {
                    self.err(at, format!("{ctx}: not a valid wire name"));
                    continue;
                }
                let ty = match parse_type(&f.ty, &decls) {
                    Ok(t) => t,
                    Err(e) => {
                        self.err(at, format!("{ctx}: {e}"));
                        continue;
                    }
                };
                if let Some(p) = check_doc(&f.doc) {
                    self.err(at, format!("{ctx}: doc {p}"));
                }
                if let Some(p) = f.note.as_deref().and_then(check_text) {
                    self.err(at, format!("{ctx}: note {p}"));
                }
                let rust = match rust_field_name(fname) {
                    Ok(r) if r != "extra" => r,
                    Ok(_) => {
                        self.err(at, format!("{ctx}: `extra` is reserved for unknown fields"));
                        continue;
                    }
                    Err(e) => {
                        self.err(at, format!("{ctx}: {e}"));
                        continue;
                    }
                };
                let drift = self.drift(
                    at,
                    &format!("{ctx}: "),
                    &f.drift,
                    &Place::Field(fname),
                    f.note.as_deref(),
                );
                if let Some(other) = seen.insert(rust.clone(), fname.clone()) {
                    let msg = format!(
                        "model `{name}`: fields `{other}` and `{fname}` both become `{rust}`"
                    );
                    self.err(at, msg);
                }
                fields.push(Field {
                    name: fname.clone(),
                    ty,
                    doc: f.doc.trim().to_string(),
                    secret: f.secret,
                    note: f.note.clone(),
                    drift,
                    rust,
                });
            }
            models.insert(
                name.clone(),
                Model {
                    name: name.clone(),
                    doc: decl.def.doc.value.trim().to_string(),
                    fields,
                    file: decl.file.clone(),
                    line: decl.line,
                    areas: BTreeSet::new(),
                },
            );
        }
        self.model_decls = decls;
        models
    }

    fn op_at(op: &Operation) -> (String, usize, String) {
        (op.file.clone(), op.line, op.id())
    }

    fn err_op(&mut self, (file, line, id): (String, usize, String), msg: String) {
        self.err(
            At {
                file: &file,
                line,
                op: Some(&id),
            },
            msg,
        );
    }

    fn link_legacy(&mut self) {
        for (index, action, version) in std::mem::take(&mut self.legacy) {
            let op = &self.operations[index];
            let found = self
                .operations
                .iter()
                .any(|o| o.action == action && o.version == version);
            if !found || (op.action == action && op.version == version) {
                let msg = format!(
                    "legacy replacement `{action}@{version}` is not another operation of the spec"
                );
                self.err_op(Self::op_at(op), msg);
                continue;
            }
            let rust = op_names(&action, &version);
            self.operations[index].legacy = Some(OpRef {
                action,
                version,
                rust,
            });
        }
    }

    /// Pagination replies need `data` and `totalCount`.
    fn check_paginated_replies(&mut self, models: &BTreeMap<String, Model>) {
        let mut bad = Vec::new();
        for op in self.operations.iter().filter(|o| o.pagination.is_some()) {
            let ok = op
                .response
                .as_ref()
                .and_then(|r| models.get(r))
                .is_some_and(|m| {
                    m.fields
                        .iter()
                        .any(|f| f.name == "totalCount" && f.ty == Type::I64)
                        && m.fields
                            .iter()
                            .any(|f| f.name == "data" && matches!(f.ty, Type::List(_)))
                });
            if !ok {
                bad.push(Self::op_at(op));
            }
        }
        for at in bad {
            let msg = "pagination needs a reply with `totalCount: i64` and a `data` list";
            self.err_op(at, msg.into());
        }
    }

    /// Which areas reach each model (through replies, parameters and nested fields); a model
    /// no operation reaches is an error. Computed once; the emitters read `Model::areas`.
    fn mark_reachable(&mut self, models: &mut BTreeMap<String, Model>) {
        for op in &self.operations {
            let mut todo: Vec<String> = op.response.iter().cloned().collect();
            todo.extend(
                op.params
                    .iter()
                    .filter_map(|p| p.ty.model().map(str::to_string)),
            );
            let mut seen = BTreeSet::new();
            while let Some(m) = todo.pop() {
                if !seen.insert(m.clone()) {
                    continue;
                }
                if let Some(model) = models.get_mut(&m) {
                    model.areas.insert(op.area.clone());
                    todo.extend(
                        model
                            .fields
                            .iter()
                            .filter_map(|f| f.ty.model().map(str::to_string)),
                    );
                }
            }
        }
        for m in models.values().filter(|m| m.areas.is_empty()) {
            self.errors.push(SpecError {
                file: m.file.clone(),
                line: Some(m.line).filter(|l| *l > 0),
                operation: None,
                message: format!("model `{}` is not used by any operation", m.name),
            });
        }
    }

    /// A model that holds itself directly (not through a list or map) has no finite size in
    /// Rust (E0072): refuse it, naming the cycle.
    fn check_recursion(&mut self, models: &BTreeMap<String, Model>) {
        for start in models.values() {
            // Depth-first over direct model fields; a path back to `start` is a cycle.
            let mut stack: Vec<(String, Vec<String>)> =
                vec![(start.name.clone(), vec![start.name.clone()])];
            let mut seen = BTreeSet::new();
            while let Some((name, path)) = stack.pop() {
                let Some(m) = models.get(&name) else { continue };
                for f in &m.fields {
                    let Type::Model(next) = &f.ty else { continue };
                    if *next == start.name {
                        let mut cycle = path.clone();
                        cycle.push(next.clone());
                        self.errors.push(SpecError {
                            file: start.file.clone(),
                            line: Some(start.line).filter(|l| *l > 0),
                            operation: None,
                            message: format!(
                                "model `{}` contains itself ({}); hold it in a list or a map",
                                start.name,
                                cycle.join(" → ")
                            ),
                        });
                        stack.clear();
                        break;
                    }
                    if seen.insert(next.clone()) {
                        let mut p = path.clone();
                        p.push(next.clone());
                        stack.push((next.clone(), p));
                    }
                }
            }
        }
    }

    /// Names each fixed-value parameter's enum: the parameter's name in PascalCase when every
    /// parameter of that name lists the same values, else the request's name plus it.
    fn name_enums(&mut self) {
        let mut by_name: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
        for (oi, pi, values) in &self.enum_values {
            let name = &self.operations[*oi].params[*pi].name;
            by_name
                .entry(name.clone())
                .or_default()
                .insert(values.clone());
        }
        let taken: BTreeSet<String> = self.model_decls.keys().cloned().collect();
        for (oi, pi, values) in std::mem::take(&mut self.enum_values) {
            let op = &self.operations[oi];
            let p = &op.params[pi];
            let shared = by_name[&p.name].len() == 1;
            let mut name = pascal(&p.name);
            if !shared {
                let base = op.rust.request.trim_end_matches("Request");
                name = format!("{base}{name}");
            }
            if taken.contains(&name) || name.ends_with("Request") {
                let at = (op.file.clone(), op.line, op.id());
                self.err_op(at, format!("enum `{name}` clashes with a model or request"));
                continue;
            }
            let variants = values.iter().map(|v| (v.clone(), pascal(v))).collect();
            self.operations[oi].params[pi].values = Some(ValueEnum { name, variants });
        }
    }
}
