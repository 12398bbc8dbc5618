//! Commands left out of this build by a cargo feature: they still parse (so `yida --help`
//! lists them and scripts get a clear answer), and running one says how to build it in.
//!
//! The default build leaves out what brings a driver or server of its own: `yida sync`
//! (SQLite, built from C, and a PostgreSQL client; feature `sync`), `yida mcp` (an MCP
//! server; feature `mcp`) and `--ticket-store redis://…` (a Redis client; feature `redis`).
//! `--features full` builds all three.

/// Defines `pub struct $args` (any arguments) and `pub async fn run` that fails with exit 2
/// naming the feature to build with.
macro_rules! command {
    ($args:ident, $name:literal, $feature:literal) => {
        #[doc = concat!(
            "(Not in this build: install with `cargo install --locked --path yida-cli --features ",
            $feature,
            "`.)"
        )]
        #[derive(clap::Args, Debug)]
        pub struct $args {
            /// Ignored: this build does not have the command.
            #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
            rest: Vec<String>,
        }

        /// Fails: the command was left out of this build.
        pub async fn run(args: $args) -> Result<(), crate::fail::Fail> {
            let _ = args.rest;
            Err(crate::absent::missing($name, $feature))
        }
    };
}
pub(crate) use command;

/// The failure for a command or option this build left out (exit 2, nothing sent).
pub fn missing(what: &str, feature: &str) -> crate::fail::Fail {
    crate::fail::Fail::usage(format!(
        "`yida {what}` is not in this build of yida (cargo feature `{feature}`): \
         cargo install --locked --path yida-cli --features {feature} (or --features full)"
    ))
}
