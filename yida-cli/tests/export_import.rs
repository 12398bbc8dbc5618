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
    // bad record (refused, then split: line 5 is written on its own), line 6 fine.
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
            (5, true),
            (6, true)
        ]
    );
    assert_eq!(lines[3]["record"], json!({"a": "bad"}));
    assert_eq!(lines[3]["maybeApplied"], false);
    assert!(lines[3]["error"]
        .as_str()
        .unwrap()
        .contains("invalidParameter.x"));
    // 3 chunks, and 2 calls splitting the refused one.
    assert_eq!(server.count(), 5);
    assert!(err.contains("4 written"), "{err}");
}

/// Issue 19 item 3: one bad record in a chunk used to fail the whole chunk with its error, so a
/// valid line 1 came back `ok:false` with line 2's message. The refused chunk (a validation
/// error: definitely not applied) is now split until each record has its own outcome.
#[tokio::test(flavor = "multi_thread")]
async fn import_blames_only_the_bad_record_of_a_refused_chunk() {
    let server = MockServer::start(|r, _| {
        let list = r.json()["formDataJsonList"].as_array().unwrap().clone();
        for t in &list {
            let v: Value = serde_json::from_str(t.as_str().unwrap()).unwrap();
            if !v["numberField_amount"].is_number() {
                return Reply::error(
                    400,
                    "invalidParameter.formData",
                    &format!(
                        "numberField_amount is not a number: {}",
                        v["numberField_amount"]
                    ),
                    "RB",
                );
            }
        }
        let ids: Vec<String> = list
            .iter()
            .map(|t| {
                let v: Value = serde_json::from_str(t.as_str().unwrap()).unwrap();
                format!("NEW-{}", v["numberField_amount"])
            })
            .collect();
        Reply::json(json!({"result": ids}))
    })
    .await;
    let input = "{\"numberField_amount\":1}\n{\"numberField_amount\":\"x\"}\n\
                 {\"numberField_amount\":3}\n{\"numberField_amount\":4}\n\
                 {\"numberField_amount\":\"y\"}\n";
    let s = &server;
    let (code, out, err) =
        tokio::task::block_in_place(|| yida(&["import", "FORM-1", "-"], s, input));
    assert_eq!(code, 1, "{err}");
    let mut lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.sort_by_key(|v| v["line"].as_i64().unwrap());
    let oks: Vec<bool> = lines.iter().map(|v| v["ok"].as_bool().unwrap()).collect();
    assert_eq!(oks, [true, false, true, true, false], "{out}");
    assert_eq!(lines[0]["instanceId"], "NEW-1");
    assert_eq!(lines[3]["instanceId"], "NEW-4");
    // Each refused record carries its own record's error.
    assert!(
        lines[1]["error"].as_str().unwrap().contains("\"x\""),
        "{}",
        lines[1]
    );
    assert!(
        lines[4]["error"].as_str().unwrap().contains("\"y\""),
        "{}",
        lines[4]
    );
    assert_eq!(lines[1]["maybeApplied"], false);
    // Every valid record was written exactly once.
    let mut written: Vec<String> = Vec::new();
    for r in server.requests() {
        let list = r.json()["formDataJsonList"].as_array().unwrap().clone();
        if list.iter().all(|t| {
            !t.as_str().unwrap().contains('"')
                || !t.as_str().unwrap().contains("\"x\"") && !t.as_str().unwrap().contains("\"y\"")
        }) {
            written.extend(list.iter().map(|t| t.as_str().unwrap().to_string()));
        }
    }
    written.sort();
    assert_eq!(written.len(), 3, "{written:?}");
    written.dedup();
    assert_eq!(written.len(), 3, "a record was written twice");
    assert!(err.contains("3 written"), "{err}");
    eprintln!("calls: {}", server.count());
}

