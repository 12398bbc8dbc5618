//! The client: one generic path that sends any operation.

use crate::error::{ApiError, Error};
use crate::limiter::{AdaptiveRateLimiter, FixedRateLimiter, QuotaKey, RateLimiter};
use crate::meta::{HttpMethod, Operation, OperationMeta};
use crate::retry::{RetryConfig, Verdict};
use crate::AppContext;
use bytes::Bytes;
use serde_json::value::RawValue;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;
use yida_auth::wire::{ExchangeError, Reply};
use yida_auth::{AccessToken, StaticToken, TokenProvider};

/// DingTalk's API endpoint (the one definition is `yida_auth::DEFAULT_ENDPOINT`: API calls and
/// token fetches share it).
pub const DEFAULT_ENDPOINT: &str = yida_auth::DEFAULT_ENDPOINT;

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default timeout of one attempt (request sent to reply read).
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default bound on a whole call, retries and pauses included.
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(120);
/// Default cap on a reply body (32 MiB).
pub const DEFAULT_BODY_LIMIT: usize = yida_auth::wire::DEFAULT_BODY_LIMIT;

/// A Yida API client. Cheap to clone; clones share connections, tokens and settings.
///
/// ```no_run
/// use yida_api::{Client, AppContext, SearchFormDatasV2Request};
/// use yida_auth::InternalApp;
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder()
///     .token_provider(InternalApp::new("dingappkey", "app-secret")?)
///     .context(AppContext::new().app_type("APP_XXXX").system_token("sys-token").user_id("manager123"))
///     .build()?;
/// let page = client
///     .forms()
///     .search_form_datas_v2(SearchFormDatasV2Request::new("FORM-XXXX").page_size(50))
///     .await?;
/// for record in page.data.unwrap_or_default() {
///     println!("{:?}", record.form_instance_id);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    /// Calls made through this handle are paced by the bulk limiter (concurrent walks, bulk
    /// writes) when no limiter applies to every call.
    pub(crate) paced: bool,
}

pub(crate) struct Inner {
    http: reqwest::Client,
    endpoint: String,
    tokens: Arc<dyn TokenProvider>,
    pub(crate) context: AppContext,
    attempt_timeout: Duration,
    total_timeout: Duration,
    pub(crate) retry: RetryConfig,
    /// Paces every call (`rate_limiter`, `rate_limit_per_operation`).
    pub(crate) limiter: Option<Arc<dyn RateLimiter>>,
    /// Paces the concurrent and bulk paths when `limiter` is not set.
    pub(crate) pacer: Option<Arc<dyn RateLimiter>>,
    /// The app part of every [`QuotaKey`].
    pub(crate) quota_app: Arc<str>,
    body_limit: usize,
    token_defaults: yida_auth::ClientDefaults,
    /// The call ledger and the organisation this client's calls count for.
    ledger: Option<(crate::ledger::Ledger, Arc<str>)>,
    /// Token fetches not yet written to the ledger.
    token_fetches: Arc<crate::ledger::TokenFetches>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint)
            .field("tokens", &self.inner.tokens)
            .field("context", &self.inner.context)
            .field("attempt_timeout", &self.inner.attempt_timeout)
            .field("total_timeout", &self.inner.total_timeout)
            .field("retry", &self.inner.retry)
            .field("limiter", &self.inner.limiter)
            .field("pacer", &self.inner.pacer)
            .finish()
    }
}

/// Builds a [`Client`].
pub struct ClientBuilder {
    endpoint: String,
    tokens: Option<Arc<dyn TokenProvider>>,
    context: AppContext,
    connect_timeout: Duration,
    attempt_timeout: Duration,
    total_timeout: Duration,
    user_agent: String,
    retry: RetryConfig,
    limiter: Option<Arc<dyn RateLimiter>>,
    pacer: Option<Arc<dyn RateLimiter>>,
    quota_app: Option<String>,
    http: Option<reqwest::Client>,
    internal: Option<yida_auth::InternalApp>,
    body_limit: usize,
    ledger: Option<(crate::ledger::Ledger, String)>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("endpoint", &self.endpoint)
            .field("tokens", &self.tokens)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            endpoint: DEFAULT_ENDPOINT.to_string(),
            tokens: None,
            context: AppContext::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
            total_timeout: DEFAULT_TOTAL_TIMEOUT,
            user_agent: concat!("yida-rs/", env!("CARGO_PKG_VERSION")).to_string(),
            retry: RetryConfig::default(),
            limiter: None,
            pacer: Some(Arc::new(AdaptiveRateLimiter::default())),
            quota_app: None,
            http: None,
            internal: None,
            body_limit: DEFAULT_BODY_LIMIT,
            ledger: None,
        }
    }
}

