//! Issue 15, library side: what a hostile or broken server must not make the client do.
//! Every case talks HTTP to a real server on 127.0.0.1.

use serde_json::json;
use std::time::{Duration, Instant};
use yida_api::{
    AppContext, Client, Error, RetryConfig, SaveFormDataV2Request, SearchFormDatasV2Request,
};
use yida_auth::{AuthError, InternalApp, MemoryTicketStore, ThirdPartyApp, TokenProvider};
use yida_e2e::{MockServer, Reply, GATEWAY_BAN_PAGE};

fn fast_retries() -> RetryConfig {
    RetryConfig::default()
        .max_attempts(4)
        .base_delay(Duration::from_millis(5))
        .max_delay(Duration::from_millis(20))
        .ban_wait(Duration::from_millis(20))
}

fn ctx() -> AppContext {
    AppContext::new()
        .app_type("APP_1")
        .system_token("sys")
        .user_id("u1")
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(ctx())
        .retry(fast_retries())
        .build()
        .unwrap()
}

fn page() -> Reply {
    Reply::json(json!({"currentPage": 1, "totalCount": 0, "data": []}))
}

/// A write; returns the new instance id.
async fn save(c: &Client) -> Result<Option<String>, Error> {
    c.forms()
        .save_form_data_v2(SaveFormDataV2Request::new("FORM-1", json!({"a": 1})))
        .await
        .map(|r| r.result)
}

/// Every line an error prints: Display, then each source.
fn chain(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out = vec![e.to_string()];
    let mut s = e.source();
    while let Some(x) = s {
        out.push(x.to_string());
        s = x.source();
    }
    out
}

// ---- 1. Writes sent more than once --------------------------------------------------------

#[tokio::test]
async fn a_write_answered_5xx_with_retry_after_is_sent_once() {
    for reply in [
        Reply::text(503, "text/plain", "busy").with_header("retry-after", "0"),
        Reply::error(500, "innerError", "boom", "R1").with_header("retry-after", "1"),
        Reply::error(503, "ServiceUnavailable", "later", "R2").with_header("retry-after", "0"),
    ] {
        let server = MockServer::always(reply).await;
        let err = save(&client(&server)).await.unwrap_err();
        assert_eq!(server.count(), 1, "a write is sent once: {err}");
        let api = err.api().unwrap();
        assert!(api.status >= 500 && !api.is_throttled(), "{err}");
    }
}

#[tokio::test]
async fn retry_after_lengthens_the_pause_of_a_read_retry() {
    let server = MockServer::script(vec![
        Reply::text(503, "text/plain", "busy").with_header("retry-after", "1"),
        page(),
    ])
    .await;
    client(&server)
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("FORM-1"))
        .await
        .unwrap();
    let r = server.requests();
    assert_eq!(r.len(), 2);
    assert!(r[1].at.duration_since(r[0].at) >= Duration::from_millis(950));
}

