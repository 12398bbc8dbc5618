//! An HTTP push endpoint on axum: `cargo run -p yida-events --example axum_callback`.
//!
//! Environment: `YIDA_CALLBACK_TOKEN`, `YIDA_CALLBACK_AES_KEY` (the 43-character
//! EncodingAESKey), `YIDA_CALLBACK_KEY` (corp id, suite key or custom key), and optionally
//! `LISTEN` (default 127.0.0.1:8080). Suite tickets land in a `MemoryTicketStore` a
//! `ThirdPartyApp` would read.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use yida_auth::MemoryTicketStore;
use yida_events::{CallbackCrypto, HttpEndpoint};

/// The whole integration: raw query + body in, status + body out.
async fn callback(
    State(endpoint): State<HttpEndpoint>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> impl IntoResponse {
    // `success` is answered only once the handler returned Ok: an event that could not be
    // written is answered 500, and DingTalk sends it again.
    let (resp, _event) = endpoint
        .respond(query.as_deref().unwrap_or(""), &body, |event| async move {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", event.to_json_line())?;
            out.flush()
        })
        .await;
    (
        StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, resp.content_type)],
        resp.body,
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |k: &str| std::env::var(k).map_err(|_| format!("set {k}"));
    let crypto = CallbackCrypto::new(
        env("YIDA_CALLBACK_TOKEN")?,
        env("YIDA_CALLBACK_AES_KEY")?,
        env("YIDA_CALLBACK_KEY")?,
    )?;
    let tickets = MemoryTicketStore::new();
    let endpoint = HttpEndpoint::new(crypto).suite_tickets(tickets.clone());
    let app = Router::new().fallback(callback).with_state(endpoint);
    let addr = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("listening on {addr}");
    axum::serve(listener, app).await?;
    Ok(())
}
