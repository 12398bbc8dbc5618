//! The README's first-use path, run as written: `yida emulator` in one process, the second
//! block in bash with the variables it printed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn yida() -> &'static str {
    env!("CARGO_BIN_EXE_yida")
}

/// The ```sh blocks of the README section that starts with `heading`.
fn sh_blocks(heading: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let start = readme.find(heading).expect("README section");
    let rest = &readme[start + heading.len()..];
    let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
    let mut blocks = vec![];
    let mut it = section.split("```sh\n").skip(1);
    for b in it.by_ref() {
        blocks.push(b[..b.find("```").unwrap()].to_string());
    }
    blocks
}

struct Emu(Child);

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `yida emulator <args>` and reads its `export` lines up to the one named `last`.
fn start(args: &[&str], last: &str) -> (Emu, Vec<(String, String)>) {
    let mut child = Command::new(yida())
        .args(args)
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let emu = Emu(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut vars = vec![];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx.recv_timeout(left).expect("export lines within 30 s");
        let (k, v) = line
            .strip_prefix("export ")
            .unwrap()
            .split_once('=')
            .unwrap();
        vars.push((k.to_string(), v.to_string()));
        if k == last {
            break;
        }
    }
    (emu, vars)
}

#[test]
fn readme_first_use_path() {
    let blocks = sh_blocks("## Try it locally: no DingTalk account needed");
    assert_eq!(blocks.len(), 2);
    let first: Vec<&str> = blocks[0]
        .lines()
        .map(|l| l.split(" #").next().unwrap().trim())
        .collect();
    // The install step is what built the binary under test; the rest is run as written.
    assert_eq!(
        first,
        ["cargo install --locked --path yida-cli", "yida emulator"]
    );
    let (mut emu, vars) = start(&["emulator"], "YIDA_DEMO_PROCESS_CODE");
    let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "YIDA_ENDPOINT",
            "YIDA_APP_KEY",
            "YIDA_APP_SECRET",
            "YIDA_APP_TYPE",
            "YIDA_SYSTEM_TOKEN",
            "YIDA_USER_ID",
            "YIDA_DEMO_FORM_UUID",
            "YIDA_DEMO_PROCESS_CODE"
        ]
    );
    assert!(vars[0].1.starts_with("http://127.0.0.1:"));

    let bin_dir = Path::new(yida()).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = std::env::temp_dir();
    let out = Command::new("bash")
        .args(["-e", "-o", "pipefail", "-c", &blocks[1]])
        .current_dir(&dir)
        .env_clear()
        .env("PATH", path)
        .envs(vars.iter().cloned())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");
    // Every reply, pretty or compact, as a sequence of JSON values.
    let replies: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}: {stdout}"));
    // Two records saved.
    let saved: Vec<&str> = replies
        .iter()
        .filter_map(|v| v["result"].as_str())
        .collect();
    assert_eq!(saved.len(), 2, "{stdout}");
    assert!(saved.iter().all(|id| id.starts_with("FINST-")));
    // --all: one item per record, one page each.
    let items: Vec<&str> = replies
        .iter()
        .filter(|v| v["formInstanceId"].is_string())
        .map(|v| v["formData"]["textField_title"].as_str().unwrap())
        .collect();
    assert_eq!(items.len(), 2, "{stdout}");
    assert!(items.contains(&"Laptop") && items.contains(&"Desk"));
    assert!(stderr.contains("page 2: 2/2 items"), "{stderr}");
    // The range search found one.
    let found: Vec<&serde_json::Value> = replies
        .iter()
        .filter(|v| v["currentPage"].is_i64())
        .collect();
    assert_eq!(found.len(), 1, "{stdout}");
    assert_eq!(found[0]["totalCount"], 1);
    assert_eq!(found[0]["data"][0]["formData"]["textField_title"], "Laptop");
    // The process was approved.
    let inst = replies.last().unwrap();
    assert_eq!(inst["instanceStatus"], "COMPLETED", "{stdout}");
    assert_eq!(inst["approvedResult"], "agree", "{stdout}");

    // SIGTERM stops it cleanly.
    let pid = emu.0.id().to_string();
    // The shell's builtin `kill`: no procps needed.
    let kill = format!("kill -TERM {pid}");
    assert!(Command::new("sh")
        .args(["-c", &kill])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = emu.0.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn seed_file_and_bad_flags() {
    let dir = std::env::temp_dir().join(format!("yida-cli-emu-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let seed = dir.join("seed.yaml");
    std::fs::write(
        &seed,
        "internalApps: [{ appKey: k1, appSecret: s1 }]\napps: [{ appType: APP_MINE, systemToken: t1 }]\nusers: [{ userId: me, name: Me }]\n",
    )
    .unwrap();
    let (_emu, vars) = start(
        &[
            "emulator",
            "--seed",
            seed.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        "YIDA_USER_ID",
    );
    let get = |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(
        (
            get("YIDA_APP_KEY"),
            get("YIDA_APP_TYPE"),
            get("YIDA_USER_ID")
        ),
        (Some("k1"), Some("APP_MINE"), Some("me"))
    );
    assert_eq!(get("YIDA_DEMO_FORM_UUID"), None);

    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "forms: [{ formUuid: F, appType: NONE }]\n").unwrap();
    for args in [
        vec![
            "emulator".to_string(),
            "--seed".into(),
            bad.display().to_string(),
        ],
        vec![
            "emulator".into(),
            "--seed".into(),
            dir.join("missing.yaml").display().to_string(),
        ],
        vec!["emulator".into(), "--error-rate".into(), "2".into()],
        vec!["emulator".into(), "--reset".into()],
    ] {
        let out = Command::new(yida())
            .args(&args)
            .env_clear()
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty());
    }
    let _ = std::fs::remove_dir_all(&dir);
}
