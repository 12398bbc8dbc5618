//! Typed records: what `#[derive(YidaForm)]` implements, and the typed save, get, update,
//! delete and search of [`Client::typed`](crate::Client::typed).
//!
//! ```
//! # #[cfg(feature = "derive")] {
//! use yida_api::form_values::{DateMs, Members};
//! use yida_api::YidaForm;
//!
//! #[derive(YidaForm, Debug)]
//! #[yida(form = "FORM-LEAVE")]
//! struct Leave {
//!     #[yida(id = "textField_reason")]
//!     reason: String,
//!     #[yida(id = "dateField_start")]
//!     start: Option<DateMs>,
//!     #[yida(id = "employeeField_approver")]
//!     approver: Members,
//!     #[yida(id = "serialNumberField_no")]
//!     number: Option<String>, // read-only: never written
//! }
//!
//! // A reply's shape: names and ids of members apart, the number as Yida set it.
//! let reply = r#"{"textField_reason": "trip", "employeeField_approver": ["经理"],
//!     "employeeField_approver_id": ["manager123"], "serialNumberField_no": "0001"}"#;
//! let leave: Leave = serde_json::from_str(reply).unwrap();
//! assert_eq!(leave.approver.ids().collect::<Vec<_>>(), ["manager123"]);
//! // Written back: ids, and no serial number.
//! assert_eq!(
//!     serde_json::to_value(&leave).unwrap(),
//!     serde_json::json!({"textField_reason": "trip", "employeeField_approver": ["manager123"]}),
//! );
//! // Typed search conditions, emitted as Yida's `searchFieldJson`:
//! let search = LeaveSearch::new()
//!     .reason_contains("trip")
//!     .approver_any_of(["manager123"])
//!     .start_between(DateMs(0), DateMs(86_400_000));
//! assert_eq!(
//!     yida_api::typed::Search::from(search).to_json(),
//!     serde_json::json!({"textField_reason": "trip", "employeeField_approver": ["manager123"],
//!         "dateField_start": [0, 86400000]}),
//! );
//! # }
//! ```

use crate::components::ComponentKind;
use crate::form_values::{DateMs, Table};
use crate::RawJson;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

/// One field of a typed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldMeta {
    /// The Rust field name.
    pub name: &'static str,
    /// The component id.
    pub id: &'static str,
    /// The component kind, when the id's prefix or `kind = …` says it.
    pub kind: Option<ComponentKind>,
    /// Never written.
    pub read_only: bool,
}

/// A record or sub-form row type (`#[derive(YidaForm)]`).
pub trait YidaRecord: Serialize + DeserializeOwned {
    /// The fields, in declaration order.
    const FIELDS: &'static [FieldMeta];

