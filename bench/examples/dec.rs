fn main() {
    plain();
    let bytes = std::fs::read("yida-api/benches/page20.json").unwrap();
    let n = 5000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        let r: yida_api::forms::SearchFormDatasResponse = serde_json::from_slice(&bytes).unwrap();
        std::hint::black_box(r);
    }
    println!("typed decode: {:?}/page", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        let s = std::str::from_utf8(&bytes).unwrap();
        let r: yida_api::forms::SearchFormDatasResponse = serde_json::from_str(s).unwrap();
        std::hint::black_box(r);
    }
    println!(
        "typed decode via from_utf8 + from_str: {:?}/page",
        t.elapsed() / n
    );
    let t = std::time::Instant::now();
    for _ in 0..n {
        let r: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        std::hint::black_box(r);
    }
    println!("Value decode: {:?}/page", t.elapsed() / n);
    let t = std::time::Instant::now();
    for _ in 0..n {
        let r: serde::de::IgnoredAny = serde_json::from_slice(&bytes).unwrap();
        std::hint::black_box(r);
    }
    println!("IgnoredAny: {:?}/page", t.elapsed() / n);
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainPage {
    #[serde(rename = "currentPage")]
    current_page: Option<i64>,
    #[serde(rename = "totalCount")]
    total_count: Option<i64>,
    data: Option<Vec<PlainRec>>,
}
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainRec {
    #[serde(rename = "createdTimeGMT")]
    a: Option<String>,
    #[serde(rename = "creatorUserId")]
    b: Option<String>,
    #[serde(rename = "dataId")]
    c: Option<i64>,
    #[serde(rename = "formData")]
    d: Option<Box<serde_json::value::RawValue>>,
    #[serde(rename = "formInstanceId")]
    e: Option<String>,
    #[serde(rename = "formUuid")]
    f: Option<String>,
    #[serde(rename = "instanceValue")]
    g: Option<String>,
    #[serde(rename = "modelUuid")]
    h: Option<String>,
    #[serde(rename = "modifiedTimeGMT")]
    i: Option<String>,
    #[serde(rename = "modifierUserId")]
    j: Option<String>,
    #[serde(rename = "modifyUser")]
    k: Option<PlainUser>,
    originator: Option<PlainUser>,
    sequence: Option<String>,
    #[serde(rename = "serialNo")]
    l: Option<String>,
    title: Option<String>,
    version: Option<i64>,
}
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainUser {
    #[serde(rename = "userId")]
    u: Option<String>,
    #[serde(rename = "userName")]
    n: Option<PlainName>,
}
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct PlainName {
    #[serde(rename = "nameInChinese")]
    a: Option<String>,
    #[serde(rename = "nameInEnglish")]
    b: Option<String>,
    #[serde(rename = "type")]
    c: Option<String>,
}

#[allow(dead_code)]
fn plain() {
    let bytes = std::fs::read("yida-api/benches/page20.json").unwrap();
    let n = 5000;
    let t = std::time::Instant::now();
    for _ in 0..n {
        let r: PlainPage = serde_json::from_slice(&bytes).unwrap();
        std::hint::black_box(r);
    }
    println!("plain derive: {:?}/page", t.elapsed() / n);
}
