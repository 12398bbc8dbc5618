//! The call ledger: every call the client sends, counted per organisation, app, operation and
//! calendar month, and the monthly budgets checked against it.
//!
//! DingTalk caps the calls an organisation may make per month (5,000 or 10,000 on standard
//! editions); past it every call fails with `Forbidden.AccessDenied.ApiCountLimitForOrg`
//! ([`ApiError::is_quota_exhausted`](crate::ApiError::is_quota_exhausted)). A [`Ledger`] given
//! to [`ClientBuilder::ledger`](crate::ClientBuilder::ledger) counts, in a [`LedgerStore`]:
//!
//! - every request sent to an operation, each attempt of a retried call included, under
//!   (organisation, app, `Action@version`) in DingTalk's month (the calendar month in China
//!   time, UTC+8). A request that could not connect is taken back (it never arrived);
//! - access-token fetches, apart from the calls;
//! - `ApiCountLimitForOrg` replies, apart too, so a report can say DingTalk refused.
//!
//! A [`CallBudget`] per organisation acts on the count before each request: warn past a
//! threshold (once per process, through `tracing`), slow down past another, and refuse once
//! the limit is reached ([`Error::BudgetExhausted`](crate::Error::BudgetExhausted), nothing
//! sent). A refusing budget takes its slot and checks the limit in one atomic step of the
//! store, so processes (or replicas) sharing a store never pass the limit together.
//!
//! Stores: [`MemoryLedger`] (one process), [`FileLedger`] (one JSON file per month, updated
//! under a file lock by atomic replacement: safe under concurrent processes; the CLI's
//! default), and `yida_redis::RedisLedger` (replicas).
//!
//! ```
//! use yida_api::ledger::{CallBudget, Ledger, MemoryLedger};
//! let ledger = Ledger::new(MemoryLedger::new())
//!     .budget("dingcorp123", CallBudget::monthly(5000).warn_at(4000));
//! let client = yida_api::Client::builder()
//!     .access_token("token")
//!     .ledger(ledger.clone(), "dingcorp123")
//!     .build()
//!     .unwrap();
//! # let _ = client;
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A calendar month in China time (UTC+8), the month DingTalk counts calls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u8,
}

impl Month {
    /// The month `year`-`month` (1..=12); `None` otherwise.
    pub fn new(year: i32, month: u32) -> Option<Month> {
        ((1..=12).contains(&month) && (1970..=9999).contains(&year)).then_some(Month {
            year,
            month: month as u8,
        })
    }

    /// The current month in China time.
    pub fn now() -> Month {
        Month::at(SystemTime::now())
    }

    /// The month of `t` in China time.
    pub fn at(t: SystemTime) -> Month {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
            + 8 * 3600;
        let (y, m, _) = civil_from_days(secs.div_euclid(86_400));
        Month {
            year: y as i32,
            month: m as u8,
        }
    }

    /// Year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// Month, 1..=12.
    pub fn month(&self) -> u32 {
        u32::from(self.month)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = String;

    /// `YYYY-MM`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a month: expected YYYY-MM, e.g. 2026-01");
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let y: i32 = y.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        Month::new(y, m).ok_or_else(bad)
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// What one entry adds to the ledger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Delta {
    /// Requests sent to an operation (−1 takes back a request that never left).
    pub calls: i64,
    /// Access-token requests sent.
    pub token_fetches: u64,
    /// `ApiCountLimitForOrg` replies received.
    pub limit_replies: u64,
}

/// Where a [`Delta`] is counted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// The organisation (corp id, or whatever name the client was given).
    pub org: String,
    /// The app (`appType`, or the client's quota app name).
    pub app: String,
    /// `Action@version`, or `token` for token fetches alone.
    pub operation: String,
}

/// The counts of one organisation in one month.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrgUsage {
    /// Requests sent to operations.
    pub calls: u64,
    /// Access-token requests.
    #[serde(default)]
    pub token_fetches: u64,
    /// `ApiCountLimitForOrg` replies.
    #[serde(default)]
    pub limit_replies: u64,
    /// Requests per app, then per `Action@version`.
    #[serde(default)]
    pub by_app: BTreeMap<String, BTreeMap<String, u64>>,
}

