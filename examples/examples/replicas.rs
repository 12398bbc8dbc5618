//! Guide: docs/guides/replicas.md — running several replicas.
//!
//! Two replicas of one service (here: two clients in one process, each with its own token
//! cache, as two processes would have) share the access token and DingTalk's per-API quota
//! (20 calls/s per app and API) through Redis. Retries are off, so a call over the quota
//! would show up as an error rather than be retried.

use std::sync::Arc;
use std::time::Duration;
use yida_api::{AppContext, Client, RetryConfig, SearchFormDatasV2Request};
use yida_auth::{InternalApp, TokenCache};
use yida_examples::var;
use yida_redis::{Redis, RedisRateLimiter};

/// What one replica builds at start-up.
fn replica(redis: &Redis) -> Result<Client, Box<dyn std::error::Error>> {
    // The quota, counted across replicas: 95% of 20 calls/s per app and API; every call of
    // this client waits for its slot on the shared timeline.
    let quota = RedisRateLimiter::for_quota(redis.clone(), 20);
    let endpoint = var("YIDA_ENDPOINT")?;
    // Tokens: each replica's cache reads and writes Redis; one replica fetches, the others wait.
    let cache = TokenCache::new().with_shared(redis.token_store());
    let app = InternalApp::new(var("YIDA_APP_KEY")?, var("YIDA_APP_SECRET")?)?
        .endpoint(&endpoint)
        .cache(cache);
    Ok(Client::builder()
        .endpoint(&endpoint)
        .token_provider(app)
        .context(
            AppContext::new()
                .app_type(var("YIDA_APP_TYPE")?)
                .system_token(var("YIDA_SYSTEM_TOKEN")?)
                .user_id(var("YIDA_USER_ID")?),
        )
        .rate_limiter(quota)
        .retry(RetryConfig::disabled())
        .build()?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // rediss://user:password@host:6380/0 for TLS and AUTH; one prefix per service.
    let redis = Redis::builder(var("REDIS_URL")?)
        .prefix("guide-replicas:")
        .op_timeout(Duration::from_millis(200)) // past it, a replica goes on alone
        .build()?;
    let form = var("YIDA_DEMO_FORM_UUID")?;

    let replicas = [replica(&redis)?, replica(&redis)?];
    let mut calls = Vec::new();
    for client in replicas {
        let client = Arc::new(client);
        // Each replica fires 15 calls at once: 30 in a burst, more than DingTalk allows in a second.
        for _ in 0..15 {
            let (client, form) = (client.clone(), form.clone());
            calls.push(tokio::spawn(async move {
                client
                    .send(SearchFormDatasV2Request::new(&form).page_size(1))
                    .await
            }));
        }
    }
    let (mut ok, mut throttled) = (0, 0);
    for call in calls {
        match call.await? {
            Ok(_) => ok += 1,
            Err(e) if e.api().is_some_and(|a| a.is_throttled()) => throttled += 1,
            Err(e) => return Err(e.into()),
        }
    }
    println!("{ok} calls answered, {throttled} throttled");
    Ok(())
}
