//! Profiles over loopback: which profile, flag > environment > profile, secrets in files
//! others can read refused, secrets from a command, `yida config list|show|set`.

use serde_json::json;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use yida_e2e::{MockServer, Reply};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn yida(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let stdin = stdin.map(str::to_string);
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_yida"));
        cmd.args(&args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = cmd.spawn().expect("run yida");
        if let Some(s) = stdin {
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("yida-profile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

const CALL: [&str; 4] = ["call", "GetFormDataByID", "--input", r#"{"id":"FINST-1"}"#];

fn call<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    extra.iter().copied().chain(CALL).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn flag_beats_environment_beats_profile() {
    let a = MockServer::always(Reply::json(json!({"server": "a"}))).await;
    let b = MockServer::always(Reply::json(json!({"server": "b"}))).await;
    let dir = temp_dir("precedence");
    let config = dir.join("config.toml");
    write(
        &config,
        &format!(
            "default_profile = \"dev\"\n\n[profiles.dev]\nendpoint = \"{}\"\naccess_token = \
             \"dev-token\"\napp_type = \"APP_DEV\"\nuser_id = \"dev-user\"\n\n\
             [profiles.prod]\nendpoint = \"{}\"\napp_kind = \"internal\"\naccess_token = \
             \"ignored-not-internal\"\naccess_token_command = \"printf never-run\"\n\
             app_key = \"k\"\napp_secret = \"s\"\n",
            a.url(),
            b.url()
        ),
        0o600,
    );
    let cfg = config.to_str().unwrap();
    // default_profile: dev, everything from the file.
    let run = yida(&call(&[]), &[("YIDA_CONFIG", cfg)], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "{\"server\":\"a\"}\n");
    let r = &a.requests()[0];
    assert_eq!(r.header("x-acs-dingtalk-access-token"), Some("dev-token"));
    // The environment beats the profile, setting by setting.
    let env_b = b.url();
    let run = yida(
        &call(&[]),
        &[
            ("YIDA_CONFIG", cfg),
            ("YIDA_ENDPOINT", &env_b),
            ("YIDA_ACCESS_TOKEN", "env-token"),
        ],
        None,
    )
    .await;
    assert_eq!(run.stdout, "{\"server\":\"b\"}\n", "{}", run.stderr);
    assert_eq!(
        b.requests()[0].header("x-acs-dingtalk-access-token"),
        Some("env-token")
    );
    // A flag beats the environment.
    let url_a = a.url();
    let run = yida(
        &call(&["--endpoint", &url_a]),
        &[("YIDA_CONFIG", cfg), ("YIDA_ENDPOINT", &env_b)],
        None,
    )
    .await;
    assert_eq!(run.stdout, "{\"server\":\"a\"}\n", "{}", run.stderr);
    // The flag after the subcommand too (a global flag), and --config for the file.
    let run = yida(
        &[
            "call",
            "GetFormDataByID",
            "--input",
            r#"{"id":"F"}"#,
            "--config",
            cfg,
            "--endpoint",
            &env_b,
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(run.stdout, "{\"server\":\"b\"}\n", "{}", run.stderr);
    assert_eq!(b.count(), 2);

    // Which profile: --profile beats YIDA_PROFILE beats default_profile.
    let run = yida(
        &["config", "show"],
        &[("YIDA_CONFIG", cfg), ("YIDA_PROFILE", "prod")],
        None,
    )
    .await;
    assert!(run.stdout.contains("profile: prod\n"), "{}", run.stdout);
    let run = yida(
        &["config", "show", "--profile", "dev"],
        &[("YIDA_CONFIG", cfg), ("YIDA_PROFILE", "prod")],
        None,
    )
    .await;
    assert!(run.stdout.contains("profile: dev\n"), "{}", run.stdout);
    // prod is an internal app: its access_token (and the command) are set aside.
    let run = yida(
        &["config", "show", "--profile", "prod"],
        &[("YIDA_CONFIG", cfg)],
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    assert_eq!(line("access_token"), "access_token - unset");
    assert_eq!(line("app_key"), "app_key profile k");
    assert_eq!(line("app_secret"), "app_secret profile set");
    // Environment credentials set the profile's aside as a group.
    let run = yida(
        &["config", "show", "--profile", "prod"],
        &[
            ("YIDA_CONFIG", cfg),
            ("YIDA_ACCESS_TOKEN", "env-token-secret"),
        ],
        None,
    )
    .await;
    assert!(run.stdout.contains("app_key       -"), "{}", run.stdout);
    assert!(
        run.stdout.contains("access_token  env      set"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("env-token-secret"), "{}", run.stdout);

    // An unknown profile names the ones there are; nothing is sent.
    let run = yida(
        &call(&["--profile", "staging"]),
        &[("YIDA_CONFIG", cfg)],
        None,
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--profile names profile `staging`")
            && run.stderr.contains("dev, prod"),
        "{}",
        run.stderr
    );
    assert_eq!((a.count(), b.count()), (2, 2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_with_secrets_others_can_read_is_refused_with_the_chmod_to_run() {
    let server = MockServer::always(Reply::json(json!({"ok": true}))).await;
    let dir = temp_dir("mode");
    // The default place: $HOME/.config/yida/config.toml.
    let home = dir.to_str().unwrap();
    let config = dir.join(".config/yida/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let text = format!(
        "default_profile = \"p\"\n[profiles.p]\nendpoint = \"{}\"\naccess_token = \"file-token-secret\"\n",
        server.url()
    );
    for mode in [0o644, 0o640, 0o604] {
        write(&config, &text, mode);
        let run = yida(&call(&[]), &[("HOME", home)], None).await;
        assert_eq!(run.code, 2, "{mode:o}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("run `chmod 600 {}`", config.display())),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("p.access_token"), "{}", run.stderr);
        assert!(!run.stderr.contains("file-token-secret"));
    }
    assert_eq!(server.count(), 0);
    write(&config, &text, 0o600);
    let run = yida(&call(&[]), &[("HOME", home)], None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        server.requests()[0].header("x-acs-dingtalk-access-token"),
        Some("file-token-secret")
    );
    // No secret written in it (one from a command): others may read it.
    write(
        &config,
        &format!(
            "default_profile = \"p\"\n[profiles.p]\nendpoint = \"{}\"\naccess_token_command = \
             \"printf 'cmd-token\\n'\"\nsystem_token_command = \"echo sys-from-cmd\"\napp_type = \"APP_C\"\nuser_id = \"u\"\n",
            server.url()
        ),
        0o644,
    );
    let run = yida(
        &[
            "call",
            "SaveFormData",
            "--input",
            r#"{"formUuid":"F","formDataJson":{}}"#,
        ],
        &[("HOME", home)],
        None,
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    let r = &server.requests()[1];
    assert_eq!(r.header("x-acs-dingtalk-access-token"), Some("cmd-token"));
    assert_eq!(r.json()["systemToken"], "sys-from-cmd");
    assert_eq!(r.json()["appType"], "APP_C");
    // A failing command is named, and nothing is sent.
    write(
        &config,
        "default_profile = \"p\"\n[profiles.p]\naccess_token_command = \"exit 3\"\n",
        0o644,
    );
    let run = yida(&call(&[]), &[("HOME", home)], None).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("profiles.p.access_token_command failed"),
        "{}",
        run.stderr
    );
    // What a failing command printed (maybe the secret) is never shown.
    write(
        &config,
        "default_profile = \"p\"\n[profiles.p]\naccess_token_command = \"echo leaked-secret; exit 3\"\n",
        0o644,
    );
    let run = yida(&call(&[]), &[("HOME", home)], None).await;
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains("leaked-secret") && !run.stdout.contains("leaked-secret"));
    // An unknown setting is named.
    write(&config, "[profiles.p]\napp_secert = \"x\"\n", 0o600);
    let run = yida(&call(&[]), &[("HOME", home)], None).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("unknown setting `app_secert`: did you mean `app_secret`?"),
        "{}",
        run.stderr
    );
    assert_eq!(server.count(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn config_set_writes_a_private_file_and_show_never_prints_secrets() {
    let server = MockServer::always(Reply::json(json!({"ok": 1}))).await;
    let dir = temp_dir("set");
    let config = dir.join("sub/config.toml");
    let cfg = config.to_str().unwrap();
    let env = [("YIDA_CONFIG", cfg)];
    let url = server.url();
    for (args, stdin) in [
        (
            vec!["config", "set", "--profile", "emu", "endpoint", &url],
            None,
        ),
        (
            vec!["config", "set", "--profile", "emu", "access_token", "-"],
            Some("set-token-secret\n"),
        ),
        (
            vec!["config", "set", "--profile", "emu", "app_type", "APP_SET"],
            None,
        ),
        (vec!["config", "set", "default_profile", "emu"], None),
    ] {
        let run = yida(&args, &env, stdin).await;
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("set-token-secret"), "{}", run.stderr);
    }
    let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let run = yida(&["config", "show"], &env, None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("profile: emu\n"), "{}", run.stdout);
    assert!(
        run.stdout.contains("access_token  profile  set"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("system_token  -        unset"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("app_type      profile  APP_SET"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("set-token-secret"), "{}", run.stdout);
    let run = yida(&["config", "list"], &env, None).await;
    assert_eq!(
        run.stdout,
        format!("* emu  -  {url}\n1 profiles in {cfg}\n")
    );
    let run = yida(&call(&[]), &env, None).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        server.requests()[0].header("x-acs-dingtalk-access-token"),
        Some("set-token-secret")
    );
    let run = yida(&["config", "set", "app_secert", "x"], &env, None).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `app_secret`?"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}
