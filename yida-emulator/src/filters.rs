//! Filters of `searchFieldJson` / `searchCondition` per component kind, dates, ordering.

use crate::seed::Form;
use crate::shared::ApiErr;
use crate::values;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use yida_api::components::{ComponentKind as K, Matching};

/// How a condition on a component matches, from yida-api's component model; components it
/// does not know match exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text contains the given text (text, multi-line text, rich text, sub-form rows).
    Contains,
    /// Exact text (or list of texts) match.
    Exact,
    /// Number: exact or `[min, max]`.
    Number,
    /// Date (epoch ms): exact or `[from, to]`; a date range matches on its start, or on both
    /// ends with `[[start from, start to], [end from, end to]]`.
    Date,
    /// Several values (multi-select, checkbox, members, departments): any of the given values.
    AnyOf,
}

/// The comparison kind of a field id on a form (`None`: not a component of the form);
/// `Err` names a component that cannot be searched.
fn kind_of(form: &Form, param: &str, field: &str) -> Result<Option<(String, Kind)>, ApiErr> {
    let (field, comp) = match values::component(form, field) {
        Some(c) => (field, c),
        // `selectField_x_value`, `employeeField_x_id`: some search paths name the twin.
        None => match field
            .strip_suffix("_value")
            .or_else(|| field.strip_suffix("_id"))
            .and_then(|base| values::component(form, base).map(|c| (base, c)))
        {
            Some(x) => x,
            None => return Ok(None),
        },
    };
    let Some(kind) = comp.component_kind() else {
        return Ok(Some((field.to_string(), Kind::Exact)));
    };
    let k = match kind.info().search.matching {
        Matching::Contains => Kind::Contains,
        Matching::AnyOf => Kind::AnyOf,
        Matching::Range if matches!(kind, K::DateField | K::CascadeDateField) => Kind::Date,
        Matching::Range => Kind::Number,
        Matching::Unsupported => {
            return Err(ApiErr::bad(
                "invalidParameter",
                format!("{param}: {field} is a {kind}, which cannot be searched"),
            ))
        }
        _ => Kind::Exact,
    };
    Ok(Some((field.to_string(), k)))
}

/// One parsed filter.
#[derive(Debug, Clone)]
pub struct Filter {
    field: String,
    kind: Kind,
    value: Value,
    like: bool,
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        // A date range compares on its start.
        Value::Array(a) if a.len() == 2 => num(&a[0]),
        _ => None,
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn values(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|x| match x {
                Value::Object(o) => o.get("value").map(text).unwrap_or_else(|| text(x)),
                _ => text(x),
            })
            .collect(),
        Value::Null => vec![],
        other => vec![text(other)],
    }
}

fn unknown(param: &str, field: &str) -> ApiErr {
    ApiErr::bad(
        "invalidParameter",
        format!("{param}: {field} is not a component of this form"),
    )
}

/// Parses `searchFieldJson` (`{fieldId: value | [min, max] | [any, of]}`).
pub fn parse_fields(form: &Form, param: &str, v: &Value) -> Result<Vec<Filter>, ApiErr> {
    let obj = match v {
        Value::Object(o) => o,
        Value::Null => return Ok(vec![]),
        _ => {
            return Err(ApiErr::bad(
                "invalidParameter",
                format!("{param} must be a JSON object of field id to value"),
            ))
        }
    };
    let mut out = vec![];
    for (k, val) in obj {
        let (field, kind) = kind_of(form, param, k)?.ok_or_else(|| unknown(param, k))?;
        if let Kind::Number | Kind::Date = kind {
            if let Value::Array(a) = val {
                if a.len() != 2 || a.iter().any(|x| !x.is_null() && num(x).is_none()) {
                    return Err(ApiErr::bad(
                        "invalidParameter",
                        format!("{param}: {k} takes a number or a [min, max] range"),
                    ));
                }
            }
        }
        out.push(Filter {
            field,
            kind,
            value: val.clone(),
            like: false,
        });
    }
    Ok(out)
}

/// Parses `searchCondition` (`[{key, value, operator: eq|like}]`, or an object as
/// `searchFieldJson`).
pub fn parse_conditions(form: &Form, v: &Value) -> Result<Vec<Filter>, ApiErr> {
    let list = match v {
        Value::Array(a) => a,
        Value::Object(_) => return parse_fields(form, "searchCondition", v),
        _ => {
            return Err(ApiErr::bad(
                "invalidParameter",
                "searchCondition must be a JSON list of {key, value, operator} conditions",
            ))
        }
    };
    let mut out = vec![];
    for c in list {
        let key = c.get("key").and_then(Value::as_str).ok_or_else(|| {
            ApiErr::bad(
                "invalidParameter",
                "searchCondition: every condition needs a key",
            )
        })?;
        let (field, kind) = kind_of(form, "searchCondition", key)?
            .ok_or_else(|| unknown("searchCondition", key))?;
        let op = c.get("operator").and_then(Value::as_str).unwrap_or("eq");
        if !matches!(op, "eq" | "like") {
            return Err(ApiErr::bad(
                "invalidParameter",
                format!("searchCondition: operator {op} is not emulated (eq, like are)"),
            ));
        }
        out.push(Filter {
            field,
            kind,
            value: c.get("value").cloned().unwrap_or(Value::Null),
            like: op == "like",
        });
    }
    Ok(out)
}

