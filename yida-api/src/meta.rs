//! The typed run-time model of every operation (generated from the spec: nothing here is
//! written by hand per operation) and the traits the generated requests implement.
//!
//! The generator parses each fact once — the path template into [`PathPart`]s, each
//! parameter's type into a [`ParamType`] tree — and emits one [`OperationMeta`] per
//! operation. The client, the CLI, the emulator and the MCP server all read this model; none
//! of them parses a template or a type name again.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::fmt;

use crate::OpId;

impl OpId {
    /// DingTalk's action name.
    pub fn action(self) -> &'static str {
        crate::generated::OP_NAMES[self as usize].0
    }

    /// API version, `"1.0"` or `"2.0"`.
    pub fn version(self) -> &'static str {
        crate::generated::OP_NAMES[self as usize].1
    }

    /// The operation's descriptor, `None` when its area is not compiled into this build.
    pub fn meta(self) -> Option<&'static OperationMeta> {
        crate::generated::OP_METAS[self as usize]
    }

    /// The operation `action`@`version` of the spec (compiled in or not).
    pub fn find(action: &str, version: &str) -> Option<OpId> {
        crate::generated::OP_NAMES
            .iter()
            .position(|(a, v)| *a == action && *v == version)
            .map(|i| crate::generated::OP_IDS[i])
    }

    /// Every operation of the spec, in catalogue order (area, action, version).
    pub fn all() -> &'static [OpId] {
        crate::generated::OP_IDS
    }
}

impl fmt::Display for OpId {
    /// `Action@version`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.action(), self.version())
    }
}

impl std::str::FromStr for OpId {
    type Err = String;

    /// Parses `Action@version`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (a, v) = s
            .split_once('@')
            .ok_or_else(|| format!("`{s}` is not `Action@version`"))?;
        OpId::find(a, v).ok_or_else(|| format!("no operation {s} in the spec"))
    }
}

/// The descriptor of `action`@`version`, when that operation is compiled into this build.
pub fn operation(action: &str, version: &str) -> Option<&'static OperationMeta> {
    OpId::find(action, version).and_then(OpId::meta)
}

/// The current version of `action` compiled into this build: the one no other version
/// replaces (2.0 where a 2.0 twin replaces 1.0), else its newest. What `yida call`, `yida
/// schema` and the MCP tools use when no version is given.
///
/// ```
/// assert_eq!(yida_api::current_operation("SaveFormData").unwrap().version, "2.0");
/// assert!(yida_api::current_operation("NoSuchAction").is_none());
/// ```
pub fn current_operation(action: &str) -> Option<&'static OperationMeta> {
    let same = || {
        crate::operations()
            .into_iter()
            .filter(move |o| o.action == action)
    };
    same()
        .find(|o| o.legacy.is_none())
        .or_else(|| same().max_by(|a, b| a.version.cmp(b.version)))
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamLocation {
    /// A segment of the path, percent-encoded.
    Path,
    /// The query string.
    Query,
    /// The JSON body.
    Body,
}

impl ParamLocation {
    /// The spec's name for it (`path`, `query`, `body`).
    pub fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Body => "body",
        }
    }
}

/// What a call can do to the data (the spec's `risk`, one per operation).
///
/// Decides retries (only [`Risk::Read`] operations are retried after a timeout or 5xx) and
/// what an agent may call unasked (the MCP server's write and irreversible scopes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// The spec's spelling: `read`, `write`, `irreversible`.
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Read => "read",
            Risk::Write => "write",
            Risk::Irreversible => "irreversible",
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a list operation pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageStyle {
    /// `pageNumber` + `pageSize`.
    PageNumber,
    /// `currentPage` + `pageSize`.
    CurrentPage,
}

impl PageStyle {
    /// Wire name of the page-number parameter (`pageNumber` or `currentPage`).
    pub fn page_param(self) -> &'static str {
        match self {
            PageStyle::PageNumber => "pageNumber",
            PageStyle::CurrentPage => "currentPage",
        }
    }

    /// Wire name of the page-size parameter.
    pub const PAGE_SIZE: &'static str = "pageSize";
}

/// HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
}

impl HttpMethod {
    /// The method as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
        }
    }

    /// The method of an HTTP request line (`None` for one no operation uses).
    pub fn from_wire(s: &str) -> Option<HttpMethod> {
        Some(match s {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "DELETE" => HttpMethod::Delete,
            _ => return None,
        })
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of a path template, parsed once by the generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathPart {
    /// Text sent as written (may span several segments, e.g. `/v1.0/yida/forms/`).
    Literal(&'static str),
    /// The value of the parameter at this index of [`OperationMeta::params`].
    Param(usize),
}

/// The type of a parameter (or of a model field), as a tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamType {
    /// A string.
    String,
    /// An integer (i64).
    I64,
    /// A number.
    F64,
    /// `true` or `false`.
    Bool,
    /// Any JSON value.
    Json,
    /// A string holding JSON text (a dynamic call also takes the JSON value itself).
    JsonText,
    /// A JSON array of the inner type.
    List(&'static ParamType),
    /// A JSON object with values of the inner type.
    Map(&'static ParamType),
    /// A JSON object of a spec model.
    Model(&'static ModelMeta),
}

/// A model of the spec, where a parameter's type names one. `Debug` and `==` go by name (a
/// model may contain itself through a list).
pub struct ModelMeta {
    /// Model name.
    pub name: &'static str,
    /// One-line description.
    pub doc: &'static str,
    /// Its fields (all optional; unknown fields are kept).
    pub fields: &'static [FieldMeta],
}

impl ModelMeta {
    /// Why `v` does not fit this model as a reply holds it (an object; each known field by
    /// [`ParamType::reply_problem`]; unknown fields kept), or `None`.
    pub fn reply_problem(&self, v: &Value) -> Option<String> {
        self.problem(v, Strictness::ReplyField)
    }

    /// Why `v` does not fit this model: an object whose known fields fit their types.
    fn problem(&self, v: &Value, mode: Strictness) -> Option<String> {
        let Some(map) = v.as_object() else {
            return Some(format!(
                "must be a JSON object ({}), not {}",
                self.name,
                json_kind(v)
            ));
        };
        self.fields.iter().find_map(|f| {
            map.get(f.name)
                .and_then(|item| f.ty.problem(item, mode.field()))
                .map(|p| format!("field `{}` {p}", f.name))
        })
    }
}

impl fmt::Debug for ModelMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ModelMeta({})", self.name)
    }
}

impl PartialEq for ModelMeta {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// A field of a [`ModelMeta`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FieldMeta {
    /// Wire name.
    pub name: &'static str,
    /// Its type.
    pub ty: ParamType,
    /// One-line description.
    pub doc: &'static str,
    /// Never printed.
    pub secret: bool,
}

/// How strictly a JSON value is held to its type.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// Input of a dynamic call: a `json_text` value may be the JSON value itself.
    Input,
    /// What travels in a body: a `json_text` value is a string holding JSON.
    Wire,
    /// A field of a reply, as typed decoding reads it: `null` or lenient scalars (`lenient.rs`).
    ReplyField,
    /// An item of a reply's list or map, read strictly: `null` only for free JSON.
    ReplyItem,
}

impl Strictness {
    /// How the items of a list and the values of a map are held.
    fn item(self) -> Self {
        match self {
            Strictness::ReplyField => Strictness::ReplyItem,
            mode => mode,
        }
    }

    /// How the fields of a model are held.
    fn field(self) -> Self {
        match self {
            Strictness::ReplyItem => Strictness::ReplyField,
            mode => mode,
        }
    }
}

impl ParamType {
    /// True for types that fit in a path segment or a query value.
    pub fn is_scalar(&self) -> bool {
        matches!(
            self,
            ParamType::String
                | ParamType::I64
                | ParamType::F64
                | ParamType::Bool
                | ParamType::JsonText
        )
    }

    /// Why `v` does not fit this type as input of a dynamic call ([`Client::call`](crate::Client::call)),
    /// or `None`. `null` fits any type (an unset optional parameter); a `json_text` parameter
    /// takes either a string holding JSON text or the JSON value itself.
    pub fn input_problem(&self, v: &Value) -> Option<String> {
        self.problem(v, Strictness::Input)
    }

    /// Why `v` does not fit this type as sent in a JSON body, or `None`: a `json_text` value
    /// must be a string holding JSON text. `null` fits any type.
    pub fn wire_problem(&self, v: &Value) -> Option<String> {
        self.problem(v, Strictness::Wire)
    }

    /// Why `v` does not fit this type as a field of a reply, or `None`: what the operation's
    /// typed reply accepts there. A field may be `null` or absent; its scalars are read
    /// leniently (`"12"` for an integer, `5` for a string, `"true"` or `1` for a boolean, see
    /// `lenient.rs`); the items of a list and the values of a map are read strictly; a model
    /// is an object whose unknown fields are kept.
    pub fn reply_problem(&self, v: &Value) -> Option<String> {
        self.problem(v, Strictness::ReplyField)
    }

    fn problem(&self, v: &Value, mode: Strictness) -> Option<String> {
        if v.is_null() && (mode != Strictness::ReplyItem || *self == ParamType::Json) {
            return None;
        }
        if mode == Strictness::ReplyField {
            if let Some(verdict) = self.lenient_problem(v) {
                return verdict;
            }
        }
        let kind = json_kind(v);
        let want = |ok: bool, what: &str| (!ok).then(|| format!("must be {what}, not {kind}"));
        match self {
            ParamType::String => want(v.is_string(), "a string"),
            ParamType::I64 => want(v.is_i64(), "an integer (i64)"),
            ParamType::F64 => want(v.is_number(), "a number"),
            ParamType::Bool => want(v.is_boolean(), "a boolean (true or false)"),
            ParamType::Json => None,
            ParamType::JsonText => match (v.as_str(), mode) {
                (Some(_), Strictness::ReplyItem) => None,
                (Some(text), _) => serde_json::from_str::<serde::de::IgnoredAny>(text)
                    .err()
                    .map(|e| format!("is not valid JSON text: {e}")),
                (None, Strictness::Input) => None,
                (None, Strictness::ReplyItem) => want(false, "a string"),
                (None, _) => want(false, "a string holding JSON text"),
            },
            ParamType::List(inner) => match v.as_array() {
                None => want(false, "a JSON array"),
                Some(items) => items.iter().enumerate().find_map(|(i, item)| {
                    inner
                        .problem(item, mode.item())
                        .map(|p| format!("item [{i}] {p}"))
                }),
            },
            ParamType::Map(inner) => match v.as_object() {
                None => want(false, "a JSON object"),
                Some(m) => m.iter().find_map(|(k, item)| {
                    inner
                        .problem(item, mode.item())
                        .map(|p| format!("entry {k:?} {p}"))
                }),
            },
            ParamType::Model(model) => model.problem(v, mode),
        }
    }

    /// A reply field's scalar read leniently: `Some(verdict)` for the scalar types, `None`
    /// for the others (held like any other value).
    fn lenient_problem(&self, v: &Value) -> Option<Option<String>> {
        let kind = json_kind(v);
        let bad = |what: &str| Some(format!("must be {what}, not {kind}"));
        Some(match (self, v) {
            (ParamType::String | ParamType::JsonText, Value::String(_))
            | (ParamType::String | ParamType::JsonText, Value::Number(_) | Value::Bool(_)) => None,
            (ParamType::String | ParamType::JsonText, _) => bad("a string, number or boolean"),
            (ParamType::I64, Value::Number(n)) => {
                let whole = n.as_i64().is_some()
                    || n.as_f64().is_some_and(|f| {
                        n.as_u64().is_none() && f.fract() == 0.0 && f.abs() < 9.0e15
                    });
                (!whole).then(|| format!("must be an integer (i64), not {n}"))
            }
            (ParamType::I64, Value::String(t)) => {
                let t = t.trim();
                (!(t.is_empty() || t == "null" || t.parse::<i64>().is_ok()))
                    .then(|| format!("must be an integer (i64), not {t:?}"))
            }
            (ParamType::I64, _) => bad("an integer (i64)"),
            (ParamType::F64, Value::Number(_)) => None,
            (ParamType::F64, Value::String(t)) => {
                let t = t.trim();
                let ok = t.is_empty() || t == "null" || t.parse::<f64>().is_ok_and(f64::is_finite);
                (!ok).then(|| format!("must be a finite number, not {t:?}"))
            }
            (ParamType::F64, _) => bad("a number"),
            (ParamType::Bool, Value::Bool(_)) => None,
            (ParamType::Bool, Value::Number(n)) => n
                .as_f64()
                .filter(|_| n.is_f64())
                .map(|_| format!("must be a boolean, not {n}")),
            (ParamType::Bool, Value::String(t)) => match t.trim() {
                "true" | "TRUE" | "True" | "1" | "false" | "FALSE" | "False" | "0" | ""
                | "null" => None,
                _ => Some(format!("must be a boolean, not {t:?}")),
            },
            (ParamType::Bool, _) => bad("a boolean"),
            _ => return None,
        })
    }

    /// The JSON value of a text given for this type (a query-string value as received): an
    /// integer, a boolean, checked JSON text, a comma-separated list; anything else as a
    /// string.
    pub fn parse_text(&self, raw: &str) -> Result<Value, String> {
        match self {
            ParamType::I64 => raw
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("must be an integer (i64), not {raw:?}")),
            ParamType::F64 => raw
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("must be a number, not {raw:?}")),
            ParamType::Bool => match raw {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(format!("must be true or false, not {raw:?}")),
            },
            ParamType::JsonText => serde_json::from_str::<serde::de::IgnoredAny>(raw)
                .map(|_| Value::String(raw.to_string()))
                .map_err(|_| "must be JSON text".to_string()),
            ParamType::List(inner) => raw
                .split(',')
                .map(|s| inner.parse_text(s))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            _ => Ok(Value::String(raw.to_string())),
        }
    }
}

