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
///
/// KEYS[2] is a sorted set of the replicas that reserved a slot of this key (member: the
/// replica's id `ARGV[2]`, score: when, µs); entries older than `ARGV[3]` µs are dropped. The
/// script returns the wait and the number of replicas seen within that window (what each
/// replica's fallback divides the rate by during an outage). `ARGV[4]` (µs) is the earliest
/// slot the caller accepts: a replica coming back from an outage starts the shared timeline
/// after the calls it already scheduled alone.
static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local t = redis.call('TIME')
          local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
          local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
          local floor = now + tonumber(ARGV[4])
          if tat < floor then tat = floor end
          local nxt = tat + tonumber(ARGV[1])
          redis.call('SET', KEYS[1], string.format('%.0f', nxt),
                     'PX', math.floor((nxt - now) / 1000) + 1000)
          local window = tonumber(ARGV[3])
          redis.call('ZADD', KEYS[2], now, ARGV[2])
          redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
          redis.call('PEXPIRE', KEYS[2], math.floor(window / 1000) + 1)
          return {string.format('%.0f', tat - now), redis.call('ZCARD', KEYS[2])}",
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
/// **While Redis is unreachable** each replica paces itself, by default at the shared rate
/// divided by the number of replicas it last saw calling that API (each reservation records
/// the replica in `<prefix>quota-users:<key>`, a sorted set of the replicas seen in the last
/// [`REPLICA_WINDOW`]); so the replicas together stay near the shared rate during an outage
/// too. A throttling reply during the outage halves that replica's fallback rate (down to an
/// eighth). The first call after losing Redis waits one fallback interval (the calls made
/// just before on the shared timeline count in the same second), and for a moment after Redis
/// answers again (one second plus [`RedisBuilder::retry_after`](crate::RedisBuilder::retry_after))
/// a replica keeps its fallback spacing as well as the shared one, while the others come back.
/// A replica that never reached Redis counts itself alone (the full rate);
/// [`fallback_rate`](Self::fallback_rate) sets a fixed rate instead.
#[derive(Clone)]
pub struct RedisRateLimiter {
    redis: Redis,
    interval: Duration,
    /// A fixed fallback spacing (`fallback_rate`); `None`: adaptive.
    fallback: Option<Duration>,
    /// This replica's id in the set of replicas seen (shared by clones).
    id: Arc<str>,
    local: Arc<Mutex<HashMap<String, LocalKey>>>,
}

/// How long a replica counts as seen after its last reservation of a key.
pub const REPLICA_WINDOW: Duration = Duration::from_secs(10);

/// What a replica keeps per key for pacing itself without Redis.
#[derive(Debug, Clone, Copy)]
struct LocalKey {
    /// The next free slot of the local timeline.
    next: Instant,
    /// Replicas seen calling this key at the last reservation in Redis, and when.
    replicas: u32,
    seen_at: Option<Instant>,
    /// Fallback spacing multiplier (doubled by a throttle during an outage).
    slowdown: u32,
    /// Set while pacing locally (Redis unreachable).
    falling_back: bool,
    /// After Redis answers again, the local spacing is kept as well until then.
    recovering_until: Option<Instant>,
    /// The end of the shared timeline as last seen (its next free slot), and how far ahead
    /// of that moment it was booked.
    shared_end: Instant,
    shared_ahead: Duration,
    /// The last throttle that slowed the fallback down.
    slowed_at: Option<Instant>,
}

