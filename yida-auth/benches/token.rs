//! Token cache: a cached lookup, and 1,000 concurrent callers on a cold cache.
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use std::sync::Arc;
use yida_auth::{InternalApp, TokenProvider};
use yida_e2e::{MockServer, Reply};

fn token_benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt.block_on(MockServer::always(Reply::json(
        serde_json::json!({"accessToken": "tok", "expireIn": 7200}),
    )));
    let url = server.url();
    let warm = InternalApp::new("key", "secret")
        .unwrap()
        .endpoint(url.clone());
    rt.block_on(warm.token()).unwrap();
    c.bench_function("cached token lookup", |b| {
        b.iter(|| rt.block_on(async { black_box(warm.token().await.unwrap()) }))
    });
    c.bench_function(
        "1000 concurrent callers, cold cache (one fetch over loopback)",
        |b| {
            b.iter(|| {
                rt.block_on(async {
                    let app = Arc::new(
                        InternalApp::new("key", "secret")
                            .unwrap()
                            .endpoint(url.clone()),
                    );
                    let tasks: Vec<_> = (0..1000)
                        .map(|_| {
                            let app = app.clone();
                            tokio::spawn(async move { app.token().await.map(|_| ()) })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap().unwrap();
                    }
                })
            })
        },
    );
}

criterion_group!(benches, token_benches);
criterion_main!(benches);
