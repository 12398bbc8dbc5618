//! Loading `spec/` and lowering it to the validated IR.

use crate::ir::*;
use crate::names::{is_wire_name, rust_field_name, rust_method_name, type_name_ok};
use crate::spec::{ModelDef, OperationDef, SpecFile};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

/// Parameters filled from the client's app context when a request leaves them unset.
pub const CONTEXT_PARAMS: [&str; 4] = ["appType", "systemToken", "userId", "language"];

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

/// Reads every `*.yaml` file below `dir` (sorted), parses and validates them.
pub fn load_dir(dir: &Path) -> Result<Api, SpecErrors> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files).map_err(|e| {
        SpecErrors(vec![SpecError {
            file: String::new(),
            line: None,
            operation: None,
            message: format!("cannot read {}: {e}", dir.display()),
        }])
    })?;
    files.sort();
    let mut texts = Vec::new();
    for rel in files {
        let text = std::fs::read_to_string(dir.join(&rel)).map_err(|e| {
            SpecErrors(vec![SpecError {
                file: rel.clone(),
                line: None,
                operation: None,
                message: format!("cannot read: {e}"),
            }])
        })?;
        texts.push((rel, text));
    }
    load_texts(&texts)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
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

/// Parses and validates spec files given as `(path relative to spec/, text)`.
pub fn load_texts(files: &[(String, String)]) -> Result<Api, SpecErrors> {
    let mut errors = Vec::new();
    let mut parsed = Vec::new();
    for (file, text) in files {
        match serde_saphyr::from_str::<SpecFile>(text) {
            Ok(spec) => parsed.push((file.clone(), text.as_str(), spec)),
            Err(e) => errors.push(SpecError {
                file: file.clone(),
                line: None,
                operation: None,
                message: format!("invalid YAML: {e}"),
            }),
        }
    }
    let mut lower = Lowering {
        errors,
        ..Default::default()
    };
    // Models first, so that operations can refer to models of any file.
    for (file, text, spec) in &parsed {
        for (name, def) in &spec.models {
            lower.declare_model(file, text, name, def);
        }
    }
    for (file, text, spec) in &parsed {
        for (idx, def) in spec.operations.iter().enumerate() {
            lower.operation(file, text, idx, def);
        }
    }
    lower.finish()
}

/// A model field before type resolution: (wire name, type, doc, note, secret).
type RawField = (String, String, String, Option<String>, bool);

#[derive(Default)]
struct Lowering {
    errors: Vec<SpecError>,
    model_defs: BTreeMap<String, (String, usize)>,
    models: BTreeMap<String, Model>,
    raw_model_fields: BTreeMap<String, Vec<RawField>>,
    model_docs: BTreeMap<String, String>,
    operations: Vec<Operation>,
    seen_ops: BTreeMap<(String, String), String>,
    rust_names: BTreeMap<String, String>,
}

fn line_of(text: &str, needle: &str, nth: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().trim_start_matches("- ").starts_with(needle))
        .nth(nth)
        .map(|(i, _)| i + 1)
}

fn check_doc(doc: &str) -> Option<String> {
    let d = doc.trim();
    if d.is_empty() {
        Some("is empty".into())
    } else if d.contains("TODO") {
        Some("still says TODO".into())
    } else if d.contains('\n') {
        Some("must be one line".into())
    } else {
        None
    }
}

impl Lowering {
    fn err(&mut self, file: &str, line: Option<usize>, op: Option<&str>, msg: String) {
        self.errors.push(SpecError {
            file: file.to_string(),
            line,
            operation: op.map(str::to_string),
            message: msg,
        });
    }

