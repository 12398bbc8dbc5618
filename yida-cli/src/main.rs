//! `yida`: call any Yida operation from a terminal.
//!
//! ```text
//! yida call <Action> [--api-version 1.0|2.0] [--input <JSON | @file | ->] [--all]
//! yida ops [--json]
//! yida token
//! ```
//! Configuration comes from the environment (see `yida help`).

mod export;
mod import;

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::Duration;
use yida_api::{AppContext, Client, Error, OperationMeta};
use yida_auth::{InternalApp, MemoryTicketStore, StaticToken, ThirdPartyApp, TokenProvider};

const USAGE: &str = "\
yida: call the Yida (DingTalk low-code) server API

USAGE:
  yida call <Action> [--api-version 1.0|2.0] [--input <JSON | @file | ->] [--all]
  yida ops [--json]
  yida token
  yida export <formUuid> [--concurrency N]
  yida import <formUuid> [FILE|-] [--concurrency N] [--chunk-size N] [--checkpoint FILE [--resume]]

call      sends one operation. --input is one JSON object of the operation's parameters by
          their wire names (path parameters included); JSON-text parameters such as
          formDataJson may be given as text or as the JSON value. Prints the reply as JSON.
          --all walks every page of a list operation and prints one JSON item per line.
ops       lists every operation (--json for machine-readable output).
token     prints a fresh access token (it is a credential: keep it out of logs).
          call --all also takes --concurrency N (pages in flight once totalCount is known).
export    every record of a form (SearchFormDatas 2.0) as NDJSON on stdout, progress on
          stderr; --concurrency pages at once (default 4), paced under 20 calls/s.
import    NDJSON records (one JSON object of field values per line) into a form through
          BatchSaveFormData, in chunks (default 100), --concurrency calls at once (default 4),
          paced under the quota. Prints one NDJSON outcome per input line (\"ok\":false for
          failures, with the error and the record); exit 1 when any record failed. With
          --checkpoint FILE, --resume continues an interrupted import without writing twice.

ENVIRONMENT:
  YIDA_ENDPOINT        base URL (default https://api.dingtalk.com; http:// for local servers)
  YIDA_ACCESS_TOKEN    a token to use as is (overrides the credentials below)
  YIDA_APP_KEY, YIDA_APP_SECRET                       internal app
  YIDA_SUITE_KEY, YIDA_SUITE_SECRET, YIDA_SUITE_TICKET, YIDA_AUTH_CORP_ID   third-party app
  YIDA_APP_TYPE, YIDA_SYSTEM_TOKEN, YIDA_USER_ID, YIDA_LANGUAGE  filled into every call
  YIDA_TIMEOUT         seconds per attempt (default 30)
";

/// A failure and its exit code: 2 for bad usage or input (nothing sent), 1 otherwise.
pub(crate) struct Fail(u8, String);

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        let code = match e {
            Error::InvalidParameter { .. }
            | Error::InvalidInput { .. }
            | Error::UnknownOperation { .. }
            | Error::Config(_) => 2,
            Error::Auth(yida_auth::AuthError::MissingCredential { .. }) => 2,
            _ => 1,
        };
        Fail(code, describe(&e))
    }
}

fn describe(e: &Error) -> String {
    let mut out = format!("error: {e}");
    if let Some(api) = e.api() {
        out.push_str(&format!("\n  HTTP status: {}", api.status));
        out.push_str(&format!("\n  code: {}", api.code.as_deref().unwrap_or("-")));
        out.push_str(&format!(
            "\n  message: {}",
            api.message.as_deref().unwrap_or("-")
        ));
        out.push_str(&format!(
            "\n  request id: {}",
            api.request_id.as_deref().unwrap_or("-")
        ));
    } else {
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            out.push_str(&format!("\n  caused by: {s}"));
            source = s.source();
        }
    }
    out
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn need(name: &'static str) -> Result<String, Fail> {
    env(name).ok_or_else(|| Fail(2, format!("error: missing environment variable {name}")))
}

fn endpoint() -> String {
    env("YIDA_ENDPOINT").unwrap_or_else(|| yida_api::DEFAULT_ENDPOINT.to_string())
}

