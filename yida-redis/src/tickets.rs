//! The suite ticket of a third-party app, in Redis.

use crate::Redis;
use redis::Script;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use yida_auth::{Secret, StoreFuture, SuiteTicket, SuiteTicketStore};

/// Stores `ARGV[1]\nARGV[2]` (push time in ms, ticket) in KEYS[1], expiring in `ARGV[3]` ms,
/// unless the stored ticket was pushed later. Returns 1 when stored.
static OFFER: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local v = redis.call('GET', KEYS[1])
          if v then
            local i = string.find(v, '\n', 1, true)
            local t = i and tonumber(string.sub(v, 1, i - 1))
            if t and t > tonumber(ARGV[1]) then return 0 end
          end
          redis.call('SET', KEYS[1], ARGV[1] .. '\n' .. ARGV[2], 'PX', ARGV[3])
          return 1",
    )
});

type Ticket = (Secret, SystemTime);

/// The suite ticket of one third-party app, shared by every replica through Redis: whichever
/// replica DingTalk pushes a ticket to [`offer`](SuiteTicketStore::offer)s it (the event
/// receiver does), every replica's token fetch reads the
/// [`latest`](SuiteTicketStore::latest). A ticket pushed earlier than the stored one (a late redelivery) is
/// ignored; the comparison runs in a Lua script, so two replicas offering at once cannot both
/// win.
///
/// Key: `<prefix>suite-ticket:<suiteKey>`, holding `<push time in ms>\n<ticket>` (the ticket
/// sealed when the handle has an [`encryption_key`](crate::RedisBuilder::encryption_key), in
/// clear otherwise), expiring [`ttl`](Self::ttl) after the push (default 12 hours: DingTalk
/// pushes a new ticket about every 5 hours, so a live app always has one). Each replica
/// also keeps the newest ticket it has seen, used while Redis is unreachable, and offers it
/// to Redis again when Redis answers after a failure and every
/// [`resync_every`](Self::resync_every) (default 10 s; every
/// [`retry_after`](crate::RedisBuilder::retry_after) while Redis is down): a ticket pushed to
/// one replica during an outage, or held by it when Redis restarts empty, is not lost to an
/// older one another replica writes back first (newest push wins). Neither method fails:
/// Redis errors mean local behaviour.
///
/// `Debug` shows no ticket.
#[derive(Clone)]
pub struct RedisTicketStore {
    redis: Redis,
    key: String,
    local: Arc<Mutex<Option<Ticket>>>,
    resync: Duration,
    ttl: Duration,
    /// Set once the task offering the local ticket again has been started.
    watching: Arc<AtomicBool>,
}

impl fmt::Debug for RedisTicketStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTicketStore")
            .field("redis", &self.redis)
            .field("key", &self.key)
            .field("resync", &self.resync)
            .finish_non_exhaustive()
    }
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// How long after its push a ticket stays in Redis by default: 12 hours.
pub const DEFAULT_TICKET_TTL: Duration = Duration::from_secs(12 * 3600);

/// Offers `t` to Redis (newest push wins), to expire `ttl` after its push; `None` when Redis
/// did not answer, `Some(false)` when it was not stored (older, or already expired).
async fn offer_redis(redis: &Redis, key: &str, ttl: Duration, t: &Ticket) -> Option<bool> {
    let expires = millis(t.1).saturating_add(ttl.as_millis() as u64);
    let px = expires.saturating_sub(millis(SystemTime::now()));
    if px == 0 {
        return Some(false);
    }
    let value = redis.seal(key, t.0.expose())?;
    let key = key.to_string();
    let at = millis(t.1).to_string();
    redis
        .run("offer suite ticket", |mut c| async move {
            OFFER
                .key(key)
                .arg(at)
                .arg(value)
                .arg(px)
                .invoke_async::<i64>(&mut c)
                .await
        })
        .await
        .map(|n| n == 1)
}

/// Splits a stored value into the push time and the stored (maybe sealed) ticket.
fn decode(v: &str) -> Option<(SystemTime, &str)> {
    let (at, ticket) = v.split_once('\n')?;
    let at = at.parse::<u64>().ok()?;
    (!ticket.is_empty()).then(|| (UNIX_EPOCH + Duration::from_millis(at), ticket))
}

impl RedisTicketStore {
    pub(crate) fn new(redis: Redis, suite_key: &str) -> Self {
        RedisTicketStore {
            key: redis.key("suite-ticket", suite_key),
            redis,
            local: Arc::default(),
            resync: Duration::from_secs(10),
            ttl: DEFAULT_TICKET_TTL,
            watching: Arc::default(),
        }
    }

    /// How long after its push a ticket stays in Redis (default 12 hours; at least 1 s). A
    /// ticket pushed longer ago than that is not written to Redis (this replica still uses
    /// it while it has nothing newer).
    pub fn ttl(mut self, d: Duration) -> Self {
        self.ttl = d.max(Duration::from_secs(1));
        self
    }

