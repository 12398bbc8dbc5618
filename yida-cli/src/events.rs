//! `yida events http|stream`: receive events and print one JSON object per line.
//!
//! An event is acknowledged (`success`, or Stream ACK `SUCCESS`) only after its line was
//! written to stdout and flushed. Lines are written by one thread with a bounded wait: a
//! blocked stdout fails that event (HTTP 500 / ACK `LATER`, so DingTalk sends it again)
//! without stalling the receiver, and a closed or failing stdout stops the receiver with an
//! error.

use crate::config::need;
use crate::fail::{Fail, FAILED};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};
use yida_events::{AckStatus, CallbackCrypto, Event, HttpEndpoint, StreamClient};

/// Receive events DingTalk pushes and print each as one JSON line on stdout:
/// `{"type","eventId","corpId","data"}` (secrets such as suite tickets redacted).
/// An event is acknowledged only once its line was written and flushed; if stdout is
/// closed or fails, the receiver stops with an error (DingTalk resends what was not
/// acknowledged). Diagnostics go to stderr; Ctrl-C or SIGTERM stops cleanly.
#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(clap::Subcommand, Debug)]
enum Mode {
    /// Serve the HTTP push endpoint (any path). Needs YIDA_CALLBACK_TOKEN,
    /// YIDA_CALLBACK_AES_KEY (the 43-character EncodingAESKey) and YIDA_CALLBACK_KEY (corp
    /// id, suite key or custom key). A valid push gets the encrypted `success` once printed;
    /// invalid ones HTTP 400 or 403; one that could not be printed HTTP 500 (DingTalk sends
    /// it again).
    Http {
        /// Address to listen on, e.g. 0.0.0.0:8080 (port 0 picks a free port; the address
        /// is printed on stderr).
        #[arg(long, value_name = "ADDR")]
        listen: SocketAddr,
        /// Refuse pushes whose timestamp is further than this from now, in seconds (0
        /// accepts any time and turns replay detection off). Replays are remembered in
        /// memory for this window: a restart forgets them.
        #[arg(long, value_name = "SECS", default_value_t = 600)]
        max_age: u64,
        /// Close a connection whose request headers did not arrive in this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        header_timeout: u64,
        /// Answer 408 when a request body did not arrive in this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        body_timeout: u64,
        /// Connections open at once; beyond this the oldest idle one (no request being
        /// handled) is closed to make room.
        #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=100_000))]
        max_connections: u64,
        /// Fail a push (HTTP 500, DingTalk resends) whose line could not be written to
        /// stdout within this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        write_timeout: u64,
    },
    /// Connect in Stream mode with YIDA_APP_KEY / YIDA_APP_SECRET (client id and secret)
    /// against YIDA_ENDPOINT; each event is ACKed once printed (`LATER` if it could not be).
    Stream {
        /// Subscription topic for events.
        #[arg(long, default_value = "*")]
        topic: String,
        /// ACK an event `LATER` (DingTalk resends) when its line could not be written to
        /// stdout within this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
        write_timeout: u64,
    },
    /// Send one test push to a callback URL, encrypted and signed as DingTalk does.
    Push(crate::events_push::PushArgs),
}

/// Runs the chosen mode until Ctrl-C / SIGTERM.
pub async fn run(args: EventsArgs) -> Result<(), Fail> {
    // Settings may come from a profile (`yida config`).
    crate::profile::load()?;
    match args.mode {
        Mode::Http {
            listen,
            max_age,
            header_timeout,
            body_timeout,
            max_connections,
            write_timeout,
        } => {
            http(HttpOpts {
                listen,
                max_age,
                header_timeout: Duration::from_secs(header_timeout),
                body_timeout: Duration::from_secs(body_timeout),
                max_connections: usize::try_from(max_connections).unwrap_or(usize::MAX),
                write_timeout: Duration::from_secs(write_timeout),
            })
            .await
        }
        Mode::Stream {
            topic,
            write_timeout,
        } => stream(topic, Duration::from_secs(write_timeout)).await,
        Mode::Push(args) => crate::events_push::run(args).await,
    }
}

