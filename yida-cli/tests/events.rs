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
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
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
    let http = {
        yida_auth::ensure_tls_provider();
        reqwest::Client::new()
    };
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
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
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
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
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

// ---- Issue 19 (hardening round 3) ----

const HTTP_ENV: [(&str, &str); 3] = [
    ("YIDA_CALLBACK_TOKEN", TOKEN),
    ("YIDA_CALLBACK_AES_KEY", AES),
    ("YIDA_CALLBACK_KEY", OWNER),
];

/// `yida events http` with `stdout` as given and extra flags; returns the child, its stderr
/// lines and its address.
async fn http_receiver(
    stdout: Stdio,
    extra: &[&str],
    shell_prefix: Option<&str>,
) -> (
    Child,
    tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
    String,
) {
    let mut args = vec![
        "events",
        "http",
        "--listen",
        "127.0.0.1:0",
        "--max-age",
        "0",
    ];
    args.extend_from_slice(extra);
    let mut cmd = match shell_prefix {
        // e.g. `ulimit -n 1024`: the limits of a default Linux service.
        Some(prefix) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("{prefix}; exec \"$0\" \"$@\""))
                .arg(env!("CARGO_BIN_EXE_yida"))
                .args(&args);
            c
        }
        None => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_yida"));
            c.args(&args);
            c
        }
    };
    let mut child = cmd
        .env_clear()
        .envs(HTTP_ENV.iter().copied())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run yida");
    let mut err = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = stderr_line(&mut err, "listening on ").await;
    let addr = line.trim_start_matches("listening on ").trim().to_string();
    (child, err, addr)
}

async fn valid_push(http: &reqwest::Client, addr: &str) -> reqwest::Result<reqwest::Response> {
    http.post(format!("http://{addr}/cb?msg_signature={BPMS_SIG}&{Q}"))
        .json(&json!({ "encrypt": BPMS }))
        .send()
        .await
}

async fn exits_with_failure(child: &mut Child) -> std::process::ExitStatus {
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("receiver did not stop")
        .unwrap();
    assert!(!status.success(), "{status:?}");
    status
}

async fn rest_of(mut err: tokio::io::Lines<BufReader<tokio::process::ChildStderr>>) -> String {
    let mut rest = String::new();
    while let Ok(Ok(Some(l))) = tokio::time::timeout(WAIT, err.next_line()).await {
        rest.push_str(&l);
        rest.push('\n');
    }
    rest
}

#[tokio::test]
async fn http_mode_with_stdout_closed_answers_500_and_stops() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    let (mut child, err, addr) = http_receiver(Stdio::piped(), &[], None).await;
    drop(child.stdout.take()); // `yida events http … | true`
    let r = valid_push(
        &{
            yida_auth::ensure_tls_provider();
            reqwest::Client::new()
        },
        &addr,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 500, "acknowledged an event it could not print");
    assert!(r.text().await.unwrap().contains("stdout"));
    exits_with_failure(&mut child).await;
    let rest = rest_of(err).await;
    assert!(rest.contains("stdout failed"), "{rest}");
}

#[tokio::test]
async fn http_mode_with_stdout_on_dev_full_answers_500_and_stops() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let (mut child, err, addr) = http_receiver(Stdio::from(full), &[], None).await;
    let r = valid_push(
        &{
            yida_auth::ensure_tls_provider();
            reqwest::Client::new()
        },
        &addr,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 500);
    exits_with_failure(&mut child).await;
    let rest = rest_of(err).await;
    assert!(rest.contains("stdout failed"), "{rest}");
    assert!(rest.contains("No space left"), "{rest}");
}

#[tokio::test]
async fn http_mode_a_blocked_stdout_fails_the_push_without_stalling_other_connections() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
                                      // stdout is a pipe nobody reads: it fills after ~64 KiB of event lines.
    let (mut child, _err, addr) =
        http_receiver(Stdio::piped(), &["--write-timeout", "1"], None).await;
    let http = {
        yida_auth::ensure_tls_provider();
        reqwest::Client::builder()
    }
    .timeout(Duration::from_secs(5))
    .build()
    .unwrap();
    let mut first_failure = None;
    for i in 0..2000 {
        let r = valid_push(&http, &addr)
            .await
            .unwrap_or_else(|e| panic!("push {i} unanswered (receiver stalled): {e}"));
        if r.status() != 200 {
            first_failure = Some((i, r.status().as_u16()));
            break;
        }
    }
    let (n, status) = first_failure.expect("stdout never filled");
    assert_eq!(status, 500, "after {n} pushes");
    // Another connection is still served at once while stdout stays blocked.
    let r = http
        .post(format!("http://{addr}/cb?signature={WRONG_OWNER_SIG}&{Q}"))
        .json(&json!({ "encrypt": WRONG_OWNER }))
        .send()
        .await
        .expect("receiver stalled");
    assert_eq!(r.status(), 403);
    sigterm(&child);
    tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("no stop on SIGTERM with stdout blocked")
        .unwrap();
}

#[tokio::test]
async fn http_mode_serves_a_valid_push_after_1100_half_open_connections() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
                                      // The receiver runs with the 1,024 descriptors of a default service.
    let (mut child, _err, addr) = http_receiver(Stdio::piped(), &[], Some("ulimit -n 1024")).await;
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut held = Vec::new();
    for _ in 0..1100 {
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        use tokio::io::AsyncWriteExt;
        let _ = s.write_all(b"POST /cb HTTP/1.1\r\nHost: x\r\n").await;
        held.push(s);
    }
    let http = {
        yida_auth::ensure_tls_provider();
        reqwest::Client::builder()
    }
    .timeout(Duration::from_secs(5))
    .build()
    .unwrap();
    let r = valid_push(&http, &addr)
        .await
        .expect("valid push unanswered");
    assert_eq!(r.status(), 200);
    let line = tokio::time::timeout(WAIT, out.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(line.contains("PI-1"), "{line}");
    drop(held);
}

