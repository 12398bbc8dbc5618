//! `cargo xtask drift`: how `spec/` differs from the official Python SDK or from DingTalk's doc
//! pages.
//!
//! Every difference is either *explained* by a `note:` of the spec (on the parameter, on the
//! reply field, or on the operation) or *unexplained* drift. A note explains a difference when
//! one of its clauses (text between `;` or sentence ends) names the source (`SDK`; or `page`,
//! `docs`, `table` for doc pages) and says what that source says:
//!
//! - a required flag: `required` or `optional` after the source's name
//!   (`docs: optional; official SDK: required`);
//! - a type: the source's type (`official SDK: string`, `the official SDK Dict[str, Any]`);
//! - a method or location: the source's value (`the official SDK use GET`);
//! - something the source lacks: a negation (`not in its table nor in the official SDK`);
//! - a permission or app kinds: the page's value, or a negation when it names none.
//!
//! An operation's note covers a parameter or field only when the same clause also names it
//! (`` `logicOperator` ``) or speaks of `every parameter` or `the parameters`. A note that no longer matches what the
//! source says stops explaining, so a later change of the source shows up again.

use crate::docpages::{self, DocPage};
use crate::pysdk::{self, loose, PyType, Sdk, SdkModel};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use yida_codegen::ir::{Api, Location, Model, Operation, Type};

/// Where the facts compared with the spec come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The official Python SDK.
    Sdk,
    /// DingTalk's doc pages.
    Docs,
}

impl Source {
    fn label(self) -> &'static str {
        match self {
            Source::Sdk => "sdk",
            Source::Docs => "docs",
        }
    }
    /// Words by which a note names this source (lower case).
    fn keywords(self) -> &'static [&'static str] {
        match self {
            Source::Sdk => &["sdk"],
            Source::Docs => &["page", "docs", "documented", "table"],
        }
    }
}

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The source has it, the spec does not.
    Added,
    /// The spec has it, the source does not.
    Removed,
    Method,
    Path,
    Location,
    Type,
    Required,
    Permission,
    AppKinds,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Added => "added",
            Kind::Removed => "removed",
            Kind::Method => "method",
            Kind::Path => "path",
            Kind::Location => "location",
            Kind::Type => "type",
            Kind::Required => "required",
            Kind::Permission => "permission",
            Kind::AppKinds => "app kinds",
        }
    }
}

/// One difference between the spec and the source.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// `Action@version`.
    pub operation: String,
    /// Spec file (relative to the spec folder), when the spec has the operation.
    pub file: Option<String>,
    /// Where the source says it (`yida_1_0/client.py:29`, a page file).
    pub source_at: Option<String>,
    /// `operation`, `method`, `path`, `param fileUrl`, `reply result[].formUuid`, …
    pub subject: String,
    pub kind: Kind,
    /// What the spec says (`-` when it lacks the subject).
    pub spec: String,
    /// What the source says (`-` when it lacks the subject).
    pub source: String,
    /// The note that explains the difference; `None` means drift.
    pub note: Option<String>,
}

/// The outcome of one comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub source: Source,
    /// `alibabacloud-dingtalk 2.2.65`, or the pages folder.
    pub source_label: String,
    /// Operations in the spec.
    pub spec_operations: usize,
    /// Operations the source describes.
    pub source_operations: usize,
    /// Operations found on both sides and compared fact by fact.
    pub compared: usize,
    /// Spec operations the source says nothing about and that are not expected there (no doc page).
    pub not_covered: usize,
    pub differences: Vec<Diff>,
}

impl Report {
    /// Differences no note explains.
    pub fn unexplained(&self) -> usize {
        self.differences.iter().filter(|d| d.note.is_none()).count()
    }

    /// True when every difference is explained.
    pub fn clean(&self) -> bool {
        self.unexplained() == 0
    }
}

// ---------------------------------------------------------------------------------------------
// Notes.

/// What a note must say to explain a difference.
enum Need {
    /// One of these words (lower case) after the source's name.
    Says(Vec<String>),
    /// A negation: the source lacks it.
    Lacks,
    /// Only that the clause names the source (and the subject).
    Named,
}

