//! The token cache: expiry with a jittered safety margin, single-flight refresh, pluggable
//! storage and an injectable clock.

use crate::shared::{LockAttempt, SharedTokenStore};
use crate::{AccessToken, AuthError, Secret};
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::OnceCell;

/// The time source of the cache. Tests inject a [`ManualClock`] to expire tokens without
/// sleeping.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to.
///
/// ```
/// use yida_auth::{Clock, ManualClock};
/// use std::time::Duration;
/// let clock = ManualClock::new();
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(60));
/// assert_eq!(clock.now().duration_since(t0).unwrap(), Duration::from_secs(60));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    /// A clock standing at the current time.
    pub fn new() -> Self {
        ManualClock(Arc::new(Mutex::new(SystemTime::now())))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where cached tokens live. In memory by default; implement it to share tokens between
/// processes (e.g. in Redis). Keys are provider-specific (`internal:<appKey>`,
/// `corp:<suiteKey>:<corpId>`).
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The stored token for `key`, if any (fresh or not: the cache checks expiry).
    fn get(&self, key: &str) -> Option<AccessToken>;
    /// Stores a token.
    fn put(&self, key: &str, token: AccessToken);
    /// Removes the token for `key` if it is still `token` (a newer one is kept).
    fn remove(&self, key: &str, token: &AccessToken);
}

/// The default in-memory [`TokenStore`].
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    map: Mutex<HashMap<String, AccessToken>>,
}

impl TokenStore for MemoryTokenStore {
    fn get(&self, key: &str) -> Option<AccessToken> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    fn put(&self, key: &str, token: AccessToken) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_string(), token);
    }

    fn remove(&self, key: &str, token: &AccessToken) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(key).is_some_and(|t| t.secret() == token.secret()) {
            map.remove(key);
        }
    }
}

/// Settings of a [`TokenCache`].
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// A token counts as expired this long before DingTalk's `expireIn` runs out.
    /// Default 5 minutes.
    pub safety_margin: Duration,
    /// Up to this much more margin, chosen at random per token, so that many processes do not
    /// refresh at the same instant. Default 60 s.
    pub jitter: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            safety_margin: Duration::from_secs(300),
            jitter: Duration::from_secs(60),
        }
    }
}

type Flight = Arc<OnceCell<Result<AccessToken, AuthError>>>;

/// A token cache shared by any number of tasks.
///
/// A cached token is reused until its refresh time (expiry minus the safety margin and a
/// random jitter). When it must be refreshed, exactly one fetch runs; every task that asks
/// meanwhile waits for that fetch and gets its result, token or error. An error is not
/// cached: the next call fetches again.
#[derive(Clone)]
pub struct TokenCache {
    inner: Arc<CacheInner>,
}

struct CacheInner {
    store: Arc<dyn TokenStore>,
    clock: Arc<dyn Clock>,
    config: CacheConfig,
    flights: Mutex<HashMap<String, Flight>>,
    random: RandomState,
    shared: Option<Arc<dyn SharedTokenStore>>,
    /// Per key, the last token DingTalk rejected: not taken from the shared store again.
    rejected: Mutex<HashMap<String, Secret>>,
}

