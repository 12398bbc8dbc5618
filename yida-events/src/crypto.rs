//! HTTP push crypto: signature, AES-256-CBC (PKCS#7 padding of 1–32 bytes), owner key, reply.

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use serde::Serialize;
use sha1::{Digest, Sha1};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;
use yida_auth::Secret;

type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;
type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;

/// Largest request body [`CallbackCrypto::open`] accepts, in bytes (256 KiB). DingTalk's
/// pushes are a few KiB; anything larger is refused before it is parsed.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// Largest `encrypt` value accepted, in base64 characters (128 Ki, about 96 KiB of
/// ciphertext); the decode buffer is never larger.
pub const MAX_ENCRYPT_CHARS: usize = 128 * 1024;

/// Default window a push's `timestamp` must fall in, either side of now (10 minutes).
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(600);

/// AES block padding of DingTalk's scheme: PKCS#7 to 32-byte blocks (not AES's 16) when
/// encrypting; when decrypting, any padding of 1 to 32 bytes over whole AES blocks is
/// accepted, as DingTalk's own decryptors do (AES/CBC/NoPadding, then
/// `PKCS7Padding.removePaddingBytes`).
const PAD_BLOCK: usize = 32;

/// AES block size: a ciphertext is a whole number of these.
const AES_BLOCK: usize = 16;

/// `EncodingAESKey` decoding: the 43 characters plus `=` are base64 whose last symbol may
/// carry non-zero spare bits (DingTalk's own example key does).
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Why a push was refused. No variant carries a secret or the decrypted message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// A configuration value is unusable (named; its value is not shown).
    #[error("invalid `{name}`: {reason}")]
    Config {
        /// The parameter (`token`, `encodingAesKey`, `ownerKey`).
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A query parameter is missing or empty.
    #[error("missing query parameter `{name}`")]
    MissingParam {
        /// `signature`, `timestamp` or `nonce`.
        name: &'static str,
    },
    /// The body is larger than [`MAX_BODY_BYTES`], or `encrypt` larger than
    /// [`MAX_ENCRYPT_CHARS`].
    #[error("{what} is {len} bytes, over the limit of {limit}")]
    TooLarge {
        /// `body` or `encrypt`.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// The body is not `{"encrypt": "<base64>"}`.
    #[error("body is not {{\"encrypt\": \"…\"}}: {reason}")]
    BadBody {
        /// What is wrong.
        reason: String,
    },
    /// The signature does not match token, timestamp, nonce and ciphertext.
    #[error("signature mismatch")]
    BadSignature,
    /// `timestamp` is not a number.
    #[error("timestamp is not a number")]
    BadTimestamp,
    /// `timestamp` is outside the accepted window.
    #[error("timestamp is {skew_secs} s away from now, outside the {window_secs} s window")]
    Stale {
        /// Distance from now, in seconds.
        skew_secs: u64,
        /// The window, in seconds.
        window_secs: u64,
    },
    /// The same signed push was already handled within the window.
    #[error("replayed push (same signature seen before)")]
    Replayed,
    /// The replay store could not say whether the push is a replay (full, or a shared store
    /// down): the push is not handled, and answered 503 so DingTalk sends it again.
    #[error("{0}")]
    ReplayUnavailable(#[from] crate::replay::ReplayError),
    /// The handler given to [`HttpEndpoint`](crate::HttpEndpoint) failed (the event could
    /// not be printed, stored or processed): no `success`, so DingTalk sends it again.
    #[error("event not handled: {message}")]
    NotHandled {
        /// What went wrong (shortened and made printable).
        message: String,
    },
    /// `encrypt` is not base64, or not a whole number of 16-byte AES blocks.
    #[error("ciphertext malformed: {reason}")]
    BadCiphertext {
        /// What is wrong.
        reason: &'static str,
    },
    /// The decrypted padding is not PKCS#7 of 1 to 32 bytes.
    #[error("bad padding")]
    BadPadding,
    /// The 4-byte length field does not fit the decrypted data.
    #[error("bad length field: says {declared} bytes, {available} available")]
    BadLength {
        /// What the field says.
        declared: u64,
        /// What is there.
        available: usize,
    },
    /// The message was encrypted for another app (owner key differs).
    #[error("owner key mismatch: the push is for another app")]
    WrongOwner,
    /// The message is not a UTF-8 JSON object.
    #[error("decrypted message is not a JSON object: {reason}")]
    BadMessage {
        /// What is wrong.
        reason: String,
    },
    /// The suite ticket store refused the pushed ticket (the push is not acknowledged, so
    /// DingTalk sends it again).
    #[error("suite ticket store failed: {message}")]
    Store {
        /// What went wrong.
        message: String,
    },
    /// No randomness available for the reply.
    #[error("no randomness available")]
    Random,
}

impl CallbackError {
    /// The HTTP status to answer with: 403 for a push that fails authentication (signature,
    /// owner key, stale or replayed), 503 when the replay store cannot answer, 500 when the
    /// ticket store or the handler failed, 400 otherwise. Every 5xx makes DingTalk resend.
    pub fn http_status(&self) -> u16 {
        match self {
            CallbackError::BadSignature
            | CallbackError::WrongOwner
            | CallbackError::Stale { .. }
            | CallbackError::Replayed => 403,
            CallbackError::ReplayUnavailable(_) => 503,
            CallbackError::Store { .. }
            | CallbackError::NotHandled { .. }
            | CallbackError::Random
            | CallbackError::Config { .. } => 500,
            _ => 400,
        }
    }
}

/// The three signed query parameters of a push.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallbackParams {
    /// `signature` or `msg_signature`.
    pub signature: String,
    /// `timestamp` or `timeStamp`.
    pub timestamp: String,
    /// `nonce`.
    pub nonce: String,
}

impl CallbackParams {
    /// From a raw (URL-encoded) query string such as `signature=…&timestamp=…&nonce=…`.
    /// Accepts both spellings DingTalk uses. Missing parameters are left empty and refused
    /// by [`CallbackCrypto::open`].
    ///
    /// Decoded by [`yida_auth::wire::query_pairs`] (a `+` is a space, `%2B` a plus; the
    /// signed values, hex and digits, hold neither); a query over its length limit gives
    /// empty parameters.
    pub fn from_query(query: &str) -> Self {
        match yida_auth::wire::query_pairs(query) {
            Ok(pairs) => Self::from_pairs(pairs),
            Err(_) => CallbackParams::default(),
        }
    }

    /// From decoded name/value pairs (what a web framework's query extractor gives).
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut p = CallbackParams::default();
        for (k, v) in pairs {
            let slot = match k.as_ref() {
                "signature" | "msg_signature" => &mut p.signature,
                "timestamp" | "timeStamp" => &mut p.timestamp,
                "nonce" => &mut p.nonce,
                _ => continue,
            };
            if slot.is_empty() {
                // First occurrence wins; only the first 128 characters matter (longer
                // values fail verification anyway).
                *slot = v.as_ref().chars().take(128).collect();
            }
        }
        p
    }
}