/// Runs `yida` with `stdin` given as bytes and a deadline: a run past it is killed and
/// reported with code -1 (the case "spins forever").
fn yida_bytes(
    args: &[&str],
    server: &MockServer,
    stdin: impl FnOnce(&mut dyn Write) + Send + 'static,
    deadline: std::time::Duration,
    shell_prefix: Option<&str>,
) -> (i32, String, String) {
    let bin = env!("CARGO_BIN_EXE_yida");
    let mut cmd = match shell_prefix {
        Some(prefix) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("{prefix}; exec \"$0\" \"$@\""))
                .arg(bin)
                .args(args);
            c
        }
        None => {
            let mut c = Command::new(bin);
            c.args(args);
            c
        }
    };
    let mut child = cmd
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
    let mut stdin_pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        stdin(&mut stdin_pipe);
    });
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if rx.recv_timeout(deadline).is_err() {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
        }
    });
    let out = child.wait_with_output().unwrap();
    let _ = tx.send(());
    let _ = writer.join();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn saving_server() -> impl Fn(&yida_e2e::Recorded, usize) -> Reply {
    |r, _| {
        let n = r.json()["formDataJsonList"].as_array().unwrap().len();
        Reply::json(json!({"result": (0..n).map(|i| format!("NEW-{i}")).collect::<Vec<_>>()}))
    }
}

