//! The export and import jobs of `cargo xtask bench-peers`: a local server that answers after a
//! latency and enforces DingTalk's per-API quota, and our side of the two jobs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yida_e2e::{MockServer, Reply};

/// Per-API counters kept by the job server.
#[derive(Default)]
struct Api {
    accepted: u64,
    throttled: u64,
    first: Option<Instant>,
    last: Option<Instant>,
    /// Arrival times of accepted calls within the last second.
    window: std::collections::VecDeque<Instant>,
}

/// One record as a search returns it (about 0.5 KB).
fn record(i: i64) -> serde_json::Value {
    serde_json::json!({
        "formInstanceId": format!("FINST-{i:08}"),
        "formUuid": "FORM-1",
        "title": format!("Record {i}"),
        "createdTimeGMT": "2026-01-01 10:00:00",
        "modifiedTimeGMT": "2026-01-02 10:00:00",
        "originator": {"userId": "u1", "name": {"nameInChinese": "张三", "nameInEnglish": "San Zhang", "type": "i18n"}, "departmentName": "Sales"},
        "formData": {"textField_1": format!("text {i}"), "numberField_2": i, "selectField_3": "A", "dateField_4": 1767225600000i64, "textareaField_5": "a longer piece of text to make the record realistic"},
        "instanceValue": "", "version": 3, "sequence": format!("SEQ{i}")
    })
}

/// Runs the job server until standard input closes: `latency` before every answer, at most
/// `qps` accepted calls per API (path) in any 1-second window (others get DingTalk's 403
/// `Forbidden.AccessDenied.QpsLimitForAppkeyAndApi` at once), `records` records in the form.
/// `GET /stats` returns the counters per path, `POST /reset` clears them.
pub async fn server(latency: Duration, qps: usize, records: i64) {
    let apis: Arc<Mutex<HashMap<String, Api>>> = Arc::default();
    let a = apis.clone();
    let saved = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let server = MockServer::start(move |r, _| {
        let now = Instant::now();
        if r.path == "/stats" {
            let map = a.lock().unwrap();
            let stats: serde_json::Map<String, serde_json::Value> = map
                .iter()
                .map(|(p, s)| {
                    let span = match (s.first, s.last) {
                        (Some(f), Some(l)) => l.duration_since(f).as_secs_f64(),
                        _ => 0.0,
                    };
                    (p.clone(), serde_json::json!({"accepted": s.accepted, "throttled": s.throttled, "span": span}))
                })
                .collect();
            return Reply::json(serde_json::Value::Object(stats));
        }
        if r.path == "/reset" {
            a.lock().unwrap().clear();
            return Reply::json(serde_json::json!({}));
        }
        {
            let mut map = a.lock().unwrap();
            let api = map.entry(r.path.clone()).or_default();
            while api.window.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
                api.window.pop_front();
            }
            if api.window.len() >= qps {
                api.throttled += 1;
                return Reply::error(403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi", "app and api qps limit", "throttled");
            }
            api.window.push_back(now);
            api.accepted += 1;
            api.first.get_or_insert(now);
            api.last = Some(now);
        }
        let body = r.json();
        let reply = if r.path.ends_with("/instances/search") {
            let page = body["currentPage"].as_i64().unwrap_or(1).max(1);
            let size = body["pageSize"].as_i64().unwrap_or(10).clamp(1, 100);
            let start = (page - 1) * size;
            let end = (start + size).min(records);
            let data: Vec<_> = (start..end.max(start)).map(record).collect();
            Reply::json(serde_json::json!({"currentPage": page, "totalCount": records, "data": data}))
        } else if r.path.ends_with("/instances/batchSave") {
            let n = body["formDataJsonList"].as_array().map_or(0, Vec::len) as i64;
            let first = saved.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
            let ids: Vec<String> = (first..first + n).map(|i| format!("FINST-N{i:08}")).collect();
            Reply::json(serde_json::json!({"result": ids}))
        } else {
            Reply::error(404, "NotFound", "no such API in the job server", "nf")
        };
        Reply::Delay(latency, Box::new(reply))
    })
    .await;
    println!("{}", server.url());
    // Runs until the parent closes our standard input.
    let _ = tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut s);
    })
    .await;
    drop(apis);
}

fn client(url: &str) -> yida_api::Client {
    yida_api::Client::builder()
        .endpoint(url)
        .access_token("TOKEN")
        .context(
            yida_api::AppContext::new()
                .app_type("APP_X")
                .system_token("sys")
                .user_id("u1"),
        )
        .build()
        .expect("client")
}

/// Our export: every record through SearchFormDatas 2.0, `conc` pages in flight, default
/// pacing. Prints `export n=<records> <seconds> s`.
pub async fn export(url: &str, conc: usize) {
    let c = client(url);
    let t = Instant::now();
    let mut walk = c
        .paginate(yida_api::SearchFormDatasV2Request::new("FORM-1"))
        .concurrency(conc);
    let mut n = 0u64;
    while let Some(r) = walk.next().await {
        r.expect("no error reaches the caller");
        n += 1;
    }
    println!("export n={n} {:.3} s", t.elapsed().as_secs_f64());
}

/// Our import: `n` records through BatchSaveFormData, 100 per call, `conc` calls in flight,
/// default pacing. Prints `import n=<written> <seconds> s`; exits non-zero if any failed.
pub async fn import(url: &str, n: i64, conc: usize) {
    let c = client(url);
    let t = Instant::now();
    let rows =
        (0..n).map(|i| serde_json::json!({"textField_1": format!("row {i}"), "numberField_2": i}));
    let mut failed = 0;
    let s = c
        .bulk("FORM-1")
        .concurrency(conc)
        .save(rows, |o| {
            if let yida_api::bulk::Outcome::Failed { error, .. } = o {
                failed += 1;
                if failed < 3 {
                    eprintln!("import: {error}");
                }
            }
        })
        .await
        .expect("import");
    assert_eq!(failed, 0, "no record may fail");
    println!("import n={} {:.3} s", s.written, t.elapsed().as_secs_f64());
}
