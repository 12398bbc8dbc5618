//! DingTalk's legacy third-party signature (`auth/1429`): HMAC-SHA256 over
//! `timestamp + "\n" + suiteTicket` keyed with the suite secret, base64, then URL-encoded.

use crate::Secret;
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;

/// Java's `URLEncoder` with DingTalk's replacements (`+`→`%20`, `*`→`%2A`, `~`→`%7E`,
/// `/`→`%2F`): everything but letters, digits, `.`, `-` and `_` is escaped.
const SIGNATURE_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'.').remove(b'-').remove(b'_');

/// The URL-encoded signature for `timestamp` (ms since the epoch, as sent) and the suite ticket.
///
/// ```
/// use yida_auth::{legacy_signature, Secret};
/// let sig = legacy_signature("1527130370219", &Secret::new("TestSuiteTicket"), &Secret::new("secret"));
/// assert!(!sig.contains('+') && !sig.contains('/') && !sig.contains('='));
/// ```
pub fn legacy_signature(timestamp: &str, suite_ticket: &Secret, suite_secret: &Secret) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(suite_secret.expose().as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this arm cannot be reached.
        Err(_) => return String::new(),
    };
    mac.update(timestamp.as_bytes());
    mac.update(b"\n");
    mac.update(suite_ticket.expose().as_bytes());
    let raw = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    utf8_percent_encode(&raw, SIGNATURE_SET).to_string()
}

/// The query string of a legacy signed call:
/// `signature=…&timestamp=…&suiteTicket=…&accessKey=<suiteKey>`.
pub fn legacy_signature_query(
    timestamp: &str,
    suite_key: &str,
    suite_ticket: &Secret,
    suite_secret: &Secret,
) -> String {
    format!(
        "signature={}&timestamp={}&suiteTicket={}&accessKey={}",
        legacy_signature(timestamp, suite_ticket, suite_secret),
        utf8_percent_encode(timestamp, SIGNATURE_SET),
        utf8_percent_encode(suite_ticket.expose(), SIGNATURE_SET),
        utf8_percent_encode(suite_key, SIGNATURE_SET),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_an_independent_hmac() {
        // Expected value computed with Python: base64(hmac.new(b"secret",
        // b"1527130370219\nTestSuiteTicket", sha256).digest()), then URL-encoded.
        let sig = legacy_signature(
            "1527130370219",
            &Secret::new("TestSuiteTicket"),
            &Secret::new("secret"),
        );
        assert_eq!(sig, EXPECTED);
    }

    const EXPECTED: &str = include_str!("../tests/signature_expected.txt");
}
