//! The SQL shape of a form: a table per form with a column per component (typed from the
//! component model), a child table per sub-form, and how a record's read-format values become
//! column values.

use serde_json::{Map, Value};
use yida_api::components::{ComponentKind, Shape};

/// The SQL type of a component column, portable between SQLite and PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// Text.
    Text,
    /// A number (PostgreSQL `numeric`, SQLite `REAL`).
    Number,
    /// A point in time (PostgreSQL `timestamptz`, SQLite ISO-8601 text in UTC).
    Timestamp,
    /// A list of ids (PostgreSQL `text[]`, SQLite JSON text).
    TextArray,
    /// Any JSON (PostgreSQL `jsonb`, SQLite JSON text).
    Json,
}

impl ColumnType {
    /// The name stored in `yida_sync_state` (so a retyped component is noticed).
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Number => "number",
            ColumnType::Timestamp => "timestamp",
            ColumnType::TextArray => "text_array",
            ColumnType::Json => "json",
        }
    }

    /// The column type of a component kind (`None`: not a value column, e.g. a sub-form,
    /// which gets a child table).
    pub fn of(kind: Option<ComponentKind>) -> Option<ColumnType> {
        let Some(kind) = kind else {
            return Some(ColumnType::Json);
        };
        let info = kind.info();
        if matches!(info.write.shape, Shape::Rows) || matches!(info.read.shape, Shape::Rows) {
            return None;
        }
        Some(match info.read.shape {
            Shape::Number => ColumnType::Number,
            Shape::EpochMs => ColumnType::Timestamp,
            Shape::Text => ColumnType::Text,
            Shape::UserIds | Shape::DepartmentIds | Shape::Names | Shape::TextList => {
                ColumnType::TextArray
            }
            _ => ColumnType::Json,
        })
    }
}

/// One component of a form, as the mirror sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The component's field id (`numberField_amount`): the column's name.
    pub field_id: String,
    /// Its label, for the report.
    pub label: String,
    /// Its kind, when the component model knows it.
    pub kind: Option<ComponentKind>,
    /// The SQL type.
    pub ty: ColumnType,
}

/// A sub-form: its child table and columns.
#[derive(Debug, Clone, PartialEq)]
pub struct SubForm {
    /// The sub-form's field id (`tableField_items`).
    pub field_id: String,
    /// Its columns.
    pub columns: Vec<Column>,
}

/// A form's SQL shape, from its component definitions.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FormShape {
    /// Top-level value columns.
    pub columns: Vec<Column>,
    /// Sub-forms (child tables).
    pub sub_forms: Vec<SubForm>,
}

impl FormShape {
    /// The shape of a GetFormComponentDefinitionList reply (`result[]` of `fieldId`,
    /// `componentName`, `label`, `parentId`).
    pub fn from_definitions(reply: &Value) -> FormShape {
        let empty = Vec::new();
        let list = reply
            .get("result")
            .and_then(Value::as_array)
            .or_else(|| reply.as_array())
            .unwrap_or(&empty);
        let mut shape = FormShape::default();
        let mut children: Vec<(String, Column)> = Vec::new();
        for def in list {
            let Some(field_id) = def.get("fieldId").and_then(Value::as_str) else {
                continue;
            };
            if field_id.is_empty() {
                continue;
            }
            let kind = def
                .get("componentName")
                .and_then(Value::as_str)
                .and_then(ComponentKind::from_component_name)
                .or_else(|| ComponentKind::from_field_id(field_id));
            let label = label_text(def.get("label"));
            let parent = def
                .get("parentId")
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty() && *p != field_id);
            match ColumnType::of(kind) {
                None => shape.sub_forms.push(SubForm {
                    field_id: field_id.to_string(),
                    columns: Vec::new(),
                }),
                Some(ty) => {
                    let column = Column {
                        field_id: field_id.to_string(),
                        label,
                        kind,
                        ty,
                    };
                    match parent {
                        Some(p) => children.push((p.to_string(), column)),
                        None => shape.columns.push(column),
                    }
                }
            }
        }
        for (parent, column) in children {
            match shape.sub_forms.iter_mut().find(|s| s.field_id == parent) {
                Some(s) => s.columns.push(column),
                // A child whose parent is not a sub-form we know: keep it at the top.
                None => shape.columns.push(column),
            }
        }
        shape
    }
}

/// A label as plain text, or the Chinese (else English) text of an i18n label.
fn label_text(v: Option<&Value>) -> String {
    let pick = |o: &Map<String, Value>| {
        ["zh_CN", "en_US", "pureEn_US"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_str).map(str::to_string))
    };
    match v {
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => pick(&o).unwrap_or_else(|| s.clone()),
            _ => s.clone(),
        },
        Some(Value::Object(o)) => pick(o).unwrap_or_default(),
        _ => String::new(),
    }
}

/// A column value, ready for either database.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value.
    Null,
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// Epoch milliseconds, stored as a point in time.
    Timestamp(i64),
    /// A plain integer (watermarks, row indexes).
    Int(i64),
    /// A list of ids.
    TextArray(Vec<String>),
    /// JSON.
    Json(Value),
}

