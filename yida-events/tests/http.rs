//! HTTP push: an axum server on loopback hosting HttpEndpoint, driven with fixed vectors
//! encrypted outside our code (DingTalk's documented example and tests/gen_vectors.py).

mod common;

use common::*;
use serde_json::Value;
use sha1::{Digest, Sha1};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use yida_events::{
    ApprovalResult, CallbackCrypto, CallbackError, CallbackParams, EventKind, HttpEndpoint,
    InstanceChange, MAX_BODY_BYTES, MAX_ENCRYPT_CHARS,
};

fn crypto() -> CallbackCrypto {
    CallbackCrypto::new(TOKEN, AES, OWNER)
        .unwrap()
        .max_age(None)
}

fn params(sig: &str) -> CallbackParams {
    CallbackParams::from_query(&query(sig))
}

fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// Signature computed here with the sha1 crate, not through CallbackCrypto.
fn sign(token: &str, ts: &str, nonce: &str, encrypt: &str) -> String {
    let mut v = [token, ts, nonce, encrypt];
    v.sort();
    Sha1::digest(v.concat().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn the_documented_example_decrypts_over_http_and_gets_an_encrypted_success() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    let endpoint = HttpEndpoint::new(
        CallbackCrypto::new(DOC_TOKEN, DOC_AES, DOC_OWNER)
            .unwrap()
            .max_age(None),
    );
    let server = CallbackServer::start(endpoint.clone()).await;
    let (status, reply) = server
        .push(&format!("/any/path?{DOC_QUERY}"), body(DOC_ENCRYPT))
        .await;
    assert_eq!(status, 200, "{reply}");
    let events = server.events.lock().unwrap().clone();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.event_type, "check_create_suite_url");
    assert_eq!(
        e.data,
        serde_json::json!({"EventType":"check_create_suite_url","Random":"LPIdSnlF","TestSuiteKey":"suite4xxxxxxxxxxxxxxx"})
    );
    match &e.kind {
        EventKind::CheckUrl(c) => {
            assert_eq!(c.random.as_deref(), Some("LPIdSnlF"));
            assert_eq!(c.test_suite_key.as_deref(), Some(DOC_OWNER));
        }
        other => panic!("{other:?}"),
    }
    // The documented plaintext is exactly 97 bytes.
    let msg = endpoint.crypto().decrypt(DOC_ENCRYPT).unwrap();
    assert_eq!(msg.len(), 97);
    // The reply: exactly four fields, signed (checked with an independent SHA-1), and its
    // encrypt decrypts to `success` for our owner key.
    let r: Value = serde_json::from_str(&reply).unwrap();
    let obj = r.as_object().unwrap();
    let mut keys: Vec<_> = obj.keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["encrypt", "msg_signature", "nonce", "timeStamp"]);
    let s = |k: &str| obj[k].as_str().unwrap().to_string();
    assert_eq!(
        s("msg_signature"),
        sign(DOC_TOKEN, &s("timeStamp"), &s("nonce"), &s("encrypt"))
    );
    assert_eq!(
        endpoint.crypto().decrypt(&s("encrypt")).unwrap(),
        b"success"
    );
}

