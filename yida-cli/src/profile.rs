//! Profiles: named settings in a config file (`~/.config/yida/config.toml`), and
//! `yida config list|show|set`.
//!
//! Each setting is looked up flag first, then its environment variable, then the active
//! profile. The profile is `--profile`, else `YIDA_PROFILE`, else the file's
//! `default_profile`. A secret may be written in the file (then the file must be readable by
//! its owner only) or given as `<key>_command`, a command that prints it.

use crate::fail::{clean, Fail};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What a setting is for: credentials of one app kind are taken together, from one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Endpoint,
    Token,
    Internal,
    ThirdParty,
    Context,
    Timeout,
}

/// One setting: its key in a profile, its environment variable, whether it is a secret.
struct Key {
    name: &'static str,
    var: &'static str,
    secret: bool,
    group: Group,
    doc: &'static str,
}

const KEYS: &[Key] = &[
    key(
        "endpoint",
        "YIDA_ENDPOINT",
        false,
        Group::Endpoint,
        "base URL",
    ),
    key(
        "access_token",
        "YIDA_ACCESS_TOKEN",
        true,
        Group::Token,
        "a token used as is",
    ),
    key(
        "app_key",
        "YIDA_APP_KEY",
        false,
        Group::Internal,
        "internal app: AppKey",
    ),
    key(
        "app_secret",
        "YIDA_APP_SECRET",
        true,
        Group::Internal,
        "internal app: AppSecret",
    ),
    key(
        "suite_key",
        "YIDA_SUITE_KEY",
        false,
        Group::ThirdParty,
        "third-party app: SuiteKey",
    ),
    key(
        "suite_secret",
        "YIDA_SUITE_SECRET",
        true,
        Group::ThirdParty,
        "third-party app: SuiteSecret",
    ),
    key(
        "suite_ticket",
        "YIDA_SUITE_TICKET",
        true,
        Group::ThirdParty,
        "third-party app: suite ticket",
    ),
    key(
        "auth_corp_id",
        "YIDA_AUTH_CORP_ID",
        false,
        Group::ThirdParty,
        "third-party app: the authorising corp",
    ),
    key(
        "app_type",
        "YIDA_APP_TYPE",
        false,
        Group::Context,
        "the Yida app's code (APP_…)",
    ),
    key(
        "system_token",
        "YIDA_SYSTEM_TOKEN",
        true,
        Group::Context,
        "the Yida app's system token",
    ),
    key(
        "user_id",
        "YIDA_USER_ID",
        false,
        Group::Context,
        "DingTalk user id calls act as",
    ),
    key(
        "language",
        "YIDA_LANGUAGE",
        false,
        Group::Context,
        "reply language (zh_CN, en_US)",
    ),
    key(
        "timeout",
        "YIDA_TIMEOUT",
        false,
        Group::Timeout,
        "seconds per attempt",
    ),
];

const fn key(
    name: &'static str,
    var: &'static str,
    secret: bool,
    group: Group,
    doc: &'static str,
) -> Key {
    Key {
        name,
        var,
        secret,
        group,
        doc,
    }
}

/// The app kinds a profile may name in `app_kind`, and the credentials each takes.
const APP_KINDS: &[(&str, Group)] = &[
    ("token", Group::Token),
    ("internal", Group::Internal),
    ("third_party", Group::ThirdParty),
];

/// Most bytes of the config file and of a command's output.
const MAX_FILE: u64 = 1 << 20;
/// How long a `…_command` may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// The global flags that choose and override settings.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Configuration")]
pub struct ProfileArgs {
    /// The profile of the config file to use [env: YIDA_PROFILE; default: the file's
    /// `default_profile`].
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// The config file [env: YIDA_CONFIG; default: ~/.config/yida/config.toml].
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Base URL; overrides YIDA_ENDPOINT and the profile's `endpoint`.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,
}

/// Where a setting's value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag,
    /// An environment variable.
    Env,
    /// The active profile (its file, or the output of its `…_command`).
    Profile,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Flag => "flag",
            Source::Env => "env",
            Source::Profile => "profile",
        }
    }
}

static FLAGS: OnceLock<ProfileArgs> = OnceLock::new();
static ACTIVE: OnceLock<Active> = OnceLock::new();

/// The loaded profile: its name and its values by environment variable (secrets among them:
/// no `Debug`).
#[derive(Default)]
struct Active {
    name: Option<String>,
    values: BTreeMap<&'static str, String>,
}

/// Records the global flags (once, at start).
pub fn init(flags: ProfileArgs) {
    let _ = FLAGS.set(flags);
}

