//! `yida import <formUuid> [FILE|-]`: NDJSON records in, one outcome per record out.

use crate::config::client;
use crate::fail::Fail;
use crate::out::output_error;
use std::io::{BufRead, Write};
use yida_api::bulk::Outcome;

/// Records from NDJSON (one JSON object of field values per line) into a form through
/// BatchSaveFormData, in chunks, paced under the quota.
///
/// Prints one NDJSON outcome per input line: `{"line":N,"ok":true,"instanceId":…}` or
/// `{"line":N,"ok":false,"error":…,"maybeApplied":…,"record":…}`; exits 1 when any record
/// failed. A chunk is never sent twice after a reply that may mean it was applied
/// (`"maybeApplied":true`: check the form). With `--checkpoint FILE`, `--resume` continues an
/// interrupted import with the same input without writing a record twice.
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
}

/// Runs `yida import`: BatchSaveFormData in chunks under the quota; prints one NDJSON line per
/// record (`{"line":N,"ok":true,"instanceId":…}` or `{"line":N,"ok":false,"error":…,
/// "maybeApplied":…,"record":…}`); exits 1 when any record failed.
pub async fn run(args: ImportArgs) -> Result<(), Fail> {
    let client = client()?;
    let file = args.file.as_ref().filter(|f| *f != "-");
    let reader: Box<dyn BufRead> = match file {
        Some(f) => Box::new(std::io::BufReader::new(
            std::fs::File::open(f).map_err(|e| Fail::usage(format!("cannot read {f}: {e}")))?,
        )),
        None => Box::new(std::io::stdin().lock()),
    };
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
    let records = reader.lines().enumerate().filter_map(|(i, line)| {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                *read_err.borrow_mut() = Some(e);
                return None;
            }
        };
        if line.trim().is_empty() {
            return None;
        }
        match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(v) if v.is_object() => {
                lines.borrow_mut().push(i as u64 + 1);
                Some(v)
            }
            Ok(_) | Err(_) => {
                bad.set(bad.get() + 1);
                emit(serde_json::json!({
                    "line": i + 1, "ok": false, "maybeApplied": false,
                    "error": "not a JSON object of field values; not sent",
                    "text": line.chars().take(200).collect::<String>(),
                }));
                None
            }
        }
    });
    let mut bulk = client
        .bulk(&args.form_uuid)
        .concurrency(usize::from(args.concurrency))
        .chunk_size(usize::from(args.chunk_size));
    if let Some(cp) = &args.checkpoint {
        bulk = bulk.checkpoint(cp).resume(args.resume);
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
    if let Some(e) = read_err.into_inner() {
        return Err(Fail(1, format!("error: reading the input failed: {e}")));
    }
    let failed = summary.failed + bad.get();
    eprintln!(
        "{}imported: {} written ({} by an earlier run), {} failed, {} batch calls",
        if tty { "\r" } else { "" },
        summary.written,
        summary.resumed,
        failed,
        summary.calls
    );
    if failed > 0 {
        return Err(Fail(
            1,
            format!("error: {failed} records were not written (see the lines with \"ok\":false)"),
        ));
    }
    Ok(())
}
