//! Guide: docs/guides/internal-app.md — an internal app (企业内部应用) end to end.
//!
//! appKey + appSecret → access token (cached, refreshed) → typed form data written, read back,
//! updated and paged through; a DingTalk error read by its code.

use serde::{Deserialize, Serialize};
use serde_json::json;
use yida_api::{
    AppContext, Client, GetFormDataByIdV2Request, SaveFormDataV2Request, SearchFormDatasV2Request,
    UpdateFormDataV2Request,
};
use yida_auth::InternalApp;
use yida_examples::var;

/// One purchase request of the form, field ids as the form designer shows them.
#[derive(Debug, Serialize, Deserialize)]
struct Purchase {
    #[serde(rename = "textField_title")]
    title: String,
    #[serde(rename = "numberField_amount")]
    amount: f64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = var("YIDA_ENDPOINT")?; // https://api.dingtalk.com against DingTalk
    let form = var("YIDA_DEMO_FORM_UUID")?;
    // The token provider: fetches, caches and refreshes the app's access token.
    let app = InternalApp::new(var("YIDA_APP_KEY")?, var("YIDA_APP_SECRET")?)?.endpoint(&endpoint);
    let client = Client::builder()
        .endpoint(&endpoint)
        .token_provider(app)
        // 应用编码 (appType), systemToken and the acting user, filled into every call.
        .context(
            AppContext::new()
                .app_type(var("YIDA_APP_TYPE")?)
                .system_token(var("YIDA_SYSTEM_TOKEN")?)
                .user_id(var("YIDA_USER_ID")?),
        )
        .build()?;

    // Write from your own type.
    let order = Purchase {
        title: "Monitor".into(),
        amount: 250.0,
    };
    let id = client
        .forms()
        .save_form_data_v2(SaveFormDataV2Request::new(&form, &order))
        .await?
        .result
        .ok_or("no form instance id")?;
    println!("saved {id}");

    // Read it back into the same type.
    let got = client
        .send(GetFormDataByIdV2Request::new(&id).form_uuid(&form))
        .await?;
    let back: Purchase = got.form_data.ok_or("no formData")?.decode()?;
    println!("read back: {} at {}", back.title, back.amount);

    // Change one field; the others stay.
    client
        .forms()
        .update_form_data_v2(UpdateFormDataV2Request::new(
            &id,
            json!({ "numberField_amount": 275 }),
        ))
        .await?;

    // Every record of the form, page by page, decoded.
    let mut total = 0.0;
    let mut pages = client.paginate(SearchFormDatasV2Request::new(&form));
    while let Some(record) = pages.next().await {
        if let Some(data) = record?.form_data {
            total += data.decode::<Purchase>()?.amount;
        }
    }
    println!("sum of amounts: {total}");

    // DingTalk's errors are typed: status, code, message, request id.
    match client
        .send(SearchFormDatasV2Request::new("FORM-DOES-NOT-EXIST"))
        .await
    {
        Err(e) => match e.api() {
            Some(api) => println!("refused: HTTP {} {}", api.status, api.code()),
            None => return Err(e.into()),
        },
        Ok(_) => return Err("an unknown form was accepted".into()),
    }
    Ok(())
}
