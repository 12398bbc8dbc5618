//! `cargo xtask bench-peers`: yida-api, a hand-written floor client and the official Python and
//! Node SDKs on the same work, side by side in one run (see BENCHMARKS.md).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PORT: &str = "18080";
const PY_SDK: &str = "alibabacloud-dingtalk==2.2.65";
const NODE_SDK: &str = "@alicloud/dingtalk@2.2.27";

fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("{what}: cannot start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what}: failed ({})\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs what the measurement needs, where it is missing.
fn setup(work: &Path) -> Result<(), String> {
    if !have("nginx") {
        eprintln!("installing nginx-light (apt-get)…");
        let _ = Command::new("apt-get").args(["update", "-qq"]).status();
        run(
            Command::new("apt-get").args(["install", "-y", "-qq", "nginx-light"]),
            "apt-get install nginx-light",
        )?;
    }
    let py = work.join("venv/bin/python");
    let py_ok = py.exists()
        && Command::new(&py)
            .args(["-c", "import alibabacloud_dingtalk.yida_1_0.client"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !py_ok {
        eprintln!("installing the official Python SDK ({PY_SDK}) in a venv…");
        run(
            Command::new("python3")
                .args(["-m", "venv"])
                .arg(work.join("venv")),
            "python3 -m venv",
        )?;
        run(
            Command::new(work.join("venv/bin/pip")).args(["install", "-q", PY_SDK]),
            "pip install",
        )?;
    }
    if !work.join("node/node_modules/@alicloud/dingtalk").exists() {
        eprintln!("installing the official Node SDK ({NODE_SDK})…");
        std::fs::create_dir_all(work.join("node")).map_err(|e| e.to_string())?;
        run(
            Command::new("npm")
                .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                .arg(work.join("node"))
                .arg(NODE_SDK),
            "npm install",
        )?;
    }
    Ok(())
}

/// Parses "… 1234 calls/s" from a result line.
fn rate(line: &str) -> Option<f64> {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    while let Some(w) = words.pop() {
        if w == "calls/s" {
            return words.pop()?.parse().ok();
        }
    }
    None
}

struct Nginx(PathBuf);

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.0.join("pid")) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

pub fn peers() -> Result<(), String> {
    let root = crate::root();
    // `shared/bench` next to the checkout (or next to one of its parents, for a worktree).
    let kit = root
        .ancestors()
        .skip(1)
        .map(|d| d.join("shared/bench"))
        .find(|k| k.join("mock-nginx.sh").exists())
        .ok_or(format!(
            "the shared bench kit (shared/bench/mock-nginx.sh) is not next to {} or a parent",
            root.display()
        ))?;
    let work = root.join(".bench");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    setup(&work)?;
    let page = run(
        Command::new("python3")
            .arg(kit.join("make_page.py"))
            .arg("20"),
        "make_page.py",
    )?;
    let page_path = work.join("page20.json");
    std::fs::write(&page_path, page).map_err(|e| e.to_string())?;
    eprintln!("building yida-bench (release)…");
    run(
        Command::new(env!("CARGO")).current_dir(&root).args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "yida-bench",
        ]),
        "cargo build",
    )?;
    let bench = root.join("target/release/yida-bench");
    let dir = run(
        Command::new("bash")
            .arg(kit.join("mock-nginx.sh"))
            .arg(&page_path)
            .arg(PORT),
        "mock-nginx.sh",
    )?;
    let _nginx = Nginx(PathBuf::from(dir.trim()));
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .to_string();

    // (label, command, in flight)
    let node_path = work.join("node/node_modules");
    let mut jobs: Vec<(&str, Command, u32)> = Vec::new();
    for (label, kind, n, conc) in [
        ("yida-api", "ours", "20000", "1"),
        ("yida-api", "ours", "60000", "32"),
        ("floor", "floor", "20000", "1"),
        ("floor", "floor", "60000", "32"),
    ] {
        let mut c = Command::new(&bench);
        c.args(["throughput", kind, PORT, n, conc])
            .env("YIDA_BENCH_THREADS", &cpus);
        jobs.push((label, c, conc.parse().unwrap_or(1)));
    }
    for (n, conc) in [("3000", "0"), ("4000", "32")] {
        let mut c = Command::new(work.join("venv/bin/python"));
        c.arg(kit.join("py_sdk_bench.py")).args([PORT, n, conc]);
        jobs.push(("python-sdk", c, conc.parse::<u32>().unwrap_or(0).max(1)));
    }
    for (n, conc) in [("5000", "1"), ("12000", "32")] {
        let mut c = Command::new("node");
        c.arg(kit.join("node_sdk_bench.js"))
            .args([PORT, n, conc])
            .env("NODE_PATH", &node_path);
        jobs.push(("node-sdk", c, conc.parse().unwrap_or(1)));
    }
    let mut results: Vec<(&str, u32, f64)> = Vec::new();
    for (label, mut cmd, conc) in jobs {
        let out = run(&mut cmd, label)?;
        let r = out
            .lines()
            .find_map(rate)
            .ok_or(format!("{label}: no rate in {out:?}"))?;
        eprintln!("  {label:<11} in flight {conc:>2}: {r:>8.0} calls/s");
        results.push((label, conc, r));
    }
    let get = |label: &str, conc: u32| {
        results
            .iter()
            .find(|(l, c, _)| *l == label && *c == conc)
            .map(|r| r.2)
            .unwrap_or(f64::NAN)
    };
    let mem = run(Command::new(&bench).args(["memory", "100000"]), "memory")?;
    println!(
        "SearchFormDatas, 20-record page (21 KB) from nginx on 127.0.0.1, {cpus} cores; calls/s:"
    );
    println!("| client | sequential | 32 in flight |");
    println!("| --- | ---: | ---: |");
    for label in ["yida-api", "floor", "node-sdk", "python-sdk"] {
        println!("| {label} | {:.0} | {:.0} |", get(label, 1), get(label, 32));
    }
    print!("{mem}");
    let job_lines = job_runs(&bench, &work, &node_path)?;
    for line in job_lines {
        println!("{line}");
    }
    let ours = get("yida-api", 32);
    println!(
        "ratio: {:.1}x vs node-sdk, {:.1}x vs python-sdk, {:.2}x vs floor",
        ours / get("node-sdk", 32),
        ours / get("python-sdk", 32),
        ours / get("floor", 32)
    );
    Ok(())
}

