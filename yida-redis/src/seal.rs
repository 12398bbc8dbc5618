//! Encryption at rest of the secrets this crate stores (tokens, suite tickets): AES-256-GCM
//! with a key the user supplies.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;

/// Marks a sealed value: `enc1:` then base64 of nonce (12 bytes) and ciphertext with its tag.
pub(crate) const PREFIX: &str = "enc1:";

/// Seals and opens values with one key. The Redis key name is the associated data, so a
/// sealed value copied under another key does not open.
pub(crate) struct Sealer {
    cipher: Aes256Gcm,
}

impl Sealer {
    /// A sealer for a 32-byte key; `None` for any other length.
    pub(crate) fn new(key: &[u8]) -> Option<Sealer> {
        Aes256Gcm::new_from_slice(key)
            .ok()
            .map(|cipher| Sealer { cipher })
    }

    /// `plain` sealed for `redis_key`, as text.
    pub(crate) fn seal(&self, redis_key: &str, plain: &str) -> Option<String> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).ok()?;
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: redis_key.as_bytes(),
                },
            )
            .ok()?;
        let mut bytes = Vec::with_capacity(12 + sealed.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        Some(format!(
            "{PREFIX}{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
        ))
    }

    /// The text sealed in `stored` for `redis_key`; `None` when it is not sealed, was sealed
    /// with another key or for another Redis key, or was altered.
    pub(crate) fn open(&self, redis_key: &str, stored: &str) -> Option<String> {
        let b64 = stored.strip_prefix(PREFIX)?;
        // A ticket or token is short; refuse anything much larger before decoding it.
        if b64.len() > 64 * 1024 {
            return None;
        }
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(b64)
            .ok()?;
        if bytes.len() < 12 + 16 {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: redis_key.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(plain).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_opens_and_refuses_what_it_should() {
        let s = Sealer::new(&[7u8; 32]).unwrap();
        let sealed = s.seal("p:token:a", "secret-token-1").unwrap();
        assert!(sealed.starts_with(PREFIX));
        assert!(!sealed.contains("secret-token-1"));
        assert_ne!(
            sealed,
            s.seal("p:token:a", "secret-token-1").unwrap(),
            "fresh nonce"
        );
        assert_eq!(s.open("p:token:a", &sealed).unwrap(), "secret-token-1");
        // Another Redis key, another key, altered, clear text, garbage: refused.
        assert!(s.open("p:token:b", &sealed).is_none());
        assert!(Sealer::new(&[8u8; 32])
            .unwrap()
            .open("p:token:a", &sealed)
            .is_none());
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(s.open("p:token:a", &altered).is_none());
        assert!(s.open("p:token:a", "secret-token-1").is_none());
        assert!(s.open("p:token:a", "enc1:!!").is_none());
        assert!(s.open("p:token:a", "enc1:").is_none());
        assert!(Sealer::new(&[1u8; 16]).is_none());
    }
}
