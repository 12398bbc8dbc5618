//! `cargo xtask drift`: how `spec/` differs from the official Python SDK or from DingTalk's doc
//! pages.
//!
//! Both sources are first read into one normalised shape ([`crate::source`]); [`compare`] then
//! walks the spec against it, fact by fact: method, path, permission, app kinds, each
//! parameter's wire name, location, type and required flag, and the reply's fields.
//!
//! Every difference is either *explained* by a `drift:` entry of the spec or *unexplained*
//! drift. An entry explains a difference when it names the same source, the same fact and the
//! same subject (it sits on the parameter or reply field, or an operation-level entry names it
//! with `subject:`) and, when it gives `says`, what the source says now is exactly that: so a
//! later change of the source shows up again. The `note:` texts are for readers and never
//! parsed.

use crate::source::{OpKey, Reply, Shape, SourceOp, SourceSet, SourceType};
use crate::{docpages, pysdk, source};
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use yida_codegen::ir::{Api, Drift, DriftSubject as Subject, Location, Model, Operation, Type};

pub use crate::source::Source;
/// What kind of difference: the fact a `drift:` entry names.
pub use yida_codegen::ir::DriftFact as Kind;

fn ser_kind<S: Serializer>(k: &Kind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

fn ser_source<S: Serializer>(k: &Source, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

/// One difference between the spec and the source.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    /// `Action@version` (for an operation only a page has: the page's title).
    pub operation: String,
    /// Spec file (relative to the spec folder), when the spec has the operation.
    pub file: Option<String>,
    /// Where the source says it (`yida_1_0/client.py:29`, a page file).
    pub source_at: Option<String>,
    /// `operation`, `method`, `path`, `param fileUrl`, `reply result[].formUuid`, …
    pub subject: String,
    #[serde(serialize_with = "ser_kind")]
    pub kind: Kind,
    /// What the spec says (`-` when it lacks the subject).
    pub spec: String,
    /// What the source says (`-` when it lacks the subject): what a `says:` must equal.
    pub source: String,
    /// The reason given by the `drift:` entry that explains the difference; `None` means drift.
    pub why: Option<String>,
}

/// The outcome of one comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    #[serde(serialize_with = "ser_source")]
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
    /// `drift:` entries for this source that explain nothing now: the source agrees with the
    /// spec, or says something else than the entry's `says` (the difference then shows up too).
    pub stale: Vec<Stale>,
}

/// A `drift:` entry that explains nothing.
#[derive(Debug, Clone, Serialize)]
pub struct Stale {
    /// `spec/forms/GetThing.yaml:17`.
    pub at: String,
    /// `sdk required of param appType, says required`.
    pub entry: String,
}

impl Report {
    /// Differences no entry explains.
    pub fn unexplained(&self) -> usize {
        self.differences.iter().filter(|d| d.why.is_none()).count()
    }

    /// True when every difference is explained and every entry explains one.
    pub fn clean(&self) -> bool {
        self.unexplained() == 0 && self.stale.is_empty()
    }
}

// ---------------------------------------------------------------------------------------------
// Explanations.

/// The first entry among `places` (narrowest first: the parameter's or field's own, then the
/// operation's) that explains a difference of `source` about `fact` and `subject`, the source
/// now saying `says` (`-`: nothing).
fn explain<'d>(
    source: Source,
    fact: Kind,
    subject: &Subject,
    says: &str,
    places: &[&'d [Drift]],
) -> Option<&'d Drift> {
    places.iter().copied().flatten().find(|e| {
        let about = match (&e.subject, subject) {
            // A field's own entries are passed only for that field.
            (Subject::Field(_), Subject::Reply(_)) => true,
            (a, b) => a == b,
        };
        let same_words = |s: &str| s == says || (s == "none" && says == "-");
        e.source == source && e.fact == fact && about && e.says.as_deref().is_none_or(same_words)
    })
}

