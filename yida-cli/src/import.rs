//! `yida import <formUuid> [FILE|-]`: NDJSON records in, one outcome per record out.

use crate::{client, Fail};
use std::io::{BufRead, Write};
use yida_api::bulk::Outcome;

/// Arguments of `yida import`.
#[derive(Debug)]
pub struct ImportArgs {
    /// The form (`FORM-…`).
    pub form_uuid: String,
    /// NDJSON file of records (`-` or absent: standard input).
    pub file: Option<String>,
    /// Batch calls in flight at once (default 4).
    pub concurrency: usize,
    /// Records per batch call (default 100).
    pub chunk_size: usize,
    /// Progress file (JSON lines) for `--resume`.
    pub checkpoint: Option<String>,
    /// Continue an interrupted import from `--checkpoint`.
    pub resume: bool,
}

/// Usage text of `yida import`.
pub const USAGE: &str = "yida import <formUuid> [FILE|-] [--concurrency N] [--chunk-size N] [--checkpoint FILE [--resume]]";

pub(crate) fn count(v: Option<&String>, name: &str) -> Result<usize, Fail> {
    v.and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| Fail(2, format!("error: {name} needs a positive number")))
}

/// A failed write to stdout: a closed pipe ends quietly, anything else is an error.
pub(crate) fn output_error(e: std::io::Error) -> Result<(), Fail> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return Ok(());
    }
    Err(Fail(1, format!("error: cannot write the output: {e}")))
}

impl ImportArgs {
    /// Parses the arguments after `import`.
    pub fn parse(args: &[String]) -> Result<Self, Fail> {
        let mut pos = Vec::new();
        let mut a = ImportArgs {
            form_uuid: String::new(),
            file: None,
            concurrency: 4,
            chunk_size: yida_api::bulk::DEFAULT_CHUNK_SIZE,
            checkpoint: None,
            resume: false,
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--concurrency" => a.concurrency = count(it.next(), "--concurrency")?,
                "--chunk-size" => {
                    a.chunk_size = count(it.next(), "--chunk-size")?;
                    if a.chunk_size > yida_api::bulk::MAX_CHUNK_SIZE {
                        return Err(Fail(2, format!("error: --chunk-size is at most {}", yida_api::bulk::MAX_CHUNK_SIZE)));
                    }
                }
                "--checkpoint" => {
                    a.checkpoint = Some(it.next().cloned().ok_or_else(|| {
                        Fail(2, "error: --checkpoint needs a file".into())
                    })?)
                }
                "--resume" => a.resume = true,
                "-" => pos.push(arg.clone()),
                s if s.starts_with("--") => {
                    return Err(Fail(2, format!("error: unknown option {s}\nusage: {USAGE}")))
                }
                s => pos.push(s.to_string()),
            }
        }
        if pos.is_empty() || pos.len() > 2 {
            return Err(Fail(2, format!("error: usage: {USAGE}")));
        }
        if a.resume && a.checkpoint.is_none() {
            return Err(Fail(2, "error: --resume needs --checkpoint FILE".into()));
        }
        a.form_uuid = pos[0].clone();
        a.file = pos.get(1).filter(|f| *f != "-").cloned();
        Ok(a)
    }
}

/// Runs `yida import`: BatchSaveFormData in chunks under the quota; prints one NDJSON line per
/// record (`{"line":N,"ok":true,"instanceId":…}` or `{"line":N,"ok":false,"error":…,
/// "maybeApplied":…,"record":…}`); exits 1 when any record failed.
pub async fn run(args: ImportArgs) -> Result<(), Fail> {
    let client = client()?;
    let reader: Box<dyn BufRead> = match &args.file {
        Some(f) => Box::new(std::io::BufReader::new(
            std::fs::File::open(f).map_err(|e| Fail(2, format!("error: cannot read {f}: {e}")))?,
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
        .concurrency(args.concurrency)
        .chunk_size(args.chunk_size);
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
        output_error(e)?;
    } else if let Err(e) = flushed {
        output_error(e)?;
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
        return Err(Fail(1, format!("error: {failed} records were not written (see the lines with \"ok\":false)")));
    }
    Ok(())
}
