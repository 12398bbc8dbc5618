//! Replay protection shared through a REAL `redis-server`: two replicas (two HttpEndpoints,
//! each behind its own HTTP server on loopback) and a restart.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::Router;
use sha1::{Digest, Sha1};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use yida_e2e::RedisServer;
use yida_events::{CallbackCrypto, HttpEndpoint};
use yida_redis::{Redis, RedisReplayStore};

const TOKEN: &str = "cb-token-7";
const AES: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const OWNER: &str = "suite-key-1";
// yida-events/tests/gen_vectors.py (Python `cryptography`): a bpms_instance_change push.
const BPMS: &str = "Q3stYC6hdFzMh9T8HCvyDJgV/qVPEZpYAFYvffeA+/f2SWNUNZBMKbnm/dBj0yoNJ3kQdxWi1gWl8yn1OnqiXWO9iySEGdnXvVSOGiJlNvN9Yl6rS81y+f7PJrCiEmJqFwlFahVZAQz5r64P0JXej5UIXRSCGpEBLo9UI9rKO3BMUScX6lLSj76unzu1j74D8e4mQftBeP19UPdI1P95b4hGhUEdaYNdkIxXiviSF3RkTdZTtpBCO5eZAVQbbXN2Ianbpg+kju0UDWAoTU5HP3c3NV0pS5pLfjcHjr2dswBwEFY3Wnv8fJ8ugvamZEtvgeT4HEJJZHAlGFlrBSDWSQ==";

async fn callback(
    State(endpoint): State<HttpEndpoint>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> (StatusCode, String) {
    let (resp, _) = endpoint
        .respond(q.as_deref().unwrap_or(""), &body, |_e| async {
            Ok::<(), std::convert::Infallible>(())
        })
        .await;
    (StatusCode::from_u16(resp.status).unwrap(), resp.body)
}

/// A replica: its own endpoint (own memory), the shared Redis, its own HTTP server.
async fn replica(redis: &Redis) -> (String, tokio::task::JoinHandle<()>) {
    let window = Duration::from_secs(60);
    let crypto = CallbackCrypto::new(TOKEN, AES, OWNER)
        .unwrap()
        .max_age(Some(window));
    let endpoint =
        HttpEndpoint::new(crypto).replay_store(RedisReplayStore::new(redis, OWNER, window));
    let app = Router::new().fallback(callback).with_state(endpoint);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, task)
}

fn signed(ts: u64, nonce: &str) -> String {
    let ts = ts.to_string();
    let mut v = [TOKEN, ts.as_str(), nonce, BPMS];
    v.sort();
    let sig: String = Sha1::digest(v.concat().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("/cb?signature={sig}&timestamp={ts}&nonce={nonce}")
}

async fn push(url: &str, path: &str) -> u16 {
    yida_auth::ensure_tls_provider();
    reqwest::Client::new()
        .post(format!("{url}{path}"))
        .body(serde_json::json!({ "encrypt": BPMS }).to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_is_refused_by_another_replica_and_after_a_restart() {
    let Some(server) = RedisServer::start() else {
        return; // skipped (line printed): no redis-server and CI not set
    };
    let redis = Redis::builder(server.url()).build().unwrap();
    let (a, task_a) = replica(&redis).await;
    let (b, _task_b) = replica(&redis).await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let p = signed(now, "n-1");
    assert_eq!(push(&a, &p).await, 200);
    // Replayed to the other replica.
    assert_eq!(push(&b, &p).await, 403);
    // Replica A restarts (memory gone): Redis still knows.
    task_a.abort();
    let (a2, _task_a2) = replica(&redis).await;
    assert_eq!(push(&a2, &p).await, 403);
    // Another push is fine, and the key expires with the window.
    assert_eq!(push(&a2, &signed(now, "n-2")).await, 200);
    let mut c = redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("yida:replay:*")
        .query_async(&mut c)
        .await
        .unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&keys[0])
        .query_async(&mut c)
        .await
        .unwrap();
    assert!(ttl > 0 && ttl <= 60_000, "{ttl}");
}
