//! Issue 19 item 16: the emulator's `--data --reset`, Stream tickets and token lifetime.

mod common;

use common::raw;
use serde_json::json;
use std::time::Duration;
use yida_emulator::{Emulator, Options};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("yida-emu-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

#[tokio::test]
async fn reset_refuses_a_file_that_is_not_an_emulator_database() {
    let path = scratch("precious.txt");
    std::fs::write(&path, "my thesis, chapter 1\n").unwrap();
    let err = Emulator::start_with(Options::default().data(&path).reset(true))
        .await
        .expect_err("refused");
    let text = err.to_string();
    assert!(text.contains("not an emulator database"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "my thesis, chapter 1\n",
        "the file is untouched"
    );
    // Without --reset it is refused too, and still untouched.
    assert!(Emulator::start_with(Options::default().data(&path))
        .await
        .is_err());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "my thesis, chapter 1\n"
    );
    // An emulator database is emptied by --reset.
    let db = scratch("emu.redb");
    let _ = std::fs::remove_file(&db);
    let emu = Emulator::start_with(Options::default().data(&db))
        .await
        .unwrap();
    let form = emu.seed().forms[0].form_uuid.clone();
    emu.insert_record(&form, json!({})).unwrap();
    emu.shutdown().await;
    let emu = Emulator::start_with(Options::default().data(&db))
        .await
        .unwrap();
    assert_eq!(emu.records(&form).len(), 1, "kept across restarts");
    emu.shutdown().await;
    let emu = Emulator::start_with(Options::default().data(&db).reset(true))
        .await
        .expect("an emulator database may be reset");
    assert!(emu.records(&form).is_empty());
    emu.shutdown().await;
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

#[tokio::test]
async fn stream_tickets_are_random() {
    let emu = Emulator::start().await.unwrap();
    let mut tickets = Vec::new();
    for _ in 0..3 {
        let (s, b) = raw(
            &emu,
            "POST",
            "/v1.0/gateway/connections/open",
            Some(json!({"clientId": emu.app_key(), "clientSecret": emu.app_secret()})),
            None,
        )
        .await;
        assert_eq!(s, 200, "{b}");
        tickets.push(b["ticket"].as_str().unwrap().to_string());
    }
    for t in &tickets {
        assert!(!t.starts_with("emu-ticket-"), "predictable ticket: {t}");
        assert!(
            t.len() >= 32 && t.chars().all(|c| c.is_ascii_hexdigit()),
            "not 128 random bits in hex: {t}"
        );
    }
    assert_ne!(tickets[0], tickets[1]);
    assert_ne!(tickets[1], tickets[2]);
}

#[tokio::test]
async fn token_lifetime_out_of_range_is_refused_and_never_panics() {
    for bad in [Duration::ZERO, Duration::from_secs(u64::MAX)] {
        let err = Emulator::start_with(Options::default().token_lifetime(bad))
            .await
            .expect_err("refused");
        assert!(err.to_string().contains("token_lifetime"), "{err}");
    }
    // The largest accepted lifetime serves tokens.
    let emu =
        Emulator::start_with(Options::default().token_lifetime(yida_emulator::MAX_TOKEN_LIFETIME))
            .await
            .unwrap();
    let (s, b) = raw(
        &emu,
        "POST",
        "/v1.0/oauth2/accessToken",
        Some(json!({ "appKey": emu.app_key(), "appSecret": emu.app_secret() })),
        None,
    )
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["expireIn"].as_u64(),
        Some(yida_emulator::MAX_TOKEN_LIFETIME.as_secs())
    );
}
