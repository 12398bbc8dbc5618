//! Operation descriptors and the traits the generated requests implement.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLocation {
    /// A segment of the path, percent-encoded.
    Path,
    /// The query string.
    Query,
    /// The JSON body.
    Body,
}

/// How a list operation pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStyle {
    /// `pageNumber` + `pageSize`.
    PageNumber,
    /// `currentPage` + `pageSize`.
    CurrentPage,
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
}

impl std::fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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

/// One parameter of an operation, as the spec describes it.
#[derive(Debug, Clone, Copy)]
pub struct ParamMeta {
    /// Wire name.
    pub name: &'static str,
    /// Where it goes.
    pub location: ParamLocation,
    /// Spec type (`string`, `i64`, `json_text`, `list<string>`, …).
    pub ty: &'static str,
    /// Required by the API.
    pub required: bool,
    /// Redacted in `Debug` output.
    pub secret: bool,
    /// Filled from the client's [`AppContext`](crate::AppContext) when unset.
    pub context: bool,
    /// One-line description.
    pub doc: &'static str,
}

/// Everything the runtime and the CLI need to know about one operation (generated from the
/// spec; nothing here is written by hand).
#[derive(Debug, Clone, Copy)]
pub struct OperationMeta {
    /// DingTalk action name.
    pub action: &'static str,
    /// API version, `"1.0"` or `"2.0"`.
    pub version: &'static str,
    /// HTTP method.
    pub method: HttpMethod,
    /// Path template as published.
    pub path: &'static str,
    /// Area (and cargo feature).
    pub area: &'static str,
    /// One-line description.
    pub doc: &'static str,
    /// DingTalk's public page for the operation, where there is one.
    pub doc_url: Option<&'static str>,
    /// That page's (Chinese) title, e.g. `保存表单数据`: what a Chinese user searches for.
    pub doc_title: Option<&'static str>,
    /// Permission scope needed, where documented.
    pub permission: Option<&'static str>,
    /// The call cannot change data (so a 5xx or timeout may be retried).
    pub read_only: bool,
    /// One of the seed page's 28 operations.
    pub seed: bool,
    /// `(action, version)` of the replacement of a legacy operation.
    pub legacy: Option<(&'static str, &'static str)>,
    /// Pagination style, for list operations.
    pub pagination: Option<PageStyle>,
    /// Whether a JSON body is sent.
    pub has_body: bool,
    /// Whether the reply has a body to decode (`false`: the reply type is `()`).
    pub has_reply: bool,
    /// Parameters in spec order.
    pub params: &'static [ParamMeta],
    /// JSON Schema of the request: an object of the parameters by wire name (`x-in`: where
    /// each goes; `x-context`: filled from the app context when unset).
    pub request_schema: &'static str,
    /// JSON Schema of the reply (the models it reaches in `$defs`); `None`: empty reply.
    pub reply_schema: Option<&'static str>,
}

impl OperationMeta {
    /// `Action@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.action, self.version)
    }
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
    /// Appends the query parameters.
    fn write_query(&self, q: &mut crate::__private::QueryWriter);
    /// Fills unset context parameters (`appType`, `systemToken`, `userId`, `language`).
    fn fill_context(&mut self, ctx: &crate::AppContext);
    /// Checks required parameters and JSON-text values.
    fn check(&self) -> Result<(), ParamError>;
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
