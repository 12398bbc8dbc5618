//! `--dry-run` of `yida call`, `export` and `import`: the request(s) the job would send
//! (secrets redacted), the validation result and the number of calls it would use; nothing is
//! sent (`--probe`: one real call to learn `totalCount`).

use crate::fail::Fail;
use crate::import_input::{next_line, Line};
use serde_json::{json, Value};
use yida_api::dry_run::{walk_page_size, PlannedRequest};
use yida_api::{Client, OperationMeta, DEFAULT_MAX_PAGES};

/// The plan printed on stdout (one JSON document), with what is left of the budget.
async fn finish(doc: Value) -> Result<(), Fail> {
    emit(doc, budget_left().await)
}

fn emit(mut doc: Value, budget: Option<(u64, u64)>) -> Result<(), Fail> {
    doc["dryRun"] = true.into();
    if let Some((left, limit)) = budget {
        doc["budget"] = json!({"limit": limit, "left": left});
        if let Some(calls) = doc["calls"].as_u64() {
            if calls > left {
                doc["warning"] =
                    format!("the job needs {calls} calls; the monthly budget has {left} left")
                        .into();
            }
        }
    }
    crate::out::stdout(&format!("{doc}\n"))
}

/// What is left of the configured budget this month, and the limit (from the file ledger).
async fn budget_left() -> Option<(u64, u64)> {
    let c = crate::quota::config().ok()??;
    let b = c.budget?;
    let usage = yida_api::ledger::Ledger::new(yida_api::ledger::FileLedger::new(&c.dir))
        .usage(yida_api::ledger::Month::now())
        .await
        .ok()?;
    let used = usage.orgs.get(&c.org).map(|u| u.calls).unwrap_or(0);
    Some((b.limit().saturating_sub(used), b.limit()))
}

fn plan_json(p: &PlannedRequest) -> Value {
    serde_json::to_value(p).unwrap_or_default()
}

/// A refused plan: the validation error, and exit 2 (nothing sent).
fn refused(e: yida_api::Error) -> Fail {
    let f = Fail::from(e);
    let _ = emit(
        json!({"validation": f.1.trim_start_matches("error: "), "calls": 0}),
        None,
    );
    f
}

/// Pages a walk would fetch for `total` items from page 1, and whether the cap cut it.
fn pages_for(total: i64, page_size: i64, max_pages: Option<u64>) -> (u64, bool) {
    let pages = yida_api::dry_run::pages_for(total, page_size);
    let cap = max_pages.unwrap_or(DEFAULT_MAX_PAGES);
    (pages.min(cap), pages > cap)
}

/// `yida call … --dry-run [--all [--probe]]`.
pub async fn call(
    client: &Client,
    meta: &'static OperationMeta,
    input: Value,
    all: bool,
    probe: bool,
    max_pages: Option<u64>,
) -> Result<(), Fail> {
    if !all {
        if probe {
            return Err(Fail::usage("--probe applies to --all (a walk of pages)"));
        }
        let plan = client.plan(meta, input).await.map_err(refused)?;
        return finish(json!({"requests": [plan_json(&plan)], "validation": "ok", "calls": 1}))
            .await;
    }
    let Some(style) = meta.pagination else {
        return Err(Fail::usage(format!(
            "{} is not a paginated operation; --all does not apply",
            meta.id
        )));
    };
    let page_key = style.page_param();
    walk(client, meta, input, page_key, probe, max_pages).await
}

