//! Several replicas of one app sharing tokens, suite tickets and the quota through a REAL
//! `redis-server` (started by the tests on a free loopback port), calling a local HTTP server
//! that records every request. Without `redis-server` (or `openssl` for the TLS test) each test
//! prints `skipped: …` and passes, unless `CI` is set (`yida_e2e::programs`).

use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yida_api::{AppContext, Client, GetFormDataByIdRequest, RetryConfig};
use yida_auth::{
    CacheConfig, InternalApp, ManualClock, MemoryTokenStore, SharedTokenStore, SuiteTicket,
    SuiteTicketStore, ThirdPartyApp, TokenCache, TokenProvider,
};
use yida_e2e::{MockServer, Recorded, RedisServer, Reply};
use yida_redis::{Redis, RedisRateLimiter};

const TOKEN_PATH: &str = "/v1.0/oauth2/accessToken";
const QUOTA: usize = 20;

/// A DingTalk stand-in: the token endpoint hands out `tok-1`, `tok-2`… (after 50 ms, to widen
/// any race), the API answers a form instance, and throttles (403 `QpsLimitForAppkeyAndApi`)
/// a call when it has already answered `QUOTA` calls in the last second.
async fn dingtalk() -> MockServer {
    let tokens = AtomicUsize::new(0);
    let answered: Mutex<Vec<Instant>> = Mutex::new(Vec::new());
    MockServer::start(move |r, _| {
        if r.path == TOKEN_PATH {
            let n = tokens.fetch_add(1, Ordering::SeqCst) + 1;
            return Reply::Delay(
                Duration::from_millis(50),
                Box::new(Reply::json(
                    json!({"accessToken": format!("tok-{n}"), "expireIn": 7200}),
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

fn token_requests(server: &MockServer) -> Vec<Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path == TOKEN_PATH)
        .collect()
}

fn api_requests(server: &MockServer) -> Vec<Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.path != TOKEN_PATH)
        .collect()
}

/// The most requests the server received within any one second.
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

/// Tests that measure timing or load the machine take this, so that they do not run at once.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_max_level(tracing::Level::INFO)
        .try_init();
}

fn redis(url: &str) -> Redis {
    Redis::builder(url)
        .prefix("test-app:")
        .retry_after(Duration::from_millis(100))
        .build()
        .unwrap()
}

/// One replica: its own Redis connection, its own token cache (sharing through Redis), its
/// own HTTP client.
fn replica(server: &MockServer, redis: &Redis, clock: &ManualClock) -> Client {
    replica_builder(server, redis, clock).build().unwrap()
}

fn replica_builder(
    server: &MockServer,
    redis: &Redis,
    clock: &ManualClock,
) -> yida_api::ClientBuilder {
    let cache = TokenCache::with_parts(
        Arc::new(MemoryTokenStore::default()),
        Arc::new(clock.clone()),
        CacheConfig::default(),
    )
    .with_shared(redis.token_store());
    let app = InternalApp::new("dingkey", "app-secret-value")
        .unwrap()
        .endpoint(server.url())
        .cache(cache);
    Client::builder()
        .endpoint(server.url())
        .token_provider(app)
        .context(
            AppContext::new()
                .app_type("APP_TEST")
                .system_token("sys-token"),
        )
        .retry(RetryConfig::disabled())
}

async fn call(client: &Client) -> Result<(), yida_api::Error> {
    let reply = client
        .forms()
        .get_form_data_by_id(GetFormDataByIdRequest::new("FINST-1"))
        .await?;
    assert_eq!(reply.form_inst_id.as_deref(), Some("FINST-1"));
    Ok(())
}

/// `per_replica` concurrent calls on each replica; returns how many failed.
async fn burst(clients: &[Client], per_replica: usize) -> usize {
    let mut tasks = Vec::new();
    for c in clients {
        for _ in 0..per_replica {
            let c = c.clone();
            tasks.push(tokio::spawn(async move { call(&c).await }));
        }
    }
    let mut failed = 0;
    for t in tasks {
        if t.await.unwrap().is_err() {
            failed += 1;
        }
    }
    failed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_cold_replicas_fetch_one_token() {
    logs();
    let _heavy = HEAVY.lock().await;
    let Some(redis_server) = RedisServer::start() else {
        return;
    };
    let server = dingtalk().await;
    let clock = ManualClock::new();
    // 1,600 tasks on one runtime slow every Redis answer down: this test is about the single
    // flight, not the fallback, so give Redis time to answer.
    let replicas: Vec<Client> = (0..8)
        .map(|_| {
            let handle = Redis::builder(redis_server.url())
                .prefix("test-app:")
                .op_timeout(Duration::from_secs(2))
                .build()
                .unwrap();
            replica(&server, &handle, &clock)
        })
        .collect();
    // The quota of the stand-in is not the subject here: calls are spread out by replica.
    let mut tasks = Vec::new();
    for c in &replicas {
        for _ in 0..200 {
            let c = c.clone();
            tasks.push(tokio::spawn(async move {
                // Only the token matters: count the API calls, whatever the stand-in says.
                let _ = call(&c).await;
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let tokens = token_requests(&server);
    let api = api_requests(&server);
    println!(
        "figure: 8 replicas x 200 concurrent calls on a cold cache -> {} token request(s), {} API requests",
        tokens.len(),
        api.len()
    );
    assert_eq!(tokens.len(), 1, "one token fetch for all replicas");
    assert_eq!(api.len(), 1600);
    assert!(api
        .iter()
        .all(|r| r.header("x-acs-dingtalk-access-token") == Some("tok-1")));
    // The token is in Redis under the prefix, with the token's life as its time to live.
    let probe = redis(&redis_server.url()).token_store();
    let stored = probe
        .load("internal:dingkey")
        .await
        .expect("stored in Redis");
    assert_eq!(stored.secret().expose(), "tok-1");
    let mut raw = redis::Client::open(redis_server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg("test-app:token:internal:dingkey")
        .query_async(&mut raw)
        .await
        .unwrap();
    // expireIn was 7200 s: the key lives that long, not forever.
    assert!((7_000_000..=7_200_000).contains(&ttl), "{ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_fetcher_blocks_the_others_no_longer_than_its_lease() {
    let Some(redis_server) = RedisServer::start() else {
        return;
    };
    let server = dingtalk().await;
    // A replica took the lock and died: its lock stays until the lease runs out.
    let crashed = redis(&redis_server.url())
        .token_store()
        .lease(Duration::from_millis(400));
    let lock = crashed
        .try_lock("internal:dingkey", Duration::from_millis(400))
        .await;
    assert!(matches!(lock, yida_auth::LockAttempt::Acquired(_)));
    let started = Instant::now();
    let clock = ManualClock::new();
    let c = replica(&server, &redis(&redis_server.url()), &clock);
    call(&c).await.unwrap();
    let waited = started.elapsed();
    assert_eq!(token_requests(&server).len(), 1);
    // It waited for the lease (not fetching at once), and not for long.
    assert!(waited >= Duration::from_millis(300), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_replaced_for_every_replica() {
    let Some(redis_server) = RedisServer::start() else {
        return;
    };
    let server = MockServer::start({
        let tokens = AtomicUsize::new(0);
        move |r, _| {
            if r.path == TOKEN_PATH {
                let n = tokens.fetch_add(1, Ordering::SeqCst) + 1;
                return Reply::json(json!({"accessToken": format!("tok-{n}"), "expireIn": 7200}));
            }
            // DingTalk revoked tok-1.
            if r.header("x-acs-dingtalk-access-token") == Some("tok-1") {
                return Reply::error(400, "InvalidAuthentication", "bad token", "req-1");
            }
            Reply::json(json!({"formInstId": "FINST-1"}))
        }
    })
    .await;
    let clock = ManualClock::new();
    let a = replica(&server, &redis(&redis_server.url()), &clock);
    let b = replica(&server, &redis(&redis_server.url()), &clock);
    // A gets tok-1 (shared), is refused, renews: tok-2 replaces tok-1 in Redis.
    call(&a).await.unwrap();
    assert_eq!(token_requests(&server).len(), 2);
    // B has nothing locally: it reads tok-2 from Redis, no fetch of its own.
    call(&b).await.unwrap();
    assert_eq!(token_requests(&server).len(), 2);
    let last = api_requests(&server).pop().unwrap();
    assert_eq!(last.header("x-acs-dingtalk-access-token"), Some("tok-2"));
}

/// Four replicas, each a client paced by its own limiter, hammer one operation with 8 tasks
/// each until `total` calls have been made; returns the most calls the server saw in one
/// second and the number of calls that failed (throttled).
async fn hammer(
    server: &MockServer,
    limiters: Vec<RedisRateLimiter>,
    total: usize,
) -> (usize, usize) {
    let sent = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for limiter in limiters {
        let client = Client::builder()
            .endpoint(server.url())
            .access_token("tok-static")
            .context(AppContext::new().app_type("APP_TEST").system_token("s"))
            .retry(RetryConfig::disabled())
            .rate_limiter(limiter)
            .build()
            .unwrap();
        for _ in 0..8 {
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
    let throttled = failed.load(Ordering::SeqCst);
    (max_per_second(&api_requests(server)), throttled)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_replicas_share_one_quota() {
    logs();
    let _heavy = HEAVY.lock().await;
    let Some(redis_server) = RedisServer::start() else {
        return;
    };
    let server = dingtalk().await;
    let limiters = (0..4)
        .map(|_| RedisRateLimiter::for_quota(redis(&redis_server.url()), QUOTA as u32))
        .collect();
    let started = Instant::now();
    let (max, throttled) = hammer(&server, limiters, 60).await;
    let elapsed = started.elapsed();
    println!(
        "figure: 4 replicas, shared quota {QUOTA}/s, 60 calls in {elapsed:?}: at most {max} calls in any second at the server, {throttled} throttled"
    );
    assert_eq!(api_requests(&server).len(), 60);
    assert!(max <= QUOTA, "{max} calls within one second");
    assert_eq!(throttled, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_redis_each_replica_paces_alone_and_together_they_exceed_the_quota() {
    let _heavy = HEAVY.lock().await;
    // The control of the test above: the same four replicas with Redis unreachable (nothing
    // listens on that port) fall back to local pacing at 19/s each.
    let unreachable = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("redis://127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let server = dingtalk().await;
    let limiters = (0..4)
        .map(|_| RedisRateLimiter::for_quota(redis(&unreachable), QUOTA as u32))
        .collect();
    let (max, throttled) = hammer(&server, limiters, 60).await;
    println!("figure: control without Redis: {max} calls in one second, {throttled} throttled");
    assert!(max > QUOTA, "{max}");
    assert!(throttled > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_killed_mid_run_then_restarted() {
    let Some(mut redis_server) = RedisServer::start() else {
        return;
    };
    let server = MockServer::start({
        let tokens = AtomicUsize::new(0);
        move |r, _| {
            if r.path == TOKEN_PATH {
                let n = tokens.fetch_add(1, Ordering::SeqCst) + 1;
                return Reply::Delay(
                    Duration::from_millis(30),
                    Box::new(Reply::json(
                        json!({"accessToken": format!("tok-{n}"), "expireIn": 7200}),
                    )),
                );
            }
            Reply::Delay(
                Duration::from_millis(20),
                Box::new(Reply::json(json!({"formInstId": "FINST-1"}))),
            )
        }
    })
    .await;
    let clock = ManualClock::new();
    let handles: Vec<Redis> = (0..2).map(|_| redis(&redis_server.url())).collect();
    // Tokens and quota through Redis (a quota high enough not to slow the test down).
    let replicas: Vec<Client> = handles
        .iter()
        .map(|h| {
            replica_builder(&server, h, &clock)
                .rate_limiter(h.rate_limiter(2000.0))
                .build()
                .unwrap()
        })
        .collect();

    // Shared: one token for both.
    assert_eq!(burst(&replicas, 50).await, 0);
    assert_eq!(token_requests(&server).len(), 1);

    // Kill Redis while calls are in flight, and make the tokens due so that both replicas
    // must get a new one with Redis gone.
    clock.advance(Duration::from_secs(7200));
    let in_flight = {
        let replicas = replicas.clone();
        tokio::spawn(async move { burst(&replicas, 100).await })
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    redis_server.kill();
    let mut failed = in_flight.await.unwrap();
    failed += burst(&replicas, 100).await;
    let during = token_requests(&server).len() - 1;
    println!(
        "figure: Redis killed mid-run: {failed} of 400 calls failed; {during} token request(s) during the outage"
    );
    assert_eq!(failed, 0, "no call fails because Redis is down");
    assert!(
        (1..=2).contains(&during),
        "each replica fetched locally: {during}"
    );
    assert!(handles.iter().any(Redis::is_down));

    // Redis returns (empty): once each replica sees it again, they share again.
    redis_server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    for h in &handles {
        while !h.ping().await {
            assert!(Instant::now() < deadline, "Redis did not come back");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    clock.advance(Duration::from_secs(7200));
    let before = token_requests(&server).len();
    assert_eq!(burst(&replicas, 100).await, 0);
    let after = token_requests(&server).len() - before;
    println!("figure: after Redis restarted: {after} token request(s) for both replicas");
    assert_eq!(after, 1, "sharing resumed");
    // The quota is shared again too: its slot timeline is back in Redis.
    let mut raw = redis::Client::open(redis_server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let slots: i64 = redis::cmd("EXISTS")
        .arg("test-app:quota:APP_TEST/GetFormDataByID@1.0")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(slots, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_redis_costs_a_bounded_wait_not_a_failure() {
    let Some(redis_server) = RedisServer::start() else {
        return;
    };
    let server = dingtalk().await;
    let clock = ManualClock::new();
    let handle = redis(&redis_server.url());
    let c = replica(&server, &handle, &clock);
    call(&c).await.unwrap();
    // SIGSTOP: connections stay open, nothing answers.
    redis_server.signal("STOP");
    clock.advance(Duration::from_secs(7200));
    let started = Instant::now();
    call(&c).await.unwrap();
    let took = started.elapsed();
    redis_server.signal("CONT");
    assert_eq!(token_requests(&server).len(), 2);
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(handle.is_down());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_newest_push_wins_across_replicas() {
    let Some(redis_server) = RedisServer::start() else {
        return;
    };
    let a = redis(&redis_server.url()).ticket_store("suite-1");
    let b = redis(&redis_server.url()).ticket_store("suite-1");
    // Push times within the tickets' life in Redis (12 hours after the push).
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
    assert!(a.latest().await.unwrap().is_none());
    assert!(a
        .offer(SuiteTicket::new("ticket-20", at(20)))
        .await
        .unwrap());
    // A redelivered older push, to the other replica: ignored.
    assert!(!b
        .offer(SuiteTicket::new("ticket-10", at(10)))
        .await
        .unwrap());
    let t = b.latest().await.unwrap().unwrap();
    assert_eq!((t.value().expose(), t.pushed_at()), ("ticket-20", at(20)));
    // Many replicas offering at once: the newest stays.
    let stores: Vec<_> = (0..4)
        .map(|_| redis(&redis_server.url()).ticket_store("suite-1"))
        .collect();
    let mut tasks = Vec::new();
    for i in 0..40u64 {
        let s = stores[i as usize % 4].clone();
        // Times out of order: 7, 14, … modulo 97, plus 100.
        let secs = 100 + (i * 7) % 97;
        tasks.push(tokio::spawn(async move {
            s.offer(SuiteTicket::new(format!("ticket-{secs}"), at(secs)))
                .await
                .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let newest = 100 + (0..40u64).map(|i| (i * 7) % 97).max().unwrap();
    let t = a.latest().await.unwrap().unwrap();
    assert_eq!(t.value().expose(), format!("ticket-{newest}"));
    assert_eq!(t.pushed_at(), at(newest));
    // Another suite's ticket is another key.
    assert!(redis(&redis_server.url())
        .ticket_store("suite-2")
        .latest()
        .await
        .unwrap()
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_is_required_and_a_wrong_password_means_local_behaviour() {
    let Some(redis_server) = RedisServer::start_with(Some("redis-pass-123")) else {
        return;
    };
    let server = dingtalk().await;
    let clock = ManualClock::new();
    let good = redis(&redis_server.url());
    assert!(good.ping().await);
    let wrong = redis(&redis_server.url().replace("redis-pass-123", "nope-456"));
    assert!(!wrong.ping().await);
    for h in [&good, &wrong] {
        let text = format!("{h:?} {:?}", h.token_store());
        assert!(
            !text.contains("redis-pass-123") && !text.contains("nope-456"),
            "{text}"
        );
    }
    // The replica with the wrong password still serves calls (its own token).
    let a = replica(&server, &good, &clock);
    let b = replica(&server, &wrong, &clock);
    call(&a).await.unwrap();
    call(&b).await.unwrap();
    assert_eq!(token_requests(&server).len(), 2);
    let shared = good
        .token_store()
        .load("internal:dingkey")
        .await
        .expect("the authenticated replica shared its token");
    assert_eq!(shared.secret().expose(), "tok-1");
}

#[tokio::test]
async fn debug_output_hides_tokens() {
    let Some(redis_server) = RedisServer::start() else {
        return;
    };
    let server = dingtalk().await;
    let clock = ManualClock::new();
    let handle = redis(&redis_server.url());
    let cache = TokenCache::with_parts(
        Arc::new(MemoryTokenStore::default()),
        Arc::new(clock.clone()),
        CacheConfig::default(),
    )
    .with_shared(handle.token_store());
    let app = InternalApp::new("dingkey", "app-secret-value")
        .unwrap()
        .endpoint(server.url())
        .cache(cache.clone());
    let token = app.token().await.unwrap();
    assert_eq!(token.secret().expose(), "tok-1");
    let text = format!("{app:?} {cache:?} {handle:?}");
    assert!(
        !text.contains("tok-1") && !text.contains("app-secret-value"),
        "{text}"
    );
}

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

// One thread: the subscriber set for this thread sees every task, Redis's included.
#[tokio::test(flavor = "current_thread")]
async fn logs_of_an_outage_warn_once_and_carry_no_secret() {
    let out = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(out.clone())
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let Some(mut redis_server) = RedisServer::start_with(Some("redis-pass-123")) else {
        return;
    };
    let server = dingtalk().await;
    let clock = ManualClock::new();
    let handle = redis(&redis_server.url());
    let c = replica(&server, &handle, &clock);
    call(&c).await.unwrap();
    let tickets = handle.ticket_store("suite-1");
    assert!(tickets
        .offer(SuiteTicket::new(
            "ticket-value-1",
            std::time::SystemTime::now()
        ))
        .await
        .unwrap());
    redis_server.kill();
    for _ in 0..3 {
        clock.advance(Duration::from_secs(7200));
        call(&c).await.unwrap();
        assert_eq!(
            tickets.latest().await.unwrap().unwrap().value().expose(),
            "ticket-value-1"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    redis_server.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !handle.ping().await {
        assert!(Instant::now() < deadline, "Redis did not come back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Redis came back empty: the replica writes its ticket back, the others read it again.
    assert!(tickets.latest().await.unwrap().is_some());
    let other = redis(&redis_server.url()).ticket_store("suite-1");
    assert_eq!(
        other.latest().await.unwrap().unwrap().value().expose(),
        "ticket-value-1"
    );
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text.matches("Redis unavailable").count(),
        1,
        "one warning per interval: {text}"
    );
    assert!(text.contains("sharing resumes"), "{text}");
    for secret in [
        "tok-1",
        "tok-2",
        "redis-pass-123",
        "app-secret-value",
        "ticket-value-1",
    ] {
        assert!(!text.contains(secret), "{secret} in the logs: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca() {
    let Some((redis_server, ca)) = RedisServer::start_tls() else {
        return;
    };
    let url = redis_server.url();
    assert!(url.starts_with("rediss://"));
    let server = dingtalk().await;
    let clock = ManualClock::new();
    let tls = |url: &str| {
        Redis::builder(url)
            .prefix("test-app:")
            .tls_root_cert(ca.clone())
            .op_timeout(Duration::from_secs(2))
            .build()
            .unwrap()
    };
    let (a, b) = (tls(&url), tls(&url));
    assert!(a.ping().await);
    call(&replica(&server, &a, &clock)).await.unwrap();
    call(&replica(&server, &b, &clock)).await.unwrap();
    assert_eq!(token_requests(&server).len(), 1, "shared over TLS");
    // Not trusting the CA, or not speaking TLS: no connection, and calls still served.
    let untrusted = redis(&url);
    assert!(!untrusted.ping().await);
    let plain = redis(&url.replace("rediss://", "redis://"));
    assert!(!plain.ping().await);
    call(&replica(&server, &plain, &clock)).await.unwrap();
    assert_eq!(token_requests(&server).len(), 2);
    // The setting needs a TLS URL.
    let e = Redis::builder("redis://127.0.0.1:1")
        .tls_root_cert(ca.clone())
        .build()
        .unwrap_err();
    assert!(e.to_string().starts_with("tls_root_cert:"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttle_seen_by_one_replica_holds_back_all() {
    let Some(redis_server) = RedisServer::start() else {
        return;
    };
    let a = RedisRateLimiter::for_quota(redis(&redis_server.url()), 20);
    let b = RedisRateLimiter::for_quota(redis(&redis_server.url()), 20);
    let key = "APP_TEST/SearchFormDatas@2.0";
    a.acquire_key(key).await;
    a.throttled(key, Some(Duration::from_secs(2))).await;
    // Another API's slots are not held back.
    let started = Instant::now();
    b.acquire_key("APP_TEST/SaveFormData@2.0").await;
    assert!(started.elapsed() < Duration::from_secs(1));
    b.acquire_key(key).await;
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(1500), "{waited:?}");
    assert!(waited < Duration::from_secs(10), "{waited:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_pushed_to_one_replica_is_used_by_another() {
    let Some(redis_server) = RedisServer::start() else {
        return;
    };
    let server = MockServer::start(|r, _| {
        if r.path == "/v1.0/oauth2/corpAccessToken" {
            return Reply::json(json!({"accessToken": "corp-tok-1", "expireIn": 7200}));
        }
        Reply::json(json!({"formInstId": "FINST-1"}))
    })
    .await;
    let isv = |handle: &Redis| {
        ThirdPartyApp::new(
            "suitekey",
            "suite-secret-value",
            handle.ticket_store("suitekey"),
        )
        .unwrap()
        .endpoint(server.url())
        .cache(TokenCache::new().with_shared(handle.token_store()))
    };
    let (a, b) = (redis(&redis_server.url()), redis(&redis_server.url()));
    // DingTalk pushed the ticket to replica A (its event receiver offers it)...
    let pushed = SuiteTicket::new("ticket-from-push", std::time::SystemTime::now());
    assert!(a.ticket_store("suitekey").offer(pushed).await.unwrap());
    // ...and replica B, which never saw the push, gets a company's token with it.
    let token = isv(&b)
        .for_corp("ding-corp-acme")
        .unwrap()
        .token()
        .await
        .unwrap();
    assert_eq!(token.secret().expose(), "corp-tok-1");
    let fetch = &server.requests()[0];
    assert_eq!(fetch.path, "/v1.0/oauth2/corpAccessToken");
    let body = fetch.json();
    assert_eq!(body["suiteTicket"], "ticket-from-push");
    assert_eq!(body["authCorpId"], "ding-corp-acme");
    // Replica A then reads that company's token from Redis: still one fetch.
    let token = isv(&a)
        .for_corp("ding-corp-acme")
        .unwrap()
        .token()
        .await
        .unwrap();
    assert_eq!(token.secret().expose(), "corp-tok-1");
    assert_eq!(server.count(), 1);
}
