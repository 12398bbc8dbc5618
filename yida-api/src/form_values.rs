//! Form values: writing and reading `formData`, component value helpers, time parsing, and the
//! task-list token.
//!
//! Yida form values are keyed by component id (`textField_xxx`, …), and each component kind
//! has its own format for writing, reading and searching ([`crate::components`] has the
//! table). This module has a value type per kind: [`Members`], [`Departments`], [`DateMs`],
//! [`DateRange`], [`City`], [`Address`], [`Attachments`], [`Images`], [`Links`],
//! [`Countries`], [`AssociationRefs`], [`Location`], [`Table`]; each writes what Yida accepts
//! and reads what Yida returns (JSON text included).
//!
//! For typed records keyed by your own field names, use `#[derive(YidaForm)]` (feature
//! `derive`). With plain serde types, write them into the `…Json` parameters and read a
//! reply's `formData` with [`decode_form`], which joins the companion keys replies carry
//! (`employeeField_x` holds display names, `employeeField_x_id` the user ids):
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use yida_api::form_values::{self, DateMs, Members, Table};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Leave {
//!     #[serde(rename = "textField_reason")]
//!     reason: String,
//!     #[serde(rename = "dateField_start")]
//!     start: DateMs,
//!     #[serde(rename = "employeeField_approver")]
//!     approver: Members,
//!     #[serde(rename = "tableField_days", default)]
//!     days: Table<Day>,
//! }
//! #[derive(Serialize, Deserialize)]
//! struct Day {
//!     #[serde(rename = "numberField_hours")]
//!     hours: f64,
//! }
//!
//! let value = Leave {
//!     reason: "trip".into(),
//!     start: DateMs(1_700_000_000_000),
//!     approver: Members::from(["manager123"]),
//!     days: vec![Day { hours: 8.0 }].into(),
//! };
//! // Written: `"employeeField_approver": ["manager123"]`. A reply shows names and ids apart:
//! let reply: yida_api::RawJson = serde_json::from_str(r#"{
//!     "textField_reason": "trip", "dateField_start": 1700000000000,
//!     "employeeField_approver": ["经理"], "employeeField_approver_id": ["manager123"],
//!     "tableField_days": [{"numberField_hours": 8, "numberField_hours_value": "8"}]
//! }"#).unwrap();
//! let back: Leave = form_values::decode_form(&reply).unwrap();
//! assert_eq!(back.approver.ids().collect::<Vec<_>>(), ["manager123"]);
//! assert_eq!(back.approver.names().collect::<Vec<_>>(), ["经理"]);
//! assert_eq!(
//!     serde_json::to_value(&back).unwrap(),
//!     serde_json::to_value(&value).unwrap(),
//! );
//! ```

use md5::{Digest, Md5};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use yida_auth::Secret;

pub use crate::values::{
    fold_twins, Address, AddressValue, AssociationRef, AssociationRefs, Attachment, Attachments,
    City, Companion, CompanionSeed, Countries, Country, DateRange, Department, Departments,
    FormValue, I18nText, Image, Images, JsonTextError, Lazy, LazyContent, Link, Links, Location,
    LocationValue, Member, Members, SmolStr, Table,
};

/// Decodes a form-data map held as a `serde_json::Value` into your own type, as it is (no
/// companion keys folded: see [`decode_form`] for replies).
pub fn decode<T: DeserializeOwned>(form_data: &serde_json::Value) -> Result<T, serde_json::Error> {
    T::deserialize(form_data)
}

/// Decodes a reply's `formData` into your own serde type after folding the companion keys
/// ([`fold_twins`]): a [`Members`] field then holds the user ids from `employeeField_x_id`
/// and the names from `employeeField_x`, so writing the record back writes ids. (A
/// `#[derive(YidaForm)]` record does this while decoding, without the intermediate tree.)
pub fn decode_form<T: DeserializeOwned>(
    form_data: &crate::RawJson,
) -> Result<T, crate::raw::DecodeError> {
    let mut v = form_data.to_value()?;
    if let serde_json::Value::Object(m) = &mut v {
        fold_twins(m);
    }
    T::deserialize(v).map_err(crate::raw::DecodeError::from_json)
}

/// A date component's value: milliseconds since the Unix epoch. Reads numbers and numeric
/// strings; writes a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateMs(pub i64);

impl DateMs {
    /// From a system time (before 1970 counts as 0).
    pub fn from_system_time(t: SystemTime) -> Self {
        DateMs(
            t.duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
        )
    }

    /// As a system time.
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0.max(0) as u64)
    }
}