impl OrgUsage {
    fn apply(&mut self, entry: &Entry, d: &Delta) {
        self.calls = add_signed(self.calls, d.calls);
        self.token_fetches += d.token_fetches;
        self.limit_replies += d.limit_replies;
        if d.calls != 0 {
            let n = self
                .by_app
                .entry(entry.app.clone())
                .or_default()
                .entry(entry.operation.clone())
                .or_default();
            *n = add_signed(*n, d.calls);
        }
    }
}

fn add_signed(a: u64, d: i64) -> u64 {
    if d >= 0 {
        a.saturating_add(d as u64)
    } else {
        a.saturating_sub(d.unsigned_abs())
    }
}

/// The counts of one month, per organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MonthUsage {
    /// Per organisation.
    #[serde(default)]
    pub orgs: BTreeMap<String, OrgUsage>,
}

/// The answer of [`LedgerStore::add`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Counted; the organisation's calls this month, this one included.
    Counted(u64),
    /// Not counted: it would pass the limit. The organisation's calls this month.
    Refused(u64),
}

/// A ledger failure (the store could not be read or written).
#[derive(Debug, Clone, thiserror::Error)]
#[error("call ledger: {0}")]
pub struct LedgerError(pub String);

/// The future of a store operation.
pub type LedgerFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, LedgerError>> + Send + 'a>>;

/// Where the counts are kept. Implement it to keep them elsewhere (`yida_redis::RedisLedger`
/// does).
pub trait LedgerStore: Send + Sync + fmt::Debug {
    /// Adds `delta` under `entry` in `month`. With `limit`, a delta with calls > 0 is refused
    /// (nothing added) when the organisation's calls would pass it; the check and the add are
    /// one atomic step.
    fn add<'a>(
        &'a self,
        month: Month,
        entry: &'a Entry,
        delta: Delta,
        limit: Option<u64>,
    ) -> LedgerFuture<'a, Admission>;

    /// The counts of `month`.
    fn usage(&self, month: Month) -> LedgerFuture<'_, MonthUsage>;
}

/// The one rule of every store: apply `delta` unless it passes `limit`.
fn admit(usage: &mut MonthUsage, entry: &Entry, delta: &Delta, limit: Option<u64>) -> Admission {
    let org = usage.orgs.entry(entry.org.clone()).or_default();
    if delta.calls > 0 {
        if let Some(limit) = limit {
            if org.calls.saturating_add(delta.calls as u64) > limit {
                return Admission::Refused(org.calls);
            }
        }
    }
    org.apply(entry, delta);
    Admission::Counted(org.calls)
}

/// Counts in memory: one process, gone when it ends.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    months: Mutex<HashMap<Month, MonthUsage>>,
}

impl MemoryLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }
}

impl LedgerStore for MemoryLedger {
    fn add<'a>(
        &'a self,
        month: Month,
        entry: &'a Entry,
        delta: Delta,
        limit: Option<u64>,
    ) -> LedgerFuture<'a, Admission> {
        let mut months = self.months.lock().unwrap_or_else(|e| e.into_inner());
        let r = admit(months.entry(month).or_default(), entry, &delta, limit);
        Box::pin(std::future::ready(Ok(r)))
    }

    fn usage(&self, month: Month) -> LedgerFuture<'_, MonthUsage> {
        let months = self.months.lock().unwrap_or_else(|e| e.into_inner());
        let u = months.get(&month).cloned().unwrap_or_default();
        Box::pin(std::future::ready(Ok(u)))
    }
}

/// Counts in a folder: one JSON file per month (`calls-YYYY-MM.json`), changed only under an
/// exclusive lock on `ledger.lock` and replaced atomically (written aside, then renamed), so
/// any number of processes can share the folder and a reader never sees half a file.
#[derive(Debug, Clone)]
pub struct FileLedger {
    dir: PathBuf,
}

