//! Stream mode against a local gateway: the open-connection endpoint is a real HTTP server
//! and the gateway a real WebSocket server, both on 127.0.0.1. Every test drives the
//! connection frame by frame and checks each ACK frame the client sends.
#![allow(clippy::result_large_err)] // tungstenite's handshake callback signature

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use yida_auth::MemoryTicketStore;
use yida_e2e::{MockServer, Reply};
use yida_events::{
    AckMode, AckStatus, ApprovalResult, Event, EventKind, InstanceChange, StreamClient,
    StreamClientBuilder, StreamError, StreamHandle, TaskChange,
};

const WAIT: Duration = Duration::from_secs(10);
const TICKET: &str = "tk+/= 1";

/// One accepted gateway connection.
struct Conn {
    ws: WebSocketStream<TcpStream>,
    uri: String,
}

impl Conn {
    async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    /// The next text frame from the client, as JSON (control frames skipped).
    async fn recv(&mut self) -> Value {
        loop {
            let m = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("no frame from the client in time")
                .expect("socket ended")
                .expect("socket error");
            if let Message::Text(t) = m {
                return serde_json::from_str(t.as_str()).unwrap();
            }
        }
    }

    /// Nothing but control frames for `d`.
    async fn silent_for(&mut self, d: Duration) {
        let end = tokio::time::Instant::now() + d;
        while let Ok(m) = tokio::time::timeout_at(end, self.ws.next()).await {
            match m {
                Some(Ok(Message::Text(t))) => panic!("unexpected frame {t}"),
                Some(Ok(_)) => {}
                _ => panic!("socket ended"),
            }
        }
    }

    /// Waits until the client closed the socket (close frame or EOF).
    async fn closed(&mut self) {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("socket still open")
            {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(Message::Text(t))) => panic!("unexpected frame {t}"),
                Some(Ok(_)) => {}
            }
        }
    }
}

/// The open-connection endpoint plus the WebSocket gateway it points to.
struct Gateway {
    open: MockServer,
    conns: mpsc::Receiver<Conn>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Gateway {
    async fn start() -> Gateway {
        Gateway::start_after(vec![]).await
    }

    /// A gateway whose open endpoint first answers `first`, then opens connections.
    async fn start_after(first: Vec<Reply>) -> Gateway {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ws_url = format!("ws://{}/connect", listener.local_addr().unwrap());
        let (tx, conns) = mpsc::channel(16);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let uri = Arc::new(Mutex::new(String::new()));
                let u = uri.clone();
                let cb = move |req: &Request, resp: Response| {
                    *u.lock().unwrap() = req.uri().to_string();
                    Ok(resp)
                };
                if let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, cb).await {
                    let uri = uri.lock().unwrap().clone();
                    let _ = tx.send(Conn { ws, uri }).await;
                }
            }
        });
        let mut replies = first;
        replies.push(Reply::json(json!({"endpoint": ws_url, "ticket": TICKET})));
        let open = MockServer::script(replies).await;
        Gateway { open, conns, task }
    }

    async fn next_conn(&mut self) -> Conn {
        tokio::time::timeout(WAIT, self.conns.recv())
            .await
            .expect("client did not connect in time")
            .unwrap()
    }

    fn client(&self) -> StreamClientBuilder {
        StreamClient::builder("app-key", "app-secret-value")
            .endpoint(self.open.url())
            .backoff(Duration::from_millis(20), Duration::from_millis(100))
            .shutdown_grace(Duration::from_millis(500))
    }
}

/// What the handler saw; events whose data has `"block": true` wait for `gate`, those with
/// `"later": true` return LATER.
struct Probe {
    events: Mutex<Vec<Event>>,
    gate: Semaphore,
    running: AtomicUsize,
    max_running: AtomicUsize,
    aborted: AtomicUsize,
    entered: tokio::sync::Notify,
}

