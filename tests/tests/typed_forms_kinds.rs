//! Every component kind of the component model (`yida_api::components`) round-trips through
//! the emulator over loopback HTTP, by the derive path (the `yida codegen form` output for the
//! demo form, which has one component of every kind) and by the raw JSON path (the generated
//! operations with `serde_json::Value` form data in Yida's write format). A recording proxy
//! between the client and the emulator shows what went over the wire: saves carry the write
//! format, updates carry only the changed field, searches the conditions Yida takes, and
//! sub-forms past 50 rows are fetched page by page.

#[allow(dead_code)]
#[path = "../../examples/src/demo_form.rs"]
mod demo_form;

use demo_form::{DemoRequest, DemoRequestItemsRow, DemoRequestSearch};
use serde_json::{json, Map, Value};
use yida_api::components::ComponentKind;
use yida_api::form_values::*;
use yida_api::{Client, GetFormDataByIdV2Request, SaveFormDataV2Request, UpdateFormDataV2Request};
use yida_e2e::{Recorded, RecordingProxy};
use yida_emulator::seed::Region;
use yida_emulator::{Emulator, Options};

const FORM: &str = "FORM-DEMO";
const CUSTOMERS: &str = "FORM-DEMO-CUSTOMERS";
const INSTANCES: &str = "/v2.0/yida/forms/instances";

struct Env {
    emu: Emulator,
    proxy: RecordingProxy,
    client: Client,
    /// Two records of the customers form (for associations): (id, name, city).
    customers: Vec<(String, &'static str, &'static str)>,
    /// A stored file's URL (attachments).
    file: String,
}

async fn env() -> Env {
    // Many calls a second to one API: no QPS quota here.
    let emu = Emulator::start_with(Options::default().qps(0))
        .await
        .unwrap();
    emu.update_seed(|s| {
        s.regions.push(Region {
            code: "JP".into(),
            name: "日本".into(),
            name_in_english: "Japan".into(),
        })
    })
    .unwrap();
    let proxy = RecordingProxy::start(emu.addr()).await;
    let client = Client::builder()
        .endpoint(proxy.url())
        .internal_app(emu.app_key(), emu.app_secret())
        .unwrap()
        .context(emu.app_context())
        .build()
        .unwrap();
    let mut customers = vec![];
    for (name, city) in [("Acme", "Hangzhou"), ("Globex", "Suzhou")] {
        let id = emu
            .insert_record(
                CUSTOMERS,
                json!({"textField_name": name, "textField_city": city}),
            )
            .unwrap();
        customers.push((id, name, city));
    }
    let file = emu.add_file("a.txt", b"hello");
    Env {
        emu,
        proxy,
        client,
        customers,
        file,
    }
}

/// The `…Json` parameter of a recorded request, parsed (JSON text on the wire).
fn json_param(r: &Recorded, name: &str) -> Value {
    let body = r.json();
    let text = body[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} is not JSON text in {body}"));
    serde_json::from_str(text).unwrap()
}

/// The requests with this method whose path is exactly `path`.
fn sent(proxy: &RecordingProxy, method: &str, path: &str) -> Vec<Recorded> {
    proxy
        .requests()
        .into_iter()
        .filter(|r| r.method == method && r.path == path)
        .collect()
}

fn members(list: &[(&str, &str)]) -> Members {
    Members(
        list.iter()
            .map(|(id, name)| Member {
                id: (*id).into(),
                name: Some((*name).into()),
            })
            .collect(),
    )
}

fn departments(list: &[(&str, &str)]) -> Departments {
    Departments(
        list.iter()
            .map(|(id, name)| Department {
                id: (*id).into(),
                name: Some((*name).into()),
            })
            .collect(),
    )
}

fn i18n(zh: &str, en: &str, typed: bool) -> I18nText {
    let mut extra = Map::new();
    if typed {
        extra.insert("type".into(), json!("i18n"));
    }
    I18nText {
        zh_cn: Some(zh.into()),
        en_us: Some(en.into()),
        extra,
    }
}

fn country(code: &str) -> Countries {
    Countries::from(vec![Country {
        value: code.into(),
        text: None,
    }])
}

fn attachment(url: &str, name: &str, ext: Option<&str>, size: Option<i64>) -> Attachment {
    Attachment {
        download_url: url.into(),
        name: name.into(),
        preview_url: url.into(),
        url: url.into(),
        ext: ext.map(Into::into),
        size,
        extra: Map::new(),
    }
}

fn address(street: &str, regions: &[(&str, &str, &str)]) -> Address {
    Address::new(AddressValue {
        address: street.into(),
        region_ids: regions.iter().map(|r| r.0.to_string()).collect(),
        region_text: regions.iter().map(|r| i18n(r.1, r.2, false)).collect(),
        extra: Map::new(),
    })
}

fn reference(customer: &(String, &'static str, &'static str), resolved: bool) -> AssociationRefs {
    let mut r = AssociationRefs::to("APP_DEMO", CUSTOMERS, customer.0.clone());
    if resolved {
        let refs = r.get_mut().unwrap();
        refs[0].title = Some(customer.1.into());
        refs[0].sub_title = Some(customer.2.into());
    }
    r
}

fn row(item: &str, qty: f64, buyer: &str, cost: &str) -> DemoRequestItemsRow {
    DemoRequestItemsRow {
        item: Some(item.into()),
        quantity: Some(qty),
        buyer: Members::from([buyer]),
        cost_centre: Departments::from([cost]),
    }
}