fn flags() -> &'static ProfileArgs {
    FLAGS.get_or_init(ProfileArgs::default)
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The config file's path: `--config`, `YIDA_CONFIG`, `$XDG_CONFIG_HOME/yida/config.toml`,
/// `~/.config/yida/config.toml`.
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = &flags().config {
        return Some(p.clone());
    }
    if let Some(p) = env("YIDA_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let base = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| Path::new(&h).join(".config")))?;
    Some(base.join("yida").join("config.toml"))
}

/// The profile asked for and by what: `--profile`, `YIDA_PROFILE`, or none.
fn asked_profile() -> Option<(String, &'static str)> {
    if let Some(p) = &flags().profile {
        return Some((p.clone(), "--profile"));
    }
    env("YIDA_PROFILE").map(|p| (p, "YIDA_PROFILE"))
}

/// Loads the active profile, once; commands that need configuration call this first. Errors:
/// an unreadable or invalid file, an unknown profile, a secret in a file others can read, a
/// failing `…_command`.
pub fn load() -> Result<(), Fail> {
    if ACTIVE.get().is_some() {
        return Ok(());
    }
    let active = load_active()?;
    let _ = ACTIVE.set(active);
    Ok(())
}

fn load_active() -> Result<Active, Fail> {
    let asked = asked_profile();
    let Some(path) = config_path() else {
        return match asked {
            Some((name, by)) => Err(Fail::usage(format!(
                "{by} names profile `{}` but there is no config file (set HOME or --config)",
                clean(&name)
            ))),
            None => Ok(Active::default()),
        };
    };
    let Some(file) = read_file(&path)? else {
        return match asked {
            Some((name, by)) => Err(Fail::usage(format!(
                "{by} names profile `{}` but {} does not exist (create it with `yida config \
                 set --profile {} endpoint URL`)",
                clean(&name),
                path.display(),
                clean(&name)
            ))),
            None => Ok(Active::default()),
        };
    };
    let default = file.default_profile.clone();
    let Some((name, by)) = asked.or(default.map(|d| (d, "default_profile"))) else {
        return Ok(Active::default());
    };
    let Some(profile) = file.profiles.get(&name) else {
        let names: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
        return Err(Fail::usage(format!(
            "{by} names profile `{}`, which {} does not have ({})",
            clean(&name),
            path.display(),
            if names.is_empty() {
                "it has none".to_string()
            } else {
                format!("it has: {}", names.join(", "))
            }
        )));
    };
    let mut values = BTreeMap::new();
    // With `app_kind`, only that kind's credentials are taken from the profile.
    let kind = profile.get("app_kind").map(|k| {
        APP_KINDS
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, g)| *g)
            .unwrap_or(Group::Token)
    });
    for k in KEYS {
        let credential = matches!(k.group, Group::Token | Group::Internal | Group::ThirdParty);
        if credential && kind.is_some_and(|g| g != k.group) {
            continue;
        }
        if let Some(v) = profile.get(k.name) {
            values.insert(k.var, v.clone());
        } else if let Some(cmd) = profile.get(&format!("{}_command", k.name)) {
            // Run only when nothing overrides it: a flag or environment variable, or (for a
            // credential) any credential from the environment.
            if lookup_outside(k).is_none() && !(credential && env_credentials()) {
                values.insert(k.var, run_command(&name, k.name, cmd)?);
            }
        }
    }
    Ok(Active {
        name: Some(name),
        values,
    })
}

/// Whether any credential comes from the environment: then the profile's are not used (one
/// app's key with another's secret would be refused by DingTalk, confusingly).
fn env_credentials() -> bool {
    KEYS.iter()
        .filter(|k| matches!(k.group, Group::Token | Group::Internal | Group::ThirdParty))
        .any(|k| env(k.var).is_some())
}

/// The `--endpoint` flag's value.
pub fn flag_endpoint() -> Option<&'static str> {
    flags().endpoint.as_deref()
}

fn lookup_outside(k: &Key) -> Option<(String, Source)> {
    if k.var == "YIDA_ENDPOINT" {
        if let Some(e) = &flags().endpoint {
            return Some((e.clone(), Source::Flag));
        }
    }
    env(k.var).map(|v| (v, Source::Env))
}

/// The value of the setting whose environment variable is `var`, and where it came from: a
/// flag, the environment, or the active profile (if [`load`]ed). Blank counts as unset.
pub fn lookup(var: &str) -> Option<(String, Source)> {
    let k = KEYS.iter().find(|k| k.var == var)?;
    if let Some(found) = lookup_outside(k) {
        return Some(found);
    }
    let credential = matches!(k.group, Group::Token | Group::Internal | Group::ThirdParty);
    if credential && env_credentials() {
        return None;
    }
    ACTIVE
        .get()?
        .values
        .get(k.var)
        .filter(|v| !v.trim().is_empty())
        .map(|v| (v.clone(), Source::Profile))
}

