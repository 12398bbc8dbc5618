//! Framework-agnostic HTTP push endpoint: query string + body in, event + reply out.

use crate::crypto::{CallbackCrypto, CallbackError, CallbackParams, CallbackReply};
use crate::event::Event;
use crate::tickets::intake;
use std::fmt;
use std::sync::Arc;
use yida_auth::SuiteTicketStore;

/// An HTTP push endpoint for one app. Plug [`handle`](HttpEndpoint::handle) (or
/// [`respond`](HttpEndpoint::respond)) into any web framework: it takes the raw query string
/// and body, and returns the event with the encrypted `success` reply, or an error with the
/// status to answer.
///
/// With [`suite_tickets`](HttpEndpoint::suite_tickets) set, a `suite_ticket` push is stored
/// before the reply is built: if the store fails, the push is not acknowledged and DingTalk
/// sends it again.
///
/// ```
/// use yida_auth::MemoryTicketStore;
/// use yida_events::{CallbackCrypto, HttpEndpoint};
/// let tickets = MemoryTicketStore::new();
/// let endpoint = HttpEndpoint::new(
///     CallbackCrypto::new("token", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij", "suite-key")
///         .unwrap(),
/// )
/// .suite_tickets(tickets.clone());
/// # let _ = endpoint;
/// ```
#[derive(Clone)]
pub struct HttpEndpoint {
    crypto: Arc<CallbackCrypto>,
    tickets: Option<Arc<dyn SuiteTicketStore>>,
}

impl fmt::Debug for HttpEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpEndpoint")
            .field("crypto", &self.crypto)
            .field("tickets", &self.tickets)
            .finish()
    }
}

/// A valid push: the event and the reply to send (HTTP 200, JSON).
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
    /// 200 for a valid push, 400/403/500 otherwise (see [`CallbackError::http_status`]).
    pub status: u16,
    /// `application/json` or `text/plain; charset=utf-8`.
    pub content_type: &'static str,
    /// The body: the encrypted reply, or the error's message (which holds no secret).
    pub body: String,
}

impl HttpEndpoint {
    /// An endpoint decrypting with `crypto`.
    pub fn new(crypto: CallbackCrypto) -> Self {
        HttpEndpoint {
            crypto: Arc::new(crypto),
            tickets: None,
        }
    }

    /// Stores pushed suite tickets here (the store [`yida_auth::ThirdPartyApp`] reads).
    pub fn suite_tickets(mut self, store: impl SuiteTicketStore + 'static) -> Self {
        self.tickets = Some(Arc::new(store));
        self
    }

    /// The crypto in use.
    pub fn crypto(&self) -> &CallbackCrypto {
        &self.crypto
    }

    /// Checks and decrypts one push (`query` is the raw query string, with or without `?`),
    /// feeds a suite ticket to the store, and builds the reply.
    pub async fn handle(&self, query: &str, body: &[u8]) -> Result<Accepted, CallbackError> {
        let params = CallbackParams::from_query(query);
        let message = self.crypto.open(&params, body)?;
        let event = Event::from_http(message);
        if let Some(store) = &self.tickets {
            intake(store.as_ref(), &event)
                .await
                .map_err(|e| CallbackError::Store {
                    message: e.to_string(),
                })?;
        }
        let reply = self.crypto.success()?;
        Ok(Accepted { event, reply })
    }

    /// [`handle`](Self::handle), turned into the response to send; the event is returned
    /// for a valid push only.
    pub async fn respond(&self, query: &str, body: &[u8]) -> (HttpResponse, Option<Event>) {
        match self.handle(query, body).await {
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
