//! Process instances, approval tasks and operation records over HTTP through yida-api.

mod common;
use common::*;
use serde_json::json;
use yida_api::*;
use yida_emulator::seed::{Process, Step};
use yida_emulator::Emulator;

const FORM: &str = "FORM-DEMO";
const PROC: &str = "TPROC--DEMO";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_approve_complete_v2() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let id = c
        .send(
            StartInstanceV2Request::new(
                FORM,
                json!({"textField_title": "trip", "numberField_amount": 2}),
            )
            .process_code(PROC),
        )
        .await
        .unwrap()
        .result
        .unwrap();
    let inst = c.send(GetInstanceByIdV2Request::new(&id)).await.unwrap();
    assert_eq!(inst.instance_status.as_deref(), Some("RUNNING"));
    assert_eq!(inst.process_code.as_deref(), Some(PROC));
    assert_eq!(
        inst.data.unwrap().to_value().unwrap()["textField_title"],
        "trip"
    );
    let executors = inst.action_executor.unwrap();
    assert_eq!(executors[0].user_id.as_deref(), Some("demo-user"));

    let tasks = c
        .send(GetRunningTasksRequest::new(&id))
        .await
        .unwrap()
        .result
        .unwrap();
    assert_eq!(tasks.len(), 1);
    let task_id: i64 = tasks[0].task_id.as_deref().unwrap().parse().unwrap();
    assert_eq!(tasks[0].actual_actioner_id.as_deref(), Some("demo-user"));

    // Only a task's approver may execute it; a bad outResult is refused.
    let e = api_err(
        c.send(
            ExecuteTaskRequest::new(ExecuteTaskArgs {
                out_result: ExecuteTaskOutResult::from_wire("AGREE"),
                process_instance_id: id.to_string(),
                remark: "ok".into(),
                task_id,
            })
            .user_id("demo-manager"),
        )
        .await,
    );
    assert_eq!(e.status, 400);
    let e = api_err(
        c.send(ExecuteTaskRequest::new(ExecuteTaskArgs {
            out_result: ExecuteTaskOutResult::from_wire("MAYBE"),
            process_instance_id: id.to_string(),
            remark: "ok".into(),
            task_id,
        }))
        .await,
    );
    assert_eq!(
        e.code.as_deref(),
        Some("invalidParameter.task.unsupportedOutResultType")
    );

    c.send(ExecuteTaskRequest::new(ExecuteTaskArgs {
        out_result: ExecuteTaskOutResult::from_wire("AGREE"),
        process_instance_id: id.to_string(),
        remark: "fine".into(),
        task_id,
    }))
    .await
    .unwrap();
    let inst = c.send(GetInstanceByIdV2Request::new(&id)).await.unwrap();
    assert_eq!(inst.instance_status.as_deref(), Some("COMPLETED"));
    assert_eq!(inst.approved_result.as_deref(), Some("agree"));
    assert!(c
        .send(GetRunningTasksRequest::new(&id))
        .await
        .unwrap()
        .result
        .unwrap()
        .is_empty());
    let e = api_err(
        c.send(ExecuteTaskRequest::new(ExecuteTaskArgs {
            out_result: ExecuteTaskOutResult::from_wire("AGREE"),
            process_instance_id: id.to_string(),
            remark: "again".into(),
            task_id,
        }))
        .await,
    );
    assert_eq!(
        e.code.as_deref(),
        Some("failure.task.failedToPerformApproval")
    );

    let records = c
        .send(GetOperationRecordsRequest::new(&id))
        .await
        .unwrap()
        .result
        .unwrap();
    let actions: Vec<&str> = records
        .iter()
        .map(|r| r.action.as_deref().unwrap())
        .collect();
    assert_eq!(actions, ["start", "agree"]);
    assert_eq!(records[1].remark.as_deref(), Some("fine"));
    assert_eq!(records[1].operator_user_id.as_deref(), Some("demo-user"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuse_terminate_delete_v1_and_lists() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let mut ids = vec![];
    for t in ["one", "two", "three"] {
        ids.push(
            c.send(
                StartInstanceRequest::new(FORM, json!({"textField_title": t})).process_code(PROC),
            )
            .await
            .unwrap()
            .result
            .unwrap(),
        );
    }
    // Refuse the first.
    let task = emu
        .tasks()
        .into_iter()
        .find(|t| t.process_instance_id == ids[0])
        .unwrap();
    c.send(ExecuteTaskRequest::new(ExecuteTaskArgs {
        out_result: ExecuteTaskOutResult::from_wire("DISAGREE"),
        process_instance_id: ids[0].to_string(),
        remark: "no".into(),
        task_id: task.task_id,
    }))
    .await
    .unwrap();
    let inst = c.send(GetInstanceByIdRequest::new(&ids[0])).await.unwrap();
    assert_eq!(
        (
            inst.instance_status.as_deref(),
            inst.approved_result.as_deref()
        ),
        (Some("COMPLETED"), Some("disagree"))
    );
    // Terminate the second.
    c.send(TerminateInstanceRequest::new(&ids[1]))
        .await
        .unwrap();
    let inst = c.send(GetInstanceByIdRequest::new(&ids[1])).await.unwrap();
    assert_eq!(inst.instance_status.as_deref(), Some("TERMINATED"));
    assert!(emu
        .tasks()
        .iter()
        .any(|t| t.process_instance_id == ids[1] && t.status == "CANCELED"));
    let e = api_err(c.send(TerminateInstanceRequest::new(&ids[1])).await);
    assert_eq!(e.status, 400);

    for v2 in [false, true] {
        let (total, data) = if v2 {
            let r = c
                .send(
                    GetInstancesV2Request::new(FORM)
                        .instance_status(InstanceStatus::from_wire("RUNNING")),
                )
                .await
                .unwrap();
            (
                r.total_count,
                r.data
                    .unwrap()
                    .into_iter()
                    .map(|i| i.process_instance_id.unwrap())
                    .collect::<Vec<_>>(),
            )
        } else {
            let r = c
                .send(
                    GetInstancesRequest::new(FORM)
                        .instance_status(InstanceStatus::from_wire("RUNNING")),
                )
                .await
                .unwrap();
            (
                r.total_count,
                r.data
                    .unwrap()
                    .into_iter()
                    .map(|i| i.process_instance_id.unwrap())
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!((total, data), (Some(1), vec![ids[2].clone()]));
    }
    let all = c
        .send(GetInstanceIdListV2Request::new(FORM).page_size(2))
        .await
        .unwrap();
    assert_eq!((all.total_count, all.data.unwrap().len()), (Some(3), 2));
    let refused = c
        .send(
            GetInstanceIdListRequest::new(FORM)
                .approved_result(ApprovedResult::from_wire("disagree")),
        )
        .await
        .unwrap();
    assert_eq!(refused.data.unwrap(), vec![ids[0].clone()]);
    let found = c
        .send(
            GetInstancesV2Request::new(FORM).search_field_json(json!({"textField_title": "three"})),
        )
        .await
        .unwrap();
    assert_eq!(found.total_count, Some(1));
    let by_ids = c
        .send(GetInstancesByIdListRequest::new(format!(
            "{},{}",
            ids[0], ids[2]
        )))
        .await
        .unwrap();
    let got: Vec<String> = by_ids
        .result
        .unwrap()
        .into_iter()
        .map(|i| i.process_instance_id.unwrap())
        .collect();
    assert_eq!(got, vec![ids[0].clone(), ids[2].clone()]);
    let e = api_err(
        c.send(GetInstancesV2Request::new(FORM).page_size(101))
            .await,
    );
    assert_eq!(e.code.as_deref(), Some("pageSize.exceeds"));

    c.send(DeleteInstanceRequest::new(&ids[2])).await.unwrap();
    let e = api_err(c.send(GetInstanceByIdV2Request::new(&ids[2])).await);
    assert_eq!(
        e.code.as_deref(),
        Some("dataNotExist.process.instanceNotExist")
    );
    assert!(emu.tasks().iter().all(|t| t.process_instance_id != ids[2]));
    assert_eq!(emu.instances().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_process_seeded_from_code() {
    let emu = Emulator::start().await.unwrap();
    emu.update_seed(|s| {
        s.processes.push(Process {
            process_code: "TPROC--TWO".into(),
            form_uuid: FORM.into(),
            title: "Two steps".into(),
            steps: vec![
                Step {
                    activity_id: "node_1".into(),
                    name: "Manager".into(),
                    approvers: vec!["demo-manager".into()],
                },
                Step {
                    activity_id: "node_2".into(),
                    name: "Owner".into(),
                    approvers: vec!["demo-user".into(), "demo-manager".into()],
                },
            ],
        })
    })
    .unwrap();
    // A process on an unknown form is refused.
    assert!(emu
        .update_seed(|s| s.processes.push(Process {
            process_code: "X".into(),
            form_uuid: "FORM-NONE".into(),
            title: String::new(),
            steps: vec![]
        }))
        .is_err());
    let c = client(&emu);
    let id = c
        .send(
            StartInstanceV2Request::new(FORM, json!({"textField_title": "big"}))
                .process_code("TPROC--TWO"),
        )
        .await
        .unwrap()
        .result
        .unwrap();
    let running = |emu: &Emulator| -> Vec<(String, i64)> {
        emu.tasks()
            .into_iter()
            .filter(|t| t.status == "NEW")
            .map(|t| (t.actioner, t.task_id))
            .collect()
    };
    let first = running(&emu);
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, "demo-manager");
    c.send(
        ExecuteTaskRequest::new(ExecuteTaskArgs {
            out_result: ExecuteTaskOutResult::from_wire("AGREE"),
            process_instance_id: id.to_string(),
            remark: "step 1".into(),
            task_id: first[0].1,
        })
        .user_id("demo-manager"),
    )
    .await
    .unwrap();
    assert_eq!(
        c.send(GetInstanceByIdV2Request::new(&id))
            .await
            .unwrap()
            .instance_status
            .as_deref(),
        Some("RUNNING")
    );
    let second = running(&emu);
    assert_eq!(second.len(), 2);
    let mine = second.iter().find(|(u, _)| u == "demo-user").unwrap().1;
    c.send(
        ExecuteTaskRequest::new(ExecuteTaskArgs {
            out_result: ExecuteTaskOutResult::from_wire("AGREE"),
            process_instance_id: id.to_string(),
            remark: "step 2".into(),
            task_id: mine,
        })
        .form_data_json(json!({"numberField_amount": 4})),
    )
    .await
    .unwrap();
    let inst = c.send(GetInstanceByIdV2Request::new(&id)).await.unwrap();
    assert_eq!(inst.instance_status.as_deref(), Some("COMPLETED"));
    assert_eq!(
        inst.data.unwrap().to_value().unwrap()["numberField_amount"],
        4
    );
    assert!(running(&emu).is_empty());
    let actions: Vec<String> = emu.instances()[0]
        .records
        .iter()
        .map(|r| r.action.clone())
        .collect();
    assert_eq!(actions, ["start", "agree", "agree"]);
}
