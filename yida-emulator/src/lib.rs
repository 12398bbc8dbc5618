//! A local Yida: the server side of the wire protocol, for trying the SDK and testing
//! integrations without a DingTalk tenant.
//!
//! Requests are checked against the same operation descriptors the SDK is generated from
//! (`spec/`), so the emulator and the client cannot drift apart: an unknown or missing
//! parameter, or a value of the wrong type, gets DingTalk's `{code, message, requestid}` 400
//! naming the parameter. Form data, process instances, approval tasks and operation records
//! are stateful; every other operation of the spec answers HTTP 501 `notEmulated` after its
//! parameters were validated ([`emulated_operations`] lists the others). Form values are
//! checked, stored, shown and searched per component kind, after `yida_api::components`
//! (members as names with an `_id` twin, attachments as JSON text, sub-forms cut at 50 rows,
//! serial numbers generated, …); [`Seed::add_form_definitions`] loads a real form's component
//! definitions. The "Emulator" section of the repository README lists what is emulated and
//! where the emulator knowingly differs from the real service.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use yida_emulator::{Emulator, Options};
//! let emu = Emulator::start().await?; // demo seed, a free port on 127.0.0.1
//! let client = yida_api::Client::builder()
//!     .endpoint(emu.endpoint())
//!     .internal_app(emu.app_key(), emu.app_secret())?
//!     .context(emu.app_context())
//!     .build()?;
//! let id = emu.insert_record("FORM-DEMO", serde_json::json!({"textField_title": "seeded"}))?;
//! // … run your code with `client`, then inspect what it stored:
//! assert_eq!(emu.records("FORM-DEMO")[0].form_instance_id, id);
//! // Faults, your own seed, a data file:
//! let flaky = Emulator::start_with(
//!     Options::default().latency(std::time::Duration::from_millis(200)).qps(5).error_rate(0.1),
//! )
//! .await?;
//! # drop(flaky); let _ = client; Ok(()) }
//! ```
//!
//! # Guides
//!
//! Task guides, in English and Chinese (`<name>.zh-CN.md`), are in the repository's
//! `docs/guides/`; each has an example in `examples/examples/` that CI runs against the
//! emulator:
//!
//! - `docs/guides/first-session.md`: first session without a tenant
//! - `docs/guides/testing.md`: testing your own code against the emulator
//! - `docs/guides/approval-events.md`: reacting to approval events
#![warn(missing_docs)]

mod filters;
mod isv;
mod ops;
pub mod seed;
mod server;
mod shared;
pub mod store;
mod stream;
mod values;

pub use isv::{Callback, DEFAULT_TICKET_INTERVAL};
pub use seed::Seed;
pub use store::{Instance, LogEntry, OpRecord, Record, Task};

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// DingTalk's default per-app, per-API QPS quota.
pub const DEFAULT_QPS: u32 = 20;
/// DingTalk's access-token lifetime (`expireIn`).
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(7200);
/// The longest access-token lifetime the emulator accepts (30 days, as `yida-auth` caps `expireIn`).
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 86_400);

/// Faults the emulator injects on demand.
#[derive(Debug, Clone)]
pub struct Faults {
    /// Added before every reply.
    pub latency: Duration,
    /// Requests per second per app key per operation before 403
    /// `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` (0: no limit).
    pub qps: u32,
    /// Fraction (0.0 to 1.0) of operation calls answered HTTP 500 `unclassifiedError`, before
    /// anything is applied.
    pub error_rate: f64,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            latency: Duration::ZERO,
            qps: DEFAULT_QPS,
            error_rate: 0.0,
        }
    }
}