impl ClientBuilder {
    /// Base URL (default `https://api.dingtalk.com`; `http://` is accepted for local servers).
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// Where access tokens come from (see `yida_auth`).
    ///
    /// A built-in provider (`InternalApp`, `ThirdPartyApp`) not given its own `.endpoint()`
    /// fetches tokens from this client's endpoint, so a client pointed at a local server never
    /// sends the real secret to `https://api.dingtalk.com`; one not given its own `.timeout()`
    /// uses this client's per-attempt timeout. Token fetches are retried like a read, within
    /// the call's overall timeout.
    pub fn token_provider(mut self, p: impl TokenProvider + 'static) -> Self {
        self.tokens = Some(Arc::new(p));
        self
    }

    /// An internal app's credentials; its token endpoint is this client's endpoint, so one
    /// setting moves both (e.g. to a local test server). Empty values are refused here.
    ///
    /// ```
    /// let client = yida_api::Client::builder()
    ///     .endpoint("http://127.0.0.1:8080")
    ///     .internal_app("dingappkey", "app-secret")
    ///     .unwrap()
    ///     .build()
    ///     .unwrap();
    /// # let _ = client;
    /// ```
    pub fn internal_app(
        mut self,
        app_key: impl Into<String>,
        app_secret: impl Into<yida_auth::Secret>,
    ) -> Result<Self, Error> {
        let app = yida_auth::InternalApp::new(app_key, app_secret)?;
        self.internal = Some(app);
        Ok(self)
    }

    /// A fixed access token (short scripts, tests).
    pub fn access_token(self, token: impl Into<yida_auth::Secret>) -> Self {
        self.token_provider(StaticToken::new(token))
    }

    /// `appType`, `systemToken`, `userId` and `language` for every call that takes them.
    pub fn context(mut self, ctx: AppContext) -> Self {
        self.context = ctx;
        self
    }

    /// Connect timeout (default 5 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Timeout of one attempt, from sending to the last byte of the reply (default 30 s).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.attempt_timeout = t;
        self
    }

    /// Bound on a whole call including retries and pauses (default 120 s).
    pub fn total_timeout(mut self, t: Duration) -> Self {
        self.total_timeout = t;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Retry policy (default [`RetryConfig::default`]; [`RetryConfig::disabled`] turns retries off).
    pub fn retry(mut self, r: RetryConfig) -> Self {
        self.retry = r;
        self
    }

    /// Client-side cap on calls per second per operation (off by default). DingTalk allows 20
    /// per app per API; a cap keeps a busy service under it instead of collecting throttling
    /// errors.
    ///
    /// Shorthand for `rate_limiter(FixedRateLimiter::new(per_second))`.
    pub fn rate_limit_per_operation(self, per_second: u32) -> Self {
        self.rate_limiter(FixedRateLimiter::new(per_second))
    }

    /// A limiter that paces every call of this client and its clones, per app and operation
    /// (see [`crate::limiter`]); it also paces the concurrent and bulk paths in place of
    /// [`pacing`](Self::pacing). Off by default.
    pub fn rate_limiter(mut self, limiter: impl RateLimiter + 'static) -> Self {
        self.limiter = Some(Arc::new(limiter));
        self
    }

    /// The limiter of the concurrent page walks and bulk writes (default
    /// [`AdaptiveRateLimiter::default`]: 19 calls/s per app and operation, adapting to
    /// throttling). Ignored when [`rate_limiter`](Self::rate_limiter) is set.
    pub fn pacing(mut self, limiter: impl RateLimiter + 'static) -> Self {
        self.pacer = Some(Arc::new(limiter));
        self
    }

    /// No pacing on the concurrent and bulk paths (they then rely on the retry policy alone
    /// when throttled).
    pub fn no_pacing(mut self) -> Self {
        self.pacer = None;
        self
    }

    /// The app name quotas are counted under (default: the context's `appType`, else
    /// `"default"`). Use the DingTalk app key when several Yida apps share one.
    pub fn quota_app(mut self, name: impl Into<String>) -> Self {
        self.quota_app = Some(name.into());
        self
    }

    /// Cap on a reply body, success or error (default [`DEFAULT_BODY_LIMIT`], 32 MiB). Reading
    /// stops as soon as a reply exceeds it, with [`Error::BodyTooLarge`]; memory stays bounded
    /// whatever the server sends.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Count every request and token fetch of this client in `ledger`, for organisation `org`
    /// (its corp id, or any name its apps share), and apply `org`'s budget before each request
    /// (see [`crate::ledger`]).
    pub fn ledger(mut self, ledger: crate::ledger::Ledger, org: impl Into<String>) -> Self {
        self.ledger = Some((ledger, org.into()));
        self
    }

    /// Use this HTTP client (its redirect policy should be `none`). With only the `tls-ring`
    /// feature, call [`yida_auth::ensure_tls_provider`] before building it.
    pub fn http_client(mut self, c: reqwest::Client) -> Self {
        self.http = Some(c);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, Error> {
        let endpoint = self.endpoint.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&endpoint)
            .map_err(|e| Error::Config(format!("endpoint `{endpoint}` is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "endpoint `{endpoint}` must be http or https"
            )));
        }
        let tokens: Arc<dyn TokenProvider> =
            match (self.tokens, self.internal) {
                (Some(t), _) => t,
                (None, Some(app)) => Arc::new(app.endpoint(endpoint.clone())),
                (None, None) => return Err(Error::Config(
                    "no token provider: call token_provider(), internal_app() or access_token()"
                        .into(),
                )),
            };
        let http = match self.http {
            Some(h) => h,
            None => {
                yida_auth::ensure_tls_provider();
                reqwest::Client::builder()
                    .connect_timeout(self.connect_timeout)
                    .redirect(reqwest::redirect::Policy::none())
                    .user_agent(self.user_agent)
                    .pool_max_idle_per_host(64)
                    .tcp_nodelay(true)
                    .build()
                    .map_err(|e| Error::Config(format!("HTTP client: {e}")))?
            }
        };
        let token_fetches = Arc::new(crate::ledger::TokenFetches::default());
        let mut token_defaults =
            yida_auth::ClientDefaults::new(endpoint.clone()).timeout(self.attempt_timeout);
        if self.ledger.is_some() {
            let seen = token_fetches.clone();
            token_defaults = token_defaults.on_fetch(move || {
                seen.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            });
        }
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                body_limit: self.body_limit,
                token_defaults,
                ledger: self.ledger.map(|(l, org)| (l, org.into())),
                token_fetches,
                endpoint,
                tokens,
                attempt_timeout: self.attempt_timeout,
                total_timeout: self.total_timeout,
                retry: self.retry,
                limiter: self.limiter,
                pacer: self.pacer,
                quota_app: self
                    .quota_app
                    .or_else(|| self.context.value("appType").map(str::to_string))
                    .unwrap_or_else(|| "default".to_string())
                    .into(),
                context: self.context,
            }),
            paced: false,
        })
    }
}

