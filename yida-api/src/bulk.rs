//! Bulk writes: many records into one form through the batch operations.
//!
//! [`Client::bulk`] gives a [`Bulk`] writer for one form. It cuts the records into chunks (one
//! batch call each: `BatchSaveFormData`, `BatchUpdateFormDataByInstanceMap`,
//! `BatchRemovalByFormInstanceIdList`), sends up to [`concurrency`](Bulk::concurrency) chunks at
//! once under the client's limiter (see [`ClientBuilder::pacing`](crate::ClientBuilder::pacing))
//! and hands back one [`Outcome`] per record: written (with its instance id) or failed (with the
//! error and the record).
//!
//! Nothing is written twice:
//! - a chunk is never sent again after a reply that may mean it was applied (HTTP 5xx, a
//!   timeout, a connection broken after sending, a 2xx that does not decode): its records fail
//!   with [`Outcome::Failed::maybe_applied`] set, for the caller to check. Throttling and
//!   refused connections are retried by the client's policy, since the server did not act;
//! - with a [`checkpoint`](Bulk::checkpoint) file, every chunk is marked as sent before it goes
//!   out and as done (with its instance ids) or failed when its reply arrives. A run resumed
//!   from that file reports the done chunks from the file, sends again only the chunks that
//!   definitely failed or were never sent, and reports the chunks whose fate is unknown (sent
//!   but no reply recorded: the process died mid-call) as failed, without sending them.
//!
//! A chunk refused with a validation error (an HTTP 4xx other than throttling, a rejected
//! token or a permission error: definitely not applied) is split in halves and the halves sent
//! again, level by level, until each refused record stands alone, within
//! [`isolate_calls`](Bulk::isolate_calls) extra calls per chunk: the valid records are written
//! and each refused record carries its own error. A part whose fate is uncertain is never sent
//! again. When every record of a chunk fails on its own (the error is about the call, not one
//! record), isolation stops for the rest of the run.
//!
//! Chunk size: the batch pages name no fixed per-call limit; they say that
//! `noExecuteExpression` raises it, and their error lists cap a request at 5,000 records
//! (`failure.form.dataAmountExceedFiveThousand`). The default of 100 records per call stays well
//! inside what forms with validation rules accept; [`chunk_size`](Bulk::chunk_size) changes it
//! (at most 5,000).
//!
//! ```no_run
//! use yida_api::bulk::Outcome;
//! # async fn run(client: yida_api::Client) -> Result<(), yida_api::Error> {
//! let rows = (0..1000).map(|i| serde_json::json!({ "textField_title": format!("row {i}") }));
//! let summary = client
//!     .bulk("FORM-XXXX")
//!     .concurrency(8)
//!     .save(rows, |outcome| match outcome {
//!         Outcome::Written { instance_id, .. } => println!("{instance_id}"),
//!         Outcome::Failed { record, error, .. } => eprintln!("{record}: {error}"),
//!     })
//!     .await?;
//! assert_eq!(summary.written + summary.failed, 1000);
//! # Ok(()) }
//! ```

use crate::{
    BatchRemovalByFormInstanceIdListRequest, BatchSaveFormDataRequest,
    BatchUpdateFormDataByInstanceMapRequest, Client, Error, JsonText, OpId,
};
use futures_util::stream::{FuturesUnordered, StreamExt};
use md5::{Digest, Md5};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::future::Future;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

/// Largest chunk accepted by [`Bulk::chunk_size`] (the 5,000-record cap in the batch pages'
/// error lists).
pub const MAX_CHUNK_SIZE: usize = 5000;

/// Default records per batch call.
pub const DEFAULT_CHUNK_SIZE: usize = 100;

/// Why one record was not written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The batch call of its chunk failed (shared by every record of the chunk).
    #[error(transparent)]
    Call(Arc<Error>),
    /// The call succeeded but its reply does not list this record as written.
    #[error("{operation}: the reply does not list this record as written")]
    NotInReply {
        /// The batch operation.
        operation: crate::OpId,
    },
    /// The batch call of a group of records failed and the call budget for isolating the bad
    /// records ran out before this group was split further.
    #[error("{error} (refused together with {others} other records; not split further within the isolation budget)")]
    InGroup {
        /// The error of the group's call.
        error: Arc<Error>,
        /// How many other records were refused with it.
        others: usize,
    },
    /// A resumed run found this record's chunk sent without a recorded reply (or with a reply
    /// that may mean it was applied): it was not sent again.
    #[error("{operation}: an earlier run sent this record's chunk and its fate is unknown; not sent again (check the form)")]
    NotResent {
        /// The batch operation.
        operation: crate::OpId,
    },
}

/// What happened to one record.
#[derive(Debug)]
pub enum Outcome<T> {
    /// Written.
    Written {
        /// Position of the record in the input, from 0.
        index: u64,
        /// The record.
        record: T,
        /// The form instance id (new for a save, the record's own for an update or delete).
        instance_id: String,
        /// Written by an earlier run (read from the checkpoint).
        resumed: bool,
    },
    /// Not written, or not known to be written.
    Failed {
        /// Position of the record in the input, from 0.
        index: u64,
        /// The record.
        record: T,
        /// Why.
        error: RecordError,
        /// The server may have applied the write anyway (5xx, broken connection, unknown fate):
        /// check before writing it again.
        maybe_applied: bool,
    },
}

