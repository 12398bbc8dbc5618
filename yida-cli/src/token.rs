//! `yida token`: print a fresh access token.

use crate::fail::{chain, Fail, FAILED};

/// Print a fresh access token from the configured credentials (a credential: keep it out of
/// logs).
#[derive(clap::Args, Debug)]
pub struct TokenArgs {}

/// Fetches a token and prints it on stdout, with a warning on stderr.
pub async fn run(_args: TokenArgs) -> Result<(), Fail> {
    let provider = crate::config::token_provider()?;
    let t = provider
        .token()
        .await
        .map_err(|e| Fail(FAILED, chain(&e)))?;
    crate::out::note("warning: this is a credential; do not paste it into logs or tickets");
    crate::out::stdout(&format!("{}\n", t.secret().expose()))
}
