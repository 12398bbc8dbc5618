//! A second level for the token cache, shared by several processes (replicas of one service),
//! with a cross-process lock so that one of them fetches a missing token while the others wait.
//!
//! The in-memory cache stays the first level: a fresh token there is used without asking the
//! shared store. Only when it has none (or it is due for refresh) does [`TokenCache`] ask the
//! [`SharedTokenStore`], as described on [`TokenCache::with_shared`].
//!
//! [`TokenCache`]: crate::TokenCache
//! [`TokenCache::with_shared`]: crate::TokenCache::with_shared

use crate::AccessToken;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// The future returned by [`SharedTokenStore`] methods.
pub type SharedFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What [`SharedTokenStore::try_lock`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockAttempt {
    /// This process holds the lock until it releases it or the lease runs out. The string is
    /// the lock's unique value, given back to [`SharedTokenStore::unlock`].
    Acquired(String),
    /// Another process holds it: wait for the token it is fetching.
    Held,
    /// The store cannot be reached: fetch locally.
    Unavailable,
}

/// Token storage shared by several processes, with a lock that elects one fetcher.
///
/// Methods never fail: a store that cannot be reached answers `None`, does nothing or
/// returns [`LockAttempt::Unavailable`], and the cache goes on with local behaviour. They
/// should be bounded in time (a slow store must not hold a call up).
///
/// Implemented on Redis by the `yida-redis` crate.
pub trait SharedTokenStore: Send + Sync + fmt::Debug {
    /// The token stored for `key` (with the refresh time its fetcher chose), if any.
    fn load<'a>(&'a self, key: &'a str) -> SharedFuture<'a, Option<AccessToken>>;

    /// Stores `token` for `key`; DingTalk said it expires at `expires_at` (the store should
    /// forget it then).
    fn save<'a>(
        &'a self,
        key: &'a str,
        token: &'a AccessToken,
        expires_at: SystemTime,
    ) -> SharedFuture<'a, ()>;

    /// Removes the token stored for `key` if it is still `token` (DingTalk rejected it).
    fn discard<'a>(&'a self, key: &'a str, token: &'a AccessToken) -> SharedFuture<'a, ()>;

    /// Tries to become the one process that fetches `key`'s token, for at most `lease` (a
    /// holder that crashes blocks the others no longer than that).
    fn try_lock<'a>(&'a self, key: &'a str, lease: Duration) -> SharedFuture<'a, LockAttempt>;

    /// Releases the lock taken with value `lock`, if this process still holds it.
    fn unlock<'a>(&'a self, key: &'a str, lock: &'a str) -> SharedFuture<'a, ()>;

    /// How long a fetcher may hold the lock. Default 10 s.
    fn lease(&self) -> Duration {
        Duration::from_secs(10)
    }

    /// How long a process waits for another's fetch before fetching itself. Default 10 s.
    fn max_wait(&self) -> Duration {
        Duration::from_secs(10)
    }
}

impl<T: SharedTokenStore + ?Sized> SharedTokenStore for std::sync::Arc<T> {
    fn load<'a>(&'a self, key: &'a str) -> SharedFuture<'a, Option<AccessToken>> {
        (**self).load(key)
    }
    fn save<'a>(
        &'a self,
        key: &'a str,
        token: &'a AccessToken,
        expires_at: SystemTime,
    ) -> SharedFuture<'a, ()> {
        (**self).save(key, token, expires_at)
    }
    fn discard<'a>(&'a self, key: &'a str, token: &'a AccessToken) -> SharedFuture<'a, ()> {
        (**self).discard(key, token)
    }
    fn try_lock<'a>(&'a self, key: &'a str, lease: Duration) -> SharedFuture<'a, LockAttempt> {
        (**self).try_lock(key, lease)
    }
    fn unlock<'a>(&'a self, key: &'a str, lock: &'a str) -> SharedFuture<'a, ()> {
        (**self).unlock(key, lock)
    }
    fn lease(&self) -> Duration {
        (**self).lease()
    }
    fn max_wait(&self) -> Duration {
        (**self).max_wait()
    }
}
