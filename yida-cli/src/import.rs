//! `yida import <formUuid> [FILE|-]`: NDJSON records in, one outcome per record out.

use crate::config::client;
use crate::fail::Fail;
use crate::out::output_error;
use std::io::Write;
use yida_api::bulk::Outcome;

/// Records from NDJSON (one JSON object of field values per line) into a form through
/// BatchSaveFormData, in chunks, paced under the quota.
///
/// Prints one NDJSON outcome per input line (blank lines excepted):
/// `{"line":N,"ok":true,"instanceId":…}` or `{"line":N,"ok":false,"error":…,"maybeApplied":…,
/// "record":…}`; lines that are not records (too long, not UTF-8, not a JSON object) get
/// `"ok":false` and are not sent. Exits 1 when any record failed. The input is a regular file
/// or standard input. A chunk refused for one record's content is split until each bad record
/// stands alone, so the others are written and each refused line carries its own error. A
/// chunk is never sent twice after a reply that may mean it was applied (`"maybeApplied":true`:
/// check the form). With `--checkpoint FILE`, `--resume` continues an interrupted import with
/// the same input without writing a record twice.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The form (`FORM-…`).
    pub form_uuid: String,
    /// NDJSON file of records (`-` or absent: standard input).
    pub file: Option<String>,
    /// Batch calls in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// Records per batch call (at most 5000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=5000))]
    pub chunk_size: u16,
    /// Progress file (JSON lines): what was sent and written, for `--resume`.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<String>,
    /// Continue an interrupted import from `--checkpoint` (same input, same order).
    #[arg(long, requires = "checkpoint")]
    pub resume: bool,
    /// Longest input line accepted, in bytes; a longer line is reported and not sent.
    #[arg(long, value_name = "BYTES", default_value_t = crate::import_input::DEFAULT_MAX_LINE_BYTES, value_parser = clap::value_parser!(u64).range(2..))]
    pub max_line_bytes: u64,
    /// Extra batch calls per refused chunk to find its bad records by splitting it (0: none;
    /// default: enough to isolate one bad record).
    #[arg(long, value_name = "N")]
    pub isolate_calls: Option<u64>,
    /// Read and check the input and print the batch requests it would send (secrets
    /// redacted) and their number; send nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs `yida import`: BatchSaveFormData in chunks under the quota; prints one NDJSON line per
