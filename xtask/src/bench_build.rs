//! `cargo xtask bench-build`: what a newcomer's first build costs, beside a floor, in one run
//! (BENCHMARKS.md, "First build").
//!
//! Every build runs on a fresh, empty target folder of its own (deleted after it is measured)
//! with `RUSTC_WRAPPER` unset, so nothing is reused between them:
//!
//! - **floor**: a bare app on reqwest (rustls, ring provider, http2) + tokio + serde_json that
//!   posts one JSON body and decodes the reply: what any HTTP client pays. Built in debug and,
//!   for the CLI's ratio, in release.
//! - **app**: a minimal downstream app: `yida-api` with one area (`forms`, the crate's default
//!   TLS) + `yida-auth` + tokio, calling `SearchFormDatas`; clean debug build and the size of
//!   its target folder.
//! - **doc**: `cargo doc -p yida-api --no-deps` in this workspace.
//! - **cli**: `cargo build -p yida-cli --release` in this workspace.
//!
//! The last line is `build: <app / floor debug>x of floor (app), <cli / floor release>x of
//! floor (cli)` (wall time), the line before it the same in CPU time (user + system of every
//! process a build ran), which a busy machine disturbs less. The load average is printed beside
//! every figure: ratios from one run are what count. Flags: `--skip-cli`, `--only app,doc,cli` (the floors each needs are built too),
//! `--dir PATH` (where the scratch crates and target folders go; default a temp folder),
//! `--keep` (leave it), `--root CHECKOUT` (measure another checkout of yida-rs, e.g. an older
//! commit in a `git worktree`, with this command).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const TOKIO: &str = r#"tokio = { version = "1", features = ["macros", "rt-multi-thread"] }"#;

const FLOOR_MANIFEST: &str = r#"[package]
name = "floor"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
reqwest = { version = "0.13", default-features = false, features = ["http2", "rustls-no-provider"] }
rustls = { version = "0.23", default-features = false, features = ["ring", "std", "tls12"] }
serde_json = "1"
"#;

const FLOOR_MAIN: &str = r#"//! The floor: what any HTTP client on reqwest + tokio + serde_json pays.
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let endpoint = std::env::args().nth(1).unwrap_or_else(|| "https://api.dingtalk.com".into());
    let client = reqwest::Client::builder().build()?;
    let body = serde_json::json!({ "formUuid": "FORM-XXXX", "currentPage": 1, "pageSize": 100 });
    let reply = client
        .post(format!("{endpoint}/v2.0/yida/forms/instances/search"))
        .header("x-acs-dingtalk-access-token", std::env::var("TOKEN").unwrap_or_default())
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body)?)
        .send()
        .await?
        .bytes()
        .await?;
    let value: serde_json::Value = serde_json::from_slice(&reply)?;
    println!("{}", value["totalCount"]);
    Ok(())
}
"#;

const APP_MAIN: &str = r#"//! A minimal downstream app: one area of yida-api, yida-auth, tokio.
use yida_api::{AppContext, Client, SearchFormDatasV2Request};
use yida_auth::InternalApp;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::builder()
        .token_provider(InternalApp::new("dingappkey", std::env::var("APP_SECRET")?)?)
        .context(AppContext::new().app_type("APP_XXXX").system_token("sys-token").user_id("u1"))
        .build()?;
    let page = client
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("FORM-XXXX"))
        .await?;
    println!("{:?}", page.total_count);
    Ok(())
}
"#;

fn app_manifest(root: &Path) -> String {
    let api = root.join("yida-api");
    let auth = root.join("yida-auth");
    format!(
        r#"[package]
name = "app"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
yida-api = {{ path = "{}", default-features = false, features = ["forms"] }}
yida-auth = {{ path = "{}" }}
{TOKIO}
"#,
        api.display(),
        auth.display()
    )
}

/// The 1-, 5- and 15-minute load averages, as `uptime` prints them.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into())
}

