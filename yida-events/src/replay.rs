//! Replay protection for HTTP pushes: which signed pushes were already handled.
//!
//! A push is refused as a replay when its signature was marked as handled and its timestamp
//! is still inside the accepted window. A signature is marked only after the push was handled
//! (see [`HttpEndpoint`](crate::HttpEndpoint)), and it is remembered until its timestamp leaves
//! the window, so the store covers the whole window. Entries older than that are not needed:
//! the timestamp check refuses those pushes.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Default rate cap the in-memory replay store is sized for: valid pushes per second,
/// sustained over the whole window (50/s; DingTalk pushes one app's events far slower).
pub const DEFAULT_REPLAY_RATE: u32 = 50;

/// Largest in-memory replay store, in entries (1 Mi, about 150 MB at worst); a larger
/// window × rate is clamped to it.
pub const MAX_REPLAY_ENTRIES: usize = 1 << 20;

/// The future a [`ReplayStore`] returns.
pub type ReplayFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ReplayError>> + Send + 'a>>;

/// Why a [`ReplayStore`] could not answer. The push is then answered with HTTP 503, so
/// DingTalk sends it again later; nothing is forgotten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// Every slot holds a push still inside the window (more valid pushes than the rate cap
    /// the store was sized for).
    #[error("replay store full: {capacity} pushes inside the window")]
    Full {
        /// Entries the store holds.
        capacity: usize,
    },
    /// The shared store failed or timed out.
    #[error("replay store unavailable: {message}")]
    Unavailable {
        /// What went wrong (no secret).
        message: String,
    },
}

/// Where handled pushes are remembered. The default is in memory, per
/// [`HttpEndpoint`](crate::HttpEndpoint); a shared one (`yida_redis::RedisReplayStore`)
/// lets replicas and a restarted process refuse each other's replays.
pub trait ReplayStore: Send + Sync + fmt::Debug {
    /// Whether `key` (a push's signature) was marked and has not expired. A store that
    /// cannot answer for sure returns an error rather than `false`.
    fn seen<'a>(&'a self, key: &'a str) -> ReplayFuture<'a, bool>;

    /// Marks `key` as handled for `ttl` (until the push's timestamp leaves the window).
    fn mark<'a>(&'a self, key: &'a str, ttl: Duration) -> ReplayFuture<'a, ()>;
}

impl<T: ReplayStore + ?Sized> ReplayStore for std::sync::Arc<T> {
    fn seen<'a>(&'a self, key: &'a str) -> ReplayFuture<'a, bool> {
        (**self).seen(key)
    }
    fn mark<'a>(&'a self, key: &'a str, ttl: Duration) -> ReplayFuture<'a, ()> {
        (**self).mark(key, ttl)
    }
}

/// An in-memory [`ReplayStore`] holding at most `capacity` pushes. When every entry is
/// still inside its window, [`seen`](ReplayStore::seen) fails with [`ReplayError::Full`]
/// (the push is answered 503 and sent again later) instead of forgetting one. Memory
/// only: after a restart, pushes handled before it are not known (see the guide).
pub struct MemoryReplayStore {
    capacity: usize,
    inner: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    expiry: HashMap<String, Instant>,
    order: BinaryHeap<Reverse<(Instant, String)>>,
}

impl Entries {
    fn purge(&mut self, now: Instant) {
        while let Some(Reverse((at, _))) = self.order.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((at, key))) = self.order.pop() {
                if self.expiry.get(&key) == Some(&at) {
                    self.expiry.remove(&key);
                }
            }
        }
    }
}

impl fmt::Debug for MemoryReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReplayStore")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

impl MemoryReplayStore {
    /// A store for at most `capacity` pushes inside the window (clamped to
    /// [`MAX_REPLAY_ENTRIES`]).
    pub fn new(capacity: usize) -> Self {
        MemoryReplayStore {
            capacity: capacity.min(MAX_REPLAY_ENTRIES),
            inner: Mutex::default(),
        }
    }

    /// A store sized for `rate` valid pushes per second over a timestamp window of
    /// `window` either side of now (an entry lives at most twice the window).
    pub fn for_window(window: Duration, rate: u32) -> Self {
        let secs = window.as_secs().saturating_mul(2).max(1);
        let n = secs.saturating_mul(u64::from(rate.max(1)));
        Self::new(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// Entries the store holds at most.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Entries held now (expired ones included until the next access).
    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .expiry
            .len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn seen_now(&self, key: &str) -> Result<bool, ReplayError> {
        let mut e = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        e.purge(Instant::now());
        if e.expiry.contains_key(key) {
            return Ok(true);
        }
        if e.expiry.len() >= self.capacity {
            return Err(ReplayError::Full {
                capacity: self.capacity,
            });
        }
        Ok(false)
    }

    fn mark_now(&self, key: &str, ttl: Duration) -> Result<(), ReplayError> {
        let mut e = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        e.purge(now);
        // Pushes checked by `seen` while the store had room may all be marked: the store
        // may pass its capacity by the pushes in flight, never by more than its capacity.
        if e.expiry.len() >= self.capacity.saturating_mul(2) && !e.expiry.contains_key(key) {
            return Err(ReplayError::Full {
                capacity: self.capacity,
            });
        }
        let at = now + ttl;
        e.expiry.insert(key.to_string(), at);
        e.order.push(Reverse((at, key.to_string())));
        Ok(())
    }
}

impl ReplayStore for MemoryReplayStore {
    fn seen<'a>(&'a self, key: &'a str) -> ReplayFuture<'a, bool> {
        let r = self.seen_now(key);
        Box::pin(async move { r })
    }

    fn mark<'a>(&'a self, key: &'a str, ttl: Duration) -> ReplayFuture<'a, ()> {
        let r = self.mark_now(key, ttl);
        Box::pin(async move { r })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_store_refuses_instead_of_forgetting_and_frees_expired_entries() {
        let s = MemoryReplayStore::new(2);
        assert_eq!(s.seen_now("a"), Ok(false));
        s.mark_now("a", Duration::from_secs(60)).unwrap();
        s.mark_now("b", Duration::from_millis(1)).unwrap();
        assert_eq!(s.seen_now("a"), Ok(true));
        std::thread::sleep(Duration::from_millis(5));
        // "b" expired: room for "c".
        assert_eq!(s.seen_now("c"), Ok(false));
        s.mark_now("c", Duration::from_secs(60)).unwrap();
        assert_eq!(s.seen_now("d"), Err(ReplayError::Full { capacity: 2 }));
        assert_eq!(s.seen_now("a"), Ok(true));
        assert_eq!(
            MemoryReplayStore::for_window(Duration::from_secs(600), 50).capacity(),
            60_000
        );
    }
}
