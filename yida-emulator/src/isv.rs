//! The emulator playing DingTalk for third-party (ISV) apps over HTTP push (`--callback URL`):
//! a suite ticket at start and on an interval, `tmp_auth_code` and `org_suite_auth` when a
//! company authorizes the suite (`POST /_emulator/authorize`, [`Emulator::authorize`]), and
//! every approval event, each encrypted and signed as DingTalk does (yida-events' crypto).
//!
//! [`Emulator::authorize`]: crate::Emulator::authorize

use crate::server::Front;
use crate::shared::{now_ms, Shared};
use crate::stream::Hub;
use crate::Error;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// DingTalk's interval between suite-ticket pushes (about 5 hours).
pub const DEFAULT_TICKET_INTERVAL: Duration = Duration::from_secs(5 * 3600);

/// Where and how the emulator pushes ISV events.
#[derive(Clone)]
pub struct Callback {
    /// The receiver's URL (http:// or https://).
    pub url: String,
    /// The callback token (signatures).
    pub token: String,
    /// The 43-character EncodingAESKey.
    pub aes_key: String,
    /// Time between suite-ticket pushes (the first goes at start).
    pub ticket_interval: Duration,
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("url", &self.url)
            .field("ticket_interval", &self.ticket_interval)
            .finish_non_exhaustive()
    }
}

fn random(n: usize) -> Result<Vec<u8>, Error> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| Error::Invalid(format!("no random source: {e}")))?;
    Ok(b)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Callback {
    /// Pushes to `url` with a random token and AES key (printed by [`Emulator::env`]).
    ///
    /// [`Emulator::env`]: crate::Emulator::env
    pub fn new(url: impl Into<String>) -> Result<Callback, Error> {
        use base64::Engine as _;
        // An EncodingAESKey is 43 characters from a-z, A-Z, 0-9: the base64 of 32 random
        // bytes, drawn again while it holds `+` or `/` (about 1 in 4 draws has neither).
        let mut key = String::new();
        for _ in 0..512 {
            let k = base64::engine::general_purpose::STANDARD_NO_PAD.encode(random(32)?);
            if k.chars().all(|c| c.is_ascii_alphanumeric()) {
                key = k;
                break;
            }
        }
        if key.is_empty() {
            return Err(Error::Invalid("callback: could not draw an AES key".into()));
        }
        Ok(Callback {
            url: url.into(),
            token: hex(&random(16)?),
            aes_key: key,
            ticket_interval: DEFAULT_TICKET_INTERVAL,
        })
    }

    /// Sets the time between suite-ticket pushes (at least 100 ms).
    pub fn ticket_interval(mut self, d: Duration) -> Self {
        self.ticket_interval = d.max(Duration::from_millis(100));
        self
    }
}

/// An event on its way to the callback.
pub struct Pushed {
    pub(crate) event_type: String,
    pub(crate) corp_id: String,
    pub(crate) data: Value,
}

struct Pusher {
    shared: Arc<Shared>,
    http: reqwest::Client,
    crypto: yida_events::CallbackCrypto,
    url: String,
    suite_key: String,
}

/// Checks the callback, and starts the task that pushes (ended by aborting its handle).
pub(crate) fn start(
    shared: Arc<Shared>,
    hub: Arc<Hub>,
    cb: &Callback,
) -> Result<tokio::task::JoinHandle<()>, Error> {
    let url = reqwest::Url::parse(&cb.url)
        .map_err(|e| Error::Invalid(format!("callback: `{}` is not a URL ({e})", cb.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::Invalid(
            "callback: must be http:// or https://".into(),
        ));
    }
    let suite_key = shared
        .with_seed(|s| s.suites.first().map(|x| x.suite_key.clone()))
        .ok_or_else(|| {
            Error::Invalid("callback: the seed has no suite (suites:) to push for".into())
        })?;
    let crypto = yida_events::CallbackCrypto::new(
        cb.token.as_str(),
        cb.aes_key.as_str(),
        suite_key.as_str(),
    )
    .map_err(|e| Error::Invalid(format!("callback: {e}")))?;
    yida_auth::ensure_tls_provider();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| Error::Invalid(format!("callback: HTTP client: {e}")))?;
    let (tx, rx) = mpsc::unbounded_channel();
    hub.set_tap(tx);
    let pusher = Arc::new(Pusher {
        shared,
        http,
        crypto,
        url: cb.url.clone(),
        suite_key,
    });
    Ok(tokio::spawn(pusher.run(rx, cb.ticket_interval)))
}

