//! Client-side pacing of calls: the [`RateLimiter`] trait and two implementations.
//!
//! DingTalk allows 20 calls per second per app and API (`QpsLimitForAppkeyAndApi` beyond it).
//! A limiter spaces a client's calls so that a busy client stays under that quota instead of
//! collecting throttling errors. The client asks it before every attempt, with the token in
//! hand ([`acquire`](RateLimiter::acquire)) and reports how the attempt went
//! ([`on_success`](RateLimiter::on_success), [`on_throttled`](RateLimiter::on_throttled)).
//!
//! - [`FixedRateLimiter`]: a fixed spacing per key (what
//!   [`ClientBuilder::rate_limit_per_operation`](crate::ClientBuilder::rate_limit_per_operation)
//!   installs).
//! - [`AdaptiveRateLimiter`]: starts at a rate just under the quota, halves it when the server
//!   throttles anyway and climbs back gradually (the shape of the AWS SDKs' adaptive retry
//!   mode). The default of the concurrent page walks and bulk writes.
//!
//! The trait is small so that a limiter shared by several processes (e.g. on Redis) can be
//! written outside this crate:
//!
//! ```
//! use std::time::Duration;
//! use yida_api::limiter::{AcquireFuture, QuotaKey, RateLimiter};
//!
//! /// Lets every call through and counts throttles (a real one would ask a shared store).
//! #[derive(Debug, Default)]
//! struct Counting(std::sync::atomic::AtomicU64);
//!
//! impl RateLimiter for Counting {
//!     fn acquire<'a>(&'a self, key: &'a QuotaKey) -> AcquireFuture<'a> {
//!         // e.g. `INCR quota:{key}:{second}` with an expiry, sleeping while above the quota.
//!         let _ = key.to_string();
//!         Box::pin(async {})
//!     }
//!     fn on_throttled(&self, _key: &QuotaKey, _retry_after: Option<Duration>) {
//!         self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
//!     }
//! }
//!
//! let client = yida_api::Client::builder()
//!     .access_token("t")
//!     .rate_limiter(Counting::default())
//!     .build()
//!     .unwrap();
//! # let _ = client;
//! ```

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// DingTalk's documented quota: calls per second per app and API.
pub const DINGTALK_QPS_PER_APP_AND_API: f64 = 20.0;

/// What [`RateLimiter::acquire`] returns: resolves when the call may go out.
pub type AcquireFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// What a quota is counted against: one app and one operation.
///
/// `app` is the name given to
/// [`ClientBuilder::quota_app`](crate::ClientBuilder::quota_app), else the client's `appType`,
/// else `"default"`. Its [`Display`](fmt::Display) form, `app/Action@version`, is a stable
/// string usable as a key in a shared store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QuotaKey {
    app: Arc<str>,
    action: &'static str,
    version: &'static str,
}

impl QuotaKey {
    /// A key for `app` and `action`@`version`.
    pub fn new(app: impl Into<Arc<str>>, action: &'static str, version: &'static str) -> Self {
        QuotaKey {
            app: app.into(),
            action,
            version,
        }
    }

    /// The app the quota belongs to.
    pub fn app(&self) -> &str {
        &self.app
    }

    /// The operation's action name (`SearchFormDatas`).
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// The operation's API version (`"1.0"`, `"2.0"`).
    pub fn version(&self) -> &'static str {
        self.version
    }
}

impl fmt::Display for QuotaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}@{}", self.app, self.action, self.version)
    }
}

/// Paces calls per [`QuotaKey`]. Implementations must be cheap to call concurrently; the
/// client holds one in an `Arc` shared by all its clones.
///
/// The client calls [`acquire`](Self::acquire) before every attempt (retries included), once
/// the attempt's access token is in hand (a slot taken before a token fetch would be spent
/// waiting for it, and the calls waiting on one fetch would then leave together), then
/// exactly one of [`on_success`](Self::on_success) (any reply that is not throttling, errors
/// included: the quota was not the problem) or [`on_throttled`](Self::on_throttled) (DingTalk's
/// `QpsLimit…` codes, HTTP 429, the gateway's ban), or neither when no reply came.
pub trait RateLimiter: Send + Sync + fmt::Debug {
    /// Waits until a call for `key` may be sent. Dropping the future gives the slot up (or not:
    /// the limiter decides; it must not panic).
    fn acquire<'a>(&'a self, key: &'a QuotaKey) -> AcquireFuture<'a>;

    /// A call for `key` got a reply that was not throttling. Default: nothing.
    fn on_success(&self, key: &QuotaKey) {
        let _ = key;
    }

    /// The server throttled a call for `key`, asking to wait `retry_after` if it said so.
    /// Default: nothing.
    fn on_throttled(&self, key: &QuotaKey, retry_after: Option<Duration>) {
        let _ = (key, retry_after);
    }
}

