//! The validated intermediate representation the emitters work from.
//!
//! Everything here is checked: names are valid Rust identifiers, types resolve, paths and
//! path parameters agree. Collections are ordered so that output is deterministic.

use std::collections::BTreeMap;

/// The whole validated API.
#[derive(Debug, Clone)]
pub struct Api {
    /// Operations ordered by area, then action, then version.
    pub operations: Vec<Operation>,
    /// Models by name.
    pub models: BTreeMap<String, Model>,
}

/// HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    /// The method as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Body,
}

impl Location {
    /// Name used in the spec.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Body => "body",
        }
    }
}

/// A resolved type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    String,
    I64,
    F64,
    Bool,
    Json,
    JsonText,
    List(Box<Type>),
    Map(Box<Type>),
    Model(String),
}

impl Type {
    /// True for types that fit in a path segment or a query value.
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            Type::String | Type::I64 | Type::F64 | Type::Bool | Type::JsonText
        )
    }

    /// Spec spelling of the type.
    pub fn spec_name(&self) -> String {
        match self {
            Type::String => "string".into(),
            Type::I64 => "i64".into(),
            Type::F64 => "f64".into(),
            Type::Bool => "bool".into(),
            Type::Json => "json".into(),
            Type::JsonText => "json_text".into(),
            Type::List(t) => format!("list<{}>", t.spec_name()),
            Type::Map(t) => format!("map<{}>", t.spec_name()),
            Type::Model(m) => m.clone(),
        }
    }

    /// The models this type names (through lists and maps).
    pub fn model(&self) -> Option<&str> {
        match self {
            Type::Model(m) => Some(m),
            Type::List(t) | Type::Map(t) => t.model(),
            _ => None,
        }
    }
}

/// What a call can do to the data: the one fact that decides retries (only reads are retried
/// after a timeout or 5xx) and what an agent may call without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Risk {
    /// Cannot change data.
    Read,
    /// Changes data in a way a later call can undo or correct (create, update, upsert).
    Write,
    /// Cannot be undone: deletes and batch removals, starting, terminating or deleting a
    /// process instance, executing or redirecting an approval task, ending a purchase.
    Irreversible,
}

impl Risk {
    /// Spec spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Read => "read",
            Risk::Write => "write",
            Risk::Irreversible => "irreversible",
        }
    }
}

/// Pagination style of a list operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// `pageNumber` + `pageSize` in.
    PageNumber,
    /// `currentPage` + `pageSize` in.
    CurrentPage,
}

/// Application kinds that may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AppKind {
    Internal,
    ThirdPartyEnterprise,
    ThirdPartyPersonal,
}

impl AppKind {
    /// Spec spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::Internal => "internal",
            AppKind::ThirdPartyEnterprise => "third_party_enterprise",
            AppKind::ThirdPartyPersonal => "third_party_personal",
        }
    }
}

/// One piece of a path template, parsed once by the loader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathPart {
    /// Text sent as written.
    Literal(String),
    /// The value of the parameter at this index of [`Operation::params`].
    Param(usize),
}

/// A reference to another operation (a legacy operation's replacement).
#[derive(Debug, Clone)]
pub struct OpRef {
    pub action: String,
    pub version: String,
    /// Rust names of the referenced operation.
    pub rust: OpNames,
}

/// One validated operation.
#[derive(Debug, Clone)]
pub struct Operation {
    pub action: String,
    /// `"1.0"` or `"2.0"`.
    pub version: String,
    pub method: Method,
    /// The template as published (`/v1.0/yida/forms/instances/{id}`).
    pub path: String,
    /// The same template, parsed.
    pub path_parts: Vec<PathPart>,
    pub area: String,
    pub doc: String,
    /// The public DingTalk page of the operation, where there is one.
    pub doc_url: Option<String>,
    /// Its (Chinese) title.
    pub doc_title: Option<String>,
    pub permission: Option<String>,
    pub app_kinds: Vec<AppKind>,
    pub risk: Risk,
    pub seed: bool,
    /// The replacement of a legacy operation.
    pub legacy: Option<OpRef>,
    pub pagination: Option<Pagination>,
    pub note: Option<String>,
    /// Where the spec deliberately differs from the SDK or the pages (operation-level entries).
    pub drift: Vec<Drift>,
    pub params: Vec<Param>,
    /// Reply model; `None` for an empty reply.
    pub response: Option<String>,
    /// Spec file the operation came from, relative to the spec folder.
    pub file: String,
    /// Line of its `action:` in that file.
    pub line: usize,
    /// Rust names derived once.
    pub rust: OpNames,
}

impl Operation {
    /// `Action@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.action, self.version)
    }

    /// True when the call cannot change data (`risk: read`).
    pub fn read_only(&self) -> bool {
        self.risk == Risk::Read
    }

    /// True when a JSON body is sent.
    pub fn has_body(&self) -> bool {
        self.params.iter().any(|p| p.location == Location::Body)
    }
}

/// Rust names of an operation (one rule: [`crate::names::op_names`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpNames {
    /// `SaveFormDataV2Request`
    pub request: String,
    /// `save_form_data_v2`
    pub method: String,
}

/// A fixed-value string parameter: its documented values, as an enum.
#[derive(Debug, Clone)]
pub struct ValueEnum {
    /// Rust enum name (`ExecuteTaskOutResult`).
    pub name: String,
    /// `(wire value, Rust variant)` in spec order.
    pub variants: Vec<(String, String)>,
}

