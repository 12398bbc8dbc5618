//! The HTTP exchange with DingTalk, shared by `yida-auth` (token endpoints), `yida-api` (every
//! operation) and `yida-events` (the Stream gateway's open call): [`exchange`] sends a request,
//! reads its reply with a size cap ([`read_body`]) and classifies a non-2xx reply
//! ([`Refusal`]: DingTalk's code, message, request id, the gateway's ban, throttling and the
//! pause asked for). The callers keep only what is theirs: the headers they add, their retry
//! policy, the decoding of a 2xx body, and their error type.
//!
//! Also here: the one parser of query strings ([`query_pairs`]) and the helpers that keep
//! server text and URLs safe to print ([`printable`], [`redact_url`]).

use bytes::{Bytes, BytesMut};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// Default cap on a reply body read by `yida-api` (32 MiB: far above the largest real reply,
/// small enough that a runaway server cannot exhaust memory).
pub const DEFAULT_BODY_LIMIT: usize = 32 << 20;

/// Default cap on a token endpoint's reply (1 MiB; a real one is under 1 KiB).
pub const DEFAULT_TOKEN_BODY_LIMIT: usize = 1 << 20;

/// The header DingTalk's gateway puts the request id in.
pub const REQUEST_ID_HEADER: &str = "x-acs-request-id";

/// The code given to the gateway's IP ban reply, which has none of its own.
pub const GATEWAY_BAN_CODE: &str = "Gateway.Throttled";

/// The message given to the gateway's IP ban reply.
const GATEWAY_BAN_MESSAGE: &str = "too many requests from this IP; the gateway asks to wait";

/// Most characters kept of a non-DingTalk error body ([`Refusal::body_excerpt`]).
const EXCERPT_CHARS: usize = 200;

/// A 2xx reply, read whole within the size cap.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status (2xx).
    pub status: u16,
    /// The request id header ([`REQUEST_ID_HEADER`]), if any.
    pub request_id: Option<String>,
    /// The body.
    pub body: Bytes,
}

/// Why an [`exchange`] did not end with a 2xx reply read whole.
#[derive(Debug)]
pub enum ExchangeError {
    /// Connecting failed or timed out, or the connection broke or timed out before the whole
    /// reply was read (whether the server got the request is unknown unless
    /// `is_connect()`). The error carries no URL.
    Transport(reqwest::Error),
    /// A 3xx reply: never followed (the credentials must not reach another host).
    Redirect {
        /// HTTP status.
        status: u16,
        /// The `Location` header through [`redact_url`].
        location: Option<String>,
    },
    /// The reply is longer than the cap; reading stopped there. The request was answered.
    TooLarge {
        /// HTTP status.
        status: u16,
        /// The request id header, if any.
        request_id: Option<String>,
        /// The cap, in bytes.
        limit: usize,
    },
    /// A non-2xx reply (other than a redirect), classified.
    Refused(Refusal),
}

impl fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExchangeError::Transport(e) => write!(f, "{e}"),
            ExchangeError::Redirect { status, .. } => {
                write!(f, "HTTP {status} redirect not followed")
            }
            ExchangeError::TooLarge { status, limit, .. } => write!(
                f,
                "the HTTP {status} reply exceeds the {limit}-byte body limit; reading stopped"
            ),
            ExchangeError::Refused(r) => write!(f, "{r}"),
        }
    }
}

impl std::error::Error for ExchangeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ExchangeError::Transport(e) => Some(e),
            _ => None,
        }
    }
}