impl<T> Outcome<T> {
    /// Position of the record in the input.
    pub fn index(&self) -> u64 {
        match self {
            Outcome::Written { index, .. } | Outcome::Failed { index, .. } => *index,
        }
    }

    /// Whether the record was written.
    pub fn is_written(&self) -> bool {
        matches!(self, Outcome::Written { .. })
    }
}

/// Counts of a finished bulk run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkSummary {
    /// Records written (this run or, from the checkpoint, an earlier one).
    pub written: u64,
    /// Records not written.
    pub failed: u64,
    /// Of the written, those an earlier run wrote.
    pub resumed: u64,
    /// Batch calls sent by this run (those that isolated bad records included).
    pub calls: u64,
    /// Of the calls, those sent to isolate the bad records of refused chunks.
    pub isolation_calls: u64,
}

/// A bulk writer for one form; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Bulk {
    client: Client,
    form_uuid: String,
    chunk_size: usize,
    concurrency: usize,
    no_execute_expression: Option<bool>,
    /// The checkpoint file, and whether the run continues from it.
    checkpoint: Option<(PathBuf, bool)>,
    isolate_calls: Option<u64>,
}

impl Client {
    /// A bulk writer for `form_uuid` (see [`bulk`](crate::bulk)). Its calls are paced by
    /// the client's limiter.
    pub fn bulk(&self, form_uuid: impl Into<String>) -> Bulk {
        Bulk {
            client: self.paced(),
            form_uuid: form_uuid.into(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            concurrency: 4,
            no_execute_expression: None,
            checkpoint: None,
            isolate_calls: None,
        }
    }
}

/// One chunk's reply: per record, the instance id when the server says it was written.
type ChunkFuture = Pin<Box<dyn Future<Output = Result<Vec<Option<String>>, Error>> + Send>>;

/// What a checkpoint file says about one chunk.
#[derive(Debug, Clone, PartialEq)]
enum Mark {
    Sent,
    /// Per record: the instance id when written. `uncertain`: indices whose part of the chunk
    /// may have been applied (isolation sent it and its fate is unknown).
    Done(Vec<Option<String>>, Vec<usize>),
    Uncertain,
    Failed,
}

impl Mark {
    /// What a resumed run reports for a chunk of `n` records with this mark, without sending
    /// it: done chunks as the file says (the parts isolation left uncertain not resent); a
    /// chunk sent without a recorded reply, or with one that may have applied it, as not
    /// resent. `None`: the chunk definitely failed, send it again.
    fn replay(&self, n: usize) -> Option<Vec<Found>> {
        match self {
            Mark::Done(ids, uncertain) => {
                let mut found = found_in_reply(ids, n);
                for &i in uncertain {
                    if let Some(f) = found.get_mut(i) {
                        *f = Found::NotResent;
                    }
                }
                Some(found)
            }
            Mark::Sent | Mark::Uncertain => Some(Found::all(n, Found::NotResent)),
            Mark::Failed => None,
        }
    }

    /// The mark of a chunk whose records isolation settled: the written ones' ids, and the
    /// parts whose fate is unknown.
    fn after_isolation(found: &[Found]) -> Mark {
        let ids = found
            .iter()
            .map(|f| match f {
                Found::Written(id) => Some(id.clone()),
                _ => None,
            })
            .collect();
        let uncertain = found
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f, Found::Failed(_, true)))
            .map(|(i, _)| i)
            .collect();
        Mark::Done(ids, uncertain)
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Line {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    form: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chunk_size: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    chunk: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ids: Option<Vec<Option<String>>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    uncertain: Vec<usize>,
}

/// An append-only log of chunk states.
struct Checkpoint {
    file: std::fs::File,
    path: PathBuf,
    marks: HashMap<u64, (String, Mark)>,
}

impl fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpoint")
            .field("path", &self.path)
            .finish()
    }
}

fn cp_error(operation: OpId, path: &Path, what: impl fmt::Display) -> Error {
    Error::Checkpoint {
        operation,
        path: path.to_path_buf(),
        message: what.to_string(),
    }
}