/// Largest ledger file read (a month of one organisation is a few KB).
const MAX_LEDGER_FILE: u64 = 16 << 20;

impl FileLedger {
    /// A ledger in `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileLedger { dir: dir.into() }
    }

    /// The default folder: `$YIDA_DATA_DIR`, else `$XDG_DATA_HOME/yida`, else
    /// `~/.local/share/yida` (then `ledger/` in it). `None` without a home folder.
    pub fn default_dir() -> Option<PathBuf> {
        let var = |n: &str| {
            std::env::var_os(n)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let base = var("YIDA_DATA_DIR")
            .or_else(|| var("XDG_DATA_HOME").map(|d| d.join("yida")))
            .or_else(|| var("HOME").map(|h| h.join(".local/share/yida")))?;
        Some(base.join("ledger"))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, month: Month) -> PathBuf {
        self.dir.join(format!("calls-{month}.json"))
    }

    fn err(&self, what: &str, e: impl fmt::Display) -> LedgerError {
        LedgerError(format!("{what} {}: {e}", self.dir.display()))
    }

    fn lock(&self) -> Result<std::fs::File, LedgerError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| self.err("cannot create", e))?;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join("ledger.lock"))
            .map_err(|e| self.err("cannot open the lock in", e))?;
        f.lock().map_err(|e| self.err("cannot lock", e))?;
        Ok(f)
    }

    fn read(&self, month: Month) -> Result<MonthUsage, LedgerError> {
        use std::io::Read;
        let path = self.file(month);
        let f = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(MonthUsage::default()),
            Err(e) => return Err(self.err("cannot read", e)),
        };
        let mut text = Vec::new();
        f.take(MAX_LEDGER_FILE + 1)
            .read_to_end(&mut text)
            .map_err(|e| self.err("cannot read", e))?;
        if text.len() as u64 > MAX_LEDGER_FILE {
            return Err(LedgerError(format!(
                "{} is larger than {MAX_LEDGER_FILE} bytes",
                path.display()
            )));
        }
        if text.iter().all(u8::is_ascii_whitespace) {
            return Ok(MonthUsage::default());
        }
        serde_json::from_slice(&text)
            .map_err(|e| LedgerError(format!("{} is not a ledger file: {e}", path.display())))
    }

    fn write(&self, month: Month, usage: &MonthUsage) -> Result<(), LedgerError> {
        let path = self.file(month);
        let tmp = self
            .dir
            .join(format!(".calls-{month}.json.{}.tmp", std::process::id()));
        let text = serde_json::to_vec_pretty(usage).map_err(|e| self.err("cannot encode", e))?;
        std::fs::write(&tmp, text).map_err(|e| self.err("cannot write", e))?;
        std::fs::rename(&tmp, &path).map_err(|e| self.err("cannot replace a file in", e))
    }

    fn add_blocking(
        &self,
        month: Month,
        entry: &Entry,
        delta: Delta,
        limit: Option<u64>,
    ) -> Result<Admission, LedgerError> {
        let _lock = self.lock()?;
        let mut usage = self.read(month)?;
        let r = admit(&mut usage, entry, &delta, limit);
        if matches!(r, Admission::Counted(_)) {
            self.write(month, &usage)?;
        }
        Ok(r)
    }
}

/// Runs blocking file work off the async threads when a multi-thread runtime runs.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, LedgerError> + Send + 'static,
) -> Result<T, LedgerError> {
    match tokio::runtime::Handle::try_current() {
        Ok(rt) if rt.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => rt
            .spawn_blocking(f)
            .await
            .map_err(|e| LedgerError(format!("the ledger task failed: {e}")))?,
        _ => f(),
    }
}

impl LedgerStore for FileLedger {
    fn add<'a>(
        &'a self,
        month: Month,
        entry: &'a Entry,
        delta: Delta,
        limit: Option<u64>,
    ) -> LedgerFuture<'a, Admission> {
        let me = self.clone();
        let entry = entry.clone();
        Box::pin(blocking(move || {
            me.add_blocking(month, &entry, delta, limit)
        }))
    }

    fn usage(&self, month: Month) -> LedgerFuture<'_, MonthUsage> {
        let me = self.clone();
        Box::pin(blocking(move || {
            let _lock = me.lock()?;
            me.read(month)
        }))
    }
}

