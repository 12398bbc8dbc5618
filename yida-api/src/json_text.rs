//! Parameters that travel as a string holding JSON text.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A parameter that DingTalk takes as a string holding JSON (`formDataJson`,
/// `searchFieldJson`, …). Built from any `Serialize` value, so nobody escapes JSON by hand.
///
/// To pass text you already have, wrap it in [`serde_json::value::RawValue`]:
///
/// ```
/// use yida_api::JsonText;
/// let from_value = JsonText::from_value(&serde_json::json!({"textField_1": "hello"}));
/// assert_eq!(from_value.as_str(), Some(r#"{"textField_1":"hello"}"#));
/// let raw = serde_json::value::RawValue::from_string(r#"{"a": 1}"#.to_string()).unwrap();
/// assert_eq!(JsonText::from_value(&raw).as_str(), Some(r#"{"a": 1}"#));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct JsonText(Repr);

#[derive(Clone, PartialEq, Eq)]
enum Repr {
    /// Encoded by us from a value: valid JSON by construction.
    Encoded(String),
    /// Given as text: checked before sending.
    Text(String),
    /// The value could not be encoded: the encoder's message.
    Failed(String),
}

impl JsonText {
    /// Encodes `value` as JSON text. An encoding failure is kept and reported, naming the
    /// parameter, when the request is sent.
    pub fn from_value<T: Serialize + ?Sized>(value: &T) -> Self {
        JsonText(match serde_json::to_string(value) {
            Ok(text) => Repr::Encoded(text),
            Err(e) => Repr::Failed(e.to_string()),
        })
    }

    /// Text that must already be JSON; it is checked when the request is sent.
    pub fn from_text(text: impl Into<String>) -> Self {
        JsonText(Repr::Text(text.into()))
    }

    /// The JSON text, if the value could be encoded.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Encoded(t) | Repr::Text(t) => Some(t),
            Repr::Failed(_) => None,
        }
    }

    /// Checks the value before sending: text given as text must be well-formed JSON (a value we
    /// encoded is valid by construction and is not parsed again). Used by the generated
    /// code (absent when no area feature is enabled).
    #[allow(dead_code)]
    pub(crate) fn check(&self, name: &'static str) -> Result<(), crate::ParamError> {
        match &self.0 {
            Repr::Encoded(_) => Ok(()),
            Repr::Failed(e) => Err(crate::ParamError {
                name,
                problem: format!("could not be encoded as JSON: {e}"),
            }),
            Repr::Text(t) => match serde_json::from_str::<serde::de::IgnoredAny>(t) {
                Ok(_) => Ok(()),
                Err(e) => Err(crate::ParamError {
                    name,
                    problem: format!("is not valid JSON text: {e}"),
                }),
            },
        }
    }

    /// Parses JSON text from a reply (e.g. `instanceValue`) into any type.
    ///
    /// ```
    /// let v: serde_json::Value = yida_api::JsonText::parse(r#"{"a":1}"#).unwrap();
    /// assert_eq!(v["a"], 1);
    /// ```
    pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(text)
    }
}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Encoded(t) | Repr::Text(t) => write!(f, "JsonText({t})"),
            Repr::Failed(e) => write!(f, "JsonText(<invalid: {e}>)"),
        }
    }
}

impl Serialize for JsonText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Encoded(t) | Repr::Text(t) => s.serialize_str(t),
            Repr::Failed(e) => Err(serde::ser::Error::custom(e)),
        }
    }
}

/// Accepts either the text (a JSON string, as on the wire) or the JSON value itself.
impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        Ok(match v {
            serde_json::Value::String(s) => JsonText::from_text(s),
            other => JsonText::from_value(&other),
        })
    }
}

/// Feeds the JSON text of `value` to `sink` piece by piece, without building the text (to
/// hash it). Values decoded from JSON always encode; a failure only cuts the text short.
pub(crate) fn feed_json<T: Serialize + ?Sized>(value: &T, sink: impl FnMut(&[u8])) {
    struct Feed<F>(F);
    impl<F: FnMut(&[u8])> std::io::Write for Feed<F> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            (self.0)(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let _ = serde_json::to_writer(Feed(sink), value);
}