impl<T: RateLimiter + ?Sized> RateLimiter for Arc<T> {
    fn acquire<'a>(&'a self, key: &'a QuotaKey) -> AcquireFuture<'a> {
        (**self).acquire(key)
    }
    fn on_success(&self, key: &QuotaKey) {
        (**self).on_success(key)
    }
    fn on_throttled(&self, key: &QuotaKey, retry_after: Option<Duration>) {
        (**self).on_throttled(key, retry_after)
    }
}

/// Reserves the next slot of a timeline spaced `interval` apart; returns when to go.
fn reserve(next: &mut Instant, interval: Duration) -> Instant {
    let now = Instant::now();
    let slot = (*next).max(now);
    *next = slot + interval;
    slot
}

async fn sleep_until(slot: Instant) {
    let now = Instant::now();
    if slot > now {
        tokio::time::sleep(slot - now).await;
    }
}

/// Spaces calls of each key at least `1/rate` seconds apart; never adapts.
#[derive(Debug)]
pub struct FixedRateLimiter {
    interval: Duration,
    next: Mutex<HashMap<QuotaKey, Instant>>,
}

impl FixedRateLimiter {
    /// At most `per_second` calls per second per key (at least 1).
    pub fn new(per_second: u32) -> Self {
        FixedRateLimiter {
            interval: Duration::from_secs(1) / per_second.max(1),
            next: Mutex::new(HashMap::new()),
        }
    }
}

impl RateLimiter for FixedRateLimiter {
    fn acquire<'a>(&'a self, key: &'a QuotaKey) -> AcquireFuture<'a> {
        let slot = {
            let mut map = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let next = map.entry(key.clone()).or_insert_with(Instant::now);
            reserve(next, self.interval)
        };
        Box::pin(sleep_until(slot))
    }
}

/// A limiter that starts just under the quota, backs off when the server throttles anyway and
/// recovers gradually.
///
/// Per key it keeps a rate and a timeline of slots spaced `1/rate` apart. On a throttle it
/// multiplies the rate by `backoff` (default 0.5, at most once per `1/rate` × in-flight window
/// of 1 s, so one burst of throttled replies counts once) down to `min_rate`, and pushes the
/// next slot past the server's requested wait. After that the rate climbs back linearly to the
/// ceiling over `recovery` (default 10 s), the way the AWS SDKs' adaptive mode lets its token
/// bucket refill after a throttle.
///
/// ```
/// use std::time::Duration;
/// use yida_api::limiter::AdaptiveRateLimiter;
/// // 20 calls/s per app and API, with 5% margin, as DingTalk documents:
/// let default = AdaptiveRateLimiter::default();
/// assert_eq!(default.max_rate(), 19.0);
/// let custom = AdaptiveRateLimiter::new(10.0).recovery(Duration::from_secs(30)).backoff(0.7);
/// # let _ = custom;
/// ```
#[derive(Debug)]
pub struct AdaptiveRateLimiter {
    max_rate: f64,
    min_rate: f64,
    backoff: f64,
    recovery: Duration,
    state: Mutex<HashMap<QuotaKey, KeyState>>,
}

#[derive(Debug, Clone, Copy)]
struct KeyState {
    next: Instant,
    /// Rate right after the last throttle, and when it happened.
    floor: f64,
    throttled_at: Option<Instant>,
    /// Counts throttles, so that waiters notice one.
    epoch: u64,
}

impl Default for AdaptiveRateLimiter {
    /// 95% of DingTalk's 20 calls/s: 19 calls per second per key.
    fn default() -> Self {
        AdaptiveRateLimiter::new(DINGTALK_QPS_PER_APP_AND_API * 0.95)
    }
}

impl AdaptiveRateLimiter {
    /// Ceiling of `per_second` calls per second per key (at least 0.1).
    pub fn new(per_second: f64) -> Self {
        let max_rate = if per_second.is_finite() {
            per_second.max(0.1)
        } else {
            DINGTALK_QPS_PER_APP_AND_API
        };
        AdaptiveRateLimiter {
            max_rate,
            min_rate: (max_rate / 20.0).max(0.1),
            backoff: 0.5,
            recovery: Duration::from_secs(10),
            state: Mutex::new(HashMap::new()),
        }
    }

    /// Factor applied to the rate on a throttle (clamped to 0.1..=0.95; default 0.5).
    pub fn backoff(mut self, factor: f64) -> Self {
        self.backoff = if factor.is_finite() {
            factor.clamp(0.1, 0.95)
        } else {
            0.5
        };
        self
    }

    /// Time to climb from the reduced rate back to the ceiling (default 10 s).
    pub fn recovery(mut self, d: Duration) -> Self {
        self.recovery = d;
        self
    }

    /// The ceiling, calls per second per key.
    pub fn max_rate(&self) -> f64 {
        self.max_rate
    }

    /// The rate currently allowed for `key` (the ceiling for a key never throttled).
    pub fn current_rate(&self, key: &QuotaKey) -> f64 {
        let map = self.state.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .map_or(self.max_rate, |s| self.rate_at(s, Instant::now()))
    }

