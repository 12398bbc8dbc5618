//! One replica of a service that runs several: tokens, suite tickets and the API quota shared
//! through Redis.
//!
//! ```sh
//! REDIS_URL=redis://127.0.0.1:6379 YIDA_APP_KEY=… YIDA_APP_SECRET=… \
//!   cargo run -p yida-redis --example replicas -- FINST-ID
//! ```
use std::time::Duration;
use yida_api::{AppContext, Client, GetFormDataByIdRequest};
use yida_auth::{InternalApp, ThirdPartyApp, TokenCache};
use yida_redis::{Redis, RedisRateLimiter};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
    // rediss://user:password@host:6380/0 for TLS and AUTH; one prefix per service.
    let redis = Redis::builder(var("REDIS_URL")?)
        .prefix("orders-service:")
        .op_timeout(Duration::from_millis(200)) // past it, this replica goes on alone
        .build()?;

    // Tokens: the first replica that needs one fetches it, the others wait and read it.
    let cache = TokenCache::new().with_shared(redis.token_store());
    let app = InternalApp::new(var("YIDA_APP_KEY")?, var("YIDA_APP_SECRET")?)?.cache(cache);

    // The quota: all replicas together stay at 19 calls/s per API (95% of DingTalk's 20).
    let quota = RedisRateLimiter::for_quota(redis.clone(), 20);

    let client = Client::builder()
        .token_provider(app)
        .context(
            AppContext::new()
                .app_type("APP_XXXX")
                .system_token("sys-token"),
        )
        .rate_limiter(quota) // every call waits for its slot
        .build()?;
    let id = std::env::args().nth(1).ok_or("usage: replicas FINST-ID")?;
    let record = client
        .forms()
        .get_form_data_by_id(GetFormDataByIdRequest::new(id))
        .await?;
    println!("{:?}", record.form_inst_id);

    // A third-party app (ISV): the suite ticket lives in Redis too. Give the same store to
    // the event receiver (yida-events): the replica DingTalk pushes a ticket to offers it,
    // every replica's token fetch reads the newest.
    let tickets = redis.ticket_store("suitekey");
    let isv = ThirdPartyApp::new("suitekey", "suite-secret", tickets.clone())?
        .cache(TokenCache::new().with_shared(redis.token_store()));
    let acme = Client::builder()
        .token_provider(isv.for_corp("ding-corp-acme")?)
        .rate_limiter(RedisRateLimiter::for_quota(redis.clone(), 20))
        .build()?;
    let _ = (acme, tickets);
    Ok(())
}