impl Pusher {
    async fn run(self: Arc<Self>, mut rx: mpsc::UnboundedReceiver<Pushed>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => self.push_ticket().await,
                ev = rx.recv() => match ev {
                    Some(ev) => self.push_event(ev).await,
                    None => return,
                },
            }
        }
    }

    /// A new suite ticket: valid from now on (the seed's ticket), then pushed.
    async fn push_ticket(&self) {
        let Ok(bytes) = random(16) else {
            return;
        };
        let ticket = hex(&bytes);
        let key = self.suite_key.clone();
        let t = ticket.clone();
        let _ = self.shared.update_seed(move |s| {
            if let Some(suite) = s.suites.iter_mut().find(|x| x.suite_key == key) {
                suite.suite_ticket = t;
            }
        });
        let msg = json!({
            "EventType": "suite_ticket",
            "SuiteKey": self.suite_key,
            "SuiteTicket": ticket,
            "TimeStamp": now_ms().to_string(),
        });
        self.send("suite_ticket", &msg).await;
    }

    async fn push_event(&self, ev: Pushed) {
        let mut msg = match ev.data {
            Value::Object(m) => Value::Object(m),
            other => json!({ "data": other }),
        };
        if let Some(m) = msg.as_object_mut() {
            m.insert("EventType".into(), json!(ev.event_type));
            if matches!(ev.event_type.as_str(), "tmp_auth_code" | "org_suite_auth") {
                m.insert("SuiteKey".into(), json!(self.suite_key));
                m.insert("AuthCorpId".into(), json!(ev.corp_id));
            } else {
                m.entry("corpId").or_insert_with(|| json!(ev.corp_id));
            }
            m.entry("TimeStamp")
                .or_insert_with(|| json!(now_ms().to_string()));
        }
        self.send(&ev.event_type, &msg).await;
    }

    /// Pushes one message; like DingTalk, pushes again (3 attempts, 1 s apart) until the
    /// receiver answers the encrypted `success`.
    async fn send(&self, what: &str, msg: &Value) {
        for attempt in 1..=3 {
            match yida_events::push(
                &self.http,
                &self.url,
                &self.crypto,
                msg,
                Duration::from_secs(10),
            )
            .await
            {
                Ok(o) if o.acknowledged => {
                    tracing::info!(target: "yida_emulator", event = what, "callback push acknowledged");
                    return;
                }
                Ok(o) => {
                    tracing::warn!(target: "yida_emulator", event = what, attempt, status = o.status, detail = %o.detail, "callback push not acknowledged")
                }
                Err(e) => {
                    tracing::warn!(target: "yida_emulator", event = what, attempt, error = %e, "callback push failed")
                }
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Authorizes `corp_id` for the first suite and pushes `tmp_auth_code` and `org_suite_auth`.
pub(crate) fn authorize(shared: &Shared, hub: &Hub, corp_id: &str) -> Result<(), Error> {
    if corp_id.trim().is_empty() || corp_id.len() > 128 {
        return Err(Error::Invalid("corpId: must be 1 to 128 characters".into()));
    }
    let corp = corp_id.to_string();
    let mut found = false;
    shared.update_seed(|s| {
        if let Some(suite) = s.suites.first_mut() {
            found = true;
            if !suite.auth_corp_ids.contains(&corp) {
                suite.auth_corp_ids.push(corp.clone());
            }
        }
    })?;
    if !found {
        return Err(Error::Invalid(
            "the seed has no suite (suites:) to authorize".into(),
        ));
    }
    let code = hex(&random(16)?);
    hub.to_callback("tmp_auth_code", corp_id, &json!({ "AuthCode": code }));
    hub.to_callback("org_suite_auth", corp_id, &json!({}));
    Ok(())
}

/// `POST /_emulator/authorize` with `{"corpId":"…"}`: a company authorizes the suite.
pub(crate) async fn authorize_route(State(front): State<Front>, body: Bytes) -> Response {
    let corp = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("corpId").and_then(Value::as_str).map(str::to_string));
    let Some(corp) = corp else {
        return (
            StatusCode::BAD_REQUEST,
            "body: expected {\"corpId\":\"…\"}\n",
        )
            .into_response();
    };
    match authorize(&front.shared, &front.hub, &corp) {
        Ok(()) => (StatusCode::OK, "{}").into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    }
}
