//! `#[derive(YidaForm)]` on a record with one field of every component kind: every kind reads
//! Yida's reply shape (the table's read example) and writes its write shape.

use serde_json::{json, Value};
use yida_api::components::{ComponentKind, COMPONENTS};
use yida_api::form_values::*;
use yida_api::typed::{Fetched, YidaRecord};
use yida_api::YidaForm;

#[derive(YidaForm, Debug, Clone, PartialEq)]
struct Row {
    #[yida(id = "textField_item")]
    item: Option<String>,
    #[yida(id = "employeeField_who")]
    who: Members,
    #[yida(id = "departmentSelectField_dept")]
    dept: Departments,
}

#[derive(YidaForm, Debug, Clone, PartialEq)]
#[yida(form = "FORM-ALL")]
struct All {
    #[yida(id = "textField_a")]
    text: Option<String>,
    #[yida(id = "textareaField_a")]
    textarea: Option<String>,
    #[yida(id = "numberField_a")]
    number: Option<f64>,
    #[yida(id = "rateField_a")]
    rate: Option<f64>,
    #[yida(id = "radioField_a")]
    radio: Option<String>,
    #[yida(id = "selectField_a")]
    select: Option<String>,
    #[yida(id = "checkboxField_a")]
    checkbox: Vec<String>,
    #[yida(id = "multiSelectField_a")]
    multi: Vec<String>,
    #[yida(id = "cascadeSelectField_a")]
    cascade: Vec<String>,
    #[yida(id = "dateField_a")]
    date: Option<DateMs>,
    #[yida(id = "cascadeDateField_a")]
    range: Option<DateRange>,
    #[yida(id = "employeeField_a")]
    members: Members,
    #[yida(id = "departmentSelectField_a")]
    departments: Departments,
    #[yida(id = "countrySelectField_a")]
    countries: Countries,
    #[yida(id = "citySelectField_a")]
    city: City,
    #[yida(id = "addressField_a")]
    address: Option<Address>,
    #[yida(id = "attachmentField_a")]
    attachments: Attachments,
    #[yida(id = "imageField_a")]
    images: Images,
    #[yida(id = "linkField_a")]
    links: Links,
    #[yida(id = "editorField_a")]
    editor: Option<String>,
    #[yida(id = "associationFormField_a")]
    refs: AssociationRefs,
    #[yida(id = "tableField_a")]
    rows: Table<Row>,
    #[yida(id = "serialNumberField_a")]
    serial: Option<String>,
    #[yida(id = "digitalSignatureField_a")]
    signature: Option<String>,
    #[yida(id = "locationField_a")]
    location: Option<Location>,
    #[yida(extra)]
    extra: serde_json::Map<String, Value>,
}

fn field_id(kind: ComponentKind) -> String {
    All::FIELDS
        .iter()
        .find(|f| f.kind == Some(kind))
        .unwrap_or_else(|| panic!("no field of kind {kind}"))
        .id
        .to_string()
}

#[test]
fn every_kind_has_a_field_and_the_derive_agrees_with_the_table() {
    for c in COMPONENTS {
        let id = field_id(c.kind);
        assert_eq!(ComponentKind::from_field_id(&id), Some(c.kind));
        let meta = All::FIELDS.iter().find(|f| f.id == id).unwrap();
        assert_eq!(meta.read_only, c.read_only, "{id}");
    }
    assert_eq!(All::FIELDS.len(), COMPONENTS.len());
}

/// A reply built from the table's read examples; the row's employee field also has its twin.
fn reply() -> Value {
    let mut m = serde_json::Map::new();
    for c in COMPONENTS {
        let id = field_id(c.kind);
        let example: Value = serde_json::from_str(c.read.example).unwrap();
        for (k, v) in example.as_object().unwrap() {
            m.insert(k.replacen('F', &id, 1), v.clone());
        }
    }
    m.insert(
        field_id(ComponentKind::TableField),
        json!([{"textField_item": "pen", "employeeField_who": ["张三"], "employeeField_who_id": ["u9"],
                "departmentSelectField_dept": "研发部", "departmentSelectField_dept_id": ["42"]}]),
    );
    m.insert("textField_unknown".into(), json!("kept"));
    Value::Object(m)
}

