//! `yida mcp` driven by a real MCP client (the official Rust SDK's client side, `rmcp`), over
//! stdio (the built `yida` binary as a child process) and over streamable HTTP, against the
//! emulator on loopback. What reached the emulator is checked on its state.

use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{json, Map, Value};
use tokio::process::Command;
use yida_emulator::Emulator;

type Client = RunningService<RoleClient, ()>;

async fn emulator() -> Emulator {
    Emulator::start().await.expect("emulator starts")
}

fn env_of(emu: &Emulator) -> Vec<(String, String)> {
    emu.env()
}

/// `yida mcp ARGS` as a child process, connected over stdio.
async fn stdio(emu: &Emulator, args: &[&str]) -> Client {
    let env = env_of(emu);
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let transport =
        TokioChildProcess::new(Command::new(env!("CARGO_BIN_EXE_yida")).configure(|cmd| {
            cmd.arg("mcp").args(&args).env_clear();
            for (k, v) in &env {
                cmd.env(k, v);
            }
        }))
        .expect("spawn yida mcp");
    ().serve(transport).await.expect("MCP handshake")
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().expect("object")
}

async fn call(client: &Client, tool: &str, arguments: Value) -> CallToolResult {
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args(arguments)))
        .await
        .expect("tools/call answered")
}

fn text(r: &CallToolResult) -> String {
    serde_json::to_string(r).expect("serialisable")
}

fn is_error(r: &CallToolResult) -> bool {
    r.is_error == Some(true)
}

fn structured(r: &CallToolResult) -> Value {
    assert!(!is_error(r), "tool failed: {}", text(r));
    r.structured_content.clone().expect("structured content")
}

/// No secret of the emulator's app appears in anything the agent saw.
fn assert_no_secrets(emu: &Emulator, seen: &str) {
    for secret in [emu.system_token(), emu.app_secret()] {
        assert!(
            !seen.contains(&secret),
            "a secret reached the agent: {seen}"
        );
    }
}

fn tool<'a>(tools: &'a [Tool], name: &str) -> &'a Tool {
    tools
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("tool {name} listed"))
}

