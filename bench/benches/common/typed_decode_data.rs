//! The page `benches/typed_decode.rs` decodes (shared with `examples/decode_allocs.rs`): a
//! 40-component form's record type and 100 records of its data in Yida's reply shapes.

use serde_json::{json, Value};
use yida_api::form_values::*;
use yida_api::YidaForm;

#[derive(YidaForm)]
#[allow(dead_code)]
pub struct Row {
    #[yida(id = "textField_item")]
    pub item: Option<String>,
    #[yida(id = "numberField_qty")]
    pub qty: Option<f64>,
    #[yida(id = "employeeField_by")]
    pub by: Members,
}

#[derive(YidaForm)]
#[yida(form = "FORM-BENCH")]
#[allow(dead_code)]
pub struct Record {
    #[yida(id = "textField_f0")]
    pub f0: Option<String>,
    #[yida(id = "textField_f1")]
    pub f1: Option<String>,
    #[yida(id = "textField_f2")]
    pub f2: Option<String>,
    #[yida(id = "textField_f3")]
    pub f3: Option<String>,
    #[yida(id = "textField_f4")]
    pub f4: Option<String>,
    #[yida(id = "textField_f5")]
    pub f5: Option<String>,
    #[yida(id = "textField_f6")]
    pub f6: Option<String>,
    #[yida(id = "textField_f7")]
    pub f7: Option<String>,
    #[yida(id = "textField_f8")]
    pub f8: Option<String>,
    #[yida(id = "textField_f9")]
    pub f9: Option<String>,
    #[yida(id = "textField_f10")]
    pub f10: Option<String>,
    #[yida(id = "textField_f11")]
    pub f11: Option<String>,
    #[yida(id = "textareaField_f12")]
    pub f12: Option<String>,
    #[yida(id = "numberField_f13")]
    pub f13: Option<f64>,
    #[yida(id = "numberField_f14")]
    pub f14: Option<f64>,
    #[yida(id = "numberField_f15")]
    pub f15: Option<f64>,
    #[yida(id = "numberField_f16")]
    pub f16: Option<f64>,
    #[yida(id = "numberField_f17")]
    pub f17: Option<f64>,
    #[yida(id = "numberField_f18")]
    pub f18: Option<f64>,
    #[yida(id = "rateField_f19")]
    pub f19: Option<f64>,
    #[yida(id = "dateField_f20")]
    pub f20: Option<DateMs>,
    #[yida(id = "dateField_f21")]
    pub f21: Option<DateMs>,
    #[yida(id = "dateField_f22")]
    pub f22: Option<DateMs>,
    #[yida(id = "cascadeDateField_f23")]
    pub f23: Option<DateRange>,
    #[yida(id = "selectField_f24")]
    pub f24: Option<String>,
    #[yida(id = "selectField_f25")]
    pub f25: Option<String>,
    #[yida(id = "selectField_f26")]
    pub f26: Option<String>,
    #[yida(id = "multiSelectField_f27")]
    pub f27: Vec<String>,
    #[yida(id = "multiSelectField_f28")]
    pub f28: Vec<String>,
    #[yida(id = "employeeField_f29")]
    pub f29: Members,
    #[yida(id = "employeeField_f30")]
    pub f30: Members,
    #[yida(id = "employeeField_f31")]
    pub f31: Members,
    #[yida(id = "departmentSelectField_f32")]
    pub f32: Departments,
    #[yida(id = "departmentSelectField_f33")]
    pub f33: Departments,
    #[yida(id = "citySelectField_f34")]
    pub f34: City,
    #[yida(id = "attachmentField_f35")]
    pub f35: Attachments,
    #[yida(id = "addressField_f36")]
    pub f36: Option<Address>,
    #[yida(id = "associationFormField_f37")]
    pub f37: AssociationRefs,
    #[yida(id = "serialNumberField_f38")]
    pub f38: Option<String>,
    #[yida(id = "tableField_f39")]
    pub f39: Table<Row>,
}

