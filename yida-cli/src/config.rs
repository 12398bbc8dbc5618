//! Configuration: endpoint, credentials, app context, timeout — each from a flag, the
//! environment or the active profile (`profile.rs`), in that order.

use crate::fail::Fail;
use std::time::Duration;
use yida_api::{AppContext, Client};
use yida_auth::{InternalApp, MemoryTicketStore, StaticToken, ThirdPartyApp, TokenProvider};

/// The value of a setting by its environment variable: the flag, the variable or the active
/// profile (see `profile::lookup`); blank counts as unset.
pub fn env(name: &str) -> Option<String> {
    match crate::profile::lookup(name) {
        Some((v, _)) => Some(v),
        None => std::env::var(name).ok().filter(|v| !v.trim().is_empty()),
    }
}

/// The value of a setting that must be given (see [`env()`]); its absence is a usage error
/// naming the variable.
pub fn need(name: &'static str) -> Result<String, Fail> {
    env(name).ok_or_else(|| Fail::usage(format!("missing environment variable {name}")))
}

/// `YIDA_ENDPOINT`, or the production endpoint when it is not set. A blank value is refused:
/// it is a mistake (an empty variable in a script), not a request for production.
pub fn endpoint() -> Result<String, Fail> {
    crate::profile::load()?;
    if let Some(url) = crate::profile::flag_endpoint() {
        return match url.trim() {
            "" => Err(Fail::usage("--endpoint is blank; give a URL")),
            url => Ok(url.to_string()),
        };
    }
    match std::env::var_os("YIDA_ENDPOINT") {
        // The profile's, or production.
        None => Ok(env("YIDA_ENDPOINT").unwrap_or_else(|| yida_api::DEFAULT_ENDPOINT.to_string())),
        Some(v) => match v.to_str().map(str::trim) {
            Some("") => Err(Fail::usage(format!(
                "YIDA_ENDPOINT is set but blank; unset it to use {}, or give a URL",
                yida_api::DEFAULT_ENDPOINT
            ))),
            Some(url) => Ok(url.to_string()),
            None => Err(Fail::usage("YIDA_ENDPOINT is not valid UTF-8")),
        },
    }
}

/// The token source the environment describes.
pub fn token_provider() -> Result<Box<dyn TokenProvider>, Fail> {
    crate::profile::load()?;
    let auth = |e: yida_auth::AuthError| Fail::usage(e);
    if let Some(t) = env("YIDA_ACCESS_TOKEN") {
        return Ok(Box::new(StaticToken::new(t)));
    }
    if env("YIDA_APP_KEY").is_some() || env("YIDA_APP_SECRET").is_some() {
        let app =
            InternalApp::new(need("YIDA_APP_KEY")?, need("YIDA_APP_SECRET")?).map_err(auth)?;
        return Ok(Box::new(app.endpoint(endpoint()?)));
    }
    if [
        "YIDA_SUITE_KEY",
        "YIDA_SUITE_SECRET",
        "YIDA_SUITE_TICKET",
        "YIDA_AUTH_CORP_ID",
    ]
    .iter()
    .any(|n| env(n).is_some())
    {
        let (key, secret) = (need("YIDA_SUITE_KEY")?, need("YIDA_SUITE_SECRET")?);
        let tickets: std::sync::Arc<dyn yida_auth::SuiteTicketStore> =
            match (crate::ticket_store::open()?, env("YIDA_SUITE_TICKET")) {
                (Some(_), Some(_)) => return Err(Fail::usage(
                    "set either YIDA_SUITE_TICKET or --ticket-store (YIDA_TICKET_STORE), not both",
                )),
                (Some(store), None) => store,
                (None, _) => {
                    let tickets = MemoryTicketStore::new();
                    tickets.set(need("YIDA_SUITE_TICKET")?);
                    std::sync::Arc::new(tickets)
                }
            };
        let corp = need("YIDA_AUTH_CORP_ID")?;
        let isv = ThirdPartyApp::new(key, secret, tickets)
            .map_err(auth)?
            .endpoint(endpoint()?);
        return Ok(Box::new(isv.for_corp(corp).map_err(auth)?));
    }
    Err(Fail::usage(
        "no credentials: set YIDA_ACCESS_TOKEN, or YIDA_APP_KEY and YIDA_APP_SECRET, or \
         YIDA_SUITE_KEY, YIDA_SUITE_SECRET, YIDA_AUTH_CORP_ID and YIDA_SUITE_TICKET (or \
         --ticket-store)",
    ))
}

#[derive(Debug)]
struct BoxedProvider(Box<dyn TokenProvider>);

impl TokenProvider for BoxedProvider {
    fn token(&self) -> yida_auth::TokenFuture<'_> {
        self.0.token()
    }
    fn token_with<'a>(
        &'a self,
        defaults: &'a yida_auth::ClientDefaults,
    ) -> yida_auth::TokenFuture<'a> {
        // The client's defaults carry the ledger's count of token fetches.
        self.0.token_with(defaults)
    }
    fn invalidate(&self, t: &yida_auth::AccessToken) -> bool {
        self.0.invalidate(t)
    }
}

/// A client configured from the environment.
pub fn client() -> Result<Client, Fail> {
    crate::profile::load()?;
    let mut ctx = AppContext::new();
    if let Some(v) = env("YIDA_APP_TYPE") {
        ctx = ctx.app_type(v);
    }
    if let Some(v) = env("YIDA_SYSTEM_TOKEN") {
        ctx = ctx.system_token(v);
    }
    if let Some(v) = env("YIDA_USER_ID") {
        ctx = ctx.user_id(v);
    }
    if let Some(v) = env("YIDA_LANGUAGE") {
        ctx = ctx.language(v);
    }
    let mut b = Client::builder()
        .endpoint(endpoint()?)
        .token_provider(BoxedProvider(token_provider()?))
        .context(ctx);
    if let Some((ledger, org)) = crate::quota::ledger()? {
        b = b.ledger(ledger, org);
    }
    if let Some(t) = env("YIDA_TIMEOUT") {
        let secs: f64 = t
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| *s > 0.0 && s.is_finite())
            .ok_or_else(|| {
                Fail::usage(format!(
                    "YIDA_TIMEOUT must be a positive number of seconds, not {t:?}"
                ))
            })?;
        let t = Duration::try_from_secs_f64(secs)
            .map_err(|_| Fail::usage(format!("YIDA_TIMEOUT is out of range: {secs}")))?;
        b = b.timeout(t);
    }
    Ok(b.build()?)
}