#[test]
fn every_kind_reads_the_reply_shape_and_writes_the_write_shape() {
    let all: All = serde_json::from_value(reply()).unwrap();
    assert_eq!(all.members.ids().collect::<Vec<_>>(), ["user1"]);
    assert_eq!(all.members.names().collect::<Vec<_>>(), ["经理"]);
    assert_eq!(all.departments.ids().collect::<Vec<_>>(), ["1123456"]);
    assert_eq!(all.refs.get().unwrap()[0].instance_id, "FINST-X");
    assert_eq!(all.rows.0[0].who.ids().collect::<Vec<_>>(), ["u9"]);
    assert_eq!(all.rows.0[0].dept.ids().collect::<Vec<_>>(), ["42"]);
    assert_eq!(all.serial.as_deref(), Some("20240101-0001"));
    assert_eq!(all.extra["textField_unknown"], "kept");
    assert!(!all.extra.contains_key("employeeField_a_id"));
    assert!(!all.extra.contains_key("numberField_a_value"));
    assert_eq!(all.city.names, ["北京", "北京市", "东城区"]);

    let written: Vec<(&str, Result<Value, String>)> = all.write_fields();
    let get = |k: ComponentKind| {
        let id = field_id(k);
        written
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, v)| v.clone())
    };
    for c in COMPONENTS {
        match c.kind {
            // Never written.
            ComponentKind::SerialNumberField => assert!(get(c.kind).is_none()),
            // Read as names: cannot be written until given codes.
            ComponentKind::CityField => assert!(get(c.kind).unwrap().is_err()),
            ComponentKind::TableField => assert_eq!(
                get(c.kind).unwrap().unwrap(),
                json!([{"textField_item": "pen", "employeeField_who": ["u9"], "departmentSelectField_dept": ["42"]}])
            ),
            kind => {
                let w = get(kind).unwrap().unwrap_or_else(|e| panic!("{kind}: {e}"));
                kind.check_write(&w)
                    .unwrap_or_else(|e| panic!("{kind}: {e}: {w}"));
            }
        }
    }
    // Members written as ids, never the names read.
    assert_eq!(
        get(ComponentKind::EmployeeField).unwrap().unwrap(),
        json!(["user1"])
    );
    // Read -> write -> read is the same value (the city given codes first).
    let mut all = all;
    all.city = City::from_codes(["110000", "110100", "110101"]);
    let text = serde_json::to_string(&all).unwrap();
    let mut again: All = serde_json::from_str(&text).unwrap();
    assert_eq!(again.serial, None);
    again.serial = all.serial.clone();
    again.extra = all.extra.clone();
    // Names are not in the write shape; everything else is equal.
    let strip = |mut a: All| {
        a.members = a.members.ids().collect();
        a.departments = a.departments.ids().collect();
        for r in &mut a.rows.0 {
            r.who = r.who.ids().collect();
            r.dept = r.dept.ids().collect();
        }
        for c in a.countries.get_mut().unwrap() {
            c.text = None;
        }
        a
    };
    assert_eq!(strip(again), strip(all));
}

#[test]
fn update_sends_only_what_changed() {
    let all: All = serde_json::from_value(reply()).unwrap();
    let mut rec = Fetched::new("FINST-1", all);
    assert!(rec.changes().unwrap().is_empty(), "nothing changed");
    rec.text = Some("new".into());
    rec.members = Members::from(["u2"]);
    let changes = rec.changes().unwrap();
    assert_eq!(
        Value::Object(changes),
        json!({"textField_a": "new", "employeeField_a": ["u2"]})
    );
}

#[test]
fn bad_values_name_the_field() {
    let e = serde_json::from_value::<All>(json!({"dateField_a": "2024-01-30"})).unwrap_err();
    assert!(e.to_string().contains("field `date` (dateField_a)"), "{e}");
    #[derive(YidaForm, Debug)]
    struct Required {
        #[yida(id = "textField_r")]
        r: String,
    }
    let e = serde_json::from_value::<Required>(json!({})).unwrap_err();
    assert!(
        e.to_string().contains("missing field `r` (textField_r)"),
        "{e}"
    );
}

/// The `_id` companion joins its field in either order, in place or after the record is read.
#[test]
fn companions_join_in_either_order() {
    #[derive(YidaForm, Debug, PartialEq)]
    struct R {
        #[yida(id = "employeeField_a")]
        a: Members,
        #[yida(id = "employeeField_b")]
        b: Option<Members>,
        #[yida(id = "departmentSelectField_c")]
        c: Departments,
        #[yida(id = "associationFormField_d")]
        d: AssociationRefs,
    }
    let refs = r#"[{"appType":"A","formUuid":"F","instanceId":"I"}]"#;
    for text in [
        // Names first (the in-place path), then companions first (merged after the loop).
        format!(
            r#"{{"employeeField_a":["甲","乙"],"employeeField_a_id":["u1","u2"],"employeeField_b":["丙"],"employeeField_b_id":"[\"u3\"]","departmentSelectField_c":"研发部","departmentSelectField_c_id":[42],"associationFormField_d":"Acme","associationFormField_d_id":{}}}"#,
            serde_json::to_string(refs).unwrap()
        ),
        format!(
            r#"{{"employeeField_a_id":["u1","u2"],"employeeField_a":["甲","乙"],"employeeField_b_id":["u3"],"employeeField_b":["丙"],"departmentSelectField_c_id":"[\"42\"]","departmentSelectField_c":"研发部","associationFormField_d_id":{},"associationFormField_d":"Acme"}}"#,
            serde_json::to_string(refs).unwrap()
        ),
    ] {
        let r: R = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(
            r.a.0,
            vec![
                Member {
                    id: "u1".into(),
                    name: Some("甲".into())
                },
                Member {
                    id: "u2".into(),
                    name: Some("乙".into())
                },
            ],
            "{text}"
        );
        assert_eq!(r.b.as_ref().unwrap().ids().collect::<Vec<_>>(), ["u3"]);
        assert_eq!(r.b.as_ref().unwrap().names().collect::<Vec<_>>(), ["丙"]);
        assert_eq!(
            r.c.0,
            vec![Department {
                id: "42".into(),
                name: Some("研发部".into())
            }]
        );
        assert_eq!(r.d.get().unwrap()[0].instance_id, "I", "{text}");
    }
    // Fewer ids than names: the ids decide; more: the extra ids have no name.
    let r: R = serde_json::from_str(
        r#"{"employeeField_a":["甲","乙"],"employeeField_a_id":["u1"],"departmentSelectField_c":"研发部","departmentSelectField_c_id":["1","2"]}"#,
    )
    .unwrap();
    assert_eq!(r.a.ids().collect::<Vec<_>>(), ["u1"]);
    assert_eq!(
        r.c.0[1],
        Department {
            id: "2".into(),
            name: None
        }
    );
    // A companion that is not a list of ids names the field.
    let e =
        serde_json::from_str::<R>(r#"{"employeeField_a":["甲"],"employeeField_a_id":[{"x":1}]}"#)
            .unwrap_err();
    assert!(e.to_string().contains("field `a` (employeeField_a)"), "{e}");
}
