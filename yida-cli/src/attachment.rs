//! `yida attachment get`: download an attachment by the URL its form value stores.

use crate::fail::{chain, Fail, FAILED, OUTPUT, USAGE};
use std::path::PathBuf;
use std::time::Duration;
use yida_api::DownloadError;

/// Download attachments of form data (upload is not in Yida's open API: host the file and
/// write its URL into the attachment value, or upload it in Yida's own page).
#[derive(clap::Args, Debug)]
pub struct AttachmentArgs {
    #[command(subcommand)]
    command: AttachmentCommand,
}

#[derive(clap::Subcommand, Debug)]
enum AttachmentCommand {
    /// Download one attachment: the stored URL (`downloadUrl` or `url` of the value) is
    /// exchanged through GetOpenUrl for a temporary URL (asked again when it expired) and
    /// streamed to the file.
    Get(GetArgs),
}

#[derive(clap::Args, Debug)]
struct GetArgs {
    /// The attachment URL as stored in the form data.
    url: String,
    /// Where to write the file (`-`: standard output). The file appears only when complete.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Refuse files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = yida_api::download::DEFAULT_DOWNLOAD_LIMIT)]
    max_bytes: u64,
    /// Lifetime asked for the temporary URL, in seconds (1 to 86400; default: the service's).
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
    link_lifetime: Option<u64>,
}

/// Runs `yida attachment …`.
pub async fn run(args: AttachmentArgs) -> Result<(), Fail> {
    match args.command {
        AttachmentCommand::Get(a) => get(a).await,
    }
}

async fn get(args: GetArgs) -> Result<(), Fail> {
    let client = crate::config::client()?;
    let mut d = client.download(&args.url).limit(args.max_bytes);
    if let Some(s) = args.link_lifetime {
        d = d.link_lifetime(Duration::from_secs(s));
    }
    let result = if args.output.as_os_str() == "-" {
        let mut out = tokio::io::stdout();
        d.to_writer(&mut out).await
    } else {
        d.to_file(&args.output).await
    };
    match result {
        Ok(n) => {
            if args.output.as_os_str() != "-" {
                crate::out::note(&format!("{n} bytes written to {}", args.output.display()));
            }
            Ok(())
        }
        Err(DownloadError::OpenUrl(e)) => Err(Fail::from(*e)),
        Err(e @ DownloadError::InvalidUrl(_)) => Err(Fail(USAGE, chain(&e))),
        Err(DownloadError::Io(e)) if args.output.as_os_str() == "-" => {
            Err(crate::out::output_error(e))
        }
        Err(e @ DownloadError::Io(_)) => Err(Fail(OUTPUT, chain(&e))),
        Err(e) => Err(Fail(FAILED, chain(&e))),
    }
}