/// The file as read: `default_profile` and each profile's settings (as text; secrets among
/// them: no `Debug`).
#[derive(Default)]
struct File {
    default_profile: Option<String>,
    profiles: BTreeMap<String, BTreeMap<String, String>>,
    /// The whole table, for `yida config set`.
    table: toml::Table,
}

/// Reads and checks the config file; `None` when it does not exist.
fn read_file(path: &Path) -> Result<Option<File>, Fail> {
    use std::io::Read;
    let shown = path.display();
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Fail::usage(format!("cannot read {shown}: {e}"))),
    };
    let meta = f
        .metadata()
        .map_err(|e| Fail::usage(format!("cannot read {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(Fail::usage(format!("{shown} is not a regular file")));
    }
    let mut text = String::new();
    f.take(MAX_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| Fail::usage(format!("cannot read {shown}: {e}")))?;
    if text.len() as u64 > MAX_FILE {
        return Err(Fail::usage(format!("{shown} is larger than 1 MiB")));
    }
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        Fail::usage(format!(
            "{shown} is not valid TOML: {}",
            clean(&e.to_string())
        ))
    })?;
    let file = parse(&table).map_err(|e| Fail::usage(format!("{shown}: {e}")))?;
    if let Some(secret) = file.secrets().next() {
        refuse_if_others_can_read(path, &meta, &secret)?;
    }
    Ok(Some(File { table, ..file }))
}

impl File {
    /// `profile.key` of every secret written in the file (not given by a command).
    fn secrets(&self) -> impl Iterator<Item = String> + '_ {
        self.profiles.iter().flat_map(|(p, values)| {
            values
                .keys()
                .filter(|k| KEYS.iter().any(|key| key.secret && key.name == k.as_str()))
                .map(move |k| format!("{p}.{k}"))
        })
    }
}

#[cfg(unix)]
fn refuse_if_others_can_read(
    path: &Path,
    meta: &std::fs::Metadata,
    secret: &str,
) -> Result<(), Fail> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Fail::usage(format!(
            "{} holds secrets ({secret}, …) and others can read it (mode {mode:o}): run \
             `chmod 600 {}`, or give the secrets as `…_command`",
            path.display(),
            shell_quote(&path.display().to_string())
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_others_can_read(_: &Path, _: &std::fs::Metadata, _: &str) -> Result<(), Fail> {
    Ok(())
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-~+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Names of the settings a profile may hold.
fn known(name: &str) -> bool {
    name == "app_kind"
        || KEYS.iter().any(|k| k.name == name)
        || name
            .strip_suffix("_command")
            .is_some_and(|base| KEYS.iter().any(|k| k.secret && k.name == base))
}

fn parse(table: &toml::Table) -> Result<File, String> {
    let mut file = File::default();
    for (k, v) in table {
        match (k.as_str(), v) {
            ("default_profile", toml::Value::String(s)) => file.default_profile = Some(s.clone()),
            ("profiles", toml::Value::Table(profiles)) => {
                for (name, p) in profiles {
                    let toml::Value::Table(p) = p else {
                        return Err(format!(
                            "profiles.{name} must be a table ([profiles.{name}])"
                        ));
                    };
                    let mut values = BTreeMap::new();
                    for (key, value) in p {
                        if !known(key) {
                            let names = KEYS.iter().map(|k| k.name).chain(["app_kind"]);
                            let hint = yida_api::did_you_mean(key, names);
                            return Err(format!(
                                "profiles.{name}: unknown setting `{}`{}",
                                clean(key),
                                if hint.is_empty() {
                                    " (see `yida config --help`)".to_string()
                                } else {
                                    format!(": did you mean `{}`?", hint[0])
                                }
                            ));
                        }
                        let text = match value {
                            toml::Value::String(s) => s.clone(),
                            toml::Value::Integer(i) => i.to_string(),
                            toml::Value::Float(f) => f.to_string(),
                            _ => {
                                return Err(format!(
                                    "profiles.{name}.{key} must be a string or a number"
                                ))
                            }
                        };
                        if key == "app_kind" && !APP_KINDS.iter().any(|(n, _)| *n == text) {
                            return Err(format!(
                                "profiles.{name}.app_kind must be one of token, internal, \
                                 third_party, not {:?}",
                                clean(&text)
                            ));
                        }
                        values.insert(key.clone(), text);
                    }
                    file.profiles.insert(name.clone(), values);
                }
            }
            ("default_profile", _) => return Err("default_profile must be a string".into()),
            ("profiles", _) => return Err("profiles must be a table".into()),
            (other, _) => {
                return Err(format!(
                    "unknown top-level key `{}` (settings go under [profiles.NAME])",
                    clean(other)
                ))
            }
        }
    }
    Ok(file)
}

/// Runs `cmd` with `sh -c` and returns its first line: the secret `key` of `profile`.
fn run_command(profile: &str, key: &str, cmd: &str) -> Result<String, Fail> {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let what = format!("profiles.{profile}.{key}_command");
    let mut child = Command::new("sh")
        .args(["-c", cmd])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| Fail::usage(format!("{what}: cannot run it: {e}")))?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stdout).take(MAX_FILE).read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < COMMAND_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Fail::usage(format!(
                    "{what}: no answer within {}s",
                    COMMAND_TIMEOUT.as_secs()
                )));
            }
            Err(e) => return Err(Fail::usage(format!("{what}: {e}"))),
        }
    };
    let out = reader.join().unwrap_or_default();
    if !status.success() {
        return Err(Fail::usage(format!("{what} failed ({status})")));
    }
    // The output is a secret: never shown, not even in this error.
    let text = String::from_utf8(out)
        .map_err(|_| Fail::usage(format!("{what} printed something that is not UTF-8")))?;
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if line.is_empty() {
        return Err(Fail::usage(format!("{what} printed nothing")));
    }
    Ok(line)
}

