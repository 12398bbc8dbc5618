//! Stream mode: an outbound WebSocket to DingTalk's gateway that receives events.

use crate::event::{Event, EventKind};
use crate::tickets::intake;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use yida_auth::wire::{exchange, printable, transport_message, ExchangeError};
use yida_auth::{Secret, SuiteTicketStore};

/// DingTalk's API endpoint, where connections are opened (`yida_auth::DEFAULT_ENDPOINT`).
pub const DEFAULT_STREAM_ENDPOINT: &str = yida_auth::DEFAULT_ENDPOINT;

/// Largest frame accepted from the gateway (1 MiB).
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// Largest open-connection reply read (64 KiB; a real one is a few hundred bytes).
pub const MAX_OPEN_REPLY_BYTES: usize = 64 * 1024;

/// Most bytes waiting to be written to the gateway; beyond that the connection is taken for
/// dead (a peer that does not read) and replaced.
const MAX_WRITE_BUFFER: usize = 1 << 20;

/// Longest gateway text (code, message, request id) shown in an error, in characters.
const MAX_SHOWN: usize = 200;

/// How the client acknowledges an EVENT frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AckMode {
    /// ACK with the handler's status once it returned (default): an event whose handler
    /// failed or never finished is delivered again.
    #[default]
    AfterHandler,
    /// ACK `SUCCESS` on receipt, then run the handler (its status is ignored): no
    /// redelivery, even if the handler fails.
    Immediately,
}

/// The status an EVENT is acknowledged with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckStatus {
    /// Processed; do not send again.
    Success,
    /// Not processed; DingTalk sends it again later.
    Later,
}

impl AckStatus {
    fn data(self) -> String {
        match self {
            AckStatus::Success => json!({"status": "SUCCESS", "message": "success"}),
            AckStatus::Later => json!({"status": "LATER", "message": "later"}),
        }
        .to_string()
    }
}

/// The future an [`EventHandler`] returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = AckStatus> + Send + 'static>>;

/// Receives events. Any `Fn(Event) -> impl Future<Output = AckStatus>` is one.
pub trait EventHandler: Send + Sync + 'static {
    /// Handles one event; the returned status is the ACK (see [`AckMode`]).
    fn handle(&self, event: Event) -> HandlerFuture;
}

impl<F, Fut> EventHandler for F
where
    F: Fn(Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = AckStatus> + Send + 'static,
{
    fn handle(&self, event: Event) -> HandlerFuture {
        Box::pin(self(event))
    }
}

/// Why the Stream client stopped, or could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// A setting is unusable; nothing was sent.
    #[error("invalid `{name}`: {reason}")]
    Config {
        /// The setting.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The gateway refused to open a connection (first attempt: the credentials are wrong).
    /// Shown with the gateway's text made printable and capped (control characters and
    /// escape sequences dropped), like API errors.
    #[error("opening a Stream connection failed: HTTP {status}{}{}{}", code.as_ref().map(|c| format!(", code {}", printable(c, MAX_SHOWN))).unwrap_or_default(), message.as_ref().map(|m| format!(": {}", printable(m, MAX_SHOWN))).unwrap_or_default(), request_id.as_ref().map(|r| format!(" (request id {})", printable(r, MAX_SHOWN))).unwrap_or_default())]
    Open {
        /// HTTP status.
        status: u16,
        /// DingTalk error code (raw: shown through [`yida_auth::wire::printable`]).
        code: Option<String>,
        /// DingTalk error message (raw).
        message: Option<String>,
        /// Request id.
        request_id: Option<String>,
    },
}

/// Builds a [`StreamClient`].
#[derive(Clone)]
pub struct StreamClientBuilder {
    client_id: String,
    client_secret: Secret,
    endpoint: String,
    subscriptions: Vec<(String, String)>,
    ua: String,
    local_ip: String,
    ack_mode: AckMode,
    max_concurrency: usize,
    max_pending: usize,
    idle_timeout: Duration,
    write_timeout: Duration,
    backoff: (Duration, Duration),
    dedupe_capacity: usize,
    shutdown_grace: Duration,
    tickets: Option<Arc<dyn SuiteTicketStore>>,
    http: Option<reqwest::Client>,
}

impl fmt::Debug for StreamClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamClientBuilder")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("endpoint", &self.endpoint)
            .field("subscriptions", &self.subscriptions)
            .field("ack_mode", &self.ack_mode)
            .field("max_concurrency", &self.max_concurrency)
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

/// A Stream mode client: opens a connection, answers pings, reconnects, deduplicates and
/// ACKs events. Start it with [`StreamClient::start`].
///
/// ```no_run
/// use yida_events::{AckStatus, EventKind, StreamClient};
/// # async fn run() -> Result<(), yida_events::StreamError> {
/// let client = StreamClient::builder("dingappkey", "app-secret")
///     .subscribe("EVENT", "*") // the default when nothing is subscribed
///     .build()?;
/// let handle = client.start(|event: yida_events::Event| async move {
///     if let EventKind::BpmsInstanceChange(change) = &event.kind {
///         println!("{} {:?} {:?}", change.process_instance_id, change.change, change.result);
///     }
///     AckStatus::Success
/// });
/// // ... later
/// handle.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct StreamClient {
    cfg: Arc<StreamClientBuilder>,
}

