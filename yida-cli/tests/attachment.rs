//! `yida attachment get` against the emulator (in this process) over loopback.

use std::process::Command;
use yida_emulator::Emulator;

fn yida(emu: &Emulator, args: &[&str]) -> (i32, String, Vec<u8>) {
    let out = Command::new(env!("CARGO_BIN_EXE_yida"))
        .args(args)
        .env_clear()
        .envs(emu.env())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.stdout,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_writes_the_file_asks_again_and_caps() {
    let emu = Emulator::start().await.unwrap();
    let stored = emu.add_file("report.txt", b"quarterly numbers\n");
    let dir = std::env::temp_dir().join(format!("yida-cli-att-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("report.txt");
    let p = path.to_str().unwrap().to_string();
    // The first temporary URL has expired: asked again, then written.
    emu.expire_next_open_urls(1);
    let (code, err, _) =
        tokio::task::block_in_place(|| yida(&emu, &["attachment", "get", &stored, "-o", &p]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), b"quarterly numbers\n");
    assert!(err.contains("18 bytes written"), "{err}");
    // To standard output.
    let (code, err, out) =
        tokio::task::block_in_place(|| yida(&emu, &["attachment", "get", &stored, "-o", "-"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, b"quarterly numbers\n");
    // Over the cap: exit 1, no file.
    let capped = dir.join("capped.txt");
    let c = capped.to_str().unwrap().to_string();
    let (code, err, _) = tokio::task::block_in_place(|| {
        yida(
            &emu,
            &["attachment", "get", &stored, "-o", &c, "--max-bytes", "5"],
        )
    });
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("5-byte download limit"), "{err}");
    assert!(!capped.exists());
    // An unknown attachment: DingTalk's error, naming the parameter.
    let (code, err, _) = tokio::task::block_in_place(|| {
        yida(
            &emu,
            &[
                "attachment",
                "get",
                "/ossFileHandle?fileName=none",
                "-o",
                &c,
            ],
        )
    });
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("GetOpenUrl") && err.contains("fileUrl"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
