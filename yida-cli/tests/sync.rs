//! `yida sync` killed with SIGKILL at random points against the emulator (loopback, with
//! latency so runs take long enough to be cut), then rerun: the mirror equals the emulator.

use serde_json::{json, Value};
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::process::Command;
use yida_emulator::{Emulator, Options};
use yida_sync::schema::{quote, table_name, Cell};
use yida_sync::Store;

const FORM: &str = "FORM-DEMO";

fn yida(emu: &Emulator, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_yida"));
    cmd.args(args).env_clear().kill_on_drop(true);
    for (k, v) in emu.env() {
        // No Stream client in these runs (no --follow).
        cmd.env(k, v);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// A small xorshift generator: the points are random, the seed is printed so a failure can
/// be replayed.
struct Rng(u64);
impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

async fn mirrored(store: &Store) -> Vec<(String, String)> {
    let sql = format!(
        "SELECT instance_id, {} FROM {} ORDER BY instance_id",
        quote("textField_title"),
        quote(&table_name(FORM))
    );
    store
        .query(&sql, vec![], 2)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            let t = |c: &Cell| match c {
                Cell::Text(s) => s.clone(),
                _ => String::new(),
            };
            (t(&r[0]), t(&r[1]))
        })
        .collect()
}

fn held(emu: &Emulator) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = emu
        .records(FORM)
        .into_iter()
        .map(|r| {
            let t = r
                .data
                .get("textField_title")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            (r.form_instance_id, t)
        })
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_points_then_rerun_the_mirror_equals_yida() {
    // 200 ms a call: a full run (token, definitions, page 1, 3 pages at once, 4 pages of the
    // deletion check) takes well over a second, an incremental one about as long.
    let emu = Emulator::start_with(Options::default().latency(Duration::from_millis(200)))
        .await
        .expect("emulator");
    for i in 0..400 {
        emu.insert_record(FORM, json!({"textField_title": format!("t{i}")}))
            .unwrap();
    }
    let db = std::env::temp_dir().join(format!("yida-sync-kill-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let target = format!("sqlite:{}", db.display());
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("kill points seed: {seed}");
    let mut rng = Rng(seed);
    let mut killed = 0;
    for round in 0..6 {
        // Records change between the cuts: the incremental runs have work to do too.
        if round % 2 == 1 {
            emu.insert_record(
                FORM,
                json!({"textField_title": format!("added in round {round}")}),
            )
            .unwrap();
        }
        let mut child = yida(
            &emu,
            &["sync", FORM, "--to", &target, "--deletions", "every"],
        )
        .spawn()
        .expect("spawn");
        // The first cut always lands inside the first (full) run; the others anywhere in a
        // run or after it.
        let delay = if round == 0 {
            50 + rng.next(400)
        } else {
            50 + rng.next(1500)
        };
        tokio::select! {
            status = child.wait() => {
                let status = status.expect("wait");
                assert!(status.success(), "round {round}: an uncut run failed (seed {seed})");
            }
            _ = tokio::time::sleep(Duration::from_millis(delay)) => {
                child.kill().await.expect("SIGKILL");
                killed += 1;
            }
        }
    }
    assert!(killed >= 1, "at least one run was cut (seed {seed})");
    // The rerun to completion.
    let out = yida(
        &emu,
        &["sync", FORM, "--to", &target, "--deletions", "every"],
    )
    .output()
    .await
    .expect("rerun");
    assert!(
        out.status.success(),
        "rerun: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = Store::open(&target).await.expect("store");
    assert_eq!(mirrored(&store).await, held(&emu), "seed {seed}");
    emu.shutdown().await;
    let _ = std::fs::remove_file(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_name_the_calls_and_bad_targets_are_refused() {
    let emu = Emulator::start().await.unwrap();
    emu.insert_record(FORM, json!({"textField_title": "a"}))
        .unwrap();
    let db = std::env::temp_dir().join(format!("yida-sync-report-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let target = format!("sqlite:{}", db.display());
    let out = yida(
        &emu,
        &["sync", FORM, "--to", &target, "--deletions", "every"],
    )
    .output()
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("full run, 1 record(s) written"), "{stderr}");
    assert!(stderr.contains("deletion check: 1 call(s)"), "{stderr}");
    let line: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    assert_eq!(line["mode"], "full");

    let out = yida(&emu, &["sync", FORM, "--to", "mysql://x"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sqlite:PATH"));
    // A password in a PostgreSQL URL is never printed.
    let out = yida(
        &emu,
        &["sync", FORM, "--to", "postgres://u:hunter2@127.0.0.1:9/db"],
    )
    .output()
    .await
    .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("hunter2"));
    emu.shutdown().await;
    let _ = std::fs::remove_file(&db);
}