/// Bytes of all files under `dir` (apparent size; symlinks not followed).
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// A scratch crate under `dir`, with the workspace's Cargo.lock as its starting point (same
/// versions as ours; cargo drops what it does not use), its dependencies fetched untimed.
fn scratch(dir: &Path, manifest: &str, main: &str, root: &Path) -> Result<(), String> {
    write(&dir.join("Cargo.toml"), manifest)?;
    write(&dir.join("src/main.rs"), main)?;
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))
        .map_err(|e| format!("copy Cargo.lock: {e}"))?;
    let ok = Command::new(cargo())
        .arg("fetch")
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cargo fetch: {e}"))?
        .success();
    if !ok {
        return Err(format!("cargo fetch failed in {}", dir.display()));
    }
    Ok(())
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// CPU seconds (user + system) of the waited-for children of this process so far: every
/// cargo, rustc, build script and C compiler a measured build ran (Linux, `/proc/self/stat`).
/// Less sensitive than wall time to other work on a shared machine.
fn children_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 16 and 17 of proc(5) (cutime, cstime); `after` starts at field 3.
    let ticks: f64 = fields.get(13)?.parse::<f64>().ok()? + fields.get(14)?.parse::<f64>().ok()?;
    Some(ticks / clock_ticks())
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// One measured build.
struct Measure {
    secs: f64,
    cpu: Option<f64>,
    bytes: u64,
    load_before: String,
    load_after: String,
}

impl Measure {
    fn show(&self) -> String {
        let cpu = self
            .cpu
            .map_or(String::new(), |c| format!(" ({c:.1} s CPU)"));
        format!(
            "{:.1} s{cpu}, target folder {:.0} MB (load {} → {})",
            self.secs,
            self.bytes as f64 / 1e6,
            self.load_before,
            self.load_after
        )
    }
}

