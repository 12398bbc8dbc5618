//! Every guide's example, run as its own process against an emulator started here, with the
//! `YIDA_*` variables `yida emulator` would print. `cargo test` builds the examples before it
//! runs this file (`cargo test -p yida-examples`, or `--workspace`); the binaries are found
//! next to this test's own executable.

use std::path::PathBuf;
use std::time::Duration;
use yida_emulator::Emulator;

/// `target/<profile>/examples/<name>`, built by `cargo test` with this test.
fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    let bin = dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test -p yida-examples` (it builds the examples) rather than `--test guides` alone",
        bin.display()
    );
    bin
}

/// Runs an example with these variables; returns its standard output, failing with its
/// standard error when it does not exit with 0. Bounded by a generous time limit.
async fn run(name: &str, env: &[(String, String)], args: &[&str]) -> String {
    let mut cmd = tokio::process::Command::new(example_binary(name));
    cmd.args(args).kill_on_drop(true).env_clear();
    if let Ok(path) = std::env::var("PATH") {
        cmd.env("PATH", path);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("example {name} did not finish within 60 s"))
        .expect("example started");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "example {name} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    stdout
}

fn lines(out: &str) -> Vec<&str> {
    out.lines().collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_session() {
    let emu = Emulator::start().await.unwrap();
    let out = run("first_session", &emu.env(), &[]).await;
    let l = lines(&out);
    assert!(l[0].starts_with("saved Laptop: "), "{out}");
    assert!(l[1].starts_with("saved Desk: "), "{out}");
    assert_eq!(l[2], "amount >= 1000: 1 record(s)", "{out}");
    assert_eq!(l[3], "all titles: Desk, Laptop", "{out}");
    assert!(
        l[4].starts_with("approval task ") && l[4].ends_with(" is ours"),
        "{out}"
    );
    assert_eq!(l[5], "instance status: COMPLETED, result: agree", "{out}");
    assert_eq!(l.len(), 6, "{out}");
    // What the example did is what the emulator holds.
    let records = emu.records("FORM-DEMO");
    assert_eq!(records.len(), 2);
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r.form_instance_id.as_str())
        .collect();
    assert!(
        l[0].ends_with(ids[0]) && l[1].ends_with(ids[1]),
        "{out} vs {ids:?}"
    );
    let instances = emu.instances();
    assert_eq!(instances.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_app() {
    let emu = Emulator::start().await.unwrap();
    emu.insert_record(
        "FORM-DEMO",
        serde_json::json!({"textField_title": "Chair", "numberField_amount": 100}),
    )
    .unwrap();
    let out = run("internal_app", &emu.env(), &[]).await;
    let l = lines(&out);
    assert_eq!(l.len(), 4, "{out}");
    let id = l[0].strip_prefix("saved ").expect("saved line");
    assert_eq!(l[1], "read back: Monitor at 250", "{out}");
    assert_eq!(l[2], "sum of amounts: 375", "{out}");
    assert_eq!(
        l[3], "refused: HTTP 400 dataNotExist.form.notExists",
        "{out}"
    );
    let rec = emu
        .records("FORM-DEMO")
        .into_iter()
        .find(|r| r.form_instance_id == id)
        .expect("the example's record");
    assert_eq!(rec.data["numberField_amount"], 275);
    assert_eq!(rec.data["textField_title"], "Monitor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isv_app() {
    let emu = Emulator::start().await.unwrap();
    let seed = emu.seed();
    let suite = &seed.suites[0];
    let mut env = emu.env();
    env.extend([
        ("YIDA_SUITE_KEY".to_string(), suite.suite_key.clone()),
        ("YIDA_SUITE_SECRET".to_string(), suite.suite_secret.clone()),
        ("YIDA_SUITE_TICKET".to_string(), suite.suite_ticket.clone()),
        (
            "YIDA_AUTH_CORP_ID".to_string(),
            suite.auth_corp_ids[0].clone(),
        ),
    ]);
    emu.insert_record("FORM-DEMO", serde_json::json!({"textField_title": "x"}))
        .unwrap();
    let out = run("isv_app", &env, &[]).await;
    assert_eq!(
        lines(&out),
        vec![
            "callback answered HTTP 200".to_string(),
            format!("suite ticket stored for {}", suite.suite_key),
            format!("{}: 1 record(s)", suite.auth_corp_ids[0]),
            "ding-not-authorized: no token".to_string(),
        ],
        "{out}"
    );
    // The ticket is a secret: it never appears in what the example prints.
    assert!(!out.contains(&suite.suite_ticket), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_events() {
    let emu = Emulator::start().await.unwrap();
    let out = run("approval_events", &emu.env(), &[]).await;
    assert_eq!(
        lines(&out),
        vec![
            "connected",
            "task started for demo-user",
            "instance finished: Some(Agree)",
            "stream closed"
        ],
        "{out}"
    );
    let done: Vec<_> = emu
        .instances()
        .into_iter()
        .filter(|i| i.status == "COMPLETED")
        .collect();
    assert_eq!(done.len(), 1, "exactly the instance the handler approved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testing_against_the_emulator() {
    // This example starts its own emulators; it needs no variables.
    let out = run("testing", &[], &[]).await;
    let l = lines(&out);
    assert_eq!(l.len(), 4, "{out}");
    assert!(
        l[0].starts_with("stored ") && l[0].ends_with(" with amount 42.5"),
        "{out}"
    );
    assert_eq!(
        l[1], "refused locally: amount must be positive, got -1",
        "{out}"
    );
    assert!(
        l[2].starts_with("server error surfaced: ") && l[2].contains("500"),
        "{out}"
    );
    assert_eq!(
        l[3], "throttled: HTTP 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas() {
    let Some(redis) = yida_e2e::RedisServer::start() else {
        return;
    };
    // The emulator holds DingTalk's quota: 20 calls/s per app and API.
    let emu = Emulator::start().await.unwrap();
    let mut env = emu.env();
    env.push((
        "REDIS_URL".into(),
        format!("redis://127.0.0.1:{}/0", redis.port()),
    ));
    let out = run("replicas", &env, &[]).await;
    assert_eq!(lines(&out), vec!["30 calls answered, 0 throttled"], "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_import() {
    // The emulator holds DingTalk's quota (20 calls/s per app and API) and answers over it
    // with 403 QpsLimitForAppkeyAndApi; the example's calls are paced under it.
    let emu = Emulator::start().await.unwrap();
    for i in 0..120 {
        emu.insert_record(
            "FORM-DEMO",
            serde_json::json!({"textField_title": format!("row {i}"), "numberField_amount": i}),
        )
        .unwrap();
    }
    let dir = std::env::temp_dir().join(format!("yida-guide-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = run("export_import", &emu.env(), &[dir.to_str().unwrap()]).await;
    assert_eq!(
        lines(&out),
        vec![
            "exported 120 records",
            "imported 120 records in 12 batch calls, 0 failed"
        ],
        "{out}"
    );
    let exported = std::fs::read_to_string(dir.join("export.ndjson")).unwrap();
    assert_eq!(exported.lines().count(), 120);
    // Every exported row is in the form twice now, values intact.
    let records = emu.records("FORM-DEMO");
    assert_eq!(records.len(), 240);
    for i in [0, 57, 119] {
        let title = format!("row {i}");
        let copies: Vec<_> = records
            .iter()
            .filter(|r| r.data["textField_title"] == title.as_str())
            .collect();
        assert_eq!(copies.len(), 2, "{title}");
        assert!(copies.iter().all(|r| r.data["numberField_amount"] == i));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ai_agents() {
    let emu = Emulator::start().await.unwrap();
    let form = emu.seed().forms[0].form_uuid.clone();
    emu.insert_record(&form, serde_json::json!({"textField_title": "Laptop"}))
        .unwrap();
    let out = run("ai_agents", &emu.env(), &[]).await;
    let l = lines(&out);
    assert!(l[0].starts_with("tools: "), "{out}");
    assert_eq!(l[1], format!("first form: {form}"), "{out}");
    let components: usize = l[2].trim_start_matches("components: ").parse().unwrap();
    assert_eq!(components, emu.seed().forms[0].components.len(), "{out}");
    assert_eq!(l[3], "records: 1", "{out}");
    assert_eq!(l[4], "write refused: true", "{out}");
    assert_eq!(
        emu.records(&form).len(),
        1,
        "the refused write sent nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_forms() {
    let emu = Emulator::start().await.unwrap();
    let out = run("typed_forms", &emu.env(), &[]).await;
    let l = lines(&out);
    assert_eq!(l.len(), 5, "{out}");
    assert!(l[0].starts_with("saved FINST-"), "{out}");
    assert_eq!(l[1], "owner: 经理 (demo-manager)", "{out}");
    assert_eq!(l[2], "updated 1 field(s)", "{out}");
    assert_eq!(l[3], "found Laptop at 999", "{out}");
    assert_eq!(l[4], "deleted; 0 left", "{out}");
}

/// `examples/src/demo_form.rs` is what `yida codegen form` writes for the emulator's demo
/// form today: regenerate it when the demo form changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_form_module_is_current() {
    let emu = Emulator::start().await.unwrap();
    let client = yida_api::Client::builder()
        .endpoint(emu.endpoint())
        .internal_app(emu.app_key(), emu.app_secret())
        .unwrap()
        .context(emu.app_context())
        .build()
        .unwrap();
    let meta = yida_api::operation("GetFormComponentDefinitionList", "1.0").unwrap();
    let raw = client
        .call(meta, serde_json::json!({"formUuid": "FORM-DEMO"}))
        .await
        .unwrap()
        .unwrap();
    let reply: serde_json::Value = serde_json::from_str(raw.get()).unwrap();
    let defs = yida_api::formgen::parse_definitions(&reply).unwrap();
    let want = yida_api::formgen::generate(
        "FORM-DEMO",
        &defs,
        &yida_api::formgen::Options::new("DemoRequest"),
    )
    .unwrap();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/demo_form.rs");
    let have = std::fs::read_to_string(path).unwrap();
    assert!(
        have == want,
        "{path} is stale: run `yida codegen form FORM-DEMO --struct DemoRequest --out examples/src/demo_form.rs` against `yida emulator`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sql_mirror() {
    let emu = Emulator::start().await.unwrap();
    for i in 0..30 {
        emu.insert_record(
            "FORM-DEMO",
            serde_json::json!({"textField_title": format!("row {i}"), "numberField_amount": i}),
        )
        .unwrap();
    }
    let dir = std::env::temp_dir().join(format!("yida-guide-sql-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = run("sql_mirror", &emu.env(), &[dir.to_str().unwrap()]).await;
    assert_eq!(
        lines(&out),
        vec![
            "full run: 30 records written",
            "rows: 30, sum of amounts: 435",
            // Definitions, one page of what changed (the overlap window), one id-list page.
            "incremental run: 3 calls, of which 1 for the deletion check, 0 deleted",
        ],
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
