//! Writing to stdout and stderr without panicking: a closed pipe is a quiet exit, any other
//! output error ends the command with exit 4.

use crate::fail::{Fail, CLOSED, OUTPUT};
use std::io::Write;

/// Writes `text` to stdout and flushes, so a failure is seen now (and a walk stops).
pub fn stdout(text: &str) -> Result<(), Fail> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(output_error)
}

/// The failure for an output error.
pub fn output_error(e: std::io::Error) -> Fail {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Fail(CLOSED, String::new())
    } else {
        Fail(
            OUTPUT,
            format!("error: cannot write to standard output: {e}"),
        )
    }
}

/// Writes one line to stderr; errors are ignored (there is nowhere left to report them).
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