/// The encrypted reply DingTalk expects: `{"msg_signature","timeStamp","nonce","encrypt"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallbackReply {
    /// Signature over token, `timeStamp`, `nonce` and `encrypt`.
    pub msg_signature: String,
    /// Milliseconds since the epoch, as text.
    #[serde(rename = "timeStamp")]
    pub time_stamp: String,
    /// Random text.
    pub nonce: String,
    /// The encrypted text (normally `success`).
    pub encrypt: String,
}

impl CallbackReply {
    /// The reply as a JSON body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A push that passed every check of [`CallbackCrypto::open`].
pub(crate) struct Opened {
    pub(crate) message: serde_json::Value,
    /// The signature (lowercase hex): what a replay repeats.
    pub(crate) replay_key: String,
    /// How long the push stays inside the window (`None`: no window).
    pub(crate) expires_in: Option<Duration>,
}

/// Signs, verifies, encrypts and decrypts HTTP pushes for one app.
///
/// `Debug` shows neither the token nor the AES key.
///
/// ```
/// use yida_events::{CallbackCrypto, CallbackParams};
/// // DingTalk's documented example.
/// let crypto = CallbackCrypto::new("123456", "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij",
///     "suite4xxxxxxxxxxxxxxx").unwrap().max_age(None);
/// let params = CallbackParams::from_query(
///     "signature=5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0&timestamp=1445827045067&nonce=nEXhMP4r");
/// let body = br#"{"encrypt":"1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ=="}"#;
/// let msg = crypto.open(&params, body).unwrap();
/// assert_eq!(msg["EventType"], "check_create_suite_url");
/// ```
pub struct CallbackCrypto {
    token: Secret,
    key: [u8; 32],
    owner_key: String,
    max_age: Option<Duration>,
}

impl fmt::Debug for CallbackCrypto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackCrypto")
            .field("token", &self.token)
            .field("key", &yida_auth::REDACTED)
            .field("owner_key", &self.owner_key)
            .field("max_age", &self.max_age)
            .finish()
    }
}

