//! `yida events http|stream` as a process: real HTTP pushes, a real local Stream gateway,
//! stdout lines, stderr diagnostics, and a clean stop on SIGTERM.

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;
use yida_e2e::{MockServer, Reply};

const WAIT: Duration = Duration::from_secs(20);

// Fixed vectors made with Python's `cryptography` (yida-events/tests/gen_vectors.py).
const TOKEN: &str = "cb-token-7";
const AES: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const OWNER: &str = "suite-key-1";
const BPMS: &str = "Q3stYC6hdFzMh9T8HCvyDJgV/qVPEZpYAFYvffeA+/f2SWNUNZBMKbnm/dBj0yoNJ3kQdxWi1gWl8yn1OnqiXWO9iySEGdnXvVSOGiJlNvN9Yl6rS81y+f7PJrCiEmJqFwlFahVZAQz5r64P0JXej5UIXRSCGpEBLo9UI9rKO3BMUScX6lLSj76unzu1j74D8e4mQftBeP19UPdI1P95b4hGhUEdaYNdkIxXiviSF3RkTdZTtpBCO5eZAVQbbXN2Ianbpg+kju0UDWAoTU5HP3c3NV0pS5pLfjcHjr2dswBwEFY3Wnv8fJ8ugvamZEtvgeT4HEJJZHAlGFlrBSDWSQ==";
const BPMS_SIG: &str = "3a26f150a173eca25b62b590305083a8be8480f6";
const WRONG_OWNER: &str =
    "Q3stYC6hdFzMh9T8HCvyDLV8JeomtQuxZLosYEI28mga64vTiryX3z5WWcyJPhzo9Iz8nTNVn6VAKuNklw92Vw==";
const WRONG_OWNER_SIG: &str = "b0bf00c203d8bd428a400e63dd90779f267764b5";
const Q: &str = "timestamp=1783610513000&nonce=nonce42";

fn yida(args: &[&str], env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_yida"))
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run yida")
}

fn sigterm(child: &Child) {
    let pid = child.id().expect("running").to_string();
    // The shell's built-in kill: no procps needed on a minimal image.
    let ok = std::process::Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// Reads stderr lines until one contains `needle`; returns it.
async fn stderr_line(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
    needle: &str,
) -> String {
    tokio::time::timeout(WAIT, async {
        loop {
            let l = lines.next_line().await.unwrap().expect("stderr ended");
            if l.contains(needle) {
                return l;
            }
        }
    })
    .await
    .expect("line not printed in time")
}

async fn stdout_lines(child: &mut Child) -> Vec<Value> {
    let mut s = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut s)
        .await
        .unwrap();
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn http_mode_prints_valid_pushes_refuses_invalid_ones_and_stops_on_sigterm() {
    let mut child = yida(
        &[
            "events",
            "http",
            "--listen",
            "127.0.0.1:0",
            "--max-age",
            "0",
        ],
        &[
            ("YIDA_CALLBACK_TOKEN", TOKEN),
            ("YIDA_CALLBACK_AES_KEY", AES),
            ("YIDA_CALLBACK_KEY", OWNER),
        ],
    );
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = stderr_line(&mut err, "listening on ").await;
    let addr = line.trim_start_matches("listening on ").trim().to_string();
    let http = reqwest::Client::new();
    let push = |q: String, encrypt: &str| {
        http.post(format!("http://{addr}/dingtalk/callback?{q}"))
            .json(&json!({ "encrypt": encrypt }))
            .send()
    };
    // Invalid: wrong owner key (403), bad signature (403), no params (400).
    let r = push(format!("signature={WRONG_OWNER_SIG}&{Q}"), WRONG_OWNER)
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = push(format!("signature={WRONG_OWNER_SIG}&{Q}"), BPMS)
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = push(String::new(), BPMS).await.unwrap();
    assert_eq!(r.status(), 400);
    // Valid: encrypted success.
    let r = push(format!("msg_signature={BPMS_SIG}&{Q}"), BPMS)
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let reply: Value = r.json().await.unwrap();
    for k in ["msg_signature", "timeStamp", "nonce", "encrypt"] {
        assert!(reply[k].is_string(), "{reply}");
    }
    sigterm(&child);
    let out = stdout_lines(&mut child).await;
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0]["type"], "bpms_instance_change");
    assert_eq!(out[0]["corpId"], "dingcorp1");
    assert_eq!(out[0]["eventId"], Value::Null);
    assert_eq!(out[0]["data"]["processInstanceId"], "PI-1");
    assert_eq!(out[0]["data"]["result"], "refuse");
    let mut rest = String::new();
    while let Ok(Some(l)) = err.next_line().await {
        rest.push_str(&l);
        rest.push('\n');
    }
    assert!(rest.contains("refused push (403)"), "{rest}");
    assert!(!rest.contains(TOKEN) && !rest.contains(AES));
}

#[tokio::test]
async fn http_mode_needs_its_configuration() {
    let child = yida(&["events", "http", "--listen", "127.0.0.1:0"], &[]);
    let out = tokio::time::timeout(WAIT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("YIDA_CALLBACK_TOKEN"));
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn stream_mode_prints_events_acks_them_and_stops_on_sigterm() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ws_url = format!("ws://{}/gw", listener.local_addr().unwrap());
    let open = MockServer::always(Reply::json(json!({"endpoint": ws_url, "ticket": "t-1"}))).await;
    let mut child = yida(
        &["events", "stream"],
        &[
            ("YIDA_APP_KEY", "cli-app-key"),
            ("YIDA_APP_SECRET", "cli-app-secret"),
            ("YIDA_ENDPOINT", &open.url()),
        ],
    );
    let (tcp, _) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .unwrap()
        .unwrap();
    let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
    assert_eq!(open.requests()[0].json()["clientId"], "cli-app-key");
    let frame = json!({
        "specVersion": "1.0", "type": "EVENT",
        "headers": {"messageId": "m-1", "eventId": "e-1", "eventType": "bpms_task_change",
                    "eventCorpId": "dingcorp9", "eventBornTime": "1683533823336", "topic": "*",
                    "contentType": "application/json"},
        "data": json!({"processInstanceId": "PI-7", "type": "finish", "result": "agree"}).to_string()
    });
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
    let ack = loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            Message::Text(t) => break serde_json::from_str::<Value>(t.as_str()).unwrap(),
            _ => continue,
        }
    };
    assert_eq!(ack["headers"]["messageId"], "m-1");
    let data: Value = serde_json::from_str(ack["data"].as_str().unwrap()).unwrap();
    assert_eq!(data["status"], "SUCCESS");
    sigterm(&child);
    // The client closes its socket on the way out.
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
            Some(Ok(_)) => {}
        }
    }
    let out = stdout_lines(&mut child).await;
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(
        out,
        vec![
            json!({"type": "bpms_task_change", "eventId": "e-1", "corpId": "dingcorp9",
                    "data": {"processInstanceId": "PI-7", "type": "finish", "result": "agree"}})
        ]
    );
}