impl Checkpoint {
    fn open(
        path: &Path,
        resume: bool,
        operation: OpId,
        form: &str,
        chunk_size: usize,
    ) -> Result<Self, Error> {
        let mut marks = HashMap::new();
        let existing = std::fs::metadata(path)
            .map(|m| m.len() > 0)
            .unwrap_or(false);
        if existing && !resume {
            return Err(cp_error(
                operation,
                path,
                "exists and is not empty; resume from it or remove it",
            ));
        }
        if existing {
            let f = std::fs::File::open(path).map_err(|e| cp_error(operation, path, e))?;
            let mut header_seen = false;
            for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
                let line = line.map_err(|e| cp_error(operation, path, e))?;
                if line.trim().is_empty() {
                    continue;
                }
                // A line cut short by a crash is the last one: ignore it.
                let Ok(l) = serde_json::from_str::<Line>(&line) else {
                    continue;
                };
                if !header_seen {
                    header_seen = true;
                    if l.operation.as_deref() != Some(operation.to_string().as_str())
                        || l.form.as_deref() != Some(form)
                        || l.chunk_size != Some(chunk_size)
                    {
                        return Err(cp_error(
                            operation,
                            path,
                            format!(
                                "was written for {} on {} in chunks of {}; this run is {operation} on {form} in chunks of {chunk_size}",
                                l.operation.unwrap_or_default(),
                                l.form.unwrap_or_default(),
                                l.chunk_size.unwrap_or(0)
                            ),
                        ));
                    }
                    continue;
                }
                let (Some(chunk), Some(digest), Some(state)) = (l.chunk, l.digest, l.state) else {
                    return Err(cp_error(
                        operation,
                        path,
                        format!("line {} is not a chunk", n + 1),
                    ));
                };
                let mark = match state.as_str() {
                    "sent" => Mark::Sent,
                    "done" => Mark::Done(l.ids.unwrap_or_default(), l.uncertain),
                    "uncertain" => Mark::Uncertain,
                    _ => Mark::Failed,
                };
                marks.insert(chunk, (digest, mark));
            }
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| cp_error(operation, path, e))?;
        let mut cp = Checkpoint {
            file,
            path: path.to_path_buf(),
            marks,
        };
        if !existing {
            cp.append(
                operation,
                &Line {
                    operation: Some(operation.to_string()),
                    form: Some(form.into()),
                    chunk_size: Some(chunk_size),
                    chunk: None,
                    digest: None,
                    state: None,
                    ids: None,
                    uncertain: Vec::new(),
                },
            )?;
        }
        Ok(cp)
    }

    /// What a resumed run reports for `chunk` from the file (see [`Mark::replay`]), `None`
    /// when it is to be sent. A chunk whose records differ from the earlier run's is an error.
    fn replay<T>(&self, operation: OpId, chunk: &Chunk<T>) -> Result<Option<Vec<Found>>, Error> {
        let Some((digest, mark)) = self.marks.get(&chunk.number) else {
            return Ok(None);
        };
        if *digest != chunk.digest {
            return Err(cp_error(
                operation,
                &self.path,
                format!(
                    "chunk {} (records from {}) differs from the earlier run's input; resume needs the same input in the same order",
                    chunk.number, chunk.first
                ),
            ));
        }
        Ok(mark.replay(chunk.records.len()))
    }

    fn append(&mut self, operation: OpId, line: &Line) -> Result<(), Error> {
        let mut text =
            serde_json::to_string(line).map_err(|e| cp_error(operation, &self.path, e))?;
        text.push('\n');
        // One write per line, flushed to the OS before the call goes out: a killed process
        // leaves every mark it made.
        self.file
            .write_all(text.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| cp_error(operation, &self.path, e))
    }

    fn mark(
        &mut self,
        operation: OpId,
        chunk: u64,
        digest: &str,
        mark: &Mark,
    ) -> Result<(), Error> {
        let (state, ids, uncertain) = match mark {
            Mark::Sent => ("sent", None, Vec::new()),
            Mark::Done(ids, u) => ("done", Some(ids.clone()), u.clone()),
            Mark::Uncertain => ("uncertain", None, Vec::new()),
            Mark::Failed => ("failed", None, Vec::new()),
        };
        self.append(
            operation,
            &Line {
                operation: None,
                form: None,
                chunk_size: None,
                chunk: Some(chunk),
                digest: Some(digest.into()),
                state: Some(state.into()),
                ids,
                uncertain,
            },
        )
    }
}

/// May the server have applied a call that ended with this error?
fn maybe_applied(e: &Error) -> bool {
    match e {
        Error::Api(api) => api.status >= 500 && !api.is_throttled(),
        Error::Timeout { .. } | Error::Transport { .. } | Error::Decode { .. } => true,
        _ => false,
    }
}

/// Was the call refused for its content, definitely without applying it? (A 4xx other than
/// throttling, a rejected token, a permission or quota refusal; or a request refused before
/// sending.) Only such a chunk is split to find its bad records.
fn refused_for_content(e: &Error) -> bool {
    match e {
        Error::Api(api) => {
            (400..500).contains(&api.status)
                && !matches!(api.status, 401 | 403 | 404 | 429)
                && !api.is_throttled()
                && !api.is_invalid_token()
                && !api.is_permission_denied()
                && !api.is_quota_exhausted()
        }
        Error::InvalidParameter { .. } | Error::InvalidInput { .. } => true,
        _ => false,
    }
}

/// Was a request sent for this result? (Refusals before sending are not calls.)
fn was_sent<T>(r: &Result<T, Error>) -> bool {
    !matches!(
        r,
        Err(Error::InvalidParameter { .. } | Error::InvalidInput { .. })
    )
}

/// What happened to one record of a chunk, before it becomes an [`Outcome`].
#[derive(Debug, Clone)]
enum Found {
    /// Written, with its instance id.
    Written(String),
    /// The call succeeded but its reply does not list the record.
    NotInReply,
    /// Its call failed; `true`: the server may have applied it.
    Failed(Arc<Error>, bool),
    /// Refused with a group of this many other records that isolation did not split further.
    InGroup(Arc<Error>, usize),
    /// An earlier run sent it and its fate is unknown: not sent again.
    NotResent,
}

