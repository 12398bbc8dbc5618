//! Guide: docs/guides/typed-forms.md — typed records of a form.
//!
//! `src/demo_form.rs` was written by `yida codegen form FORM-DEMO --struct DemoRequest`; this
//! program saves a record, reads it back (members' ids and names joined), changes one field
//! (only that field is sent), searches by member and amount, and deletes — no component id
//! and no JSON in sight.

use yida_api::form_values::{DateMs, Members};
use yida_api::{AppContext, Client};
use yida_examples::demo_form::{DemoRequest, DemoRequestItemsRow, DemoRequestSearch};
use yida_examples::var;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
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
    let requests = client.typed::<DemoRequest>();

    let laptop = DemoRequest {
        title: Some("Laptop".into()),
        amount: Some(1200.0),
        due_date: Some(DateMs(1_767_225_600_000)),
        kind: Some("IT".into()),
        tags: vec!["urgent".into()],
        owner: Members::from(["demo-manager"]),
        items: vec![DemoRequestItemsRow {
            item: Some("charger".into()),
            ..Default::default()
        }]
        .into(),
        // Every other component of the form: left empty (not sent).
        ..Default::default()
    };
    let id = requests.save(&laptop).await?;
    println!("saved {id}");

    // Read back: the reply shows the owner's name, and the typed value keeps the id too.
    let mut record = requests.get(&id).await?;
    println!(
        "owner: {} ({})",
        record.owner.names().collect::<Vec<_>>().join(", "),
        record.owner.ids().collect::<Vec<_>>().join(", ")
    );

    // Change one field: only it is sent; the owner stays a user id.
    record.amount = Some(999.0);
    let sent = requests.update(&mut record).await?;
    println!("updated {sent} field(s)");

    // Typed search: members by id, numbers by range.
    let found = requests
        .search(
            DemoRequestSearch::new()
                .owner_any_of(["demo-manager"])
                .amount_between(500.0, 1000.0),
        )
        .await?;
    for r in &found {
        println!(
            "found {} at {}",
            r.title.as_deref().unwrap_or(""),
            r.amount.unwrap_or_default()
        );
    }

    requests.delete(&id).await?;
    println!(
        "deleted; {} left",
        requests.search(DemoRequestSearch::new()).await?.len()
    );
    Ok(())
}
