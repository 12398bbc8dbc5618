//! Every operation of the spec, called over HTTP against a local server: the request on the
//! wire (method, path, query, body, token header) and the decoding of a reply holding every
//! documented field. Driven by the spec, so a new operation is tested the moment it is added.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use yida_codegen::ir::{Api, Location, Operation, Type};
use yida_e2e::{MockServer, Reply};

fn api() -> Api {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec");
    yida_codegen::load_dir(&dir).expect("spec is valid")
}

/// A sample input value for a parameter, and what must appear on the wire for it.
fn sample(name: &str, ty: &Type) -> (Value, Value) {
    match ty {
        // Characters that break unencoded paths and queries.
        Type::String => {
            let v = Value::String(format!("{name}-v/1?a=b#c&d é"));
            (v.clone(), v)
        }
        Type::I64 => (json!(7), json!(7)),
        Type::F64 => (json!(2.5), json!(2.5)),
        Type::Bool => (json!(true), json!(true)),
        Type::Json => (json!({"k": [1, "x"]}), json!({"k": [1, "x"]})),
        // Given as the JSON value; on the wire as text.
        Type::JsonText => {
            let v = json!({"textField_1": "hé", "numberField_2": 3});
            (v.clone(), Value::String(v.to_string()))
        }
        Type::List(inner) => {
            let (i, w) = sample(name, inner);
            (json!([i]), json!([w]))
        }
        Type::Map(inner) => {
            let (i, w) = sample(name, inner);
            (json!({"key1": i}), json!({"key1": w}))
        }
        Type::Model(_) => (json!({}), json!({})),
    }
}

/// A reply holding every field of `model`, recursively.
fn full_reply(api: &Api, ty: &Type, depth: usize) -> Value {
    match ty {
        Type::String | Type::JsonText => json!("s-value"),
        Type::I64 => json!(42),
        Type::F64 => json!(1.5),
        Type::Bool => json!(true),
        Type::Json => json!({"free": {"nested": [1, 2]}}),
        Type::List(inner) => json!([full_reply(api, inner, depth + 1)]),
        Type::Map(inner) => json!({"k": full_reply(api, inner, depth + 1)}),
        Type::Model(m) => {
            let mut obj = Map::new();
            if depth < 8 {
                for f in &api.models[m].fields {
                    obj.insert(f.name.clone(), full_reply(api, &f.ty, depth + 1));
                }
            }
            Value::Object(obj)
        }
    }
}

