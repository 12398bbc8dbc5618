//! HTTP front: tokens, authentication, faults, quota, validation from the spec, then the
//! handler table (`ops::handler`).

use crate::ops::{self, Call};
use crate::shared::{ApiErr, Shared};
use crate::stream::Hub;
use axum::body::Bytes;
use axum::extract::{Query, State as AxState, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use yida_api::{HttpMethod as Method, OperationMeta as Op, ParamLocation as Loc};

/// Path parameters by name.
type PathParams = Vec<(&'static yida_api::ParamMeta, String)>;

/// What the routes share: the state and the Stream hub events go to.
#[derive(Clone)]
pub struct Front {
    pub shared: Arc<Shared>,
    pub hub: Arc<Hub>,
}

type St = AxState<Front>;

pub fn router(front: Front) -> Router {
    Router::new()
        .route("/v1.0/oauth2/accessToken", post(access_token))
        .route("/v1.0/oauth2/corpAccessToken", post(corp_access_token))
        .route("/v1.0/gateway/connections/open", post(open_connection))
        .route("/gateway/connect", get(ws_connect))
        .route("/_emulator/authorize", post(crate::isv::authorize_route))
        .route("/emu-oss/{name}", get(download))
        .fallback(any(operation))
        .with_state(front)
}

fn reply(shared: &Shared, status: u16, body: Option<Value>) -> Response {
    let rid = shared.request_id();
    let mut r = match body {
        Some(v) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            [("content-type", "application/json;charset=utf-8")],
            v.to_string(),
        )
            .into_response(),
        None => StatusCode::from_u16(status)
            .unwrap_or(StatusCode::OK)
            .into_response(),
    };
    if let Ok(v) = rid.parse() {
        r.headers_mut().insert("x-acs-request-id", v);
    }
    r
}

fn error_reply(shared: &Shared, e: ApiErr) -> Response {
    let rid = shared.request_id();
    let body = json!({ "code": e.code, "message": e.message, "requestid": rid });
    let mut r = (
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json;charset=utf-8")],
        body.to_string(),
    )
        .into_response();
    if let Ok(v) = rid.parse() {
        r.headers_mut().insert("x-acs-request-id", v);
    }
    r
}

fn json_body(body: &Bytes) -> Result<Map<String, Value>, ApiErr> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(ApiErr::bad(
            "invalidParameter",
            "the request body must be one JSON object",
        )),
    }
}

fn str_field<'a>(m: &'a Map<String, Value>, name: &str) -> Result<&'a str, ApiErr> {
    match m.get(name).and_then(Value::as_str) {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(ApiErr::bad(
            format!("Missing{name}"),
            format!("{name} is mandatory for this action."),
        )),
    }
}