/// Show and change profiles.
///
/// The config file (~/.config/yida/config.toml; --config or YIDA_CONFIG to use another) holds
/// named profiles:
///
///   default_profile = "dev"
///
///   [profiles.dev]
///   endpoint = "http://127.0.0.1:8080"
///   app_kind = "internal"              # token | internal | third_party
///   app_key = "ding…"
///   app_secret_command = "pass show yida/dev"   # or app_secret = "…" (then chmod 600)
///   app_type = "APP_…"
///   system_token_command = "pass show yida/dev-system-token"
///   user_id = "manager123"
///
/// Each setting is taken from a flag first, then its environment variable (YIDA_APP_KEY, …),
/// then the profile (--profile NAME, YIDA_PROFILE, or default_profile). Credentials come
/// together from one place: any credential variable in the environment sets the profile's
/// aside. A file holding a secret must be readable by its owner only.
#[derive(clap::Args, Debug)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

/// The `yida config` subcommands (`Debug` hides the value of `set`: it may be a secret).
#[derive(clap::Subcommand)]
pub enum ConfigCommand {
    /// List the profiles of the config file (the active one marked `*`).
    List,
    /// Show each setting's value and where it comes from (flag, env or profile); secrets only
    /// as set/unset.
    Show,
    /// Set a setting of a profile (--profile, YIDA_PROFILE, default_profile or `default`);
    /// `-` as the value reads it from stdin (keeps secrets out of shell history). The file is
    /// written readable by its owner only.
    Set {
        /// The setting (endpoint, app_kind, app_key, app_secret, app_secret_command, …), or
        /// `default_profile`.
        key: String,
        /// The value.
        value: String,
    },
}

impl std::fmt::Debug for ConfigCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigCommand::List => f.write_str("List"),
            ConfigCommand::Show => f.write_str("Show"),
            ConfigCommand::Set { key, .. } => f
                .debug_struct("Set")
                .field("key", key)
                .field("value", &"<hidden>")
                .finish(),
        }
    }
}

/// Runs `yida config …`.
pub async fn run(args: ConfigArgs) -> Result<(), Fail> {
    match args.command {
        ConfigCommand::List => list(),
        ConfigCommand::Show => show(),
        ConfigCommand::Set { key, value } => set(&key, &value),
    }
}

fn path_or_fail() -> Result<PathBuf, Fail> {
    config_path().ok_or_else(|| Fail::usage("no config file path: set HOME, or use --config"))
}

fn list() -> Result<(), Fail> {
    let path = path_or_fail()?;
    let Some(file) = read_file(&path)? else {
        return crate::out::stdout(&format!(
            "no profiles ({} does not exist)\n",
            path.display()
        ));
    };
    let active = asked_profile()
        .map(|(n, _)| n)
        .or(file.default_profile.clone());
    let mut text = String::new();
    for (name, values) in &file.profiles {
        let mark = if active.as_deref() == Some(name.as_str()) {
            "*"
        } else {
            " "
        };
        let endpoint = values.get("endpoint").map(String::as_str).unwrap_or("-");
        let kind = values.get("app_kind").map(String::as_str).unwrap_or("-");
        text.push_str(&format!(
            "{mark} {}  {}  {}\n",
            clean(name),
            clean(kind),
            clean(endpoint)
        ));
    }
    text.push_str(&format!(
        "{} profiles in {}\n",
        file.profiles.len(),
        path.display()
    ));
    crate::out::stdout(&text)
}

