//! The emulated operations.

use crate::search::{self, gmt, parse_day, Filter};
use crate::seed::{Form, Process, Seed};
use crate::server::{now_ms, ApiErr, Caller, Shared};
use crate::store::{Instance, LogEntry, OpRecord, Record, State, Task};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use yida_api::OperationMeta as Op;

/// Operations with state behind them, `(action, version)`.
pub const EMULATED: &[(&str, &str)] = &[
    ("SaveFormData", "1.0"),
    ("SaveFormData", "2.0"),
    ("BatchSaveFormData", "1.0"),
    ("CreateOrUpdateFormData", "1.0"),
    ("CreateOrUpdateFormData", "2.0"),
    ("UpdateFormData", "1.0"),
    ("UpdateFormData", "2.0"),
    ("BatchUpdateFormDataByInstanceId", "1.0"),
    ("BatchUpdateFormDataByInstanceMap", "1.0"),
    ("DeleteFormData", "1.0"),
    ("BatchRemovalByFormInstanceIdList", "1.0"),
    ("GetFormDataByID", "1.0"),
    ("GetFormDataByID", "2.0"),
    ("BatchGetFormDataByIdList", "1.0"),
    ("SearchFormDatas", "1.0"),
    ("SearchFormDatas", "2.0"),
    ("SearchFormDataIdList", "1.0"),
    ("SearchFormDataIdList", "2.0"),
    ("ListOperationLogs", "1.0"),
    ("GetFormComponentDefinitionList", "1.0"),
    ("StartInstance", "1.0"),
    ("StartInstance", "2.0"),
    ("GetInstanceById", "1.0"),
    ("GetInstanceById", "2.0"),
    ("GetInstances", "1.0"),
    ("GetInstances", "2.0"),
    ("GetInstanceIdList", "1.0"),
    ("GetInstanceIdList", "2.0"),
    ("GetInstancesByIdList", "1.0"),
    ("TerminateInstance", "1.0"),
    ("DeleteInstance", "1.0"),
    ("GetRunningTasks", "1.0"),
    ("ExecuteTask", "1.0"),
    ("GetOperationRecords", "1.0"),
];

/// The parameters of one call, validated against the spec.
struct P(Map<String, Value>);

impl P {
    fn s(&self, k: &str) -> Option<&str> {
        self.0
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
    fn req(&self, k: &str) -> Result<&str, ApiErr> {
        self.s(k).ok_or_else(|| {
            ApiErr::bad(
                "missingParameter",
                format!("缺少必填参数: {k} is mandatory for this action."),
            )
        })
    }
    fn i(&self, k: &str) -> Option<i64> {
        self.0.get(k).and_then(Value::as_i64)
    }
    /// A JSON-text parameter, parsed (validation made sure it parses).
    fn json(&self, k: &str) -> Option<Value> {
        self.s(k).and_then(|s| serde_json::from_str(s).ok())
    }
    fn object(&self, k: &str) -> Result<Map<String, Value>, ApiErr> {
        match self.json(k) {
            Some(Value::Object(m)) => Ok(m),
            _ => Err(ApiErr::bad(
                "invalidParameter",
                format!("{k} must hold a JSON object of field id to value"),
            )),
        }
    }
    fn strings(&self, k: &str) -> Vec<String> {
        match self.0.get(k) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            Some(Value::String(s)) => s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
            _ => vec![],
        }
    }
}

fn not_found_record(id: &str) -> ApiErr {
    ApiErr::bad(
        "dataNotExist.form.instanceNotExist",
        format!("表单实例不存在:{id}"),
    )
}

fn not_found_instance(id: &str) -> ApiErr {
    ApiErr::bad(
        "dataNotExist.process.instanceNotExist",
        format!("流程实例不存在:{id}"),
    )
}

/// Checks `appType`, `systemToken` and `userId` against the seed.
fn check_context(seed: &Seed, op: &Op, p: &P) -> Result<(), ApiErr> {
    if let Some(app_type) = p.s("appType") {
        let app = seed
            .apps
            .iter()
            .find(|a| a.app_type == app_type)
            .ok_or_else(|| {
                ApiErr::bad(
                    "dataNotExist.app.appNotExist",
                    format!("应用编码不存在:{app_type}"),
                )
            })?;
        if op.params.iter().any(|x| x.name == "systemToken")
            && p.s("systemToken") != Some(&app.system_token)
        {
            return Err(ApiErr::bad(
                "invalidParameter.systemToken.invalid",
                "systemToken 与应用不匹配 (the systemToken does not belong to this appType)",
            ));
        }
    }
    if let Some(user) = p.s("userId") {
        if seed.user(user).is_none() {
            return Err(ApiErr::bad(
                "dataNotExist.user.userNotExist",
                format!("操作用户不存在:{user}"),
            ));
        }
    }
    Ok(())
}

