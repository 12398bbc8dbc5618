//! `yida completions <shell>`: a shell completion script.

use crate::fail::Fail;

/// Print a completion script for a shell, e.g. `yida completions bash > /etc/bash_completion.d/yida`.
#[derive(clap::Args, Debug)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// Writes the script to stdout.
pub async fn run(args: CompletionsArgs) -> Result<(), Fail> {
    let mut cmd = crate::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "yida", &mut script);
    crate::out::stdout(&String::from_utf8_lossy(&script))
}