/// What kind of JSON value `v` is, for messages (`a string`, `an integer`, …).
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Number(n) if n.is_i64() => "an integer",
        Value::Number(n) if n.is_u64() => "an integer out of range",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
        Value::Null => "null",
    }
}

impl fmt::Display for ParamType {
    /// The spec's spelling: `string`, `i64`, `json_text`, `list<string>`, a model's name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamType::String => f.write_str("string"),
            ParamType::I64 => f.write_str("i64"),
            ParamType::F64 => f.write_str("f64"),
            ParamType::Bool => f.write_str("bool"),
            ParamType::Json => f.write_str("json"),
            ParamType::JsonText => f.write_str("json_text"),
            ParamType::List(t) => write!(f, "list<{t}>"),
            ParamType::Map(t) => write!(f, "map<{t}>"),
            ParamType::Model(m) => f.write_str(m.name),
        }
    }
}

/// One parameter of an operation, as the spec describes it.
#[derive(Debug, Clone, Copy)]
pub struct ParamMeta {
    /// Wire name.
    pub name: &'static str,
    /// Where it goes.
    pub location: ParamLocation,
    /// Its type.
    pub ty: ParamType,
    /// Required by the API.
    pub required: bool,
    /// Redacted in `Debug` output.
    pub secret: bool,
    /// Filled from the client's [`AppContext`](crate::AppContext) when unset.
    pub context: bool,
    /// The documented values of a fixed-value parameter (empty: any value). Other values are
    /// still sent (DingTalk may add some).
    pub values: &'static [&'static str],
    /// One-line description.
    pub doc: &'static str,
}