/// The token source the environment describes.
fn token_provider() -> Result<Box<dyn TokenProvider>, Fail> {
    let auth = |e: yida_auth::AuthError| Fail(2, format!("error: {e}"));
    if let Some(t) = env("YIDA_ACCESS_TOKEN") {
        return Ok(Box::new(StaticToken::new(t)));
    }
    if env("YIDA_APP_KEY").is_some() || env("YIDA_APP_SECRET").is_some() {
        let app =
            InternalApp::new(need("YIDA_APP_KEY")?, need("YIDA_APP_SECRET")?).map_err(auth)?;
        return Ok(Box::new(app.endpoint(endpoint())));
    }
    if [
        "YIDA_SUITE_KEY",
        "YIDA_SUITE_SECRET",
        "YIDA_SUITE_TICKET",
        "YIDA_AUTH_CORP_ID",
    ]
    .iter()
    .any(|n| env(n).is_some())
    {
        let tickets = MemoryTicketStore::new();
        let (key, secret) = (need("YIDA_SUITE_KEY")?, need("YIDA_SUITE_SECRET")?);
        tickets.set(need("YIDA_SUITE_TICKET")?);
        let corp = need("YIDA_AUTH_CORP_ID")?;
        let isv = ThirdPartyApp::new(key, secret, tickets)
            .map_err(auth)?
            .endpoint(endpoint());
        return Ok(Box::new(isv.for_corp(corp).map_err(auth)?));
    }
    Err(Fail(
        2,
        "error: no credentials: set YIDA_ACCESS_TOKEN, or YIDA_APP_KEY and YIDA_APP_SECRET, or \
         YIDA_SUITE_KEY, YIDA_SUITE_SECRET, YIDA_SUITE_TICKET and YIDA_AUTH_CORP_ID"
            .into(),
    ))
}

#[derive(Debug)]
struct BoxedProvider(Box<dyn TokenProvider>);

impl TokenProvider for BoxedProvider {
    fn token(&self) -> yida_auth::TokenFuture<'_> {
        self.0.token()
    }
    fn invalidate(&self, t: &yida_auth::AccessToken) -> bool {
        self.0.invalidate(t)
    }
}

pub(crate) fn client() -> Result<Client, Fail> {
    let mut ctx = AppContext::new();
    if let Some(v) = env("YIDA_APP_TYPE") {
        ctx = ctx.app_type(v);
    }
    if let Some(v) = env("YIDA_SYSTEM_TOKEN") {
        ctx = ctx.system_token(v);
    }
    if let Some(v) = env("YIDA_USER_ID") {
        ctx = ctx.user_id(v);
    }
    if let Some(v) = env("YIDA_LANGUAGE") {
        ctx = ctx.language(v);
    }
    let mut b = Client::builder()
        .endpoint(endpoint())
        .token_provider(BoxedProvider(token_provider()?))
        .context(ctx);
    if let Some(t) = env("YIDA_TIMEOUT") {
        let secs: f64 = t
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| *s > 0.0 && s.is_finite())
            .ok_or_else(|| {
                Fail(
                    2,
                    format!("error: YIDA_TIMEOUT must be a positive number of seconds, not {t:?}"),
                )
            })?;
        let t = Duration::try_from_secs_f64(secs)
            .map_err(|_| Fail(2, format!("error: YIDA_TIMEOUT is out of range: {secs}")))?;
        b = b.timeout(t);
    }
    Ok(b.build()?)
}

fn read_input(arg: Option<&str>) -> Result<serde_json::Value, Fail> {
    let text = match arg {
        None => return Ok(serde_json::json!({})),
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Fail(2, format!("error: cannot read standard input: {e}")))?;
            s
        }
        Some(a) if a.starts_with('@') => std::fs::read_to_string(&a[1..])
            .map_err(|e| Fail(2, format!("error: cannot read {}: {e}", &a[1..])))?,
        Some(a) => a.to_string(),
    };
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Fail(2, format!("error: --input is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(Fail(
            2,
            "error: --input must be one JSON object of parameters by wire name".into(),
        ));
    }
    Ok(v)
}

fn find_op(action: &str, version: &str) -> Result<&'static OperationMeta, Fail> {
    let ops = yida_api::operations();
    if let Some(op) = ops
        .iter()
        .find(|o| o.action == action && o.version == version)
    {
        return Ok(op);
    }
    let other: Vec<&str> = ops
        .iter()
        .filter(|o| o.action.eq_ignore_ascii_case(action))
        .map(|o| o.version)
        .collect();
    let hint = if other.is_empty() {
        "see `yida ops`".to_string()
    } else {
        format!(
            "it exists in API version {} (use --api-version)",
            other.join(", ")
        )
    };
    Err(Fail(
        2,
        format!("error: unknown operation {action}@{version}: {hint}"),
    ))
}

async fn call(args: &[String]) -> Result<(), Fail> {
    let mut action = None;
    let mut version = "1.0".to_string();
    let mut input = None;
    let mut all = false;
    let mut concurrency = 1;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| Fail(2, format!("error: {name} needs a value")))
        };
        match a.as_str() {
            "--api-version" => version = value("--api-version")?,
            "--input" => input = Some(value("--input")?),
            "--all" => all = true,
            "--concurrency" => concurrency = import::count(it.next(), "--concurrency")?,
            s if s.starts_with("--") => {
                return Err(Fail(2, format!("error: unknown option {s}\n\n{USAGE}")))
            }
            s if action.is_none() => action = Some(s.to_string()),
            s => return Err(Fail(2, format!("error: unexpected argument {s}"))),
        }
    }
    let action = action.ok_or_else(|| {
        Fail(
            2,
            format!("error: which operation? `yida call <Action>`\n\n{USAGE}"),
        )
    })?;
    if version != "1.0" && version != "2.0" {
        return Err(Fail(
            2,
            format!("error: --api-version must be 1.0 or 2.0, not {version}"),
        ));
    }
    let meta = find_op(&action, &version)?;
    let input = read_input(input.as_deref())?;
    let client = client()?;
    let stdout = std::io::stdout();
    if all {
        return call_all(&client, meta, input, concurrency).await;
    }
    let reply = client
        .call_dynamic(meta.action, meta.version, input)
        .await?;
    if let Some(v) = reply {
        let mut out = stdout.lock();
        let text = serde_json::to_string_pretty(&v).unwrap_or_default();
        let _ = writeln!(out, "{text}");
    }
    Ok(())
}

