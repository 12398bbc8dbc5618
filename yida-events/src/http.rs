//! Framework-agnostic HTTP push endpoint: query string + body in, event + reply out.

use crate::crypto::{CallbackCrypto, CallbackError, CallbackParams, CallbackReply};
use crate::event::Event;
use crate::replay::{MemoryReplayStore, ReplayStore, DEFAULT_REPLAY_RATE};
use crate::tickets::intake;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::SystemTime;
use yida_auth::wire::printable;
use yida_auth::SuiteTicketStore;

/// Longest handler or store message carried in a [`CallbackError`], in characters.
const MAX_MESSAGE_CHARS: usize = 200;

/// An HTTP push endpoint for one app. Plug [`respond`](HttpEndpoint::respond) (or
/// [`handle`](HttpEndpoint::handle)) into any web framework: it takes the raw query string,
/// the body and your handler, and returns the response to send.
///
/// **A push is acknowledged only after it was handled.** The encrypted `success` is built
/// only once your handler returned `Ok` (after any suite ticket was stored): a handler that
/// fails (an event it could not print, store or queue) turns into HTTP 500, and DingTalk
/// sends the push again. The push is marked as seen (for replay protection) only then too,
/// so the redelivery of a push that failed is handled, not refused as a replay.
///
/// Replays: a handled push's signature is remembered until its timestamp leaves the window
/// ([`CallbackCrypto::max_age`]), in memory by default, sized for
/// [`replay_rate`](Self::replay_rate) valid pushes a second; when that is full, pushes are
/// answered 503 (sent again later) rather than anything being forgotten. A restart forgets
/// the memory store: give [`replay_store`](Self::replay_store) a shared store
/// (`yida_redis::RedisReplayStore`) so restarts and replicas share it.
///
/// ```
/// use yida_auth::MemoryTicketStore;
/// use yida_events::{CallbackCrypto, HttpEndpoint};
/// # async fn run(query: &str, body: &[u8]) -> Result<(), yida_events::CallbackError> {
/// let tickets = MemoryTicketStore::new();
/// let endpoint = HttpEndpoint::new(
///     CallbackCrypto::new("token", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij", "suite-key")?,
/// )
/// .suite_tickets(tickets.clone());
/// let (response, _event) = endpoint
///     .respond(query, body, |event| async move {
///         // Persist or queue the event; an Err here means "not handled": HTTP 500.
///         println!("{}", event.to_json_line());
///         Ok::<(), std::io::Error>(())
///     })
///     .await;
/// # let _ = response; Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpEndpoint {
    crypto: Arc<CallbackCrypto>,
    tickets: Option<Arc<dyn SuiteTicketStore>>,
    replay: Option<Arc<dyn ReplayStore>>,
    custom_replay: bool,
}

impl fmt::Debug for HttpEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpEndpoint")
            .field("crypto", &self.crypto)
            .field("tickets", &self.tickets)
            .field("replay", &self.replay)
            .finish()
    }
}

/// A handled push: the event and the reply to send (HTTP 200, JSON).
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The event.
    pub event: Event,
    /// The encrypted `success` reply.
    pub reply: CallbackReply,
}

/// An HTTP response to send back: status, `Content-Type` and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// 200 for a handled push, 400/403/500/503 otherwise (see
    /// [`CallbackError::http_status`]).
    pub status: u16,
    /// `application/json` or `text/plain; charset=utf-8`.
    pub content_type: &'static str,
    /// The body: the encrypted reply, or the error's short message (no secret, no copy of
    /// the request body).
    pub body: String,
}

impl HttpEndpoint {
    /// An endpoint decrypting with `crypto`, remembering handled pushes in memory (sized for
    /// the crypto's window and [`DEFAULT_REPLAY_RATE`]).
    pub fn new(crypto: CallbackCrypto) -> Self {
        let replay = crypto.window().map(|w| {
            Arc::new(MemoryReplayStore::for_window(w, DEFAULT_REPLAY_RATE)) as Arc<dyn ReplayStore>
        });
        HttpEndpoint {
            crypto: Arc::new(crypto),
            tickets: None,
            replay,
            custom_replay: false,
        }
    }