impl Filter {
    /// Whether a record's stored values pass.
    pub fn matches(&self, data: &Map<String, Value>) -> bool {
        let have = data.get(&self.field).unwrap_or(&Value::Null);
        match self.kind {
            Kind::Contains => {
                let w = text(&self.value);
                match have {
                    // Sub-form rows: any value of any row.
                    Value::Array(rows) => rows.iter().any(|r| match r {
                        Value::Object(o) => o.values().any(|x| text(x).contains(&w)),
                        x => text(x).contains(&w),
                    }),
                    _ => text(have).contains(&w),
                }
            }
            Kind::Exact => {
                let h = match have {
                    Value::Array(_) => values(have).join(","),
                    _ => text(have),
                };
                let w = match &self.value {
                    Value::Array(_) => values(&self.value).join(","),
                    v => text(v),
                };
                if self.like {
                    h.contains(&w)
                } else {
                    h == w
                }
            }
            Kind::Number | Kind::Date => {
                // A date range searched with one range per end (openyida's example, what the
                // typed `…_within` sends): `[[start from, start to], [end from, end to]]`.
                if let (Value::Array(w), Value::Array(h)) = (&self.value, have) {
                    if w.len() == 2 && h.len() == 2 && w.iter().all(Value::is_array) {
                        return in_range(&w[0], &h[0]) && in_range(&w[1], &h[1]);
                    }
                }
                let h = match num(have) {
                    Some(h) => h,
                    None => return false,
                };
                match &self.value {
                    Value::Array(a) if a.len() == 2 => {
                        (a[0].is_null() || num(&a[0]).is_some_and(|lo| h >= lo))
                            && (a[1].is_null() || num(&a[1]).is_some_and(|hi| h <= hi))
                    }
                    v => num(v).is_some_and(|w| w == h),
                }
            }
            Kind::AnyOf => {
                let h = values(have);
                values(&self.value).iter().any(|w| h.contains(w))
            }
        }
    }
}

/// Whether `v` is a number within `range` (`[min, max]`, either end `null` for open).
fn in_range(range: &Value, v: &Value) -> bool {
    let (Some(h), Value::Array(r)) = (num(v), range) else {
        return false;
    };
    r.len() == 2
        && (r[0].is_null() || num(&r[0]).is_some_and(|lo| h >= lo))
        && (r[1].is_null() || num(&r[1]).is_some_and(|hi| h <= hi))
}

/// All filters pass (`or`: any passes; no filters: everything passes).
pub fn pass(filters: &[Filter], or: bool, data: &Map<String, Value>) -> bool {
    if filters.is_empty() {
        return true;
    }
    if or {
        filters.iter().any(|f| f.matches(data))
    } else {
        filters.iter().all(|f| f.matches(data))
    }
}

/// Compares two values for ordering (numbers as numbers, the rest as text).
pub fn compare(a: &Value, b: &Value) -> Ordering {
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => text(a).cmp(&text(b)),
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Epoch ms as the GMT text real replies carry (`2024-04-27T07:56Z`).
pub fn gmt(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86400));
    let s = secs.rem_euclid(86400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}Z",
        s / 3600,
        (s % 3600) / 60
    )
}

/// Parses a `yyyy-MM-dd` (optionally `yyyy-MM-dd HH:mm:ss`) filter date as epoch ms (UTC);
/// `end` gives the last millisecond of that day (or second).
pub fn parse_day(param: &str, s: &str, end: bool) -> Result<i64, ApiErr> {
    let bad = || {
        ApiErr::bad(
            "invalidParameter",
            format!("{param} must be a date as yyyy-MM-dd, not {s:?}"),
        )
    };
    let (date, time) = s.trim().split_once(' ').unwrap_or((s.trim(), ""));
    let parts: Vec<&str> = date.split('-').collect();
    if parts.len() != 3 {
        return Err(bad());
    }
    let n = |x: &str| x.parse::<i64>().map_err(|_| bad());
    let (y, m, d) = (n(parts[0])?, n(parts[1])?, n(parts[2])?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1000..=9999).contains(&y) {
        return Err(bad());
    }
    let day = days_from_civil(y, m, d) * 86_400_000;
    if time.is_empty() {
        return Ok(if end { day + 86_399_999 } else { day });
    }
    let t: Vec<&str> = time.split(':').collect();
    if t.len() != 3 {
        return Err(bad());
    }
    let secs = n(t[0])? * 3600 + n(t[1])? * 60 + n(t[2])?;
    Ok(day + secs * 1000 + if end { 999 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn dates_round_trip() {
        assert_eq!(gmt(0), "1970-01-01T00:00Z");
        assert_eq!(gmt(1714204560000), "2024-04-27T07:56Z");
        assert_eq!(parse_day("x", "2024-04-27", false).unwrap(), 1714176000000);
        assert_eq!(parse_day("x", "2024-04-27", true).unwrap(), 1714262399999);
        assert!(parse_day("x", "27/04/2024", false).is_err());
    }
}
