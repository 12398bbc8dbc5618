//! Tokens, validation from the spec, DingTalk's errors, quota, faults and persistence.

mod common;
use common::*;
use serde_json::json;
use std::time::{Duration, Instant};
use yida_api::*;
use yida_auth::{MemoryTicketStore, ThirdPartyApp};
use yida_emulator::{Emulator, Faults, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_internal_and_isv() {
    let emu = Emulator::start().await.unwrap();
    let t1 = token(&emu).await;
    let t2 = token(&emu).await;
    assert_eq!(t1, t2, "asking again while valid returns the same token");
    let (s, b) = raw(
        &emu,
        "POST",
        "/v1.0/oauth2/accessToken",
        Some(json!({"appKey": emu.app_key(), "appSecret": "wrong"})),
        None,
    )
    .await;
    assert_error(s, &b, 400, "invalidClientIdOrSecret");
    assert!(!b.to_string().contains("wrong"));
    let (s, b) = raw(
        &emu,
        "POST",
        "/v1.0/oauth2/accessToken",
        Some(json!({"appKey": emu.app_key()})),
        None,
    )
    .await;
    assert_error(s, &b, 400, "MissingappSecret");

    // ISV: suite key/secret, ticket and authorized company are all checked.
    let seed = emu.seed();
    let suite = &seed.suites[0];
    let corp_body = |ticket: &str, corp: &str| json!({"suiteKey": suite.suite_key, "suiteSecret": suite.suite_secret, "suiteTicket": ticket, "authCorpId": corp});
    let (s, b) = raw(
        &emu,
        "POST",
        "/v1.0/oauth2/corpAccessToken",
        Some(corp_body(&suite.suite_ticket, &seed.corp_id)),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["expireIn"], 7200);
    let (s, b) = raw(
        &emu,
        "POST",
        "/v1.0/oauth2/corpAccessToken",
        Some(corp_body("stale", &seed.corp_id)),
        None,
    )
    .await;
    assert_error(s, &b, 400, "invalidSuiteTicket");
    let (s, b) = raw(
        &emu,
        "POST",
        "/v1.0/oauth2/corpAccessToken",
        Some(corp_body(&suite.suite_ticket, "ding-other")),
        None,
    )
    .await;
    assert_error(s, &b, 400, "invalidAuthCorpId");

    // The SDK's ISV provider gets a token and calls through it.
    let tickets = MemoryTicketStore::new();
    tickets.set(suite.suite_ticket.clone());
    let isv = ThirdPartyApp::new(suite.suite_key.clone(), suite.suite_secret.clone(), tickets)
        .unwrap()
        .endpoint(emu.endpoint());
    let c = Client::builder()
        .endpoint(emu.endpoint())
        .token_provider(isv.for_corp(seed.corp_id.clone()).unwrap())
        .context(emu.app_context())
        .build()
        .unwrap();
    let r = c
        .send(SearchFormDatasV2Request::new("FORM-DEMO"))
        .await
        .unwrap();
    assert_eq!(r.total_count, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authentication_errors_and_token_lifetime() {
    let emu = Emulator::start_with(Options::default().token_lifetime(Duration::from_secs(1)))
        .await
        .unwrap();
    let path = "/v2.0/yida/forms/instances/search";
    let body = with(&emu, json!({"formUuid": "FORM-DEMO"}));
    let (s, b) = raw(&emu, "POST", path, Some(body.clone()), None).await;
    assert_error(s, &b, 400, "AuthenticationFailed.MissingParameter");
    let (s, b) = raw(&emu, "POST", path, Some(body.clone()), Some("not-a-token")).await;
    assert_error(s, &b, 400, "InvalidAuthentication");
    let t = token(&emu).await;
    let (s, _) = raw(&emu, "POST", path, Some(body.clone()), Some(&t)).await;
    assert_eq!(s, 200);
    // After its lifetime the token is refused; a new one is issued.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (s, b) = raw(&emu, "POST", path, Some(body.clone()), Some(&t)).await;
        if s == 400 {
            assert_error(s, &b, 400, "InvalidAuthentication");
            break;
        }
        assert!(Instant::now() < deadline, "the token never expired");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let t2 = token(&emu).await;
    assert_ne!(t, t2);
    // The SDK client recovers by itself (it refreshes on InvalidAuthentication).
    let c = client(&emu);
    c.send(SaveFormDataV2Request::new(
        "FORM-DEMO",
        json!({"textField_title": "x"}),
    ))
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_from_the_spec_names_the_parameter() {
    let emu = Emulator::start().await.unwrap();
    let t = token(&emu).await;
    let save = "/v2.0/yida/forms/instances";
    let cases = [
        (
            with(
                &emu,
                json!({"formUuid": "FORM-DEMO", "formDataJson": "{}", "colour": "red"}),
            ),
            "invalidParameter",
            "colour",
        ),
        (
            with(&emu, json!({"formDataJson": "{}"})),
            "missingParameter",
            "formUuid",
        ),
        (
            with(
                &emu,
                json!({"formUuid": "FORM-DEMO", "formDataJson": "{not json"}),
            ),
            "invalidParameter",
            "formDataJson",
        ),
        (
            with(
                &emu,
                json!({"formUuid": "FORM-DEMO", "formDataJson": {"a": 1}}),
            ),
            "invalidParameter",
            "formDataJson",
        ),
        (
            with(&emu, json!({"formUuid": 12, "formDataJson": "{}"})),
            "invalidParameter",
            "formUuid",
        ),
        (
            with(
                &emu,
                json!({"formUuid": "FORM-DEMO", "formDataJson": "{}", "useAlias": "yes"}),
            ),
            "invalidParameter",
            "useAlias",
        ),
    ];
    for (body, code, name) in cases {
        let (s, b) = raw(&emu, "POST", save, Some(body.clone()), Some(&t)).await;
        assert_error(s, &b, 400, code);
        assert!(
            b["message"].as_str().unwrap().contains(name),
            "{body} → {b}"
        );
    }
    assert!(emu.records("FORM-DEMO").is_empty());
    // Query parameters: types and unknown names; the body of a GET is not where they go.
    let q = format!(
        "/v1.0/yida/processes/operationRecords?appType={}&systemToken={}&userId={}",
        emu.app_type(),
        emu.system_token(),
        emu.user_id()
    );
    let (s, b) = raw(&emu, "GET", &q, None, Some(&t)).await;
    assert_error(s, &b, 400, "missingParameter");
    assert!(b["message"].as_str().unwrap().contains("processInstanceId"));
    let (s, b) = raw(
        &emu,
        "GET",
        &format!("{q}&processInstanceId=x&page=2"),
        None,
        Some(&t),
    )
    .await;
    assert_error(s, &b, 400, "invalidParameter");
    assert!(b["message"].as_str().unwrap().contains("page"));
    let (s, b) = raw(
        &emu,
        "POST",
        "/v2.0/yida/processes/instances?pageSize=ten",
        Some(with(&emu, json!({"formUuid": "FORM-DEMO"}))),
        Some(&t),
    )
    .await;
    assert_error(s, &b, 400, "invalidParameter");
    assert!(b["message"].as_str().unwrap().contains("pageSize"));
    // pageSize in the body of an operation that takes it in the query is unknown there.
    let (s, b) = raw(
        &emu,
        "POST",
        "/v2.0/yida/processes/instances",
        Some(with(&emu, json!({"formUuid": "FORM-DEMO", "pageSize": 5}))),
        Some(&t),
    )
    .await;
    assert_error(s, &b, 400, "invalidParameter");
    assert!(b["message"].as_str().unwrap().contains("pageSize"));
    // Unknown paths and methods.
    let (s, b) = raw(
        &emu,
        "POST",
        "/v1.0/yida/nothing",
        Some(json!({})),
        Some(&t),
    )
    .await;
    assert_error(s, &b, 404, "InvalidAction.NotFound");
    let (s, b) = raw(&emu, "GET", save, None, Some(&t)).await;
    assert_error(s, &b, 404, "InvalidAction.NotFound");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_app_token_form_user() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let e = api_err(
        c.send(SaveFormDataV2Request::new("FORM-DEMO", json!({})).app_type("APP_NONE"))
            .await,
    );
    assert_eq!(
        (e.status, e.code.as_deref()),
        (400, Some("dataNotExist.app.appNotExist"))
    );
    let e = api_err(
        c.send(SaveFormDataV2Request::new("FORM-DEMO", json!({})).system_token("guess-1234"))
            .await,
    );
    assert_eq!(
        e.code.as_deref(),
        Some("invalidParameter.systemToken.invalid")
    );
    assert!(!e.message.as_deref().unwrap().contains("guess-1234"));
    assert!(!e.message.as_deref().unwrap().contains(&emu.system_token()));
    let e = api_err(
        c.send(SaveFormDataV2Request::new("FORM-NONE", json!({})))
            .await,
    );
    assert_eq!(e.code.as_deref(), Some("dataNotExist.form.notExists"));
    let e = api_err(
        c.send(SaveFormDataV2Request::new("FORM-DEMO", json!({})).user_id("nobody"))
            .await,
    );
    assert_eq!(e.code.as_deref(), Some("dataNotExist.user.userNotExist"));
    let e = api_err(
        c.send(StartInstanceV2Request::new("FORM-DEMO", json!({})).process_code("TPROC--NONE"))
            .await,
    );
    assert_eq!(
        e.code.as_deref(),
        Some("dataNotExist.process.processDefineNotExist")
    );
    assert!(emu.records("FORM-DEMO").is_empty() && emu.instances().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_not_emulated_answer_501_after_validation() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let e = api_err(
        c.send(ListApplicationRequest::new(ListApplicationArgs {
            corp_id: "ding-emulator-corp".into(),
            token: "0123456789ABCDEF0123456789ABCDEF".into(),
        }))
        .await,
    );
    assert_eq!((e.status, e.code.as_deref()), (501, Some("notEmulated")));
    assert!(e.message.unwrap().contains("ListApplication@1.0"));
    assert!(e.request_id.is_some());
    // Invalid parameters still get the 400 first.
    let t = token(&emu).await;
    let (s, b) = raw(
        &emu,
        "GET",
        "/v1.0/yida/organizations/applications?pageSize=many",
        None,
        Some(&t),
    )
    .await;
    assert_error(s, &b, 400, "invalidParameter");
    // Every spec operation is routed: none answers 404 when called with its own method.
    for op in yida_api::operations() {
        let path = op.path.replace(['{', '}'], "");
        let method = format!("{:?}", op.method).to_uppercase();
        let (s, b) = raw(&emu, &method, &path, Some(json!({})), Some(&t)).await;
        assert_ne!(s, 404, "{}@{} {path} → {b}", op.action, op.version);
        assert!(
            b["requestid"].is_string() || s == 200,
            "{}@{} → {b}",
            op.action,
            op.version
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qps_quota_per_app_per_api() {
    let emu = Emulator::start_with(Options::default().qps(3))
        .await
        .unwrap();
    let t = token(&emu).await;
    let body = with(&emu, json!({"formUuid": "FORM-DEMO"}));
    let calls = (0..10).map(|_| {
        raw(
            &emu,
            "POST",
            "/v2.0/yida/forms/instances/search",
            Some(body.clone()),
            Some(&t),
        )
    });
    let replies = futures_util::future::join_all(calls).await;
    let ok = replies.iter().filter(|(s, _)| *s == 200).count();
    let limited: Vec<_> = replies.iter().filter(|(s, _)| *s == 403).collect();
    // At most 3 per second: 10 calls within at most two seconds leave at least 4 refused.
    assert!(ok <= 6, "{ok} passed");
    assert!(limited.len() >= 4, "{replies:?}");
    for (s, b) in limited {
        assert_error(*s, b, 403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi");
    }
    // Another API has its own quota.
    let (s, _) = raw(
        &emu,
        "POST",
        "/v1.0/yida/forms/instances/search",
        Some(body.clone()),
        Some(&t),
    )
    .await;
    assert_eq!(s, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_on_demand() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    emu.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let e = api_err(
        c.send(SaveFormDataV2Request::new(
            "FORM-DEMO",
            json!({"textField_title": "x"}),
        ))
        .await,
    );
    assert_eq!(
        (e.status, e.code.as_deref()),
        (500, Some("unclassifiedError"))
    );
    assert!(
        emu.records("FORM-DEMO").is_empty(),
        "a 5xx fault applies nothing"
    );
    // Half the calls fail, roughly.
    emu.set_faults(Faults {
        error_rate: 0.5,
        qps: 0,
        ..Faults::default()
    });
    let mut failed = 0;
    for _ in 0..200 {
        if c.send(SearchFormDatasV2Request::new("FORM-DEMO"))
            .await
            .is_err()
        {
            failed += 1;
        }
    }
    assert!((40..=160).contains(&failed), "{failed} of 200 failed");
    // Latency is added to every reply.
    emu.set_faults(Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    });
    let started = Instant::now();
    c.send(SaveFormDataV2Request::new(
        "FORM-DEMO",
        json!({"textField_title": "slow"}),
    ))
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(emu.records("FORM-DEMO").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_persists_across_restart_and_reset_empties_it() {
    let dir = std::env::temp_dir().join(format!("yida-emu-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.redb");
    let _ = std::fs::remove_file(&path);
    let (rec, inst) = {
        let emu = Emulator::start_with(Options::default().data(&path))
            .await
            .unwrap();
        let c = client(&emu);
        let rec = c
            .send(SaveFormDataV2Request::new(
                "FORM-DEMO",
                json!({"textField_title": "kept"}),
            ))
            .await
            .unwrap()
            .result
            .unwrap();
        let inst = c
            .send(StartInstanceV2Request::new(
                "FORM-DEMO",
                json!({"textField_title": "p"}),
            ))
            .await
            .unwrap()
            .result
            .unwrap();
        emu.shutdown().await;
        (rec, inst)
    };
    {
        let emu = Emulator::start_with(Options::default().data(&path))
            .await
            .unwrap();
        let c = client(&emu);
        let got = c.send(GetFormDataByIdV2Request::new(&rec)).await.unwrap();
        assert_eq!(
            got.form_data.unwrap().to_value().unwrap()["textField_title"],
            "kept"
        );
        // The approval task survived too: approve it now.
        let tasks = c
            .send(GetRunningTasksRequest::new(&inst))
            .await
            .unwrap()
            .result
            .unwrap();
        let task_id: i64 = tasks[0].task_id.as_deref().unwrap().parse().unwrap();
        c.send(ExecuteTaskRequest::new(ExecuteTaskArgs {
            out_result: ExecuteTaskOutResult::Agree,
            process_instance_id: inst.to_string(),
            remark: "later".into(),
            task_id,
        }))
        .await
        .unwrap();
        // New ids do not collide with stored ones.
        let rec2 = c
            .send(SaveFormDataV2Request::new("FORM-DEMO", json!({})))
            .await
            .unwrap()
            .result
            .unwrap();
        assert_ne!(rec2, rec);
        assert_eq!(emu.records("FORM-DEMO").len(), 2);
        emu.shutdown().await;
    }
    {
        let emu = Emulator::start_with(Options::default().data(&path))
            .await
            .unwrap();
        assert_eq!(emu.instances()[0].status, "COMPLETED");
        emu.shutdown().await;
    }
    {
        let emu = Emulator::start_with(Options::default().data(&path).reset(true))
            .await
            .unwrap();
        assert!(emu.records("FORM-DEMO").is_empty());
        assert!(emu.instances().is_empty());
        emu.shutdown().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_from_yaml_and_drop_stops_the_server() {
    let yaml = r#"
internalApps: [{ appKey: k, appSecret: s }]
apps: [{ appType: APP_X, systemToken: tok }]
users: [{ userId: u1, name: U }]
forms:
  - formUuid: FORM-X
    appType: APP_X
    components: [{ fieldId: textField_a, label: A }, { fieldId: numberField_n, componentName: NumberField }]
"#;
    let seed = yida_emulator::Seed::from_yaml(yaml).unwrap();
    let emu = Emulator::start_with(Options::default().seed(seed))
        .await
        .unwrap();
    assert_eq!(
        (emu.app_key(), emu.app_type(), emu.user_id()),
        ("k".into(), "APP_X".into(), "u1".into())
    );
    let c = client(&emu);
    c.send(SaveFormDataV2Request::new(
        "FORM-X",
        json!({"textField_a": "hi", "numberField_n": 2}),
    ))
    .await
    .unwrap();
    let e = api_err(
        c.send(SaveFormDataV2Request::new("FORM-DEMO", json!({})))
            .await,
    );
    assert_eq!(e.code.as_deref(), Some("dataNotExist.form.notExists"));
    assert!(yida_emulator::Seed::from_yaml("apps: [{ appType: A }]").is_err());
    assert!(yida_emulator::Seed::from_yaml("forms: [{ formUuid: F, appType: NONE }]").is_err());
    // Debug shows no secret.
    let dbg = format!("{emu:?}");
    assert!(!dbg.contains("tok") && !dbg.contains("\"s\""), "{dbg}");
    let endpoint = emu.endpoint();
    drop(emu);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = http()
            .post(format!("{endpoint}/v1.0/oauth2/accessToken"))
            .body("{}")
            .send()
            .await;
        if r.is_err() {
            break;
        }
        assert!(Instant::now() < deadline, "still serving after drop");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