async fn walk(
    client: &Client,
    meta: &'static OperationMeta,
    input: Value,
    page_key: &str,
    probe: bool,
    max_pages: Option<u64>,
) -> Result<(), Fail> {
    let mut first = input.clone();
    let size = walk_page_size(input.get("pageSize").and_then(Value::as_i64));
    first[page_key] = 1.into();
    first["pageSize"] = size.into();
    let plan = client.plan(meta, first.clone()).await.map_err(refused)?;
    let mut doc = json!({"requests": [plan_json(&plan)], "validation": "ok"});
    if !probe {
        doc["calls"] = Value::Null;
        doc["note"] = format!(
            "one call per page of {size}; the pages are known from the first page's totalCount \
             (--probe spends one call to learn it); at most {} pages",
            max_pages.unwrap_or(DEFAULT_MAX_PAGES)
        )
        .into();
        return finish(doc).await;
    }
    let reply: Value = match client.call(meta, first).await? {
        Some(raw) => serde_json::from_str(raw.get()).unwrap_or_default(),
        None => Value::Null,
    };
    let Some(total) = reply.get("totalCount").and_then(Value::as_i64) else {
        doc["calls"] = Value::Null;
        doc["probe"] = json!({"calls": 1, "totalCount": null});
        doc["note"] =
            "the probe's reply has no totalCount; the walk would stop after page 1".into();
        return finish(doc).await;
    };
    let (pages, capped) = pages_for(total, size, max_pages);
    doc["calls"] = pages.into();
    doc["probe"] = json!({"calls": 1, "totalCount": total, "pages": pages});
    if capped {
        doc["note"] = format!(
            "totalCount {total} needs more pages than the cap of {pages}: the walk would stop \
             there with an error (raise it with --max-pages)"
        )
        .into();
    }
    finish(doc).await
}

/// `yida export FORM --dry-run [--probe]`.
pub async fn export(
    client: &Client,
    form_uuid: &str,
    probe: bool,
    max_pages: Option<u64>,
) -> Result<(), Fail> {
    let meta = yida_api::operation("SearchFormDatas", "2.0")
        .ok_or_else(|| Fail::usage("SearchFormDatas@2.0 is not in this build"))?;
    walk(
        client,
        meta,
        json!({"formUuid": form_uuid}),
        "currentPage",
        probe,
        max_pages,
    )
    .await
}

/// `yida import FORM FILE --dry-run`: the input is read and checked line by line, and the
/// batch requests built from it, chunk by chunk.
pub async fn import(
    client: &Client,
    form_uuid: &str,
    file: Option<&str>,
    chunk_size: usize,
    max_line: u64,
) -> Result<(), Fail> {
    let mut reader = crate::import_input::open(file)?;
    let mut records: Vec<String> = Vec::new();
    let mut refused_lines: Vec<Value> = Vec::new();
    let mut number: u64 = 0;
    loop {
        let line = next_line(&mut *reader, max_line).map_err(|e| {
            Fail::usage(format!("reading the input failed after line {number}: {e}"))
        })?;
        let Some(line) = line else { break };
        number += 1;
        let bytes = match line {
            Line::TooLong(len) => {
                refused_lines.push(json!({"line": number, "error": format!("line is {len} bytes, longer than the {max_line}-byte cap")}));
                continue;
            }
            Line::Text(b) => b,
        };
        let Ok(text) = String::from_utf8(bytes) else {
            refused_lines.push(json!({"line": number, "error": "not valid UTF-8"}));
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(&text) {
            Ok(v) if v.is_object() => records.push(v.to_string()),
            _ => refused_lines
                .push(json!({"line": number, "error": "not a JSON object of field values"})),
        }
    }
    let meta = yida_api::operation("BatchSaveFormData", "1.0")
        .ok_or_else(|| Fail::usage("BatchSaveFormData@1.0 is not in this build"))?;
    let mut requests = Vec::new();
    for chunk in records.chunks(chunk_size.max(1)) {
        let input = json!({"formUuid": form_uuid, "formDataJsonList": chunk});
        let plan = client.plan(meta, input).await.map_err(refused)?;
        requests.push(plan_json(&plan));
    }
    let calls = requests.len();
    finish(json!({
        "requests": requests,
        "validation": if refused_lines.is_empty() { json!("ok") } else { json!({"refusedLines": refused_lines}) },
        "records": records.len(),
        "calls": calls,
        "note": "one batch call per chunk; a chunk refused for one record's content costs up to --isolate-calls more calls to find it",
    }))
    .await
}
