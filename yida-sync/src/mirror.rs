//! One sync run of a form: definitions → schema → full or incremental walk → deletions.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::stream::{self, StreamExt};
use serde_json::{json, Map, Value};
use yida_api::{Client, OperationMeta};

use crate::schema::FormShape;
use crate::store::{Record, SchemaChanges, Store};
use crate::{gmt_filter, SyncError};

/// When deletions are looked for (they cost one call per 100 records).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deletions {
    /// On every run.
    Every,
    /// At most once a day.
    #[default]
    Daily,
    /// Never.
    Off,
}

impl std::str::FromStr for Deletions {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "every" => Ok(Deletions::Every),
            "daily" => Ok(Deletions::Daily),
            "off" => Ok(Deletions::Off),
            _ => Err(format!("--deletions takes every, daily or off, not {s:?}")),
        }
    }
}

/// How a mirror syncs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Records modified this long before the last run's start are fetched again (clock skew
    /// between us and Yida; Yida's times have minute precision).
    pub overlap: Duration,
    /// When to look for deleted records.
    pub deletions: Deletions,
    /// Pages fetched at once in the first run (the client's pacer keeps them under the quota).
    pub concurrency: usize,
    /// Records per page (at most 100).
    pub page_size: u32,
    /// The app (`APP_…`) when the client's context has none.
    pub app_type: Option<String>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            overlap: Duration::from_secs(10 * 60),
            deletions: Deletions::Daily,
            concurrency: 8,
            page_size: 100,
            app_type: None,
        }
    }
}

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// The form.
    pub form_uuid: String,
    /// `full` (first run) or `incremental`.
    pub mode: &'static str,
    /// Calls made to Yida, all told (the deletion check's are also in `deletion_calls`).
    pub calls: u64,
    /// Records written (inserted or updated).
    pub upserted: u64,
    /// Records deleted from the mirror (gone from Yida).
    pub deleted: u64,
    /// Whether deletions were checked in this run.
    pub deletions_checked: bool,
    /// Calls the deletion check took.
    pub deletion_calls: u64,
    /// Milliseconds the deletion check took.
    pub deletion_ms: u64,
    /// Records Yida has that the mirror lacked (found by the deletion check), fetched.
    pub recovered: u64,
    /// Component changes since the last run.
    pub schema: SchemaChanges,
}

impl Report {
    /// The report as JSON (also stored in `yida_sync_runs`).
    pub fn to_json(&self) -> Value {
        json!({
            "formUuid": self.form_uuid,
            "mode": self.mode,
            "calls": self.calls,
            "upserted": self.upserted,
            "deleted": self.deleted,
            "deletionsChecked": self.deletions_checked,
            "deletionCalls": self.deletion_calls,
            "deletionMs": self.deletion_ms,
            "recovered": self.recovered,
            "columnsAdded": self.schema.added,
            "componentsRemoved": self.schema.removed,
            "componentsRetyped": self.schema.retyped,
        })
    }
}

/// A mirror of forms in one database.
#[derive(Clone)]
pub struct Mirror {
    client: Client,
    store: Store,
    opts: SyncOptions,
}

/// Sub-form rows a search reply carries at most; more are fetched separately.
const SUB_FORM_CUT: usize = 50;
/// Sub-form rows per ListTableDataByFormInstanceIdTableId page (its largest page).
const ROWS_PAGE: usize = 100;
/// Ids per SearchFormDataIdList page (its largest page).
const ID_PAGE: u64 = 100;
/// Id pages walked at most (10 million records).
const MAX_ID_PAGES: u64 = 100_000;

