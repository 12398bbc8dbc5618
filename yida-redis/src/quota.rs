//! One call quota shared by the replicas of an app: GCRA on Redis.

use crate::Redis;
use redis::Script;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};
use yida_api::limiter::{AcquireFuture, QuotaKey, RateLimiter};

/// GCRA without burst (virtual scheduling): KEYS[1] holds the theoretical arrival time of the
/// next call, in microseconds of Redis's clock. Reserves the slot `max(tat, now)`, moves the
/// next one `ARGV[1]` µs later, and returns how long the caller waits for its slot (µs).
/// Redis's clock is the one clock all replicas share; `%.0f` keeps every digit.
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
          local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
          if tat < now then tat = now end
          local nxt = tat + tonumber(ARGV[1])
          redis.call('SET', KEYS[1], string.format('%.0f', nxt),
                     'PX', math.floor((nxt - now) / 1000) + 1000)
          return string.format('%.0f', tat - now)",
    )
});

/// Pushes the next slot of KEYS[1] to at least now + ARGV[1] µs (the server throttled).
static PUSH_BACK: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
          local later = now + tonumber(ARGV[1])
          local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
          if tat < later then
            redis.call('SET', KEYS[1], string.format('%.0f', later),
                       'PX', math.floor((later - now) / 1000) + 1000)
          end
          return 1",
    )
});

/// Paces calls per key (one app and API) at a rate shared by every process using the same
/// Redis and prefix: the replicas of one app together stay under one quota. It is a
/// [`yida_api::limiter::RateLimiter`]: give it to
/// [`ClientBuilder::rate_limiter`](yida_api::ClientBuilder::rate_limiter) and every call of the
/// client waits for its slot (the key is the client's
/// [`QuotaKey`], `app/Action@version`), and throttling replies push every replica's next slot
/// back.
///
/// The algorithm is GCRA without burst: Redis keeps, per key, the time of the next free
/// slot (`<prefix>quota:<key>`); [`acquire_key`](Self::acquire_key) reserves a slot in one Lua script
/// on Redis's clock (so the replicas' clocks do not matter) and sleeps until it. Calls are thus
/// spaced `1/rate` apart across all replicas. [`for_quota`](Self::for_quota) paces at 95% of a
/// quota (the same margin as the single-process limiter), which absorbs the network's jitter
/// between Redis, the replicas and DingTalk.
///
/// When Redis is unreachable, each replica paces itself at the
/// [`fallback_rate`](Self::fallback_rate) (default: the full rate, the most a single replica
/// may use; set `rate / replicas` to stay under the quota during an outage too).
#[derive(Clone)]
pub struct RedisRateLimiter {
    redis: Redis,
    interval: Duration,
    fallback: Duration,
    local: Arc<Mutex<HashMap<String, Instant>>>,
}

impl fmt::Debug for RedisRateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisRateLimiter")
            .field("redis", &self.redis)
            .field("interval", &self.interval)
            .field("fallback_interval", &self.fallback)
            .finish()
    }
}

/// How late after its slot a call may still go (see [`RedisRateLimiter::acquire_key`]).
pub const LATE: Duration = Duration::from_millis(20);

fn interval(per_second: f64) -> Duration {
    let rate = if per_second.is_finite() && per_second > 0.0 {
        per_second.max(0.001)
    } else {
        1.0
    };
    Duration::from_secs_f64(1.0 / rate)
}

impl RedisRateLimiter {
    /// At most `per_second` calls per second per key, across all replicas (a rate that is
    /// not a positive number counts as 1).
    pub fn new(redis: Redis, per_second: f64) -> Self {
        let i = interval(per_second);
        RedisRateLimiter {
            redis,
            interval: i,
            fallback: i,
            local: Arc::default(),
        }
    }

    /// Paces at 95% of a quota of `per_second` calls per second (DingTalk's is 20 per app and
    /// API: 19 calls per second).
    pub fn for_quota(redis: Redis, per_second: u32) -> Self {
        Self::new(redis, f64::from(per_second.max(1)) * 0.95)
    }

    /// The rate of each replica while Redis is unreachable (calls per second per key).
    pub fn fallback_rate(mut self, per_second: f64) -> Self {
        self.fallback = interval(per_second);
        self
    }

    /// The spacing of calls per key.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    fn redis_key(&self, key: &str) -> String {
        self.redis.key("quota", key)
    }

    /// Waits until a call for `key` (e.g. `app/SearchFormDatas@1.0`) may be sent (what
    /// [`RateLimiter::acquire`] does with the key's text).
    ///
    /// A task that wakes up more than [`LATE`] after its slot (an overloaded machine) takes a
    /// new slot instead of going late: a late call followed by punctual ones would put more
    /// calls than the rate allows into one second. After 5 late wake-ups it goes anyway.
    pub async fn acquire_key(&self, key: &str) {
        for _ in 0..5 {
            let asked = Instant::now();
            let wait = self.reserve(key).await;
            // The slot is at least this early (Redis read its clock after we asked).
            let slot = asked + wait;
            if !wait.is_zero() {
                tokio::time::sleep_until(slot.into()).await;
            }
            if Instant::now().saturating_duration_since(slot) <= LATE {
                return;
            }
        }
    }

    /// Reserves the next slot for `key` (shared, or local when Redis is unreachable);
    /// returns how long until it.
    async fn reserve(&self, key: &str) -> Duration {
        let k = self.redis_key(key);
        let micros = self.interval.as_micros().max(1).to_string();
        let wait: Option<String> = self
            .redis
            .run("reserve quota slot", |mut c| async move {
                RESERVE.key(k).arg(micros).invoke_async(&mut c).await
            })
            .await;
        match wait.and_then(|w| w.parse::<u64>().ok()) {
            Some(us) => Duration::from_micros(us),
            None => self.local_slot(key),
        }
    }

    /// Reserves a slot on this replica's own timeline; returns the wait.
    fn local_slot(&self, key: &str) -> Duration {
        let mut map = self.local.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let next = map.entry(key.to_string()).or_insert(now);
        let slot = (*next).max(now);
        *next = slot + self.fallback;
        slot - now
    }

    /// The server throttled a call for `key` anyway: no replica gets a slot for `key` before
    /// `retry_after` (default one second) from now (what [`RateLimiter::on_throttled`] does,
    /// in a task of its own).
    pub async fn throttled(&self, key: &str, retry_after: Option<Duration>) {
        let pause = retry_after.unwrap_or(Duration::from_secs(1));
        {
            let mut map = self.local.lock().unwrap_or_else(|e| e.into_inner());
            let later = Instant::now() + pause;
            let next = map.entry(key.to_string()).or_insert(later);
            *next = (*next).max(later);
        }
        let k = self.redis_key(key);
        let micros = pause.as_micros().to_string();
        let _: Option<i64> = self
            .redis
            .run("push back quota slot", |mut c| async move {
                PUSH_BACK.key(k).arg(micros).invoke_async(&mut c).await
            })
            .await;
    }
}

impl RateLimiter for RedisRateLimiter {
    fn acquire<'a>(&'a self, key: &'a QuotaKey) -> AcquireFuture<'a> {
        Box::pin(async move { self.acquire_key(&key.to_string()).await })
    }

    fn on_throttled(&self, key: &QuotaKey, retry_after: Option<Duration>) {
        // The trait is synchronous; the push-back is one bounded Redis operation.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let this = self.clone();
            let key = key.to_string();
            runtime.spawn(async move { this.throttled(&key, retry_after).await });
        }
    }
}
