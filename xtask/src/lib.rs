//! Maintainer tasks behind `cargo xtask`: regenerating from `spec/` lives in `main.rs`; this
//! library holds what tests reach directly: drift detection against the official Python SDK
//! and DingTalk's doc pages, and importing an operation from the SDK.

pub mod docpages;
pub mod drift;
pub mod import;
pub mod pysdk;
pub mod source;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Writes to stdout; a reader that went away (`| head`) is not worth a panic.
pub(crate) fn out(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes a line to stderr, ignoring a closed stream.
pub(crate) fn err(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