#[tokio::test]
async fn a_proxy_page_is_an_ordinary_error_of_its_status() {
    for status in [403u16, 429, 502, 503] {
        let server = MockServer::always(Reply::text(
            status,
            "text/html",
            "<html><head><title>503 Service Temporarily Unavailable</title></head>\
             <body><center><h1>Service Unavailable</h1></center><hr><center>nginx</center></body></html>",
        ))
        .await;
        let started = Instant::now();
        let err = save(&client(&server)).await.unwrap_err();
        assert_eq!(server.count(), 1, "HTTP {status}: a write is sent once");
        let api = err.api().unwrap();
        assert_eq!(api.status, status);
        assert!(!api.is_gateway_ban() && !api.is_throttled(), "{err}");
        assert!(api.body_excerpt.as_deref().unwrap().contains("nginx"));
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

#[tokio::test]
async fn the_gateway_ban_in_either_form_is_retried_even_for_a_write() {
    for ban in [
        Reply::text(503, "text/html", GATEWAY_BAN_PAGE),
        Reply::status_json(
            403,
            json!({"status": 1111, "wait": 0.02, "source": "x5", "punish": "deny", "uuid": "u"}),
        ),
    ] {
        let server = MockServer::script(vec![ban, Reply::json(json!({"result": "FINST-1"}))]).await;
        let reply = save(&client(&server)).await.unwrap();
        assert_eq!(reply.as_deref(), Some("FINST-1"));
        assert_eq!(server.count(), 2);
    }
}

#[tokio::test]
async fn dingtalk_throttling_codes_are_retried_for_a_write() {
    let server = MockServer::script(vec![
        Reply::error(403, "Forbidden.AccessDenied.QpsLimitForApi", "slow", "R1"),
        Reply::error(429, "system.busy", "busy", "R2"),
        Reply::json(json!({"result": "FINST-1"})),
    ])
    .await;
    save(&client(&server)).await.unwrap();
    assert_eq!(server.count(), 3);
}

// ---- 2. Body size caps ----------------------------------------------------------------------

#[tokio::test]
async fn a_reply_over_the_limit_fails_with_the_limit_named() {
    // Announced by Content-Length: refused before reading.
    let big = Reply::Http {
        status: 200,
        headers: vec![],
        body: vec![b' '; 2 << 20],
    };
    let server = MockServer::always(big).await;
    let c = Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(ctx())
        .body_limit(1 << 20)
        .build()
        .unwrap();
    let err = c
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { limit, status: 200, .. } if limit == 1 << 20),
        "{err:?}"
    );
    assert!(err.to_string().contains("1048576-byte body limit"), "{err}");
    assert_eq!(server.count(), 1, "not retried");

    // Chunked, no length: stops once past the limit.
    let server = MockServer::always(Reply::huge(200, 8 << 20)).await;
    let c = Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(ctx())
        .body_limit(1 << 20)
        .build()
        .unwrap();
    let err = c
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err:?}");
    assert!(err.is_decode(), "the request was sent");

    // Under the limit, the same reply reads fine.
    let server = MockServer::always(Reply::huge(200, 512 << 10)).await;
    let c = Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(ctx())
        .body_limit(1 << 20)
        .build()
        .unwrap();
    c.forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap();
}

#[tokio::test]
async fn an_endless_error_body_on_a_write_fails_once_at_the_limit() {
    let server = MockServer::always(Reply::endless(500)).await;
    let c = Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(ctx())
        .body_limit(256 << 10)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let err = save(&c).await.unwrap_err();
    assert!(
        matches!(err, Error::BodyTooLarge { status: 500, limit, .. } if limit == 256 << 10),
        "{err:?}"
    );
    assert_eq!(server.count(), 1);
    assert_eq!(yida_api::DEFAULT_BODY_LIMIT, 32 << 20);
}

#[tokio::test]
async fn an_endless_token_reply_fails_at_the_token_limit() {
    let tokens = MockServer::always(Reply::endless(200)).await;
    let app = InternalApp::new("k", "s")
        .unwrap()
        .endpoint(tokens.url())
        .body_limit(64 << 10);
    let err = tokio::time::timeout(Duration::from_secs(20), app.token())
        .await
        .expect("bounded")
        .unwrap_err();
    assert_eq!(
        err,
        AuthError::BodyTooLarge {
            status: 200,
            limit: 64 << 10
        }
    );
    // The default is 1 MiB, also without a limit set.
    let app = InternalApp::new("k", "s").unwrap().endpoint(tokens.url());
    let err = tokio::time::timeout(Duration::from_secs(20), app.token())
        .await
        .expect("bounded")
        .unwrap_err();
    assert!(
        matches!(err, AuthError::BodyTooLarge { limit, .. } if limit == 1 << 20),
        "{err:?}"
    );
}

