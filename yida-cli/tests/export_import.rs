//! `yida export` and `yida import` against a local server.

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};
use yida_e2e::{MockServer, Reply};

fn yida(args: &[&str], server: &MockServer, stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_yida"))
        .args(args)
        .env_clear()
        .env("YIDA_ENDPOINT", server.url())
        .env("YIDA_ACCESS_TOKEN", "tok")
        .env("YIDA_APP_TYPE", "APP_1")
        .env("YIDA_SYSTEM_TOKEN", "sys")
        .env("YIDA_USER_ID", "u1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run yida");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn export_prints_every_record_as_ndjson_in_order() {
    let server = MockServer::start(|r, _| {
        let b = r.json();
        let page = b["currentPage"].as_i64().unwrap();
        let start = (page - 1) * 100;
        let data: Vec<_> = (start..(start + 100).min(250))
            .map(|i| json!({"formInstanceId": format!("FINST-{i}")}))
            .collect();
        Reply::json(json!({"currentPage": page, "totalCount": 250, "data": data}))
    })
    .await;
    let s = &server;
    let (code, out, err) =
        tokio::task::block_in_place(|| yida(&["export", "FORM-1", "--concurrency", "3"], s, ""));
    assert_eq!(code, 0, "{err}");
    let ids: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["formInstanceId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        ids,
        (0..250).map(|i| format!("FINST-{i}")).collect::<Vec<_>>()
    );
    assert!(err.contains("exported 250 records"), "{err}");
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v2.0/yida/forms/instances/search");
    assert_eq!(r.json()["formUuid"], "FORM-1");
    assert_eq!(r.json()["appType"], "APP_1");
}

#[tokio::test(flavor = "multi_thread")]
async fn import_reports_each_line_and_exits_1_when_a_record_failed() {
    let server = MockServer::start(|r, _| {
        let list = r.json()["formDataJsonList"].as_array().unwrap().clone();
        if list.iter().any(|t| t.as_str().unwrap().contains("\"bad\"")) {
            return Reply::error(400, "invalidParameter.x", "bad field", "R1");
        }
        let ids: Vec<String> = (0..list.len()).map(|i| format!("NEW-{i}")).collect();
        Reply::json(json!({"result": ids}))
    })
    .await;
    // Chunks of 2: lines 1-2 fine, line 3 not JSON (never sent), lines 4-5 one chunk with a
    // bad record, line 6 fine.
    let input = "{\"a\":1}\n{\"a\":2}\nnot json\n{\"a\":\"bad\"}\n{\"a\":4}\n{\"a\":5}\n";
    let s = &server;
    let (code, out, err) = tokio::task::block_in_place(|| {
        yida(&["import", "FORM-1", "-", "--chunk-size", "2"], s, input)
    });
    assert_eq!(code, 1, "{err}");
    let mut lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.sort_by_key(|v| v["line"].as_i64().unwrap());
    let oks: Vec<(i64, bool)> = lines
        .iter()
        .map(|v| (v["line"].as_i64().unwrap(), v["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        oks,
        [
            (1, true),
            (2, true),
            (3, false),
            (4, false),
            (5, false),
            (6, true)
        ]
    );
    assert_eq!(lines[3]["record"], json!({"a": "bad"}));
    assert_eq!(lines[3]["maybeApplied"], false);
    assert!(lines[3]["error"]
        .as_str()
        .unwrap()
        .contains("invalidParameter.x"));
    assert_eq!(server.count(), 3);
    assert!(err.contains("3 written"), "{err}");
}