/// What the shared store said about a missing token.
enum SharedStep {
    /// Another process fetched it.
    Found(AccessToken),
    /// Fetch it here, holding the shared lock if there is one.
    Fetch(Option<String>),
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenCache")
            .field("store", &self.inner.store)
            .field("clock", &self.inner.clock)
            .field("config", &self.inner.config)
            .field("shared", &self.inner.shared)
            .finish()
    }
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenCache {
    /// An in-memory cache on the system clock with default settings.
    pub fn new() -> Self {
        Self::with_parts(
            Arc::new(MemoryTokenStore::default()),
            Arc::new(SystemClock),
            CacheConfig::default(),
        )
    }

    /// A cache with the given storage, clock and settings.
    pub fn with_parts(
        store: Arc<dyn TokenStore>,
        clock: Arc<dyn Clock>,
        config: CacheConfig,
    ) -> Self {
        TokenCache {
            inner: Arc::new(CacheInner {
                store,
                clock,
                config,
                flights: Mutex::new(HashMap::new()),
                random: RandomState::new(),
                shared: None,
                rejected: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// This cache with a second level shared by several processes (e.g. Redis, see the
    /// `yida-redis` crate), keeping its local store, clock and settings.
    ///
    /// A fresh token in the local store is used as before. When there is none, the fetch of
    /// this process (one for all its tasks) first reads the shared store; if that has no fresh
    /// token, it takes the shared lock and fetches, then saves the token there for the others
    /// (with its refresh time, and DingTalk's expiry as its time to live). A process that finds
    /// the lock held polls the shared store (10 ms, doubling up to 200 ms) until the token
    /// appears, the lock is free again (the holder failed: it takes the lock itself), or
    /// [`SharedTokenStore::max_wait`] passes (it fetches itself). A store that cannot be
    /// reached means fetching locally, as without a shared store. A token DingTalk rejects
    /// ([`invalidate`](Self::invalidate)) is removed from the shared store too, if it is still
    /// there, before the next fetch.
    pub fn with_shared(self, shared: impl SharedTokenStore + 'static) -> Self {
        TokenCache {
            inner: Arc::new(CacheInner {
                store: self.inner.store.clone(),
                clock: self.inner.clock.clone(),
                config: self.inner.config.clone(),
                flights: Mutex::new(HashMap::new()),
                random: RandomState::new(),
                shared: Some(Arc::new(shared)),
                rejected: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The cache's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    fn fresh(&self, token: &AccessToken) -> bool {
        match token.refresh_at() {
            Some(at) => self.inner.clock.now() < at,
            None => true,
        }
    }

    /// When a token that DingTalk says lives `expire_in` from now should be refreshed.
    pub fn refresh_time(&self, expire_in: Duration) -> SystemTime {
        let now = self.inner.clock.now();
        let mut h = self.inner.random.build_hasher();
        h.write_u128(
            now.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        let jitter_ms = self.inner.config.jitter.as_millis() as u64;
        let jitter = if jitter_ms == 0 {
            0
        } else {
            h.finish() % (jitter_ms + 1)
        };
        let margin = self.inner.config.safety_margin + Duration::from_millis(jitter);
        // A token shorter-lived than the margin is still used for half its life.
        let life = if expire_in > margin {
            expire_in - margin
        } else {
            expire_in / 2
        };
        now + life
    }

    /// The cached token for `key`, or the result of `fetch` (run once for all concurrent
    /// callers). `fetch` returns the token and DingTalk's `expireIn`.
    pub async fn get_or_fetch<F, Fut>(&self, key: &str, fetch: F) -> Result<AccessToken, AuthError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(crate::Secret, Duration), AuthError>>,
    {
        if let Some(t) = self.inner.store.get(key) {
            if self.fresh(&t) {
                return Ok(t);
            }
        }
        let flight: Flight = {
            let mut flights = self.inner.flights.lock().unwrap_or_else(|e| e.into_inner());
            flights.entry(key.to_string()).or_default().clone()
        };
        let result = flight
            .get_or_init(|| async {
                // Another flight may have finished between our check and now.
                if let Some(t) = self.inner.store.get(key) {
                    if self.fresh(&t) {
                        return Ok(t);
                    }
                }
                let Some(shared) = &self.inner.shared else {
                    let (secret, expire_in) = fetch().await?;
                    let token =
                        AccessToken::with_refresh_at(secret, Some(self.refresh_time(expire_in)));
                    self.inner.store.put(key, token.clone());
                    return Ok(token);
                };
                let lock = match self.ask_shared(shared.as_ref(), key).await {
                    SharedStep::Found(t) => {
                        self.inner.store.put(key, t.clone());
                        return Ok(t);
                    }
                    SharedStep::Fetch(lock) => lock,
                };
                let fetched = fetch().await;
                let result = match fetched {
                    Ok((secret, expire_in)) => {
                        let token = AccessToken::with_refresh_at(
                            secret,
                            Some(self.refresh_time(expire_in)),
                        );
                        self.inner.store.put(key, token.clone());
                        shared
                            .save(key, &token, self.inner.clock.now() + expire_in)
                            .await;
                        Ok(token)
                    }
                    Err(e) => Err(e),
                };
                if let Some(lock) = lock {
                    shared.unlock(key, &lock).await;
                }
                result
            })
            .await
            .clone();
        // This flight is over: the next miss starts a new one (an error is not kept).
        let mut flights = self.inner.flights.lock().unwrap_or_else(|e| e.into_inner());
        if flights.get(key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            flights.remove(key);
        }
        result
    }

    /// Drops `token` from the cache if it is still the cached one for `key` (and, with a
    /// shared store, from there at the next fetch).
    pub fn invalidate(&self, key: &str, token: &AccessToken) {
        self.inner.store.remove(key, token);
        if self.inner.shared.is_some() {
            self.inner
                .rejected
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(key.to_string(), token.secret().clone());
        }
    }

    /// A token from the shared store that is fresh and not rejected here.
    async fn usable_shared(&self, shared: &dyn SharedTokenStore, key: &str) -> Option<AccessToken> {
        let t = shared.load(key).await?;
        let rejected = self
            .inner
            .rejected
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .is_some_and(|r| r == t.secret());
        if rejected {
            shared.discard(key, &t).await;
            return None;
        }
        self.fresh(&t).then_some(t)
    }

    /// Reads the shared store, or takes its lock, or waits for the process holding it.
    async fn ask_shared(&self, shared: &dyn SharedTokenStore, key: &str) -> SharedStep {
        let deadline = Instant::now() + shared.max_wait();
        let mut pause = Duration::from_millis(10);
        loop {
            if let Some(t) = self.usable_shared(shared, key).await {
                return SharedStep::Found(t);
            }
            match shared.try_lock(key, shared.lease()).await {
                LockAttempt::Acquired(lock) => {
                    // The previous holder may have saved its token just before we locked.
                    if let Some(t) = self.usable_shared(shared, key).await {
                        shared.unlock(key, &lock).await;
                        return SharedStep::Found(t);
                    }
                    return SharedStep::Fetch(Some(lock));
                }
                LockAttempt::Unavailable => return SharedStep::Fetch(None),
                LockAttempt::Held => {}
            }
            let now = Instant::now();
            if now >= deadline {
                tracing::warn!(
                    target: "yida_auth",
                    key,
                    "waited too long for another process's token fetch; fetching here"
                );
                return SharedStep::Fetch(None);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }
}
