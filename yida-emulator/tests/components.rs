//! Every component kind over HTTP through yida-api: writes checked per kind (refusals name
//! the field), values read back in Yida's shapes, searches per kind, sub-form rows past 50,
//! associations, serial numbers, attachments, and forms loaded from a definitions reply.

mod common;
use common::*;
use serde_json::{json, Value};
use yida_api::*;
use yida_emulator::{Emulator, Options, Seed};

const FORM: &str = "FORM-DEMO";
const CUSTOMERS: &str = "FORM-DEMO-CUSTOMERS";

async fn save(c: &Client, form: &str, data: Value) -> Result<String, Error> {
    c.send(SaveFormDataV2Request::new(form, data))
        .await
        .map(|r| r.result.unwrap())
}

async fn read(c: &Client, id: &str) -> Value {
    c.send(GetFormDataByIdV2Request::new(id).form_uuid(FORM))
        .await
        .unwrap()
        .form_data
        .unwrap()
        .to_value()
        .unwrap()
}

/// Parses a JSON-text value of a reply.
fn text_json(v: &Value) -> Value {
    serde_json::from_str(v.as_str().unwrap_or_else(|| panic!("not JSON text: {v}"))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_is_checked_on_write_and_the_refusal_names_the_field() {
    // More than 20 calls a second to one API: no QPS quota here.
    let emu = Emulator::start_with(Options::default().qps(0))
        .await
        .unwrap();
    let c = client(&emu);
    // (field, a value of the wrong shape)
    let wrong = [
        ("textField_title", json!(12)),
        ("textareaField_notes", json!(["a"])),
        ("numberField_amount", json!("many")),
        ("rateField_priority", json!({"stars": 4})),
        ("radioField_urgency", json!(["high"])),
        ("selectField_kind", json!(1)),
        ("checkboxField_flags", json!("a")),
        ("multiSelectField_tags", json!([1, 2])),
        ("cascadeSelectField_category", json!({"a": 1})),
        ("dateField_due", json!("2024-01-30")),
        ("cascadeDateField_period", json!([1])),
        ("employeeField_owner", json!([{"id": 1}])),
        ("departmentSelectField_dept", json!({"id": "1001"})),
        ("countrySelectField_country", json!({"value": "CN"})),
        ("citySelectField_city", json!("北京")),
        ("addressField_site", json!("人民路 1 号")),
        ("attachmentField_files", json!("https://example.com/a.txt")),
        ("imageField_photos", json!({"url": "x"})),
        ("linkField_ref", json!({"link": "https://example.com"})),
        ("editorField_body", json!(["<p>x</p>"])),
        ("associationFormField_customer", json!("FINST-1")),
        ("tableField_items", json!({"textField_item": "pen"})),
        ("digitalSignatureField_sign", json!(1)),
        ("locationField_place", json!("上海")),
    ];
    for (field, value) in wrong {
        let e = api_err(save(&c, FORM, json!({ field: value })).await);
        assert_eq!(
            (e.status, e.code.as_deref()),
            (400, Some("invalidParameter"))
        );
        let m = e.message.unwrap();
        assert!(m.contains(field), "{field}: {m}");
    }
    // Inside a sub-form the message names the row and the child.
    let e = api_err(
        save(
            &c,
            FORM,
            json!({"tableField_items": [{"textField_item": "ok"}, {"numberField_qty": "lots"}]}),
        )
        .await,
    );
    assert!(
        e.message
            .as_deref()
            .unwrap()
            .contains("tableField_items[1].numberField_qty"),
        "{e:?}"
    );
    assert!(emu.records(FORM).is_empty(), "nothing refused was stored");
    // Every kind the demo form has appears in its component definitions.
    let defs = c
        .send(GetFormComponentDefinitionListRequest::new(FORM))
        .await
        .unwrap()
        .result
        .unwrap();
    let names: std::collections::BTreeSet<String> = defs
        .iter()
        .filter_map(|d| d.component_name.clone())
        .collect();
    for kind in yida_api::components::ComponentKind::all() {
        assert!(names.contains(kind.component_name()), "{kind} missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_reads_back_in_yidas_shape() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let customer = save(
        &c,
        CUSTOMERS,
        json!({"textField_name": "Acme", "textField_city": "Hangzhou"}),
    )
    .await
    .unwrap();
    let file = emu.add_file("a.txt", b"hello");
    let data = json!({
        "textField_title": "t",
        "textareaField_notes": "line 1\nline 2",
        "numberField_amount": "12.5",
        "rateField_priority": 4,
        "radioField_urgency": "high",
        "selectField_kind": "x",
        "checkboxField_flags": ["a", "b"],
        "multiSelectField_tags": ["red"],
        "cascadeSelectField_category": ["part", "part_b"],
        "dateField_due": "1516636800000",
        "cascadeDateField_period": [1514736000000i64, "1517328000000"],
        "employeeField_owner": "demo-manager",
        "departmentSelectField_dept": 1001,
        "countrySelectField_country": [{"value": "CN"}],
        "citySelectField_city": ["110000", "110100", "110101"],
        "addressField_site": {"address": "人民路 1 号", "regionIds": ["110000", "110100"]},
        "attachmentField_files": [{"downloadUrl": file, "name": "a.txt", "previewUrl": file, "url": file, "ext": "txt"}],
        "imageField_photos": [{"downloadUrl": "https://example.com/a.png", "name": "a.png", "url": "https://example.com/a.png", "size": 3}],
        "linkField_ref": [{"link": "https://example.com", "text": "Example"}],
        "editorField_body": "<p>hello</p>",
        "associationFormField_customer": [{"appType": "APP_DEMO", "formUuid": CUSTOMERS, "instanceId": customer}],
        "serialNumberField_no": "mine",
        "digitalSignatureField_sign": "https://example.com/sign.png",
        "locationField_place": {"address": "上海市", "latitude": 31.2, "longitude": 121.4, "name": "人民广场"},
        "tableField_items": [{"textField_item": "pen", "numberField_qty": "2",
                              "employeeField_buyer": ["demo-user"], "departmentSelectField_cost": ["1002"]}],
    });
    let id = save(&c, FORM, data).await.unwrap();
    let got = read(&c, &id).await;
    assert_eq!(got["textField_title"], "t");
    assert_eq!(got["textareaField_notes"], "line 1\nline 2");
    assert_eq!(got["numberField_amount"], 12.5);
    assert_eq!(got["numberField_amount_value"], "12.5");
    assert_eq!(got["rateField_priority"], 4);
    assert_eq!(got["radioField_urgency"], "high");
    assert_eq!(got["checkboxField_flags"], json!(["a", "b"]));
    assert_eq!(
        got["cascadeSelectField_category"],
        json!(["part", "part_b"])
    );
    assert_eq!(got["dateField_due"], 1516636800000i64);
    assert_eq!(
        got["cascadeDateField_period"],
        json!(["1514736000000", "1517328000000"])
    );
    // Members and departments: names under the field id, ids in the `_id` twin.
    assert_eq!(got["employeeField_owner"], json!(["经理"]));
    assert_eq!(got["employeeField_owner_id"], json!(["demo-manager"]));
    assert_eq!(got["departmentSelectField_dept"], json!(["研发部"]));
    assert_eq!(got["departmentSelectField_dept_id"], json!(["1001"]));
    // City codes come back as names; country, address, attachments … as JSON text.
    assert_eq!(
        got["citySelectField_city"],
        json!(["北京", "北京市", "东城区"])
    );
    let country = text_json(&got["countrySelectField_country"]);
    assert_eq!(country[0]["value"], "CN");
    assert_eq!(country[0]["text"]["zh_CN"], "中国");
    let address = text_json(&got["addressField_site"]);
    assert_eq!(address["regionText"][1]["zh_CN"], "北京市");
    let files = text_json(&got["attachmentField_files"]);
    assert_eq!(files[0]["name"], "a.txt");
    assert_eq!(text_json(&got["imageField_photos"])[0]["size"], 3);
    assert_eq!(text_json(&got["linkField_ref"])[0]["text"], "Example");
    assert_eq!(text_json(&got["locationField_place"])["name"], "人民广场");
    assert_eq!(got["editorField_body"], "<p>hello</p>");
    assert_eq!(
        got["digitalSignatureField_sign"],
        "https://example.com/sign.png"
    );
    // The association: the referenced record's title, the reference as JSON text twice.
    assert_eq!(got["associationFormField_customer"], "Acme");
    let once = text_json(&got["associationFormField_customer_id"]);
    let refs = text_json(&once);
    assert_eq!(refs[0]["instanceId"], customer);
    assert_eq!(refs[0]["title"], "Acme");
    assert_eq!(refs[0]["subTitle"], "Hangzhou");
    // The serial number is Yida's, not the written one.
    let serial = got["serialNumberField_no"].as_str().unwrap();
    assert!(serial.starts_with("SERIAL"), "{serial}");
    // Sub-form rows: each child in its own read shape.
    let row = &got["tableField_items"][0];
    assert_eq!(row["numberField_qty"], 2);
    assert_eq!(row["employeeField_buyer"], json!(["演示用户"]));
    assert_eq!(row["employeeField_buyer_id"], json!(["demo-user"]));
    assert_eq!(row["departmentSelectField_cost"], json!(["市场部"]));
    // An update cannot overwrite the serial number either.
    c.send(UpdateFormDataV2Request::new(
        &id,
        json!({"serialNumberField_no": "other", "employeeField_owner": ["demo-user"]}),
    ))
    .await
    .unwrap();
    let again = read(&c, &id).await;
    assert_eq!(again["serialNumberField_no"], serial);
    assert_eq!(again["employeeField_owner_id"], json!(["demo-user"]));
    // Search replies carry the same shapes.
    let found = c
        .send(
            SearchFormDatasV2Request::new(FORM).search_field_json(json!({"textField_title": "t"})),
        )
        .await
        .unwrap();
    let first = found.data.unwrap()[0]
        .form_data
        .as_ref()
        .unwrap()
        .to_value()
        .unwrap();
    assert_eq!(first["employeeField_owner"], json!(["演示用户"]));
    assert_eq!(first["associationFormField_customer"], "Acme");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn associations_must_name_an_existing_record() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let e = api_err(
        save(
            &c,
            FORM,
            json!({"associationFormField_customer": [{"appType": "APP_DEMO", "formUuid": CUSTOMERS, "instanceId": "FINST-NOPE"}]}),
        )
        .await,
    );
    let m = e.message.unwrap();
    assert!(
        m.contains("associationFormField_customer") && m.contains("FINST-NOPE"),
        "{m}"
    );
    // A record of another form is not a record of the named form.
    let other = save(&c, FORM, json!({"textField_title": "x"}))
        .await
        .unwrap();
    let e = api_err(
        save(
            &c,
            FORM,
            json!({"associationFormField_customer": [{"appType": "APP_DEMO", "formUuid": CUSTOMERS, "instanceId": other}]}),
        )
        .await,
    );
    assert_eq!(e.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searches_per_kind() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let day = 86_400_000i64;
    for (title, notes, rate, radio, flags, period, dept, city, item) in [
        (
            "a",
            "buy pens",
            1,
            "low",
            vec!["x"],
            10 * day,
            "1001",
            "110101",
            "pen",
        ),
        (
            "b",
            "buy paper",
            3,
            "high",
            vec!["x", "y"],
            20 * day,
            "1002",
            "110100",
            "paper",
        ),
        (
            "c",
            "sell pens",
            5,
            "high",
            vec!["z"],
            30 * day,
            "1001",
            "110101",
            "ink",
        ),
    ] {
        emu.insert_record(
            FORM,
            json!({"textField_title": title, "textareaField_notes": notes, "rateField_priority": rate,
                   "radioField_urgency": radio, "checkboxField_flags": flags,
                   "cascadeDateField_period": [period, period + day],
                   "departmentSelectField_dept": [dept], "citySelectField_city": ["110000", "110100", city],
                   "tableField_items": [{"textField_item": item}]}),
        )
        .unwrap();
    }
    let titles = |r: SearchFormDatasResponse| {
        let mut t: Vec<String> = r
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|x| {
                x.form_data.unwrap().to_value().unwrap()["textField_title"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        t.sort();
        t
    };
    let search = |filter: Value| {
        let c = c.clone();
        async move {
            c.send(
                SearchFormDatasV2Request::new(FORM)
                    .search_field_json(filter)
                    .page_size(100),
            )
            .await
        }
    };
    // Text: contains.
    assert_eq!(
        titles(
            search(json!({"textareaField_notes": "pens"}))
                .await
                .unwrap()
        ),
        ["a", "c"]
    );
    // Rating: a range.
    assert_eq!(
        titles(search(json!({"rateField_priority": [2, 5]})).await.unwrap()),
        ["b", "c"]
    );
    // Radio: equal.
    assert_eq!(
        titles(search(json!({"radioField_urgency": "high"})).await.unwrap()),
        ["b", "c"]
    );
    // Check boxes: any of.
    assert_eq!(
        titles(
            search(json!({"checkboxField_flags": ["y", "z"]}))
                .await
                .unwrap()
        ),
        ["b", "c"]
    );
    // Date range: on its start.
    assert_eq!(
        titles(
            search(json!({"cascadeDateField_period": [15 * day, 25 * day]}))
                .await
                .unwrap()
        ),
        ["b"]
    );
    // Departments: by id, also through the `_value` key some search paths use.
    assert_eq!(
        titles(
            search(json!({"departmentSelectField_dept": ["1001"]}))
                .await
                .unwrap()
        ),
        ["a", "c"]
    );
    assert_eq!(
        titles(
            search(json!({"departmentSelectField_dept_value": ["1002"]}))
                .await
                .unwrap()
        ),
        ["b"]
    );
    // City: by its codes.
    assert_eq!(
        titles(
            search(json!({"citySelectField_city": ["110000", "110100", "110101"]}))
                .await
                .unwrap()
        ),
        ["a", "c"]
    );
    // Sub-form: contains, over the rows' values.
    assert_eq!(
        titles(search(json!({"tableField_items": "pap"})).await.unwrap()),
        ["b"]
    );
    // Kinds that cannot be searched are refused, naming the field.
    let e = api_err(search(json!({"attachmentField_files": "a"})).await);
    assert_eq!(e.status, 400);
    assert!(e.message.unwrap().contains("attachmentField_files"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_form_rows_are_cut_at_50_and_listed_in_full() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let rows: Vec<Value> = (0..60)
        .map(|i| json!({"textField_item": format!("row {i}"), "employeeField_buyer": ["demo-manager"]}))
        .collect();
    let id = save(&c, FORM, json!({"tableField_items": rows}))
        .await
        .unwrap();
    assert_eq!(
        emu.records(FORM)[0].data["tableField_items"]
            .as_array()
            .unwrap()
            .len(),
        60
    );
    let got = read(&c, &id).await;
    assert_eq!(got["tableField_items"].as_array().unwrap().len(), 50);
    let args = || ListTableDataByFormInstanceIdTableIdArgs {
        form_instance_id: id.clone(),
        form_uuid: FORM.into(),
        table_field_id: "tableField_items".into(),
    };
    let page2 = c
        .send(
            ListTableDataByFormInstanceIdTableIdRequest::new(args())
                .page_number(2)
                .page_size(50)
                .need_row_id(true),
        )
        .await
        .unwrap();
    assert_eq!(page2.total_count, Some(60));
    let data: Vec<Value> = page2
        .data
        .unwrap()
        .iter()
        .map(|r| r.to_value().unwrap())
        .collect();
    assert_eq!(data.len(), 10);
    assert_eq!(data[0]["textField_item"], "row 50");
    assert_eq!(data[0]["employeeField_buyer"], json!(["经理"]));
    assert_eq!(data[0]["employeeField_buyer_id"], json!(["demo-manager"]));
    assert!(data[0]["rowId"].is_string());
    // A field that is not a sub-form is refused, naming it.
    let e = api_err(
        c.send(ListTableDataByFormInstanceIdTableIdRequest::new(
            ListTableDataByFormInstanceIdTableIdArgs {
                table_field_id: "textField_title".into(),
                ..args()
            },
        ))
        .await,
    );
    assert!(e.message.unwrap().contains("textField_title"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_through_expiring_temporary_urls() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let stored = emu.add_file("report.pdf", b"%PDF-1.4 emulated");
    let url = c
        .send(GetOpenUrlRequest::new(&stored).timeout(60_000))
        .await
        .unwrap()
        .result
        .unwrap();
    assert!(url.starts_with(&emu.endpoint()), "{url}");
    let http = http();
    let r = http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"%PDF-1.4 emulated");
    // An altered link is refused; an expired one says so.
    let r = http
        .get(url.replace("Expires=", "Expires=9"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("SignatureDoesNotMatch"));
    emu.expire_next_open_urls(1);
    let expired = c
        .send(GetOpenUrlRequest::new(&stored))
        .await
        .unwrap()
        .result
        .unwrap();
    let r = http.get(&expired).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("Request has expired."));
    // A URL that names no file of the tenant, and a lifetime out of range, are refused.
    let e = api_err(
        c.send(GetOpenUrlRequest::new("/ossFileHandle?fileName=nope.txt"))
            .await,
    );
    assert!(e.message.unwrap().contains("fileUrl"));
    let e = api_err(c.send(GetOpenUrlRequest::new(&stored).timeout(0)).await);
    assert!(e.message.unwrap().contains("timeout"));
    // The demo seed's file.
    let demo = c
        .send(GetOpenUrlRequest::new(
            "/ossFileHandle?fileName=hello.txt&type=download",
        ))
        .await
        .unwrap()
        .result
        .unwrap();
    let body = http.get(&demo).send().await.unwrap().text().await.unwrap();
    assert_eq!(body, "Hello from the Yida emulator.\n");
}

/// A GetFormComponentDefinitionList reply as Yida sends it: i18n labels, extra keys, a
/// sub-form with children, a component kind yida-api does not know.
const DEFINITIONS: &str = r#"{"result": [
  {"fieldId": "textField_k1", "componentName": "TextField", "label": {"zh_CN": "名称", "en_US": "Name", "type": "i18n"}, "parentId": "", "behavior": "NORMAL"},
  {"fieldId": "employeeField_k2", "componentName": "EmployeeField", "label": "负责人"},
  {"fieldId": "tableField_k3", "componentName": "TableField", "label": "明细"},
  {"fieldId": "numberField_k4", "componentName": "NumberField", "label": "数量", "parentId": "tableField_k3"},
  {"fieldId": "gaugeField_k5", "componentName": "GaugeField", "label": "仪表"}
]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_loaded_from_a_definitions_reply() {
    let mut seed = Seed::demo();
    seed.add_form_definitions("FORM-PROD", "APP_DEMO", "Production form", DEFINITIONS)
        .unwrap();
    let emu = Emulator::start_with(Options::default().seed(seed))
        .await
        .unwrap();
    let c = client(&emu);
    let defs = c
        .send(GetFormComponentDefinitionListRequest::new("FORM-PROD"))
        .await
        .unwrap()
        .result
        .unwrap();
    assert_eq!(defs.len(), 5);
    assert_eq!(defs[3].parent_id.as_deref(), Some("tableField_k3"));
    assert_eq!(defs[4].component_name.as_deref(), Some("GaugeField"));
    let label: Value = serde_json::from_str(defs[0].label.as_deref().unwrap()).unwrap();
    assert_eq!(label["en_US"], "Name");
    let id = c
        .send(SaveFormDataV2Request::new(
            "FORM-PROD",
            json!({"textField_k1": "x", "employeeField_k2": ["demo-user"],
                   "tableField_k3": [{"numberField_k4": "3"}], "gaugeField_k5": {"any": "thing"}}),
        ))
        .await
        .unwrap()
        .result
        .unwrap();
    let got = c
        .send(GetFormDataByIdV2Request::new(&id).form_uuid("FORM-PROD"))
        .await
        .unwrap()
        .form_data
        .unwrap()
        .to_value()
        .unwrap();
    assert_eq!(got["employeeField_k2"], json!(["演示用户"]));
    assert_eq!(got["tableField_k3"][0]["numberField_k4"], 3);
    assert_eq!(
        got["gaugeField_k5"],
        json!({"any": "thing"}),
        "unknown kinds kept as written"
    );
    let e = api_err(
        c.send(SaveFormDataV2Request::new(
            "FORM-PROD",
            json!({"tableField_k3": [{"numberField_k4": "three"}]}),
        ))
        .await,
    );
    assert!(e
        .message
        .unwrap()
        .contains("tableField_k3[0].numberField_k4"));
    // Bad definitions are refused with the reason.
    let mut seed = Seed::demo();
    let err = seed
        .add_form_definitions(
            "FORM-X",
            "APP_DEMO",
            "x",
            r#"{"result": [{"label": "no id"}]}"#,
        )
        .unwrap_err();
    assert!(err.to_string().contains("fieldId"), "{err}");
    assert!(seed
        .add_form_definitions("FORM-DEMO", "APP_DEMO", "x", "[]")
        .is_err());
}
