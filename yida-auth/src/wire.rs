//! Reading DingTalk replies, shared by `yida-auth` (token endpoints) and `yida-api` (every
//! operation): one body reader with a size cap, one parser for DingTalk's error body and the
//! gateway's ban reply, and the helpers that keep server text and URLs safe to print.

use bytes::{Bytes, BytesMut};
use serde::Deserialize;
use std::fmt;
use std::time::Duration;

/// Default cap on a reply body read by `yida-api` (32 MiB: far above the largest real reply,
/// small enough that a runaway server cannot exhaust memory).
pub const DEFAULT_BODY_LIMIT: usize = 32 << 20;

/// Default cap on a token endpoint's reply (1 MiB; a real one is under 1 KiB).
pub const DEFAULT_TOKEN_BODY_LIMIT: usize = 1 << 20;

/// Why a body could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// The body is longer than `limit` bytes (by its `Content-Length`, or once that many bytes
    /// arrived); reading stopped there.
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The connection failed while reading (the error carries no URL).
    Transport(reqwest::Error),
}

/// Reads a whole reply body, failing as soon as it exceeds `limit` bytes. Memory held is at
/// most `limit` plus one network chunk, whatever the server sends (an endless chunked body
/// included); a body announced longer than `limit` is refused before reading any of it.
pub async fn read_body(mut resp: reqwest::Response, limit: usize) -> Result<Bytes, ReadError> {
    if resp.content_length().is_some_and(|n| n > limit as u64) {
        return Err(ReadError::TooLarge { limit });
    }
    // The common case is a body in one chunk: keep it without copying.
    let mut first: Option<Bytes> = None;
    let mut buf: Option<BytesMut> = None;
    let mut len = 0usize;
    loop {
        let chunk = resp
            .chunk()
            .await
            .map_err(|e| ReadError::Transport(e.without_url()))?;
        let Some(chunk) = chunk else { break };
        len = len.saturating_add(chunk.len());
        if len > limit {
            return Err(ReadError::TooLarge { limit });
        }
        match (&mut first, &mut buf) {
            (None, None) => first = Some(chunk),
            (Some(f), None) => {
                let mut b = BytesMut::with_capacity((f.len() + chunk.len()) * 2);
                b.extend_from_slice(f);
                b.extend_from_slice(&chunk);
                first = None;
                buf = Some(b);
            }
            (_, Some(b)) => b.extend_from_slice(&chunk),
        }
    }
    Ok(match (first, buf) {
        (_, Some(b)) => b.freeze(),
        (Some(f), None) => f,
        (None, None) => Bytes::new(),
    })
}

/// What a non-2xx body says.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorReply {
    /// DingTalk's error JSON: `{"code": …, "message": …, "requestid": …}`.
    DingTalk {
        /// Error code.
        code: Option<String>,
        /// Error message (raw: see [`printable`] before showing it).
        message: Option<String>,
        /// Request id from the body.
        request_id: Option<String>,
    },
    /// The gateway's IP ban: the documented `{"status":1111,"wait":N,…}` reply, or an HTML
    /// page that carries the same ban's markers (`punish` and `x5`). `wait` is the pause it
    /// names, if any.
    GatewayBan {
        /// The pause asked for.
        wait: Option<Duration>,
    },
    /// Anything else (a proxy's HTML page, plain text, empty): an ordinary error of its status.
    Other,
}