/// A request's path, query and body, encoded and checked (nothing sent yet).
pub(crate) struct Encoded {
    /// Percent-encoded path and query string (`/v1.0/…?a=b`).
    path_and_query: String,
    body: Option<Bytes>,
}

impl Encoded {
    /// Checks `request` (required parameters, path segments, JSON text) and encodes it.
    fn of<O: Operation>(request: &O) -> Result<Encoded, Error> {
        let meta: &'static OperationMeta = &O::META;
        request.check().map_err(|e| Error::InvalidParameter {
            operation: meta.id,
            name: e.name,
            problem: e.problem,
        })?;
        let mut path_and_query = String::with_capacity(meta.path.len() + 64);
        request.write_path(&mut path_and_query);
        let mut q = crate::__private::QueryWriter::default();
        request.write_query(&mut q);
        path_and_query.push_str(&q.finish());
        let body = if meta.has_body {
            let bytes = serde_json::to_vec(request).map_err(|e| Error::InvalidInput {
                operation: meta.id,
                message: format!("cannot encode the body: {e}"),
            })?;
            Some(Bytes::from(bytes))
        } else {
            None
        };
        Ok(Encoded {
            path_and_query,
            body,
        })
    }
}

/// The typed step of a dynamic call ([`Client::call`]), instantiated per operation: the
/// generated descriptor holds it as a function pointer, so a call by descriptor reaches the
/// operation's request type (its checks, context and encoding) without any dispatch on names.
/// The reply is checked against the descriptor's reply model instead ([`dynamic_reply`]), so
/// no per-operation decoding code is compiled for it.
#[derive(Clone, Copy)]
pub(crate) struct Dynamic {
    /// Input (checked against the descriptor) → typed request → context → encoded request.
    encode: fn(serde_json::Value, &AppContext) -> Result<Encoded, Error>,
}

impl fmt::Debug for Dynamic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Dynamic")
    }
}

impl Dynamic {
    /// The step for operation `O` (called by the generated descriptors; unused in a build
    /// without any area feature).
    #[allow(dead_code)]
    pub(crate) const fn of<O: Operation>() -> Dynamic {
        Dynamic {
            encode: dynamic_encode::<O>,
        }
    }
}

#[allow(dead_code)]
fn dynamic_encode<O: Operation>(
    input: serde_json::Value,
    ctx: &AppContext,
) -> Result<Encoded, Error> {
    let invalid = |e: crate::__private::InputError| Error::InvalidParameter {
        operation: O::META.id,
        name: e.name,
        problem: e.problem,
    };
    let mut input = crate::__private::Input::new(input).map_err(invalid)?;
    let mut request = O::from_input(&mut input).map_err(invalid)?;
    if let Some(name) = input.leftover() {
        return Err(Error::InvalidInput {
            operation: O::META.id,
            message: format!("unknown parameter `{name}`"),
        });
    }
    request.fill_context(ctx);
    Encoded::of(&request)
}

