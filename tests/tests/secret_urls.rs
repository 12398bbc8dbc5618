//! No URL with its query reaches an error or a log: every operation that sends a secret in the
//! query string (`systemToken`, `accessKey`, `token`, …) is made to time out, to fail to
//! connect, to lose its connection mid-reply and to be redirected, and every rendering of the
//! error (Display, Debug, each source) and the TRACE log are searched for the secret.

use serde_json::{json, Map, Value};
use std::time::Duration;
use yida_api::{Client, Error, ParamLocation, ParamType, RetryConfig};
use yida_e2e::{LogCapture, MockServer, Reply};

fn sample(ty: ParamType) -> Value {
    match ty {
        ParamType::String => json!("v1"),
        ParamType::I64 => json!(7),
        ParamType::F64 => json!(1.5),
        ParamType::Bool => json!(true),
        ParamType::Json | ParamType::JsonText => json!({"k": 1}),
        ParamType::List(t) => json!([sample(*t)]),
        ParamType::Map(_) | ParamType::Model(_) => json!({}),
    }
}

fn secret_of(name: &str) -> String {
    format!("SECRET-{name}-9f8e")
}

/// Operations with a secret query parameter, and their input with every secret set.
fn cases() -> Vec<(&'static yida_api::OperationMeta, Value, Vec<String>)> {
    let mut out = Vec::new();
    for op in yida_api::operations() {
        if !op
            .params
            .iter()
            .any(|p| p.secret && p.location == ParamLocation::Query)
        {
            continue;
        }
        let mut input = Map::new();
        let mut secrets = Vec::new();
        for p in op.params {
            if p.secret {
                let s = secret_of(p.name);
                input.insert(p.name.to_string(), Value::String(s.clone()));
                secrets.push(s);
            } else if p.required || p.context {
                input.insert(p.name.to_string(), sample(p.ty));
            }
        }
        out.push((op, Value::Object(input), secrets));
    }
    out
}

fn renderings(err: &Error) -> String {
    let mut text = format!("{err}\n{err:?}");
    let mut s = std::error::Error::source(err);
    while let Some(x) = s {
        text.push_str(&format!("\n{x}\n{x:?}"));
        s = x.source();
    }
    text
}

fn client(endpoint: &str) -> Client {
    Client::builder()
        .endpoint(endpoint)
        .access_token("t")
        .timeout(Duration::from_millis(60))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap()
}

#[tokio::test]
async fn no_error_or_log_shows_a_url_query() {
    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let _ = tracing_log::LogTracer::init();

    let slow = MockServer::always(Reply::Delay(
        Duration::from_secs(5),
        Box::new(Reply::empty()),
    ))
    .await;
    let cut = MockServer::always(Reply::Raw(
        b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n{\"partial\":".to_vec(),
    ))
    .await;
    // A redirect whose Location echoes the request, query included.
    let echo = MockServer::start(|r, _| {
        let target = format!(
            "http://127.0.0.1/{}?{}",
            r.path,
            r.query.clone().unwrap_or_default()
        );
        Reply::Http {
            status: 307,
            headers: vec![("location".into(), target)],
            body: vec![],
        }
    })
    .await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };

    let cases = cases();
    let names: std::collections::BTreeSet<&str> = cases
        .iter()
        .flat_map(|(op, _, _)| op.params.iter().filter(|p| p.secret).map(|p| p.name))
        .collect();
    // Every secret-carrying query parameter of the spec is exercised.
    for name in ["systemToken", "accessKey", "token"] {
        assert!(names.contains(name), "{name} not covered: {names:?}");
    }
    let mut seen = [0usize; 4];
    for (op, input, secrets) in &cases {
        for (i, endpoint) in [slow.url(), closed.clone(), cut.url(), echo.url()]
            .iter()
            .enumerate()
        {
            let err = yida_e2e::call(&client(endpoint), op.action, op.version, input.clone())
                .await
                .expect_err("the call fails");
            let kind_ok = match i {
                0 => matches!(err, Error::Timeout { .. }),
                1 => matches!(err, Error::Connect { .. }),
                2 => matches!(err, Error::Transport { .. } | Error::Timeout { .. }),
                _ => matches!(err, Error::Redirect { .. }),
            };
            assert!(kind_ok, "{}@{} case {i}: {err:?}", op.action, op.version);
            seen[i] += 1;
            let text = renderings(&err);
            for s in secrets {
                assert!(
                    !text.contains(s.as_str()),
                    "{}: leaks {s}:\n{text}",
                    op.action
                );
            }
            assert!(!text.contains('?'), "{}: a query in:\n{text}", op.action);
        }
    }
    assert!(cases.len() >= 20, "{} operations", cases.len());
    // The secrets did go over the wire.
    let sent = slow.requests();
    assert!(sent.iter().any(|r| r
        .query
        .as_deref()
        .unwrap_or("")
        .contains("SECRET-systemToken-9f8e")));
    let logs = capture.text();
    assert!(logs.contains("yida.call"), "TRACE captured");
    for (_, _, secrets) in &cases {
        for s in secrets {
            assert!(!logs.contains(s.as_str()), "the TRACE log leaks {s}");
        }
    }
    println!("cases per failure kind (timeout, connect, cut, redirect): {seen:?}");
}
