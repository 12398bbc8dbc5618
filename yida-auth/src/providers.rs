//! The token providers: fixed, internal app, third-party (ISV) app per company.

use crate::{
    AccessToken, AuthError, ClientDefaults, Secret, SuiteTicketStore, TokenCache, TokenFuture,
    TokenProvider,
};
use serde::Deserialize;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// DingTalk's API endpoint, also home of the token endpoints.
pub const DEFAULT_ENDPOINT: &str = "https://api.dingtalk.com";

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// A fixed token, used as is and never refreshed.
///
/// ```
/// use yida_auth::StaticToken;
/// let t = StaticToken::new("my-token");
/// assert!(!format!("{t:?}").contains("my-token"));
/// ```
#[derive(Debug, Clone)]
pub struct StaticToken(AccessToken);

impl StaticToken {
    /// Wraps a token.
    pub fn new(token: impl Into<Secret>) -> Self {
        StaticToken(AccessToken::new(token))
    }
}

impl TokenProvider for StaticToken {
    fn token(&self) -> TokenFuture<'_> {
        let t = self.0.clone();
        Box::pin(async move {
            if t.secret().is_blank() {
                return Err(AuthError::MissingCredential {
                    field: "accessToken",
                });
            }
            Ok(t)
        })
    }
}

fn require(field: &'static str, value: &str) -> Result<(), AuthError> {
    if value.trim().is_empty() {
        Err(AuthError::MissingCredential { field })
    } else {
        Ok(())
    }
}

#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    /// Set with `.endpoint()`; otherwise the client's (see `TokenProvider::token_with`), or
    /// [`DEFAULT_ENDPOINT`] when used alone.
    endpoint: Option<String>,
    /// Set with `.timeout()`; otherwise the client's per-attempt timeout, or 10 s alone.
    timeout: Option<Duration>,
    body_limit: usize,
}

impl fmt::Debug for Http {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Http")
            .field(
                "endpoint",
                &self.endpoint.as_deref().map(crate::wire::redact_url),
            )
            .field("timeout", &self.timeout)
            .field("body_limit", &self.body_limit)
            .finish()
    }
}

impl Http {
    fn new() -> Self {
        crate::ensure_tls_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Http {
            client,
            endpoint: None,
            timeout: None,
            body_limit: crate::wire::DEFAULT_TOKEN_BODY_LIMIT,
        }
    }

    /// POSTs `body` to `path` and reads `{accessToken, expireIn}`.
    async fn fetch(
        &self,
        path: &str,
        body: serde_json::Value,
        defaults: Option<&ClientDefaults>,
    ) -> Result<(Secret, Duration), AuthError> {
        #[derive(Deserialize)]
        struct Reply {
            #[serde(rename = "accessToken")]
            access_token: Option<String>,
            #[serde(rename = "expireIn")]
            expire_in: Option<i64>,
        }
        let endpoint = self
            .endpoint
            .as_deref()
            .or(defaults.map(ClientDefaults::endpoint))
            .unwrap_or(DEFAULT_ENDPOINT);
        let timeout = self
            .timeout
            .or(defaults.and_then(ClientDefaults::attempt_timeout))
            .unwrap_or(DEFAULT_TIMEOUT);
        let url = format!("{}{}", endpoint.trim_end_matches('/'), path);
        tracing::debug!(target: "yida_auth", url = %crate::wire::redact_url(&url), "fetching access token");
        if let Some(d) = defaults {
            d.fetching();
        }
        let request = self
            .client
            .post(&url)
            .timeout(timeout)
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_string());
        let reply = crate::wire::exchange(request, self.body_limit)
            .await
            .map_err(token_error)?;
        let decoded: Reply =
            serde_json::from_slice(&reply.body).map_err(|e| AuthError::Decode {
                message: format!("HTTP {}: {e}", reply.status),
            })?;
        let token = decoded
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Decode {
                message: "no accessToken in the reply".into(),
            })?;
        let expire_in =
            Duration::from_secs(decoded.expire_in.unwrap_or(7200).clamp(1, 86_400 * 30) as u64);
        Ok((Secret::new(token), expire_in))
    }
}

