//! A budget warns once when its threshold is passed and slows down past another (issue 22
//! item 1). (A binary of its own: it installs a log subscriber.)

use serde_json::json;
use std::time::Duration;
use yida_api::ledger::{CallBudget, Ledger, MemoryLedger};
use yida_api::{AppContext, Client, GetFormDataByIdRequest};
use yida_e2e::{LogCapture, MockServer, Reply};

#[tokio::test]
async fn a_budget_warns_once_past_its_threshold_and_pauses_past_the_slow_down_mark() {
    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = MockServer::always(Reply::json(json!({"formInstId": "F"}))).await;
    let ledger = Ledger::new(MemoryLedger::new()).budget(
        "dingcorp",
        CallBudget::monthly(100)
            .warn_at(3)
            .slow_down_from(5, Duration::from_millis(200)),
    );
    let c = Client::builder()
        .endpoint(server.url())
        .access_token("secret-token-XYZ")
        .context(
            AppContext::new()
                .app_type("A")
                .system_token("s")
                .user_id("u"),
        )
        .ledger(ledger, "dingcorp")
        .build()
        .unwrap();
    for i in 0..6 {
        c.send(GetFormDataByIdRequest::new(format!("F-{i}")))
            .await
            .unwrap();
    }
    let logs = capture.text();
    assert_eq!(
        logs.matches("monthly call budget: 3 of 100 calls used")
            .count(),
        1,
        "{logs}"
    );
    assert_eq!(
        logs.matches("monthly call budget").count(),
        1,
        "warned once: {logs}"
    );
    assert!(!logs.contains("XYZ"));
    // Calls 5 and 6 waited their pause before leaving (the server's clock tells); calls 2-4
    // did not wait for one.
    let at: Vec<_> = server.requests().iter().map(|r| r.at).collect();
    assert!(
        at[4] - at[3] >= Duration::from_millis(200),
        "{:?}",
        at[4] - at[3]
    );
    assert!(
        at[5] - at[4] >= Duration::from_millis(200),
        "{:?}",
        at[5] - at[4]
    );
}
