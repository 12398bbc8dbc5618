//! `yida export <formUuid>`: every record of a form as NDJSON on stdout, progress on stderr.

use crate::{client, Fail};
use futures_util::StreamExt;
use std::io::{IsTerminal, Write};

/// Arguments of `yida export`.
#[derive(Debug)]
pub struct ExportArgs {
    /// The form (`FORM-…`).
    pub form_uuid: String,
    /// Pages in flight at once (default 4; 1 = sequential).
    pub concurrency: usize,
}

/// Usage text of `yida export`.
pub const USAGE: &str = "yida export <formUuid> [--concurrency N]";

impl ExportArgs {
    /// Parses the arguments after `export`.
    pub fn parse(args: &[String]) -> Result<Self, Fail> {
        let mut form = None;
        let mut concurrency = 4;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--concurrency" => concurrency = crate::import::count(it.next(), "--concurrency")?,
                s if s.starts_with("--") => {
                    return Err(Fail(2, format!("error: unknown option {s}\nusage: {USAGE}")))
                }
                s if form.is_none() => form = Some(s.to_string()),
                s => return Err(Fail(2, format!("error: unexpected argument {s}"))),
            }
        }
        let form_uuid =
            form.ok_or_else(|| Fail(2, format!("error: which form? usage: {USAGE}")))?;
        Ok(ExportArgs {
            form_uuid,
            concurrency,
        })
    }
}

/// Runs `yida export`: SearchFormDatas 2.0 page by page (`--concurrency` pages at once once
/// `totalCount` is known, paced under the quota), one record per line.
pub async fn run(args: ExportArgs) -> Result<(), Fail> {
    let client = client()?;
    let mut records = client
        .paginate_json(
            "SearchFormDatas",
            "2.0",
            serde_json::json!({ "formUuid": args.form_uuid }),
        )?
        .concurrency(args.concurrency);
    let tty = std::io::stderr().is_terminal();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut n: i64 = 0;
    while let Some(record) = records.next().await {
        let record = record?;
        let line = serde_json::to_string(&record).unwrap_or_default();
        if let Err(e) = writeln!(out, "{line}") {
            return crate::import::output_error(e);
        }
        n += 1;
        if n % 100 == 0 {
            if let Err(e) = out.flush() {
                return crate::import::output_error(e);
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
        return crate::import::output_error(e);
    }
    eprintln!("{}exported {n} records", if tty { "\r" } else { "" });
    Ok(())
}
