//! The two databases behind one set of operations: create and extend a form's tables, upsert
//! a page of records with the watermark in the same transaction, list and delete ids, keep
//! the state and the run history.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde_json::{json, Map, Value};

use crate::schema::{
    cell, child_table_name, quote, table_name, Cell, Column, ColumnType, FormShape,
};
use crate::SyncError;

/// A record as the mirror stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The form instance id.
    pub id: String,
    /// Who created it (user id).
    pub creator: Option<String>,
    /// Who changed it last (user id).
    pub modifier: Option<String>,
    /// Created, epoch ms.
    pub created_ms: Option<i64>,
    /// Last modified, epoch ms.
    pub modified_ms: Option<i64>,
    /// Instance status, for process forms.
    pub status: Option<String>,
    /// The values as read (`formData`).
    pub data: Map<String, Value>,
    /// Every row of each sub-form, by the sub-form's field id.
    pub rows: Vec<(String, Vec<Map<String, Value>>)>,
}

/// The sync state of one form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    /// Records modified at or after this time (epoch ms) are fetched by the next run; `None`:
    /// no complete run yet (the next run walks everything).
    pub watermark_ms: Option<i64>,
    /// When deletions were last checked (epoch ms).
    pub deletions_checked_ms: Option<i64>,
    /// The columns as last created, `field id → type name`.
    pub columns: Map<String, Value>,
}

/// How the form's components changed since the last run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaChanges {
    /// Columns added (components added to the form).
    pub added: Vec<String>,
    /// Components gone from the form: their columns are kept, not dropped.
    pub removed: Vec<String>,
    /// Components whose type changed: the column keeps its type; values that no longer fit
    /// are stored as text.
    pub retyped: Vec<String>,
}

/// Where the mirror is.
#[derive(Clone)]
pub enum Store {
    /// A SQLite file.
    Sqlite(Arc<Mutex<rusqlite::Connection>>),
    /// A PostgreSQL database.
    Postgres(Arc<tokio::sync::Mutex<tokio_postgres::Client>>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Store::Sqlite(_) => "Store::Sqlite",
            Store::Postgres(_) => "Store::Postgres",
        })
    }
}

const STATE_DDL: &str = "CREATE TABLE IF NOT EXISTS yida_sync_state (
    form_uuid TEXT PRIMARY KEY,
    watermark_ms BIGINT,
    deletions_checked_ms BIGINT,
    columns TEXT NOT NULL DEFAULT '{}'
)";
const RUNS_DDL_SQLITE: &str = "CREATE TABLE IF NOT EXISTS yida_sync_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    form_uuid TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    finished_ms BIGINT NOT NULL,
    report TEXT NOT NULL
)";
const RUNS_DDL_PG: &str = "CREATE TABLE IF NOT EXISTS yida_sync_runs (
    id BIGSERIAL PRIMARY KEY,
    form_uuid TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    finished_ms BIGINT NOT NULL,
    report TEXT NOT NULL
)";

impl Store {
    /// Opens (creating) a SQLite database file.
    pub fn sqlite(path: &std::path::Path) -> Result<Store, SyncError> {
        let conn = rusqlite::Connection::open(path).map_err(SyncError::sqlite)?;
        // WAL with synchronous=NORMAL: a commit is not flushed to disk on its own (the WAL is
        // at checkpoints), so a page's transaction costs no fsync. A crashed process loses
        // nothing (the WAL is in the OS's cache); a power loss may roll back the last
        // transactions, never tear one, and since each page moves the watermark in its own
        // transaction the mirror is then at an earlier consistent point that the next run
        // brings level again.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        )
        .map_err(SyncError::sqlite)?;
        conn.execute_batch(STATE_DDL).map_err(SyncError::sqlite)?;
        conn.execute_batch(RUNS_DDL_SQLITE)
            .map_err(SyncError::sqlite)?;
        Ok(Store::Sqlite(Arc::new(Mutex::new(conn))))
    }

