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
async fn path_parameters_come_from_the_input_and_version_defaults_to_the_current_one() {
    let server = MockServer::always(Reply::json(json!({"formInstId": "a/b"}))).await;
    let env = env_for(&server);
    // No --api-version: the current 2.0 operation, silently.
    let run = yida(
        &["call", "GetFormDataByID", "--input", r#"{"id":"a/b"}"#],
        &refs(&env),
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(
        server.requests()[0].path,
        "/v2.0/yida/forms/instances/a%2Fb"
    );
    assert_eq!(
        serde_json::from_str::<Value>(&run.stdout).unwrap()["formInstId"],
        "a/b"
    );
    // The legacy 1.0 operation, asked for: sent, with a note naming its replacement.
    let run = yida(
        &[
            "call",
            "GetFormDataByID",
            "--api-version",
            "1.0",
            "--input",
            r#"{"id":"a/b"}"#,
        ],
        &refs(&env),
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        server.requests()[1].path,
        "/v1.0/yida/forms/instances/a%2Fb"
    );
    assert!(
        run.stderr.contains("legacy") && run.stderr.contains("GetFormDataByID@2.0"),
        "{}",
        run.stderr
    );
    // An operation with one version needs no --api-version either.
    let run = yida(
        &[
            "call",
            "TerminateInstance",
            "--input",
            r#"{"processInstanceId":"P"}"#,
        ],
        &refs(&env),
        None,
    )
    .await;
    // A write whose reply is empty says it was sent.
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, "ok: TerminateInstance@1.0 sent; the reply is empty\n")
    );
    assert_eq!(server.count(), 3);
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
        (&["call", "RestartInstance", "--api-version", "1.0"], "2.0"),
        (&["call", "SaveFormDta"], "did you mean `SaveFormData`"),
        (
            &[
                "call",
                "SaveFormData",
                "--input",
                r#"{"formUid":"F","formDataJson":{}}"#,
            ],
            "unknown parameter `formUid`: did you mean `formUuid`?",
        ),
        (
            &[
                "call",
                "SearchFormDatas",
                "--input",
                r#"{"formUuid":"F","pageSize":"ten"}"#,
            ],
            "parameter `pageSize` must be an integer (i64), not a string",
        ),
        (
            &["call", "SearchFormDatas", "--input", r#"{"formUuid":7}"#],
            "parameter `formUuid` must be a string",
        ),
        (
            &[
                "call",
                "SaveFormData",
                "--input",
                r#"{"formUuid":"F","formDataJson":{},"useAlias":"yes"}"#,
            ],
            "parameter `useAlias` must be a boolean",
        ),
        (&["call", "SaveFormData", "--input", "[1,2]"], "JSON object"),
        (
            &["call", "SaveFormData", "--input", "{not json"],
            "not valid JSON",
        ),
    ];
    for (args, needle) in cases {
        let run = yida(args, &refs(&env), None).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.matches("error:").count(), 1, "{}", run.stderr);
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
    let total = yida_api::operations().len();
    assert!(
        run.stdout
            .trim_end()
            .ends_with(&format!("\n{total} operations")),
        "{}",
        run.stdout
    );
    let run = yida(&["ops", "--json"], &[], None).await;
    let list: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(list.len(), total);
    let save = list
        .iter()
        .find(|o| o["action"] == "SaveFormData" && o["version"] == "1.0")
        .unwrap();
    assert_eq!(save["legacy"], "SaveFormData@2.0");
    assert_eq!(save["seed"], true);
    // Every operation carries its risk class from the spec.
    let risk = |action: &str, version: &str| {
        list.iter()
            .find(|o| o["action"] == action && o["version"] == version)
            .map(|o| o["risk"].clone())
            .unwrap()
    };
    assert_eq!(save["risk"], "write");
    assert_eq!(risk("SearchFormDatas", "2.0"), "read");
    assert_eq!(risk("DeleteFormData", "1.0"), "irreversible");
    assert_eq!(risk("ExecuteTask", "1.0"), "irreversible");
    assert!(list
        .iter()
        .all(|o| ["read", "write", "irreversible"].contains(&o["risk"].as_str().unwrap())));
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
    assert_eq!(ops.len(), yida_api::operations().len());
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
    if !yida_e2e::require_program("script", "bsdutils") {
        return;
    }
    let server = MockServer::start(|r, _| {
        let b = r.json();
        let page = b["currentPage"].as_i64().unwrap();
        let data: Vec<_> = (0..if page < 3 { 100 } else { 50 })
            .map(|i| json!({"dataId": (page - 1) * 100 + i}))
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
            .env("TERM", "xterm")
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

// ---- issue 12: help from the spec, suggestions, filters, completions, logs ----

#[tokio::test(flavor = "multi_thread")]
async fn call_action_help_lists_the_operations_parameters_from_the_spec() {
    let run = yida(&["call", "SaveFormData", "--help"], &[], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &run.stdout;
    assert!(out.starts_with("SaveFormData@2.0: "), "{out}");
    assert!(out.contains("POST /v2.0/yida/forms/instances"), "{out}");
    assert!(out.contains("Yida.Form.Write"), "{out}");
    let row = |name: &str| {
        out.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row for {name}: {out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        row("formDataJson")[..4],
        ["formDataJson", "json_text", "yes", "body"]
    );
    assert_eq!(row("useAlias")[..4], ["useAlias", "bool", "no", "body"]);
    assert!(row("appType").join(" ").contains("$YIDA_APP_TYPE"), "{out}");
    // The description comes from the spec.
    assert!(out.contains("The form's code"), "{out}");
    assert!(out.contains("risk: write (changes data"), "{out}");
    let run = yida(&["call", "TerminateInstance", "--help"], &[], None).await;
    assert!(
        run.stdout.contains("risk: irreversible (cannot be undone"),
        "{}",
        run.stdout
    );
    // A legacy version, a GET with a path parameter, and `call --help` alone.
    let run = yida(
        &["call", "GetFormDataByID", "--api-version", "1.0", "--help"],
        &[],
        None,
    )
    .await;
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.contains("legacy: GetFormDataByID@2.0"),
        "{}",
        run.stdout
    );
    assert_eq!(
        row_of(&run.stdout, "id")[..4],
        ["id", "string", "yes", "path"]
    );
    let run = yida(&["call", "--help"], &[], None).await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("--api-version"), "{}", run.stdout);
    let run = yida(&["call", "SaveFormDta", "--help"], &[], None).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `SaveFormData`"),
        "{}",
        run.stderr
    );
}

fn row_of<'a>(out: &'a str, name: &str) -> Vec<&'a str> {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row for {name}: {out}"))
        .split_whitespace()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_case_action_is_corrected_without_advising_the_version_it_has() {
    let run = yida(&["call", "saveformdata", "--api-version", "2.0"], &[], None).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `SaveFormData`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("use --api-version"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn ops_filters_and_completions_are_generated() {
    let run = yida(&["ops", "formdata"], &[], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    let (rows, last) = lines.split_at(lines.len() - 1);
    assert_eq!(last[0], format!("{} operations", rows.len()));
    assert!(
        rows.len() > 3 && rows.len() < yida_api::operations().len(),
        "{}",
        run.stdout
    );
    assert!(rows.iter().all(|r| r.to_lowercase().contains("formdata")));
    let run = yida(&["ops", "SaveFormData", "--json"], &[], None).await;
    let list: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    let actions: Vec<&str> = list.iter().map(|o| o["action"].as_str().unwrap()).collect();
    assert!(
        actions.iter().filter(|a| **a == "SaveFormData").count() == 2 && actions.len() < 10,
        "{actions:?}"
    );
    let run = yida(&["ops", "no-such-thing"], &[], None).await;
    assert_eq!(run.stdout, "0 operations\n");
    for shell in ["bash", "zsh", "fish"] {
        let run = yida(&["completions", shell], &[], None).await;
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(
            run.stdout.contains("yida") && run.stdout.contains("completions"),
            "{shell}"
        );
    }
    let run = yida(&["completions", "tcsh"], &[], None).await;
    assert_eq!(run.code, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn verbose_and_rust_log_show_retries_on_stderr_without_secrets() {
    let busy_once = || {
        MockServer::script(vec![
            Reply::error(503, "ServiceUnavailable", "busy", "REQ-1"),
            Reply::json(json!({"totalCount": 0, "data": []})),
        ])
    };
    let args = ["call", "SearchFormDatas", "--input", r#"{"formUuid":"F"}"#];
    let server = busy_once().await;
    let run = yida(&args, &refs(&env_for(&server)), None).await;
    assert_eq!((run.code, server.count()), (0, 2), "{}", run.stderr);
    assert_eq!(run.stderr, "", "quiet without -v");
    for (flag, log) in [
        ("-v", None),
        ("-vv", None),
        ("--verbose", None),
        ("", Some("yida_api=debug")),
    ] {
        let server = busy_once().await;
        let mut env = env_for(&server);
        let mut args = args.to_vec();
        match log {
            Some(l) => env.push(("RUST_LOG", l.into())),
            None => args.insert(0, flag),
        }
        let run = yida(&args, &refs(&env), None).await;
        assert_eq!((run.code, server.count()), (0, 2), "{}", run.stderr);
        assert!(run.stderr.contains("retrying"), "{flag}: {}", run.stderr);
        assert!(
            run.stderr.contains("ServiceUnavailable"),
            "{flag}: {}",
            run.stderr
        );
        for secret in ["sys-cli-secret", "cli-token-1"] {
            assert!(
                !run.stderr.contains(secret),
                "{flag}: {secret}: {}",
                run.stderr
            );
        }
    }
}

// ---- issue 15: output errors, closed pipes, configuration, server text, replies ----

/// Runs `yida` with stdout sent to `stdout`; returns the exit code and stderr.
async fn yida_to(args: &[&str], env: &[(&str, &str)], stdout: Stdio) -> (i32, String) {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_yida"))
            .args(&args)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .output()
            .expect("run yida");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

/// A pipe whose reader is already closed.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

/// A server whose list never ends: full pages, a total far away (1,000 pages: the default
/// page cap, so the walk does not stop by itself before the pipe does).
async fn endless_pages() -> MockServer {
    MockServer::start(|r, _| {
        let page = r.json()["currentPage"].as_i64().unwrap_or(1);
        let data: Vec<_> = (0..100)
            .map(|i| json!({"dataId": i, "page": page}))
            .collect();
        Reply::json(json!({"currentPage": page, "totalCount": 100_000, "data": data}))
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_pipe_is_a_quiet_exit_never_a_panic() {
    let server = MockServer::always(Reply::json(json!({"result": "FINST-1"}))).await;
    let env = env_for(&server);
    let save = r#"{"formUuid":"F","formDataJson":{}}"#;
    for args in [
        vec!["--help"],
        vec!["--version"],
        vec!["ops"],
        vec!["ops", "--json"],
        vec!["call", "--help"],
        vec!["call", "SaveFormData", "--help"],
        vec!["completions", "bash"],
        vec!["call", "SaveFormData", "--input", save],
    ] {
        let (code, stderr) = yida_to(&args, &refs(&env), closed_pipe()).await;
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(code == 0 || code == 141, "{args:?}: exit {code}: {stderr}");
        if args[0] != "--help" && args[0] != "--version" {
            assert_eq!((code, stderr.as_str()), (141, ""), "{args:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn all_stops_calling_the_api_when_its_reader_goes_away() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    // Pages after the first are answered once the reader has gone (bounded wait), so the page
    // that finds the pipe closed is page 2 however the threads are scheduled: without the
    // gate, a slow reader lets page 2 fit in the pipe's buffer and page 3 find it closed.
    let closed = Arc::new(AtomicBool::new(false));
    let gate = closed.clone();
    let server = MockServer::start(move |r, _| {
        let page = r.json()["currentPage"].as_i64().unwrap_or(1);
        if page > 1 {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !gate.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        let data: Vec<_> = (0..100)
            .map(|i| json!({"dataId": i, "page": page}))
            .collect();
        Reply::json(json!({"currentPage": page, "totalCount": 100_000, "data": data}))
    })
    .await;
    let env = env_for(&server);
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let (code, first, stderr) = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_yida"))
            .args([
                "call",
                "SearchFormDatas",
                "--input",
                r#"{"formUuid":"F"}"#,
                "--all",
            ])
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // `head -1`: read one line, then close the pipe.
        let mut first = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut first,
        )
        .unwrap();
        closed.store(true, Ordering::SeqCst);
        // Bounded: a walk that does not stop is killed after 20 s (and the test fails).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let code = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break -1;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        (code, first, stderr)
    })
    .await
    .unwrap();
    assert_eq!(first.trim(), r#"{"dataId":0,"page":1}"#);
    assert_eq!(code, 141, "{stderr}");
    assert!(
        !stderr.contains("error") && !stderr.contains("panicked"),
        "{stderr}"
    );
    // The page that found the pipe closed is the last one asked for.
    assert!(server.count() <= 2, "{} pages fetched", server.count());
}

fn dev_full() -> Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
        .into()
}

#[tokio::test(flavor = "multi_thread")]
async fn output_errors_end_the_command_with_a_non_zero_exit_and_stop_the_walk() {
    let server = MockServer::always(Reply::json(json!({"result": "FINST-LOST"}))).await;
    let env = env_for(&server);
    let (code, stderr) = yida_to(
        &[
            "call",
            "SaveFormData",
            "--input",
            r#"{"formUuid":"F","formDataJson":{}}"#,
        ],
        &refs(&env),
        dev_full(),
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(
        stderr.contains("SaveFormData@2.0 was sent and applied"),
        "{stderr}"
    );
    assert_eq!(server.count(), 1);

    let server = endless_pages().await;
    let env = env_for(&server);
    let (code, stderr) = yida_to(
        &[
            "call",
            "SearchFormDatas",
            "--input",
            r#"{"formUuid":"F"}"#,
            "--all",
        ],
        &refs(&env),
        dev_full(),
    )
    .await;
    assert_eq!(code, 4, "{stderr}");
    assert_eq!(
        stderr.matches("No space left on device").count(),
        1,
        "{stderr}"
    );
    assert_eq!(
        server.count(),
        1,
        "the walk stops at the first failed write"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_blank_endpoint_is_refused_and_endpoint_credentials_never_print() {
    // Blank: refused before anything is sent (it used to mean production). formUuid is
    // missing so that no build of yida, however old, can send this anywhere.
    let run = yida(
        &["call", "SaveFormData", "--input", r#"{"formDataJson":{}}"#],
        &[
            ("YIDA_ENDPOINT", "  "),
            ("YIDA_ACCESS_TOKEN", "t"),
            ("YIDA_APP_TYPE", "A"),
            ("YIDA_SYSTEM_TOKEN", "S"),
            ("YIDA_USER_ID", "u"),
        ],
        None,
    )
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("YIDA_ENDPOINT is set but blank"),
        "{}",
        run.stderr
    );
    // user:password in the endpoint: never printed, whatever the error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let http = format!("http://alice:hunter2pw@127.0.0.1:{port}");
    for (endpoint, command) in [
        ("ftp://alice:hunter2pw@127.0.0.1/", "call"),
        (http.as_str(), "call"),
        (http.as_str(), "token"),
    ] {
        let mut env = vec![
            ("YIDA_ENDPOINT", endpoint),
            ("YIDA_APP_TYPE", "A"),
            ("YIDA_SYSTEM_TOKEN", "S"),
            ("YIDA_USER_ID", "u"),
        ];
        let args: &[&str] = if command == "token" {
            env.extend([("YIDA_APP_KEY", "k"), ("YIDA_APP_SECRET", "s")]);
            &["token"]
        } else {
            env.push(("YIDA_ACCESS_TOKEN", "t"));
            &[
                "call",
                "SaveFormData",
                "--input",
                r#"{"formUuid":"F","formDataJson":{}}"#,
            ]
        };
        let run = yida(args, &env, None).await;
        assert_ne!(run.code, 0);
        assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
        assert!(
            !run.stderr.contains("hunter2pw"),
            "{endpoint}: {}",
            run.stderr
        );
        // Nor in the logs, which name the token endpoint's URL.
        let verbose: Vec<&str> = ["-vv"].iter().chain(args).copied().collect();
        let run = yida(&verbose, &env, None).await;
        assert_ne!(run.code, 0);
        assert!(
            !run.stderr.contains("hunter2pw"),
            "{endpoint}: {}",
            run.stderr
        );
        if command == "token" {
            assert!(
                run.stderr.contains("http://***@127.0.0.1"),
                "{}",
                run.stderr
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn server_text_is_stripped_of_control_characters_capped_and_printed_once() {
    let long = "A".repeat(1_000_000);
    let server = MockServer::always(Reply::error(
        400,
        "Bad\u{1b}[31mRED\r\nInjected",
        &format!("UNIQUE-MSG\u{1b}]0;title\u{7}{long}"),
        "R\u{1b}[2J",
    ))
    .await;
    let env = env_for(&server);
    let run = yida(
        &[
            "call",
            "SaveFormData",
            "--input",
            r#"{"formUuid":"F","formDataJson":{}}"#,
        ],
        &refs(&env),
        None,
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        !run.stderr.chars().any(|c| c.is_control() && c != '\n'),
        "{:?}",
        &run.stderr[..200.min(run.stderr.len())]
    );
    assert!(
        run.stderr.len() < 10_000,
        "{} bytes of stderr",
        run.stderr.len()
    );
    assert_eq!(
        run.stderr.matches("UNIQUE-MSG").count(),
        1,
        "message printed once"
    );
    assert!(run.stderr.contains("more characters not shown"));
    assert!(
        run.stderr.contains(r"Bad\u{1b}[31mRED\u{d}\u{a}Injected"),
        "{}",
        run.stderr
    );
    // Four lines: the error, code, message, request id.
    assert_eq!(run.stderr.lines().count(), 4, "{}", run.stderr);
    // The same text in the logs of a retried read (-v): still escaped and capped.
    let server = MockServer::script(vec![
        Reply::error(
            503,
            "Busy\u{1b}[31m",
            &format!("UNIQUE\r\nFAKE LOG LINE{long}"),
            "R",
        ),
        Reply::json(json!({"totalCount": 0, "data": []})),
    ])
    .await;
    let env = env_for(&server);
    let run = yida(
        &[
            "-v",
            "call",
            "SearchFormDatas",
            "--input",
            r#"{"formUuid":"F"}"#,
        ],
        &refs(&env),
        None,
    )
    .await;
    assert_eq!((run.code, server.count()), (0, 2), "{}", run.stderr);
    assert!(run.stderr.contains("retrying"), "{}", run.stderr);
    assert!(
        !run.stderr.chars().any(|c| c.is_control() && c != '\n'),
        "{:?}",
        &run.stderr[..300.min(run.stderr.len())]
    );
    assert!(!run.stderr.lines().any(|l| l.starts_with("FAKE LOG LINE")));
    assert!(
        run.stderr.len() < 20_000,
        "{} bytes of logs",
        run.stderr.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn call_prints_the_reply_as_received_with_fields_the_spec_does_not_know() {
    let body = r#"{"zNewField":{"b":1,"a":[1.50,2e3]},"result":"FINST-1","addedTomorrow":true}"#;
    let server = MockServer::always(Reply::text(200, "application/json", body)).await;
    let env = env_for(&server);
    let run = yida(
        &[
            "call",
            "SaveFormData",
            "--input",
            r#"{"formUuid":"F","formDataJson":{}}"#,
        ],
        &refs(&env),
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, format!("{body}\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_that_cannot_be_decoded_after_sending_exit_3_not_2() {
    let deep = format!(
        r#"{{"formInstId":"F","formData":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    for body in [
        deep.as_str(),
        r#"{"formInstId":"F","formData":{"n":1e400}}"#,
        r#"{"formInstId":"F","formData":{"#,
    ] {
        let server = MockServer::always(Reply::text(200, "application/json", body)).await;
        let env = env_for(&server);
        let run = yida(
            &["call", "GetFormDataByID", "--input", r#"{"id":"I"}"#],
            &refs(&env),
            None,
        )
        .await;
        assert_eq!(run.code, 3, "{}", run.stderr);
        assert_eq!(run.stdout, "");
        assert!(run.stderr.contains("cannot decode"), "{}", run.stderr);
        assert_eq!(server.count(), 1);
    }
    assert!(yida(&["--help"], &[], None)
        .await
        .stdout
        .contains("3    the reply could not be decoded"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_error_prints_its_cause_once() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let env = [
        ("YIDA_ENDPOINT", url.as_str()),
        ("YIDA_APP_KEY", "k"),
        ("YIDA_APP_SECRET", "app-secret-x"),
        ("YIDA_APP_TYPE", "A"),
        ("YIDA_SYSTEM_TOKEN", "S"),
        ("YIDA_USER_ID", "u"),
    ];
    for args in [
        &[
            "call",
            "SaveFormData",
            "--input",
            r#"{"formUuid":"F","formDataJson":{}}"#,
        ][..],
        &["token"][..],
    ] {
        let run = yida(args, &env, None).await;
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_eq!(
            run.stderr.matches("Connection refused").count(),
            1,
            "{}",
            run.stderr
        );
        assert!(!run.stderr.contains("app-secret-x"));
    }
}
