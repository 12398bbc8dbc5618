//! A real PostgreSQL server for tests, started on a free loopback port in a throw-away data
//! directory (Debian: `apt-get install postgresql`; its programs live in
//! `/usr/lib/postgresql/<version>/bin`, not on `PATH`). PostgreSQL refuses to run as root, so
//! as root the server runs as the `postgres` user (made by the Debian package) via runuser(1).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::programs::{in_ci, skip_line};

/// A running server; stopped (and its directory removed) when dropped.
pub struct PostgresServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

fn bin_dir() -> Option<PathBuf> {
    // `.ci/without-programs` hides programs from PATH; PostgreSQL's are found off PATH, so it
    // names them here too.
    let hidden = std::env::var("YIDA_HIDDEN_PROGRAMS").unwrap_or_default();
    if hidden
        .split_whitespace()
        .any(|p| p == "initdb" || p == "postgres")
    {
        return None;
    }
    if let Some(p) = crate::programs::find_program("initdb") {
        return p.parent().map(Path::to_path_buf);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").is_file() && b.join("postgres").is_file())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    // The effective uid, from /proc (no libc call).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

impl PostgresServer {
    /// Starts a server; `None` after the skip line when PostgreSQL is not installed and `CI`
    /// is not set (under `CI`, a missing server fails the test).
    pub fn start() -> Option<PostgresServer> {
        let Some(bin) = bin_dir() else {
            let line = skip_line(&[("postgres", "postgresql")]);
            if in_ci() {
                panic!(
                    "{} (CI is set: a missing program fails the test)",
                    line.trim_start_matches("skipped: ")
                );
            }
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{line}");
            return None;
        };
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
            l.local_addr().unwrap().port()
        };
        let dir = std::env::temp_dir().join(format!("yida-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("data dir");
        let root = is_root();
        let run_as = |program: &Path| -> Command {
            if root {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            } else {
                Command::new(program)
            }
        };
        if root {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown of the PostgreSQL test directory to postgres");
        }
        let out = run_as(&bin.join("initdb"))
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-A", "trust", "-U", "yida", "-E", "UTF8", "--no-sync"])
            .output()
            .expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let child = run_as(&bin.join("postgres"))
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-k"])
            .arg(&dir)
            .args(["-c", "fsync=off", "-c", "max_connections=50"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        let server = PostgresServer {
            port,
            dir,
            child: Some(child),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        // Listening is not ready ("the database system is starting up"): the postmaster
        // writes `ready` as the status line of postmaster.pid once it accepts connections.
        let pid_file = server.dir.join("data/postmaster.pid");
        let ready = || {
            std::fs::read_to_string(&pid_file).is_ok_and(|s| s.lines().any(|l| l.trim() == "ready"))
        };
        while !ready() {
            assert!(
                Instant::now() < deadline,
                "postgres was not ready within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }

    /// `postgres://yida@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://yida@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        // The postmaster's pid is the first line of postmaster.pid (it may run under
        // runuser): SIGQUIT is PostgreSQL's immediate shutdown.
        if let Ok(pid) = std::fs::read_to_string(self.dir.join("data/postmaster.pid")) {
            if let Some(pid) = pid.lines().next() {
                let _ = Command::new("kill").args(["-QUIT", pid.trim()]).status();
            }
        }
        if let Some(mut c) = self.child.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline && matches!(c.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