/// Why an event line was not written.
#[derive(Debug, Clone)]
enum WriteError {
    /// Stdout is closed or failing: nothing more can be printed.
    Gone(String),
    /// Stdout did not take the line in time (a reader that stopped reading).
    Blocked(Duration),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Gone(e) => write!(f, "stdout failed: {e}"),
            WriteError::Blocked(d) => write!(f, "stdout blocked for {} s", d.as_secs()),
        }
    }
}

struct Job {
    line: String,
    cancelled: Arc<AtomicBool>,
    done: oneshot::Sender<Result<(), String>>,
}

/// Event lines to stdout, written by one thread so a blocked stdout never blocks the
/// runtime. Bounded: a few lines wait, then pushes fail at once.
#[derive(Clone)]
struct LineOut {
    tx: std::sync::mpsc::SyncSender<Job>,
    /// Set (with the reason) once stdout failed.
    gone: watch::Receiver<Option<String>>,
    wait: Duration,
}

impl LineOut {
    fn start(wait: Duration) -> LineOut {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(16);
        let (gone_tx, gone) = watch::channel(None);
        let spawned = std::thread::Builder::new()
            .name("yida-events-stdout".into())
            .spawn(move || {
                let mut failed: Option<String> = None;
                for job in rx {
                    if job.cancelled.load(Ordering::SeqCst) {
                        let _ = job.done.send(Err("timed out".into()));
                        continue;
                    }
                    let r = match &failed {
                        Some(e) => Err(e.clone()),
                        None => {
                            let mut out = std::io::stdout().lock();
                            out.write_all(job.line.as_bytes())
                                .and_then(|_| out.write_all(b"\n"))
                                .and_then(|_| out.flush())
                                .map_err(|e| e.to_string())
                        }
                    };
                    if let Err(e) = &r {
                        if failed.is_none() {
                            failed = Some(e.clone());
                            gone_tx.send_replace(Some(e.clone()));
                        }
                    }
                    let _ = job.done.send(r);
                }
            });
        if let Err(e) = spawned {
            // No thread: every write fails, and the receiver stops at once.
            let (gone_tx, gone) = watch::channel(Some(format!("cannot start a thread: {e}")));
            std::mem::forget(gone_tx);
            return LineOut { tx, gone, wait };
        }
        LineOut { tx, gone, wait }
    }

    /// Writes and flushes one line; `Ok` only once it is on stdout.
    async fn write(&self, line: String) -> Result<(), WriteError> {
        if let Some(e) = self.gone.borrow().clone() {
            return Err(WriteError::Gone(e));
        }
        let (done, rx) = oneshot::channel();
        let cancelled = Arc::new(AtomicBool::new(false));
        let job = Job {
            line,
            cancelled: cancelled.clone(),
            done,
        };
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(_)) => {
                return Err(WriteError::Blocked(self.wait));
            }
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                return Err(WriteError::Gone("writer stopped".into()));
            }
        }
        match tokio::time::timeout(self.wait, rx).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(e))) => Err(WriteError::Gone(e)),
            Ok(Err(_)) => Err(WriteError::Gone("writer stopped".into())),
            Err(_) => {
                cancelled.store(true, Ordering::SeqCst);
                Err(WriteError::Blocked(self.wait))
            }
        }
    }

    /// Resolves with the reason once stdout failed.
    async fn failed(&self) -> String {
        let mut rx = self.gone.clone();
        let why = rx.wait_for(Option::is_some).await.map(|v| v.clone());
        match why {
            Ok(v) => v.unwrap_or_default(),
            Err(_) => std::future::pending().await,
        }
    }
}

/// Diagnostics about refused pushes, at most `burst` lines a second; the rest are counted
/// and reported in one line when the next second starts.
struct RateLimitedLog {
    burst: u32,
    state: Mutex<(Instant, u32, u64)>,
}

impl RateLimitedLog {
    fn new(burst: u32) -> Self {
        RateLimitedLog {
            burst,
            state: Mutex::new((Instant::now(), 0, 0)),
        }
    }

    fn note(&self, line: std::fmt::Arguments<'_>) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if now.duration_since(st.0) >= Duration::from_secs(1) {
            if st.2 > 0 {
                eprintln!("({} more refused pushes not shown)", st.2);
            }
            *st = (now, 0, 0);
        }
        if st.1 < self.burst {
            st.1 += 1;
            eprintln!("{line}");
        } else {
            st.2 += 1;
        }
    }
}

