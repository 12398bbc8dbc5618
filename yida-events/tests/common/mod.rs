//! Shared test helpers: fixed vectors (made by tests/gen_vectors.py with Python's
//! `cryptography`, independently of our encrypt path) and an axum server hosting an
//! HttpEndpoint on loopback.
#![allow(dead_code)]

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use std::sync::{Arc, Mutex};
use yida_events::{Event, HttpEndpoint};

pub const DOC_TOKEN: &str = "123456";
pub const DOC_AES: &str = "4g5j64qlyl3zvetqxz5jiocdr586fn2zvjpa8zls3ij";
pub const DOC_OWNER: &str = "suite4xxxxxxxxxxxxxxx";
pub const DOC_QUERY: &str =
    "signature=5a65ceeef9aab2d149439f82dc191dd6c5cbe2c0&timestamp=1445827045067&nonce=nEXhMP4r";
pub const DOC_ENCRYPT: &str = "1a3NBxmCFwkCJvfoQ7WhJHB+iX3qHPsc9JbaDznE1i03peOk1LaOQoRz3+nlyGNhwmwJ3vDMG+OzrHMeiZI7gTRWVdUBmfxjZ8Ej23JVYa9VrYeJ5as7XM/ZpulX8NEQis44w53h1qAgnC3PRzM7Zc/D6Ibr0rgUathB6zRHP8PYrfgnNOS9PhSBdHlegK+AGGanfwjXuQ9+0pZcy0w9lQ==";

pub const TOKEN: &str = "cb-token-7";
pub const AES: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
pub const OWNER: &str = "suite-key-1";
pub const TS: &str = "1783610513000";
pub const NONCE: &str = "nonce42";

/// (encrypt, signature) over TS and NONCE.
pub const TICKET: (&str, &str) = ("Q3stYC6hdFzMh9T8HCvyDP8B0iJFOHCpA1XNH7Yg0QV8ENFONEnJQOUUuOkAODXBvZKAJpPzNqHoPzY9o0HtqWf6ZCFP0LJrZOCoP8iNOUg0Kuo/zupwNQa1pwXTLJ9P92q5SvDvzHh8H67aOAItrhC6Pug7amdoKVEgVbRT7eBOgUN25R0JVR2Y6tfalBJYY/20VO15IA8T8KVtfA2ZKg==", "cf392fef47f35514747ac741ecb89690bd8bdfc3");
pub const TICKET_OLD: (&str, &str) = ("Q3stYC6hdFzMh9T8HCvyDP8B0iJFOHCpA1XNH7Yg0QV8ENFONEnJQOUUuOkAODXBvZKAJpPzNqHoPzY9o0HtqWf6ZCFP0LJrZOCoP8iNOUjqYmHeY7Fo1SPZg1uxSPIXaka11IB/sxqvmlq4VmWHEol3tZFTygriyvjziDgSCcrXOUAe+m3HwW2kbvb1DuhyDDqKo9S5JUO7yULLQqAHdw==", "cfd5a4c8c1723da3d9db43b325f1684deab7282a");
pub const BPMS: (&str, &str) = ("Q3stYC6hdFzMh9T8HCvyDJgV/qVPEZpYAFYvffeA+/f2SWNUNZBMKbnm/dBj0yoNJ3kQdxWi1gWl8yn1OnqiXWO9iySEGdnXvVSOGiJlNvN9Yl6rS81y+f7PJrCiEmJqFwlFahVZAQz5r64P0JXej5UIXRSCGpEBLo9UI9rKO3BMUScX6lLSj76unzu1j74D8e4mQftBeP19UPdI1P95b4hGhUEdaYNdkIxXiviSF3RkTdZTtpBCO5eZAVQbbXN2Ianbpg+kju0UDWAoTU5HP3c3NV0pS5pLfjcHjr2dswBwEFY3Wnv8fJ8ugvamZEtvgeT4HEJJZHAlGFlrBSDWSQ==", "3a26f150a173eca25b62b590305083a8be8480f6");
pub const WRONG_OWNER: (&str, &str) = (
    "Q3stYC6hdFzMh9T8HCvyDLV8JeomtQuxZLosYEI28mga64vTiryX3z5WWcyJPhzo9Iz8nTNVn6VAKuNklw92Vw==",
    "b0bf00c203d8bd428a400e63dd90779f267764b5",
);
pub const BAD_LENGTH: (&str, &str) = (
    "Q3stYC6hdFzMh9T8HCvyDBnvW6ckOUH0bFfbo5YZQdl74B/GZtrgJab/HdibtOVUYWj8PfhsJfW9TzLnW+c06w==",
    "943ed5d8d10bc20a25829860d4b19765d0ab70bf",
);
pub const BAD_PADDING: (&str, &str) = (
    "Q3stYC6hdFzMh9T8HCvyDLV8JeomtQuxZLosYEI28mga64vTiryX3z5WWcyJPhzoee6EWymV6XvbAaVoYMsklA==",
    "bbec6c77fb5af9f94ad05d3b0d4e7861d660aeb1",
);
pub const NOT_JSON: (&str, &str) = (
    "Q3stYC6hdFzMh9T8HCvyDDFv1gBozX19ZLbQDVRT2H81Q6agY5IztdddNerZtRItsF7J3RToa88sKEjJQi1P8w==",
    "87ccf6684b07daeb0d25ec6bceb56e1b34ba2b17",
);

pub fn query(sig: &str) -> String {
    format!("signature={sig}&timestamp={TS}&nonce={NONCE}")
}

pub fn body(encrypt: &str) -> String {
    serde_json::json!({ "encrypt": encrypt }).to_string()
}

/// An axum server on 127.0.0.1 serving `endpoint` on every path; records accepted events.
pub struct CallbackServer {
    pub url: String,
    pub events: Arc<Mutex<Vec<Event>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CallbackServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct AppState {
    endpoint: HttpEndpoint,
    events: Arc<Mutex<Vec<Event>>>,
}

async fn callback(
    State(st): State<AppState>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> impl IntoResponse {
    let (resp, event) = st
        .endpoint
        .respond(query.as_deref().unwrap_or(""), &body, |e| async move {
            if e.data["fail"] == true {
                return Err("handler refused the event");
            }
            st.events.lock().unwrap().push(e);
            Ok(())
        })
        .await;
    let _ = event;
    (
        StatusCode::from_u16(resp.status).unwrap(),
        [(header::CONTENT_TYPE, resp.content_type)],
        resp.body,
    )
}

impl CallbackServer {
    pub async fn start(endpoint: HttpEndpoint) -> CallbackServer {
        let events: Arc<Mutex<Vec<Event>>> = Arc::default();
        let app = Router::new().fallback(callback).with_state(AppState {
            endpoint,
            events: events.clone(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        CallbackServer { url, events, task }
    }

    pub async fn push(&self, path_and_query: &str, body: impl Into<String>) -> (u16, String) {
        yida_auth::ensure_tls_provider();
        let r = reqwest::Client::new()
            .post(format!("{}{path_and_query}", self.url))
            .header("content-type", "application/json")
            .body(body.into())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.text().await.unwrap())
    }
}
