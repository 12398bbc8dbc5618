//! The call budget from the command line (issue 22 items 1, 2, 3, 7): the ledger shared by
//! processes, `yida quota`, `--dry-run`, `--max-pages`.

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use yida_e2e::{MockServer, Reply};

const TOKEN_PATH: &str = "/v1.0/oauth2/accessToken";

fn base(server: &MockServer, ledger: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yida"));
    c.env_clear()
        .env("YIDA_ENDPOINT", server.url())
        .env("YIDA_APP_KEY", "dingappkey")
        .env("YIDA_APP_SECRET", "app-secret-XYZ")
        .env("YIDA_APP_TYPE", "APP_1")
        .env("YIDA_SYSTEM_TOKEN", "system-token-XYZ")
        .env("YIDA_USER_ID", "u1")
        .env("YIDA_CORP_ID", "dingcorp")
        .env("YIDA_LEDGER", ledger)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn run(mut c: Command) -> (i32, String, String) {
    let out = c.output().expect("run yida");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("yida-budget-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A form of `total` records, with tokens.
async fn form(total: i64) -> MockServer {
    MockServer::start(move |r, _| {
        if r.path == TOKEN_PATH {
            return Reply::json(json!({"accessToken": "tok", "expireIn": 7200}));
        }
        let page = r.json()["currentPage"].as_i64().unwrap_or(1);
        let size = r.json()["pageSize"].as_i64().unwrap_or(100);
        let start = (page - 1) * size;
        let data: Vec<_> = (start..(start + size).min(total))
            .map(|i| json!({"formInstanceId": format!("FINST-{i}")}))
            .collect();
        Reply::json(json!({"currentPage": page, "totalCount": total, "data": data}))
    })
    .await
}

fn api_calls(server: &MockServer) -> u64 {
    server
        .requests()
        .iter()
        .filter(|r| r.path != TOKEN_PATH)
        .count() as u64
}

fn token_calls(server: &MockServer) -> u64 {
    server
        .requests()
        .iter()
        .filter(|r| r.path == TOKEN_PATH)
        .count() as u64
}

fn quota_json(server: &MockServer, ledger: &std::path::Path, extra: &[&str]) -> Value {
    let mut c = base(server, ledger);
    c.args(["quota", "--json", "--by", "operation"]).args(extra);
    let (code, out, err) = run(c);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn four_processes_sharing_the_ledger_file_count_what_the_server_received() {
    let server = form(2500).await;
    let ledger = tmp("four");
    let s = &server;
    let l = &ledger;
    tokio::task::block_in_place(|| {
        let children: Vec<_> = (0..4)
            .map(|_| {
                let mut c = base(s, l);
                c.args(["export", "FORM-1", "--concurrency", "4"]);
                c.spawn().unwrap()
            })
            .collect();
        for ch in children {
            let out = ch.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    });
    let q = quota_json(&server, &ledger, &[]);
    let org = q["orgs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["org"] == "dingcorp")
        .unwrap()
        .clone();
    eprintln!(
        "server: {} calls, {} token fetches; ledger: {org}",
        api_calls(&server),
        token_calls(&server)
    );
    assert_eq!(api_calls(&server), 100, "4 exports of 25 pages");
    assert_eq!(org["calls"], 100);
    assert_eq!(org["tokenFetches"].as_u64().unwrap(), token_calls(&server));
    assert_eq!(org["by"]["SearchFormDatas@2.0"], 100);
    // The text report says the same, and the secrets are nowhere in it.
    let mut c = base(&server, &ledger);
    c.args(["quota", "--by", "app"]);
    let (code, out, _) = run(c);
    assert_eq!(code, 0);
    assert!(out.contains("dingcorp: 100 calls"), "{out}");
    assert!(out.contains("APP_1"), "{out}");
    assert!(!out.contains("XYZ"));
    let _ = std::fs::remove_dir_all(&ledger);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_budget_holds_across_processes_and_refused_calls_send_nothing() {
    let server = form(3000).await;
    let ledger = tmp("limit");
    let s = &server;
    let l = &ledger;
    let codes: Vec<(i32, String)> = tokio::task::block_in_place(|| {
        let children: Vec<_> = (0..4)
            .map(|_| {
                let mut c = base(s, l);
                c.env("YIDA_CALL_BUDGET", "50")
                    .args(["export", "FORM-1", "--concurrency", "2"]);
                c.spawn().unwrap()
            })
            .collect();
        children
            .into_iter()
            .map(|ch| {
                let o = ch.wait_with_output().unwrap();
                (
                    o.status.code().unwrap_or(-1),
                    String::from_utf8_lossy(&o.stderr).into_owned(),
                )
            })
            .collect()
    });
    eprintln!("server: {} calls", api_calls(&server));
    assert_eq!(api_calls(&server), 50, "4 × 30 pages asked, 50 allowed");
    for (code, err) in &codes {
        assert_eq!(*code, 1, "{err}");
        assert!(
            err.contains("monthly call budget of dingcorp is used up (50 of 50"),
            "{err}"
        );
    }
    // One more call: refused before anything leaves (no token request either).
    let before = server.count();
    let mut c = base(&server, &ledger);
    c.env("YIDA_CALL_BUDGET", "50").args([
        "call",
        "GetFormDataByID",
        "--input",
        r#"{"id":"FINST-1"}"#,
    ]);
    let (code, _, err) = run(c);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("not sent"), "{err}");
    assert_eq!(server.count(), before);
    let mut c = base(&server, &ledger);
    c.env("YIDA_CALL_BUDGET", "50").args(["quota"]);
    let (_, out, _) = run(c);
    assert!(out.contains("budget 50: 0 left"), "{out}");
    let _ = std::fs::remove_dir_all(&ledger);
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_runs_send_nothing_and_say_what_the_job_would_cost() {
    let server = form(2345).await;
    let ledger = tmp("dry");
    let run_json = |args: &[&str], stdin: Option<&str>| {
        let mut c = base(&server, &ledger);
        c.args(args);
        let out = if let Some(text) = stdin {
            c.stdin(Stdio::piped());
            let mut ch = c.spawn().unwrap();
            std::io::Write::write_all(&mut ch.stdin.take().unwrap(), text.as_bytes()).unwrap();
            ch.wait_with_output().unwrap()
        } else {
            c.output().unwrap()
        };
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !stdout.contains("XYZ") && !stderr.contains("XYZ"),
            "a secret printed: {stdout} {stderr}"
        );
        (
            out.status.code().unwrap_or(-1),
            serde_json::from_str::<Value>(&stdout).unwrap_or(Value::Null),
            stderr,
        )
    };
    tokio::task::block_in_place(|| {
        // One write.
        let (code, plan, err) = run_json(
            &[
                "call",
                "SaveFormData",
                "--input",
                r#"{"formUuid":"FORM-1","formDataJson":{"a":1}}"#,
                "--dry-run",
            ],
            None,
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(plan["calls"], 1);
        assert_eq!(plan["validation"], "ok");
        let req = &plan["requests"][0];
        assert_eq!(req["method"], "POST");
        assert_eq!(req["body"]["systemToken"], "***");
        assert_eq!(req["body"]["formUuid"], "FORM-1");
        // A bad input: the validation result, exit 2.
        let (code, _, err) = run_json(
            &["call", "GetFormDataByID", "--input", "{}", "--dry-run"],
            None,
        );
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("`id`"), "{err}");
        // An export: the first page's request; the pages are unknown without a probe.
        let (code, plan, err) = run_json(&["export", "FORM-1", "--dry-run"], None);
        assert_eq!(code, 0, "{err}");
        assert_eq!(plan["calls"], Value::Null);
        assert_eq!(plan["requests"][0]["body"]["currentPage"], 1);
        assert_eq!(plan["requests"][0]["body"]["pageSize"], 100);
        // An import: one batch request per chunk of the valid lines.
        let input = "{\"a\":1}\n{\"a\":2}\nnot json\n{\"a\":3}\n";
        let (code, plan, err) = run_json(
            &["import", "FORM-1", "-", "--chunk-size", "2", "--dry-run"],
            Some(input),
        );
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            (plan["records"].as_u64(), plan["calls"].as_u64()),
            (Some(3), Some(2))
        );
        assert_eq!(plan["validation"]["refusedLines"][0]["line"], 3);
        assert_eq!(
            plan["requests"][1]["body"]["formDataJsonList"],
            json!(["{\"a\":3}"])
        );
    });
    assert_eq!(server.count(), 0, "the server saw no request at all");
    // --probe spends one call (and its token) to learn totalCount.
    let (code, plan, err) = tokio::task::block_in_place(|| {
        run_json(&["export", "FORM-1", "--dry-run", "--probe"], None)
    });
    assert_eq!(code, 0, "{err}");
    assert_eq!(plan["calls"], 24);
    assert_eq!(plan["probe"]["totalCount"], 2345);
    assert_eq!(api_calls(&server), 1);
    let _ = std::fs::remove_dir_all(&ledger);
}

#[tokio::test(flavor = "multi_thread")]
async fn max_pages_stops_call_all_and_export() {
    let server = form(1_000_000).await;
    let ledger = tmp("max");
    let s = &server;
    let l = &ledger;
    let (code, out, err) = tokio::task::block_in_place(|| {
        let mut c = base(s, l);
        c.args([
            "call",
            "SearchFormDatas",
            "--input",
            r#"{"formUuid":"F"}"#,
            "--all",
            "--max-pages",
            "3",
        ]);
        run(c)
    });
    assert_eq!(code, 1, "{err}");
    assert_eq!(out.lines().count(), 300);
    assert!(err.contains("cap of 3 pages"), "{err}");
    assert_eq!(api_calls(&server), 3);
    let (code, out, err) = tokio::task::block_in_place(|| {
        let mut c = base(s, l);
        c.args(["export", "FORM-1", "--max-pages", "2", "--concurrency", "4"]);
        run(c)
    });
    assert_eq!(code, 1, "{err}");
    assert_eq!(out.lines().count(), 200);
    assert_eq!(api_calls(&server), 5);
    // The default cap: 10,000 pages' worth stops after the first page, naming the flag.
    let (code, out, err) = tokio::task::block_in_place(|| {
        let mut c = base(s, l);
        c.args(["export", "FORM-1"]);
        run(c)
    });
    assert_eq!(code, 1, "{err}");
    assert_eq!(out.lines().count(), 100);
    assert!(err.contains("--max-pages 10000"), "{err}");
    assert_eq!(api_calls(&server), 6);
    let _ = std::fs::remove_dir_all(&ledger);
}
