//! Guide: docs/guides/export-import.md — exporting and importing a form at the quota.
//!
//! Export: every form instance (表单实例) of a form, pages fetched 4 at a time, paced under
//! DingTalk's 20 calls/s per app and API, written as one JSON object per line. Import: those
//! lines written back through the batch operation, 4 batch calls in flight, paced the same
//! way, with a checkpoint file so an interrupted run resumes without writing twice.
//!
//! Usage: export_import <dir>   (writes <dir>/export.ndjson and <dir>/import.checkpoint)

use std::io::{BufRead, BufWriter, Write};
use yida_api::bulk::Outcome;
use yida_api::{AppContext, Client, SearchFormDatasV2Request};
use yida_examples::var;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: export_import <dir>")?,
    );
    let form = var("YIDA_DEMO_FORM_UUID")?;
    // One client: its limiter paces the concurrent walk and the bulk writer (19 calls/s per
    // app and API by default, slowing down by itself when DingTalk throttles).
    let client = Client::builder()
        .endpoint(var("YIDA_ENDPOINT")?)
        .internal_app(var("YIDA_APP_KEY")?, var("YIDA_APP_SECRET")?)?
        .context(
            AppContext::new()
                .app_type(var("YIDA_APP_TYPE")?)
                .system_token(var("YIDA_SYSTEM_TOKEN")?)
                .user_id(var("YIDA_USER_ID")?),
        )
        .build()?;

    // Export. Small pages here so that the walk needs many calls; 100 (the default and the
    // maximum) in real use.
    let file = dir.join("export.ndjson");
    let mut out = BufWriter::new(std::fs::File::create(&file)?);
    let mut records = client
        .paginate(SearchFormDatasV2Request::new(&form).page_size(10))
        .concurrency(4);
    let mut exported = 0;
    while let Some(record) = records.next().await {
        if let Some(data) = record?.form_data {
            serde_json::to_writer(&mut out, &data.to_value()?)?;
            out.write_all(b"\n")?;
            exported += 1;
        }
    }
    out.flush()?;
    println!("exported {exported} records");

    // Import (here into the same form; usually another tenant's or a copy).
    let lines = std::io::BufReader::new(std::fs::File::open(&file)?).lines();
    let rows: Vec<serde_json::Value> = lines
        .map(|line| Ok(serde_json::from_str(&line?)?))
        .collect::<Result<_, Box<dyn std::error::Error>>>()?;
    let mut failed = Vec::new();
    let summary = client
        .bulk(&form)
        .chunk_size(10)
        .concurrency(4)
        .checkpoint(dir.join("import.checkpoint"))
        .save(rows, |outcome| {
            if let Outcome::Failed {
                index,
                error,
                maybe_applied,
                ..
            } = outcome
            {
                failed.push(format!(
                    "line {}: {error} (maybe applied: {maybe_applied})",
                    index + 1
                ));
            }
        })
        .await?;
    for f in &failed {
        eprintln!("{f}");
    }
    println!(
        "imported {} records in {} batch calls, {} failed",
        summary.written, summary.calls, summary.failed
    );
    Ok(())
}