fn expected_path(op: &Operation, wire: &BTreeMap<String, Value>) -> String {
    let mut path = op.path.clone();
    for p in op.params.iter().filter(|p| p.location == Location::Path) {
        let raw = match &wire[&p.name] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let enc: String = raw
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        path = path.replace(&format!("{{{}}}", p.name), &enc);
    }
    path
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[tokio::test]
async fn every_operation_goes_over_the_wire_and_decodes_a_full_reply() {
    let api = api();
    let compiled = yida_api::operations();
    assert_eq!(
        compiled.len(),
        api.operations.len(),
        "every operation of the spec is compiled in"
    );
    let mut checked = 0;
    for op in &api.operations {
        let reply_body = op
            .response
            .as_ref()
            .map(|r| full_reply(&api, &Type::Model(r.clone()), 0))
            .unwrap_or(Value::Null);
        let reply = if op.response.is_some() {
            Reply::json(reply_body.clone())
        } else {
            Reply::empty()
        };
        let server = MockServer::always(reply).await;
        let client = yida_api::Client::builder()
            .endpoint(server.url())
            .access_token("wire-test-token")
            .retry(yida_api::RetryConfig::disabled())
            .build()
            .unwrap();
        let mut input = Map::new();
        let mut wire = BTreeMap::new();
        for p in &op.params {
            let (i, w) = sample(&p.name, &p.ty);
            input.insert(p.name.clone(), i);
            wire.insert(p.name.clone(), w);
        }
        let id = format!("{}@{}", op.action, op.version);
        let got = yida_e2e::call(&client, &op.action, &op.version, Value::Object(input))
            .await
            .unwrap_or_else(|e| panic!("{id}: {e}"));
        let reqs = server.requests();
        assert_eq!(reqs.len(), 1, "{id}: one request");
        let r = &reqs[0];
        assert_eq!(r.method, op.method.as_str(), "{id}: method");
        assert_eq!(r.path, expected_path(op, &wire), "{id}: path");
        assert_eq!(
            r.header("x-acs-dingtalk-access-token"),
            Some("wire-test-token"),
            "{id}: token header"
        );
        assert!(
            r.header("authorization").is_none(),
            "{id}: no Authorization header"
        );
        // Query: exactly the query parameters, decoded.
        let mut q_expected: Vec<(String, String)> = op
            .params
            .iter()
            .filter(|p| p.location == Location::Query)
            .map(|p| (p.name.clone(), scalar_text(&wire[&p.name])))
            .collect();
        let mut q_got = r.query_pairs();
        q_expected.sort();
        q_got.sort();
        assert_eq!(q_got, q_expected, "{id}: query");
        // Body: exactly the body parameters, JSON text as strings.
        let body_params: Vec<_> = op
            .params
            .iter()
            .filter(|p| p.location == Location::Body)
            .collect();
        if body_params.is_empty() {
            assert!(r.body.is_empty(), "{id}: no body");
        } else {
            assert_eq!(
                r.header("content-type"),
                Some("application/json; charset=utf-8"),
                "{id}: content type"
            );
            let expected: Map<String, Value> = body_params
                .iter()
                .map(|p| (p.name.clone(), wire[&p.name].clone()))
                .collect();
            assert_eq!(r.json(), Value::Object(expected), "{id}: body");
        }
        // Reply: every documented field decoded under its wire name.
        match &op.response {
            Some(_) => assert_eq!(got, Some(reply_body), "{id}: reply round trip"),
            None => assert_eq!(got, None, "{id}: empty reply"),
        }
        checked += 1;
    }
    assert_eq!(checked, compiled.len());
}

#[tokio::test]
async fn every_operation_refuses_unknown_and_missing_parameters_before_sending() {
    let api = api();
    let server = MockServer::always(Reply::json(json!({}))).await;
    let client = yida_api::Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .build()
        .unwrap();
    for op in &api.operations {
        let id = format!("{}@{}", op.action, op.version);
        let mut input = Map::new();
        for p in &op.params {
            input.insert(p.name.clone(), sample(&p.name, &p.ty).0);
        }
        // An unknown parameter is named.
        let mut bad = input.clone();
        bad.insert("noSuchParam".into(), json!(1));
        let err = yida_e2e::call(&client, &op.action, &op.version, Value::Object(bad))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("noSuchParam"), "{id}: {err}");
        // Each required parameter, left out, is named.
        for p in op.params.iter().filter(|p| p.required) {
            let mut missing = input.clone();
            missing.remove(&p.name);
            let err = yida_e2e::call(&client, &op.action, &op.version, Value::Object(missing))
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    yida_api::Error::InvalidInput { .. } | yida_api::Error::InvalidParameter { .. }
                ),
                "{id}: {err:?}"
            );
            assert!(
                err.to_string().contains(&p.name),
                "{id}: error names `{}`: {err}",
                p.name
            );
        }
    }
    assert_eq!(server.count(), 0, "nothing was sent");
}

#[tokio::test]
async fn no_reply_makes_any_operation_panic() {
    let api = api();
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let bodies: Vec<(u16, Vec<u8>)> = vec![
        (200, b"".to_vec()),
        (200, b"null".to_vec()),
        (200, b"[1,2,3]".to_vec()),
        (200, vec![0xff, 0xfe, 0x00, 0x80]),
        (
            200,
            br#"{"result": {"a": 1}, "data": "x", "totalCount": "many", "success": [true]}"#
                .to_vec(),
        ),
        (
            200,
            br#"{"totalCount": 1e400, "data": [null, 1, "x"]}"#.to_vec(),
        ),
        (200, deep.clone().into_bytes()),
        (500, deep.into_bytes()),
        (
            400,
            br#"{"code": 123, "message": ["x"], "requestid": {"a": 1}}"#.to_vec(),
        ),
        (403, br#"{"status": 1111, "wait": "NaN"}"#.to_vec()),
        (418, "短".repeat(1000).into_bytes()),
    ];
    let bodies = std::sync::Arc::new(bodies);
    let b2 = bodies.clone();
    let server = MockServer::start(move |_, i| {
        let (status, body) = b2[i % b2.len()].clone();
        Reply::Http {
            status,
            headers: vec![],
            body,
        }
    })
    .await;
    let client = yida_api::Client::builder()
        .endpoint(server.url())
        .access_token("t")
        .retry(yida_api::RetryConfig::disabled())
        .build()
        .unwrap();
    let mut outcomes = [0usize; 2];
    for op in &api.operations {
        let mut input = Map::new();
        for p in &op.params {
            input.insert(p.name.clone(), sample(&p.name, &p.ty).0);
        }
        for _ in 0..bodies.len() {
            let r = yida_e2e::call(
                &client,
                &op.action,
                &op.version,
                Value::Object(input.clone()),
            )
            .await;
            outcomes[r.is_ok() as usize] += 1;
        }
    }
    assert_eq!(
        outcomes[0] + outcomes[1],
        yida_api::operations().len() * bodies.len()
    );
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}