#[tokio::test]
async fn both_spellings_of_the_query_parameters_are_accepted() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    let server = CallbackServer::start(HttpEndpoint::new(crypto())).await;
    let (status, _) = server
        .push(
            &format!("/?msg_signature={}&timeStamp={TS}&nonce={NONCE}", BPMS.1),
            body(BPMS.0),
        )
        .await;
    assert_eq!(status, 200);
    let e = server.events.lock().unwrap()[0].clone();
    assert_eq!(e.event_type, "bpms_instance_change");
    assert_eq!(e.corp_id.as_deref(), Some("dingcorp1"));
    match e.kind {
        EventKind::BpmsInstanceChange(c) => {
            assert_eq!(c.process_instance_id, "PI-1");
            assert_eq!(c.change, InstanceChange::Finish);
            assert_eq!(c.result, Some(ApprovalResult::Refuse));
            assert_eq!(c.process_code.as_deref(), Some("PROC-1"));
            assert_eq!(c.finish_time, Some(at(1_495_592_305_000)));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn invalid_pushes_get_400_or_403_and_no_event() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    let server = CallbackServer::start(HttpEndpoint::new(crypto())).await;
    let mut flipped = TICKET.0.to_string();
    flipped.replace_range(10..11, if &flipped[10..11] == "A" { "B" } else { "A" });
    let cases: Vec<(String, String, u16)> = vec![
        // Signature over other data.
        (query(BPMS.1), body(TICKET.0), 403),
        // Ciphertext tampered after signing.
        (query(TICKET.1), body(&flipped), 403),
        // Encrypted for another app.
        (query(WRONG_OWNER.1), body(WRONG_OWNER.0), 403),
        // Length field larger than the data.
        (query(BAD_LENGTH.1), body(BAD_LENGTH.0), 400),
        // Padding byte 40 (> 32).
        (query(BAD_PADDING.1), body(BAD_PADDING.0), 400),
        // Decrypts, but is not JSON.
        (query(NOT_JSON.1), body(NOT_JSON.0), 400),
        // Missing nonce, missing everything, body not JSON, body without encrypt.
        (
            format!("signature={}&timestamp={TS}", TICKET.1),
            body(TICKET.0),
            400,
        ),
        (String::new(), body(TICKET.0), 400),
        (query(TICKET.1), "not json".into(), 400),
        (query(TICKET.1), "{\"other\":1}".into(), 400),
        // Over the body limit.
        (query(TICKET.1), "x".repeat(MAX_BODY_BYTES + 1), 400),
    ];
    for (q, b, want) in cases {
        let (status, text) = server.push(&format!("/cb?{q}"), b).await;
        assert_eq!(status, want, "{q}: {text}");
        for secret in [TOKEN, AES] {
            assert!(!text.contains(secret));
        }
    }
    assert!(server.events.lock().unwrap().is_empty());
}

#[test]
fn each_fault_has_its_own_typed_error() {
    let c = crypto();
    let open = |v: (&str, &str)| c.open(&params(v.1), body(v.0).as_bytes());
    assert_eq!(open(WRONG_OWNER).unwrap_err(), CallbackError::WrongOwner);
    assert!(matches!(
        open(BAD_LENGTH).unwrap_err(),
        CallbackError::BadLength { declared: 9999, .. }
    ));
    assert_eq!(open(BAD_PADDING).unwrap_err(), CallbackError::BadPadding);
    assert!(matches!(
        open(NOT_JSON).unwrap_err(),
        CallbackError::BadMessage { .. }
    ));
    assert_eq!(
        open((TICKET.0, BPMS.1)).unwrap_err(),
        CallbackError::BadSignature
    );
    // Ciphertext not a multiple of 32 bytes, and not base64, re-signed so only that fails.
    for bad in ["QUJD", "!!!!"] {
        let sig = sign(TOKEN, TS, NONCE, bad);
        assert!(matches!(
            c.open(&params(&sig), body(bad).as_bytes()).unwrap_err(),
            CallbackError::BadCiphertext { .. }
        ));
    }
    // Huge encrypt value within a body under the limit is refused before decoding.
    let big = "A".repeat(MAX_ENCRYPT_CHARS + 4);
    let sig = sign(TOKEN, TS, NONCE, &big);
    assert!(matches!(
        c.open(&params(&sig), body(&big).as_bytes()).unwrap_err(),
        CallbackError::TooLarge {
            what: "encrypt",
            ..
        }
    ));
    assert!(matches!(
        c.open(&params(TICKET.1), &vec![b' '; MAX_BODY_BYTES + 1])
            .unwrap_err(),
        CallbackError::TooLarge { what: "body", .. }
    ));
    // Uppercase hex signatures are fine.
    assert!(c
        .open(&params(&TICKET.1.to_uppercase()), body(TICKET.0).as_bytes())
        .is_ok());
}

#[test]
fn stale_and_replayed_pushes_are_refused() {
    let ts: u64 = TS.parse().unwrap();
    let c = CallbackCrypto::new(TOKEN, AES, OWNER)
        .unwrap()
        .max_age(Some(Duration::from_secs(60)));
    let b = body(TICKET.0);
    // Too old and too far in the future.
    for now in [ts + 61_000, ts - 61_000] {
        assert!(matches!(
            c.open_at(&params(TICKET.1), b.as_bytes(), at(now))
                .unwrap_err(),
            CallbackError::Stale {
                window_secs: 60,
                ..
            }
        ));
    }
    // Inside the window. Replays are refused by HttpEndpoint once a push was handled
    // (tests below, over HTTP); the crypto alone only checks.
    assert!(c
        .open_at(&params(TICKET.1), b.as_bytes(), at(ts + 1000))
        .is_ok());
    // A different push in the same window is fine.
    assert!(c
        .open_at(&params(BPMS.1), body(BPMS.0).as_bytes(), at(ts + 2000))
        .is_ok());
    // Default window: the 2015 documented example is stale today.
    let doc = CallbackCrypto::new(DOC_TOKEN, DOC_AES, DOC_OWNER).unwrap();
    let e = doc
        .open(
            &CallbackParams::from_query(DOC_QUERY),
            body(DOC_ENCRYPT).as_bytes(),
        )
        .unwrap_err();
    assert!(matches!(e, CallbackError::Stale { .. }));
}

#[test]
fn round_trip_and_secrets_stay_out_of_debug_and_errors() {
    let c = crypto();
    for msg in [&b""[..], b"x", &[7u8; 100][..], "日本語".as_bytes()] {
        let e = c.encrypt(msg).unwrap();
        assert_eq!(c.decrypt(&e).unwrap(), msg);
    }
    // Two encryptions of the same text differ (random prefix).
    assert_ne!(c.encrypt(b"a").unwrap(), c.encrypt(b"a").unwrap());
    let dbg = format!("{c:?}");
    assert!(!dbg.contains(TOKEN) && !dbg.contains(AES), "{dbg}");
    let err = CallbackCrypto::new(TOKEN, "short-key", OWNER).unwrap_err();
    assert!(!err.to_string().contains("short-key"));
    assert!(err.to_string().contains("encodingAesKey"));
    assert!(matches!(
        CallbackCrypto::new("", AES, OWNER).unwrap_err(),
        CallbackError::Config { name: "token", .. }
    ));
    assert!(matches!(
        CallbackCrypto::new(TOKEN, AES, " ").unwrap_err(),
        CallbackError::Config {
            name: "ownerKey",
            ..
        }
    ));
}

#[test]
fn a_suite_ticket_event_keeps_its_ticket_secret() {
    let msg = crypto()
        .open(&params(TICKET.1), body(TICKET.0).as_bytes())
        .unwrap();
    let e = yida_events::Event::from_http(msg);
    let EventKind::SuiteTicket(t) = &e.kind else {
        panic!("{e:?}")
    };
    assert_eq!(t.ticket.expose(), "TICKET-NEW");
    assert_eq!(t.suite_key.as_deref(), Some(OWNER));
    assert_eq!(t.pushed_at, Some(at(1_783_610_513_000)));
    for shown in [format!("{e:?}"), e.to_json_line()] {
        assert!(!shown.contains("TICKET-NEW"), "{shown}");
    }
    let line: Value = serde_json::from_str(&e.to_json_line()).unwrap();
    assert_eq!(line["type"], "suite_ticket");
    assert_eq!(line["data"]["SuiteKey"], OWNER);
}

// ---- Issue 19 (hardening round 3) ----

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// A push of `encrypt` signed here (independent SHA-1) for timestamp `ts` and `nonce`.
fn signed_path(encrypt: &str, ts: u64, nonce: &str) -> String {
    let ts = ts.to_string();
    let sig = sign(TOKEN, &ts, nonce, encrypt);
    format!("/cb?signature={sig}&timestamp={ts}&nonce={nonce}")
}

/// A ticket store whose first `fail` offers fail (a Redis outage, a full disk).
#[derive(Debug)]
struct FlakyStore {
    fail: std::sync::atomic::AtomicUsize,
    inner: yida_auth::MemoryTicketStore,
}

impl yida_auth::SuiteTicketStore for FlakyStore {
    fn latest(&self) -> yida_auth::StoreFuture<'_, Option<yida_auth::SuiteTicket>> {
        self.inner.latest()
    }
    fn offer(&self, ticket: yida_auth::SuiteTicket) -> yida_auth::StoreFuture<'_, bool> {
        use std::sync::atomic::Ordering;
        if self
            .fail
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Box::pin(async {
                Err(yida_auth::AuthError::Transport {
                    message: "store down".into(),
                })
            });
        }
        self.inner.offer(ticket)
    }
}

