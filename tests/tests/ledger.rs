//! The call ledger over HTTP (issue 22 items 1 and 7): it counts exactly what the server
//! receives, token fetches apart, and a refusing budget sends nothing.

use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use yida_api::ledger::{CallBudget, FileLedger, Ledger, LedgerStore, MemoryLedger, Month};
use yida_api::{AppContext, Client, Error, GetFormDataByIdRequest, RetryConfig};
use yida_e2e::{MockServer, Reply};

const TOKEN_PATH: &str = "/v1.0/oauth2/accessToken";

/// A server that hands out tokens (valid 2 h) and answers reads; every 25th read is throttled
/// (retried: counted again) and every 40th is answered with the monthly-quota refusal.
async fn server() -> MockServer {
    MockServer::start(|r, i| {
        if r.path == TOKEN_PATH {
            return Reply::json(json!({"accessToken": "tok", "expireIn": 7200}));
        }
        if i % 40 == 39 {
            return Reply::error(
                403,
                "Forbidden.AccessDenied.ApiCountLimitForOrg",
                "quota",
                "RL",
            );
        }
        if i % 25 == 24 {
            return Reply::error(
                403,
                "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
                "qps",
                "RQ",
            );
        }
        Reply::json(json!({"formInstId": "FINST-1"}))
    })
    .await
}

fn client(server: &MockServer, ledger: Ledger) -> Client {
    Client::builder()
        .endpoint(server.url())
        .internal_app("dingappkey", "app-secret")
        .unwrap()
        .context(
            AppContext::new()
                .app_type("APP_1")
                .system_token("sys")
                .user_id("u1"),
        )
        .retry(
            RetryConfig::default()
                .base_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
        )
        .ledger(ledger, "dingcorp")
        .build()
        .unwrap()
}

async fn run_500(store: Arc<dyn LedgerStore>) {
    let server = server().await;
    let c = client(&server, Ledger::from_arc(store.clone()));
    let calls = (0..500).map(|i| {
        let c = c.clone();
        tokio::spawn(async move {
            c.send(GetFormDataByIdRequest::new(format!("FINST-{i}")))
                .await
        })
    });
    let results = futures_util::future::join_all(calls).await;
    let refused = results
        .iter()
        .filter(|r| matches!(r.as_ref().unwrap(), Err(Error::Api(a)) if a.is_quota_exhausted()))
        .count();
    let reqs = server.requests();
    let tokens = reqs.iter().filter(|r| r.path == TOKEN_PATH).count() as u64;
    let api = reqs.len() as u64 - tokens;
    let usage = store.usage(Month::now()).await.unwrap();
    let org = &usage.orgs["dingcorp"];
    eprintln!(
        "server: {api} calls, {tokens} token fetches; ledger: {} calls, {} token fetches, {} quota refusals ({refused} seen)",
        org.calls, org.token_fetches, org.limit_replies
    );
    assert!(
        api > 500,
        "throttled calls were retried and count again: {api}"
    );
    assert_eq!(org.calls, api);
    assert_eq!(org.token_fetches, tokens);
    assert!(tokens >= 1);
    assert_eq!(org.limit_replies, refused as u64);
    assert!(refused > 0);
    assert_eq!(org.by_app["APP_1"]["GetFormDataByID@1.0"], api);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_memory_ledger_equals_the_servers_count_under_500_concurrent_calls() {
    run_500(Arc::new(MemoryLedger::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_file_ledger_equals_the_servers_count_under_500_concurrent_calls() {
    let dir = std::env::temp_dir().join(format!("yida-ledger-500-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    run_500(Arc::new(FileLedger::new(&dir))).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_call_refused_by_the_budget_sends_nothing() {
    let server = server().await;
    let store = Arc::new(MemoryLedger::new());
    let ledger = Ledger::from_arc(store.clone()).budget("dingcorp", CallBudget::monthly(10));
    let c = client(&server, ledger);
    let mut refused = 0;
    for i in 0..15 {
        match c
            .send(GetFormDataByIdRequest::new(format!("FINST-{i}")))
            .await
        {
            Ok(_) => {}
            Err(Error::BudgetExhausted {
                used, limit, org, ..
            }) => {
                assert_eq!((used, limit, org.as_str()), (10, 10, "dingcorp"));
                refused += 1;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(refused, 5);
    let api = server
        .requests()
        .iter()
        .filter(|r| r.path != TOKEN_PATH)
        .count();
    assert_eq!(api, 10, "the refused calls sent nothing");
    // A fresh client (no token yet) refused by the budget fetches no token either.
    let before = server.count();
    let ledger = Ledger::from_arc(store.clone()).budget("dingcorp", CallBudget::monthly(10));
    let c2 = client(&server, ledger);
    let e = c2
        .send(GetFormDataByIdRequest::new("FINST-X"))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("budget of dingcorp is used up"),
        "{e}"
    );
    assert_eq!(server.count(), before, "nothing at all was sent");
    assert_eq!(
        store.usage(Month::now()).await.unwrap().orgs["dingcorp"].calls,
        10
    );
}

#[tokio::test]
async fn a_call_that_cannot_connect_is_taken_back() {
    // A port nobody listens on: the request never arrives, so it is not counted.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let store = Arc::new(MemoryLedger::new());
    let c = Client::builder()
        .endpoint(url)
        .access_token("t")
        .retry(RetryConfig::disabled())
        .ledger(Ledger::from_arc(store.clone()), "o")
        .context(
            AppContext::new()
                .app_type("A")
                .system_token("s")
                .user_id("u"),
        )
        .build()
        .unwrap();
    let e = c.send(GetFormDataByIdRequest::new("F")).await.unwrap_err();
    assert!(matches!(e, Error::Connect { .. }), "{e}");
    assert_eq!(store.usage(Month::now()).await.unwrap().orgs["o"].calls, 0);
}
