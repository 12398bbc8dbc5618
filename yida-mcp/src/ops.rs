//! The operations as the tools see them: found by action name, classed by risk, their input
//! schema for an agent, and one call through the client. Everything comes from the generated
//! model (`yida_api::OperationMeta`); nothing here names an operation's parameters except the
//! few the scope check reads (`appType`, `formUuid` and the ids that name a record).

use serde_json::{Map, Value};
use yida_api::{Client, OperationMeta};

pub use yida_api::Risk;

/// The operation's risk class, from the spec.
pub(crate) fn risk(meta: &OperationMeta) -> Risk {
    meta.risk
}

/// `read`, `write` or `irreversible`.
pub(crate) fn risk_name(risk: Risk) -> &'static str {
    risk.as_str()
}

/// The descriptor of `action` at `version`, or its current version
/// ([`yida_api::current_operation`]) when `version` is `None`.
pub(crate) fn find(action: &str, version: Option<&str>) -> Result<&'static OperationMeta, String> {
    let all = yida_api::operations();
    let found: Vec<&'static OperationMeta> =
        all.iter().copied().filter(|m| m.action == action).collect();
    if found.is_empty() {
        let near: Vec<&str> = all
            .iter()
            .map(|m| m.action)
            .filter(|a| a.to_lowercase().contains(&action.to_lowercase()))
            .take(5)
            .collect();
        return Err(if near.is_empty() {
            format!("no operation `{action}` (list_operations shows them)")
        } else {
            format!("no operation `{action}`; did you mean {}?", near.join(", "))
        });
    }
    match version {
        Some(v) => found
            .into_iter()
            .find(|m| m.version == v)
            .ok_or_else(|| format!("`{action}` has no version {v}")),
        None => yida_api::current_operation(action)
            .ok_or_else(|| format!("no operation `{action}` (list_operations shows them)")),
    }
}

/// The input schema an agent sees: the operation's input schema without secret parameters
/// (the server holds those), context parameters optional, JSON-text parameters taking the JSON
/// itself.
pub(crate) fn input_schema(meta: &OperationMeta) -> Map<String, Value> {
    let Value::Object(mut schema) = meta.input_schema() else {
        return Map::new();
    };
    if let Some(Value::Object(props)) = schema.get_mut("properties") {
        props.retain(|_, p| p.get("x-secret") != Some(&Value::Bool(true)));
        for p in props.values_mut() {
            if let Value::Object(p) = p {
                if p.get("contentMediaType").and_then(Value::as_str) == Some("application/json") {
                    p.remove("type");
                    p.remove("contentMediaType");
                    if let Some(Value::String(d)) = p.get_mut("description") {
                        d.push_str(" (a JSON value, or its text)");
                    }
                }
                if p.get("x-context") == Some(&Value::Bool(true)) {
                    if let Some(Value::String(d)) = p.get_mut("description") {
                        d.push_str(" Optional here: the server fills it from its app context.");
                    }
                }
            }
        }
    }
    schema
}

/// Names of the secret parameters of `meta` (never taken from an agent).
pub(crate) fn secret_params(meta: &OperationMeta) -> impl Iterator<Item = &'static str> {
    meta.params.iter().filter(|p| p.secret).map(|p| p.name)
}

/// Sends one operation through the client (pacing, retries, token cache, ledger, tracing) and
/// returns the reply as JSON with secret reply fields redacted; `Value::Null` for an empty
/// reply.
pub(crate) async fn call(
    client: &Client,
    meta: &'static OperationMeta,
    input: Value,
) -> Result<Value, yida_api::Error> {
    let reply = client.call(meta, input).await?;
    let Some(raw) = reply else {
        return Ok(Value::Null);
    };
    // The client checked the reply is JSON a `Value` can hold.
    let mut value: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
    meta.redact_reply(&mut value);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_version_by_default_and_unknown_actions_named() {
        assert_eq!(find("SaveFormData", None).unwrap().version, "2.0");
        assert_eq!(find("SaveFormData", Some("1.0")).unwrap().version, "1.0");
        assert!(find("SaveFormDat", None)
            .unwrap_err()
            .contains("SaveFormData"));
        assert!(find("SaveFormData", Some("3.0"))
            .unwrap_err()
            .contains("3.0"));
    }

    #[test]
    fn agents_never_see_secret_parameters() {
        let meta = find("SearchFormDatas", Some("2.0")).unwrap();
        let schema = input_schema(meta);
        let props = schema["properties"].as_object().unwrap();
        assert!(props.contains_key("formUuid"));
        assert!(!props.contains_key("systemToken"));
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(required.contains(&"formUuid"));
        assert!(
            !required.contains(&"appType"),
            "context parameters are optional"
        );
        // JSON text takes the JSON itself.
        assert!(props["searchFieldJson"].get("type").is_none());
    }
}