// ---- 3. Token fetch retried, under the client's timeouts -----------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_survive_a_token_endpoint_failing_three_times() {
    let tokens = MockServer::start(|_, i| {
        if i < 3 {
            Reply::Delay(
                Duration::from_millis(20),
                Box::new(Reply::error(503, "ServiceUnavailable", "down", "T1")),
            )
        } else {
            Reply::json(json!({"accessToken": "AT", "expireIn": 7200}))
        }
    })
    .await;
    let api = MockServer::always(page()).await;
    let c = Client::builder()
        .endpoint(api.url())
        .token_provider(InternalApp::new("k", "s").unwrap().endpoint(tokens.url()))
        .context(ctx())
        .retry(
            RetryConfig::default()
                .base_delay(Duration::from_millis(20))
                .max_delay(Duration::from_millis(100)),
        )
        .build()
        .unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..300u64 {
        let c = c.clone();
        set.spawn(async move {
            tokio::time::sleep(Duration::from_micros(i * 200)).await;
            c.forms()
                .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        });
    }
    let mut failed = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Err(e) = r.unwrap() {
            failed.push(e);
        }
    }
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        failed.first()
    );
    assert_eq!(tokens.count(), 4, "three failures, then one token for all");
    assert_eq!(api.count(), 300);
}

#[tokio::test]
async fn refused_credentials_are_not_retried() {
    let tokens =
        MockServer::always(Reply::error(400, "invalidClientIdOrSecret", "bad", "T1")).await;
    let api = MockServer::always(page()).await;
    let c = Client::builder()
        .endpoint(api.url())
        .token_provider(InternalApp::new("k", "s").unwrap().endpoint(tokens.url()))
        .context(ctx())
        .retry(fast_retries())
        .build()
        .unwrap();
    let err = c
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Auth(AuthError::Rejected { status: 400, .. })),
        "{err:?}"
    );
    assert_eq!(tokens.count(), 1);
    assert_eq!(api.count(), 0);
}

