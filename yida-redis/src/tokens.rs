//! Access tokens in Redis, with the lock that elects one fetcher among the replicas.

use crate::Redis;
use redis::Script;
use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use yida_auth::{AccessToken, LockAttempt, SharedFuture, SharedTokenStore};

/// Deletes KEYS[1] if its value is ARGV[1] (releasing a lock only its holder may release).
static DELETE_IF_EQUAL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) == ARGV[1] then
            return redis.call('DEL', KEYS[1])
          end
          return 0",
    )
});

/// Access tokens shared through Redis: the second level of a
/// [`TokenCache`](yida_auth::TokenCache) (see
/// [`TokenCache::with_shared`](yida_auth::TokenCache::with_shared) for the protocol).
///
/// Keys: `<prefix>token:<cache key>` holds `<refresh time in ms>\n<token>` (the token sealed
/// when the handle has an [`encryption_key`](crate::RedisBuilder::encryption_key), in clear
/// otherwise) with a time to live equal to the token's life; `<prefix>token-lock:<cache key>` is the fetch lock (`SET NX PX`
/// with a unique value, released by a script only if the value is still ours, so a holder
/// whose lease ran out cannot release the next holder's lock).
///
/// `Debug` shows the Redis URL without its password, and no token.
#[derive(Clone)]
pub struct RedisTokenStore {
    redis: Redis,
    lease: Duration,
    max_wait: Duration,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("redis", &self.redis)
            .field("lease", &self.lease)
            .field("max_wait", &self.max_wait)
            .finish()
    }
}

impl RedisTokenStore {
    pub(crate) fn new(redis: Redis) -> Self {
        RedisTokenStore {
            redis,
            lease: Duration::from_secs(10),
            max_wait: Duration::from_secs(10),
        }
    }

    /// How long a replica may hold the fetch lock (default 10 s: the token endpoint's own
    /// timeout). A replica that crashes while fetching blocks the others at most this long.
    pub fn lease(mut self, d: Duration) -> Self {
        self.lease = d.max(Duration::from_millis(1));
        self
    }

    /// How long a replica waits for another's fetch before fetching itself (default 10 s).
    pub fn max_wait(mut self, d: Duration) -> Self {
        self.max_wait = d;
        self
    }

    fn token_key(&self, key: &str) -> String {
        self.redis.key("token", key)
    }

    fn lock_key(&self, key: &str) -> String {
        self.redis.key("token-lock", key)
    }
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Splits a stored value into refresh time and the stored (maybe sealed) token.
fn decode(value: &str) -> Option<(Option<SystemTime>, &str)> {
    let (refresh, token) = value.split_once('\n')?;
    if token.is_empty() {
        return None;
    }
    let refresh_at = match refresh.parse::<u64>().ok()? {
        0 => None,
        ms => Some(UNIX_EPOCH + Duration::from_millis(ms)),
    };
    Some((refresh_at, token))
}

impl RedisTokenStore {
    /// The stored value of `key` as read, and the token in it.
    async fn load_raw(&self, key: &str) -> Option<(String, AccessToken)> {
        let k = self.token_key(key);
        let kk = k.clone();
        let value: Option<String> = self
            .redis
            .run("load token", |mut c| async move {
                redis::cmd("GET").arg(&kk).query_async(&mut c).await
            })
            .await?;
        let value = value?;
        let (refresh_at, stored) = decode(&value)?;
        let token = self.redis.open(&k, stored)?;
        if token.is_empty() {
            return None;
        }
        let token = AccessToken::with_refresh_at(token, refresh_at);
        Some((value, token))
    }
}

impl SharedTokenStore for RedisTokenStore {
    fn load<'a>(&'a self, key: &'a str) -> SharedFuture<'a, Option<AccessToken>> {
        Box::pin(async move { self.load_raw(key).await.map(|(_, t)| t) })
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        token: &'a AccessToken,
        expires_at: SystemTime,
    ) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let ttl = millis(expires_at).saturating_sub(millis(SystemTime::now()));
            if ttl == 0 {
                return;
            }
            let k = self.token_key(key);
            let Some(stored) = self.redis.seal(&k, token.secret().expose()) else {
                return;
            };
            let value = format!("{}\n{stored}", token.refresh_at().map_or(0, millis));
            let _: Option<()> = self
                .redis
                .run("save token", |mut c| async move {
                    redis::cmd("SET")
                        .arg(&k)
                        .arg(value)
                        .arg("PX")
                        .arg(ttl)
                        .query_async(&mut c)
                        .await
                })
                .await;
        })
    }

    fn discard<'a>(&'a self, key: &'a str, token: &'a AccessToken) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            // Read, compare the token (sealed values differ each time they are written), then
            // delete only if the value is still the one read.
            let Some((value, stored)) = self.load_raw(key).await else {
                return;
            };
            if stored.secret() != token.secret() {
                return;
            }
            let k = self.token_key(key);
            let _: Option<i64> = self
                .redis
                .run("discard token", |mut c| async move {
                    DELETE_IF_EQUAL
                        .key(&k)
                        .arg(value)
                        .invoke_async(&mut c)
                        .await
                })
                .await;
        })
    }

    fn try_lock<'a>(&'a self, key: &'a str, lease: Duration) -> SharedFuture<'a, LockAttempt> {
        Box::pin(async move {
            let k = self.lock_key(key);
            let value = crate::unique_value();
            let v = value.clone();
            let lease_ms = (lease.as_millis() as u64).max(1);
            let set: Option<Option<String>> = self
                .redis
                .run("lock token fetch", |mut c| async move {
                    redis::cmd("SET")
                        .arg(&k)
                        .arg(&v)
                        .arg("NX")
                        .arg("PX")
                        .arg(lease_ms)
                        .query_async(&mut c)
                        .await
                })
                .await;
            match set {
                None => {
                    // The SET may have happened before the answer was lost: release it as
                    // soon as Redis answers, so the others need not wait out the lease.
                    let store = self.clone();
                    let key = key.to_string();
                    tokio::spawn(async move {
                        tokio::time::sleep(store.redis.inner.retry_after).await;
                        store.unlock(&key, &value).await;
                    });
                    LockAttempt::Unavailable
                }
                Some(Some(_)) => LockAttempt::Acquired(value),
                Some(None) => LockAttempt::Held,
            }
        })
    }

    fn unlock<'a>(&'a self, key: &'a str, lock: &'a str) -> SharedFuture<'a, ()> {
        Box::pin(async move {
            let k = self.lock_key(key);
            let _: Option<i64> = self
                .redis
                .run("unlock token fetch", |mut c| async move {
                    DELETE_IF_EQUAL.key(&k).arg(lock).invoke_async(&mut c).await
                })
                .await;
        })
    }

    fn lease(&self) -> Duration {
        self.lease
    }

    fn max_wait(&self) -> Duration {
        self.max_wait
    }
}

// The store is used behind an `Arc` by the cache; make sure sharing one is possible.
const _: fn() = || {
    fn shared<T: SharedTokenStore + Clone + 'static>() {}
    shared::<RedisTokenStore>();
    fn arc<T: SharedTokenStore>() {}
    arc::<Arc<RedisTokenStore>>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_stored_values() {
        let (refresh_at, t) = decode("1700000000000\nabc").unwrap();
        assert_eq!(t, "abc");
        assert_eq!(
            refresh_at,
            Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        );
        assert_eq!(decode("0\nabc").unwrap().0, None);
        assert!(decode("garbage").is_none());
        assert!(decode("12\n").is_none());
        assert!(decode("x\nabc").is_none());
    }
}
