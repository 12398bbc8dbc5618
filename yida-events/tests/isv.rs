//! The ISV flow end to end over HTTP: an encrypted suite ticket is pushed to the callback
//! endpoint → the store holds it → the corp token is fetched with it from a local token
//! server → the API call carries that token.

mod common;

use common::*;
use serde_json::json;
use yida_api::{AppContext, Client, RetryConfig, SearchFormDatasV2Request};
use yida_auth::{MemoryTicketStore, ThirdPartyApp};
use yida_e2e::{MockServer, Reply};
use yida_events::{CallbackCrypto, HttpEndpoint};

#[tokio::test]
async fn a_pushed_ticket_reaches_the_token_fetch_and_the_api_call() {
    let tickets = MemoryTicketStore::new();
    let endpoint = HttpEndpoint::new(
        CallbackCrypto::new(TOKEN, AES, OWNER)
            .unwrap()
            .max_age(None),
    )
    .suite_tickets(tickets.clone());
    let callback = CallbackServer::start(endpoint).await;

    let token_server = MockServer::start(|r, _| {
        let ticket = r.json()["suiteTicket"].as_str().unwrap_or("").to_string();
        Reply::json(json!({"accessToken": format!("corp-token-from-{ticket}"), "expireIn": 7200}))
    })
    .await;
    let api = MockServer::always(Reply::json(
        json!({"currentPage": 1, "totalCount": 0, "data": []}),
    ))
    .await;
    let isv = ThirdPartyApp::new(OWNER, "suite-secret", tickets.clone())
        .unwrap()
        .endpoint(token_server.url());
    let client = Client::builder()
        .endpoint(api.url())
        .token_provider(isv.for_corp("dingcorp1").unwrap())
        .context(
            AppContext::new()
                .app_type("APP_1")
                .system_token("sys")
                .user_id("u"),
        )
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();

    // Nothing pushed yet: no ticket, no token request, no API call.
    let err = client
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("FORM-1"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("suiteTicket"), "{err}");
    assert_eq!((token_server.count(), api.count()), (0, 0));

    // The newest ticket is pushed; then an older one arrives late and is not kept.
    let (status, _) = callback
        .push(&format!("/?{}", query(TICKET.1)), body(TICKET.0))
        .await;
    assert_eq!(status, 200);
    let (status, _) = callback
        .push(&format!("/?{}", query(TICKET_OLD.1)), body(TICKET_OLD.0))
        .await;
    assert_eq!(status, 200, "an older push is still acknowledged");
    assert_eq!(tickets.ticket().unwrap().expose(), "TICKET-NEW");

    client
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("FORM-1"))
        .await
        .unwrap();
    let token_reqs = token_server.requests();
    assert_eq!(token_reqs.len(), 1);
    assert_eq!(token_reqs[0].path, "/v1.0/oauth2/corpAccessToken");
    assert_eq!(
        token_reqs[0].json(),
        json!({"suiteKey": OWNER, "suiteSecret": "suite-secret", "authCorpId": "dingcorp1", "suiteTicket": "TICKET-NEW"})
    );
    let api_reqs = api.requests();
    assert_eq!(api_reqs.len(), 1);
    assert_eq!(
        api_reqs[0].header("x-acs-dingtalk-access-token"),
        Some("corp-token-from-TICKET-NEW")
    );
    // The event log holds both pushes, secrets redacted.
    let events = callback.events.lock().unwrap().clone();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| !format!("{e:?}").contains("TICKET-")));
}