async fn delay(shared: &Shared) {
    let d = shared.faults().latency;
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

async fn access_token(AxState(Front { shared, .. }): St, body: Bytes) -> Response {
    delay(&shared).await;
    let r = (|| {
        let m = json_body(&body)?;
        let key = str_field(&m, "appKey")?;
        let secret = str_field(&m, "appSecret")?;
        let (ok, corp) = shared.with_seed(|s| {
            (
                s.internal_apps
                    .iter()
                    .any(|a| a.app_key == key && a.app_secret == secret),
                s.corp_id.clone(),
            )
        });
        if !ok {
            return Err(ApiErr::bad(
                "invalidClientIdOrSecret",
                "无效的clientId或者clientSecret",
            ));
        }
        Ok(shared.issue_token(key, &corp))
    })();
    match r {
        Ok((t, left)) => reply(
            &shared,
            200,
            Some(json!({ "accessToken": t, "expireIn": left })),
        ),
        Err(e) => error_reply(&shared, e),
    }
}

async fn corp_access_token(AxState(Front { shared, .. }): St, body: Bytes) -> Response {
    delay(&shared).await;
    let r = (|| {
        let m = json_body(&body)?;
        let key = str_field(&m, "suiteKey")?;
        let secret = str_field(&m, "suiteSecret")?;
        let corp = str_field(&m, "authCorpId")?;
        let ticket = str_field(&m, "suiteTicket")?;
        let suite = shared.with_seed(|s| s.suites.iter().find(|x| x.suite_key == key).cloned());
        let suite = match suite {
            Some(s) if s.suite_secret == secret => s,
            _ => {
                return Err(ApiErr::bad(
                    "invalidSuiteKey",
                    "无效的suiteKey或suiteSecret",
                ))
            }
        };
        if suite.suite_ticket != ticket {
            return Err(ApiErr::bad("invalidSuiteTicket", "无效的suiteTicket"));
        }
        if !suite.auth_corp_ids.iter().any(|c| c == corp) {
            return Err(ApiErr::bad("invalidAuthCorpId", "企业未授权该应用"));
        }
        Ok(shared.issue_token(key, corp))
    })();
    match r {
        Ok((t, left)) => reply(
            &shared,
            200,
            Some(json!({ "accessToken": t, "expireIn": left })),
        ),
        Err(e) => error_reply(&shared, e),
    }
}

async fn open_connection(AxState(Front { shared, hub }): St, body: Bytes) -> Response {
    let r = (|| {
        let m = json_body(&body)?;
        let id = str_field(&m, "clientId")?;
        let secret = str_field(&m, "clientSecret")?;
        if !shared.check_client(id, secret) {
            return Err(ApiErr::bad(
                "invalidClientIdOrSecret",
                "无效的clientId或者clientSecret",
            ));
        }
        let ticket = hub.new_ticket(id);
        Ok(json!({
            "endpoint": format!("ws://{}/gateway/connect", shared.addr),
            "ticket": ticket,
        }))
    })();
    match r {
        Ok(v) => reply(&shared, 200, Some(v)),
        Err(e) => error_reply(&shared, e),
    }
}

async fn ws_connect(
    AxState(Front { shared, hub }): St,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let client = q.get("ticket").and_then(|t| hub.take_ticket(t));
    match client {
        Some(client_id) => {
            ws.on_upgrade(move |socket| crate::stream::serve(hub, client_id, socket))
        }
        None => error_reply(
            &shared,
            ApiErr::bad("invalidTicket", "unknown or used ticket"),
        ),
    }
}

/// Serves a temporary download URL from GetOpenUrl, in the object store's manner: 403
/// `AccessDenied` "Request has expired." after its time, 403 `SignatureDoesNotMatch` when
/// altered, 404 `NoSuchKey` for a file that is gone.
async fn download(
    AxState(Front { shared, .. }): St,
    axum::extract::Path(name): axum::extract::Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    delay(&shared).await;
    let oss_error = |status: StatusCode, code: &str, message: &str| {
        (
            status,
            [("content-type", "application/xml")],
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{}</RequestId></Error>",
                shared.request_id()
            ),
        )
            .into_response()
    };
    let expires = q.get("Expires").and_then(|e| e.parse::<i64>().ok());
    let signature = q
        .get("Signature")
        .and_then(|s| u64::from_str_radix(s, 16).ok());
    let (Some(expires), Some(signature)) = (expires, signature) else {
        return oss_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Missing Expires or Signature.",
        );
    };
    if shared.url_signature(&name, expires) != signature {
        return oss_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        );
    }
    if expires <= crate::shared::now_ms() {
        return oss_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Request has expired.",
        );
    }
    match shared.file(&name) {
        Some(bytes) => (
            StatusCode::OK,
            [("content-type", "application/octet-stream")],
            Bytes::from_owner(bytes),
        )
            .into_response(),
        None => oss_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
    }
}

/// Finds the operation for a method and path.
fn find_op(method: Method, path: &str) -> Result<(&'static Op, PathParams), ApiErr> {
    yida_api::operations()
        .into_iter()
        .filter(|op| op.method == method)
        .find_map(|op| op.match_path(path).map(|params| (op, params)))
        .ok_or_else(|| {
            ApiErr::new(
                404,
                "InvalidAction.NotFound",
                "Specified api is not found, please check your url and method.",
            )
        })
}