    /// Connects to PostgreSQL (`postgres://user:pass@host:port/db`); no TLS (a server on this
    /// host or a private network).
    pub async fn postgres(url: &str) -> Result<Store, SyncError> {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(SyncError::postgres)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "PostgreSQL connection ended");
            }
        });
        client
            .batch_execute(&format!("{STATE_DDL}; {RUNS_DDL_PG}"))
            .await
            .map_err(SyncError::postgres)?;
        Ok(Store::Postgres(Arc::new(tokio::sync::Mutex::new(client))))
    }

    /// Opens `sqlite:PATH` or `postgres://…`.
    pub async fn open(target: &str) -> Result<Store, SyncError> {
        if let Some(path) = target.strip_prefix("sqlite:") {
            let path = std::path::PathBuf::from(path);
            return tokio::task::spawn_blocking(move || Store::sqlite(&path))
                .await
                .map_err(|e| SyncError::Database(e.to_string()))?;
        }
        if target.starts_with("postgres://") || target.starts_with("postgresql://") {
            return Store::postgres(target).await;
        }
        Err(SyncError::Target(format!(
            "{}: expected sqlite:PATH or postgres://…",
            crate::redact_url(target)
        )))
    }

    fn is_pg(&self) -> bool {
        matches!(self, Store::Postgres(_))
    }

    fn sql_type(&self, ty: ColumnType) -> &'static str {
        match (self.is_pg(), ty) {
            (true, ColumnType::Text) => "text",
            (true, ColumnType::Number) => "numeric",
            (true, ColumnType::Timestamp) => "timestamptz",
            (true, ColumnType::TextArray) => "text[]",
            (true, ColumnType::Json) => "jsonb",
            (false, ColumnType::Number) => "REAL",
            (false, _) => "TEXT",
        }
    }

    /// Runs statements (DDL) in one transaction.
    async fn exec_all(&self, statements: Vec<String>) -> Result<(), SyncError> {
        self.transaction(move |tx| {
            for s in &statements {
                tx.exec(s, vec![])?;
            }
            Ok(())
        })
        .await
    }

    /// Creates the form's tables, adds columns for components added since the last run, and
    /// says what changed. Nothing is ever dropped.
    pub async fn prepare(&self, form: &str, shape: &FormShape) -> Result<SchemaChanges, SyncError> {
        let state = self.state(form).await?;
        let main = table_name(form);
        let ts = self.sql_type(ColumnType::Timestamp);
        let json = self.sql_type(ColumnType::Json);
        let mut ddl = vec![format!(
            "CREATE TABLE IF NOT EXISTS {} (instance_id TEXT PRIMARY KEY, creator TEXT, modifier TEXT, created_at {ts}, modified_at {ts}, instance_status TEXT, form_data {json} NOT NULL)",
            quote(&main)
        )];
        let mut changes = SchemaChanges::default();
        let mut columns = Map::new();
        let mut add =
            |table: &str, c: &Column, ddl: &mut Vec<String>, changes: &mut SchemaChanges| {
                let key = if table == main {
                    c.field_id.clone()
                } else {
                    format!("{table}.{}", c.field_id)
                };
                match state.columns.get(&key).and_then(Value::as_str) {
                    None => {
                        ddl.push(format!(
                            "ALTER TABLE {} ADD COLUMN {} {}",
                            quote(table),
                            quote(&c.field_id),
                            self.sql_type(c.ty)
                        ));
                        changes.added.push(key.clone());
                        columns.insert(key, Value::String(c.ty.name().into()));
                    }
                    Some(old) => {
                        if old != c.ty.name() {
                            changes.retyped.push(key.clone());
                        }
                        columns.insert(key, Value::String(old.into()));
                    }
                }
            };
        for c in &shape.columns {
            add(&main, c, &mut ddl, &mut changes);
        }
        for sub in &shape.sub_forms {
            let child = child_table_name(form, &sub.field_id);
            ddl.push(format!(
                "CREATE TABLE IF NOT EXISTS {} (instance_id TEXT NOT NULL, row_index INTEGER NOT NULL, row_data {json} NOT NULL, PRIMARY KEY (instance_id, row_index))",
                quote(&child)
            ));
            for c in &sub.columns {
                add(&child, c, &mut ddl, &mut changes);
            }
        }
        for (k, v) in &state.columns {
            if !columns.contains_key(k) {
                changes.removed.push(k.clone());
                columns.insert(k.clone(), v.clone());
            }
        }
        let columns_text = Value::Object(columns).to_string();
        let form_s = form.to_string();
        let upsert = self.state_upsert_sql();
        self.transaction(move |tx| {
            for s in &ddl {
                tx.exec(s, vec![])?;
            }
            tx.exec(
                &upsert,
                vec![Cell::Text(form_s.clone()), Cell::Text(columns_text.clone())],
            )?;
            Ok(())
        })
        .await?;
        Ok(changes)
    }

    fn state_upsert_sql(&self) -> String {
        let (a, b) = self.placeholders2();
        format!(
            "INSERT INTO yida_sync_state (form_uuid, columns) VALUES ({a}, {b}) ON CONFLICT (form_uuid) DO UPDATE SET columns = excluded.columns"
        )
    }

    fn placeholders2(&self) -> (&'static str, &'static str) {
        if self.is_pg() {
            ("$1", "$2")
        } else {
            ("?1", "?2")
        }
    }

    /// The form's sync state (default when never synced).
    pub async fn state(&self, form: &str) -> Result<State, SyncError> {
        let (a, _) = self.placeholders2();
        let sql = format!(
            "SELECT watermark_ms, deletions_checked_ms, columns FROM yida_sync_state WHERE form_uuid = {a}"
        );
        let rows = self.query(&sql, vec![Cell::Text(form.into())], 3).await?;
        let Some(row) = rows.into_iter().next() else {
            return Ok(State::default());
        };
        let columns = match &row[2] {
            Cell::Text(t) => match serde_json::from_str(t) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            },
            _ => Map::new(),
        };
        Ok(State {
            watermark_ms: row[0].as_i64(),
            deletions_checked_ms: row[1].as_i64(),
            columns,
        })
    }

    /// Upserts `records` (their sub-form rows replaced whole) in one transaction, moving the
    /// watermark in the same transaction when `watermark_ms` is given.
    pub async fn apply(
        &self,
        form: &str,
        shape: &FormShape,
        records: Vec<Record>,
        watermark_ms: Option<i64>,
    ) -> Result<(), SyncError> {
        let pg = self.is_pg();
        let main = table_name(form);
        let shape = shape.clone();
        let form_s = form.to_string();
        let state_cols = self.state(form).await?.columns;
        self.transaction(move |tx| {
            for r in &records {
                let mut names = vec![
                    "instance_id".to_string(),
                    "creator".into(),
                    "modifier".into(),
                    "created_at".into(),
                    "modified_at".into(),
                    "instance_status".into(),
                    "form_data".into(),
                ];
                let mut values = vec![
                    Cell::Text(r.id.clone()),
                    opt_text(&r.creator),
                    opt_text(&r.modifier),
                    r.created_ms.map(Cell::Timestamp).unwrap_or(Cell::Null),
                    r.modified_ms.map(Cell::Timestamp).unwrap_or(Cell::Null),
                    opt_text(&r.status),
                    Cell::Json(Value::Object(r.data.clone())),
                ];
                let mut types = vec![
                    ColumnType::Text,
                    ColumnType::Text,
                    ColumnType::Text,
                    ColumnType::Timestamp,
                    ColumnType::Timestamp,
                    ColumnType::Text,
                    ColumnType::Json,
                ];
                for c in &shape.columns {
                    names.push(c.field_id.clone());
                    let ty = stored_type(&state_cols, &c.field_id, c.ty);
                    values.push(fit(cell(c, &r.data), ty));
                    types.push(ty);
                }
                tx.exec(&upsert_sql(pg, &main, &names, &types), values)?;
                for sub in &shape.sub_forms {
                    let child = child_table_name(&form_s, &sub.field_id);
                    let del = format!(
                        "DELETE FROM {} WHERE instance_id = {}",
                        quote(&child),
                        if pg { "$1" } else { "?1" }
                    );
                    tx.exec(&del, vec![Cell::Text(r.id.clone())])?;
                    let rows = r
                        .rows
                        .iter()
                        .find(|(id, _)| *id == sub.field_id)
                        .map(|(_, rows)| rows.as_slice())
                        .unwrap_or(&[]);
                    for (i, row) in rows.iter().enumerate() {
                        let mut names = vec![
                            "instance_id".to_string(),
                            "row_index".into(),
                            "row_data".into(),
                        ];
                        let mut values = vec![
                            Cell::Text(r.id.clone()),
                            Cell::Number(i as f64),
                            Cell::Json(Value::Object(row.clone())),
                        ];
                        let mut types =
                            vec![ColumnType::Text, ColumnType::Number, ColumnType::Json];
                        for c in &sub.columns {
                            names.push(c.field_id.clone());
                            let key = format!("{child}.{}", c.field_id);
                            let ty = stored_type(&state_cols, &key, c.ty);
                            values.push(fit(cell(c, row), ty));
                            types.push(ty);
                        }
                        tx.exec(&insert_sql(pg, &child, &names, &types), values)?;
                    }
                }
            }
            if let Some(w) = watermark_ms {
                let sql = if pg {
                    "UPDATE yida_sync_state SET watermark_ms = $1 WHERE form_uuid = $2"
                } else {
                    "UPDATE yida_sync_state SET watermark_ms = ?1 WHERE form_uuid = ?2"
                };
                tx.exec(sql, vec![Cell::Int(w), Cell::Text(form_s.clone())])?;
            }
            Ok(())
        })
        .await
    }

    /// The instance ids the mirror holds for `form`.
    pub async fn ids(&self, form: &str) -> Result<HashSet<String>, SyncError> {
        let sql = format!("SELECT instance_id FROM {}", quote(&table_name(form)));
        Ok(self
            .query(&sql, vec![], 1)
            .await?
            .into_iter()
            .filter_map(|mut r| match r.pop() {
                Some(Cell::Text(t)) => Some(t),
                _ => None,
            })
            .collect())
    }

    /// Deletes these instances (and their sub-form rows) and records when deletions were
    /// checked, in one transaction.
    pub async fn delete(
        &self,
        form: &str,
        shape: &FormShape,
        ids: Vec<String>,
        checked_ms: i64,
    ) -> Result<(), SyncError> {
        let pg = self.is_pg();
        let p1 = if pg { "$1" } else { "?1" };
        let mut tables = vec![table_name(form)];
        tables.extend(
            shape
                .sub_forms
                .iter()
                .map(|s| child_table_name(form, &s.field_id)),
        );
        let form_s = form.to_string();
        self.transaction(move |tx| {
            for id in &ids {
                for t in &tables {
                    tx.exec(
                        &format!("DELETE FROM {} WHERE instance_id = {p1}", quote(t)),
                        vec![Cell::Text(id.clone())],
                    )?;
                }
            }
            let sql = if pg {
                "UPDATE yida_sync_state SET deletions_checked_ms = $1 WHERE form_uuid = $2"
            } else {
                "UPDATE yida_sync_state SET deletions_checked_ms = ?1 WHERE form_uuid = ?2"
            };
            tx.exec(sql, vec![Cell::Int(checked_ms), Cell::Text(form_s.clone())])?;
            Ok(())
        })
        .await
    }

    /// Appends a run to `yida_sync_runs`.
    pub async fn log_run(
        &self,
        form: &str,
        started_ms: i64,
        finished_ms: i64,
        report: &Value,
    ) -> Result<(), SyncError> {
        let sql = if self.is_pg() {
            "INSERT INTO yida_sync_runs (form_uuid, started_ms, finished_ms, report) VALUES ($1, $2, $3, $4)"
        } else {
            "INSERT INTO yida_sync_runs (form_uuid, started_ms, finished_ms, report) VALUES (?1, ?2, ?3, ?4)"
        };
        let values = vec![
            Cell::Text(form.into()),
            Cell::Int(started_ms),
            Cell::Int(finished_ms),
            Cell::Text(report.to_string()),
        ];
        self.transaction(move |tx| tx.exec(sql, values.clone()))
            .await
    }

    /// Rows of a query, each cell as text, integer or null (`width` columns).
    pub async fn query(
        &self,
        sql: &str,
        params: Vec<Cell>,
        width: usize,
    ) -> Result<Vec<Vec<Cell>>, SyncError> {
        match self {
            Store::Sqlite(conn) => {
                let conn = conn.clone();
                let sql = sql.to_string();
                tokio::task::spawn_blocking(move || {
                    let conn = conn
                        .lock()
                        .map_err(|_| SyncError::Database("SQLite connection poisoned".into()))?;
                    let mut stmt = conn.prepare(&sql).map_err(SyncError::sqlite)?;
                    let params: Vec<rusqlite::types::Value> =
                        params.iter().map(sqlite_value).collect();
                    let mut rows = stmt
                        .query(rusqlite::params_from_iter(params))
                        .map_err(SyncError::sqlite)?;
                    let mut out = Vec::new();
                    while let Some(row) = rows.next().map_err(SyncError::sqlite)? {
                        let mut cells = Vec::with_capacity(width);
                        for i in 0..width {
                            let v: rusqlite::types::Value =
                                row.get(i).map_err(SyncError::sqlite)?;
                            cells.push(match v {
                                rusqlite::types::Value::Null => Cell::Null,
                                rusqlite::types::Value::Integer(n) => Cell::Int(n),
                                rusqlite::types::Value::Real(f) => Cell::Number(f),
                                rusqlite::types::Value::Text(t) => Cell::Text(t),
                                rusqlite::types::Value::Blob(_) => Cell::Null,
                            });
                        }
                        out.push(cells);
                    }
                    Ok(out)
                })
                .await
                .map_err(|e| SyncError::Database(e.to_string()))?
            }
            Store::Postgres(client) => {
                let client = client.lock().await;
                let params = pg_params(&params);
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                    params.iter().map(|p| p.as_ref() as _).collect();
                let rows = client
                    .query(sql, &refs)
                    .await
                    .map_err(SyncError::postgres)?;
                Ok(rows
                    .iter()
                    .map(|row| {
                        (0..width)
                            .map(|i| {
                                if let Ok(Some(v)) = row.try_get::<_, Option<i64>>(i) {
                                    Cell::Int(v)
                                } else if let Ok(Some(v)) = row.try_get::<_, Option<String>>(i) {
                                    Cell::Text(v)
                                } else {
                                    Cell::Null
                                }
                            })
                            .collect()
                    })
                    .collect())
            }
        }
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back otherwise.
    async fn transaction<F>(&self, f: F) -> Result<(), SyncError>
    where
        F: FnOnce(&mut dyn Tx) -> Result<(), SyncError> + Send + 'static,
    {
        match self {
            Store::Sqlite(conn) => {
                let conn = conn.clone();
                tokio::task::spawn_blocking(move || {
                    let mut conn = conn
                        .lock()
                        .map_err(|_| SyncError::Database("SQLite connection poisoned".into()))?;
                    let tx = conn.transaction().map_err(SyncError::sqlite)?;
                    let mut w = SqliteTx(&tx);
                    f(&mut w)?;
                    tx.commit().map_err(SyncError::sqlite)
                })
                .await
                .map_err(|e| SyncError::Database(e.to_string()))?
            }
            Store::Postgres(client) => {
                // Statements are collected first (the closure is synchronous), then sent in
                // one transaction.
                let mut batch = PgBatch::default();
                f(&mut batch)?;
                let mut client = client.lock().await;
                let tx = client.transaction().await.map_err(SyncError::postgres)?;
                for (sql, params) in &batch.statements {
                    let params = pg_params(params);
                    let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> =
                        params.iter().map(|p| p.as_ref() as _).collect();
                    tx.execute(sql.as_str(), &refs)
                        .await
                        .map_err(SyncError::postgres)?;
                }
                tx.commit().await.map_err(SyncError::postgres)
            }
        }
    }

    /// Runs DDL or other statements (tests and maintenance).
    pub async fn execute(&self, sql: &str) -> Result<(), SyncError> {
        self.exec_all(vec![sql.to_string()]).await
    }
}

