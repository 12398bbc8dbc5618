//! The ISV path from the command line (issue 19 items 16, 21, 22): the emulator's options,
//! the suite-ticket store of `yida events` and `yida call`, test pushes.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Runs `yida` with `args` and only `env` (plus PATH); kills it after `limit`. Returns exit
/// code (`None`: killed), stdout, stderr.
fn yida_bounded(
    args: &[&str],
    env: &[(&str, &str)],
    limit: Duration,
) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_yida"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run yida");
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Item 16: `--token-lifetime 18446744073709551615` was accepted, and every token request
/// then panicked; it is refused naming the option.
#[test]
fn emulator_token_lifetime_out_of_range_is_refused() {
    for bad in ["18446744073709551615", "2592001", "0"] {
        let (code, stdout, stderr) = yida_bounded(
            &["emulator", "--token-lifetime", bad],
            &[],
            Duration::from_secs(10),
        );
        assert_eq!(code, Some(2), "{bad}: stdout {stdout} stderr {stderr}");
        assert!(stderr.contains("--token-lifetime"), "{stderr}");
        assert!(stdout.is_empty(), "nothing served: {stdout}");
    }
}

/// Item 16 from the command line: `--data FILE --reset` on a file that is not an emulator
/// database is refused, and the file is left as it was.
#[test]
fn emulator_reset_refuses_a_foreign_file() {
    let dir = std::env::temp_dir().join(format!("yida-cli-isv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("notes.txt");
    std::fs::write(&path, "keep me\n").unwrap();
    let (code, stdout, stderr) = yida_bounded(
        &["emulator", "--data", path.to_str().unwrap(), "--reset"],
        &[],
        Duration::from_secs(10),
    );
    assert!(
        matches!(code, Some(c) if c != 0),
        "{code:?} {stdout} {stderr}"
    );
    assert!(stderr.contains("not an emulator database"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me\n");
    let _ = std::fs::remove_dir_all(&dir);
}

const CALLBACK_TOKEN: &str = "cb-token-123456";
const AES_KEY: &str = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij";
const SUITE_KEY: &str = "suitekey1";

/// A running `yida events http` (killed on drop) and the address it listens on.
struct Receiver {
    child: std::process::Child,
    addr: String,
    stdout: std::sync::mpsc::Receiver<String>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `yida events http` with `extra` arguments; waits (bounded) for its address.
fn receiver(extra: &[&str]) -> Receiver {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_yida"))
        .args(["events", "http", "--listen", "127.0.0.1:0"])
        .args(extra)
        .env_clear()
        .env("YIDA_CALLBACK_TOKEN", CALLBACK_TOKEN)
        .env("YIDA_CALLBACK_AES_KEY", AES_KEY)
        .env("YIDA_CALLBACK_KEY", SUITE_KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run yida events http");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            if let Some(addr) = line.strip_prefix("listening on ") {
                let _ = tx.send(addr.to_string());
            }
        }
    });
    let stdout = child.stdout.take().unwrap();
    let (out_tx, out_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = out_tx.send(line);
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("yida events http did not start");
    Receiver {
        child,
        addr,
        stdout: out_rx,
    }
}

/// One push as DingTalk sends it: `{"encrypt"}` body, signature, timestamp and nonce in the
/// query. Returns the HTTP status.
fn push(addr: &str, message: &serde_json::Value) -> u16 {
    let crypto = yida_events::CallbackCrypto::new(CALLBACK_TOKEN, AES_KEY, SUITE_KEY).unwrap();
    let encrypt = crypto.encrypt(message.to_string().as_bytes()).unwrap();
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let nonce = "nonce123";
    let signature = crypto.signature(&timestamp, nonce, &encrypt);
    let url = format!(
        "http://{addr}/callback?msg_signature={signature}&timestamp={timestamp}&nonce={nonce}"
    );
    let body = serde_json::json!({ "encrypt": encrypt }).to_string();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    yida_auth::ensure_tls_provider();
    rt.block_on(async {
        reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}

/// Item 21. A suite ticket pushed (encrypted and signed, as DingTalk does) to `yida events
/// http --ticket-store file:…` is used by the next `yida call` to fetch the company's token:
/// the token endpoint receives that ticket. Before, nothing in the CLI could use a pushed
/// ticket (`yida call` needed YIDA_SUITE_TICKET).
#[test]
fn a_pushed_ticket_is_used_by_the_next_call() {
    let dir = std::env::temp_dir().join(format!("yida-cli-isv-push-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = format!("file:{}", dir.join("ticket").display());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(yida_e2e::MockServer::start(|r, _| {
        if r.path == "/v1.0/oauth2/corpAccessToken" {
            return yida_e2e::Reply::json(
                serde_json::json!({"accessToken": "corp-token-acme", "expireIn": 7200}),
            );
        }
        yida_e2e::Reply::json(serde_json::json!({"formInstId": "FINST-1"}))
    }));

    let recv = receiver(&["--ticket-store", &store]);
    let pushed_at = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let status = push(
        &recv.addr,
        &serde_json::json!({
            "EventType": "suite_ticket",
            "SuiteKey": SUITE_KEY,
            "SuiteTicket": "pushed-ticket-7f3a",
            "TimeStamp": pushed_at.to_string(),
        }),
    );
    assert_eq!(status, 200);
    let line = recv
        .stdout
        .recv_timeout(Duration::from_secs(10))
        .expect("the event is printed");
    assert!(line.contains("suite_ticket"), "{line}");
    assert!(
        !line.contains("pushed-ticket-7f3a"),
        "ticket printed: {line}"
    );
    drop(recv);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("ticket"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    let url = server.url();
    let env = [
        ("YIDA_ENDPOINT", url.as_str()),
        ("YIDA_SUITE_KEY", SUITE_KEY),
        ("YIDA_SUITE_SECRET", "suite-secret-value"),
        ("YIDA_AUTH_CORP_ID", "ding-corp-acme"),
        ("YIDA_TICKET_STORE", store.as_str()),
        ("YIDA_APP_TYPE", "APP_ACME"),
        ("YIDA_SYSTEM_TOKEN", "sys-acme"),
        ("YIDA_USER_ID", "user-1"),
    ];
    let (code, stdout, stderr) = yida_bounded(
        &["call", "GetFormDataByID", "--input", r#"{"id":"FINST-1"}"#],
        &env,
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0), "stdout {stdout} stderr {stderr}");
    assert!(stdout.contains("FINST-1"), "{stdout}");
    let requests = server.requests();
    let fetch = requests
        .iter()
        .find(|r| r.path == "/v1.0/oauth2/corpAccessToken")
        .expect("a corp token was fetched");
    let body = fetch.json();
    assert_eq!(body["suiteTicket"], "pushed-ticket-7f3a");
    assert_eq!(body["authCorpId"], "ding-corp-acme");
    assert_eq!(body["suiteKey"], SUITE_KEY);
    let call = requests.last().unwrap();
    assert_eq!(
        call.header("x-acs-dingtalk-access-token"),
        Some("corp-token-acme")
    );
    // The same with the flag, and `yida token`; both ticket sources at once are refused.
    let (code, stdout, _) = yida_bounded(
        &["token", "--ticket-store", &store],
        &env[..4],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0));
    assert_eq!(stdout.trim(), "corp-token-acme");
    let mut both = env.to_vec();
    both.push(("YIDA_SUITE_TICKET", "from-env"));
    let (code, _, stderr) = yida_bounded(&["token"], &both, Duration::from_secs(30));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not both"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The next stdout line of `recv` whose event type is `ty` (bounded).
fn next_event(recv: &Receiver, ty: &str) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = recv
            .stdout
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {ty} event within 20 s"));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        if v["type"] == ty {
            return v;
        }
    }
}

/// Item 22. The emulator plays DingTalk for an ISV over HTTP push: a suite ticket at start and
/// on the interval, tmp_auth_code and org_suite_auth when a company authorizes, approval
/// events, all encrypted and signed (received by a real `yida events http`, which checks
/// that). The pushed ticket, stored by the receiver, is the one the emulator then accepts for
/// the newly authorized company's token; `yida events push` sends one signed test push.
#[test]
fn the_emulator_pushes_isv_events_as_dingtalk_does() {
    let dir = std::env::temp_dir().join(format!("yida-cli-isv-emu-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let ticket_file = dir.join("ticket");
    let store = format!("file:{}", ticket_file.display());
    // The demo seed's suite is `suite-emulator`: the receiver decrypts for it.
    const SUITE: &str = "suite-emulator";
    let recv = {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_yida"))
            .args([
                "events",
                "http",
                "--listen",
                "127.0.0.1:0",
                "--ticket-store",
                &store,
            ])
            .env_clear()
            .env("YIDA_CALLBACK_TOKEN", CALLBACK_TOKEN)
            .env("YIDA_CALLBACK_AES_KEY", AES_KEY)
            .env("YIDA_CALLBACK_KEY", SUITE)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = tx.send(addr.to_string());
                }
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (out_tx, out_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                let _ = out_tx.send(line);
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(20)).unwrap();
        Receiver {
            child,
            addr,
            stdout: out_rx,
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let callback = yida_emulator::Callback {
        url: format!("http://{}/dingtalk/callback", recv.addr),
        token: CALLBACK_TOKEN.into(),
        aes_key: AES_KEY.into(),
        ticket_interval: Duration::from_millis(700),
    };
    let emu = rt
        .block_on(yida_emulator::Emulator::start_with(
            yida_emulator::Options::default().callback(callback),
        ))
        .unwrap();
    // A ticket at start, and another after the interval.
    let first = next_event(&recv, "suite_ticket");
    let second = next_event(&recv, "suite_ticket");
    assert_eq!(first["data"]["SuiteKey"], SUITE, "{first}");
    let line = format!("{first}{second}");
    assert!(
        !line.contains(&emu.seed().suites[0].suite_ticket),
        "ticket printed"
    );
    // A company authorizes the suite (the admin endpoint).
    yida_auth::ensure_tls_provider();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{}/_emulator/authorize", emu.endpoint()))
            .body(r#"{"corpId":"ding-new-corp"}"#)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 200);
    let code = next_event(&recv, "tmp_auth_code");
    assert_eq!(code["corpId"], "ding-new-corp");
    let auth = next_event(&recv, "org_suite_auth");
    assert_eq!(auth["corpId"], "ding-new-corp");
    // An approval event.
    rt.block_on(async {
        let c = yida_api::Client::builder()
            .endpoint(emu.endpoint())
            .internal_app(emu.app_key(), emu.app_secret())
            .unwrap()
            .context(emu.app_context())
            .build()
            .unwrap();
        let op = yida_api::operation("StartInstance", "2.0").expect("processes area");
        c.call(
            op,
            serde_json::json!({"formUuid": "FORM-DEMO", "processCode": "TPROC--DEMO",
                               "formDataJson": "{\"textField_title\":\"trip\"}"}),
        )
        .await
        .unwrap();
    });
    let approval = next_event(&recv, "bpms_instance_change");
    assert!(
        approval["data"]["processInstanceId"].is_string(),
        "{approval}"
    );

    // The newly authorized company's token, with the ticket the receiver stored: the
    // emulator accepts only the ticket it pushed last.
    let url = emu.endpoint();
    let env = [
        ("YIDA_ENDPOINT", url.as_str()),
        ("YIDA_SUITE_KEY", SUITE),
        ("YIDA_SUITE_SECRET", "emulator-suite-secret"),
        ("YIDA_AUTH_CORP_ID", "ding-new-corp"),
        ("YIDA_TICKET_STORE", store.as_str()),
    ];
    let mut ok = false;
    for _ in 0..3 {
        // A push may land between reading the store and the token request: retry.
        let (code, stdout, stderr) = yida_bounded(&["token"], &env, Duration::from_secs(30));
        if code == Some(0) && stdout.trim().starts_with("emu") {
            ok = true;
            break;
        }
        eprintln!("token attempt: {code:?} {stderr}");
    }
    assert!(ok, "a corp token with the pushed ticket");

    // `yida events push`: one signed test push, acknowledged.
    let push_env = [
        ("YIDA_CALLBACK_TOKEN", CALLBACK_TOKEN),
        ("YIDA_CALLBACK_AES_KEY", AES_KEY),
        ("YIDA_CALLBACK_KEY", SUITE),
    ];
    let to = format!("http://{}/", recv.addr);
    let (code, _, stderr) = yida_bounded(
        &[
            "events",
            "push",
            "--to",
            &to,
            "--type",
            "suite_ticket",
            "--ticket",
            "hand-pushed-1",
        ],
        &push_env,
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("acknowledged"), "{stderr}");
    assert!(!stderr.contains("hand-pushed-1"), "{stderr}");
    let _ = next_event(&recv, "suite_ticket");
    drop(emu);
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ticket_file).unwrap()).unwrap();
    assert_eq!(stored["ticket"], "hand-pushed-1");
    // Signed with another token: refused, and `yida events push` says so (exit 1).
    let (code, _, stderr) = yida_bounded(
        &["events", "push", "--to", &to, "--type", "check_url"],
        &[
            ("YIDA_CALLBACK_TOKEN", "wrong-token"),
            ("YIDA_CALLBACK_AES_KEY", AES_KEY),
            ("YIDA_CALLBACK_KEY", SUITE),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("not acknowledged"), "{stderr}");
    drop(recv);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `yida emulator --callback` prints what the receiver needs.
#[test]
fn emulator_callback_prints_the_receiver_settings() {
    let (_, stdout, stderr) = yida_bounded(
        &[
            "emulator",
            "--callback",
            "http://127.0.0.1:9/cb",
            "--ticket-interval",
            "3600",
        ],
        &[],
        Duration::from_secs(3),
    );
    for name in [
        "YIDA_CALLBACK_TOKEN=",
        "YIDA_CALLBACK_AES_KEY=",
        "YIDA_CALLBACK_KEY=suite-emulator",
        "YIDA_SUITE_KEY=suite-emulator",
    ] {
        assert!(stdout.contains(name), "{name} missing: {stdout} {stderr}");
    }
}
