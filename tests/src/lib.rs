//! Test support: a real HTTP/1.1 server on loopback that records every request and answers
//! from a script. Tests assert what went over the wire and what came back. Also the one rule
//! for tests that start an outside program (`programs`: skip with one line, or fail under `CI`)
//! and a real `redis-server` ([`RedisServer`]).

pub mod postgres_server;
pub mod programs;
pub mod proxy;
pub mod redis_server;

pub use postgres_server::PostgresServer;
pub use programs::{require_program, require_programs};
pub use proxy::RecordingProxy;
pub use redis_server::RedisServer;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// The path as sent (still percent-encoded), without the query.
    pub path: String,
    /// The raw query string (without `?`), if any.
    pub query: Option<String>,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
    /// When the request was complete.
    pub at: std::time::Instant,
}

impl Recorded {
    /// The first header of that (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` when empty).
    pub fn json(&self) -> serde_json::Value {
        if self.body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&self.body).expect("request body is JSON")
        }
    }

    /// Query pairs, decoded, in order (by `yida_auth::wire::query_pairs`, the rule the
    /// emulator and the push endpoint use too).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        let Some(q) = &self.query else {
            return Vec::new();
        };
        yida_api::yida_auth::wire::query_pairs(q)
            .map(|pairs| {
                pairs
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The decoded value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// An HTML page in the manner of the gateway's IP ban page: it carries the ban's own markers
/// (the `punish` action and the `x5` source of the documented `{"status":1111,…}` reply).
pub const GATEWAY_BAN_PAGE: &str = "<!DOCTYPE html><html><head><title>Access denied</title></head>\
<body><div id=\"punish\">Too many requests from your IP</div>\
<script>window.location.href='/_____tmd_____/punish?x5secdata=abc&x5step=1';</script></body></html>";

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A normal response.
    Http {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: Vec<u8>,
    },
    /// Wait, then do the inner reply.
    Delay(Duration, Box<Reply>),
    /// Write these bytes verbatim, then close the connection.
    Raw(Vec<u8>),
    /// Close the connection without answering.
    Close,
    /// A chunked body repeating `chunk` until `total` bytes were written (`None`: endless, until
    /// the client hangs up). The server holds one chunk in memory, whatever the size.
    Stream {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// The repeated piece.
        chunk: Vec<u8>,
        /// Bytes to write in all, or endless.
        total: Option<u64>,
    },
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: serde_json::Value) -> Reply {
        Reply::status_json(200, body)
    }

    /// Any status with a JSON body.
    pub fn status_json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Http {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// Any status with a text body and content type.
    pub fn text(status: u16, content_type: &str, body: &str) -> Reply {
        Reply::Http {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// A DingTalk error reply.
    pub fn error(status: u16, code: &str, message: &str, request_id: &str) -> Reply {
        Reply::status_json(
            status,
            serde_json::json!({"code": code, "message": message, "requestid": request_id}),
        )
    }

    /// 200 with an empty body.
    pub fn empty() -> Reply {
        Reply::Http {
            status: 200,
            headers: vec![],
            body: vec![],
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Http { headers, .. } | Reply::Stream { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }

    /// A chunked body that never ends: `0,` forever.
    pub fn endless(status: u16) -> Reply {
        Reply::Stream {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            chunk: b"0,".repeat(32 * 1024),
            total: None,
        }
    }

    /// A chunked body of `total` bytes of spaces (valid JSON white space before nothing).
    pub fn huge(status: u16, total: u64) -> Reply {
        Reply::Stream {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            chunk: vec![b' '; 64 * 1024],
            total: Some(total),
        }
    }
}

type Handler = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

/// A scripted HTTP server on 127.0.0.1. Stops when dropped.
pub struct MockServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    sent: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockServer {
    /// A server answering every request through `handler(request, index)`.
    pub async fn start(
        handler: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
    ) -> MockServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let reqs = requests.clone();
        let sent: Arc<AtomicU64> = Arc::default();
        let sent2 = sent.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let reqs = reqs.clone();
                let handler = handler.clone();
                let sent = sent2.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, reqs, handler, sent).await;
                });
            }
        });
        MockServer {
            addr,
            requests,
            sent,
            task,
        }
    }

    /// A server answering from a queue; the last reply repeats once the queue is down to one.
    pub async fn script(replies: Vec<Reply>) -> MockServer {
        let queue = Mutex::new(VecDeque::from(replies));
        MockServer::start(move |_, _| {
            let mut q = queue.lock().unwrap();
            if q.len() > 1 {
                q.pop_front().unwrap()
            } else {
                q.front().cloned().unwrap_or(Reply::Close)
            }
        })
        .await
    }

    /// A server that always gives the same reply.
    pub async fn always(reply: Reply) -> MockServer {
        MockServer::start(move |_, _| reply.clone()).await
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Number of requests received so far.
    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    /// Body bytes written by [`Reply::Stream`] replies so far.
    pub fn streamed_bytes(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

async fn serve(
    mut stream: TcpStream,
    reqs: Arc<Mutex<Vec<Recorded>>>,
    handler: Arc<Handler>,
    sent: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(8192);
    loop {
        // Read up to the end of the headers.
        let head_end = loop {
            if let Some(p) = find(&buf, b"\r\n\r\n") {
                break p;
            }
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default();
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let body_start = head_end + 4;
        let te = headers
            .iter()
            .rev()
            .find(|(n, _)| n == "transfer-encoding")
            .map(|(_, v)| v.clone());
        let framing = match te {
            // RFC 9112 §6.3: with Transfer-Encoding, Content-Length is ignored and the last coding
            // must be chunked.
            Some(te) => match te.rsplit(',').next().map(str::trim) {
                Some(last) if last.eq_ignore_ascii_case("chunked") => {
                    read_chunked(&mut stream, &mut buf, body_start).await?
                }
                _ => Framing::Bad(501, "transfer coding other than chunked"),
            },
            None => {
                let cl = headers.iter().find(|(n, _)| n == "content-length");
                match cl.map(|(_, v)| v.parse::<usize>()) {
                    None => Framing::Body(Vec::new(), body_start),
                    Some(Err(_)) => Framing::Bad(400, "bad content-length"),
                    Some(Ok(len)) if len > MAX_BODY => Framing::Bad(413, "body too large"),
                    Some(Ok(len)) => {
                        while buf.len() < body_start + len {
                            if !fill(&mut stream, &mut buf).await? {
                                return Ok(());
                            }
                        }
                        Framing::Body(buf[body_start..body_start + len].to_vec(), body_start + len)
                    }
                }
            }
        };
        let body = match framing {
            Framing::Body(body, end) => {
                buf.drain(..end);
                body
            }
            Framing::Eof => return Ok(()),
            Framing::Bad(status, why) => {
                // The framing is unknown, so the connection cannot be reused: answer and close.
                let out = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{why}",
                    why.len()
                );
                stream.write_all(out.as_bytes()).await?;
                stream.shutdown().await?;
                return Ok(());
            }
        };
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (target.clone(), None),
        };
        let rec = Recorded {
            method,
            path,
            query,
            headers,
            body,
            at: std::time::Instant::now(),
        };
        let index = {
            let mut r = reqs.lock().unwrap();
            r.push(rec.clone());
            r.len() - 1
        };
        let mut reply = handler(&rec, index);
        loop {
            match reply {
                Reply::Delay(d, inner) => {
                    tokio::time::sleep(d).await;
                    reply = *inner;
                }
                Reply::Close => return Ok(()),
                Reply::Raw(bytes) => {
                    stream.write_all(&bytes).await?;
                    stream.shutdown().await?;
                    return Ok(());
                }
                Reply::Http {
                    status,
                    headers,
                    body,
                } => {
                    let mut out =
                        format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                    for (n, v) in headers {
                        out.push_str(&format!("{n}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    let mut bytes = out.into_bytes();
                    bytes.extend_from_slice(&body);
                    stream.write_all(&bytes).await?;
                    break;
                }
                Reply::Stream {
                    status,
                    headers,
                    chunk,
                    total,
                } => {
                    let mut out = format!("HTTP/1.1 {status} X\r\ntransfer-encoding: chunked\r\n");
                    for (n, v) in headers {
                        out.push_str(&format!("{n}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    stream.write_all(out.as_bytes()).await?;
                    let mut left = total.unwrap_or(u64::MAX);
                    while left > 0 && !chunk.is_empty() {
                        let n = (chunk.len() as u64).min(left) as usize;
                        stream.write_all(format!("{n:x}\r\n").as_bytes()).await?;
                        stream.write_all(&chunk[..n]).await?;
                        stream.write_all(b"\r\n").await?;
                        sent.fetch_add(n as u64, Ordering::Relaxed);
                        left -= n as u64;
                    }
                    stream.write_all(b"0\r\n\r\n").await?;
                    break;
                }
            }
        }
    }
}

/// Largest request body the server reads (bytes), framed either way; beyond it: 413 and close.
pub const MAX_BODY: usize = 64 << 20;

/// Longest chunk-size line, and most trailer bytes, accepted in a chunked body.
const MAX_CHUNK_LINE: usize = 1024;
const MAX_TRAILERS: usize = 8 * 1024;

/// How a request body was read.
enum Framing {
    /// The body, and where the next request starts in the buffer.
    Body(Vec<u8>, usize),
    /// The client hung up before the body was complete.
    Eof,
    /// Malformed or over a bound: the status to answer with, and why.
    Bad(u16, &'static str),
}

/// Reads more bytes into `buf`; `false` when the peer closed.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

/// Decodes a `Transfer-Encoding: chunked` body starting at `buf[at..]` (RFC 9112 §7.1): chunk
/// extensions are skipped, trailers read and dropped. Bounded by [`MAX_BODY`], the chunk-size
/// line length and the trailer size.
async fn read_chunked(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    mut at: usize,
) -> std::io::Result<Framing> {
    let mut body = Vec::new();
    // The chunks.
    loop {
        let line_end = loop {
            if let Some(p) = find(&buf[at..], b"\r\n") {
                break at + p;
            }
            if buf.len() - at > MAX_CHUNK_LINE {
                return Ok(Framing::Bad(400, "chunk-size line too long"));
            }
            if !fill(stream, buf).await? {
                return Ok(Framing::Eof);
            }
        };
        if line_end - at > MAX_CHUNK_LINE {
            return Ok(Framing::Bad(400, "chunk-size line too long"));
        }
        let line = &buf[at..line_end];
        let digits = line.split(|b| *b == b';').next().unwrap_or_default();
        let digits = std::str::from_utf8(digits)
            .unwrap_or("")
            .trim_matches([' ', '\t']);
        if digits.is_empty() || digits.len() > 16 || !digits.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Ok(Framing::Bad(400, "bad chunk size"));
        }
        let size = match usize::from_str_radix(digits, 16) {
            Ok(n) if n <= MAX_BODY - body.len() => n,
            _ => return Ok(Framing::Bad(413, "body too large")),
        };
        at = line_end + 2;
        if size == 0 {
            break;
        }
        while buf.len() < at + size + 2 {
            if !fill(stream, buf).await? {
                return Ok(Framing::Eof);
            }
        }
        body.extend_from_slice(&buf[at..at + size]);
        if &buf[at + size..at + size + 2] != b"\r\n" {
            return Ok(Framing::Bad(400, "chunk not followed by CRLF"));
        }
        at += size + 2;
    }
    // Trailer fields, up to the empty line.
    let start = at;
    loop {
        let Some(p) = find(&buf[at..], b"\r\n") else {
            if buf.len() - start > MAX_TRAILERS {
                return Ok(Framing::Bad(400, "trailers too large"));
            }
            if !fill(stream, buf).await? {
                return Ok(Framing::Eof);
            }
            continue;
        };
        at += p + 2;
        if p == 0 {
            return Ok(Framing::Body(body, at));
        }
        if at - start > MAX_TRAILERS {
            return Ok(Framing::Bad(400, "trailers too large"));
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Peak resident memory of this process so far (`VmHWM`, bytes), where Linux reports it.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A `tracing` writer that keeps everything written to it, for asserting on logs.
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The descriptor of `action`@`version` (every area is compiled into the tests).
pub fn op(action: &str, version: &str) -> &'static yida_api::OperationMeta {
    yida_api::operation(action, version)
        .unwrap_or_else(|| panic!("no operation {action}@{version} in the spec"))
}

/// A dynamic call ([`yida_api::Client::call`]) by action and version, the reply's text parsed
/// as JSON for comparison (`None`: the operation's reply has no body).
pub async fn call(
    client: &yida_api::Client,
    action: &str,
    version: &str,
    input: serde_json::Value,
) -> Result<Option<serde_json::Value>, yida_api::Error> {
    let reply = client.call(op(action, version), input).await?;
    Ok(reply.map(|raw| serde_json::from_str(raw.get()).expect("the reply text is JSON")))
}