#[tokio::test(flavor = "multi_thread")]
async fn stdio_lists_a_small_read_only_surface_with_schemas_and_annotations() {
    let emu = emulator().await;
    let client = stdio(&emu, &[]).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    for expected in [
        "list_forms",
        "describe_form",
        "search_records",
        "get_record",
        "instance_status",
        "running_tasks",
        "describe_operation",
        "call_operation",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    assert!(
        !names.contains(&"write_operation"),
        "writes are off by default: {names:?}"
    );
    assert!(tools.len() <= 10, "a small surface: {names:?}");
    for t in &tools {
        let a = t.annotations.as_ref().expect("annotations");
        assert_eq!(a.read_only_hint, Some(true), "{}", t.name);
    }
    // Input schemas come from the spec: wire names, no secrets, context parameters optional.
    let search = tool(&tools, "search_records");
    let props = search.input_schema["properties"]
        .as_object()
        .expect("properties");
    assert!(props.contains_key("formUuid") && props.contains_key("searchFieldJson"));
    assert!(!props.contains_key("systemToken"));
    let required = search.input_schema["required"]
        .as_array()
        .expect("required");
    assert!(required.contains(&json!("formUuid")) && !required.contains(&json!("appType")));
    client.cancel().await.ok();
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_find_forms_describe_them_and_return_records_as_structured_json() {
    let emu = emulator().await;
    let form = emu.seed().forms[0].form_uuid.clone();
    let id = emu
        .insert_record(
            &form,
            json!({"textField_title": "Laptop", "numberField_amount": 1200}),
        )
        .expect("record");
    let client = stdio(&emu, &[]).await;
    let mut seen = String::new();

    let forms = call(&client, "list_forms", json!({})).await;
    seen += &text(&forms);
    assert!(text(&forms).contains(&form), "{}", text(&forms));

    let described = call(&client, "describe_form", json!({"formUuid": form})).await;
    seen += &text(&described);
    let components = structured(&described)["components"].clone();
    let title = components
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["fieldId"] == "textField_title")
        .expect("textField_title described");
    assert_eq!(title["kind"], "TextField");

    let found = call(
        &client,
        "search_records",
        json!({"formUuid": form, "searchFieldJson": {"textField_title": "Laptop"}}),
    )
    .await;
    seen += &text(&found);
    assert!(text(&found).contains(&id), "{}", text(&found));

    let got = call(&client, "get_record", json!({"id": id})).await;
    seen += &text(&got);
    assert_eq!(structured(&got)["formData"]["textField_title"], "Laptop");

    let op = call(&client, "describe_operation", json!({"query": "审批"})).await;
    seen += &text(&op);
    assert!(
        structured(&op)["count"].as_u64().unwrap_or(0) > 0,
        "{}",
        text(&op)
    );
    let op = call(
        &client,
        "describe_operation",
        json!({"action": "TerminateInstance"}),
    )
    .await;
    assert_eq!(structured(&op)["risk"], "irreversible");

    assert_no_secrets(&emu, &seen);
    client.cancel().await.ok();
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_are_refused_by_default_and_nothing_is_sent() {
    let emu = emulator().await;
    let form = emu.seed().forms[0].form_uuid.clone();
    let client = stdio(&emu, &[]).await;
    let r = call(
        &client,
        "call_operation",
        json!({"action": "SaveFormData", "input": {"formUuid": form, "formDataJson": {"textField_title": "x"}}}),
    )
    .await;
    assert!(is_error(&r));
    assert!(text(&r).contains("--allow-writes"), "{}", text(&r));
    // The write tool does not exist at all.
    let r = client
        .call_tool(
            CallToolRequestParams::new("write_operation").with_arguments(args(json!({
                "action": "SaveFormData", "input": {"formUuid": form}
            }))),
        )
        .await;
    assert!(r.is_err() || r.as_ref().is_ok_and(is_error), "{r:?}");
    assert!(
        emu.records(&form).is_empty(),
        "nothing reached the emulator"
    );
    client.cancel().await.ok();
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scoped_write_lands_and_out_of_scope_or_irreversible_writes_are_refused() {
    let emu = emulator().await;
    let form = emu.seed().forms[0].form_uuid.clone();
    let app = emu.app_type();
    let client = stdio(&emu, &["--allow-writes", "--app", &app, "--form", &form]).await;
    let tools = client.list_all_tools().await.expect("tools/list");
    let write = tool(&tools, "write_operation");
    let a = write.annotations.as_ref().expect("annotations");
    assert_eq!(
        (a.read_only_hint, a.destructive_hint),
        (Some(false), Some(false))
    );

    let r = call(
        &client,
        "write_operation",
        json!({"action": "SaveFormData", "input": {"formUuid": form, "formDataJson": {"textField_title": "Desk"}}}),
    )
    .await;
    let out = structured(&r);
    assert_eq!(out["calls"], 1);
    let records = emu.records(&form);
    assert_eq!(records.len(), 1, "the scoped write landed");

    // Another form of the same app: refused, naming the scope.
    let r = call(
        &client,
        "write_operation",
        json!({"action": "SaveFormData", "input": {"formUuid": "FORM-OTHER", "formDataJson": {}}}),
    )
    .await;
    assert!(is_error(&r) && text(&r).contains("--form"), "{}", text(&r));
    // Another app: refused.
    let r = call(
        &client,
        "write_operation",
        json!({"action": "SaveFormData", "input": {"appType": "APP_OTHER", "formUuid": form, "formDataJson": {}}}),
    )
    .await;
    assert!(
        is_error(&r) && text(&r).contains("APP_OTHER"),
        "{}",
        text(&r)
    );
    // Irreversible without its flag.
    let r = call(
        &client,
        "write_operation",
        json!({"action": "DeleteFormData", "input": {"formInstanceId": records[0].form_instance_id}}),
    )
    .await;
    assert!(
        is_error(&r) && text(&r).contains("--allow-irreversible"),
        "{}",
        text(&r)
    );
    // A secret from the agent is refused.
    let r = call(
        &client,
        "write_operation",
        json!({"action": "SaveFormData", "input": {"formUuid": form, "systemToken": "guess", "formDataJson": {}}}),
    )
    .await;
    assert!(
        is_error(&r) && text(&r).contains("systemToken"),
        "{}",
        text(&r)
    );
    assert_eq!(
        emu.records(&form).len(),
        1,
        "no refused write reached the emulator"
    );
    assert_no_secrets(&emu, &text(&r));
    client.cancel().await.ok();
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rehearsal_leaves_production_unchanged_until_applied() {
    let emu = emulator().await;
    let form = emu.seed().forms[0].form_uuid.clone();
    let app = emu.app_type();
    let id = emu
        .insert_record(&form, json!({"textField_title": "Before"}))
        .expect("record");
    let client = stdio(
        &emu,
        &[
            "--allow-writes",
            "--app",
            &app,
            "--form",
            &form,
            "--rehearse",
        ],
    )
    .await;
    // Read first (the rehearsal copies what the agent read).
    let got = call(&client, "get_record", json!({"id": id, "formUuid": form})).await;
    assert_eq!(structured(&got)["formData"]["textField_title"], "Before");
    let r = call(
        &client,
        "write_operation",
        json!({"action": "UpdateFormData", "input": {
            "formInstanceId": id, "updateFormDataJson": {"textField_title": "After"}}}),
    )
    .await;
    let out = structured(&r);
    assert_eq!(out["sentToDingTalk"], false);
    assert_eq!(
        out["record"]["formData"]["textField_title"], "After",
        "{out}"
    );
    assert!(out["callsToApply"].as_u64().unwrap_or(0) >= 1);
    let stored = &emu.records(&form)[0];
    assert_eq!(
        stored.data["textField_title"], "Before",
        "production unchanged"
    );

    let applied = call(
        &client,
        "apply_rehearsal",
        json!({"rehearsalId": out["rehearsalId"]}),
    )
    .await;
    assert_eq!(structured(&applied)["applied"], true);
    assert_eq!(emu.records(&form)[0].data["textField_title"], "After");
    // Applied once only.
    let again = call(
        &client,
        "apply_rehearsal",
        json!({"rehearsalId": out["rehearsalId"]}),
    )
    .await;
    assert!(is_error(&again));
    client.cancel().await.ok();
    emu.shutdown().await;
}

/// `yida mcp --listen 127.0.0.1:0 ARGS`: the child and the URL it serves.
async fn http_server(emu: &Emulator, extra: &[&str]) -> (tokio::process::Child, String) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yida"));
    cmd.arg("mcp")
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .env_clear();
    for (k, v) in env_of(emu) {
        cmd.env(k, v);
    }
    cmd.stderr(std::process::Stdio::piped()).kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let url = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split("serving ").nth(1) {
                return rest.trim().to_string();
            }
        }
        panic!("yida mcp --listen said nothing");
    })
    .await
    .expect("serving line in time");
    (child, url)
}