#[tokio::test]
async fn http_mode_closes_a_half_open_connection_after_the_header_timeout() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    use tokio::io::AsyncWriteExt;
    let (_child, _err, addr) =
        http_receiver(Stdio::piped(), &["--header-timeout", "1"], None).await;
    // One that sent part of its headers, one that sent nothing.
    let mut partial = tokio::net::TcpStream::connect(&addr).await.unwrap();
    partial
        .write_all(b"POST /cb HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut silent = tokio::net::TcpStream::connect(&addr).await.unwrap();
    for s in [&mut partial, &mut silent] {
        let mut buf = Vec::new();
        // EOF (or a 408 then EOF) within a few seconds, not after minutes.
        tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf))
            .await
            .expect("half-open connection still open after 5 s")
            .ok();
    }
}

#[tokio::test]
async fn http_mode_stops_on_sigterm_with_a_request_half_sent() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    use tokio::io::AsyncWriteExt;
    let (mut child, _err, addr) = http_receiver(Stdio::piped(), &[], None).await;
    let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
    s.write_all(b"POST /cb?x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"enc")
        .await
        .unwrap();
    let mut h = tokio::net::TcpStream::connect(&addr).await.unwrap();
    h.write_all(b"POST /cb HTTP/1.1\r\nHo").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await; // let the server read them
    sigterm(&child);
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("no exit on SIGTERM with a request half sent")
        .unwrap();
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn http_mode_refusals_are_short_and_rate_limited_in_the_log() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    let (mut child, err, addr) = http_receiver(Stdio::piped(), &[], None).await;
    let big = format!("\"{}\"", "x".repeat(100_000));
    let http = {
        yida_auth::ensure_tls_provider();
        reqwest::Client::new()
    };
    for _ in 0..200 {
        let r = http
            .post(format!("http://{addr}/cb?signature=00&{Q}"))
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let text = r.text().await.unwrap();
        assert!(text.len() < 200, "{} bytes in the 400 reply", text.len());
    }
    sigterm(&child);
    let _ = child.wait().await;
    let rest = rest_of(err).await;
    assert!(rest.len() < 10_000, "{} bytes of stderr", rest.len());
    assert!(rest.contains("refused push (400)"), "{rest}");
}

/// `yida events stream` against a one-connection gateway; returns the child and socket.
async fn stream_receiver(
    stdout: Stdio,
    extra: &[&str],
) -> (
    Child,
    tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
    MockServer,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ws_url = format!("ws://{}/gw", listener.local_addr().unwrap());
    let open = MockServer::always(Reply::json(json!({"endpoint": ws_url, "ticket": "t-1"}))).await;
    let mut args = vec!["events", "stream"];
    args.extend_from_slice(extra);
    let child = Command::new(env!("CARGO_BIN_EXE_yida"))
        .args(&args)
        .env_clear()
        .env("YIDA_APP_KEY", "cli-app-key")
        .env("YIDA_APP_SECRET", "cli-app-secret")
        .env("YIDA_ENDPOINT", open.url())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let (tcp, _) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .unwrap()
        .unwrap();
    let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
    (child, ws, open)
}

fn stream_event(mid: &str, pad: usize) -> Message {
    let frame = json!({
        "specVersion": "1.0", "type": "EVENT",
        "headers": {"messageId": mid, "eventId": mid, "eventType": "bpms_task_change",
                    "eventCorpId": "dingcorp9", "topic": "*", "contentType": "application/json"},
        "data": json!({"processInstanceId": "PI-7", "pad": "p".repeat(pad)}).to_string()
    });
    Message::Text(frame.to_string().into())
}

async fn next_ack(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
) -> (String, String) {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no ACK in time")
            .expect("socket ended")
            .expect("socket error")
        {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                let data: Value = serde_json::from_str(v["data"].as_str().unwrap()).unwrap();
                return (
                    v["headers"]["messageId"].as_str().unwrap().to_string(),
                    data["status"].as_str().unwrap().to_string(),
                );
            }
            _ => continue,
        }
    }
}

#[tokio::test]
async fn stream_mode_with_stdout_closed_acks_later_and_stops_with_a_message() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    let (mut child, mut ws, _open) = stream_receiver(Stdio::piped(), &[]).await;
    drop(child.stdout.take());
    let err = BufReader::new(child.stderr.take().unwrap()).lines();
    ws.send(stream_event("m-1", 0)).await.unwrap();
    assert_eq!(next_ack(&mut ws).await, ("m-1".into(), "LATER".into()));
    exits_with_failure(&mut child).await;
    let rest = rest_of(err).await;
    assert!(rest.contains("stdout failed"), "{rest}");
}

#[tokio::test]
async fn stream_mode_stops_on_sigterm_while_stdout_is_blocked() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    let (mut child, mut ws, _open) =
        stream_receiver(Stdio::piped(), &["--write-timeout", "1"]).await;
    // Nobody reads stdout: 8 KiB events fill the pipe after a few.
    let mut later = false;
    for i in 0..64 {
        ws.send(stream_event(&format!("m-{i}"), 8192))
            .await
            .unwrap();
        let (_, status) = next_ack(&mut ws).await;
        if status == "LATER" {
            later = true;
            break;
        }
    }
    assert!(later, "stdout never blocked");
    // Another event is blocked in the write when SIGTERM comes.
    ws.send(stream_event("m-last", 8192)).await.unwrap();
    sigterm(&child);
    tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("no exit on SIGTERM while stdout is blocked")
        .unwrap();
}
