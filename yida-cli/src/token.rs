//! `yida token`: print a fresh access token.

use crate::fail::{Fail, FAILED};

/// Print a fresh access token from the configured credentials.
#[derive(clap::Args, Debug)]
pub struct TokenArgs {}

/// Fetches a token and prints it on stdout, with a warning on stderr.
pub async fn run(_args: TokenArgs) -> Result<(), Fail> {
    let provider = crate::config::token_provider()?;
    let t = provider
        .token()
        .await
        .map_err(|e| Fail(FAILED, format!("error: {e}")))?;
    eprintln!("warning: this is a credential; do not paste it into logs or tickets");
    println!("{}", t.secret().expose());
    Ok(())
}
