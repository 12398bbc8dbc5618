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

// ---- `yida sync --follow` ----

const WAIT: Duration = Duration::from_secs(30);

/// A `yida sync --follow` process: its stderr and stdout lines are collected as they come.
struct Follow {
    child: tokio::process::Child,
    err: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    out: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    readers: Vec<tokio::task::JoinHandle<()>>,
}

fn collect<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    from: R,
    into: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    echo: bool,
) -> tokio::task::JoinHandle<()> {
    use tokio::io::AsyncBufReadExt;
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(from).lines();
        while let Ok(Some(l)) = lines.next_line().await {
            if echo {
                eprintln!("yida: {l}");
            }
            into.lock().unwrap().push(l);
        }
    })
}

impl Follow {
    fn spawn(emu: &Emulator, args: &[&str]) -> Follow {
        let mut child = yida(emu, args).spawn().expect("spawn");
        let err = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let readers = vec![
            collect(child.stderr.take().unwrap(), err.clone(), true),
            collect(child.stdout.take().unwrap(), out.clone(), false),
        ];
        Follow {
            child,
            err,
            out,
            readers,
        }
    }

    /// stderr lines containing `needle` so far.
    fn count(&self, needle: &str) -> usize {
        self.err
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Waits until `n` stderr lines contain `needle`.
    async fn wait_lines(&self, needle: &str, n: usize) {
        let me = self;
        eventually(
            &format!("{n} stderr line(s) with {needle:?}"),
            || async move { me.count(needle) >= n },
        )
        .await;
    }

    /// Approval events the sync says it took ("sync: N approval event(s)…" lines).
    fn events_noted(&self) -> usize {
        self.err
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| {
                let rest = l.strip_prefix("sync: ")?;
                let (n, tail) = rest.split_once(' ')?;
                if tail.starts_with("approval event(s)") {
                    n.parse::<usize>().ok()
                } else {
                    None
                }
            })
            .sum()
    }

    /// The report lines on stdout so far.
    fn reports(&self) -> Vec<Value> {
        self.out
            .lock()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).expect("a JSON report line"))
            .collect()
    }

    /// SIGTERM, then the exit status (the process must end within `WAIT`).
    async fn terminate(mut self) -> (std::process::ExitStatus, Vec<Value>, String) {
        let pid = self.child.id().expect("running").to_string();
        // The shell's built-in kill: no procps needed on a minimal image.
        let sent = std::process::Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .unwrap()
            .success();
        assert!(sent);
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("exited after SIGTERM")
            .expect("wait");
        for r in self.readers.drain(..) {
            let _ = tokio::time::timeout(WAIT, r).await;
        }
        let err = self.err.lock().unwrap().join("\n");
        (status, self.reports(), err)
    }
}