/// A monthly call budget for one organisation.
///
/// ```
/// use std::time::Duration;
/// use yida_api::ledger::CallBudget;
/// // Warn from 4,000 calls, pause 1 s before each call from 4,500, refuse at 5,000.
/// let b = CallBudget::monthly(5000)
///     .warn_at(4000)
///     .slow_down_from(4500, Duration::from_secs(1));
/// // Only warn, never refuse:
/// let soft = CallBudget::monthly(10_000).refuse(false);
/// # let _ = (b, soft);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallBudget {
    limit: u64,
    warn_at: Option<u64>,
    slow_down: Option<(u64, Duration)>,
    refuse: bool,
}

impl CallBudget {
    /// `limit` calls a month: warns at 80 % and refuses once the limit is reached.
    pub fn monthly(limit: u64) -> Self {
        CallBudget {
            limit,
            warn_at: Some(limit / 5 * 4),
            slow_down: None,
            refuse: true,
        }
    }

    /// Warn (once per process and month, through `tracing`) from this many calls on.
    pub fn warn_at(mut self, calls: u64) -> Self {
        self.warn_at = Some(calls);
        self
    }

    /// Pause `pause` before each call from this many calls on.
    pub fn slow_down_from(mut self, calls: u64, pause: Duration) -> Self {
        self.slow_down = Some((calls, pause));
        self
    }

    /// Refuse calls past the limit (default `true`): the call fails with
    /// [`Error::BudgetExhausted`](crate::Error::BudgetExhausted) and nothing is sent. `false`:
    /// only warn.
    pub fn refuse(mut self, yes: bool) -> Self {
        self.refuse = yes;
        self
    }

    /// The monthly limit.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Whether calls past the limit are refused.
    pub fn refuses(&self) -> bool {
        self.refuse
    }
}

/// A ledger: a store and the budgets of the organisations (see the [module docs](self)).
/// Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Ledger {
    store: Arc<dyn LedgerStore>,
    budgets: Arc<HashMap<String, CallBudget>>,
    warned: Arc<Mutex<HashMap<(String, Month), ()>>>,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger")
            .field("store", &self.store)
            .field("budgets", &self.budgets)
            .finish()
    }
}

impl Ledger {
    /// A ledger keeping its counts in `store`, with no budget.
    pub fn new(store: impl LedgerStore + 'static) -> Self {
        Ledger::from_arc(Arc::new(store))
    }

    /// A ledger over a shared store.
    pub fn from_arc(store: Arc<dyn LedgerStore>) -> Self {
        Ledger {
            store,
            budgets: Arc::default(),
            warned: Arc::default(),
        }
    }

    /// Sets the budget of organisation `org`.
    pub fn budget(mut self, org: impl Into<String>, budget: CallBudget) -> Self {
        Arc::make_mut(&mut self.budgets).insert(org.into(), budget);
        self
    }