impl CallbackCrypto {
    /// The app's callback `token`, its 43-character `EncodingAESKey`, and the owner key:
    /// the corp id (internal app), the suite key (third-party app) or the custom key
    /// (custom app).
    pub fn new(
        token: impl Into<Secret>,
        encoding_aes_key: impl Into<Secret>,
        owner_key: impl Into<String>,
    ) -> Result<Self, CallbackError> {
        let token = token.into();
        let aes = encoding_aes_key.into();
        let owner_key = owner_key.into();
        if token.is_blank() {
            return Err(CallbackError::Config {
                name: "token",
                reason: "empty",
            });
        }
        if owner_key.trim().is_empty() {
            return Err(CallbackError::Config {
                name: "ownerKey",
                reason: "empty",
            });
        }
        let raw = aes.expose().trim();
        if raw.len() != 43 || !raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(CallbackError::Config {
                name: "encodingAesKey",
                reason: "must be 43 characters from a-z, A-Z, 0-9",
            });
        }
        let mut key = [0u8; 32];
        let n = KEY_ENGINE
            .decode_slice(format!("{raw}="), &mut key)
            .map_err(|_| CallbackError::Config {
                name: "encodingAesKey",
                reason: "not base64",
            })?;
        if n != 32 {
            return Err(CallbackError::Config {
                name: "encodingAesKey",
                reason: "does not decode to 32 bytes",
            });
        }
        Ok(CallbackCrypto {
            token,
            key,
            owner_key,
            max_age: Some(DEFAULT_MAX_AGE),
        })
    }

    /// How far a push's `timestamp` may be from now (default [`DEFAULT_MAX_AGE`]); `None`
    /// accepts any time (and turns replay detection off in
    /// [`HttpEndpoint`](crate::HttpEndpoint), which needs a window).
    pub fn max_age(mut self, window: Option<Duration>) -> Self {
        self.max_age = window;
        self
    }

    /// The timestamp window (see [`max_age`](Self::max_age)).
    pub fn window(&self) -> Option<Duration> {
        self.max_age
    }

    /// The owner key messages must carry.
    pub fn owner_key(&self) -> &str {
        &self.owner_key
    }

    /// `hex(sha1(sorted(token, timestamp, nonce, encrypt)))`.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        let mut parts = [self.token.expose(), timestamp, nonce, encrypt];
        parts.sort_unstable();
        let mut h = Sha1::new();
        for p in parts {
            h.update(p.as_bytes());
        }
        hex(&h.finalize())
    }

    /// Checks a push and returns its decrypted JSON message: size limits, the signature
    /// (constant-time), the timestamp window, then decryption and the owner key. Replays are
    /// refused by [`HttpEndpoint`](crate::HttpEndpoint), which marks a push only once it was
    /// handled.
    pub fn open(
        &self,
        params: &CallbackParams,
        body: &[u8],
    ) -> Result<serde_json::Value, CallbackError> {
        self.open_at(params, body, SystemTime::now())
    }

    /// [`open`](Self::open) as of `now` (for tests and replays of recorded traffic).
    pub fn open_at(
        &self,
        params: &CallbackParams,
        body: &[u8],
        now: SystemTime,
    ) -> Result<serde_json::Value, CallbackError> {
        self.open_checked(params, body, now).map(|o| o.message)
    }

    /// [`open_at`](Self::open_at), also returning the replay key and when it expires.
    pub(crate) fn open_checked(
        &self,
        params: &CallbackParams,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Opened, CallbackError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(CallbackError::TooLarge {
                what: "body",
                len: body.len(),
                limit: MAX_BODY_BYTES,
            });
        }
        for (name, v) in [
            ("signature", &params.signature),
            ("timestamp", &params.timestamp),
            ("nonce", &params.nonce),
        ] {
            if v.is_empty() {
                return Err(CallbackError::MissingParam { name });
            }
        }
        #[derive(serde::Deserialize)]
        struct Body<'a> {
            #[serde(borrow)]
            encrypt: std::borrow::Cow<'a, str>,
        }
        // The reason is one of a few fixed texts: a serde message may quote the input, and
        // refusals must not copy a body into replies or logs.
        let parsed: Body<'_> =
            serde_json::from_slice(body).map_err(|e| CallbackError::BadBody {
                reason: match e.classify() {
                    serde_json::error::Category::Data => "no `encrypt` text field",
                    serde_json::error::Category::Eof => "truncated JSON",
                    _ => "not JSON",
                }
                .into(),
            })?;
        let encrypt = parsed.encrypt.as_ref();
        let expected = self.signature(&params.timestamp, &params.nonce, encrypt);
        let given = params.signature.to_ascii_lowercase();
        if !bool::from(expected.as_bytes().ct_eq(given.as_bytes())) {
            return Err(CallbackError::BadSignature);
        }
        let ts_ms = parse_timestamp_ms(&params.timestamp)?;
        if let Some(window) = self.max_age {
            let now_ms = millis(now);
            let skew = now_ms.abs_diff(ts_ms);
            if u128::from(skew) > window.as_millis() {
                return Err(CallbackError::Stale {
                    skew_secs: skew / 1000,
                    window_secs: window.as_secs(),
                });
            }
        }
        let msg = self.decrypt(encrypt)?;
        let value: serde_json::Value =
            serde_json::from_slice(&msg).map_err(|_| CallbackError::BadMessage {
                reason: "not JSON".into(),
            })?;
        if !value.is_object() {
            return Err(CallbackError::BadMessage {
                reason: "not an object".into(),
            });
        }
        // Remembered until the timestamp leaves the window (after that the window check
        // refuses the push anyway).
        let expires_in = self.max_age.map(|w| {
            let end = u128::from(ts_ms) + w.as_millis();
            let left = end.saturating_sub(u128::from(millis(now)));
            Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX).max(1))
        });
        Ok(Opened {
            message: value,
            replay_key: expected,
            expires_in,
        })
    }

    /// Decrypts an `encrypt` value and checks its owner key; returns the message bytes.
    pub fn decrypt(&self, encrypt: &str) -> Result<Vec<u8>, CallbackError> {
        if encrypt.len() > MAX_ENCRYPT_CHARS {
            return Err(CallbackError::TooLarge {
                what: "encrypt",
                len: encrypt.len(),
                limit: MAX_ENCRYPT_CHARS,
            });
        }
        // Bounded by MAX_ENCRYPT_CHARS above.
        let mut buf =
            STANDARD
                .decode(encrypt.trim())
                .map_err(|_| CallbackError::BadCiphertext {
                    reason: "not base64",
                })?;
        if buf.is_empty() || buf.len() % AES_BLOCK != 0 {
            return Err(CallbackError::BadCiphertext {
                reason: "length is not a multiple of 16 bytes",
            });
        }
        let iv: [u8; 16] = self.key[..16].try_into().unwrap_or([0; 16]);
        let plain = Aes256CbcDec::new(&self.key.into(), &iv.into())
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| CallbackError::BadCiphertext {
                reason: "not whole AES blocks",
            })?;
        let unpadded = unpad(plain)?;
        if unpadded.len() < 20 {
            return Err(CallbackError::BadLength {
                declared: 0,
                available: unpadded.len(),
            });
        }
        let declared = u32::from_be_bytes([unpadded[16], unpadded[17], unpadded[18], unpadded[19]]);
        let rest = &unpadded[20..];
        let n = declared as usize;
        if n > rest.len() {
            return Err(CallbackError::BadLength {
                declared: u64::from(declared),
                available: rest.len(),
            });
        }
        let (msg, owner) = rest.split_at(n);
        if !bool::from(owner.ct_eq(self.owner_key.as_bytes())) {
            return Err(CallbackError::WrongOwner);
        }
        Ok(msg.to_vec())
    }

    /// Encrypts `msg` for this app (16 random bytes, length, message, owner key, 32-byte
    /// PKCS#7), base64-encoded.
    pub fn encrypt(&self, msg: &[u8]) -> Result<String, CallbackError> {
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).map_err(|_| CallbackError::Random)?;
        Ok(self.encrypt_with_random(msg, random))
    }

    fn encrypt_with_random(&self, msg: &[u8], random: [u8; 16]) -> String {
        let mut buf = Vec::with_capacity(20 + msg.len() + self.owner_key.len() + PAD_BLOCK);
        buf.extend_from_slice(&random);
        buf.extend_from_slice(&(msg.len() as u32).to_be_bytes());
        buf.extend_from_slice(msg);
        buf.extend_from_slice(self.owner_key.as_bytes());
        let pad = PAD_BLOCK - buf.len() % PAD_BLOCK;
        buf.resize(buf.len() + pad, pad as u8);
        let len = buf.len();
        let iv: [u8; 16] = self.key[..16].try_into().unwrap_or([0; 16]);
        let out = Aes256CbcEnc::new(&self.key.into(), &iv.into())
            .encrypt_padded_mut::<NoPadding>(&mut buf, len)
            .map(|c| c.to_vec())
            .unwrap_or_default();
        STANDARD.encode(out)
    }

    /// The reply to a valid push: `text` (normally `success`) encrypted and signed, with the
    /// current time and a random nonce.
    pub fn reply(&self, text: &str) -> Result<CallbackReply, CallbackError> {
        let mut n = [0u8; 12];
        getrandom::fill(&mut n).map_err(|_| CallbackError::Random)?;
        const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let nonce: String = n
            .iter()
            .map(|b| ALNUM[usize::from(*b) % ALNUM.len()] as char)
            .collect();
        let time_stamp = millis(SystemTime::now()).to_string();
        let encrypt = self.encrypt(text.as_bytes())?;
        Ok(CallbackReply {
            msg_signature: self.signature(&time_stamp, &nonce, &encrypt),
            time_stamp,
            nonce,
            encrypt,
        })
    }

    /// The `success` reply.
    pub fn success(&self) -> Result<CallbackReply, CallbackError> {
        self.reply("success")
    }
}