    fn rate_at(&self, s: &KeyState, now: Instant) -> f64 {
        let Some(at) = s.throttled_at else {
            return self.max_rate;
        };
        let t = now.saturating_duration_since(at).as_secs_f64();
        let span = self.recovery.as_secs_f64();
        if span <= 0.0 || t >= span {
            return self.max_rate;
        }
        s.floor + (self.max_rate - s.floor) * (t / span)
    }

    fn interval(rate: f64) -> Duration {
        Duration::from_secs_f64(1.0 / rate.max(0.01))
    }
}

impl AdaptiveRateLimiter {
    /// Reserves the next slot of `key`; returns it with the throttle epoch it was taken in and
    /// the spacing in force.
    fn reserve_slot(&self, key: &QuotaKey) -> (Instant, u64, Duration) {
        let mut map = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let s = map.entry(key.clone()).or_insert_with(|| self.fresh(now));
        let rate = self.rate_at(s, now);
        if s.throttled_at.is_some() && rate >= self.max_rate {
            s.throttled_at = None;
        }
        let interval = Self::interval(rate);
        (reserve(&mut s.next, interval), s.epoch, interval)
    }

    fn epoch(&self, key: &QuotaKey) -> u64 {
        let map = self.state.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).map_or(0, |s| s.epoch)
    }

    fn fresh(&self, now: Instant) -> KeyState {
        KeyState {
            next: now,
            floor: self.max_rate,
            throttled_at: None,
            epoch: 0,
        }
    }
}

impl RateLimiter for AdaptiveRateLimiter {
    fn acquire<'a>(&'a self, key: &'a QuotaKey) -> AcquireFuture<'a> {
        Box::pin(async move {
            // A throttle while waiting voids the slot (it was spaced for the old rate): take a
            // new one on the slower timeline. Bounded: each round waits for a new throttle.
            //
            // A caller woken late (a busy executor, or a future polled late by its owner) takes
            // a new slot too: the spacing holds for the moments calls actually go out, not only
            // for the reserved slots, so two calls never leave closer than the interval minus a
            // quarter of it (late calls bunched with on-time ones are what a sliding-window
            // quota counts as a burst).
            for _ in 0..8 {
                let (slot, epoch, interval) = self.reserve_slot(key);
                sleep_until(slot).await;
                if self.epoch(key) != epoch {
                    continue;
                }
                if Instant::now().saturating_duration_since(slot) <= interval / 4 {
                    return;
                }
            }
        })
    }

    fn on_throttled(&self, key: &QuotaKey, retry_after: Option<Duration>) {
        let mut map = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let s = map.entry(key.clone()).or_insert_with(|| self.fresh(now));
        let rate = self.rate_at(s, now);
        // Replies to calls already in flight report the same overload: count one per second.
        let recent = s
            .throttled_at
            .is_some_and(|at| now.saturating_duration_since(at) < Duration::from_secs(1));
        if !recent {
            s.floor = (rate * self.backoff).max(self.min_rate);
            s.throttled_at = Some(now);
            s.epoch += 1;
            // Slots handed out at the old rate are void; the new timeline starts after a pause.
            s.next = now;
        }
        let pause = retry_after.unwrap_or(Self::interval(s.floor));
        s.next = s.next.max(now + pause);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_halves_on_a_throttle_counts_a_burst_once_and_recovers_linearly() {
        let l = AdaptiveRateLimiter::new(20.0).recovery(Duration::from_millis(400));
        let k = QuotaKey::new("app", "Op", "1.0");
        assert_eq!(l.current_rate(&k), 20.0);
        l.on_throttled(&k, None);
        l.on_throttled(&k, None);
        let r = l.current_rate(&k);
        assert!((9.0..=11.0).contains(&r), "{r}");
        std::thread::sleep(Duration::from_millis(200));
        let mid = l.current_rate(&k);
        assert!(mid > r && mid < 20.0, "{mid}");
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(l.current_rate(&k), 20.0);
        // Other keys are untouched.
        assert_eq!(l.current_rate(&QuotaKey::new("app", "Other", "1.0")), 20.0);
        assert_eq!(k.to_string(), "app/Op@1.0");
    }

    #[test]
    fn a_caller_released_late_takes_a_new_slot_after_the_others() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let l = AdaptiveRateLimiter::new(10.0); // 100 ms apart
            let k = QuotaKey::new("app", "Op", "1.0");
            let t0 = Instant::now();
            l.acquire(&k).await; // slot t0
            let mut late = l.acquire(&k); // slot t0 + 100 ms
            let waker = futures_util::task::noop_waker();
            let mut cx = std::task::Context::from_waker(&waker);
            assert!(late.as_mut().poll(&mut cx).is_pending());
            l.acquire(&k).await; // slot t0 + 200 ms, on time
                                 // The owner of `late` polls it only now, 100 ms after its slot: going now would put
                                 // it right next to the call just released, so it waits for a slot after it.
            late.await;
            let out = t0.elapsed();
            assert!(out >= Duration::from_millis(295), "{out:?}");
        });
    }
}
