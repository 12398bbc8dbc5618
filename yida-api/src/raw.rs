//! Free JSON in replies, kept as text until you decode it.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;

/// A free-form JSON value of a reply (`formData`, `data`, maps keyed by field id), kept as the
/// text DingTalk sent. Decoding a reply does not build a tree for it; decode it into your own
/// type with [`RawJson::decode`] (one pass, no intermediate map) or into a
/// [`serde_json::Value`] with [`RawJson::to_value`].
///
/// ```
/// use yida_api::RawJson;
/// #[derive(serde::Deserialize)]
/// struct Order { #[serde(rename = "textField_title")] title: String }
/// let raw: RawJson = serde_json::from_str(r#"{"textField_title": "Order 1", "numberField_x": 3}"#).unwrap();
/// assert_eq!(raw.decode::<Order>().unwrap().title, "Order 1");
/// assert_eq!(raw.to_value().unwrap()["numberField_x"], 3);
///
/// // A number no `f64` holds is an error, never a silent `null`.
/// let huge: RawJson = serde_json::from_str("1e400").unwrap();
/// assert!(huge.to_value().is_err());
/// ```
#[derive(Clone)]
pub struct RawJson(Box<RawValue>);

impl RawJson {
    /// The JSON text as received.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// Decodes the value into any type. The error converts into [`crate::Error`]
    /// ([`Error::DecodeValue`](crate::Error::DecodeValue)), so `?` works in a function
    /// returning `yida_api::Error`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, DecodeError> {
        serde_json::from_str(self.0.get()).map_err(DecodeError)
    }

    /// The value as a JSON tree. Text that no tree can hold (a number beyond `f64`, nesting
    /// deeper than 128 levels) is an error, never a silent `null`.
    pub fn to_value(&self) -> Result<serde_json::Value, DecodeError> {
        serde_json::from_str(self.0.get()).map_err(DecodeError)
    }

    /// Wraps a JSON value (e.g. to build a reply model in a test).
    pub fn from_value(value: &serde_json::Value) -> Self {
        RawJson(RawValue::from_string(value.to_string()).unwrap_or_else(|_| null()))
    }
}

/// Free JSON of a reply that does not decode as asked (see [`RawJson::decode`]). The cause is
/// its `source()`.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode a JSON value of the reply")]
pub struct DecodeError(#[source] serde_json::Error);

impl DecodeError {
    pub(crate) fn from_json(e: serde_json::Error) -> Self {
        DecodeError(e)
    }

    /// The parser's error (line, column, category).
    pub fn json_error(&self) -> &serde_json::Error {
        &self.0
    }
}

fn null() -> Box<RawValue> {
    RawValue::from_string("null".to_string()).unwrap_or_else(|_| unreachable_null())
}

#[cold]
fn unreachable_null() -> Box<RawValue> {
    // `null` is always valid JSON; this keeps the code free of panics all the same.
    serde_json::from_str("null").unwrap_or_else(|_| unreachable_null())
}

impl Default for RawJson {
    fn default() -> Self {
        RawJson(null())
    }
}

impl PartialEq for RawJson {
    /// Equal when the texts are equal.
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
    }
}

/// The JSON text as received (`{"textField_a":"x"}`), for printing and logging.
///
/// ```
/// let raw: yida_api::RawJson = serde_json::from_str(r#"{"textField_a": "x"}"#).unwrap();
/// assert_eq!(raw.to_string(), r#"{"textField_a": "x"}"#);
/// ```
impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.get())
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson({})", self.0.get())
    }
}

impl Serialize for RawJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for RawJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Box::<RawValue>::deserialize(d).map(RawJson)
    }
}
