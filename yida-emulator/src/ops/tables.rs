//! Sub-form rows: ListTableDataByFormInstanceIdTableId pages every row of one sub-form (record
//! replies carry only the first 50).

use super::{not_found_record, page, Call};
use crate::shared::ApiErr;
use crate::values;
use serde_json::{json, Value};
use yida_api::components::ComponentKind;

/// ListTableDataByFormInstanceIdTableId.
pub(super) fn list_rows(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let f = c.form()?;
    let id = p.req("formInstanceId")?;
    let table = p.req("tableFieldId")?;
    if values::kind_of(f, table) != Some(ComponentKind::TableField) {
        return Err(ApiErr::bad(
            "invalidParameter",
            format!(
                "tableFieldId {table} is not a sub-form (TableField) of {}",
                f.form_uuid
            ),
        ));
    }
    let (start, size, number) = page(p, "pageNumber")?;
    let with_row_id =
        p.0.get("needRowId")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    c.shared.with_state(|st| {
        let r = st
            .records
            .get(id)
            .filter(|r| r.form_uuid == f.form_uuid && r.app_type == c.app)
            .ok_or_else(|| not_found_record(id))?;
        let rows = r.data.get(table).and_then(Value::as_array);
        let total = rows.map_or(0, Vec::len);
        let data: Vec<Value> = rows
            .into_iter()
            .flatten()
            .enumerate()
            .skip(start)
            .take(size)
            .map(|(i, row)| {
                let mut v = values::shown_row(&c.seed, st, Some(f), row);
                if with_row_id {
                    v["rowId"] = json!(row_id(r.data_id, i));
                }
                v
            })
            .collect();
        Ok(Some(
            json!({ "pageNumber": number, "totalCount": total, "data": data }),
        ))
    })
}

/// A row's id: stable while rows are not inserted before it.
fn row_id(data_id: i64, index: usize) -> String {
    format!("ROW-{data_id}-{index}")
}
