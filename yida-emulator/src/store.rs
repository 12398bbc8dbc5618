//! The emulated tenant's data, in memory, optionally written through to a redb file.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A saved form instance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// `FINST-…`.
    pub form_instance_id: String,
    /// The form.
    pub form_uuid: String,
    /// The app.
    pub app_type: String,
    /// Values by field id.
    pub data: Map<String, Value>,
    /// Who created it.
    pub creator: String,
    /// Who changed it last.
    pub modifier: String,
    /// Epoch ms.
    pub created_ms: i64,
    /// Epoch ms.
    pub modified_ms: i64,
    /// Increases on every update (from 1).
    pub version: i64,
    /// Numeric primary key.
    pub data_id: i64,
    /// Change log, oldest first.
    #[serde(default)]
    pub log: Vec<LogEntry>,
}

/// One change of a form instance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// Epoch ms.
    pub time_ms: i64,
    /// Who.
    pub user_id: String,
    /// `CREATE` or `UPDATE`.
    pub kind: String,
    /// The values written.
    pub values: Map<String, Value>,
}

/// A process instance.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Instance {
    /// Process instance id.
    pub process_instance_id: String,
    /// The process.
    pub process_code: String,
    /// Its form.
    pub form_uuid: String,
    /// The app.
    pub app_type: String,
    /// Values by field id.
    pub data: Map<String, Value>,
    /// Who started it.
    pub originator: String,
    /// Title.
    pub title: String,
    /// `RUNNING`, `COMPLETED`, `TERMINATED`.
    pub status: String,
    /// `""`, `agree` or `disagree`.
    pub result: String,
    /// Epoch ms.
    pub created_ms: i64,
    /// Epoch ms.
    pub modified_ms: i64,
    /// Index of the current step.
    pub step: usize,
    /// Version (from 1).
    pub version: i64,
    /// Approval history.
    pub records: Vec<OpRecord>,
}

/// One line of an instance's approval history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OpRecord {
    /// `start`, `agree`, `disagree`, `terminate`, `doing` (pending).
    pub action: String,
    /// Who.
    pub user_id: String,
    /// Step.
    pub activity_id: String,
    /// Step name.
    pub show_name: String,
    /// Remark.
    pub remark: String,
    /// Epoch ms.
    pub time_ms: i64,
    /// Task id, if any.
    pub task_id: Option<i64>,
}

/// An approval task.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    /// Task id.
    pub task_id: i64,
    /// Its instance.
    pub process_instance_id: String,
    /// Step.
    pub activity_id: String,
    /// Step name.
    pub title: String,
    /// Approver.
    pub actioner: String,
    /// Instance originator.
    pub originator: String,
    /// `NEW`, `COMPLETED`, `CANCELED`.
    pub status: String,
    /// `""`, `AGREE`, `DISAGREE`.
    pub out_result: String,
    /// Epoch ms.
    pub created_ms: i64,
    /// Epoch ms.
    pub finished_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Table {
    Record,
    Instance,
    Task,
}

/// All mutable data.
#[derive(Debug, Default)]
pub struct State {
    /// Form instances by id.
    pub records: BTreeMap<String, Record>,
    /// Process instances by id.
    pub instances: BTreeMap<String, Instance>,
    /// Tasks by id.
    pub tasks: BTreeMap<i64, Task>,
    /// Id counter.
    pub counter: i64,
    dirty: BTreeSet<(Table, String)>,
    counter_dirty: bool,
}

impl State {
    /// The next id number.
    pub fn next_id(&mut self) -> i64 {
        self.counter += 1;
        self.counter_dirty = true;
        self.counter
    }
    /// Marks a record changed (or deleted).
    pub fn touch_record(&mut self, id: &str) {
        self.dirty.insert((Table::Record, id.to_string()));
    }
    /// Marks an instance changed (or deleted).
    pub fn touch_instance(&mut self, id: &str) {
        self.dirty.insert((Table::Instance, id.to_string()));
    }
    /// Marks a task changed (or deleted).
    pub fn touch_task(&mut self, id: i64) {
        self.dirty.insert((Table::Task, id.to_string()));
    }
}

const RECORDS: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("records");
const INSTANCES: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("instances");
const TASKS: redb::TableDefinition<&str, &[u8]> = redb::TableDefinition::new("tasks");
const META: redb::TableDefinition<&str, i64> = redb::TableDefinition::new("meta");

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[error("emulator storage: {0}")]
pub struct StoreError(pub String);