#[tokio::test]
async fn the_client_timeouts_bound_the_token_fetch() {
    let slow = MockServer::always(Reply::Delay(
        Duration::from_secs(30),
        Box::new(Reply::json(json!({"accessToken": "AT", "expireIn": 7200}))),
    ))
    .await;
    let api = MockServer::always(page()).await;
    // Per attempt: 300 ms, not the provider's own 10 s.
    let c = Client::builder()
        .endpoint(api.url())
        .token_provider(InternalApp::new("k", "s").unwrap().endpoint(slow.url()))
        .context(ctx())
        .timeout(Duration::from_millis(300))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{err}");
    assert!(
        matches!(&err, Error::Auth(AuthError::Transport { message }) if message.contains("timed out")),
        "{err:?}"
    );
    assert_eq!(slow.count(), 1);
    // Retried within the overall timeout, and no longer.
    let c = Client::builder()
        .endpoint(api.url())
        .token_provider(InternalApp::new("k", "s").unwrap().endpoint(slow.url()))
        .context(ctx())
        .timeout(Duration::from_millis(200))
        .total_timeout(Duration::from_millis(1500))
        .retry(
            RetryConfig::default()
                .max_attempts(100)
                .base_delay(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let err = c
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{err}");
    assert!(slow.count() >= 3, "token fetch retried: {}", slow.count());
    assert_eq!(api.count(), 0);
}

// ---- 5. Path values -------------------------------------------------------------------------

#[tokio::test]
async fn dot_segments_and_empty_path_values_are_refused_before_sending() {
    let server = MockServer::always(Reply::json(json!({"result": true}))).await;
    let c = client(&server);
    for v in ["..", ".", ""] {
        let err = yida_e2e::call(&c, "RemoveTenantResource", "1.0", json!({"callerUid": v}))
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                Error::InvalidParameter {
                    name: "callerUid",
                    ..
                }
            ),
            "{v:?}: {err:?}"
        );
    }
    // From the app context too.
    let c = Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(ctx().app_type(".."))
        .build()
        .unwrap();
    let err = yida_e2e::call(
        &c,
        "GetFormComponentDefinitionList",
        "1.0",
        json!({"formUuid": "F"}),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidParameter {
                name: "appType",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.count(), 0, "nothing was sent");
    // Values that merely contain dots are fine.
    yida_e2e::call(
        &c,
        "RemoveTenantResource",
        "1.0",
        json!({"callerUid": "a..b"}),
    )
    .await
    .unwrap();
    assert_eq!(
        server.requests()[0].path,
        "/v1.0/yida/applications/tenantRelatedResources/a..b"
    );
}

// ---- 6. A provider without its own endpoint uses the client's -------------------------------

#[tokio::test]
async fn providers_without_an_endpoint_use_the_clients() {
    let server = MockServer::start(|r, _| {
        if r.path.starts_with("/v1.0/oauth2/") {
            Reply::json(json!({"accessToken": "AT", "expireIn": 7200}))
        } else {
            page()
        }
    })
    .await;
    let c = Client::builder()
        .endpoint(server.url())
        .token_provider(InternalApp::new("k", "APP-SECRET").unwrap())
        .context(ctx())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    c.forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap();
    let tickets = MemoryTicketStore::new();
    tickets.set("TICKET");
    let isv = ThirdPartyApp::new("suite", "SUITE-SECRET", tickets).unwrap();
    let c = Client::builder()
        .endpoint(server.url())
        .token_provider(isv.for_corp("corp1").unwrap())
        .context(ctx())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    c.forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap();
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/v1.0/oauth2/accessToken",
            "/v2.0/yida/forms/instances/search",
            "/v1.0/oauth2/corpAccessToken",
            "/v2.0/yida/forms/instances/search"
        ]
    );
    assert_eq!(server.requests()[0].json()["appSecret"], "APP-SECRET");
    assert_eq!(
        server.requests()[3].header("x-acs-dingtalk-access-token"),
        Some("AT")
    );

    // A provider given its own endpoint keeps it.
    let tokens =
        MockServer::always(Reply::json(json!({"accessToken": "AT2", "expireIn": 7200}))).await;
    let api = MockServer::always(page()).await;
    let c = Client::builder()
        .endpoint(api.url())
        .token_provider(InternalApp::new("k", "s").unwrap().endpoint(tokens.url()))
        .context(ctx())
        .build()
        .unwrap();
    c.forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap();
    assert_eq!(tokens.count(), 1);
    assert_eq!(api.count(), 1);
}

// ---- 7. Server text shown safely ------------------------------------------------------------

#[tokio::test]
async fn server_text_is_stripped_of_control_characters_and_capped() {
    let message = format!(
        "\u{1b}[31mred\r\nInjected: line\u{7}{}",
        "x".repeat(5_000_000)
    );
    let server = MockServer::always(Reply::error(
        400,
        "Bad\u{1b}[2JCode\r\n",
        &message,
        "REQ\n1",
    ))
    .await;
    let err = save(&client(&server)).await.unwrap_err();
    let shown = err.to_string();
    assert!(shown.len() < 2_000, "{} bytes shown", shown.len());
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(shown.contains("redInjected: line"), "{shown}");
    assert!(shown.contains("more bytes"), "{shown}");
    // The raw values stay reachable.
    let api = err.api().unwrap();
    assert_eq!(api.message(), message);
    assert_eq!(api.code(), "Bad\u{1b}[2JCode\r\n");
    assert_eq!(api.request_id.as_deref(), Some("REQ\n1"));

    // The same on the token endpoint.
    let tokens = MockServer::always(Reply::error(400, "invalid\u{1b}[0m", &message, "T")).await;
    let err = InternalApp::new("k", "s")
        .unwrap()
        .endpoint(tokens.url())
        .token()
        .await
        .unwrap_err();
    let shown = err.to_string();
    assert!(
        shown.len() < 2_000 && !shown.chars().any(char::is_control),
        "{shown:?}"
    );
}

// ---- 8. Free JSON never silently becomes null ------------------------------------------------