/// The cell of `column` in a record's `formData` (read format: twins and JSON text taken
/// into account).
pub fn cell(column: &Column, data: &Map<String, Value>) -> Cell {
    let key = column.field_id.as_str();
    let info = column.kind.map(ComponentKind::info);
    // Members and departments: the ids are in the twin (`employeeField_x_id`).
    let twin = info.and_then(|i| i.read.twin).and_then(|t| {
        let ids = matches!(t.shape, Shape::UserIds | Shape::DepartmentIds);
        ids.then(|| {
            data.get(&format!("{key}{}", t.suffix))
                .map(|v| json_text(v, t.json_text))
        })
        .flatten()
    });
    let raw = match twin {
        Some(v) => v,
        None => match data.get(key) {
            Some(v) => json_text(v, info.is_some_and(|i| i.read.json_text)),
            None => return Cell::Null,
        },
    };
    if raw.is_null() || raw.as_str() == Some("") {
        return Cell::Null;
    }
    match column.ty {
        ColumnType::Text => match raw {
            Value::String(s) => Cell::Text(s),
            other => Cell::Text(other.to_string()),
        },
        ColumnType::Number => match number(&raw) {
            Some(n) => Cell::Number(n),
            None => Cell::Json(raw),
        },
        ColumnType::Timestamp => match number(&raw) {
            Some(ms) if ms.fract() == 0.0 && ms.abs() < 1e15 => Cell::Timestamp(ms as i64),
            _ => Cell::Json(raw),
        },
        ColumnType::TextArray => match raw {
            Value::Array(items) => Cell::TextArray(
                items
                    .into_iter()
                    .map(|v| match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    })
                    .collect(),
            ),
            Value::String(s) => Cell::TextArray(vec![s]),
            other => Cell::TextArray(vec![other.to_string()]),
        },
        ColumnType::Json => Cell::Json(raw),
    }
}

fn json_text(v: &Value, is_text: bool) -> Value {
    match v {
        Value::String(s) if is_text => serde_json::from_str(s).unwrap_or_else(|_| v.clone()),
        _ => v.clone(),
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A table name for a form (`form_` + the uuid, lower case, `-` → `_`), and for its sub-form.
pub fn table_name(form_uuid: &str) -> String {
    let mut s = String::from("form_");
    s.extend(form_uuid.chars().map(|c| match c {
        'a'..='z' | '0'..='9' => c,
        'A'..='Z' => c.to_ascii_lowercase(),
        _ => '_',
    }));
    s
}

/// The child table of a sub-form of `form_uuid`.
pub fn child_table_name(form_uuid: &str, sub_form: &str) -> String {
    let mut s = table_name(form_uuid);
    s.push_str("__");
    s.extend(sub_form.chars().map(|c| match c {
        'a'..='z' | '0'..='9' => c,
        'A'..='Z' => c.to_ascii_lowercase(),
        _ => '_',
    }));
    s
}

/// An identifier quoted for SQL (both databases): `"a""b"`.
pub fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shape_from_definitions_types_columns_and_groups_sub_forms() {
        let reply = json!({"result": [
            {"fieldId": "textField_title", "componentName": "TextField", "label": "{\"zh_CN\":\"标题\"}"},
            {"fieldId": "numberField_amount", "componentName": "NumberField", "label": "金额"},
            {"fieldId": "dateField_day", "componentName": "DateField", "label": "日期"},
            {"fieldId": "employeeField_owner", "componentName": "EmployeeField", "label": "负责人"},
            {"fieldId": "tableField_items", "componentName": "TableField", "label": "明细"},
            {"fieldId": "textField_item", "componentName": "TextField", "label": "物品", "parentId": "tableField_items"}
        ]});
        let s = FormShape::from_definitions(&reply);
        let types: Vec<(&str, ColumnType)> = s
            .columns
            .iter()
            .map(|c| (c.field_id.as_str(), c.ty))
            .collect();
        assert_eq!(
            types,
            vec![
                ("textField_title", ColumnType::Text),
                ("numberField_amount", ColumnType::Number),
                ("dateField_day", ColumnType::Timestamp),
                ("employeeField_owner", ColumnType::TextArray),
            ]
        );
        assert_eq!(s.columns[0].label, "标题");
        assert_eq!(s.sub_forms.len(), 1);
        assert_eq!(s.sub_forms[0].columns[0].field_id, "textField_item");
    }

    #[test]
    fn cells_come_from_the_read_format() {
        let reply = json!({"result": [
            {"fieldId": "numberField_amount", "componentName": "NumberField"},
            {"fieldId": "employeeField_owner", "componentName": "EmployeeField"},
            {"fieldId": "dateField_day", "componentName": "DateField"}
        ]});
        let s = FormShape::from_definitions(&reply);
        let data = json!({
            "numberField_amount": "12.5",
            "employeeField_owner": ["经理"],
            "employeeField_owner_id": ["user-1"],
            "dateField_day": 1700000000000i64
        });
        let data = data.as_object().unwrap();
        assert_eq!(cell(&s.columns[0], data), Cell::Number(12.5));
        assert_eq!(
            cell(&s.columns[1], data),
            Cell::TextArray(vec!["user-1".into()])
        );
        assert_eq!(cell(&s.columns[2], data), Cell::Timestamp(1700000000000));
    }

    #[test]
    fn names_are_safe() {
        assert_eq!(table_name("FORM-AB12-x"), "form_form_ab12_x");
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