    /// The writable fields that are set, each as the JSON Yida takes (or why it cannot be
    /// written), by component id.
    fn write_fields(&self) -> Vec<(&'static str, Result<Value, String>)>;

    /// Rows held by a sub-form field.
    fn table_row_count(&self, field_id: &str) -> Option<usize>;

    /// Replaces a sub-form field's rows (all of them, fetched page by page).
    fn replace_table_rows(&mut self, field_id: &str, rows: &[RawJson]) -> Result<(), String>;
}

/// A form's record type (`#[derive(YidaForm)]` with `#[yida(form = "FORM-…")]`).
pub trait YidaForm: YidaRecord {
    /// The form.
    const FORM_UUID: &'static str;
    /// The typed search builder (`<Name>Search`).
    type Search: Into<Search>;
}

/// A sub-form value, as the derived code reaches it.
pub trait TableValue {
    /// Rows held.
    fn row_count(&self) -> usize;
    /// Replaces the rows.
    fn replace_rows(&mut self, rows: &[RawJson]) -> Result<(), String>;
}

impl<Row: Serialize + DeserializeOwned> TableValue for Table<Row> {
    fn row_count(&self) -> usize {
        self.0.len()
    }
    fn replace_rows(&mut self, rows: &[RawJson]) -> Result<(), String> {
        self.0 = rows
            .iter()
            .map(|r| r.decode::<Row>().map_err(|e| format!("{}", e.json_error())))
            .collect::<Result<_, _>>()?;
        Ok(())
    }
}

impl<T: TableValue + Default> TableValue for Option<T> {
    fn row_count(&self) -> usize {
        self.as_ref().map_or(0, T::row_count)
    }
    fn replace_rows(&mut self, rows: &[RawJson]) -> Result<(), String> {
        self.get_or_insert_with(T::default).replace_rows(rows)
    }
}

/// Search conditions in the shape of `searchFieldJson` (field id → value). Built by a
/// record's typed builder (`<Name>Search`); [`Search::raw`] adds any condition by hand.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Search(Map<String, Value>);

impl Search {
    /// A text (or option) condition.
    pub fn text(&mut self, id: &str, text: String) {
        self.0.insert(id.into(), Value::String(text));
    }
    /// A list of texts (options, ids, codes).
    pub fn texts(&mut self, id: &str, texts: Vec<String>) {
        self.0.insert(
            id.into(),
            Value::Array(texts.into_iter().map(Value::String).collect()),
        );
    }
    /// A number range, written as two numeric texts (`["1", "10"]`).
    pub fn number_range(&mut self, id: &str, low: f64, high: f64) {
        self.0.insert(
            id.into(),
            serde_json::json!([number_text(low), number_text(high)]),
        );
    }
    /// A date range in epoch milliseconds (`[from, to]`).
    pub fn date_range(&mut self, id: &str, from: DateMs, to: DateMs) {
        self.0.insert(id.into(), serde_json::json!([from.0, to.0]));
    }
    /// A date-range component whose start and end both lie in `[from, to]`.
    pub fn date_range_within(&mut self, id: &str, from: DateMs, to: DateMs) {
        self.0.insert(
            id.into(),
            serde_json::json!([[from.0, to.0], [from.0, to.0]]),
        );
    }
    /// Any condition, as Yida takes it.
    pub fn raw(mut self, id: impl Into<String>, value: Value) -> Self {
        self.0.insert(id.into(), value);
        self
    }
    /// No condition.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The `searchFieldJson` value.
    pub fn to_json(&self) -> Value {
        Value::Object(self.0.clone())
    }
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// A record as read from Yida: its instance id, the value, and what was read (so
/// [`TypedForm::update`] sends only the fields that changed).
#[derive(Debug, Clone)]
pub struct Fetched<T> {
    /// `FINST-…`.
    pub instance_id: String,
    /// The record.
    pub value: T,
    original: Vec<(&'static str, Result<Value, String>)>,
}

impl<T: YidaRecord> Fetched<T> {
    /// Wraps a record read from Yida (the current values count as unchanged).
    pub fn new(instance_id: impl Into<String>, value: T) -> Self {
        let original = value.write_fields();
        Fetched {
            instance_id: instance_id.into(),
            value,
            original,
        }
    }

    /// The fields that differ from what was read, as Yida takes them. A field that cannot be
    /// written (a city read as names) is an error only if it changed.
    pub fn changes(&self) -> Result<Map<String, Value>, (&'static str, String)> {
        let mut out = Map::new();
        for (id, now) in self.value.write_fields() {
            let before = self.original.iter().find(|(i, _)| *i == id).map(|(_, v)| v);
            let same = match (before, &now) {
                (Some(Ok(a)), Ok(b)) => a == b,
                (Some(Err(_)), Err(_)) => true,
                _ => false,
            };
            if !same {
                out.insert(id.to_string(), now.map_err(|e| (id, e))?);
            }
        }
        Ok(out)
    }
}

impl<T> std::ops::Deref for Fetched<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> std::ops::DerefMut for Fetched<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.value
    }
}

/// Rows a reply carries at most per sub-form (openyida #330); a sub-form holding this many is
/// fetched whole through ListTableDataByFormInstanceIdTableId.
pub const REPLY_ROW_LIMIT: usize = 50;

/// Rows per ListTableDataByFormInstanceIdTableId page when a sub-form is fetched whole: the
/// most a page takes (100, as DingTalk's own example of the operation asks), so 120 rows
/// cost two calls, not three.
pub const TABLE_PAGE_SIZE: usize = 100;

#[cfg(feature = "forms")]
pub use client_ops::TypedForm;

#[cfg(feature = "forms")]
mod client_ops {
    use super::*;
    use crate::forms::{
        DeleteFormDataRequest, GetFormDataByIdV2Request, ListTableDataByFormInstanceIdTableIdArgs,
        ListTableDataByFormInstanceIdTableIdRequest, SaveFormDataV2Request,
        SearchFormDatasV2Request, UpdateFormDataV2Request,
    };
    use crate::{Client, Error};
    use std::marker::PhantomData;

    impl Client {
        /// Typed access to the form of `T` (`#[derive(YidaForm)]`).
        pub fn typed<T: YidaForm>(&self) -> TypedForm<'_, T> {
            TypedForm {
                client: self,
                _t: PhantomData,
            }
        }
    }