impl Mirror {
    /// A mirror writing into `store` with calls through `client` (use the client's own
    /// pacing and retries: reads are retried, and the concurrent first walk is paced).
    pub fn new(client: Client, store: Store, opts: SyncOptions) -> Mirror {
        Mirror {
            client,
            store,
            opts,
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Syncs one form: the first time every record, then what changed.
    pub async fn sync(&self, form: &str) -> Result<Report, SyncError> {
        let started = now_ms();
        let calls = Arc::new(AtomicU64::new(0));
        let run = Run {
            m: self,
            form,
            calls: calls.clone(),
            tables: tokio::sync::RwLock::new(()),
        };
        let before = self.store.state(form).await?;
        let defs_call = run.call(
            "GetFormComponentDefinitionList",
            "1.0",
            json!({"formUuid": form}),
        );
        // A first run asks for the definitions and page 1 at once (one latency saved).
        let (defs, first_page) = if before.watermark_ms.is_none() {
            let page1 = run.call("SearchFormDatas", "2.0", run.search(1, &Map::new()));
            let (d, p) = futures_util::future::try_join(defs_call, page1).await?;
            (d, Some(p))
        } else {
            (defs_call.await?, None)
        };
        let shape = FormShape::from_definitions(&defs);
        let mut report = Report {
            form_uuid: form.to_string(),
            ..Report::default()
        };
        // The next run starts from this run's start, less the overlap.
        let next_watermark = started - self.opts.overlap.as_millis() as i64;
        match before.watermark_ms {
            None => {
                report.mode = "full";
                // The tables are made while the other pages are fetched (off the walk's
                // critical path); writes wait for them.
                let building = run.tables.write().await;
                let prepare = async {
                    let changes = self.store.prepare(form, &shape).await;
                    drop(building);
                    changes
                };
                let (schema, upserted) = futures_util::future::try_join(
                    prepare,
                    run.full(&shape, next_watermark, first_page),
                )
                .await?;
                report.schema = schema;
                report.upserted = upserted;
            }
            Some(w) => {
                report.schema = self.store.prepare(form, &shape).await?;
                report.mode = "incremental";
                report.upserted = run.incremental(&shape, w, next_watermark).await?;
            }
        }
        // `prepare` changes the columns only: the watermark and the last deletion check are
        // as read before the run.
        let state = before;
        let due = match self.opts.deletions {
            Deletions::Off => false,
            Deletions::Every => true,
            Deletions::Daily => state
                .deletions_checked_ms
                .is_none_or(|t| started - t >= 24 * 3600 * 1000),
        };
        if due {
            let clock = std::time::Instant::now();
            let before = calls.load(Ordering::Relaxed);
            let (deleted, recovered) = run.deletions(&shape, started).await?;
            report.deletions_checked = true;
            report.deleted = deleted;
            report.recovered = recovered;
            report.deletion_calls = calls.load(Ordering::Relaxed) - before;
            report.deletion_ms = clock.elapsed().as_millis() as u64;
        }
        report.calls = calls.load(Ordering::Relaxed);
        self.store
            .log_run(form, started, now_ms(), &report.to_json())
            .await?;
        Ok(report)
    }
}

/// One run's calls, counted.
struct Run<'a> {
    m: &'a Mirror,
    form: &'a str,
    calls: Arc<AtomicU64>,
    /// Held for writing while the form's tables are made; every write of records waits for
    /// it.
    tables: tokio::sync::RwLock<()>,
}

impl Run<'_> {
    async fn call(
        &self,
        action: &str,
        version: &str,
        mut input: Value,
    ) -> Result<Value, SyncError> {
        let meta: &'static OperationMeta = yida_api::operation(action, version)
            .ok_or_else(|| SyncError::Reply(format!("{action}@{version} is not compiled in")))?;
        if let (Some(app), Value::Object(m)) = (&self.m.opts.app_type, &mut input) {
            if meta.param("appType").is_some() && !m.contains_key("appType") {
                m.insert("appType".into(), Value::String(app.clone()));
            }
        }
        self.calls.fetch_add(1, Ordering::Relaxed);
        let reply = self.m.client.paced().call(meta, input).await?;
        Ok(match reply {
            Some(raw) => {
                serde_json::from_str(raw.get()).map_err(|e| SyncError::Reply(e.to_string()))?
            }
            None => Value::Null,
        })
    }

    fn search(&self, page: u64, extra: &Map<String, Value>) -> Value {
        let mut input = json!({
            "formUuid": self.form,
            "currentPage": page,
            "pageSize": self.m.opts.page_size.min(100),
        });
        if let Value::Object(m) = &mut input {
            m.extend(extra.clone());
        }
        input
    }