/// One validated parameter.
#[derive(Debug, Clone)]
pub struct Param {
    pub name: String,
    pub location: Location,
    pub ty: Type,
    pub required: bool,
    pub doc: String,
    pub secret: bool,
    pub note: Option<String>,
    /// Where the spec deliberately differs from a source about this parameter.
    pub drift: Vec<Drift>,
    /// Filled from the client's app context when the request leaves it unset.
    pub context: bool,
    /// A paging parameter of a paginated operation (set by the paginator when unset).
    pub paging: bool,
    /// The documented values, for a fixed-value string parameter.
    pub values: Option<ValueEnum>,
    /// snake_case Rust field/setter name (raw identifiers for keywords).
    pub rust: String,
}

impl Param {
    /// Required and taken in the constructor (context parameters are checked at send time).
    pub fn in_constructor(&self) -> bool {
        self.required && !self.context && !self.paging
    }
}

/// A validated model.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    pub doc: String,
    pub fields: Vec<Field>,
    pub file: String,
    pub line: usize,
    /// Areas whose operations reach this model (computed once, by the loader).
    pub areas: std::collections::BTreeSet<String>,
}

impl Model {
    /// The area module the model lives in: its only area, or `None` (the shared `models`).
    pub fn home(&self) -> Option<&str> {
        match self.areas.len() {
            1 => self.areas.iter().next().map(String::as_str),
            _ => None,
        }
    }
}

/// A field of a model.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: Type,
    pub doc: String,
    /// Redacted in `Debug` output.
    pub secret: bool,
    pub note: Option<String>,
    /// Where the spec deliberately differs from a source about this field.
    pub drift: Vec<Drift>,
    pub rust: String,
}

/// A source the spec is compared with by `cargo xtask drift`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DriftSource {
    /// The official Python SDK (`alibabacloud-dingtalk`).
    Sdk,
    /// DingTalk's doc pages.
    Docs,
}

impl DriftSource {
    /// Every source, in spec spelling order.
    pub const ALL: [DriftSource; 2] = [DriftSource::Sdk, DriftSource::Docs];

    /// Spec spelling (`sdk`, `docs`).
    pub fn as_str(self) -> &'static str {
        match self {
            DriftSource::Sdk => "sdk",
            DriftSource::Docs => "docs",
        }
    }

    /// The source spelled `s` in the spec.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// The fact on which the spec and a source differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DriftFact {
    /// The source has it, the spec does not.
    Added,
    /// The spec has it, the source does not.
    Removed,
    /// The HTTP method.
    Method,
    /// The path template.
    Path,
    /// Where a parameter travels.
    Location,
    /// A parameter's or reply field's type.
    Type,
    /// A parameter's required flag.
    Required,
    /// The permission scope.
    Permission,
    /// The application kinds that may call.
    AppKinds,
}

impl DriftFact {
    /// Every fact, in the order the spec README lists them.
    pub const ALL: [DriftFact; 9] = [
        DriftFact::Required,
        DriftFact::Type,
        DriftFact::Method,
        DriftFact::Path,
        DriftFact::Location,
        DriftFact::Added,
        DriftFact::Removed,
        DriftFact::Permission,
        DriftFact::AppKinds,
    ];

    /// Spec spelling (`required`, `app_kinds`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DriftFact::Added => "added",
            DriftFact::Removed => "removed",
            DriftFact::Method => "method",
            DriftFact::Path => "path",
            DriftFact::Location => "location",
            DriftFact::Type => "type",
            DriftFact::Required => "required",
            DriftFact::Permission => "permission",
            DriftFact::AppKinds => "app_kinds",
        }
    }

    /// The fact spelled `s` in the spec.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What a drift entry is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriftSubject {
    /// The operation itself: its method, path, permission or app kinds, or (for `added` and
    /// `removed`) the whole operation.
    Operation,
    /// A request parameter, by wire name (`param appType`).
    Param(String),
    /// The reply body (`reply`, the empty path) or a reply field by its path from the body
    /// (`reply result[].formUuid`: `[]` steps into a list, `{}` into a map, `.` into a model).
    Reply(String),
    /// The model field the entry is written on, in every reply that holds it.
    Field(String),
}

impl std::fmt::Display for DriftSubject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DriftSubject::Operation => f.write_str("operation"),
            DriftSubject::Param(p) => write!(f, "param {p}"),
            DriftSubject::Reply(p) if p.is_empty() => f.write_str("reply"),
            DriftSubject::Reply(p) => write!(f, "reply {p}"),
            DriftSubject::Field(n) => write!(f, "field {n}"),
        }
    }
}

/// One `drift:` entry of the spec: the spec deliberately differs from a source on one fact.
/// Read by `cargo xtask drift` only; nothing of it reaches generated code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub source: DriftSource,
    pub fact: DriftFact,
    /// Filled by the loader for entries on a parameter or a field.
    pub subject: DriftSubject,
    /// What the source says (as `cargo xtask drift` shows it; `none` when it names nothing);
    /// the entry explains nothing once the source says something else.
    pub says: Option<String>,
    /// The human reason: the entry's `why`, else the `note` it sits beside.
    pub why: String,
    /// Line of the entry in its file.
    pub line: usize,
}