const NEGATIONS: [&str; 10] = [
    "not ", "no ", "neither", "nor ", "without", "absent", "missing", "lacks", "only", "none",
];

fn clauses(note: &str) -> Vec<String> {
    let lower = note.to_lowercase();
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = lower.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let end_of_sentence = *c == '.' && chars.get(i + 1).is_none_or(|n| n.is_whitespace());
        if *c == ';' || end_of_sentence {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(*c);
        }
    }
    out.push(cur);
    out.into_iter().filter(|c| !c.trim().is_empty()).collect()
}

fn has_word(text: &str, word: &str) -> bool {
    let word = word.to_lowercase();
    let mut start = 0;
    while let Some(pos) = text[start..].find(&word) {
        let at = start + pos;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() && c != '_');
        if edge(before) && edge(after) {
            return true;
        }
        start = at + word.len();
    }
    false
}

/// Does `note` explain a difference with `source` of this `need`? `subject`: the name a clause
/// must also carry (for an operation's note speaking about one parameter or field).
fn explains(note: &str, source: Source, need: &Need, subject: Option<&str>) -> bool {
    clauses(note).iter().any(|clause| {
        let Some(pos) = source
            .keywords()
            .iter()
            .filter_map(|k| clause.find(k))
            .min()
        else {
            return false;
        };
        if let Some(name) = subject {
            // A clause about "every parameter" or "the parameters" covers each of them.
            let named = has_word(clause, name)
                || clause.contains("every parameter")
                || has_word(clause, "parameters");
            if !named {
                return false;
            }
        }
        match need {
            Need::Says(words) => {
                // The source's value, as a word, after the source's name.
                let after = &clause[pos..];
                words.iter().any(|w| has_word(after, w))
            }
            Need::Lacks => NEGATIONS.iter().any(|n| clause.contains(n)),
            Need::Named => true,
        }
    })
}

/// The first note among `notes` (narrowest first) that explains; op-level notes are passed with
/// the subject they must name.
fn explained_by(
    source: Source,
    need: &Need,
    notes: &[(Option<&String>, Option<&str>)],
) -> Option<String> {
    notes.iter().find_map(|(note, subject)| {
        let note = (*note)?;
        explains(note, source, need, *subject).then(|| note.clone())
    })
}

fn python_words(ty: &PyType) -> Vec<String> {
    let mut w = vec![ty.python().to_lowercase()];
    match ty {
        PyType::Str => w.extend(["string".to_string()]),
        PyType::Int => w.extend(["long", "integer", "number", "int"].map(String::from)),
        PyType::Float => w.extend(["double", "number"].map(String::from)),
        PyType::Bool => w.extend(["boolean".to_string()]),
        PyType::Any => w.extend(["any".to_string(), "object".to_string()]),
        PyType::Dict(_) => w.extend(["dict", "map", "object"].map(String::from)),
        PyType::List(_) => w.extend(["list", "array"].map(String::from)),
        _ => {}
    }
    w
}

fn required_word(required: bool) -> Vec<String> {
    vec![if required { "required" } else { "optional" }.to_string()]
}

// ---------------------------------------------------------------------------------------------
// Comparison with the SDK.

/// Spec and SDK types agree at this level (models are compared field by field elsewhere).
fn scalar_compat(spec: &Type, py: &PyType) -> bool {
    match (spec, py) {
        (Type::String | Type::JsonText, PyType::Str) => true,
        (Type::I64, PyType::Int) => true,
        (Type::F64, PyType::Float) => true,
        (Type::Bool, PyType::Bool) => true,
        (Type::Json, PyType::Any | PyType::Dict(_)) => true,
        (Type::Json, PyType::List(t)) => matches!(**t, PyType::Any | PyType::Dict(_)),
        _ => false,
    }
}

struct Ctx<'a> {
    api: &'a Api,
    source: Source,
    op: &'a Operation,
    source_at: Option<String>,
    out: Vec<Diff>,
}

