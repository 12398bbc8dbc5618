//! Guide: docs/guides/sql-mirror.md — keeping a SQL copy of a form.
//!
//! The first run copies every form instance (表单实例) of the form into SQLite (a table with a
//! column per component, typed from the component model); the second fetches only what was
//! modified since (plus an overlap window). Both write a page per transaction, so a killed
//! run is simply run again. With a `postgres://` URL the same code fills PostgreSQL.
//!
//! Usage: sql_mirror <dir>   (writes <dir>/forms.db)

use yida_api::{AppContext, Client};
use yida_examples::var;
use yida_sync::schema::{quote, table_name, Cell};
use yida_sync::{Deletions, Mirror, Store, SyncOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).ok_or("usage: sql_mirror <dir>")?);
    let form = var("YIDA_DEMO_FORM_UUID")?;
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

    // `sqlite:PATH` or `postgres://user@host/db`.
    let store = Store::open(&format!("sqlite:{}", dir.join("forms.db").display())).await?;
    let options = SyncOptions {
        // Look for deleted records on every run (one call per 100 records); the default is
        // once a day.
        deletions: Deletions::Every,
        ..SyncOptions::default()
    };
    let mirror = Mirror::new(client, store.clone(), options);

    let first = mirror.sync(&form).await?;
    println!("{} run: {} records written", first.mode, first.upserted);

    // The copy is plain SQL: one row per form instance, a column per component.
    let sql = format!(
        "SELECT count(*), sum({}) FROM {}",
        quote("numberField_amount"),
        quote(&table_name(&form))
    );
    let row = store.query(&sql, vec![], 2).await?.remove(0);
    let number = |c: &Cell| match c {
        Cell::Int(n) => *n as f64,
        Cell::Number(n) => *n,
        _ => f64::NAN,
    };
    println!(
        "rows: {}, sum of amounts: {}",
        number(&row[0]),
        number(&row[1])
    );

    // Later runs: only what changed since (with the overlap window), and the deletion check.
    let next = mirror.sync(&form).await?;
    println!(
        "{} run: {} calls, of which {} for the deletion check, {} deleted",
        next.mode, next.calls, next.deletion_calls, next.deleted
    );
    Ok(())
}