/// The job server (`yida-bench jobserver`), stopped when dropped (its stdin closes).
struct JobServer {
    child: std::process::Child,
    url: String,
}

impl JobServer {
    fn start(bench: &Path, latency_ms: u64, records: i64) -> Result<Self, String> {
        use std::io::BufRead;
        let mut child = Command::new(bench)
            .args([
                "jobserver",
                &latency_ms.to_string(),
                "20",
                &records.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("jobserver: {e}"))?;
        let mut line = String::new();
        let out = child.stdout.take().ok_or("jobserver: no stdout")?;
        std::io::BufReader::new(out)
            .read_line(&mut line)
            .map_err(|e| format!("jobserver: {e}"))?;
        Ok(JobServer {
            child,
            url: line.trim().to_string(),
        })
    }

    fn port(&self) -> String {
        self.url.rsplit(':').next().unwrap_or_default().to_string()
    }

    /// (accepted, throttled, span in s) of the API whose path ends with `suffix`.
    fn stats(&self, suffix: &str) -> Result<(f64, f64, f64), String> {
        let text = run(
            Command::new("python3").args([
                "-c",
                "import urllib.request,sys;print(urllib.request.urlopen(sys.argv[1]).read().decode())",
                &format!("{}/stats", self.url),
            ]),
            "stats",
        )?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let (mut a, mut t, mut span) = (0.0, 0.0, 0.0);
        for (path, s) in v.as_object().into_iter().flatten() {
            if path.ends_with(suffix) {
                a += s["accepted"].as_f64().unwrap_or(0.0);
                t += s["throttled"].as_f64().unwrap_or(0.0);
                span = f64::max(span, s["span"].as_f64().unwrap_or(0.0));
            }
        }
        Ok((a, t, span))
    }
}

impl Drop for JobServer {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

/// Seconds from a job's "… <seconds> s" line.
fn seconds(out: &str) -> Option<f64> {
    let words: Vec<&str> = out.split_whitespace().collect();
    let i = words.iter().rposition(|w| *w == "s")?;
    words.get(i.checked_sub(1)?)?.parse().ok()
}

/// Export and import of 10,000 records against a server answering after a latency and holding
/// 20 calls/s per API: ours vs the official SDKs' documented loops.
fn job_runs(bench: &Path, work: &Path, node_path: &Path) -> Result<Vec<String>, String> {
    const N: i64 = 10_000;
    const CONC: &str = "8";
    let latency: u64 = std::env::var("YIDA_BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let here = crate::root().join("xtask/src");
    let mut lines = Vec::new();
    let mut table: Vec<(String, String, f64, f64, f64, f64)> = Vec::new();
    for (job, suffix) in [
        ("export", "/instances/search"),
        ("import", "/instances/batchSave"),
    ] {
        for who in ["yida-api", "python-sdk", "node-sdk"] {
            let server = JobServer::start(bench, latency, if job == "export" { N } else { 0 })?;
            let mut cmd = match who {
                "yida-api" => {
                    let mut c = Command::new(bench);
                    if job == "export" {
                        c.args(["export", &server.url, CONC]);
                    } else {
                        c.args(["import", &server.url, &N.to_string(), CONC]);
                    }
                    c
                }
                "python-sdk" => {
                    let mut c = Command::new(work.join("venv/bin/python"));
                    c.arg(here.join("jobs_py.py"))
                        .args([&server.port(), job, &N.to_string()]);
                    c
                }
                _ => {
                    let mut c = Command::new("node");
                    c.arg(here.join("jobs_node.js"))
                        .args([&server.port(), job, &N.to_string()])
                        .env("NODE_PATH", node_path);
                    c
                }
            };
            let out = run(&mut cmd, &format!("{who} {job}"))?;
            let secs = seconds(&out).ok_or(format!("{who} {job}: no time in {out:?}"))?;
            let (calls, throttled, span) = server.stats(suffix)?;
            let steady = if span > 0.0 {
                (calls - 1.0) / span
            } else {
                0.0
            };
            eprintln!(
                "  {job} {who:<10} {secs:>7.2} s, {calls:.0} calls ({:.1}/s wall, {steady:.1}/s first to last call), {throttled:.0} throttled",
                calls / secs
            );
            table.push((job.into(), who.into(), secs, calls, steady, throttled));
        }
    }
    let find = |job: &str, who: &str| {
        table
            .iter()
            .find(|r| r.0 == job && r.1 == who)
            .cloned()
            .unwrap_or_default()
    };
    lines.push(format!(
        "jobs: 10,000 records, server latency {latency} ms, quota 20 calls/s per API; ours {CONC} in flight with default pacing"
    ));
    lines.push("| job | client | seconds | calls | calls/s (first to last) | throttled |".into());
    lines.push("| --- | --- | ---: | ---: | ---: | ---: |".into());
    for r in &table {
        lines.push(format!(
            "| {} | {} | {:.2} | {:.0} | {:.1} | {:.0} |",
            r.0, r.1, r.2, r.3, r.4, r.5
        ));
    }
    let (e, i) = (find("export", "yida-api"), find("import", "yida-api"));
    lines.push(format!(
        "jobs: export {:.1}x vs python-sdk, {:.2}x of quota; import {:.1}x vs python-sdk, {:.2}x of quota",
        find("export", "python-sdk").2 / e.2,
        e.4 / 20.0,
        find("import", "python-sdk").2 / i.2,
        i.4 / 20.0
    ));
    Ok(lines)
}

/// `cargo xtask bench-sync`: the SQL mirror's first run of 10,000 records at 200 ms latency
/// and 20 calls/s (fraction of the quota used, peak memory), then an incremental run after 10
/// changes (calls used) and the deletion check's cost (`bench/src/sync.rs`).
pub fn sync() -> Result<(), String> {
    let root = crate::root();
    eprintln!("building bench-sync (release)…");
    run(
        Command::new(env!("CARGO")).current_dir(&root).args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "yida-bench",
            "--bin",
            "bench-sync",
        ]),
        "cargo build",
    )?;
    let status = Command::new(root.join("target/release/bench-sync"))
        .status()
        .map_err(|e| format!("bench-sync: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("bench-sync: {status}"))
    }
}
