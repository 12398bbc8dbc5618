//! Micro-benchmarks: building and serializing a request, decoding the 20-record page.
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use yida_api::{AppContext, Operation, SearchFormDatasV2Request};

fn micro(c: &mut Criterion) {
    let ctx = AppContext::new()
        .app_type("APP_X")
        .system_token("sys")
        .user_id("u1");
    c.bench_function(
        "build + check + path/query/body of SearchFormDatasV2Request",
        |b| {
            b.iter(|| {
                let mut req = SearchFormDatasV2Request::new("FORM-1")
                    .current_page(1)
                    .page_size(20)
                    .search_field_json(serde_json::json!({"textField_1": "x"}));
                req.fill_context(&ctx);
                req.check().unwrap();
                let mut url = String::from("https://api.dingtalk.com");
                req.write_path(&mut url);
                let mut q = yida_api::__private::QueryWriter::default();
                req.write_query(&mut q);
                url.push_str(&q.finish());
                black_box((url, serde_json::to_vec(&req).unwrap()))
            })
        },
    );
    let page = include_bytes!("page20.json");
    c.bench_function("decode the 20-record SearchFormDatas page (21 KB)", |b| {
        b.iter(|| {
            black_box(
                serde_json::from_slice::<yida_api::forms::SearchFormDatasResponse>(page).unwrap(),
            )
        })
    });
}

criterion_group!(benches, micro);
criterion_main!(benches);
