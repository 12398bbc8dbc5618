//! Guide: docs/guides/first-session.md — the first session without a tenant.
//!
//! Against `yida emulator`'s demo app: save two form instances, search them, page through
//! them, start the demo approval process, approve its task and read the finished instance.

use serde_json::json;
use yida_api::{
    AppContext, Client, ExecuteTaskArgs, ExecuteTaskOutResult, ExecuteTaskRequest,
    GetInstanceByIdV2Request, GetRunningTasksRequest, SaveFormDataV2Request,
    SearchFormDatasV2Request, StartInstanceV2Request,
};
use yida_examples::var;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let form = var("YIDA_DEMO_FORM_UUID")?;
    let user = var("YIDA_USER_ID")?;
    let client = Client::builder()
        .endpoint(var("YIDA_ENDPOINT")?)
        .internal_app(var("YIDA_APP_KEY")?, var("YIDA_APP_SECRET")?)?
        .context(
            AppContext::new()
                .app_type(var("YIDA_APP_TYPE")?)
                .system_token(var("YIDA_SYSTEM_TOKEN")?)
                .user_id(&user),
        )
        .build()?;

    // Two form instances (表单实例).
    for (title, amount) in [("Laptop", 1200), ("Desk", 300)] {
        let saved = client
            .send(SaveFormDataV2Request::new(
                &form,
                json!({ "textField_title": title, "numberField_amount": amount }),
            ))
            .await?;
        println!("saved {title}: {}", saved.result.unwrap_or_default());
    }

    // Only amounts from 1000 up.
    let found = client
        .send(
            SearchFormDatasV2Request::new(&form)
                .search_field_json(json!({ "numberField_amount": [1000, null] })),
        )
        .await?;
    println!(
        "amount >= 1000: {} record(s)",
        found.total_count.unwrap_or(0)
    );

    // Every record, one page of one record at a time.
    let mut pages = client.paginate(SearchFormDatasV2Request::new(&form).page_size(1));
    let mut titles = Vec::new();
    while let Some(record) = pages.next().await {
        let record = record?;
        if let Some(data) = record.form_data {
            titles.push(
                data.to_value()?["textField_title"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            );
        }
    }
    titles.sort();
    println!("all titles: {}", titles.join(", "));

    // A process instance (流程实例) of the demo approval; its one task goes to us.
    let instance = client
        .send(
            StartInstanceV2Request::new(&form, json!({ "textField_title": "Trip" }))
                .process_code(var("YIDA_DEMO_PROCESS_CODE")?),
        )
        .await?
        .result
        .ok_or("StartInstance returned no instance id")?;
    let tasks = client.send(GetRunningTasksRequest::new(&instance)).await?;
    let task = tasks
        .result
        .unwrap_or_default()
        .into_iter()
        .next()
        .ok_or("no running task")?;
    // DingTalk lists task ids as text and takes them back as numbers.
    let task_id: i64 = task.task_id.ok_or("task without id")?.parse()?;
    println!("approval task {task_id} is ours");
    client
        .send(ExecuteTaskRequest::new(ExecuteTaskArgs {
            out_result: ExecuteTaskOutResult::Agree,
            process_instance_id: instance.clone(),
            remark: "Approved".into(),
            task_id,
        }))
        .await?;
    let finished = client
        .send(GetInstanceByIdV2Request::new(&instance))
        .await?;
    println!(
        "instance status: {}, result: {}",
        finished.instance_status.unwrap_or_default(),
        finished.approved_result.unwrap_or_default()
    );
    Ok(())
}
