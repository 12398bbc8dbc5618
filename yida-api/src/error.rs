//! The error type of every call.

use std::fmt;
use std::time::Duration;
use yida_auth::wire::printable;

/// The code given to the gateway's IP ban reply, which has none of its own.
pub(crate) const GATEWAY_BAN: &str = yida_auth::wire::GATEWAY_BAN_CODE;

/// Longest server message `Display` shows (the raw value stays in the field).
const MAX_MESSAGE_SHOWN: usize = 500;
/// Longest code or request id `Display` shows.
const MAX_CODE_SHOWN: usize = 200;

/// A DingTalk error reply (any non-2xx answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The operation called (`Display`: `Action@version`).
    pub operation: crate::OpId,
    /// HTTP status.
    pub status: u16,
    /// DingTalk error code (`InvalidAuthentication`, `Forbidden.AccessDenied.QpsLimitForApi`, …),
    /// raw as received (`Display` strips control characters and caps the length).
    pub code: Option<String>,
    /// DingTalk error message, raw as received (`Display` strips control characters and caps
    /// the length).
    pub message: Option<String>,
    /// Request id (from the body's `requestid` or the `x-acs-request-id` header).
    pub request_id: Option<String>,
    /// For a 403 `…AccessTokenPermissionDenied`: the scope this operation needs.
    pub required_permission: Option<&'static str>,
    /// The pause the server asked for (the gateway's `{"status":1111,"wait":N}` or a
    /// `Retry-After` header). It shapes the pause of a retry the policy allows anyway; it never
    /// makes a call retryable by itself.
    pub retry_after: Option<Duration>,
    /// The start of a body that was not DingTalk's error JSON (e.g. an HTML page).
    pub body_excerpt: Option<String>,
}

impl ApiError {
    /// The code, or `""`.
    pub fn code(&self) -> &str {
        self.code.as_deref().unwrap_or("")
    }

    /// The message, or `""` (raw, as received).
    pub fn message(&self) -> &str {
        self.message.as_deref().unwrap_or("")
    }

    /// DingTalk is throttling this app or API, so the request was not applied (safe to retry
    /// after a pause, even a write): one of DingTalk's throttling codes
    /// (`…QpsLimitForAppkeyAndApi`, `…QpsLimitForApi`), an HTTP 429 carrying DingTalk's error
    /// JSON, or the gateway's ban ([`is_gateway_ban`](Self::is_gateway_ban)). A `Retry-After`
    /// header, or a 429/503 page from some other proxy, does not count.
    pub fn is_throttled(&self) -> bool {
        yida_auth::wire::is_throttled(
            self.status,
            self.code.as_deref(),
            self.body_excerpt.is_none(),
        )
    }