/// Collects and checks every parameter against the spec.
fn validate(
    op: &Op,
    path_params: PathParams,
    query: Option<&str>,
    body: &Bytes,
) -> Result<Map<String, Value>, ApiErr> {
    let mut out = Map::new();
    let declared = |name: &str, loc: Loc| {
        op.params
            .iter()
            .find(|p| p.name == name && p.location == loc)
    };
    for (p, value) in path_params {
        out.insert(p.name.to_string(), Value::String(value));
    }
    if let Some(q) = query {
        let pairs = yida_auth::wire::query_pairs(q)
            .map_err(|e| ApiErr::bad("invalidParameter", e.to_string()))?;
        for (k, v) in pairs {
            let k = k.into_owned();
            let p = declared(&k, Loc::Query).ok_or_else(|| {
                ApiErr::bad(
                    "invalidParameter",
                    format!(
                        "unknown parameter {k} (not a query parameter of {})",
                        op.action
                    ),
                )
            })?;
            let value = p.ty.parse_text(&v).map_err(|problem| {
                ApiErr::bad("invalidParameter", format!("parameter {k} {problem}"))
            })?;
            out.insert(k, value);
        }
    }
    let has_body_params = op.params.iter().any(|p| p.location == Loc::Body);
    if has_body_params {
        for (k, v) in json_body(body)? {
            let p = declared(&k, Loc::Body).ok_or_else(|| {
                ApiErr::bad(
                    "invalidParameter",
                    format!(
                        "unknown parameter {k} (not a body parameter of {})",
                        op.action
                    ),
                )
            })?;
            if v.is_null() {
                continue;
            }
            if let Some(problem) = p.ty.wire_problem(&v) {
                return Err(ApiErr::bad(
                    "invalidParameter",
                    format!("parameter {k} {problem}"),
                ));
            }
            out.insert(k, v);
        }
    }
    for p in op.params {
        let missing = match out.get(p.name) {
            None => true,
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if p.required && missing {
            return Err(ApiErr::bad(
                "missingParameter",
                format!("缺少必填参数: {} is mandatory for this action.", p.name),
            ));
        }
    }
    Ok(out)
}

async fn operation(
    AxState(Front { shared, hub }): St,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    delay(&shared).await;
    let result = handle(&shared, &hub, &method, &uri, &headers, &body).await;
    match result {
        Ok(v) => reply(&shared, 200, v),
        Err(e) => error_reply(&shared, e),
    }
}

async fn handle(
    shared: &Shared,
    hub: &Hub,
    method: &axum::http::Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Option<Value>, ApiErr> {
    let m = Method::from_wire(method.as_str()).ok_or_else(|| {
        ApiErr::new(
            404,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        )
    })?;
    let (op, path_params) = find_op(m, uri.path())?;
    shared.count_call(op.action);
    let token = headers
        .get("x-acs-dingtalk-access-token")
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty());
    let caller = match token {
        None => {
            return Err(ApiErr::bad(
                "AuthenticationFailed.MissingParameter",
                "Missing x-acs-dingtalk-access-token header",
            ))
        }
        Some(t) => shared
            .check_token(t)
            .ok_or_else(|| ApiErr::bad("InvalidAuthentication", "不合法的access_token"))?,
    };
    if shared.over_quota(&caller.client_id, op.action, op.version) {
        return Err(ApiErr::new(
            403,
            "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
            "您的企业应用调用钉钉开放平台当前接口的所有请求都被暂时禁用了",
        ));
    }
    let rate = shared.faults().error_rate;
    if rate > 0.0 && shared.random() < rate {
        return Err(ApiErr::new(
            500,
            "unclassifiedError",
            "异常:emulated fault (nothing was applied)",
        ));
    }
    let params = validate(op, path_params, uri.query(), body)?;
    let handler = ops::handler(op.id).ok_or_else(|| {
        ApiErr::new(
            501,
            "notEmulated",
            format!(
                "{}@{} is not emulated: the parameters were valid, but the emulator keeps no state for it",
                op.action, op.version
            ),
        )
    })?;
    handler(&Call::new(shared, hub, op, params)?)
}
