//! A recording HTTP/1.1 proxy on loopback: put it between a client and a real server (the
//! emulator) to assert what went over the wire — every request (method, path, query,
//! headers, body) is recorded as [`Recorded`], and bytes pass through unchanged both ways.

use crate::{find, Recorded, MAX_BODY};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A forwarding proxy on 127.0.0.1 that records each request. Stops when dropped.
pub struct RecordingProxy {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RecordingProxy {
    /// Forwards every connection to `upstream` (`host:port` on loopback).
    pub async fn start(upstream: SocketAddr) -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let requests: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let reqs = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                let reqs = reqs.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = relay(client, server, reqs).await;
                });
            }
        });
        RecordingProxy {
            addr,
            requests,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests forwarded so far, in the order they arrived.
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// Forgets the requests recorded so far.
    pub fn clear(&self) {
        self.requests.lock().unwrap().clear();
    }

    /// The recorded requests whose path ends with `suffix`.
    pub fn requests_to(&self, suffix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with(suffix))
            .collect()
    }
}

/// Copies the server's bytes back as they come, and the client's bytes forward after
/// recording each complete request (head and a `content-length` body; requests framed
/// otherwise are forwarded and recorded without their body).
async fn relay(
    client: TcpStream,
    server: TcpStream,
    reqs: Arc<Mutex<Vec<Recorded>>>,
) -> std::io::Result<()> {
    let (mut server_rd, mut server_wr) = server.into_split();
    let (mut client_rd, mut client_wr) = client.into_split();
    // Replies go back as they come; this ends when the server closes its side.
    tokio::spawn(async move {
        let _ = tokio::io::copy(&mut server_rd, &mut client_wr).await;
        let _ = client_wr.shutdown().await;
    });
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let n = client_rd.read(&mut chunk).await?;
        if n == 0 {
            server_wr.shutdown().await?;
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        // Record every complete request in the buffer, before the server can answer it.
        while let Some(head_end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
            let mut lines = head.split("\r\n");
            let mut parts = lines.next().unwrap_or_default().split(' ');
            let method = parts.next().unwrap_or_default().to_string();
            let target = parts.next().unwrap_or_default().to_string();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
                .collect();
            let len = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0)
                .min(MAX_BODY);
            let start = head_end + 4;
            if buf.len() < start + len {
                break; // the rest of the body is still to come
            }
            let body = buf[start..start + len].to_vec();
            buf.drain(..start + len);
            let (path, query) = match target.split_once('?') {
                Some((p, q)) => (p.to_string(), Some(q.to_string())),
                None => (target.clone(), None),
            };
            reqs.lock().unwrap().push(Recorded {
                method,
                path,
                query,
                headers,
                body,
                at: std::time::Instant::now(),
            });
        }
        server_wr.write_all(&chunk[..n]).await?;
    }
}