impl Ctx<'_> {
    /// Method and path against the source's, each difference explained by the operation's
    /// note when it says what the source says.
    fn compare_endpoint(&mut self, method: &str, path: &str) {
        let (op, source) = (self.op, self.source);
        let op_note = op.note.as_ref();
        if op.method.as_str() != method {
            let note = explained_by(
                source,
                &Need::Says(vec![method.to_lowercase()]),
                &[(op_note, None)],
            );
            self.push(
                "method".into(),
                Kind::Method,
                op.method.as_str().into(),
                method.into(),
                note,
            );
        }
        if path_key(&op.path) != path_key(path) {
            let note = explained_by(
                source,
                &Need::Says(vec![path.to_lowercase()]),
                &[(op_note, None)],
            );
            self.push(
                "path".into(),
                Kind::Path,
                op.path.clone(),
                path.into(),
                note,
            );
        }
    }

    fn id(&self) -> String {
        format!("{}@{}", self.op.action, self.op.version)
    }

    fn push(
        &mut self,
        subject: String,
        kind: Kind,
        spec: String,
        source: String,
        note: Option<String>,
    ) {
        self.out.push(Diff {
            operation: self.id(),
            file: Some(self.op.file.clone()),
            source_at: self.source_at.clone(),
            subject,
            kind,
            spec,
            source,
            note,
        });
    }

    /// Compares a spec type with an SDK type at `at` (a reply field path); models recurse.
    fn types(
        &mut self,
        sdk: &Sdk,
        spec: &Type,
        py: &PyType,
        at: &str,
        field_note: Option<&String>,
        seen: &mut BTreeSet<(String, String)>,
    ) {
        match (spec, py) {
            (Type::List(s), PyType::List(p)) => {
                self.types(sdk, s, p, &format!("{at}[]"), field_note, seen)
            }
            (Type::Map(s), PyType::Dict(p)) => {
                self.types(sdk, s, p, &format!("{at}{{}}"), field_note, seen)
            }
            (Type::Model(m), PyType::Model(c)) => {
                if let (Some(model), Some(class)) = (self.api.models.get(m), sdk.models.get(c)) {
                    if seen.insert((m.clone(), c.clone())) {
                        self.fields(sdk, model, class, &format!("{at}."), seen);
                    }
                }
            }
            _ if scalar_compat(spec, py) => {}
            _ => {
                let note = explained_by(
                    self.source,
                    &Need::Says(python_words(py)),
                    &[(field_note, None), (self.op.note.as_ref(), Some(leaf(at)))],
                );
                self.push(
                    format!("reply {at}"),
                    Kind::Type,
                    spec.spec_name(),
                    py.python(),
                    note,
                );
            }
        }
    }

    fn fields(
        &mut self,
        sdk: &Sdk,
        model: &Model,
        class: &SdkModel,
        prefix: &str,
        seen: &mut BTreeSet<(String, String)>,
    ) {
        for f in &model.fields {
            let at = format!("{prefix}{}", f.name);
            match class.fields.iter().find(|s| s.name == f.name) {
                None => {
                    let note = explained_by(
                        self.source,
                        &Need::Lacks,
                        &[
                            (f.note.as_ref(), None),
                            (self.op.note.as_ref(), Some(&f.name)),
                        ],
                    );
                    self.push(
                        format!("reply {at}"),
                        Kind::Removed,
                        f.ty.spec_name(),
                        "-".into(),
                        note,
                    );
                }
                Some(s) => self.types(sdk, &f.ty, &s.ty, &at, f.note.as_ref(), seen),
            }
        }
        for s in &class.fields {
            if !model.fields.iter().any(|f| f.name == s.name) {
                let at = format!("{prefix}{}", s.name);
                let note = explained_by(
                    self.source,
                    &Need::Named,
                    &[(self.op.note.as_ref(), Some(&s.name))],
                );
                self.push(
                    format!("reply {at}"),
                    Kind::Added,
                    "-".into(),
                    s.ty.python(),
                    note,
                );
            }
        }
    }
}

