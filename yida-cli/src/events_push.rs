//! `yida events push`: send one signed, encrypted test push the way DingTalk does.

use crate::config::need;
use crate::fail::{Fail, FAILED};
use serde_json::{json, Map, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Send one test push, encrypted and signed as DingTalk does, with YIDA_CALLBACK_TOKEN,
/// YIDA_CALLBACK_AES_KEY and YIDA_CALLBACK_KEY (the suite key for a third-party app). Exits 0
/// when the receiver answers the encrypted `success` DingTalk expects.
#[derive(clap::Args, Debug)]
pub struct PushArgs {
    /// The callback URL (http:// or https://).
    #[arg(long, value_name = "URL")]
    to: String,
    /// EventType: suite_ticket, tmp_auth_code, org_suite_auth, check_url,
    /// bpms_instance_change, bpms_task_change, or any other (sent with --data).
    #[arg(long = "type", value_name = "TYPE")]
    event_type: String,
    /// suite_ticket: the ticket (default: a random one; never printed).
    #[arg(long, value_name = "TICKET")]
    ticket: Option<String>,
    /// The company (AuthCorpId for tmp_auth_code and org_suite_auth, corpId otherwise).
    #[arg(long, value_name = "CORP_ID")]
    corp_id: Option<String>,
    /// tmp_auth_code: the temporary auth code (default: a random one).
    #[arg(long, value_name = "CODE")]
    auth_code: Option<String>,
    /// More fields of the message, as one JSON object (they win over the ones above).
    #[arg(long, value_name = "JSON")]
    data: Option<String>,
}

/// 128 random bits as hex (a default ticket or auth code).
fn random_hex() -> Result<String, Fail> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| Fail(FAILED, format!("error: no random source: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// The message DingTalk would push for `args`.
fn message(args: &PushArgs, suite_key: &str) -> Result<Value, Fail> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
        .to_string();
    let corp = || {
        args.corp_id.clone().ok_or_else(|| {
            Fail::usage(format!(
                "--corp-id: required for --type {}",
                args.event_type
            ))
        })
    };
    let mut m = match args.event_type.as_str() {
        "" => return Err(Fail::usage("--type: must not be empty")),
        "suite_ticket" => json!({
            "EventType": "suite_ticket",
            "SuiteKey": suite_key,
            "SuiteTicket": match &args.ticket { Some(t) => t.clone(), None => random_hex()? },
            "TimeStamp": now,
        }),
        "tmp_auth_code" => json!({
            "EventType": "tmp_auth_code",
            "SuiteKey": suite_key,
            "AuthCorpId": corp()?,
            "AuthCode": match &args.auth_code { Some(c) => c.clone(), None => random_hex()? },
            "TimeStamp": now,
        }),
        "org_suite_auth" => json!({
            "EventType": "org_suite_auth",
            "SuiteKey": suite_key,
            "AuthCorpId": corp()?,
            "TimeStamp": now,
        }),
        "check_url" => json!({"EventType": "check_url", "TimeStamp": now}),
        other => {
            let mut m = json!({"EventType": other, "TimeStamp": now});
            if let Some(c) = &args.corp_id {
                m["corpId"] = json!(c);
            }
            m
        }
    };
    if let Some(d) = &args.data {
        let extra: Map<String, Value> = serde_json::from_str(d)
            .map_err(|e| Fail::usage(format!("--data: not a JSON object ({e})")))?;
        if let Some(obj) = m.as_object_mut() {
            obj.extend(extra);
        }
    }
    Ok(m)
}

/// Sends the push and reports the receiver's answer.
pub async fn run(args: PushArgs) -> Result<(), Fail> {
    let key = need("YIDA_CALLBACK_KEY")?;
    let crypto = yida_events::CallbackCrypto::new(
        need("YIDA_CALLBACK_TOKEN")?,
        need("YIDA_CALLBACK_AES_KEY")?,
        key.clone(),
    )
    .map_err(Fail::usage)?;
    let msg = message(&args, &key)?;
    yida_auth::ensure_tls_provider();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| Fail(FAILED, format!("error: HTTP client: {e}")))?;
    let outcome = yida_events::push(&http, &args.to, &crypto, &msg, Duration::from_secs(30))
        .await
        .map_err(|e| match e {
            yida_events::PushError::Url(_) => Fail::usage(e.to_string()),
            e => Fail(FAILED, format!("error: {e}")),
        })?;
    if outcome.acknowledged {
        eprintln!(
            "pushed {}: HTTP {}, acknowledged (encrypted success)",
            args.event_type, outcome.status
        );
        Ok(())
    } else {
        Err(Fail(
            FAILED,
            format!(
                "error: pushed {}: not acknowledged: {}",
                args.event_type, outcome.detail
            ),
        ))
    }
}
