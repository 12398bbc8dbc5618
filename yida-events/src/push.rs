//! Sending an HTTP push the way DingTalk does: for test pushes (`yida events push`) and the
//! emulator's ISV events. The receiving side is [`HttpEndpoint`](crate::HttpEndpoint).

use crate::crypto::{CallbackCrypto, CallbackError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The longest reply read from a receiver.
const MAX_REPLY: usize = 64 * 1024;

/// What the receiver answered to one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushOutcome {
    /// HTTP status.
    pub status: u16,
    /// The reply was the encrypted, correctly signed `success` DingTalk expects (otherwise
    /// DingTalk would push again).
    pub acknowledged: bool,
    /// Why it is not acknowledged (empty when it is); holds no secret.
    pub detail: String,
}

/// A push that could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The URL is not an http(s) URL.
    #[error("--to: {0}")]
    Url(String),
    /// Sealing the message failed.
    #[error(transparent)]
    Crypto(#[from] CallbackError),
    /// No reply (connection refused, timeout, …).
    #[error("push failed: {0}")]
    Transport(String),
}

/// A sealed push: the query pairs (`msg_signature`, `timestamp`, `nonce`) and the JSON body
/// `{"encrypt":…}`.
pub type SealedPush = (Vec<(&'static str, String)>, String);

/// Seals `message` for `crypto`'s app as DingTalk does.
pub fn seal_push(
    crypto: &CallbackCrypto,
    message: &serde_json::Value,
) -> Result<SealedPush, CallbackError> {
    let encrypt = crypto.encrypt(message.to_string().as_bytes())?;
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
        .to_string();
    let mut n = [0u8; 8];
    getrandom::fill(&mut n).map_err(|_| CallbackError::Random)?;
    let nonce: String = n.iter().map(|b| format!("{b:02x}")).collect();
    let signature = crypto.signature(&timestamp, &nonce, &encrypt);
    let body = serde_json::json!({ "encrypt": encrypt }).to_string();
    Ok((
        vec![
            ("msg_signature", signature),
            ("timestamp", timestamp),
            ("nonce", nonce),
        ],
        body,
    ))
}

/// POSTs `message`, sealed for `crypto`'s app, to `url` and checks the reply (bounded: the
/// whole exchange within `timeout`, the reply read up to 64 KiB, no redirects followed).
pub async fn push(
    http: &reqwest::Client,
    url: &str,
    crypto: &CallbackCrypto,
    message: &serde_json::Value,
    timeout: Duration,
) -> Result<PushOutcome, PushError> {
    let mut target =
        reqwest::Url::parse(url).map_err(|e| PushError::Url(format!("not a URL ({e})")))?;
    if !matches!(target.scheme(), "http" | "https") {
        return Err(PushError::Url("must be http:// or https://".into()));
    }
    let (query, body) = seal_push(crypto, message)?;
    target.query_pairs_mut().extend_pairs(query);
    let exchange = async {
        let resp = http
            .post(target)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| PushError::Transport(e.without_url().to_string()))?;
        let status = resp.status().as_u16();
        let reply = yida_auth::wire::read_body(resp, MAX_REPLY)
            .await
            .map_err(|e| match e {
                yida_auth::wire::ReadError::TooLarge { limit } => {
                    PushError::Transport(format!("reply over {limit} bytes"))
                }
                yida_auth::wire::ReadError::Transport(e) => {
                    PushError::Transport(e.without_url().to_string())
                }
            })?;
        Ok::<_, PushError>((status, reply))
    };
    let (status, reply) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| PushError::Transport(format!("no reply within {timeout:?}")))??;
    let detail = check_reply(crypto, status, &reply)
        .err()
        .unwrap_or_default();
    Ok(PushOutcome {
        status,
        acknowledged: detail.is_empty(),
        detail,
    })
}

/// `Ok` when `reply` is the signed, encrypted `success`; else why not.
fn check_reply(crypto: &CallbackCrypto, status: u16, reply: &[u8]) -> Result<(), String> {
    if status != 200 {
        let text = String::from_utf8_lossy(&reply[..reply.len().min(200)]).into_owned();
        return Err(format!(
            "HTTP {status}: {}",
            yida_auth::wire::printable(&text, 200)
        ));
    }
    #[derive(serde::Deserialize)]
    struct Reply {
        msg_signature: String,
        #[serde(rename = "timeStamp")]
        time_stamp: String,
        nonce: String,
        encrypt: String,
    }
    let r: Reply = serde_json::from_slice(reply)
        .map_err(|_| "the reply is not {msg_signature, timeStamp, nonce, encrypt}".to_string())?;
    let expected = crypto.signature(&r.time_stamp, &r.nonce, &r.encrypt);
    if expected != r.msg_signature {
        return Err("the reply's signature does not match".into());
    }
    let text = crypto
        .decrypt(&r.encrypt)
        .map_err(|e| format!("the reply does not decrypt: {e}"))?;
    if text != b"success" {
        return Err("the reply is not `success`".into());
    }
    Ok(())
}
