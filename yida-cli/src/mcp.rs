//! `yida mcp`: serve Yida to AI agents over the Model Context Protocol (stdio, or streamable
//! HTTP with `--listen`).

use crate::fail::{Fail, FAILED, USAGE};

/// Serve Yida to an AI agent (MCP): reads by default; writes only with --allow-writes and a
/// scope (--app, optionally --form); irreversible steps also need --allow-irreversible.
#[derive(clap::Args, Debug)]
pub struct McpArgs {
    /// Serve streamable HTTP at http://ADDR/mcp instead of stdio (loopback only unless
    /// --auth-token is set).
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// Bearer token HTTP clients must send (or YIDA_MCP_AUTH_TOKEN). Never printed.
    #[arg(long, value_name = "TOKEN")]
    auth_token: Option<String>,
    /// Allow write operations (inside the scope given by --app and --form).
    #[arg(long)]
    allow_writes: bool,
    /// Also allow irreversible operations (start, terminate and delete instances, execute and
    /// redirect tasks, deletes).
    #[arg(long)]
    allow_irreversible: bool,
    /// An app (APP_…) writes may touch; repeatable; required with --allow-writes.
    #[arg(long = "app", value_name = "APP_TYPE")]
    apps: Vec<String>,
    /// A form (FORM-…) writes may touch; repeatable; default: every form of the apps.
    #[arg(long = "form", value_name = "FORM_UUID")]
    forms: Vec<String>,
    /// Rehearse writes against a local emulator first; `apply_rehearsal` sends them for real.
    #[arg(long)]
    rehearse: bool,
}

/// Runs the server until the client disconnects (stdio) or SIGTERM/Ctrl-C (HTTP).
pub async fn run(args: McpArgs) -> Result<(), Fail> {
    let scope = yida_mcp::Scope {
        allow_writes: args.allow_writes,
        allow_irreversible: args.allow_irreversible,
        apps: args.apps,
        forms: args.forms,
    };
    let opts = yida_mcp::Options {
        scope,
        rehearse: args.rehearse,
        app_type: crate::config::env("YIDA_APP_TYPE"),
    };
    let client = crate::config::client()?;
    let server =
        yida_mcp::YidaMcp::new(client, opts).map_err(|m| Fail(USAGE, format!("error: {m}")))?;
    match args.listen {
        None => yida_mcp::serve_stdio(server)
            .await
            .map_err(|e| Fail(FAILED, format!("error: {e}"))),
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| Fail(FAILED, format!("error: cannot listen on {addr}: {e}")))?;
            let local = listener
                .local_addr()
                .map_err(|e| Fail(FAILED, format!("error: {e}")))?;
            let stop = tokio_util::sync::CancellationToken::new();
            let trigger = stop.clone();
            tokio::spawn(async move {
                crate::signal::stop().await;
                trigger.cancel();
            });
            crate::out::note(&format!("yida mcp: serving http://{local}/mcp"));
            yida_mcp::serve_http(
                server,
                listener,
                yida_mcp::HttpOptions {
                    auth_token: args
                        .auth_token
                        .or_else(|| crate::config::env("YIDA_MCP_AUTH_TOKEN")),
                },
                stop,
            )
            .await
            .map_err(|e| Fail(USAGE, format!("error: {e}")))
        }
    }
}