impl StreamClient {
    /// A builder for the app's client id and secret (app key/secret for an internal app,
    /// suite key/secret for a third-party app).
    pub fn builder(
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> StreamClientBuilder {
        StreamClientBuilder {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            endpoint: DEFAULT_STREAM_ENDPOINT.into(),
            subscriptions: Vec::new(),
            ua: concat!("yida-rs/", env!("CARGO_PKG_VERSION")).into(),
            local_ip: String::new(),
            ack_mode: AckMode::AfterHandler,
            max_concurrency: 16,
            max_pending: 256,
            idle_timeout: Duration::from_secs(120),
            write_timeout: Duration::from_secs(10),
            backoff: (Duration::from_secs(1), Duration::from_secs(60)),
            dedupe_capacity: 10_000,
            shutdown_grace: Duration::from_secs(5),
            tickets: None,
            http: None,
        }
    }
}

impl StreamClientBuilder {
    /// Base URL of the API endpoint where connections are opened (default
    /// [`DEFAULT_STREAM_ENDPOINT`]); `POST {endpoint}/v1.0/gateway/connections/open`.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// Subscribes to a topic: `("EVENT", "*")` for all events (the default when nothing is
    /// subscribed), or `("CALLBACK", topic)`; callback frames reach the handler as events
    /// whose type is the topic.
    pub fn subscribe(mut self, kind: impl Into<String>, topic: impl Into<String>) -> Self {
        self.subscriptions.push((kind.into(), topic.into()));
        self
    }

    /// The `ua` sent when opening a connection.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.ua = ua.into();
        self
    }

    /// The `localIp` sent when opening a connection (default empty).
    pub fn local_ip(mut self, ip: impl Into<String>) -> Self {
        self.local_ip = ip.into();
        self
    }

    /// When to ACK (default [`AckMode::AfterHandler`]).
    pub fn ack_mode(mut self, mode: AckMode) -> Self {
        self.ack_mode = mode;
        self
    }

    /// Handlers running at once (default 16), and events waiting for one (default 256);
    /// beyond that an event is ACKed `LATER` at once, to be delivered again.
    pub fn max_concurrency(mut self, running: usize, waiting: usize) -> Self {
        self.max_concurrency = running;
        self.max_pending = waiting;
        self
    }

    /// Reconnect when nothing arrived for this long (default 120 s). A WebSocket ping is
    /// sent after a quarter of it, so a healthy gateway always has something to answer.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// Longest wait for a frame (ACK, pong) to be written to the gateway (default 10 s): a
    /// gateway that stops reading is taken for dead and the client reconnects. What waits
    /// to be written is bounded too (1 MiB).
    pub fn write_timeout(mut self, t: Duration) -> Self {
        self.write_timeout = t;
        self
    }

