//! yida-api's attachment download against the emulator over loopback: GetOpenUrl, streaming
//! with bounded memory, asking again when the temporary URL expired, the size cap.

mod common;
use common::*;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use yida_api::DownloadError;
use yida_emulator::Emulator;

/// A writer that keeps the bytes and the largest single write it was handed.
#[derive(Default)]
struct Recorder {
    bytes: Vec<u8>,
    writes: usize,
    largest: usize,
}

impl tokio::io::AsyncWrite for Recorder {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.writes += 1;
        self.largest = self.largest.max(buf.len());
        self.bytes.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Deterministic bytes that do not compress or repeat in step with any buffer size.
fn content(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_streams_in_bounded_chunks() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let data = content(8 << 20);
    let stored = emu.add_file("big.bin", &data);
    let mut w = Recorder::default();
    let n = c.download(&stored).to_writer(&mut w).await.unwrap();
    assert_eq!(n, data.len() as u64);
    assert!(w.bytes == data, "content differs");
    // Streamed: many writes, none near the file's size (the whole file is never held).
    assert!(w.writes > 8, "{} writes", w.writes);
    assert!(w.largest <= 1 << 20, "largest write {} bytes", w.largest);
    eprintln!(
        "8 MiB file: {} writes, largest {} bytes",
        w.writes, w.largest
    );
    // To a file: complete, no `.part` left.
    let dir = std::env::temp_dir().join(format!("yida-dl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.bin");
    let n = c.download(&stored).to_file(&path).await.unwrap();
    assert_eq!(n, data.len() as u64);
    assert!(std::fs::read(&path).unwrap() == data);
    assert!(!dir.join("big.bin.part").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_temporary_url_is_asked_for_again() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let stored = emu.add_file("a.txt", b"fresh");
    // The first two temporary URLs are expired when handed out: the third is used.
    emu.expire_next_open_urls(2);
    let mut w = Recorder::default();
    c.download(&stored).to_writer(&mut w).await.unwrap();
    assert_eq!(w.bytes, b"fresh");
    // Expired every time: gives up after the attempts, saying why.
    emu.expire_next_open_urls(2);
    let e = c
        .download(&stored)
        .attempts(2)
        .to_writer(&mut Recorder::default())
        .await
        .unwrap_err();
    assert!(matches!(e, DownloadError::Expired { attempts: 2 }), "{e:?}");
    // A link lifetime out of range is refused before anything is sent.
    let e = c
        .download(&stored)
        .link_lifetime(Duration::from_secs(2 * 86_400))
        .to_writer(&mut Recorder::default())
        .await
        .unwrap_err();
    assert!(matches!(e, DownloadError::InvalidUrl(_)), "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_size_cap_stops_a_download_and_leaves_no_file() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let stored = emu.add_file("five-k.bin", content(5000));
    let mut w = Recorder::default();
    let e = c
        .download(&stored)
        .limit(1000)
        .to_writer(&mut w)
        .await
        .unwrap_err();
    assert!(
        matches!(e, DownloadError::TooLarge { limit: 1000 }),
        "{e:?}"
    );
    assert!(
        w.bytes.len() <= 1000,
        "{} bytes written past the cap",
        w.bytes.len()
    );
    let dir = std::env::temp_dir().join(format!("yida-cap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("out.bin");
    let e = c
        .download(&stored)
        .limit(1000)
        .to_file(&path)
        .await
        .unwrap_err();
    assert!(matches!(e, DownloadError::TooLarge { .. }), "{e:?}");
    assert!(!path.exists() && !dir.join("out.bin.part").exists());
    std::fs::remove_dir_all(&dir).unwrap();
    // Exactly at the cap is fine.
    let n = c
        .download(&stored)
        .limit(5000)
        .to_writer(&mut Recorder::default())
        .await
        .unwrap();
    assert_eq!(n, 5000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_dingtalks_reply_and_never_the_temporary_url() {
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    let e = c
        .download("/ossFileHandle?fileName=missing.txt")
        .to_writer(&mut Recorder::default())
        .await
        .unwrap_err();
    let DownloadError::OpenUrl(inner) = &e else {
        panic!("{e:?}")
    };
    let api = inner.api().expect("DingTalk's error");
    assert_eq!(api.status, 400);
    assert!(api.message.as_deref().unwrap().contains("fileUrl"));
    assert!(api.request_id.is_some());
    // Expired every time: neither Display nor Debug shows a temporary URL (a credential).
    let stored = emu.add_file("s.txt", b"x");
    emu.expire_next_open_urls(1);
    let e = c
        .download(&stored)
        .attempts(1)
        .to_writer(&mut Recorder::default())
        .await
        .unwrap_err();
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(
            !text.contains("Signature") && !text.contains("emu-oss"),
            "{text}"
        );
    }
    assert!(e.to_string().contains("expired"));
    assert!(c
        .download("")
        .to_writer(&mut Recorder::default())
        .await
        .is_err_and(|e| matches!(e, DownloadError::InvalidUrl(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_urls_are_read_by_the_one_query_rule() {
    // Yida stores attachment URLs escaped by Java's URLEncoder: a space is `+`, a plus `%2B`.
    let emu = Emulator::start().await.unwrap();
    let c = client(&emu);
    emu.add_file("my report.pdf", b"spaced");
    emu.add_file("a+b.txt", b"plus");
    for (stored, want) in [
        (
            "/ossFileHandle?fileName=my+report.pdf&type=download",
            &b"spaced"[..],
        ),
        ("/ossFileHandle?fileName=my%20report.pdf", b"spaced"),
        ("/ossFileHandle?type=download&fileName=a%2Bb.txt", b"plus"),
        // An empty value is skipped; the next `fileName` counts.
        ("/ossFileHandle?fileName=&fileName=a%2bb.txt", b"plus"),
    ] {
        let mut w = Recorder::default();
        c.download(stored)
            .to_writer(&mut w)
            .await
            .unwrap_or_else(|e| panic!("{stored}: {e}"));
        assert_eq!(w.bytes, want, "{stored}");
    }
    // A raw `+` is a space, never a plus.
    let e = c
        .download("/ossFileHandle?fileName=a+b.txt")
        .to_writer(&mut Recorder::default())
        .await
        .unwrap_err();
    assert!(matches!(e, DownloadError::OpenUrl(_)), "{e:?}");
}