fn form<'a>(seed: &'a Seed, p: &P, uuid: &str) -> Result<&'a Form, ApiErr> {
    let f = seed
        .form(uuid)
        .ok_or_else(|| ApiErr::bad("dataNotExist.form.notExists", format!("表单不存在:{uuid}")))?;
    if let Some(app) = p.s("appType") {
        if f.app_type != app {
            return Err(ApiErr::bad(
                "dataNotExist.form.notExists",
                format!("表单不存在:{uuid}"),
            ));
        }
    }
    Ok(f)
}

fn page(p: &P, page_key: &str) -> Result<(usize, usize, i64), ApiErr> {
    let number = p.i(page_key).unwrap_or(1);
    let size = p.i("pageSize").unwrap_or(10);
    if size > 100 {
        return Err(ApiErr::bad(
            "pageSize.exceeds",
            "pageSize must not exceeds 100",
        ));
    }
    if size < 1 {
        return Err(ApiErr::bad("pageSize.invalid", "illegal pageSize"));
    }
    if number < 1 {
        return Err(ApiErr::bad(
            "invalidParameter",
            format!("{page_key} must be 1 or more"),
        ));
    }
    let start = ((number - 1) as usize).saturating_mul(size as usize);
    Ok((start, size as usize, number))
}

/// Creates a record (ids are `FINST-` plus a counter).
pub(crate) fn new_record(
    st: &mut State,
    form_uuid: &str,
    app: &str,
    user: &str,
    data: Map<String, Value>,
) -> String {
    let n = st.next_id();
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

fn person(seed: &Seed, id: &str, dept_key: &str, name_key: &str) -> Value {
    let u = seed.user(id);
    let mut m = Map::new();
    m.insert("userId".into(), json!(id));
    m.insert(
        name_key.into(),
        json!({
            "nameInChinese": u.map(|u| u.name.clone()).unwrap_or_else(|| id.to_string()),
            "nameInEnglish": u.map(|u| u.name_in_english.clone()).unwrap_or_else(|| id.to_string()),
            "type": "i18n",
        }),
    );
    if !dept_key.is_empty() {
        m.insert(
            dept_key.into(),
            json!(u.map(|u| u.department.clone()).unwrap_or_default()),
        );
        m.insert(
            "email".into(),
            json!(u.map(|u| u.email.clone()).unwrap_or_default()),
        );
    }
    Value::Object(m)
}

/// Values as replies show them: companion keys for numbers and members.
fn out_data(seed: &Seed, data: &Map<String, Value>) -> Value {
    let mut m = data.clone();
    for (k, v) in data {
        if k.starts_with("numberField_") {
            if let Some(n) = v.as_f64() {
                m.insert(format!("{k}_value"), json!(n.to_string()));
            }
        }
        if k.starts_with("employeeField_") {
            if let Value::Array(ids) = v {
                let names: Vec<Value> = ids
                    .iter()
                    .map(|i| {
                        let id = i.as_str().unwrap_or_default();
                        json!(seed
                            .user(id)
                            .map(|u| u.name.clone())
                            .unwrap_or_else(|| id.to_string()))
                    })
                    .collect();
                m.insert(format!("{k}_id"), v.clone());
                m.insert(k.clone(), Value::Array(names));
            }
        }
    }
    Value::Object(m)
}

fn record_json(seed: &Seed, r: &Record) -> Value {
    json!({
        "formInstanceId": r.form_instance_id,
        "formUuid": r.form_uuid,
        "dataId": r.data_id,
        "formData": out_data(seed, &r.data),
        "createdTimeGMT": gmt(r.created_ms),
        "modifiedTimeGMT": gmt(r.modified_ms),
        "creatorUserId": r.creator,
        "modifierUserId": r.modifier,
        "originator": person(seed, &r.creator, "", "userName"),
        "modifyUser": person(seed, &r.modifier, "", "userName"),
        "version": r.version,
        "title": title_of(seed, &r.creator, &r.form_uuid),
        "serialNo": format!("SERIAL{:06}", r.data_id),
        "instanceValue": "[]",
    })
}

fn title_of(seed: &Seed, user: &str, form_uuid: &str) -> String {
    let name = seed
        .user(user)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| user.to_string());
    let form = seed
        .form(form_uuid)
        .map(|f| f.title.clone())
        .unwrap_or_default();
    format!("{name}发起的{form}")
}

fn instance_json(seed: &Seed, st: &State, i: &Instance, dept_key: &str) -> Value {
    let executors: Vec<Value> = st
        .tasks
        .values()
        .filter(|t| t.process_instance_id == i.process_instance_id && t.status == "NEW")
        .map(|t| person(seed, &t.actioner, dept_key, "name"))
        .collect();
    json!({
        "processInstanceId": i.process_instance_id,
        "processCode": i.process_code,
        "formUuid": i.form_uuid,
        "title": i.title,
        "instanceStatus": i.status,
        "approvedResult": i.result,
        "createTimeGMT": gmt(i.created_ms),
        "modifiedTimeGMT": gmt(i.modified_ms),
        "originator": person(seed, &i.originator, dept_key, "name"),
        "actionExecutor": executors,
        "data": out_data(seed, &i.data),
        "version": i.version,
    })
}