/// A non-2xx reply: what DingTalk (or whatever answered) said, as facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// DingTalk's error code, raw as received; [`GATEWAY_BAN_CODE`] for the gateway's ban.
    pub code: Option<String>,
    /// DingTalk's error message, raw as received (see [`printable`] before showing it).
    pub message: Option<String>,
    /// The body's `requestid`, else the request id header.
    pub request_id: Option<String>,
    /// The pause asked for: the gateway ban's `wait`, else a `Retry-After` header.
    pub retry_after: Option<Duration>,
    /// The start of a body that is not DingTalk's error JSON (a proxy's HTML page, plain
    /// text), made printable; `None` for DingTalk's JSON and the gateway's ban.
    pub body_excerpt: Option<String>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(c) = &self.code {
            write!(f, ", code {}", printable(c, 200))?;
        }
        if let Some(m) = &self.message {
            write!(f, ": {}", printable(m, 500))?;
        }
        if let Some(r) = &self.request_id {
            write!(f, " (request id {})", printable(r, 200))?;
        }
        if let Some(b) = &self.body_excerpt {
            write!(f, "; body: {}", printable(b, EXCERPT_CHARS))?;
        }
        Ok(())
    }
}

impl Refusal {
    /// The gateway's IP ban (its documented `{"status":1111,"wait":N}` reply or its ban page).
    pub fn is_gateway_ban(&self) -> bool {
        self.code.as_deref() == Some(GATEWAY_BAN_CODE)
    }

    /// DingTalk is throttling, so the request was not applied: see [`is_throttled`].
    pub fn is_throttled(&self) -> bool {
        is_throttled(
            self.status,
            self.code.as_deref(),
            self.body_excerpt.is_none(),
        )
    }
}

/// The one rule for "DingTalk throttled this request, so it was not applied" (safe to repeat
/// after a pause, even a write): one of DingTalk's throttling codes ([`is_throttling_code`]),
/// an HTTP 429 carrying DingTalk's error JSON (`code` set and `dingtalk_body`), or the
/// gateway's ban ([`GATEWAY_BAN_CODE`]). A `Retry-After` header, or a 429 page from some other
/// proxy, does not count.
pub fn is_throttled(status: u16, code: Option<&str>, dingtalk_body: bool) -> bool {
    code.is_some_and(|c| is_throttling_code(c) || c == GATEWAY_BAN_CODE)
        || (status == 429 && code.is_some() && dingtalk_body)
}

/// One HTTP exchange: sends `request` (built by the caller with its headers, body and
/// timeout), refuses to follow a redirect, reads the reply within `body_limit` bytes
/// ([`read_body`]), and classifies a non-2xx reply into a [`Refusal`]. Nothing is retried
/// here: whether a failure may be repeated is the caller's decision.
///
/// ```no_run
/// # async fn run() -> Result<(), yida_auth::wire::ExchangeError> {
/// use yida_auth::wire::{exchange, ExchangeError, DEFAULT_TOKEN_BODY_LIMIT};
/// let http = reqwest::Client::new();
/// let request = http.post("http://127.0.0.1:8080/v1.0/oauth2/accessToken").body("{}");
/// match exchange(request, DEFAULT_TOKEN_BODY_LIMIT).await {
///     Ok(reply) => println!("{} bytes", reply.body.len()),
///     Err(ExchangeError::Refused(r)) if r.is_throttled() => println!("throttled"),
///     Err(e) => return Err(e),
/// }
/// # Ok(()) }
/// ```
pub async fn exchange(
    request: reqwest::RequestBuilder,
    body_limit: usize,
) -> Result<Reply, ExchangeError> {
    let resp = request
        .send()
        .await
        .map_err(|e| ExchangeError::Transport(e.without_url()))?;
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let request_id = header(REQUEST_ID_HEADER);
    if (300..400).contains(&status) {
        return Err(ExchangeError::Redirect {
            status,
            location: header("location").map(|l| redact_url(&l)),
        });
    }
    let retry_after = retry_after_header(resp.headers());
    let body = match read_body(resp, body_limit).await {
        Ok(b) => b,
        Err(ReadError::TooLarge { limit }) => {
            return Err(ExchangeError::TooLarge {
                status,
                request_id,
                limit,
            })
        }
        Err(ReadError::Transport(e)) => return Err(ExchangeError::Transport(e)),
    };
    if (200..300).contains(&status) {
        return Ok(Reply {
            status,
            request_id,
            body,
        });
    }
    Err(ExchangeError::Refused(refusal(
        status,
        request_id,
        retry_after,
        &body,
    )))
}