impl Found {
    /// The same finding for `n` records.
    fn all(n: usize, found: Found) -> Vec<Found> {
        vec![found; n]
    }
}

/// Per record of a part of `n` records, what an applied call's reply says: its instance id, or
/// [`Found::NotInReply`].
fn found_in_reply(ids: &[Option<String>], n: usize) -> Vec<Found> {
    (0..n)
        .map(|i| match ids.get(i).cloned().flatten() {
            Some(id) => Found::Written(id),
            None => Found::NotInReply,
        })
        .collect()
}

/// Every record of an isolated chunk failed on its own: the error is about the call, not the
/// records, and isolating later chunks would only spend calls.
fn every_record_failed_alone(found: &[Found]) -> bool {
    found.iter().all(|f| matches!(f, Found::Failed(..)))
}

/// What a batch call's result means for its records.
#[derive(Debug)]
enum Reply {
    /// Answered: per record, the instance id when the reply lists it as written.
    Applied(Vec<Option<String>>),
    /// Refused for its content, definitely not applied: splitting it can find the bad records.
    Refused(Error),
    /// Failed for another reason (token, permission, quota, throttling), not applied.
    NotApplied(Error),
    /// Failed in a way that may have applied it (5xx, timeout, broken connection, a reply
    /// that does not decode): never sent again.
    Uncertain(Error),
}

impl Reply {
    /// The checkpoint mark of a chunk settled by this reply (not isolated): done with its
    /// ids, failed (a resumed run sends it again) or uncertain (never sent again).
    fn mark(&self) -> Mark {
        match self {
            Reply::Applied(ids) => Mark::Done(ids.clone(), Vec::new()),
            Reply::Refused(_) | Reply::NotApplied(_) => Mark::Failed,
            Reply::Uncertain(_) => Mark::Uncertain,
        }
    }

    /// What it means for each of the `n` records it answers (not isolated).
    fn found(self, n: usize) -> Vec<Found> {
        match self {
            Reply::Applied(ids) => found_in_reply(&ids, n),
            Reply::Refused(e) | Reply::NotApplied(e) => {
                Found::all(n, Found::Failed(Arc::new(e), false))
            }
            Reply::Uncertain(e) => Found::all(n, Found::Failed(Arc::new(e), true)),
        }
    }
}

/// Sorts a batch call's result into a [`Reply`].
fn classify(result: Result<Vec<Option<String>>, Error>) -> Reply {
    match result {
        Ok(ids) => Reply::Applied(ids),
        Err(e) if refused_for_content(&e) => Reply::Refused(e),
        Err(e) if maybe_applied(&e) => Reply::Uncertain(e),
        Err(e) => Reply::NotApplied(e),
    }
}

/// One chunk of the input: one batch call.
#[derive(Debug)]
struct Chunk<T> {
    /// Its number in the run, from 0 (its key in the checkpoint).
    number: u64,
    /// Input position of its first record.
    first: u64,
    records: Vec<T>,
    /// Digest of the records: a resumed run must bring the same chunk.
    digest: String,
}

/// Cuts the input into [`Chunk`]s of `size` records (the last one may be shorter); once the
/// input ends, it is not asked again.
struct Chunks<I> {
    input: I,
    size: usize,
    next_number: u64,
    next_index: u64,
    ended: bool,
}

impl<I> Chunks<I> {
    fn new(input: I, size: usize) -> Self {
        Chunks {
            input,
            size,
            next_number: 0,
            next_index: 0,
            ended: false,
        }
    }
}

impl<T: serde::Serialize, I: Iterator<Item = T>> Iterator for Chunks<I> {
    type Item = Chunk<T>;

    fn next(&mut self) -> Option<Chunk<T>> {
        if self.ended {
            return None;
        }
        let records: Vec<T> = self.input.by_ref().take(self.size).collect();
        if records.is_empty() {
            self.ended = true;
            return None;
        }
        let chunk = Chunk {
            number: self.next_number,
            first: self.next_index,
            digest: digest(&records),
            records,
        };
        self.next_number += 1;
        self.next_index += chunk.records.len() as u64;
        Some(chunk)
    }
}

/// The outcome of every record of `chunk`, from what was found for each (`resumed`: the chunk
/// was reported from the checkpoint of an earlier run).
fn outcomes<T>(
    operation: OpId,
    chunk: Chunk<T>,
    found: Vec<Found>,
    resumed: bool,
) -> impl Iterator<Item = Outcome<T>> {
    let first = chunk.first;
    chunk
        .records
        .into_iter()
        .zip(found)
        .enumerate()
        .map(move |(i, (record, found))| {
            let index = first + i as u64;
            let (error, maybe_applied) = match found {
                Found::Written(instance_id) => {
                    return Outcome::Written {
                        index,
                        record,
                        instance_id,
                        resumed,
                    }
                }
                Found::NotInReply => (RecordError::NotInReply { operation }, false),
                Found::Failed(error, maybe_applied) => (RecordError::Call(error), maybe_applied),
                Found::InGroup(error, others) => (RecordError::InGroup { error, others }, false),
                Found::NotResent => (RecordError::NotResent { operation }, true),
            };
            Outcome::Failed {
                index,
                record,
                error,
                maybe_applied,
            }
        })
}

