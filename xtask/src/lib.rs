//! Maintainer tasks behind `cargo xtask`: regenerating from `spec/` lives in `main.rs`; this
//! library holds what tests reach directly: drift detection against the official Python SDK
//! and DingTalk's doc pages, and importing an operation from the SDK.

pub mod docpages;
pub mod drift;
pub mod import;
pub mod pysdk;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}
