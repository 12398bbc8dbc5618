//! Redis backend for yida-rs: the replicas of one app share suite tickets, access tokens and
//! the per-API quota.
//!
//! One [`Redis`] handle (a URL, a key prefix, a time limit per operation) gives:
//!
//! - [`RedisTokenStore`]: the second level of each replica's [`yida_auth::TokenCache`]
//!   ([`TokenCache::with_shared`](yida_auth::TokenCache::with_shared)). A token fetched by one
//!   replica is used by all; when it is missing or due, one replica fetches (a lock with a
//!   lease) while the others wait for it.
//! - [`RedisTicketStore`]: a [`yida_auth::SuiteTicketStore`] for the suite ticket of a
//!   third-party app, pushed to whichever replica DingTalk reached, read by all; a ticket
//!   pushed earlier never replaces a newer one.
//! - [`RedisLedger`]: a [`yida_api::ledger::LedgerStore`] counting the calls of every
//!   replica per organisation, app, operation and month, a budget's check-and-count in one
//!   Lua script (the replicas together never pass a limit).
//! - [`RedisRateLimiter`]: a [`yida_api::limiter::RateLimiter`] keeping one timeline of call
//!   slots per app and API in Redis (GCRA in one Lua script, on Redis's clock), so the
//!   replicas together stay under DingTalk's quota.
//!
//! **Faults.** Redis being down or slow never fails a call that could be served. Every
//! operation has a time limit ([`RedisBuilder::op_timeout`], default 200 ms); when it fails,
//! the store does what a single process would do (fetch its own token, use its own last
//! ticket, pace its calls locally), logs a warning (at most one per
//! [`RedisBuilder::warn_interval`]), and tries Redis again after
//! [`RedisBuilder::retry_after`] (default 1 s). Nothing is queued for later.
//!
//! **Secrets in Redis.** Tokens and tickets are credentials, and **by default they are stored
//! in clear**: whoever can read the keys under the prefix can call DingTalk as the app. A token
//! is stored with a time to live equal to the life DingTalk gave it; a suite ticket expires
//! [`DEFAULT_TICKET_TTL`] (12 hours) after its push ([`RedisTicketStore::ttl`]; DingTalk pushes
//! a new one about every 5 hours). With [`RedisBuilder::encryption_key`] (32 bytes of your
//! own, the same on every replica) both are stored encrypted (AES-256-GCM: a random nonce per
//! value, the Redis key as associated data); push and refresh times stay in clear, and the
//! quota's slot times and the fetch lock hold no secret. Use `rediss://`
//! (TLS) and a password (`redis://:password@host`, or ACL user and password) when Redis is not
//! on the same host, and restrict the prefix with Redis ACLs if others share the server. No
//! token, ticket or password is ever logged, and `Debug` shows the URL with its password
//! redacted.
//!
//! ```no_run
//! use yida_auth::{InternalApp, TokenCache};
//! use yida_redis::Redis;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let redis = Redis::builder("rediss://:password@redis.internal:6380/0")
//!     .prefix("orders-service:")
//!     .build()?;
//! let cache = TokenCache::new().with_shared(redis.token_store());
//! let app = InternalApp::new("dingxxxx", "app-secret")?.cache(cache);
//! # let _ = app; Ok(()) }
//! ```
//!
//! # Guide
//!
//! `docs/guides/replicas.md` in the repository (Chinese: `replicas.zh-CN.md`) walks through
//! sharing tokens and the quota between replicas; its example, `examples/examples/replicas.rs`,
//! runs in CI against the emulator and a local `redis-server`.
#![warn(missing_docs)]

mod ledger;
mod quota;
mod replay;
mod seal;
mod tickets;
mod tokens;

pub use ledger::RedisLedger;
pub use quota::{RedisRateLimiter, LATE, REPLICA_WINDOW};
pub use replay::RedisReplayStore;
pub use tickets::{RedisTicketStore, DEFAULT_TICKET_TTL};
pub use tokens::RedisTokenStore;

use redis::aio::MultiplexedConnection;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A configuration error, found before anything is sent.
#[derive(Debug)]
pub struct ConfigError {
    message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Settings of a [`Redis`] handle; see [`Redis::builder`].
pub struct RedisBuilder {
    url: String,
    root_cert: Option<Vec<u8>>,
    prefix: String,
    op_timeout: Duration,
    retry_after: Duration,
    warn_interval: Duration,
    encryption_key: Option<Vec<u8>>,
}

impl fmt::Debug for RedisBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBuilder")
            .field("url", &redact_url(&self.url))
            .field("prefix", &self.prefix)
            .field("tls_root_cert", &self.root_cert.is_some())
            .field("op_timeout", &self.op_timeout)
            .field("retry_after", &self.retry_after)
            .field("warn_interval", &self.warn_interval)
            .field("encryption_key", &self.encryption_key.is_some())
            .finish()
    }
}

