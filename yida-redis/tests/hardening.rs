//! Hardening of the replicas (issue 19, items 17–20): each test runs replicas as separate
//! clients (each its own Redis connection, token cache and HTTP client) against a REAL
//! `redis-server` and a local DingTalk stand-in that records every request.

use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yida_api::{AppContext, Client, GetFormDataByIdRequest, RetryConfig};
use yida_auth::{CacheConfig, InternalApp, MemoryTokenStore, SystemClock, TokenCache};
use yida_e2e::{MockServer, Recorded, RedisServer, Reply};
use yida_redis::{Redis, RedisRateLimiter};

const TOKEN_PATH: &str = "/v1.0/oauth2/accessToken";
const QUOTA: usize = 20;

/// Tests that measure rates take this, so that they do not run at once.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A DingTalk stand-in: the token endpoint answers after `token_delay` with `tok-1`, `tok-2`…
/// living `expire_in` seconds; the API answers a form instance and throttles (403
/// `QpsLimitForAppkeyAndApi`) a call when it has already answered `QUOTA` calls in the last
/// second (a sliding second, as the check counted).
async fn dingtalk(token_delay: Duration, expire_in: u64) -> MockServer {
    let tokens = AtomicUsize::new(0);
    let answered: Mutex<Vec<Instant>> = Mutex::new(Vec::new());
    MockServer::start(move |r, _| {
        if r.path == TOKEN_PATH {
            let n = tokens.fetch_add(1, Ordering::SeqCst) + 1;
            return Reply::Delay(
                token_delay,
                Box::new(Reply::json(
                    json!({"accessToken": format!("tok-{n}"), "expireIn": expire_in}),
                )),
            );
        }
        let mut answered = answered.lock().unwrap();
        let recent = answered
            .iter()
            .filter(|t| r.at.duration_since(**t) < Duration::from_secs(1))
            .count();
        if recent >= QUOTA {
            return Reply::error(
                403,
                "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                "throttled",
                "req-throttled",
            );
        }
        answered.push(r.at);
        Reply::json(json!({"formInstId": "FINST-1", "formData": {"textField_a": "x"}}))
    })
    .await
}

fn api_requests(server: &MockServer) -> Vec<Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path != TOKEN_PATH)
        .collect()
}

fn token_requests(server: &MockServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.path == TOKEN_PATH)
        .count()
}