/// Everything the runtime, the CLI, the emulator and the MCP server need to know about one
/// operation (generated from the spec; nothing here is written by hand).
#[derive(Debug, Clone, Copy)]
pub struct OperationMeta {
    /// The operation's id (`Copy`; `Display` is `Action@version`).
    pub id: OpId,
    /// DingTalk action name.
    pub action: &'static str,
    /// API version, `"1.0"` or `"2.0"`.
    pub version: &'static str,
    /// HTTP method.
    pub method: HttpMethod,
    /// Path template as published (for display; [`path_parts`](Self::path_parts) is the
    /// parsed form).
    pub path: &'static str,
    /// The path template, parsed.
    pub path_parts: &'static [PathPart],
    /// Area (and cargo feature).
    pub area: &'static str,
    /// One-line description.
    pub doc: &'static str,
    /// DingTalk's public page for the operation, where there is one.
    pub doc_url: Option<&'static str>,
    /// That page's (Chinese) title, where there is one.
    pub doc_title: Option<&'static str>,
    /// Permission scope needed, where documented.
    pub permission: Option<&'static str>,
    /// What the call can do to the data (only reads are retried after a 5xx or timeout).
    pub risk: Risk,
    /// One of the seed page's 28 operations.
    pub seed: bool,
    /// The replacement of a legacy operation.
    pub legacy: Option<OpId>,
    /// Pagination style, for list operations.
    pub pagination: Option<PageStyle>,
    /// Whether a JSON body is sent.
    pub has_body: bool,
    /// Whether the reply has a body to decode (`false`: the reply type is `()`).
    pub has_reply: bool,
    /// The reply's model (its fields, and the models they hold), for a reply with a body.
    pub reply: Option<&'static ModelMeta>,
    /// Parameters in spec order.
    pub params: &'static [ParamMeta],
    /// The typed encoding step of a dynamic call ([`Client::call`](crate::Client::call)); its
    /// reply is checked against [`reply`](Self::reply).
    pub(crate) dynamic: crate::client::Dynamic,
}

