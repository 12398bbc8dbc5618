//! Form values per component kind, after yida-api's component model
//! (`yida_api::components`): checked and normalised on write, shown in Yida's read shapes
//! (twin `_id`/`_value` keys, JSON text, names from the seed), and searched per kind.

use crate::seed::{Component, Form, Seed};
use crate::shared::ApiErr;
use crate::store::State;
use serde_json::{json, Map, Value};
use yida_api::components::ComponentKind as K;

/// Replies carry at most this many sub-form rows; ListTableDataByFormInstanceIdTableId pages
/// the rest (openyida #330).
pub const TABLE_ROWS_IN_REPLY: usize = 50;

/// The component of a field id on a form.
pub fn component<'a>(form: &'a Form, field: &str) -> Option<&'a Component> {
    form.components.iter().find(|c| c.field_id == field)
}

/// The kind of a field: from the form's component, else from the field id's prefix.
pub fn kind_of(form: &Form, field: &str) -> Option<K> {
    match component(form, field) {
        Some(c) => c.component_kind(),
        None => K::from_field_id(field),
    }
}

/// The serial number Yida would give the record with this number.
pub fn serial_no(n: i64) -> String {
    format!("SERIAL{n:06}")
}

fn invalid(field: &str, problem: impl std::fmt::Display) -> ApiErr {
    ApiErr::bad(
        "invalidParameter",
        format!("form value {field} does not fit its component: {problem}"),
    )
}

/// Checks values about to be written and returns them as stored: numbers as numbers, dates as
/// epoch ms, single members and departments as lists, sub-form rows checked per child. Serial
/// numbers are dropped (Yida overwrites them: [`stamp_serials`]); associations must name a
/// record of the other form that exists in `st`. Errors name the field
/// (`tableField_items[2].numberField_qty` inside a sub-form).
pub fn prepare(
    form: &Form,
    data: Map<String, Value>,
    st: &State,
) -> Result<Map<String, Value>, ApiErr> {
    let mut out = Map::new();
    for (k, v) in data {
        let kind = kind_of(form, &k);
        if kind == Some(K::SerialNumberField) {
            continue;
        }
        let v = match kind {
            Some(K::TableField) => rows(form, &k, v, st)?,
            Some(kind) => normalise(kind, &k, v, false, st)?,
            None => v,
        };
        out.insert(k, v);
    }
    Ok(out)
}

fn rows(form: &Form, table: &str, v: Value, st: &State) -> Result<Value, ApiErr> {
    if v.is_null() {
        return Ok(v);
    }
    let list = match v {
        Value::Array(a) if a.iter().all(Value::is_object) => a,
        // Rows as JSON text are read too.
        Value::String(s) => match serde_json::from_str::<Value>(&s) {
            Ok(Value::Array(a)) if a.iter().all(Value::is_object) => a,
            _ => return Err(invalid(table, "a TableField takes a list of row objects")),
        },
        _ => return Err(invalid(table, "a TableField takes a list of row objects")),
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, row) in list.into_iter().enumerate() {
        let Value::Object(row) = row else {
            continue;
        };
        let mut r = Map::new();
        for (k, v) in row {
            let name = format!("{table}[{i}].{k}");
            let v = match kind_of(form, &k) {
                Some(K::SerialNumberField) => continue,
                Some(K::TableField) => return Err(invalid(&name, "sub-forms do not nest")),
                Some(kind) => normalise(kind, &name, v, true, st)?,
                None => v,
            };
            r.insert(k, v);
        }
        out.push(Value::Object(r));
    }
    Ok(Value::Array(out))
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn number(v: &Value) -> Option<Value> {
    match v {
        Value::Number(_) => Some(v.clone()),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(i) = s.parse::<i64>() {
                return Some(json!(i));
            }
            s.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(|f| json!(f))
        }
        _ => None,
    }
}

fn strings(v: Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(|x| json!(text_of(x))).collect()),
        other => json!([text_of(&other)]),
    }
}

fn normalise(kind: K, field: &str, v: Value, in_table: bool, st: &State) -> Result<Value, ApiErr> {
    if v.is_null() {
        return Ok(v);
    }
    kind.check_write_at(&v, in_table)
        .map_err(|e| invalid(field, format!("{e}, not {}", short(&v))))?;
    Ok(match kind {
        K::NumberField | K::RateField => number(&v).unwrap_or(v),
        K::DateField => number(&v).unwrap_or(v),
        K::CascadeDateField => strings(v),
        K::EmployeeField | K::DepartmentSelectField | K::CityField => strings(v),
        K::AssociationFormField => {
            for (i, r) in v.as_array().into_iter().flatten().enumerate() {
                let form = r
                    .get("formUuid")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let id = r
                    .get("instanceId")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let found = st.records.get(id).is_some_and(|rec| rec.form_uuid == form);
                if !found {
                    return Err(invalid(
                        field,
                        format!(
                            "item {i} names no record that exists (formUuid {form:?}, instanceId {id:?}): write the referenced record first"
                        ),
                    ));
                }
            }
            v
        }
        _ => v,
    })
}

/// A value cut short for an error message.
fn short(v: &Value) -> String {
    let t = v.to_string();
    match t.char_indices().nth(60) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t,
    }
}

/// Sets every serial number component of the form to the record's serial number.
pub fn stamp_serials(form: &Form, data: &mut Map<String, Value>, n: i64) {
    for c in &form.components {
        if c.parent_id.is_none() && c.component_kind() == Some(K::SerialNumberField) {
            data.insert(c.field_id.clone(), json!(serial_no(n)));
        }
    }
}

