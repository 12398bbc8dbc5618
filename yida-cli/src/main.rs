//! `yida`: call any Yida operation from a terminal.
//!
//! ```text
//! yida call <Action> [NAME=VALUE…] [--api-version 1.0|2.0] [--input <JSON | @file | ->] [--all]
//!           [-o json|ndjson|yaml|table] [--columns A,B] [--jq EXPR] [--help]
//! yida ops [FILTER] [--json]
//! yida schema <Action> [--json]
//! yida token
//! yida config list|show|set KEY VALUE      (global: --profile NAME, --config PATH, --endpoint URL)
//! yida completions <SHELL>
//! yida export <formUuid> [--concurrency N]
//! yida import <formUuid> [FILE|-] [--concurrency N] [--chunk-size N] [--checkpoint FILE [--resume]]
//! yida emulator [--listen ADDR] [--seed FILE] [--data PATH]
//! yida codegen form <formUuid> [--out FILE] [--names FILE] [--struct NAME]
//! yida forms check <generated.rs | definitions.json> <formUuid>
//! ```
//! Configuration comes from flags, the environment and profiles (see `yida --help`).

#[cfg(not(all(feature = "mcp", feature = "sync", feature = "redis")))]
mod absent;
mod attachment;
mod call;
mod codegen_form;
mod completions;
mod config;
mod dry_run;
mod emulator;
mod events;
mod events_push;
mod export;
mod fail;
mod forms_check;
mod import;
mod import_input;
mod input;
#[cfg(feature = "mcp")]
mod mcp;
#[cfg(not(feature = "mcp"))]
mod mcp {
    crate::absent::command!(McpArgs, "mcp", "mcp");
}
mod ops;
mod out;
mod output;
mod profile;
mod quota;
mod schema;
mod signal;
#[cfg(feature = "sync")]
mod sync;
#[cfg(not(feature = "sync"))]
mod sync {
    crate::absent::command!(SyncArgs, "sync", "sync");
}
mod ticket_store;
mod token;

use clap::{CommandFactory, Parser, Subcommand};
use fail::Fail;
use std::process::ExitCode;

const ENVIRONMENT: &str = "\
ENVIRONMENT:
  YIDA_ENDPOINT        base URL (default https://api.dingtalk.com when unset; http:// for
                       local servers; a blank value is refused)
  YIDA_ACCESS_TOKEN    a token to use as is (overrides the credentials below)
  YIDA_APP_KEY, YIDA_APP_SECRET                       internal app
  YIDA_SUITE_KEY, YIDA_SUITE_SECRET, YIDA_SUITE_TICKET, YIDA_AUTH_CORP_ID   third-party app
  YIDA_TICKET_STORE    where pushed suite tickets are kept and read (as --ticket-store)
  YIDA_APP_TYPE, YIDA_SYSTEM_TOKEN, YIDA_USER_ID, YIDA_LANGUAGE  filled into every call
  YIDA_TIMEOUT         seconds per attempt (default 30)
  YIDA_PROFILE, YIDA_CONFIG   the profile and config file (`yida config --help`); a flag
                       beats its variable, which beats the profile
  YIDA_LEDGER          folder of the call ledger (default ~/.local/share/yida/ledger), or off
  YIDA_CORP_ID         the organisation calls are counted for (default: the corp or app key)
  YIDA_CALL_BUDGET     monthly call budget: calls past it are refused, nothing sent
  YIDA_CALL_BUDGET_WARN  warn from this many calls (default 80 % of the budget)
  RUST_LOG             log filter for stderr (e.g. yida_api=debug); overrides -v";

