//! Runnable examples for the task guides in `docs/guides/`: one `examples/<guide>.rs` per
//! guide. Each reads the `YIDA_*` variables that `yida emulator` prints (endpoint,
//! credentials, app, user, demo form and process), so it runs unchanged against the emulator
//! or, with your own values, against DingTalk. `tests/guides.rs` starts the emulator and runs
//! every example, asserting on what it prints.
//!
//! ```sh
//! yida emulator                     # terminal 1: paste its export lines into terminal 2
//! cargo run -p yida-examples --example first_session
//! ```
#![warn(missing_docs)]

pub mod demo_form;

/// The value of a required environment variable, or an error naming it.
pub fn var(name: &str) -> Result<String, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(format!(
            "{name} is not set (run `yida emulator` and paste its export lines)"
        )),
    }
}
