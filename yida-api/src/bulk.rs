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
    checkpoint: Option<PathBuf>,
    resume: bool,
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
            resume: false,
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

/// What isolation found for one record of a refused chunk.
enum Found {
    Written(String),
    NotInReply,
    Failed(Arc<Error>, bool),
    InGroup(Arc<Error>, usize),
}

fn digest<T: serde::Serialize>(records: &[T]) -> String {
    let mut h = Md5::new();
    let _ = serde_json::to_writer(HashWrite(&mut h), records);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

struct HashWrite<'a>(&'a mut Md5);
impl Write for HashWrite<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
    /// without writing a record twice. A file that exists and is not empty is refused unless
    /// [`resume`](Self::resume) is set.
    pub fn checkpoint(mut self, path: impl Into<PathBuf>) -> Self {
        self.checkpoint = Some(path.into());
        self
    }

    /// Continue from the [`checkpoint`](Self::checkpoint) file: the same input, in the same
    /// order, with the same chunk size.
    pub fn resume(mut self, yes: bool) -> Self {
        self.resume = yes;
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

    /// The engine: chunks, checkpoint, bounded concurrency, one outcome per record.
    async fn run<T, I, S, F>(
        &self,
        operation: OpId,
        records: I,
        send: S,
        mut on_outcome: F,
    ) -> Result<BulkSummary, Error>
    where
        T: serde::Serialize + Send + 'static,
        I: IntoIterator<Item = T>,
        S: Fn(&Client, &[T]) -> ChunkFuture,
        F: FnMut(Outcome<T>),
    {
        let mut checkpoint = match &self.checkpoint {
            Some(p) => Some(Checkpoint::open(
                p,
                self.resume,
                operation,
                &self.form_uuid,
                self.chunk_size,
            )?),
            None if self.resume => {
                return Err(Error::InvalidInput {
                    operation,
                    message: "resume needs a checkpoint file".into(),
                })
            }
            None => None,
        };
        let mut summary = BulkSummary::default();
        let mut emit = |o: Outcome<T>, summary: &mut BulkSummary| {
            match &o {
                Outcome::Written { resumed, .. } => {
                    summary.written += 1;
                    summary.resumed += u64::from(*resumed);
                }
                Outcome::Failed { .. } => summary.failed += 1,
            }
            on_outcome(o);
        };
        let mut input = records.into_iter();
        let mut in_flight = FuturesUnordered::new();
        let mut next_index: u64 = 0;
        let mut next_chunk: u64 = 0;
        let mut exhausted = false;
        let mut isolating = true;
        loop {
            while !exhausted && in_flight.len() < self.concurrency {
                let chunk: Vec<T> = input.by_ref().take(self.chunk_size).collect();
                if chunk.is_empty() {
                    exhausted = true;
                    break;
                }
                let first = next_index;
                next_index += chunk.len() as u64;
                let number = next_chunk;
                next_chunk += 1;
                let sum = digest(&chunk);
                if let Some(cp) = &mut checkpoint {
                    if let Some((old, mark)) = cp.marks.get(&number).cloned() {
                        if old != sum {
                            return Err(cp_error(
                                operation,
                                &cp.path,
                                format!("chunk {number} (records from {first}) differs from the earlier run's input; resume needs the same input in the same order"),
                            ));
                        }
                        match mark {
                            Mark::Done(ids, uncertain) => {
                                for (i, record) in chunk.into_iter().enumerate() {
                                    let index = first + i as u64;
                                    if uncertain.contains(&i) {
                                        emit(
                                            Outcome::Failed {
                                                index,
                                                record,
                                                error: RecordError::NotResent { operation },
                                                maybe_applied: true,
                                            },
                                            &mut summary,
                                        );
                                        continue;
                                    }
                                    match ids.get(i).cloned().flatten() {
                                        Some(instance_id) => emit(
                                            Outcome::Written {
                                                index,
                                                record,
                                                instance_id,
                                                resumed: true,
                                            },
                                            &mut summary,
                                        ),
                                        None => emit(
                                            Outcome::Failed {
                                                index,
                                                record,
                                                error: RecordError::NotInReply { operation },
                                                maybe_applied: false,
                                            },
                                            &mut summary,
                                        ),
                                    }
                                }
                                continue;
                            }
                            Mark::Sent | Mark::Uncertain => {
                                for (i, record) in chunk.into_iter().enumerate() {
                                    emit(
                                        Outcome::Failed {
                                            index: first + i as u64,
                                            record,
                                            error: RecordError::NotResent { operation },
                                            maybe_applied: true,
                                        },
                                        &mut summary,
                                    );
                                }
                                continue;
                            }
                            Mark::Failed => {}
                        }
                    }
                    cp.mark(operation, number, &sum, &Mark::Sent)?;
                }
                // The call runs as a task: it leaves when the limiter says, even while this
                // loop hands out the outcomes of another chunk.
                let fut = crate::drive::Driven::new(operation, send(&self.client, &chunk));
                summary.calls += 1;
                in_flight.push(async move { (number, first, sum, chunk, fut.await) });
            }
            let Some((number, first, sum, chunk, result)) = in_flight.next().await else {
                break;
            };
            match result {
                Ok(ids) => {
                    if let Some(cp) = &mut checkpoint {
                        cp.mark(
                            operation,
                            number,
                            &sum,
                            &Mark::Done(ids.clone(), Vec::new()),
                        )?;
                    }
                    for (i, record) in chunk.into_iter().enumerate() {
                        let index = first + i as u64;
                        match ids.get(i).cloned().flatten() {
                            Some(instance_id) => emit(
                                Outcome::Written {
                                    index,
                                    record,
                                    instance_id,
                                    resumed: false,
                                },
                                &mut summary,
                            ),
                            None => emit(
                                Outcome::Failed {
                                    index,
                                    record,
                                    error: RecordError::NotInReply { operation },
                                    maybe_applied: false,
                                },
                                &mut summary,
                            ),
                        }
                    }
                }
                Err(e)
                    if isolating
                        && chunk.len() > 1
                        && refused_for_content(&e)
                        && self.isolation_budget() >= 2 =>
                {
                    let (found, calls) = self.isolate(operation, &send, &chunk, e).await;
                    summary.calls += calls;
                    summary.isolation_calls += calls;
                    let written = found
                        .iter()
                        .filter(|f| matches!(f, Found::Written(_)))
                        .count();
                    if written == 0 && found.iter().all(|f| matches!(f, Found::Failed(..))) {
                        // Every record failed on its own: the error is about the call.
                        tracing::warn!(
                            operation = %operation,
                            "every record of a refused chunk failed alone; not isolating the records of later chunks"
                        );
                        isolating = false;
                    }
                    if let Some(cp) = &mut checkpoint {
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
                        cp.mark(operation, number, &sum, &Mark::Done(ids, uncertain))?;
                    }
                    for ((i, record), f) in chunk.into_iter().enumerate().zip(found) {
                        let index = first + i as u64;
                        let o = match f {
                            Found::Written(instance_id) => Outcome::Written {
                                index,
                                record,
                                instance_id,
                                resumed: false,
                            },
                            Found::NotInReply => Outcome::Failed {
                                index,
                                record,
                                error: RecordError::NotInReply { operation },
                                maybe_applied: false,
                            },
                            Found::Failed(error, maybe_applied) => Outcome::Failed {
                                index,
                                record,
                                error: RecordError::Call(error),
                                maybe_applied,
                            },
                            Found::InGroup(error, others) => Outcome::Failed {
                                index,
                                record,
                                error: RecordError::InGroup { error, others },
                                maybe_applied: false,
                            },
                        };
                        emit(o, &mut summary);
                    }
                }
                Err(e) => {
                    let maybe = maybe_applied(&e);
                    if let Some(cp) = &mut checkpoint {
                        let mark = if maybe { Mark::Uncertain } else { Mark::Failed };
                        cp.mark(operation, number, &sum, &mark)?;
                    }
                    let e = Arc::new(e);
                    for (i, record) in chunk.into_iter().enumerate() {
                        emit(
                            Outcome::Failed {
                                index: first + i as u64,
                                record,
                                error: RecordError::Call(e.clone()),
                                maybe_applied: maybe,
                            },
                            &mut summary,
                        );
                    }
                }
            }
        }
        Ok(summary)
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
                match result {
                    Ok(ids) => {
                        for (i, f) in found[lo..hi].iter_mut().enumerate() {
                            *f = Some(match ids.get(i).cloned().flatten() {
                                Some(id) => Found::Written(id),
                                None => Found::NotInReply,
                            });
                        }
                    }
                    Err(e) if refused_for_content(&e) => queue.push_back((lo, hi, Arc::new(e))),
                    Err(e) => {
                        let maybe = maybe_applied(&e);
                        let e = Arc::new(e);
                        for f in &mut found[lo..hi] {
                            *f = Some(Found::Failed(e.clone(), maybe));
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
