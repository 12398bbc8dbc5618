//! Form values: writing and reading `formData`, component value helpers, time parsing, and the
//! task-list token.
//!
//! Yida form values are keyed by component id (`textField_xxx`, …). Write them from any
//! `Serialize` value (a struct with `#[serde(rename = "textField_xxx")]` fields, or a
//! `serde_json::json!` map) into the `…Json` parameters; read a reply's `formData` (a
//! [`RawJson`](crate::RawJson)) back into any `DeserializeOwned` type with
//! [`RawJson::decode`](crate::RawJson::decode), or a `serde_json::Value` with [`decode`].
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use yida_api::form_values::{self, DateMs, Members};
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
//!     days: Vec<Day>,
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
//!     days: vec![Day { hours: 8.0 }],
//! };
//! // A request takes `&value` for `formDataJson`; a reply's `formData` decodes back:
//! let reply_form_data: yida_api::RawJson = serde_json::from_str(&serde_json::to_string(&value).unwrap()).unwrap();
//! let back: Leave = reply_form_data.decode().unwrap();
//! assert_eq!(back.start, DateMs(1_700_000_000_000));
//! let same: Leave = form_values::decode(&reply_form_data.to_value().unwrap()).unwrap();
//! assert_eq!(same.approver, Members::from(["manager123"]));
//! ```

use md5::{Digest, Md5};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use yida_auth::Secret;

/// Decodes a form-data map held as a `serde_json::Value` into your own type (for a reply's
/// [`RawJson`](crate::RawJson), [`RawJson::decode`](crate::RawJson::decode) skips the tree).
pub fn decode<T: DeserializeOwned>(form_data: &serde_json::Value) -> Result<T, serde_json::Error> {
    T::deserialize(form_data)
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

/// A member (employee) component's value: DingTalk user ids.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Members(pub Vec<String>);

impl<S: Into<String>, const N: usize> From<[S; N]> for Members {
    fn from(ids: [S; N]) -> Self {
        Members(ids.into_iter().map(Into::into).collect())
    }
}

impl<S: Into<String>> FromIterator<S> for Members {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Members(iter.into_iter().map(Into::into).collect())
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