fn leaf(at: &str) -> &str {
    let at = at.trim_end_matches("[]").trim_end_matches("{}");
    at.rsplit('.').next().unwrap_or(at)
}

/// Path with placeholders reduced to their loose names, for comparison.
pub fn path_key(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let close = after.find('}').unwrap_or(after.len());
        out.push_str(&loose(&after[..close]));
        rest = &after[close..];
    }
    out.push_str(rest);
    out
}

/// Compares the spec with the SDK.
pub fn compare_sdk(api: &Api, sdk: &Sdk) -> Report {
    let mut diffs = Vec::new();
    let mut compared = 0;
    for op in &api.operations {
        let Some(s) = sdk.operation(&op.action, &op.version) else {
            let note = explained_by(Source::Sdk, &Need::Lacks, &[(op.note.as_ref(), None)]);
            diffs.push(Diff {
                operation: format!("{}@{}", op.action, op.version),
                file: Some(op.file.clone()),
                source_at: None,
                subject: "operation".into(),
                kind: Kind::Removed,
                spec: format!("{} {}", op.method.as_str(), op.path),
                source: "-".into(),
                note,
            });
            continue;
        };
        compared += 1;
        let mut cx = Ctx {
            api,
            source: Source::Sdk,
            op,
            source_at: Some(s.source.clone()),
            out: Vec::new(),
        };
        let op_note = op.note.as_ref();
        cx.compare_endpoint(&s.method, &s.path);
        let mut matched = BTreeSet::new();
        for p in &op.params {
            let found = s.params.iter().position(|q| q.name == p.name).or_else(|| {
                (p.location == Location::Path)
                    .then(|| {
                        s.params.iter().position(|q| {
                            q.location == pysdk::Location::Path && loose(&q.name) == loose(&p.name)
                        })
                    })
                    .flatten()
            });
            let subject = format!("param {}", p.name);
            let notes = [(p.note.as_ref(), None), (op_note, Some(p.name.as_str()))];
            let Some(i) = found else {
                let note = explained_by(Source::Sdk, &Need::Lacks, &notes);
                cx.push(subject, Kind::Removed, describe_param(p), "-".into(), note);
                continue;
            };
            matched.insert(i);
            let q = &s.params[i];
            if p.location.as_str() != q.location.as_str() {
                let note = explained_by(
                    Source::Sdk,
                    &Need::Says(vec![q.location.as_str().into()]),
                    &notes,
                );
                cx.push(
                    subject.clone(),
                    Kind::Location,
                    p.location.as_str().into(),
                    q.location.as_str().into(),
                    note,
                );
            }
            let type_ok = match (&p.ty, &q.ty) {
                (Type::List(a), PyType::List(b)) => scalar_compat(a, b),
                (Type::Map(a), PyType::Dict(b)) => scalar_compat(a, b),
                // A request object sent as given.
                (Type::Json, PyType::Model(_) | PyType::List(_)) => true,
                // Flattened into a JSON string in the query (the SDK's `*_shrink` fields).
                (
                    Type::JsonText,
                    PyType::Model(_) | PyType::List(_) | PyType::Dict(_) | PyType::Any,
                ) => q.location != pysdk::Location::Body,
                (a, b) => scalar_compat(a, b),
            };
            if !type_ok {
                let note = explained_by(Source::Sdk, &Need::Says(python_words(&q.ty)), &notes);
                cx.push(
                    subject.clone(),
                    Kind::Type,
                    p.ty.spec_name(),
                    q.ty.python(),
                    note,
                );
            }
            if p.required != q.required {
                let note =
                    explained_by(Source::Sdk, &Need::Says(required_word(q.required)), &notes);
                cx.push(
                    subject,
                    Kind::Required,
                    yes_no(p.required),
                    yes_no(q.required),
                    note,
                );
            }
        }
        for (i, q) in s.params.iter().enumerate() {
            if !matched.contains(&i) {
                let note = explained_by(
                    Source::Sdk,
                    &Need::Named,
                    &[(op_note, Some(q.name.as_str()))],
                );
                cx.push(
                    format!("param {}", q.name),
                    Kind::Added,
                    "-".into(),
                    format!(
                        "{} {} {}",
                        q.location.as_str(),
                        q.ty.python(),
                        yes_no(q.required)
                    ),
                    note,
                );
            }
        }
        // Reply body.
        let body = s.response.as_ref().and_then(|r| sdk.models.get(r));
        let model = op.response.as_ref().and_then(|r| api.models.get(r));
        match (model, body) {
            (Some(m), Some(b)) => {
                let mut seen = BTreeSet::new();
                cx.fields(sdk, m, b, "", &mut seen);
            }
            (Some(m), None) => {
                let note = explained_by(Source::Sdk, &Need::Lacks, &[(op_note, None)]);
                cx.push(
                    "reply".into(),
                    Kind::Removed,
                    m.name.clone(),
                    "no body".into(),
                    note,
                );
            }
            (None, Some(b)) if !b.fields.is_empty() => {
                let note = explained_by(Source::Sdk, &Need::Named, &[(op_note, Some("reply"))]);
                let names: Vec<&str> = b.fields.iter().map(|f| f.name.as_str()).collect();
                cx.push(
                    "reply".into(),
                    Kind::Added,
                    "no body".into(),
                    names.join(", "),
                    note,
                );
            }
            _ => {}
        }
        diffs.extend(cx.out);
    }
    for s in &sdk.operations {
        if !api
            .operations
            .iter()
            .any(|o| o.action == s.action && o.version == s.version)
        {
            diffs.push(Diff {
                operation: format!("{}@{}", s.action, s.version),
                file: None,
                source_at: Some(s.source.clone()),
                subject: "operation".into(),
                kind: Kind::Added,
                spec: "-".into(),
                source: format!("{} {}", s.method, s.path),
                note: None,
            });
        }
    }
    Report {
        source: Source::Sdk,
        source_label: format!(
            "alibabacloud-dingtalk {}",
            sdk.version.as_deref().unwrap_or("(version unknown)")
        ),
        spec_operations: api.operations.len(),
        source_operations: sdk.operations.len(),
        compared,
        not_covered: 0,
        differences: diffs,
    }
}