fn show() -> Result<(), Fail> {
    load()?;
    let active = ACTIVE.get().and_then(|a| a.name.clone());
    let mut text = format!(
        "config file: {}\nprofile: {}\n",
        config_path().map_or("-".to_string(), |p| p.display().to_string()),
        active.as_deref().map_or("-".to_string(), clean)
    );
    let width = KEYS.iter().map(|k| k.name.len()).max().unwrap_or(0);
    for k in KEYS {
        let (value, source) = match lookup(k.var) {
            Some((_, s)) if k.secret => ("set".to_string(), s.as_str()),
            Some((v, s)) => (clean(&v), s.as_str()),
            None if k.secret => ("unset".to_string(), "-"),
            None => ("-".to_string(), "-"),
        };
        text.push_str(&format!(
            "{:<width$}  {:<7}  {}  ({}; {})\n",
            k.name, source, value, k.var, k.doc
        ));
    }
    crate::out::stdout(&text)
}

fn set(key: &str, value: &str) -> Result<(), Fail> {
    let path = path_or_fail()?;
    let value = if value == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::Read::take(std::io::stdin(), MAX_FILE), &mut s)
            .map_err(|e| Fail::usage(format!("cannot read standard input: {e}")))?;
        s.lines().next().unwrap_or("").trim().to_string()
    } else {
        value.to_string()
    };
    let mut table = read_file(&path)?.map(|f| f.table).unwrap_or_default();
    let shown = if key == "default_profile" {
        table.insert(key.into(), toml::Value::String(value.clone()));
        format!("default_profile = {value:?}")
    } else {
        if !known(key) {
            let names = KEYS.iter().map(|k| k.name).chain(["app_kind"]);
            let hint = yida_api::did_you_mean(key, names);
            return Err(Fail::usage(format!(
                "unknown setting `{}`{}",
                clean(key),
                hint.first()
                    .map(|h| format!(": did you mean `{h}`?"))
                    .unwrap_or_default()
            )));
        }
        let profile = asked_profile()
            .map(|(n, _)| n)
            .or_else(|| {
                table
                    .get("default_profile")
                    .and_then(|v| v.as_str())
                    .map(String::from)
            })
            .unwrap_or_else(|| "default".to_string());
        let profiles = table
            .entry("profiles")
            .or_insert_with(|| toml::Value::Table(Default::default()));
        let toml::Value::Table(profiles) = profiles else {
            return Err(Fail::usage(format!(
                "{}: profiles must be a table",
                path.display()
            )));
        };
        let p = profiles
            .entry(profile.clone())
            .or_insert_with(|| toml::Value::Table(Default::default()));
        let toml::Value::Table(p) = p else {
            return Err(Fail::usage(format!(
                "{}: profiles.{profile} must be a table",
                path.display()
            )));
        };
        p.insert(key.into(), toml::Value::String(value.clone()));
        let secret = KEYS.iter().any(|k| k.secret && k.name == key);
        format!(
            "profiles.{}.{key} = {}",
            clean(&profile),
            if secret {
                "(set)".to_string()
            } else {
                format!("{:?}", clean(&value))
            }
        )
    };
    // Checked as it would be read.
    parse(&table).map_err(|e| Fail::usage(format!("{}: {e}", path.display())))?;
    let text = toml::to_string(&table)
        .map_err(|e| Fail::usage(format!("cannot write the config: {e}")))?;
    write_private(&path, &text)?;
    crate::out::note(&format!("{}: {shown}", path.display()));
    Ok(())
}

/// Writes `text` to `path` through a temporary file, readable by the owner only.
fn write_private(path: &Path, text: &str) -> Result<(), Fail> {
    use std::io::Write;
    let fail = |e: std::io::Error| Fail::usage(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let tmp = path.with_extension(format!("toml.tmp{}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(&tmp).map_err(fail)?;
    let written = f.write_all(text.as_bytes()).and_then(|()| f.sync_all());
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_config_set_hides_the_value() {
        let c = ConfigCommand::Set {
            key: "app_secret".into(),
            value: "s3cr3t-value".into(),
        };
        let shown = format!("{c:?}");
        assert!(
            shown.contains("app_secret") && !shown.contains("s3cr3t"),
            "{shown}"
        );
    }
}
