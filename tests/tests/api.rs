//! The typed API and the runtime over real HTTP: wire details, context, errors.

use serde_json::json;
use std::time::Duration;
use yida_api::{
    AppContext, Client, Error, GetFormDataByIdRequest, GetInstanceByIdV2Request, Operation,
    RetryConfig, SaveFormDataRequest, SaveFormDataV2Request, SearchFormDatasV2Request,
    TerminateInstanceRequest, UpdateFormDataV2Request,
};
use yida_e2e::{MockServer, Reply};

fn ctx() -> AppContext {
    AppContext::new()
        .app_type("APP_TEST")
        .system_token("sys-token-123")
        .user_id("manager123")
}

fn client(server: &MockServer) -> Client {
    Client::builder()
        .endpoint(server.url())
        .access_token("tok-abc")
        .context(ctx())
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[derive(serde::Serialize)]
struct Order {
    #[serde(rename = "textField_title")]
    title: String,
    #[serde(rename = "numberField_qty")]
    qty: u32,
    #[serde(rename = "employeeField_owner")]
    owner: Vec<String>,
}

#[tokio::test]
async fn save_form_data_v2_sends_context_and_json_text_from_a_struct() {
    let server = MockServer::always(Reply::json(json!({"result": "FINST-NEW"}))).await;
    let order = Order {
        title: "订单 \"1\"".into(),
        qty: 3,
        owner: vec!["u1".into()],
    };
    let reply = client(&server)
        .forms()
        .save_form_data_v2(SaveFormDataV2Request::new("FORM-1", &order).use_alias(false))
        .await
        .unwrap();
    assert_eq!(reply.result.as_deref(), Some("FINST-NEW"));
    let r = &server.requests()[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/v2.0/yida/forms/instances");
    assert_eq!(r.query, None);
    assert_eq!(r.header("x-acs-dingtalk-access-token"), Some("tok-abc"));
    let body = r.json();
    assert_eq!(body["appType"], "APP_TEST");
    assert_eq!(body["systemToken"], "sys-token-123");
    assert_eq!(body["userId"], "manager123");
    assert_eq!(body["formUuid"], "FORM-1");
    assert_eq!(body["useAlias"], false);
    // formDataJson travels as a string holding JSON, escaped by us.
    let text = body["formDataJson"].as_str().expect("a string");
    let inner: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        inner,
        json!({"textField_title": "订单 \"1\"", "numberField_qty": 3, "employeeField_owner": ["u1"]})
    );
    assert_eq!(body.as_object().unwrap().len(), 6, "no other keys: {body}");
}

#[tokio::test]
async fn legacy_get_form_data_by_id_encodes_the_path_and_decodes_the_reply() {
    let server = MockServer::always(Reply::json(json!({
        "formInstId": "FINST/1?x#y",
        "formData": {"textField_a": "hello", "numberField_b": 3, "numberField_b_value": "3"},
        "modifiedTimeGMT": "2024-04-27T07:56Z",
        "unknownNewField": {"ignored": true}
    })))
    .await;
    let req = GetFormDataByIdRequest::new("FINST/1?x#y").language(yida_api::Language::EnUs);
    assert_eq!(
        GetFormDataByIdRequest::META.legacy,
        Some(yida_api::OpId::GetFormDataByIdV2)
    );
    let reply = client(&server)
        .forms()
        .get_form_data_by_id(req)
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path, "/v1.0/yida/forms/instances/FINST%2F1%3Fx%23y");
    assert_eq!(r.query_param("appType").as_deref(), Some("APP_TEST"));
    assert_eq!(
        r.query_param("systemToken").as_deref(),
        Some("sys-token-123")
    );
    assert_eq!(r.query_param("language").as_deref(), Some("en_US"));
    assert!(r.body.is_empty());
    assert_eq!(reply.form_inst_id.as_deref(), Some("FINST/1?x#y"));
    let form_data = reply.form_data.unwrap();
    assert_eq!(form_data.to_value().unwrap()["textField_a"], "hello");
    #[derive(serde::Deserialize)]
    struct Form {
        #[serde(rename = "textField_a")]
        a: String,
        #[serde(rename = "numberField_b")]
        b: f64,
    }
    let typed: Form = form_data.decode().unwrap();
    assert_eq!((typed.a.as_str(), typed.b), ("hello", 3.0));
    // A field the spec does not know is kept, not dropped (and a known free-JSON field still
    // decodes next to it).
    assert_eq!(reply.extra["unknownNewField"], json!({"ignored": true}));
    assert!(!reply.extra.contains_key("formInstId"));
    assert_eq!(
        reply.modified_time_gmt.as_deref(),
        Some("2024-04-27T07:56Z")
    );
}

