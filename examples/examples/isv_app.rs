//! Guide: docs/guides/isv-app.md — a third-party enterprise app (第三方企业应用) end to end.
//!
//! DingTalk pushes the suite_ticket to your callback URL (HTTP push, encrypted); the receiver
//! stores it, and one `ThirdPartyApp` then gets a token per authorized company (授权企业).
//! Here the push is built the way DingTalk builds it, with the callback's token and AES key,
//! and handed to the same `HttpEndpoint` your web framework would call.

use std::time::{SystemTime, UNIX_EPOCH};
use yida_api::{AppContext, Client, SearchFormDatasV2Request};
use yida_auth::{MemoryTicketStore, ThirdPartyApp};
use yida_events::{CallbackCrypto, EventKind, HttpEndpoint};
use yida_examples::var;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = var("YIDA_ENDPOINT")?;
    let suite_key = var("YIDA_SUITE_KEY")?;
    let suite_secret = var("YIDA_SUITE_SECRET")?;

    // 1. Ticket intake. The receiver and the token provider share one ticket store.
    let tickets = MemoryTicketStore::new();
    let crypto = CallbackCrypto::new(
        "callback-token",                              // 签名 Token of the callback
        "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij", // aes_key (EncodingAESKey), 43 chars
        &suite_key,                                    // owner key of an ISV app: the SuiteKey
    )?;
    let receiver = HttpEndpoint::new(crypto).suite_tickets(tickets.clone());

    // What DingTalk POSTs: {"encrypt": …} and signature, timestamp, nonce in the query
    // (built here with the same keys, as DingTalk does).
    let crypto = receiver.crypto();
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let push = serde_json::json!({
        "EventType": "suite_ticket",
        "SuiteKey": suite_key,
        "SuiteTicket": var("YIDA_SUITE_TICKET")?,
        "TimeStamp": now_ms.to_string(),
    });
    let encrypt = crypto.encrypt(push.to_string().as_bytes())?;
    let (timestamp, nonce) = (now_ms.to_string(), "nonce123");
    let query = format!(
        "signature={}&timestamp={timestamp}&nonce={nonce}",
        crypto.signature(&timestamp, nonce, &encrypt)
    );
    let body = serde_json::json!({ "encrypt": encrypt }).to_string();
    // The handler runs after the ticket was stored; `success` is answered only if it
    // returns Ok (an Err answers 500 and DingTalk sends the push again).
    let (response, event) = receiver
        .respond(&query, body.as_bytes(), |_event| async {
            Ok::<(), std::convert::Infallible>(())
        })
        .await;
    println!("callback answered HTTP {}", response.status);
    if let Some(EventKind::SuiteTicket(t)) = event.as_ref().map(|e| &e.kind) {
        println!(
            "suite ticket stored for {}",
            t.suite_key.as_deref().unwrap_or("?")
        );
    }

    // 2. One provider for the suite, one token source (and client) per authorized company.
    let isv = ThirdPartyApp::new(&suite_key, suite_secret, tickets)?.endpoint(&endpoint);
    let context = AppContext::new()
        .app_type(var("YIDA_APP_TYPE")?)
        .system_token(var("YIDA_SYSTEM_TOKEN")?)
        .user_id(var("YIDA_USER_ID")?);
    let corp = var("YIDA_AUTH_CORP_ID")?;
    let client = Client::builder()
        .endpoint(&endpoint)
        .token_provider(isv.for_corp(&corp)?)
        .context(context.clone())
        .build()?;
    let page = client
        .send(SearchFormDatasV2Request::new(var("YIDA_DEMO_FORM_UUID")?))
        .await?;
    println!("{corp}: {} record(s)", page.total_count.unwrap_or(0));

    // A company that never authorized the app gets no token: the call fails before it is sent.
    let stranger = Client::builder()
        .endpoint(&endpoint)
        .token_provider(isv.for_corp("ding-not-authorized")?)
        .context(context)
        .build()?;
    match stranger
        .send(SearchFormDatasV2Request::new(var("YIDA_DEMO_FORM_UUID")?))
        .await
    {
        Err(yida_api::Error::Auth(_)) => println!("ding-not-authorized: no token"),
        Err(e) => return Err(e.into()),
        Ok(_) => return Err("an unauthorized company got a token".into()),
    }
    Ok(())
}