impl LocalKey {
    fn new(now: Instant) -> Self {
        LocalKey {
            next: now,
            replicas: 1,
            seen_at: None,
            slowdown: 1,
            falling_back: false,
            recovering_until: None,
            shared_end: now,
            shared_ahead: Duration::ZERO,
            slowed_at: None,
        }
    }
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
        RedisRateLimiter {
            redis,
            interval: interval(per_second),
            fallback: None,
            id: crate::unique_value().into(),
            local: Arc::default(),
        }
    }

    /// Paces at 95% of a quota of `per_second` calls per second (DingTalk's is 20 per app and
    /// API: 19 calls per second).
    pub fn for_quota(redis: Redis, per_second: u32) -> Self {
        Self::new(redis, f64::from(per_second.max(1)) * 0.95)
    }

    /// A fixed rate for each replica while Redis is unreachable (calls per second per key),
    /// instead of the default: the shared rate divided by the replicas last seen, halved on a
    /// throttle.
    pub fn fallback_rate(mut self, per_second: f64) -> Self {
        self.fallback = Some(interval(per_second));
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
        let users = self.redis.key("quota-users", key);
        let micros = self.interval.as_micros().max(1).to_string();
        let id = self.id.clone();
        let window = REPLICA_WINDOW.as_micros().to_string();
        let hint = self.backlog(key).as_micros().to_string();
        let reply: Option<(String, i64)> = self
            .redis
            .run("reserve quota slot", |mut c| async move {
                RESERVE
                    .key(k)
                    .key(users)
                    .arg(micros)
                    .arg(&*id)
                    .arg(window)
                    .arg(hint)
                    .invoke_async(&mut c)
                    .await
            })
            .await;
        match reply.and_then(|(w, n)| Some((w.parse::<u64>().ok()?, n))) {
            Some((us, replicas)) => self.shared_slot(key, Duration::from_micros(us), replicas),
            None => self.local_slot(key),
        }
    }

    /// How far ahead this replica's own timeline for `key` is booked, while it paces alone or
    /// has just stopped doing so (zero otherwise).
    fn backlog(&self, key: &str) -> Duration {
        let map = self.local.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(key) {
            Some(s) if s.falling_back || s.recovering_until.is_some() => {
                s.next.saturating_duration_since(Instant::now())
            }
            _ => Duration::ZERO,
        }
    }

    /// The fallback spacing of `key` for this replica.
    fn fallback_interval(&self, state: &LocalKey) -> Duration {
        let base = match self.fallback {
            Some(fixed) => fixed,
            None => self.interval * state.replicas.max(1),
        };
        base * state.slowdown
    }

    /// Redis gave a slot `wait` from now and saw `replicas` replicas: notes them, and right
    /// after an outage also keeps this replica's local spacing (see the type's docs).
    fn shared_slot(&self, key: &str, wait: Duration, replicas: i64) -> Duration {
        let mut map = self.local.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let state = map
            .entry(key.to_string())
            .or_insert_with(|| LocalKey::new(now));
        let seen = u32::try_from(replicas.max(1)).unwrap_or(u32::MAX);
        // A count that dropped within the window is a replica not yet back (Redis restarted
        // empty): keep the larger count until the window has passed.
        let recent = state
            .seen_at
            .is_some_and(|at| now.saturating_duration_since(at) < REPLICA_WINDOW);
        if seen >= state.replicas || !recent {
            state.replicas = seen;
            state.seen_at = Some(now);
        }
        if state.falling_back {
            state.falling_back = false;
            state.slowdown = 1;
            state.recovering_until =
                Some(now + Duration::from_secs(1) + self.redis.inner.retry_after);
        }
        match state.recovering_until {
            Some(until) if now < until => {
                let local = Self::take(state, now, self.fallback_interval(state));
                wait.max(local)
            }
            _ => {
                state.recovering_until = None;
                // The local timeline follows this replica's shared slots, and the end of the
                // shared timeline is noted, so that an outage starts after both.
                state.next = state.next.max(now + wait);
                state.shared_end = state.shared_end.max(now + wait + self.interval);
                state.shared_ahead = wait + self.interval;
                wait
            }
        }
    }

    /// Reserves a slot on `state`'s local timeline, `spacing` apart; returns the wait.
    fn take(state: &mut LocalKey, now: Instant, spacing: Duration) -> Duration {
        let slot = state.next.max(now);
        state.next = slot + spacing;
        slot - now
    }

    /// Reserves a slot on this replica's own timeline; returns the wait.
    fn local_slot(&self, key: &str) -> Duration {
        let mut map = self.local.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let state = map
            .entry(key.to_string())
            .or_insert_with(|| LocalKey::new(now));
        let spacing = self.fallback_interval(state);
        if !state.falling_back {
            // The slots booked on the shared timeline are still to be used, by every replica:
            // the local timeline starts after the end of the shared one as last seen, or as far
            // ahead as it was booked then (the others kept booking), whichever is later.
            state.falling_back = true;
            let shared_end = state.shared_end.max(now + state.shared_ahead);
            state.next = state.next.max(shared_end + spacing);
        }
        Self::take(state, now, spacing)
    }

    /// The server throttled a call for `key` anyway: no replica gets a slot for `key` before
    /// `retry_after` (default one second) from now (what [`RateLimiter::on_throttled`] does,
    /// in a task of its own).
    pub async fn throttled(&self, key: &str, retry_after: Option<Duration>) {
        let pause = retry_after.unwrap_or(Duration::from_secs(1));
        {
            let mut map = self.local.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let state = map
                .entry(key.to_string())
                .or_insert_with(|| LocalKey::new(now));
            state.next = state.next.max(now + pause);
            let recent = state
                .slowed_at
                .is_some_and(|at| now.saturating_duration_since(at) < Duration::from_secs(1));
            if state.falling_back && !recent {
                // Throttled while pacing alone: more replicas are calling than last seen; slow
                // down (once per second: the replies to calls in flight tell the same thing).
                state.slowdown = (state.slowdown * 2).min(4);
                state.slowed_at = Some(now);
            }
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
