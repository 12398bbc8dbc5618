//! `yida mcp`: Yida for AI agents, as a Model Context Protocol server (on `rmcp`, the official
//! Rust MCP SDK).
//!
//! A small tool surface — list an app's forms, describe a form's components and their value
//! formats, search and read records, an instance's status and running tasks — plus
//! `describe_operation` and `call_operation` over every operation of the spec, with input
//! schemas generated from it. Writes are off unless a person starts the server with a scope
//! ([`Scope`]): `write_operation` appears only with `allow_writes` and one or more apps (and
//! optionally forms); operations the spec classes `irreversible` also need
//! `allow_irreversible`. With `rehearse`, writes run against a local emulator first and reach
//! DingTalk only through `apply_rehearsal`.
//!
//! Every call goes through one [`yida_api::Client`]: its pacing, retries, token cache and
//! tracing. Secret parameters are held by the server and never taken from, or shown to, an
//! agent.
//!
//! ```no_run
//! # async fn run(client: yida_api::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let server = yida_mcp::YidaMcp::new(client, yida_mcp::Options::default())?;
//! yida_mcp::serve_stdio(server).await?;
//! # Ok(()) }
//! ```

mod forms;
mod http;
mod ops;
mod rehearse;
mod scope;
mod server;
mod tools;

pub use http::{serve_http, HttpOptions};
pub use scope::Scope;
pub use server::{Options, YidaMcp};

use rmcp::ServiceExt;

/// Serves `server` over stdin/stdout until the client closes the connection.
pub async fn serve_stdio(server: YidaMcp) -> std::io::Result<()> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| std::io::Error::other(format!("MCP handshake failed: {e}")))?;
    running
        .waiting()
        .await
        .map_err(|e| std::io::Error::other(format!("MCP server stopped: {e}")))?;
    Ok(())
}

/// Text from outside, made safe to echo: control characters dropped, at most 200 characters.
pub(crate) fn sanitize(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}