impl Serialize for DateMs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for DateMs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::lenient::i64(d)?
            .map(DateMs)
            .ok_or_else(|| serde::de::Error::custom("a date needs epoch milliseconds, not null"))
    }
}

/// The task-list `token`: `md5(corpId + userId + code)` as 32 uppercase hex characters, where
/// `code` is the company's secret code. The result is a secret too.
///
/// ```
/// use yida_api::form_values::task_token;
/// use yida_auth::Secret;
/// let t = task_token("ding-corp", "user1", &Secret::new("code"));
/// assert_eq!(t.expose().len(), 32);
/// assert!(t.expose().chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
/// ```
pub fn task_token(corp_id: &str, user_id: &str, code: &Secret) -> Secret {
    let mut h = Md5::new();
    h.update(corp_id.as_bytes());
    h.update(user_id.as_bytes());
    h.update(code.expose().as_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(32);
    for b in digest {
        out.push_str(&format!("{b:02X}"));
    }
    Secret::new(out)
}

/// Parses the time strings Yida returns in `*TimeGMT` fields, which do not follow one format:
/// `2024-04-27T07:56Z`, `2024-04-27T07:56:12Z`, `2024-04-27T07:56:12.345Z`,
/// `2018-01-24 11:22:01`, `2021-05-01`, or epoch milliseconds as text. Times without a zone
/// are taken as UTC. Returns `None` for anything else.
///
/// ```
/// use yida_api::form_values::parse_gmt;
/// use std::time::{Duration, UNIX_EPOCH};
/// assert_eq!(parse_gmt("1970-01-02"), Some(UNIX_EPOCH + Duration::from_secs(86_400)));
/// assert!(parse_gmt("2024-04-27T07:56Z").is_some());
/// assert!(parse_gmt("yesterday").is_none());
/// ```
pub fn parse_gmt(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    if !s.is_empty() && s.len() >= 10 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<u64>()
            .ok()
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], &s[i + 1..]),
        None => (s, ""),
    };
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let m: i64 = d.next()?.parse().ok()?;
    let day: i64 = d.next()?.parse().ok()?;
    if d.next().is_some()
        || !(1..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
    {
        return None;
    }
    let (mut hh, mut mm, mut ss, mut ms) = (0i64, 0i64, 0i64, 0i64);
    if !time.is_empty() {
        let (hms, frac) = match time.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (time, None),
        };
        let mut t = hms.split(':');
        hh = t.next()?.parse().ok()?;
        mm = t.next().unwrap_or("0").parse().ok()?;
        ss = t.next().unwrap_or("0").parse().ok()?;
        if t.next().is_some() || hh > 23 || mm > 59 || ss > 60 {
            return None;
        }
        if let Some(f) = frac {
            let digits: String = f.chars().take(3).collect();
            ms = format!("{digits:0<3}").parse().ok()?;
        }
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let total_ms = ((days * 86_400 + hh * 3600 + mm * 60 + ss) * 1000) + ms;
    (total_ms >= 0).then(|| UNIX_EPOCH + Duration::from_millis(total_ms as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_token_is_uppercase_md5() {
        // md5("corpuser" + "code") computed independently: md5("corpusercode").
        let t = task_token("corp", "user", &Secret::new("code"));
        assert_eq!(t.expose(), expected());
    }

    fn expected() -> String {
        include_str!("../tests/md5_expected.txt").trim().to_string()
    }

    #[test]
    fn parses_the_time_shapes_yida_returns() {
        let secs = |s: &str| {
            parse_gmt(s)
                .unwrap()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis()
        };
        assert_eq!(secs("2024-04-27T07:56Z"), 1_714_204_560_000);
        assert_eq!(secs("2024-04-27T07:56:12.5Z"), 1_714_204_572_500);
        assert_eq!(secs("2018-01-24 11:22:01"), 1_516_792_921_000);
        assert_eq!(secs("2021-05-01"), 1_619_827_200_000);
        assert_eq!(secs("1714204560000"), 1_714_204_560_000);
        for bad in [
            "",
            "2024-13-01",
            "2024-04-27T25:00Z",
            "abc",
            "2024-04",
            "99999999999999999-01-01",
            "2024-01-01T10:99999999999999999",
            "１２３４-01-01",
            "2024-01-01T10:00:00.x",
        ] {
            assert!(parse_gmt(bad).is_none(), "{bad}");
        }
    }
}
