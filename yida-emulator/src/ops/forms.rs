//! Form data: save, update, delete, read, component definitions, operation logs.

use super::render::{out_data, person, title_of};
use super::{not_found_record, Call};
use crate::filters::{self, gmt};
use crate::seed::Form;
use crate::shared::{now_ms, ApiErr};
use crate::store::{LogEntry, Record, State};
use crate::values;
use serde_json::{json, Map, Value};

/// Creates a record from prepared values ([`values::prepare`]; ids are `FINST-` plus a
/// counter); serial number components get the record's number.
pub(crate) fn new_record(
    st: &mut State,
    form: &Form,
    user: &str,
    mut data: Map<String, Value>,
) -> String {
    let n = st.next_id();
    values::stamp_serials(form, &mut data, n);
    let (form_uuid, app) = (&form.form_uuid, &form.app_type);
    let id = format!("FINST-EMU{n:010}");
    let now = now_ms();
    let entry = LogEntry {
        time_ms: now,
        user_id: user.to_string(),
        kind: "CREATE".into(),
        values: data.clone(),
    };
    st.records.insert(
        id.clone(),
        Record {
            form_instance_id: id.clone(),
            form_uuid: form_uuid.to_string(),
            app_type: app.to_string(),
            data,
            creator: user.to_string(),
            modifier: user.to_string(),
            created_ms: now,
            modified_ms: now,
            version: 1,
            data_id: n,
            log: vec![entry],
        },
    );
    st.touch_record(&id);
    id
}
fn update_record(
    st: &mut State,
    id: &str,
    user: &str,
    changes: Map<String, Value>,
    ignore_empty: bool,
) -> Result<(), ApiErr> {
    let r = st.records.get_mut(id).ok_or_else(|| not_found_record(id))?;
    let mut written = Map::new();
    for (k, v) in changes {
        if ignore_empty && (v.is_null() || v == "" || v == json!([])) {
            continue;
        }
        written.insert(k.clone(), v.clone());
        r.data.insert(k, v);
    }
    r.modified_ms = now_ms().max(r.modified_ms);
    r.modifier = user.to_string();
    r.version += 1;
    r.log.push(LogEntry {
        time_ms: r.modified_ms,
        user_id: user.to_string(),
        kind: "UPDATE".into(),
        values: written,
    });
    st.touch_record(id);
    Ok(())
}
/// SaveFormData (both versions).
pub(super) fn save(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let user = c.user.clone();
    let shared = c.shared;
    let f = c.form()?;
    let data = p.object("formDataJson")?;
    let id = shared.mutate(|st| {
        let data = values::prepare(f, data, st)?;
        Ok(new_record(st, f, &user, data))
    })?;
    Ok(Some(json!({ "result": id })))
}