#[tokio::test(flavor = "multi_thread")]
async fn http_requires_the_bearer_token_when_one_is_set() {
    yida_auth::ensure_tls_provider();
    let emu = emulator().await;
    let token = "t0ken-for-the-test";
    let (mut child, url) = http_server(&emu, &["--auth-token", token]).await;
    // Without the token: 401 before any MCP processing.
    let raw = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
        .send()
        .await
        .expect("answered");
    assert_eq!(raw.status(), 401);
    let wrong = StreamableHttpClientTransport::from_config(
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            url.clone(),
        )
        .auth_header("wrong"),
    );
    assert!(().serve(wrong).await.is_err(), "a wrong token is refused");
    // With it: a real client lists the tools and reads.
    let transport = StreamableHttpClientTransport::from_config(
        rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig::with_uri(
            url.clone(),
        )
        .auth_header(token),
    );
    let client = ().serve(transport).await.expect("handshake with the token");
    let tools = client.list_all_tools().await.expect("tools/list");
    assert!(tools.iter().any(|t| t.name == "search_records"));
    let forms = call(&client, "list_forms", json!({})).await;
    assert!(!is_error(&forms), "{}", text(&forms));
    client.cancel().await.ok();
    child.kill().await.ok();
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn http_off_loopback_needs_a_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_yida"))
        .args(["mcp", "--listen", "0.0.0.0:0"])
        .env_clear()
        .env("YIDA_ENDPOINT", "http://127.0.0.1:9")
        .env("YIDA_ACCESS_TOKEN", "x")
        .output()
        .await
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--auth-token"));
}