/// Runs `cargo <args>` in `dir` on the empty target folder `target`, measures wall time and
/// the folder's size, then deletes it unless `keep`.
fn measure(
    what: &str,
    dir: &Path,
    args: &[&str],
    target: &Path,
    keep: bool,
) -> Result<Measure, String> {
    let _ = std::fs::remove_dir_all(target);
    eprintln!("== {what}: cargo {}", args.join(" "));
    let load_before = load();
    let cpu_before = children_cpu_secs();
    let started = Instant::now();
    let out = Command::new(cargo())
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTC_WRAPPER")
        .env_remove("CARGO_BUILD_RUSTC_WRAPPER")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("{what}: cannot start cargo: {e}"))?;
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_before.zip(children_cpu_secs()).map(|(a, b)| b - a);
    let load_after = load();
    if !out.status.success() {
        return Err(format!(
            "{what}: cargo {} failed\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let bytes = dir_size(target);
    if !keep {
        let _ = std::fs::remove_dir_all(target);
    }
    let m = Measure {
        secs,
        cpu,
        bytes,
        load_before,
        load_after,
    };
    println!("{what}: {}", m.show());
    Ok(m)
}

pub fn run(args: &[String]) -> Result<(), String> {
    let mut only: Vec<String> = vec!["app".into(), "doc".into(), "cli".into()];
    let mut keep = false;
    let mut dir: Option<PathBuf> = None;
    let mut root = crate::root();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--skip-cli" => only.retain(|s| s != "cli"),
            "--keep" => keep = true,
            "--only" => {
                let v = it.next().ok_or("--only needs a value: app, doc, cli")?;
                only = v.split(',').map(|s| s.trim().to_string()).collect();
                if let Some(bad) = only.iter().find(|s| !["app", "doc", "cli"].contains(&s.as_str())) {
                    return Err(format!("--only: unknown build `{bad}` (app, doc, cli)"));
                }
            }
            "--dir" => dir = Some(PathBuf::from(it.next().ok_or("--dir needs a path")?)),
            "--root" => root = PathBuf::from(it.next().ok_or("--root needs a path")?),
            other => {
                return Err(format!(
                    "bench-build: unknown argument `{other}`\n\
                     usage: cargo xtask bench-build [--skip-cli] [--only app,doc,cli] [--dir PATH] [--keep] [--root CHECKOUT]"
                ))
            }
        }
    }
    let want = |s: &str| only.iter().any(|o| o == s);
    let root = std::fs::canonicalize(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    let dir = dir.unwrap_or_else(|| {
        std::env::temp_dir().join(format!("yida-bench-build-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let result = run_in(&root, &dir, keep, &want);
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

/// `", <x>x in CPU time"` when both builds have a CPU figure.
fn cpu_ratio(m: &Measure, floor: &Measure) -> String {
    match (m.cpu, floor.cpu) {
        (Some(a), Some(b)) if b > 0.0 => format!(", {:.2}x in CPU time", a / b),
        _ => String::new(),
    }
}

fn run_in(root: &Path, dir: &Path, keep: bool, want: &dyn Fn(&str) -> bool) -> Result<(), String> {
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "bench-build: {rustc}, {cores} cores, load {} at the start",
        load()
    );
    let floor_dir = dir.join("floor");
    let app_dir = dir.join("app");
    scratch(
        &floor_dir,
        &format!("{FLOOR_MANIFEST}{TOKIO}\n"),
        FLOOR_MAIN,
        root,
    )?;
    if want("app") {
        scratch(&app_dir, &app_manifest(root), APP_MAIN, root)?;
    }
    let floor_debug = if want("app") || want("doc") {
        Some(measure(
            "floor debug",
            &floor_dir,
            &["build", "--offline"],
            &dir.join("t-floor-debug"),
            keep,
        )?)
    } else {
        None
    };
    let mut app_ratio = None;
    let mut app_cpu = None;
    let mut cli_cpu = None;
    if want("app") {
        let m = measure(
            "app debug",
            &app_dir,
            &["build", "--offline"],
            &dir.join("t-app-debug"),
            keep,
        )?;
        let f = floor_debug.as_ref().expect("built for app");
        let r = m.secs / f.secs;
        println!(
            "app debug: {r:.2}x of floor debug in time{}, {:.2}x in target folder size",
            cpu_ratio(&m, f),
            m.bytes as f64 / f.bytes as f64
        );
        app_cpu = m.cpu.zip(f.cpu).map(|(a, b)| a / b);
        app_ratio = Some(r);
    }
    if want("doc") {
        let m = measure(
            "doc yida-api",
            root,
            &["doc", "-p", "yida-api", "--no-deps", "--offline"],
            &dir.join("t-doc"),
            keep,
        )?;
        let f = floor_debug.as_ref().expect("built for doc");
        println!(
            "doc yida-api: {:.2}x of floor debug in time{}",
            m.secs / f.secs,
            cpu_ratio(&m, f)
        );
    }
    let mut cli_ratio = None;
    if want("cli") {
        let f = measure(
            "floor release",
            &floor_dir,
            &["build", "--release", "--offline"],
            &dir.join("t-floor-release"),
            keep,
        )?;
        let m = measure(
            "cli release",
            root,
            &["build", "-p", "yida-cli", "--release", "--offline"],
            &dir.join("t-cli-release"),
            keep,
        )?;
        let r = m.secs / f.secs;
        println!(
            "cli release: {r:.2}x of floor release in time{}",
            cpu_ratio(&m, &f)
        );
        cli_cpu = m.cpu.zip(f.cpu).map(|(a, b)| a / b);
        cli_ratio = Some(r);
    }
    let show = |r: Option<f64>| r.map_or("skipped".to_string(), |r| format!("{r:.2}x of floor"));
    // CPU time (less sensitive to a busy machine); the last line is wall time.
    println!("cpu: {} (app), {} (cli)", show(app_cpu), show(cli_cpu));
    println!(
        "build: {} (app), {} (cli)",
        show(app_ratio),
        show(cli_ratio)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_cpu_time_counts_a_waited_for_child() {
        let before = children_cpu_secs().expect("Linux /proc");
        let ok = Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"])
            .status()
            .expect("sh runs")
            .success();
        assert!(ok);
        let after = children_cpu_secs().expect("Linux /proc");
        assert!(after > before, "{before} → {after}");
    }

    #[test]
    fn dir_size_adds_up_files_below() {
        let dir =
            std::env::temp_dir().join(format!("yida-bench-build-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write(&dir.join("a/b/c.txt"), &"x".repeat(1000)).unwrap();
        write(&dir.join("d.txt"), &"y".repeat(24)).unwrap();
        assert_eq!(dir_size(&dir), 1024);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