/// BatchSaveFormData.
pub(super) fn batch_save(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let user = c.user.clone();
    let shared = c.shared;
    let f = c.form()?;
    let list = match p.0.get("formDataJsonList") {
        Some(Value::Array(a)) => a.clone(),
        _ => vec![],
    };
    if list.len() > 100 {
        return Err(ApiErr::bad(
            "invalidParameter",
            "formDataJsonList holds at most 100 items",
        ));
    }
    let mut datas = vec![];
    for (i, t) in list.iter().enumerate() {
        match t
            .as_str()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
        {
            Some(Value::Object(m)) => datas.push(m),
            _ => {
                return Err(ApiErr::bad(
                    "invalidParameter",
                    format!("formDataJsonList item {i} must hold a JSON object"),
                ))
            }
        }
    }
    let ids = shared.mutate(|st| {
        // All or nothing: every item is checked before the first is stored.
        let datas = datas
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                values::prepare(f, d, st).map_err(|mut e| {
                    e.message = format!("formDataJsonList item {i}: {}", e.message);
                    e
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(datas
            .into_iter()
            .map(|d| new_record(st, f, &user, d))
            .collect::<Vec<_>>())
    })?;
    Ok(Some(json!({ "result": ids })))
}

/// CreateOrUpdateFormData (both versions).
pub(super) fn create_or_update(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let user = c.user.clone();
    let shared = c.shared;
    let f = c.form()?;
    let data = p.object("formDataJson")?;
    let cond = filters::parse_conditions(f, &p.json("searchCondition").unwrap_or(Value::Null))?;
    let ids = shared.mutate(|st| {
        let data = values::prepare(f, data, st)?;
        let hits: Vec<String> = st
            .records
            .values()
            .filter(|r| {
                r.form_uuid == f.form_uuid
                    && !cond.is_empty()
                    && filters::pass(&cond, false, &r.data)
            })
            .map(|r| r.form_instance_id.clone())
            .collect();
        if hits.is_empty() {
            return Ok(vec![new_record(st, f, &user, data)]);
        }
        for id in &hits {
            update_record(st, id, &user, data.clone(), false)?;
        }
        Ok(hits)
    })?;
    Ok(Some(json!({ "result": ids })))
}

/// UpdateFormData (both versions).
pub(super) fn update(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let seed = &c.seed;
    let user = c.user.clone();
    let app = c.app.clone();
    let shared = c.shared;
    let id = p.req("formInstanceId")?.to_string();
    let changes = p.object("updateFormDataJson")?;
    shared.mutate(|st| {
        let r = st.records.get(&id).ok_or_else(|| not_found_record(&id))?;
        if r.app_type != app || p.s("formUuid").is_some_and(|u| u != r.form_uuid) {
            return Err(not_found_record(&id));
        }
        let changes = match seed.form(&r.form_uuid) {
            Some(f) => values::prepare(f, changes, st)?,
            None => changes,
        };
        update_record(st, &id, &user, changes, false)
    })?;
    Ok(None)
}

/// DeleteFormData.
pub(super) fn delete(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let app = c.app.clone();
    let shared = c.shared;
    let id = p.req("formInstanceId")?.to_string();
    shared.mutate(|st| {
        match st.records.get(&id) {
            Some(r) if r.app_type == app => {}
            _ => return Err(not_found_record(&id)),
        }
        st.records.remove(&id);
        st.touch_record(&id);
        Ok(())
    })?;
    Ok(None)
}

/// BatchRemovalByFormInstanceIdList.
pub(super) fn batch_remove(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let shared = c.shared;
    let f = c.form()?;
    let ids = p.strings("formInstanceIdList");
    if ids.len() > 100 {
        return Err(ApiErr::bad(
            "invalidParameter",
            "formInstanceIdList holds at most 100 ids",
        ));
    }
    shared.mutate(|st| {
        for id in &ids {
            if st
                .records
                .get(id)
                .is_some_and(|r| r.form_uuid == f.form_uuid)
            {
                st.records.remove(id);
                st.touch_record(id);
            }
        }
        Ok(())
    })?;
    Ok(None)
}

/// GetFormDataByID (both versions).
pub(super) fn get_by_id(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let seed = &c.seed;
    let app = c.app.clone();
    let shared = c.shared;
    let id = p.req("id")?;
    shared.with_state(|st| {
        let r = st
            .records
            .get(id)
            .filter(|r| r.app_type == app)
            .ok_or_else(|| not_found_record(id))?;
        if p.s("formUuid").is_some_and(|u| u != r.form_uuid) {
            return Err(not_found_record(id));
        }
        Ok(Some(json!({
            "formInstId": r.form_instance_id,
            "formUuid": r.form_uuid,
            "formData": out_data(seed, st, &r.form_uuid, &r.data),
            "modifiedTimeGMT": gmt(r.modified_ms),
            "originator": person(seed, &r.creator, "departmentName", "name"),
        })))
    })
}

/// BatchGetFormDataByIdList.
pub(super) fn batch_get(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let seed = &c.seed;
    let shared = c.shared;
    let f = c.form()?;
    let ids = p.strings("formInstanceIdList");
    if ids.len() > 100 {
        return Err(ApiErr::bad(
            "invalidParameter",
            "formInstanceIdList holds at most 100 ids",
        ));
    }
    let with_value =
        p.0.get("needFormInstanceValue")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    let list = shared.with_state(|st| {
        ids.iter()
            .filter_map(|id| st.records.get(id).filter(|r| r.form_uuid == f.form_uuid))
            .map(|r| {
                let mut v = json!({
                    "formInstanceId": r.form_instance_id,
                    "formUuid": r.form_uuid,
                    "id": r.data_id,
                    "formData": out_data(seed, st, &r.form_uuid, &r.data),
                    "createTimeGMT": gmt(r.created_ms),
                    "modifiedTimeGMT": gmt(r.modified_ms),
                    "creatorUserId": r.creator,
                    "modifier": r.modifier,
                    "originator": person(seed, &r.creator, "", "name"),
                    "modifyUser": person(seed, &r.modifier, "", "name"),
                    "title": title_of(seed, &r.creator, &r.form_uuid),
                    "version": r.version,
                });
                if with_value {
                    v["instanceValue"] = json!("[]");
                }
                v
            })
            .collect::<Vec<_>>()
    });
    Ok(Some(json!({ "result": list })))
}

/// ListOperationLogs.
pub(super) fn operation_logs(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let shared = c.shared;
    let f = c.form()?;
    let ids = p.strings("formInstanceIdList");
    shared.with_state(|st| {
            let mut out = Map::new();
            for id in ids {
                if let Some(r) = st.records.get(&id).filter(|r| r.form_uuid == f.form_uuid) {
                    let mut logs: Vec<Value> = vec![];
                    for e in &r.log {
                        for (field, v) in &e.values {
                            logs.push(json!({
                                "componentName": field,
                                "operationType": e.kind,
                                "gmtModified": gmt(e.time_ms),
                                "operator": e.user_id,
                                "currentText": match v { Value::String(s) => s.clone(), other => other.to_string() },
                            }));
                        }
                    }
                    out.insert(id, Value::Array(logs));
                }
            }
            Ok(Some(json!({ "operationLogMap": out })))
        })
}

/// GetFormComponentDefinitionList.
pub(super) fn component_definitions(c: &Call) -> Result<Option<Value>, ApiErr> {
    let f = c.form()?;
    let list: Vec<Value> = f
        .components
        .iter()
        .map(|c| {
            json!({
                "fieldId": c.field_id,
                "label": c.label,
                "componentName": c.kind(),
                "parentId": c.parent_id.clone().unwrap_or_default(),
            })
        })
        .collect();
    Ok(Some(json!({ "result": list })))
}

/// GetFormListInApp: the app's forms, a page at a time (`formTypes`: `receipt` for plain
/// forms, `process` for those a process uses; both when absent).
pub(super) fn list_forms(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let (start, size, number) = super::page(p, "pageNumber")?;
    let types: Vec<&str> = p
        .s("formTypes")
        .map(|t| t.split(',').map(str::trim).collect())
        .unwrap_or_else(|| vec!["receipt", "process"]);
    let forms: Vec<Value> = c
        .seed
        .forms
        .iter()
        .filter(|f| f.app_type == c.app)
        .filter_map(|f| {
            let kind = if c
                .seed
                .processes
                .iter()
                .any(|pr| pr.form_uuid == f.form_uuid)
            {
                "process"
            } else {
                "receipt"
            };
            types.contains(&kind).then(|| {
                json!({
                    "formUuid": f.form_uuid,
                    "formType": kind,
                    "title": { "zhCN": f.title, "enUS": f.title },
                    "creator": c.seed.users.first().map(|u| u.user_id.clone()).unwrap_or_default(),
                    "gmtCreate": "2024-01-01T00:00Z",
                })
            })
        })
        .collect();
    let total = forms.len();
    let data: Vec<Value> = forms.into_iter().skip(start).take(size).collect();
    Ok(Some(json!({
        "success": true,
        "result": { "totalCount": total, "currentPage": number, "data": data },
    })))
}

/// BatchUpdateFormDataByInstanceId: one change for many instances.
pub(super) fn batch_update_by_id(c: &Call) -> Result<Option<Value>, ApiErr> {
    batch_update(c, false)
}

/// BatchUpdateFormDataByInstanceMap: a change per instance.
pub(super) fn batch_update_by_map(c: &Call) -> Result<Option<Value>, ApiErr> {
    batch_update(c, true)
}

/// Both batch updates.
fn batch_update(c: &Call, by_map: bool) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let user = c.user.clone();
    let shared = c.shared;
    let f = c.form()?;
    let ignore_empty =
        p.0.get("ignoreEmpty")
            .and_then(Value::as_bool)
            .unwrap_or(false);
    let mut plan: Vec<(String, Map<String, Value>)> = vec![];
    if !by_map {
        let changes = p.object("updateFormDataJson")?;
        for id in p.strings("formInstanceIdList") {
            plan.push((id, changes.clone()));
        }
    } else if let Some(Value::Object(m)) = p.0.get("updateFormDataJsonMap") {
        for (id, t) in m {
            match t
                .as_str()
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
            {
                Some(Value::Object(c)) => plan.push((id.clone(), c)),
                _ => {
                    return Err(ApiErr::bad(
                        "invalidParameter",
                        format!("updateFormDataJsonMap entry {id} must hold a JSON object"),
                    ))
                }
            }
        }
    }
    if plan.len() > 100 {
        return Err(ApiErr::bad(
            "invalidParameter",
            "at most 100 form instances per call",
        ));
    }
    let ids = shared.mutate(|st| {
        for (id, _) in &plan {
            match st.records.get(id) {
                Some(r) if r.form_uuid == f.form_uuid => {}
                _ => return Err(not_found_record(id)),
            }
        }
        let plan = plan
            .into_iter()
            .map(|(id, c)| Ok((id, values::prepare(f, c, st)?)))
            .collect::<Result<Vec<_>, ApiErr>>()?;
        let mut ids = vec![];
        for (id, c) in plan {
            update_record(st, &id, &user, c, ignore_empty)?;
            ids.push(id);
        }
        Ok(ids)
    })?;
    Ok(Some(json!({ "result": ids })))
}