/// One record's `formData` in Yida's reply shapes (twins, JSON text).
pub fn form_data(n: usize) -> Value {
    let fields: &[(&str, &str)] = &[
        ("textField_f0", "text"),
        ("textField_f1", "text"),
        ("textField_f2", "text"),
        ("textField_f3", "text"),
        ("textField_f4", "text"),
        ("textField_f5", "text"),
        ("textField_f6", "text"),
        ("textField_f7", "text"),
        ("textField_f8", "text"),
        ("textField_f9", "text"),
        ("textField_f10", "text"),
        ("textField_f11", "text"),
        ("textareaField_f12", "multi"),
        ("numberField_f13", "num"),
        ("numberField_f14", "num"),
        ("numberField_f15", "num"),
        ("numberField_f16", "num"),
        ("numberField_f17", "num"),
        ("numberField_f18", "num"),
        ("rateField_f19", "rate"),
        ("dateField_f20", "date"),
        ("dateField_f21", "date"),
        ("dateField_f22", "date"),
        ("cascadeDateField_f23", "range"),
        ("selectField_f24", "select"),
        ("selectField_f25", "select"),
        ("selectField_f26", "select"),
        ("multiSelectField_f27", "multi_select"),
        ("multiSelectField_f28", "multi_select"),
        ("employeeField_f29", "member"),
        ("employeeField_f30", "member"),
        ("employeeField_f31", "member"),
        ("departmentSelectField_f32", "dept"),
        ("departmentSelectField_f33", "dept"),
        ("citySelectField_f34", "city"),
        ("attachmentField_f35", "attach"),
        ("addressField_f36", "address"),
        ("associationFormField_f37", "assoc"),
        ("serialNumberField_f38", "serial"),
        ("tableField_f39", "table"),
    ];
    let mut m = serde_json::Map::new();
    for (id, what) in fields {
        let id = id.to_string();
        match *what {
            "text" => {
                let v = json!(format!("record {n} text value for {id}"));
                m.insert(id, v);
            }
            "multi" => {
                m.insert(id, json!("line one\nline two\nline three"));
            }
            "num" => {
                m.insert(id.clone(), json!(n as f64 * 1.5));
                m.insert(format!("{id}_value"), json!(format!("{}", n as f64 * 1.5)));
            }
            "rate" => {
                m.insert(id, json!(4));
            }
            "date" => {
                m.insert(id, json!(1_700_000_000_000i64 + n as i64));
            }
            "range" => {
                m.insert(id, json!(["1514736000000", "1517328000000"]));
            }
            "select" => {
                m.insert(id, json!("选项一"));
            }
            "multi_select" => {
                m.insert(id, json!(["选项一", "选项二"]));
            }
            "member" => {
                m.insert(id.clone(), json!(["经理", "演示用户"]));
                m.insert(format!("{id}_id"), json!(["manager123", "user456"]));
            }
            "dept" => {
                m.insert(id.clone(), json!("研发部"));
                m.insert(format!("{id}_id"), json!(["1123456"]));
            }
            "city" => {
                m.insert(id, json!(["北京", "北京市", "东城区"]));
            }
            "attach" => {
                m.insert(id, json!(r#"[{"downloadUrl":"https://example.com/f/a.txt","name":"a.txt","previewUrl":"https://example.com/p/a.txt","url":"https://example.com/f/a.txt","ext":"txt"}]"#));
            }
            "address" => {
                m.insert(id, json!(r#"{"address":"人民路 1 号","regionIds":["500000","500100"],"regionText":[{"zh_CN":"重庆","en_US":"chong qing"}]}"#));
            }
            "assoc" => {
                m.insert(id.clone(), json!("Acme"));
                m.insert(format!("{id}_id"), json!(r#"[{"appType":"APP_X","formUuid":"FORM-X","instanceId":"FINST-X","formType":"receipt","title":"Acme","subTitle":""}]"#));
            }
            "serial" => {
                m.insert(id, json!(format!("SERIAL{n:06}")));
            }
            "table" => {
                m.insert(id, json!((0..3).map(|r| json!({"textField_item": format!("row {r}"), "numberField_qty": r, "employeeField_by": ["经理"], "employeeField_by_id": ["manager123"]})).collect::<Vec<_>>()));
            }
            other => unreachable!("{other}"),
        }
    }
    Value::Object(m)
}

pub fn page() -> String {
    serde_json::to_string(&(0..100).map(form_data).collect::<Vec<_>>()).unwrap()
}
