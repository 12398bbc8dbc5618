//! The call ledger in Redis (issue 22 item 1): four replicas, each with its own connection and
//! client, share one count and one budget through a REAL `redis-server` (skipped without
//! one, unless `CI` is set: `yida_e2e::programs`).

use serde_json::json;
use std::sync::Arc;
use yida_api::ledger::{CallBudget, Ledger, LedgerStore, Month};
use yida_api::{AppContext, Client, Error, GetFormDataByIdRequest};
use yida_e2e::{MockServer, RedisServer, Reply};
use yida_redis::{Redis, RedisLedger};

const TOKEN_PATH: &str = "/v1.0/oauth2/accessToken";

fn replica(server: &MockServer, url: &str, budget: Option<u64>) -> (Client, Arc<RedisLedger>) {
    // A generous time limit: 500 calls start at once on a shared 2-core machine.
    let redis = Redis::builder(url)
        .prefix("ledger-test:")
        .op_timeout(std::time::Duration::from_secs(2))
        .build()
        .unwrap();
    let store = Arc::new(RedisLedger::new(&redis));
    let mut ledger = Ledger::from_arc(store.clone());
    if let Some(b) = budget {
        ledger = ledger.budget("dingcorp", CallBudget::monthly(b));
    }
    let client = Client::builder()
        .endpoint(server.url())
        .internal_app("dingkey", "app-secret-value")
        .unwrap()
        .context(
            AppContext::new()
                .app_type("APP_TEST")
                .system_token("sys")
                .user_id("u"),
        )
        .ledger(ledger, "dingcorp")
        .build()
        .unwrap();
    (client, store)
}

async fn server() -> MockServer {
    MockServer::start(|r, _| {
        if r.path == TOKEN_PATH {
            return Reply::json(json!({"accessToken": "tok", "expireIn": 7200}));
        }
        Reply::json(json!({"formInstId": "FINST-1"}))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_replicas_count_in_one_redis_ledger_and_share_one_budget() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_max_level(tracing::Level::WARN)
        .try_init();
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = server().await;
    let replicas: Vec<_> = (0..4)
        .map(|_| replica(&server, &redis.url(), None))
        .collect();
    let calls: Vec<_> = (0..500)
        .map(|i| {
            let c = replicas[i % 4].0.clone();
            tokio::spawn(async move { c.send(GetFormDataByIdRequest::new(format!("F-{i}"))).await })
        })
        .collect();
    for h in calls {
        h.await.unwrap().unwrap();
    }
    let usage = replicas[0].1.usage(Month::now()).await.unwrap();
    let org = &usage.orgs["dingcorp"];
    let tokens = server
        .requests()
        .iter()
        .filter(|r| r.path == TOKEN_PATH)
        .count() as u64;
    let api = server.count() as u64 - tokens;
    eprintln!("server: {api} calls, {tokens} token fetches; ledger: {org:?}");
    assert_eq!((org.calls, org.token_fetches), (api, tokens));
    assert_eq!(org.by_app["APP_TEST"]["GetFormDataByID@1.0"], 500);

    // A budget of 600 for the month: 100 are left, whichever replica asks.
    let budgeted: Vec<_> = (0..4)
        .map(|_| replica(&server, &redis.url(), Some(600)))
        .collect();
    let calls: Vec<_> = (0..200)
        .map(|i| {
            let c = budgeted[i % 4].0.clone();
            tokio::spawn(async move { c.send(GetFormDataByIdRequest::new(format!("G-{i}"))).await })
        })
        .collect();
    let mut refused = 0;
    for h in calls {
        match h.await.unwrap() {
            Ok(_) => {}
            Err(Error::BudgetExhausted { .. }) => refused += 1,
            Err(e) => panic!("{e}"),
        }
    }
    let api_after = server
        .requests()
        .iter()
        .filter(|r| r.path != TOKEN_PATH)
        .count();
    assert_eq!(refused, 100);
    assert_eq!(
        api_after, 600,
        "the replicas together stopped at the budget"
    );
}