impl OperationMeta {
    /// The call cannot change data (`risk` is [`Risk::Read`]), so a 5xx or timeout may be
    /// retried.
    pub fn read_only(&self) -> bool {
        self.risk == Risk::Read
    }

    /// The parameter of this wire name.
    pub fn param(&self, name: &str) -> Option<&'static ParamMeta> {
        self.params.iter().find(|p| p.name == name)
    }

    /// Matches a request path (percent-encoded, without query) against the template; returns
    /// each path parameter with its decoded value, or `None` when the path is not this
    /// operation's. The inverse of what a request writes.
    pub fn match_path(&self, path: &str) -> Option<Vec<(&'static ParamMeta, String)>> {
        let mut rest = path;
        let mut out = Vec::new();
        let mut parts = self.path_parts.iter().peekable();
        while let Some(part) = parts.next() {
            match part {
                PathPart::Literal(lit) => rest = rest.strip_prefix(lit)?,
                PathPart::Param(i) => {
                    // The value runs to the end of its segment, less the literal text that
                    // follows it in the same segment (`{processId}definitions/designs`).
                    let segment = &rest[..rest.find('/').unwrap_or(rest.len())];
                    let tail = match parts.peek() {
                        Some(PathPart::Literal(next)) => {
                            &next[..next.find('/').unwrap_or(next.len())]
                        }
                        _ => "",
                    };
                    let raw = segment.strip_suffix(tail)?;
                    if raw.is_empty() {
                        return None;
                    }
                    // A path segment, not a query string: plain percent-decoding, `+` stays a
                    // plus (queries go through `yida_auth::wire::query_pairs`).
                    let value = percent_encoding::percent_decode_str(raw)
                        .decode_utf8()
                        .ok()?
                        .into_owned();
                    out.push((self.params.get(*i)?, value));
                    rest = &rest[raw.len()..];
                }
            }
        }
        rest.is_empty().then_some(out)
    }

    /// Checks the input of a dynamic call against the parameters: one JSON object, every name
    /// a parameter, every value of its type, every required parameter given (context
    /// parameters excepted: the client fills them). Nothing is sent when this fails.
    pub fn check_input(&self, input: &Value) -> Result<(), crate::Error> {
        let Some(map) = input.as_object() else {
            return Err(crate::Error::InvalidInput {
                operation: self.id,
                message: "parameters must be one JSON object by wire name".into(),
            });
        };
        for (name, value) in map {
            let Some(p) = self.param(name) else {
                let near = did_you_mean(name, self.params.iter().map(|p| p.name));
                let hint = match near.first() {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!(
                        "its parameters are {}",
                        self.params
                            .iter()
                            .map(|p| format!("`{}`", p.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                return Err(crate::Error::InvalidInput {
                    operation: self.id,
                    message: format!("unknown parameter `{name}`: {hint}"),
                });
            };
            if let Some(problem) = p.ty.input_problem(value) {
                return Err(crate::Error::InvalidParameter {
                    operation: self.id,
                    name: p.name,
                    problem,
                });
            }
        }
        for p in self.params.iter().filter(|p| p.required && !p.context) {
            if map.get(p.name).is_none_or(Value::is_null) {
                return Err(crate::Error::InvalidParameter {
                    operation: self.id,
                    name: p.name,
                    problem: "is required but was not given".into(),
                });
            }
        }
        Ok(())
    }
}

/// Up to three of `candidates` within a case-insensitive edit distance of 2 of `name`,
/// closest first: the names to offer after a typo (an unknown parameter, action or setting).
///
/// ```
/// let near = yida_api::did_you_mean("formUid", ["formUuid", "appType", "formUuids"]);
/// assert_eq!(near, ["formUuid", "formUuids"]);
/// assert!(yida_api::did_you_mean("x", ["formUuid"]).is_empty());
/// ```
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let lower: Vec<char> = name.to_lowercase().chars().collect();
    let mut near: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| {
            (
                edit_distance(&lower, &c.to_lowercase().chars().collect::<Vec<_>>()),
                c,
            )
        })
        .filter(|(d, _)| *d <= 2)
        .collect();
    near.sort_by_key(|(d, _)| *d);
    let mut out: Vec<&str> = Vec::new();
    for (_, c) in near {
        if !out.contains(&c) && out.len() < 3 {
            out.push(c);
        }
    }
    out
}

/// Levenshtein distance (short names only: wire names are a few dozen characters).
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}
/// A parameter problem found before sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError {
    /// Wire name of the parameter.
    pub name: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl ParamError {
    /// A required parameter is missing.
    pub fn missing(name: &'static str) -> Self {
        ParamError {
            name,
            problem: "is required but was not set (nor found in the client's app context)".into(),
        }
    }

    /// A parameter is empty where a value is needed.
    pub fn empty(name: &'static str) -> Self {
        ParamError {
            name,
            problem: "must not be empty".into(),
        }
    }
}