fn yes_no(b: bool) -> String {
    if b { "required" } else { "optional" }.into()
}

fn describe_param(p: &yida_codegen::ir::Param) -> String {
    format!(
        "{} {} {}",
        p.location.as_str(),
        p.ty.spec_name(),
        yes_no(p.required)
    )
}

// ---------------------------------------------------------------------------------------------
// Comparison with doc pages.

/// Does a page's type word fit the spec type?
fn page_type_compat(spec: &Type, page: &str) -> bool {
    let p = page.to_lowercase();
    let array = p.starts_with("array") || p.starts_with("list");
    let object = p == "object" || p == "map" || p.starts_with("map") || p == "json";
    match spec {
        Type::String => p == "string",
        Type::JsonText => p == "string" || object || array,
        Type::I64 => matches!(p.as_str(), "long" | "integer" | "int" | "number"),
        Type::F64 => matches!(p.as_str(), "double" | "float" | "number"),
        Type::Bool => p == "boolean" || p == "bool",
        Type::Json => object || array,
        Type::List(_) => array,
        Type::Map(_) | Type::Model(_) => object,
    }
}

fn page_words(ty: &str) -> Vec<String> {
    let p = ty.to_lowercase();
    let mut w = vec![p.clone()];
    if let Some(first) = p.split_whitespace().next() {
        w.push(first.to_string());
    }
    w
}