/// record (`{"line":N,"ok":true,"instanceId":…}` or `{"line":N,"ok":false,"error":…,
/// "maybeApplied":…,"record":…}`); exits 1 when any record failed.
pub async fn run(args: ImportArgs) -> Result<(), Fail> {
    let client = client()?;
    if args.dry_run {
        return crate::dry_run::import(
            &client,
            &args.form_uuid,
            args.file.as_deref(),
            usize::from(args.chunk_size),
            args.max_line_bytes,
        )
        .await;
    }
    let mut reader = crate::import_input::open(args.file.as_deref())?;
    let max_line = args.max_line_bytes;
    let stdout = std::io::stdout();
    let out = std::cell::RefCell::new(std::io::BufWriter::new(stdout.lock()));
    let out_err: std::cell::RefCell<Option<std::io::Error>> = Default::default();
    let emit = |v: serde_json::Value| {
        if out_err.borrow().is_some() {
            return;
        }
        if let Err(e) = writeln!(out.borrow_mut(), "{v}") {
            *out_err.borrow_mut() = Some(e);
        }
    };
    // Line numbers of the records handed to the writer, by their index.
    let lines = std::cell::RefCell::new(Vec::<u64>::new());
    let bad = std::cell::Cell::new(0u64);
    let read_err: std::cell::RefCell<Option<std::io::Error>> = Default::default();
    let number = std::cell::Cell::new(0u64);
    // Every input line gets an outcome: blank lines are skipped, lines that are not records
    // (too long, not UTF-8, not a JSON object) are reported here and never sent. A read error
    // ends the input (reported after the summary).
    let records = std::iter::from_fn(|| loop {
        if read_err.borrow().is_some() {
            return None;
        }
        let line = match crate::import_input::next_line(&mut *reader, max_line) {
            Ok(Some(l)) => l,
            Ok(None) => return None,
            Err(e) => {
                *read_err.borrow_mut() = Some(e);
                return None;
            }
        };
        number.set(number.get() + 1);
        let number = number.get();
        let refuse = |error: String, text: Option<String>| {
            bad.set(bad.get() + 1);
            let mut v = serde_json::json!({
                "line": number, "ok": false, "maybeApplied": false, "error": error,
            });
            if let Some(t) = text {
                v["text"] = t.into();
            }
            emit(v);
        };
        let bytes = match line {
            crate::import_input::Line::TooLong(len) => {
                refuse(
                    format!("line is {len} bytes, longer than the {max_line}-byte cap (--max-line-bytes); not sent"),
                    None,
                );
                continue;
            }
            crate::import_input::Line::Text(b) => b,
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let at = e.utf8_error().valid_up_to();
                let lossy = String::from_utf8_lossy(e.as_bytes())
                    .chars()
                    .take(200)
                    .collect();
                refuse(
                    format!("not valid UTF-8 (at byte {at}); not sent"),
                    Some(lossy),
                );
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(v) if v.is_object() => {
                lines.borrow_mut().push(number);
                return Some(v);
            }
            Ok(_) | Err(_) => {
                refuse(
                    "not a JSON object of field values; not sent".into(),
                    Some(text.chars().take(200).collect()),
                );
            }
        }
    });
    let mut bulk = client
        .bulk(&args.form_uuid)
        .concurrency(usize::from(args.concurrency))
        .chunk_size(usize::from(args.chunk_size));
    if let Some(cp) = &args.checkpoint {
        bulk = if args.resume {
            bulk.resume(cp)
        } else {
            bulk.checkpoint(cp)
        };
    }
    if let Some(n) = args.isolate_calls {
        bulk = bulk.isolate_calls(n);
    }
    let done = std::cell::Cell::new(0u64);
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let summary = bulk
        .save(records, |o| {
            let line = lines.borrow().get(o.index() as usize).copied().unwrap_or(0);
            match o {
                Outcome::Written {
                    instance_id,
                    resumed,
                    ..
                } => emit(serde_json::json!({"line": line, "ok": true, "instanceId": instance_id, "resumed": resumed})),
                Outcome::Failed {
                    record,
                    error,
                    maybe_applied,
                    ..
                } => emit(serde_json::json!({
                    "line": line, "ok": false, "maybeApplied": maybe_applied,
                    "error": error.to_string(), "record": record,
                })),
            }
            done.set(done.get() + 1);
            if done.get().is_multiple_of(1000) {
                eprint!("{}{} records done", if tty { "\r" } else { "" }, done.get());
                if !tty {
                    eprintln!();
                }
            }
        })
        .await?;
    let flushed = out.borrow_mut().flush();
    if let Some(e) = out_err.into_inner() {
        return Err(output_error(e));
    } else if let Err(e) = flushed {
        return Err(output_error(e));
    }
    let failed = summary.failed + bad.get();
    eprintln!(
        "{}imported: {} written ({} by an earlier run), {} failed, {} batch calls{}",
        if tty { "\r" } else { "" },
        summary.written,
        summary.resumed,
        failed,
        summary.calls,
        if summary.isolation_calls > 0 {
            format!(
                " ({} of them to isolate the records of refused chunks)",
                summary.isolation_calls
            )
        } else {
            String::new()
        }
    );
    if let Some(e) = read_err.into_inner() {
        return Err(Fail(
            1,
            format!("error: reading the input failed after line {}: {e}; the lines after it were not read", number.get()),
        ));
    }
    if failed > 0 {
        return Err(Fail(
            1,
            format!("error: {failed} records were not written (see the lines with \"ok\":false)"),
        ));
    }
    Ok(())
}
