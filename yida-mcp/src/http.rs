//! Streamable HTTP: loopback only unless a bearer token is set; with a token, every request
//! without it is refused (401) before it reaches the MCP layer.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::{
    session::local::LocalSessionManager, StreamableHttpServerConfig, StreamableHttpService,
};
use subtle::ConstantTimeEq;
use tokio_util::sync::CancellationToken;

use crate::YidaMcp;

/// How the HTTP transport listens.
#[derive(Clone, Default)]
pub struct HttpOptions {
    /// The bearer token clients must send (`Authorization: Bearer …`). Required to listen on
    /// an address other than loopback.
    pub auth_token: Option<String>,
}

impl std::fmt::Debug for HttpOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpOptions")
            .field("auth_token", &self.auth_token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// Serves `server` over streamable HTTP at `/mcp` on `listener` until `stop` is cancelled.
///
/// A listener on a non-loopback address is refused unless a token is set.
pub async fn serve_http(
    server: YidaMcp,
    listener: tokio::net::TcpListener,
    opts: HttpOptions,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    if !addr.ip().is_loopback() && opts.auth_token.is_none() {
        return Err(std::io::Error::other(format!(
            "refusing to listen on {addr} without --auth-token: anyone who can reach it could act as this app (loopback needs no token)"
        )));
    }
    let mut config = StreamableHttpServerConfig::default();
    config.cancellation_token = stop.child_token();
    if !addr.ip().is_loopback() {
        // Behind a token, any Host may be used (the token is the guard against rebinding).
        config.allowed_hosts = Vec::new();
    }
    let service = StreamableHttpService::new(
        move || Ok(server.clone()),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let token = opts.auth_token.map(Arc::new);
    let router = axum::Router::new()
        .nest_service("/mcp", service)
        .layer(middleware::from_fn_with_state(token, bearer));
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
}

/// Refuses a request whose bearer token is missing or wrong (compared in constant time).
async fn bearer(State(token): State<Option<Arc<String>>>, req: Request, next: Next) -> Response {
    if let Some(want) = token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        let ok: bool =
            given.len() == want.len() && bool::from(given.as_bytes().ct_eq(want.as_bytes()));
        if !ok {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                "missing or wrong bearer token\n",
            )
                .into_response();
        }
    }
    next.run(req).await
}