#[tokio::test]
async fn a_failing_ticket_store_takes_no_replay_mark_so_the_redelivery_is_stored() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    let tickets = yida_auth::MemoryTicketStore::new();
    let store = FlakyStore {
        fail: 1.into(),
        inner: tickets.clone(),
    };
    let endpoint = HttpEndpoint::new(
        CallbackCrypto::new(TOKEN, AES, OWNER)
            .unwrap()
            .max_age(Some(Duration::from_secs(60))),
    )
    .suite_tickets(store);
    let server = CallbackServer::start(endpoint).await;
    let path = signed_path(TICKET.0, now_ms(), "n-store");
    let (status, text) = server.push(&path, body(TICKET.0)).await;
    assert_eq!(status, 500, "{text}");
    assert!(tickets.get().is_none());
    // DingTalk's redelivery of the same signed push is handled, not refused as a replay.
    let (status, text) = server.push(&path, body(TICKET.0)).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(tickets.ticket().unwrap().expose(), "TICKET-NEW");
    // Now it was handled: a third delivery is a replay.
    let (status, _) = server.push(&path, body(TICKET.0)).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_replay_after_4096_other_pushes_is_still_refused() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    let endpoint = HttpEndpoint::new(
        CallbackCrypto::new(TOKEN, AES, OWNER)
            .unwrap()
            .max_age(Some(Duration::from_secs(60))),
    );
    let server = CallbackServer::start(endpoint).await;
    let ts = now_ms();
    let first = signed_path(BPMS.0, ts, "n-first");
    assert_eq!(server.push(&first, body(BPMS.0)).await.0, 200);
    let http = {
        yida_auth::ensure_tls_provider();
        reqwest::Client::new()
    };
    for i in 0..4096 {
        let r = http
            .post(format!(
                "{}{}",
                server.url,
                signed_path(BPMS.0, ts, &format!("n{i}"))
            ))
            .body(body(BPMS.0))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "push {i}");
    }
    let (status, text) = server.push(&first, body(BPMS.0)).await;
    assert_eq!(status, 403, "replay accepted: {text}");
}

