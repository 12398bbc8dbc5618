//! A real `redis-server` on a free loopback port, killed on drop (yida-redis's tests and the
//! replica guide's example). Without `redis-server` (or `openssl` for TLS) on the machine the
//! constructors print the skip line and return `None` ([`crate::programs`]).

use crate::programs::require_programs;
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `redis-server` and its Debian package.
pub const REDIS_SERVER: (&str, &str) = ("redis-server", "redis-server");
/// `openssl` and its Debian package.
pub const OPENSSL: (&str, &str) = ("openssl", "openssl");

/// A `redis-server` child process on 127.0.0.1.
pub struct RedisServer {
    port: u16,
    password: Option<String>,
    /// Directory with `ca.crt`, `server.crt`, `server.key` when the server speaks TLS only.
    tls: Option<std::path::PathBuf>,
    child: Option<Child>,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    l.local_addr().unwrap().port()
}

impl RedisServer {
    /// Starts a server without persistence on a free port; `None` (after the skip line) when
    /// `redis-server` is not installed and `CI` is not set.
    pub fn start() -> Option<RedisServer> {
        Self::start_with(None)
    }

    /// Starts a server that requires `password` (AUTH); `None` as for [`RedisServer::start`].
    pub fn start_with(password: Option<&str>) -> Option<RedisServer> {
        if !require_programs(&[REDIS_SERVER]) {
            return None;
        }
        let mut s = RedisServer {
            port: free_port(),
            password: password.map(str::to_string),
            tls: None,
            child: None,
        };
        s.spawn();
        Some(s)
    }

    /// Starts a server that speaks TLS only, with a certificate for 127.0.0.1 from a CA made
    /// for the occasion (openssl(1)); returns it with the CA's PEM. `None` (after the skip
    /// line) when `redis-server` or `openssl` is not installed and `CI` is not set.
    pub fn start_tls() -> Option<(RedisServer, Vec<u8>)> {
        if !require_programs(&[REDIS_SERVER, OPENSSL]) {
            return None;
        }
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("yida-redis-tls-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .output()
                .expect("openssl runs");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            "/CN=yida-test-ca",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        run(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ]);
        let ca = std::fs::read(dir.join("ca.crt")).unwrap();
        let mut s = RedisServer {
            port,
            password: None,
            tls: Some(dir),
            child: None,
        };
        s.spawn();
        Some((s, ca))
    }

    fn spawn(&mut self) {
        let mut cmd = Command::new("redis-server");
        match &self.tls {
            None => {
                cmd.arg("--port").arg(self.port.to_string());
            }
            Some(dir) => {
                cmd.args(["--port", "0", "--tls-port"])
                    .arg(self.port.to_string())
                    .arg("--tls-cert-file")
                    .arg(dir.join("server.crt"))
                    .arg("--tls-key-file")
                    .arg(dir.join("server.key"))
                    .arg("--tls-ca-cert-file")
                    .arg(dir.join("ca.crt"))
                    .args(["--tls-auth-clients", "no"]);
            }
        }
        cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir());
        if let Some(p) = &self.password {
            cmd.args(["--requirepass", p]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        // Ready when it accepts connections (bounded).
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT` (`rediss://` for TLS; with the password when there is one).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() {
            "rediss"
        } else {
            "redis"
        };
        match &self.password {
            Some(p) => format!("{scheme}://:{p}@127.0.0.1:{}", self.port),
            None => format!("{scheme}://127.0.0.1:{}", self.port),
        }
    }

    /// Kills the server (SIGKILL): its data is gone.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again, empty, on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the server: it stops answering without closing
    /// connections.
    pub fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let ok = Command::new("kill")
                .arg(format!("-{sig}"))
                .arg(c.id().to_string())
                .status()
                .expect("kill(1)")
                .success();
            assert!(ok, "kill -{sig}");
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.signal("CONT");
        self.kill();
        if let Some(dir) = &self.tls {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