/// Classifies a non-2xx reply: DingTalk's error JSON, the gateway's ban, or anything else
/// (kept as a printable excerpt).
fn refusal(
    status: u16,
    header_request_id: Option<String>,
    header_retry_after: Option<Duration>,
    body: &[u8],
) -> Refusal {
    let mut r = Refusal {
        status,
        code: None,
        message: None,
        request_id: header_request_id,
        retry_after: header_retry_after,
        body_excerpt: None,
    };
    match parse_error_body(body) {
        ErrorReply::DingTalk {
            code,
            message,
            request_id,
        } => {
            r.code = code;
            r.message = message;
            if request_id.is_some() {
                r.request_id = request_id;
            }
        }
        ErrorReply::GatewayBan { wait } => {
            r.code = Some(GATEWAY_BAN_CODE.into());
            r.message = Some(GATEWAY_BAN_MESSAGE.into());
            if wait.is_some() {
                r.retry_after = wait;
            }
        }
        ErrorReply::Other => {
            let text = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_CHARS)]);
            r.body_excerpt = Some(
                printable(&text, EXCERPT_CHARS)
                    .to_string()
                    .trim()
                    .to_string(),
            );
        }
    }
    r
}

/// What went wrong with a connection, for a message: the kind (`timed out`, `connection
/// failed`, `request failed`) and the chain of causes, without the URL (an endpoint may carry
/// user info, a query may carry secrets).
pub fn transport_message(e: reqwest::Error) -> String {
    let e = e.without_url();
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut msg = kind.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.ends_with(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

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

/// Longest query string [`query_pairs`] reads (64 KiB: the longest URI the HTTP/1 server of
/// `hyper` accepts; a real DingTalk push or API query is under 1 KiB).
pub const MAX_QUERY_LEN: usize = 64 << 10;

/// A query string longer than [`MAX_QUERY_LEN`]; nothing of it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryTooLong {
    /// Its length in bytes.
    pub len: usize,
    /// The limit in bytes.
    pub limit: usize,
}

impl fmt::Display for QueryTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the query string is {} bytes, over the {}-byte limit",
            self.len, self.limit
        )
    }
}

impl std::error::Error for QueryTooLong {}