/// How to start an emulator.
#[derive(Clone)]
pub struct Options {
    /// The tenant (default: [`Seed::demo`]).
    pub seed: Seed,
    /// Address to listen on (default `127.0.0.1:0`: a free port).
    pub listen: SocketAddr,
    /// redb file that keeps the state across restarts (default: memory only).
    pub data: Option<PathBuf>,
    /// Empty the data file first.
    pub reset: bool,
    /// Faults.
    pub faults: Faults,
    /// Lifetime of access tokens.
    pub token_lifetime: Duration,
    /// How long a pushed Stream event waits for its ACK before it is sent again.
    pub redeliver_after: Duration,
    /// Push ISV events (suite tickets, authorizations, approval events) to this HTTP
    /// callback, as DingTalk does (default: none).
    pub callback: Option<Callback>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: Seed::demo(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data: None,
            reset: false,
            faults: Faults::default(),
            token_lifetime: DEFAULT_TOKEN_LIFETIME,
            redeliver_after: Duration::from_secs(5),
            callback: None,
        }
    }
}

impl Options {
    /// Sets the seed.
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }
    /// Sets the listen address.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }
    /// Keeps state in this redb file.
    pub fn data(mut self, path: impl Into<PathBuf>) -> Self {
        self.data = Some(path.into());
        self
    }
    /// Empties the data file on start.
    pub fn reset(mut self, reset: bool) -> Self {
        self.reset = reset;
        self
    }
    /// Adds latency to every reply.
    pub fn latency(mut self, d: Duration) -> Self {
        self.faults.latency = d;
        self
    }
    /// Sets the per-app, per-API QPS quota (0: unlimited).
    pub fn qps(mut self, qps: u32) -> Self {
        self.faults.qps = qps;
        self
    }
    /// Sets the fraction of calls answered with HTTP 500.
    pub fn error_rate(mut self, rate: f64) -> Self {
        self.faults.error_rate = rate;
        self
    }
    /// Sets the access-token lifetime (1 s to [`MAX_TOKEN_LIFETIME`]; checked at start).
    pub fn token_lifetime(mut self, d: Duration) -> Self {
        self.token_lifetime = d;
        self
    }
    /// Pushes ISV events to this callback (see [`Callback`]).
    pub fn callback(mut self, cb: Callback) -> Self {
        self.callback = Some(cb);
        self
    }
    /// Sets how long an unacknowledged Stream event waits before redelivery.
    pub fn redeliver_after(mut self, d: Duration) -> Self {
        self.redeliver_after = d;
        self
    }
}