#[tokio::test]
async fn undecodable_free_json_is_an_error_not_null() {
    let huge: yida_api::RawJson = serde_json::from_str("1e400").unwrap();
    assert!(huge.to_value().is_err());
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep: yida_api::RawJson = serde_json::from_str(&deep).unwrap();
    assert!(deep.to_value().is_err());
    assert!(deep.decode::<serde_json::Value>().is_err());

    // `?` converts RawJson::decode's error into yida_api::Error.
    fn read(raw: &yida_api::RawJson) -> Result<f64, Error> {
        Ok(raw.decode::<f64>()?)
    }
    let err = read(&huge).unwrap_err();
    assert!(
        matches!(err, Error::DecodeValue(_)) && err.is_decode(),
        "{err:?}"
    );

    // A dynamic call whose reply holds such a value: a decoding error after sending.
    for body in [
        r#"{"currentPage":1,"totalCount":1,"data":[{"formData":{"n":1e400}}]}"#.to_string(),
        format!(
            r#"{{"currentPage":1,"totalCount":1,"data":[{{"formData":{}{}}}]}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    ] {
        let server = MockServer::always(Reply::Http {
            status: 200,
            headers: vec![("x-acs-request-id".into(), "REQ-D".into())],
            body: body.into_bytes(),
        })
        .await;
        let err = yida_e2e::call(
            &client(&server),
            "SearchFormDatas",
            "2.0",
            json!({"formUuid": "F"}),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, Error::Decode { status: 200, request_id: Some(r), .. } if r == "REQ-D"),
            "{err:?}"
        );
        assert!(err.is_decode());
        assert_eq!(server.count(), 1);
    }
}

// ---- 9. Token endpoint redirect; no message printed twice ------------------------------------

#[tokio::test]
async fn a_token_endpoint_redirect_is_not_a_refusal_and_nothing_prints_twice() {
    let server = MockServer::always(
        Reply::Http {
            status: 302,
            headers: vec![],
            body: vec![],
        }
        .with_header("location", "http://elsewhere.example/login?ticket=SECRET-T"),
    )
    .await;
    let c = Client::builder()
        .endpoint(server.url())
        .token_provider(InternalApp::new("k", "s").unwrap())
        .context(ctx())
        .retry(fast_retries())
        .build()
        .unwrap();
    let err = c
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Auth(AuthError::Redirect { status: 302, .. })),
        "{err:?}"
    );
    let lines = chain(&err);
    let text = lines.join("\n");
    assert!(!text.contains("refused"), "{text}");
    assert!(text.contains("redirect"), "{text}");
    assert!(!text.contains("SECRET-T") && !text.contains('?'), "{text}");
    assert_eq!(server.count(), 1, "a redirect is not retried");

    // No line of a chain repeats another's text, for the errors that have a cause.
    let refused =
        MockServer::always(Reply::error(400, "invalidClientIdOrSecret", "bad", "T1")).await;
    let c = Client::builder()
        .endpoint(refused.url())
        .token_provider(InternalApp::new("k", "s").unwrap())
        .context(ctx())
        .build()
        .unwrap();
    let auth = c
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap_err();
    let slow = MockServer::always(Reply::Delay(Duration::from_secs(10), Box::new(page()))).await;
    let c = Client::builder()
        .endpoint(slow.url())
        .access_token("t")
        .context(ctx())
        .timeout(Duration::from_millis(100))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let timeout = c
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap_err();
    let huge: yida_api::RawJson = serde_json::from_str("1e400").unwrap();
    let decode: Error = huge.decode::<f64>().unwrap_err().into();
    for e in [&err, &auth, &timeout, &decode] {
        let lines = chain(e);
        for (i, a) in lines.iter().enumerate() {
            for b in &lines[i + 1..] {
                assert!(!a.contains(b.as_str()), "printed twice: {lines:#?}");
            }
        }
    }
}

// ---- 10. Logs: a success at debug; one request_id per span: tests/tracing_spans.rs (its own
// test binary, so that no concurrently running test shares the tracing callsites).
