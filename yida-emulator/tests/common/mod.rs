#![allow(dead_code)]
use serde_json::{json, Value};
use yida_api::{Client, RetryConfig};
use yida_emulator::Emulator;

/// Our own client against the emulator: internal-app token from the emulator, app context of
/// the demo app and user, no retries (so each call is one exchange).
pub fn client(emu: &Emulator) -> Client {
    Client::builder()
        .endpoint(emu.endpoint())
        .internal_app(emu.app_key(), emu.app_secret())
        .unwrap()
        .context(emu.app_context())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

/// A token fetched over HTTP.
pub async fn token(emu: &Emulator) -> String {
    let (status, body) = raw(
        emu,
        "POST",
        "/v1.0/oauth2/accessToken",
        Some(json!({ "appKey": emu.app_key(), "appSecret": emu.app_secret() })),
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["accessToken"].as_str().unwrap().to_string()
}

/// A plain reqwest client (rustls needs its crypto provider installed first).
pub fn http() -> reqwest::Client {
    yida_auth::ensure_tls_provider();
    reqwest::Client::new()
}

/// One plain HTTP exchange; returns status and JSON body (`Null` when empty).
pub async fn raw(
    emu: &Emulator,
    method: &str,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (u16, Value) {
    let http = http();
    let mut req = http.request(
        reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{}{}", emu.endpoint(), path),
    );
    if let Some(t) = token {
        req = req.header("x-acs-dingtalk-access-token", t);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = tokio::time::timeout(std::time::Duration::from_secs(20), req.send())
        .await
        .expect("no hang")
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let v = if text.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    };
    (status, v)
}

/// Asserts a DingTalk-shaped error.
pub fn assert_error(status: u16, body: &Value, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(
        body["requestid"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

/// The demo app's context parameters as a JSON object.
pub fn ctx(emu: &Emulator) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("appType".into(), json!(emu.app_type()));
    m.insert("systemToken".into(), json!(emu.system_token()));
    m.insert("userId".into(), json!(emu.user_id()));
    m
}

/// `ctx` plus more fields.
pub fn with(emu: &Emulator, more: Value) -> Value {
    let mut m = ctx(emu);
    if let Value::Object(o) = more {
        m.extend(o);
    }
    Value::Object(m)
}

/// The `ApiError` of a failed call.
pub fn api_err<T: std::fmt::Debug>(r: Result<T, yida_api::Error>) -> yida_api::ApiError {
    match r {
        Err(yida_api::Error::Api(e)) => *e,
        other => panic!("expected an API error, got {other:?}"),
    }
}