/// Starting the emulator failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
    /// The data file failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The seed is inconsistent.
    #[error(transparent)]
    Seed(#[from] seed::SeedError),
    /// A value given by code was refused.
    #[error("{0}")]
    Invalid(String),
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<shared::Shared>,
    hub: Arc<stream::Hub>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// The callback pusher (`--callback`).
    isv: Option<tokio::task::JoinHandle<()>>,
    callback: Option<Callback>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("endpoint", &self.endpoint())
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts an emulator with the demo seed on a free port of 127.0.0.1.
    pub async fn start() -> Result<Emulator, Error> {
        Emulator::start_with(Options::default()).await
    }

    /// Starts an emulator with these options.
    pub async fn start_with(opts: Options) -> Result<Emulator, Error> {
        opts.seed.check()?;
        if opts.token_lifetime < Duration::from_secs(1) || opts.token_lifetime > MAX_TOKEN_LIFETIME
        {
            return Err(Error::Invalid(format!(
                "token_lifetime: must be between 1 s and {} s (30 days), got {} s",
                MAX_TOKEN_LIFETIME.as_secs(),
                opts.token_lifetime.as_secs()
            )));
        }
        let listener = tokio::net::TcpListener::bind(opts.listen)
            .await
            .map_err(|source| Error::Bind {
                addr: opts.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Bind {
            addr: opts.listen,
            source,
        })?;
        let hub = Arc::new(stream::Hub::new(opts.redeliver_after));
        let callback = opts.callback.clone();
        let shared = Arc::new(shared::Shared::new(opts, addr)?);
        let isv = match &callback {
            Some(cb) => Some(isv::start(shared.clone(), hub.clone(), cb)?),
            None => None,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = server::router(server::Front {
            shared: shared.clone(),
            hub: hub.clone(),
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        stream::spawn_redelivery(hub.clone());
        Ok(Emulator {
            addr,
            shared,
            hub,
            stop: Some(stop),
            task: Some(task),
            isv,
            callback,
        })
    }

    /// Stops the server and waits for it (open connections are closed).
    pub async fn shutdown(mut self) {
        if let Some(t) = self.isv.take() {
            t.abort();
        }
        self.hub.close_all();
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL for clients (`http://127.0.0.1:PORT`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn first<T>(&self, f: impl FnOnce(&Seed) -> Option<T>) -> T
    where
        T: Default,
    {
        f(&self.shared.seed()).unwrap_or_default()
    }

    /// The first internal app's `appKey` (empty when the seed has none).
    pub fn app_key(&self) -> String {
        self.first(|s| s.internal_apps.first().map(|a| a.app_key.clone()))
    }
    /// The first internal app's `appSecret`.
    pub fn app_secret(&self) -> String {
        self.first(|s| s.internal_apps.first().map(|a| a.app_secret.clone()))
    }
    /// The first Yida app's `appType`.
    pub fn app_type(&self) -> String {
        self.first(|s| s.apps.first().map(|a| a.app_type.clone()))
    }
    /// The first Yida app's `systemToken`.
    pub fn system_token(&self) -> String {
        self.first(|s| s.apps.first().map(|a| a.system_token.clone()))
    }
    /// The first user's id.
    pub fn user_id(&self) -> String {
        self.first(|s| s.users.first().map(|u| u.user_id.clone()))
    }

    /// An app context for the first app and user.
    pub fn app_context(&self) -> yida_api::AppContext {
        yida_api::AppContext::new()
            .app_type(self.app_type())
            .system_token(self.system_token())
            .user_id(self.user_id())
    }

    /// The `NAME=value` pairs the `yida` command needs against this emulator.
    pub fn env(&self) -> Vec<(String, String)> {
        let seed = self.shared.seed();
        let mut out = vec![("YIDA_ENDPOINT".to_string(), self.endpoint())];
        if let Some(a) = seed.internal_apps.first() {
            out.push(("YIDA_APP_KEY".into(), a.app_key.clone()));
            out.push(("YIDA_APP_SECRET".into(), a.app_secret.clone()));
        }
        if let Some(a) = seed.apps.first() {
            out.push(("YIDA_APP_TYPE".into(), a.app_type.clone()));
            out.push(("YIDA_SYSTEM_TOKEN".into(), a.system_token.clone()));
        }
        if let Some(u) = seed.users.first() {
            out.push(("YIDA_USER_ID".into(), u.user_id.clone()));
        }
        if let Some(f) = seed.forms.first() {
            out.push(("YIDA_DEMO_FORM_UUID".into(), f.form_uuid.clone()));
        }
        if let Some(p) = seed.processes.first() {
            out.push(("YIDA_DEMO_PROCESS_CODE".into(), p.process_code.clone()));
        }
        if let (Some(cb), Some(suite)) = (&self.callback, seed.suites.first()) {
            // What `yida events http` needs to receive the pushes, and the suite's
            // credentials for `yida call --ticket-store …`.
            out.push(("YIDA_CALLBACK_TOKEN".into(), cb.token.clone()));
            out.push(("YIDA_CALLBACK_AES_KEY".into(), cb.aes_key.clone()));
            out.push(("YIDA_CALLBACK_KEY".into(), suite.suite_key.clone()));
            out.push(("YIDA_SUITE_KEY".into(), suite.suite_key.clone()));
            out.push(("YIDA_SUITE_SECRET".into(), suite.suite_secret.clone()));
            if let Some(corp) = suite.auth_corp_ids.first() {
                out.push(("YIDA_AUTH_CORP_ID".into(), corp.clone()));
            }
        }
        out
    }

    /// A company authorizes the first suite: it may get corp tokens from now on, and with a
    /// callback the emulator pushes `tmp_auth_code` and `org_suite_auth` (also
    /// `POST /_emulator/authorize` with `{"corpId":"…"}`).
    pub fn authorize(&self, corp_id: &str) -> Result<(), Error> {
        isv::authorize(&self.shared, &self.hub, corp_id)
    }

    /// A copy of the current seed.
    pub fn seed(&self) -> Seed {
        self.shared.seed()
    }

    /// Changes the seed from code (add apps, users, forms, processes); refused when the
    /// result is inconsistent.
    pub fn update_seed(&self, f: impl FnOnce(&mut Seed)) -> Result<(), Error> {
        self.shared.update_seed(f)
    }

    /// Changes the injected faults while running.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Stores a form instance directly (as `userId` of the first user), checked per component
    /// kind as SaveFormData checks it; returns its id.
    pub fn insert_record(&self, form_uuid: &str, data: serde_json::Value) -> Result<String, Error> {
        let seed = self.shared.seed();
        let form = seed
            .form(form_uuid)
            .ok_or_else(|| Error::Invalid(format!("unknown form {form_uuid}")))?;
        let user = seed
            .users
            .first()
            .map(|u| u.user_id.clone())
            .unwrap_or_default();
        let data = match data {
            serde_json::Value::Object(m) => m,
            _ => return Err(Error::Invalid("record data must be a JSON object".into())),
        };
        self.shared
            .mutate(|st| {
                let data = values::prepare(form, data, st)?;
                Ok(ops::new_record(st, form, &user, data))
            })
            .map_err(|e| Error::Invalid(e.message))
    }

    /// Every stored instance of a form, oldest first.
    pub fn records(&self, form_uuid: &str) -> Vec<Record> {
        self.shared.with_state(|st| {
            st.records
                .values()
                .filter(|r| r.form_uuid == form_uuid)
                .cloned()
                .collect()
        })
    }

    /// Every process instance, oldest first.
    pub fn instances(&self) -> Vec<Instance> {
        self.shared
            .with_state(|st| st.instances.values().cloned().collect())
    }

    /// Requests received so far per operation, by action name (`SearchFormDatas`; both
    /// versions of an action count together), whatever their outcome (refused, throttled or
    /// answered); token requests are not operations and are not counted. Tests use it to
    /// assert what went over the wire.
    pub fn calls(&self) -> std::collections::BTreeMap<String, u64> {
        self.shared.call_counts()
    }

    /// Requests received so far for one action (see [`calls`](Self::calls)).
    pub fn calls_of(&self, action: &str) -> u64 {
        self.calls().get(action).copied().unwrap_or(0)
    }

    /// Stream events pushed but not acknowledged yet.
    pub fn pending_events(&self) -> usize {
        self.hub.pending()
    }

    /// Adds (or replaces) a file of the tenant; returns the URL an attachment value stores
    /// for it (`/ossFileHandle?fileName=…`), which GetOpenUrl exchanges for a temporary
    /// download URL. Files live in memory only (not in the `--data` file).
    pub fn add_file(&self, name: &str, content: impl AsRef<[u8]>) -> String {
        self.shared.add_file(name, content.as_ref())
    }

    /// Makes the next `n` temporary URLs GetOpenUrl hands out expired already, so a client's
    /// "ask again when the link expired" path can be tested.
    pub fn expire_next_open_urls(&self, n: u32) {
        self.shared.expire_next_urls(n);
    }

    /// Every approval task.
    pub fn tasks(&self) -> Vec<Task> {
        self.shared
            .with_state(|st| st.tasks.values().cloned().collect())
    }
}

/// The operations the emulator keeps state for; every other operation of the spec answers
/// HTTP 501 `notEmulated` after its parameters were validated.
pub fn emulated_operations() -> Vec<yida_api::OpId> {
    ops::emulated().collect()
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(t) = self.isv.take() {
            t.abort();
        }
        self.hub.close_all();
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}