/// A failed token exchange as an [`AuthError`]: a non-2xx reply is a refusal of the
/// credentials, or a transient failure (5xx, 429, throttling, the gateway's ban).
fn token_error(e: crate::wire::ExchangeError) -> AuthError {
    use crate::wire::ExchangeError;
    match e {
        ExchangeError::Transport(e) => AuthError::Transport {
            message: crate::wire::transport_message(e),
        },
        ExchangeError::Redirect { status, location } => AuthError::Redirect { status, location },
        ExchangeError::TooLarge { status, limit, .. } => AuthError::BodyTooLarge { status, limit },
        ExchangeError::Refused(r) => {
            tracing::debug!(target: "yida_auth", status = r.status, code = r.code.as_deref().unwrap_or(""), "token endpoint answered with an error");
            if r.status >= 500 || r.status == 429 || r.is_throttled() {
                AuthError::Unavailable {
                    status: r.status,
                    code: r.code,
                    message: r.message,
                    request_id: r.request_id,
                    retry_after: r.retry_after,
                }
            } else {
                AuthError::Rejected {
                    status: r.status,
                    code: r.code,
                    message: r.message,
                    request_id: r.request_id,
                }
            }
        }
    }
}

/// An internal app's credentials: `POST /v1.0/oauth2/accessToken` with `appKey` and
/// `appSecret`, cached (see [`TokenCache`]).
///
/// ```
/// use yida_auth::InternalApp;
/// let app = InternalApp::new("dingkey", "top-secret").unwrap().endpoint("http://127.0.0.1:9");
/// assert!(!format!("{app:?}").contains("top-secret"));
/// assert!(InternalApp::new("dingkey", "").is_err()); // refused before any request
/// ```
#[derive(Debug, Clone)]
pub struct InternalApp {
    app_key: String,
    key: String,
    app_secret: Secret,
    http: Http,
    cache: TokenCache,
}

impl InternalApp {
    /// Credentials from the developer console. Empty values are refused here, naming the field.
    pub fn new(
        app_key: impl Into<String>,
        app_secret: impl Into<Secret>,
    ) -> Result<Self, AuthError> {
        let app_key = app_key.into();
        let app_secret = app_secret.into();
        require("appKey", &app_key)?;
        require("appSecret", app_secret.expose())?;
        Ok(InternalApp {
            key: format!("internal:{app_key}"),
            app_key,
            app_secret,
            http: Http::new(),
            cache: TokenCache::new(),
        })
    }

    /// Base URL of the token endpoint. Without it, a client's endpoint is used (so
    /// `Client::builder().endpoint(local).token_provider(app)` fetches tokens from `local` too),
    /// and [`DEFAULT_ENDPOINT`] when the provider is used alone.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.http.endpoint = Some(url.into());
        self
    }

    /// Timeout of one token request. Without it, a client's per-attempt timeout is used, and
    /// 10 s when the provider is used alone.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.http.timeout = Some(t);
        self
    }

    /// Cap on the token endpoint's reply body (default
    /// [`DEFAULT_TOKEN_BODY_LIMIT`](crate::wire::DEFAULT_TOKEN_BODY_LIMIT), 1 MiB).
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.http.body_limit = bytes;
        self
    }

    /// The HTTP client to use (redirects should be off). With only the `tls-ring` feature, call
    /// [`ensure_tls_provider`](crate::ensure_tls_provider) before building it.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http.client = client;
        self
    }

    /// The cache to use (share one between providers, or inject a clock or store).
    pub fn cache(mut self, cache: TokenCache) -> Self {
        self.cache = cache;
        self
    }
}

impl InternalApp {
    async fn fetch_token(
        &self,
        defaults: Option<&ClientDefaults>,
    ) -> Result<AccessToken, AuthError> {
        self.cache
            .get_or_fetch(&self.key, || {
                let body = serde_json::json!({
                    "appKey": self.app_key,
                    "appSecret": self.app_secret.expose(),
                });
                self.http.fetch("/v1.0/oauth2/accessToken", body, defaults)
            })
            .await
    }
}

impl TokenProvider for InternalApp {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.fetch_token(None))
    }

    fn token_with<'a>(&'a self, defaults: &'a ClientDefaults) -> TokenFuture<'a> {
        Box::pin(self.fetch_token(Some(defaults)))
    }

    fn invalidate(&self, token: &AccessToken) -> bool {
        self.cache.invalidate(&self.key, token);
        true
    }
}

/// A third-party enterprise app (ISV): `POST /v1.0/oauth2/corpAccessToken` with `suiteKey`,
/// `suiteSecret`, `authCorpId` and the latest suite ticket. One provider serves every
/// authorized company; [`for_corp`](ThirdPartyApp::for_corp) gives the token source of one,
/// and each company's token is cached separately.
///
/// ```
/// use yida_auth::{MemoryTicketStore, ThirdPartyApp};
/// let tickets = MemoryTicketStore::new();
/// let isv = ThirdPartyApp::new("suitekey", "suite-secret", tickets.clone()).unwrap();
/// let acme = isv.for_corp("ding-corp-acme").unwrap();
/// # let _ = acme;
/// ```
#[derive(Debug, Clone)]
pub struct ThirdPartyApp {
    inner: Arc<IsvInner>,
}

