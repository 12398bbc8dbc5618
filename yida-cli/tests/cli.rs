//! The `yida` binary against a local server: input checking, output, errors, configuration.

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use yida_e2e::{MockServer, Reply};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `yida` with only the given environment (plus PATH), feeding `stdin`.
async fn yida(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let stdin = stdin.map(str::to_string);
    let out: Output = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_yida"));
        cmd.args(&args)
            .env_clear()
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().expect("run yida");
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn env_for(server: &MockServer) -> Vec<(&'static str, String)> {
    vec![
        ("YIDA_ENDPOINT", server.url()),
        ("YIDA_ACCESS_TOKEN", "cli-token-1".into()),
        ("YIDA_APP_TYPE", "APP_CLI".into()),
        ("YIDA_SYSTEM_TOKEN", "sys-cli-secret".into()),
        ("YIDA_USER_ID", "cli-user".into()),
    ]
}

fn refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn call_sends_the_typed_request_and_prints_the_reply() {
    let server = MockServer::always(Reply::json(json!({"result": "FINST-CLI"}))).await;
    let env = env_for(&server);
    // formDataJson given as the JSON value...
    let run = yida(
        &[
            "call",
            "SaveFormData",
            "--api-version",
            "2.0",
            "--input",
            r#"{"formUuid":"FORM-1","formDataJson":{"textField_a":"x"}}"#,
        ],
        &refs(&env),
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(out, json!({"result": "FINST-CLI"}));
    // ...or as the text, as on the wire: the same request either way.
    let run = yida(
        &[
            "call",
            "SaveFormData",
            "--api-version",
            "2.0",
            "--input",
            r#"{"formUuid":"FORM-1","formDataJson":"{\"textField_a\":\"x\"}"}"#,
        ],
        &refs(&env),
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    for r in &reqs {
        assert_eq!(
            (r.method.as_str(), r.path.as_str()),
            ("POST", "/v2.0/yida/forms/instances")
        );
        assert_eq!(r.header("x-acs-dingtalk-access-token"), Some("cli-token-1"));
        let b = r.json();
        assert_eq!(b["formDataJson"], r#"{"textField_a":"x"}"#);
        assert_eq!(
            (
                b["appType"].as_str(),
                b["systemToken"].as_str(),
                b["userId"].as_str()
            ),
            (Some("APP_CLI"), Some("sys-cli-secret"), Some("cli-user"))
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn path_parameters_come_from_the_input_and_version_defaults_to_1_0() {
    let server = MockServer::always(Reply::json(json!({"formInstId": "a/b"}))).await;
    let env = env_for(&server);
    let run = yida(
        &["call", "GetFormDataByID", "--input", r#"{"id":"a/b"}"#],
        &refs(&env),
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        server.requests()[0].path,
        "/v1.0/yida/forms/instances/a%2Fb"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap()["formInstId"],
        "a/b"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn input_from_a_file_or_stdin_and_empty_replies_print_nothing() {
    let server = MockServer::always(Reply::empty()).await;
    let env = env_for(&server);
    let dir = std::env::temp_dir().join(format!("yida-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("input.json");
    std::fs::write(&file, r#"{"processInstanceId":"P-1"}"#).unwrap();
    let at = format!("@{}", file.display());
    let run = yida(
        &["call", "TerminateInstance", "--input", &at],
        &refs(&env),
        None,
    )
    .await;
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    let run = yida(
        &["call", "TerminateInstance", "--input", "-"],
        &refs(&env),
        Some(r#"{"processInstanceId":"P-2"}"#),
    )
    .await;
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    let reqs = server.requests();
    assert_eq!(
        reqs[0].query_param("processInstanceId").as_deref(),
        Some("P-1")
    );
    assert_eq!(
        reqs[1].query_param("processInstanceId").as_deref(),
        Some("P-2")
    );
    assert_eq!(reqs[1].method, "PUT");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_naming_the_parameter_before_anything_is_sent() {
    let server = MockServer::always(Reply::json(json!({}))).await;
    let env = env_for(&server);
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "call",
                "SaveFormData",
                "--api-version",
                "2.0",
                "--input",
                r#"{"formUuid":"F","formDataJson":{},"bogusParam":1}"#,
            ],
            "bogusParam",
        ),
        (
            &[
                "call",
                "SaveFormData",
                "--api-version",
                "2.0",
                "--input",
                r#"{"formDataJson":{}}"#,
            ],
            "formUuid",
        ),
        (
            &[
                "call",
                "SaveFormData",
                "--api-version",
                "2.0",
                "--input",
                r#"{"formUuid":"F","formDataJson":"{oops"}"#,
            ],
            "formDataJson",
        ),
        (
            &["call", "SaveFormData", "--api-version", "3.0"],
            "--api-version",
        ),
        (&["call", "NoSuchAction"], "NoSuchAction"),
        (&["call", "RestartInstance"], "2.0"),
        (&["call", "SaveFormData", "--input", "[1,2]"], "JSON object"),
        (
            &["call", "SaveFormData", "--input", "{not json"],
            "not valid JSON",
        ),
    ];
    for (args, needle) in cases {
        let run = yida(args, &refs(&env), None).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(needle),
            "{args:?} should name {needle}: {}",
            run.stderr
        );
    }
    // A required context parameter missing from both input and environment.
    let no_ctx: Vec<(&str, &str)> = vec![
        ("YIDA_ENDPOINT", env[0].1.as_str()),
        ("YIDA_ACCESS_TOKEN", "t"),
    ];
    let run = yida(
        &[
            "call",
            "SaveFormData",
            "--api-version",
            "2.0",
            "--input",
            r#"{"formUuid":"F","formDataJson":{}}"#,
        ],
        &no_ctx,
        None,
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("appType"), "{}", run.stderr);
    assert_eq!(server.count(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_errors_exit_non_zero_with_status_code_message_and_request_id() {
    let server = MockServer::always(Reply::error(
        403,
        "Forbidden.AccessDenied.AccessTokenPermissionDenied",
        "没有调用该接口的权限",
        "REQ-CLI-1",
    ))
    .await;
    let env = env_for(&server);
    let run = yida(
        &[
            "call",
            "SearchFormDatas",
            "--api-version",
            "2.0",
            "--input",
            r#"{"formUuid":"F"}"#,
        ],
        &refs(&env),
        None,
    )
    .await;
    assert_eq!(run.code, 1);
    for needle in [
        "403",
        "Forbidden.AccessDenied.AccessTokenPermissionDenied",
        "没有调用该接口的权限",
        "REQ-CLI-1",
        "Yida.Form.Read",
    ] {
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
    assert!(!run.stderr.contains("sys-cli-secret") && !run.stderr.contains("cli-token-1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn all_prints_one_json_item_per_line_with_progress_on_stderr() {
    let server = MockServer::start(|r, _| {
        let b = r.json();
        let (page, size) = (
            b["currentPage"].as_i64().unwrap(),
            b["pageSize"].as_i64().unwrap(),
        );
        let start = (page - 1) * size;
        let data: Vec<_> = (start..(start + size).min(250))
            .map(|i| json!({"dataId": i}))
            .collect();
        Reply::json(json!({"currentPage": page, "totalCount": 250, "data": data}))
    })
    .await;
    let env = env_for(&server);
    let run = yida(
        &[
            "call",
            "SearchFormDatas",
            "--api-version",
            "2.0",
            "--input",
            r#"{"formUuid":"F"}"#,
            "--all",
        ],
        &refs(&env),
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 250);
    assert_eq!(lines[249], json!({"dataId": 249}));
    assert!(run.stderr.contains("250/250"), "{}", run.stderr);
    assert_eq!(server.count(), 3);
    let run = yida(&["call", "SaveFormData", "--all"], &refs(&env), None).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("not a paginated operation"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ops_lists_every_operation() {
    let run = yida(&["ops"], &[], None).await;
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.trim_end().ends_with("125 operations"),
        "{}",
        run.stdout
    );
    let run = yida(&["ops", "--json"], &[], None).await;
    let list: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(list.len(), 125);
    let save = list
        .iter()
        .find(|o| o["action"] == "SaveFormData" && o["version"] == "1.0")
        .unwrap();
    assert_eq!(save["legacy"], "SaveFormData@2.0");
    assert_eq!(save["seed"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn token_prints_a_fresh_token_and_missing_variables_are_named() {
    let tokens = MockServer::always(Reply::json(
        json!({"accessToken": "fresh-token-42", "expireIn": 7200}),
    ))
    .await;
    let url = tokens.url();
    let run = yida(
        &["token"],
        &[
            ("YIDA_ENDPOINT", &url),
            ("YIDA_APP_KEY", "k"),
            ("YIDA_APP_SECRET", "app-secret-cli"),
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.trim(), "fresh-token-42");
    assert!(run.stderr.contains("credential"));
    assert_eq!(
        tokens.requests()[0].json(),
        json!({"appKey": "k", "appSecret": "app-secret-cli"})
    );
    let run = yida(
        &["token"],
        &[("YIDA_ENDPOINT", &url), ("YIDA_APP_KEY", "k")],
        None,
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("YIDA_APP_SECRET"), "{}", run.stderr);
    let run = yida(
        &["token"],
        &[
            ("YIDA_ENDPOINT", &url),
            ("YIDA_SUITE_KEY", "k"),
            ("YIDA_SUITE_SECRET", "s"),
            ("YIDA_SUITE_TICKET", "t"),
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("YIDA_AUTH_CORP_ID"), "{}", run.stderr);
    let run = yida(&["token"], &[], None).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("YIDA_ACCESS_TOKEN"));
    // Third-party credentials go to the corp token endpoint.
    let run = yida(
        &["token"],
        &[
            ("YIDA_ENDPOINT", &url),
            ("YIDA_SUITE_KEY", "sk"),
            ("YIDA_SUITE_SECRET", "ss"),
            ("YIDA_SUITE_TICKET", "st"),
            ("YIDA_AUTH_CORP_ID", "corp9"),
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let last = tokens.requests().pop().unwrap();
    assert_eq!(last.path, "/v1.0/oauth2/corpAccessToken");
    assert_eq!(last.json()["authCorpId"], "corp9");
}

#[tokio::test(flavor = "multi_thread")]
async fn yida_timeout_is_read_and_checked() {
    let server = MockServer::always(Reply::Delay(
        std::time::Duration::from_secs(5),
        Box::new(Reply::json(json!({}))),
    ))
    .await;
    let save = [
        "call",
        "SaveFormData",
        "--api-version",
        "2.0",
        "--input",
        r#"{"formUuid":"F","formDataJson":{}}"#,
    ];
    // 0.2 s: a write is not retried after a timeout, so this fails after one attempt.
    for (timeout, code, needle) in [
        ("0.2", 1, "timed out"),
        ("soon", 2, "YIDA_TIMEOUT"),
        ("-1", 2, "YIDA_TIMEOUT"),
        ("1e300", 2, "YIDA_TIMEOUT"),
    ] {
        let mut env = env_for(&server);
        env.push(("YIDA_TIMEOUT", timeout.into()));
        let run = yida(&save, &refs(&env), None).await;
        assert_eq!(run.code, code, "YIDA_TIMEOUT={timeout}: {}", run.stderr);
        assert!(
            run.stderr.contains(needle),
            "YIDA_TIMEOUT={timeout}: {}",
            run.stderr
        );
    }
    assert_eq!(server.count(), 1, "only the valid timeout sent a request");
}

fn sample(ty: &str) -> Value {
    if let Some(inner) = ty.strip_prefix("list<").and_then(|t| t.strip_suffix('>')) {
        return json!([sample(inner)]);
    }
    if let Some(inner) = ty.strip_prefix("map<").and_then(|t| t.strip_suffix('>')) {
        return json!({"k": sample(inner)});
    }
    match ty {
        "string" => json!("v 1/2"),
        "i64" => json!(3),
        "f64" => json!(1.5),
        "bool" => json!(false),
        "json_text" => json!({"textField_x": "y"}),
        _ => json!({"any": [1]}),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_operation_is_callable_through_yida_call() {
    let server = MockServer::always(Reply::json(json!({}))).await;
    let env = env_for(&server);
    let run = yida(&["ops", "--json"], &[], None).await;
    let ops: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(ops.len(), 125);
    for (i, op) in ops.iter().enumerate() {
        let (action, version) = (
            op["action"].as_str().unwrap(),
            op["version"].as_str().unwrap(),
        );
        let mut input = serde_json::Map::new();
        for p in op["params"].as_array().unwrap() {
            input.insert(
                p["name"].as_str().unwrap().to_string(),
                sample(p["type"].as_str().unwrap()),
            );
        }
        let input = Value::Object(input).to_string();
        let run = yida(
            &["call", action, "--api-version", version, "--input", &input],
            &refs(&env),
            None,
        )
        .await;
        assert_eq!(run.code, 0, "{action}@{version}: {}", run.stderr);
        let reqs = server.requests();
        assert_eq!(reqs.len(), i + 1, "{action}@{version}: one request");
        let r = &reqs[i];
        assert_eq!(
            r.method,
            op["method"].as_str().unwrap(),
            "{action}@{version}"
        );
        let template = op["path"].as_str().unwrap();
        let literal = template.split('{').next().unwrap();
        assert!(
            r.path.starts_with(literal),
            "{action}@{version}: {} vs {template}",
            r.path
        );
        assert!(
            !r.path.contains('{') && !r.path.contains(' '),
            "{action}@{version}: placeholders filled and encoded: {}",
            r.path
        );
        assert_eq!(r.header("x-acs-dingtalk-access-token"), Some("cli-token-1"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn all_draws_a_progress_bar_when_stderr_is_a_terminal() {
    let server = MockServer::start(|r, _| {
        let b = r.json();
        let page = b["currentPage"].as_i64().unwrap();
        let data: Vec<_> = (0..if page < 3 { 100 } else { 50 })
            .map(|i| json!({"dataId": i}))
            .collect();
        Reply::json(json!({"currentPage": page, "totalCount": 250, "data": data}))
    })
    .await;
    let env = env_for(&server);
    // `script` runs the command on a pseudo-terminal.
    let cmd = format!(
        "{} call SearchFormDatas --api-version 2.0 --input '{{\"formUuid\":\"F\"}}' --all",
        env!("CARGO_BIN_EXE_yida")
    );
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .env_clear()
            .envs(env)
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::null())
            .output()
            .expect("script(1) runs")
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("[{}] 250/250 items", "#".repeat(30))),
        "{text}"
    );
    assert_eq!(server.count(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn help_lists_the_commands_and_version_prints_the_version() {
    let run = yida(&["--help"], &[], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    for needle in ["call", "ops", "token", "YIDA_ENDPOINT", "EXIT CODES"] {
        assert!(run.stdout.contains(needle), "{needle}: {}", run.stdout);
    }
    let run = yida(&["--version"], &[], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        format!("yida {}", env!("CARGO_PKG_VERSION"))
    );
    let run = yida(&["nosuchcommand"], &[], None).await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("nosuchcommand"), "{}", run.stderr);
}