/// yida: call the Yida (DingTalk low-code) server API
#[derive(Parser, Debug)]
#[command(
    name = "yida",
    version,
    after_help = format!("{ENVIRONMENT}\n\n{}", fail::EXIT_CODES),
    subcommand_required = true,
    arg_required_else_help = true
)]
struct Cli {
    /// Log to stderr: -v calls, attempts and retries; -vv everything (secrets never logged).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Suite-ticket store (third-party apps): `file:PATH` or `redis://…` (Redis needs
    /// YIDA_SUITE_KEY). `yida events` keeps pushed tickets there; `call`, `token`, `export`,
    /// `import` read the newest from there instead of YIDA_SUITE_TICKET. Default:
    /// YIDA_TICKET_STORE.
    #[arg(long, global = true, value_name = "STORE")]
    ticket_store: Option<String>,
    #[command(flatten)]
    globals: profile::ProfileArgs,
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
///
/// To add one, say `foo`: write `src/foo.rs` with a `#[derive(clap::Args)] pub struct FooArgs`
/// (its doc comment is the help text) and `pub async fn run(args: FooArgs) -> Result<(), Fail>`
/// (configuration: `config::client()`; output: `out::stdout(..)`, which turns a closed pipe or
/// a full disk into the right exit; failures: `Fail::usage(..)` before sending, `?` on a
/// `yida_api::Error`); then add `mod foo;`, one variant `Foo(foo::FooArgs)` below (its doc
/// comment is the one-line summary in `yida --help`) and one arm in `run`.
#[derive(Subcommand, Debug)]
enum Command {
    /// Send one operation and print the reply as received (`yida call <Action> --help`: its
    /// parameters).
    Call(call::CallArgs),
    /// List the operations, all or those matching a filter.
    Ops(ops::OpsArgs),
    /// Print an operation's request and reply schema (`--json`: JSON Schemas).
    Schema(schema::SchemaArgs),
    /// Print a fresh access token (a credential: keep it out of logs).
    Token(token::TokenArgs),
    /// Show and change profiles (config file with endpoint, credentials, app context).
    Config(profile::ConfigArgs),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
    /// Export every record of a form as NDJSON (pages in parallel, paced under the quota).
    Export(export::ExportArgs),
    /// Import NDJSON records into a form through batch saves (one outcome per record).
    Import(import::ImportArgs),
    /// Receive pushed events (HTTP push endpoint or Stream mode), one JSON line each.
    Events(events::EventsArgs),
    /// Run a local Yida (emulator) and print the variables that point this CLI at it.
    Emulator(emulator::EmulatorArgs),
    /// Keep a SQL copy of forms (SQLite or PostgreSQL): first everything, then what changed.
    Sync(sync::SyncArgs),
    /// Completion candidates for the words of a command line (called by the scripts of
    /// `yida completions`).
    #[command(name = "__complete", hide = true)]
    Complete(completions::CompleteArgs),
    /// Generate Rust code: `yida codegen form <formUuid>` writes a form's typed record.
    Codegen(codegen_form::CodegenArgs),
    /// Form tools: `yida forms check <generated.rs|definitions.json> <formUuid>` names drift.
    Forms(forms_check::FormsArgs),
    /// This month's calls from the call ledger, and what is left of the budget.
    Quota(quota::QuotaArgs),
    /// Download attachments (`yida attachment get <url> -o FILE`).
    Attachment(attachment::AttachmentArgs),
    /// Serve Yida to AI agents (Model Context Protocol): reads by default, writes only in a
    /// scope a person gives.
    Mcp(mcp::McpArgs),
}

async fn run(command: Command) -> Result<(), Fail> {
    match command {
        Command::Call(args) => call::run(args).await,
        Command::Ops(args) => ops::run(args).await,
        Command::Token(args) => token::run(args).await,
        Command::Config(args) => profile::run(args).await,
        Command::Schema(args) => schema::run(args).await,
        Command::Complete(args) => completions::complete(args).await,
        Command::Completions(args) => completions::run(args).await,
        Command::Export(args) => export::run(args).await,
        Command::Import(args) => import::run(args).await,
        Command::Events(args) => events::run(args).await,
        Command::Emulator(args) => emulator::run(args).await,
        Command::Codegen(args) => codegen_form::run(args).await,
        Command::Forms(args) => forms_check::run(args).await,
        Command::Quota(args) => quota::run(args).await,
        Command::Attachment(args) => attachment::run(args).await,
        Command::Mcp(args) => mcp::run(args).await,
        Command::Sync(args) => sync::run(args).await,
    }
}

/// The clap definition of the whole command line.
pub fn command() -> clap::Command {
    Cli::command()
}

/// The help text of one subcommand, as `yida <name> --help` prints it.
pub fn subcommand_help(name: &str) -> String {
    let mut cmd = command();
    cmd.build();
    cmd.find_subcommand_mut(name)
        .map(|sub| sub.render_long_help().to_string())
        .unwrap_or_default()
}

/// Logs on stderr: `RUST_LOG` if set, else by `-v` count (none: warnings only). `RUST_LOG`
/// takes a level and `target=level` pairs (`warn,yida_api=debug`); an unreadable one is
/// reported and the default used.
fn init_logging(verbose: u8) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    use tracing_subscriber::Layer as _;
    let default = match verbose {
        0 => "warn",
        1 => "warn,yida_api=debug,yida_auth=debug",
        _ => "trace",
    };
    let mut bad = None;
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => v.parse::<Targets>().unwrap_or_else(|e| {
            bad = Some(e);
            default.parse().unwrap_or_default()
        }),
        _ => default.parse().unwrap_or_default(),
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(|| RedactedStderr)
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
    if let Some(e) = bad {
        out::note(&format!(
            "RUST_LOG ignored ({e}); logging at the default level"
        ));
    }
}

/// Stderr for logs, made as safe as error messages: any `user:password@` of a URL removed (the
/// endpoint may carry one), and server text a log line quotes (an error's message) cannot
/// move the cursor, start a new line or run to megabytes. Each log event arrives in one write.
struct RedactedStderr;

/// Most characters of one log line.
const MAX_LOG_LINE: usize = 4000;

impl std::io::Write for RedactedStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let line = text.strip_suffix('\n').unwrap_or(&text);
        let mut text = fail::clean_to(&fail::redact_userinfo(line), MAX_LOG_LINE);
        text.push('\n');
        // A closed or full stderr must not end the command: logs are best effort.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout (exit 0), usage errors to stderr (exit 2); a
            // closed pipe is ignored (no panic).
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    init_logging(cli.verbose);
    ticket_store::configure(cli.ticket_store);
    profile::init(cli.globals);
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out::note(&format!("error: cannot start the runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail(code, msg)) => {
            if !msg.is_empty() {
                out::note(&fail::redact_userinfo(&msg));
            }
            ExitCode::from(code)
        }
    }
}
