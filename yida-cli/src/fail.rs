//! How a command fails: an exit code and the message printed on stderr.

use yida_api::Error;

/// Exit code: bad usage or input, or missing configuration; nothing was sent.
pub const USAGE: u8 = 2;
/// Exit code: the request failed (API error, network, timeout, refused credentials).
pub const FAILED: u8 = 1;

/// A failure: the exit code and the full message (already prefixed with `error:`).
#[derive(Debug)]
pub struct Fail(pub u8, pub String);

impl Fail {
    /// Bad usage or input (exit 2): `msg` without the `error: ` prefix.
    pub fn usage(msg: impl std::fmt::Display) -> Self {
        Fail(USAGE, format!("error: {msg}"))
    }
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        let code = match e {
            Error::InvalidParameter { .. }
            | Error::InvalidInput { .. }
            | Error::UnknownOperation { .. }
            | Error::Config(_) => USAGE,
            Error::Auth(yida_auth::AuthError::MissingCredential { .. }) => USAGE,
            _ => FAILED,
        };
        Fail(code, describe(&e))
    }
}

/// The message for a library error: the error, then the API's details or the cause chain.
pub fn describe(e: &Error) -> String {
    let mut out = format!("error: {e}");
    if let Some(api) = e.api() {
        out.push_str(&format!("\n  HTTP status: {}", api.status));
        out.push_str(&format!("\n  code: {}", api.code.as_deref().unwrap_or("-")));
        out.push_str(&format!(
            "\n  message: {}",
            api.message.as_deref().unwrap_or("-")
        ));
        out.push_str(&format!(
            "\n  request id: {}",
            api.request_id.as_deref().unwrap_or("-")
        ));
    } else {
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            out.push_str(&format!("\n  caused by: {s}"));
            source = s.source();
        }
    }
    out
}