    /// How often this replica offers its newest ticket to Redis again while Redis answers
    /// (default 10 s, at least 100 ms); it also does at once when Redis answers again after a
    /// failure. One Lua script per interval; a ticket that is not newer than Redis's changes
    /// nothing.
    pub fn resync_every(mut self, d: Duration) -> Self {
        self.resync = d.max(Duration::from_millis(100));
        self
    }

    /// Keeps the local copy if `t` is newer; returns whether it was kept.
    fn keep_local(&self, t: &Ticket) -> bool {
        let mut local = self.local.lock().unwrap_or_else(|e| e.into_inner());
        match &*local {
            Some((_, at)) if *at > t.1 => false,
            _ => {
                *local = Some(t.clone());
                true
            }
        }
    }

    fn local(&self) -> Option<Ticket> {
        self.local.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn offer_redis(&self, t: &Ticket) -> Option<bool> {
        offer_redis(&self.redis, &self.key, self.ttl, t).await
    }

    /// Starts (once, when a runtime is at hand) the task that offers this replica's ticket
    /// again when Redis answers after a failure and every `resync` interval. It ends when the
    /// last clone of this store is dropped.
    fn watch(&self) {
        if self.watching.load(Ordering::Relaxed) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.watching.swap(true, Ordering::Relaxed) {
            return;
        }
        let local: Weak<Mutex<Option<Ticket>>> = Arc::downgrade(&self.local);
        let (redis, key, resync, ttl) =
            (self.redis.clone(), self.key.clone(), self.resync, self.ttl);
        let mut transitions = redis.inner.transitions.subscribe();
        runtime.spawn(async move {
            loop {
                let pause = if redis.is_down() {
                    redis.inner.retry_after.max(Duration::from_millis(10))
                } else {
                    resync
                };
                tokio::select! {
                    _ = transitions.changed() => {}
                    _ = tokio::time::sleep(pause) => {}
                }
                let Some(local) = local.upgrade() else {
                    return;
                };
                let ticket = local.lock().unwrap_or_else(|e| e.into_inner()).clone();
                drop(local);
                if let Some(t) = ticket {
                    offer_redis(&redis, &key, ttl, &t).await;
                }
            }
        });
    }

    /// Stores a ticket DingTalk pushed at `pushed_at`; see [`SuiteTicketStore::offer`].
    async fn offer_ticket(&self, t: Ticket) -> bool {
        if t.0.is_blank() {
            return false;
        }
        self.watch();
        let kept_here = self.keep_local(&t);
        match self.offer_redis(&t).await {
            Some(kept) => kept,
            None => kept_here,
        }
    }

    /// The newest ticket: Redis's, or this replica's own if newer (it is then written back to
    /// Redis) or if Redis is unreachable.
    async fn latest_ticket(&self) -> Option<Ticket> {
        self.watch();
        let key = self.key.clone();
        let stored: Option<Option<String>> = self
            .redis
            .run("read suite ticket", |mut c| async move {
                redis::cmd("GET").arg(key).query_async(&mut c).await
            })
            .await;
        let Some(stored) = stored else {
            return self.local();
        };
        let shared = stored.as_deref().and_then(decode).and_then(|(at, sealed)| {
            let ticket = self.redis.open(&self.key, sealed)?;
            (!ticket.is_empty()).then(|| (Secret::new(ticket), at))
        });
        if let Some(t) = &shared {
            self.keep_local(t);
        }
        let local = self.local();
        match (shared, local) {
            (Some(s), Some(l)) if l.1 > s.1 => {
                self.offer_redis(&l).await;
                Some(l)
            }
            (None, Some(l)) => {
                self.offer_redis(&l).await;
                Some(l)
            }
            (s, l) => s.or(l),
        }
    }
}

impl SuiteTicketStore for RedisTicketStore {
    fn latest(&self) -> StoreFuture<'_, Option<SuiteTicket>> {
        Box::pin(async move {
            Ok(self
                .latest_ticket()
                .await
                .map(|(value, at)| SuiteTicket::new(value, at)))
        })
    }

    fn offer(&self, ticket: SuiteTicket) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            Ok(self
                .offer_ticket((ticket.value().clone(), ticket.pushed_at()))
                .await)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_stored_values() {
        let (at, t) = decode("1500\nabc").unwrap();
        assert_eq!(t, "abc");
        assert_eq!(at, UNIX_EPOCH + Duration::from_millis(1500));
        assert!(decode("1500\n").is_none());
        assert!(decode("x\nabc").is_none());
    }

    #[test]
    fn debug_shows_no_ticket() {
        let r = Redis::builder("redis://127.0.0.1:1").build().unwrap();
        let s = r.ticket_store("suite");
        s.keep_local(&(Secret::new("ticket-value-1"), SystemTime::now()));
        assert!(!format!("{s:?}").contains("ticket-value-1"));
    }
}