/// `--all`: every page, one JSON item per line, progress on stderr.
async fn call_all(
    client: &Client,
    meta: &OperationMeta,
    input: serde_json::Value,
    concurrency: usize,
) -> Result<(), Fail> {
    if meta.pagination.is_none() {
        return Err(Fail(
            2,
            format!(
                "error: {} is not a paginated operation; --all does not apply",
                meta.id()
            ),
        ));
    }
    let mut pages = client
        .paginate_json(meta.action, meta.version, input)?
        .concurrency(concurrency);
    let tty = std::io::stderr().is_terminal();
    let stdout = std::io::stdout();
    while let Some(items) = pages.next_items().await {
        let items = items?;
        let mut out = stdout.lock();
        for item in &items {
            let _ = writeln!(out, "{}", serde_json::to_string(item).unwrap_or_default());
        }
        let _ = out.flush();
        progress(tty, pages.pages(), pages.fetched(), pages.total_count());
    }
    if tty {
        eprintln!();
    }
    Ok(())
}

fn progress(tty: bool, page: i64, seen: i64, total: Option<i64>) {
    let total_s = total.map(|t| t.to_string()).unwrap_or_else(|| "?".into());
    if tty {
        let width = 30usize;
        let filled = match total {
            Some(t) if t > 0 => ((seen.min(t) as f64 / t as f64) * width as f64) as usize,
            _ => 0,
        };
        eprint!(
            "\r[{}{}] {seen}/{total_s} items, page {page}",
            "#".repeat(filled),
            " ".repeat(width - filled)
        );
    } else {
        eprintln!("page {page}: {seen}/{total_s} items");
    }
}

fn ops(args: &[String]) -> Result<(), Fail> {
    let json = match args {
        [] => false,
        [a] if a == "--json" => true,
        _ => {
            return Err(Fail(
                2,
                format!("error: usage: yida ops [--json]\n\n{USAGE}"),
            ))
        }
    };
    let ops = yida_api::operations();
    let mut out = std::io::stdout().lock();
    if json {
        let list: Vec<serde_json::Value> = ops
            .iter()
            .map(|o| {
                serde_json::json!({
                    "action": o.action,
                    "version": o.version,
                    "method": o.method,
                    "path": o.path,
                    "area": o.area,
                    "doc": o.doc,
                    "permission": o.permission,
                    "readOnly": o.read_only,
                    "seed": o.seed,
                    "legacy": o.legacy.map(|(a, v)| format!("{a}@{v}")),
                    "paginated": o.pagination.is_some(),
                    "params": o.params.iter().map(|p| serde_json::json!({
                        "name": p.name,
                        "in": match p.location { yida_api::ParamLocation::Path => "path", yida_api::ParamLocation::Query => "query", yida_api::ParamLocation::Body => "body" },
                        "type": p.ty,
                        "required": p.required,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
    } else {
        for o in &ops {
            let legacy = o
                .legacy
                .map(|(a, v)| format!("  [legacy → {a} {v}]"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:<12} {:<48} {:<4} {:<6} {}{}",
                o.area, o.action, o.version, o.method, o.path, legacy
            );
        }
        let _ = writeln!(out, "{} operations", ops.len());
    }
    Ok(())
}

async fn token() -> Result<(), Fail> {
    let provider = token_provider()?;
    let t = provider
        .token()
        .await
        .map_err(|e| Fail(1, format!("error: {e}")))?;
    eprintln!("warning: this is a credential; do not paste it into logs or tickets");
    println!("{}", t.secret().expose());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(async {
        match args.first().map(String::as_str) {
            Some("call") => call(&args[1..]).await,
            Some("ops") => ops(&args[1..]),
            Some("token") => token().await,
            Some("export") => export::run(export::ExportArgs::parse(&args[1..])?).await,
            Some("import") => import::run(import::ImportArgs::parse(&args[1..])?).await,
            Some("help" | "--help" | "-h") | None => {
                print!("{USAGE}");
                Ok(())
            }
            Some(other) => Err(Fail(
                2,
                format!("error: unknown command {other}\n\n{USAGE}"),
            )),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail(code, msg)) => {
            eprintln!("{msg}");
            ExitCode::from(code)
        }
    }
}