fn se(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

/// The redb file behind `--data`.
pub struct Disk {
    db: redb::Database,
}

impl Disk {
    /// Opens (or creates) the file; `reset` empties it first.
    pub fn open(path: &Path, reset: bool) -> Result<Disk, StoreError> {
        // A file that is there must be one of ours before it is reset or written to: `--data`
        // pointed at the wrong file must not cost that file.
        let existing = std::fs::symlink_metadata(path).ok();
        if let Some(meta) = &existing {
            if !meta.is_file() {
                return Err(StoreError(format!(
                    "--data {}: not a regular file (refusing to use it)",
                    path.display()
                )));
            }
            if meta.len() > 0 && !Self::is_ours(path) {
                return Err(StoreError(format!(
                    "--data {}: not an emulator database (refusing to {} it)",
                    path.display(),
                    if reset { "reset" } else { "open" }
                )));
            }
            if reset {
                std::fs::remove_file(path).map_err(se)?;
            }
        }
        let db = redb::Database::create(path).map_err(se)?;
        let w = db.begin_write().map_err(se)?;
        {
            w.open_table(RECORDS).map_err(se)?;
            w.open_table(INSTANCES).map_err(se)?;
            w.open_table(TASKS).map_err(se)?;
            w.open_table(META).map_err(se)?;
        }
        w.commit().map_err(se)?;
        Ok(Disk { db })
    }

    /// Whether `path` is a redb database with the emulator's tables (opened read-only
    /// by redb's own check of its header; nothing is written).
    fn is_ours(path: &Path) -> bool {
        use redb::ReadableDatabase;
        let Ok(db) = redb::Database::open(path) else {
            return false;
        };
        let Ok(r) = db.begin_read() else {
            return false;
        };
        r.open_table(RECORDS).is_ok() && r.open_table(META).is_ok()
    }

    /// Reads everything stored.
    pub fn load(&self) -> Result<State, StoreError> {
        use redb::{ReadableDatabase, ReadableTable};
        let r = self.db.begin_read().map_err(se)?;
        let mut st = State::default();
        for item in r.open_table(RECORDS).map_err(se)?.iter().map_err(se)? {
            let (k, v) = item.map_err(se)?;
            let rec: Record = serde_json::from_slice(v.value()).map_err(se)?;
            st.records.insert(k.value().to_string(), rec);
        }
        for item in r.open_table(INSTANCES).map_err(se)?.iter().map_err(se)? {
            let (k, v) = item.map_err(se)?;
            let inst: Instance = serde_json::from_slice(v.value()).map_err(se)?;
            st.instances.insert(k.value().to_string(), inst);
        }
        for item in r.open_table(TASKS).map_err(se)?.iter().map_err(se)? {
            let (_, v) = item.map_err(se)?;
            let t: Task = serde_json::from_slice(v.value()).map_err(se)?;
            st.tasks.insert(t.task_id, t);
        }
        if let Some(c) = r.open_table(META).map_err(se)?.get("counter").map_err(se)? {
            st.counter = c.value();
        }
        Ok(st)
    }

    /// Writes what changed since the last flush, in one transaction.
    pub fn flush(&self, st: &mut State) -> Result<(), StoreError> {
        if st.dirty.is_empty() && !st.counter_dirty {
            return Ok(());
        }
        let w = self.db.begin_write().map_err(se)?;
        {
            let mut rec = w.open_table(RECORDS).map_err(se)?;
            let mut ins = w.open_table(INSTANCES).map_err(se)?;
            let mut tsk = w.open_table(TASKS).map_err(se)?;
            for (table, key) in std::mem::take(&mut st.dirty) {
                match table {
                    Table::Record => match st.records.get(&key) {
                        Some(v) => {
                            rec.insert(key.as_str(), serde_json::to_vec(v).map_err(se)?.as_slice())
                                .map_err(se)?;
                        }
                        None => {
                            rec.remove(key.as_str()).map_err(se)?;
                        }
                    },
                    Table::Instance => match st.instances.get(&key) {
                        Some(v) => {
                            ins.insert(key.as_str(), serde_json::to_vec(v).map_err(se)?.as_slice())
                                .map_err(se)?;
                        }
                        None => {
                            ins.remove(key.as_str()).map_err(se)?;
                        }
                    },
                    Table::Task => {
                        let id: i64 = key.parse().unwrap_or(0);
                        match st.tasks.get(&id) {
                            Some(v) => {
                                tsk.insert(
                                    key.as_str(),
                                    serde_json::to_vec(v).map_err(se)?.as_slice(),
                                )
                                .map_err(se)?;
                            }
                            None => {
                                tsk.remove(key.as_str()).map_err(se)?;
                            }
                        }
                    }
                }
            }
            let mut meta = w.open_table(META).map_err(se)?;
            meta.insert("counter", st.counter).map_err(se)?;
            st.counter_dirty = false;
        }
        w.commit().map_err(se)?;
        Ok(())
    }
}
