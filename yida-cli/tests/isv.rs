//! The ISV path from the command line (issue 19 items 16, 21, 22): the emulator's options,
//! the suite-ticket store of `yida events` and `yida call`, test pushes.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `yida` with `args` and only `env` (plus PATH); kills it after `limit`. Returns exit
/// code (`None`: killed), stdout, stderr.
fn yida_bounded(
    args: &[&str],
    env: &[(&str, &str)],
    limit: Duration,
) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_yida"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run yida");
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    (
        code,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Item 16: `--token-lifetime 18446744073709551615` was accepted, and every token request
/// then panicked; it is refused naming the option.
#[test]
fn emulator_token_lifetime_out_of_range_is_refused() {
    for bad in ["18446744073709551615", "2592001", "0"] {
        let (code, stdout, stderr) = yida_bounded(
            &["emulator", "--token-lifetime", bad],
            &[],
            Duration::from_secs(10),
        );
        assert_eq!(code, Some(2), "{bad}: stdout {stdout} stderr {stderr}");
        assert!(stderr.contains("--token-lifetime"), "{stderr}");
        assert!(stdout.is_empty(), "nothing served: {stdout}");
    }
}

/// Item 16 from the command line: `--data FILE --reset` on a file that is not an emulator
/// database is refused, and the file is left as it was.
#[test]
fn emulator_reset_refuses_a_foreign_file() {
    let dir = std::env::temp_dir().join(format!("yida-cli-isv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("notes.txt");
    std::fs::write(&path, "keep me\n").unwrap();
    let (code, stdout, stderr) = yida_bounded(
        &["emulator", "--data", path.to_str().unwrap(), "--reset"],
        &[],
        Duration::from_secs(10),
    );
    assert!(
        matches!(code, Some(c) if c != 0),
        "{code:?} {stdout} {stderr}"
    );
    assert!(stderr.contains("not an emulator database"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me\n");
    let _ = std::fs::remove_dir_all(&dir);
}