    /// Typed save, get, update, delete and search of one form's records.
    pub struct TypedForm<'c, T> {
        client: &'c Client,
        _t: PhantomData<fn() -> T>,
    }

    fn invalid(operation: crate::OpId, message: String) -> Error {
        Error::InvalidInput { operation, message }
    }

    impl<T: YidaForm> TypedForm<'_, T> {
        /// Saves a new record (SaveFormData 2.0); returns its instance id. Read-only fields and
        /// unset `Option`s are not sent.
        pub async fn save(&self, value: &T) -> Result<String, Error> {
            let mut data = Map::new();
            for (id, v) in value.write_fields() {
                let v = v.map_err(|e| {
                    invalid(crate::OpId::SaveFormDataV2, format!("field {id}: {e}"))
                })?;
                data.insert(id.to_string(), v);
            }
            let reply = self
                .client
                .send(SaveFormDataV2Request::new(T::FORM_UUID, &data))
                .await?;
            reply.result.ok_or_else(|| {
                invalid(
                    crate::OpId::SaveFormDataV2,
                    "the reply has no instance id (`result`)".into(),
                )
            })
        }

        /// Reads a record (GetFormDataByID 2.0), sub-forms whole.
        pub async fn get(&self, instance_id: &str) -> Result<Fetched<T>, Error> {
            let reply = self
                .client
                .send(GetFormDataByIdV2Request::new(instance_id).form_uuid(T::FORM_UUID))
                .await?;
            let data = reply.form_data.ok_or_else(|| {
                invalid(
                    crate::OpId::GetFormDataByIdV2,
                    "the reply has no `formData`".into(),
                )
            })?;
            let mut value: T = data.decode()?;
            self.complete_tables(instance_id, &mut value).await?;
            Ok(Fetched::new(instance_id, value))
        }

        /// Fetches the rest of every sub-form a reply cut at [`REPLY_ROW_LIMIT`] rows.
        async fn complete_tables(&self, instance_id: &str, value: &mut T) -> Result<(), Error> {
            for f in T::FIELDS {
                if f.kind != Some(ComponentKind::TableField) {
                    continue;
                }
                if value.table_row_count(f.id).unwrap_or(0) < REPLY_ROW_LIMIT {
                    continue;
                }
                let req = ListTableDataByFormInstanceIdTableIdRequest::new(
                    ListTableDataByFormInstanceIdTableIdArgs {
                        form_instance_id: instance_id.to_string(),
                        form_uuid: T::FORM_UUID.to_string(),
                        table_field_id: f.id.to_string(),
                    },
                )
                .page_size(TABLE_PAGE_SIZE as i64);
                let mut rows = Vec::new();
                let mut pages = self.client.paginate(req);
                while let Some(row) = pages.next().await {
                    rows.push(row?);
                }
                value.replace_table_rows(f.id, &rows).map_err(|e| {
                    invalid(
                        crate::OpId::ListTableDataByFormInstanceIdTableId,
                        format!("rows of {}: {e}", f.id),
                    )
                })?;
            }
            Ok(())
        }

        /// Sends the fields that changed since the record was read (UpdateFormData 2.0);
        /// returns how many. Nothing is sent when nothing changed.
        pub async fn update(&self, record: &mut Fetched<T>) -> Result<usize, Error> {
            let changes = record.changes().map_err(|(id, e)| {
                invalid(crate::OpId::UpdateFormDataV2, format!("field {id}: {e}"))
            })?;
            let n = changes.len();
            if n == 0 {
                return Ok(0);
            }
            self.client
                .send(
                    UpdateFormDataV2Request::new(record.instance_id.clone(), &changes)
                        .form_uuid(T::FORM_UUID),
                )
                .await?;
            record.original = record.value.write_fields();
            Ok(n)
        }

        /// Deletes a record (DeleteFormData 1.0, the only version).
        pub async fn delete(&self, instance_id: &str) -> Result<(), Error> {
            self.client
                .send(DeleteFormDataRequest::new(instance_id))
                .await?;
            Ok(())
        }

        /// Every record matching the conditions (SearchFormDatas 2.0, all pages), sub-forms
        /// whole.
        pub async fn search(&self, search: impl Into<Search>) -> Result<Vec<Fetched<T>>, Error> {
            let search: Search = search.into();
            let mut req = SearchFormDatasV2Request::new(T::FORM_UUID).page_size(100);
            if !search.is_empty() {
                req = req.search_field_json(search.to_json());
            }
            let mut out = Vec::new();
            let mut pages = self.client.paginate(req);
            while let Some(item) = pages.next().await {
                let item = item?;
                let id = item.form_instance_id.clone().unwrap_or_default();
                let Some(data) = item.form_data else { continue };
                let mut value: T = data.decode()?;
                self.complete_tables(&id, &mut value).await?;
                out.push(Fetched::new(id, value));
            }
            Ok(out)
        }
    }
}
