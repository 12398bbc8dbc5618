//! Searching form data: filters, time windows, ordering, pages.

use super::render::record_json;
use super::{page, Call, P};
use crate::filters::{self, parse_day, Filter};
use crate::seed::{Form, Seed};
use crate::shared::ApiErr;
use crate::store::Record;
use serde_json::{json, Value};

pub(super) fn record_filters(
    seed: &Seed,
    p: &P,
    form: &Form,
) -> Result<(Vec<Filter>, RecordWindow), ApiErr> {
    let filters = match p.json("searchFieldJson") {
        Some(v) => filters::parse_fields(form, "searchFieldJson", &v)?,
        None => vec![],
    };
    let _ = seed;
    let day = |k: &str, end: bool| p.s(k).map(|s| parse_day(k, s, end)).transpose();
    Ok((
        filters,
        RecordWindow {
            created: (
                day("createFromTimeGMT", false)?,
                day("createToTimeGMT", true)?,
            ),
            modified: (
                day("modifiedFromTimeGMT", false)?,
                day("modifiedToTimeGMT", true)?,
            ),
            originator: p.s("originatorId").map(String::from),
        },
    ))
}
pub(super) struct RecordWindow {
    created: (Option<i64>, Option<i64>),
    modified: (Option<i64>, Option<i64>),
    originator: Option<String>,
}
impl RecordWindow {
    pub(super) fn pass(&self, created: i64, modified: i64, originator: &str) -> bool {
        let within = |t: i64, (a, b): (Option<i64>, Option<i64>)| {
            a.is_none_or(|a| t >= a) && b.is_none_or(|b| t <= b)
        };
        within(created, self.created)
            && within(modified, self.modified)
            && self.originator.as_deref().is_none_or(|o| o == originator)
    }
}
fn sort_records(list: &mut [&Record], order: Option<Value>) -> Result<(), ApiErr> {
    let order: Vec<(String, bool)> = match order {
        Some(Value::Object(m)) => m
            .into_iter()
            .map(|(k, v)| (k, v.as_str() != Some("-")))
            .collect(),
        Some(Value::Array(a)) => a
            .into_iter()
            .filter_map(|x| {
                let obj = x.as_object()?;
                let k = obj
                    .get("key")
                    .or_else(|| obj.get("fieldId"))?
                    .as_str()?
                    .to_string();
                let asc = obj
                    .get("isAsc")
                    .and_then(Value::as_bool)
                    .unwrap_or(obj.get("order").and_then(Value::as_str) != Some("desc"));
                Some((k, asc))
            })
            .collect(),
        Some(_) => {
            return Err(ApiErr::bad(
                "invalidParameter",
                "dynamicOrder must be a JSON object of field id to + or -",
            ))
        }
        None => vec![],
    };
    list.sort_by(|a, b| {
        for (k, asc) in &order {
            let key = |r: &Record| match k.as_str() {
                "gmt_create" | "createTime" => json!(r.created_ms),
                "gmt_modified" | "modifiedTime" => json!(r.modified_ms),
                _ => r.data.get(k).cloned().unwrap_or(Value::Null),
            };
            let o = filters::compare(&key(a), &key(b));
            let o = if *asc { o } else { o.reverse() };
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        // Newest first, as the service does without an order.
        b.created_ms
            .cmp(&a.created_ms)
            .then(b.data_id.cmp(&a.data_id))
    });
    Ok(())
}
/// SearchFormDatas (both versions): a page of records.
pub(super) fn search_records(c: &Call) -> Result<Option<Value>, ApiErr> {
    search(c, false)
}

/// SearchFormDataIdList (both versions): a page of record ids.
pub(super) fn search_ids(c: &Call) -> Result<Option<Value>, ApiErr> {
    search(c, true)
}

/// Both searches.
fn search(c: &Call, ids_only: bool) -> Result<Option<Value>, ApiErr> {
    let p = &c.p;
    let seed = &c.seed;
    let shared = c.shared;
    let f = c.form()?;
    let page_key = if !ids_only {
        "currentPage"
    } else {
        "pageNumber"
    };
    let (start, size, number) = page(p, page_key)?;
    let (filters, window) = record_filters(seed, p, f)?;
    let or = p
        .s("logicOperator")
        .is_some_and(|o| o.eq_ignore_ascii_case("or"));
    shared.with_state(|st| {
        let mut hits: Vec<&Record> = st
            .records
            .values()
            .filter(|r| r.form_uuid == f.form_uuid)
            .filter(|r| window.pass(r.created_ms, r.modified_ms, &r.creator))
            .filter(|r| filters::pass(&filters, or, &r.data))
            .collect();
        sort_records(&mut hits, p.json("dynamicOrder"))?;
        let total = hits.len();
        let page = hits.into_iter().skip(start).take(size);
        if !ids_only {
            let data: Vec<Value> = page.map(|r| record_json(seed, st, r)).collect();
            Ok(Some(
                json!({ "currentPage": number, "totalCount": total, "data": data }),
            ))
        } else {
            let data: Vec<&str> = page.map(|r| r.form_instance_id.as_str()).collect();
            Ok(Some(
                json!({ "pageNumber": number, "totalCount": total, "data": data }),
            ))
        }
    })
}