    /// Wait between reconnection attempts: starts at `min`, doubles up to `max` (default
    /// 1 s to 60 s); back to `min` after a connection that received frames.
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        self.backoff = (min, max.max(min));
        self
    }

    /// Event ids remembered to drop redeliveries (default 10 000; oldest forgotten first).
    pub fn dedupe_capacity(mut self, n: usize) -> Self {
        self.dedupe_capacity = n;
        self
    }

    /// How long [`StreamHandle::shutdown`] and a server `disconnect` wait for running
    /// handlers to finish (and be ACKed) before aborting them (default 5 s).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// Stores pushed suite tickets here (the store [`yida_auth::ThirdPartyApp`] reads),
    /// before the handler runs; a store failure ACKs the event `LATER`.
    pub fn suite_tickets(mut self, store: impl SuiteTicketStore + 'static) -> Self {
        self.tickets = Some(Arc::new(store));
        self
    }

    /// The HTTP client for opening connections. With only the `tls-ring` feature, call
    /// [`yida_auth::ensure_tls_provider`] before building it.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the settings.
    pub fn build(mut self) -> Result<StreamClient, StreamError> {
        let cfg = |name, reason: &str| StreamError::Config {
            name,
            reason: reason.into(),
        };
        if self.client_id.trim().is_empty() {
            return Err(cfg("clientId", "empty"));
        }
        if self.client_secret.is_blank() {
            return Err(cfg("clientSecret", "empty"));
        }
        let ep = self.endpoint.trim_end_matches('/').to_string();
        if !(ep.starts_with("https://") || ep.starts_with("http://")) {
            return Err(cfg("endpoint", "must start with https:// or http://"));
        }
        self.endpoint = ep;
        if self.max_concurrency == 0 {
            return Err(cfg("maxConcurrency", "must be at least 1"));
        }
        if self.idle_timeout < Duration::from_millis(10) {
            return Err(cfg("idleTimeout", "must be at least 10 ms"));
        }
        if self.write_timeout < Duration::from_millis(10) {
            return Err(cfg("writeTimeout", "must be at least 10 ms"));
        }
        for (k, t) in &self.subscriptions {
            if k.is_empty() || t.is_empty() {
                return Err(cfg("subscriptions", "type and topic must not be empty"));
            }
        }
        if self.subscriptions.is_empty() {
            self.subscriptions.push(("EVENT".into(), "*".into()));
        }
        Ok(StreamClient {
            cfg: Arc::new(self),
        })
    }
}

/// A running Stream client. [`shutdown`](StreamHandle::shutdown) stops it; dropping the
/// handle stops it too (without waiting). [`ready`](StreamHandle::ready) waits until it is
/// connected, and [`stats`](StreamHandle::stats) gives counters a service can export.
#[derive(Debug)]
pub struct StreamHandle {
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<Result<(), StreamError>>>,
    connected: watch::Receiver<bool>,
    stats: Arc<Counters>,
}

/// Counters of a running [`StreamClient`], from [`StreamHandle::stats`]. Each only grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct StreamStats {
    /// Whether a connection is open now.
    pub connected: bool,
    /// Connections opened (the first one included).
    pub connections: u64,
    /// Times the client reconnected after a connection ended (`connections - 1` at most).
    pub reconnects: u64,
    /// EVENT and CALLBACK frames received (redeliveries included).
    pub events: u64,
    /// ACKs sent with `SUCCESS`.
    pub acks_success: u64,
    /// ACKs sent with `LATER`.
    pub acks_later: u64,
}

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    reconnects: AtomicU64,
    events: AtomicU64,
    acks_success: AtomicU64,
    acks_later: AtomicU64,
}

impl Counters {
    fn ack(&self, status: AckStatus) {
        match status {
            AckStatus::Success => &self.acks_success,
            AckStatus::Later => &self.acks_later,
        }
        .fetch_add(1, Ordering::Relaxed);
    }
}

impl StreamHandle {
    /// Waits until a connection is open (at once if one is). Returns `false` if the client
    /// stopped first (refused credentials, shutdown). Use it instead of a warm-up sleep:
    ///
    /// ```no_run
    /// # async fn run(handle: yida_events::StreamHandle) {
    /// if !handle.ready().await {
    ///     eprintln!("stream client stopped before connecting");
    /// }
    /// # }
    /// ```
    pub async fn ready(&self) -> bool {
        let mut rx = self.connected.clone();
        let ok = rx.wait_for(|c| *c).await.is_ok();
        ok
    }

    /// Whether a connection is open now.
    pub fn is_connected(&self) -> bool {
        *self.connected.borrow()
    }

    /// The counters (connections, reconnects, events, ACKs by status).
    pub fn stats(&self) -> StreamStats {
        let c = &self.stats;
        StreamStats {
            connected: self.is_connected(),
            connections: c.connections.load(Ordering::Relaxed),
            reconnects: c.reconnects.load(Ordering::Relaxed),
            events: c.events.load(Ordering::Relaxed),
            acks_success: c.acks_success.load(Ordering::Relaxed),
            acks_later: c.acks_later.load(Ordering::Relaxed),
        }
    }

