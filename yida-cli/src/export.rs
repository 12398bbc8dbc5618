//! `yida export <formUuid>`: every record of a form as NDJSON on stdout, progress on stderr.

use crate::config::client;
use crate::fail::Fail;
use crate::out::output_error;
use futures_util::StreamExt;
use std::io::{IsTerminal, Write};

/// Every record of a form (SearchFormDatas 2.0) as NDJSON on stdout, progress on stderr.
///
/// Pages are fetched `--concurrency` at a time once the first page has told `totalCount`,
/// paced under DingTalk's quota (19 calls/s per app and API, slowing down if throttled).
/// Records changing during the export can shift between pages: use `--concurrency 1` on a
/// form being written to.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The form (`FORM-…`).
    pub form_uuid: String,
    /// Pages in flight at once (1 = one page at a time).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
}

/// Runs `yida export`: SearchFormDatas 2.0 page by page (`--concurrency` pages at once once
/// `totalCount` is known, paced under the quota), one record per line.
pub async fn run(args: ExportArgs) -> Result<(), Fail> {
    let client = client()?;
    let mut records = client
        .paginate_json(
            yida_api::OpId::SearchFormDatasV2
                .meta()
                .ok_or_else(|| Fail::usage("this build has no `search` area"))?,
            serde_json::json!({ "formUuid": args.form_uuid }),
        )?
        .concurrency(usize::from(args.concurrency));
    let tty = std::io::stderr().is_terminal();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut n: i64 = 0;
    while let Some(record) = records.next().await {
        let record = record?;
        let line = serde_json::to_string(&record).unwrap_or_default();
        if let Err(e) = writeln!(out, "{line}") {
            return Err(output_error(e));
        }
        n += 1;
        if n % 100 == 0 {
            if let Err(e) = out.flush() {
                return Err(output_error(e));
            }
            let total = records
                .total_count()
                .map(|t| t.to_string())
                .unwrap_or_else(|| "?".into());
            if tty {
                eprint!("\r{n}/{total} records");
            } else {
                eprintln!("{n}/{total} records");
            }
        }
    }
    if let Err(e) = out.flush() {
        return Err(output_error(e));
    }
    eprintln!("{}exported {n} records", if tty { "\r" } else { "" });
    Ok(())
}