impl RedisBuilder {
    /// Encrypts the tokens and suite tickets stored in Redis with AES-256-GCM under this key
    /// (32 bytes, e.g. from a secrets manager; `openssl rand -base64 32` makes one). Without
    /// it they are stored in clear (see the crate docs, "Secrets in Redis").
    ///
    /// Each value gets a random nonce and is bound to its Redis key; push and refresh times stay
    /// in clear (the scripts compare them). Every replica needs the same key: a value that does
    /// not open (another key, or stored in clear) counts as missing, so a replica with a wrong
    /// key fetches its own tokens instead of using the others'. A key of another length is
    /// refused by [`build`](Self::build).
    ///
    /// ```
    /// let redis = yida_redis::Redis::builder("redis://127.0.0.1:6379")
    ///     .encryption_key([7u8; 32]) // your own key, not this one
    ///     .build()
    ///     .unwrap();
    /// assert!(!format!("{redis:?}").contains("7, 7"));
    /// ```
    pub fn encryption_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.encryption_key = Some(key.as_ref().to_vec());
        self
    }

    /// Prefix of every key this crate writes (default `yida:`). Give each application (or
    /// environment) sharing a Redis server its own.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Trust this CA (PEM) for a `rediss://` URL instead of the system's roots (a private CA,
    /// e.g. a self-managed Redis).
    pub fn tls_root_cert(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_cert = Some(pem.into());
        self
    }

    /// Time limit of one Redis operation, connecting included (default 200 ms). Past it the
    /// store falls back to local behaviour for that call.
    pub fn op_timeout(mut self, d: Duration) -> Self {
        self.op_timeout = d;
        self
    }

    /// After a failure, Redis is not tried again for this long (default 1 s): calls in the
    /// meantime go local at once instead of each waiting for a timeout.
    pub fn retry_after(mut self, d: Duration) -> Self {
        self.retry_after = d;
        self
    }

    /// At most one warning about Redis being unreachable per this interval (default 30 s).
    pub fn warn_interval(mut self, d: Duration) -> Self {
        self.warn_interval = d;
        self
    }

    /// Checks the settings; connects lazily, at first use (a Redis that is down at start-up
    /// does not stop the service).
    pub fn build(self) -> Result<Redis, ConfigError> {
        let opened = match self.root_cert {
            Some(pem) => {
                if !self.url.starts_with("rediss://") {
                    return Err(ConfigError {
                        message: "tls_root_cert: needs a rediss:// URL".into(),
                    });
                }
                redis::Client::build_with_tls(
                    self.url.as_str(),
                    redis::TlsCertificates {
                        client_tls: None,
                        root_cert: Some(pem),
                    },
                )
            }
            None => redis::Client::open(self.url.as_str()),
        };
        let client = opened.map_err(|e| ConfigError {
            // The error of the URL parser does not repeat the URL; we print it redacted.
            message: format!(
                "url: `{}` is not a Redis URL ({e}); expected redis://[user][:password@]host[:port][/db] or rediss:// for TLS",
                redact_url(&self.url)
            ),
        })?;
        if self.op_timeout.is_zero() {
            return Err(ConfigError {
                message: "op_timeout: must be more than zero".into(),
            });
        }
        let sealer = match &self.encryption_key {
            None => None,
            Some(key) => Some(seal::Sealer::new(key).ok_or_else(|| ConfigError {
                message: format!(
                    "encryption_key: must be 32 bytes (AES-256-GCM), got {} bytes",
                    key.len()
                ),
            })?),
        };
        Ok(Redis {
            inner: Arc::new(Inner {
                client,
                url: redact_url(&self.url),
                prefix: self.prefix,
                op_timeout: self.op_timeout,
                retry_after: self.retry_after,
                warn_interval: self.warn_interval,
                conn: tokio::sync::Mutex::new(ConnState::default()),
                down: AtomicBool::new(false),
                last_warned: Mutex::new(None),
                suppressed: AtomicU64::new(0),
                transitions: tokio::sync::watch::Sender::new(0),
                sealer,
                unopened_warned: AtomicBool::new(false),
            }),
        })
    }
}

/// A connection to Redis shared by the stores made from it. Cheap to clone.
#[derive(Clone)]
pub struct Redis {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    /// The URL with its password redacted (for Debug).
    url: String,
    prefix: String,
    op_timeout: Duration,
    retry_after: Duration,
    warn_interval: Duration,
    conn: tokio::sync::Mutex<ConnState>,
    down: AtomicBool,
    last_warned: Mutex<Option<Instant>>,
    suppressed: AtomicU64,
    /// Counts the times Redis went down or answered again (stores that keep something locally
    /// watch it, to offer it again when sharing resumes).
    transitions: tokio::sync::watch::Sender<u64>,
    /// Encryption at rest, when a key was given.
    sealer: Option<seal::Sealer>,
    /// Whether a value that did not open was reported already.
    unopened_warned: AtomicBool,
}