/// Polls `check` until it holds (bounded: `WAIT`).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within {WAIT:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn tmp_target(name: &str) -> (std::path::PathBuf, String) {
    let db = std::env::temp_dir().join(format!("yida-sync-{name}-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let target = format!("sqlite:{}", db.display());
    (db, target)
}

fn api(emu: &Emulator) -> yida_api::Client {
    yida_api::Client::builder()
        .endpoint(emu.endpoint())
        .internal_app(emu.app_key(), emu.app_secret())
        .unwrap()
        .context(emu.app_context())
        .build()
        .unwrap()
}

async fn call(client: &yida_api::Client, action: &str, version: &str, input: Value) -> Value {
    let op = yida_api::operation(action, version).expect("compiled in");
    client
        .call(op, input)
        .await
        .expect(action)
        .map(|r| serde_json::from_str(r.get()).unwrap())
        .unwrap_or(Value::Null)
}

/// Calls the sync made (the test's own writes and instance calls left out).
fn sync_calls(emu: &Emulator) -> std::collections::BTreeMap<String, u64> {
    let mut c = emu.calls();
    for own in ["UpdateFormData", "StartInstance", "TerminateInstance"] {
        c.remove(own);
    }
    c
}

fn total(c: &std::collections::BTreeMap<String, u64>) -> u64 {
    c.values().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_syncs_every_interval_with_a_handful_of_calls_and_stops_on_sigterm() {
    let emu = Emulator::start().await.expect("emulator");
    let first_id = emu
        .insert_record(FORM, json!({"textField_title": "t0"}))
        .unwrap();
    emu.insert_record(FORM, json!({"textField_title": "t1"}))
        .unwrap();
    let (db, target) = tmp_target("follow-interval");
    let run = Follow::spawn(
        &emu,
        &["sync", FORM, "--to", &target, "--follow", "--interval", "1"],
    );
    run.wait_lines("full run", 1).await;
    let store = Store::open(&target).await.expect("store");
    assert_eq!(mirrored(&store).await, held(&emu));

    // After the first run: one record changed, one added, in Yida.
    call(
        &api(&emu),
        "UpdateFormData",
        "1.0",
        json!({"formInstanceId": first_id, "updateFormDataJson": {"textField_title": "changed"}}),
    )
    .await;
    emu.insert_record(FORM, json!({"textField_title": "added"}))
        .unwrap();
    // The next interval's run brings them in.
    let (s, e) = (&store, &emu);
    eventually("the mirror catches up", || async move {
        mirrored(s).await == held(e)
    })
    .await;
    assert!(mirrored(&store)
        .await
        .contains(&(first_id, "changed".into())));
    // Two more runs, then SIGTERM while it waits for the next.
    let runs = run.count("incremental run");
    run.wait_lines("incremental run", runs + 2).await;
    let (status, reports, stderr) = run.terminate().await;
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("sync: stopped"), "{stderr}");
    // Each run after the first: definitions + one page of changes (the deletion check is
    // daily and ran in the first run).
    assert!(reports.len() >= 3, "{reports:?}");
    assert_eq!(reports[0]["mode"], "full");
    for r in &reports[1..] {
        assert_eq!(r["mode"], "incremental", "{r}");
        assert_eq!(r["calls"], 2, "{r}");
    }
    // What went over the wire is what the runs reported (a run cut by SIGTERM may have sent
    // a call or two more).
    let reported: u64 = reports.iter().map(|r| r["calls"].as_u64().unwrap()).sum();
    let wire = total(&sync_calls(&emu));
    assert!(
        wire >= reported && wire <= reported + 2,
        "{wire} calls on the wire, {reported} reported: {:?}",
        sync_calls(&emu)
    );
    emu.shutdown().await;
    let _ = std::fs::remove_file(&db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_runs_when_an_approval_event_names_the_form_and_not_for_other_forms() {
    let emu = Emulator::start().await.expect("emulator");
    // A second process, on the other form of the demo app.
    emu.update_seed(|seed| {
        let mut p = seed.processes[0].clone();
        p.process_code = "TPROC--CUSTOMERS".into();
        p.form_uuid = "FORM-DEMO-CUSTOMERS".into();
        seed.processes.push(p);
    })
    .unwrap();
    emu.insert_record(FORM, json!({"textField_title": "before"}))
        .unwrap();
    let client = api(&emu);
    // Instances started before the sync listens (their events reach nobody); terminating
    // one later raises its events.
    let start = |form: &'static str, code: &'static str, data: Value| {
        let client = client.clone();
        async move {
            call(
                &client,
                "StartInstance",
                "2.0",
                json!({"formUuid": form, "processCode": code, "formDataJson": data.to_string()}),
            )
            .await["result"]
                .as_str()
                .expect("instance id")
                .to_string()
        }
    };
    let ours = start(FORM, "TPROC--DEMO", json!({"textField_title": "trip"})).await;
    let mut theirs = Vec::new();
    for name in ["a", "b"] {
        theirs.push(
            start(
                "FORM-DEMO-CUSTOMERS",
                "TPROC--CUSTOMERS",
                json!({ "textField_name": name }),
            )
            .await,
        );
    }
    let terminate = |id: String| {
        let client = client.clone();
        async move {
            call(
                &client,
                "TerminateInstance",
                "1.0",
                json!({ "processInstanceId": id }),
            )
            .await;
        }
    };

    let (db, target) = tmp_target("follow-events");
    // An hour between interval runs: any run after the first is an event's.
    let run = Follow::spawn(
        &emu,
        &[
            "sync",
            FORM,
            "--to",
            &target,
            "--follow",
            "--interval",
            "3600",
        ],
    );
    run.wait_lines("listening for approval events", 1).await;
    run.wait_lines("full run", 1).await;
    let store = Store::open(&target).await.expect("store");

    // Every event the sync took is on a line of its own look ("sync: N approval event(s)…"),
    // and every run it started has reported: nothing is under way.
    let mut emitted = 0;
    let (r, e) = (&run, &emu);
    let quiet = move |emitted: usize| async move {
        e.pending_events() == 0
            && r.events_noted() == emitted
            && r.count("; a run for") == r.count("incremental run")
    };

    // An approval event of the form's process: the change made in Yida is mirrored at once
    // (the interval is an hour).
    let idle = sync_calls(&emu);
    let id = emu
        .insert_record(FORM, json!({"textField_title": "after the event"}))
        .unwrap();
    terminate(ours).await;
    emitted += EVENTS_PER_TERMINATION;
    let (s, i) = (&store, &id);
    eventually("the event's run mirrors the change", || async move {
        mirrored(s)
            .await
            .contains(&(i.clone(), "after the event".into()))
    })
    .await;
    eventually("quiet after the form's event", || quiet(emitted)).await;
    let after = sync_calls(&emu);
    let runs = run.count("incremental run") as u64;
    assert!(runs >= 1);
    assert_eq!(
        after.get("GetInstanceById").copied(),
        Some(1),
        "the process code's form is looked up once: {after:?}"
    );
    assert_eq!(
        total(&after) - total(&idle),
        1 + 2 * runs,
        "one lookup, then definitions + one page a run: {idle:?} → {after:?}"
    );

    // Events of another form's process start no run: the first costs one lookup (its code is
    // new), the second no call at all.
    let mut before = after;
    for (i, id) in theirs.into_iter().enumerate() {
        terminate(id).await;
        emitted += EVENTS_PER_TERMINATION;
        eventually("quiet after the other form's event", || quiet(emitted)).await;
        let now = sync_calls(&emu);
        assert_eq!(
            total(&now) - total(&before),
            if i == 0 { 1 } else { 0 },
            "event {i} of the other form: {before:?} → {now:?}"
        );
        assert_eq!(now.get("GetInstanceById").copied(), Some(2), "{now:?}");
        assert_eq!(run.count("incremental run") as u64, runs, "no run");
        before = now;
    }
    assert!(run.count("(not followed: FORM-DEMO-CUSTOMERS); no run") >= 2);

    // SIGTERM while idle: a prompt, clean exit.
    let (status, reports, stderr) = run.terminate().await;
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("sync: stopped"), "{stderr}");
    // Every run after the first was an event's, of definitions + one page; the wire saw
    // those calls and the two lookups, nothing else.
    assert_eq!(reports.len() as u64, 1 + runs, "{reports:?}");
    for r in &reports[1..] {
        assert_eq!(r["calls"], 2, "{r}");
    }
    let reported: u64 = reports.iter().map(|r| r["calls"].as_u64().unwrap()).sum();
    assert_eq!(
        total(&sync_calls(&emu)),
        reported + 2,
        "{:?}",
        sync_calls(&emu)
    );
    emu.shutdown().await;
    let _ = std::fs::remove_file(&db);
}

/// Events the emulator raises when an instance of a one-approver process is terminated: the
/// open task cancelled, the instance terminated.
const EVENTS_PER_TERMINATION: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_the_middle_of_a_run_exits_0_and_leaves_a_consistent_mirror() {
    // 2,000 records at 200 ms a call: the first run takes 20 pages, paced at 19 calls/s.
    let emu = Emulator::start_with(Options::default().latency(Duration::from_millis(200)))
        .await
        .expect("emulator");
    for i in 0..2000 {
        emu.insert_record(FORM, json!({"textField_title": format!("t{i}")}))
            .unwrap();
    }
    let (db, target) = tmp_target("follow-sigterm");
    let run = Follow::spawn(
        &emu,
        &[
            "sync",
            FORM,
            "--to",
            &target,
            "--follow",
            "--interval",
            "3600",
        ],
    );
    // The first pages are in the database: the run is under way.
    let store = Store::open(&target).await.expect("store");
    let s = &store;
    eventually("the first pages are written", || async move {
        !mirrored(s).await.is_empty()
    })
    .await;
    let finished_before = run.count("full run") > 0;
    let (status, reports, stderr) = run.terminate().await;
    assert!(status.success(), "{status:?}: {stderr}");
    assert!(stderr.contains("sync: stopped"), "{stderr}");
    // Consistent: every mirrored row is a record as Yida holds it, and the watermark is set
    // only when every record is in.
    let rows = mirrored(&store).await;
    let in_yida = held(&emu);
    assert!(
        rows.iter().all(|r| in_yida.contains(r)),
        "rows Yida does not hold"
    );
    let state = store.state(FORM).await.expect("state");
    eprintln!(
        "stopped with {} of {} records mirrored, watermark {:?}, run finished before SIGTERM: {finished_before}, reports: {}",
        rows.len(),
        in_yida.len(),
        state.watermark_ms,
        reports.len()
    );
    if state.watermark_ms.is_some() {
        assert_eq!(rows, in_yida);
    } else {
        assert!(reports.is_empty(), "no run completed: {reports:?}");
    }
    // A rerun converges.
    let out = yida(&emu, &["sync", FORM, "--to", &target])
        .output()
        .await
        .expect("rerun");
    assert!(
        out.status.success(),
        "rerun: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mirrored(&store).await, in_yida);
    assert!(store.state(FORM).await.unwrap().watermark_ms.is_some());
    emu.shutdown().await;
    let _ = std::fs::remove_file(&db);
}
