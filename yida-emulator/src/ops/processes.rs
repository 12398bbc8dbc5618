//! Process instances: start, read, list, terminate, delete, approval history; the step
//! machine approval tasks advance.

use super::render::{out_data, person, title_of};
use super::search::record_filters;
use super::{not_found_instance, page, Call, Event};
use crate::filters::{self, gmt};
use crate::seed::{Process, Seed};
use crate::shared::{now_ms, ApiErr};
use crate::store::{Instance, OpRecord, State, Task};
use crate::values;
use serde_json::{json, Map, Value};

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
        "data": out_data(seed, st, &i.form_uuid, &i.data),
        "version": i.version,
    })
}
pub(super) fn open_step(
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
pub(super) fn finish_instance(
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
    // Task events carry the process code, as DingTalk's do (a listener maps it to its form).
    let code = st
        .instances
        .get(id)
        .map(|i| i.process_code.clone())
        .unwrap_or_default();
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
                "processInstanceId": id, "processCode": code, "type": "cancel", "staffId": task.actioner, "taskId": t,
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
/// StartInstance (both versions).
pub(super) fn start(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let seed = &c.seed;
    let user = c.user.clone();
    let app = c.app.clone();
    let shared = c.shared;
    let f = c.form()?;
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
    let (id, events) = shared.mutate(|st| {
        let mut data = values::prepare(f, data, st)?;
        let n = st.next_id();
        values::stamp_serials(f, &mut data, n);
        Ok(start_instance(st, seed, &process, &app, &user, data))
    })?;
    c.publish(events);
    Ok(Some(json!({ "result": id })))
}

/// GetInstanceById (both versions).
pub(super) fn get_by_id(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let seed = &c.seed;
    let app = c.app.clone();
    let shared = c.shared;
    let id = p.req("id")?;
    shared.with_state(|st| {
        let i = st
            .instances
            .get(id)
            .filter(|i| i.app_type == app)
            .ok_or_else(|| not_found_instance(id))?;
        Ok(Some(instance_json(seed, st, i, "deptName")))
    })
}

/// GetInstancesByIdList.
pub(super) fn by_id_list(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let seed = &c.seed;
    let app = c.app.clone();
    let shared = c.shared;
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
            .map(|i| instance_json(seed, st, i, "departmentName"))
            .collect();
        Ok(Some(json!({ "result": list })))
    })
}

/// TerminateInstance.
pub(super) fn terminate(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let user = c.user.clone();
    let app = c.app.clone();
    let shared = c.shared;
    let id = p.req("processInstanceId")?.to_string();
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
    c.publish(events);
    Ok(None)
}

/// DeleteInstance.
pub(super) fn delete(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let user = c.user.clone();
    let app = c.app.clone();
    let shared = c.shared;
    let id = p.req("processInstanceId")?.to_string();
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
    c.publish(events);
    Ok(None)
}

/// GetOperationRecords.
pub(super) fn operation_records(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let seed = &c.seed;
    let app = c.app.clone();
    let shared = c.shared;
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

/// GetInstances (both versions): a page of instances.
pub(super) fn list(c: &Call) -> Result<Option<Value>, ApiErr> {
    instances(c, false)
}

/// GetInstanceIdList (both versions): a page of instance ids.
pub(super) fn id_list(c: &Call) -> Result<Option<Value>, ApiErr> {
    instances(c, true)
}

/// Both lists.
fn instances(c: &Call, ids_only: bool) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let seed = &c.seed;
    let shared = c.shared;
    let f = c.form()?;
    let (start, size, number) = page(p, "pageNumber")?;
    let (filters, window) = record_filters(seed, p, f)?;
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
                        x.task_id.to_string() == t && x.process_instance_id == i.process_instance_id
                    })
                })
            })
            .filter(|i| filters::pass(&filters, false, &i.data))
            .collect();
        hits.sort_by(|a, b| {
            b.created_ms
                .cmp(&a.created_ms)
                .then(b.process_instance_id.cmp(&a.process_instance_id))
        });
        let total = hits.len();
        let page = hits.into_iter().skip(start).take(size);
        let data: Vec<Value> = if !ids_only {
            page.map(|i| instance_json(seed, st, i, "deptName"))
                .collect()
        } else {
            page.map(|i| json!(i.process_instance_id)).collect()
        };
        Ok(Some(
            json!({ "pageNumber": number, "totalCount": total, "data": data }),
        ))
    })
}