/// The reply of a dynamic call: checked against the operation's reply model as its typed
/// reply would decode it ([`ModelMeta::reply_problem`](crate::ModelMeta::reply_problem): a
/// reply that does not fit is an error, as with [`Client::send`]), then handed out as
/// received. Not generic: one copy for every operation.
fn dynamic_reply(
    meta: &'static OperationMeta,
    reply: Reply,
) -> Result<Option<Box<RawValue>>, Error> {
    let decode_error = |source| Error::Decode {
        operation: meta.id,
        status: reply.status,
        request_id: reply.request_id.clone(),
        source,
    };
    let text = match Body::of(meta, &reply) {
        Body::None => return Ok(None),
        // An empty reply reads as the reply type's default (as with `send`): a reply model
        // has only optional fields, so its default is the empty object.
        Body::Empty => {
            return RawValue::from_string("{}".to_owned())
                .map(Some)
                .map_err(decode_error)
        }
        Body::Text(text) => text,
        // Not UTF-8: the parser reports where.
        Body::Bytes(bytes) => {
            return Err(decode_error(
                serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
                    .err()
                    .unwrap_or_else(|| serde::de::Error::custom("the reply is not UTF-8")),
            ))
        }
    };
    // Parsed once into a tree (the parser's nesting limit and number range apply, as for any
    // JSON consumer), held to the reply model, then the text itself is handed out.
    let value: serde_json::Value = serde_json::from_str(text).map_err(decode_error)?;
    if let Some(model) = meta.reply {
        if let Some(problem) = model.reply_problem(&value) {
            return Err(decode_error(serde::de::Error::custom(format!(
                "the reply does not fit {}: {problem}",
                model.name
            ))));
        }
    }
    serde_json::from_str::<Box<RawValue>>(text)
        .map(Some)
        .map_err(decode_error)
}

/// A request ready to go: everything computed once, before the first attempt.
struct Prepared {
    meta: &'static OperationMeta,
    url: String,
    body: Option<Bytes>,
}

/// What the span reports when the call ends.
#[derive(Default)]
struct Outcome {
    attempts: u32,
    status: Option<u16>,
    request_id: Option<String>,
}

impl Outcome {
    fn note(&mut self, r: &Result<Reply, Error>) {
        match r {
            Ok(reply) => {
                self.status = Some(reply.status);
                self.request_id = reply.request_id.clone();
            }
            Err(e) => {
                self.status = e.status();
                self.request_id = e.request_id().map(str::to_string);
            }
        }
    }
}

impl Client {
    /// A builder with the defaults.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A handle whose calls are paced like the concurrent and bulk paths (see
    /// [`ClientBuilder::pacing`]); shares everything else with `self`.
    pub fn paced(&self) -> Client {
        Client {
            inner: self.inner.clone(),
            paced: true,
        }
    }

    /// The limiter that applies to this handle's calls, if any.
    fn active_limiter(&self) -> Option<&Arc<dyn RateLimiter>> {
        match &self.inner.limiter {
            Some(l) => Some(l),
            None if self.paced => self.inner.pacer.as_ref(),
            None => None,
        }
    }

    /// The base URL.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// The HTTP client (redirects not followed), for exchanges outside the API such as
    /// attachment downloads.
    #[cfg_attr(not(feature = "attachments"), allow(dead_code))]
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// Sends any operation's request and decodes its reply.
    ///
    /// Required parameters are checked (the app context counts) before anything is sent.
    pub async fn send<O: Operation>(&self, mut request: O) -> Result<O::Response, Error> {
        let meta: &'static OperationMeta = &O::META;
        request.fill_context(&self.inner.context);
        let prepared = self.prepare(meta, Encoded::of(&request)?);
        let reply = self.execute(prepared).await?;
        decode::<O::Response>(meta, reply)
    }

    fn prepare(&self, meta: &'static OperationMeta, encoded: Encoded) -> Prepared {
        let endpoint = &self.inner.endpoint;
        let mut url = String::with_capacity(endpoint.len() + encoded.path_and_query.len());
        url.push_str(endpoint);
        url.push_str(&encoded.path_and_query);
        Prepared {
            meta,
            url,
            body: encoded.body,
        }
    }

