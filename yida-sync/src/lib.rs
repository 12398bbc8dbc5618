//! A live SQL mirror of Yida forms: `yida sync FORM-… --to sqlite:forms.db | postgres://…`,
//! and the same as a library.
//!
//! The first run walks every record (pages in parallel, paced by the client under the 20
//! calls/s limit); later runs fetch only the records modified since the last run's start (an
//! overlap window covers clock skew), deduplicated by instance id. Deletions — Yida pushes no
//! event for them — are found by comparing instance ids (SearchFormDataIdList) on the schedule
//! you choose. Each page is written in one transaction; the watermark moves in the transaction
//! of a run's last page, so a process killed at any moment leaves a mirror that the next run
//! brings level with Yida.
//!
//! Tables: `form_<formUuid>` (instance id, creator, modifier, created and modified times,
//! instance status, the raw `form_data`, and a column per component typed from the component
//! model), `form_<formUuid>__<tableField>` (every sub-form row, keyed by instance id and row
//! index), `yida_sync_state` (watermarks, columns) and `yida_sync_runs` (run history).
//!
//! ```no_run
//! # async fn run(client: yida_api::Client) -> Result<(), yida_sync::SyncError> {
//! let store = yida_sync::Store::open("sqlite:forms.db").await?;
//! let mirror = yida_sync::Mirror::new(client, store, yida_sync::SyncOptions::default());
//! let report = mirror.sync("FORM-EXPENSES").await?;
//! println!("{} records written with {} calls", report.upserted, report.calls);
//! # Ok(()) }
//! ```

mod mirror;
pub mod schema;
mod store;

pub use mirror::{Deletions, Mirror, Report, SyncOptions};
pub use store::{Record, SchemaChanges, State, Store};

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// A Yida call failed (the mirror is unchanged by the failing page).
    #[error(transparent)]
    Api(#[from] yida_api::Error),
    /// The database refused a statement or could not be reached.
    #[error("database: {0}")]
    Database(String),
    /// `--to` is not `sqlite:PATH` or `postgres://…`.
    #[error("bad target {0}")]
    Target(String),
    /// A reply did not have the shape the mirror needs.
    #[error("unexpected reply: {0}")]
    Reply(String),
}

impl SyncError {
    fn sqlite(e: rusqlite::Error) -> SyncError {
        SyncError::Database(format!("SQLite: {e}"))
    }

    fn postgres(e: tokio_postgres::Error) -> SyncError {
        // tokio-postgres errors never carry the connection string (so no password).
        // The source says which type did not fit ("error serializing parameter 9" alone
        // does not).
        match std::error::Error::source(&e) {
            Some(src) => SyncError::Database(format!("PostgreSQL: {e}: {src}")),
            None => SyncError::Database(format!("PostgreSQL: {e}")),
        }
    }
}

/// A database URL without its password (`postgres://user:***@host/db`).
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Epoch milliseconds as ISO-8601 UTC (`2024-01-30T12:00:00.000Z`).
pub(crate) fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        s / 3600,
        (s % 3600) / 60,
        s % 60
    )
}

/// Epoch milliseconds as the filter text the search operations take
/// (`yyyy-MM-dd HH:mm:ss`, GMT).
pub(crate) fn gmt_filter(ms: i64) -> String {
    let iso = iso8601(ms);
    format!("{} {}", &iso[..10], &iso[11..19])
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's
/// algorithm).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_urls() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(gmt_filter(1_700_000_000_123), "2023-11-14 22:13:20");
        assert_eq!(
            redact_url("postgres://yida:s3cret@127.0.0.1:5432/db"),
            "postgres://yida:***@127.0.0.1:5432/db"
        );
        assert_eq!(redact_url("sqlite:a.db"), "sqlite:a.db");
    }
}