/// Values as replies show them, per kind (see [`read`]); sub-form rows cut at
/// [`TABLE_ROWS_IN_REPLY`].
pub fn shown(seed: &Seed, st: &State, form: Option<&Form>, data: &Map<String, Value>) -> Value {
    let mut out = Map::new();
    for (k, v) in data {
        let kind = match form {
            Some(f) => kind_of(f, k),
            None => K::from_field_id(k),
        };
        match kind {
            Some(K::TableField) => {
                let list: Vec<Value> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .take(TABLE_ROWS_IN_REPLY)
                    .map(|row| shown_row(seed, st, form, row))
                    .collect();
                out.insert(k.clone(), Value::Array(list));
            }
            Some(kind) => read(seed, st, kind, k, v, &mut out),
            None => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(out)
}

/// One sub-form row as replies show it.
pub fn shown_row(seed: &Seed, st: &State, form: Option<&Form>, row: &Value) -> Value {
    match row {
        Value::Object(m) => shown(seed, st, form, m),
        other => other.clone(),
    }
}

fn json_text(v: &Value) -> Value {
    match v {
        Value::String(_) | Value::Null => v.clone(),
        other => json!(other.to_string()),
    }
}

fn list_strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(text_of).collect(),
        Value::Null => vec![],
        other => vec![text_of(other)],
    }
}

/// Writes one stored value into a reply's `formData` in Yida's read shape.
fn read(seed: &Seed, st: &State, kind: K, k: &str, v: &Value, out: &mut Map<String, Value>) {
    if v.is_null() {
        out.insert(k.to_string(), Value::Null);
        return;
    }
    let shown = match kind {
        K::NumberField => {
            if let Some(n) = v.as_f64() {
                out.insert(format!("{k}_value"), json!(n.to_string()));
            }
            v.clone()
        }
        K::EmployeeField => {
            let ids = list_strings(v);
            let names: Vec<String> = ids
                .iter()
                .map(|id| {
                    seed.user(id)
                        .map(|u| u.name.clone())
                        .unwrap_or_else(|| id.clone())
                })
                .collect();
            out.insert(format!("{k}_id"), json!(ids));
            json!(names)
        }
        K::DepartmentSelectField => {
            let ids = list_strings(v);
            let names: Vec<String> = ids
                .iter()
                .map(|id| {
                    seed.department(id)
                        .map(|d| d.name.clone())
                        .unwrap_or_else(|| id.clone())
                })
                .collect();
            out.insert(format!("{k}_id"), json!(ids));
            json!(names)
        }
        K::CityField => {
            let names: Vec<String> = list_strings(v)
                .iter()
                .map(|c| {
                    seed.region(c)
                        .map(|r| r.name.clone())
                        .unwrap_or_else(|| c.clone())
                })
                .collect();
            json!(names)
        }
        K::CountrySelectField => {
            let list: Vec<Value> = v
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    let code = c.get("value").map(text_of).unwrap_or_default();
                    let text = c.get("text").cloned().unwrap_or_else(|| {
                        let r = seed.region(&code);
                        json!({
                            "zh_CN": r.map(|r| r.name.clone()).unwrap_or_else(|| code.clone()),
                            "en_US": r.map(|r| r.name_in_english.clone()).unwrap_or_else(|| code.clone()),
                            "type": "i18n",
                        })
                    });
                    json!({ "value": code, "text": text })
                })
                .collect();
            json_text(&Value::Array(list))
        }
        K::AddressField => {
            let mut a = v.clone();
            if let Some(o) = a.as_object_mut() {
                if !o.contains_key("regionText") {
                    let text: Vec<Value> = o
                        .get("regionIds")
                        .map(list_strings)
                        .unwrap_or_default()
                        .iter()
                        .map(|c| {
                            let r = seed.region(c);
                            json!({
                                "zh_CN": r.map(|r| r.name.clone()).unwrap_or_else(|| c.clone()),
                                "en_US": r.map(|r| r.name_in_english.clone()).unwrap_or_else(|| c.clone()),
                            })
                        })
                        .collect();
                    o.insert("regionText".into(), Value::Array(text));
                }
            }
            json_text(&a)
        }
        K::AttachmentField | K::ImageField | K::LinkField | K::LocationField => json_text(v),
        K::AssociationFormField => {
            let refs: Vec<Value> = v
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| resolve_association(seed, st, r))
                .collect();
            let titles: Vec<String> = refs
                .iter()
                .map(|r| r.get("title").map(text_of).unwrap_or_default())
                .collect();
            // JSON text inside a JSON string, as the openyida data-format guide shows it.
            let text = Value::Array(refs).to_string();
            out.insert(format!("{k}_id"), json!(Value::String(text).to_string()));
            json!(titles.join(","))
        }
        _ => v.clone(),
    };
    out.insert(k.to_string(), shown);
}

/// An association as replies show it: title and subtitle from the referenced record (its
/// first two text components) when the writer left them out.
fn resolve_association(seed: &Seed, st: &State, r: &Value) -> Value {
    let mut r = r.clone();
    let id = r
        .get("instanceId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(rec) = st.records.get(&id) else {
        return r;
    };
    let texts: Vec<String> = seed
        .form(&rec.form_uuid)
        .map(|f| {
            f.components
                .iter()
                .filter(|c| c.parent_id.is_none() && c.component_kind() == Some(K::TextField))
                .filter_map(|c| rec.data.get(&c.field_id).map(text_of))
                .collect()
        })
        .unwrap_or_default();
    if let Some(o) = r.as_object_mut() {
        for (key, i) in [("title", 0), ("subTitle", 1)] {
            let empty = o.get(key).is_none_or(|t| text_of(t).is_empty());
            if empty {
                o.insert(key.into(), json!(texts.get(i).cloned().unwrap_or_default()));
            }
        }
        o.entry("appType").or_insert(json!(rec.app_type));
        o.entry("formType").or_insert(json!("receipt"));
    }
    r
}
