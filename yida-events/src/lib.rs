//! Receive what DingTalk pushes to a Yida app.
//!
//! DingTalk delivers events in one of two modes, chosen in the developer console:
//!
//! - **HTTP push**: DingTalk POSTs an encrypted body to your URL. [`HttpEndpoint`] checks the
//!   signature, timestamp and owner key, decrypts ([`CallbackCrypto`]) and builds the
//!   encrypted `success` reply; it takes a query string and a body, so it fits any web
//!   framework (see `examples/axum_callback.rs`).
//! - **Stream mode**: your process opens a WebSocket to DingTalk ([`StreamClient`]); no
//!   public URL needed.
//!
//! Both give the same [`Event`], with a typed [`EventKind`] for approval events
//! (`bpms_instance_change`, `bpms_task_change`), suite tickets, auth codes, URL checks and
//! third-party lifecycle events; any other type arrives as [`EventKind::Other`] with its
//! type and JSON payload.
//!
//! For third-party (ISV) apps, give either receiver the [`yida_auth::SuiteTicketStore`]
//! your [`yida_auth::ThirdPartyApp`] reads: each pushed ticket is stored (newest push wins)
//! and the next token fetch uses it.
//!
//! ```no_run
//! use yida_auth::{MemoryTicketStore, ThirdPartyApp};
//! use yida_events::{AckStatus, StreamClient};
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let tickets = MemoryTicketStore::new();
//! let stream = StreamClient::builder("suite-key", "suite-secret")
//!     .suite_tickets(tickets.clone())
//!     .build()?
//!     .start(|_event| async { AckStatus::Success });
//! let isv = ThirdPartyApp::new("suite-key", "suite-secret", tickets)?;
//! let corp = isv.for_corp("ding-corp-id")?; // a TokenProvider for yida_api::Client
//! # let _ = (corp, stream); Ok(()) }
//! ```
//!
//! # Guides
//!
//! Task guides, in English and Chinese (`<name>.zh-CN.md`), are in the repository's
//! `docs/guides/`; each has an example in `examples/examples/` that CI runs against the
//! emulator:
//!
//! - `docs/guides/approval-events.md`: reacting to approval events
//! - `docs/guides/isv-app.md`: ISV app end to end (suite_ticket intake, tokens per company)
#![warn(missing_docs)]

mod crypto;
mod event;
mod http;
mod push;
mod replay;
mod stream;
mod tickets;

pub use crypto::{
    CallbackCrypto, CallbackError, CallbackParams, CallbackReply, DEFAULT_MAX_AGE, MAX_BODY_BYTES,
    MAX_ENCRYPT_CHARS,
};
pub use event::{
    ApprovalResult, BpmsInstanceChange, BpmsTaskChange, CheckUrl, Event, EventKind, InstanceChange,
    SuiteLifecycle, SuiteTicketEvent, TaskChange, TmpAuthCode,
};
pub use http::{Accepted, HttpEndpoint, HttpResponse};
pub use push::{push, seal_push, PushError, PushOutcome, SealedPush};
pub use replay::{
    MemoryReplayStore, ReplayError, ReplayFuture, ReplayStore, DEFAULT_REPLAY_RATE,
    MAX_REPLAY_ENTRIES,
};
pub use stream::{
    AckMode, AckStatus, EventHandler, HandlerFuture, StreamClient, StreamClientBuilder,
    StreamError, StreamHandle, StreamStats, DEFAULT_STREAM_ENDPOINT, MAX_FRAME_BYTES,
    MAX_OPEN_REPLY_BYTES,
};
pub use tickets::intake;
