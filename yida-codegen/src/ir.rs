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

/// One validated operation.
#[derive(Debug, Clone)]
pub struct Operation {
    pub action: String,
    /// `"1.0"` or `"2.0"`.
    pub version: String,
    pub method: Method,
    pub path: String,
    pub area: String,
    pub doc: String,
    pub permission: Option<String>,
    pub app_kinds: Vec<AppKind>,
    pub read_only: bool,
    pub seed: bool,
    /// `(action, version)` of the replacement.
    pub legacy: Option<(String, String)>,
    pub pagination: Option<Pagination>,
    pub note: Option<String>,
    pub params: Vec<Param>,
    pub response: Option<String>,
    /// Spec file the operation came from, relative to the spec folder.
    pub file: String,
    /// Rust names derived once.
    pub rust: OpNames,
}

/// Rust names of an operation.
#[derive(Debug, Clone)]
pub struct OpNames {
    /// `SaveFormDataV2`
    pub base: String,
    /// `SaveFormDataV2Request`
    pub request: String,
    /// `save_form_data_v2`
    pub method: String,
    /// The reply type: a model name or `()`.
    pub response: Option<String>,
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
    /// Filled from the client's app context when the request leaves it unset.
    pub context: bool,
    /// A paging parameter of a paginated operation (set by the paginator when unset).
    pub paging: bool,
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
    pub rust: String,
}
