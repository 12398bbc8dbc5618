//! The state every request handler shares, and the DingTalk-shaped error they answer with.
//!
//! Imports only the seed and the store: the HTTP front (`server`), the handlers (`ops`) and
//! the Stream gateway (`stream`) sit on top of this module and never on each other in a
//! circle.

use crate::seed::Seed;
use crate::store::{Disk, State};
use crate::{Error, Faults, Options};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A DingTalk-shaped error reply (`{code, message, requestid}` with this HTTP status).
#[derive(Debug)]
pub struct ApiErr {
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl ApiErr {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> ApiErr {
        ApiErr {
            status,
            code: code.into(),
            message: message.into(),
        }
    }
    pub fn bad(code: impl Into<String>, message: impl Into<String>) -> ApiErr {
        ApiErr::new(400, code, message)
    }
}

/// Who is calling, from the access token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// App key or suite key.
    pub client_id: String,
}

struct TokenInfo {
    client_id: String,
    expires: Instant,
}

#[derive(Default)]
struct Tokens {
    by_token: HashMap<String, TokenInfo>,
    by_client: HashMap<(String, String), String>,
}

/// App key, action, version.
type QuotaKey = (String, &'static str, &'static str);

/// Everything the handlers share.
pub struct Shared {
    seed: RwLock<Seed>,
    state: Mutex<State>,
    disk: Option<Disk>,
    faults: RwLock<Faults>,
    token_lifetime: Duration,
    tokens: Mutex<Tokens>,
    quota: Mutex<HashMap<QuotaKey, (u64, u32)>>,
    rng: Mutex<u64>,
    seq: AtomicU64,
    files: RwLock<HashMap<String, Arc<[u8]>>>,
    /// Temporary download URLs handed out from now on that are already expired (a test knob).
    expire_next_urls: AtomicU32,
    /// Signs temporary download URLs.
    url_key: u64,
    /// The address the server listens on (for URLs it hands out).
    pub addr: SocketAddr,
    /// Requests received per operation (action name), whatever their outcome.
    calls: Mutex<HashMap<&'static str, u64>>,
}

