//! Handled HTTP pushes, in Redis: replay protection shared by replicas and restarts.

use crate::Redis;
use std::fmt;
use std::time::Duration;
use yida_events::{MemoryReplayStore, ReplayFuture, ReplayStore, DEFAULT_REPLAY_RATE};

/// A [`yida_events::ReplayStore`] in Redis: a push handled by one replica (or by this
/// process before a restart) is refused as a replay by every other, as long as its
/// timestamp is inside the window. Give it to
/// [`HttpEndpoint::replay_store`](yida_events::HttpEndpoint::replay_store).
///
/// Key: `<prefix>replay:<name>:<signature>`, set with a time to live that ends when the
/// push's timestamp leaves the window (`SET … PX`), so Redis holds only pushes that could
/// still be replayed. The signature is a SHA-1 over the callback token and the push: it
/// reveals neither.
///
/// **Faults.** Each replica also remembers what it handled in memory (sized for the window
/// at [`DEFAULT_REPLAY_RATE`] pushes a second). When Redis is unreachable, that memory
/// answers, as a single process would: during an outage, a push handled by another replica
/// can be handled again here. A full memory store answers 503 (DingTalk sends again).
///
/// ```no_run
/// use std::time::Duration;
/// use yida_events::{CallbackCrypto, HttpEndpoint};
/// use yida_redis::{Redis, RedisReplayStore};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let redis = Redis::builder("redis://127.0.0.1:6379").prefix("orders:").build()?;
/// let crypto = CallbackCrypto::new("token", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij", "suite-key")?;
/// let window = crypto.window().unwrap_or(Duration::from_secs(600));
/// let endpoint = HttpEndpoint::new(crypto)
///     .replay_store(RedisReplayStore::new(&redis, "suite-key", window));
/// # let _ = endpoint; Ok(()) }
/// ```
pub struct RedisReplayStore {
    redis: Redis,
    prefix: String,
    local: MemoryReplayStore,
}

impl fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayStore")
            .field("redis", &self.redis)
            .field("prefix", &self.prefix)
            .field("local", &self.local)
            .finish()
    }
}

impl RedisReplayStore {
    /// The replay store of the endpoint `name` (the owner key: corp id, suite key or custom
    /// key) for a timestamp window of `window` either side of now.
    pub fn new(redis: &Redis, name: &str, window: Duration) -> Self {
        RedisReplayStore {
            prefix: redis.key("replay", &format!("{name}:")),
            redis: redis.clone(),
            local: MemoryReplayStore::for_window(window, DEFAULT_REPLAY_RATE),
        }
    }

    fn key(&self, signature: &str) -> String {
        format!("{}{signature}", self.prefix)
    }
}

impl ReplayStore for RedisReplayStore {
    fn seen<'a>(&'a self, key: &'a str) -> ReplayFuture<'a, bool> {
        Box::pin(async move {
            let k = self.key(key);
            let shared: Option<bool> = self
                .redis
                .run("check replay", |mut c| async move {
                    redis::cmd("EXISTS").arg(k).query_async(&mut c).await
                })
                .await;
            match shared {
                Some(true) => Ok(true),
                // Redis answered "not seen": this replica's memory may still know it (handled
                // while Redis was down); Redis, with room, decides otherwise.
                Some(false) => Ok(self.local.seen(key).await.unwrap_or(false)),
                // Redis is down: this replica's memory answers, as a single process would.
                None => self.local.seen(key).await,
            }
        })
    }

    fn mark<'a>(&'a self, key: &'a str, ttl: Duration) -> ReplayFuture<'a, ()> {
        Box::pin(async move {
            let local = self.local.mark(key, ttl).await;
            let k = self.key(key);
            let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let shared: Option<()> = self
                .redis
                .run("mark replay", |mut c| async move {
                    redis::cmd("SET")
                        .arg(k)
                        .arg(1)
                        .arg("PX")
                        .arg(ms)
                        .query_async(&mut c)
                        .await
                })
                .await;
            match shared {
                Some(()) => Ok(()),
                None => local,
            }
        })
    }
}
