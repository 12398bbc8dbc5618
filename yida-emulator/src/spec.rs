//! The one place that reads yida-api's operation descriptors.
//!
//! Everything else in the emulator sees [`Op`] and [`Param`]: when the descriptors change shape
//! (method and location as enums, renamed fields), only this module follows.

use serde_json::Value;
use std::sync::OnceLock;

/// HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `DELETE`
    Delete,
}

impl Method {
    fn from_meta(m: yida_api::HttpMethod) -> Method {
        match m {
            yida_api::HttpMethod::Get => Method::Get,
            yida_api::HttpMethod::Put => Method::Put,
            yida_api::HttpMethod::Delete => Method::Delete,
            yida_api::HttpMethod::Post => Method::Post,
        }
    }

    /// From an HTTP request's method.
    pub fn from_http(m: &axum::http::Method) -> Option<Method> {
        Some(match *m {
            axum::http::Method::GET => Method::Get,
            axum::http::Method::POST => Method::Post,
            axum::http::Method::PUT => Method::Put,
            axum::http::Method::DELETE => Method::Delete,
            _ => return None,
        })
    }
}

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    /// A path segment.
    Path,
    /// The query string.
    Query,
    /// The JSON body.
    Body,
}

/// One parameter as the spec declares it.
#[derive(Debug, Clone)]
pub struct Param {
    /// Wire name.
    pub name: &'static str,
    /// Where it travels.
    pub loc: Loc,
    /// Spec type: `string`, `i64`, `bool`, `json_text`, `json`, `list<…>`, `map<…>`.
    pub ty: &'static str,
    /// Required by the API.
    pub required: bool,
}

/// One operation of the spec.
#[derive(Debug, Clone)]
pub struct Op {
    /// Action name.
    pub action: &'static str,
    /// `"1.0"` or `"2.0"`.
    pub version: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path template as published (`/v1.0/yida/forms/instances/{id}`).
    pub path: &'static str,
    /// Parameters.
    pub params: Vec<Param>,
}

/// Every operation of the spec, converted once.
pub fn ops() -> &'static [Op] {
    static OPS: OnceLock<Vec<Op>> = OnceLock::new();
    OPS.get_or_init(|| {
        yida_api::operations()
            .into_iter()
            .map(|m| Op {
                action: m.action,
                version: m.version,
                method: Method::from_meta(m.method),
                path: m.path,
                params: m
                    .params
                    .iter()
                    .map(|p| Param {
                        name: p.name,
                        loc: match p.location {
                            yida_api::ParamLocation::Path => Loc::Path,
                            yida_api::ParamLocation::Query => Loc::Query,
                            yida_api::ParamLocation::Body => Loc::Body,
                        },
                        ty: p.ty,
                        required: p.required,
                    })
                    .collect(),
            })
            .collect()
    })
}

/// Matches a request path against an operation's template; returns the path parameters.
///
/// A template segment may hold a parameter with literal text around it (GetProcessDesign's
/// published path is `/v1.0/yida/processes/{processId}definitions/designs`).
pub fn match_path(template: &str, path: &str) -> Option<Vec<(&'static str, String)>>
where
{
    let t: Vec<&str> = template.trim_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_matches('/').split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut out = Vec::new();
    for (ts, ps) in t.iter().zip(p.iter()) {
        match (ts.find('{'), ts.find('}')) {
            (Some(a), Some(b)) if b > a => {
                let (pre, name, post) = (&ts[..a], &ts[a + 1..b], &ts[b + 1..]);
                if ps.len() < pre.len() + post.len() + 1
                    || !ps.starts_with(pre)
                    || !ps.ends_with(post)
                {
                    return None;
                }
                let raw = &ps[pre.len()..ps.len() - post.len()];
                let value = percent_encoding::percent_decode_str(raw)
                    .decode_utf8()
                    .ok()?
                    .into_owned();
                out.push((leak_name(name), value));
            }
            _ => {
                if ts != ps {
                    return None;
                }
            }
        }
    }
    Some(out)
}

fn leak_name(name: &str) -> &'static str {
    // Path parameter names come from the spec's static templates; find the static copy.
    for op in ops() {
        for p in &op.params {
            if p.name == name {
                return p.name;
            }
        }
    }
    "path parameter"
}

/// Why a value does not fit its declared type (`None`: it fits).
pub fn type_problem(ty: &str, v: &Value) -> Option<String> {
    let ok = match ty {
        "string" => v.is_string(),
        "i64" => v.as_i64().is_some(),
        "bool" => v.is_boolean(),
        "json" => true,
        "json_text" => match v.as_str() {
            Some(s) => serde_json::from_str::<Value>(s).is_ok(),
            None => return Some("must be a string holding JSON text".into()),
        },
        t if t.starts_with("list<") && t.ends_with('>') => {
            let inner = &t[5..t.len() - 1];
            match v.as_array() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(p) = type_problem(inner, item) {
                            return Some(format!("item {i} {p}"));
                        }
                    }
                    true
                }
                None => false,
            }
        }
        t if t.starts_with("map<") && t.ends_with('>') => {
            let inner = &t[4..t.len() - 1];
            match v.as_object() {
                Some(m) => {
                    for (k, item) in m {
                        if let Some(p) = type_problem(inner, item) {
                            return Some(format!("entry {k:?} {p}"));
                        }
                    }
                    true
                }
                None => false,
            }
        }
        _ => true,
    };
    if ok {
        None
    } else {
        Some(format!("must be of type {ty}"))
    }
}

/// Converts a query-string value to the JSON value of its declared type.
pub fn from_query(ty: &str, raw: &str) -> Result<Value, String> {
    match ty {
        "i64" => raw
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("must be an integer (i64), not {raw:?}")),
        "bool" => match raw {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("must be true or false, not {raw:?}")),
        },
        "json_text" => serde_json::from_str::<Value>(raw)
            .map(|_| Value::String(raw.to_string()))
            .map_err(|_| "must be JSON text".to_string()),
        t if t.starts_with("list<") => Ok(Value::Array(
            raw.split(',').map(|s| Value::String(s.into())).collect(),
        )),
        _ => Ok(Value::String(raw.to_string())),
    }
}