#[tokio::test]
async fn ciphertexts_16_mod_32_long_with_padding_up_to_32_decrypt_like_dingtalks_decryptors() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
                                      // Made by tests/gen_vectors.py (Python `cryptography`), not by our encrypt path.
    const PAD12: (&str, &str) = ("Q3stYC6hdFzMh9T8HCvyDCZxuvptw1Lu9VCBU1XpGsnc+GP+BmNPD8E8JZeS8z7Vt52zcSc3SIZrYnYR9CwvRjCZhzQfGQzwdB5BBzzZkoY=", "293134d6f8c1155df81b4c6da3ef738424fa4ec5");
    const PAD17: (&str, &str) = ("Q3stYC6hdFzMh9T8HCvyDExfBLBwxAJ4BnfNDBPiBNFY6ata9WCDAS2+RNVh5+aBo921eBBI/9rKi8anDtB/7b20RWKDazBQ9ifEYdv/47o=", "f74be60b13fa01ebadb63349c3692449ab71bd3c");
    const PAD32: (&str, &str) = ("Q3stYC6hdFzMh9T8HCvyDEHkKPLpc/k9VsyI8oRNUhGHa9qiEnSXMZi0jmr3pqEWd1KT8d1ZUmw/daK8l3aoQvBO8/INonG3re/lfx1bsb3wrzktkpMCaM5N/Yp4ZyQ1KBsgiz2/a/o0Ke/OtoKMfQ==", "5bdc6a914b440fc074d32848816b386e0665b7ee");
    const PAD33: (&str, &str) = ("Q3stYC6hdFzMh9T8HCvyDL4pJF55tQUD2TmqREI4vlMvHpBDGPlzNesoqlEF8e4KQZHlxf4IOLpiqDMW0xEJy0JZdcoUqbfzSr51jAQlY51xjUX1aXg0ALoldlyvE6O2M9oQPcL7lZKop0VSlvAclQ==", "88a66fd7356ba36ab66a6ab610b3e6e86c09924a");
    let server = CallbackServer::start(HttpEndpoint::new(crypto())).await;
    for (v, x) in [(PAD12, "aaaaa"), (PAD17, ""), (PAD32, "aaaaaaaaaaaaaaaaa")] {
        let (status, text) = server.push(&format!("/cb?{}", query(v.1)), body(v.0)).await;
        assert_eq!(status, 200, "{text}");
        let events = server.events.lock().unwrap().clone();
        assert_eq!(events.last().unwrap().data["x"], x);
    }
    // Padding of 33 bytes is more than DingTalk's decryptors strip: refused.
    let (status, text) = server
        .push(&format!("/cb?{}", query(PAD33.1)), body(PAD33.0))
        .await;
    assert_eq!((status, text.as_str()), (400, "bad padding"));
}

