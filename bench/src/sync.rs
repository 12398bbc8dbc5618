//! `cargo xtask bench-sync`: the SQL mirror (yida-sync) against the emulator answering after
//! 200 ms with DingTalk's quota of 20 calls/s per app and API.
//!
//! 1. First sync of 10,000 records into SQLite: calls, seconds, the fraction of the quota used
//!    (calls / (seconds × 20)), and the peak RSS added by the run (the emulator, in this same
//!    process, holds the records before the measurement starts).
//! 2. Incremental run after 10 changes (9 updates, 1 new record): calls used.
//! 3. The deletion check (SearchFormDataIdList pages, fetched like the first run's) on its
//!    own: calls, seconds, fraction of the quota. The load average is printed at the start
//!    and the end (the machine may be shared).
//!
//! Environment: `YIDA_BENCH_RECORDS` (10000), `YIDA_BENCH_LATENCY_MS` (200),
//! `YIDA_BENCH_CONCURRENCY` (8, the default of `SyncOptions`), `YIDA_BENCH_EMULATOR_QPS` (20;
//! 0 lifts the emulator's quota, to see whether its throttling replies cost time).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use yida_api::Client;
use yida_emulator::{Emulator, Options};
use yida_sync::{Deletions, Mirror, Store, SyncOptions};

const FORM: &str = "FORM-DEMO";
const QUOTA: f64 = 20.0;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// (CPU seconds used, seconds spent runnable but waiting for a CPU) by this process's
/// threads so far (`/proc/self/task/*/schedstat`: on-CPU ns, run-queue wait ns).
fn cpu_and_wait() -> (f64, f64) {
    let mut cpu = 0u64;
    let mut wait = 0u64;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("schedstat")) {
                let mut f = s.split_whitespace().map(|v| v.parse::<u64>().unwrap_or(0));
                cpu += f.next().unwrap_or(0);
                wait += f.next().unwrap_or(0);
            }
        }
    }
    (cpu as f64 / 1e9, wait as f64 / 1e9)
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let records = env_num("YIDA_BENCH_RECORDS", 10_000);
    let latency = env_num("YIDA_BENCH_LATENCY_MS", 200);
    let emu = Emulator::start_with(
        Options::default()
            .latency(Duration::from_millis(latency))
            .qps(env_num("YIDA_BENCH_EMULATOR_QPS", QUOTA as u64) as u32),
    )
    .await?;
    for i in 0..records {
        emu.insert_record(
            FORM,
            json!({"textField_title": format!("record {i}"), "numberField_amount": i}),
        )?;
    }
    // The client as an application would build it: default pacing (19 calls/s per app and
    // API) and retries.
    let client = Client::builder()
        .endpoint(emu.endpoint())
        .internal_app(emu.app_key(), emu.app_secret())?
        .context(emu.app_context())
        .build()?;
    let db = std::env::temp_dir().join(format!("yida-bench-sync-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&db);
    let store = Store::open(&format!("sqlite:{}", db.display())).await?;
    // No overlap: every record was written just now, and an overlap window would fetch them
    // all again in the incremental run. The first run starts in a later second than the
    // inserts (the time filter has second precision).
    let opts = SyncOptions {
        deletions: Deletions::Off,
        overlap: Duration::ZERO,
        concurrency: env_num("YIDA_BENCH_CONCURRENCY", 8) as usize,
        ..SyncOptions::default()
    };
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)?
        .subsec_millis();
    tokio::time::sleep(Duration::from_millis(u64::from(1001 - ms))).await;
    // A token first, so that the walk is what is measured.
    client
        .call(
            yida_api::operation("GetFormComponentDefinitionList", "1.0").ok_or("op")?,
            json!({"formUuid": FORM}),
        )
        .await?;
    println!(
        "load average at the start: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    let rss_before = peak_rss_kib();
    let (cpu0, wait0) = cpu_and_wait();
    let mirror = Mirror::new(client.clone(), store.clone(), opts);
    let start = Instant::now();
    let first = mirror.sync(FORM).await?;
    let secs = start.elapsed().as_secs_f64();
    let rss_after = peak_rss_kib();
    let (cpu1, wait1) = cpu_and_wait();
    let fraction = first.calls as f64 / (secs * QUOTA);
    // Threads that ended during the run are not counted: the runtime's workers live on.
    println!(
        "sync first run: {:.2} s of CPU used, {:.2} s spent runnable waiting for a CPU (the machine's load)",
        cpu1 - cpu0,
        wait1 - wait0
    );
    println!(
        "sync first run: {} records, {} calls in {secs:.2} s at {latency} ms latency = {:.2} of the 20 calls/s quota; peak RSS +{} KiB during the run ({} KiB in all, emulator with {records} records included)",
        first.upserted,
        first.calls,
        fraction,
        rss_after.saturating_sub(rss_before),
        rss_after,
    );

    // 10 changes: 9 updates through the API, 1 new record.
    let update = yida_api::operation("UpdateFormData", "1.0").ok_or("op")?;
    let ids: Vec<String> = emu
        .records(FORM)
        .into_iter()
        .take(9)
        .map(|r| r.form_instance_id)
        .collect();
    for id in &ids {
        client
            .call(
                update,
                json!({"formInstanceId": id, "updateFormDataJson": {"textField_title": "changed"}}),
            )
            .await?;
    }
    emu.insert_record(
        FORM,
        json!({"textField_title": "new", "numberField_amount": 1}),
    )?;
    let start = Instant::now();
    let next = mirror.sync(FORM).await?;
    let incr_secs = start.elapsed().as_secs_f64();
    let deleting = Mirror::new(
        client.clone(),
        store.clone(),
        SyncOptions {
            deletions: Deletions::Every,
            overlap: Duration::ZERO,
            concurrency: env_num("YIDA_BENCH_CONCURRENCY", 8) as usize,
            ..SyncOptions::default()
        },
    );
    let start = Instant::now();
    let check = deleting.sync(FORM).await?;
    let check_secs = start.elapsed().as_secs_f64();
    let check_secs_alone = check.deletion_ms as f64 / 1000.0;
    println!(
        "sync incremental after 10 changes: {} records written with {} calls in {incr_secs:.2} s (target <= 3)",
        next.upserted, next.calls,
    );
    println!(
        "sync deletion check: {} calls for {} ids ({} deleted) in {check_secs_alone:.2} s = {:.2} of the quota (pages {} at once); that run {} calls in {check_secs:.2} s",
        check.deletion_calls,
        records + 1,
        check.deleted,
        check.deletion_calls as f64 / (check_secs_alone.max(0.001) * QUOTA),
        env_num("YIDA_BENCH_CONCURRENCY", 8),
        check.calls,
    );
    println!(
        "load average at the end: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    emu.shutdown().await;
    let _ = std::fs::remove_file(&db);
    if fraction < 0.9 || next.calls > 3 || next.upserted != 10 {
        return Err(format!(
            "targets missed: quota fraction {fraction:.2} (>= 0.9), incremental calls {} (<= 3), written {} (10)",
            next.calls, next.upserted
        )
        .into());
    }
    Ok(())
}
