//! Attachment downloads.
//!
//! Form data stores an attachment (or image) as a URL of Yida's own host that only opens for
//! a logged-in user. [`Client::download`] exchanges it through GetOpenUrl
//! (`/v1.0/yida/apps/temporaryUrls/{appType}`) for a temporary URL, streams the file to a
//! writer or a file chunk by chunk (memory stays bounded whatever the size), and asks
//! GetOpenUrl again when the temporary URL has expired before the download started.
//!
//! Upload is not in the open API: Yida's server API has no operation that stores a file. To
//! attach a file from code, host it where your users can reach it and write its URL into the
//! attachment value (`[{"downloadUrl": …, "name": …, "url": …}]`), or upload it in Yida's own
//! page.
//!
//! ```no_run
//! # async fn run(client: yida_api::Client) -> Result<(), yida_api::DownloadError> {
//! let stored = "/ossFileHandle?appType=APP_X&fileName=report.pdf&type=download";
//! let bytes = client
//!     .download(stored)
//!     .limit(100 << 20) // refuse files over 100 MiB
//!     .to_file("report.pdf")
//!     .await?;
//! println!("{bytes} bytes");
//! # Ok(()) }
//! ```

use crate::Client;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncWrite, AsyncWriteExt};

/// The largest file [`Download`] accepts unless told otherwise (1 GiB).
pub const DEFAULT_DOWNLOAD_LIMIT: u64 = 1 << 30;
/// How long a download may wait for the next bytes before it gives up.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// How many temporary URLs one download asks for before it gives up on expiry.
pub const DEFAULT_URL_ATTEMPTS: u32 = 3;
/// Most bytes of an error body read from the file host.
const ERROR_BODY_LIMIT: usize = 4096;

/// A download failed. Temporary URLs are credentials: no variant holds one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadError {
    /// The stored URL was refused before anything was sent.
    #[error("attachment URL {0}")]
    InvalidUrl(&'static str),
    /// GetOpenUrl failed (DingTalk's code, message, status and request id are inside).
    #[error("GetOpenUrl failed: {0}")]
    OpenUrl(#[source] Box<crate::Error>),
    /// GetOpenUrl answered without a URL, or with one that is not http(s).
    #[error("GetOpenUrl returned no usable temporary URL")]
    NoUrl,
    /// Every temporary URL asked for had expired before the download could start.
    #[error("the temporary URL had expired {attempts} times in a row (asked GetOpenUrl {attempts} times)")]
    Expired {
        /// Temporary URLs asked for.
        attempts: u32,
    },
    /// The file host refused the download.
    #[error("the file host answered HTTP {status}{}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Http {
        /// HTTP status.
        status: u16,
        /// The object store's error code (`AccessDenied`, `NoSuchKey`), when it sent one.
        code: Option<String>,
    },
    /// The file is larger than the limit ([`Download::limit`]); nothing past it was written
    /// (and [`Download::to_file`] removed what it had written).
    #[error("the file exceeds the {limit}-byte download limit")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// No bytes arrived for the idle timeout.
    #[error("no data for {0:?} after {1} bytes")]
    Stalled(Duration, u64),
    /// The connection failed or broke (after `written` bytes).
    #[error("download failed after {written} bytes")]
    Transport {
        /// Bytes written before it broke.
        written: u64,
        /// The cause (without the URL).
        #[source]
        source: reqwest::Error,
    },
    /// Writing the output failed.
    #[error("cannot write the download: {0}")]
    Io(#[from] std::io::Error),
}

/// A download being set up: [`Client::download`].
#[must_use = "a download does nothing until `to_writer` or `to_file` is awaited"]
pub struct Download<'c> {
    client: &'c Client,
    file_url: String,
    link_lifetime: Option<Duration>,
    limit: u64,
    attempts: u32,
    idle: Duration,
}

