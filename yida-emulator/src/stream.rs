//! The Stream-mode gateway's server side: `POST /v1.0/gateway/connections/open` hands out a
//! one-use ticket, the WebSocket at `/gateway/connect?ticket=…` carries EVENT frames, and every
//! frame stays pending until the client ACKs it with `{"status":"SUCCESS"}`. Unacknowledged
//! frames (no ACK, or `LATER`) are sent again after the redelivery interval, and to the next
//! connection of the same client after a reconnect.

use crate::shared::now_ms;
use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

struct Conn {
    id: u64,
    client_id: String,
    tx: mpsc::UnboundedSender<Message>,
}

struct Pending {
    client_id: String,
    frame: String,
    sent_at: Option<Instant>,
}

#[derive(Default)]
struct Inner {
    tickets: HashMap<String, String>,
    conns: Vec<Conn>,
    /// Clients that have connected at least once: they get every event from then on.
    subscribers: BTreeSet<String>,
    pending: BTreeMap<String, Pending>,
    seq: u64,
    closed: bool,
}

/// Connections and pending events.
pub struct Hub {
    inner: Mutex<Inner>,
    redeliver_after: Duration,
    /// Where events also go as HTTP pushes (`--callback`, see `isv.rs`).
    tap: Mutex<Option<mpsc::UnboundedSender<crate::isv::Pushed>>>,
}