/// Compares the spec with doc pages.
pub fn compare_docs(spec: &Spec, pages: &[DocPage], label: &str) -> Report {
    let api = &spec.api;
    let mut diffs = Vec::new();
    let mut compared = 0;
    let mut not_covered = 0;
    let mut used: BTreeSet<usize> = BTreeSet::new();
    // Pages named by the spec's doc_url, found by their front matter's source_url.
    for op in &api.operations {
        let named = spec
            .doc_pages
            .get(&(op.action.clone(), op.version.clone()))
            .cloned();
        let idx = named
            .as_deref()
            .and_then(|u| {
                pages
                    .iter()
                    .position(|p| p.source_url.as_deref() == Some(u))
            })
            .or_else(|| {
                pages.iter().position(|p| {
                    p.method == op.method.as_str() && path_key(&p.path) == path_key(&op.path)
                })
            });
        let Some(idx) = idx else {
            if let Some(d) = named {
                // The spec names a page the folder lacks.
                diffs.push(Diff {
                    operation: format!("{}@{}", op.action, op.version),
                    file: Some(op.file.clone()),
                    source_at: None,
                    subject: "doc page".into(),
                    kind: Kind::Removed,
                    spec: d,
                    source: "-".into(),
                    note: None,
                });
            } else {
                not_covered += 1;
            }
            continue;
        };
        used.insert(idx);
        compared += 1;
        let page = &pages[idx];
        let mut cx = Ctx {
            api,
            source: Source::Docs,
            op,
            source_at: Some(page.file.clone()),
            out: Vec::new(),
        };
        let op_note = op.note.as_ref();
        cx.compare_endpoint(&page.method, &page.path);
        if op.permission != page.permission {
            let need = match &page.permission {
                Some(p) => Need::Says(vec![p.to_lowercase()]),
                None => Need::Lacks,
            };
            let note = explained_by(Source::Docs, &need, &[(op_note, None)]);
            cx.push(
                "permission".into(),
                Kind::Permission,
                op.permission.clone().unwrap_or_else(|| "-".into()),
                page.permission.clone().unwrap_or_else(|| "-".into()),
                note,
            );
        }
        let spec_kinds: Vec<&str> = op.app_kinds.iter().map(|k| k.as_str()).collect();
        if !page.app_kinds.is_empty() && spec_kinds != page.app_kinds {
            let note = explained_by(
                Source::Docs,
                &Need::Says(vec!["kind".into(), "app".into()]),
                &[(op_note, None)],
            );
            cx.push(
                "app_kinds".into(),
                Kind::AppKinds,
                spec_kinds.join(", "),
                page.app_kinds.join(", "),
                note,
            );
        }
        let mut matched = BTreeSet::new();
        for p in &op.params {
            let subject = format!("param {}", p.name);
            let notes = [(p.note.as_ref(), None), (op_note, Some(p.name.as_str()))];
            let found = page
                .params
                .iter()
                .position(|q| q.name == p.name)
                .or_else(|| {
                    page.params.iter().position(|q| {
                        q.location == crate::pysdk::Location::Path
                            && p.location == Location::Path
                            && loose(&q.name) == loose(&p.name)
                    })
                });
            let Some(i) = found else {
                let note = explained_by(Source::Docs, &Need::Lacks, &notes);
                cx.push(subject, Kind::Removed, describe_param(p), "-".into(), note);
                continue;
            };
            matched.insert(i);
            let q = &page.params[i];
            if p.location.as_str() != q.location.as_str() {
                let note = explained_by(
                    Source::Docs,
                    &Need::Says(vec![q.location.as_str().into()]),
                    &notes,
                );
                cx.push(
                    subject.clone(),
                    Kind::Location,
                    p.location.as_str().into(),
                    q.location.as_str().into(),
                    note,
                );
            }
            if !page_type_compat(&p.ty, &q.ty) {
                let note = explained_by(Source::Docs, &Need::Says(page_words(&q.ty)), &notes);
                cx.push(
                    subject.clone(),
                    Kind::Type,
                    p.ty.spec_name(),
                    q.ty.clone(),
                    note,
                );
            }
            if p.required != q.required {
                let note =
                    explained_by(Source::Docs, &Need::Says(required_word(q.required)), &notes);
                cx.push(
                    subject,
                    Kind::Required,
                    yes_no(p.required),
                    yes_no(q.required),
                    note,
                );
            }
        }
        for (i, q) in page.params.iter().enumerate() {
            if !matched.contains(&i) {
                let note = explained_by(
                    Source::Docs,
                    &Need::Named,
                    &[(op_note, Some(q.name.as_str()))],
                );
                cx.push(
                    format!("param {}", q.name),
                    Kind::Added,
                    "-".into(),
                    format!("{} {} {}", q.location.as_str(), q.ty, yes_no(q.required)),
                    note,
                );
            }
        }
        diffs.extend(cx.out);
    }
    for (i, page) in pages.iter().enumerate() {
        if !used.contains(&i) {
            diffs.push(Diff {
                operation: page.title.clone().unwrap_or_else(|| page.file.clone()),
                file: None,
                source_at: Some(page.file.clone()),
                subject: "operation".into(),
                kind: Kind::Added,
                spec: "-".into(),
                source: format!("{} {}", page.method, page.path),
                note: None,
            });
        }
    }
    Report {
        source: Source::Docs,
        source_label: label.to_string(),
        spec_operations: api.operations.len(),
        source_operations: pages.len(),
        compared,
        not_covered,
        differences: diffs,
    }
}

