//! Measurements for `cargo xtask bench-peers` and `BENCHMARKS.md`.
//!
//! ```text
//! yida-bench throughput <ours|floor> <port> <calls> <in-flight>
//! yida-bench memory <items>
//! ```
//! `throughput` sends SearchFormDatas (POST /v1.0/yida/forms/instances/search) to a local
//! server and decodes each 20-record reply into `SearchFormDatasResponse`, printing calls/s.
//! `ours` goes through the full `yida-api` client; `floor` is a hand-written reqwest + serde
//! client decoding into the same type, with no SDK layers. `memory` streams `items` records
//! through pagination from a local server and prints the peak RSS.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod jobs;
use yida_api::forms::SearchFormDatasResponse;
use yida_api::{AppContext, Client, RetryConfig, SearchFormDatasRequest};

/// The allocator is the application's choice; a Rust service would typically pick one like
/// this. `cargo xtask bench-peers` reports this configuration (see BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &str = r#"{"appType":"APP_X","systemToken":"sys","userId":"u1","formUuid":"FORM-1","currentPage":1,"pageSize":20,"searchFieldJson":"{\"textField_1\":\"x\"}"}"#;

fn http() -> reqwest::Client {
    yida_auth::ensure_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        .build()
        .expect("client")
}

fn ours(port: u16) -> Client {
    Client::builder()
        .endpoint(format!("http://127.0.0.1:{port}"))
        .access_token("TOKEN")
        .context(
            AppContext::new()
                .app_type("APP_X")
                .system_token("sys")
                .user_id("u1"),
        )
        .retry(RetryConfig::disabled())
        .http_client(http())
        .build()
        .expect("client")
}

async fn one_ours(c: &Client) -> usize {
    let req = SearchFormDatasRequest::new("FORM-1")
        .current_page(1)
        .page_size(20)
        .search_field_json(serde_json::json!({"textField_1": "x"}));
    let r = c.forms().search_form_datas(req).await.expect("call");
    r.data.map(|d| d.len()).unwrap_or(0)
}

async fn one_floor(c: &reqwest::Client, url: &str) -> usize {
    let resp = c
        .post(url)
        .header("x-acs-dingtalk-access-token", "TOKEN")
        .header("content-type", "application/json; charset=utf-8")
        .body(BODY)
        .send()
        .await
        .expect("send");
    let bytes = resp.bytes().await.expect("body");
    let r: SearchFormDatasResponse = serde_json::from_slice(&bytes).expect("decode");
    r.data.map(|d| d.len()).unwrap_or(0)
}

async fn throughput(kind: &str, port: u16, calls: i64, in_flight: usize) -> f64 {
    let left = Arc::new(AtomicI64::new(calls));
    let client = ours(port);
    let floor = http();
    let url = format!("http://127.0.0.1:{port}/v1.0/yida/forms/instances/search");
    // Warm up connections.
    for _ in 0..in_flight.max(1) {
        match kind {
            "ours" => assert_eq!(one_ours(&client).await, 20),
            _ => assert_eq!(one_floor(&floor, &url).await, 20),
        };
    }
    let start = Instant::now();
    let workers: Vec<_> = (0..in_flight.max(1))
        .map(|_| {
            let (left, client, floor, url, kind) = (
                left.clone(),
                client.clone(),
                floor.clone(),
                url.clone(),
                kind.to_string(),
            );
            tokio::spawn(async move {
                while left.fetch_sub(1, Ordering::Relaxed) > 0 {
                    let n = if kind == "ours" {
                        one_ours(&client).await
                    } else {
                        one_floor(&floor, &url).await
                    };
                    assert_eq!(n, 20);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("worker");
    }
    calls as f64 / start.elapsed().as_secs_f64()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn memory(items: i64) {
    use yida_e2e::{MockServer, Reply};
    let total = items;
    let server = MockServer::start(move |r, _| {
        let b = r.json();
        let page = b["currentPage"].as_i64().unwrap_or(1);
        let size = b["pageSize"].as_i64().unwrap_or(100);
        let start = (page - 1) * size;
        let data: Vec<_> = (start..(start + size).min(total))
            .map(|i| {
                serde_json::json!({
                    "formInstanceId": format!("FINST-{i:08}"), "dataId": i, "title": "张三提交的订单",
                    "formData": {"textField_a": "备注".repeat(20), "numberField_b": i, "tableField_c": [{"x": 1}, {"x": 2}]},
                })
            })
            .collect();
        Reply::json(serde_json::json!({"currentPage": page, "totalCount": total, "data": data}))
    })
    .await;
    let c = Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(
            AppContext::new()
                .app_type("A")
                .system_token("s")
                .user_id("u"),
        )
        .build()
        .expect("client");
    let before = peak_rss_kib();
    let mut stream = c.paginate(yida_api::SearchFormDatasV2Request::new("FORM-1"));
    let mut n = 0i64;
    let mut checkpoints = Vec::new();
    while let Some(item) = stream.next().await {
        item.expect("item");
        n += 1;
        if n % (items / 4).max(1) == 0 {
            checkpoints.push((n, peak_rss_kib()));
        }
    }
    assert_eq!(n, items);
    let cp: Vec<String> = checkpoints
        .iter()
        .map(|(n, kib)| format!("{n}: {kib} KiB"))
        .collect();
    println!(
        "memory: streamed {n} items in {} pages; peak RSS before {before} KiB; at {}",
        (items + 99) / 100,
        cp.join(", ")
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // One worker thread by default (like the peers' event loops), leaving a core to the server;
    // YIDA_BENCH_THREADS=N gives the multi-threaded runtime N workers.
    let threads: usize = std::env::var("YIDA_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let rt = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    }
    .expect("runtime");
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["throughput", kind @ ("ours" | "floor"), port, calls, conc] => {
            let (port, calls, conc) = (
                port.parse().expect("port"),
                calls.parse().expect("calls"),
                conc.parse().expect("in-flight"),
            );
            let rate = rt.block_on(throughput(kind, port, calls, conc));
            println!("{kind} conc={conc} n={calls} {rate:.0} calls/s");
        }
        ["memory", items] => rt.block_on(memory(items.parse().expect("items"))),
        ["jobserver", latency_ms, qps, records] => rt.block_on(jobs::server(
            Duration::from_millis(latency_ms.parse().expect("latency")),
            qps.parse().expect("qps"),
            records.parse().expect("records"),
        )),
        ["export", url, conc] => rt.block_on(jobs::export(url, conc.parse().expect("conc"))),
        ["import", url, n, conc] => rt.block_on(jobs::import(
            url,
            n.parse().expect("records"),
            conc.parse().expect("conc"),
        )),
        _ => {
            eprintln!("usage: yida-bench throughput <ours|floor> <port> <calls> <in-flight> | yida-bench memory <items>");
            std::process::exit(2);
        }
    }
}
