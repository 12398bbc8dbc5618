//! Decoding a page of 100 records of a 40-component form: into a `#[derive(YidaForm)]` type
//! vs into `serde_json::Value` (issue 21's target: typed at least 2x faster). Prints the
//! bytes per record and, after criterion's figures, the ratio of one side-by-side run.

use criterion::{criterion_group, Criterion};
use serde_json::{json, Value};
use std::hint::black_box;
use std::time::Instant;
use yida_api::form_values::*;
use yida_api::YidaForm;

#[derive(YidaForm)]
#[allow(dead_code)]
struct Row {
    #[yida(id = "textField_item")]
    item: Option<String>,
    #[yida(id = "numberField_qty")]
    qty: Option<f64>,
    #[yida(id = "employeeField_by")]
    by: Members,
}

#[derive(YidaForm)]
#[yida(form = "FORM-BENCH")]
#[allow(dead_code)]
struct Record {
    #[yida(id = "textField_f0")]
    f0: Option<String>,
    #[yida(id = "textField_f1")]
    f1: Option<String>,
    #[yida(id = "textField_f2")]
    f2: Option<String>,
    #[yida(id = "textField_f3")]
    f3: Option<String>,
    #[yida(id = "textField_f4")]
    f4: Option<String>,
    #[yida(id = "textField_f5")]
    f5: Option<String>,
    #[yida(id = "textField_f6")]
    f6: Option<String>,
    #[yida(id = "textField_f7")]
    f7: Option<String>,
    #[yida(id = "textField_f8")]
    f8: Option<String>,
    #[yida(id = "textField_f9")]
    f9: Option<String>,
    #[yida(id = "textField_f10")]
    f10: Option<String>,
    #[yida(id = "textField_f11")]
    f11: Option<String>,
    #[yida(id = "textareaField_f12")]
    f12: Option<String>,
    #[yida(id = "numberField_f13")]
    f13: Option<f64>,
    #[yida(id = "numberField_f14")]
    f14: Option<f64>,
    #[yida(id = "numberField_f15")]
    f15: Option<f64>,
    #[yida(id = "numberField_f16")]
    f16: Option<f64>,
    #[yida(id = "numberField_f17")]
    f17: Option<f64>,
    #[yida(id = "numberField_f18")]
    f18: Option<f64>,
    #[yida(id = "rateField_f19")]
    f19: Option<f64>,
    #[yida(id = "dateField_f20")]
    f20: Option<DateMs>,
    #[yida(id = "dateField_f21")]
    f21: Option<DateMs>,
    #[yida(id = "dateField_f22")]
    f22: Option<DateMs>,
    #[yida(id = "cascadeDateField_f23")]
    f23: Option<DateRange>,
    #[yida(id = "selectField_f24")]
    f24: Option<String>,
    #[yida(id = "selectField_f25")]
    f25: Option<String>,
    #[yida(id = "selectField_f26")]
    f26: Option<String>,
    #[yida(id = "multiSelectField_f27")]
    f27: Vec<String>,
    #[yida(id = "multiSelectField_f28")]
    f28: Vec<String>,
    #[yida(id = "employeeField_f29")]
    f29: Members,
    #[yida(id = "employeeField_f30")]
    f30: Members,
    #[yida(id = "employeeField_f31")]
    f31: Members,
    #[yida(id = "departmentSelectField_f32")]
    f32: Departments,
    #[yida(id = "departmentSelectField_f33")]
    f33: Departments,
    #[yida(id = "citySelectField_f34")]
    f34: City,
    #[yida(id = "attachmentField_f35")]
    f35: Attachments,
    #[yida(id = "addressField_f36")]
    f36: Option<Address>,
    #[yida(id = "associationFormField_f37")]
    f37: AssociationRefs,
    #[yida(id = "serialNumberField_f38")]
    f38: Option<String>,
    #[yida(id = "tableField_f39")]
    f39: Table<Row>,
}

/// One record's `formData` in Yida's reply shapes (twins, JSON text).
fn form_data(n: usize) -> Value {
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

fn page() -> String {
    serde_json::to_string(&(0..100).map(form_data).collect::<Vec<_>>()).unwrap()
}

fn bench(c: &mut Criterion) {
    let text = page();
    // Check once that the typed decode reads everything (members joined with their ids).
    let typed: Vec<Record> = serde_json::from_str(&text).unwrap();
    assert_eq!(typed.len(), 100);
    assert_eq!(
        typed[0].f29.ids().collect::<Vec<_>>(),
        ["manager123", "user456"]
    );
    println!(
        "page of 100 records, 40 components: {} bytes, {} bytes per record",
        text.len(),
        text.len() / 100
    );
    let mut g = c.benchmark_group("typed_decode");
    g.bench_function("derived", |b| {
        b.iter(|| black_box(serde_json::from_str::<Vec<Record>>(black_box(&text)).unwrap()))
    });
    g.bench_function("serde_json_value", |b| {
        b.iter(|| black_box(serde_json::from_str::<Value>(black_box(&text)).unwrap()))
    });
    g.finish();
}

/// One side-by-side run for the ratio: the two decodes interleaved, each timed 200 times, the
/// fastest of each kept (on a shared machine the minimum is the figure least disturbed by
/// other processes).
fn ratio() {
    let text = page();
    let (mut typed, mut value, mut floor) = (u128::MAX, u128::MAX, u128::MAX);
    for _ in 0..200 {
        let t = Instant::now();
        black_box(serde_json::from_str::<Vec<Record>>(black_box(&text)).unwrap());
        typed = typed.min(t.elapsed().as_nanos());
        let t = Instant::now();
        black_box(serde_json::from_str::<Value>(black_box(&text)).unwrap());
        value = value.min(t.elapsed().as_nanos());
        // The floor: parsing the page without building anything.
        let t = Instant::now();
        black_box(serde_json::from_str::<serde::de::IgnoredAny>(black_box(&text)).unwrap());
        floor = floor.min(t.elapsed().as_nanos());
    }
    println!(
        "typed_decode: {} bytes per record; derived {:.1} us/page, serde_json::Value {:.1} us/page, derived is {:.2}x the speed of Value (target >= 2x); parsing alone (IgnoredAny) {:.1} us/page",
        text.len() / 100,
        typed as f64 / 1000.0,
        value as f64 / 1000.0,
        value as f64 / typed.max(1) as f64,
        floor as f64 / 1000.0
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    ratio();
    Criterion::default().configure_from_args().final_summary();
}
