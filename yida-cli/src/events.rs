//! `yida events http|stream`: receive events and print one JSON object per line.

use crate::config::env;
use crate::fail::{Fail, FAILED};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;
use yida_events::{AckStatus, CallbackCrypto, Event, HttpEndpoint, StreamClient};

/// Receive events DingTalk pushes and print each as one JSON line on stdout:
/// `{"type","eventId","corpId","data"}` (secrets such as suite tickets redacted).
/// Diagnostics go to stderr; Ctrl-C or SIGTERM stops cleanly.
#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(clap::Subcommand, Debug)]
enum Mode {
    /// Serve the HTTP push endpoint (any path). Needs YIDA_CALLBACK_TOKEN,
    /// YIDA_CALLBACK_AES_KEY (the 43-character EncodingAESKey) and YIDA_CALLBACK_KEY (corp
    /// id, suite key or custom key). Valid pushes get the encrypted `success`; invalid ones
    /// HTTP 400 or 403 and print nothing.
    Http {
        /// Address to listen on, e.g. 0.0.0.0:8080 (port 0 picks a free port; the address
        /// is printed on stderr).
        #[arg(long, value_name = "ADDR")]
        listen: SocketAddr,
        /// Refuse pushes whose timestamp is further than this from now, in seconds (0
        /// accepts any time and turns replay detection off).
        #[arg(long, value_name = "SECS", default_value_t = 600)]
        max_age: u64,
    },
    /// Connect in Stream mode with YIDA_APP_KEY / YIDA_APP_SECRET (client id and secret)
    /// against YIDA_ENDPOINT; each event is ACKed once printed.
    Stream {
        /// Subscription topic for events.
        #[arg(long, default_value = "*")]
        topic: String,
    },
    /// Send one test push to a callback URL, encrypted and signed as DingTalk does.
    Push(crate::events_push::PushArgs),
}

/// Runs the chosen mode until Ctrl-C / SIGTERM.
pub async fn run(args: EventsArgs) -> Result<(), Fail> {
    match args.mode {
        Mode::Http { listen, max_age } => http(listen, max_age).await,
        Mode::Stream { topic } => stream(topic).await,
        Mode::Push(args) => crate::events_push::run(args).await,
    }
}

fn need(name: &'static str) -> Result<String, Fail> {
    env(name).ok_or_else(|| Fail::usage(format!("missing environment variable {name}")))
}

/// Prints one event line; false when stdout is gone.
fn print(event: &Event) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", event.to_json_line()).is_ok() && out.flush().is_ok()
}

/// Resolves on Ctrl-C or SIGTERM.
async fn stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn http(listen: SocketAddr, max_age: u64) -> Result<(), Fail> {
    let crypto = CallbackCrypto::new(
        need("YIDA_CALLBACK_TOKEN")?,
        need("YIDA_CALLBACK_AES_KEY")?,
        need("YIDA_CALLBACK_KEY")?,
    )
    .map_err(Fail::usage)?
    .max_age((max_age > 0).then(|| Duration::from_secs(max_age)));
    let mut endpoint = HttpEndpoint::new(crypto);
    if let Some(store) = crate::ticket_store::open()? {
        endpoint = endpoint.suite_tickets(store);
    }
    let app = Router::new().fallback(push).with_state(endpoint);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Fail(FAILED, format!("error: cannot listen on {listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Fail(FAILED, format!("error: {e}")))?;
    eprintln!("listening on {addr}");
    axum::serve(listener, app)
        .with_graceful_shutdown(stop_signal())
        .await
        .map_err(|e| Fail(FAILED, format!("error: server failed: {e}")))?;
    eprintln!("stopped");
    Ok(())
}

async fn push(State(endpoint): State<HttpEndpoint>, req: Request) -> Response {
    let query = req.uri().query().unwrap_or("").to_string();
    let limit = yida_events::MAX_BODY_BYTES;
    let body = match axum::body::to_bytes(req.into_body(), limit).await {
        Ok(b) => b,
        Err(_) => {
            eprintln!("refused push: body over {limit} bytes");
            return (StatusCode::BAD_REQUEST, "body too large").into_response();
        }
    };
    let (resp, event) = endpoint.respond(&query, &body).await;
    match &event {
        Some(e) => {
            print(e);
        }
        None => eprintln!("refused push ({}): {}", resp.status, resp.body),
    }
    Response::builder()
        .status(resp.status)
        .header(header::CONTENT_TYPE, resp.content_type)
        .body(Body::from(resp.body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn stream(topic: String) -> Result<(), Fail> {
    let mut builder = StreamClient::builder(need("YIDA_APP_KEY")?, need("YIDA_APP_SECRET")?)
        .endpoint(crate::config::endpoint()?)
        .subscribe("EVENT", topic);
    if let Some(store) = crate::ticket_store::open()? {
        builder = builder.suite_tickets(store);
    }
    let client = builder.build().map_err(Fail::usage)?;
    let handle = client.start(|event: Event| async move {
        if print(&event) {
            AckStatus::Success
        } else {
            AckStatus::Later
        }
    });
    eprintln!("stream: connecting");
    let mut handle = handle;
    tokio::select! {
        r = handle.join() => return r.map_err(|e| Fail(FAILED, format!("error: {e}"))),
        _ = stop_signal() => {}
    }
    handle
        .shutdown()
        .await
        .map_err(|e| Fail(FAILED, format!("error: {e}")))?;
    eprintln!("stopped");
    Ok(())
}
