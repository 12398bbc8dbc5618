//! A string that never prints.

use std::fmt;

/// A secret string (app secret, suite secret, suite ticket, system token, access token).
///
/// `Debug` and `Display` print `** redacted **`; the value is only reachable through
/// [`Secret::expose`], which makes every use easy to find in review.
///
/// ```
/// use yida_auth::Secret;
/// let s = Secret::new("app-secret-value");
/// assert_eq!(format!("{s:?} {s}"), "** redacted ** ** redacted **");
/// assert_eq!(s.expose(), "app-secret-value");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the value is empty or only white space.
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

/// So a `&String` is accepted wherever a secret is (`InternalApp::new(&key, &secret)`), as it
/// is for keys.
///
/// ```
/// let from_config = String::from("app-secret");
/// let s = yida_auth::Secret::from(&from_config);
/// assert_eq!(s.expose(), "app-secret");
/// ```
impl From<&String> for Secret {
    fn from(s: &String) -> Self {
        Secret(s.clone())
    }
}

/// The text printed in place of a secret.
pub const REDACTED: &str = "** redacted **";

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}