/// A record with a value of every kind, as a user builds it.
fn full(env: &Env) -> DemoRequest {
    DemoRequest {
        title: Some("Laptop".into()),
        amount: Some(1200.5),
        due_date: Some(DateMs(1_700_000_000_000)),
        kind: Some("IT".into()),
        tags: vec!["urgent".into(), "hw".into()],
        owner: Members::from(["demo-manager", "demo-user"]),
        items: vec![
            row("pen", 2.0, "demo-user", "1002"),
            row("pencil", 10.0, "demo-manager", "1001"),
        ]
        .into(),
        notes: Some("line 1\nline 2".into()),
        priority: Some(4.0),
        urgency: Some("high".into()),
        flags: vec!["a".into(), "b".into()],
        category: vec!["hw".into(), "laptop".into()],
        period: Some(DateRange {
            start: DateMs(1_514_736_000_000),
            end: DateMs(1_517_328_000_000),
        }),
        department: Departments::from(["1001"]),
        country: country("CN"),
        city: City::from_codes(["110000", "110100", "110101"]),
        site: Some(address(
            "人民路 1 号",
            &[
                ("110000", "北京", "Beijing"),
                ("110100", "北京市", "Beijing City"),
            ],
        )),
        files: Attachments::from(vec![attachment(&env.file, "a.txt", Some("txt"), None)]),
        photos: Images::from(vec![attachment(
            "https://example.com/a.png",
            "a.png",
            None,
            Some(2048),
        )]),
        reference_link: Links::from(vec![Link {
            link: "https://example.com".into(),
            text: "Example".into(),
        }]),
        body: Some("<p>hello</p>".into()),
        customer: reference(&env.customers[0], false),
        number: None,
        signature: Some("https://example.com/sign.png".into()),
        place: Some(Location::new(LocationValue {
            address: "上海市黄浦区人民广场".into(),
            latitude: 31.2304,
            longitude: 121.4737,
            name: "人民广场".into(),
            extra: Map::new(),
        })),
        extra: Map::new(),
    }
}

/// What `full` reads back as: names beside ids, the country's name, the city as names (Yida
/// returns no codes), the association resolved, the serial number Yida's.
fn full_read(env: &Env, serial: &str) -> DemoRequest {
    let mut r = full(env);
    r.owner = members(&[("demo-manager", "经理"), ("demo-user", "演示用户")]);
    r.items.0[0].buyer = members(&[("demo-user", "演示用户")]);
    r.items.0[0].cost_centre = departments(&[("1002", "市场部")]);
    r.items.0[1].buyer = members(&[("demo-manager", "经理")]);
    r.items.0[1].cost_centre = departments(&[("1001", "研发部")]);
    r.department = departments(&[("1001", "研发部")]);
    r.country.get_mut().unwrap()[0].text = Some(i18n("中国", "China", true));
    r.city = City {
        codes: vec![],
        names: vec!["北京".into(), "北京市".into(), "东城区".into()],
    };
    r.customer = reference(&env.customers[0], true);
    r.number = Some(serial.into());
    r
}

/// What `full` sends: Yida's write format of every kind.
fn full_wire(env: &Env) -> Value {
    let customer = &env.customers[0].0;
    json!({
        "textField_title": "Laptop",
        "numberField_amount": 1200.5,
        "dateField_due": 1_700_000_000_000i64,
        "selectField_kind": "IT",
        "multiSelectField_tags": ["urgent", "hw"],
        "employeeField_owner": ["demo-manager", "demo-user"],
        "tableField_items": [
            {"textField_item": "pen", "numberField_qty": 2.0, "employeeField_buyer": ["demo-user"], "departmentSelectField_cost": ["1002"]},
            {"textField_item": "pencil", "numberField_qty": 10.0, "employeeField_buyer": ["demo-manager"], "departmentSelectField_cost": ["1001"]}
        ],
        "textareaField_notes": "line 1\nline 2",
        "rateField_priority": 4.0,
        "radioField_urgency": "high",
        "checkboxField_flags": ["a", "b"],
        "cascadeSelectField_category": ["hw", "laptop"],
        "cascadeDateField_period": ["1514736000000", "1517328000000"],
        "departmentSelectField_dept": ["1001"],
        "countrySelectField_country": [{"value": "CN"}],
        "citySelectField_city": ["110000", "110100", "110101"],
        "addressField_site": {"address": "人民路 1 号", "regionIds": ["110000", "110100"],
            "regionText": [{"zh_CN": "北京", "en_US": "Beijing"}, {"zh_CN": "北京市", "en_US": "Beijing City"}]},
        "attachmentField_files": [{"downloadUrl": env.file, "name": "a.txt", "previewUrl": env.file, "url": env.file, "ext": "txt"}],
        "imageField_photos": [{"downloadUrl": "https://example.com/a.png", "name": "a.png", "previewUrl": "https://example.com/a.png", "url": "https://example.com/a.png", "size": 2048}],
        "linkField_ref": [{"link": "https://example.com", "text": "Example"}],
        "editorField_body": "<p>hello</p>",
        "associationFormField_customer": [{"appType": "APP_DEMO", "formUuid": CUSTOMERS, "instanceId": customer, "formType": "receipt"}],
        "digitalSignatureField_sign": "https://example.com/sign.png",
        "locationField_place": {"address": "上海市黄浦区人民广场", "latitude": 31.2304, "longitude": 121.4737, "name": "人民广场"},
    })
}