    fn declare_model(&mut self, file: &str, text: &str, name: &str, def: &ModelDef) {
        let line = line_of(text, &format!("{name}:"), 0);
        if let Some((other, _)) = self.model_defs.get(name) {
            let msg = format!("model `{name}` is also defined in spec/{other}");
            self.err(file, line, None, msg);
            return;
        }
        if !type_name_ok(name) {
            let msg = format!("model name `{name}` must be a PascalCase Rust identifier");
            self.err(file, line, None, msg);
        }
        if let Some(problem) = check_doc(&def.doc) {
            self.err(file, line, None, format!("model `{name}`: doc {problem}"));
        }
        self.model_defs
            .insert(name.to_string(), (file.to_string(), line.unwrap_or(0)));
        self.model_docs
            .insert(name.to_string(), def.doc.trim().to_string());
        self.raw_model_fields.insert(
            name.to_string(),
            def.fields
                .iter()
                .map(|f| {
                    (
                        f.name.clone(),
                        f.ty.clone(),
                        f.doc.clone(),
                        f.note.clone(),
                        f.secret,
                    )
                })
                .collect(),
        );
    }

    fn parse_type(&self, ty: &str) -> Result<Type, String> {
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
                    Type::List(Box::new(self.parse_type(t)?))
                } else if let Some(t) = inner("map<") {
                    Type::Map(Box::new(self.parse_type(t)?))
                } else if self.model_defs.contains_key(ty) {
                    Type::Model(ty.to_string())
                } else {
                    return Err(format!("unknown type `{ty}`"));
                }
            }
        })
    }

    fn operation(&mut self, file: &str, text: &str, idx: usize, def: &OperationDef) {
        let line = line_of(text, "action:", idx);
        let id = format!("{}@{}", def.action, def.version);
        let opn = Some(id.as_str());
        let start = self.errors.len();
        if !type_name_ok(&def.action) {
            self.err(
                file,
                line,
                opn,
                "action must be a PascalCase identifier".into(),
            );
        }
        if let Some(other) = self
            .seen_ops
            .insert((def.action.clone(), def.version.clone()), file.to_string())
        {
            self.err(
                file,
                line,
                opn,
                format!("duplicate operation (also in spec/{other})"),
            );
        }
        let version_ok = def.version == "1.0" || def.version == "2.0";
        if !version_ok {
            self.err(
                file,
                line,
                opn,
                format!("version must be \"1.0\" or \"2.0\", not {:?}", def.version),
            );
        } else if !def.path.starts_with(&format!("/v{}/", def.version)) {
            let msg = format!("path `{}` does not start with /v{}/", def.path, def.version);
            self.err(file, line, opn, msg);
        }
        let method = match def.method.as_str() {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            other => {
                self.err(file, line, opn, format!("unknown method `{other}`"));
                Method::Get
            }
        };
        let folder = file.split('/').next().unwrap_or_default();
        if !file.contains('/') {
            self.err(
                file,
                line,
                opn,
                "operations must live in an area folder".into(),
            );
        } else if folder != def.area {
            let msg = format!("area `{}` does not match its folder `{folder}`", def.area);
            self.err(file, line, opn, msg);
        }
        if !crate::names::snake_ident_ok(&def.area) {
            self.err(
                file,
                line,
                opn,
                format!("area `{}` must be a snake_case identifier", def.area),
            );
        }
        if let Some(p) = check_doc(&def.doc) {
            self.err(file, line, opn, format!("doc {p}"));
        }
        if let Some(p) = &def.permission {
            let parts: Vec<&str> = p.split('.').collect();
            if parts.len() != 3 || parts[0] != "Yida" || parts.iter().any(|s| !type_name_ok(s)) {
                self.err(
                    file,
                    line,
                    opn,
                    format!("permission `{p}` is not of the form Yida.Area.Read"),
                );
            }
        }
        let mut app_kinds = Vec::new();
        for k in &def.app_kinds {
            match k.as_str() {
                "internal" => app_kinds.push(AppKind::Internal),
                "third_party_enterprise" => app_kinds.push(AppKind::ThirdPartyEnterprise),
                "third_party_personal" => app_kinds.push(AppKind::ThirdPartyPersonal),
                other => self.err(file, line, opn, format!("unknown app kind `{other}`")),
            }
        }
        app_kinds.sort();
        app_kinds.dedup();
        if app_kinds.is_empty() {
            self.err(
                file,
                line,
                opn,
                "app_kinds must name at least one kind".into(),
            );
        }
        let legacy = match &def.legacy {
            None => None,
            Some(l) => match l.split_once('@') {
                Some((a, v)) if !a.is_empty() && !v.is_empty() => {
                    Some((a.to_string(), v.to_string()))
                }
                _ => {
                    self.err(
                        file,
                        line,
                        opn,
                        format!("legacy `{l}` must be Action@version"),
                    );
                    None
                }
            },
        };
        let pagination = match def.pagination.as_deref() {
            None => None,
            Some("page_number") => Some(Pagination::PageNumber),
            Some("current_page") => Some(Pagination::CurrentPage),
            Some(other) => {
                self.err(file, line, opn, format!("unknown pagination `{other}`"));
                None
            }
        };

        // Parameters.
        let mut params = Vec::new();
        let mut wire_seen = BTreeSet::new();
        let mut rust_seen = BTreeMap::new();
        for p in &def.params {
            let pline = line_of(text, &format!("{{ name: {},", p.name), 0).or(line);
            if !is_wire_name(&p.name) {
                self.err(
                    file,
                    pline,
                    opn,
                    format!("parameter name `{}` is not a valid wire name", p.name),
                );
                continue;
            }
            if !wire_seen.insert(p.name.clone()) {
                self.err(
                    file,
                    pline,
                    opn,
                    format!("duplicate parameter `{}`", p.name),
                );
            }
            let location = match p.location.as_str() {
                "path" => Location::Path,
                "query" => Location::Query,
                "body" => Location::Body,
                other => {
                    self.err(
                        file,
                        pline,
                        opn,
                        format!("parameter `{}`: unknown location `{other}`", p.name),
                    );
                    Location::Body
                }
            };
            let ty = match self.parse_type(&p.ty) {
                Ok(t) => t,
                Err(e) => {
                    self.err(file, pline, opn, format!("parameter `{}`: {e}", p.name));
                    Type::Json
                }
            };
            if location != Location::Body && !ty.is_scalar() {
                let msg = format!(
                    "parameter `{}` in {} must be a scalar type, not {}",
                    p.name,
                    location.as_str(),
                    ty.spec_name()
                );
                self.err(file, pline, opn, msg);
            }
            if location == Location::Path && !p.required {
                self.err(
                    file,
                    pline,
                    opn,
                    format!("path parameter `{}` must be required", p.name),
                );
            }
            if let Some(problem) = check_doc(&p.doc) {
                self.err(
                    file,
                    pline,
                    opn,
                    format!("parameter `{}`: doc {problem}", p.name),
                );
            }
            let rust = match rust_field_name(&p.name) {
                Ok(r) => r,
                Err(e) => {
                    self.err(file, pline, opn, format!("parameter `{}`: {e}", p.name));
                    continue;
                }
            };
            if let Some(other) = rust_seen.insert(rust.clone(), p.name.clone()) {
                let msg = format!(
                    "parameters `{other}` and `{}` both become the Rust name `{rust}`",
                    p.name
                );
                self.err(file, pline, opn, msg);
            }
            let context = CONTEXT_PARAMS.contains(&p.name.as_str()) && ty == Type::String;
            params.push(Param {
                name: p.name.clone(),
                location,
                ty,
                required: p.required,
                doc: p.doc.trim().to_string(),
                secret: p.secret,
                note: p.note.clone(),
                context,
                paging: pagination.is_some()
                    && matches!(p.name.as_str(), "pageNumber" | "currentPage" | "pageSize"),
                rust,
            });
        }
        // Path placeholders and path parameters must agree.
        let placeholders = match path_placeholders(&def.path) {
            Ok(p) => p,
            Err(e) => {
                self.err(file, line, opn, e);
                Vec::new()
            }
        };
        for ph in &placeholders {
            if !params
                .iter()
                .any(|p| p.location == Location::Path && &p.name == ph)
            {
                self.err(
                    file,
                    line,
                    opn,
                    format!("path placeholder `{{{ph}}}` has no path parameter"),
                );
            }
        }
        for p in params.iter().filter(|p| p.location == Location::Path) {
            if !placeholders.contains(&p.name) {
                self.err(
                    file,
                    line,
                    opn,
                    format!(
                        "path parameter `{}` has no `{{{}}}` in the path",
                        p.name, p.name
                    ),
                );
            }
        }
        if let Some(style) = pagination {
            let page = match style {
                Pagination::PageNumber => "pageNumber",
                Pagination::CurrentPage => "currentPage",
            };
            for needed in [page, "pageSize"] {
                if !params.iter().any(|p| p.name == needed && p.ty == Type::I64) {
                    self.err(
                        file,
                        line,
                        opn,
                        format!("pagination needs an i64 parameter `{needed}`"),
                    );
                }
            }
        }
        if let Some(r) = &def.response {
            if !self.model_defs.contains_key(r) {
                self.err(
                    file,
                    line,
                    opn,
                    format!("response model `{r}` is not defined"),
                );
            }
        }
        let base = if def.version == "1.0" {
            def.action.clone()
        } else {
            format!(
                "{}V{}",
                def.action,
                def.version.split('.').next().unwrap_or("")
            )
        };
        let method_name = rust_method_name(&base);
        if let Some(other) = self.rust_names.insert(method_name.clone(), id.clone()) {
            if other != id {
                self.err(
                    file,
                    line,
                    opn,
                    format!("Rust name `{method_name}` clashes with {other}"),
                );
            }
        }
        let request = format!("{base}Request");
        if self.model_defs.contains_key(&request) {
            self.err(
                file,
                line,
                opn,
                format!("model `{request}` clashes with the request type"),
            );
        }
        if self.errors.len() > start {
            return;
        }
        self.operations.push(Operation {
            action: def.action.clone(),
            version: def.version.clone(),
            method,
            path: def.path.clone(),
            area: def.area.clone(),
            doc: def.doc.trim().to_string(),
            permission: def.permission.clone(),
            app_kinds,
            read_only: def.read_only,
            seed: def.seed,
            legacy,
            pagination,
            note: def.note.clone(),
            params,
            response: def.response.clone(),
            file: file.to_string(),
            rust: OpNames {
                base,
                request,
                method: method_name,
                response: def.response.clone(),
            },
        });
    }

    fn finish(mut self) -> Result<Api, SpecErrors> {
        // Models: resolve field types.
        let raw = std::mem::take(&mut self.raw_model_fields);
        for (name, fields) in &raw {
            let (file, line) = self.model_defs[name].clone();
            let line = Some(line).filter(|l| *l > 0);
            let mut out = Vec::new();
            let mut seen = BTreeMap::new();
            for (fname, fty, fdoc, fnote, fsecret) in fields {
                let ctx = format!("model `{name}`, field `{fname}`");
                if !is_wire_name(fname) {
                    self.err(&file, line, None, format!("{ctx}: not a valid wire name"));
                    continue;
                }
                let ty = match self.parse_type(fty) {
                    Ok(t) => t,
                    Err(e) => {
                        self.err(&file, line, None, format!("{ctx}: {e}"));
                        continue;
                    }
                };
                if let Some(p) = check_doc(fdoc) {
                    self.err(&file, line, None, format!("{ctx}: doc {p}"));
                }
                let rust = match rust_field_name(fname) {
                    Ok(r) => r,
                    Err(e) => {
                        self.err(&file, line, None, format!("{ctx}: {e}"));
                        continue;
                    }
                };
                if let Some(other) = seen.insert(rust.clone(), fname.clone()) {
                    let msg = format!(
                        "model `{name}`: fields `{other}` and `{fname}` both become `{rust}`"
                    );
                    self.err(&file, line, None, msg);
                }
                out.push(Field {
                    name: fname.clone(),
                    ty,
                    doc: fdoc.trim().to_string(),
                    secret: *fsecret,
                    note: fnote.clone(),
                    rust,
                });
            }
            let doc = self.model_docs.get(name).cloned().unwrap_or_default();
            self.models.insert(
                name.clone(),
                Model {
                    name: name.clone(),
                    doc,
                    fields: out,
                    file: file.clone(),
                },
            );
        }
        // Pagination replies need `data` and `totalCount`.
        let mut later = Vec::new();
        for op in &self.operations {
            if op.pagination.is_some() {
                let ok = op
                    .response
                    .as_ref()
                    .and_then(|r| self.models.get(r))
                    .is_some_and(|m| {
                        m.fields
                            .iter()
                            .any(|f| f.name == "totalCount" && f.ty == Type::I64)
                            && m.fields
                                .iter()
                                .any(|f| f.name == "data" && matches!(f.ty, Type::List(_)))
                    });
                if !ok {
                    later.push((
                        op.file.clone(),
                        format!("{}@{}", op.action, op.version),
                        "pagination needs a reply with `totalCount: i64` and a `data` list"
                            .to_string(),
                    ));
                }
            }
            if let Some((a, v)) = &op.legacy {
                if !self
                    .operations
                    .iter()
                    .any(|o| &o.action == a && &o.version == v)
                    || (a == &op.action && v == &op.version)
                {
                    later.push((
                        op.file.clone(),
                        format!("{}@{}", op.action, op.version),
                        format!(
                            "legacy replacement `{a}@{v}` is not another operation of the spec"
                        ),
                    ));
                }
            }
        }
        for (file, op, msg) in later {
            self.err(&file, None, Some(&op), msg);
        }
        // Every model must be reachable from some operation.
        let mut used = BTreeSet::new();
        let mut todo: Vec<String> = self
            .operations
            .iter()
            .filter_map(|o| o.response.clone())
            .collect();
        while let Some(m) = todo.pop() {
            if used.insert(m.clone()) {
                if let Some(model) = self.models.get(&m) {
                    for f in &model.fields {
                        collect_models(&f.ty, &mut todo);
                    }
                }
            }
        }
        let unused: Vec<(String, String)> = self
            .models
            .iter()
            .filter(|(n, _)| !used.contains(*n))
            .map(|(n, m)| (n.clone(), m.file.clone()))
            .collect();
        for (name, file) in unused {
            self.err(
                &file,
                None,
                None,
                format!("model `{name}` is not used by any operation"),
            );
        }
        if !self.errors.is_empty() {
            return Err(SpecErrors(self.errors));
        }
        self.operations.sort_by(|a, b| {
            (&a.area, &a.action, &a.version).cmp(&(&b.area, &b.action, &b.version))
        });
        Ok(Api {
            operations: self.operations,
            models: self.models,
        })
    }
}

/// Model names a type refers to.
pub fn collect_models(ty: &Type, out: &mut Vec<String>) {
    match ty {
        Type::Model(m) => out.push(m.clone()),
        Type::List(t) | Type::Map(t) => collect_models(t, out),
        _ => {}
    }
}

/// The `{name}` placeholders of a path, in order.
pub fn path_placeholders(path: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("path `{path}` has an unclosed `{{`"))?;
        let name = &after[..close];
        if !is_wire_name(name) {
            return Err(format!("path `{path}` has a bad placeholder `{{{name}}}`"));
        }
        out.push(name.to_string());
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("path `{path}` has a stray `}}`"));
    }
    Ok(out)
}
