//! Where a third-party app keeps the suite ticket DingTalk pushes.

use crate::{AuthError, Secret};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

/// A suite ticket and the time DingTalk pushed it.
///
/// `Debug` prints the push time, never the ticket.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use yida_auth::SuiteTicket;
/// let t = SuiteTicket::new("ticket-value", UNIX_EPOCH + Duration::from_secs(5));
/// assert!(!format!("{t:?}").contains("ticket-value"));
/// assert_eq!(t.value().expose(), "ticket-value");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SuiteTicket {
    value: Secret,
    pushed_at: SystemTime,
}

impl SuiteTicket {
    /// A ticket pushed at `pushed_at`.
    pub fn new(value: impl Into<Secret>, pushed_at: SystemTime) -> Self {
        SuiteTicket {
            value: value.into(),
            pushed_at,
        }
    }

    /// The ticket itself.
    pub fn value(&self) -> &Secret {
        &self.value
    }

    /// When DingTalk pushed it (the push's own time stamp, not the time it arrived).
    pub fn pushed_at(&self) -> SystemTime {
        self.pushed_at
    }
}

impl fmt::Debug for SuiteTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SuiteTicket")
            .field("value", &self.value)
            .field("pushed_at", &self.pushed_at)
            .finish()
    }
}

/// The future returned by [`SuiteTicketStore`] methods.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, AuthError>> + Send + 'a>>;

/// Where a third-party app keeps the latest suite ticket. DingTalk pushes a new ticket every
/// few hours (HTTP callback or Stream event); the event receiver
/// [`offer`](SuiteTicketStore::offer)s it, each token fetch reads
/// [`latest`](SuiteTicketStore::latest).
///
/// Pushes can arrive out of order (redeliveries, several receivers): a store keeps the ticket
/// with the newest [`pushed_at`](SuiteTicket::pushed_at); an older push never replaces a newer
/// one. A shared store (Redis, a database) does that comparison atomically.
///
/// ```
/// use yida_auth::{AuthError, StoreFuture, SuiteTicket, SuiteTicketStore};
/// #[derive(Debug)]
/// struct FromVault;
/// impl SuiteTicketStore for FromVault {
///     fn latest(&self) -> StoreFuture<'_, Option<SuiteTicket>> {
///         Box::pin(async { Ok(None) })
///     }
///     fn offer(&self, _ticket: SuiteTicket) -> StoreFuture<'_, bool> {
///         Box::pin(async { Ok(false) })
///     }
/// }
/// ```
pub trait SuiteTicketStore: Send + Sync + fmt::Debug {
    /// The newest ticket, if one has arrived.
    fn latest(&self) -> StoreFuture<'_, Option<SuiteTicket>>;

    /// Keeps `ticket` unless the store holds one pushed later. Returns whether it was kept.
    fn offer(&self, ticket: SuiteTicket) -> StoreFuture<'_, bool>;
}

impl<T: SuiteTicketStore + ?Sized> SuiteTicketStore for Arc<T> {
    fn latest(&self) -> StoreFuture<'_, Option<SuiteTicket>> {
        (**self).latest()
    }
    fn offer(&self, ticket: SuiteTicket) -> StoreFuture<'_, bool> {
        (**self).offer(ticket)
    }
}

/// An in-memory [`SuiteTicketStore`]; clones share the ticket.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use yida_auth::{MemoryTicketStore, SuiteTicket};
/// let store = MemoryTicketStore::new();
/// let at = |s| UNIX_EPOCH + Duration::from_secs(s);
/// assert!(store.offer_now(SuiteTicket::new("newer", at(20))));
/// assert!(!store.offer_now(SuiteTicket::new("older", at(10)))); // out of order: ignored
/// assert_eq!(store.ticket().unwrap().expose(), "newer");
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryTicketStore(Arc<RwLock<Option<SuiteTicket>>>);

impl MemoryTicketStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the ticket unconditionally, stamped with the current time (set a ticket by
    /// hand; pushed tickets go through [`offer`](SuiteTicketStore::offer)).
    pub fn set(&self, ticket: impl Into<Secret>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) =
            Some(SuiteTicket::new(ticket, SystemTime::now()));
    }

    /// The ticket value, if any (synchronous).
    pub fn ticket(&self) -> Option<Secret> {
        self.get().map(|t| t.value)
    }

    /// The ticket with its push time, if any (synchronous).
    pub fn get(&self) -> Option<SuiteTicket> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// [`offer`](SuiteTicketStore::offer), synchronously.
    pub fn offer_now(&self, ticket: SuiteTicket) -> bool {
        let mut slot = self.0.write().unwrap_or_else(|e| e.into_inner());
        match &*slot {
            Some(current) if current.pushed_at > ticket.pushed_at => false,
            _ => {
                *slot = Some(ticket);
                true
            }
        }
    }
}

impl SuiteTicketStore for MemoryTicketStore {
    fn latest(&self) -> StoreFuture<'_, Option<SuiteTicket>> {
        let t = self.get();
        Box::pin(async move { Ok(t) })
    }

    fn offer(&self, ticket: SuiteTicket) -> StoreFuture<'_, bool> {
        let kept = self.offer_now(ticket);
        Box::pin(async move { Ok(kept) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[tokio::test]
    async fn newest_push_wins_through_the_trait_and_an_arc() {
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        let mem = MemoryTicketStore::new();
        let store: Arc<dyn SuiteTicketStore> = Arc::new(mem.clone());
        assert_eq!(store.latest().await.unwrap(), None);
        assert!(store.offer(SuiteTicket::new("b", at(20))).await.unwrap());
        assert!(!store.offer(SuiteTicket::new("a", at(10))).await.unwrap());
        // Same time: the later offer replaces (not older).
        assert!(store.offer(SuiteTicket::new("b2", at(20))).await.unwrap());
        assert!(store.offer(SuiteTicket::new("c", at(30))).await.unwrap());
        let t = store.latest().await.unwrap().unwrap();
        assert_eq!((t.value().expose(), t.pushed_at()), ("c", at(30)));
        assert_eq!(mem.ticket().unwrap().expose(), "c");
        assert!(!format!("{t:?} {mem:?}").contains("\"c\""));
    }
}
