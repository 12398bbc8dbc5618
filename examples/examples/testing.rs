//! Guide: docs/guides/testing.md — testing your own code against the emulator.
//!
//! `file_expense` stands for your code. The emulator runs in the same process (in your tests:
//! a `#[tokio::test]` with `yida-emulator` as a dev-dependency); your code gets a client
//! pointed at it, and the emulator tells what was stored. Faults (errors, throttling,
//! latency) are switched on to test the unhappy paths.

use serde_json::json;
use yida_api::{Client, RetryConfig, SaveFormDataV2Request};
use yida_emulator::{Emulator, Faults, Options};

/// Your code: files an expense, refusing non-positive amounts before anything is sent.
async fn file_expense(
    client: &Client,
    form: &str,
    title: &str,
    amount: f64,
) -> Result<String, Box<dyn std::error::Error>> {
    if amount <= 0.0 {
        return Err(format!("amount must be positive, got {amount}").into());
    }
    let saved = client
        .send(SaveFormDataV2Request::new(
            form,
            json!({ "textField_title": title, "numberField_amount": amount }),
        ))
        .await?;
    Ok(saved.result.ok_or("no form instance id")?)
}

fn client_for(emu: &Emulator) -> Result<Client, Box<dyn std::error::Error>> {
    Ok(Client::builder()
        .endpoint(emu.endpoint())
        .internal_app(emu.app_key(), emu.app_secret())?
        .context(emu.app_context())
        .retry(RetryConfig::disabled()) // one exchange per call: easier to reason about
        .build()?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The demo tenant on a free port of 127.0.0.1; stops when dropped.
    let emu = Emulator::start().await?;
    let client = client_for(&emu)?;

    // The happy path: the record is in the emulator, with the values your code sent.
    let id = file_expense(&client, "FORM-DEMO", "Taxi", 42.5).await?;
    let stored = emu.records("FORM-DEMO");
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].form_instance_id, id);
    assert_eq!(stored[0].data["numberField_amount"], 42.5);
    println!(
        "stored {} with amount {}",
        id, stored[0].data["numberField_amount"]
    );

    // Your own validation: nothing reaches the emulator.
    let refused = file_expense(&client, "FORM-DEMO", "Refund", -1.0)
        .await
        .unwrap_err();
    assert_eq!(emu.records("FORM-DEMO").len(), 1);
    println!("refused locally: {refused}");

    // The server failing: every call answered HTTP 500, nothing applied.
    emu.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let err = file_expense(&client, "FORM-DEMO", "Hotel", 120.0)
        .await
        .unwrap_err();
    assert_eq!(emu.records("FORM-DEMO").len(), 1);
    println!("server error surfaced: {err}");
    emu.set_faults(Faults::default());

    // Throttling: a quota of 1 call per second per API; the second call in a burst is refused
    // with DingTalk's QpsLimitForAppkeyAndApi (the client would retry it when retries are on).
    let strict = Emulator::start_with(Options::default().qps(1)).await?;
    let strict_client = client_for(&strict)?;
    file_expense(&strict_client, "FORM-DEMO", "One", 1.0).await?;
    let throttled = file_expense(&strict_client, "FORM-DEMO", "Two", 2.0)
        .await
        .unwrap_err();
    let api = throttled
        .downcast_ref::<yida_api::Error>()
        .and_then(|e| e.api())
        .ok_or("expected a DingTalk error")?;
    assert!(api.is_throttled());
    println!("throttled: HTTP {} {}", api.status, api.code());
    Ok(())
}
