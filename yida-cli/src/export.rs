//! `yida export <formUuid>`: every record of a form as NDJSON on stdout, progress on stderr.

use crate::config::client;
use crate::fail::{Fail, CHANGED};
use crate::out::output_error;
use std::io::{IsTerminal, Write};

/// Every record of a form (SearchFormDatas 2.0) as NDJSON on stdout, progress on stderr.
///
/// Pages are fetched `--concurrency` at a time once the first page has told `totalCount`,
/// paced under DingTalk's quota (19 calls/s per app and API, slowing down if throttled).
/// Records changing during the export shift between pages: each instance is printed once
/// (by `formInstanceId`), the walk follows a growing `totalCount`, and when the form changed
/// under the export the command says so and exits 5 (records removed meanwhile may be missing;
/// run it again, or use `--concurrency 1` on a form being written to).
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The form (`FORM-…`).
    pub form_uuid: String,
    /// Pages in flight at once (1 = one page at a time).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Fetch at most N pages (100 records each); past it the export stops with an error
    /// [default: 1000, and an export needing more stops after its first page].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pages: Option<u64>,
    /// Print the first request (secrets redacted) and the calls the export would use; send
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: spend one real call (page 1) to learn totalCount, so the number of calls
    /// is known.
    #[arg(long, requires = "dry_run")]
    pub probe: bool,
}

/// Runs `yida export`: SearchFormDatas 2.0 page by page (`--concurrency` pages at once once
/// `totalCount` is known, paced under the quota), one record per line.
pub async fn run(args: ExportArgs) -> Result<(), Fail> {
    let client = client()?;
    if args.dry_run {
        return crate::dry_run::export(&client, &args.form_uuid, args.probe, args.max_pages).await;
    }
    let mut records = client
        .paginate_json(
            yida_api::OpId::SearchFormDatasV2
                .meta()
                .ok_or_else(|| Fail::usage("this build has no `search` area"))?,
            serde_json::json!({ "formUuid": args.form_uuid }),
        )?
        .concurrency(usize::from(args.concurrency));
    if let Some(n) = args.max_pages {
        records = records.max_pages(n);
    }
    let tty = std::io::stderr().is_terminal();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut n: i64 = 0;
    // Each instance once: pages shift when records are added or removed during the export.
    let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut duplicates: u64 = 0;
    while let Some(record) = records.next().await {
        let record = record?;
        if let Some(id) = record.get("formInstanceId").and_then(|v| v.as_str()) {
            if !seen.insert(id.to_string()) {
                duplicates += 1;
                continue;
            }
        }
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
    if duplicates > 0 || records.total_changed() {
        let totals = match (records.total_count(), records.latest_total_count()) {
            (Some(a), Some(b)) if a != b => format!("totalCount went from {a} to {b}; "),
            _ => String::new(),
        };
        return Err(Fail(
            CHANGED,
            format!(
                "warning: the form changed during the export ({totals}{duplicates} records seen \
                 twice were printed once): records added or removed meanwhile may be missing; \
                 run it again, or filter by a time range"
            ),
        ));
    }
    Ok(())
}