#[derive(Default)]
struct ConnState {
    conn: Option<MultiplexedConnection>,
    /// Do not try to connect before this.
    not_before: Option<Instant>,
}

impl fmt::Debug for Redis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redis")
            .field("url", &self.inner.url)
            .field("prefix", &self.inner.prefix)
            .field("op_timeout", &self.inner.op_timeout)
            .field("encrypted", &self.inner.sealer.is_some())
            .finish()
    }
}

/// Why one Redis operation did not happen.
enum Failure {
    /// Redis was not tried (it failed moments ago).
    Skipped,
    Redis(redis::RedisError),
}

impl Redis {
    /// Settings for the Redis at `url`: `redis://[user][:password@]host[:port][/db]`, or
    /// `rediss://…` for TLS (certificates checked against the system's roots).
    pub fn builder(url: impl Into<String>) -> RedisBuilder {
        RedisBuilder {
            url: url.into(),
            root_cert: None,
            prefix: "yida:".into(),
            op_timeout: Duration::from_millis(200),
            retry_after: Duration::from_secs(1),
            warn_interval: Duration::from_secs(30),
            encryption_key: None,
        }
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// A shared token store for [`TokenCache::with_shared`](yida_auth::TokenCache::with_shared).
    pub fn token_store(&self) -> RedisTokenStore {
        RedisTokenStore::new(self.clone())
    }

    /// The suite-ticket store of the third-party app `suite_key`.
    pub fn ticket_store(&self, suite_key: &str) -> RedisTicketStore {
        RedisTicketStore::new(self.clone(), suite_key)
    }

    /// A limiter pacing each app and API at `per_second` calls per second across every
    /// process using this Redis and prefix (see [`RedisRateLimiter`]).
    pub fn rate_limiter(&self, per_second: f64) -> RedisRateLimiter {
        RedisRateLimiter::new(self.clone(), per_second)
    }

    /// Whether Redis answers `PING` within the time limit (for health checks).
    pub async fn ping(&self) -> bool {
        self.run("ping", |mut c| async move {
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .is_some()
    }

    /// Whether the last operation failed (Redis is being bypassed).
    pub fn is_down(&self) -> bool {
        self.inner.down.load(Ordering::Relaxed)
    }

    fn key(&self, kind: &str, key: &str) -> String {
        format!("{}{kind}:{key}", self.inner.prefix)
    }

    /// Whether secrets are encrypted at rest ([`RedisBuilder::encryption_key`]).
    pub fn is_encrypted(&self) -> bool {
        self.inner.sealer.is_some()
    }

    /// A secret as stored under `redis_key`: sealed when a key was given, else as is. `None`
    /// only if the system's random source failed (nothing is stored then).
    fn seal(&self, redis_key: &str, secret: &str) -> Option<String> {
        match &self.inner.sealer {
            Some(s) => s.seal(redis_key, secret),
            None => Some(secret.to_string()),
        }
    }

    /// The secret in a stored value; `None` (warned once) when it does not open with this
    /// handle's key, or is sealed and this handle has none.
    fn open(&self, redis_key: &str, stored: &str) -> Option<String> {
        let opened = match &self.inner.sealer {
            Some(s) => s.open(redis_key, stored),
            None if stored.starts_with(seal::PREFIX) => None,
            None => Some(stored.to_string()),
        };
        if opened.is_none() && !self.inner.unopened_warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "yida_redis",
                key = redis_key,
                encrypted = self.inner.sealer.is_some(),
                "a value in Redis does not open with this replica's encryption key (or lack of one); treated as missing"
            );
        }
        opened
    }

    async fn connection(&self) -> Result<MultiplexedConnection, Failure> {
        let mut state = self.inner.conn.lock().await;
        if let Some(c) = &state.conn {
            return Ok(c.clone());
        }
        if state.not_before.is_some_and(|t| Instant::now() < t) {
            return Err(Failure::Skipped);
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.inner.op_timeout))
            .set_response_timeout(Some(self.inner.op_timeout));
        match self
            .inner
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(c) => {
                state.conn = Some(c.clone());
                state.not_before = None;
                Ok(c)
            }
            Err(e) => {
                state.not_before = Some(Instant::now() + self.inner.retry_after);
                Err(Failure::Redis(e))
            }
        }
    }

    /// Runs one operation within the time limit; `None` (after a rate-limited warning) when
    /// Redis is unreachable, slow or refuses it.
    async fn run<T, F, Fut>(&self, what: &'static str, op: F) -> Option<T>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let attempt = async {
            let conn = self.connection().await?;
            op(conn).await.map_err(Failure::Redis)
        };
        let outcome = tokio::time::timeout(self.inner.op_timeout, attempt).await;
        match outcome {
            Ok(Ok(v)) => {
                if self.inner.down.swap(false, Ordering::Relaxed) {
                    tracing::info!(target: "yida_redis", url = %self.inner.url, "Redis reachable again; sharing resumes");
                    self.inner.transitions.send_modify(|n| *n += 1);
                }
                Some(v)
            }
            Ok(Err(Failure::Skipped)) => None,
            Ok(Err(Failure::Redis(e))) => {
                let lost = e.is_io_error()
                    || e.is_connection_dropped()
                    || e.is_connection_refusal()
                    || e.is_timeout()
                    || e.is_unrecoverable_error();
                self.failed(what, &e.to_string(), lost).await;
                None
            }
            Err(_) => {
                let msg = format!("no answer within {:?}", self.inner.op_timeout);
                self.failed(what, &msg, true).await;
                None
            }
        }
    }

    async fn failed(&self, what: &'static str, error: &str, drop_connection: bool) {
        if drop_connection {
            let mut state = self.inner.conn.lock().await;
            state.conn = None;
            let later = Instant::now() + self.inner.retry_after;
            state.not_before = Some(state.not_before.map_or(later, |t| t.max(later)));
        }
        if !self.inner.down.swap(true, Ordering::Relaxed) {
            self.inner.transitions.send_modify(|n| *n += 1);
        }
        let now = Instant::now();
        let due = {
            let mut last = self
                .inner
                .last_warned
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let due = last.is_none_or(|t| now.duration_since(t) >= self.inner.warn_interval);
            if due {
                *last = Some(now);
            }
            due
        };
        if due {
            let suppressed = self.inner.suppressed.swap(0, Ordering::Relaxed);
            // `error` comes from the Redis client: it names the failure, never the password,
            // and nothing we send (tokens, tickets) is part of it.
            tracing::warn!(
                target: "yida_redis",
                url = %self.inner.url,
                operation = what,
                error,
                suppressed,
                "Redis unavailable; falling back to local behaviour"
            );
        } else {
            self.inner.suppressed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// `url` with the password (and a user-less secret) replaced by `** redacted **`.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // Not a URL: it may be anything, including a secret.
        return yida_auth::REDACTED.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or("", |(u, _)| u);
            format!("{scheme}://{user}:{}@{host}{tail}", yida_auth::REDACTED)
        }
        None => url.to_string(),
    }
}