/// A request of one operation. Implemented by every generated `…Request` type; the client
/// sends any of them through one generic path.
pub trait Operation:
    Serialize + serde::de::DeserializeOwned + Send + Sync + Sized + 'static
{
    /// The reply type (`()` for an empty reply).
    type Response: DeserializeOwned + Serialize + Default + Send + 'static;
    /// The operation's descriptor.
    const META: OperationMeta;
    /// Appends the percent-encoded path.
    fn write_path(&self, out: &mut String);
    /// Appends the query parameters (none by default).
    fn write_query(&self, _q: &mut crate::__private::QueryWriter) {}
    /// Fills unset context parameters (`appType`, `systemToken`, `userId`, `language`; none
    /// by default).
    fn fill_context(&mut self, _ctx: &crate::AppContext) {}
    /// Checks required parameters, path segments and JSON-text values (nothing to check by
    /// default).
    fn check(&self) -> Result<(), ParamError> {
        Ok(())
    }
    /// Builds the request from a dynamic call's input ([`Client::call`](crate::Client::call)),
    /// one parameter at a time.
    #[doc(hidden)]
    fn from_input(
        input: &mut crate::__private::Input,
    ) -> Result<Self, crate::__private::InputError>;
}

/// A list operation whose pages can be walked (see [`Client::paginate`](crate::Client::paginate)).
pub trait Paginated: Operation + Clone {
    /// One item of a page.
    type Item: Serialize + Send + 'static;
    /// Sets the page to fetch (from 1).
    fn set_page(&mut self, page: i64);
    /// The page set, if any.
    fn page(&self) -> Option<i64>;
    /// Sets the page size.
    fn set_page_size(&mut self, size: i64);
    /// The page size set, if any.
    fn page_size(&self) -> Option<i64>;
    /// Splits a reply into its items and the total count.
    fn split_page(reply: Self::Response) -> (Vec<Self::Item>, Option<i64>);
}