/// The one parser of query strings (`a=1&b=x+y`, with or without a leading `?`): the
/// `application/x-www-form-urlencoded` rule of the WHATWG URL standard, which is also what
/// Java's `URLDecoder` on DingTalk's side and every web framework's query extractor apply.
///
/// - `+` is a space; `%2B` is a `+`; `%20` is a space.
/// - An invalid percent sequence (`%zz`, a `%` at the end) is kept as written; bytes that are
///   not UTF-8 become U+FFFD.
/// - Empty pieces (`a=1&&b=2`) are skipped; a name without `=` has an empty value.
/// - A repeated name yields every value, in order: which one counts is the caller's rule.
/// - A query longer than [`MAX_QUERY_LEN`] is refused whole ([`QueryTooLong`]).
///
/// DingTalk's pushes sign `signature`/`msg_signature` (hex SHA-1), `timestamp` (digits) and
/// `nonce` (letters and digits), none of which holds a `+`; where DingTalk puts base64 in a
/// query (the legacy `signature` of its third-party calls) it escapes it with `URLEncoder`, so
/// a base64 `+` arrives as `%2B` and a raw `+` only ever means a space. (A path segment is not
/// a query string: there `+` is a plus, and plain percent-decoding applies.)
///
/// ```
/// use yida_auth::wire::query_pairs;
/// let pairs: Vec<(String, String)> = query_pairs("?a=x+y%2Bz&b&a=%zz")
///     .unwrap()
///     .map(|(k, v)| (k.into_owned(), v.into_owned()))
///     .collect();
/// assert_eq!(pairs, [("a".into(), "x y+z".into()), ("b".into(), "".into()), ("a".into(), "%zz".into())]);
/// ```
pub fn query_pairs(
    query: &str,
) -> Result<impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> + '_, QueryTooLong> {
    let query = query.strip_prefix('?').unwrap_or(query);
    if query.len() > MAX_QUERY_LEN {
        return Err(QueryTooLong {
            len: query.len(),
            limit: MAX_QUERY_LEN,
        });
    }
    Ok(form_urlencoded::parse(query.as_bytes()))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(q: &str) -> Vec<(String, String)> {
        query_pairs(q)
            .unwrap()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn plus_is_a_space_and_percent_2b_a_plus() {
        assert_eq!(pairs("a=x+y"), [p("a", "x y")]);
        assert_eq!(pairs("a=x%2By"), [p("a", "x+y")]);
        assert_eq!(pairs("a=x%2by"), [p("a", "x+y")]);
        assert_eq!(pairs("a=x%20y"), [p("a", "x y")]);
        assert_eq!(pairs("a+b=1"), [p("a b", "1")]);
        assert_eq!(pairs("?a=1"), [p("a", "1")]);
        assert_eq!(pairs("a=%E5%AE%9C%E6%90%AD"), [p("a", "宜搭")]);
    }

    #[test]
    fn invalid_percent_sequences_are_kept_and_bad_utf8_replaced() {
        assert_eq!(pairs("a=%zz"), [p("a", "%zz")]);
        assert_eq!(pairs("a=%"), [p("a", "%")]);
        assert_eq!(pairs("a=%4"), [p("a", "%4")]);
        assert_eq!(pairs("a=%41"), [p("a", "A")]);
        assert_eq!(pairs("a=%a\u{e9}"), [p("a", "%a\u{e9}")]);
        assert_eq!(pairs("a=%FF"), [p("a", "\u{fffd}")]);
    }

    #[test]
    fn repeated_names_empty_values_and_empty_pieces() {
        assert_eq!(pairs("a=1&a=2&a"), [p("a", "1"), p("a", "2"), p("a", "")]);
        assert_eq!(pairs("a=&b="), [p("a", ""), p("b", "")]);
        assert_eq!(pairs("&&a=1&&"), [p("a", "1")]);
        assert_eq!(pairs("=x"), [p("", "x")]);
        assert_eq!(pairs("a=b=c"), [p("a", "b=c")]);
        assert!(pairs("").is_empty());
    }

    #[test]
    fn the_length_is_bounded() {
        let at_limit = format!("a={}", "x".repeat(MAX_QUERY_LEN - 2));
        assert_eq!(pairs(&at_limit)[0].1.len(), MAX_QUERY_LEN - 2);
        let over = format!("{at_limit}x");
        let err = query_pairs(&over).err().unwrap();
        assert_eq!(
            err,
            QueryTooLong {
                len: MAX_QUERY_LEN + 1,
                limit: MAX_QUERY_LEN
            }
        );
        assert!(err.to_string().contains("65537 bytes"), "{err}");
    }

    #[test]
    fn dingtalk_signed_parameters_survive_a_round_trip() {
        // The legacy third-party signature (auth/1429) is base64 escaped like Java's
        // URLEncoder: its `+` arrives as %2B and decodes back to `+`.
        let ticket = crate::Secret::new("TestSuiteTicket");
        let secret = crate::Secret::new("secret");
        let query = crate::legacy_signature_query("1527130370219", "suitekey", &ticket, &secret);
        let sig = pairs(&query)
            .into_iter()
            .find(|(k, _)| k == "signature")
            .unwrap()
            .1;
        let raw = percent_encoding::percent_decode_str(&crate::legacy_signature(
            "1527130370219",
            &ticket,
            &secret,
        ))
        .decode_utf8()
        .unwrap()
        .into_owned();
        assert_eq!(sig, raw);
        use base64::Engine;
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(&sig)
                .unwrap()
                .len(),
            32
        );
        // A push's query (hex signature, digits, letters) as DingTalk sends it.
        assert_eq!(
            pairs("signature=5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0&timestamp=1445827045067&nonce=nEXhMP4r"),
            [
                p("signature", "5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0"),
                p("timestamp", "1445827045067"),
                p("nonce", "nEXhMP4r")
            ]
        );
    }
}