fn record_filters(seed: &Seed, p: &P, form: &Form) -> Result<(Vec<Filter>, RecordWindow), ApiErr> {
    let filters = match p.json("searchFieldJson") {
        Some(v) => search::parse_fields(form, "searchFieldJson", &v)?,
        None => vec![],
    };
    let _ = seed;
    let day = |k: &str, end: bool| p.s(k).map(|s| parse_day(k, s, end)).transpose();
    Ok((
        filters,
        RecordWindow {
            created: (
                day("createFromTimeGMT", false)?,
                day("createToTimeGMT", true)?,
            ),
            modified: (
                day("modifiedFromTimeGMT", false)?,
                day("modifiedToTimeGMT", true)?,
            ),
            originator: p.s("originatorId").map(String::from),
        },
    ))
}

struct RecordWindow {
    created: (Option<i64>, Option<i64>),
    modified: (Option<i64>, Option<i64>),
    originator: Option<String>,
}

impl RecordWindow {
    fn pass(&self, created: i64, modified: i64, originator: &str) -> bool {
        let within = |t: i64, (a, b): (Option<i64>, Option<i64>)| {
            a.is_none_or(|a| t >= a) && b.is_none_or(|b| t <= b)
        };
        within(created, self.created)
            && within(modified, self.modified)
            && self.originator.as_deref().is_none_or(|o| o == originator)
    }
}

