//! `yida`: call any Yida operation from a terminal.
//!
//! ```text
//! yida call <Action> [--api-version 1.0|2.0] [--input <JSON | @file | ->] [--all]
//! yida ops [--json]
//! yida token
//! ```
//! Configuration comes from the environment (see `yida --help`).

mod call;
mod config;
mod fail;
mod ops;
mod token;

use clap::{Parser, Subcommand};
use fail::Fail;
use std::process::ExitCode;

const AFTER_HELP: &str = "\
ENVIRONMENT:
  YIDA_ENDPOINT        base URL (default https://api.dingtalk.com; http:// for local servers)
  YIDA_ACCESS_TOKEN    a token to use as is (overrides the credentials below)
  YIDA_APP_KEY, YIDA_APP_SECRET                       internal app
  YIDA_SUITE_KEY, YIDA_SUITE_SECRET, YIDA_SUITE_TICKET, YIDA_AUTH_CORP_ID   third-party app
  YIDA_APP_TYPE, YIDA_SYSTEM_TOKEN, YIDA_USER_ID, YIDA_LANGUAGE  filled into every call
  YIDA_TIMEOUT         seconds per attempt (default 30)

EXIT CODES:
  0  success
  1  the request failed (API error, network, timeout, refused credentials)
  2  bad usage, input or configuration: nothing was sent
";

/// yida: call the Yida (DingTalk low-code) server API
#[derive(Parser, Debug)]
#[command(
    name = "yida",
    version,
    after_help = AFTER_HELP,
    subcommand_required = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands.
///
/// To add one, say `foo`: write `src/foo.rs` with a `#[derive(clap::Args)] pub struct FooArgs`
/// (its doc comment is the help text) and `pub async fn run(args: FooArgs) -> Result<(), Fail>`
/// (build a client with `config::client()`, fail with `Fail::usage(..)` before sending or
/// `?` on a `yida_api::Error`); then add `mod foo;`, one variant `Foo(foo::FooArgs)` below
/// (its doc comment is the one-line summary in `yida --help`) and one arm in `run`.
#[derive(Subcommand, Debug)]
enum Command {
    /// Send one operation and print the reply as JSON.
    Call(call::CallArgs),
    /// List every operation.
    Ops(ops::OpsArgs),
    /// Print a fresh access token (a credential: keep it out of logs).
    Token(token::TokenArgs),
}

async fn run(command: Command) -> Result<(), Fail> {
    match command {
        Command::Call(args) => call::run(args).await,
        Command::Ops(args) => ops::run(args).await,
        Command::Token(args) => token::run(args).await,
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout (exit 0), usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
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
    match rt.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail(code, msg)) => {
            eprintln!("{msg}");
            ExitCode::from(code)
        }
    }
}
