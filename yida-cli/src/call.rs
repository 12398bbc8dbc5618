//! `yida call`: send one operation (or walk every page of a list operation).

use crate::fail::Fail;
use std::io::{IsTerminal, Read, Write};
use yida_api::{Client, OperationMeta};

/// Send one operation and print the reply as JSON.
///
/// --input is one JSON object of the operation's parameters by their wire names (path
/// parameters included); JSON-text parameters such as formDataJson may be given as text or as
/// the JSON value.
#[derive(clap::Args, Debug)]
pub struct CallArgs {
    /// The operation's action name, e.g. SaveFormData (see `yida ops`).
    pub action: String,
    /// API version of the operation.
    #[arg(long, value_name = "VERSION", value_parser = ["1.0", "2.0"], default_value = "1.0")]
    pub api_version: String,
    /// The parameters: one JSON object, `@file` to read it from a file, or `-` for stdin.
    #[arg(long, value_name = "JSON | @file | -")]
    pub input: Option<String>,
    /// Walk every page of a list operation; print one JSON item per line, progress on stderr.
    #[arg(long)]
    pub all: bool,
}

fn read_input(arg: Option<&str>) -> Result<serde_json::Value, Fail> {
    let text = match arg {
        None => return Ok(serde_json::json!({})),
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Fail::usage(format!("cannot read standard input: {e}")))?;
            s
        }
        Some(a) if a.starts_with('@') => std::fs::read_to_string(&a[1..])
            .map_err(|e| Fail::usage(format!("cannot read {}: {e}", &a[1..])))?,
        Some(a) => a.to_string(),
    };
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Fail::usage(format!("--input is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(Fail::usage(
            "--input must be one JSON object of parameters by wire name",
        ));
    }
    Ok(v)
}

fn find_op(action: &str, version: &str) -> Result<&'static OperationMeta, Fail> {
    let ops = yida_api::operations();
    if let Some(op) = ops
        .iter()
        .find(|o| o.action == action && o.version == version)
    {
        return Ok(op);
    }
    let other: Vec<&str> = ops
        .iter()
        .filter(|o| o.action.eq_ignore_ascii_case(action))
        .map(|o| o.version)
        .collect();
    let hint = if other.is_empty() {
        "see `yida ops`".to_string()
    } else {
        format!(
            "it exists in API version {} (use --api-version)",
            other.join(", ")
        )
    };
    Err(Fail::usage(format!(
        "unknown operation {action}@{version}: {hint}"
    )))
}

/// Sends the operation and prints the reply.
pub async fn run(args: CallArgs) -> Result<(), Fail> {
    let meta = find_op(&args.action, &args.api_version)?;
    let input = read_input(args.input.as_deref())?;
    let client = crate::config::client()?;
    if args.all {
        return call_all(&client, meta, input).await;
    }
    let reply = client
        .call_dynamic(meta.action, meta.version, input)
        .await?;
    if let Some(v) = reply {
        let mut out = std::io::stdout().lock();
        let text = serde_json::to_string_pretty(&v).unwrap_or_default();
        let _ = writeln!(out, "{text}");
    }
    Ok(())
}

/// `--all`: every page, one JSON item per line, progress on stderr.
async fn call_all(
    client: &Client,
    meta: &OperationMeta,
    input: serde_json::Value,
) -> Result<(), Fail> {
    if meta.pagination.is_none() {
        return Err(Fail::usage(format!(
            "{} is not a paginated operation; --all does not apply",
            meta.id()
        )));
    }
    let mut pages = client.paginate_json(meta.action, meta.version, input)?;
    let tty = std::io::stderr().is_terminal();
    let stdout = std::io::stdout();
    while let Some(items) = pages.next_items().await {
        let items = items?;
        let mut out = stdout.lock();
        for item in &items {
            let _ = writeln!(out, "{}", serde_json::to_string(item).unwrap_or_default());
        }
        let _ = out.flush();
        progress(tty, pages.pages(), pages.fetched(), pages.total_count());
    }
    if tty {
        eprintln!();
    }
    Ok(())
}

fn progress(tty: bool, page: i64, seen: i64, total: Option<i64>) {
    let total_s = total.map(|t| t.to_string()).unwrap_or_else(|| "?".into());
    if tty {
        let width = 30usize;
        let filled = match total {
            Some(t) if t > 0 => ((seen.min(t) as f64 / t as f64) * width as f64) as usize,
            _ => 0,
        };
        eprint!(
            "\r[{}{}] {seen}/{total_s} items, page {page}",
            "#".repeat(filled),
            " ".repeat(width - filled)
        );
    } else {
        eprintln!("page {page}: {seen}/{total_s} items");
    }
}