impl Hub {
    pub fn new(redeliver_after: Duration) -> Hub {
        Hub {
            inner: Mutex::new(Inner::default()),
            redeliver_after,
            tap: Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn new_ticket(&self, client_id: &str) -> String {
        let mut g = self.lock();
        g.seq += 1;
        // 128 bits from the system's random source: a ticket opens a connection that receives
        // the app's events, so it must not be guessable from the clock and a counter.
        let mut bytes = [0u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            // No random source: a ticket nobody can use (the connection is refused).
            return String::new();
        }
        let ticket: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        g.tickets.insert(ticket.clone(), client_id.to_string());
        ticket
    }

    /// Sends every published event to `tx` too (the HTTP callback pusher).
    pub fn set_tap(&self, tx: mpsc::UnboundedSender<crate::isv::Pushed>) {
        *self.tap.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
    }

    /// Hands an event to the HTTP callback pusher, if there is one.
    pub fn to_callback(&self, event_type: &str, corp: &str, data: &Value) {
        if let Some(tx) = &*self.tap.lock().unwrap_or_else(|e| e.into_inner()) {
            let _ = tx.send(crate::isv::Pushed {
                event_type: event_type.to_string(),
                corp_id: corp.to_string(),
                data: data.clone(),
            });
        }
    }

    pub fn take_ticket(&self, ticket: &str) -> Option<String> {
        self.lock().tickets.remove(ticket)
    }

    /// Queues an event for every subscribed client and sends it where a connection is open.
    pub fn publish(&self, event_type: &str, corp: &str, data: Value) {
        self.to_callback(event_type, corp, &data);
        let mut g = self.lock();
        if g.closed {
            return;
        }
        let clients: Vec<String> = g.subscribers.iter().cloned().collect();
        for client in clients {
            g.seq += 1;
            let n = g.seq;
            let message_id = format!("emu-msg-{:x}-{n}", now_ms());
            let now = now_ms();
            let frame = json!({
                "specVersion": "1.0",
                "type": "EVENT",
                "headers": {
                    "appId": client,
                    "contentType": "application/json",
                    "eventBornTime": now.to_string(),
                    "eventCorpId": corp,
                    "eventId": format!("emu-evt-{n}"),
                    "eventType": event_type,
                    "eventUnifiedAppId": client,
                    "messageId": message_id,
                    "time": now.to_string(),
                    "topic": "*",
                },
                "data": data.to_string(),
            })
            .to_string();
            let sent = send_to(&g.conns, &client, &frame);
            g.pending.insert(
                message_id,
                Pending {
                    client_id: client,
                    frame,
                    sent_at: sent.then(Instant::now),
                },
            );
        }
    }

    fn ack(&self, message_id: &str, later: bool) {
        let mut g = self.lock();
        if later {
            if let Some(p) = g.pending.get_mut(message_id) {
                p.sent_at = Some(Instant::now());
            }
        } else {
            g.pending.remove(message_id);
        }
    }

    fn redeliver(&self) {
        let mut g = self.lock();
        let now = Instant::now();
        let due: Vec<String> = g
            .pending
            .iter()
            .filter(|(_, p)| {
                p.sent_at
                    .is_none_or(|t| now.duration_since(t) >= self.redeliver_after)
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in due {
            let (client, frame) = match g.pending.get(&k) {
                Some(p) => (p.client_id.clone(), p.frame.clone()),
                None => continue,
            };
            if send_to(&g.conns, &client, &frame) {
                if let Some(p) = g.pending.get_mut(&k) {
                    p.sent_at = Some(now);
                }
            }
        }
    }

    /// Number of events sent but not acknowledged yet.
    pub fn pending(&self) -> usize {
        self.lock().pending.len()
    }

    /// Tells every client to go away (SYSTEM `disconnect`) and closes the connections.
    pub fn close_all(&self) {
        let mut g = self.lock();
        g.closed = true;
        for c in g.conns.drain(..) {
            let _ = c.tx.send(Message::Text(
                system_frame("disconnect", "{\"reason\":\"emulator stopped\"}").into(),
            ));
            let _ = c.tx.send(Message::Close(None));
        }
    }
}

fn system_frame(topic: &str, data: &str) -> String {
    json!({
        "specVersion": "1.0",
        "type": "SYSTEM",
        "headers": {
            "contentType": "application/json",
            "messageId": format!("emu-sys-{:x}", now_ms()),
            "time": now_ms().to_string(),
            "topic": topic,
        },
        "data": data,
    })
    .to_string()
}

fn send_to(conns: &[Conn], client: &str, frame: &str) -> bool {
    conns
        .iter()
        .filter(|c| c.client_id == client)
        .any(|c| c.tx.send(Message::Text(frame.to_string().into())).is_ok())
}

/// Serves one WebSocket connection until it closes.
pub async fn serve(hub: Arc<Hub>, client_id: String, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let conn_id = {
        let mut g = hub.lock();
        if g.closed {
            return;
        }
        g.seq += 1;
        let id = g.seq;
        g.subscribers.insert(client_id.clone());
        g.conns.push(Conn {
            id,
            client_id: client_id.clone(),
            tx: tx.clone(),
        });
        // Whatever this client left unacknowledged goes out again now.
        for p in g.pending.values_mut().filter(|p| p.client_id == client_id) {
            if tx.send(Message::Text(p.frame.clone().into())).is_ok() {
                p.sent_at = Some(Instant::now());
            }
        }
        id
    };
    drop(tx);
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            let close = matches!(m, Message::Close(_));
            if sink.send(m).await.is_err() || close {
                break;
            }
        }
        let _ = sink.close().await;
    });
    while let Some(Ok(msg)) = stream.next().await {
        let text = match msg {
            Message::Text(t) => t.to_string(),
            Message::Close(_) => break,
            _ => continue,
        };
        let v: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(_) => continue,
        };
        let Some(message_id) = v.pointer("/headers/messageId").and_then(Value::as_str) else {
            continue;
        };
        let status = v
            .get("data")
            .and_then(Value::as_str)
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
            .and_then(|d| d.get("status").and_then(Value::as_str).map(String::from));
        let ok = v.get("code").and_then(Value::as_i64) == Some(200);
        let later = !ok || status.as_deref() == Some("LATER");
        hub.ack(message_id, later);
    }
    {
        let mut g = hub.lock();
        g.conns.retain(|c| c.id != conn_id);
    }
    writer.abort();
}

/// Resends unacknowledged events until the emulator goes away.
pub fn spawn_redelivery(hub: Arc<Hub>) {
    let period = (hub.redeliver_after / 2).max(Duration::from_millis(20));
    let weak: Weak<Hub> = Arc::downgrade(&hub);
    drop(hub);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            let Some(s) = weak.upgrade() else { break };
            if s.lock().closed {
                break;
            }
            s.redeliver();
        }
    });
}