// ---------------------------------------------------------------------------------------------
// Output.

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The readable table, grouped by operation.
pub fn render_table(report: &Report) -> String {
    let src = report.source.label();
    let mut out = format!(
        "drift: spec/ ({} operations) vs {} ({} operations)\n",
        report.spec_operations, report.source_label, report.source_operations
    );
    let mut groups: BTreeMap<&str, Vec<&Diff>> = BTreeMap::new();
    for d in &report.differences {
        groups.entry(d.operation.as_str()).or_default().push(d);
    }
    let w_subject = report
        .differences
        .iter()
        .map(|d| d.subject.chars().count() + d.kind.as_str().len() + 2)
        .max()
        .unwrap_or(0)
        .min(48);
    let w_spec = report
        .differences
        .iter()
        .map(|d| d.spec.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 32);
    let w_src = report
        .differences
        .iter()
        .map(|d| d.source.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 32);
    for (op, diffs) in &groups {
        let first = diffs[0];
        out.push('\n');
        out.push_str(op);
        let mut wheres = Vec::new();
        if let Some(f) = &first.file {
            wheres.push(format!("spec/{f}"));
        } else {
            wheres.push("not in spec/".into());
        }
        if let Some(s) = &first.source_at {
            wheres.push(s.clone());
        }
        out.push_str(&format!("  ({})\n", wheres.join(", ")));
        out.push_str(&format!(
            "  {:<7} {:<w_subject$} {:<w_spec$} {:<w_src$}\n",
            "status", "what", "spec", src
        ));
        for d in diffs {
            let what = format!("{}: {}", d.subject, d.kind.as_str());
            let status = if d.note.is_some() { "noted" } else { "DRIFT" };
            let mut line = format!(
                "  {:<7} {:<w_subject$} {:<w_spec$} {:<w_src$}",
                status,
                truncate(&what, 48),
                truncate(&d.spec, 32),
                truncate(&d.source, 32)
            );
            if let Some(n) = &d.note {
                line.push_str(&format!("  note: \"{}\"", truncate(n, 60)));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    let noted = report.differences.len() - report.unexplained();
    out.push_str(&format!(
        "\n{} operations compared{}; {} difference(s): {} unexplained, {} explained by a note\n",
        report.compared,
        if report.not_covered > 0 {
            format!(" ({} spec operations have no page)", report.not_covered)
        } else {
            String::new()
        },
        report.differences.len(),
        report.unexplained(),
        noted
    ));
    out
}

// ---------------------------------------------------------------------------------------------
// Command line.

struct Args {
    sdk: Option<PathBuf>,
    docs: Option<PathBuf>,
    spec: PathBuf,
    json: bool,
}

const USAGE: &str = "usage: cargo xtask drift (--sdk <unpacked alibabacloud-dingtalk> | --docs <folder of pages>)... [--spec <dir>] [--json]";

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        sdk: None,
        docs: None,
        spec: crate::root().join("spec"),
        json: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .map(PathBuf::from)
                .ok_or_else(|| format!("{name} needs a path\n{USAGE}"))
        };
        match arg.as_str() {
            "--sdk" => a.sdk = Some(value("--sdk")?),
            "--docs" => a.docs = Some(value("--docs")?),
            "--spec" => a.spec = value("--spec")?,
            "--json" => a.json = true,
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if a.sdk.is_none() && a.docs.is_none() {
        return Err(format!("give --sdk or --docs\n{USAGE}"));
    }
    Ok(a)
}

/// The validated spec plus what drift needs that the IR does not carry.
pub struct Spec {
    pub api: Api,
    /// `doc_url` by `(action, version)`.
    pub doc_pages: BTreeMap<(String, String), String>,
}

/// Loads and validates the spec.
pub fn load_spec(dir: &Path) -> Result<Spec, String> {
    let api = yida_codegen::load_dir(dir).map_err(|e| e.to_string())?;
    let doc_pages = read_doc_pages(&api);
    Ok(Spec { api, doc_pages })
}

/// `doc_url` values by `(action, version)`.
fn read_doc_pages(api: &Api) -> BTreeMap<(String, String), String> {
    api.operations
        .iter()
        .filter_map(|o| {
            let url = o.doc_url.clone()?;
            Some(((o.action.clone(), o.version.clone()), url))
        })
        .collect()
}

/// Runs `cargo xtask drift ...`: 0 when every difference is explained, 1 on drift, 2 on errors.
pub fn run(args: &[String]) -> std::process::ExitCode {
    match run_inner(args) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            crate::err(&e);
            std::process::ExitCode::from(2)
        }
    }
}

