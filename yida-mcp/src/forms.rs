//! `describe_form`: a form's components with the value formats of the component model
//! (`yida_api::components`), so an agent writes and searches with real ids and real shapes.

use serde_json::{json, Value};
use yida_api::components::{ComponentInfo, ComponentKind, Shape};

/// The components of a GetFormComponentDefinitionList reply, each with its formats.
pub(crate) fn describe(reply: &Value) -> Vec<Value> {
    let list = match reply.get("result") {
        Some(Value::Array(items)) => items.as_slice(),
        _ => match reply {
            Value::Array(items) => items.as_slice(),
            _ => &[],
        },
    };
    list.iter().map(component).collect()
}

fn component(def: &Value) -> Value {
    let field_id = def.get("fieldId").and_then(Value::as_str).unwrap_or("");
    let name = def
        .get("componentName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind =
        ComponentKind::from_component_name(name).or_else(|| ComponentKind::from_field_id(field_id));
    let mut out = json!({
        "fieldId": field_id,
        "label": label(def.get("label")),
        "componentName": name,
    });
    if let Some(parent) = def
        .get("parentId")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
    {
        out["parentId"] = Value::String(parent.into());
        out["note"] = Value::String(format!(
            "a column of the sub-form {parent}: written inside its rows"
        ));
    }
    match kind {
        Some(kind) => {
            let info: &ComponentInfo = kind.info();
            out["kind"] = Value::String(kind.component_name().into());
            out["readOnly"] = Value::Bool(info.read_only);
            out["write"] = json!({
                "shape": info.write.shape.describe(),
                "keys": keys(info.write.shape),
                "wrappedInList": info.write.wrapped,
                "example": parse(info.write.example),
                "insideSubForm": info.write.in_table.map(Shape::describe),
            });
            out["read"] = json!({
                "shape": info.read.shape.describe(),
                "jsonText": info.read.json_text,
                "twin": info.read.twin.map(|t| json!({
                    "key": format!("{field_id}{}", t.suffix),
                    "shape": t.shape.describe(),
                    "jsonText": t.json_text,
                })),
                "example": parse(&info.read.example.replace("\"F", &format!("\"{field_id}"))),
            });
            out["search"] = json!({
                "shape": info.search.shape.describe(),
                "matching": format!("{:?}", info.search.matching),
            });
            if !info.note.is_empty() {
                out["formatNote"] = Value::String(info.note.into());
            }
        }
        None => {
            out["kind"] = Value::Null;
            out["note"] = Value::String(
                "a component kind the model does not know: read a record to see its values before writing".into(),
            );
        }
    }
    out
}

/// A label as plain text or as i18n JSON (`{"zh_CN": …, "en_US": …}`, object or text).
fn label(v: Option<&Value>) -> Value {
    match v {
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(obj @ Value::Object(_)) => obj,
            _ => Value::String(s.clone()),
        },
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

fn keys(shape: Shape) -> Option<&'static [&'static str]> {
    match shape {
        Shape::Objects(k) | Shape::Object(k) => Some(k),
        _ => None,
    }
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_show_ids_to_write_and_names_to_read() {
        let reply = json!({"result": [
            {"fieldId": "employeeField_owner", "label": "{\"zh_CN\":\"负责人\",\"en_US\":\"Owner\"}", "componentName": "EmployeeField"},
            {"fieldId": "serialNumberField_no", "label": "编号", "componentName": "SerialNumberField"},
            {"fieldId": "weirdField_x", "label": "?", "componentName": "WeirdField"}
        ]});
        let d = describe(&reply);
        assert_eq!(d[0]["label"]["zh_CN"], "负责人");
        assert_eq!(d[0]["write"]["shape"], "a list of user ids");
        assert_eq!(d[0]["read"]["twin"]["key"], "employeeField_owner_id");
        assert_eq!(d[1]["readOnly"], true);
        assert!(d[2]["kind"].is_null());
    }
}