    /// Stores pushed suite tickets here (the store [`yida_auth::ThirdPartyApp`] reads),
    /// before the handler runs; a store failure answers 500 (DingTalk sends it again).
    pub fn suite_tickets(mut self, store: impl SuiteTicketStore + 'static) -> Self {
        self.tickets = Some(Arc::new(store));
        self
    }

    /// Sizes the in-memory replay store for `per_second` valid pushes a second over the
    /// window (default [`DEFAULT_REPLAY_RATE`]); beyond that, pushes are answered 503. No
    /// effect with a [`replay_store`](Self::replay_store) or without a window.
    pub fn replay_rate(mut self, per_second: u32) -> Self {
        if !self.custom_replay {
            self.replay = self.crypto.window().map(|w| {
                Arc::new(MemoryReplayStore::for_window(w, per_second)) as Arc<dyn ReplayStore>
            });
        }
        self
    }

    /// Remembers handled pushes in `store` instead of memory: a shared store (Redis) lets
    /// replicas, and this process after a restart, refuse each other's replays. Used only
    /// with a timestamp window ([`CallbackCrypto::max_age`] not `None`).
    pub fn replay_store(mut self, store: impl ReplayStore + 'static) -> Self {
        self.custom_replay = true;
        self.replay = self
            .crypto
            .window()
            .map(|_| Arc::new(store) as Arc<dyn ReplayStore>);
        self
    }

    /// The crypto in use.
    pub fn crypto(&self) -> &CallbackCrypto {
        &self.crypto
    }

    /// Checks and decrypts one push (`query` is the raw query string, with or without `?`),
    /// refuses a replay, feeds a suite ticket to the store, runs `handler` on the event, and
    /// only when it returned `Ok` marks the push as handled and builds the `success` reply.
    pub async fn handle<F, Fut, E>(
        &self,
        query: &str,
        body: &[u8],
        handler: F,
    ) -> Result<Accepted, CallbackError>
    where
        F: FnOnce(Event) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        let params = CallbackParams::from_query(query);
        let opened = self.crypto.open_checked(&params, body, SystemTime::now())?;
        let event = Event::from_http(opened.message);
        let replay = match (&self.replay, opened.expires_in) {
            (Some(store), Some(ttl)) => Some((store, ttl)),
            _ => None,
        };
        if let Some((store, _)) = replay {
            if store.seen(&opened.replay_key).await? {
                return Err(CallbackError::Replayed);
            }
        }
        if let Some(store) = &self.tickets {
            intake(store.as_ref(), &event)
                .await
                .map_err(|e| CallbackError::Store {
                    message: printable(&e.to_string(), MAX_MESSAGE_CHARS).to_string(),
                })?;
        }
        handler(event.clone())
            .await
            .map_err(|e| CallbackError::NotHandled {
                message: printable(&e.to_string(), MAX_MESSAGE_CHARS).to_string(),
            })?;
        let reply = self.crypto.success()?;
        if let Some((store, ttl)) = replay {
            // The event was handled: answer success even if the mark is lost (a redelivery
            // would be handled twice, which is better than an event lost).
            if let Err(e) = store.mark(&opened.replay_key, ttl).await {
                tracing::warn!(error = %e, "push handled but not marked against replays");
            }
        }
        Ok(Accepted { event, reply })
    }

    /// [`handle`](Self::handle), turned into the response to send; the event is returned
    /// for a handled push only.
    pub async fn respond<F, Fut, E>(
        &self,
        query: &str,
        body: &[u8],
        handler: F,
    ) -> (HttpResponse, Option<Event>)
    where
        F: FnOnce(Event) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        match self.handle(query, body, handler).await {
            Ok(a) => (
                HttpResponse {
                    status: 200,
                    content_type: "application/json",
                    body: a.reply.to_json(),
                },
                Some(a.event),
            ),
            Err(e) => (
                HttpResponse {
                    status: e.http_status(),
                    content_type: "text/plain; charset=utf-8",
                    body: e.to_string(),
                },
                None,
            ),
        }
    }
}
