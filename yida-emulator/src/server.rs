//! HTTP front: tokens, authentication, faults, quota, validation from the spec, dispatch.

use crate::seed::Seed;
use crate::store::{Disk, State};
use crate::{Error, Faults, Options};
use axum::body::Bytes;
use axum::extract::{Query, State as AxState, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use yida_api::{HttpMethod as Method, OperationMeta as Op, ParamLocation as Loc};

/// A DingTalk-shaped error reply.
#[derive(Debug)]
pub struct ApiErr {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiErr {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> ApiErr {
        ApiErr {
            status,
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn bad(code: impl Into<String>, message: impl Into<String>) -> ApiErr {
        ApiErr::new(400, code, message)
    }
}

/// Who is calling, from the access token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// App key or suite key.
    pub client_id: String,
}

struct TokenInfo {
    client_id: String,
    corp_id: String,
    expires: Instant,
}

#[derive(Default)]
struct Tokens {
    by_token: HashMap<String, TokenInfo>,
    by_client: HashMap<(String, String), String>,
}

/// App key, action, version.
type QuotaKey = (String, &'static str, &'static str);
/// Path parameters by name.
type PathParams = Vec<(&'static yida_api::ParamMeta, String)>;

/// Everything the handlers share.
pub struct Shared {
    seed: RwLock<Seed>,
    state: Mutex<State>,
    disk: Option<Disk>,
    faults: RwLock<Faults>,
    token_lifetime: Duration,
    tokens: Mutex<Tokens>,
    quota: Mutex<HashMap<QuotaKey, (u64, u32)>>,
    rng: Mutex<u64>,
    seq: AtomicU64,
    pub(crate) addr: SocketAddr,
    pub(crate) hub: crate::stream::Hub,
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Shared {
    pub fn new(opts: Options, addr: SocketAddr) -> Result<Shared, Error> {
        let (disk, state) = match &opts.data {
            Some(path) => {
                let disk = Disk::open(path, opts.reset)?;
                let st = disk.load()?;
                (Some(disk), st)
            }
            None => (None, State::default()),
        };
        let seed_rng = now_ms() as u64 ^ 0x9E37_79B9_7F4A_7C15;
        Ok(Shared {
            seed: RwLock::new(opts.seed),
            state: Mutex::new(state),
            disk,
            faults: RwLock::new(opts.faults),
            token_lifetime: opts.token_lifetime,
            tokens: Mutex::new(Tokens::default()),
            quota: Mutex::new(HashMap::new()),
            rng: Mutex::new(seed_rng | 1),
            seq: AtomicU64::new(1),
            addr,
            hub: crate::stream::Hub::new(opts.redeliver_after),
        })
    }

    pub fn seed(&self) -> Seed {
        self.seed.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn with_seed<T>(&self, f: impl FnOnce(&Seed) -> T) -> T {
        f(&self.seed.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn update_seed(&self, f: impl FnOnce(&mut Seed)) -> Result<(), Error> {
        let mut g = self.seed.write().unwrap_or_else(|e| e.into_inner());
        let mut next = g.clone();
        f(&mut next);
        next.check()?;
        *g = next;
        Ok(())
    }

    pub fn set_faults(&self, f: Faults) {
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = f;
    }

    pub fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }

    /// Runs a mutation and writes what it changed to disk, if any.
    pub fn mutate<T>(&self, f: impl FnOnce(&mut State) -> Result<T, ApiErr>) -> Result<T, ApiErr> {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let out = f(&mut g);
        if let Some(disk) = &self.disk {
            if let Err(e) = disk.flush(&mut g) {
                return Err(ApiErr::new(500, "innerError", e.to_string()));
            }
        }
        out
    }

    pub fn closing(&self) {
        self.hub.close_all();
    }

    pub fn insert_record(&self, form_uuid: &str, data: Value) -> Result<String, Error> {
        let (app, user) = self.with_seed(|s| {
            (
                s.form(form_uuid).map(|f| f.app_type.clone()),
                s.users
                    .first()
                    .map(|u| u.user_id.clone())
                    .unwrap_or_default(),
            )
        });
        let app = app.ok_or_else(|| Error::Invalid(format!("unknown form {form_uuid}")))?;
        let data = match data {
            Value::Object(m) => m,
            _ => return Err(Error::Invalid("record data must be a JSON object".into())),
        };
        self.mutate(|st| Ok(crate::ops::new_record(st, form_uuid, &app, &user, data)))
            .map_err(|e| Error::Invalid(e.message))
    }

    pub fn request_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        format!("EMU-{:x}-{n:06}", now_ms())
    }

    fn random(&self) -> f64 {
        let mut g = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        // xorshift64*
        let mut x = *g;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *g = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn issue_token(&self, client_id: &str, corp_id: &str) -> (String, u64) {
        let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let key = (client_id.to_string(), corp_id.to_string());
        let now = Instant::now();
        if let Some(tok) = t.by_client.get(&key) {
            if let Some(info) = t.by_token.get(tok) {
                if info.expires > now {
                    let left = info.expires.saturating_duration_since(now).as_secs();
                    return (tok.clone(), left);
                }
            }
        }
        let token = format!(
            "emu{:016x}{:016x}",
            (self.random() * u64::MAX as f64) as u64,
            self.seq.fetch_add(1, Ordering::Relaxed)
        );
        t.by_token.insert(
            token.clone(),
            TokenInfo {
                client_id: client_id.to_string(),
                corp_id: corp_id.to_string(),
                expires: now + self.token_lifetime,
            },
        );
        t.by_client.insert(key, token.clone());
        (token, self.token_lifetime.as_secs())
    }

    fn check_token(&self, token: &str) -> Option<Caller> {
        let t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let info = t.by_token.get(token)?;
        if info.expires <= Instant::now() {
            return None;
        }
        let _ = &info.corp_id;
        Some(Caller {
            client_id: info.client_id.clone(),
        })
    }

    /// A Stream-mode client's credentials (app key/secret or suite key/secret).
    pub fn check_client(&self, id: &str, secret: &str) -> bool {
        self.with_seed(|s| {
            s.internal_apps
                .iter()
                .any(|a| a.app_key == id && a.app_secret == secret)
                || s.suites
                    .iter()
                    .any(|x| x.suite_key == id && x.suite_secret == secret)
        })
    }

    fn over_quota(&self, client: &str, op: &Op) -> bool {
        let qps = self.faults.read().unwrap_or_else(|e| e.into_inner()).qps;
        if qps == 0 {
            return false;
        }
        let sec = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut q = self.quota.lock().unwrap_or_else(|e| e.into_inner());
        let e = q
            .entry((client.to_string(), op.action, op.version))
            .or_insert((sec, 0));
        if e.0 != sec {
            *e = (sec, 0);
        }
        e.1 += 1;
        e.1 > qps
    }
}

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1.0/oauth2/accessToken", post(access_token))
        .route("/v1.0/oauth2/corpAccessToken", post(corp_access_token))
        .route("/v1.0/gateway/connections/open", post(open_connection))
        .route("/gateway/connect", get(ws_connect))
        .route("/_emulator/authorize", post(crate::isv::authorize_route))
        .fallback(any(operation))
        .with_state(shared)
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
    let d = shared
        .faults
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .latency;
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}

async fn access_token(AxState(shared): AxState<Arc<Shared>>, body: Bytes) -> Response {
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

async fn corp_access_token(AxState(shared): AxState<Arc<Shared>>, body: Bytes) -> Response {
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

async fn open_connection(AxState(shared): AxState<Arc<Shared>>, body: Bytes) -> Response {
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
        let ticket = shared.hub.new_ticket(id);
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
    AxState(shared): AxState<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let client = q.get("ticket").and_then(|t| shared.hub.take_ticket(t));
    match client {
        Some(client_id) => {
            ws.on_upgrade(move |socket| crate::stream::serve(shared, client_id, socket))
        }
        None => error_reply(
            &shared,
            ApiErr::bad("invalidTicket", "unknown or used ticket"),
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
        for (k, v) in form_urlencoded(q) {
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

fn form_urlencoded(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

async fn operation(
    AxState(shared): AxState<Arc<Shared>>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    delay(&shared).await;
    let result = handle(&shared, &method, &uri, &headers, &body).await;
    match result {
        Ok(v) => reply(&shared, 200, v),
        Err(e) => error_reply(&shared, e),
    }
}

async fn handle(
    shared: &Arc<Shared>,
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
    if shared.over_quota(&caller.client_id, op) {
        return Err(ApiErr::new(
            403,
            "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
            "您的企业应用调用钉钉开放平台当前接口的所有请求都被暂时禁用了",
        ));
    }
    let rate = shared
        .faults
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .error_rate;
    if rate > 0.0 && shared.random() < rate {
        return Err(ApiErr::new(
            500,
            "unclassifiedError",
            "异常:emulated fault (nothing was applied)",
        ));
    }
    let params = validate(op, path_params, uri.query(), body)?;
    crate::ops::dispatch(shared, op, &caller, params)
}