/// Issue 19 item 10: `yida import <directory>` spun at 100 % CPU forever.
#[tokio::test(flavor = "multi_thread")]
async fn import_of_a_directory_is_refused_before_sending() {
    let server = MockServer::start(saving_server()).await;
    let dir = std::env::temp_dir();
    let dir = dir.to_str().unwrap();
    let s = &server;
    let (code, out, err) = tokio::task::block_in_place(|| {
        yida_bytes(
            &["import", "FORM-1", dir],
            s,
            |_| {},
            std::time::Duration::from_secs(10),
            None,
        )
    });
    assert_eq!(code, 2, "stdout {out} stderr {err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert_eq!(server.count(), 0);
}

/// Issue 19 item 10: a line with invalid UTF-8 was skipped without an outcome line and the
/// summary was missing.
#[tokio::test(flavor = "multi_thread")]
async fn import_gives_an_invalid_utf8_line_its_own_outcome_and_prints_the_summary() {
    let server = MockServer::start(saving_server()).await;
    let mut input = b"{\"a\":1}\n{\"a\":\"".to_vec();
    input.extend([0xff, 0xfe]);
    input.extend(b"\"}\n{\"a\":3}\n");
    let s = &server;
    let (code, out, err) = tokio::task::block_in_place(|| {
        yida_bytes(
            &["import", "FORM-1", "-"],
            s,
            move |w| {
                let _ = w.write_all(&input);
            },
            std::time::Duration::from_secs(20),
            None,
        )
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
    assert_eq!(oks, [(1, true), (2, false), (3, true)], "{out}");
    assert!(
        lines[1]["error"].as_str().unwrap().contains("UTF-8"),
        "{}",
        lines[1]
    );
    assert!(err.contains("imported: 2 written"), "{err}");
}

/// Issue 19 item 10: one endless line aborted the import on out-of-memory. With the address
/// space capped at 1 GiB, a 1.5 GiB line is now refused by the line-length cap (memory stays
/// bounded) and the next line is still imported.
#[tokio::test(flavor = "multi_thread")]
async fn import_caps_the_line_length_and_survives_a_huge_line() {
    let server = MockServer::start(saving_server()).await;
    // Written in pieces: the test holds 1 MiB, whatever the line's length.
    let write_huge = |w: &mut dyn Write| {
        let piece = vec![b'x'; 1 << 20];
        let _ = w.write_all(b"{\"a\":\"");
        for _ in 0..1536 {
            if w.write_all(&piece).is_err() {
                return;
            }
        }
        let _ = w.write_all(b"\"}\n{\"a\":2}\n");
    };
    let s = &server;
    let (code, out, err) = tokio::task::block_in_place(|| {
        yida_bytes(
            &["import", "FORM-1", "-"],
            s,
            write_huge,
            std::time::Duration::from_secs(60),
            Some("ulimit -v 1048576"),
        )
    });
    assert_eq!(code, 1, "stdout {out} stderr {err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{out}");
    let first = lines.iter().find(|l| l["line"] == 1).unwrap();
    assert_eq!(first["ok"], false);
    assert!(
        first["error"].as_str().unwrap().contains("longer than"),
        "{first}"
    );
    assert!(
        lines.iter().any(|l| l["line"] == 2 && l["ok"] == true),
        "{out}"
    );
    assert_eq!(server.count(), 1);
}

/// Issue 19 item 4: records inserted during an export (newest first, as the default order
/// is) shifted the pages: `yida export --concurrency 1` printed duplicates, missed the records
/// pushed past the last page `totalCount` first implied, and exited 0. Now each instance is
/// printed once, the walk follows the grown `totalCount`, and the change is reported (exit 5).
#[tokio::test(flavor = "multi_thread")]
async fn export_holds_each_instance_once_when_records_are_inserted_meanwhile() {
    let ids: std::sync::Arc<std::sync::Mutex<Vec<String>>> = std::sync::Arc::new(
        std::sync::Mutex::new((0..250).rev().map(|i| format!("FINST-{i}")).collect()),
    );
    let store = ids.clone();
    let server = MockServer::start(move |r, n| {
        let mut ids = store.lock().unwrap();
        if n > 0 {
            // 30 new records before every page but the first, at the top (newest first).
            for k in 0..30 {
                ids.insert(0, format!("NEW-{n}-{k}"));
            }
        }
        let page = r.json()["currentPage"].as_i64().unwrap() as usize;
        let size = r.json()["pageSize"].as_i64().unwrap() as usize;
        let start = ((page - 1) * size).min(ids.len());
        let end = (start + size).min(ids.len());
        let data: Vec<_> = ids[start..end]
            .iter()
            .map(|id| json!({"formInstanceId": id}))
            .collect();
        Reply::json(json!({"currentPage": page, "totalCount": ids.len(), "data": data}))
    })
    .await;
    let s = &server;
    let (code, out, err) =
        tokio::task::block_in_place(|| yida(&["export", "FORM-1", "--concurrency", "1"], s, ""));
    let got: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["formInstanceId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut unique = got.clone();
    unique.sort();
    unique.dedup();
    eprintln!(
        "lines {}, unique {}, exit {code}, requests {}",
        got.len(),
        unique.len(),
        server.count()
    );
    assert_eq!(got.len(), unique.len(), "duplicates printed");
    for i in 0..250 {
        assert!(unique.contains(&format!("FINST-{i}")), "FINST-{i} missing");
    }
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("changed during the export"), "{err}");
}

/// Issue 19 item 11: `--all` never ended against endless distinct full pages without
/// `totalCount` (11,242 requests in 20 s). Every list operation documents `totalCount`, so a
/// full page without it now ends the walk with an error after that page.
#[tokio::test(flavor = "multi_thread")]
async fn all_ends_after_a_full_page_without_total_count() {
    let server = MockServer::start(|r, _| {
        let page = r.json()["currentPage"].as_i64().unwrap_or(1);
        let data: Vec<_> = (0..100)
            .map(|i| json!({"formInstanceId": format!("{page}-{i}")}))
            .collect();
        Reply::json(json!({"currentPage": page, "data": data}))
    })
    .await;
    let s = &server;
    let (code, out, err) = tokio::task::block_in_place(|| {
        yida_bytes(
            &[
                "call",
                "SearchFormDatas",
                "--input",
                r#"{"formUuid":"F"}"#,
                "--all",
            ],
            s,
            |_| {},
            std::time::Duration::from_secs(10),
            None,
        )
    });
    eprintln!("exit {code}, requests {}", server.count());
    assert_eq!(code, 1, "{err}");
    assert_eq!(out.lines().count(), 100);
    assert!(err.contains("no totalCount"), "{err}");
    assert_eq!(server.count(), 1);
}