    /// Every record: page 1 for the count, then the rest in parallel (paced by the client).
    /// The watermark is set with the last page written.
    async fn full(
        &self,
        shape: &FormShape,
        watermark: i64,
        first: Option<Value>,
    ) -> Result<u64, SyncError> {
        let first = match first {
            Some(page) => page,
            None => {
                self.call("SearchFormDatas", "2.0", self.search(1, &Map::new()))
                    .await?
            }
        };
        let total = first.get("totalCount").and_then(Value::as_u64).unwrap_or(0);
        let size = u64::from(self.m.opts.page_size.min(100)).max(1);
        let pages = total.div_ceil(size).max(1);
        if pages == 1 {
            return self.write_page(shape, &first, Some(watermark)).await;
        }
        {
            // Page 1 is written while the other pages are fetched (the walk does not wait
            // for the database).
            let rest = stream::iter(2..=pages)
                .map(|p| async move {
                    let page = self
                        .call("SearchFormDatas", "2.0", self.search(p, &Map::new()))
                        .await?;
                    self.write_page(shape, &page, None).await
                })
                .buffer_unordered(self.m.opts.concurrency.max(1))
                .collect::<Vec<Result<u64, SyncError>>>();
            let (first_written, results) =
                futures_util::future::join(self.write_page(shape, &first, None), rest).await;
            let mut written = first_written?;
            for r in results {
                written += r?;
            }
            // Every page is in: the watermark moves (alone: the pages' own transactions are
            // committed, and a crash before this line repeats the walk, idempotently).
            self.m
                .store
                .apply(self.form, shape, Vec::new(), Some(watermark))
                .await?;
            Ok(written)
        }
    }

    /// Records modified since `since` (less nothing: the overlap is in the watermark), page by
    /// page in order; the watermark moves with the last page.
    async fn incremental(
        &self,
        shape: &FormShape,
        since: i64,
        watermark: i64,
    ) -> Result<u64, SyncError> {
        let mut extra = Map::new();
        extra.insert(
            "modifiedFromTimeGMT".into(),
            Value::String(gmt_filter(since)),
        );
        let mut written = 0;
        let mut seen: HashSet<String> = HashSet::new();
        let size = u64::from(self.m.opts.page_size.min(100)).max(1);
        let mut page = 1;
        loop {
            let reply = self
                .call("SearchFormDatas", "2.0", self.search(page, &extra))
                .await?;
            let total = reply.get("totalCount").and_then(Value::as_u64).unwrap_or(0);
            let items = reply
                .get("data")
                .and_then(Value::as_array)
                .map(Vec::len)
                .unwrap_or(0) as u64;
            let last = items < size || page * size >= total;
            // Records already written in this run (a page shifted by a concurrent change) are
            // left out.
            let mut fresh = reply.clone();
            if let Some(Value::Array(data)) = fresh.get_mut("data") {
                data.retain(|d| {
                    d.get("formInstanceId")
                        .and_then(Value::as_str)
                        .is_some_and(|id| seen.insert(id.to_string()))
                });
            }
            written += self
                .write_page(shape, &fresh, last.then_some(watermark))
                .await?;
            if last {
                break;
            }
            page += 1;
        }
        Ok(written)
    }

    /// Writes one search page (fetching sub-form rows cut from the reply) in one transaction.
    async fn write_page(
        &self,
        shape: &FormShape,
        page: &Value,
        watermark: Option<i64>,
    ) -> Result<u64, SyncError> {
        let mut records = Vec::new();
        if let Some(items) = page.get("data").and_then(Value::as_array) {
            for item in items {
                if let Some(r) = self.record(shape, item).await? {
                    records.push(r);
                }
            }
        }
        let n = records.len() as u64;
        let _made = self.tables.read().await;
        self.m
            .store
            .apply(self.form, shape, records, watermark)
            .await?;
        Ok(n)
    }

