//! yida-auth against a local token endpoint: caching, single flight, expiry, ISV per company,
//! recovery from a rejected token, errors.

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use yida_api::{AppContext, Client, Error, RetryConfig, SearchFormDatasV2Request};
use yida_auth::{
    AuthError, CacheConfig, InternalApp, ManualClock, MemoryTicketStore, MemoryTokenStore,
    ThirdPartyApp, TokenCache, TokenProvider,
};
use yida_e2e::{MockServer, Reply};

fn token_reply(token: &str) -> Reply {
    Reply::json(json!({"accessToken": token, "expireIn": 7200}))
}

/// A token endpoint that hands out tok-1, tok-2, … in order.
async fn counting_token_server(delay: Duration) -> MockServer {
    MockServer::start(move |_, i| {
        Reply::Delay(delay, Box::new(token_reply(&format!("tok-{}", i + 1))))
    })
    .await
}

#[tokio::test]
async fn internal_app_fetches_once_then_serves_from_cache() {
    let server = counting_token_server(Duration::ZERO).await;
    let app = InternalApp::new("dingkey", "app-secret-1")
        .unwrap()
        .endpoint(server.url());
    let a = app.token().await.unwrap();
    let b = app.token().await.unwrap();
    assert_eq!(a.secret().expose(), "tok-1");
    assert_eq!(b.secret().expose(), "tok-1");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path.as_str()),
        ("POST", "/v1.0/oauth2/accessToken")
    );
    assert_eq!(
        reqs[0].json(),
        json!({"appKey": "dingkey", "appSecret": "app-secret-1"})
    );
    assert!(reqs[0]
        .header("content-type")
        .unwrap()
        .starts_with("application/json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_on_a_cold_cache_make_one_request() {
    let server = counting_token_server(Duration::from_millis(100)).await;
    let app = Arc::new(
        InternalApp::new("dingkey", "secret")
            .unwrap()
            .endpoint(server.url()),
    );
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.token().await.map(|t| t.secret().expose().to_string()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "tok-1");
    }
    assert_eq!(server.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_refresh_reaches_every_waiter_and_is_not_cached() {
    let server = MockServer::start(|_, i| {
        if i == 0 {
            Reply::Delay(
                Duration::from_millis(100),
                Box::new(Reply::error(
                    400,
                    "invalidClientIdOrSecret",
                    "无效的clientId或者clientSecret",
                    "REQ-A",
                )),
            )
        } else {
            token_reply("tok-ok")
        }
    })
    .await;
    let app = Arc::new(
        InternalApp::new("dingkey", "wrong")
            .unwrap()
            .endpoint(server.url()),
    );
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.token().await })
        })
        .collect();
    for t in tasks {
        match t.await.unwrap() {
            Err(AuthError::Rejected {
                status,
                code,
                request_id,
                ..
            }) => {
                assert_eq!(status, 400);
                assert_eq!(code.as_deref(), Some("invalidClientIdOrSecret"));
                assert_eq!(request_id.as_deref(), Some("REQ-A"));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(server.count(), 1, "one request for all 50 waiters");
    assert_eq!(app.token().await.unwrap().secret().expose(), "tok-ok");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn tokens_expire_by_the_injected_clock_with_a_safety_margin() {
    let server = counting_token_server(Duration::ZERO).await;
    let clock = ManualClock::new();
    let cache = TokenCache::with_parts(
        Arc::new(MemoryTokenStore::default()),
        Arc::new(clock.clone()),
        CacheConfig {
            safety_margin: Duration::from_secs(300),
            jitter: Duration::from_secs(60),
        },
    );
    let app = InternalApp::new("k", "s")
        .unwrap()
        .endpoint(server.url())
        .cache(cache);
    assert_eq!(app.token().await.unwrap().secret().expose(), "tok-1");
    clock.advance(Duration::from_secs(6800)); // 7200 - 300 - 60 = 6840 at the earliest
    assert_eq!(app.token().await.unwrap().secret().expose(), "tok-1");
    clock.advance(Duration::from_secs(100)); // past 6900 = 7200 - 300: refreshed
    assert_eq!(app.token().await.unwrap().secret().expose(), "tok-2");
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn one_isv_provider_keeps_one_token_per_company_and_reads_the_latest_ticket() {
    let server = MockServer::start(|r, _| {
        let corp = r.json()["authCorpId"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        token_reply(&format!("tok-for-{corp}"))
    })
    .await;
    let tickets = MemoryTicketStore::new();
    tickets.set("ticket-1");
    let isv = ThirdPartyApp::new("suite-key", "suite-secret", tickets.clone())
        .unwrap()
        .endpoint(server.url());
    let acme = isv.for_corp("corp-acme").unwrap();
    let globex = isv.for_corp("corp-globex").unwrap();
    assert_eq!(
        acme.token().await.unwrap().secret().expose(),
        "tok-for-corp-acme"
    );
    assert_eq!(
        acme.token().await.unwrap().secret().expose(),
        "tok-for-corp-acme"
    );
    tickets.set("ticket-2"); // pushed by DingTalk
    assert_eq!(
        globex.token().await.unwrap().secret().expose(),
        "tok-for-corp-globex"
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].path, "/v1.0/oauth2/corpAccessToken");
    assert_eq!(
        reqs[0].json(),
        json!({"suiteKey": "suite-key", "suiteSecret": "suite-secret", "authCorpId": "corp-acme", "suiteTicket": "ticket-1"})
    );
    assert_eq!(reqs[1].json()["suiteTicket"], "ticket-2");
}

#[tokio::test]
async fn missing_credentials_are_refused_before_any_request() {
    let server = counting_token_server(Duration::ZERO).await;
    assert_eq!(
        InternalApp::new("", "s").unwrap_err(),
        AuthError::MissingCredential { field: "appKey" }
    );
    assert_eq!(
        InternalApp::new("k", " ").unwrap_err(),
        AuthError::MissingCredential { field: "appSecret" }
    );
    assert_eq!(
        ThirdPartyApp::new("k", "", MemoryTicketStore::new()).unwrap_err(),
        AuthError::MissingCredential {
            field: "suiteSecret"
        }
    );
    let isv = ThirdPartyApp::new("k", "s", MemoryTicketStore::new())
        .unwrap()
        .endpoint(server.url());
    assert_eq!(
        isv.for_corp("").unwrap_err(),
        AuthError::MissingCredential {
            field: "authCorpId"
        }
    );
    let no_ticket = isv.for_corp("corp").unwrap();
    assert_eq!(
        no_ticket.token().await.unwrap_err(),
        AuthError::MissingCredential {
            field: "suiteTicket"
        }
    );
    assert_eq!(server.count(), 0);
}

#[tokio::test]
async fn isv_token_errors_are_typed() {
    let server = MockServer::always(Reply::error(
        400,
        "invalidSuiteTicket",
        "ticket expired",
        "REQ-T",
    ))
    .await;
    let tickets = MemoryTicketStore::new();
    tickets.set("old");
    let corp = ThirdPartyApp::new("k", "s", tickets)
        .unwrap()
        .endpoint(server.url())
        .for_corp("c")
        .unwrap();
    let err = corp.token().await.unwrap_err();
    assert_eq!(
        err,
        AuthError::Rejected {
            status: 400,
            code: Some("invalidSuiteTicket".into()),
            message: Some("ticket expired".into()),
            request_id: Some("REQ-T".into())
        }
    );
}

fn api_client(api: &MockServer, tokens: impl TokenProvider + 'static) -> Client {
    Client::builder()
        .endpoint(api.url())
        .token_provider(tokens)
        .context(
            AppContext::new()
                .app_type("APP_1")
                .system_token("sys")
                .user_id("u"),
        )
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_rejected_token_is_dropped_renewed_and_the_call_repeated_once() {
    let tokens = counting_token_server(Duration::ZERO).await;
    let api = MockServer::start(|r, _| match r.header("x-acs-dingtalk-access-token") {
        Some("tok-1") => Reply::error(400, "InvalidAuthentication", "token revoked", "REQ-R"),
        _ => Reply::json(json!({"currentPage": 1, "totalCount": 0, "data": []})),
    })
    .await;
    let client = api_client(
        &api,
        InternalApp::new("k", "s").unwrap().endpoint(tokens.url()),
    );
    let reply = client
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("FORM-1"))
        .await
        .unwrap();
    assert_eq!(reply.total_count, Some(0));
    let seen: Vec<_> = api
        .requests()
        .iter()
        .map(|r| r.header("x-acs-dingtalk-access-token").unwrap().to_string())
        .collect();
    assert_eq!(seen, ["tok-1", "tok-2"]);
    assert_eq!(tokens.count(), 2);
}

#[tokio::test]
async fn a_token_rejected_twice_is_an_error_not_a_loop() {
    let tokens = counting_token_server(Duration::ZERO).await;
    let api = MockServer::always(Reply::error(400, "InvalidAuthentication", "bad", "REQ-X")).await;
    let client = api_client(
        &api,
        InternalApp::new("k", "s").unwrap().endpoint(tokens.url()),
    );
    let err = client
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("FORM-1"))
        .await
        .unwrap_err();
    assert!(err.api().unwrap().is_invalid_token());
    assert_eq!(api.count(), 2);
}

#[tokio::test]
async fn no_api_call_goes_out_without_a_token() {
    let tokens =
        MockServer::always(Reply::error(400, "invalidClientIdOrSecret", "bad", "REQ-Y")).await;
    let api = MockServer::always(Reply::json(json!({}))).await;
    let client = api_client(
        &api,
        InternalApp::new("k", "s").unwrap().endpoint(tokens.url()),
    );
    let err = client
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("FORM-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Auth(AuthError::Rejected { .. })),
        "{err:?}"
    );
    assert_eq!(api.count(), 0);
}

#[tokio::test]
async fn internal_app_on_the_builder_uses_the_client_endpoint_for_tokens() {
    let server = MockServer::start(|r, _| {
        if r.path == "/v1.0/oauth2/accessToken" {
            token_reply("tok-shared-endpoint")
        } else {
            Reply::json(json!({"currentPage": 1, "totalCount": 0, "data": []}))
        }
    })
    .await;
    let client = Client::builder()
        .endpoint(server.url())
        .internal_app("k", "s")
        .unwrap()
        .context(
            AppContext::new()
                .app_type("A")
                .system_token("sys")
                .user_id("u"),
        )
        .build()
        .unwrap();
    client
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap();
    client
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("F"))
        .await
        .unwrap();
    let paths: Vec<_> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/v1.0/oauth2/accessToken",
            "/v2.0/yida/forms/instances/search",
            "/v2.0/yida/forms/instances/search"
        ]
    );
    assert_eq!(
        server.requests()[2].header("x-acs-dingtalk-access-token"),
        Some("tok-shared-endpoint")
    );
    assert!(matches!(
        Client::builder().internal_app("", "s").unwrap_err(),
        Error::Auth(AuthError::MissingCredential { field: "appKey" })
    ));
}
