//! Retry policy (client-side pacing is in `limiter`).

use crate::error::Error;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// When and how often a failed call is repeated.
///
/// What is retried:
/// - throttling (`…QpsLimitForAppkeyAndApi`, `…QpsLimitForApi`, HTTP 429 with DingTalk's
///   error JSON, the gateway's `{"status":1111,"wait":N}` reply or its own ban page, honouring
///   its wait) and failures to connect: for every operation, since the server did not act on
///   the request;
/// - HTTP 5xx, other 429s (a proxy's page), timeouts and connections broken after sending:
///   only for read-only operations (marked in the spec), never for writes, which must not be
///   applied twice. A `Retry-After` header lengthens the pause of such a retry; it never makes
///   a write retryable;
/// - a failed token fetch (connection, timeout, 5xx, throttling) like a read: nothing was sent;
/// - never: the monthly quota (`…ApiCountLimitForOrg`), permission and parameter errors.
///
/// ```
/// use std::time::Duration;
/// use yida_api::RetryConfig;
/// let patient = RetryConfig::default().max_attempts(5).max_elapsed(Duration::from_secs(60));
/// let none = RetryConfig::disabled();
/// # let _ = (patient, none);
/// ```
#[derive(Debug, Clone)]
pub struct RetryConfig {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_elapsed: Duration,
    ban_wait: Duration,
}

impl Default for RetryConfig {
    /// 4 attempts, backoff from 200 ms doubling up to 5 s with jitter, at most 30 s of retrying,
    /// 5 s after a gateway ban page that names no wait.
    fn default() -> Self {
        RetryConfig {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_elapsed: Duration::from_secs(30),
            ban_wait: Duration::from_secs(5),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    GiveUp,
    RetryAfter(Duration),
}

impl RetryConfig {
    /// No retries at all (one attempt).
    pub fn disabled() -> Self {
        RetryConfig {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Total attempts, the first included (at least 1).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// First backoff delay; it doubles per attempt.
    pub fn base_delay(mut self, d: Duration) -> Self {
        self.base_delay = d;
        self
    }

    /// Longest backoff delay (a gateway's longer wait is still honoured).
    pub fn max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// No retry starts once this much time has passed since the first attempt.
    pub fn max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// Pause after the gateway's ban page when it names no wait (default 5 s).
    pub fn ban_wait(mut self, d: Duration) -> Self {
        self.ban_wait = d;
        self
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16));
        let cap = exp.min(self.max_delay);
        // "Equal jitter": half fixed, half random, so pauses never collapse to zero.
        let mut h = RandomState::new().build_hasher();
        h.write_u32(attempt);
        let half = cap / 2;
        let span = half.as_micros() as u64;
        let jitter = if span == 0 {
            0
        } else {
            h.finish() % (span + 1)
        };
        half + Duration::from_micros(jitter)
    }

    pub(crate) fn verdict(
        &self,
        err: &Error,
        read_only: bool,
        attempt: u32,
        elapsed: Duration,
    ) -> Verdict {
        if attempt >= self.max_attempts {
            return Verdict::GiveUp;
        }
        let mut pause = self.backoff(attempt);
        let retryable = match err {
            Error::Api(api) if api.is_quota_exhausted() => false,
            // Not applied: DingTalk's throttling codes and the gateway's own ban.
            Error::Api(api) if api.is_throttled() => true,
            // May have been applied: only a read is repeated. 429 from anything else (a
            // proxy) is treated the same way.
            Error::Api(api) => (api.status >= 500 || api.status == 429) && read_only,
            Error::Connect { .. } => true,
            Error::Timeout { .. } | Error::Transport { .. } => read_only,
            // A token fetch is repeated like a read; the call itself was not sent.
            Error::Auth(a) => a.is_transient(),
            _ => false,
        };
        // A requested pause shapes a retry that is allowed anyway; it never allows one.
        let asked = match err {
            Error::Api(api) => api
                .retry_after
                .or(api.is_gateway_ban().then_some(self.ban_wait)),
            Error::Auth(a) => a.retry_after(),
            _ => None,
        };
        if let Some(w) = asked {
            pause = pause.max(w);
        }
        if !retryable || elapsed + pause > self.max_elapsed {
            return Verdict::GiveUp;
        }
        Verdict::RetryAfter(pause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str) -> Error {
        Error::api_for_test(crate::OpId::all()[0], status, code)
    }

    #[test]
    fn classifies_errors() {
        let r = RetryConfig::default();
        let z = Duration::ZERO;
        assert!(matches!(
            r.verdict(
                &api(403, "Forbidden.AccessDenied.QpsLimitForApi"),
                false,
                1,
                z
            ),
            Verdict::RetryAfter(_)
        ));
        assert_eq!(
            r.verdict(
                &api(403, "Forbidden.AccessDenied.ApiCountLimitForOrg"),
                true,
                1,
                z
            ),
            Verdict::GiveUp
        );
        assert_eq!(
            r.verdict(&api(500, "innerError"), false, 1, z),
            Verdict::GiveUp
        );
        assert!(matches!(
            r.verdict(&api(500, "innerError"), true, 1, z),
            Verdict::RetryAfter(_)
        ));
        assert_eq!(
            r.verdict(&api(400, "invalidParameter"), true, 1, z),
            Verdict::GiveUp
        );
        assert_eq!(
            r.verdict(&api(500, "innerError"), true, 4, z),
            Verdict::GiveUp
        );
        assert_eq!(
            RetryConfig::disabled().verdict(&api(429, "x"), true, 1, z),
            Verdict::GiveUp
        );
    }

    #[test]
    fn a_requested_pause_never_makes_a_write_retryable() {
        let r = RetryConfig::default();
        let z = Duration::ZERO;
        let mut e = api(503, "ServiceUnavailable");
        if let Error::Api(a) = &mut e {
            a.retry_after = Some(Duration::from_secs(1));
        }
        assert_eq!(r.verdict(&e, false, 1, z), Verdict::GiveUp);
        // ...but lengthens the pause of a read's retry.
        assert!(
            matches!(r.verdict(&e, true, 1, z), Verdict::RetryAfter(p) if p >= Duration::from_secs(1))
        );
        // The gateway's ban is retried for a write, after the configured wait.
        let ban = api(503, crate::error::GATEWAY_BAN);
        assert!(
            matches!(r.verdict(&ban, false, 1, z), Verdict::RetryAfter(p) if p >= Duration::from_secs(5))
        );
        // A failed token fetch: transient ones are retried, refusals not.
        let down = Error::Auth(yida_auth::AuthError::Transport {
            message: "connection failed".into(),
        });
        assert!(matches!(
            r.verdict(&down, false, 1, z),
            Verdict::RetryAfter(_)
        ));
        let refused = Error::Auth(yida_auth::AuthError::Rejected {
            status: 400,
            code: Some("invalidClientIdOrSecret".into()),
            message: None,
            request_id: None,
        });
        assert_eq!(r.verdict(&refused, true, 1, z), Verdict::GiveUp);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let r = RetryConfig::default();
        for attempt in 1..10 {
            let b = r.backoff(attempt);
            assert!(b <= Duration::from_secs(5));
            assert!(
                b >= (Duration::from_millis(200) * (1 << (attempt - 1).min(16)))
                    .min(Duration::from_secs(5))
                    / 2
            );
        }
    }
}
