//! One HTTP exchange (`yida_auth::wire::exchange`) for every call to DingTalk: the same error
//! reply, sent by a real server on 127.0.0.1 to a token fetch, an API call and the Stream
//! gateway's open call, yields the same status, code, message and request id in each of the
//! three error types (the Stream client ends on a refusal only; a ban it waits out).

use serde_json::json;
use std::time::Duration;
use yida_api::{AppContext, Client, RetryConfig};
use yida_auth::{AuthError, InternalApp, TokenProvider};
use yida_e2e::{MockServer, Reply};
use yida_events::{AckStatus, Event, StreamClient, StreamError};

/// What each caller reports: (status, code, message, request id).
type Facts = (u16, Option<String>, Option<String>, Option<String>);

async fn token_fetch(reply: Reply) -> Facts {
    let server = MockServer::always(reply).await;
    let err = InternalApp::new("key", "app-secret-value")
        .unwrap()
        .endpoint(server.url())
        .token()
        .await
        .unwrap_err();
    assert!(!err.to_string().contains("app-secret-value"));
    match err {
        AuthError::Rejected {
            status,
            code,
            message,
            request_id,
        }
        | AuthError::Unavailable {
            status,
            code,
            message,
            request_id,
            ..
        } => (status, code, message, request_id),
        other => panic!("token fetch: {other:?}"),
    }
}

async fn api_call(reply: Reply) -> Facts {
    let server = MockServer::always(reply).await;
    let client = Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(
            AppContext::new()
                .app_type("APP_1")
                .system_token("s")
                .user_id("u"),
        )
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let op = yida_api::operation("GetFormDataByID", "1.0").unwrap();
    let err = client.call(op, json!({"id": "FINST-1"})).await.unwrap_err();
    let api = err.api().unwrap_or_else(|| panic!("API call: {err:?}"));
    (
        api.status,
        api.code.clone(),
        api.message.clone(),
        api.request_id.clone(),
    )
}

async fn stream_open(reply: Reply) -> Facts {
    let server = MockServer::always(reply).await;
    let mut handle = StreamClient::builder("key", "app-secret-value")
        .endpoint(server.url())
        .build()
        .unwrap()
        .start(|_e: Event| async { AckStatus::Success });
    let err = tokio::time::timeout(Duration::from_secs(10), handle.join())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        server.count(),
        1,
        "a refusal of the credentials ends the client"
    );
    match err {
        StreamError::Open {
            status,
            code,
            message,
            request_id,
        } => (status, code, message, request_id),
        other => panic!("stream open: {other:?}"),
    }
}

#[tokio::test]
async fn token_fetch_api_call_and_stream_open_read_an_error_reply_alike() {
    let cases = [
        // DingTalk's error JSON with the request id in the header only.
        Reply::status_json(
            401,
            json!({"code": "InvalidAuthentication", "message": "bad credentials"}),
        )
        .with_header("x-acs-request-id", "HDR-1"),
        // A numeric code, the request id in the body (which wins over the header).
        Reply::status_json(
            403,
            json!({"code": 40014, "message": "不合法的access_token", "requestId": "BODY-2"}),
        )
        .with_header("x-acs-request-id", "HDR-2"),
        // The gateway's ban reply: no code of its own.
        Reply::status_json(403, json!({"status": 1111, "wait": 0.01})),
    ];
    let expected: [Facts; 3] = [
        (
            401,
            Some("InvalidAuthentication".into()),
            Some("bad credentials".into()),
            Some("HDR-1".into()),
        ),
        (
            403,
            Some("40014".into()),
            Some("不合法的access_token".into()),
            Some("BODY-2".into()),
        ),
        (
            403,
            Some("Gateway.Throttled".into()),
            Some("too many requests from this IP; the gateway asks to wait".into()),
            None,
        ),
    ];
    for (i, (reply, want)) in cases.into_iter().zip(expected).enumerate() {
        let token = token_fetch(reply.clone()).await;
        let api = api_call(reply.clone()).await;
        assert_eq!(token, want, "token fetch");
        assert_eq!(api, want, "API call");
        // The Stream client waits a ban out instead of ending (stream.rs:
        // throttling_on_open_is_waited_out_not_taken_for_refused_credentials).
        if i < 2 {
            assert_eq!(stream_open(reply).await, want, "Stream open");
        }
    }
}
