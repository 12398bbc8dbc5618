//! Decoding a page of 100 records of a 40-component form: into a `#[derive(YidaForm)]` type
//! vs into `serde_json::Value` (issue 21's target: typed at least 2x faster). Prints the
//! bytes per record and, after criterion's figures, the ratio of one side-by-side run.

use criterion::{criterion_group, Criterion};
use serde_json::Value;
use std::hint::black_box;
use std::time::Instant;
#[path = "common/typed_decode_data.rs"]
mod data;
use data::{page, Record};

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
