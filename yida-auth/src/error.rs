//! Errors of token acquisition.

use crate::wire::printable;
use std::fmt;
use std::time::Duration;

/// Longest server message shown by `Display` (the raw text stays in the fields).
const MAX_SHOWN: usize = 500;

/// Why no token could be had. Cloneable, so one failed refresh reaches every waiter.
///
/// Never contains a secret: messages name fields, not values, and carry no URL query.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// A credential was missing or empty; nothing was sent.
    MissingCredential {
        /// The credential's name (`appKey`, `suiteTicket`, …, or an environment variable).
        field: &'static str,
    },
    /// The token endpoint refused the credentials: a 4xx reply other than throttling (e.g.
    /// `invalidClientIdOrSecret`). Retrying cannot help.
    Rejected {
        /// HTTP status.
        status: u16,
        /// DingTalk error code (raw, as received).
        code: Option<String>,
        /// DingTalk error message (raw, as received).
        message: Option<String>,
        /// Request id, for DingTalk support.
        request_id: Option<String>,
    },
    /// The token endpoint failed or throttled (HTTP 5xx, 429, a throttling code, the gateway's
    /// ban): a transient failure, retried like a read.
    Unavailable {
        /// HTTP status.
        status: u16,
        /// DingTalk error code, if the body had one.
        code: Option<String>,
        /// DingTalk error message, if the body had one.
        message: Option<String>,
        /// Request id, for DingTalk support.
        request_id: Option<String>,
        /// The pause the server asked for (gateway wait or `Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The token endpoint answered with a redirect, which is never followed (the credentials
    /// must not reach another host).
    Redirect {
        /// HTTP status.
        status: u16,
        /// The `Location` header without its query (which may hold secrets).
        location: Option<String>,
    },
    /// The token endpoint could not be reached, or timed out.
    Transport {
        /// What went wrong (no secrets, no URL).
        message: String,
    },
    /// The token endpoint's reply is longer than the cap; reading stopped there.
    BodyTooLarge {
        /// HTTP status.
        status: u16,
        /// The cap in bytes (see `InternalApp::body_limit`).
        limit: usize,
    },
    /// The token endpoint answered 2xx with a body that is not a token.
    Decode {
        /// What went wrong.
        message: String,
    },
    /// A [`SuiteTicketStore`](crate::SuiteTicketStore) could not be read or written.
    Store {
        /// What went wrong (no secrets).
        message: String,
    },
}

impl AuthError {
    /// A failure that may pass (connection, timeout, 5xx, throttling): the token fetch is safe
    /// to repeat, like a read.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            AuthError::Transport { .. } | AuthError::Unavailable { .. }
        )
    }

    /// The pause the server asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AuthError::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

fn write_reply(
    f: &mut fmt::Formatter<'_>,
    code: &Option<String>,
    message: &Option<String>,
    request_id: &Option<String>,
) -> fmt::Result {
    if let Some(c) = code {
        write!(f, ", code {}", printable(c, 200))?;
    }
    if let Some(m) = message {
        write!(f, ": {}", printable(m, MAX_SHOWN))?;
    }
    if let Some(r) = request_id {
        write!(f, " (request id {})", printable(r, 200))?;
    }
    Ok(())
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::MissingCredential { field } => {
                write!(
                    f,
                    "missing credential `{field}`: set it before asking for a token"
                )
            }
            AuthError::Rejected {
                status,
                code,
                message,
                request_id,
            } => {
                write!(f, "token endpoint refused the credentials: HTTP {status}")?;
                write_reply(f, code, message, request_id)
            }
            AuthError::Unavailable {
                status,
                code,
                message,
                request_id,
                retry_after,
            } => {
                write!(f, "token endpoint failed: HTTP {status}")?;
                write_reply(f, code, message, request_id)?;
                if let Some(w) = retry_after {
                    write!(f, "; the server asks to wait {}s", w.as_secs_f64())?;
                }
                Ok(())
            }
            AuthError::Redirect { status, location } => {
                write!(f, "token endpoint answered with a redirect (HTTP {status}")?;
                if let Some(l) = location {
                    write!(f, " to {}", printable(l, 200))?;
                }
                write!(f, "), which is not followed: check the endpoint")
            }
            AuthError::Transport { message } => write!(f, "token endpoint unreachable: {message}"),
            AuthError::BodyTooLarge { status, limit } => write!(
                f,
                "token endpoint reply (HTTP {status}) exceeds the {limit}-byte body limit; reading stopped"
            ),
            AuthError::Decode { message } => {
                write!(f, "token endpoint reply not understood: {message}")
            }
            AuthError::Store { message } => write!(f, "suite ticket store failed: {message}"),
        }
    }
}

impl std::error::Error for AuthError {}
