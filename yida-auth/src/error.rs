//! Errors of token acquisition.

use std::fmt;

/// Why no token could be had. Cloneable, so one failed refresh reaches every waiter.
///
/// Never contains a secret: messages name fields, not values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthError {
    /// A credential was missing or empty; nothing was sent.
    MissingCredential {
        /// The credential's name (`appKey`, `suiteTicket`, …, or an environment variable).
        field: &'static str,
    },
    /// The token endpoint refused the credentials (e.g. `invalidClientIdOrSecret`).
    Rejected {
        /// HTTP status.
        status: u16,
        /// DingTalk error code.
        code: Option<String>,
        /// DingTalk error message.
        message: Option<String>,
        /// Request id, for DingTalk support.
        request_id: Option<String>,
    },
    /// The token endpoint could not be reached, or timed out.
    Transport {
        /// What went wrong (no secrets).
        message: String,
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
                if let Some(c) = code {
                    write!(f, ", code {c}")?;
                }
                if let Some(m) = message {
                    write!(f, ": {m}")?;
                }
                if let Some(r) = request_id {
                    write!(f, " (request id {r})")?;
                }
                Ok(())
            }
            AuthError::Transport { message } => write!(f, "token endpoint unreachable: {message}"),
            AuthError::Decode { message } => {
                write!(f, "token endpoint reply not understood: {message}")
            }
            AuthError::Store { message } => write!(f, "suite ticket store failed: {message}"),
        }
    }
}

impl std::error::Error for AuthError {}
