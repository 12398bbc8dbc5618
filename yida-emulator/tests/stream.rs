//! The Stream gateway: a plain WebSocket client sees bpms events of the whole approval loop,
//! ACKs them, and gets unacknowledged ones again.

mod common;
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use yida_api::*;
use yida_emulator::{Emulator, Options};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(emu: &Emulator) -> Ws {
    let (s, b) = raw(
        emu,
        "POST",
        "/v1.0/gateway/connections/open",
        Some(json!({"clientId": emu.app_key(), "clientSecret": emu.app_secret(),
                    "subscriptions": [{"type": "EVENT", "topic": "*"}], "ua": "test", "localIp": "127.0.0.1"})),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let endpoint = b["endpoint"].as_str().unwrap();
    assert!(endpoint.starts_with("ws://127.0.0.1:"));
    let url = format!("{endpoint}?ticket={}", b["ticket"].as_str().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws
}

/// The next EVENT frame (SYSTEM frames are skipped), within 10 s.
async fn next_event(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("an event within 10 s")
            .expect("open connection")
            .unwrap();
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "EVENT" {
                return v;
            }
        }
    }
}

async fn ack(ws: &mut Ws, frame: &Value, status: &str) {
    let a = json!({"code": 200, "headers": {"contentType": "application/json", "messageId": frame["headers"]["messageId"]},
                   "message": "OK", "data": json!({"status": status}).to_string()});
    ws.send(Message::Text(a.to_string().into())).await.unwrap();
}

fn event(frame: &Value) -> (String, Value) {
    let data: Value = serde_json::from_str(frame["data"].as_str().unwrap()).unwrap();
    (
        frame["headers"]["eventType"].as_str().unwrap().to_string(),
        data,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_loop_pushes_events() {
    let emu = Emulator::start().await.unwrap();
    let mut ws = connect(&emu).await;
    let c = client(&emu);
    let id = c
        .send(
            StartInstanceV2Request::new("FORM-DEMO", json!({"textField_title": "trip"}))
                .process_code("TPROC--DEMO"),
        )
        .await
        .unwrap()
        .result
        .unwrap();
    let f = next_event(&mut ws).await;
    assert_eq!(f["specVersion"], "1.0");
    assert_eq!(f["headers"]["topic"], "*");
    assert_eq!(f["headers"]["eventCorpId"], "ding-emulator-corp");
    assert!(f["headers"]["eventId"].is_string() && f["headers"]["eventBornTime"].is_string());
    let (ty, data) = event(&f);
    assert_eq!(
        (
            ty.as_str(),
            data["type"].as_str(),
            data["processInstanceId"].as_str()
        ),
        ("bpms_instance_change", Some("start"), Some(id.as_str()))
    );
    ack(&mut ws, &f, "SUCCESS").await;
    let f = next_event(&mut ws).await;
    let (ty, data) = event(&f);
    assert_eq!(
        (ty.as_str(), data["type"].as_str(), data["staffId"].as_str()),
        ("bpms_task_change", Some("start"), Some("demo-user"))
    );
    let task_id = data["taskId"].as_i64().unwrap();
    ack(&mut ws, &f, "SUCCESS").await;

    c.send(ExecuteTaskRequest::new(yida_api::ExecuteTaskArgs {
        out_result: yida_api::ExecuteTaskOutResult::Agree,
        process_instance_id: id.to_string(),
        remark: "ok".into(),
        task_id,
    }))
    .await
    .unwrap();
    let f = next_event(&mut ws).await;
    let (ty, data) = event(&f);
    assert_eq!(
        (ty.as_str(), data["type"].as_str(), data["result"].as_str()),
        ("bpms_task_change", Some("finish"), Some("agree"))
    );
    ack(&mut ws, &f, "SUCCESS").await;
    let f = next_event(&mut ws).await;
    let (ty, data) = event(&f);
    assert_eq!(
        (ty.as_str(), data["type"].as_str(), data["result"].as_str()),
        ("bpms_instance_change", Some("finish"), Some("agree"))
    );
    ack(&mut ws, &f, "SUCCESS").await;
    c.send(DeleteInstanceRequest::new(&id)).await.unwrap();
    let f = next_event(&mut ws).await;
    let (ty, data) = event(&f);
    assert_eq!(
        (
            ty.as_str(),
            data["type"].as_str(),
            data["processInstanceId"].as_str()
        ),
        ("bpms_instance_change", Some("delete"), Some(id.as_str()))
    );
    ack(&mut ws, &f, "SUCCESS").await;
    // Every event acknowledged: nothing pending.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while emu.pending_events() != 0 {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_events_are_redelivered() {
    let emu = Emulator::start_with(Options::default().redeliver_after(Duration::from_millis(200)))
        .await
        .unwrap();
    let mut ws = connect(&emu).await;
    let c = client(&emu);
    let id = c
        .send(StartInstanceV2Request::new("FORM-DEMO", json!({})))
        .await
        .unwrap()
        .result
        .unwrap();
    let first = next_event(&mut ws).await;
    let second = next_event(&mut ws).await;
    ack(&mut ws, &second, "SUCCESS").await;
    // The first was not acknowledged: it comes again, same messageId.
    let again = next_event(&mut ws).await;
    assert_eq!(again["headers"]["messageId"], first["headers"]["messageId"]);
    // LATER also means: send it again.
    ack(&mut ws, &again, "LATER").await;
    let third = next_event(&mut ws).await;
    assert_eq!(third["headers"]["messageId"], first["headers"]["messageId"]);
    // After a reconnect, what is pending goes to the new connection.
    drop(ws);
    let mut ws = connect(&emu).await;
    let f = next_event(&mut ws).await;
    assert_eq!(f["headers"]["messageId"], first["headers"]["messageId"]);
    assert_eq!(event(&f).1["processInstanceId"], id.as_str());
    ack(&mut ws, &f, "SUCCESS").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while emu.pending_events() != 0 {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_refuses_bad_credentials_and_tickets() {
    let emu = Emulator::start().await.unwrap();
    let (s, b) = raw(
        &emu,
        "POST",
        "/v1.0/gateway/connections/open",
        Some(json!({"clientId": emu.app_key(), "clientSecret": "nope"})),
        None,
    )
    .await;
    assert_error(s, &b, 400, "invalidClientIdOrSecret");
    let url = format!("ws://{}/gateway/connect?ticket=made-up", emu.addr());
    assert!(tokio_tungstenite::connect_async(url).await.is_err());
    // A ticket works once.
    let (_, b) = raw(
        &emu,
        "POST",
        "/v1.0/gateway/connections/open",
        Some(json!({"clientId": emu.app_key(), "clientSecret": emu.app_secret()})),
        None,
    )
    .await;
    let url = format!(
        "{}?ticket={}",
        b["endpoint"].as_str().unwrap(),
        b["ticket"].as_str().unwrap()
    );
    let (_ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    assert!(tokio_tungstenite::connect_async(&url).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_sends_system_disconnect() {
    let emu = Emulator::start().await.unwrap();
    let mut ws = connect(&emu).await;
    emu.shutdown().await;
    let mut saw_disconnect = false;
    while let Ok(Some(Ok(msg))) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await {
        if let Message::Text(t) = msg {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["type"] == "SYSTEM" && v["headers"]["topic"] == "disconnect" {
                saw_disconnect = true;
            }
        }
    }
    assert!(saw_disconnect);
}
