//! Guide: docs/guides/approval-events.md — reacting to approval events.
//!
//! A Stream mode client (no public URL needed) receives `bpms_instance_change` (流程实例) and
//! `bpms_task_change` (审批任务) events; when the demo process is approved, the handler reacts
//! to the finished instance.

use serde_json::json;
use std::time::Duration;
use yida_api::{
    AppContext, Client, ExecuteTaskArgs, ExecuteTaskOutResult, ExecuteTaskRequest,
    StartInstanceV2Request,
};
use yida_events::{AckStatus, Event, EventKind, InstanceChange, StreamClient, TaskChange};
use yida_examples::var;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = var("YIDA_ENDPOINT")?;
    let (key, secret) = (var("YIDA_APP_KEY")?, var("YIDA_APP_SECRET")?);
    let form = var("YIDA_DEMO_FORM_UUID")?;
    let process = var("YIDA_DEMO_PROCESS_CODE")?;

    // The handler sends what it saw to the rest of the program; a real one would update a
    // database, notify someone, call Yida back… and return the status to ACK with.
    let (seen, mut events) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let stream = StreamClient::builder(key.as_str(), secret.as_str())
        .endpoint(&endpoint)
        .build()?;
    let handle = stream.start(move |event: Event| {
        let seen = seen.clone();
        async move {
            let _ = seen.send(event);
            AckStatus::Success // AckStatus::Later: DingTalk delivers it again later
        }
    });

    let client = Client::builder()
        .endpoint(&endpoint)
        .internal_app(key.as_str(), secret.as_str())?
        .context(
            AppContext::new()
                .app_type(var("YIDA_APP_TYPE")?)
                .system_token(var("YIDA_SYSTEM_TOKEN")?)
                .user_id(var("YIDA_USER_ID")?),
        )
        .build()?;

    // Events raised before the connection is open are not kept: wait until it is (the
    // handle's readiness signal; `handle.stats()` has counters to export).
    let ready = tokio::time::timeout(Duration::from_secs(20), handle.ready()).await;
    if ready != Ok(true) {
        return Err("the Stream client did not connect".into());
    }
    println!("connected");

    let instance = client
        .send(
            StartInstanceV2Request::new(&form, json!({ "textField_title": "Trip" }))
                .process_code(&process),
        )
        .await?
        .result
        .ok_or("no instance id")?;

    // React: approve the task when it is created, report the instance when it finishes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let event = tokio::time::timeout_at(deadline, events.recv())
            .await?
            .ok_or("event stream ended")?;
        match &event.kind {
            EventKind::BpmsTaskChange(t)
                if t.process_instance_id == instance && t.change == TaskChange::Start =>
            {
                let task_id: i64 = t.task_id.as_deref().ok_or("task without id")?.parse()?;
                println!("task started for {}", t.staff_id.as_deref().unwrap_or("?"));
                client
                    .send(ExecuteTaskRequest::new(ExecuteTaskArgs {
                        out_result: ExecuteTaskOutResult::Agree,
                        process_instance_id: instance.clone(),
                        remark: "Approved by the event handler".into(),
                        task_id,
                    }))
                    .await?;
            }
            EventKind::BpmsInstanceChange(c)
                if c.process_instance_id == instance && c.change == InstanceChange::Finish =>
            {
                println!("instance finished: {:?}", c.result);
                break;
            }
            _ => {}
        }
    }
    handle.shutdown().await?;
    println!("stream closed");
    Ok(())
}
