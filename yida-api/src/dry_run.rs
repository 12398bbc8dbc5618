//! Dry runs: the exact request a call would send, built by the one send path and stopped
//! before anything leaves (no token fetched, nothing counted, nothing sent).

use crate::meta::OperationMeta;
use crate::{Client, Error};

// A walk's page facts, to tell how many calls a `--all` walk or an export would use.
pub use crate::paginate::{pages_for, walk_page_size};

tokio::task_local! {
    /// Set by [`Client::plan_dynamic`]: where the send path leaves the request it would send.
    pub(crate) static DRY_RUN: std::cell::RefCell<Option<PlannedRequest>>;
}

/// The request a call would send, secrets redacted (`***`): secret parameters in the query or
/// body, and the access token header, which is never fetched for a dry run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlannedRequest {
    /// `Action@version`.
    pub operation: String,
    /// `GET`, `POST`, …
    pub method: &'static str,
    /// The full URL, query included (secret values redacted).
    pub url: String,
    /// The JSON body, if one is sent (secret values redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

const REDACTED: &str = "***";

/// Builds the plan from what the send path prepared.
pub(crate) fn capture(meta: &'static OperationMeta, url: &str, body: Option<&[u8]>) -> bool {
    DRY_RUN
        .try_with(|slot| {
            let secret = |name: &str| meta.params.iter().any(|p| p.secret && p.name == name);
            let url = match url.split_once('?') {
                Some((base, query)) => {
                    let pairs: Vec<String> = query
                        .split('&')
                        .map(|kv| match kv.split_once('=') {
                            // Parameter names are plain ASCII: compared as sent.
                            Some((k, _)) if secret(k) => {
                                format!("{k}={REDACTED}")
                            }
                            _ => kv.to_string(),
                        })
                        .collect();
                    format!("{base}?{}", pairs.join("&"))
                }
                None => url.to_string(),
            };
            let body = body.map(|b| {
                let mut v: serde_json::Value =
                    serde_json::from_slice(b).unwrap_or(serde_json::Value::Null);
                if let Some(map) = v.as_object_mut() {
                    for (k, val) in map.iter_mut() {
                        if secret(k) {
                            *val = REDACTED.into();
                        }
                    }
                }
                v
            });
            *slot.borrow_mut() = Some(PlannedRequest {
                operation: meta.id.to_string(),
                method: meta.method.as_str(),
                url,
                body,
            });
        })
        .is_ok()
}

impl Client {
    /// The request [`call`](Client::call) would send for these parameters, after every check
    /// it makes (unknown or missing parameters, types, path values), but nothing is sent, no
    /// token is fetched and the ledger counts nothing. Secrets are redacted in the plan.
    ///
    /// ```
    /// # async fn run() -> Result<(), yida_api::Error> {
    /// let client = yida_api::Client::builder().access_token("t").build()?;
    /// let meta = yida_api::operation("GetFormDataByID", "1.0").unwrap();
    /// let plan = client
    ///     .plan(meta, serde_json::json!({
    ///         "id": "FINST-1", "appType": "APP_1", "systemToken": "s", "userId": "u"
    ///     }))
    ///     .await?;
    /// assert_eq!(plan.method, "GET");
    /// assert!(plan.url.contains("systemToken=***"));
    /// # Ok(()) }
    /// ```
    pub async fn plan(
        &self,
        meta: &'static OperationMeta,
        input: serde_json::Value,
    ) -> Result<PlannedRequest, Error> {
        DRY_RUN
            .scope(std::cell::RefCell::new(None), async {
                match self.call(meta, input).await {
                    Err(Error::DryRun { .. }) | Ok(_) => {}
                    Err(e) => return Err(e),
                }
                DRY_RUN
                    .with(|slot| slot.borrow_mut().take())
                    .ok_or_else(|| Error::InvalidInput {
                        operation: meta.id,
                        message: "the dry run captured no request".into(),
                    })
            })
            .await
    }
}
