//! DingTalk access tokens for the Yida API.
//!
//! Every Yida call carries an access token. This crate gets one for both kinds of DingTalk
//! app, caches it until shortly before it expires, refreshes it once for any number of
//! concurrent callers, and never prints a secret.
//!
//! - [`InternalApp`]: an internal (enterprise) app, `appKey` + `appSecret`.
//! - [`ThirdPartyApp`]: a third-party enterprise app (ISV): `suiteKey` + `suiteSecret` + the
//!   latest suite ticket, one token per authorized company ([`ThirdPartyApp::for_corp`]).
//! - [`StaticToken`]: a token you already have (tests, short scripts).
//!
//! All of them implement [`TokenProvider`], which you can implement yourself.
//!
//! Several processes of one app can share tokens through a [`SharedTokenStore`] (one fetch
//! for all of them; the `yida-redis` crate implements it on Redis): see
//! [`TokenCache::with_shared`].
//!
//! ```no_run
//! use yida_auth::{InternalApp, TokenProvider};
//! # async fn run() -> Result<(), yida_auth::AuthError> {
//! let app = InternalApp::new("dingxxxx", "app-secret")?;
//! let token = app.token().await?; // fetched once, then cached
//! # let _ = token; Ok(()) }
//! ```
//!
//! # Guides
//!
//! Task guides, in English and Chinese (`<name>.zh-CN.md`), are in the repository's
//! `docs/guides/`; each has an example in `examples/examples/` that CI runs against the
//! emulator:
//!
//! - `docs/guides/internal-app.md`: internal app end to end
//! - `docs/guides/isv-app.md`: ISV app end to end (suite_ticket intake, tokens per company)
//! - `docs/guides/replicas.md`: running several replicas (tokens and tickets shared in Redis)
#![warn(missing_docs)]

mod cache;
mod error;
mod providers;
mod secret;
mod shared;
mod signature;
mod ticket;
mod tls;
pub mod wire;

pub use cache::{
    CacheConfig, Clock, ManualClock, MemoryTokenStore, SystemClock, TokenCache, TokenStore,
};
pub use error::AuthError;
pub use providers::{CorpToken, InternalApp, StaticToken, ThirdPartyApp, DEFAULT_ENDPOINT};
pub use secret::{Secret, REDACTED};
pub use shared::{LockAttempt, SharedFuture, SharedTokenStore};
pub use signature::{legacy_signature, legacy_signature_query};
pub use ticket::{MemoryTicketStore, StoreFuture, SuiteTicket, SuiteTicketStore};
pub use tls::ensure_tls_provider;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// An access token, with the time the cache should refresh it.
///
/// `Debug` prints no part of the token.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    secret: Secret,
    refresh_at: Option<SystemTime>,
}

impl AccessToken {
    /// A token with no known expiry.
    pub fn new(value: impl Into<Secret>) -> Self {
        AccessToken {
            secret: value.into(),
            refresh_at: None,
        }
    }

    /// A token the cache refreshes at `refresh_at`.
    pub fn with_refresh_at(value: impl Into<Secret>, refresh_at: Option<SystemTime>) -> Self {
        AccessToken {
            secret: value.into(),
            refresh_at,
        }
    }

    /// The token value, to put in the `x-acs-dingtalk-access-token` header.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// When the cache will stop using this token.
    pub fn refresh_at(&self) -> Option<SystemTime> {
        self.refresh_at
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("secret", &self.secret)
            .field("refresh_at", &self.refresh_at)
            .finish()
    }
}

/// The future returned by [`TokenProvider::token`].
pub type TokenFuture<'a> =
    Pin<Box<dyn Future<Output = Result<AccessToken, AuthError>> + Send + 'a>>;

/// A source of access tokens. Implement it to plug in your own.
///
/// ```
/// use yida_auth::{AccessToken, AuthError, TokenFuture, TokenProvider};
/// #[derive(Debug)]
/// struct FromVault;
/// impl TokenProvider for FromVault {
///     fn token(&self) -> TokenFuture<'_> {
///         Box::pin(async { Ok(AccessToken::new("token-from-vault")) })
///     }
/// }
/// ```
pub trait TokenProvider: Send + Sync + fmt::Debug {
    /// A token to use now (cached where the provider caches).
    fn token(&self) -> TokenFuture<'_>;

    /// A token to use now, fetched with the client's settings for whatever the provider was
    /// not given itself: `yida_api::Client` calls this, passing its endpoint and timeout. The
    /// built-in providers use the client's endpoint unless given their own with `.endpoint()`,
    /// and the client's per-attempt timeout unless given their own with `.timeout()`. The
    /// default ignores `defaults` and calls [`token`](TokenProvider::token).
    fn token_with<'a>(&'a self, defaults: &'a ClientDefaults) -> TokenFuture<'a> {
        let _ = defaults;
        self.token()
    }

    /// DingTalk rejected `token` (HTTP 400 `InvalidAuthentication`): forget it so the next
    /// [`token`](TokenProvider::token) fetches a new one. Returns whether a different token
    /// can be had (the client repeats the call once only then). The default does nothing and
    /// returns `false`.
    fn invalidate(&self, token: &AccessToken) -> bool {
        let _ = token;
        false
    }
}

/// The settings a client hands its token provider (see [`TokenProvider::token_with`]).
///
/// ```
/// use std::time::Duration;
/// let d = yida_auth::ClientDefaults::new("http://127.0.0.1:8080").timeout(Duration::from_secs(3));
/// assert_eq!(d.endpoint(), "http://127.0.0.1:8080");
/// ```
#[derive(Clone)]
pub struct ClientDefaults {
    endpoint: String,
    timeout: Option<Duration>,
    on_fetch: Option<std::sync::Arc<dyn Fn() + Send + Sync>>,
}

impl fmt::Debug for ClientDefaults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientDefaults")
            .field("endpoint", &self.endpoint)
            .field("timeout", &self.timeout)
            .field("on_fetch", &self.on_fetch.is_some())
            .finish()
    }
}

impl ClientDefaults {
    /// The client's base URL (token endpoints live under it too).
    pub fn new(endpoint: impl Into<String>) -> Self {
        ClientDefaults {
            endpoint: endpoint.into(),
            timeout: None,
            on_fetch: None,
        }
    }

    /// Called each time a built-in provider sends a token request with these defaults (the
    /// client's call ledger counts token fetches with it).
    pub fn on_fetch(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.on_fetch = Some(std::sync::Arc::new(f));
        self
    }

    /// Tells the [`on_fetch`](Self::on_fetch) hook that a token request is being sent.
    pub fn fetching(&self) {
        if let Some(f) = &self.on_fetch {
            f();
        }
    }

    /// The client's timeout of one attempt, applied to one token request too.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// The client's base URL.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The client's timeout of one attempt, if set.
    pub fn attempt_timeout(&self) -> Option<Duration> {
        self.timeout
    }
}

impl<T: TokenProvider + ?Sized> TokenProvider for std::sync::Arc<T> {
    fn token_with<'a>(&'a self, defaults: &'a ClientDefaults) -> TokenFuture<'a> {
        (**self).token_with(defaults)
    }

    fn token(&self) -> TokenFuture<'_> {
        (**self).token()
    }
    fn invalidate(&self, token: &AccessToken) -> bool {
        (**self).invalidate(token)
    }
}