/// Strips PKCS#7 padding of 1 to 32 bytes (what DingTalk's decryptors accept).
fn unpad(plain: &[u8]) -> Result<&[u8], CallbackError> {
    let pad = usize::from(*plain.last().ok_or(CallbackError::BadPadding)?);
    if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
        return Err(CallbackError::BadPadding);
    }
    let (body, tail) = plain.split_at(plain.len() - pad);
    if tail.iter().any(|b| usize::from(*b) != pad) {
        return Err(CallbackError::BadPadding);
    }
    Ok(body)
}

/// Milliseconds; DingTalk sends milliseconds, some replies seconds: values below 10^11 are
/// taken as seconds.
fn parse_timestamp_ms(s: &str) -> Result<u64, CallbackError> {
    let v: u64 = s.trim().parse().map_err(|_| CallbackError::BadTimestamp)?;
    Ok(if v < 100_000_000_000 {
        v.saturating_mul(1000)
    } else {
        v
    })
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_params_follow_the_one_query_rule() {
        let p = CallbackParams::from_query(
            "?msg_signature=ab%2Bcd&timeStamp=17+00&nonce=n%20x&nonce=second&signature=late",
        );
        assert_eq!(p.signature, "ab+cd");
        assert_eq!(p.timestamp, "17 00");
        // The first occurrence wins.
        assert_eq!(p.nonce, "n x");
        let empty = CallbackParams::from_query(&format!(
            "signature={}",
            "a".repeat(yida_auth::wire::MAX_QUERY_LEN)
        ));
        assert_eq!(empty, CallbackParams::default());
        let bad = CallbackParams::from_query("signature=%zz&timestamp=&nonce");
        assert_eq!(bad.signature, "%zz");
        assert!(bad.timestamp.is_empty() && bad.nonce.is_empty());
    }

    #[test]
    fn unpad_rejects_every_malformed_tail() {
        let mut block = vec![7u8; 64];
        block[63] = 0;
        assert_eq!(unpad(&block), Err(CallbackError::BadPadding));
        block[63] = 33;
        assert_eq!(unpad(&block), Err(CallbackError::BadPadding));
        block[63] = 3;
        block[62] = 3;
        block[61] = 9;
        assert_eq!(unpad(&block), Err(CallbackError::BadPadding));
        block[61] = 3;
        assert_eq!(unpad(&block).unwrap().len(), 61);
        assert_eq!(unpad(&[]), Err(CallbackError::BadPadding));
    }

    #[test]
    fn timestamps_in_seconds_or_millis() {
        assert_eq!(parse_timestamp_ms("1783610513").unwrap(), 1_783_610_513_000);
        assert_eq!(
            parse_timestamp_ms("1445827045067").unwrap(),
            1_445_827_045_067
        );
        assert_eq!(parse_timestamp_ms("x"), Err(CallbackError::BadTimestamp));
    }

    #[test]
    fn encrypt_with_fixed_random_round_trips() {
        let c = CallbackCrypto::new(
            "123456",
            "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij",
            "suite4xxxxxxxxxxxxxxx",
        )
        .unwrap();
        let e = c.encrypt_with_random(b"{}", [1; 16]);
        assert_eq!(c.decrypt(&e).unwrap(), b"{}");
    }
}