/// How the report names a subject.
fn subject_label(subject: &Subject, fact: Kind) -> String {
    match (subject, fact) {
        (Subject::Operation, Kind::Added | Kind::Removed) => "operation".into(),
        (Subject::Operation, f) => f.as_str().into(),
        (s, _) => s.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Types.

/// Spec and source types agree at this level (list elements, map values, reply leaves).
fn scalar_ok(spec: &Type, src: &SourceType) -> bool {
    match (spec, &src.shape) {
        (Type::String | Type::JsonText, Shape::Str) => true,
        (Type::I64, Shape::Int | Shape::Number) => true,
        (Type::F64, Shape::Float | Shape::Number) => true,
        (Type::Bool, Shape::Bool) => true,
        (Type::Json, Shape::Any | Shape::Map(_)) => true,
        (Type::Json, Shape::List(Some(t))) => matches!(t.shape, Shape::Any | Shape::Map(_)),
        _ => false,
    }
}

/// A parameter's type agrees with the source's, the source sending it in `location`.
fn param_type_ok(spec: &Type, src: &SourceType, location: Location) -> bool {
    match (spec, &src.shape) {
        (Type::List(a), Shape::List(b)) | (Type::Map(a), Shape::Map(b)) => {
            b.as_ref().is_none_or(|b| scalar_ok(a, b))
        }
        // An object of unnamed shape (a page's `Object` or `Map`).
        (Type::Map(_) | Type::Model(_), Shape::Object(None))
        | (Type::Model(_), Shape::Map(None)) => true,
        // A request object sent as given.
        (Type::Json, Shape::Any | Shape::Map(_) | Shape::Object(_) | Shape::List(_)) => true,
        // A structure the source flattens into JSON text outside the body (the SDK's
        // `*_shrink` fields).
        (Type::JsonText, Shape::Any | Shape::Map(_) | Shape::Object(_) | Shape::List(_)) => {
            location != Location::Body
        }
        _ => scalar_ok(spec, src),
    }
}

// ---------------------------------------------------------------------------------------------
// The comparison.

/// Where the spec's operation is in the source.
enum Found {
    At(usize),
    /// The source describes every operation and lacks this one.
    Missing,
    /// The spec's `doc_url` names a page the source lacks.
    PageMissing(String),
    /// The source is not expected to describe it.
    NotCovered,
}

fn find(set: &SourceSet, op: &Operation) -> Found {
    let by_key = set.ops.iter().position(|s| match &s.key {
        OpKey::Action { action, version } => *action == op.action && *version == op.version,
        OpKey::Page { url, .. } => url.is_some() && *url == op.doc_url,
    });
    // A page the spec does not name: the same method and path.
    let by_route = || {
        set.ops.iter().position(|s| {
            matches!(s.key, OpKey::Page { .. })
                && s.method == op.method.as_str()
                && path_key(&s.path) == path_key(&op.path)
        })
    };
    match (by_key.or_else(by_route), &op.doc_url) {
        (Some(i), _) => Found::At(i),
        (None, _) if set.complete => Found::Missing,
        (None, Some(url)) => Found::PageMissing(url.clone()),
        (None, None) => Found::NotCovered,
    }
}

struct Ctx<'a> {
    api: &'a Api,
    set: &'a SourceSet,
    op: &'a Operation,
    source_at: Option<String>,
    out: Vec<Diff>,
    /// Entries for this source that had a chance to explain something, with their file.
    entries: Vec<(&'a Drift, &'a str)>,
    /// Entries that explained a difference.
    used: Vec<&'a Drift>,
}

impl<'a> Ctx<'a> {
    /// Records a difference about `subject`, explained by the first entry of `places` that
    /// matches.
    fn push(
        &mut self,
        subject: Subject,
        kind: Kind,
        spec: String,
        says: String,
        places: &[&'a [Drift]],
    ) {
        let entry = explain(self.set.source, kind, &subject, &says, places);
        self.used.extend(entry);
        let why = entry.map(|e| e.why.clone());
        self.out.push(Diff {
            operation: self.op.id(),
            file: Some(self.op.file.clone()),
            source_at: self.source_at.clone(),
            subject: subject_label(&subject, kind),
            kind,
            spec,
            source: says,
            why,
        });
    }

    /// A difference about the operation itself.
    fn push_op(&mut self, kind: Kind, spec: String, says: String) {
        let op = self.op;
        self.push(Subject::Operation, kind, spec, says, &[op.drift.as_slice()]);
    }

    /// Notes `drift` (written in `file`) as entries that had a chance to explain something.
    fn offer(&mut self, drift: &'a [Drift], file: &'a str) {
        let source = self.set.source;
        let mine = drift.iter().filter(|e| e.source == source);
        self.entries.extend(mine.map(|e| (e, file)));
    }

    /// Every fact of the operation against the source's `s`.
    fn operation(&mut self, s: &SourceOp) {
        let op = self.op;
        self.offer(&op.drift, &op.file);
        for p in &op.params {
            self.offer(&p.drift, &op.file);
        }
        if op.method.as_str() != s.method {
            self.push_op(Kind::Method, op.method.as_str().into(), s.method.clone());
        }
        if path_key(&op.path) != path_key(&s.path) {
            self.push_op(Kind::Path, op.path.clone(), s.path.clone());
        }
        if let Some(permission) = &s.permission {
            if op.permission != *permission {
                let dash = |p: &Option<String>| p.clone().unwrap_or_else(|| "-".into());
                self.push_op(Kind::Permission, dash(&op.permission), dash(permission));
            }
        }
        let spec_kinds: Vec<&str> = op.app_kinds.iter().map(|k| k.as_str()).collect();
        if !s.app_kinds.is_empty() && spec_kinds != s.app_kinds {
            self.push_op(
                Kind::AppKinds,
                spec_kinds.join(", "),
                s.app_kinds.join(", "),
            );
        }
        self.params(s);
        self.reply(s);
    }

    fn params(&mut self, s: &SourceOp) {
        let op = self.op;
        let mut matched = BTreeSet::new();
        for p in &op.params {
            let found = s.params.iter().position(|q| q.name == p.name).or_else(|| {
                s.params.iter().position(|q| {
                    q.location == Location::Path
                        && p.location == Location::Path
                        && pysdk::loose(&q.name) == pysdk::loose(&p.name)
                })
            });
            let places = [p.drift.as_slice(), op.drift.as_slice()];
            let subject = || Subject::Param(p.name.clone());
            let Some(i) = found else {
                self.push(
                    subject(),
                    Kind::Removed,
                    describe_param(p),
                    "-".into(),
                    &places,
                );
                continue;
            };
            matched.insert(i);
            let q = &s.params[i];
            if p.location != q.location {
                let (spec, says) = (p.location.as_str().into(), q.location.as_str().into());
                self.push(subject(), Kind::Location, spec, says, &places);
            }
            if !param_type_ok(&p.ty, &q.ty, q.location) {
                let (spec, says) = (p.ty.spec_name(), q.ty.text.clone());
                self.push(subject(), Kind::Type, spec, says, &places);
            }
            if p.required != q.required {
                let (spec, says) = (yes_no(p.required), yes_no(q.required));
                self.push(subject(), Kind::Required, spec, says, &places);
            }
        }
        for (i, q) in s.params.iter().enumerate() {
            if !matched.contains(&i) {
                let says = format!(
                    "{} {} {}",
                    q.location.as_str(),
                    q.ty.text,
                    yes_no(q.required)
                );
                let own = [op.drift.as_slice()];
                let subject = Subject::Param(q.name.clone());
                self.push(subject, Kind::Added, "-".into(), says, &own);
            }
        }
    }

    /// The reply body, field by field, where the source describes it.
    fn reply(&mut self, s: &SourceOp) {
        let (api, set, op) = (self.api, self.set, self.op);
        let model = op.response.as_ref().and_then(|r| api.models.get(r));
        let body = match &s.reply {
            Reply::NotDescribed => return,
            Reply::Empty => None,
            Reply::Model(b) => set.models.get(b).map(|fields| (b, fields)),
        };
        let own = [op.drift.as_slice()];
        let body_subject = || Subject::Reply(String::new());
        match (model, body) {
            (Some(m), Some((class, _))) => {
                let mut seen = BTreeSet::new();
                self.fields(m, class, "", &mut seen);
            }
            (Some(m), None) => {
                let (spec, says) = (m.name.clone(), "no body".to_string());
                self.push(body_subject(), Kind::Removed, spec, says, &own);
            }
            (None, Some((_, fields))) if !fields.is_empty() => {
                let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                let (spec, says) = ("no body".to_string(), names.join(", "));
                self.push(body_subject(), Kind::Added, spec, says, &own);
            }
            _ => {}
        }
    }

    /// The fields of a spec model against the source's model `class`; `prefix` is the path so
    /// far (`result[].`).
    fn fields(
        &mut self,
        model: &'a Model,
        class: &str,
        prefix: &str,
        seen: &mut BTreeSet<(String, String)>,
    ) {
        let (set, op) = (self.set, self.op);
        let Some(source_fields) = set.models.get(class) else {
            return;
        };
        for f in &model.fields {
            self.offer(&f.drift, &model.file);
            let at = format!("{prefix}{}", f.name);
            match source_fields.iter().find(|s| s.name == f.name) {
                None => {
                    let places = [f.drift.as_slice(), op.drift.as_slice()];
                    let spec = f.ty.spec_name();
                    self.push(Subject::Reply(at), Kind::Removed, spec, "-".into(), &places);
                }
                Some(s) => self.types(&f.ty, &s.ty, &at, &f.drift, seen),
            }
        }
        for s in source_fields {
            if !model.fields.iter().any(|f| f.name == s.name) {
                let subject = Subject::Reply(format!("{prefix}{}", s.name));
                let says = s.ty.text.clone();
                self.push(
                    subject,
                    Kind::Added,
                    "-".into(),
                    says,
                    &[op.drift.as_slice()],
                );
            }
        }
    }

    /// A reply field's spec type against the source's at `at`; models recurse.
    fn types(
        &mut self,
        spec: &Type,
        src: &SourceType,
        at: &str,
        field_drift: &'a [Drift],
        seen: &mut BTreeSet<(String, String)>,
    ) {
        let (api, op) = (self.api, self.op);
        match (spec, &src.shape) {
            (Type::List(s), Shape::List(Some(p))) => {
                self.types(s, p, &format!("{at}[]"), field_drift, seen)
            }
            (Type::Map(s), Shape::Map(Some(p))) => {
                self.types(s, p, &format!("{at}{{}}"), field_drift, seen)
            }
            (Type::Model(m), Shape::Object(Some(c))) => {
                if let Some(model) = api.models.get(m) {
                    if self.set.models.contains_key(c) && seen.insert((m.clone(), c.clone())) {
                        self.fields(model, c, &format!("{at}."), seen);
                    }
                }
            }
            _ if scalar_ok(spec, src) => {}
            _ => {
                let places = [field_drift, op.drift.as_slice()];
                let subject = Subject::Reply(at.to_string());
                self.push(
                    subject,
                    Kind::Type,
                    spec.spec_name(),
                    src.text.clone(),
                    &places,
                );
            }
        }
    }
}

/// Compares the spec with one source: the one comparison for the SDK and the pages.
pub fn compare(api: &Api, set: &SourceSet) -> Report {
    let mut diffs = Vec::new();
    let mut compared = 0;
    let mut not_covered = 0;
    let mut used = BTreeSet::new();
    let mut entries: Vec<(&Drift, &str)> = Vec::new();
    let mut explaining: Vec<&Drift> = Vec::new();
    for op in &api.operations {
        let mut cx = Ctx {
            api,
            set,
            op,
            source_at: None,
            out: Vec::new(),
            entries: Vec::new(),
            used: Vec::new(),
        };
        match find(set, op) {
            Found::At(i) => {
                used.insert(i);
                compared += 1;
                let s = &set.ops[i];
                cx.source_at = Some(s.at.clone());
                cx.operation(s);
            }
            Found::Missing => {
                let whole = op.drift.iter().filter(|e| e.subject == Subject::Operation);
                let mine = whole.filter(|e| e.source == set.source && e.fact == Kind::Removed);
                cx.entries.extend(mine.map(|e| (e, op.file.as_str())));
                let spec = format!("{} {}", op.method.as_str(), op.path);
                cx.push_op(Kind::Removed, spec, "-".into());
            }
            Found::PageMissing(url) => cx.out.push(Diff {
                operation: op.id(),
                file: Some(op.file.clone()),
                source_at: None,
                subject: "doc page".into(),
                kind: Kind::Removed,
                spec: url,
                source: "-".into(),
                why: None,
            }),
            Found::NotCovered => not_covered += 1,
        }
        diffs.extend(cx.out);
        entries.extend(cx.entries);
        explaining.extend(cx.used);
    }
    // Entries that had their chance and explained nothing (a field's entries are offered
    // once per reply that holds the field).
    let mut stale: Vec<Stale> = Vec::new();
    let mut listed: Vec<&Drift> = Vec::new();
    for (e, file) in entries {
        let seen = |list: &[&Drift]| list.iter().any(|u| std::ptr::eq(*u, e));
        if !seen(&explaining) && !seen(&listed) {
            listed.push(e);
            let at = format!("spec/{file}:{}", e.line);
            let mut entry = format!("{} {} of {}", e.source.as_str(), e.fact.as_str(), e.subject);
            if let Some(says) = &e.says {
                entry.push_str(&format!(", says {says}"));
            }
            stale.push(Stale { at, entry });
        }
    }
    for (i, s) in set.ops.iter().enumerate() {
        if !used.contains(&i) {
            diffs.push(Diff {
                operation: s.label(),
                file: None,
                source_at: Some(s.at.clone()),
                subject: "operation".into(),
                kind: Kind::Added,
                spec: "-".into(),
                source: format!("{} {}", s.method, s.path),
                why: None,
            });
        }
    }
    Report {
        source: set.source,
        source_label: set.label.clone(),
        spec_operations: api.operations.len(),
        source_operations: set.ops.len(),
        compared,
        not_covered,
        differences: diffs,
        stale,
    }
}

/// Path with placeholders reduced to their loose names, for comparison.
pub fn path_key(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..=open]);
        let after = &rest[open + 1..];
        let close = after.find('}').unwrap_or(after.len());
        out.push_str(&pysdk::loose(&after[..close]));
        rest = &after[close..];
    }
    out.push_str(rest);
    out
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
    let src = report.source.as_str();
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
            let status = if d.why.is_some() { "noted" } else { "DRIFT" };
            let mut line = format!(
                "  {:<7} {:<w_subject$} {:<w_spec$} {:<w_src$}",
                status,
                truncate(&what, 48),
                truncate(&d.spec, 32),
                truncate(&d.source, 32)
            );
            if let Some(n) = &d.why {
                line.push_str(&format!("  why: \"{}\"", truncate(n, 60)));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    if !report.stale.is_empty() {
        out.push_str(&format!(
            "\n{} explain{} nothing now (the source agrees, or says something else): remove or correct:\n",
            stale_count(report.stale.len()),
            if report.stale.len() == 1 { "s" } else { "" }
        ));
        for s in &report.stale {
            out.push_str(&format!("  {}  {}\n", s.at, s.entry));
        }
    }
    let noted = report.differences.len() - report.unexplained();
    out.push_str(&format!(
        "\n{} operations compared{}; {} difference(s): {} unexplained, {} explained by a drift entry\n",
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
    if !report.stale.is_empty() {
        // The last line says it too (CI shows the last line).
        out.truncate(out.len() - 1);
        let n = stale_count(report.stale.len());
        out.push_str(&format!("; {n} explaining nothing\n"));
    }
    out
}

fn stale_count(n: usize) -> String {
    format!("{n} drift entr{}", if n == 1 { "y" } else { "ies" })
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

const HELP: &str = "
Compares spec/ fact by fact with the official Python SDK (--sdk) and DingTalk's doc pages
saved as Markdown (--docs). A difference is explained by a `drift:` entry of the spec (see
spec/README.md, \"Drift entries\"); an entry that explains nothing is reported too.
Exit: 0 when every difference is explained and every entry explains one, 1 otherwise, 2 on
bad input.
";

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

/// The validated spec.
pub struct Spec {
    pub api: Api,
}

/// Loads and validates the spec (`drift:` entries included).
pub fn load_spec(dir: &Path) -> Result<Spec, String> {
    let api = yida_codegen::load_dir(dir).map_err(|e| e.to_string())?;
    Ok(Spec { api })
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
    if args.iter().any(|a| a == "--help" || a == "-h") {
        crate::out(&format!("{USAGE}\n{HELP}"));
        return Ok(true);
    }
    let a = parse_args(args)?;
    let spec = load_spec(&a.spec)?;
    let api = &spec.api;
    let mut reports = Vec::new();
    if let Some(sdk) = &a.sdk {
        let sdk = pysdk::load(sdk)?;
        reports.push(compare(api, &source::from_sdk(&sdk)));
    }
    if let Some(docs) = &a.docs {
        let pages = docpages::load(docs)?;
        let label = docs.display().to_string();
        reports.push(compare(api, &source::from_pages(&pages, &label)));
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
    use crate::source::{SourceField, SourceParam};

    /// Where a test puts its entry.
    #[derive(Clone, Copy)]
    enum At {
        Operation,
        /// On the parameter `q`.
        Param,
        /// On the reply field `name`.
        Field,
    }

    const FILE: &str = "forms/a.yaml";

    /// GetThing with `entry` (flow mappings) in the `drift:` list at `at`.
    fn spec_text(at: At, entry: &str) -> String {
        let list = |here: bool| {
            if here {
                format!("[{entry}]")
            } else {
                "[]".into()
            }
        };
        format!(
            r#"operations:
  - action: GetThing
    version: "1.0"
    method: GET
    path: /v1.0/yida/things/{{id}}
    area: forms
    doc: Read a thing.
    permission: Yida.Form.Read
    app_kinds: [internal]
    risk: read
    note: "Differs from its sources on purpose."
    drift: {}
    params:
      - {{ name: id, in: path, type: string, required: true, doc: "Id." }}
      - {{ name: q, in: query, type: string, required: false, doc: "Q.", note: "Q differs.", drift: {} }}
      - {{ name: gone, in: query, type: string, required: false, doc: "Gone." }}
    response: Thing
models:
  Thing:
    doc: A thing.
    fields:
      - {{ name: name, type: string, doc: "Name.", note: "Name differs.", drift: {} }}
      - {{ name: size, type: i64, doc: "Size." }}
"#,
            list(matches!(at, At::Operation)),
            list(matches!(at, At::Param)),
            list(matches!(at, At::Field)),
        )
    }

    fn load(text: &str) -> Result<Api, String> {
        yida_codegen::load_texts(&[(FILE.to_string(), text.to_string())]).map_err(|e| e.to_string())
    }

    fn ty(shape: Shape, text: &str) -> SourceType {
        SourceType {
            shape,
            text: text.into(),
        }
    }

    fn param(name: &str, location: Location, t: SourceType, required: bool) -> SourceParam {
        SourceParam {
            name: name.into(),
            location,
            ty: t,
            required,
        }
    }

    /// A source that differs from GetThing once on every fact.
    fn source() -> SourceSet {
        let op = SourceOp {
            key: OpKey::Action {
                action: "GetThing".into(),
                version: "1.0".into(),
            },
            at: "things.py:1".into(),
            method: "POST".into(),
            path: "/v1.0/yida/thing/{id}".into(),
            params: vec![
                param("id", Location::Path, ty(Shape::Str, "str"), true),
                param("q", Location::Body, ty(Shape::Int, "int"), true),
                param("x", Location::Body, ty(Shape::Str, "str"), false),
            ],
            reply: Reply::Model("Body".into()),
            permission: Some(Some("Yida.Form.Write".into())),
            app_kinds: vec!["internal".into(), "third_party_enterprise".into()],
        };
        let body = vec![
            SourceField {
                name: "name".into(),
                ty: ty(Shape::Int, "int"),
            },
            SourceField {
                name: "colour".into(),
                ty: ty(Shape::Str, "str"),
            },
        ];
        SourceSet {
            source: Source::Sdk,
            label: "test source".into(),
            complete: true,
            ops: vec![op],
            models: BTreeMap::from([("Body".to_string(), body)]),
        }
    }

    /// The differences (`subject: kind`) the entry explains.
    fn explained(at: At, entry: &str) -> Vec<String> {
        let api = load(&spec_text(at, entry)).unwrap();
        let report = compare(&api, &source());
        report
            .differences
            .iter()
            .filter(|d| d.why.is_some())
            .map(|d| format!("{}: {}", d.subject, d.kind.as_str()))
            .collect()
    }

    /// `entry` (`SRC` standing for the source, `SAYS` for what it says) explains exactly the
    /// difference `want` when it names the SDK and says `says`; not once the SDK says
    /// something else (`stale`), and not when it names the pages.
    fn check(at: At, entry: &str, says: &str, stale: Option<&str>, want: &str) {
        let e = |src: &str, s: &str| entry.replace("SRC", src).replace("SAYS", s);
        assert_eq!(explained(at, &e("sdk", says)), [want], "{}", e("sdk", says));
        if let Some(stale) = stale {
            let got = explained(at, &e("sdk", stale));
            assert!(got.is_empty(), "stale {}: {got:?}", e("sdk", stale));
        }
        let got = explained(at, &e("docs", says));
        assert!(got.is_empty(), "wrong source {}: {got:?}", e("docs", says));
    }

    #[test]
    fn the_source_differs_on_every_fact_and_nothing_explains_it_bare() {
        let api = load(&spec_text(At::Operation, "")).unwrap();
        let report = compare(&api, &source());
        let got: Vec<(&str, &str, &str)> = report
            .differences
            .iter()
            .map(|d| (d.subject.as_str(), d.kind.as_str(), d.source.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("method", "method", "POST"),
                ("path", "path", "/v1.0/yida/thing/{id}"),
                ("permission", "permission", "Yida.Form.Write"),
                ("app_kinds", "app_kinds", "internal, third_party_enterprise"),
                ("param q", "location", "body"),
                ("param q", "type", "int"),
                ("param q", "required", "required"),
                ("param gone", "removed", "-"),
                ("param x", "added", "body str optional"),
                ("reply name", "type", "int"),
                ("reply size", "removed", "-"),
                ("reply colour", "added", "str"),
            ]
        );
        assert_eq!(report.unexplained(), 12);
    }

    #[test]
    fn required() {
        let entry = "{ source: SRC, fact: required, says: SAYS }";
        check(
            At::Param,
            entry,
            "required",
            Some("optional"),
            "param q: required",
        );
        let entry = "{ source: SRC, fact: required, subject: param q, says: SAYS }";
        check(
            At::Operation,
            entry,
            "required",
            Some("optional"),
            "param q: required",
        );
    }

    #[test]
    fn type_of_a_parameter_and_of_a_reply_field() {
        let entry = "{ source: SRC, fact: type, says: SAYS }";
        check(At::Param, entry, "int", Some("str"), "param q: type");
        check(At::Field, entry, "int", Some("float"), "reply name: type");
        let entry = "{ source: SRC, fact: type, subject: reply name, says: SAYS }";
        check(At::Operation, entry, "int", Some("str"), "reply name: type");
    }

    #[test]
    fn method() {
        let entry = "{ source: SRC, fact: method, says: SAYS }";
        check(At::Operation, entry, "POST", Some("PUT"), "method: method");
    }

    #[test]
    fn path() {
        let entry = "{ source: SRC, fact: path, says: \"SAYS\" }";
        let stale = Some("/v1.0/yida/thingies/{id}");
        check(
            At::Operation,
            entry,
            "/v1.0/yida/thing/{id}",
            stale,
            "path: path",
        );
    }

    #[test]
    fn location() {
        let entry = "{ source: SRC, fact: location, says: SAYS }";
        check(At::Param, entry, "body", Some("query"), "param q: location");
    }

    #[test]
    fn added() {
        let entry = "{ source: SRC, fact: added, subject: param x, says: SAYS }";
        let says = "\"body str optional\"";
        let stale = Some("\"body str required\"");
        check(At::Operation, entry, says, stale, "param x: added");
        // `says` may be left out for `added`.
        let entry = "{ source: SRC, fact: added, subject: param x }";
        check(At::Operation, entry, "", None, "param x: added");
        // A reply field only the source has.
        let entry = "{ source: SRC, fact: added, subject: reply colour, says: SAYS }";
        check(
            At::Operation,
            entry,
            "str",
            Some("int"),
            "reply colour: added",
        );
    }

    #[test]
    fn removed() {
        let entry = "{ source: SRC, fact: removed, subject: param gone }";
        check(At::Operation, entry, "", None, "param gone: removed");
        let entry = "{ source: SRC, fact: removed, subject: reply size }";
        check(At::Operation, entry, "", None, "reply size: removed");
        // The source lacks it: there is nothing it could say.
        let entry = "{ source: sdk, fact: removed, subject: param gone, says: x }";
        let err = load(&spec_text(At::Operation, entry)).unwrap_err();
        assert!(err.contains("a `removed` entry has no `says:`"), "{err}");
    }

    #[test]
    fn permission() {
        let entry = "{ source: SRC, fact: permission, says: SAYS }";
        let want = "permission: permission";
        check(At::Operation, entry, "Yida.Form.Write", Some("none"), want);
    }

    #[test]
    fn app_kinds() {
        let entry = "{ source: SRC, fact: app_kinds, says: \"SAYS\" }";
        let says = "internal, third_party_enterprise";
        check(
            At::Operation,
            entry,
            says,
            Some("internal"),
            "app_kinds: app_kinds",
        );
    }

    #[test]
    fn an_entry_that_explains_nothing_is_reported_and_fails_the_run() {
        // The source now agrees with the spec on the method.
        let entry = "{ source: sdk, fact: method, says: POST }";
        let api = load(&spec_text(At::Operation, entry)).unwrap();
        let mut src = source();
        src.ops[0].method = "GET".into();
        let report = compare(&api, &src);
        let line = line_of(&spec_text(At::Operation, entry), "drift: [{");
        let stale: Vec<(&str, &str)> = report
            .stale
            .iter()
            .map(|s| (s.at.as_str(), s.entry.as_str()))
            .collect();
        let at = format!("spec/{FILE}:{line}");
        assert_eq!(stale, [(at.as_str(), "sdk method of operation, says POST")]);
        assert!(!report.clean());
        let table = render_table(&report);
        assert!(
            table.contains("1 drift entry explains nothing now"),
            "{table}"
        );
        assert!(
            table
                .trim_end()
                .ends_with("; 1 drift entry explaining nothing"),
            "{table}"
        );
        // Two entries on one line: the one that explains nothing is listed.
        let two =
            "{ source: sdk, fact: location, says: body }, { source: sdk, fact: type, says: str }";
        let api = load(&spec_text(At::Param, two)).unwrap();
        let stale: Vec<String> = compare(&api, &source())
            .stale
            .into_iter()
            .map(|s| s.entry)
            .collect();
        assert_eq!(stale, ["sdk type of param q, says str"]);
        // An entry for the other source is not this run's business.
        let entry = "{ source: docs, fact: method, says: POST }";
        let api = load(&spec_text(At::Operation, entry)).unwrap();
        assert!(compare(&api, &src).stale.is_empty());
        // A field's entry is offered wherever the reply is compared.
        let entry = "{ source: sdk, fact: removed }";
        let api = load(&spec_text(At::Field, entry)).unwrap();
        let stale = compare(&api, &source()).stale;
        assert_eq!(stale.len(), 1, "{stale:?}");
        assert_eq!(stale[0].entry, "sdk removed of field name");
    }

    #[test]
    fn a_source_naming_no_permission_is_said_as_none() {
        let entry = "{ source: sdk, fact: permission, says: none }";
        let api = load(&spec_text(At::Operation, entry)).unwrap();
        let mut src = source();
        src.ops[0].permission = Some(None);
        let report = compare(&api, &src);
        let d = report
            .differences
            .iter()
            .find(|d| d.kind == Kind::Permission)
            .map(|d| (d.source.as_str(), d.why.as_deref()));
        let why = "Differs from its sources on purpose.";
        assert_eq!(d, Some(("-", Some(why))));
    }

    #[test]
    fn why_defaults_to_the_note_beside_the_entry() {
        let whys = |entry: &str| {
            let api = load(&spec_text(At::Param, entry)).unwrap();
            let report = compare(&api, &source());
            let why: Vec<String> = report
                .differences
                .iter()
                .filter_map(|d| d.why.clone())
                .collect();
            why
        };
        assert_eq!(
            whys("{ source: sdk, fact: location, says: body }"),
            ["Q differs."]
        );
        assert_eq!(
            whys("{ source: sdk, fact: location, says: body, why: \"The body works.\" }"),
            ["The body works."]
        );
    }

    /// The number of the first line of `text` holding `needle`.
    fn line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).unwrap() + 1
    }

    #[test]
    fn an_unknown_fact_or_source_is_a_load_error_naming_the_place() {
        let text = spec_text(At::Param, "{ source: sdk, fact: requird, says: required }");
        let err = load(&text).unwrap_err();
        let line = line_of(&text, "name: q,");
        let want = format!(
            "spec/{FILE}:{line}: GetThing@1.0: parameter `q`: drift: unknown fact `requird` (required, type,"
        );
        assert!(err.contains(&want), "{err}");

        let text = spec_text(At::Operation, "{ source: SDK, fact: method, says: POST }");
        let err = load(&text).unwrap_err();
        let line = line_of(&text, "drift: [{ source: SDK");
        let want =
            format!("spec/{FILE}:{line}: GetThing@1.0: drift: unknown source `SDK` (sdk or docs)");
        assert!(err.contains(&want), "{err}");

        let text = spec_text(
            At::Field,
            "{ source: docs, fact: required, says: required }",
        );
        let err = load(&text).unwrap_err();
        let line = line_of(&text, "name: name,");
        let want = format!(
            "spec/{FILE}:{line}: model `Thing`, field `name`: drift: fact `required` does not apply to a field (type or removed)"
        );
        assert!(err.contains(&want), "{err}");
    }

    #[test]
    fn entries_that_cannot_match_anything_are_load_errors() {
        for (entry, message) in [
            (
                "{ source: sdk, fact: required, says: required }",
                "fact `required` on an operation needs `subject: param <name>`",
            ),
            (
                "{ source: sdk, fact: required, subject: param nope, says: required }",
                "the operation has no parameter `nope`",
            ),
            (
                "{ source: sdk, fact: added, subject: param q }",
                "`param q` is in the spec; `added` is for a parameter only the source has",
            ),
            (
                "{ source: sdk, fact: type, subject: reply name.deeper, says: int }",
                "`deeper` is not inside a model",
            ),
            (
                "{ source: sdk, fact: type, subject: reply nope, says: int }",
                "model `Thing` has no field `nope`",
            ),
            (
                "{ source: sdk, fact: added, subject: reply name }",
                "model `Thing` has the field `name`; `added` is for a field only the source has",
            ),
            (
                "{ source: sdk, fact: method }",
                "fact `method` needs `says:`",
            ),
            (
                "{ source: sdk, fact: method, says: get }",
                "`says: get` for `method` must be one of GET",
            ),
            (
                "{ source: sdk, fact: required, subject: param q, says: yes }",
                "`says: yes` for `required` must be one of required, optional",
            ),
            (
                "{ source: sdk, fact: path, subject: param q, says: /x }",
                "fact `path` does not apply to a parameter",
            ),
            (
                "{ source: sdk, fact: method, says: POST, colour: red }",
                "unknown field `colour`",
            ),
        ] {
            let err = load(&spec_text(At::Operation, entry)).unwrap_err();
            assert!(err.contains(message), "{entry}: {err}");
        }
        // On a parameter the entry is about that parameter.
        let entry = "{ source: sdk, fact: required, subject: param q, says: required }";
        let err = load(&spec_text(At::Param, entry)).unwrap_err();
        let want = "`subject: param q` on a parameter: the entry is about the parameter it sits on";
        assert!(err.contains(want), "{err}");
        // Without a `note:` beside it, an entry says why itself.
        let text = spec_text(At::Operation, "{ source: sdk, fact: method, says: POST }")
            .replace("    note: \"Differs from its sources on purpose.\"\n", "");
        let err = load(&text).unwrap_err();
        assert!(
            err.contains("say why: give `why:` or write a `note:`"),
            "{err}"
        );
        let two =
            "{ source: sdk, fact: method, says: POST }, { source: sdk, fact: method, says: PUT }";
        let err = load(&spec_text(At::Operation, two)).unwrap_err();
        assert!(
            err.contains("two entries for sdk method of operation"),
            "{err}"
        );
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
