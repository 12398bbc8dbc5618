//! The test server reads request bodies framed either way (Content-Length or chunked, as the
//! official Node SDK sends them), bounded, and keeps the connection usable after each.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use yida_e2e::{MockServer, Reply};

/// Sends `raw` and reads replies until `n` status lines arrived (or the server closed).
async fn exchange(url: &str, raw: &[u8], n: usize) -> String {
    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw).await.unwrap();
    let mut got = Vec::new();
    let deadline = std::time::Duration::from_secs(10);
    let _ = tokio::time::timeout(deadline, async {
        let mut b = [0u8; 4096];
        while String::from_utf8_lossy(&got).matches("HTTP/1.1 ").count() < n {
            match s.read(&mut b).await {
                Ok(0) | Err(_) => break,
                Ok(k) => got.extend_from_slice(&b[..k]),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn chunked_bodies_are_decoded_with_extensions_and_trailers_and_keep_alive_works() {
    let server = MockServer::always(Reply::json(serde_json::json!({"ok": true}))).await;
    let raw = b"POST /a HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n\
        5\r\n{\"k\":\r\n3;ext=1\r\n 12\r\nB\r\n}          \r\n0\r\nx-trailer: 1\r\n\r\n\
        POST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}\
        POST /c HTTP/1.1\r\nhost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    let out = exchange(&server.url(), raw, 3).await;
    assert_eq!(out.matches("HTTP/1.1 200").count(), 3, "{out}");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].path, "/a");
    assert_eq!(reqs[0].body, b"{\"k\": 12}          ");
    assert_eq!(reqs[0].json(), serde_json::json!({"k": 12}));
    assert_eq!(reqs[1].path, "/b");
    assert_eq!(reqs[1].body, b"{}");
    assert_eq!(reqs[2].path, "/c");
    assert!(reqs[2].body.is_empty());
}

#[tokio::test]
async fn chunked_bodies_split_across_reads_are_reassembled() {
    let server = MockServer::always(Reply::json(serde_json::json!({}))).await;
    let addr = server.url().trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(&addr).await.unwrap();
    let body = "x".repeat(20_000);
    let mut raw = format!(
        "POST /big HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    )
    .into_bytes();
    // Dribble it out in small pieces so every parser state sees a short read.
    for piece in raw.chunks_mut(7) {
        s.write_all(piece).await.unwrap();
        s.flush().await.unwrap();
        tokio::task::yield_now().await;
    }
    let mut got = vec![0u8; 256];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut got))
        .await
        .expect("reply in time")
        .unwrap();
    assert!(String::from_utf8_lossy(&got[..n]).starts_with("HTTP/1.1 200"));
    assert_eq!(server.requests()[0].body, body.as_bytes());
}

#[tokio::test]
async fn malformed_or_oversized_framing_gets_an_error_and_is_not_handed_to_the_script() {
    let server = MockServer::always(Reply::json(serde_json::json!({}))).await;
    let cases: [(&[u8], &str); 5] = [
        (
            b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 400",
        ),
        (
            b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabc\r\n",
            "HTTP/1.1 400",
        ),
        (
            b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nffffffffffff\r\n",
            "HTTP/1.1 413",
        ),
        (
            b"POST / HTTP/1.1\r\ncontent-length: 999999999999\r\n\r\n",
            "HTTP/1.1 413",
        ),
        (
            b"POST / HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n",
            "HTTP/1.1 501",
        ),
    ];
    for (raw, want) in cases {
        let out = exchange(&server.url(), raw, 1).await;
        assert!(
            out.starts_with(want),
            "{out:?} for {:?}",
            String::from_utf8_lossy(raw)
        );
    }
    // An endless chunk-size line is cut off at the bound, not read forever.
    let mut endless = b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
    endless.extend(std::iter::repeat_n(b'0', 4096));
    let out = exchange(&server.url(), &endless, 1).await;
    assert!(out.starts_with("HTTP/1.1 400"), "{out:?}");
    assert_eq!(server.count(), 0);
}