/// Counts every outcome into the summary and hands it to the caller.
struct Tally<F> {
    summary: BulkSummary,
    on_outcome: F,
}

impl<F> Tally<F> {
    fn record<T>(&mut self, outcomes: impl IntoIterator<Item = Outcome<T>>)
    where
        F: FnMut(Outcome<T>),
    {
        for o in outcomes {
            match &o {
                Outcome::Written { resumed, .. } => {
                    self.summary.written += 1;
                    self.summary.resumed += u64::from(*resumed);
                }
                Outcome::Failed { .. } => self.summary.failed += 1,
            }
            (self.on_outcome)(o);
        }
    }
}

/// The MD5 of the records' JSON, in hex.
fn digest<T: serde::Serialize>(records: &[T]) -> String {
    let mut h = Md5::new();
    crate::json_text::feed_json(records, |b| h.update(b));
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Bulk {
    /// Records per batch call (1..=5000; default 100).
    pub fn chunk_size(mut self, n: usize) -> Self {
        self.chunk_size = n.clamp(1, MAX_CHUNK_SIZE);
        self
    }

    /// Batch calls in flight at once (default 4; the limiter still keeps the rate under the
    /// quota).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets `noExecuteExpression` on saves and updates (skip the form's rules; faster, bigger
    /// batches allowed), and `executeExpression` to the opposite on deletes.
    pub fn no_execute_expression(mut self, yes: bool) -> Self {
        self.no_execute_expression = Some(yes);
        self
    }

    /// Extra calls allowed per refused chunk to find its bad records by splitting it (default:
    /// `2 × ⌈log2(chunk size)⌉ + 2`, 16 for chunks of 100, enough to isolate one bad record;
    /// 0 turns isolation off: every record of a refused chunk then fails with its error).
    pub fn isolate_calls(mut self, n: u64) -> Self {
        self.isolate_calls = Some(n);
        self
    }

    fn isolation_budget(&self) -> u64 {
        self.isolate_calls.unwrap_or_else(|| {
            let levels = (self.chunk_size.max(2) as f64).log2().ceil() as u64;
            2 * levels + 2
        })
    }

    /// Record progress in this file (JSON lines), so that an interrupted run can be resumed
    /// without writing a record twice. A file that exists and is not empty is refused (use
    /// [`resume`](Self::resume) to continue from it).
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some((path.into(), false));
        self
    }

    /// Continue an interrupted run from its [`checkpoint`](Self::checkpoint) file (created if
    /// it does not exist): the same input, in the same order, with the same chunk size.
    /// Progress goes on being recorded in the same file.
    pub fn resume(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some((path.into(), true));
        self
    }

    /// Creates one form instance per record (each a JSON object of field id to value) through
    /// `BatchSaveFormData`; `on_outcome` receives every record's [`Outcome`] as its chunk
    /// finishes. Fails as a whole only when the checkpoint cannot be used.
    pub async fn save<I>(
        &self,
        records: I,
        on_outcome: impl FnMut(Outcome<serde_json::Value>),
    ) -> Result<BulkSummary, Error>
    where
        I: IntoIterator<Item = serde_json::Value>,
    {
        let form = self.form_uuid.clone();
        let nee = self.no_execute_expression;
        let send = move |client: &Client, chunk: &[serde_json::Value]| -> ChunkFuture {
            let mut req = BatchSaveFormDataRequest::new(form.clone(), chunk.iter());
            if let Some(v) = nee {
                req = req.no_execute_expression(v);
            }
            let client = client.clone();
            let n = chunk.len();
            Box::pin(async move {
                let reply = client.batch().batch_save_form_data(req).await?;
                let ids = reply.result.unwrap_or_default();
                if ids.len() != n {
                    // Cannot tell which records the ids belong to.
                    // The call was applied; which record got which id is unknown.
                    return Err(Error::Decode {
                        operation: OpId::BatchSaveFormData,
                        status: 200,
                        request_id: None,
                        source: <serde_json::Error as serde::de::Error>::custom(format!(
                            "the reply lists {} instance ids for {n} records",
                            ids.len()
                        )),
                    });
                }
                Ok(ids.into_iter().map(Some).collect())
            })
        };
        self.run(OpId::BatchSaveFormData, records, send, on_outcome)
            .await
    }

    /// Updates instances through `BatchUpdateFormDataByInstanceMap`: each record is an instance
    /// id and its new field values. A record the reply does not list as updated fails with
    /// [`RecordError::NotInReply`].
    pub async fn update<I>(
        &self,
        records: I,
        on_outcome: impl FnMut(Outcome<(String, serde_json::Value)>),
    ) -> Result<BulkSummary, Error>
    where
        I: IntoIterator<Item = (String, serde_json::Value)>,
    {
        let form = self.form_uuid.clone();
        let nee = self.no_execute_expression;
        let send = move |client: &Client, chunk: &[(String, serde_json::Value)]| -> ChunkFuture {
            let map: BTreeMap<String, JsonText> = chunk
                .iter()
                .map(|(id, v)| (id.clone(), JsonText::from_value(v)))
                .collect();
            let mut req = BatchUpdateFormDataByInstanceMapRequest::new(form.clone(), map);
            if let Some(v) = nee {
                req = req.no_execute_expression(v);
            }
            let ids: Vec<String> = chunk.iter().map(|(id, _)| id.clone()).collect();
            let client = client.clone();
            Box::pin(async move {
                let reply = client
                    .batch()
                    .batch_update_form_data_by_instance_map(req)
                    .await?;
                let updated: std::collections::HashSet<String> =
                    reply.result.unwrap_or_default().into_iter().collect();
                Ok(ids
                    .into_iter()
                    .map(|id| updated.contains(&id).then_some(id))
                    .collect())
            })
        };
        self.run(
            OpId::BatchUpdateFormDataByInstanceMap,
            records,
            send,
            on_outcome,
        )
        .await
    }

    /// Deletes instances by id through `BatchRemovalByFormInstanceIdList` (a reply without an
    /// error means every id of the chunk was removed).
    pub async fn delete<I>(
        &self,
        instance_ids: I,
        on_outcome: impl FnMut(Outcome<String>),
    ) -> Result<BulkSummary, Error>
    where
        I: IntoIterator<Item = String>,
    {
        let form = self.form_uuid.clone();
        let nee = self.no_execute_expression;
        let send = move |client: &Client, chunk: &[String]| -> ChunkFuture {
            let mut req =
                BatchRemovalByFormInstanceIdListRequest::new(form.clone(), chunk.iter().cloned());
            if let Some(v) = nee {
                req = req.execute_expression(!v);
            }
            let ids = chunk.to_vec();
            let client = client.clone();
            Box::pin(async move {
                client
                    .batch()
                    .batch_removal_by_form_instance_id_list(req)
                    .await?;
                Ok(ids.into_iter().map(Some).collect())
            })
        };
        self.run(
            OpId::BatchRemovalByFormInstanceIdList,
            instance_ids,
            send,
            on_outcome,
        )
        .await
    }

    /// The engine: cuts the input into [`Chunks`], answers a resumed chunk from the
    /// checkpoint ([`Checkpoint::replay`]) or sends it ([`send_chunk`](Self::send_chunk)), up to
    /// `concurrency` at once; settles each reply ([`settle`](Self::settle): applied, refused →
    /// [`isolate`](Self::isolate), not applied, uncertain), records it in the checkpoint and
    /// hands out one outcome per record ([`outcomes`]).
    async fn run<T, I, S, F>(
        &self,
        operation: OpId,
        records: I,
        send: S,
        on_outcome: F,
    ) -> Result<BulkSummary, Error>
    where
        T: serde::Serialize + Send + 'static,
        I: IntoIterator<Item = T>,
        S: Fn(&Client, &[T]) -> ChunkFuture,
        F: FnMut(Outcome<T>),
    {
        let mut checkpoint = self.open_checkpoint(operation)?;
        let mut tally = Tally {
            summary: BulkSummary::default(),
            on_outcome,
        };
        let mut chunks = Chunks::new(records.into_iter(), self.chunk_size);
        let mut in_flight = FuturesUnordered::new();
        let mut isolating = true;
        loop {
            while in_flight.len() < self.concurrency {
                let Some(chunk) = chunks.next() else {
                    break;
                };
                if let Some(cp) = &mut checkpoint {
                    if let Some(found) = cp.replay(operation, &chunk)? {
                        tally.record(outcomes(operation, chunk, found, true));
                        continue;
                    }
                    cp.mark(operation, chunk.number, &chunk.digest, &Mark::Sent)?;
                }
                tally.summary.calls += 1;
                in_flight.push(self.send_chunk(operation, &send, chunk));
            }
            let Some((chunk, result)) = in_flight.next().await else {
                break;
            };
            let (mark, found) = self
                .settle(
                    operation,
                    &send,
                    &chunk.records,
                    result,
                    &mut isolating,
                    &mut tally.summary,
                )
                .await;
            if let Some(cp) = &mut checkpoint {
                cp.mark(operation, chunk.number, &chunk.digest, &mark)?;
            }
            tally.record(outcomes(operation, chunk, found, false));
        }
        Ok(tally.summary)
    }

    /// Opens the checkpoint file, if one is set.
    fn open_checkpoint(&self, operation: OpId) -> Result<Option<Checkpoint>, Error> {
        self.checkpoint
            .as_ref()
            .map(|(p, resume)| {
                Checkpoint::open(p, *resume, operation, &self.form_uuid, self.chunk_size)
            })
            .transpose()
    }

    /// Sends one chunk's batch call. The call runs as a task: it leaves when the limiter says,
    /// even while the engine hands out the outcomes of another chunk.
    fn send_chunk<T, S>(
        &self,
        operation: OpId,
        send: &S,
        chunk: Chunk<T>,
    ) -> impl Future<Output = (Chunk<T>, Result<Vec<Option<String>>, Error>)>
    where
        S: Fn(&Client, &[T]) -> ChunkFuture,
    {
        let call = crate::drive::Driven::new(operation, send(&self.client, &chunk.records));
        async move { (chunk, call.await) }
    }

    /// What a chunk's reply means for its records, and the checkpoint mark that records it: an
    /// applied call gives each record its instance id (or [`Found::NotInReply`]); a call
    /// refused for its content is [`isolate`](Self::isolate)d while isolation is on and the
    /// chunk has more than one record (a chunk whose every record then fails alone turns
    /// isolation off for the rest of the run); any other failure fails every record, `maybe
    /// applied` when the server may have acted.
    async fn settle<T, S>(
        &self,
        operation: OpId,
        send: &S,
        records: &[T],
        result: Result<Vec<Option<String>>, Error>,
        isolating: &mut bool,
        summary: &mut BulkSummary,
    ) -> (Mark, Vec<Found>)
    where
        T: Send + 'static,
        S: Fn(&Client, &[T]) -> ChunkFuture,
    {
        let n = records.len();
        match classify(result) {
            Reply::Refused(e) if *isolating && self.isolates(n) => {
                let (found, calls) = self.isolate(operation, send, records, e).await;
                summary.calls += calls;
                summary.isolation_calls += calls;
                if every_record_failed_alone(&found) {
                    tracing::warn!(
                        operation = %operation,
                        "every record of a refused chunk failed alone; not isolating the records of later chunks"
                    );
                    *isolating = false;
                }
                (Mark::after_isolation(&found), found)
            }
            reply => (reply.mark(), reply.found(n)),
        }
    }

    /// Whether a refused chunk of `n` records is split to find its bad records: more than one
    /// record, and room for at least one split (two calls) in the budget.
    fn isolates(&self, n: usize) -> bool {
        n > 1 && self.isolation_budget() >= 2
    }

    /// Splits a chunk refused for its content, level by level, until each refused record
    /// stands alone or the budget is spent. Parts that fail otherwise are never sent again.
    /// Returns what was found per record and the calls sent.
    async fn isolate<T, S>(
        &self,
        op: OpId,
        send: &S,
        chunk: &[T],
        error: Error,
    ) -> (Vec<Found>, u64)
    where
        T: Send + 'static,
        S: Fn(&Client, &[T]) -> ChunkFuture,
    {
        let mut found: Vec<Option<Found>> = (0..chunk.len()).map(|_| None).collect();
        let mut budget = self.isolation_budget();
        let mut calls = 0;
        let mut queue = std::collections::VecDeque::from([(0, chunk.len(), Arc::new(error))]);
        while let Some((lo, hi, error)) = queue.pop_front() {
            if hi - lo == 1 {
                found[lo] = Some(Found::Failed(error, false));
                continue;
            }
            if budget < 2 {
                for f in &mut found[lo..hi] {
                    *f = Some(Found::InGroup(error.clone(), hi - lo - 1));
                }
                continue;
            }
            budget -= 2;
            let mid = lo + (hi - lo) / 2;
            let (a, b) = futures_util::future::join(
                crate::drive::Driven::new(op, send(&self.client, &chunk[lo..mid])),
                crate::drive::Driven::new(op, send(&self.client, &chunk[mid..hi])),
            )
            .await;
            for ((lo, hi), result) in [((lo, mid), a), ((mid, hi), b)] {
                calls += u64::from(was_sent(&result));
                match classify(result) {
                    Reply::Refused(e) => queue.push_back((lo, hi, Arc::new(e))),
                    reply => {
                        for (slot, f) in found[lo..hi].iter_mut().zip(reply.found(hi - lo)) {
                            *slot = Some(f);
                        }
                    }
                }
            }
        }
        let found = found
            .into_iter()
            .map(|f| f.unwrap_or(Found::NotInReply))
            .collect();
        (found, calls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OP: OpId = OpId::BatchSaveFormData;

    fn api(status: u16, code: &str) -> Error {
        Error::api_for_test(OP, status, code)
    }

    fn class(result: Result<Vec<Option<String>>, Error>) -> &'static str {
        match classify(result) {
            Reply::Applied(_) => "applied",
            Reply::Refused(_) => "refused",
            Reply::NotApplied(_) => "not applied",
            Reply::Uncertain(_) => "uncertain",
        }
    }

    #[test]
    fn a_reply_is_classified_by_whether_the_server_may_have_acted() {
        assert_eq!(class(Ok(vec![Some("FINST-1".into())])), "applied");
        // Refused for the content: split to find the bad records.
        assert_eq!(class(Err(api(400, "failure.form.validation"))), "refused");
        let before_sending = Error::InvalidParameter {
            operation: OP,
            name: "formUuid",
            problem: "is empty".into(),
        };
        assert_eq!(class(Err(before_sending)), "refused");
        // Refused for the call: nothing to find by splitting, but safe to send again.
        assert_eq!(class(Err(api(401, "InvalidAuthentication"))), "not applied");
        assert_eq!(
            class(Err(api(
                400,
                "Forbidden.AccessDenied.AccessTokenPermissionDenied"
            ))),
            "not applied"
        );
        assert_eq!(
            class(Err(api(429, "Forbidden.AccessDenied.QpsLimitForApi"))),
            "not applied"
        );
        assert_eq!(class(Err(api(403, "ApiCountLimitForOrg"))), "not applied");
        // May have been applied: never sent again.
        assert_eq!(class(Err(api(500, "InternalError"))), "uncertain");
        let timeout = Error::Timeout {
            operation: OP,
            elapsed: std::time::Duration::from_secs(30),
            source: None,
        };
        assert_eq!(class(Err(timeout)), "uncertain");
    }

    #[test]
    fn a_reply_settles_every_record_and_names_its_checkpoint_mark() {
        let applied = Reply::Applied(vec![Some("A".into()), None]);
        assert_eq!(
            applied.mark(),
            Mark::Done(vec![Some("A".into()), None], vec![])
        );
        let found = applied.found(3);
        assert!(matches!(&found[0], Found::Written(id) if id == "A"));
        assert!(matches!(found[1], Found::NotInReply));
        assert!(
            matches!(found[2], Found::NotInReply),
            "ids short of the chunk"
        );

        let refused = Reply::Refused(api(400, "bad"));
        assert_eq!(refused.mark(), Mark::Failed, "a resumed run sends it again");
        assert!(refused
            .found(2)
            .iter()
            .all(|f| matches!(f, Found::Failed(_, false))));
        let uncertain = Reply::Uncertain(api(502, "BadGateway"));
        assert_eq!(uncertain.mark(), Mark::Uncertain, "never sent again");
        assert!(uncertain
            .found(2)
            .iter()
            .all(|f| matches!(f, Found::Failed(_, true))));
    }

    #[test]
    fn chunks_are_numbered_with_their_first_index_and_the_input_is_not_asked_after_its_end() {
        // 1..=4, an end, then more were it asked again.
        let mut n = 0;
        let input = std::iter::from_fn(move || {
            n += 1;
            (n != 5).then_some(n)
        });
        let mut chunks = Chunks::new(input, 2);
        let shape: Vec<_> = (0..4)
            .map(|_| chunks.next().map(|c| (c.number, c.first, c.records)))
            .collect();
        assert_eq!(
            shape,
            [
                Some((0, 0, vec![1, 2])),
                Some((1, 2, vec![3, 4])),
                None,
                None
            ]
        );
        let a = Chunks::new([1, 2].into_iter(), 2).next().unwrap();
        let b = Chunks::new([1, 3].into_iter(), 2).next().unwrap();
        assert_eq!(a.digest, digest(&[1, 2]));
        assert_ne!(a.digest, b.digest);
    }

    #[test]
    fn a_resumed_run_sends_again_only_what_definitely_failed() {
        assert!(Mark::Failed.replay(2).is_none());
        for mark in [Mark::Sent, Mark::Uncertain] {
            let found = mark.replay(2).unwrap();
            assert!(
                found.iter().all(|f| matches!(f, Found::NotResent)),
                "{mark:?}"
            );
        }
        let done = Mark::Done(vec![Some("A".into()), None, Some("C".into())], vec![2]);
        let found = done.replay(3).unwrap();
        assert!(matches!(&found[0], Found::Written(id) if id == "A"));
        assert!(matches!(found[1], Found::NotInReply));
        assert!(
            matches!(found[2], Found::NotResent),
            "left uncertain by isolation"
        );
    }

    #[test]
    fn isolation_marks_the_uncertain_parts_and_stops_when_every_record_failed_alone() {
        let e = Arc::new(api(400, "bad"));
        let found = vec![
            Found::Written("A".into()),
            Found::Failed(e.clone(), false),
            Found::Failed(e.clone(), true),
            Found::InGroup(e.clone(), 1),
        ];
        assert_eq!(
            Mark::after_isolation(&found),
            Mark::Done(vec![Some("A".into()), None, None, None], vec![2])
        );
        assert!(!every_record_failed_alone(&found));
        assert!(every_record_failed_alone(&[
            Found::Failed(e.clone(), false),
            Found::Failed(e.clone(), true)
        ]));
        assert!(!every_record_failed_alone(&[
            Found::Failed(e.clone(), false),
            Found::InGroup(e, 1)
        ]));

        let client = Client::builder().access_token("t").build().unwrap();
        let bulk = client.bulk("FORM-1");
        assert!(bulk.isolates(2));
        assert!(!bulk.isolates(1), "a lone record is its own error");
        assert!(
            !bulk.clone().isolate_calls(1).isolates(100),
            "one split needs two calls"
        );
    }

    #[test]
    fn outcomes_keep_input_positions_and_say_what_an_earlier_run_wrote() {
        let chunk = Chunk {
            number: 3,
            first: 300,
            records: vec!["a", "b", "c"],
            digest: String::new(),
        };
        let found = vec![
            Found::Written("A".into()),
            Found::NotResent,
            Found::NotInReply,
        ];
        let out: Vec<Outcome<&str>> = outcomes(OP, chunk, found, true).collect();
        assert!(matches!(
            &out[0],
            Outcome::Written { index: 300, record: "a", instance_id, resumed: true } if instance_id == "A"
        ));
        assert!(matches!(
            &out[1],
            Outcome::Failed {
                index: 301,
                error: RecordError::NotResent { .. },
                maybe_applied: true,
                ..
            }
        ));
        assert!(matches!(
            &out[2],
            Outcome::Failed {
                index: 302,
                error: RecordError::NotInReply { .. },
                maybe_applied: false,
                ..
            }
        ));
    }
}