    /// The budget of `org`, if one is set.
    pub fn budget_of(&self, org: &str) -> Option<&CallBudget> {
        self.budgets.get(org)
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn LedgerStore> {
        &self.store
    }

    /// The counts of `month`.
    pub async fn usage(&self, month: Month) -> Result<MonthUsage, LedgerError> {
        self.store.usage(month).await
    }

    /// Before a request leaves: count it (or refuse it under a refusing budget), warn or pause
    /// as the budget says. `Err` carries the refusal or a store failure under a refusing
    /// budget; a store failure without one only logs.
    pub(crate) async fn before_send(
        &self,
        op: crate::OpId,
        org: &str,
        entry: &Entry,
        token_fetches: u64,
    ) -> Result<(), crate::Error> {
        let month = Month::now();
        let budget = self.budgets.get(org);
        let limit = budget.filter(|b| b.refuse).map(|b| b.limit);
        let delta = Delta {
            calls: 1,
            token_fetches,
            limit_replies: 0,
        };
        let used = match self.store.add(month, entry, delta, limit).await {
            Ok(Admission::Counted(n)) => n,
            Ok(Admission::Refused(used)) => {
                if token_fetches > 0 {
                    let only_tokens = Delta {
                        token_fetches,
                        ..Delta::default()
                    };
                    let _ = self.store.add(month, entry, only_tokens, None).await;
                }
                return Err(crate::Error::BudgetExhausted {
                    operation: op,
                    org: org.to_string(),
                    month: month.to_string(),
                    used,
                    limit: limit.unwrap_or(0),
                });
            }
            Err(e) if limit.is_some() => {
                return Err(crate::Error::Ledger {
                    operation: op,
                    message: e.to_string(),
                })
            }
            Err(e) => {
                tracing::warn!(error = %e, "the call was not counted");
                return Ok(());
            }
        };
        let Some(budget) = budget else {
            return Ok(());
        };
        if budget.warn_at.is_some_and(|w| used >= w) {
            let first = self
                .warned
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((org.to_string(), month), ())
                .is_none();
            if first {
                tracing::warn!(
                    org,
                    month = %month,
                    used,
                    limit = budget.limit,
                    "monthly call budget: {used} of {} calls used",
                    budget.limit
                );
            }
        }
        if let Some((from, pause)) = budget.slow_down {
            if used >= from {
                tokio::time::sleep(pause).await;
            }
        }
        Ok(())
    }

    /// After a request (or its token request) ended: take back a request that never left (no
    /// token, or no connection), note a quota refusal, and count the token fetches made for it.
    pub(crate) async fn after_send(
        &self,
        entry: &Entry,
        result: &Result<(), &crate::Error>,
        token_fetches: u64,
    ) {
        let mut delta = Delta {
            token_fetches,
            ..Delta::default()
        };
        match result {
            Err(crate::Error::Connect { .. } | crate::Error::Auth(_)) => delta.calls = -1,
            Err(crate::Error::Api(api)) if api.is_quota_exhausted() => delta.limit_replies = 1,
            _ => {}
        }
        if delta == Delta::default() {
            return;
        }
        if let Err(e) = self.store.add(Month::now(), entry, delta, None).await {
            tracing::warn!(error = %e, "the call ledger could not be updated");
        }
    }
}

/// Token fetches seen by a client and not yet written to its ledger (they are written with the
/// next call, or on their own when the fetch fails).
#[derive(Debug, Default)]
pub(crate) struct TokenFetches(pub(crate) AtomicU64);

impl TokenFetches {
    pub(crate) fn take(&self) -> u64 {
        self.0.swap(0, Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_counted_in_china_time() {
        // 2026-01-31 16:00 UTC is 2026-02-01 00:00 in China.
        let t = UNIX_EPOCH + Duration::from_secs(1_769_875_200);
        assert_eq!(Month::at(t).to_string(), "2026-02");
        assert_eq!(Month::at(t - Duration::from_secs(1)).to_string(), "2026-01");
        assert_eq!("2026-02".parse::<Month>().unwrap(), Month::at(t));
        assert!("2026-13".parse::<Month>().is_err());
        assert!("26-1".parse::<Month>().is_err());
        assert_eq!(Month::at(UNIX_EPOCH).to_string(), "1970-01");
    }

    #[test]
    fn a_limit_refuses_without_counting() {
        let mut u = MonthUsage::default();
        let e = Entry {
            org: "o".into(),
            app: "a".into(),
            operation: "X@1.0".into(),
        };
        let one = Delta {
            calls: 1,
            ..Delta::default()
        };
        assert_eq!(admit(&mut u, &e, &one, Some(2)), Admission::Counted(1));
        assert_eq!(admit(&mut u, &e, &one, Some(2)), Admission::Counted(2));
        assert_eq!(admit(&mut u, &e, &one, Some(2)), Admission::Refused(2));
        assert_eq!(u.orgs["o"].by_app["a"]["X@1.0"], 2);
    }
}