/// The most API requests the server received within any one sliding second.
fn max_per_second(requests: &[Recorded]) -> usize {
    let mut at: Vec<Instant> = requests.iter().map(|r| r.at).collect();
    at.sort();
    (0..at.len())
        .map(|i| {
            at[i..]
                .iter()
                .take_while(|t| t.duration_since(at[i]) < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Throttling replies the server sent.
fn throttles(server: &MockServer) -> usize {
    // Every API request is answered once; count the refused ones by replaying the rule.
    let mut kept: Vec<Instant> = Vec::new();
    let mut refused = 0;
    let mut at: Vec<Instant> = api_requests(server).iter().map(|r| r.at).collect();
    at.sort();
    for t in at {
        let recent = kept
            .iter()
            .filter(|k| t.duration_since(**k) < Duration::from_secs(1))
            .count();
        if recent >= QUOTA {
            refused += 1;
        } else {
            kept.push(t);
        }
    }
    refused
}

fn redis(url: &str) -> Redis {
    Redis::builder(url)
        .prefix("hardening:")
        .retry_after(Duration::from_millis(100))
        .build()
        .unwrap()
}

async fn call(client: &Client) -> Result<(), yida_api::Error> {
    let reply = client
        .forms()
        .get_form_data_by_id(GetFormDataByIdRequest::new("FINST-1"))
        .await?;
    assert_eq!(reply.form_inst_id.as_deref(), Some("FINST-1"));
    Ok(())
}

/// Runs `tasks` tasks per client, each calling until `total` calls were started; returns
/// how many calls failed.
async fn hammer(clients: &[Client], tasks_each: usize, total: usize) -> usize {
    let sent = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for client in clients {
        for _ in 0..tasks_each {
            let (client, sent, failed) = (client.clone(), sent.clone(), failed.clone());
            tasks.push(tokio::spawn(async move {
                while sent.fetch_add(1, Ordering::SeqCst) < total {
                    if call(&client).await.is_err() {
                        failed.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    failed.load(Ordering::SeqCst)
}

/// Item 17. Four replicas share the quota and a token that lives 2 s and takes 500 ms to
/// fetch: every refresh holds all calls until the new token is in. A call that took its slot
/// before waiting for the token left together with every other waiter when it came (29 calls in
/// one second in the check); a call takes its slot when it is about to leave.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_refresh_does_not_bunch_calls_over_the_shared_quota() {
    let _heavy = HEAVY.lock().await;
    let Some(redis_server) = RedisServer::start() else {
        return;
    };
    let server = dingtalk(Duration::from_millis(500), 2).await;
    let replicas: Vec<Client> = (0..4)
        .map(|_| {
            let handle = redis(&redis_server.url());
            let cache = TokenCache::with_parts(
                Arc::new(MemoryTokenStore::default()),
                Arc::new(SystemClock),
                CacheConfig {
                    safety_margin: Duration::ZERO,
                    jitter: Duration::ZERO,
                },
            )
            .with_shared(handle.token_store());
            let app = InternalApp::new("dingkey", "app-secret-value")
                .unwrap()
                .endpoint(server.url())
                .cache(cache);
            Client::builder()
                .endpoint(server.url())
                .token_provider(app)
                .context(AppContext::new().app_type("APP_TEST").system_token("s"))
                .retry(RetryConfig::disabled())
                .rate_limiter(RedisRateLimiter::for_quota(handle, QUOTA as u32))
                .build()
                .unwrap()
        })
        .collect();
    let failed = hammer(&replicas, 8, 110).await;
    let max = max_per_second(&api_requests(&server));
    println!(
        "figure: 4 replicas, shared quota {QUOTA}/s, token fetched in 500 ms every 2 s ({} fetches), 110 calls: at most {max} calls in one sliding second at the server, {failed} throttled",
        token_requests(&server)
    );
    assert!(token_requests(&server) >= 2, "the token was refreshed");
    assert!(max <= QUOTA, "{max} calls within one second");
    assert_eq!(failed, 0);
}

/// Item 17 for the local limiters: the same ordering (slot after token) in one process, with
/// `rate_limit_per_operation` and a token fetched in 500 ms every 2 s. No Redis needed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn token_refresh_does_not_bunch_calls_over_a_local_limiter() {
    let _heavy = HEAVY.lock().await;
    let server = dingtalk(Duration::from_millis(500), 2).await;
    let cache = TokenCache::with_parts(
        Arc::new(MemoryTokenStore::default()),
        Arc::new(SystemClock),
        CacheConfig {
            safety_margin: Duration::ZERO,
            jitter: Duration::ZERO,
        },
    );
    let app = InternalApp::new("dingkey", "app-secret-value")
        .unwrap()
        .endpoint(server.url())
        .cache(cache);
    let client = Client::builder()
        .endpoint(server.url())
        .token_provider(app)
        .context(AppContext::new().app_type("APP_TEST").system_token("s"))
        .retry(RetryConfig::disabled())
        .rate_limit_per_operation(19)
        .build()
        .unwrap();
    let failed = hammer(&[client], 16, 110).await;
    let max = max_per_second(&api_requests(&server));
    println!(
        "figure: one client at 19/s, token fetched in 500 ms every 2 s ({} fetches), 110 calls: at most {max} calls in one sliding second, {failed} throttled",
        token_requests(&server)
    );
    assert!(token_requests(&server) >= 2, "the token was refreshed");
    assert!(max <= QUOTA, "{max} calls within one second");
    assert_eq!(failed, 0);
}

/// Item 18. Four replicas share the quota through Redis, which is killed for 3 s and then
/// restarted empty while they call. With the default fallback each replica paced at the full
/// rate alone (4 × 19/s at a server allowing 20) and calls failed after their attempts; the
/// fallback now starts from the shared rate divided by the replicas last seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redis_outage_costs_no_failed_call() {
    let _heavy = HEAVY.lock().await;
    let Some(mut redis_server) = RedisServer::start() else {
        return;
    };
    let server = dingtalk(Duration::ZERO, 7200).await;
    let handles: Vec<Redis> = (0..4).map(|_| redis(&redis_server.url())).collect();
    let replicas: Vec<Client> = handles
        .iter()
        .map(|h| {
            Client::builder()
                .endpoint(server.url())
                .access_token("tok-static")
                .context(AppContext::new().app_type("APP_TEST").system_token("s"))
                .rate_limiter(RedisRateLimiter::for_quota(h.clone(), QUOTA as u32))
                .build()
                .unwrap()
        })
        .collect();
    let run = tokio::spawn(async move { hammer(&replicas, 8, 160).await });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    redis_server.kill();
    let killed = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        handles.iter().all(Redis::is_down),
        "every replica saw the outage"
    );
    redis_server.restart();
    let outage = killed.elapsed();
    let failed = run.await.unwrap();
    let requests = api_requests(&server);
    let max = max_per_second(&requests);
    let refused = throttles(&server);
    println!(
        "figure: 4 replicas, Redis down {outage:?} then back empty, 160 calls: {failed} failed, {refused} throttling replies, at most {max} calls in one sliding second at the server"
    );
    assert!(handles.iter().any(|h| !h.is_down()), "sharing resumed");
    assert_eq!(failed, 0, "no call failed because of the outage");
    assert_eq!(refused, 0, "no call was throttled");
    assert!(max <= QUOTA, "{max} calls within one second");
}

/// The raw value of a Redis key.
async fn raw_get(url: &str, key: &str) -> Option<String> {
    let client = redis::Client::open(url).ok()?;
    let mut c = client.get_multiplexed_async_connection().await.ok()?;
    redis::cmd("GET").arg(key).query_async(&mut c).await.ok()?
}

/// Item 19. Replica X gets ticket B pushed during an outage; Redis comes back empty and
/// replica Y, which only knows the older A, writes A back first; X's calls take their corp
/// token from the shared cache, so X never reads the ticket. B must still reach Redis: every
/// replica offers its newest ticket when sharing resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_ticket_survives_redis_restarting_empty() {
    use yida_auth::{SuiteTicket, SuiteTicketStore};
    let Some(mut redis_server) = RedisServer::start() else {
        return;
    };
    let url = redis_server.url();
    let key = "hardening:suite-ticket:suite-1";
    // Whole seconds, as stored (milliseconds).
    let base = std::time::UNIX_EPOCH
        + Duration::from_secs(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                - 3600,
        );
    let at = move |s| base + Duration::from_secs(s);
    let x = redis(&url).ticket_store("suite-1");
    let y = redis(&url).ticket_store("suite-1");
    assert!(x
        .offer(SuiteTicket::new("ticket-A", at(1_000)))
        .await
        .unwrap());
    assert_eq!(
        y.latest().await.unwrap().unwrap().value().expose(),
        "ticket-A"
    );
    redis_server.kill();
    // DingTalk pushes B to X during the outage: X keeps it.
    assert!(x
        .offer(SuiteTicket::new("ticket-B", at(2_000)))
        .await
        .unwrap());
    redis_server.restart();
    let restarted = Instant::now();
    // Y reads first: Redis is empty, Y writes its A back (bounded: Y reconnects after its
    // retry_after).
    let deadline = Instant::now() + Duration::from_secs(5);
    while raw_get(&url, key).await.is_none() {
        assert!(Instant::now() < deadline, "Y never wrote its ticket back");
        let _ = y.latest().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // X does nothing with tickets; within a bounded time Redis holds B.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let stored = raw_get(&url, key).await.unwrap_or_default();
        if stored.ends_with("\nticket-B") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "after 5 s Redis still holds the older ticket (ends with {:?})",
            stored.rsplit('\n').next()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "figure: Redis restarted empty holds the newer ticket {:?} after it came back",
        restarted.elapsed()
    );
    // Y reads B (once its own connection is back: until then it answers its local copy).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let t = y.latest().await.unwrap().unwrap();
        if t.value().expose() == "ticket-B" {
            assert_eq!(t.pushed_at(), at(2_000));
            break;
        }
        assert!(Instant::now() < deadline, "Y never read the newer ticket");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every string value under the prefix: key → value.
async fn dump(url: &str) -> Vec<(String, String)> {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("hardening:*")
        .query_async(&mut c)
        .await
        .unwrap();
    let mut out = Vec::new();
    for k in keys {
        let kind: String = redis::cmd("TYPE")
            .arg(&k)
            .query_async(&mut c)
            .await
            .unwrap();
        if kind == "string" {
            let v: String = redis::cmd("GET").arg(&k).query_async(&mut c).await.unwrap();
            out.push((k, v));
        }
    }
    out
}

async fn pttl(url: &str, key: &str) -> i64 {
    let client = redis::Client::open(url).unwrap();
    let mut c = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("PTTL")
        .arg(key)
        .query_async(&mut c)
        .await
        .unwrap()
}

/// Item 20. With an encryption key, no token or ticket is readable in Redis, replicas with the
/// key share them as before, a replica with another key (or none) treats them as missing; the
/// ticket key expires 12 hours after the push. Without a key (the control), both are there in
/// clear, as the docs now say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_encryption_key_nothing_readable_is_in_redis() {
    use yida_auth::{SuiteTicket, SuiteTicketStore, TokenProvider};
    let Some(redis_server) = RedisServer::start() else {
        return;
    };
    let url = redis_server.url();
    let server = dingtalk(Duration::ZERO, 7200).await;
    let key = [0x5au8; 32];
    let sealed = |k: &[u8]| {
        Redis::builder(&url)
            .prefix("hardening:")
            .encryption_key(k)
            .build()
            .unwrap()
    };
    let app = |handle: &Redis| {
        InternalApp::new("dingkey", "app-secret-value")
            .unwrap()
            .endpoint(server.url())
            .cache(TokenCache::new().with_shared(handle.token_store()))
    };
    let pushed = std::time::SystemTime::now() - Duration::from_secs(3600);
    // Control: no key.
    let clear = redis(&url);
    assert_eq!(
        app(&clear).token().await.unwrap().secret().expose(),
        "tok-1"
    );
    clear
        .ticket_store("suite-clear")
        .offer(SuiteTicket::new("ticket-in-clear", pushed))
        .await
        .unwrap();
    let values = dump(&url).await;
    let readable = values
        .iter()
        .filter(|(_, v)| v.contains("tok-1") || v.contains("ticket-in-clear"))
        .count();
    println!("figure: without a key, {readable} values hold a token or ticket in clear");
    assert_eq!(readable, 2);
    let ttl = pttl(&url, "hardening:suite-ticket:suite-clear").await;
    assert!((39_000_000..=39_600_000).contains(&ttl), "{ttl}");

    // With a key: two replicas share one token and one ticket, and nothing is readable.
    let (a, b) = (sealed(&key), sealed(&key));
    assert!(a.is_encrypted());
    let _ = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
        .send_packed_command(&redis::cmd("FLUSHALL"))
        .await
        .unwrap();
    assert_eq!(app(&a).token().await.unwrap().secret().expose(), "tok-2");
    assert_eq!(app(&b).token().await.unwrap().secret().expose(), "tok-2");
    assert_eq!(
        token_requests(&server),
        2,
        "the second replica read the sealed token"
    );
    assert!(a
        .ticket_store("suite-1")
        .offer(SuiteTicket::new("ticket-secret-1", pushed))
        .await
        .unwrap());
    let t = b.ticket_store("suite-1").latest().await.unwrap().unwrap();
    assert_eq!(t.value().expose(), "ticket-secret-1");
    let values = dump(&url).await;
    assert!(values.len() >= 2, "{values:?}");
    for (k, v) in &values {
        for secret in ["tok-2", "ticket-secret-1", "app-secret-value"] {
            assert!(!v.contains(secret), "{secret} readable under {k}: {v}");
        }
        if k.contains(":token:") || k.contains(":suite-ticket:") {
            assert!(v.contains("\nenc1:"), "{k} is not sealed: {v}");
        }
    }
    println!(
        "figure: with a key, 0 of {} values hold a token or ticket in clear",
        values.len()
    );
    // Another key, or none: the sealed values count as missing (own fetch, no ticket).
    let other = sealed(&[0x11u8; 32]);
    assert_eq!(
        app(&other).token().await.unwrap().secret().expose(),
        "tok-3"
    );
    assert!(redis(&url)
        .ticket_store("suite-1")
        .latest()
        .await
        .unwrap()
        .is_none());
    // A key of the wrong length is refused, naming the setting; Debug shows no key.
    let e = Redis::builder(&url)
        .encryption_key([1u8; 16])
        .build()
        .unwrap_err();
    assert!(e.to_string().starts_with("encryption_key:"), "{e}");
    let text = format!(
        "{:?} {:?}",
        Redis::builder(&url).encryption_key(key),
        a.ticket_store("suite-1")
    );
    assert!(!text.contains("90, 90"), "{text}");
}