struct HttpOpts {
    listen: SocketAddr,
    max_age: u64,
    header_timeout: Duration,
    body_timeout: Duration,
    max_connections: usize,
    write_timeout: Duration,
}

struct HttpState {
    endpoint: HttpEndpoint,
    out: LineOut,
    log: RateLimitedLog,
    body_timeout: Duration,
}

/// One open connection: whether a request is being handled, and how to close it.
struct ConnEntry {
    busy: Arc<AtomicBool>,
    kill: Option<oneshot::Sender<()>>,
}

/// How long in-flight requests may take to finish after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

async fn http(o: HttpOpts) -> Result<(), Fail> {
    let crypto = CallbackCrypto::new(
        need("YIDA_CALLBACK_TOKEN")?,
        need("YIDA_CALLBACK_AES_KEY")?,
        need("YIDA_CALLBACK_KEY")?,
    )
    .map_err(Fail::usage)?
    .max_age((o.max_age > 0).then(|| Duration::from_secs(o.max_age)));
    let listen = o.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Fail(FAILED, format!("error: cannot listen on {listen}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Fail(FAILED, format!("error: {e}")))?;
    let out = LineOut::start(o.write_timeout);
    let state = Arc::new(HttpState {
        endpoint: match crate::ticket_store::open()? {
            Some(store) => HttpEndpoint::new(crypto).suite_tickets(store),
            None => HttpEndpoint::new(crypto),
        },
        out: out.clone(),
        log: RateLimitedLog::new(10),
        body_timeout: o.body_timeout,
    });
    eprintln!("listening on {addr}");
    let conns: Arc<Mutex<BTreeMap<u64, ConnEntry>>> = Arc::default();
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let mut next_id = 0u64;
    let stop = crate::signal::stop();
    tokio::pin!(stop);
    let gone = out.failed();
    tokio::pin!(gone);
    let mut accept_errors = 0u64;
    let outcome = loop {
        let (tcp, _) = tokio::select! {
            _ = &mut stop => break None,
            why = &mut gone => break Some(why),
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of descriptors and the like: say so (rarely) and let the timeouts
                    // free some.
                    accept_errors += 1;
                    if accept_errors.is_power_of_two() {
                        eprintln!("accepting a connection failed ({accept_errors} times): {e}");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        next_id += 1;
        let id = next_id;
        let busy = Arc::new(AtomicBool::new(false));
        let (kill, killed) = oneshot::channel();
        {
            let mut map = conns.lock().unwrap_or_else(|e| e.into_inner());
            if map.len() >= o.max_connections {
                // Make room: close the oldest connection that is not handling a request
                // (a half-sent request or an idle keep-alive); if every one is, refuse this.
                let victim = map
                    .iter()
                    .find(|(_, c)| !c.busy.load(Ordering::SeqCst))
                    .map(|(k, _)| *k);
                match victim.and_then(|k| map.remove(&k)) {
                    Some(mut old) => {
                        if let Some(k) = old.kill.take() {
                            let _ = k.send(());
                        }
                    }
                    None => continue, // drops `tcp`: closed
                }
            }
            map.insert(
                id,
                ConnEntry {
                    busy: busy.clone(),
                    kill: Some(kill),
                },
            );
        }
        tokio::spawn(serve_conn(
            tcp,
            state.clone(),
            busy,
            killed,
            shutdown_rx.clone(),
            o.header_timeout,
            (conns.clone(), id),
        ));
    };
    drop(listener);
    let _ = shutdown_tx.send(true);
    // Wait for the connections to finish (each is bounded by the grace period).
    let deadline = Instant::now() + SHUTDOWN_GRACE + Duration::from_secs(1);
    while !conns.lock().unwrap_or_else(|e| e.into_inner()).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stopped(
        outcome,
        "the pushes not printed were answered HTTP 500, so DingTalk sends them again",
    )
}

/// How a receiver ends: `stopped` when told to; when stdout failed (`why`), an error saying
/// what happens to the events not printed (`resent`).
fn stopped(failed: Option<String>, resent: &str) -> Result<(), Fail> {
    match failed {
        None => {
            eprintln!("stopped");
            Ok(())
        }
        Some(why) => Err(Fail(
            FAILED,
            format!("error: stdout failed ({why}): stopped; {resent}"),
        )),
    }
}

async fn serve_conn(
    tcp: tokio::net::TcpStream,
    state: Arc<HttpState>,
    busy: Arc<AtomicBool>,
    killed: oneshot::Receiver<()>,
    mut shutdown: watch::Receiver<bool>,
    header_timeout: Duration,
    (conns, id): (Arc<Mutex<BTreeMap<u64, ConnEntry>>>, u64),
) {
    let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let state = state.clone();
        let busy = busy.clone();
        async move {
            busy.store(true, Ordering::SeqCst);
            let r = push(&state, req).await;
            busy.store(false, Ordering::SeqCst);
            Ok::<_, std::convert::Infallible>(r)
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(hyper_util::rt::TokioIo::new(tcp), svc);
    tokio::pin!(conn);
    tokio::pin!(killed);
    tokio::select! {
        _ = conn.as_mut() => {}
        Ok(()) = &mut killed => {}
        _ = async { let _ = shutdown.wait_for(|s| *s).await; } => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, conn.as_mut()).await;
        }
    }
    conns.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn push(state: &HttpState, req: Request<hyper::body::Incoming>) -> Response {
    let query = req.uri().query().unwrap_or("").to_string();
    let limit = yida_events::MAX_BODY_BYTES;
    let body = Body::new(req.into_body());
    let body =
        match tokio::time::timeout(state.body_timeout, axum::body::to_bytes(body, limit)).await {
            Ok(Ok(b)) => b,
            Ok(Err(_)) => {
                state.log.note(format_args!(
                    "refused push (400): body over {limit} bytes or cut off"
                ));
                return text(StatusCode::BAD_REQUEST, "body too large or cut off");
            }
            Err(_) => {
                state.log.note(format_args!(
                    "refused push (408): body not received within {} s",
                    state.body_timeout.as_secs()
                ));
                return text(StatusCode::REQUEST_TIMEOUT, "body not received in time");
            }
        };
    let out = &state.out;
    let (resp, _event) = state
        .endpoint
        .respond(&query, &body, |e: Event| async move {
            out.write(e.to_json_line()).await
        })
        .await;
    if resp.status >= 500 {
        state.log.note(format_args!(
            "push not acknowledged (HTTP {}; DingTalk sends it again): {}",
            resp.status, resp.body
        ));
    } else if resp.status >= 400 {
        state.log.note(format_args!(
            "refused push ({}): {}",
            resp.status, resp.body
        ));
    }
    Response::builder()
        .status(resp.status)
        .header(header::CONTENT_TYPE, resp.content_type)
        .body(Body::from(resp.body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn stream(topic: String, write_timeout: Duration) -> Result<(), Fail> {
    let mut builder = StreamClient::builder(need("YIDA_APP_KEY")?, need("YIDA_APP_SECRET")?)
        .endpoint(crate::config::endpoint()?)
        .subscribe("EVENT", topic);
    if let Some(store) = crate::ticket_store::open()? {
        builder = builder.suite_tickets(store);
    }
    let client = builder.build().map_err(Fail::usage)?;
    let out = LineOut::start(write_timeout);
    let printer = out.clone();
    let mut handle = client.start(move |event: Event| {
        let out = printer.clone();
        async move {
            match out.write(event.to_json_line()).await {
                Ok(()) => AckStatus::Success,
                Err(e) => {
                    if let WriteError::Blocked(_) = e {
                        eprintln!("event not printed ({e}); ACK LATER, DingTalk sends it again");
                    }
                    AckStatus::Later
                }
            }
        }
    });
    eprintln!("stream: connecting");
    let gone = out.failed();
    tokio::pin!(gone);
    let failed = tokio::select! {
        r = handle.join() => return r.map_err(|e| Fail(FAILED, format!("error: {e}"))),
        _ = crate::signal::stop() => None,
        why = &mut gone => Some(why),
    };
    handle
        .shutdown()
        .await
        .map_err(|e| Fail(FAILED, format!("error: {e}")))?;
    stopped(
        failed,
        "events not printed were ACKed LATER, so DingTalk sends them again",
    )
}
