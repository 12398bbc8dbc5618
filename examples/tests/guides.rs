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
    assert!(l[4].starts_with("approval task ") && l[4].ends_with(" is ours"), "{out}");
    assert_eq!(l[5], "instance status: COMPLETED, result: agree", "{out}");
    assert_eq!(l.len(), 6, "{out}");
    // What the example did is what the emulator holds.
    let records = emu.records("FORM-DEMO");
    assert_eq!(records.len(), 2);
    let ids: Vec<&str> = records.iter().map(|r| r.form_instance_id.as_str()).collect();
    assert!(l[0].ends_with(ids[0]) && l[1].ends_with(ids[1]), "{out} vs {ids:?}");
    let instances = emu.instances();
    assert_eq!(instances.len(), 1);
}
