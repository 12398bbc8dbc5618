//! `--ticket-store file:PATH|redis://…` (or `YIDA_TICKET_STORE`): where `yida events` keeps
//! the suite tickets DingTalk pushes, and where `yida call/token/export/import` read them.

use crate::config::env;
use crate::fail::Fail;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use yida_auth::{AuthError, StoreFuture, SuiteTicket, SuiteTicketStore};

/// The `--ticket-store` flag, set once by `main`.
static FLAG: OnceLock<Option<String>> = OnceLock::new();

/// Records the `--ticket-store` flag (before any command runs).
pub fn configure(flag: Option<String>) {
    let _ = FLAG.set(flag.filter(|s| !s.trim().is_empty()));
}

/// The store the command line names: the flag, else `YIDA_TICKET_STORE`.
pub fn spec() -> Option<String> {
    FLAG.get()
        .cloned()
        .flatten()
        .or_else(|| env("YIDA_TICKET_STORE"))
}

/// Opens the configured store, if one is configured. A Redis store needs the suite key
/// (`YIDA_SUITE_KEY`), which names its key.
pub fn open() -> Result<Option<Arc<dyn SuiteTicketStore>>, Fail> {
    let Some(spec) = spec() else {
        return Ok(None);
    };
    open_spec(&spec).map(Some)
}

fn bad(message: impl fmt::Display) -> Fail {
    Fail::usage(format!("--ticket-store (YIDA_TICKET_STORE): {message}"))
}

fn open_spec(spec: &str) -> Result<Arc<dyn SuiteTicketStore>, Fail> {
    if let Some(path) = spec.strip_prefix("file:") {
        if path.is_empty() {
            return Err(bad("file: needs a path, e.g. file:/var/lib/yida/ticket"));
        }
        return Ok(Arc::new(FileTicketStore::new(path)));
    }
    if spec.starts_with("redis://") || spec.starts_with("rediss://") {
        return open_redis(spec);
    }
    // Not echoed: a mistyped value may hold a password.
    Err(bad(
        "expected file:PATH or redis://[user][:password@]host[:port][/db] (rediss:// for TLS)",
    ))
}

/// A Redis store (`redis://…`), shared by replicas.
#[cfg(feature = "redis")]
fn open_redis(spec: &str) -> Result<Arc<dyn SuiteTicketStore>, Fail> {
    let suite_key = env("YIDA_SUITE_KEY")
        .ok_or_else(|| bad("a Redis store needs YIDA_SUITE_KEY (the ticket's key in Redis)"))?;
    let mut b = yida_redis::Redis::builder(spec)
        .prefix(env("YIDA_REDIS_PREFIX").unwrap_or_else(|| "yida:".into()));
    if let Some(key) = env("YIDA_REDIS_KEY") {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key.trim())
            .map_err(|_| {
                Fail::usage("YIDA_REDIS_KEY: not base64 (32 bytes, e.g. `openssl rand -base64 32`)")
            })?;
        b = b.encryption_key(bytes);
    }
    let redis = b.build().map_err(bad)?;
    Ok(Arc::new(redis.ticket_store(&suite_key)))
}

/// This build has no Redis client (cargo feature `redis`).
#[cfg(not(feature = "redis"))]
fn open_redis(_spec: &str) -> Result<Arc<dyn SuiteTicketStore>, Fail> {
    Err(crate::absent::missing("--ticket-store redis://…", "redis"))
}

/// Longest ticket file read (a ticket is ~100 bytes).
const MAX_FILE: u64 = 64 * 1024;

/// A suite-ticket store in one file, shared by the processes that name it: a JSON object
/// `{"pushedAtMs":…,"ticket":"…"}`, mode 0600. An offer takes an exclusive lock on
/// `PATH.lock`, keeps the stored ticket if it was pushed later (newest push wins), else writes
/// a temporary file in the same folder and renames it over `PATH` (readers never see half a
/// file). `Debug` shows the path, never the ticket.
#[derive(Clone)]
pub struct FileTicketStore {
    path: PathBuf,
}

impl fmt::Debug for FileTicketStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileTicketStore")
            .field("path", &self.path)
            .finish()
    }
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn store_error(path: &Path, what: &str, e: impl fmt::Display) -> AuthError {
    AuthError::Transport {
        message: format!("ticket store {}: {what}: {e}", path.display()),
    }
}

