//! How a command fails: an exit code and the message printed on stderr, and how server text
//! and errors are made safe to print.

use yida_api::Error;

/// Exit code: the request failed (API error, network, timeout, refused credentials).
pub const FAILED: u8 = 1;
/// Exit code: bad usage or input, or missing configuration; nothing was sent.
pub const USAGE: u8 = 2;
/// Exit code: a reply arrived but could not be decoded; the request was sent (a write may
/// have been applied).
pub const DECODE: u8 = 3;
/// Exit code: the output could not be written (e.g. disk full); the request was sent.
pub const OUTPUT: u8 = 4;
/// Exit code: an export finished, but the form changed under it (records added or removed
/// meanwhile may be missing); each record printed is printed once.
pub const CHANGED: u8 = 5;
/// Exit code: standard output was closed by its reader (e.g. `| head`); stopped quietly. The
/// code a program killed by SIGPIPE reports to the shell.
pub const CLOSED: u8 = 141;

/// The exit codes, for `yida --help` and the README.
pub const EXIT_CODES: &str = "\
EXIT CODES:
  0    success
  1    the request failed (API error, network, timeout, refused credentials)
  2    bad usage, input or configuration: nothing was sent
  3    the reply could not be decoded (or --jq failed on it): the request was sent (a write
       may have applied)
  4    the output could not be written (e.g. disk full): the request was sent
  5    `yida export` finished, but the form changed during it (records may be missing)
  141  standard output was closed by its reader (e.g. `| head`): stopped quietly";

/// Most characters of one piece of server text shown (code, message, request id, body).
const MAX_SHOWN: usize = 1000;

/// A failure: the exit code and the full message (already prefixed with `error:`; empty for
/// a quiet exit).
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
            | Error::Checkpoint { .. }
            | Error::Config(_) => USAGE,
            Error::Auth(yida_auth::AuthError::MissingCredential { .. }) => USAGE,
            ref e if e.is_decode() => DECODE,
            _ => FAILED,
        };
        Fail(code, describe(&e))
    }
}

/// Server or foreign text made safe for a terminal: control characters (escape sequences,
/// CR, LF, BEL, …) and bidirectional overrides are shown as `\u{..}` escapes, and the length
/// is capped.
pub fn clean(text: &str) -> String {
    clean_to(text, MAX_SHOWN)
}

/// [`clean`] with a given cap (in characters).
pub fn clean_to(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == max {
            let rest = text.chars().count() - n;
            out.push_str(&format!("… ({rest} more characters not shown)"));
            break;
        }
        if yida_auth::wire::is_unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// The message for a library error, each fact once: the error, then the API's details or the
/// causes not already part of the line above. Server text is [`clean`]ed.
pub fn describe(e: &Error) -> String {
    if let Some(api) = e.api() {
        let field = |v: &Option<String>| v.as_deref().map(clean).unwrap_or_else(|| "-".into());
        let mut out = format!("error: {} failed: HTTP {}", api.operation, api.status);
        out.push_str(&format!("\n  code: {}", field(&api.code)));
        out.push_str(&format!("\n  message: {}", field(&api.message)));
        out.push_str(&format!("\n  request id: {}", field(&api.request_id)));
        if let Some(p) = api
            .required_permission
            .filter(|_| api.is_permission_denied())
        {
            out.push_str(&format!(
                "\n  this operation needs the permission `{p}`: add it to the app in the \
                 DingTalk developer console"
            ));
        }
        if let Some(w) = api.retry_after {
            out.push_str(&format!("\n  the gateway asks to wait {}s", w.as_secs()));
        }
        if let Some(b) = &api.body_excerpt {
            out.push_str(&format!("\n  body: {}", clean(b)));
        }
        return out;
    }
    chain(e)
}

/// `error: <e>`, then each cause not already part of the line above, [`clean`]ed.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut shown = e.to_string();
    let mut out = format!("error: {}", clean(&shown));
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        // Some errors repeat their cause in their own message: print it once.
        if !shown.contains(&text) {
            out.push_str(&format!("\n  caused by: {}", clean(&text)));
            shown = text;
        }
        source = s.source();
    }
    out
}

/// Removes the user:password part of every URL in `text`.
pub fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| {
                c == '/'
                    || c == '?'
                    || c == '#'
                    || c.is_whitespace()
                    || c == '`'
                    || c == '"'
                    || c == ')'
            })
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_removed_from_every_url_and_nothing_else_changes() {
        assert_eq!(
            redact_userinfo("a http://u:p@h:1/x and `ftp://p@q` then https://h/y?u=a@b"),
            "a http://***@h:1/x and `ftp://***@q` then https://h/y?u=a@b"
        );
        assert_eq!(redact_userinfo("no url: a@b"), "no url: a@b");
        assert_eq!(redact_userinfo("trailing ://"), "trailing ://");
    }

    #[test]
    fn clean_escapes_controls_and_caps_the_length() {
        assert_eq!(clean("a\u{1b}[2Jb\r\n"), r"a\u{1b}[2Jb\u{d}\u{a}");
        assert_eq!(clean("\u{202e}txt"), r"\u{202e}txt");
        let long = clean(&"é".repeat(MAX_SHOWN + 5));
        assert!(long.ends_with("… (5 more characters not shown)"), "{long}");
        assert_eq!(long.chars().filter(|c| *c == 'é').count(), MAX_SHOWN);
    }
}
