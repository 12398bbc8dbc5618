//! The error type of every call.

use std::fmt;
use std::time::Duration;

/// A DingTalk error reply (any non-2xx answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// `Action@version` of the call.
    pub operation: String,
    /// HTTP status.
    pub status: u16,
    /// DingTalk error code (`InvalidAuthentication`, `Forbidden.AccessDenied.QpsLimitForApi`, …).
    pub code: Option<String>,
    /// DingTalk error message.
    pub message: Option<String>,
    /// Request id (from the body's `requestid` or the `x-acs-request-id` header).
    pub request_id: Option<String>,
    /// For a 403 `…AccessTokenPermissionDenied`: the scope this operation needs.
    pub required_permission: Option<&'static str>,
    /// The gateway's requested pause (`{"status":1111,"wait":N}` or `Retry-After`).
    pub retry_after: Option<Duration>,
    /// The start of a body that was not DingTalk's error JSON (e.g. an HTML page).
    pub body_excerpt: Option<String>,
}

impl ApiError {
    /// The code, or `""`.
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }

    /// DingTalk is throttling this app or API (safe to retry after a pause).
    pub fn is_throttled(&self) -> bool {
        let c = self.code();
        self.status == 429
            || c.ends_with("QpsLimitForAppkeyAndApi")
            || c.ends_with("QpsLimitForApi")
            || c == "Gateway.Throttled"
            || self.retry_after.is_some()
    }

    /// The organisation's monthly API quota is used up (retrying cannot help).
    pub fn is_quota_exhausted(&self) -> bool {
        self.code().ends_with("ApiCountLimitForOrg")
    }

    /// The access token was rejected (invalid, expired or revoked).
    pub fn is_invalid_token(&self) -> bool {
        self.code() == "InvalidAuthentication"
    }

    /// The token lacks a permission scope.
    pub fn is_permission_denied(&self) -> bool {
        self.code().ends_with("AccessTokenPermissionDenied")
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: HTTP {}", self.operation, self.status)?;
        if let Some(c) = &self.code {
            write!(f, ", code {c}")?;
        }
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if let Some(r) = &self.request_id {
            write!(f, " (request id {r})")?;
        }
        if let Some(p) = self
            .required_permission
            .filter(|_| self.is_permission_denied())
        {
            write!(f, "; this operation needs the permission `{p}`: add it to the app in the DingTalk developer console")?;
        }
        if let Some(w) = self.retry_after {
            write!(f, "; the gateway asks to wait {}s", w.as_secs())?;
        }
        if let Some(b) = &self.body_excerpt {
            write!(f, "; body: {b}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong with a call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is missing or invalid; nothing was sent.
    #[error("{operation}: parameter `{name}` {problem}")]
    InvalidParameter {
        /// `Action@version`.
        operation: String,
        /// Wire name of the parameter.
        name: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The input of a dynamic call (`yida call`) does not fit the operation; nothing was sent.
    #[error("{operation}: {message}")]
    InvalidInput {
        /// `Action@version`.
        operation: String,
        /// What is wrong, naming the parameter.
        message: String,
    },
    /// No operation of that name and version exists in this build.
    #[error("unknown operation {action}@{version} (see `yida ops`)")]
    UnknownOperation {
        /// Action asked for.
        action: String,
        /// Version asked for.
        version: String,
    },
    /// No access token could be had; nothing was sent.
    #[error("no access token: {0}")]
    Auth(#[from] yida_auth::AuthError),
    /// DingTalk answered with an error.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The server answered with a redirect, which is never followed (the token header must not
    /// reach another host).
    #[error("{operation}: HTTP {status} redirect to {location:?} not followed")]
    Redirect {
        /// `Action@version`.
        operation: String,
        /// HTTP status.
        status: u16,
        /// The `Location` header.
        location: Option<String>,
    },
    /// No connection could be made; the request was not sent.
    #[error("{operation}: could not connect")]
    Connect {
        /// `Action@version`.
        operation: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The call took too long (per attempt or overall).
    #[error("{operation}: timed out after {elapsed:?}")]
    Timeout {
        /// `Action@version`.
        operation: String,
        /// How long it ran.
        elapsed: Duration,
        /// The cause, when the HTTP layer reported it.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The connection broke after the request may have been sent.
    #[error("{operation}: transport error")]
    Transport {
        /// `Action@version`.
        operation: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// A 2xx reply that does not decode into the operation's reply type.
    #[error("{operation}: cannot decode the HTTP {status} reply{}", request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Decode {
        /// `Action@version`.
        operation: String,
        /// HTTP status.
        status: u16,
        /// Request id from the headers, if any.
        request_id: Option<String>,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// The client could not be built.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// A page walk could not deliver every item: pages came back short of what `totalCount`
    /// announced (e.g. the server caps the page size), or the server answered the same page
    /// again (no progress). The items received before were delivered.
    #[error("{operation}: page walk incomplete after {received} items{}: {reason}", expected.map(|e| format!(" of {e}")).unwrap_or_default())]
    IncompleteWalk {
        /// `Action@version`.
        operation: String,
        /// Items `totalCount` announced, when it did.
        expected: Option<i64>,
        /// Items delivered.
        received: i64,
        /// What went wrong.
        reason: String,
    },
}

impl Error {
    /// The DingTalk error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// HTTP status, where a reply was received.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode { status, .. } | Error::Redirect { status, .. } => Some(*status),
            _ => None,
        }
    }
}