impl FileTicketStore {
    /// The store at `path` (created at the first offer).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTicketStore { path: path.into() }
    }

    fn lock_path(&self) -> PathBuf {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        self.path.with_file_name(name)
    }

    /// The stored ticket; `Ok(None)` when there is no file yet.
    fn read(&self) -> Result<Option<SuiteTicket>, AuthError> {
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(store_error(&self.path, "cannot open", e)),
        };
        let mut text = String::new();
        file.take(MAX_FILE + 1)
            .read_to_string(&mut text)
            .map_err(|e| store_error(&self.path, "cannot read", e))?;
        if text.len() as u64 > MAX_FILE {
            return Err(store_error(&self.path, "too large", "over 64 KiB"));
        }
        if text.trim().is_empty() {
            return Ok(None);
        }
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|_| store_error(&self.path, "not a ticket file", "invalid JSON"))?;
        let (Some(at), Some(ticket)) = (v["pushedAtMs"].as_u64(), v["ticket"].as_str()) else {
            return Err(store_error(
                &self.path,
                "not a ticket file",
                "pushedAtMs or ticket missing",
            ));
        };
        if ticket.trim().is_empty() {
            return Ok(None);
        }
        Ok(Some(SuiteTicket::new(
            ticket,
            UNIX_EPOCH + Duration::from_millis(at),
        )))
    }

    /// Creates a file readable and writable by its owner only.
    fn create_private(path: &Path, exclusive: bool) -> std::io::Result<std::fs::File> {
        let mut o = std::fs::OpenOptions::new();
        o.write(true);
        if exclusive {
            o.create_new(true);
        } else {
            o.create(true);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        o.open(path)
    }

    /// [`SuiteTicketStore::offer`], blocking.
    fn offer_now(&self, ticket: &SuiteTicket) -> Result<bool, AuthError> {
        let lock = Self::create_private(&self.lock_path(), false)
            .map_err(|e| store_error(&self.path, "cannot open the lock file", e))?;
        lock.lock()
            .map_err(|e| store_error(&self.path, "cannot lock", e))?;
        if let Ok(Some(current)) = self.read() {
            if current.pushed_at() > ticket.pushed_at() {
                return Ok(false);
            }
        }
        let body = serde_json::json!({
            "pushedAtMs": millis(ticket.pushed_at()),
            "ticket": ticket.value().expose(),
        })
        .to_string();
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(self.path.file_name().unwrap_or_default());
        tmp_name.push(format!(".tmp-{}", std::process::id()));
        let tmp = self.path.with_file_name(tmp_name);
        let _ = std::fs::remove_file(&tmp);
        let written = (|| {
            let mut f = Self::create_private(&tmp, true)?;
            f.write_all(body.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(store_error(&self.path, "cannot write", e));
        }
        Ok(true)
    }
}

impl SuiteTicketStore for FileTicketStore {
    fn latest(&self) -> StoreFuture<'_, Option<SuiteTicket>> {
        Box::pin(async move { self.read() })
    }

    fn offer(&self, ticket: SuiteTicket) -> StoreFuture<'_, bool> {
        let this = self.clone();
        Box::pin(async move {
            // The lock may be held by another process: wait for it off the runtime.
            tokio::task::spawn_blocking(move || this.offer_now(&ticket))
                .await
                .map_err(|e| AuthError::Transport {
                    message: format!("ticket store: {e}"),
                })?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("yida-ticket-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn newest_push_wins_across_concurrent_writers_and_the_file_is_private() {
        let d = dir("concurrent");
        let path = d.join("ticket");
        let at = |s: u64| UNIX_EPOCH + Duration::from_secs(1_700_000_000 + s);
        // Eight writers, each with its own handle (its own lock file descriptor, as separate
        // processes have), offering out of order.
        let threads: Vec<_> = (0..8u64)
            .map(|w| {
                let store = FileTicketStore::new(&path);
                std::thread::spawn(move || {
                    for i in 0..25u64 {
                        let s = (w * 37 + i * 11) % 199;
                        store
                            .offer_now(&SuiteTicket::new(format!("ticket-{s}"), at(s)))
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let newest = (0..8u64)
            .flat_map(|w| (0..25u64).map(move |i| (w * 37 + i * 11) % 199))
            .max()
            .unwrap();
        let t = FileTicketStore::new(&path).read().unwrap().unwrap();
        assert_eq!(t.value().expose(), format!("ticket-{newest}"));
        assert_eq!(t.pushed_at(), at(newest));
        // An older offer is refused.
        assert!(!FileTicketStore::new(&path)
            .offer_now(&SuiteTicket::new("old", at(0)))
            .unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
        // Only the ticket and its lock are left (no temporary files).
        let mut names: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["ticket", "ticket.lock"]);
        let debug = format!("{:?}", FileTicketStore::new(&path));
        assert!(!debug.contains(&format!("ticket-{newest}")), "{debug}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn refuses_bad_specs_naming_the_option_and_not_echoing_them() {
        for spec in ["file:", "http://:pw@host", "nonsense-secret"] {
            let e = open_spec(spec).err().unwrap();
            assert!(e.1.contains("--ticket-store"), "{}", e.1);
            assert!(!e.1.contains("secret") && !e.1.contains(":pw@"), "{}", e.1);
        }
    }
}