#[derive(Debug, Clone)]
struct IsvInner {
    suite_key: String,
    suite_secret: Secret,
    tickets: Arc<dyn SuiteTicketStore>,
    http: Http,
    cache: TokenCache,
}

impl ThirdPartyApp {
    /// Suite credentials and the store the suite ticket is read from at each fetch.
    pub fn new(
        suite_key: impl Into<String>,
        suite_secret: impl Into<Secret>,
        tickets: impl SuiteTicketStore + 'static,
    ) -> Result<Self, AuthError> {
        let suite_key = suite_key.into();
        let suite_secret = suite_secret.into();
        require("suiteKey", &suite_key)?;
        require("suiteSecret", suite_secret.expose())?;
        Ok(ThirdPartyApp {
            inner: Arc::new(IsvInner {
                suite_key,
                suite_secret,
                tickets: Arc::new(tickets),
                http: Http::new(),
                cache: TokenCache::new(),
            }),
        })
    }

    fn map(self, f: impl FnOnce(&mut IsvInner)) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        f(&mut inner);
        ThirdPartyApp {
            inner: Arc::new(inner),
        }
    }

    /// Base URL of the token endpoint. Without it, a client's endpoint is used, and
    /// [`DEFAULT_ENDPOINT`] when the provider is used alone (as for
    /// [`InternalApp::endpoint`]).
    pub fn endpoint(self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.map(|i| i.http.endpoint = Some(url))
    }

    /// Timeout of one token request. Without it, a client's per-attempt timeout is used, and
    /// 10 s when the provider is used alone.
    pub fn timeout(self, t: Duration) -> Self {
        self.map(|i| i.http.timeout = Some(t))
    }

    /// Cap on the token endpoint's reply body (default
    /// [`DEFAULT_TOKEN_BODY_LIMIT`](crate::wire::DEFAULT_TOKEN_BODY_LIMIT), 1 MiB).
    pub fn body_limit(self, bytes: usize) -> Self {
        self.map(|i| i.http.body_limit = bytes)
    }

    /// The HTTP client to use (redirects should be off).
    pub fn http_client(self, client: reqwest::Client) -> Self {
        self.map(|i| i.http.client = client)
    }

    /// The cache to use.
    pub fn cache(self, cache: TokenCache) -> Self {
        self.map(|i| i.cache = cache)
    }

    /// The token source for one authorized company.
    pub fn for_corp(&self, auth_corp_id: impl Into<String>) -> Result<CorpToken, AuthError> {
        let corp = auth_corp_id.into();
        require("authCorpId", &corp)?;
        Ok(CorpToken {
            key: format!("corp:{}:{corp}", self.inner.suite_key),
            app: self.clone(),
            corp,
        })
    }
}

/// The token source of one company authorized for a [`ThirdPartyApp`].
#[derive(Debug, Clone)]
pub struct CorpToken {
    app: ThirdPartyApp,
    corp: String,
    key: String,
}

impl CorpToken {
    /// The company this source serves.
    pub fn corp_id(&self) -> &str {
        &self.corp
    }
}

impl CorpToken {
    async fn fetch_token(
        &self,
        defaults: Option<&ClientDefaults>,
    ) -> Result<AccessToken, AuthError> {
        let inner = &self.app.inner;
        inner
            .cache
            .get_or_fetch(&self.key, || async {
                let ticket = inner
                    .tickets
                    .latest()
                    .await?
                    .map(|t| t.value().clone())
                    .filter(|t| !t.is_blank())
                    .ok_or(AuthError::MissingCredential {
                        field: "suiteTicket",
                    })?;
                let body = serde_json::json!({
                    "suiteKey": inner.suite_key,
                    "suiteSecret": inner.suite_secret.expose(),
                    "authCorpId": self.corp,
                    "suiteTicket": ticket.expose(),
                });
                inner
                    .http
                    .fetch("/v1.0/oauth2/corpAccessToken", body, defaults)
                    .await
            })
            .await
    }
}

impl TokenProvider for CorpToken {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.fetch_token(None))
    }

    fn token_with<'a>(&'a self, defaults: &'a ClientDefaults) -> TokenFuture<'a> {
        Box::pin(self.fetch_token(Some(defaults)))
    }

    fn invalidate(&self, token: &AccessToken) -> bool {
        self.app.inner.cache.invalidate(&self.key, token);
        true
    }
}
