//! No secret reaches Debug, Display, errors or logs, with every log target at TRACE.

use serde_json::json;
use yida_api::{AppContext, Client, RetryConfig, SaveFormDataV2Request, SearchFormDatasV2Request};
use yida_auth::{
    legacy_signature, InternalApp, MemoryTicketStore, Secret, ThirdPartyApp, TokenProvider,
};
use yida_e2e::{LogCapture, MockServer, Reply};

const SECRETS: [&str; 6] = [
    "APP-SECRET-7f3a",
    "SUITE-SECRET-91bc",
    "SUITE-TICKET-55de",
    "SYSTEM-TOKEN-0a1b",
    "ACCESS-TOKEN-c4d2",
    "CORP-ACCESS-TOKEN-e8f9",
];

fn assert_clean(what: &str, text: &str) {
    for s in SECRETS {
        assert!(!text.contains(s), "{what} leaks {s}:\n{text}");
    }
}

#[tokio::test]
async fn secrets_never_appear_in_debug_display_errors_or_trace_logs() {
    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let _ = tracing_log::LogTracer::init();

    let tokens = MockServer::start(|r, _| {
        if r.path.ends_with("corpAccessToken") {
            Reply::json(json!({"accessToken": "CORP-ACCESS-TOKEN-e8f9", "expireIn": 7200}))
        } else {
            Reply::json(json!({"accessToken": "ACCESS-TOKEN-c4d2", "expireIn": 7200}))
        }
    })
    .await;
    let api = MockServer::start(|_, i| {
        if i == 0 {
            Reply::error(400, "InvalidAuthentication", "expired", "REQ-1")
        } else {
            Reply::error(500, "innerError", "boom", "REQ-2")
        }
    })
    .await;

    let app = InternalApp::new("dingkey", "APP-SECRET-7f3a")
        .unwrap()
        .endpoint(tokens.url());
    let tickets = MemoryTicketStore::new();
    tickets.set("SUITE-TICKET-55de");
    let isv = ThirdPartyApp::new("suitekey", "SUITE-SECRET-91bc", tickets.clone())
        .unwrap()
        .endpoint(tokens.url());
    let corp = isv.for_corp("corp-1").unwrap();
    let corp_token = corp.token().await.unwrap();
    let app_token = app.token().await.unwrap();
    let ctx = AppContext::new()
        .app_type("APP_1")
        .system_token("SYSTEM-TOKEN-0a1b")
        .user_id("u1");
    let client = Client::builder()
        .endpoint(api.url())
        .token_provider(app.clone())
        .context(ctx.clone())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let err = client
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("FORM-1"))
        .await
        .unwrap_err();
    let req = SaveFormDataV2Request::new("FORM-1", json!({})).system_token("SYSTEM-TOKEN-0a1b");
    // Replies can hold secrets too (ListApplication returns each app's systemToken).
    let listed: yida_api::apps::ListApplicationData =
        serde_json::from_value(json!({"appType": "APP_1", "systemToken": "SYSTEM-TOKEN-0a1b"}))
            .unwrap();
    assert_eq!(listed.system_token.as_deref(), Some("SYSTEM-TOKEN-0a1b"));

    // The secrets did go over the wire (so the test exercises them)...
    assert_eq!(api.requests()[0].json()["systemToken"], "SYSTEM-TOKEN-0a1b");
    assert_eq!(
        api.requests()[0].header("x-acs-dingtalk-access-token"),
        Some("ACCESS-TOKEN-c4d2")
    );
    // ...but no rendering of any value shows them.
    let sig = legacy_signature(
        "1",
        &Secret::new("SUITE-TICKET-55de"),
        &Secret::new("SUITE-SECRET-91bc"),
    );
    let rendered = [
        format!("{app:?}"),
        format!("{isv:?}"),
        format!("{corp:?}"),
        format!("{tickets:?}"),
        format!("{corp_token:?}"),
        format!("{app_token:?}"),
        format!("{:?} {}", app_token.secret(), app_token.secret()),
        format!("{ctx:?}"),
        format!("{client:?}"),
        format!("{err:?}"),
        format!("{err}"),
        format!("{req:?}"),
        format!("{listed:?}"),
        sig,
    ];
    for (i, text) in rendered.iter().enumerate() {
        assert_clean(&format!("rendering #{i}"), text);
    }
    let logs = capture.text();
    assert!(
        logs.contains("yida.call"),
        "TRACE logging was captured: {logs}"
    );
    assert_clean("the TRACE log", &logs);
}