#[tokio::test]
async fn query_booleans_are_lowercase_and_request_values_beat_the_context() {
    let server = MockServer::always(Reply::json(json!({}))).await;
    client(&server)
        .processes()
        .get_instance_by_id_v2(
            GetInstanceByIdV2Request::new("proc-1")
                .use_alias(true)
                .user_id("someone-else"),
        )
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v2.0/yida/processes/instancesInfos/proc-1");
    assert!(
        r.query.as_deref().unwrap().contains("useAlias=true"),
        "{:?}",
        r.query
    );
    assert_eq!(r.query_param("userId").as_deref(), Some("someone-else"));
}

#[tokio::test]
async fn terminate_instance_is_a_put_with_query_only() {
    let server = MockServer::always(Reply::empty()).await;
    client(&server)
        .processes()
        .terminate_instance(TerminateInstanceRequest::new("PROC-1"))
        .await
        .unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.path, "/v1.0/yida/processes/instances/terminate");
    assert_eq!(
        r.query_param("processInstanceId").as_deref(),
        Some("PROC-1")
    );
    assert!(r.body.is_empty());
}

#[tokio::test]
async fn missing_required_context_is_refused_before_sending() {
    let server = MockServer::always(Reply::json(json!({}))).await;
    let bare = Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .build()
        .unwrap();
    let err = bare
        .forms()
        .save_form_data(SaveFormDataRequest::new("FORM-1", json!({"a": 1})))
        .await
        .unwrap_err();
    match &err {
        Error::InvalidParameter {
            name, operation, ..
        } => {
            assert_eq!(*name, "appType");
            assert_eq!(*operation, yida_api::OpId::SaveFormData);
            assert_eq!(operation.to_string(), "SaveFormData@1.0");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("appType"));
    // An empty path parameter is refused too.
    let err = bare
        .forms()
        .get_form_data_by_id(
            GetFormDataByIdRequest::new("")
                .app_type("A")
                .system_token("s")
                .user_id("u"),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("`id`"), "{err}");
    // JSON text given as text must be JSON.
    let err = yida_e2e::call(&bare,
            "UpdateFormData",
            "2.0",
            json!({"formInstanceId": "FINST-1", "updateFormDataJson": "{not json", "appType": "A", "systemToken": "s", "userId": "u"}),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidParameter {
                name: "updateFormDataJson",
                ..
            }
        ),
        "{err:?}"
    );
    // A value that cannot be encoded as JSON (a map with non-string keys) is named too.
    let mut bad = std::collections::BTreeMap::new();
    bad.insert((1, 2), "x");
    let err = bare
        .forms()
        .update_form_data_v2(
            UpdateFormDataV2Request::new("FINST-1", &bad)
                .app_type("A")
                .system_token("s")
                .user_id("u"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidParameter {
                name: "updateFormDataJson",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.count(), 0);
}

async fn error_of(reply: Reply) -> (Error, usize) {
    let server = MockServer::always(reply).await;

    let err = client(&server)
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("FORM-1"))
        .await
        .unwrap_err();
    (err, server.count())
}

#[tokio::test]
async fn invalid_authentication_is_a_typed_api_error() {
    let (err, n) = error_of(Reply::error(
        400,
        "InvalidAuthentication",
        "不合法的access_token",
        "REQ-1",
    ))
    .await;
    let api = err.api().expect("api error");
    assert_eq!(
        (api.status, api.code(), api.request_id.as_deref()),
        (400, "InvalidAuthentication", Some("REQ-1"))
    );
    assert_eq!(api.message.as_deref(), Some("不合法的access_token"));
    assert!(api.is_invalid_token());
    // A static token cannot be renewed: the call is not repeated.
    assert_eq!(n, 1);
}

#[tokio::test]
async fn not_found_is_told_apart_from_other_errors() {
    // Yida's family of "does not exist" codes (HTTP 400), as DingTalk's error-code page lists them.
    for code in [
        "dataNotExist.form.notExists",
        "dataNotExist.form.instanceNotExist",
        "dataNotExist.process.instanceNotExist",
    ] {
        let (err, n) = error_of(Reply::error(400, code, "不存在", "REQ-NF")).await;
        let api = err.api().expect("api error");
        assert!(api.is_not_found(), "{code}");
        assert!(!api.is_throttled() && !api.is_permission_denied() && !api.is_invalid_token());
        assert_eq!(n, 1, "a read that found nothing is not retried");
    }
    // HTTP 404 with DingTalk's error JSON.
    let (err, _) = error_of(Reply::error(404, "NotFound", "no such resource", "REQ-404")).await;
    assert!(err.api().unwrap().is_not_found());
    // Other errors are not "not found".
    for (status, code) in [
        (400, "InvalidParameter"),
        (403, "Forbidden.AccessDenied.AccessTokenPermissionDenied"),
        (400, "InvalidAuthentication"),
    ] {
        let (err, _) = error_of(Reply::error(status, code, "x", "REQ-X")).await;
        assert!(!err.api().unwrap().is_not_found(), "{code}");
    }
}

#[tokio::test]
async fn throttling_is_told_apart_from_quota_and_permission() {
    let (err, _) = error_of(Reply::error(
        403,
        "Forbidden.AccessDenied.QpsLimitForApi",
        "too fast",
        "REQ-2",
    ))
    .await;
    let api = err.api().unwrap();
    assert!(api.is_throttled() && !api.is_quota_exhausted());
    assert_eq!(api.status, 403);
    let (err, _) = error_of(Reply::error(
        403,
        "Forbidden.AccessDenied.ApiCountLimitForOrg",
        "quota",
        "REQ-3",
    ))
    .await;
    assert!(err.api().unwrap().is_quota_exhausted() && !err.api().unwrap().is_throttled());
    let (err, _) = error_of(Reply::error(
        403,
        "Forbidden.AccessDenied.AccessTokenPermissionDenied",
        "no",
        "REQ-4",
    ))
    .await;
    let api = err.api().unwrap();
    assert_eq!(api.required_permission, Some("Yida.Form.Read"));
    assert!(err.to_string().contains("Yida.Form.Read"), "{err}");
}

#[tokio::test]
async fn server_errors_html_and_truncated_json_do_not_panic() {
    let (err, _) = error_of(Reply::error(500, "innerError", "boom", "REQ-5")).await;
    assert_eq!(err.status(), Some(500));
    assert_eq!(err.api().unwrap().code(), "innerError");

    let (err, _) = error_of(Reply::text(
        502,
        "text/html",
        "<html><body>Bad Gateway</body></html>",
    ))
    .await;
    let api = err.api().unwrap();
    assert_eq!((api.status, api.code.as_deref()), (502, None));
    assert!(api.body_excerpt.as_deref().unwrap().contains("Bad Gateway"));

    let (err, _) = error_of(Reply::text(
        200,
        "application/json",
        r#"{"currentPage":1,"data":[{"formInst"#,
    ))
    .await;
    assert!(matches!(err, Error::Decode { status: 200, .. }), "{err:?}");

    let (err, _) = error_of(Reply::text(200, "text/html", "<html>maintenance</html>")).await;
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");

    let (err, _) = error_of(Reply::text(
        400,
        "application/json",
        r#"{"code":"invalidParameter.x","mess"#,
    ))
    .await;
    assert_eq!(err.status(), Some(400));

    // Connection closed mid-body.
    let (err, _) = error_of(Reply::Raw(
        b"HTTP/1.1 200 OK\r\ncontent-length: 500\r\n\r\n{\"data\":[".to_vec(),
    ))
    .await;
    assert!(
        matches!(err, Error::Transport { .. } | Error::Decode { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn redirects_are_never_followed_so_the_token_stays_home() {
    let elsewhere = MockServer::always(Reply::json(json!({}))).await;
    let server = MockServer::always(Reply::Http {
        status: 302,
        headers: vec![("location".into(), format!("{}/steal", elsewhere.url()))],
        body: vec![],
    })
    .await;
    let err = client(&server)
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("FORM-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Redirect { status: 302, .. }),
        "{err:?}"
    );
    assert_eq!(elsewhere.count(), 0, "the token never reached another host");
}

#[tokio::test]
async fn debug_output_of_requests_and_clients_hides_secrets() {
    let req = SaveFormDataV2Request::new("FORM-1", json!({})).system_token("sys-secret-xyz");
    let dbg = format!("{req:?}");
    assert!(
        !dbg.contains("sys-secret-xyz") && dbg.contains("redacted"),
        "{dbg}"
    );
    let server = MockServer::always(Reply::json(json!({}))).await;
    let c = Client::builder()
        .endpoint(server.url())
        .access_token("access-secret-xyz")
        .context(AppContext::new().system_token("sys-secret-xyz"))
        .build()
        .unwrap();
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("secret-xyz"), "{dbg}");
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let server = MockServer::always(Reply::Delay(
        Duration::from_secs(5),
        Box::new(Reply::json(json!({}))),
    ))
    .await;
    let c = Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .context(ctx())
        .timeout(Duration::from_millis(200))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let err = c
        .forms()
        .search_form_datas_v2(SearchFormDatasV2Request::new("FORM-1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
}

#[tokio::test]
async fn fixed_values_are_enums_and_named_required_texts_cannot_be_swapped() {
    use yida_api::{Env, ExecuteTaskArgs, ExecuteTaskOutResult, ExecuteTaskRequest};
    let server = MockServer::always(Reply::json(json!({}))).await;
    let client = Client::builder()
        .endpoint(server.url())
        .access_token("tok-abc")
        .context(ctx().language("en_US"))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let args = |out_result| ExecuteTaskArgs {
        out_result,
        process_instance_id: "PROC-1".into(),
        remark: "fine".into(),
        task_id: 7,
    };
    client
        .tasks()
        .execute_task(ExecuteTaskRequest::new(args(ExecuteTaskOutResult::Agree)).env(Env::SgpVpc))
        .await
        .unwrap();
    // A value this crate does not know yet still goes out as is.
    client
        .tasks()
        .execute_task(ExecuteTaskRequest::new(args(
            ExecuteTaskOutResult::from_wire("ABSTAIN"),
        )))
        .await
        .unwrap();
    let reqs = server.requests();
    let first = reqs[0].json();
    assert_eq!(first["outResult"], "AGREE");
    assert_eq!(first["processInstanceId"], "PROC-1");
    assert_eq!(first["remark"], "fine");
    assert_eq!(first["taskId"], 7);
    assert_eq!(first["env"], "sgp_vpc");
    // The context's language (text) fills the enum-typed parameter.
    assert_eq!(first["language"], "en_US");
    assert_eq!(reqs[1].json()["outResult"], "ABSTAIN");
    assert_eq!(
        ExecuteTaskOutResult::from_wire("DISAGREE"),
        ExecuteTaskOutResult::Disagree
    );
}