fn sort_records(list: &mut [&Record], order: Option<Value>) -> Result<(), ApiErr> {
    let order: Vec<(String, bool)> = match order {
        Some(Value::Object(m)) => m
            .into_iter()
            .map(|(k, v)| (k, v.as_str() != Some("-")))
            .collect(),
        Some(Value::Array(a)) => a
            .into_iter()
            .filter_map(|x| {
                let obj = x.as_object()?;
                let k = obj
                    .get("key")
                    .or_else(|| obj.get("fieldId"))?
                    .as_str()?
                    .to_string();
                let asc = obj
                    .get("isAsc")
                    .and_then(Value::as_bool)
                    .unwrap_or(obj.get("order").and_then(Value::as_str) != Some("desc"));
                Some((k, asc))
            })
            .collect(),
        Some(_) => {
            return Err(ApiErr::bad(
                "invalidParameter",
                "dynamicOrder must be a JSON object of field id to + or -",
            ))
        }
        None => vec![],
    };
    list.sort_by(|a, b| {
        for (k, asc) in &order {
            let key = |r: &Record| match k.as_str() {
                "gmt_create" | "createTime" => json!(r.created_ms),
                "gmt_modified" | "modifiedTime" => json!(r.modified_ms),
                _ => r.data.get(k).cloned().unwrap_or(Value::Null),
            };
            let o = search::compare(&key(a), &key(b));
            let o = if *asc { o } else { o.reverse() };
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        // Newest first, as the service does without an order.
        b.created_ms
            .cmp(&a.created_ms)
            .then(b.data_id.cmp(&a.data_id))
    });
    Ok(())
}

/// Runs an emulated operation, or answers 501.
pub fn dispatch(
    shared: &Arc<Shared>,
    op: &'static Op,
    caller: &Caller,
    params: Map<String, Value>,
) -> Result<Option<Value>, ApiErr> {
    let _ = caller;
    let p = P(params);
    let seed = shared.seed();
    if !EMULATED.contains(&(op.action, op.version)) {
        return Err(ApiErr::new(
            501,
            "notEmulated",
            format!(
                "{}@{} is not emulated: the parameters were valid, but the emulator keeps no state for it",
                op.action, op.version
            ),
        ));
    }
    check_context(&seed, op, &p)?;
    let user = p.s("userId").unwrap_or_default().to_string();
    let app = p.s("appType").unwrap_or_default().to_string();
    match op.action {
        "SaveFormData" => {
            let f = form(&seed, &p, p.req("formUuid")?)?;
            let data = p.object("formDataJson")?;
            check_values(f, &data)?;
            let id = shared.mutate(|st| Ok(new_record(st, &f.form_uuid, &app, &user, data)))?;
            Ok(Some(json!({ "result": id })))
        }
        "BatchSaveFormData" => {
            let f = form(&seed, &p, p.req("formUuid")?)?;
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
                    Some(Value::Object(m)) => {
                        check_values(f, &m)?;
                        datas.push(m)
                    }
                    _ => {
                        return Err(ApiErr::bad(
                            "invalidParameter",
                            format!("formDataJsonList item {i} must hold a JSON object"),
                        ))
                    }
                }
            }
            let ids = shared.mutate(|st| {
                Ok(datas
                    .into_iter()
                    .map(|d| new_record(st, &f.form_uuid, &app, &user, d))
                    .collect::<Vec<_>>())
            })?;
            Ok(Some(json!({ "result": ids })))
        }
        "CreateOrUpdateFormData" => {
            let f = form(&seed, &p, p.req("formUuid")?)?;
            let data = p.object("formDataJson")?;
            check_values(f, &data)?;
            let cond =
                search::parse_conditions(f, &p.json("searchCondition").unwrap_or(Value::Null))?;
            let ids = shared.mutate(|st| {
                let hits: Vec<String> = st
                    .records
                    .values()
                    .filter(|r| {
                        r.form_uuid == f.form_uuid
                            && !cond.is_empty()
                            && search::pass(&cond, false, &r.data)
                    })
                    .map(|r| r.form_instance_id.clone())
                    .collect();
                if hits.is_empty() {
                    return Ok(vec![new_record(st, &f.form_uuid, &app, &user, data)]);
                }
                for id in &hits {
                    update_record(st, id, &user, data.clone(), false)?;
                }
                Ok(hits)
            })?;
            Ok(Some(json!({ "result": ids })))
        }
        "UpdateFormData" => {
            let id = p.req("formInstanceId")?.to_string();
            let changes = p.object("updateFormDataJson")?;
            shared.mutate(|st| {
                let r = st.records.get(&id).ok_or_else(|| not_found_record(&id))?;
                if r.app_type != app || p.s("formUuid").is_some_and(|u| u != r.form_uuid) {
                    return Err(not_found_record(&id));
                }
                if let Some(f) = seed.form(&r.form_uuid) {
                    check_values(f, &changes)?;
                }
                update_record(st, &id, &user, changes, false)
            })?;
            Ok(None)
        }
        "BatchUpdateFormDataByInstanceId" | "BatchUpdateFormDataByInstanceMap" => {
            let f = form(&seed, &p, p.req("formUuid")?)?;
            let ignore_empty =
                p.0.get("ignoreEmpty")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
            let mut plan: Vec<(String, Map<String, Value>)> = vec![];
            if op.action == "BatchUpdateFormDataByInstanceId" {
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
            for (_, c) in &plan {
                check_values(f, c)?;
            }
            let ids = shared.mutate(|st| {
                for (id, _) in &plan {
                    match st.records.get(id) {
                        Some(r) if r.form_uuid == f.form_uuid => {}
                        _ => return Err(not_found_record(id)),
                    }
                }
                let mut ids = vec![];
                for (id, c) in plan {
                    update_record(st, &id, &user, c, ignore_empty)?;
                    ids.push(id);
                }
                Ok(ids)
            })?;
            Ok(Some(json!({ "result": ids })))
        }
        "DeleteFormData" => {
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
        "BatchRemovalByFormInstanceIdList" => {
            let f = form(&seed, &p, p.req("formUuid")?)?;
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
        "GetFormDataByID" => {
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
                    "formData": out_data(&seed, &r.data),
                    "modifiedTimeGMT": gmt(r.modified_ms),
                    "originator": person(&seed, &r.creator, "departmentName", "name"),
                })))
            })
        }
        "BatchGetFormDataByIdList" => {
            let f = form(&seed, &p, p.req("formUuid")?)?;
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
                            "formData": out_data(&seed, &r.data),
                            "createTimeGMT": gmt(r.created_ms),
                            "modifiedTimeGMT": gmt(r.modified_ms),
                            "creatorUserId": r.creator,
                            "modifier": r.modifier,
                            "originator": person(&seed, &r.creator, "", "name"),
                            "modifyUser": person(&seed, &r.modifier, "", "name"),
                            "title": title_of(&seed, &r.creator, &r.form_uuid),
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
        "SearchFormDatas" | "SearchFormDataIdList" => {
            let f = form(&seed, &p, p.req("formUuid")?)?;
            let page_key = if op.action == "SearchFormDatas" {
                "currentPage"
            } else {
                "pageNumber"
            };
            let (start, size, number) = page(&p, page_key)?;
            let (filters, window) = record_filters(&seed, &p, f)?;
            let or = p
                .s("logicOperator")
                .is_some_and(|o| o.eq_ignore_ascii_case("or"));
            shared.with_state(|st| {
                let mut hits: Vec<&Record> = st
                    .records
                    .values()
                    .filter(|r| r.form_uuid == f.form_uuid)
                    .filter(|r| window.pass(r.created_ms, r.modified_ms, &r.creator))
                    .filter(|r| search::pass(&filters, or, &r.data))
                    .collect();
                sort_records(&mut hits, p.json("dynamicOrder"))?;
                let total = hits.len();
                let page = hits.into_iter().skip(start).take(size);
                if op.action == "SearchFormDatas" {
                    let data: Vec<Value> = page.map(|r| record_json(&seed, r)).collect();
                    Ok(Some(
                        json!({ "currentPage": number, "totalCount": total, "data": data }),
                    ))
                } else {
                    let data: Vec<&str> = page.map(|r| r.form_instance_id.as_str()).collect();
                    Ok(Some(
                        json!({ "pageNumber": number, "totalCount": total, "data": data }),
                    ))
                }
            })
        }
        "ListOperationLogs" => {
            let f = form(&seed, &p, p.req("formUuid")?)?;
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
        "GetFormComponentDefinitionList" => {
            let f = form(&seed, &p, p.req("formUuid")?)?;
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
        "StartInstance" => {
            let f = form(&seed, &p, p.req("formUuid")?)?;
            let process = match p.s("processCode") {
                Some(code) => seed
                    .processes
                    .iter()
                    .find(|x| x.process_code == code && x.form_uuid == f.form_uuid),
                None => seed.processes.iter().find(|x| x.form_uuid == f.form_uuid),
            }
            .ok_or_else(|| {
                ApiErr::bad(
                    "dataNotExist.process.processDefineNotExist",
                    "流程定义不存在",
                )
            })?
            .clone();
            let data = p.object("formDataJson")?;
            check_values(f, &data)?;
            let corp = seed.corp_id.clone();
            let (id, events) =
                shared.mutate(|st| Ok(start_instance(st, &seed, &process, &app, &user, data)))?;
            publish(shared, &corp, events);
            Ok(Some(json!({ "result": id })))
        }
        "GetInstanceById" => {
            let id = p.req("id")?;
            shared.with_state(|st| {
                let i = st
                    .instances
                    .get(id)
                    .filter(|i| i.app_type == app)
                    .ok_or_else(|| not_found_instance(id))?;
                Ok(Some(instance_json(&seed, st, i, "deptName")))
            })
        }
        "GetInstancesByIdList" => {
            let ids = p.strings("processInstanceIds");
            if ids.len() > 100 {
                return Err(ApiErr::bad(
                    "invalidParameter",
                    "processInstanceIds holds at most 100 ids",
                ));
            }
            shared.with_state(|st| {
                let list: Vec<Value> = ids
                    .iter()
                    .filter_map(|id| st.instances.get(id).filter(|i| i.app_type == app))
                    .filter(|i| p.s("formUuid").is_none_or(|u| u == i.form_uuid))
                    .map(|i| instance_json(&seed, st, i, "departmentName"))
                    .collect();
                Ok(Some(json!({ "result": list })))
            })
        }
        "GetInstances" | "GetInstanceIdList" => {
            let f = form(&seed, &p, p.req("formUuid")?)?;
            let (start, size, number) = page(&p, "pageNumber")?;
            let (filters, window) = record_filters(&seed, &p, f)?;
            let status = p.s("instanceStatus").map(String::from);
            let result = p.s("approvedResult").map(String::from);
            let task = p.s("taskId").map(String::from);
            shared.with_state(|st| {
                let mut hits: Vec<&Instance> = st
                    .instances
                    .values()
                    .filter(|i| i.form_uuid == f.form_uuid)
                    .filter(|i| window.pass(i.created_ms, i.modified_ms, &i.originator))
                    .filter(|i| status.as_deref().is_none_or(|s| s == i.status))
                    .filter(|i| result.as_deref().is_none_or(|s| s == i.result))
                    .filter(|i| {
                        task.as_deref().is_none_or(|t| {
                            st.tasks.values().any(|x| {
                                x.task_id.to_string() == t
                                    && x.process_instance_id == i.process_instance_id
                            })
                        })
                    })
                    .filter(|i| search::pass(&filters, false, &i.data))
                    .collect();
                hits.sort_by(|a, b| {
                    b.created_ms
                        .cmp(&a.created_ms)
                        .then(b.process_instance_id.cmp(&a.process_instance_id))
                });
                let total = hits.len();
                let page = hits.into_iter().skip(start).take(size);
                let data: Vec<Value> = if op.action == "GetInstances" {
                    page.map(|i| instance_json(&seed, st, i, "deptName"))
                        .collect()
                } else {
                    page.map(|i| json!(i.process_instance_id)).collect()
                };
                Ok(Some(
                    json!({ "pageNumber": number, "totalCount": total, "data": data }),
                ))
            })
        }
        "TerminateInstance" => {
            let id = p.req("processInstanceId")?.to_string();
            let corp = seed.corp_id.clone();
            let events = shared.mutate(|st| {
                let i = st
                    .instances
                    .get(&id)
                    .filter(|i| i.app_type == app)
                    .ok_or_else(|| not_found_instance(&id))?;
                if i.status != "RUNNING" {
                    return Err(ApiErr::bad(
                        "invalidState.process.notRunning",
                        format!("流程实例不在运行中:{id}"),
                    ));
                }
                Ok(finish_instance(
                    st,
                    &id,
                    "TERMINATED",
                    "",
                    &user,
                    "terminate",
                    "",
                ))
            })?;
            publish(shared, &corp, events);
            Ok(None)
        }
        "DeleteInstance" => {
            let id = p.req("processInstanceId")?.to_string();
            let corp = seed.corp_id.clone();
            let events = shared.mutate(|st| {
                let inst = match st.instances.remove(&id) {
                    Some(i) if i.app_type == app => i,
                    Some(i) => {
                        st.instances.insert(id.clone(), i);
                        return Err(not_found_instance(&id));
                    }
                    None => return Err(not_found_instance(&id)),
                };
                st.touch_instance(&id);
                let tasks: Vec<i64> = st
                    .tasks
                    .values()
                    .filter(|t| t.process_instance_id == id)
                    .map(|t| t.task_id)
                    .collect();
                for t in tasks {
                    st.tasks.remove(&t);
                    st.touch_task(t);
                }
                Ok(vec![(
                    "bpms_instance_change",
                    json!({
                        "processInstanceId": id, "processCode": inst.process_code, "title": inst.title,
                        "type": "delete", "staffId": user, "finishTime": now_ms(),
                    }),
                )])
            })?;
            publish(shared, &corp, events);
            Ok(None)
        }
        "GetRunningTasks" => {
            let inst = p.s("processInstanceId").map(String::from);
            shared.with_state(|st| {
                if let Some(id) = &inst {
                    if st.instances.get(id).is_none_or(|i| i.app_type != app) {
                        return Err(not_found_instance(id));
                    }
                }
                let list: Vec<Value> = st
                    .tasks
                    .values()
                    .filter(|t| t.status == "NEW")
                    .filter(|t| {
                        st.instances
                            .get(&t.process_instance_id)
                            .is_some_and(|i| i.app_type == app)
                    })
                    .filter(|t| inst.as_deref().is_none_or(|i| i == t.process_instance_id))
                    .map(task_json)
                    .collect();
                Ok(Some(json!({ "result": list })))
            })
        }
        "ExecuteTask" => {
            let inst = p.req("processInstanceId")?.to_string();
            let task_id = p.i("taskId").unwrap_or_default();
            let out = p.req("outResult")?.to_string();
            if out != "AGREE" && out != "DISAGREE" {
                return Err(ApiErr::bad(
                    "invalidParameter.task.unsupportedOutResultType",
                    format!("不支持的任务执行动作:{out}"),
                ));
            }
            let remark = p.s("remark").unwrap_or_default().to_string();
            let changes = match p.json("formDataJson") {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            let corp = seed.corp_id.clone();
            let events = shared.mutate(|st| {
                execute_task(
                    st, &seed, &app, &inst, task_id, &user, &out, &remark, changes,
                )
            })?;
            publish(shared, &corp, events);
            Ok(None)
        }
        "GetOperationRecords" => {
            let id = p.req("processInstanceId")?;
            shared.with_state(|st| {
                let i = st.instances.get(id).filter(|i| i.app_type == app).ok_or_else(|| not_found_instance(id))?;
                let list: Vec<Value> = i
                    .records
                    .iter()
                    .map(|r| {
                        let u = seed.user(&r.user_id);
                        json!({
                            "processInstanceId": i.process_instance_id,
                            "action": r.action,
                            "operateType": r.action,
                            "type": if r.action == "doing" { "TODO" } else { "EXECUTE" },
                            "activityId": r.activity_id,
                            "showName": r.show_name,
                            "remark": r.remark,
                            "operatorUserId": r.user_id,
                            "operatorName": u.map(|u| u.name.clone()).unwrap_or_else(|| r.user_id.clone()),
                            "operatorDisplayName": u.map(|u| u.name.clone()).unwrap_or_else(|| r.user_id.clone()),
                            "operateTimeGMT": gmt(r.time_ms),
                            "taskId": r.task_id.map(|t| t.to_string()).unwrap_or_default(),
                        })
                    })
                    .collect();
                Ok(Some(json!({ "result": list })))
            })
        }
        _ => Err(ApiErr::new(
            501,
            "notEmulated",
            format!("{}@{} is not emulated", op.action, op.version),
        )),
    }
}

/// Values must fit their components: numbers are numbers, dates epoch ms, multi-values lists.
fn check_values(f: &Form, data: &Map<String, Value>) -> Result<(), ApiErr> {
    for (k, v) in data {
        let kind = match search::kind_of(f, k) {
            Some(k) => k,
            None => continue,
        };
        let ok = match kind {
            search::Kind::Number => {
                v.is_number()
                    || v.is_null()
                    || v.as_str().is_some_and(|s| s.trim().parse::<f64>().is_ok())
            }
            search::Kind::Date => v.is_i64() || v.is_null(),
            search::Kind::AnyOf => v.is_array() || v.is_string() || v.is_null(),
            search::Kind::Exact => true,
        };
        if !ok {
            return Err(ApiErr::bad(
                "invalidParameter",
                format!("form value {k} does not fit its component ({kind:?} expected)"),
            ));
        }
    }
    Ok(())
}

fn task_json(t: &Task) -> Value {
    json!({
        "taskId": t.task_id.to_string(),
        "processInstanceId": t.process_instance_id,
        "activityId": t.activity_id,
        "title": t.title,
        "titleInEnglish": t.title,
        "actualActionerId": t.actioner,
        "originatorId": t.originator,
        "status": t.status,
        "taskType": "normal",
        "createTimeGMT": gmt(t.created_ms),
        "activeTimeGMT": gmt(t.created_ms),
        "finishTimeGMT": t.finished_ms.map(gmt).unwrap_or_default(),
    })
}

/// An event to push: `(eventType, data)`.
pub(crate) type Event = (&'static str, Value);

fn publish(shared: &Arc<Shared>, corp: &str, events: Vec<Event>) {
    for (ty, mut data) in events {
        data["corpId"] = json!(corp);
        shared.hub.publish(ty, corp, data);
    }
}

fn open_step(
    st: &mut State,
    seed: &Seed,
    inst_id: &str,
    process: &Process,
    step: usize,
    events: &mut Vec<Event>,
) {
    let s = &process.steps[step];
    let (originator, title) = match st.instances.get(inst_id) {
        Some(i) => (i.originator.clone(), i.title.clone()),
        None => return,
    };
    let now = now_ms();
    for approver in &s.approvers {
        let task_id = st.next_id();
        st.tasks.insert(
            task_id,
            Task {
                task_id,
                process_instance_id: inst_id.to_string(),
                activity_id: s.activity_id.clone(),
                title: if s.name.is_empty() {
                    s.activity_id.clone()
                } else {
                    s.name.clone()
                },
                actioner: approver.clone(),
                originator: originator.clone(),
                status: "NEW".into(),
                out_result: String::new(),
                created_ms: now,
                finished_ms: None,
            },
        );
        st.touch_task(task_id);
        if let Some(i) = st.instances.get_mut(inst_id) {
            i.records.push(OpRecord {
                action: "doing".into(),
                user_id: approver.clone(),
                activity_id: s.activity_id.clone(),
                show_name: s.name.clone(),
                remark: String::new(),
                time_ms: now,
                task_id: Some(task_id),
            });
        }
        events.push((
            "bpms_task_change",
            json!({
                "processInstanceId": inst_id, "processCode": process.process_code, "title": title,
                "type": "start", "staffId": approver, "taskId": task_id, "activityId": s.activity_id,
                "createTime": now,
            }),
        ));
    }
    let _ = seed;
}

fn start_instance(
    st: &mut State,
    seed: &Seed,
    process: &Process,
    app: &str,
    user: &str,
    data: Map<String, Value>,
) -> (String, Vec<Event>) {
    let n = st.next_id();
    let id = format!("PROC-EMU{n:010}");
    let now = now_ms();
    let title = title_of(seed, user, &process.form_uuid);
    st.instances.insert(
        id.clone(),
        Instance {
            process_instance_id: id.clone(),
            process_code: process.process_code.clone(),
            form_uuid: process.form_uuid.clone(),
            app_type: app.to_string(),
            data,
            originator: user.to_string(),
            title: title.clone(),
            status: "RUNNING".into(),
            result: String::new(),
            created_ms: now,
            modified_ms: now,
            step: 0,
            version: 1,
            records: vec![OpRecord {
                action: "start".into(),
                user_id: user.to_string(),
                activity_id: "sid-restartevent".into(),
                show_name: "发起".into(),
                remark: String::new(),
                time_ms: now,
                task_id: None,
            }],
        },
    );
    st.touch_instance(&id);
    let mut events = vec![(
        "bpms_instance_change",
        json!({
            "processInstanceId": id, "processCode": process.process_code, "title": title,
            "type": "start", "staffId": user, "createTime": now,
        }),
    )];
    open_step(st, seed, &id, process, 0, &mut events);
    (id, events)
}

/// Ends an instance: cancels open tasks, sets status and result.
fn finish_instance(
    st: &mut State,
    id: &str,
    status: &str,
    result: &str,
    user: &str,
    action: &str,
    remark: &str,
) -> Vec<Event> {
    let now = now_ms();
    let mut events = vec![];
    let open: Vec<i64> = st
        .tasks
        .values()
        .filter(|t| t.process_instance_id == id && t.status == "NEW")
        .map(|t| t.task_id)
        .collect();
    for t in open {
        if let Some(task) = st.tasks.get_mut(&t) {
            task.status = "CANCELED".into();
            task.finished_ms = Some(now);
            events.push(("bpms_task_change", json!({
                "processInstanceId": id, "type": "cancel", "staffId": task.actioner, "taskId": t,
                "activityId": task.activity_id, "finishTime": now,
            })));
        }
        st.touch_task(t);
    }
    if let Some(i) = st.instances.get_mut(id) {
        i.status = status.into();
        i.result = result.into();
        i.modified_ms = now;
        i.version += 1;
        i.records.retain(|r| r.action != "doing");
        if action == "terminate" {
            i.records.push(OpRecord {
                action: "terminate".into(),
                user_id: user.into(),
                activity_id: String::new(),
                show_name: "终止".into(),
                remark: remark.into(),
                time_ms: now,
                task_id: None,
            });
        }
        let mut ev = json!({
            "processInstanceId": id, "processCode": i.process_code, "title": i.title,
            "type": if action == "terminate" { "terminate" } else { "finish" },
            "staffId": i.originator, "finishTime": now,
        });
        if action != "terminate" {
            ev["result"] = json!(if result == "agree" { "agree" } else { "refuse" });
        }
        events.push(("bpms_instance_change", ev));
    }
    st.touch_instance(id);
    events
}

#[allow(clippy::too_many_arguments)]
fn execute_task(
    st: &mut State,
    seed: &Seed,
    app: &str,
    inst_id: &str,
    task_id: i64,
    user: &str,
    out: &str,
    remark: &str,
    changes: Map<String, Value>,
) -> Result<Vec<Event>, ApiErr> {
    let inst = st
        .instances
        .get(inst_id)
        .filter(|i| i.app_type == app)
        .ok_or_else(|| not_found_instance(inst_id))?;
    let process = seed
        .processes
        .iter()
        .find(|p| p.process_code == inst.process_code)
        .cloned()
        .ok_or_else(|| {
            ApiErr::bad(
                "dataNotExist.process.processDefineNotExist",
                "流程定义不存在",
            )
        })?;
    let task = st
        .tasks
        .get(&task_id)
        .filter(|t| t.process_instance_id == inst_id)
        .ok_or_else(|| ApiErr::bad("param.illegal", "不合法的参数taskId"))?;
    if task.status != "NEW" {
        return Err(ApiErr::bad(
            "failure.task.failedToPerformApproval",
            format!("任务审批失败:task {task_id} is {}", task.status),
        ));
    }
    if task.actioner != user {
        return Err(ApiErr::bad(
            "noPermission.task.notActioner",
            format!("用户 {user} 不是任务 {task_id} 的处理人"),
        ));
    }
    let now = now_ms();
    let activity = task.activity_id.clone();
    let mut events = vec![];
    if let Some(t) = st.tasks.get_mut(&task_id) {
        t.status = "COMPLETED".into();
        t.out_result = out.into();
        t.finished_ms = Some(now);
    }
    st.touch_task(task_id);
    let step = {
        let i = st
            .instances
            .get_mut(inst_id)
            .ok_or_else(|| not_found_instance(inst_id))?;
        i.data.extend(changes);
        i.records
            .retain(|r| !(r.action == "doing" && r.task_id == Some(task_id)));
        i.records.push(OpRecord {
            action: if out == "AGREE" {
                "agree".into()
            } else {
                "disagree".into()
            },
            user_id: user.into(),
            activity_id: activity.clone(),
            show_name: process
                .steps
                .get(i.step)
                .map(|s| s.name.clone())
                .unwrap_or_default(),
            remark: remark.into(),
            time_ms: now,
            task_id: Some(task_id),
        });
        i.modified_ms = now;
        i.step
    };
    events.push(("bpms_task_change", json!({
        "processInstanceId": inst_id, "processCode": process.process_code, "type": "finish",
        "staffId": user, "taskId": task_id, "activityId": activity,
        "result": if out == "AGREE" { "agree" } else { "refuse" }, "remark": remark, "finishTime": now,
    })));
    st.touch_instance(inst_id);
    if out == "DISAGREE" {
        events.extend(finish_instance(
            st,
            inst_id,
            "COMPLETED",
            "disagree",
            user,
            "finish",
            remark,
        ));
        return Ok(events);
    }
    // Any one approver of a step approves it; the others' tasks are cancelled.
    let others: Vec<i64> = st
        .tasks
        .values()
        .filter(|t| t.process_instance_id == inst_id && t.status == "NEW")
        .map(|t| t.task_id)
        .collect();
    for t in others {
        if let Some(x) = st.tasks.get_mut(&t) {
            x.status = "CANCELED".into();
            x.finished_ms = Some(now);
        }
        st.touch_task(t);
    }
    if let Some(i) = st.instances.get_mut(inst_id) {
        i.records.retain(|r| r.action != "doing");
    }
    if step + 1 < process.steps.len() {
        if let Some(i) = st.instances.get_mut(inst_id) {
            i.step += 1;
        }
        open_step(st, seed, inst_id, &process, step + 1, &mut events);
    } else {
        events.extend(finish_instance(
            st,
            inst_id,
            "COMPLETED",
            "agree",
            user,
            "finish",
            remark,
        ));
    }
    Ok(events)
}
