//! Suite ticket intake: a pushed `suite_ticket` event goes into the store the token
//! provider reads.

use crate::event::{Event, EventKind};
use std::time::SystemTime;
use yida_auth::{AuthError, SuiteTicket, SuiteTicketStore};

/// Offers the ticket of a `suite_ticket` event to `store` (newest push wins). Returns
/// whether the store kept it; other events are ignored (`Ok(false)`).
///
/// [`HttpEndpoint`](crate::HttpEndpoint) and [`StreamClient`](crate::StreamClient) call
/// this for you when given a store.
pub async fn intake(store: &dyn SuiteTicketStore, event: &Event) -> Result<bool, AuthError> {
    let EventKind::SuiteTicket(t) = &event.kind else {
        return Ok(false);
    };
    if t.ticket.is_blank() {
        return Ok(false);
    }
    let at = t.pushed_at.unwrap_or_else(SystemTime::now);
    let kept = store.offer(SuiteTicket::new(t.ticket.clone(), at)).await?;
    tracing::info!(kept, "suite ticket pushed");
    Ok(kept)
}