/// Now, in epoch milliseconds.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Shared {
    pub fn new(opts: Options, addr: SocketAddr) -> Result<Shared, Error> {
        let (disk, state) = match &opts.data {
            Some(path) => {
                let disk = Disk::open(path, opts.reset)?;
                let st = disk.load()?;
                (Some(disk), st)
            }
            None => (None, State::default()),
        };
        let seed_rng = now_ms() as u64 ^ 0x9E37_79B9_7F4A_7C15;
        let files = opts
            .seed
            .files
            .iter()
            .map(|f| (f.name.clone(), Arc::from(f.content.as_bytes())))
            .collect();
        let url_key = seed_rng.rotate_left(17) ^ (std::process::id() as u64) << 32;
        Ok(Shared {
            seed: RwLock::new(opts.seed),
            state: Mutex::new(state),
            disk,
            faults: RwLock::new(opts.faults),
            token_lifetime: opts.token_lifetime,
            tokens: Mutex::new(Tokens::default()),
            quota: Mutex::new(HashMap::new()),
            rng: Mutex::new(seed_rng | 1),
            seq: AtomicU64::new(1),
            files: RwLock::new(files),
            expire_next_urls: AtomicU32::new(0),
            url_key,
            addr,
            calls: Mutex::new(HashMap::new()),
        })
    }

    pub fn seed(&self) -> Seed {
        self.seed.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn with_seed<T>(&self, f: impl FnOnce(&Seed) -> T) -> T {
        f(&self.seed.read().unwrap_or_else(|e| e.into_inner()))
    }

    pub fn update_seed(&self, f: impl FnOnce(&mut Seed)) -> Result<(), Error> {
        let mut g = self.seed.write().unwrap_or_else(|e| e.into_inner());
        let mut next = g.clone();
        f(&mut next);
        next.check()?;
        *g = next;
        Ok(())
    }

    pub fn faults(&self) -> Faults {
        self.faults
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_faults(&self, f: Faults) {
        *self.faults.write().unwrap_or_else(|e| e.into_inner()) = f;
    }

    pub fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut g)
    }

    /// Runs a mutation and writes what it changed to disk, if any.
    pub fn mutate<T>(&self, f: impl FnOnce(&mut State) -> Result<T, ApiErr>) -> Result<T, ApiErr> {
        let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let out = f(&mut g);
        if let Some(disk) = &self.disk {
            if let Err(e) = disk.flush(&mut g) {
                return Err(ApiErr::new(500, "innerError", e.to_string()));
            }
        }
        out
    }

    /// Counts a request for `action` (tests assert what went over the wire with it).
    pub fn count_call(&self, action: &'static str) {
        *self
            .calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(action)
            .or_default() += 1;
    }

    /// Requests received per action so far.
    pub fn call_counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect()
    }

    pub fn request_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed);
        format!("EMU-{:x}-{n:06}", now_ms())
    }

    /// A pseudo-random number in `[0, 1)` (xorshift64*; faults and token texts).
    pub fn random(&self) -> f64 {
        (self.random_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A pseudo-random 64-bit number.
    pub fn random_u64(&self) -> u64 {
        let mut g = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        let mut x = *g;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *g = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A token for this client and company: the live one, or a new one.
    pub fn issue_token(&self, client_id: &str, corp_id: &str) -> (String, u64) {
        let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let key = (client_id.to_string(), corp_id.to_string());
        let now = Instant::now();
        if let Some(tok) = t.by_client.get(&key) {
            if let Some(info) = t.by_token.get(tok) {
                if info.expires > now {
                    let left = info.expires.saturating_duration_since(now).as_secs();
                    return (tok.clone(), left);
                }
            }
        }
        let token = format!(
            "emu{:016x}{:016x}",
            self.random_u64(),
            self.seq.fetch_add(1, Ordering::Relaxed)
        );
        t.by_token.insert(
            token.clone(),
            TokenInfo {
                client_id: client_id.to_string(),
                expires: now + self.token_lifetime,
            },
        );
        t.by_client.insert(key, token.clone());
        (token, self.token_lifetime.as_secs())
    }

    /// The caller behind a live token.
    pub fn check_token(&self, token: &str) -> Option<Caller> {
        let t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let info = t.by_token.get(token)?;
        if info.expires <= Instant::now() {
            return None;
        }
        Some(Caller {
            client_id: info.client_id.clone(),
        })
    }

    /// A Stream-mode client's credentials (app key/secret or suite key/secret).
    pub fn check_client(&self, id: &str, secret: &str) -> bool {
        self.with_seed(|s| {
            s.internal_apps
                .iter()
                .any(|a| a.app_key == id && a.app_secret == secret)
                || s.suites
                    .iter()
                    .any(|x| x.suite_key == id && x.suite_secret == secret)
        })
    }

    /// Counts a call against the per-app, per-API quota; `true` when it is over.
    pub fn over_quota(&self, client: &str, action: &'static str, version: &'static str) -> bool {
        let qps = self.faults.read().unwrap_or_else(|e| e.into_inner()).qps;
        if qps == 0 {
            return false;
        }
        let sec = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let mut q = self.quota.lock().unwrap_or_else(|e| e.into_inner());
        let e = q
            .entry((client.to_string(), action, version))
            .or_insert((sec, 0));
        if e.0 != sec {
            *e = (sec, 0);
        }
        e.1 += 1;
        e.1 > qps
    }

    /// Adds (or replaces) a file; returns the URL form values store for it.
    pub fn add_file(&self, name: &str, content: &[u8]) -> String {
        self.files
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_string(), Arc::from(content));
        stored_file_url(name)
    }

    /// A file's content.
    pub fn file(&self, name: &str) -> Option<Arc<[u8]>> {
        self.files
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
    }

    /// Makes the next `n` temporary download URLs expired when handed out.
    pub fn expire_next_urls(&self, n: u32) {
        self.expire_next_urls.store(n, Ordering::Relaxed);
    }

    /// A temporary download URL for a file, valid until `expires_ms` (or already expired when
    /// the test knob says so).
    pub fn temporary_url(&self, name: &str, lifetime_ms: i64) -> String {
        let expired = self
            .expire_next_urls
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        let expires = if expired {
            now_ms() - 1
        } else {
            now_ms().saturating_add(lifetime_ms)
        };
        let enc = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
        format!(
            "http://{}/emu-oss/{enc}?Expires={expires}&Signature={:016x}",
            self.addr,
            self.url_signature(name, expires)
        )
    }

    /// The signature of a temporary URL.
    pub fn url_signature(&self, name: &str, expires: i64) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (self.url_key, name, expires).hash(&mut h);
        h.finish()
    }
}

/// The URL form values store for a file of the emulated tenant (Yida stores attachment URLs
/// as paths of its own host, to be exchanged through GetOpenUrl).
pub fn stored_file_url(name: &str) -> String {
    let enc = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("/ossFileHandle?fileName={enc}&type=download")
}

/// The file name in a stored URL (relative or absolute, with `fileName=` in its query).
pub fn file_name_of(url: &str) -> Option<String> {
    let (path, query) = url.split_once('?')?;
    if !path.ends_with("/ossFileHandle") {
        return None;
    }
    yida_auth::wire::query_pairs(query)
        .ok()?
        .find(|(k, v)| k == "fileName" && !v.is_empty())
        .map(|(_, v)| v.into_owned())
}
