//! Guide: docs/guides/ai-agents.md — Yida for AI agents.
//!
//! An MCP client (the official SDK's client side, as an agent's host would run it) talks to
//! the `yida mcp` server, here in the same process over an in-memory pipe. It finds the demo
//! form, reads its components and records, and shows that a write is refused when the server
//! was started without a scope.

use rmcp::model::CallToolRequestParams;
use rmcp::ServiceExt;
use serde_json::{json, Value};
use yida_api::{AppContext, Client};

fn env(name: &str) -> Result<String, String> {
    std::env::var(name)
        .map_err(|_| format!("{name} is not set (run `yida emulator` and paste its export lines)"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::builder()
        .endpoint(env("YIDA_ENDPOINT")?)
        .internal_app(env("YIDA_APP_KEY")?, env("YIDA_APP_SECRET")?)?
        .context(
            AppContext::new()
                .app_type(env("YIDA_APP_TYPE")?)
                .system_token(env("YIDA_SYSTEM_TOKEN")?)
                .user_id(env("YIDA_USER_ID")?),
        )
        .build()?;
    // What `yida mcp` runs (reads only: no --allow-writes).
    let server = yida_mcp::YidaMcp::new(
        client,
        yida_mcp::Options {
            app_type: Some(env("YIDA_APP_TYPE")?),
            ..Default::default()
        },
    )?;
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    let agent = ().serve(client_io).await?;

    let tools = agent.list_all_tools().await?;
    println!("tools: {}", tools.len());

    let call = |name: &str, args: Value| {
        let params = CallToolRequestParams::new(name.to_string())
            .with_arguments(args.as_object().cloned().unwrap_or_default());
        agent.call_tool(params)
    };
    let forms = call("list_forms", json!({})).await?;
    let forms = forms.structured_content.unwrap_or_default();
    let form = forms["result"]["data"][0]["formUuid"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    println!("first form: {form}");

    let described = call("describe_form", json!({ "formUuid": form })).await?;
    let components = described.structured_content.unwrap_or_default()["components"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    println!("components: {components}");

    let found = call(
        "search_records",
        json!({ "formUuid": form, "pageSize": 10 }),
    )
    .await?;
    let total = found.structured_content.unwrap_or_default()["totalCount"]
        .as_i64()
        .unwrap_or(0);
    println!("records: {total}");

    let write = call(
        "call_operation",
        json!({ "action": "SaveFormData", "input": { "formUuid": form, "formDataJson": {} } }),
    )
    .await?;
    println!("write refused: {}", write.is_error == Some(true));
    agent.cancel().await?;
    Ok(())
}