/// A value unique to this lock attempt (not guessable by another process).
fn unique_value() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut a = std::collections::hash_map::RandomState::new().build_hasher();
    a.write_u64(n);
    let mut b = std::collections::hash_map::RandomState::new().build_hasher();
    b.write_u32(std::process::id());
    format!("{:016x}{:016x}{n:x}", a.finish(), b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_urls() {
        assert_eq!(
            redact_url("redis://:hunter2@h:6379/0"),
            "redis://:** redacted **@h:6379/0"
        );
        assert_eq!(
            redact_url("rediss://app:hunter2@h/1"),
            "rediss://app:** redacted **@h/1"
        );
        assert_eq!(redact_url("redis://hunter2@h"), "redis://:** redacted **@h");
        assert_eq!(redact_url("redis://127.0.0.1:1"), "redis://127.0.0.1:1");
        assert_eq!(redact_url("hunter2"), yida_auth::REDACTED);
    }

    #[test]
    fn bad_urls_are_refused_naming_the_parameter_and_hiding_the_password() {
        let e = Redis::builder("http://:hunter2@h").build().unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("url:"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
        let r = Redis::builder("redis://:hunter2@127.0.0.1:1")
            .build()
            .unwrap();
        assert!(!format!("{r:?}").contains("hunter2"));
        let b = Redis::builder("redis://:hunter2@127.0.0.1:1");
        assert!(!format!("{b:?}").contains("hunter2"));
    }

    #[test]
    fn the_readme_shows_the_example_file() {
        let readme = include_str!("../../README.md");
        let example = include_str!("../examples/redis_replica.rs");
        let body = &example[example.find("use std::time::Duration;").unwrap()..];
        assert!(
            readme.contains(&format!("```rust,ignore\n{body}```")),
            "README's \"Running several replicas\" block must be yida-redis/examples/redis_replica.rs"
        );
    }

    #[test]
    fn lock_values_differ() {
        assert_ne!(unique_value(), unique_value());
    }
}
