//! Memory stays bounded whatever a server sends: an endless chunked reply, a 1 GiB reply, an
//! endless error body and an endless token reply all stop at the default cap. One test per
//! binary, run in sequence, so the process's peak RSS belongs to this case alone.

use serde_json::json;
use std::time::{Duration, Instant};
use yida_api::{
    AppContext, Client, Error, RetryConfig, SaveFormDataV2Request, SearchFormDatasV2Request,
};
use yida_auth::{AuthError, InternalApp, TokenProvider};
use yida_e2e::{peak_rss, MockServer, Reply};

const MIB: u64 = 1 << 20;

fn client(server: &MockServer) -> Client {
    Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(
            AppContext::new()
                .app_type("A")
                .system_token("s")
                .user_id("u"),
        )
        .timeout(Duration::from_secs(30))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_bodies_stop_at_the_default_cap_with_bounded_memory() {
    let base = peak_rss().unwrap_or(0);
    let mut report = Vec::new();

    // 1. Endless chunked success reply (a read).
    let server = MockServer::always(Reply::endless(200)).await;
    let t = Instant::now();
    let err = client(&server)
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit, .. } if limit == 32 << 20),
        "{err:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(20));
    report.push(format!(
        "endless 200: {:?}, server wrote {} MiB",
        t.elapsed(),
        server.streamed_bytes() / MIB
    ));

    // 2. A 1 GiB reply.
    let server = MockServer::always(Reply::huge(200, 1 << 30)).await;
    let t = Instant::now();
    let err = client(&server)
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err:?}");
    report.push(format!(
        "1 GiB 200: {:?}, server wrote {} MiB",
        t.elapsed(),
        server.streamed_bytes() / MIB
    ));

    // 3. Endless error body on a write: sent once.
    let server = MockServer::always(Reply::endless(500)).await;
    let t = Instant::now();
    let err = client(&server)
        .forms()
        .save_form_data_v2(SaveFormDataV2Request::new("F", json!({})))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(server.count(), 1);
    report.push(format!(
        "endless 500: {:?}, server wrote {} MiB",
        t.elapsed(),
        server.streamed_bytes() / MIB
    ));

    // 4. Endless token reply.
    let server = MockServer::always(Reply::endless(200)).await;
    let t = Instant::now();
    let err = InternalApp::new("k", "s")
        .unwrap()
        .endpoint(server.url())
        .token()
        .await
        .unwrap_err();
    assert!(matches!(err, AuthError::BodyTooLarge { .. }), "{err:?}");
    report.push(format!(
        "endless token: {:?}, server wrote {} MiB",
        t.elapsed(),
        server.streamed_bytes() / MIB
    ));

    let peak = peak_rss().unwrap_or(0);
    let grown = peak.saturating_sub(base) / MIB;
    println!(
        "{}; peak RSS grew {grown} MiB (to {} MiB)",
        report.join("; "),
        peak / MIB
    );
    // A 32 MiB cap: well under 200 MiB whatever was sent (before: 1-2 GiB).
    assert!(grown < 200, "peak RSS grew {grown} MiB");
}