struct AbortGuard(Arc<Probe>, bool);
impl Drop for AbortGuard {
    fn drop(&mut self) {
        if !self.1 {
            self.0.aborted.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Probe {
    fn new() -> Arc<Probe> {
        Arc::new(Probe {
            events: Mutex::default(),
            gate: Semaphore::new(0),
            running: AtomicUsize::new(0),
            max_running: AtomicUsize::new(0),
            aborted: AtomicUsize::new(0),
            entered: tokio::sync::Notify::new(),
        })
    }

    fn start(self: &Arc<Self>, client: StreamClient) -> StreamHandle {
        let p = self.clone();
        client.start(move |e: Event| {
            let p = p.clone();
            async move {
                let mut guard = AbortGuard(p.clone(), false);
                let block = e.data["block"] == true;
                let later = e.data["later"] == true;
                let panics = e.data["panic"] == true;
                p.events.lock().unwrap().push(e);
                let now = p.running.fetch_add(1, Ordering::SeqCst) + 1;
                p.max_running.fetch_max(now, Ordering::SeqCst);
                p.entered.notify_one();
                if block {
                    p.gate.acquire().await.unwrap().forget();
                }
                p.running.fetch_sub(1, Ordering::SeqCst);
                guard.1 = true;
                if panics {
                    panic!("handler bug (expected by the test)");
                }
                if later {
                    AckStatus::Later
                } else {
                    AckStatus::Success
                }
            }
        })
    }

    fn count(&self) -> usize {
        self.events.lock().unwrap().len()
    }
}

fn event(mid: &str, eid: &str, etype: &str, data: Value) -> Value {
    json!({
        "specVersion": "1.0",
        "type": "EVENT",
        "headers": {
            "appId": "app-1", "connectionId": "c-1", "contentType": "application/json",
            "messageId": mid, "topic": "*", "time": "1683533823400",
            "eventId": eid, "eventType": etype, "eventCorpId": "dingcorp1",
            "eventBornTime": "1683533823336", "eventUnifiedAppId": "u-1"
        },
        "data": data.to_string()
    })
}

fn system(mid: &str, topic: &str, data: &str) -> Value {
    json!({
        "specVersion": "1.0", "type": "SYSTEM",
        "headers": {"contentType": "application/json", "messageId": mid, "topic": topic, "time": "1683533823400"},
        "data": data
    })
}

/// Asserts an ACK frame's exact shape; returns its data parsed.
fn check_ack(frame: &Value, mid: &str) -> Value {
    let obj = frame.as_object().unwrap();
    let mut keys: Vec<_> = obj.keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["code", "data", "headers", "message"], "{frame}");
    assert_eq!(frame["code"], 200, "{frame}");
    assert_eq!(frame["message"], "OK", "{frame}");
    assert_eq!(
        frame["headers"],
        json!({"contentType": "application/json", "messageId": mid}),
        "{frame}"
    );
    let data = frame["data"].as_str().expect("data is JSON text");
    serde_json::from_str(data).unwrap_or(Value::String(data.into()))
}

fn status_of(frame: &Value, mid: &str) -> String {
    check_ack(frame, mid)["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn opens_connects_answers_pings_and_acks_after_the_handler() {
    let mut gw = Gateway::start().await;
    let probe = Probe::new();
    let handle = probe.start(gw.client().local_ip("10.0.0.7").build().unwrap());
    let mut c = gw.next_conn().await;

    // The open-connection request.
    let reqs = gw.open.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, "/v1.0/gateway/connections/open");
    let body = reqs[0].json();
    assert_eq!(body["clientId"], "app-key");
    assert_eq!(body["clientSecret"], "app-secret-value");
    assert_eq!(
        body["subscriptions"],
        json!([{"type": "EVENT", "topic": "*"}])
    );
    assert_eq!(body["localIp"], "10.0.0.7");
    assert!(body["ua"].as_str().unwrap().starts_with("yida-rs/"));
    // The WebSocket URL carries the ticket, URL-encoded.
    assert_eq!(c.uri, "/connect?ticket=tk%2B%2F%3D%201");

    // A ping is echoed.
    c.send(system("p-1", "ping", "{\"opaque\":\"x-42\"}")).await;
    let ack = c.recv().await;
    assert_eq!(check_ack(&ack, "p-1"), json!({"opaque": "x-42"}));
    assert_eq!(ack["data"], "{\"opaque\":\"x-42\"}");

    // An approval event: no ACK while the handler runs, SUCCESS after.
    c.send(event(
        "m-1",
        "e-1",
        "bpms_instance_change",
        json!({"processInstanceId": "PI-9", "type": "finish", "result": "agree", "block": true,
               "processCode": "PROC-1", "finishTime": 1495592272000u64}),
    ))
    .await;
    tokio::time::timeout(WAIT, probe.entered.notified())
        .await
        .unwrap();
    c.silent_for(Duration::from_millis(200)).await;
    probe.gate.add_permits(1);
    assert_eq!(status_of(&c.recv().await, "m-1"), "SUCCESS");

    // A task event the handler cannot process now: LATER.
    c.send(event(
        "m-2",
        "e-2",
        "bpms_task_change",
        json!({"processInstanceId": "PI-9", "type": "cancel", "taskId": 811165, "later": true}),
    ))
    .await;
    assert_eq!(status_of(&c.recv().await, "m-2"), "LATER");

    // A handler that panics: the event is ACKed LATER, the client keeps going.
    c.send(event("m-p", "e-p", "x_event", json!({"panic": true})))
        .await;
    assert_eq!(status_of(&c.recv().await, "m-p"), "LATER");

    // An unknown event type is delivered, with its raw data.
    c.send(event(
        "m-3",
        "e-3",
        "user_add_org",
        json!({"userId": ["u1"]}),
    ))
    .await;
    assert_eq!(status_of(&c.recv().await, "m-3"), "SUCCESS");

    let mut events = probe.events.lock().unwrap().clone();
    assert_eq!(events.len(), 4);
    events.remove(2); // the panicking one
    assert_eq!(events[0].event_id.as_deref(), Some("e-1"));
    assert_eq!(events[0].corp_id.as_deref(), Some("dingcorp1"));
    assert_eq!(
        events[0].born_at,
        Some(UNIX_EPOCH + Duration::from_millis(1_683_533_823_336))
    );
    match &events[0].kind {
        EventKind::BpmsInstanceChange(c) => {
            assert_eq!(c.process_instance_id, "PI-9");
            assert_eq!(c.change, InstanceChange::Finish);
            assert_eq!(c.result, Some(ApprovalResult::Agree));
        }
        other => panic!("{other:?}"),
    }
    match &events[1].kind {
        EventKind::BpmsTaskChange(t) => {
            assert_eq!(t.change, TaskChange::Cancel);
            assert_eq!(t.task_id.as_deref(), Some("811165"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(events[2].kind, EventKind::Other);
    assert_eq!(events[2].event_type, "user_add_org");
    assert_eq!(events[2].data, json!({"userId": ["u1"]}));
    let line: Value = serde_json::from_str(&events[2].to_json_line()).unwrap();
    assert_eq!(
        line,
        json!({"type": "user_add_org", "eventId": "e-3", "corpId": "dingcorp1", "data": {"userId": ["u1"]}})
    );

    handle.shutdown().await.unwrap();
    c.closed().await;
}

#[tokio::test]
async fn redeliveries_are_deduplicated_and_acked() {
    let mut gw = Gateway::start().await;
    let probe = Probe::new();
    let handle = probe.start(gw.client().build().unwrap());
    let mut c = gw.next_conn().await;

    // Handled once; the redelivery (new message id, same event id) is ACKed without a
    // second handler call.
    c.send(event("m-1", "e-1", "x_event", json!({}))).await;
    assert_eq!(status_of(&c.recv().await, "m-1"), "SUCCESS");
    c.send(event("m-1b", "e-1", "x_event", json!({}))).await;
    assert_eq!(status_of(&c.recv().await, "m-1b"), "SUCCESS");
    assert_eq!(probe.count(), 1);

    // Redelivered while its handler still runs: both deliveries are ACKed when it ends.
    c.send(event("m-2", "e-2", "x_event", json!({"block": true})))
        .await;
    tokio::time::timeout(WAIT, probe.entered.notified())
        .await
        .unwrap();
    c.send(event("m-2b", "e-2", "x_event", json!({"block": true})))
        .await;
    c.silent_for(Duration::from_millis(200)).await;
    probe.gate.add_permits(1);
    assert_eq!(status_of(&c.recv().await, "m-2"), "SUCCESS");
    assert_eq!(status_of(&c.recv().await, "m-2b"), "SUCCESS");
    assert_eq!(probe.count(), 2);

    // LATER means "again later": the redelivery runs the handler again.
    c.send(event("m-3", "e-3", "x_event", json!({"later": true})))
        .await;
    assert_eq!(status_of(&c.recv().await, "m-3"), "LATER");
    c.send(event("m-3b", "e-3", "x_event", json!({"later": true})))
        .await;
    assert_eq!(status_of(&c.recv().await, "m-3b"), "LATER");
    assert_eq!(probe.count(), 4);

    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_disconnect_finishes_running_handlers_then_reconnects() {
    let mut gw = Gateway::start().await;
    let probe = Probe::new();
    let handle = probe.start(gw.client().build().unwrap());
    let mut c = gw.next_conn().await;

    c.send(event("m-1", "e-1", "x_event", json!({"block": true})))
        .await;
    tokio::time::timeout(WAIT, probe.entered.notified())
        .await
        .unwrap();
    c.send(system(
        "d-1",
        "disconnect",
        "{\"reason\":\"persistent connection is timeout\"}",
    ))
    .await;
    let ack = c.recv().await;
    assert_eq!(
        check_ack(&ack, "d-1"),
        json!({"reason": "persistent connection is timeout"})
    );
    // Frames after the disconnect are not read; the running handler is ACKed on the old
    // connection, then the socket closes.
    probe.gate.add_permits(1);
    assert_eq!(status_of(&c.recv().await, "m-1"), "SUCCESS");
    c.closed().await;

    // A new connection is opened and works.
    let mut c2 = gw.next_conn().await;
    assert_eq!(gw.open.count(), 2);
    c2.send(event("m-2", "e-2", "x_event", json!({}))).await;
    assert_eq!(status_of(&c2.recv().await, "m-2"), "SUCCESS");
    handle.shutdown().await.unwrap();
    c2.closed().await;
}

#[tokio::test]
async fn a_dropped_socket_and_a_silent_gateway_both_lead_to_a_new_connection() {
    let mut gw = Gateway::start().await;
    let probe = Probe::new();
    let handle = probe.start(
        gw.client()
            .idle_timeout(Duration::from_millis(400))
            .build()
            .unwrap(),
    );
    // Dropped without a close frame.
    let c = gw.next_conn().await;
    drop(c);
    let mut c2 = gw.next_conn().await;
    c2.send(event("m-1", "e-1", "x_event", json!({}))).await;
    assert_eq!(status_of(&c2.recv().await, "m-1"), "SUCCESS");

    // Now the gateway goes silent: it neither sends nor reads (so the client's WebSocket
    // pings go unanswered). The idle watchdog reconnects.
    let silent = c2;
    let mut c3 = gw.next_conn().await;
    assert_eq!(gw.open.count(), 3);
    c3.send(system("p-1", "ping", "{}")).await;
    check_ack(&c3.recv().await, "p-1");
    // Keeps the silent socket alive until here, so only the watchdog could have ended it.
    drop(silent);
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn ack_first_is_an_explicit_choice() {
    let mut gw = Gateway::start().await;
    let probe = Probe::new();
    let handle = probe.start(gw.client().ack_mode(AckMode::Immediately).build().unwrap());
    let mut c = gw.next_conn().await;
    c.send(event(
        "m-1",
        "e-1",
        "x_event",
        json!({"block": true, "later": true}),
    ))
    .await;
    // ACKed SUCCESS before the handler ends (and its LATER is ignored).
    assert_eq!(status_of(&c.recv().await, "m-1"), "SUCCESS");
    tokio::time::timeout(WAIT, probe.entered.notified())
        .await
        .unwrap();
    probe.gate.add_permits(1);
    c.silent_for(Duration::from_millis(200)).await;
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn handler_concurrency_is_bounded_and_overflow_is_acked_later() {
    let mut gw = Gateway::start().await;
    let probe = Probe::new();
    let handle = probe.start(gw.client().max_concurrency(1, 1).build().unwrap());
    let mut c = gw.next_conn().await;
    for i in 1..=3 {
        c.send(event(
            &format!("m-{i}"),
            &format!("e-{i}"),
            "x_event",
            json!({"block": true}),
        ))
        .await;
    }
    // One running, one waiting, the third refused for now.
    assert_eq!(status_of(&c.recv().await, "m-3"), "LATER");
    // Pings are still answered while handlers are busy.
    c.send(system("p-1", "ping", "{}")).await;
    check_ack(&c.recv().await, "p-1");
    probe.gate.add_permits(2);
    assert_eq!(status_of(&c.recv().await, "m-1"), "SUCCESS");
    assert_eq!(status_of(&c.recv().await, "m-2"), "SUCCESS");
    assert_eq!(probe.max_running.load(Ordering::SeqCst), 1);
    // The refused event, redelivered, is handled.
    c.send(event("m-3b", "e-3", "x_event", json!({}))).await;
    assert_eq!(status_of(&c.recv().await, "m-3b"), "SUCCESS");
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_leaves_no_task_and_no_socket_behind() {
    let mut gw = Gateway::start().await;
    let probe = Probe::new();
    let handle = probe.start(gw.client().build().unwrap());
    let mut c = gw.next_conn().await;
    c.send(event("m-1", "e-1", "x_event", json!({"block": true})))
        .await;
    tokio::time::timeout(WAIT, probe.entered.notified())
        .await
        .unwrap();
    // The handler never finishes: shutdown waits the grace period, then aborts it.
    tokio::time::timeout(WAIT, handle.shutdown())
        .await
        .expect("shutdown hangs")
        .unwrap();
    assert_eq!(probe.aborted.load(Ordering::SeqCst), 1);
    c.closed().await;
    // No reconnection afterwards.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(gw.open.count(), 1);
}

#[tokio::test]
async fn throttling_on_open_is_waited_out_not_taken_for_refused_credentials() {
    // DingTalk's throttling and the gateway's ban say nothing about the credentials: the
    // client keeps trying (with its backoff) and connects once the gateway lets it.
    let mut gw = Gateway::start_after(vec![
        Reply::status_json(403, json!({"status": 1111, "wait": 0.01})),
        Reply::error(
            403,
            "Forbidden.AccessDenied.QpsLimitForApi",
            "slow down",
            "R-1",
        ),
    ])
    .await;
    let probe = Probe::new();
    let handle = probe.start(gw.client().build().unwrap());
    let _conn = gw.next_conn().await;
    assert_eq!(gw.open.count(), 3);
    drop(handle);
}

#[tokio::test]
async fn refused_credentials_end_the_client_with_a_typed_error() {
    let open = MockServer::always(Reply::error(
        401,
        "InvalidAuthentication",
        "clientId or clientSecret invalid",
        "REQ-S",
    ))
    .await;
    let mut handle = StreamClient::builder("app-key", "app-secret-value")
        .endpoint(open.url())
        .build()
        .unwrap()
        .start(|_e: Event| async { AckStatus::Success });
    let err = tokio::time::timeout(WAIT, handle.join())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(
        err,
        StreamError::Open {
            status: 401,
            code: Some("InvalidAuthentication".into()),
            message: Some("clientId or clientSecret invalid".into()),
            request_id: Some("REQ-S".into()),
        }
    );
    assert!(!err.to_string().contains("app-secret-value"));
    assert_eq!(open.count(), 1);
    // Bad settings are refused before anything is sent.
    assert!(matches!(
        StreamClient::builder("", "s").build().unwrap_err(),
        StreamError::Config {
            name: "clientId",
            ..
        }
    ));
    let b = StreamClient::builder("k", "app-secret-value");
    assert!(!format!("{b:?}").contains("app-secret-value"));
}

#[tokio::test]
async fn a_suite_ticket_event_updates_the_store_newest_first() {
    let mut gw = Gateway::start().await;
    let probe = Probe::new();
    let tickets = MemoryTicketStore::new();
    let handle = probe.start(gw.client().suite_tickets(tickets.clone()).build().unwrap());
    let mut c = gw.next_conn().await;
    let mut newer = event(
        "m-1",
        "e-1",
        "suite_ticket",
        json!({"suiteTicket": "ST-NEW"}),
    );
    newer["headers"]["eventBornTime"] = json!("1700000002000");
    let mut older = event(
        "m-2",
        "e-2",
        "suite_ticket",
        json!({"suiteTicket": "ST-OLD"}),
    );
    older["headers"]["eventBornTime"] = json!("1700000001000");
    c.send(newer).await;
    assert_eq!(status_of(&c.recv().await, "m-1"), "SUCCESS");
    c.send(older).await;
    assert_eq!(status_of(&c.recv().await, "m-2"), "SUCCESS");
    let t = tickets.get().unwrap();
    assert_eq!(t.value().expose(), "ST-NEW");
    assert_eq!(
        t.pushed_at(),
        UNIX_EPOCH + Duration::from_millis(1_700_000_002_000)
    );
    assert!(probe
        .events
        .lock()
        .unwrap()
        .iter()
        .all(|e| !format!("{e:?}").contains("ST-")));
    handle.shutdown().await.unwrap();
}

// ---- Issue 19 (hardening round 3) ----

#[tokio::test]
async fn an_endless_open_connection_reply_is_cut_at_the_cap() {
    let open = MockServer::always(Reply::endless(200)).await;
    let handle = StreamClient::builder("app-key", "app-secret-value")
        .endpoint(open.url())
        .backoff(Duration::from_millis(200), Duration::from_millis(200))
        .build()
        .unwrap()
        .start(|_e: Event| async { AckStatus::Success });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let sent = open.streamed_bytes();
    handle.shutdown().await.unwrap();
    // A few attempts, each cut at the cap (plus what the socket buffers held).
    assert!(sent < 64 << 20, "{sent} bytes streamed into the client");
}

#[tokio::test]
async fn the_gateways_error_text_is_sanitised_and_capped() {
    let forged = format!("bad\u{1b}[31m\r\nFAKE: line{}", "x".repeat(50_000));
    let open = MockServer::always(Reply::error(401, "Invalid\r\nAuth", &forged, "REQ\u{1b}")).await;
    let mut handle = StreamClient::builder("app-key", "app-secret-value")
        .endpoint(open.url())
        .build()
        .unwrap()
        .start(|_e: Event| async { AckStatus::Success });
    let err = tokio::time::timeout(WAIT, handle.join())
        .await
        .unwrap()
        .unwrap_err();
    let shown = err.to_string();
    assert!(shown.len() < 600, "{} bytes", shown.len());
    assert!(!shown.contains('\u{1b}') && !shown.contains('\r') && !shown.contains('\n'));
    assert!(
        shown.contains("badx") || shown.contains("bad[31mFAKE"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_gateway_that_floods_pings_and_stops_reading_is_dropped_and_reconnected() {
    let mut gw = Gateway::start().await;
    let probe = Probe::new();
    let handle = probe.start(
        gw.client()
            .idle_timeout(Duration::from_secs(60))
            .write_timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    );
    let c = gw.next_conn().await;
    // Flood SYSTEM pings (each needs an ACK) without ever reading the ACKs.
    let (mut sink, _stream) = c.ws.split();
    let flood = tokio::spawn(async move {
        let ping = system("p", "ping", r#"{"opaque":"x"}"#).to_string();
        loop {
            if sink.send(Message::Text(ping.clone().into())).await.is_err() {
                break;
            }
        }
    });
    // The client gives up on the connection that does not read, and opens a new one.
    let mut c2 = gw.next_conn().await;
    flood.abort();
    c2.send(event("m-1", "e-1", "x", json!({}))).await;
    assert_eq!(status_of(&c2.recv().await, "m-1"), "SUCCESS");
    tokio::time::timeout(WAIT, handle.shutdown())
        .await
        .expect("shutdown hung")
        .unwrap();
}

#[tokio::test]
async fn the_handle_reports_readiness_and_counts_events_acks_and_reconnects() {
    let mut gw = Gateway::start().await;
    let probe = Probe::new();
    let handle = probe.start(gw.client().build().unwrap());
    assert!(!handle.is_connected());
    let mut c = gw.next_conn().await;
    // Readiness instead of a warm-up sleep.
    assert!(tokio::time::timeout(WAIT, handle.ready()).await.unwrap());
    c.send(event("m-1", "e-1", "x", json!({}))).await;
    c.send(event("m-2", "e-2", "x", json!({"later": true})))
        .await;
    let mut acks: Vec<(String, String)> = Vec::new();
    for _ in 0..2 {
        let f = c.recv().await;
        let mid = f["headers"]["messageId"].as_str().unwrap().to_string();
        acks.push((mid.clone(), status_of(&f, &mid)));
    }
    acks.sort();
    assert_eq!(
        acks,
        [
            ("m-1".into(), "SUCCESS".into()),
            ("m-2".into(), "LATER".into())
        ]
    );
    // The gateway drops the socket: the client reconnects.
    drop(c);
    let _c2 = gw.next_conn().await;
    assert!(tokio::time::timeout(WAIT, handle.ready()).await.unwrap());
    let s = handle.stats();
    assert!(s.connected);
    assert_eq!((s.connections, s.reconnects), (2, 1));
    assert_eq!((s.events, s.acks_success, s.acks_later), (2, 1, 1));
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn user_info_in_the_gateway_endpoint_cannot_send_the_ticket_in_clear_elsewhere() {
    // `ws://127.0.0.1:1@127.0.0.2/…` dials 127.0.0.2:80 (the part after `@`). Port 80 needs
    // privileges; without them the same URL with an explicit port is checked.
    let (elsewhere, endpoint) = match TcpListener::bind("127.0.0.2:80").await {
        Ok(l) => (l, "ws://127.0.0.1:1@127.0.0.2/connect".to_string()),
        Err(_) => {
            let l = TcpListener::bind("127.0.0.2:0").await.unwrap();
            let port = l.local_addr().unwrap().port();
            (l, format!("ws://127.0.0.1:1@127.0.0.2:{port}/connect"))
        }
    };
    let open = MockServer::always(Reply::json(json!({
        "endpoint": endpoint,
        "ticket": TICKET,
    })))
    .await;
    let handle = StreamClient::builder("app-key", "app-secret-value")
        .endpoint(open.url())
        .backoff(Duration::from_millis(20), Duration::from_millis(50))
        .build()
        .unwrap()
        .start(|_e: Event| async { AckStatus::Success });
    let deadline = tokio::time::Instant::now() + WAIT;
    while open.count() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no retry: the client is stuck dialling 127.0.0.2"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Three attempts made, none reached the other host.
    assert!(
        tokio::time::timeout(Duration::from_millis(200), elsewhere.accept())
            .await
            .is_err(),
        "the client dialled 127.0.0.2 in clear"
    );
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_gateway_endpoint_with_a_fragment_still_gets_the_ticket() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let open = MockServer::always(Reply::json(json!({
        "endpoint": format!("ws://{addr}/connect?v=1#frag"),
        "ticket": TICKET,
    })))
    .await;
    let handle = StreamClient::builder("app-key", "app-secret-value")
        .endpoint(open.url())
        .build()
        .unwrap()
        .start(|_e: Event| async { AckStatus::Success });
    let (tcp, _) = tokio::time::timeout(WAIT, listener.accept())
        .await
        .unwrap()
        .unwrap();
    let uri = Arc::new(Mutex::new(String::new()));
    let u = uri.clone();
    let _ws = tokio_tungstenite::accept_hdr_async(tcp, move |req: &Request, resp: Response| {
        *u.lock().unwrap() = req.uri().to_string();
        Ok(resp)
    })
    .await
    .unwrap();
    assert_eq!(*uri.lock().unwrap(), "/connect?v=1&ticket=tk%2B%2F%3D%201");
    assert!(tokio::time::timeout(WAIT, handle.ready()).await.unwrap());
    handle.shutdown().await.unwrap();
}