/// One change of one field: applied to the record, what must go over the wire, and how the
/// expected read-back differs from the value written (names filled in by Yida).
struct Change {
    field: &'static str,
    set: Box<dyn Fn(&mut DemoRequest)>,
    wire: Value,
    read: Box<dyn Fn(&mut DemoRequest)>,
}

fn change(
    field: &'static str,
    set: impl Fn(&mut DemoRequest) + 'static,
    wire: Value,
    read: impl Fn(&mut DemoRequest) + 'static,
) -> Change {
    Change {
        field,
        set: Box::new(set),
        wire,
        read: Box::new(read),
    }
}

fn same(_: &mut DemoRequest) {}

fn changes(env: &Env) -> Vec<Change> {
    let globex = env.customers[1].clone();
    let globex2 = globex.clone();
    let globex_id = globex.0.clone();
    let file = env.file.clone();
    let file2 = env.file.clone();
    vec![
        change(
            "textField_title",
            |r| r.title = Some("Laptop 2".into()),
            json!("Laptop 2"),
            same,
        ),
        change(
            "textareaField_notes",
            |r| r.notes = Some("a\nb\nc".into()),
            json!("a\nb\nc"),
            same,
        ),
        change(
            "numberField_amount",
            |r| r.amount = Some(99.25),
            json!(99.25),
            same,
        ),
        change(
            "rateField_priority",
            |r| r.priority = Some(2.0),
            json!(2.0),
            same,
        ),
        change(
            "radioField_urgency",
            |r| r.urgency = Some("low".into()),
            json!("low"),
            same,
        ),
        change(
            "selectField_kind",
            |r| r.kind = Some("HR".into()),
            json!("HR"),
            same,
        ),
        change(
            "checkboxField_flags",
            |r| r.flags = vec!["c".into()],
            json!(["c"]),
            same,
        ),
        change(
            "multiSelectField_tags",
            |r| r.tags = vec!["x".into(), "y".into(), "z".into()],
            json!(["x", "y", "z"]),
            same,
        ),
        change(
            "cascadeSelectField_category",
            |r| r.category = vec!["hw".into(), "laptop".into(), "14in".into()],
            json!(["hw", "laptop", "14in"]),
            same,
        ),
        change(
            "dateField_due",
            |r| r.due_date = Some(DateMs(1_800_000_000_000)),
            json!(1_800_000_000_000i64),
            same,
        ),
        change(
            "cascadeDateField_period",
            |r| {
                r.period = Some(DateRange {
                    start: DateMs(1_600_000_000_000),
                    end: DateMs(1_600_086_400_000),
                })
            },
            json!(["1600000000000", "1600086400000"]),
            same,
        ),
        change(
            "employeeField_owner",
            |r| r.owner = Members::from(["demo-user"]),
            json!(["demo-user"]),
            |r| r.owner = members(&[("demo-user", "演示用户")]),
        ),
        change(
            "departmentSelectField_dept",
            |r| r.department = Departments::from(["1002", "1001"]),
            json!(["1002", "1001"]),
            |r| r.department = departments(&[("1002", "市场部"), ("1001", "研发部")]),
        ),
        change(
            "countrySelectField_country",
            |r| r.country = country("JP"),
            json!([{"value": "JP"}]),
            |r| r.country.get_mut().unwrap()[0].text = Some(i18n("日本", "Japan", true)),
        ),
        change(
            "citySelectField_city",
            |r| r.city = City::from_codes(["110000", "110100"]),
            json!(["110000", "110100"]),
            |r| {
                r.city = City {
                    codes: vec![],
                    names: vec!["北京".into(), "北京市".into()],
                }
            },
        ),
        change(
            "addressField_site",
            |r| r.site = Some(address("长安街 2 号", &[("110000", "北京", "Beijing")])),
            json!({"address": "长安街 2 号", "regionIds": ["110000"], "regionText": [{"zh_CN": "北京", "en_US": "Beijing"}]}),
            same,
        ),
        change(
            "attachmentField_files",
            move |r| {
                r.files = Attachments::from(vec![
                    attachment(&file, "a.txt", Some("txt"), None),
                    attachment(&file, "b.txt", Some("txt"), None),
                ])
            },
            json!([
                {"downloadUrl": file2, "name": "a.txt", "previewUrl": file2, "url": file2, "ext": "txt"},
                {"downloadUrl": file2, "name": "b.txt", "previewUrl": file2, "url": file2, "ext": "txt"}
            ]),
            same,
        ),
        change(
            "imageField_photos",
            |r| r.photos = Images::default(),
            json!([]),
            same,
        ),
        change(
            "linkField_ref",
            |r| {
                r.reference_link = Links::from(vec![
                    Link {
                        link: "https://a.example".into(),
                        text: "A".into(),
                    },
                    Link {
                        link: "https://b.example".into(),
                        text: "B".into(),
                    },
                ])
            },
            json!([{"link": "https://a.example", "text": "A"}, {"link": "https://b.example", "text": "B"}]),
            same,
        ),
        change(
            "editorField_body",
            |r| r.body = Some("<h1>title</h1><p>text</p>".into()),
            json!("<h1>title</h1><p>text</p>"),
            same,
        ),
        change(
            "associationFormField_customer",
            move |r| r.customer = reference(&globex, false),
            json!([{"appType": "APP_DEMO", "formUuid": CUSTOMERS, "instanceId": globex_id, "formType": "receipt"}]),
            move |r| r.customer = reference(&globex2, true),
        ),
        change(
            "tableField_items",
            |r| {
                r.items.0[1].quantity = Some(11.0);
                r.items.0.push(row("eraser", 1.0, "demo-user", "1001"));
            },
            // Every row, members and departments as ids (the rows read back held names too).
            json!([
                {"textField_item": "pen", "numberField_qty": 2.0, "employeeField_buyer": ["demo-user"], "departmentSelectField_cost": ["1002"]},
                {"textField_item": "pencil", "numberField_qty": 11.0, "employeeField_buyer": ["demo-manager"], "departmentSelectField_cost": ["1001"]},
                {"textField_item": "eraser", "numberField_qty": 1.0, "employeeField_buyer": ["demo-user"], "departmentSelectField_cost": ["1001"]}
            ]),
            |r| {
                r.items.0[2].buyer = members(&[("demo-user", "演示用户")]);
                r.items.0[2].cost_centre = departments(&[("1001", "研发部")]);
            },
        ),
        change(
            "digitalSignatureField_sign",
            |r| r.signature = Some("https://example.com/sign2.png".into()),
            json!("https://example.com/sign2.png"),
            same,
        ),
        change(
            "locationField_place",
            |r| {
                r.place = Some(Location::new(LocationValue {
                    address: "杭州市西湖区".into(),
                    latitude: 30.25,
                    longitude: 120.1551,
                    name: "西湖".into(),
                    extra: Map::new(),
                }))
            },
            json!({"address": "杭州市西湖区", "latitude": 30.25, "longitude": 120.1551, "name": "西湖"}),
            same,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_round_trips_by_the_derive_path() {
    let env = env().await;
    let forms = env.client.typed::<DemoRequest>();

    // Save: every kind in Yida's write format, the serial number never sent.
    let id = forms.save(&full(&env)).await.unwrap();
    let saves = sent(&env.proxy, "POST", INSTANCES);
    assert_eq!(saves.len(), 1);
    assert_eq!(json_param(&saves[0], "formDataJson"), full_wire(&env));
    let stored = env.emu.records(FORM);
    let serial = stored[0].data["serialNumberField_no"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(serial.starts_with("SERIAL"), "{serial}");

    // Get: every kind reads back (names beside ids, JSON text parsed, Yida's serial number).
    let mut rec = forms.get(&id).await.unwrap();
    let mut want = full_read(&env, &serial);
    assert_eq!(rec.value, want);
    // Every kind of the component model is on the form, so every kind was covered.
    let kinds: std::collections::BTreeSet<_> = <DemoRequest as yida_api::typed::YidaRecord>::FIELDS
        .iter()
        .chain(<DemoRequestItemsRow as yida_api::typed::YidaRecord>::FIELDS)
        .filter_map(|f| f.kind)
        .collect();
    assert_eq!(kinds, ComponentKind::all().collect());

    // Each kind on its own: change it, only it goes over the wire, it reads back.
    for c in changes(&env) {
        env.proxy.clear();
        (c.set)(&mut rec);
        (c.set)(&mut want);
        (c.read)(&mut want);
        assert_eq!(forms.update(&mut rec).await.unwrap(), 1, "{}", c.field);
        let updates = sent(&env.proxy, "PUT", INSTANCES);
        assert_eq!(updates.len(), 1, "{}", c.field);
        assert_eq!(updates[0].json()["formInstanceId"], json!(id));
        assert_eq!(
            json_param(&updates[0], "updateFormDataJson"),
            json!({ c.field: c.wire }),
            "{}",
            c.field
        );
        rec = forms.get(&id).await.unwrap();
        assert_eq!(rec.value, want, "{} read back", c.field);
        // Read back and unchanged: nothing to send.
        assert_eq!(forms.update(&mut rec).await.unwrap(), 0, "{}", c.field);
    }

    // The serial number is read-only: changing it sends nothing, and Yida's stays.
    env.proxy.clear();
    rec.number = Some("mine".into());
    assert_eq!(forms.update(&mut rec).await.unwrap(), 0);
    assert!(sent(&env.proxy, "PUT", INSTANCES).is_empty());
    assert_eq!(
        forms.get(&id).await.unwrap().number.as_deref(),
        Some(serial.as_str())
    );
    // A new record with a number set does not send it either.
    let mut numbered = full(&env);
    numbered.number = Some("mine".into());
    env.proxy.clear();
    let id2 = forms.save(&numbered).await.unwrap();
    let body = json_param(&sent(&env.proxy, "POST", INSTANCES)[0], "formDataJson");
    assert!(body.get("serialNumberField_no").is_none(), "{body}");
    let n2 = forms.get(&id2).await.unwrap().number.clone().unwrap();
    assert!(n2.starts_with("SERIAL") && n2 != serial, "{n2}");
}

/// The value of each component in Yida's write format (first save), a second value (update),
/// and what replies carry for each, decoded: JSON text is given as the JSON it holds; keys
/// are the field id and its companions.
struct RawCase {
    field: &'static str,
    write: Value,
    read: Value,
    update: Value,
    read_after: Value,
}

fn raw(
    field: &'static str,
    write: Value,
    read: Value,
    update: Value,
    read_after: Value,
) -> RawCase {
    RawCase {
        field,
        write,
        read,
        update,
        read_after,
    }
}

fn raw_cases(env: &Env) -> Vec<RawCase> {
    let (acme, globex) = (&env.customers[0].0, &env.customers[1].0);
    let file = &env.file;
    let china = json!({"zh_CN": "中国", "en_US": "China", "type": "i18n"});
    let japan = json!({"zh_CN": "日本", "en_US": "Japan", "type": "i18n"});
    let resolved = |id: &str, title: &str, sub: &str| {
        json!([{"appType": "APP_DEMO", "formUuid": CUSTOMERS, "instanceId": id,
                "formType": "receipt", "title": title, "subTitle": sub}])
    };
    vec![
        raw(
            "textField_title",
            json!("Chair"),
            json!({"textField_title": "Chair"}),
            json!("Chair 2"),
            json!({"textField_title": "Chair 2"}),
        ),
        raw(
            "textareaField_notes",
            json!("line 1\nline 2"),
            json!({"textareaField_notes": "line 1\nline 2"}),
            json!("x"),
            json!({"textareaField_notes": "x"}),
        ),
        // Numeric text is taken; replies carry the number and its text in `_value`.
        raw(
            "numberField_amount",
            json!("12.5"),
            json!({"numberField_amount": 12.5, "numberField_amount_value": "12.5"}),
            json!(7),
            json!({"numberField_amount": 7, "numberField_amount_value": "7"}),
        ),
        raw(
            "rateField_priority",
            json!(4),
            json!({"rateField_priority": 4}),
            json!(5),
            json!({"rateField_priority": 5}),
        ),
        raw(
            "radioField_urgency",
            json!("high"),
            json!({"radioField_urgency": "high"}),
            json!("low"),
            json!({"radioField_urgency": "low"}),
        ),
        raw(
            "selectField_kind",
            json!("IT"),
            json!({"selectField_kind": "IT"}),
            json!("HR"),
            json!({"selectField_kind": "HR"}),
        ),
        raw(
            "checkboxField_flags",
            json!(["a", "b"]),
            json!({"checkboxField_flags": ["a", "b"]}),
            json!(["c"]),
            json!({"checkboxField_flags": ["c"]}),
        ),
        raw(
            "multiSelectField_tags",
            json!(["red"]),
            json!({"multiSelectField_tags": ["red"]}),
            json!(["red", "blue"]),
            json!({"multiSelectField_tags": ["red", "blue"]}),
        ),
        raw(
            "cascadeSelectField_category",
            json!(["part", "part_b"]),
            json!({"cascadeSelectField_category": ["part", "part_b"]}),
            json!(["part"]),
            json!({"cascadeSelectField_category": ["part"]}),
        ),
        // Dates: epoch ms (numeric text taken), read as a number.
        raw(
            "dateField_due",
            json!("1516636800000"),
            json!({"dateField_due": 1516636800000i64}),
            json!(1600000000000i64),
            json!({"dateField_due": 1600000000000i64}),
        ),
        raw(
            "cascadeDateField_period",
            json!([1514736000000i64, "1517328000000"]),
            json!({"cascadeDateField_period": ["1514736000000", "1517328000000"]}),
            json!(["1600000000000", "1600086400000"]),
            json!({"cascadeDateField_period": ["1600000000000", "1600086400000"]}),
        ),
        // Members and departments: ids written (one id alone taken), names read, ids in `_id`.
        raw(
            "employeeField_owner",
            json!(["demo-manager"]),
            json!({"employeeField_owner": ["经理"], "employeeField_owner_id": ["demo-manager"]}),
            json!("demo-user"),
            json!({"employeeField_owner": ["演示用户"], "employeeField_owner_id": ["demo-user"]}),
        ),
        raw(
            "departmentSelectField_dept",
            json!(1001),
            json!({"departmentSelectField_dept": ["研发部"], "departmentSelectField_dept_id": ["1001"]}),
            json!(["1002", "1001"]),
            json!({"departmentSelectField_dept": ["市场部", "研发部"], "departmentSelectField_dept_id": ["1002", "1001"]}),
        ),
        // Country: `[{…}]` written, JSON text read with the name.
        raw(
            "countrySelectField_country",
            json!([{"value": "CN"}]),
            json!({"countrySelectField_country": [{"value": "CN", "text": china}]}),
            json!([{"value": "JP"}]),
            json!({"countrySelectField_country": [{"value": "JP", "text": japan}]}),
        ),
        // City: codes written, names read.
        raw(
            "citySelectField_city",
            json!(["110000", "110100", "110101"]),
            json!({"citySelectField_city": ["北京", "北京市", "东城区"]}),
            json!(["110000"]),
            json!({"citySelectField_city": ["北京"]}),
        ),
        // Address: JSON text, region names filled in from the codes.
        raw(
            "addressField_site",
            json!({"address": "人民路 1 号", "regionIds": ["110000", "110100"]}),
            json!({"addressField_site": {"address": "人民路 1 号", "regionIds": ["110000", "110100"],
                "regionText": [{"zh_CN": "北京", "en_US": "Beijing"}, {"zh_CN": "北京市", "en_US": "Beijing City"}]}}),
            json!({"address": "x", "regionIds": ["110000"], "regionText": [{"zh_CN": "京"}]}),
            json!({"addressField_site": {"address": "x", "regionIds": ["110000"], "regionText": [{"zh_CN": "京"}]}}),
        ),
        raw(
            "attachmentField_files",
            json!([{"downloadUrl": file, "name": "a.txt", "previewUrl": file, "url": file, "ext": "txt"}]),
            json!({"attachmentField_files": [{"downloadUrl": file, "name": "a.txt", "previewUrl": file, "url": file, "ext": "txt"}]}),
            json!([{"downloadUrl": file, "name": "b.txt", "url": file, "ext": "txt", "fileUuid": "F1"}]),
            json!({"attachmentField_files": [{"downloadUrl": file, "name": "b.txt", "url": file, "ext": "txt", "fileUuid": "F1"}]}),
        ),
        raw(
            "imageField_photos",
            json!([{"downloadUrl": "https://example.com/a.png", "name": "a.png", "url": "https://example.com/a.png", "size": 3}]),
            json!({"imageField_photos": [{"downloadUrl": "https://example.com/a.png", "name": "a.png", "url": "https://example.com/a.png", "size": 3}]}),
            json!([]),
            json!({"imageField_photos": []}),
        ),
        raw(
            "linkField_ref",
            json!([{"link": "https://example.com", "text": "Example"}]),
            json!({"linkField_ref": [{"link": "https://example.com", "text": "Example"}]}),
            json!([{"link": "https://b.example", "text": "B"}]),
            json!({"linkField_ref": [{"link": "https://b.example", "text": "B"}]}),
        ),
        raw(
            "editorField_body",
            json!("<p>hello</p>"),
            json!({"editorField_body": "<p>hello</p>"}),
            json!("<p>bye</p>"),
            json!({"editorField_body": "<p>bye</p>"}),
        ),
        // Association: `[{…}]` written; the title read under the field id, the reference as
        // JSON text (encoded twice) under `_id`, title and subtitle from the other record.
        raw(
            "associationFormField_customer",
            json!([{"appType": "APP_DEMO", "formUuid": CUSTOMERS, "instanceId": acme}]),
            json!({"associationFormField_customer": "Acme",
                   "associationFormField_customer_id": resolved(acme, "Acme", "Hangzhou")}),
            json!([{"appType": "APP_DEMO", "formUuid": CUSTOMERS, "instanceId": globex, "title": "G"}]),
            json!({"associationFormField_customer": "G",
                   "associationFormField_customer_id": resolved(globex, "G", "Suzhou")}),
        ),
        // Sub-form rows: each child in its own read shape.
        raw(
            "tableField_items",
            json!([{"textField_item": "pen", "numberField_qty": "2", "employeeField_buyer": ["demo-user"],
                    "departmentSelectField_cost": ["1002"]}]),
            json!({"tableField_items": [{"textField_item": "pen", "numberField_qty": 2, "numberField_qty_value": "2",
                   "employeeField_buyer": ["演示用户"], "employeeField_buyer_id": ["demo-user"],
                   "departmentSelectField_cost": ["市场部"], "departmentSelectField_cost_id": ["1002"]}]}),
            json!([{"textField_item": "a"}, {"textField_item": "b", "employeeField_buyer": "demo-manager"}]),
            json!({"tableField_items": [{"textField_item": "a"},
                   {"textField_item": "b", "employeeField_buyer": ["经理"], "employeeField_buyer_id": ["demo-manager"]}]}),
        ),
        raw(
            "digitalSignatureField_sign",
            json!("https://example.com/sign.png"),
            json!({"digitalSignatureField_sign": "https://example.com/sign.png"}),
            json!("https://example.com/s2.png"),
            json!({"digitalSignatureField_sign": "https://example.com/s2.png"}),
        ),
        raw(
            "locationField_place",
            json!({"address": "上海市", "latitude": 31.2, "longitude": 121.4, "name": "人民广场"}),
            json!({"locationField_place": {"address": "上海市", "latitude": 31.2, "longitude": 121.4, "name": "人民广场"}}),
            json!({"address": "杭州", "latitude": 30.25, "longitude": 120.15, "name": "西湖"}),
            json!({"locationField_place": {"address": "杭州", "latitude": 30.25, "longitude": 120.15, "name": "西湖"}}),
        ),
    ]
}

/// Decodes a reply value the way the component model says it is carried: JSON text (a
/// string holding JSON; an association's `_id` companion holds it encoded twice) becomes the
/// JSON it holds. Panics when a value the model carries as JSON text is not a string.
fn decoded(key: &str, v: &Value) -> Value {
    fn text(key: &str, v: &Value) -> Value {
        let s = v
            .as_str()
            .unwrap_or_else(|| panic!("{key}: JSON text expected, got {v}"));
        serde_json::from_str(s).unwrap_or_else(|e| panic!("{key}: {e} in {s}"))
    }
    if let Some((_, kind)) = ComponentKind::twin_of(key) {
        let twin = kind.info().read.twin.unwrap();
        if !twin.json_text {
            return v.clone();
        }
        let once = text(key, v);
        // Text encoded twice (the data-format guide's association `_id`).
        return match once {
            Value::String(_) => text(key, &once),
            other => other,
        };
    }
    match ComponentKind::from_field_id(key) {
        Some(k) if k.info().read.json_text => text(key, v),
        _ => v.clone(),
    }
}

/// A reply's form data, every value decoded (sub-form rows included).
fn decoded_form(data: &Map<String, Value>) -> Map<String, Value> {
    data.iter()
        .map(|(k, v)| (k.clone(), decoded(k, v)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_round_trips_by_the_raw_json_path() {
    let env = env().await;
    let c = &env.client;
    let cases = raw_cases(&env);
    let mut write = Map::new();
    let mut want = Map::new();
    for case in &cases {
        write.insert(case.field.into(), case.write.clone());
        want.extend(case.read.as_object().unwrap().clone());
    }
    // A serial number written is dropped: Yida sets its own.
    write.insert("serialNumberField_no".into(), json!("mine"));
    let write = Value::Object(write);

    let id = c
        .send(SaveFormDataV2Request::new(FORM, &write))
        .await
        .unwrap()
        .result
        .unwrap();
    let saves = sent(&env.proxy, "POST", INSTANCES);
    assert_eq!(json_param(&saves[0], "formDataJson"), write);

    let read = |id: String| async move {
        let data = c
            .send(GetFormDataByIdV2Request::new(&id).form_uuid(FORM))
            .await
            .unwrap()
            .form_data
            .unwrap();
        let v = data.to_value().unwrap();
        // The derive path reads the same reply (companions joined, JSON text parsed).
        let typed: DemoRequest = data.decode().unwrap();
        assert!(
            typed.extra.is_empty(),
            "keys no field took: {:?}",
            typed.extra
        );
        let Value::Object(m) = v else {
            panic!("formData is not an object")
        };
        m
    };
    let got = read(id.clone()).await;
    let serial = got["serialNumberField_no"].as_str().unwrap().to_string();
    assert!(serial.starts_with("SERIAL") && serial != "mine", "{serial}");
    want.insert("serialNumberField_no".into(), json!(serial));
    assert_eq!(decoded_form(&got), want);

    for case in &cases {
        env.proxy.clear();
        c.send(UpdateFormDataV2Request::new(
            &id,
            json!({ case.field: case.update }),
        ))
        .await
        .unwrap();
        let updates = sent(&env.proxy, "PUT", INSTANCES);
        assert_eq!(
            json_param(&updates[0], "updateFormDataJson"),
            json!({ case.field: case.update }),
            "{}",
            case.field
        );
        // The field's keys (its companions too) are replaced; the rest stays.
        want.retain(|k, _| k != case.field && !k.starts_with(&format!("{}_", case.field)));
        want.extend(case.read_after.as_object().unwrap().clone());
        assert_eq!(
            decoded_form(&read(id.clone()).await),
            want,
            "{}",
            case.field
        );
    }
    // An update cannot overwrite the serial number either.
    c.send(UpdateFormDataV2Request::new(
        &id,
        json!({"serialNumberField_no": "other"}),
    ))
    .await
    .unwrap();
    assert_eq!(
        read(id.clone()).await["serialNumberField_no"],
        json!(serial)
    );
}

/// Typed search per kind, where the builder has a method for it: the conditions go over the
/// wire as `searchFieldJson` in Yida's search format, and the emulator finds the records.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_search_per_kind() {
    let env = env().await;
    let forms = env.client.typed::<DemoRequest>();
    let a = full(&env);
    let b = DemoRequest {
        title: Some("Desk".into()),
        amount: Some(300.0),
        due_date: Some(DateMs(1_800_000_000_000)),
        kind: Some("Office".into()),
        tags: vec!["office".into()],
        owner: Members::from(["demo-user"]),
        items: vec![row("chair", 1.0, "demo-user", "1002")].into(),
        notes: Some("single".into()),
        priority: Some(1.0),
        urgency: Some("low".into()),
        flags: vec!["c".into()],
        category: vec!["furniture".into(), "desk".into()],
        period: Some(DateRange {
            start: DateMs(1_600_000_000_000),
            end: DateMs(1_600_086_400_000),
        }),
        department: Departments::from(["1002"]),
        city: City::from_codes(["110000", "110100"]),
        body: Some("<p>bye</p>".into()),
        ..full(&env)
    };
    forms.save(&a).await.unwrap();
    let id_b = forms.save(&b).await.unwrap();
    let serial_b = forms.get(&id_b).await.unwrap().number.clone().unwrap();

    let s = DemoRequestSearch::new;
    let day = 86_400_000;
    let cases: Vec<(DemoRequestSearch, Value, Vec<&str>)> = vec![
        (
            s().title_contains("Lap"),
            json!({"textField_title": "Lap"}),
            vec!["Laptop"],
        ),
        (
            s().notes_contains("line 2"),
            json!({"textareaField_notes": "line 2"}),
            vec!["Laptop"],
        ),
        (
            s().body_contains("bye"),
            json!({"editorField_body": "bye"}),
            vec!["Desk"],
        ),
        (
            s().items_contains("chai"),
            json!({"tableField_items": "chai"}),
            vec!["Desk"],
        ),
        (
            s().amount_between(0.0, 500.0),
            json!({"numberField_amount": ["0", "500"]}),
            vec!["Desk"],
        ),
        (
            s().amount_eq(1200.5),
            json!({"numberField_amount": ["1200.5", "1200.5"]}),
            vec!["Laptop"],
        ),
        (
            s().priority_between(3.0, 5.0),
            json!({"rateField_priority": ["3", "5"]}),
            vec!["Laptop"],
        ),
        (
            s().due_date_between(
                DateMs(1_700_000_000_000 - day),
                DateMs(1_700_000_000_000 + day),
            ),
            json!({"dateField_due": [1_700_000_000_000i64 - day, 1_700_000_000_000i64 + day]}),
            vec!["Laptop"],
        ),
        (
            s().period_within(DateMs(1_599_000_000_000), DateMs(1_601_000_000_000)),
            json!({"cascadeDateField_period": [[1_599_000_000_000i64, 1_601_000_000_000i64], [1_599_000_000_000i64, 1_601_000_000_000i64]]}),
            vec!["Desk"],
        ),
        (
            s().kind_eq("IT"),
            json!({"selectField_kind": "IT"}),
            vec!["Laptop"],
        ),
        (
            s().urgency_eq("low"),
            json!({"radioField_urgency": "low"}),
            vec!["Desk"],
        ),
        (
            s().tags_any_of(["hw", "none"]),
            json!({"multiSelectField_tags": ["hw", "none"]}),
            vec!["Laptop"],
        ),
        (
            s().flags_any_of(["b", "c"]),
            json!({"checkboxField_flags": ["b", "c"]}),
            vec!["Desk", "Laptop"],
        ),
        (
            s().category_eq(["furniture", "desk"]),
            json!({"cascadeSelectField_category": ["furniture", "desk"]}),
            vec!["Desk"],
        ),
        (
            s().owner_any_of(["demo-user"]),
            json!({"employeeField_owner": ["demo-user"]}),
            vec!["Desk", "Laptop"],
        ),
        (
            s().owner_any_of(["demo-manager"]),
            json!({"employeeField_owner": ["demo-manager"]}),
            vec!["Laptop"],
        ),
        (
            s().department_any_of(["1002"]),
            json!({"departmentSelectField_dept": ["1002"]}),
            vec!["Desk"],
        ),
        (
            s().city_eq(["110000", "110100", "110101"]),
            json!({"citySelectField_city": ["110000", "110100", "110101"]}),
            vec!["Laptop"],
        ),
        (
            s().number_eq(serial_b.clone()),
            json!({"serialNumberField_no": serial_b}),
            vec!["Desk"],
        ),
        (
            s().owner_any_of(["demo-user"])
                .amount_between(1000.0, 2000.0),
            json!({"employeeField_owner": ["demo-user"], "numberField_amount": ["1000", "2000"]}),
            vec!["Laptop"],
        ),
    ];
    for (search, wire, titles) in cases {
        env.proxy.clear();
        let found = forms.search(search).await.unwrap();
        let mut got: Vec<String> = found.iter().map(|r| r.title.clone().unwrap()).collect();
        got.sort();
        assert_eq!(got, titles, "{wire}");
        let searches = sent(&env.proxy, "POST", "/v2.0/yida/forms/instances/search");
        assert_eq!(searches.len(), 1, "{wire}");
        assert_eq!(json_param(&searches[0], "searchFieldJson"), wire);
        // Records found are whole: the same as a get.
        for r in &found {
            assert_eq!(r.value, forms.get(&r.instance_id).await.unwrap().value);
        }
    }
}

/// A record with 120 sub-form rows: the reply carries 50, the typed get fetches the rest
/// through ListTableDataByFormInstanceIdTableId (pages of 100) and returns all 120 in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_get_returns_every_sub_form_row_past_50() {
    let env = env().await;
    let forms = env.client.typed::<DemoRequest>();
    let mut rec = full(&env);
    rec.items = (0..120)
        .map(|i| {
            row(
                &format!("row {i}"),
                i as f64,
                ["demo-user", "demo-manager"][i % 2],
                ["1001", "1002"][i % 2],
            )
        })
        .collect::<Vec<_>>()
        .into();
    let id = forms.save(&rec).await.unwrap();
    let stored = env.emu.records(FORM);
    assert_eq!(
        stored[0].data["tableField_items"].as_array().unwrap().len(),
        120
    );

    env.proxy.clear();
    let got = forms.get(&id).await.unwrap();
    assert_eq!(got.items.len(), 120);
    for (i, r) in got.items.rows().iter().enumerate() {
        assert_eq!(r.item.as_deref(), Some(format!("row {i}").as_str()));
        assert_eq!(r.quantity, Some(i as f64));
        let (user, name) = [("demo-user", "演示用户"), ("demo-manager", "经理")][i % 2];
        assert_eq!(r.buyer, members(&[(user, name)]), "row {i}");
    }
    // Over the wire: one GetFormDataByID (cut at 50), then the rows page by page.
    let reqs = env.proxy.requests();
    let gets: Vec<_> = reqs
        .iter()
        .filter(|r| r.method == "GET" && r.path == format!("{INSTANCES}/{id}"))
        .collect();
    assert_eq!(gets.len(), 1);
    let pages: Vec<_> = reqs
        .iter()
        .filter(|r| r.path == format!("/v1.0/yida/forms/innerTables/{id}"))
        .collect();
    let numbers: Vec<(String, String, String)> = pages
        .iter()
        .map(|r| {
            (
                r.query_param("tableFieldId").unwrap(),
                r.query_param("pageNumber").unwrap(),
                r.query_param("pageSize").unwrap(),
            )
        })
        .collect();
    // Pages of 100 (the most a page takes, as DingTalk's own example asks): 2 calls.
    let want: Vec<(String, String, String)> = (1..=2)
        .map(|n| ("tableField_items".into(), n.to_string(), "100".into()))
        .collect();
    assert_eq!(numbers, want, "{} paging calls", pages.len());

    // A change to one row sends all 120 rows, as ids.
    let mut got = got;
    got.items.0[119].quantity = Some(1000.0);
    env.proxy.clear();
    assert_eq!(forms.update(&mut got).await.unwrap(), 1);
    let sent_rows = json_param(&sent(&env.proxy, "PUT", INSTANCES)[0], "updateFormDataJson");
    let rows = sent_rows["tableField_items"].as_array().unwrap();
    assert_eq!(rows.len(), 120);
    assert_eq!(rows[119]["numberField_qty"], json!(1000.0));
    assert_eq!(rows[1]["employeeField_buyer"], json!(["demo-manager"]));

    // The typed search completes the rows too.
    env.proxy.clear();
    let found = forms
        .search(DemoRequestSearch::new().title_contains("Laptop"))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].items.len(), 120);
    assert_eq!(found[0].items.0[119].quantity, Some(1000.0));
    assert_eq!(
        env.proxy
            .requests_to(&format!("/v1.0/yida/forms/innerTables/{id}"))
            .len(),
        2
    );
}
