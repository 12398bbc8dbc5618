//! `yida sync`: keep a SQL copy of forms (SQLite file or PostgreSQL database).

use std::time::Duration;

use crate::fail::{Fail, FAILED, USAGE};
use yida_sync::{Deletions, Mirror, Store, SyncOptions};

/// Mirror forms into SQL: the first run copies every record, later runs what changed
/// (`--follow` keeps going); a report per form on stderr, one JSON line each on stdout.
#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// The forms (`FORM-…`).
    #[arg(required = true, value_name = "FORM_UUID")]
    forms: Vec<String>,
    /// Where: `sqlite:PATH` (a file, created if missing) or `postgres://user:pass@host/db`.
    #[arg(long, value_name = "TARGET")]
    to: String,
    /// When to look for records deleted in Yida (one call per 100 records): every run, at
    /// most once a day, or never.
    #[arg(long, value_name = "every|daily|off", default_value = "daily")]
    deletions: Deletions,
    /// Seconds of overlap before the last run's start (clock skew; Yida's times are to the
    /// minute).
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    overlap: u64,
    /// Pages fetched at once in a first run (paced under the 20 calls/s limit).
    #[arg(long, value_name = "N", default_value_t = 8)]
    concurrency: usize,
    /// Keep running: sync every --interval seconds, and at once when an approval event
    /// arrives (Stream mode, needs the app key and secret); stop on SIGTERM or Ctrl-C.
    #[arg(long)]
    follow: bool,
    /// Seconds between runs with --follow.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    interval: u64,
}

/// Runs the sync (once, or until a stop signal with --follow).
pub async fn run(args: SyncArgs) -> Result<(), Fail> {
    if args.concurrency == 0 || args.concurrency > 20 {
        return Err(Fail::usage("--concurrency must be 1 to 20"));
    }
    if args.follow && args.interval == 0 {
        return Err(Fail::usage("--interval must be at least 1 second"));
    }
    let client = crate::config::client()?;
    let store = Store::open(&args.to)
        .await
        .map_err(|e| Fail(USAGE, format!("error: {e}")))?;
    let opts = SyncOptions {
        overlap: Duration::from_secs(args.overlap),
        deletions: args.deletions,
        concurrency: args.concurrency,
        app_type: crate::config::env("YIDA_APP_TYPE"),
        ..SyncOptions::default()
    };
    let mirror = Mirror::new(client, store, opts);
    if !args.follow {
        return sync_all(&mirror, &args.forms).await;
    }
    let (wake_tx, mut wake_rx) = tokio::sync::mpsc::channel::<()>(1);
    let stream = follow_events(wake_tx);
    let stop = crate::signal::stop();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            r = sync_all(&mirror, &args.forms) => {
                if let Err(Fail(_, msg)) = r {
                    crate::out::note(&format!("{msg} (retrying in {} s)", args.interval));
                }
            }
        }
        tokio::select! {
            _ = &mut stop => break,
            _ = tokio::time::sleep(Duration::from_secs(args.interval)) => {}
            Some(()) = wake_rx.recv() => crate::out::note("sync: an approval event arrived"),
        }
    }
    if let Some(handle) = stream {
        let _ = handle.shutdown().await;
    }
    crate::out::note("sync: stopped");
    Ok(())
}

async fn sync_all(mirror: &Mirror, forms: &[String]) -> Result<(), Fail> {
    for form in forms {
        let report = mirror
            .sync(form)
            .await
            .map_err(|e| Fail(FAILED, format!("error: sync of {form}: {e}")))?;
        let mut line = format!(
            "{form}: {} run, {} record(s) written, {} call(s)",
            report.mode, report.upserted, report.calls
        );
        if report.deletions_checked {
            line.push_str(&format!(
                "; deletion check: {} call(s), {} deleted, {} recovered",
                report.deletion_calls, report.deleted, report.recovered
            ));
        }
        if !report.schema.added.is_empty() {
            line.push_str(&format!(
                "; columns added: {}",
                report.schema.added.join(", ")
            ));
        }
        if !report.schema.removed.is_empty() {
            line.push_str(&format!(
                "; components gone from the form (columns kept): {}",
                report.schema.removed.join(", ")
            ));
        }
        if !report.schema.retyped.is_empty() {
            line.push_str(&format!(
                "; components retyped (columns keep their type): {}",
                report.schema.retyped.join(", ")
            ));
        }
        crate::out::note(&line);
        crate::out::stdout(&format!("{}\n", report.to_json()))?;
    }
    Ok(())
}

/// Approval events in Stream mode wake the loop (when the app key and secret are set).
fn follow_events(wake: tokio::sync::mpsc::Sender<()>) -> Option<yida_events::StreamHandle> {
    let key = crate::config::env("YIDA_APP_KEY")?;
    let secret = crate::config::env("YIDA_APP_SECRET")?;
    let endpoint = crate::config::endpoint().ok()?;
    let client = yida_events::StreamClient::builder(key, secret)
        .endpoint(endpoint)
        .subscribe("EVENT", "*")
        .build()
        .ok()?;
    Some(client.start(move |event: yida_events::Event| {
        let wake = wake.clone();
        async move {
            if event.event_type.starts_with("bpms_") {
                let _ = wake.try_send(());
            }
            yida_events::AckStatus::Success
        }
    }))
}
