//! An internal app reads the first page of a form's records.
//!
//! ```sh
//! YIDA_APP_KEY=… YIDA_APP_SECRET=… YIDA_APP_TYPE=APP_… YIDA_SYSTEM_TOKEN=… YIDA_USER_ID=… \
//!   cargo run -p yida-api --example api_internal_app -- FORM-XXXX
//! ```
//! `YIDA_ENDPOINT` points it at another server (e.g. a local mock).
use yida_api::{AppContext, Client, SearchFormDatasV2Request};

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let form = std::env::args()
        .nth(1)
        .ok_or("usage: internal_app <formUuid>")?;
    let client = Client::builder()
        .endpoint(
            std::env::var("YIDA_ENDPOINT").unwrap_or_else(|_| yida_api::DEFAULT_ENDPOINT.into()),
        )
        .internal_app(var("YIDA_APP_KEY")?, var("YIDA_APP_SECRET")?)?
        .context(
            AppContext::new()
                .app_type(var("YIDA_APP_TYPE")?)
                .system_token(var("YIDA_SYSTEM_TOKEN")?)
                .user_id(var("YIDA_USER_ID")?),
        )
        .build()?;
    let page = client
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new(form).page_size(10))
        .await?;
    println!(
        "{} records in all; first page:",
        page.total_count.unwrap_or(0)
    );
    for record in page.data.unwrap_or_default() {
        println!(
            "{} {}",
            record.form_instance_id.unwrap_or_default(),
            record.title.unwrap_or_default()
        );
    }
    Ok(())
}
