//! HTTPS starts a real TLS handshake with either crypto provider. With `tls-ring` (the
//! default) reqwest has no provider of its own: the client constructors install ring. With
//! `tls-aws-lc` (opt-in) reqwest brings aws-lc-rs. CI runs both:
//! `cargo test -p yida-auth --test tls` and
//! `cargo test -p yida-auth --no-default-features --features tls-aws-lc --test tls`.

use std::io::Read;
use std::net::TcpListener;
use std::time::Duration;
use yida_auth::{InternalApp, TokenProvider};

/// Accepts one connection and returns the first bytes the client sent.
fn first_bytes_server() -> (u16, std::thread::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let mut buf = [0u8; 6];
        let mut got = 0;
        while got < buf.len() {
            match conn.read(&mut buf[got..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
        buf[..got].to_vec() // dropping the connection ends the handshake
    });
    (port, handle)
}

/// The token fetch to a server that closes after the first bytes fails cleanly (no hang, no
/// panic, no secret in the error), and what the client sent was a TLS ClientHello.
async fn sends_a_client_hello() {
    let (port, server) = first_bytes_server();
    let app = InternalApp::new("dingappkey", "app-secret")
        .expect("valid")
        .endpoint(format!("https://127.0.0.1:{port}"));
    let err = tokio::time::timeout(Duration::from_secs(30), app.token())
        .await
        .expect("does not hang")
        .expect_err("the server closes the connection");
    assert!(!format!("{err:?}").contains("app-secret"));

    let first = server.join().expect("server thread");
    // A TLS record of type handshake (22), version 3.x, carrying a ClientHello (1).
    assert_eq!(first.len(), 6, "bytes received: {first:?}");
    assert_eq!(first[0], 22, "TLS handshake record: {first:?}");
    assert_eq!(first[1], 3);
    assert_eq!(first[5], 1, "ClientHello: {first:?}");
}

#[cfg(feature = "tls-aws-lc")]
#[tokio::test]
async fn aws_lc_sends_a_client_hello() {
    sends_a_client_hello().await;
}

#[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc")))]
#[tokio::test]
async fn ring_provider_is_installed_and_sends_a_client_hello() {
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    let _app = InternalApp::new("dingappkey", "app-secret").expect("valid");
    let provider = rustls::crypto::CryptoProvider::get_default().expect("installed by new()");
    let ring = rustls::crypto::ring::default_provider();
    assert_eq!(
        format!("{:?}", provider.kx_groups),
        format!("{:?}", ring.kx_groups)
    );
    // Called again (as every constructor does): keeps the installed one, never panics.
    yida_auth::ensure_tls_provider();
    let again = rustls::crypto::CryptoProvider::get_default().expect("still installed");
    assert!(std::sync::Arc::ptr_eq(provider, again));

    sends_a_client_hello().await;
}