    /// The gateway's IP ban: its documented `{"status":1111,"wait":N}` reply or its own ban
    /// page (an HTML page carrying the ban's `punish`/`x5` markers).
    pub fn is_gateway_ban(&self) -> bool {
        self.code() == GATEWAY_BAN
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

    /// What the call names does not exist: a code of Yida's `dataNotExist.` family
    /// (`dataNotExist.form.notExists`, `dataNotExist.form.instanceNotExist`,
    /// `dataNotExist.process.instanceNotExist`, `dataNotExist.app.appNotExist`, …; HTTP 400) or
    /// an HTTP 404 with DingTalk's error JSON.
    pub fn is_not_found(&self) -> bool {
        self.code().starts_with("dataNotExist.")
            || (self.status == 404 && self.code.is_some() && self.body_excerpt.is_none())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: HTTP {}", self.operation, self.status)?;
        if let Some(c) = &self.code {
            write!(f, ", code {}", printable(c, MAX_CODE_SHOWN))?;
        }
        if let Some(m) = &self.message {
            write!(f, ": {}", printable(m, MAX_MESSAGE_SHOWN))?;
        }
        if let Some(r) = &self.request_id {
            write!(f, " (request id {})", printable(r, MAX_CODE_SHOWN))?;
        }
        if let Some(p) = self
            .required_permission
            .filter(|_| self.is_permission_denied())
        {
            write!(f, "; this operation needs the permission `{p}`: add it to the app in the DingTalk developer console")?;
        }
        if let Some(w) = self.retry_after {
            write!(f, "; the server asks to wait {}s", w.as_secs_f64())?;
        }
        if let Some(b) = &self.body_excerpt {
            write!(f, "; body: {}", printable(b, MAX_CODE_SHOWN))?;
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
        /// The operation (`Display`: `Action@version`).
        operation: crate::OpId,
        /// Wire name of the parameter.
        name: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The input of a dynamic call (`yida call`) does not fit the operation; nothing was sent.
    #[error("{operation}: {message}")]
    InvalidInput {
        /// The operation (`Display`: `Action@version`).
        operation: crate::OpId,
        /// What is wrong, naming the parameter.
        message: String,
    },
    /// No access token could be had; nothing was sent. (`Display` includes the cause, so the
    /// cause is not also returned as `source()`: printing the chain shows it once.)
    #[error("no access token: {0}")]
    Auth(yida_auth::AuthError),
    /// DingTalk answered with an error.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The server answered with a redirect, which is never followed (the token header must not
    /// reach another host).
    #[error("{operation}: HTTP {status} redirect to {location:?} not followed")]
    Redirect {
        /// The operation (`Display`: `Action@version`).
        operation: crate::OpId,
        /// HTTP status.
        status: u16,
        /// The `Location` header.
        location: Option<String>,
    },
    /// No connection could be made; the request was not sent.
    #[error("{operation}: could not connect")]
    Connect {
        /// The operation (`Display`: `Action@version`).
        operation: crate::OpId,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// The call took too long (per attempt or overall).
    #[error("{operation}: timed out after {elapsed:?}")]
    Timeout {
        /// The operation (`Display`: `Action@version`).
        operation: crate::OpId,
        /// How long it ran.
        elapsed: Duration,
        /// The cause, when the HTTP layer reported it.
        #[source]
        source: Option<reqwest::Error>,
    },
    /// The connection broke after the request may have been sent.
    #[error("{operation}: transport error")]
    Transport {
        /// The operation (`Display`: `Action@version`).
        operation: crate::OpId,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// A reply longer than the client's body limit ([`ClientBuilder::body_limit`](crate::ClientBuilder::body_limit));
    /// reading stopped at the limit. The request was sent.
    #[error("{operation}: the HTTP {status} reply exceeds the {limit}-byte body limit; reading stopped{}", request_id.as_ref().map(|r| format!(" (request id {})", printable(r, MAX_CODE_SHOWN))).unwrap_or_default())]
    BodyTooLarge {
        /// The operation (`Display`: `Action@version`).
        operation: crate::OpId,
        /// HTTP status.
        status: u16,
        /// Request id from the headers, if any.
        request_id: Option<String>,
        /// The limit in bytes.
        limit: usize,
    },
    /// Free JSON of a reply ([`RawJson`](crate::RawJson)) did not decode as asked. The
    /// request was sent and answered.
    #[error(transparent)]
    DecodeValue(#[from] crate::raw::DecodeError),
    /// A 2xx reply that does not decode into the operation's reply type (or, for a dynamic
    /// call, cannot be rendered as JSON). The request was sent.
    #[error("{operation}: cannot decode the HTTP {status} reply{}", request_id.as_ref().map(|r| format!(" (request id {})", printable(r, MAX_CODE_SHOWN))).unwrap_or_default())]
    Decode {
        /// The operation (`Display`: `Action@version`).
        operation: crate::OpId,
        /// HTTP status.
        status: u16,
        /// Request id from the headers, if any.
        request_id: Option<String>,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
    /// A bulk run's checkpoint file could not be used (unreadable, written for another run,
    /// or the input differs from the run that wrote it); nothing of the chunk concerned was
    /// sent.
    #[error("{operation}: checkpoint {}: {message}", path.display())]
    Checkpoint {
        /// The batch operation.
        operation: crate::OpId,
        /// The checkpoint file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The client could not be built.
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// A page walk could not deliver every item: pages came back short of what `totalCount`
    /// announced (e.g. the server caps the page size), or the server answered the same page
    /// again (no progress). The items received before were delivered.
    #[error("{operation}: page walk incomplete after {received} items{}: {reason}", expected.map(|e| format!(" of {e}")).unwrap_or_default())]
    IncompleteWalk {
        /// The operation (`Display`: `Action@version`).
        operation: crate::OpId,
        /// Items `totalCount` announced, when it did.
        expected: Option<i64>,
        /// Items delivered.
        received: i64,
        /// What went wrong.
        reason: String,
    },
    /// A page walk reached its page cap before its end
    /// ([`PageStream::max_pages`](crate::PageStream::max_pages),
    /// [`DEFAULT_MAX_PAGES`](crate::DEFAULT_MAX_PAGES)). The items of the pages
    /// fetched were delivered.
    #[error("{operation}: page walk stopped after {received} items{}: {reason}", expected.map(|e| format!(" of {e}")).unwrap_or_default())]
    PageLimit {
        /// The operation.
        operation: crate::OpId,
        /// The cap.
        max_pages: u64,
        /// Items delivered.
        received: i64,
        /// Items `totalCount` announced, when it did.
        expected: Option<i64>,
        /// What stopped it.
        reason: String,
    },
    /// The organisation's monthly call budget ([`CallBudget`](crate::ledger::CallBudget)) is
    /// used up; the call was not sent.
    #[error("{operation}: not sent: the monthly call budget of {org} is used up ({used} of {limit} calls in {month})")]
    BudgetExhausted {
        /// The operation.
        operation: crate::OpId,
        /// The organisation.
        org: String,
        /// The month (`YYYY-MM`, China time).
        month: String,
        /// Calls counted this month.
        used: u64,
        /// The budget's limit.
        limit: u64,
    },
    /// A dry run ([`Client::plan`](crate::Client::plan)) stopped the call
    /// before anything was sent.
    #[error("{operation}: dry run: not sent")]
    DryRun {
        /// The operation.
        operation: crate::OpId,
    },
    /// The call ledger could not be read or written while a refusing budget needed it; the
    /// call was not sent.
    #[error("{operation}: not sent: {message}")]
    Ledger {
        /// The operation.
        operation: crate::OpId,
        /// What failed.
        message: String,
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
            Error::Decode { status, .. }
            | Error::Redirect { status, .. }
            | Error::BodyTooLarge { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The request id, where a reply carried one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.request_id.as_deref(),
            Error::Decode { request_id, .. } | Error::BodyTooLarge { request_id, .. } => {
                request_id.as_deref()
            }
            _ => None,
        }
    }

    /// The request was sent and answered, but the reply could not be read or decoded
    /// ([`Error::Decode`], [`Error::DecodeValue`], [`Error::BodyTooLarge`]): a write may have
    /// been applied. The CLI gives these their own exit code.
    pub fn is_decode(&self) -> bool {
        matches!(
            self,
            Error::Decode { .. } | Error::DecodeValue(_) | Error::BodyTooLarge { .. }
        )
    }
}

impl From<yida_auth::AuthError> for Error {
    fn from(e: yida_auth::AuthError) -> Self {
        Error::Auth(e)
    }
}
