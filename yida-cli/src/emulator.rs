//! `yida emulator`: a local Yida to try the CLI and the SDK without a DingTalk tenant.

use crate::fail::{Fail, FAILED};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use yida_emulator::{Emulator, Options, Seed};

/// Run a local Yida (emulator) and print the variables that point this CLI at it.
///
/// Prints `export NAME=value` lines on stdout (paste them into another shell, or `eval`
/// them), then serves until Ctrl-C or SIGTERM. Without --seed it serves a demo tenant: one app,
/// two users, the form YIDA_DEMO_FORM_UUID and the one-step approval process
/// YIDA_DEMO_PROCESS_CODE.
#[derive(clap::Args, Debug)]
pub struct EmulatorArgs {
    /// Address to listen on (port 0: any free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Seed file (YAML or JSON): apps, users, forms with components, processes.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Add a form from a GetFormComponentDefinitionList reply saved as JSON, to test against
    /// the shape of a production form: `[FORM-UUID=]FILE.json` (without the id, the file name
    /// must be the form's id, `FORM-….json`). Repeatable; the form joins the seed's first app.
    #[arg(long = "form", value_name = "[FORM-UUID=]FILE")]
    pub forms: Vec<String>,
    /// Keep state across restarts in this file (an embedded redb database).
    #[arg(long, value_name = "PATH")]
    pub data: Option<PathBuf>,
    /// Empty the --data file first.
    #[arg(long, requires = "data")]
    pub reset: bool,
    /// Milliseconds added to every reply.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
    /// Calls per second per app per API before 403 QpsLimitForAppkeyAndApi (0: unlimited).
    #[arg(long, value_name = "N", default_value_t = yida_emulator::DEFAULT_QPS)]
    pub qps: u32,
    /// Fraction of calls (0 to 1) answered HTTP 500, before anything is applied.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub error_rate: f64,
    /// Access-token lifetime in seconds (1 to 2592000, 30 days).
    #[arg(long, value_name = "SECS", default_value_t = 7200, value_parser = clap::value_parser!(u64).range(1..=2_592_000))]
    pub token_lifetime: u64,
    /// Play DingTalk for third-party apps: push a suite ticket to this HTTP callback at start
    /// and every --ticket-interval, tmp_auth_code and org_suite_auth when a company authorizes
    /// (POST /_emulator/authorize {"corpId":…}), and approval events; encrypted and signed as
    /// DingTalk does. Prints YIDA_CALLBACK_TOKEN, _AES_KEY and _KEY for `yida events http`.
    #[arg(long, value_name = "URL")]
    pub callback: Option<String>,
    /// Seconds between suite-ticket pushes (DingTalk: about 5 hours).
    #[arg(long, value_name = "SECS", default_value_t = 18_000, requires = "callback", value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub ticket_interval: u64,
    /// The callback token (default: a random one, printed).
    #[arg(long, value_name = "TOKEN", requires = "callback")]
    pub callback_token: Option<String>,
    /// The callback's 43-character EncodingAESKey (default: a random one, printed).
    #[arg(long, value_name = "KEY", requires = "callback")]
    pub callback_aes_key: Option<String>,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let r: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err(format!("{r} is not between 0 and 1"))
    }
}

/// Shell-quotes a value when it needs it.
fn quote(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@%+=,".contains(c));
    if plain {
        v.to_string()
    } else {
        format!("'{}'", v.replace('\'', r"'\''"))
    }
}