impl Cell {
    fn as_i64(&self) -> Option<i64> {
        match self {
            Cell::Timestamp(n) | Cell::Int(n) => Some(*n),
            Cell::Number(f) => Some(*f as i64),
            Cell::Text(t) => t.parse().ok(),
            _ => None,
        }
    }
}

fn opt_text(v: &Option<String>) -> Cell {
    v.clone().map(Cell::Text).unwrap_or(Cell::Null)
}

fn stored_type(columns: &Map<String, Value>, key: &str, ty: ColumnType) -> ColumnType {
    match columns.get(key).and_then(Value::as_str) {
        Some("text") => ColumnType::Text,
        Some("number") => ColumnType::Number,
        Some("timestamp") => ColumnType::Timestamp,
        Some("text_array") => ColumnType::TextArray,
        Some("json") => ColumnType::Json,
        _ => ty,
    }
}

/// A cell made to fit its column's type (a retyped component keeps its old column).
fn fit(c: Cell, ty: ColumnType) -> Cell {
    match (c, ty) {
        (Cell::Null, _) => Cell::Null,
        (c @ Cell::Text(_), ColumnType::Text) => c,
        (c @ Cell::Number(_), ColumnType::Number) => c,
        (c @ Cell::Timestamp(_), ColumnType::Timestamp) => c,
        (c @ Cell::TextArray(_), ColumnType::TextArray) => c,
        (c, ColumnType::Json) => Cell::Json(cell_json(c)),
        (c, ColumnType::Text) => Cell::Text(match cell_json(c) {
            Value::String(s) => s,
            other => other.to_string(),
        }),
        (Cell::Timestamp(n), ColumnType::Number) => Cell::Number(n as f64),
        (c, ColumnType::TextArray) => Cell::TextArray(vec![cell_json(c).to_string()]),
        // A value that does not fit a number or timestamp column is left out of it (it is
        // still in form_data).
        _ => Cell::Null,
    }
}