    /// Stops reading, lets running handlers finish and be ACKed (up to the grace period),
    /// closes the socket and waits until every task has ended.
    pub async fn shutdown(mut self) -> Result<(), StreamError> {
        let _ = self.stop.send(true);
        self.join_inner().await
    }

    /// Waits until the client stops by itself: only when the very first connection attempt
    /// is refused (wrong credentials); it reconnects otherwise. Cancel-safe: select it
    /// against a signal, then call [`shutdown`](Self::shutdown).
    pub async fn join(&mut self) -> Result<(), StreamError> {
        let Some(task) = self.task.as_mut() else {
            return Ok(());
        };
        let r = task.await.unwrap_or(Ok(()));
        self.task = None;
        r
    }

    async fn join_inner(&mut self) -> Result<(), StreamError> {
        match self.task.take() {
            Some(t) => t.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

impl Drop for StreamHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl StreamClient {
    /// Starts connecting and delivering events to `handler` (on the current Tokio runtime).
    pub fn start(&self, handler: impl EventHandler) -> StreamHandle {
        let (stop, stop_rx) = watch::channel(false);
        let (connected_tx, connected) = watch::channel(false);
        let stats = Arc::new(Counters::default());
        let runner = Runner {
            connected: connected_tx,
            stats: stats.clone(),
            cfg: self.cfg.clone(),
            http: self.cfg.http.clone().unwrap_or_else(|| {
                yida_auth::ensure_tls_provider();
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap_or_default()
            }),
            handler: Arc::new(handler),
            stop: stop_rx,
            tasks: JoinSet::new(),
            running: HashMap::new(),
            permits: Arc::new(Semaphore::new(self.cfg.max_concurrency)),
            dedupe: Dedupe::new(self.cfg.dedupe_capacity),
        };
        StreamHandle {
            stop,
            task: Some(tokio::spawn(runner.run())),
            connected,
            stats,
        }
    }
}

/// The outcome of one handler task: dedupe key, message id, status.
type Done = (String, String, AckStatus);

struct Runner {
    connected: watch::Sender<bool>,
    stats: Arc<Counters>,
    cfg: Arc<StreamClientBuilder>,
    http: reqwest::Client,
    handler: Arc<dyn EventHandler>,
    stop: watch::Receiver<bool>,
    tasks: JoinSet<Done>,
    running: HashMap<tokio::task::Id, (String, String)>,
    permits: Arc<Semaphore>,
    dedupe: Dedupe,
}

enum End {
    Disconnect,
    Lost(String),
    Idle,
    Stop,
}

#[derive(Deserialize)]
struct OpenReply {
    endpoint: String,
    ticket: String,
}

#[derive(Deserialize)]
struct Frame {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    headers: Map<String, Value>,
    #[serde(default)]
    data: Value,
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Runner {
    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }

    async fn run(mut self) -> Result<(), StreamError> {
        let (min, max) = self.cfg.backoff;
        let mut delay = min;
        let mut ever_connected = false;
        let result = loop {
            if self.stopped() {
                break Ok(());
            }
            let ws = match self.connect().await {
                Ok(ws) => ws,
                Err(e) => {
                    // A first refusal ends the client (the credentials are wrong), unless
                    // DingTalk is only throttling (the exchange's one rule: a throttling
                    // code, a 429, the gateway's ban), which passes.
                    if !ever_connected {
                        if let StreamError::Open { status, code, .. } = &e {
                            let throttled =
                                yida_auth::wire::is_throttled(*status, code.as_deref(), true);
                            if (400..500).contains(status) && *status != 429 && !throttled {
                                break Err(e);
                            }
                        }
                    }
                    tracing::warn!(error = %e, "stream: connecting failed; retrying");
                    if self.pause(delay).await {
                        break Ok(());
                    }
                    delay = (delay * 2).min(max);
                    continue;
                }
            };
            if ever_connected {
                self.stats.reconnects.fetch_add(1, Ordering::Relaxed);
            }
            ever_connected = true;
            self.stats.connections.fetch_add(1, Ordering::Relaxed);
            self.connected.send_replace(true);
            let (end, got_frames) = self.serve(ws).await;
            self.connected.send_replace(false);
            if got_frames {
                delay = min;
            }
            match end {
                End::Stop => break Ok(()),
                End::Disconnect => tracing::info!("stream: gateway asked to reconnect"),
                End::Idle => tracing::warn!("stream: connection silent; reconnecting"),
                End::Lost(why) => tracing::warn!(reason = %why, "stream: connection lost"),
            }
            if self.pause(delay).await {
                break Ok(());
            }
            if !got_frames {
                delay = (delay * 2).min(max);
            }
        };
        // Whatever is still running is aborted and awaited: nothing outlives the runner.
        self.tasks.shutdown().await;
        result
    }

    /// Sleeps, or returns true at once when asked to stop.
    async fn pause(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => false,
            _ = wait_stop(self.stop.clone()) => true,
        }
    }

    async fn connect(&self) -> Result<Ws, StreamError> {
        let cfg = &self.cfg;
        let subs: Vec<Value> = cfg
            .subscriptions
            .iter()
            .map(|(k, t)| json!({"type": k, "topic": t}))
            .collect();
        let body = json!({
            "clientId": cfg.client_id,
            "clientSecret": cfg.client_secret.expose(),
            "subscriptions": subs,
            "ua": cfg.ua,
            "localIp": cfg.local_ip,
        });
        let url = format!("{}/v1.0/gateway/connections/open", cfg.endpoint);
        let transport = |m: String| StreamError::Open {
            status: 0,
            code: None,
            message: Some(m),
            request_id: None,
        };
        let request = self
            .http
            .post(&url)
            .header("accept", "application/json")
            .json(&body);
        // The same exchange as token fetches and API calls (capped body, DingTalk's error
        // body and request id), bounded in time as a whole.
        let reply = tokio::time::timeout(
            Duration::from_secs(15),
            exchange(request, MAX_OPEN_REPLY_BYTES),
        )
        .await
        .map_err(|_| transport("timed out".into()))?
        .map_err(|e| match e {
            ExchangeError::Transport(e) => transport(transport_message(e)),
            ExchangeError::Redirect { status, .. } => StreamError::Open {
                status,
                code: None,
                message: Some("redirect not followed".into()),
                request_id: None,
            },
            ExchangeError::TooLarge {
                status,
                request_id,
                limit,
            } => StreamError::Open {
                status,
                code: None,
                message: Some(format!("reply longer than {limit} bytes; reading stopped")),
                request_id,
            },
            ExchangeError::Refused(r) => StreamError::Open {
                status: r.status,
                code: r.code,
                message: r.message,
                request_id: r.request_id,
            },
        })?;
        let status = reply.status;
        let bytes = reply.body;
        let open: OpenReply = serde_json::from_slice(&bytes).map_err(|_| StreamError::Open {
            status,
            code: None,
            message: Some("reply is not {endpoint, ticket}".into()),
            request_id: None,
        })?;
        if open.endpoint.is_empty() || open.ticket.is_empty() {
            return Err(transport("empty endpoint or ticket".into()));
        }
        let ws_url = ws_url(&open.endpoint, &open.ticket)?;
        let mut ws_cfg = WebSocketConfig::default();
        ws_cfg.max_message_size = Some(MAX_FRAME_BYTES);
        ws_cfg.max_frame_size = Some(MAX_FRAME_BYTES);
        ws_cfg.max_write_buffer_size = MAX_WRITE_BUFFER;
        let connect =
            tokio_tungstenite::connect_async_with_config(ws_url.as_str(), Some(ws_cfg), false);
        let (ws, _) = tokio::time::timeout(Duration::from_secs(15), connect)
            .await
            .map_err(|_| transport("WebSocket handshake timed out".into()))?
            .map_err(|e| {
                transport(format!(
                    "WebSocket: {}",
                    printable(&e.to_string(), MAX_SHOWN)
                ))
            })?;
        tracing::info!("stream: connected");
        Ok(ws)
    }

    /// Runs one connection until it ends. Returns how, and whether any frame arrived.
    async fn serve(&mut self, mut ws: Ws) -> (End, bool) {
        let idle = self.cfg.idle_timeout;
        let mut got_frames = false;
        let mut last_seen = tokio::time::Instant::now();
        let mut pinged = false;
        let stop = wait_stop(self.stop.clone());
        tokio::pin!(stop);
        let end = loop {
            let ping_at = last_seen + idle / 4;
            let dead_at = last_seen + idle;
            tokio::select! {
                _ = &mut stop => break End::Stop,
                Some(done) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    if let Err(e) = self.finished(&mut ws, done).await {
                        break End::Lost(e);
                    }
                }
                _ = tokio::time::sleep_until(ping_at), if !pinged => {
                    pinged = true;
                    let ping = ws.send(Message::Ping(Vec::new().into()));
                    match tokio::time::timeout(self.cfg.write_timeout, ping).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => break End::Lost(e.to_string()),
                        Err(_) => break End::Lost("the gateway is not reading".into()),
                    }
                }
                _ = tokio::time::sleep_until(dead_at) => break End::Idle,
                msg = ws.next() => {
                    let msg = match msg {
                        None => break End::Lost("closed".into()),
                        Some(Err(e)) => break End::Lost(e.to_string()),
                        Some(Ok(m)) => m,
                    };
                    last_seen = tokio::time::Instant::now();
                    pinged = false;
                    got_frames = true;
                    match msg {
                        Message::Text(t) => match self.frame(&mut ws, t.as_str()).await {
                            Ok(true) => break End::Disconnect,
                            Ok(false) => {}
                            Err(e) => break End::Lost(e),
                        },
                        Message::Close(_) => break End::Lost("closed by gateway".into()),
                        _ => {}
                    }
                }
            }
        };
        if matches!(end, End::Disconnect | End::Stop) {
            self.drain(&mut ws).await;
        }
        // Close the socket: a close frame when it still works, then drop it.
        let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(None)).await;
        (end, got_frames)
    }

    /// Lets running handlers finish (ACKing them on `ws`) up to the grace period.
    async fn drain(&mut self, ws: &mut Ws) {
        let deadline = tokio::time::Instant::now() + self.cfg.shutdown_grace;
        while !self.tasks.is_empty() {
            match tokio::time::timeout_at(deadline, self.tasks.join_next_with_id()).await {
                Ok(Some(done)) => {
                    if self.finished(ws, done).await.is_err() {
                        break;
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        if !self.tasks.is_empty() {
            tracing::warn!(
                running = self.tasks.len(),
                "stream: handlers still running after the grace period; aborting them"
            );
            self.tasks.shutdown().await;
            self.running.clear();
        }
    }

    /// A handler ended: ACK its message (and any redelivery that waited for it).
    async fn finished(
        &mut self,
        ws: &mut Ws,
        done: Result<(tokio::task::Id, Done), tokio::task::JoinError>,
    ) -> Result<(), String> {
        let (key, message_id, status) = match done {
            Ok((id, d)) => {
                self.running.remove(&id);
                d
            }
            Err(e) => {
                let Some((key, mid)) = self.running.remove(&e.id()) else {
                    return Ok(());
                };
                tracing::warn!("stream: event handler panicked; ACK LATER");
                (key, mid, AckStatus::Later)
            }
        };
        let waiting = self.dedupe.done(&key, status);
        if self.cfg.ack_mode == AckMode::Immediately || message_id.is_empty() {
            return Ok(());
        }
        for mid in std::iter::once(message_id).chain(waiting) {
            send(ws, self.cfg.write_timeout, ack(&mid, status.data())).await?;
            self.stats.ack(status);
        }
        Ok(())
    }

    /// Handles one text frame. Returns true on a `disconnect`.
    async fn frame(&mut self, ws: &mut Ws, text: &str) -> Result<bool, String> {
        let Ok(frame) = serde_json::from_str::<Frame>(text) else {
            tracing::warn!(len = text.len(), "stream: frame is not JSON; ignored");
            return Ok(false);
        };
        let header = |k: &str| {
            frame
                .headers
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let message_id = header("messageId");
        match frame.kind.as_str() {
            "SYSTEM" => {
                let topic = header("topic");
                let data = match &frame.data {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                // Every SYSTEM frame is acknowledged with its own data (ping: the echo).
                if !message_id.is_empty() {
                    send(ws, self.cfg.write_timeout, ack(&message_id, data)).await?;
                }
                match topic.as_str() {
                    "disconnect" => return Ok(true),
                    "ping" | "KEEPALIVE" | "CONNECTED" | "REGISTERED" => {}
                    other => tracing::debug!(topic = other, "stream: system frame"),
                }
                Ok(false)
            }
            "EVENT" | "CALLBACK" => {
                self.stats.events.fetch_add(1, Ordering::Relaxed);
                let data = match &frame.data {
                    Value::String(s) => {
                        serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
                    }
                    other => other.clone(),
                };
                let mut event = Event::from_stream(&frame.headers, data);
                if frame.kind == "CALLBACK" && event.event_type.is_empty() {
                    event.event_type = header("topic");
                }
                let key = event.event_id.clone().unwrap_or_else(|| message_id.clone());
                self.dispatch(ws, key, message_id, event).await?;
                Ok(false)
            }
            other => {
                tracing::warn!(kind = other, "stream: unknown frame type; ignored");
                Ok(false)
            }
        }
    }

    async fn dispatch(
        &mut self,
        ws: &mut Ws,
        key: String,
        message_id: String,
        event: Event,
    ) -> Result<(), String> {
        match self.dedupe.seen(&key, &message_id) {
            Seen::New => {}
            Seen::Waiting => return Ok(()),
            Seen::Done(status) => {
                tracing::debug!("stream: redelivery of a handled event; ACK again");
                self.stats.ack(status);
                return send(ws, self.cfg.write_timeout, ack(&message_id, status.data())).await;
            }
        }
        let capacity = self.cfg.max_concurrency + self.cfg.max_pending;
        if self.tasks.len() >= capacity {
            tracing::warn!("stream: too many events waiting for a handler; ACK LATER");
            self.dedupe.forget(&key);
            self.stats.ack(AckStatus::Later);
            return send(
                ws,
                self.cfg.write_timeout,
                ack(&message_id, AckStatus::Later.data()),
            )
            .await;
        }
        if self.cfg.ack_mode == AckMode::Immediately {
            send(
                ws,
                self.cfg.write_timeout,
                ack(&message_id, AckStatus::Success.data()),
            )
            .await?;
            self.stats.ack(AckStatus::Success);
        }
        let handler = self.handler.clone();
        let permits = self.permits.clone();
        let tickets = self.cfg.tickets.clone();
        let (k, mid) = (key.clone(), message_id.clone());
        let task = self.tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            if let (Some(store), EventKind::SuiteTicket(_)) = (&tickets, &event.kind) {
                if let Err(e) = intake(store.as_ref(), &event).await {
                    tracing::warn!(error = %e, "stream: suite ticket not stored; ACK LATER");
                    return (k, mid, AckStatus::Later);
                }
            }
            let status = handler.handle(event).await;
            (k, mid, status)
        });
        self.running.insert(task.id(), (key, message_id));
        Ok(())
    }
}

async fn wait_stop(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

fn ack(message_id: &str, data: String) -> String {
    json!({
        "code": 200,
        "headers": {"contentType": "application/json", "messageId": message_id},
        "message": "OK",
        "data": data,
    })
    .to_string()
}

/// Sends one frame, waiting at most `timeout`: a gateway that stops reading is dead.
async fn send(ws: &mut Ws, timeout: Duration, text: String) -> Result<(), String> {
    match tokio::time::timeout(timeout, ws.send(Message::Text(text.into()))).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "the gateway did not take a frame within {} ms (not reading)",
            timeout.as_millis()
        )),
    }
}

/// `endpoint?ticket=<url-encoded ticket>`, built with a URL parser (a `#fragment` is dropped,
/// never swallowing the ticket). Plain `ws://` only to a loopback host, judged on the host
/// that will actually be dialled; user info (`ws://a@b/`) is refused.
fn ws_url(endpoint: &str, ticket: &str) -> Result<String, StreamError> {
    let bad = |reason: &str| StreamError::Open {
        status: 200,
        code: None,
        message: Some(format!("gateway endpoint {reason}")),
        request_id: None,
    };
    let mut url = reqwest::Url::parse(endpoint.trim()).map_err(|_| bad("is not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("carries user info (user@host), refused"));
    }
    match url.scheme() {
        "wss" => {}
        "ws" => {
            let loopback = match url.host() {
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
                None => false,
            };
            if !loopback {
                return Err(bad("uses unencrypted ws:// to a non-loopback host"));
            }
        }
        _ => return Err(bad("is not a ws:// or wss:// URL")),
    }
    if url.host().is_none() {
        return Err(bad("has no host"));
    }
    url.set_fragment(None);
    let enc = percent_encoding::utf8_percent_encode(ticket, percent_encoding::NON_ALPHANUMERIC);
    let query = match url.query() {
        Some(q) if !q.is_empty() => format!("{q}&ticket={enc}"),
        _ => format!("ticket={enc}"),
    };
    url.set_query(Some(&query));
    Ok(url.to_string())
}

enum Seen {
    New,
    Waiting,
    Done(AckStatus),
}

enum State {
    Running(Vec<String>),
    Done(AckStatus),
}

/// Recently seen event keys, bounded.
struct Dedupe {
    capacity: usize,
    order: VecDeque<String>,
    map: HashMap<String, State>,
}

impl Dedupe {
    fn new(capacity: usize) -> Self {
        Dedupe {
            capacity,
            order: VecDeque::new(),
            map: HashMap::new(),
        }
    }

    fn seen(&mut self, key: &str, message_id: &str) -> Seen {
        if key.is_empty() || self.capacity == 0 {
            return Seen::New;
        }
        match self.map.get_mut(key) {
            Some(State::Running(waiting)) => {
                if waiting.len() < 8 && !message_id.is_empty() {
                    waiting.push(message_id.to_string());
                }
                Seen::Waiting
            }
            Some(State::Done(AckStatus::Success)) => Seen::Done(AckStatus::Success),
            Some(st @ State::Done(AckStatus::Later)) => {
                *st = State::Running(Vec::new());
                Seen::New
            }
            None => {
                while self.order.len() >= self.capacity {
                    if let Some(old) = self.order.pop_front() {
                        self.map.remove(&old);
                    }
                }
                self.order.push_back(key.to_string());
                self.map.insert(key.to_string(), State::Running(Vec::new()));
                Seen::New
            }
        }
    }

    /// Records the status; returns redelivered message ids that wait for the same ACK.
    fn done(&mut self, key: &str, status: AckStatus) -> Vec<String> {
        match self.map.get_mut(key) {
            Some(st) => match std::mem::replace(st, State::Done(status)) {
                State::Running(w) => w,
                State::Done(_) => Vec::new(),
            },
            None => Vec::new(),
        }
    }

    fn forget(&mut self, key: &str) {
        self.map.remove(key);
        self.order.retain(|k| k != key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ws_url_encodes_ticket_and_refuses_plain_ws_to_remote() {
        assert_eq!(
            ws_url("wss://gw.example/connect", "a+b/c=").unwrap(),
            "wss://gw.example/connect?ticket=a%2Bb%2Fc%3D"
        );
        assert_eq!(
            ws_url("ws://127.0.0.1:9/x", "t").unwrap(),
            "ws://127.0.0.1:9/x?ticket=t"
        );
        assert!(ws_url("ws://gw.example/connect", "t").is_err());
        assert!(ws_url("http://127.0.0.1/", "t").is_err());
    }

    #[test]
    fn user_info_cannot_smuggle_a_remote_host_past_the_loopback_rule() {
        // Dialled host: 127.0.0.2 (port 80), not 127.0.0.1: refused for its user info.
        for ep in [
            "ws://127.0.0.1:1@127.0.0.2/gw",
            "ws://127.0.0.1@gw.example/gw",
            "wss://user:pw@gw.example/gw",
        ] {
            let e = ws_url(ep, "t").unwrap_err().to_string();
            assert!(e.contains("user info"), "{ep}: {e}");
        }
        assert!(ws_url("ws://127.0.0.2.example/gw", "t").is_err());
        assert!(ws_url("ws://[::1]:9/gw", "t").is_ok());
        assert!(ws_url("ws://localhost:9/gw", "t").is_ok());
    }

    #[test]
    fn a_fragment_does_not_swallow_the_ticket() {
        assert_eq!(
            ws_url("wss://gw.example/connect?a=1#frag", "t k").unwrap(),
            "wss://gw.example/connect?a=1&ticket=t%20k"
        );
    }

    #[test]
    fn dedupe_is_bounded() {
        let mut d = Dedupe::new(4);
        for i in 0..100 {
            assert!(matches!(d.seen(&i.to_string(), "m"), Seen::New));
            d.done(&i.to_string(), AckStatus::Success);
            assert!(d.map.len() <= 4 && d.order.len() <= 4);
        }
        assert!(matches!(d.seen("99", "m2"), Seen::Done(AckStatus::Success)));
    }
}
