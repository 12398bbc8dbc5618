//! Decoding a page of 100 records of a 40-component form: into a `#[derive(YidaForm)]` type
//! vs into `serde_json::Value` (issue 21's target: typed at least 2x faster). Prints the
//! bytes per record, criterion's figures and the ratio of its means (the target's figure),
//! then a side-by-side run that shows how much the heap's state moves the figures.

use criterion::{criterion_group, Criterion};
use serde_json::Value;
use std::env;
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};
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

/// Criterion's mean (ns) for one function of this run, from the estimates criterion writes
/// (`<dir>/typed_decode/<name>/new/estimates.json`, the directory found as criterion finds
/// it for this workspace); `None` when this run did not write them (filtered out).
fn criterion_mean(name: &str, since: SystemTime) -> Option<f64> {
    let dir = match (
        env::var_os("CRITERION_HOME"),
        env::var_os("CARGO_TARGET_DIR"),
    ) {
        (Some(home), _) => PathBuf::from(home),
        (None, Some(target)) => PathBuf::from(target).join("criterion"),
        (None, None) => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/criterion"),
    };
    let path = dir
        .join("typed_decode")
        .join(name)
        .join("new/estimates.json");
    if fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let estimates: Value = serde_json::from_slice(&fs::read(&path).ok()?).ok()?;
    estimates["mean"]["point_estimate"].as_f64()
}

/// One side-by-side run that alternates every decode (fastest of 200 of each): each decode
/// starts from the heap the other kind left. With the system allocator (glibc) this slows
/// the derived decode and speeds `Value` up, so the ratio is well below criterion's, where
/// each runs on the heap its own kind leaves (as in a service that decodes pages one after
/// another); with mimalloc the alternation moves neither figure (BENCHMARKS.md).
fn alternating() {
    let text = page();
    let time = |f: &dyn Fn()| {
        let t = Instant::now();
        f();
        t.elapsed().as_nanos()
    };
    let (mut typed, mut value, mut floor) = (u128::MAX, u128::MAX, u128::MAX);
    for _ in 0..200 {
        typed = typed.min(time(&|| {
            drop(black_box(
                serde_json::from_str::<Vec<Record>>(black_box(&text)).unwrap(),
            ))
        }));
        value = value.min(time(&|| {
            drop(black_box(
                serde_json::from_str::<Value>(black_box(&text)).unwrap(),
            ))
        }));
        floor = floor.min(time(&|| {
            black_box(serde_json::from_str::<serde::de::IgnoredAny>(black_box(&text)).unwrap());
        }));
    }
    let us = |n: u128| n as f64 / 1000.0;
    println!(
        "typed_decode, alternating every decode (fastest of 200; each starts from the heap the other left): derived {:.1} us/page, serde_json::Value {:.1} us/page, {:.2}x; parsing alone (IgnoredAny) {:.1} us/page",
        us(typed),
        us(value),
        value as f64 / typed.max(1) as f64,
        us(floor),
    );
}

criterion_group!(benches, bench);

fn main() {
    let start = SystemTime::now();
    benches();
    match (
        criterion_mean("derived", start),
        criterion_mean("serde_json_value", start),
    ) {
        (Some(t), Some(v)) => println!(
            "typed_decode (criterion's means): derived {:.1} us/page, serde_json::Value {:.1} us/page: derived is {:.2}x the speed of Value (target >= 2x)",
            t / 1000.0,
            v / 1000.0,
            v / t
        ),
        _ => println!("typed_decode: no criterion estimates from this run (filtered out)"),
    }
    alternating();
    Criterion::default().configure_from_args().final_summary();
}
