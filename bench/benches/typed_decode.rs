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

/// The ratio from one side-by-side run, two ways:
///
/// - **in blocks** (the figure the target is read from): 10 rounds, each running 40 derived
///   decodes, then 40 `Value` decodes, then 40 bare parses; the first 10 of each block settle
///   the heap and are not timed, the median of the other 30 is kept. Each decode then runs
///   on the heap its own kind leaves, as in criterion's runs and in a service that decodes
///   pages one after another; the rounds alternate so that a change of machine load reaches
///   both sides.
/// - **alternating every decode** (fastest of 200): each decode starts from the heap the
///   other kind left. With the system allocator (glibc) this slows the derived decode and
///   speeds `Value` up; with mimalloc both figures stay as they are in blocks (BENCHMARKS.md).
fn ratio() {
    let text = page();
    let typed = || black_box(serde_json::from_str::<Vec<Record>>(black_box(&text)).unwrap());
    let value = || black_box(serde_json::from_str::<Value>(black_box(&text)).unwrap());
    let floor = || {
        black_box(serde_json::from_str::<serde::de::IgnoredAny>(black_box(&text)).unwrap());
    };
    let time = |f: &dyn Fn()| {
        let t = Instant::now();
        f();
        t.elapsed().as_nanos()
    };
    let (mut t, mut v, mut p) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..10 {
        for (out, f) in [
            (&mut t, &(|| drop(typed())) as &dyn Fn()),
            (&mut v, &|| drop(value())),
            (&mut p, &floor),
        ] {
            (0..10).for_each(|_| f());
            out.extend((0..30).map(|_| time(f)));
        }
    }
    let median = |mut x: Vec<u128>| {
        x.sort_unstable();
        x[x.len() / 2] as f64 / 1000.0
    };
    let (t, v, p) = (median(t), median(v), median(p));
    let (mut at, mut av) = (u128::MAX, u128::MAX);
    for _ in 0..200 {
        at = at.min(time(&|| drop(typed())));
        av = av.min(time(&|| drop(value())));
    }
    let (at, av) = (at as f64 / 1000.0, av as f64 / 1000.0);
    println!(
        "typed_decode: {} bytes per record; in blocks (medians): derived {t:.1} us/page, serde_json::Value {v:.1} us/page, derived is {:.2}x the speed of Value (target >= 2x); parsing alone (IgnoredAny) {p:.1} us/page",
        text.len() / 100,
        v / t,
    );
    println!(
        "typed_decode, alternating every decode (fastest of 200; each starts from the heap the other left): derived {at:.1} us/page, serde_json::Value {av:.1} us/page, {:.2}x",
        av / at,
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    ratio();
    Criterion::default().configure_from_args().final_summary();
}