/// Parses a non-2xx body. Only the gateway's own ban replies are taken for a ban; an HTML
/// page from any other proxy (403, 429, 503 …) is [`ErrorReply::Other`].
pub fn parse_error_body(body: &[u8]) -> ErrorReply {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        code: Option<serde_json::Value>,
        #[serde(default)]
        message: Option<serde_json::Value>,
        #[serde(default)]
        requestid: Option<serde_json::Value>,
        #[serde(default, rename = "requestId")]
        request_id: Option<serde_json::Value>,
        #[serde(default)]
        status: Option<serde_json::Value>,
        #[serde(default)]
        wait: Option<serde_json::Value>,
    }
    fn text(v: Option<serde_json::Value>) -> Option<String> {
        match v? {
            serde_json::Value::String(s) => Some(s),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    if let Ok(b) = serde_json::from_slice::<Body>(body) {
        if b.code.is_some() || b.message.is_some() {
            return ErrorReply::DingTalk {
                code: text(b.code),
                message: text(b.message),
                request_id: text(b.requestid).or_else(|| text(b.request_id)),
            };
        }
        let status = b.status.as_ref().and_then(|s| match s {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        });
        if status == Some(1111) {
            let wait = b
                .wait
                .and_then(|w| match w {
                    serde_json::Value::Number(n) => n.as_f64(),
                    serde_json::Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                })
                .filter(|w| w.is_finite())
                .map(|w| Duration::from_secs_f64(w.clamp(0.0, 3600.0)));
            return ErrorReply::GatewayBan { wait };
        }
        return ErrorReply::Other;
    }
    if is_gateway_ban_page(body) {
        return ErrorReply::GatewayBan { wait: None };
    }
    ErrorReply::Other
}

/// An HTML page is the gateway's ban page only when it carries the ban's own markers (the
/// `punish` action and the `x5` source of the documented JSON form); a generic "503 Service
/// Unavailable" or "Too many requests" page from a proxy is not.
fn is_gateway_ban_page(body: &[u8]) -> bool {
    let head = &body[..body.len().min(64 * 1024)];
    let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
    lower.contains("<html") && lower.contains("punish") && lower.contains("x5")
}

/// DingTalk's throttling codes (`…QpsLimitForAppkeyAndApi`, `…QpsLimitForApi`, and the
/// `system.busy`/`systemBusy` codes it sends with HTTP 429): the request was not applied.
pub fn is_throttling_code(code: &str) -> bool {
    code.ends_with("QpsLimitForAppkeyAndApi")
        || code.ends_with("QpsLimitForApi")
        || code == "system.busy"
        || code == "systemBusy"
}

/// A `Retry-After` header in seconds (the HTTP-date form is ignored).
pub fn retry_after_header(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let secs: u64 = v.trim().parse().ok()?;
    Some(Duration::from_secs(secs.min(3600)))
}

/// The one rule for characters foreign text must not bring onto a terminal or into a log line:
/// control characters (escape sequences, CR, LF, BEL, …), zero-width characters and marks, and
/// bidirectional overrides and isolates. [`printable`] drops them; the CLI shows them escaped.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Server text made safe to print: the characters of [`is_unsafe_char`] are dropped, and at
/// most `max_chars` characters are shown, then `…(N more bytes)`.
///
/// ```
/// use yida_auth::wire::printable;
/// assert_eq!(printable("a\u{1b}[31mb\r\nc", 100).to_string(), "a[31mbc");
/// assert_eq!(printable("abcdef", 3).to_string(), "abc…(3 more bytes)");
/// ```
pub fn printable(text: &str, max_chars: usize) -> Printable<'_> {
    Printable { text, max_chars }
}

/// See [`printable`].
#[derive(Clone, Copy)]
pub struct Printable<'a> {
    text: &'a str,
    max_chars: usize,
}

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for (shown, (i, c)) in self.text.char_indices().enumerate() {
            if shown == self.max_chars {
                return write!(f, "…({} more bytes)", self.text.len() - i);
            }
            if is_unsafe_char(c) {
                continue;
            }
            f.write_char(c)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.to_string())
    }
}

/// A URL without its query and fragment, and with any user info shown as `***` (all may hold
/// credentials), for errors and logs. Text that is not a URL is reduced to what precedes any
/// `?` or `#`.
///
/// ```
/// use yida_auth::wire::redact_url;
/// assert_eq!(redact_url("https://u:p@h.example/a/b?systemToken=x#f"), "https://***@h.example/a/b");
/// assert_eq!(redact_url("https://h.example/a?x=1"), "https://h.example/a");
/// assert_eq!(redact_url("/login?ticket=x"), "/login");
/// ```
pub fn redact_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            if !u.username().is_empty() || u.password().is_some() {
                let _ = u.set_password(None);
                let _ = u.set_username("***");
            }
            u.set_query(None);
            u.set_fragment(None);
            u.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_string(),
    }
}
