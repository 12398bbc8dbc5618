//! `yida sync`: keep a SQL copy of forms (SQLite file or PostgreSQL database).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
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
    let mirror = Mirror::new(client.clone(), store, opts);
    if !args.follow {
        return sync_all(&mirror, &args.forms).await;
    }
    let stop = crate::signal::stop();
    tokio::pin!(stop);
    // Polled once, so that SIGTERM and Ctrl-C are caught from here on.
    tokio::select! {
        biased;
        _ = &mut stop => return Ok(()),
        _ = std::future::ready(()) => {}
    }
    let wake = Arc::new(Wake::default());
    let stream = follow_events(wake.clone());
    let interval = Duration::from_secs(args.interval);
    crate::out::note(&format!(
        "sync: following {} form(s), a run every {} s{}",
        args.forms.len(),
        args.interval,
        if stream.is_some() {
            " and on approval events"
        } else {
            " (no approval events: YIDA_APP_KEY and YIDA_APP_SECRET are not both set)"
        }
    ));
    // Says when the Stream connection is open (events raised before it are not delivered).
    let mut announce = Box::pin(async {
        if let Some(h) = &stream {
            if h.ready().await {
                crate::out::note("sync: listening for approval events (Stream mode)");
            }
        }
        std::future::pending::<()>().await
    });
    let mut routes = Routes::default();
    let mut due: Vec<String> = args.forms.clone();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = &mut announce => {}
            r = sync_all(&mirror, &due) => {
                if let Err(Fail(_, msg)) = r {
                    crate::out::note(&format!("{msg} (retrying in {} s)", args.interval));
                }
            }
        }
        let next = tokio::time::Instant::now() + interval;
        due = tokio::select! {
            _ = &mut stop => break,
            _ = &mut announce => Vec::new(),
            forms = next_forms(&wake, &mut routes, &client, &args.forms, next) => forms,
        };
    }
    drop(announce);
    if let Some(handle) = stream {
        let _ = handle.shutdown().await;
    }
    crate::out::note("sync: stopped");
    Ok(())
}

/// Approval events seen since the loop last looked.
#[derive(Default)]
struct Wake {
    seen: Mutex<Seen>,
    notify: tokio::sync::Notify,
}

#[derive(Default)]
struct Seen {
    /// Process code → one instance of it (for the lookup of the code's form).
    codes: HashMap<String, String>,
    /// Instances of events without a process code.
    instances: Vec<String>,
    /// An event naming neither (or too many at once): every form is synced.
    all: bool,
    /// Approval events counted.
    events: usize,
}

/// Process codes learned so far: code → form (approval events name the process, not the form).
#[derive(Default)]
struct Routes(HashMap<String, String>);

/// Process codes (and bare instances) kept between two looks; more: every form is synced.
const MAX_PENDING: usize = 1000;

/// Waits for the next run: every form at `deadline`, or at once the followed forms an approval
/// event names. An event's process code is mapped to its form with one GetInstanceById the
/// first time the code is seen (then remembered): events of other forms' processes start no
/// run, and once their code is known they cost no call either.
async fn next_forms(
    wake: &Wake,
    routes: &mut Routes,
    client: &yida_api::Client,
    forms: &[String],
    deadline: tokio::time::Instant,
) -> Vec<String> {
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return forms.to_vec(),
            _ = wake.notify.notified() => {}
        }
        let seen = std::mem::take(&mut *wake.seen.lock().unwrap_or_else(|e| e.into_inner()));
        if seen.events == 0 {
            continue;
        }
        // One line per look: how many events, and what they start.
        let every = |why: &str| {
            crate::out::note(&format!(
                "sync: {} approval event(s){why}; a run for every form",
                seen.events
            ));
            forms.to_vec()
        };
        if seen.all {
            return every("");
        }
        let mut named = BTreeSet::new();
        for (code, instance) in &seen.codes {
            let form = match routes.0.get(code) {
                Some(f) => f.clone(),
                None => match form_of_instance(client, instance).await {
                    Some((f, _)) => {
                        routes.0.insert(code.clone(), f.clone());
                        f
                    }
                    // Unknown: every form is synced (a handful of calls), nothing is missed.
                    None => return every(" of an unknown form"),
                },
            };
            named.insert(form);
        }
        for instance in &seen.instances {
            match form_of_instance(client, instance).await {
                Some((f, code)) => {
                    if let Some(code) = code {
                        routes.0.insert(code, f.clone());
                    }
                    named.insert(f);
                }
                None => return every(" of an unknown form"),
            }
        }
        let others: Vec<&str> = named
            .iter()
            .filter(|f| !forms.contains(*f))
            .map(String::as_str)
            .collect();
        let others = if others.is_empty() {
            String::new()
        } else {
            format!(" (not followed: {})", others.join(", "))
        };
        let due: Vec<String> = forms
            .iter()
            .filter(|f| named.contains(*f))
            .cloned()
            .collect();
        if due.is_empty() {
            crate::out::note(&format!(
                "sync: {} approval event(s){others}; no run",
                seen.events
            ));
            continue;
        }
        crate::out::note(&format!(
            "sync: {} approval event(s){others}; a run for {}",
            seen.events,
            due.join(", ")
        ));
        return due;
    }
}

/// The form (and process code) of a process instance (GetInstanceById); `None` when the call
/// fails.
async fn form_of_instance(
    client: &yida_api::Client,
    instance: &str,
) -> Option<(String, Option<String>)> {
    let op = yida_api::operation("GetInstanceById", "1.0")?;
    match client.call(op, serde_json::json!({ "id": instance })).await {
        Ok(Some(raw)) => {
            let v: serde_json::Value = serde_json::from_str(raw.get()).ok()?;
            let text = |k: &str| {
                v.get(k)
                    .and_then(serde_json::Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            Some((text("formUuid")?, text("processCode")))
        }
        Ok(None) => None,
        Err(e) => {
            crate::out::note(&format!(
                "sync: cannot tell which form process instance {instance} belongs to ({e}); syncing every form"
            ));
            None
        }
    }
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
fn follow_events(wake: Arc<Wake>) -> Option<yida_events::StreamHandle> {
    let key = crate::config::env("YIDA_APP_KEY")?;
    let secret = crate::config::env("YIDA_APP_SECRET")?;
    let endpoint = crate::config::endpoint().ok()?;
    let client = yida_events::StreamClient::builder(key, secret)
        .endpoint(endpoint)
        .subscribe("EVENT", "*")
        .build()
        .ok()?;
    let handle = client.start(move |event: yida_events::Event| {
        let wake = wake.clone();
        async move {
            if event.event_type.starts_with("bpms_") {
                let text = |k: &str| {
                    event
                        .data
                        .get(k)
                        .and_then(serde_json::Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                };
                {
                    let mut seen = wake.seen.lock().unwrap_or_else(|e| e.into_inner());
                    seen.events += 1;
                    match (text("processCode"), text("processInstanceId")) {
                        (Some(code), Some(instance))
                            if seen.codes.len() < MAX_PENDING || seen.codes.contains_key(&code) =>
                        {
                            seen.codes.insert(code, instance);
                        }
                        (None, Some(instance)) if seen.instances.len() < MAX_PENDING => {
                            seen.instances.push(instance);
                        }
                        _ => seen.all = true,
                    }
                }
                wake.notify.notify_one();
            }
            yida_events::AckStatus::Success
        }
    });
    Some(handle)
}
