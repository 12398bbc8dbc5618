//! Form data over HTTP through yida-api, both API versions.

mod common;
use common::*;
use serde_json::{json, Value};
use yida_api::*;
use yida_emulator::Emulator;

const FORM: &str = "FORM-DEMO";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_get_update_delete_v2() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let saved = c
        .send(SaveFormDataV2Request::new(
            FORM,
            json!({"textField_title": "a", "numberField_amount": 3}),
        ))
        .await
        .unwrap();
    let id = saved.result.unwrap();
    assert!(id.starts_with("FINST-"));
    let got = c
        .send(GetFormDataByIdV2Request::new(&id).form_uuid(FORM))
        .await
        .unwrap();
    assert_eq!(got.form_inst_id.as_deref(), Some(id.as_str()));
    let data = got.form_data.unwrap().to_value().unwrap();
    assert_eq!(data["textField_title"], "a");
    assert_eq!(data["numberField_amount"], 3);
    assert_eq!(data["numberField_amount_value"], "3");
    c.send(
        UpdateFormDataV2Request::new(&id, json!({"textField_title": "b"})).use_latest_version(true),
    )
    .await
    .unwrap();
    let rec = &emu.records(FORM)[0];
    assert_eq!(rec.data["textField_title"], "b");
    assert_eq!(rec.data["numberField_amount"], 3);
    assert_eq!(rec.version, 2);
    c.send(DeleteFormDataRequest::new(&id)).await.unwrap();
    assert!(emu.records(FORM).is_empty());
    let e = api_err(c.send(GetFormDataByIdV2Request::new(&id)).await);
    assert_eq!(e.status, 400);
    assert_eq!(
        e.code.as_deref(),
        Some("dataNotExist.form.instanceNotExist")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_get_update_search_v1() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let id = c
        .send(SaveFormDataRequest::new(
            FORM,
            json!({"textField_title": "v1"}),
        ))
        .await
        .unwrap()
        .result
        .unwrap();
    let got = c.send(GetFormDataByIdRequest::new(&id)).await.unwrap();
    assert_eq!(
        got.form_data.unwrap().to_value().unwrap()["textField_title"],
        "v1"
    );
    c.send(UpdateFormDataRequest::new(
        &id,
        json!({"numberField_amount": 7}),
    ))
    .await
    .unwrap();
    let found = c
        .send(SearchFormDatasRequest::new(FORM).search_field_json(json!({"numberField_amount": 7})))
        .await
        .unwrap();
    assert_eq!(found.total_count, Some(1));
    let rows = found.data.unwrap();
    assert_eq!(rows[0].form_instance_id.as_deref(), Some(id.as_str()));
    assert_eq!(rows[0].version, Some(2));
    let ids = c
        .send(SearchFormDataIdListRequest::new(FORM))
        .await
        .unwrap();
    assert_eq!(ids.data.unwrap(), vec![id.clone()]);
    let ids = c
        .send(SearchFormDataIdListV2Request::new(FORM))
        .await
        .unwrap();
    assert_eq!(ids.total_count, Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_operations_and_create_or_update() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let saved = call(
        &c,
        "BatchSaveFormData",
        "1.0",
        json!({"formUuid": FORM, "formDataJsonList": [
            json!({"textField_title": "x1"}).to_string(),
            json!({"textField_title": "x2"}).to_string(),
            json!({"textField_title": "x3"}).to_string(),
        ]}),
    )
    .await
    .unwrap()
    .unwrap();
    let ids: Vec<String> = serde_json::from_value(saved["result"].clone()).unwrap();
    assert_eq!(ids.len(), 3);
    assert_eq!(emu.records(FORM).len(), 3);

    let got = call(
        &c,
        "BatchGetFormDataByIdList",
        "1.0",
        json!({"formUuid": FORM, "formInstanceIdList": [ids[0], ids[2]]}),
    )
    .await
    .unwrap()
    .unwrap();
    let titles: Vec<&str> = got["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["formData"]["textField_title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["x1", "x3"]);

    call(&c,
        "BatchUpdateFormDataByInstanceId",
        "1.0",
        json!({"formUuid": FORM, "formInstanceIdList": [ids[0], ids[1]], "updateFormDataJson": {"numberField_amount": 5}, "useLatestFormSchemaVersion": true}),
    )
    .await
    .unwrap();
    call(&c,
        "BatchUpdateFormDataByInstanceMap",
        "1.0",
        json!({"formUuid": FORM, "updateFormDataJsonMap": {ids[2].clone(): json!({"numberField_amount": 9}).to_string()}}),
    )
    .await
    .unwrap();
    let amounts: Vec<Value> = emu
        .records(FORM)
        .iter()
        .map(|r| r.data["numberField_amount"].clone())
        .collect();
    assert_eq!(amounts, [json!(5), json!(5), json!(9)]);

    // Create-or-update: a match updates it, no match creates.
    for version in ["1.0", "2.0"] {
        let r = call(&c,
                "CreateOrUpdateFormData",
                version,
                json!({"formUuid": FORM, "formDataJson": {"textField_title": "x2", "numberField_amount": 1},
                       "searchCondition": [{"key": "textField_title", "value": "x2", "type": "TEXT", "operator": "eq", "componentName": "TextField"}]}),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(r["result"], json!([ids[1]]), "{version}");
    }
    let r = call(&c,
            "CreateOrUpdateFormData",
            "2.0",
            json!({"formUuid": FORM, "formDataJson": {"textField_title": "new"},
                   "searchCondition": [{"key": "textField_title", "value": "nope", "operator": "eq"}]}),
        )
        .await
        .unwrap()
        .unwrap();
    let created = r["result"][0].as_str().unwrap().to_string();
    assert!(!ids.contains(&created));
    assert_eq!(emu.records(FORM).len(), 4);

    let logs = call(
        &c,
        "ListOperationLogs",
        "1.0",
        json!({"formUuid": FORM, "formInstanceIdList": [ids[1]]}),
    )
    .await
    .unwrap()
    .unwrap();
    let entries = logs["operationLogMap"][&ids[1]].as_array().unwrap();
    assert!(entries
        .iter()
        .any(|e| e["operationType"] == "CREATE" && e["currentText"] == "x2"));
    assert!(entries.iter().any(|e| e["operationType"] == "UPDATE"
        && e["componentName"] == "numberField_amount"
        && e["currentText"] == "1"));

    call(
        &c,
        "BatchRemovalByFormInstanceIdList",
        "1.0",
        json!({"formUuid": FORM, "formInstanceIdList": [ids[0], ids[2]]}),
    )
    .await
    .unwrap();
    let left: Vec<String> = emu
        .records(FORM)
        .into_iter()
        .map(|r| r.form_instance_id)
        .collect();
    assert_eq!(left, vec![ids[1].clone(), created]);
}

async fn ids_matching(c: &Client, filter: Value) -> Vec<String> {
    let mut out: Vec<String> = c
        .send(
            SearchFormDatasV2Request::new(FORM)
                .search_field_json(filter)
                .page_size(100),
        )
        .await
        .unwrap()
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|r| {
            r.form_data.unwrap().to_value().unwrap()["textField_title"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_semantics() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let day = 86_400_000i64;
    for (title, amount, due, kind, tags, owner) in [
        ("a", 1, 10 * day, "x", vec!["red"], vec!["demo-user"]),
        (
            "b",
            5,
            20 * day,
            "y",
            vec!["red", "blue"],
            vec!["demo-manager"],
        ),
        (
            "c",
            9,
            30 * day,
            "x",
            vec!["green"],
            vec!["demo-user", "demo-manager"],
        ),
    ] {
        emu.insert_record(
            FORM,
            json!({"textField_title": title, "numberField_amount": amount, "dateField_due": due,
                   "selectField_kind": kind, "multiSelectField_tags": tags, "employeeField_owner": owner}),
        )
        .unwrap();
    }
    assert_eq!(
        ids_matching(&c, json!({"textField_title": "b"})).await,
        ["b"]
    );
    assert_eq!(
        ids_matching(&c, json!({"selectField_kind": "x"})).await,
        ["a", "c"]
    );
    assert_eq!(
        ids_matching(&c, json!({"numberField_amount": [2, 9]})).await,
        ["b", "c"]
    );
    assert_eq!(
        ids_matching(&c, json!({"numberField_amount": [null, 5]})).await,
        ["a", "b"]
    );
    assert_eq!(
        ids_matching(&c, json!({"numberField_amount": 9})).await,
        ["c"]
    );
    assert_eq!(
        ids_matching(&c, json!({"dateField_due": [15 * day, 30 * day]})).await,
        ["b", "c"]
    );
    assert_eq!(
        ids_matching(&c, json!({"multiSelectField_tags": ["blue", "green"]})).await,
        ["b", "c"]
    );
    assert_eq!(
        ids_matching(&c, json!({"employeeField_owner": ["demo-manager"]})).await,
        ["b", "c"]
    );
    assert_eq!(
        ids_matching(
            &c,
            json!({"selectField_kind": "x", "numberField_amount": [0, 5]})
        )
        .await,
        ["a"]
    );
    // v1's logicOperator "or".
    let r = c
        .send(
            SearchFormDatasRequest::new(FORM)
                .search_field_json(json!({"textField_title": "a", "numberField_amount": 9}))
                .logic_operator("or"),
        )
        .await
        .unwrap();
    assert_eq!(r.total_count, Some(2));
    // Explicit order.
    let r = c
        .send(SearchFormDatasV2Request::new(FORM).dynamic_order(json!({"numberField_amount": "-"})))
        .await
        .unwrap();
    let order: Vec<String> = r
        .data
        .unwrap()
        .into_iter()
        .map(|x| {
            x.form_data.unwrap().to_value().unwrap()["textField_title"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(order, ["c", "b", "a"]);
    // Member companion keys as the service sends them.
    let r = c
        .send(
            SearchFormDatasV2Request::new(FORM).search_field_json(json!({"textField_title": "c"})),
        )
        .await
        .unwrap();
    let data = r.data.unwrap()[0]
        .form_data
        .as_ref()
        .unwrap()
        .to_value()
        .unwrap();
    assert_eq!(
        data["employeeField_owner_id"],
        json!(["demo-user", "demo-manager"])
    );
    assert_eq!(data["employeeField_owner"], json!(["演示用户", "经理"]));
    // Unknown field ids and bad ranges are refused, naming the field.
    let e = api_err(
        c.send(
            SearchFormDatasV2Request::new(FORM).search_field_json(json!({"textField_nope": "x"})),
        )
        .await,
    );
    assert_eq!(e.status, 400);
    assert!(e.message.unwrap().contains("textField_nope"));
    let e = api_err(
        c.send(
            SearchFormDatasV2Request::new(FORM)
                .search_field_json(json!({"numberField_amount": [1, 2, 3]})),
        )
        .await,
    );
    assert!(e.message.unwrap().contains("numberField_amount"));
    // Originator and creation-date filters.
    let r = c
        .send(SearchFormDatasV2Request::new(FORM).originator_id("demo-manager"))
        .await
        .unwrap();
    assert_eq!(r.total_count, Some(0));
    let r = c
        .send(
            SearchFormDatasV2Request::new(FORM)
                .create_from_time_gmt("2000-01-01")
                .create_to_time_gmt("9999-12-31"),
        )
        .await
        .unwrap();
    assert_eq!(r.total_count, Some(3));
    let r = c
        .send(SearchFormDatasV2Request::new(FORM).create_to_time_gmt("2000-01-01"))
        .await
        .unwrap();
    assert_eq!(r.total_count, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagination_and_limits() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    for i in 0..25 {
        emu.insert_record(
            FORM,
            json!({"textField_title": format!("r{i:02}"), "numberField_amount": i}),
        )
        .unwrap();
    }
    let page = c
        .send(
            SearchFormDatasV2Request::new(FORM)
                .current_page(3)
                .page_size(10),
        )
        .await
        .unwrap();
    assert_eq!(page.current_page, Some(3));
    assert_eq!(page.total_count, Some(25));
    assert_eq!(page.data.unwrap().len(), 5);
    let mut walk = c.paginate(
        SearchFormDatasV2Request::new(FORM)
            .page_size(7)
            .dynamic_order(json!({"numberField_amount": "+"})),
    );
    let mut seen = vec![];
    while let Some(r) = walk.next().await {
        seen.push(
            r.unwrap().form_data.unwrap().to_value().unwrap()["numberField_amount"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_eq!(seen, (0..25).collect::<Vec<_>>());
    let ids = c
        .send(
            SearchFormDataIdListV2Request::new(FORM)
                .page_number(2)
                .page_size(20),
        )
        .await
        .unwrap();
    assert_eq!(
        (ids.page_number, ids.total_count, ids.data.unwrap().len()),
        (Some(2), Some(25), 5)
    );
    let e = api_err(
        c.send(SearchFormDatasV2Request::new(FORM).page_size(101))
            .await,
    );
    assert_eq!(
        (e.status, e.code.as_deref()),
        (400, Some("pageSize.exceeds"))
    );
    let e = api_err(
        c.send(SearchFormDataIdListRequest::new(FORM).page_size(101))
            .await,
    );
    assert_eq!(e.code.as_deref(), Some("pageSize.exceeds"));
    let page = c
        .send(SearchFormDatasV2Request::new(FORM).page_size(100))
        .await
        .unwrap();
    assert_eq!(page.data.unwrap().len(), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn component_definitions_and_values_checked() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let defs = c
        .send(GetFormComponentDefinitionListRequest::new(FORM))
        .await
        .unwrap();
    let list = defs.result.unwrap();
    assert_eq!(list.len(), emu.seed().form(FORM).unwrap().components.len());
    let amount = list
        .iter()
        .find(|d| d.field_id.as_deref() == Some("numberField_amount"))
        .unwrap();
    assert_eq!(amount.component_name.as_deref(), Some("NumberField"));
    assert_eq!(amount.label.as_deref(), Some("Amount"));
    let item = list
        .iter()
        .find(|d| d.field_id.as_deref() == Some("textField_item"))
        .unwrap();
    assert_eq!(item.parent_id.as_deref(), Some("tableField_items"));
    // A value that does not fit its component.
    let e = api_err(
        c.send(SaveFormDataV2Request::new(
            FORM,
            json!({"numberField_amount": "many"}),
        ))
        .await,
    );
    assert!(e.message.unwrap().contains("numberField_amount"));
    let e = api_err(
        c.send(SaveFormDataV2Request::new(
            FORM,
            json!({"dateField_due": "tomorrow"}),
        ))
        .await,
    );
    assert!(e.message.unwrap().contains("dateField_due"));
    assert!(emu.records(FORM).is_empty());
}

/// A dynamic call by action and version; the reply as JSON.
async fn call(
    c: &Client,
    action: &str,
    version: &str,
    input: Value,
) -> Result<Option<Value>, yida_api::Error> {
    let op = yida_api::operation(action, version).expect("operation compiled in");
    Ok(c.call(op, input)
        .await?
        .map(|raw| serde_json::from_str(raw.get()).expect("a reply is JSON")))
}