fn run_inner(args: &[String]) -> Result<bool, String> {
    let a = parse_args(args)?;
    let spec = load_spec(&a.spec)?;
    let api = &spec.api;
    let mut reports = Vec::new();
    if let Some(sdk) = &a.sdk {
        let sdk = pysdk::load(sdk)?;
        reports.push(compare_sdk(api, &sdk));
    }
    if let Some(docs) = &a.docs {
        let pages = docpages::load(docs)?;
        reports.push(compare_docs(&spec, &pages, &docs.display().to_string()));
    }
    if a.json {
        let value = if reports.len() == 1 {
            serde_json::to_string_pretty(&reports[0])
        } else {
            serde_json::to_string_pretty(&reports)
        }
        .map_err(|e| e.to_string())?;
        crate::out(&format!("{value}\n"));
    } else {
        for r in &reports {
            crate::out(&render_table(r));
        }
    }
    Ok(reports.iter().all(Report::clean))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn note_rules() {
        let n = "docs: optional; official SDK: required (a path parameter cannot be left out)";
        let req = Need::Says(required_word(true));
        let opt = Need::Says(required_word(false));
        assert!(explains(n, Source::Sdk, &req, None));
        assert!(!explains(n, Source::Sdk, &opt, None));
        assert!(explains(n, Source::Docs, &opt, None));
        let absent = "not on the doc page; present in the official SDK";
        assert!(explains(absent, Source::Docs, &Need::Lacks, None));
        assert!(!explains(absent, Source::Sdk, &Need::Lacks, None));
        let op = "Unlike v1.0 there is no `logicOperator` (neither the page nor the official SDK has it).";
        assert!(explains(
            op,
            Source::Sdk,
            &Need::Lacks,
            Some("logicOperator")
        ));
        assert!(!explains(op, Source::Sdk, &Need::Lacks, Some("logic")));
        let t = "docs: Long; official SDK: string (followed the docs)";
        assert!(explains(
            t,
            Source::Sdk,
            &Need::Says(python_words(&PyType::Str)),
            None
        ));
        assert!(!explains(
            t,
            Source::Sdk,
            &Need::Says(python_words(&PyType::Int)),
            None
        ));
    }

    #[test]
    fn path_keys() {
        assert_eq!(
            path_key("/v1.0/a/{appType}/b"),
            path_key("/v1.0/a/{app_type}/b")
        );
        assert_ne!(
            path_key("/v1.0/a/{appType}/b"),
            path_key("/v1.0/a/{appType}/c")
        );
    }
}
