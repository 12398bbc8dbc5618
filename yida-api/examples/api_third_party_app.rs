//! A third-party (ISV) app calls Yida for one authorized company.
//!
//! ```sh
//! YIDA_SUITE_KEY=… YIDA_SUITE_SECRET=… YIDA_SUITE_TICKET=… YIDA_AUTH_CORP_ID=… \
//! YIDA_APP_TYPE=APP_… YIDA_SYSTEM_TOKEN=… YIDA_USER_ID=… \
//!   cargo run -p yida-api --example api_third_party_app -- FORM-XXXX
//! ```
//! In a real service the suite ticket comes from DingTalk's push (HTTP callback or Stream
//! event): call `tickets.set(…)` from that handler and every later token fetch uses it.
use yida_api::{AppContext, Client, SearchFormDatasV2Request};
use yida_auth::{MemoryTicketStore, ThirdPartyApp};

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let form = std::env::args()
        .nth(1)
        .ok_or("usage: third_party_app <formUuid>")?;
    let endpoint =
        std::env::var("YIDA_ENDPOINT").unwrap_or_else(|_| yida_api::DEFAULT_ENDPOINT.into());
    let tickets = MemoryTicketStore::new();
    tickets.set(var("YIDA_SUITE_TICKET")?);
    let isv = ThirdPartyApp::new(
        var("YIDA_SUITE_KEY")?,
        var("YIDA_SUITE_SECRET")?,
        tickets.clone(),
    )?
    .endpoint(endpoint.clone());
    // One client per authorized company; they share the provider and its cache.
    let client = Client::builder()
        .endpoint(endpoint)
        .token_provider(isv.for_corp(var("YIDA_AUTH_CORP_ID")?)?)
        .context(
            AppContext::new()
                .app_type(var("YIDA_APP_TYPE")?)
                .system_token(var("YIDA_SYSTEM_TOKEN")?)
                .user_id(var("YIDA_USER_ID")?),
        )
        .build()?;
    let mut records = client.paginate(SearchFormDatasV2Request::new(form));
    let mut n = 0;
    while let Some(record) = records.next().await {
        record?;
        n += 1;
    }
    println!("{n} records");
    Ok(())
}