/// Starts the emulator, prints the exports, serves until Ctrl-C or SIGTERM.
pub async fn run(args: EmulatorArgs) -> Result<(), Fail> {
    let seed = match &args.seed {
        None => Seed::demo(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Fail::usage(format!("cannot read {}: {e}", path.display())))?;
            Seed::from_yaml(&text).map_err(|e| Fail::usage(format!("{}: {e}", path.display())))?
        }
    };
    let mut seed = seed;
    for spec in &args.forms {
        add_form(&mut seed, spec)?;
    }
    let mut opts = Options::default()
        .seed(seed)
        .listen(args.listen)
        .latency(Duration::from_millis(args.latency_ms))
        .qps(args.qps)
        .error_rate(args.error_rate)
        .token_lifetime(Duration::from_secs(args.token_lifetime))
        .reset(args.reset);
    if let Some(d) = &args.data {
        opts = opts.data(d);
    }
    if let Some(url) = &args.callback {
        let mut cb = yida_emulator::Callback::new(url.clone())
            .map_err(|e| Fail(FAILED, format!("error: {e}")))?
            .ticket_interval(Duration::from_secs(args.ticket_interval));
        if let Some(t) = &args.callback_token {
            cb.token = t.clone();
        }
        if let Some(k) = &args.callback_aes_key {
            cb.aes_key = k.clone();
        }
        opts = opts.callback(cb);
    }
    let emu = Emulator::start_with(opts)
        .await
        .map_err(|e| Fail(FAILED, format!("error: {e}")))?;
    {
        let mut out = std::io::stdout().lock();
        for (name, value) in emu.env() {
            let _ = writeln!(out, "export {name}={}", quote(&value));
        }
        let _ = out.flush();
    }
    eprintln!(
        "yida emulator serving {} (state: {}); Ctrl-C to stop",
        emu.endpoint(),
        args.data
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "memory".into())
    );
    crate::signal::stop().await;
    eprintln!("yida emulator stopping");
    emu.shutdown().await;
    Ok(())
}

/// Adds one `--form [FORM-UUID=]FILE.json` to the seed.
fn add_form(seed: &mut Seed, spec: &str) -> Result<(), Fail> {
    let (uuid, path) = match spec.split_once('=') {
        Some((u, p)) if u.starts_with("FORM-") => (u.to_string(), PathBuf::from(p)),
        _ => {
            let path = PathBuf::from(spec);
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .filter(|s| s.starts_with("FORM-"))
                .map(String::from)
                .ok_or_else(|| {
                    Fail::usage(format!(
                        "--form {spec}: name the form: --form FORM-…={spec} (or name the file FORM-….json)"
                    ))
                })?;
            (stem, path)
        }
    };
    let app = seed
        .apps
        .first()
        .map(|a| a.app_type.clone())
        .ok_or_else(|| Fail::usage("--form: the seed has no app to add the form to"))?;
    let meta = std::fs::metadata(&path)
        .map_err(|e| Fail::usage(format!("--form: cannot read {}: {e}", path.display())))?;
    // A definitions reply is small; refuse what cannot be one before reading it.
    const MAX_DEFINITIONS_BYTES: u64 = 16 << 20;
    if !meta.is_file() || meta.len() > MAX_DEFINITIONS_BYTES {
        return Err(Fail::usage(format!(
            "--form: {} is not a regular file of at most {MAX_DEFINITIONS_BYTES} bytes",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Fail::usage(format!("--form: cannot read {}: {e}", path.display())))?;
    let title = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(&uuid)
        .to_string();
    seed.add_form_definitions(&uuid, &app, &title, &text)
        .map_err(|e| Fail::usage(format!("--form {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn forms_from_definitions_files() {
        let dir = std::env::temp_dir().join(format!("yida-emu-form-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let named = dir.join("FORM-ABC.json");
        let reply =
            r#"{"result":[{"fieldId":"textField_a","componentName":"TextField","label":"A"}]}"#;
        std::fs::write(&named, reply).unwrap();
        let other = dir.join("defs.json");
        std::fs::write(&other, reply).unwrap();
        let mut seed = Seed::demo();
        add_form(&mut seed, named.to_str().unwrap()).unwrap();
        add_form(&mut seed, &format!("FORM-XYZ={}", other.display())).unwrap();
        assert_eq!(seed.form("FORM-ABC").unwrap().components.len(), 1);
        assert_eq!(seed.form("FORM-XYZ").unwrap().app_type, "APP_DEMO");
        let e = add_form(&mut seed, other.to_str().unwrap()).unwrap_err();
        assert!(e.1.contains("name the form"), "{}", e.1);
        std::fs::write(&other, "{}").unwrap();
        let e = add_form(&mut seed, &format!("FORM-Q={}", other.display())).unwrap_err();
        assert!(e.1.contains("result"), "{}", e.1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("http://127.0.0.1:5"), "http://127.0.0.1:5");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