    /// Sends any operation by its descriptor, with parameters given as one JSON object by
    /// wire name (as `yida call` and the MCP server do), and returns the reply's text exactly
    /// as received (key order, number spelling and unknown fields kept); `None` for an
    /// operation whose reply has no body.
    ///
    /// Before anything is sent, the input is checked against the descriptor
    /// ([`OperationMeta::check_input`]: unknown names, types, required parameters) and then
    /// against the request type (context filled from the client, path segments, JSON text).
    /// The reply is decoded once into the operation's reply type: one that does not fit is
    /// an [`Error::Decode`] (the request was sent).
    ///
    /// ```no_run
    /// # async fn run(client: yida_api::Client) -> Result<(), yida_api::Error> {
    /// let op = yida_api::operation("GetFormDataByID", "1.0").expect("forms area compiled in");
    /// let reply = client.call(op, serde_json::json!({ "id": "FINST-1" })).await?;
    /// println!("{}", reply.map(|r| r.get().to_string()).unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn call(
        &self,
        meta: &'static OperationMeta,
        input: serde_json::Value,
    ) -> Result<Option<Box<RawValue>>, Error> {
        meta.check_input(&input)?;
        let encoded = (meta.dynamic.encode)(input, &self.inner.context)?;
        let reply = self.execute(self.prepare(meta, encoded)).await?;
        dynamic_reply(meta, reply)
    }

    /// Runs the attempts of one call under the overall timeout. Not generic, so it is compiled
    /// once for all operations.
    async fn execute(&self, prepared: Prepared) -> Result<Reply, Error> {
        // A dry run (`plan`) keeps the request and stops here: nothing leaves.
        if crate::dry_run::capture(prepared.meta, &prepared.url, prepared.body.as_deref()) {
            return Err(Error::DryRun {
                operation: prepared.meta.id,
            });
        }
        let started = Instant::now();
        let span = tracing::info_span!(
            "yida.call",
            action = prepared.meta.action,
            version = prepared.meta.version,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
        );
        let total = self.inner.total_timeout;
        let mut outcome = Outcome::default();
        let result = tokio::time::timeout(
            total,
            self.attempts(&prepared, &mut outcome)
                .instrument(span.clone()),
        )
        .await;
        // The span's fields are recorded once, when the call ends: recording them per attempt
        // would repeat them in the span's rendering.
        span.record("attempt", outcome.attempts);
        if let Some(s) = outcome.status {
            span.record("status", s);
        }
        if let Some(r) = &outcome.request_id {
            span.record("request_id", r.as_str());
        }
        match result {
            Ok(Ok(reply)) => {
                span.in_scope(|| {
                    tracing::debug!(
                        operation = %prepared.meta.id,
                        status = reply.status,
                        request_id = reply.request_id.as_deref().unwrap_or(""),
                        attempts = outcome.attempts,
                        "call succeeded"
                    )
                });
                Ok(reply)
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::Timeout {
                operation: prepared.meta.id,
                elapsed: started.elapsed(),
                source: None,
            }),
        }
    }

    /// A token for the next attempt: the provider's fetch bounded by the attempt timeout and
    /// given this client's endpoint and timeout as defaults.
    async fn token(&self) -> Result<AccessToken, Error> {
        let limit = self.inner.attempt_timeout;
        match tokio::time::timeout(
            limit,
            self.inner.tokens.token_with(&self.inner.token_defaults),
        )
        .await
        {
            Ok(r) => r.map_err(Error::from),
            Err(_) => Err(Error::Auth(yida_auth::AuthError::Transport {
                message: format!("timed out after {limit:?}"),
            })),
        }
    }

    async fn attempts(&self, p: &Prepared, outcome: &mut Outcome) -> Result<Reply, Error> {
        let retry = &self.inner.retry;
        let mut attempt: u32 = 0;
        let mut token_renewed = false;
        let started = Instant::now();
        let limiter = self.active_limiter();
        let key = limiter
            .map(|_| QuotaKey::new(self.inner.quota_app.clone(), p.meta.action, p.meta.version));
        loop {
            attempt += 1;
            outcome.attempts = attempt;
            // The ledger counts the request (or its budget refuses it) before anything leaves,
            // the token request included.
            let entry = self.ledger_before(p).await?;
            let result = match self.token().await {
                Ok(token) => {
                    // The slot is taken with the token in hand, when the call is about to
                    // leave: a slot taken before a token fetch would be spent while waiting,
                    // and every waiter would then leave at once when the token came.
                    if let (Some(l), Some(k)) = (limiter, &key) {
                        l.acquire(k).await;
                    }
                    let r = self.attempt(p, &token).await;
                    if let Some((ledger, entry)) = &entry {
                        let fetched = self.inner.token_fetches.take();
                        ledger
                            .after_send(entry, &r.as_ref().map(|_| ()), fetched)
                            .await;
                    }
                    outcome.note(&r);
                    r.map_err(|e| (e, Some(token)))
                }
                Err(e) => {
                    if let Some((ledger, entry)) = &entry {
                        // The request never left: take it back.
                        let fetched = self.inner.token_fetches.take();
                        ledger.after_send(entry, &Err(&e), fetched).await;
                    }
                    Err((e, None))
                }
            };
            if let (Some(l), Some(k)) = (limiter, &key) {
                match &result {
                    Err((Error::Api(api), _)) if api.is_throttled() => {
                        l.on_throttled(k, api.retry_after)
                    }
                    Ok(_) | Err((Error::Api(_), _)) => l.on_success(k),
                    Err(_) => {}
                }
            }
            let (err, token) = match result {
                Ok(reply) => return Ok(reply),
                Err(e) => e,
            };
            // A rejected token: drop it, fetch a new one, repeat the call once.
            if let (Error::Api(api), Some(token)) = (&err, &token) {
                if api.is_invalid_token() && !token_renewed {
                    token_renewed = true;
                    if self.inner.tokens.invalidate(token) {
                        tracing::debug!(
                            "access token rejected; renewing it and repeating the call once"
                        );
                        attempt -= 1;
                        continue;
                    }
                }
            }
            match retry.verdict(&err, p.meta.read_only(), attempt, started.elapsed()) {
                Verdict::GiveUp => return Err(err),
                Verdict::RetryAfter(pause) => {
                    tracing::debug!(
                        attempt,
                        status = err.status().unwrap_or(0),
                        request_id = err.api().and_then(|a| a.request_id.as_deref()).unwrap_or(""),
                        pause_ms = pause.as_millis() as u64,
                        error = %err,
                        "retrying"
                    );
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// Counts the request about to leave in the ledger (with the token fetches before it);
    /// `Err` when the organisation's budget refuses it: nothing is sent.
    async fn ledger_before(
        &self,
        p: &Prepared,
    ) -> Result<Option<(&crate::ledger::Ledger, crate::ledger::Entry)>, Error> {
        let Some((ledger, org)) = &self.inner.ledger else {
            return Ok(None);
        };
        let entry = crate::ledger::Entry {
            org: org.to_string(),
            app: self.inner.quota_app.to_string(),
            operation: p.meta.id.to_string(),
        };
        ledger
            .before_send(p.meta.id, org, &entry, self.inner.token_fetches.take())
            .await?;
        Ok(Some((ledger, entry)))
    }

    async fn attempt(&self, p: &Prepared, token: &AccessToken) -> Result<Reply, Error> {
        let method = match p.meta.method {
            HttpMethod::Get => reqwest::Method::GET,
            HttpMethod::Post => reqwest::Method::POST,
            HttpMethod::Put => reqwest::Method::PUT,
            HttpMethod::Delete => reqwest::Method::DELETE,
        };
        let mut req = self
            .inner
            .http
            .request(method, &p.url)
            .timeout(self.inner.attempt_timeout)
            .header("x-acs-dingtalk-access-token", token.secret().expose())
            .header("accept", "application/json");
        if let Some(body) = &p.body {
            req = req
                .header("content-type", "application/json; charset=utf-8")
                .body(body.clone());
        }
        let started = Instant::now();
        let operation = p.meta.id;
        match yida_auth::wire::exchange(req, self.inner.body_limit).await {
            Ok(reply) => Ok(reply),
            Err(ExchangeError::Transport(e)) => Err(self.transport_error(p, e, started)),
            Err(ExchangeError::Redirect { status, location }) => Err(Error::Redirect {
                operation,
                status,
                location,
            }),
            Err(ExchangeError::TooLarge {
                status,
                request_id,
                limit,
            }) => Err(Error::BodyTooLarge {
                operation,
                status,
                request_id,
                limit,
            }),
            Err(ExchangeError::Refused(r)) => Err(Error::Api(Box::new(ApiError {
                operation,
                status: r.status,
                code: r.code,
                message: r.message,
                request_id: r.request_id,
                required_permission: p.meta.permission,
                retry_after: r.retry_after,
                body_excerpt: r.body_excerpt,
            }))),
        }
    }

    fn transport_error(&self, p: &Prepared, e: reqwest::Error, started: Instant) -> Error {
        // The exchange dropped the URL (its query may hold `systemToken`).
        let operation = p.meta.id;
        if e.is_timeout() {
            Error::Timeout {
                operation,
                elapsed: started.elapsed(),
                source: Some(e),
            }
        } else if e.is_connect() {
            Error::Connect {
                operation,
                source: e,
            }
        } else {
            Error::Transport {
                operation,
                source: e,
            }
        }
    }
}

/// A reply's body as the decoders see it.
enum Body<'r> {
    /// The operation has no reply.
    None,
    /// Empty (or only whitespace): the reply type's default.
    Empty,
    /// UTF-8 text. Validating UTF-8 once for the whole body and parsing from `str` is faster
    /// than letting the parser validate each string (≈ 300 per 20-record page).
    Text(&'r str),
    /// Not UTF-8: for the slice parser, which reports where.
    Bytes(&'r [u8]),
}

impl<'r> Body<'r> {
    fn of(meta: &OperationMeta, reply: &'r Reply) -> Body<'r> {
        if !meta.has_reply {
            Body::None
        } else if reply.body.iter().all(u8::is_ascii_whitespace) {
            Body::Empty
        } else {
            std::str::from_utf8(&reply.body).map_or(Body::Bytes(&reply.body), Body::Text)
        }
    }
}

fn decode<T: serde::de::DeserializeOwned + Default>(
    meta: &'static OperationMeta,
    reply: Reply,
) -> Result<T, Error> {
    let parsed = match Body::of(meta, &reply) {
        Body::None | Body::Empty => return Ok(T::default()),
        Body::Text(text) => serde_json::from_str(text),
        Body::Bytes(bytes) => serde_json::from_slice(bytes),
    };
    parsed.map_err(|source| Error::Decode {
        operation: meta.id,
        status: reply.status,
        request_id: reply.request_id,
        source,
    })
}

/// One operation's request read by its derived `Deserialize`, then encoded (test support, see
/// `TYPED_REQUESTS`).
#[cfg(test)]
pub(crate) type TypedRequest = (
    crate::OpId,
    fn(serde_json::Value, &AppContext) -> Result<(String, Option<Bytes>), Error>,
);

/// Reads `input` into `O` by its derived `Deserialize` and encodes it (test support).
#[cfg(test)]
pub(crate) fn typed_request<O: Operation>(
    input: serde_json::Value,
    ctx: &AppContext,
) -> Result<(String, Option<Bytes>), Error> {
    let mut request: O = serde_json::from_value(input).map_err(|e| Error::InvalidInput {
        operation: O::META.id,
        message: e.to_string(),
    })?;
    request.fill_context(ctx);
    Encoded::of(&request).map(|e| (e.path_and_query, e.body))
}

#[cfg(test)]
mod dynamic_request_tests {
    use crate::meta::{ModelMeta, ParamType};
    use crate::AppContext;
    use serde_json::{json, Value};

    /// A value of `ty` for parameter `name` (models filled two levels deep).
    fn sample(ty: &ParamType, name: &str, depth: usize) -> Value {
        match ty {
            ParamType::String => json!(format!("{name} ü/?&")),
            ParamType::JsonText => json!({ "textField_a": name, "n": [1, 2.5] }),
            ParamType::I64 => json!(-7),
            ParamType::F64 => json!(1),
            ParamType::Bool => json!(true),
            ParamType::Json => json!({ "b": [null, "x"] }),
            ParamType::List(inner) => {
                json!([sample(inner, name, depth), sample(inner, name, depth)])
            }
            ParamType::Map(inner) => json!({ "k": sample(inner, name, depth) }),
            ParamType::Model(m) => model(m, depth + 1),
        }
    }

    fn model(m: &ModelMeta, depth: usize) -> Value {
        let mut obj = serde_json::Map::new();
        if depth < 3 {
            for f in m.fields {
                obj.insert(f.name.to_string(), sample(&f.ty, f.name, depth));
            }
        }
        Value::Object(obj)
    }

    /// Dynamic calls build the request with `Operation::from_input`, one parameter at a time:
    /// for every operation it encodes exactly what the request's derived `Deserialize` and the
    /// typed encoding make of the same input (path, query and body, byte for byte), with
    /// every parameter given, with only the required ones, with JSON text given as text, and
    /// with a value of the wrong type (both refuse it).
    #[test]
    fn dynamic_requests_encode_as_typed_requests() {
        let ctx = AppContext::new()
            .app_type("APP_X")
            .system_token("sys-token")
            .user_id("user-1")
            .language("zh_CN");
        let mut compared = 0;
        for (id, typed) in crate::TYPED_REQUESTS {
            let meta = id.meta().expect("compiled in");
            let all: serde_json::Map<String, Value> = meta
                .params
                .iter()
                .map(|p| {
                    let v = match p.values.first() {
                        Some(v) => json!(v),
                        None => sample(&p.ty, p.name, 0),
                    };
                    (p.name.to_string(), v)
                })
                .collect();
            let required: serde_json::Map<String, Value> = all
                .iter()
                .filter(|(k, _)| meta.param(k).is_some_and(|p| p.required && !p.context))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let as_text: serde_json::Map<String, Value> = all
                .iter()
                .map(|(k, v)| match meta.param(k).map(|p| p.ty) {
                    Some(ParamType::JsonText) => (k.clone(), json!(v.to_string())),
                    _ => (k.clone(), v.clone()),
                })
                .collect();
            let mut inputs = vec![
                Value::Object(all.clone()),
                Value::Object(required),
                Value::Object(as_text),
            ];
            if let Some(p) = meta
                .params
                .iter()
                .find(|p| p.ty == ParamType::String && p.values.is_empty())
            {
                let mut wrong = all.clone();
                wrong.insert(p.name.to_string(), json!(5));
                inputs.push(Value::Object(wrong));
            }
            for input in inputs {
                let dynamic =
                    (meta.dynamic.encode)(input.clone(), &ctx).map(|e| (e.path_and_query, e.body));
                let typed = typed(input.clone(), &ctx);
                match (&dynamic, &typed) {
                    (Ok(d), Ok(t)) => assert_eq!(d, t, "{id}: {input}"),
                    (Err(_), Err(_)) => {}
                    _ => panic!("{id}: {input}\ndynamic: {dynamic:?}\ntyped: {typed:?}"),
                }
                compared += 1;
            }
        }
        assert!(compared > 300, "only {compared} inputs compared");
    }
}

/// One operation's typed reply decoding and default (test support, see `TYPED_REPLIES`).
#[cfg(test)]
pub(crate) type TypedReply = (crate::OpId, fn(&str) -> Result<(), String>, fn() -> String);

/// Decodes `text` into `O`'s reply type (test support).
#[cfg(test)]
pub(crate) fn typed_reply<O: Operation>(text: &str) -> Result<(), String> {
    serde_json::from_str::<O::Response>(text)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// `O`'s default reply as JSON text (test support).
#[cfg(test)]
pub(crate) fn default_reply<O: Operation>() -> String {
    serde_json::to_string(&O::Response::default()).unwrap_or_default()
}

#[cfg(test)]
mod dynamic_reply_tests {
    use crate::meta::{ModelMeta, ParamType};
    use serde_json::{json, Value};

    /// A valid value of `ty` (models filled to `depth` levels).
    fn sample(ty: &ParamType, depth: usize) -> Value {
        match ty {
            ParamType::String | ParamType::JsonText => json!("s"),
            ParamType::I64 => json!(7),
            ParamType::F64 => json!(1.5),
            ParamType::Bool => json!(true),
            ParamType::Json => json!({"free": [1, null]}),
            ParamType::List(inner) => json!([sample(inner, depth + 1)]),
            ParamType::Map(inner) => json!({"k": sample(inner, depth + 1)}),
            ParamType::Model(m) => full(m, depth + 1),
        }
    }

    fn full(m: &ModelMeta, depth: usize) -> Value {
        let mut obj = serde_json::Map::new();
        if depth < 4 {
            for f in m.fields {
                obj.insert(f.name.to_string(), sample(&f.ty, depth));
            }
        }
        obj.insert("unknownField".into(), json!({"kept": true}));
        Value::Object(obj)
    }

    /// Values a server may send in place of any field or item.
    fn probes() -> Vec<Value> {
        [
            "\"12\"",
            "\" 7 \"",
            "\"x\"",
            "\"\"",
            "\"null\"",
            "\"true\"",
            "\"False\"",
            "\"1\"",
            "\"1.5\"",
            "\"1e999\"",
            "12",
            "-3.0",
            "1.5",
            "9007199254740993.0",
            "1e300",
            "18446744073709551615",
            "-9223372036854775808",
            "0",
            "true",
            "false",
            "null",
            "[]",
            "[1]",
            "[\"a\"]",
            "[null]",
            "{}",
            "{\"a\":1}",
        ]
        .iter()
        .map(|t| serde_json::from_str(t).expect("probe"))
        .collect()
    }

    /// Every way of replacing one field or item of `v` (shaped by `ty`) with a probe.
    fn variants(v: &Value, ty: &ParamType, depth: usize, out: &mut Vec<Value>) {
        for p in probes() {
            out.push(p);
        }
        if depth > 3 {
            return;
        }
        match (ty, v) {
            (ParamType::List(inner), Value::Array(items)) if !items.is_empty() => {
                let mut inner_out = Vec::new();
                variants(&items[0], inner, depth + 1, &mut inner_out);
                out.extend(inner_out.into_iter().map(|x| Value::Array(vec![x])));
            }
            (ParamType::Map(inner), Value::Object(m)) => {
                if let Some(first) = m.values().next() {
                    let mut inner_out = Vec::new();
                    variants(first, inner, depth + 1, &mut inner_out);
                    out.extend(inner_out.into_iter().map(|x| json!({ "k": x })));
                }
            }
            (ParamType::Model(model), Value::Object(obj)) => {
                for f in model.fields {
                    let Some(fv) = obj.get(f.name) else { continue };
                    let mut inner_out = Vec::new();
                    variants(fv, &f.ty, depth + 1, &mut inner_out);
                    for x in inner_out {
                        let mut o = obj.clone();
                        o.insert(f.name.to_string(), x);
                        out.push(Value::Object(o));
                    }
                }
            }
            _ => {}
        }
    }

    /// The descriptor-driven check of a dynamic call's reply accepts exactly the replies the
    /// operation's typed reply decodes, for every operation: a full reply, and that reply with
    /// any one field (or list item, or map value) replaced by a string, number, boolean,
    /// `null`, array or object of many spellings. And an empty reply reads as the typed
    /// default.
    #[test]
    fn the_reply_check_accepts_what_the_typed_reply_decodes() {
        let mut checked = 0usize;
        let mut mismatches = Vec::new();
        for (id, typed, default) in crate::TYPED_REPLIES {
            let meta = id.meta().expect("compiled in");
            let model = meta.reply.expect("a reply model");
            assert_eq!(default(), "{}", "{id}: the default reply");
            let top = ParamType::Model(model);
            let mut all = Vec::new();
            variants(&full(model, 0), &top, 0, &mut all);
            for v in all {
                let text = v.to_string();
                let typed_ok = typed(&text).is_ok();
                let check = model.reply_problem(&v);
                checked += 1;
                if typed_ok != check.is_none() {
                    mismatches.push(format!(
                        "{id}: {text} — typed: {:?}, check: {check:?}",
                        typed(&text).err()
                    ));
                }
            }
        }
        assert!(checked > 10_000, "only {checked} replies checked");
        assert!(
            mismatches.is_empty(),
            "{} of {checked} differ, e.g.:\n{}",
            mismatches.len(),
            mismatches[..mismatches.len().min(8)].join("\n")
        );
    }
}
