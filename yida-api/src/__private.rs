//! Helpers the generated code calls. Not part of the public API.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::fmt::{self, Write};

/// Printed in place of a secret by the generated `Debug` impls.
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(yida_auth::REDACTED)
    }
}

/// RFC 3986 unreserved characters stay; everything else is escaped.
pub(crate) const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A value that can stand in a path segment or the query string.
pub trait WireScalar {
    /// Appends the value, percent-encoded. Returns false for an unset value.
    fn write_encoded(&self, out: &mut String) -> bool;
}

impl WireScalar for String {
    fn write_encoded(&self, out: &mut String) -> bool {
        out.extend(utf8_percent_encode(self, COMPONENT));
        true
    }
}

impl WireScalar for i64 {
    fn write_encoded(&self, out: &mut String) -> bool {
        let _ = write!(out, "{self}");
        true
    }
}

impl WireScalar for f64 {
    fn write_encoded(&self, out: &mut String) -> bool {
        let _ = write!(out, "{self}");
        true
    }
}

impl WireScalar for bool {
    fn write_encoded(&self, out: &mut String) -> bool {
        out.push_str(if *self { "true" } else { "false" });
        true
    }
}

impl WireScalar for crate::JsonText {
    fn write_encoded(&self, out: &mut String) -> bool {
        match self.as_str() {
            Some(t) => {
                out.extend(utf8_percent_encode(t, COMPONENT));
                true
            }
            None => false,
        }
    }
}

impl<T: WireScalar> WireScalar for Option<T> {
    fn write_encoded(&self, out: &mut String) -> bool {
        match self {
            Some(v) => v.write_encoded(out),
            None => false,
        }
    }
}

/// Appends one percent-encoded path segment.
pub fn push_segment(out: &mut String, value: &impl WireScalar) {
    value.write_encoded(out);
}

/// Builds a query string; unset values are skipped.
#[derive(Default)]
pub struct QueryWriter {
    buf: String,
    scratch: String,
}

impl QueryWriter {
    /// Appends `name=value` when the value is set.
    pub fn push(&mut self, name: &str, value: &impl WireScalar) {
        self.scratch.clear();
        if value.write_encoded(&mut self.scratch) {
            self.buf.push(if self.buf.is_empty() { '?' } else { '&' });
            self.buf.extend(utf8_percent_encode(name, COMPONENT));
            self.buf.push('=');
            self.buf.push_str(&self.scratch);
        }
    }

    /// The query string with its leading `?`, or empty.
    pub fn finish(self) -> String {
        self.buf
    }
}
