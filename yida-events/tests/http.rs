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
    // Inside the window: once, then a replay.
    assert!(c
        .open_at(&params(TICKET.1), b.as_bytes(), at(ts + 1000))
        .is_ok());
    assert_eq!(
        c.open_at(&params(TICKET.1), b.as_bytes(), at(ts + 2000))
            .unwrap_err(),
        CallbackError::Replayed
    );
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