    async fn record(&self, shape: &FormShape, item: &Value) -> Result<Option<Record>, SyncError> {
        let Some(id) = item.get("formInstanceId").and_then(Value::as_str) else {
            return Ok(None);
        };
        let data = match item.get("formData") {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        let text = |k: &str| {
            item.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let time = |k: &str| {
            item.get(k)
                .and_then(Value::as_str)
                .and_then(yida_api::form_values::parse_gmt)
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_millis() as i64)
        };
        let mut rows = Vec::new();
        for sub in &shape.sub_forms {
            let mut list = sub_rows(data.get(&sub.field_id));
            if list.len() >= SUB_FORM_CUT {
                list = self.all_rows(id, &sub.field_id).await?;
            }
            rows.push((sub.field_id.clone(), list));
        }
        Ok(Some(Record {
            id: id.to_string(),
            creator: text("creatorUserId").or_else(|| {
                item.pointer("/originator/userId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }),
            modifier: text("modifierUserId").or_else(|| {
                item.pointer("/modifyUser/userId")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }),
            created_ms: time("createdTimeGMT").or_else(|| time("createTimeGMT")),
            modified_ms: time("modifiedTimeGMT"),
            status: text("instanceStatus"),
            data,
            rows,
        }))
    }

    /// Every row of a sub-form (ListTableDataByFormInstanceIdTableId, page by page).
    async fn all_rows(&self, id: &str, table: &str) -> Result<Vec<Map<String, Value>>, SyncError> {
        let mut out = Vec::new();
        for page in 1..=1000u64 {
            let reply = self
                .call(
                    "ListTableDataByFormInstanceIdTableId",
                    "1.0",
                    json!({"formInstanceId": id, "formUuid": self.form, "tableFieldId": table, "pageNumber": page, "pageSize": ROWS_PAGE}),
                )
                .await?;
            let data = reply
                .get("data")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let total = reply.get("totalCount").and_then(Value::as_u64).unwrap_or(0);
            let n = data.len();
            out.extend(data.into_iter().filter_map(|v| match v {
                Value::Object(m) => Some(m),
                _ => None,
            }));
            if n < ROWS_PAGE || out.len() as u64 >= total {
                break;
            }
        }
        Ok(out)
    }

    /// Compares the ids Yida has with the mirror's: deletes what is gone, fetches what the
    /// mirror lacks. Returns (deleted, recovered).
    ///
    /// The id pages are fetched like the first run's pages: page 1 for the count, then the
    /// rest at once (paced by the client under the quota, at most `concurrency` in flight).
    /// Pages shift when records are added or deleted during the walk, so an id the walk did
    /// not see is not taken as deleted until a BatchGetFormDataByIdList (100 ids a call)
    /// confirms that Yida no longer has it.
    async fn deletions(&self, shape: &FormShape, started: i64) -> Result<(u64, u64), SyncError> {
        let id_page = |page: u64| async move {
            let reply = self
                .call(
                    "SearchFormDataIdList",
                    "2.0",
                    json!({"formUuid": self.form, "pageNumber": page, "pageSize": ID_PAGE}),
                )
                .await?;
            let total = reply.get("totalCount").and_then(Value::as_u64).unwrap_or(0);
            let ids: Vec<String> = reply
                .get("data")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Ok::<_, SyncError>((total, ids))
        };
        let (total, first) = id_page(1).await?;
        let mut yida: HashSet<String> = first.into_iter().collect();
        let pages = total.div_ceil(ID_PAGE).clamp(1, MAX_ID_PAGES);
        let mut rest = stream::iter(2..=pages)
            .map(id_page)
            .buffer_unordered(self.m.opts.concurrency.max(1));
        while let Some(page) = rest.next().await {
            yida.extend(page?.1);
        }
        let mine = self.m.store.ids(self.form).await?;
        let unseen: Vec<String> = mine.difference(&yida).cloned().collect();
        let missing: Vec<String> = yida.difference(&mine).cloned().collect();
        drop((yida, mine));
        let mut gone = Vec::new();
        for chunk in unseen.chunks(100) {
            let items = self.batch_get(chunk).await?;
            let still: HashSet<&str> = items
                .iter()
                .filter_map(|i| i.get("formInstanceId").and_then(Value::as_str))
                .collect();
            gone.extend(
                chunk
                    .iter()
                    .filter(|id| !still.contains(id.as_str()))
                    .cloned(),
            );
            if !items.is_empty() {
                // Still in Yida (the walk missed it): written again, as it is now.
                self.write_page(shape, &json!({ "data": items }), None)
                    .await?;
            }
        }
        let deleted = gone.len() as u64;
        self.m.store.delete(self.form, shape, gone, started).await?;
        let mut recovered = 0;
        for chunk in missing.chunks(100) {
            let items = self.batch_get(chunk).await?;
            let page = json!({ "data": items });
            recovered += self.write_page(shape, &page, None).await?;
        }
        Ok((deleted, recovered))
    }

    /// Up to 100 records by id (those Yida still has).
    async fn batch_get(&self, ids: &[String]) -> Result<Vec<Value>, SyncError> {
        let reply = self
            .call(
                "BatchGetFormDataByIdList",
                "1.0",
                json!({"formUuid": self.form, "formInstanceIdList": ids}),
            )
            .await?;
        Ok(match reply.get("result") {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        })
    }
}

fn sub_rows(v: Option<&Value>) -> Vec<Map<String, Value>> {
    let v = match v {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    match v {
        Value::Array(rows) => rows
            .into_iter()
            .filter_map(|r| match r {
                Value::Object(m) => Some(m),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