impl std::fmt::Debug for Download<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("limit", &self.limit)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Downloads an attachment by the URL its form value stores (`downloadUrl` or `url`):
    /// exchanged through GetOpenUrl (appType, systemToken and userId from the client's
    /// context), streamed with bounded memory, asked again when the temporary URL expired.
    pub fn download(&self, file_url: impl Into<String>) -> Download<'_> {
        Download {
            client: self,
            file_url: file_url.into(),
            link_lifetime: None,
            limit: DEFAULT_DOWNLOAD_LIMIT,
            attempts: DEFAULT_URL_ATTEMPTS,
            idle: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

impl<'c> Download<'c> {
    /// Lifetime asked for the temporary URL (GetOpenUrl's `timeout`; default: the service's,
    /// one minute; at most 24 hours).
    pub fn link_lifetime(mut self, d: Duration) -> Self {
        self.link_lifetime = Some(d);
        self
    }

    /// Refuses files larger than this many bytes (default [`DEFAULT_DOWNLOAD_LIMIT`]).
    pub fn limit(mut self, bytes: u64) -> Self {
        self.limit = bytes;
        self
    }

    /// Temporary URLs asked for before giving up on expiry (default
    /// [`DEFAULT_URL_ATTEMPTS`], at least 1).
    pub fn attempts(mut self, n: u32) -> Self {
        self.attempts = n.max(1);
        self
    }

    /// How long to wait for the next bytes (default [`DEFAULT_IDLE_TIMEOUT`]).
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle = d;
        self
    }

    /// Streams the file into `out`; returns the number of bytes written.
    pub async fn to_writer<W>(self, out: &mut W) -> Result<u64, DownloadError>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        if self.file_url.trim().is_empty() {
            return Err(DownloadError::InvalidUrl("is empty"));
        }
        if self.file_url.chars().any(char::is_control) {
            return Err(DownloadError::InvalidUrl("holds control characters"));
        }
        let lifetime_ms = match self.link_lifetime {
            Some(d) if d.is_zero() || d > Duration::from_secs(86_400) => {
                return Err(DownloadError::InvalidUrl(
                    "link lifetime must be between 1 ms and 24 hours",
                ))
            }
            Some(d) => Some(d.as_millis() as i64),
            None => None,
        };
        for _ in 0..self.attempts {
            let url = self.temporary_url(lifetime_ms).await?;
            match self.fetch(&url, out).await? {
                Fetched::Done(n) => return Ok(n),
                Fetched::Expired => continue,
            }
        }
        Err(DownloadError::Expired {
            attempts: self.attempts,
        })
    }

    /// Streams the file into `path` (written as `path` + `.part`, renamed when complete,
    /// removed on failure); returns the number of bytes written.
    pub async fn to_file(self, path: impl AsRef<Path>) -> Result<u64, DownloadError> {
        let path = path.as_ref();
        let mut part = path.as_os_str().to_owned();
        part.push(".part");
        let part = std::path::PathBuf::from(part);
        let mut file = tokio::fs::File::create(&part).await?;
        let result = async {
            let n = self.to_writer(&mut file).await?;
            file.sync_all().await?;
            Ok::<u64, DownloadError>(n)
        }
        .await;
        drop(file);
        match result {
            Ok(n) => {
                tokio::fs::rename(&part, path).await?;
                Ok(n)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&part).await;
                Err(e)
            }
        }
    }

    async fn temporary_url(&self, lifetime_ms: Option<i64>) -> Result<reqwest::Url, DownloadError> {
        let mut req = crate::attachments::GetOpenUrlRequest::new(self.file_url.clone());
        if let Some(ms) = lifetime_ms {
            req = req.timeout(ms);
        }
        let reply = self
            .client
            .send(req)
            .await
            .map_err(|e| DownloadError::OpenUrl(Box::new(e)))?;
        reply
            .result
            .as_deref()
            .and_then(|u| reqwest::Url::parse(u).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or(DownloadError::NoUrl)
    }

    async fn fetch<W>(&self, url: &reqwest::Url, out: &mut W) -> Result<Fetched, DownloadError>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let transport = |written: u64| {
            move |e: reqwest::Error| DownloadError::Transport {
                written,
                source: e.without_url(),
            }
        };
        // No access token goes to the file host: the temporary URL is the credential.
        let send = self.client.http().get(url.clone()).send();
        let mut resp = tokio::time::timeout(self.idle, send)
            .await
            .map_err(|_| DownloadError::Stalled(self.idle, 0))?
            .map_err(transport(0))?;
        let status = resp.status().as_u16();
        if status != 200 {
            let body = read_capped(&mut resp, self.idle).await;
            let code = xml_tag(&body, "Code");
            let expired = status == 403
                && (body.to_ascii_lowercase().contains("expired") || url_expired(url));
            if expired {
                return Ok(Fetched::Expired);
            }
            return Err(DownloadError::Http { status, code });
        }
        if resp.content_length().is_some_and(|n| n > self.limit) {
            return Err(DownloadError::TooLarge { limit: self.limit });
        }
        let mut written = 0u64;
        loop {
            let chunk = tokio::time::timeout(self.idle, resp.chunk())
                .await
                .map_err(|_| DownloadError::Stalled(self.idle, written))?
                .map_err(transport(written))?;
            let Some(chunk) = chunk else { break };
            if written + chunk.len() as u64 > self.limit {
                return Err(DownloadError::TooLarge { limit: self.limit });
            }
            out.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        out.flush().await?;
        Ok(Fetched::Done(written))
    }
}

enum Fetched {
    Done(u64),
    Expired,
}

/// At most [`ERROR_BODY_LIMIT`] bytes of an error reply, as text.
async fn read_capped(resp: &mut reqwest::Response, idle: Duration) -> String {
    let mut buf = Vec::new();
    while buf.len() < ERROR_BODY_LIMIT {
        match tokio::time::timeout(idle, resp.chunk()).await {
            Ok(Ok(Some(c))) => {
                buf.extend_from_slice(&c[..c.len().min(ERROR_BODY_LIMIT - buf.len())])
            }
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// The text of `<tag>…</tag>` in an object store's XML error (letters and digits only).
fn xml_tag(body: &str, tag: &str) -> Option<String> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let len = body[start..].find('<')?;
    let text = &body[start..start + len];
    (!text.is_empty() && text.len() <= 64 && text.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| text.to_string())
}

/// Whether a temporary URL's `Expires` (epoch seconds or milliseconds) has passed.
fn url_expired(url: &reqwest::Url) -> bool {
    let Some(exp) = url
        .query_pairs()
        .find(|(k, _)| k == "Expires")
        .and_then(|(_, v)| v.parse::<i64>().ok())
    else {
        return false;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let exp_ms = if exp < 100_000_000_000 {
        exp * 1000
    } else {
        exp
    };
    exp_ms <= now
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_store_errors_and_expiry() {
        let body = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>Request has expired.</Message></Error>";
        assert_eq!(xml_tag(body, "Code").as_deref(), Some("AccessDenied"));
        assert_eq!(xml_tag("<Code>\u{1b}[31m</Code>", "Code"), None);
        let past = reqwest::Url::parse("https://x.invalid/f?Expires=1000&Signature=a").unwrap();
        assert!(url_expired(&past));
        let future =
            reqwest::Url::parse("https://x.invalid/f?Expires=99999999999999&Signature=a").unwrap();
        assert!(!url_expired(&future));
        assert!(!url_expired(
            &reqwest::Url::parse("https://x.invalid/f").unwrap()
        ));
    }
}
