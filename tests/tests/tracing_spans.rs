//! One span per call with action, version, attempt, HTTP status and request id, each
//! recorded once; a success logs at debug. (A binary of its own: tests running concurrently
//! with a scoped subscriber can miss events through tracing's shared callsite cache.)

use serde_json::json;
use std::time::Duration;
use tracing_subscriber::fmt::format::FmtSpan;
use yida_api::{AppContext, Client, RetryConfig, SearchFormDatasV2Request};
use yida_e2e::{LogCapture, MockServer, Reply};

#[tokio::test]
async fn each_call_has_a_span_with_its_fields() {
    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = MockServer::script(vec![
        Reply::error(500, "innerError", "x", "REQ-FIRST"),
        Reply::error(503, "innerError", "x", "REQ-SECOND"),
        Reply::json(json!({"currentPage": 1, "totalCount": 0, "data": []}))
            .with_header("x-acs-request-id", "REQ-OK"),
    ])
    .await;
    let c = Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(
            AppContext::new()
                .app_type("A")
                .system_token("s")
                .user_id("u"),
        )
        .retry(RetryConfig::default().base_delay(Duration::from_millis(1)))
        .build()
        .unwrap();
    c.forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap();
    let logs = capture.text();
    let close = logs
        .lines()
        .find(|l| l.contains("yida.call") && l.contains("close"))
        .unwrap_or_else(|| panic!("{logs}"));
    for field in [
        "action=\"SearchFormDatas\"",
        "version=\"2.0\"",
        "attempt=3",
        "status=200",
        "request_id=\"REQ-OK\"",
    ] {
        assert!(close.contains(field), "{field} in {close}");
    }
    assert!(logs.contains("retrying"), "{logs}");
    // Each field once in the span's rendering, however many attempts there were.
    for field in ["request_id=", "attempt=", "status="] {
        assert_eq!(close.matches(field).count(), 1, "{field} in {close}");
    }
    let success = logs
        .lines()
        .find(|l| l.contains("call succeeded"))
        .unwrap_or_else(|| panic!("no success event: {logs}"));
    for field in [
        "DEBUG",
        "operation=SearchFormDatas@2.0",
        "status=200",
        "request_id=\"REQ-OK\"",
        "attempts=3",
    ] {
        assert!(success.contains(field), "{field} in {success}");
    }
}