#[tokio::test]
async fn a_failing_handler_gets_a_500_no_success_and_no_replay_mark() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
                                      // `{"fail": true}` makes the test server's handler fail (as `yida events http` does
                                      // when stdout is gone). The message is made by tests/gen_vectors.py's scheme by hand
                                      // here: our encrypt path is not under test in this case.
    let c = CallbackCrypto::new(TOKEN, AES, OWNER).unwrap();
    let enc = c
        .encrypt(br#"{"EventType":"check_url","fail":true}"#)
        .unwrap();
    let server = CallbackServer::start(HttpEndpoint::new(c)).await;
    let path = signed_path(&enc, now_ms(), "n-fail");
    for _ in 0..2 {
        // Not a replay the second time: the first was never acknowledged.
        let (status, text) = server.push(&path, body(&enc)).await;
        assert_eq!(status, 500, "{text}");
        assert_eq!(text, "event not handled: handler refused the event");
    }
    assert!(server.events.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_full_replay_store_answers_503_instead_of_forgetting() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    let endpoint = HttpEndpoint::new(
        CallbackCrypto::new(TOKEN, AES, OWNER)
            .unwrap()
            .max_age(Some(Duration::from_secs(5))),
    )
    .replay_rate(1); // 2 × 5 s × 1/s = 10 entries
    let server = CallbackServer::start(endpoint).await;
    let ts = now_ms();
    for i in 0..10 {
        let p = signed_path(BPMS.0, ts, &format!("f{i}"));
        assert_eq!(server.push(&p, body(BPMS.0)).await.0, 200, "push {i}");
    }
    let (status, text) = server
        .push(&signed_path(BPMS.0, ts, "f-over"), body(BPMS.0))
        .await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("replay store full"), "{text}");
    // The first push is still remembered.
    let (status, _) = server
        .push(&signed_path(BPMS.0, ts, "f0"), body(BPMS.0))
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn refusals_are_short_and_never_copy_the_body() {
    yida_auth::ensure_tls_provider(); // reqwest is built without a provider of its own
    let server = CallbackServer::start(HttpEndpoint::new(crypto())).await;
    let big = "x".repeat(200_000);
    // A body whose `encrypt` is not text, holding 200 KB: serde's message would quote it.
    for b in [
        format!(r#"{{"encrypt": 1, "pad": "{big}"}}"#),
        format!(r#"{{"encrypt": ["{big}"]}}"#),
        format!(r#"{{"encrypt": "{big}"#),
        format!(r#""{big}""#),
        big.clone(),
    ] {
        let sig = sign(TOKEN, TS, NONCE, "");
        let (status, text) = server
            .push(
                &format!("/cb?signature={sig}&timestamp={TS}&nonce={NONCE}"),
                b,
            )
            .await;
        assert_eq!(status, 400, "{text}");
        assert!(text.len() < 100, "{} bytes: {}", text.len(), &text[..100]);
    }
}
