//! Approval tasks: the running ones, and executing one (which advances its process).

use super::processes::{finish_instance, open_step};
use super::{not_found_instance, Call, Event};
use crate::filters::gmt;
use crate::seed::Seed;
use crate::shared::{now_ms, ApiErr};
use crate::store::{OpRecord, State, Task};
use crate::values;
use serde_json::{json, Map, Value};

pub(super) fn task_json(t: &Task) -> Value {
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
/// GetRunningTasks.
pub(super) fn running(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let app = c.app.clone();
    let shared = c.shared;
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

/// ExecuteTask.
pub(super) fn execute(c: &Call) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let seed = &c.seed;
    let user = c.user.clone();
    let app = c.app.clone();
    let shared = c.shared;
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
    let events = shared.mutate(|st| {
        let changes = match st
            .instances
            .get(&inst)
            .and_then(|i| seed.form(&i.form_uuid))
        {
            Some(f) => values::prepare(f, changes, st)?,
            None => changes,
        };
        execute_task(
            st, seed, &app, &inst, task_id, &user, &out, &remark, changes,
        )
    })?;
    c.publish(events);
    Ok(None)
}