fn cell_json(c: Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Text(s) => Value::String(s),
        Cell::Number(n) => json!(n),
        Cell::Timestamp(n) | Cell::Int(n) => json!(n),
        Cell::TextArray(v) => json!(v),
        Cell::Json(v) => v,
    }
}

fn upsert_sql(pg: bool, table: &str, names: &[String], types: &[ColumnType]) -> String {
    let mut sql = insert_sql(pg, table, names, types);
    let updates: Vec<String> = names[1..]
        .iter()
        .map(|n| format!("{q} = excluded.{q}", q = quote(n)))
        .collect();
    sql.push_str(&format!(
        " ON CONFLICT (instance_id) DO UPDATE SET {}",
        updates.join(", ")
    ));
    sql
}

fn insert_sql(pg: bool, table: &str, names: &[String], types: &[ColumnType]) -> String {
    let cols: Vec<String> = names.iter().map(|n| quote(n)).collect();
    let vals: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, ty)| {
            let n = i + 1;
            if pg {
                match ty {
                    ColumnType::Text => format!("${n}::text"),
                    ColumnType::Number => format!("${n}::text::numeric"),
                    // Text, like every other column's placeholder, so a NULL (sent as a text
                    // NULL) fits any column.
                    ColumnType::Timestamp => format!("to_timestamp(${n}::text::bigint / 1000.0)"),
                    ColumnType::TextArray => format!("${n}::text[]"),
                    ColumnType::Json => format!("${n}::text::jsonb"),
                }
            } else {
                format!("?{n}")
            }
        })
        .collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        quote(table),
        cols.join(", "),
        vals.join(", ")
    )
}

fn sqlite_value(c: &Cell) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match c {
        Cell::Null => V::Null,
        Cell::Text(s) => V::Text(s.clone()),
        Cell::Number(n) => V::Real(*n),
        // Timestamps are stored as ISO-8601 text in UTC (sortable, readable, SQLite's own
        // date functions read it).
        Cell::Timestamp(n) => V::Text(crate::iso8601(*n)),
        Cell::Int(n) => V::Integer(*n),
        Cell::TextArray(v) => V::Text(json!(v).to_string()),
        Cell::Json(v) => V::Text(v.to_string()),
    }
}

fn pg_params(cells: &[Cell]) -> Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>> {
    cells
        .iter()
        .map(|c| -> Box<dyn tokio_postgres::types::ToSql + Sync + Send> {
            match c {
                Cell::Null => Box::new(AnyNull),
                Cell::Text(s) => Box::new(s.clone()),
                Cell::Number(n) => Box::new(n.to_string()),
                Cell::Timestamp(n) => Box::new(n.to_string()),
                Cell::Int(n) => Box::new(*n),
                Cell::TextArray(v) => Box::new(v.clone()),
                Cell::Json(v) => Box::new(v.to_string()),
            }
        })
        .collect()
}

/// SQL NULL for a parameter of any type (`Option::<String>::None` is refused by a `text[]` or
/// `bigint` parameter).
#[derive(Debug)]
struct AnyNull;

impl tokio_postgres::types::ToSql for AnyNull {
    fn to_sql(
        &self,
        _: &tokio_postgres::types::Type,
        _: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(tokio_postgres::types::IsNull::Yes)
    }

    fn accepts(_: &tokio_postgres::types::Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A transaction's statement sink.
pub(crate) trait Tx {
    fn exec(&mut self, sql: &str, params: Vec<Cell>) -> Result<(), SyncError>;
}

struct SqliteTx<'a>(&'a rusqlite::Transaction<'a>);

impl Tx for SqliteTx<'_> {
    fn exec(&mut self, sql: &str, params: Vec<Cell>) -> Result<(), SyncError> {
        let params: Vec<rusqlite::types::Value> = params.iter().map(sqlite_value).collect();
        self.0
            .execute(sql, rusqlite::params_from_iter(params))
            .map(|_| ())
            .map_err(SyncError::sqlite)
    }
}

#[derive(Default)]
struct PgBatch {
    statements: Vec<(String, Vec<Cell>)>,
}

impl Tx for PgBatch {
    fn exec(&mut self, sql: &str, params: Vec<Cell>) -> Result<(), SyncError> {
        self.statements.push((sql.to_string(), params));
        Ok(())
    }
}
