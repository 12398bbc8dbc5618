//! Value types per component kind (re-exported from [`crate::form_values`]).
//!
//! Each type's `Serialize` writes what Yida accepts (the write format of
//! [`crate::components`]) and its `Deserialize` reads what Yida returns, JSON or JSON text, and
//! also the write shape, so a value read and written back is the same value. Replies carry
//! some values in two keys (`employeeField_x` holds display names, `employeeField_x_id` the
//! user ids): [`FormValue::merge_twin`] folds the companion in; the derived records and
//! [`decode_form`](crate::form_values::decode_form) call it for you.

use crate::form_values::DateMs;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor,
};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use std::marker::PhantomData;

/// A type that can be the value of a form field in a typed record (`#[derive(YidaForm)]`).
///
/// Implemented for the value types of this module, `String`, numbers, `bool`, `Vec<String>`,
/// [`DateMs`], `serde_json::Value` and `Option<T>`.
pub trait FormValue: Serialize + DeserializeOwned {
    /// Folds a reply's companion key (`suffix` is `"_id"` or `"_value"`) into the value read
    /// from the field id itself (`None` when the reply had only the companion). The default
    /// ignores the companion.
    fn merge_twin(value: Option<Self>, suffix: &str, twin: Value) -> Result<Option<Self>, String> {
        let _ = (suffix, twin);
        Ok(value)
    }

    /// [`merge_twin`](FormValue::merge_twin) for an `_id` companion as a typed record reads
    /// it ([`Companion`]: a list of ids stays a list of texts, no JSON tree is built). The
    /// default turns it into JSON and calls `merge_twin`.
    fn merge_companion(value: Option<Self>, twin: Companion) -> Result<Option<Self>, String> {
        Self::merge_twin(value, "_id", twin.into_value())
    }

    /// The value when a reply leaves the field out (Yida leaves out empty values): `None`
    /// (missing, an error for a required field) unless the type has an empty value.
    fn absent() -> Option<Self> {
        None
    }

    /// Not set: left out when writing (`None` of an `Option`).
    fn is_unset(&self) -> bool {
        false
    }
}

macro_rules! plain_form_value {
    ($($t:ty),*) => { $(impl FormValue for $t {})* };
}
plain_form_value!(String, f64, f32, i64, i32, u64, u32, bool, DateMs);

impl FormValue for Value {
    fn absent() -> Option<Self> {
        Some(Value::Null)
    }
}

impl FormValue for Vec<String> {
    fn absent() -> Option<Self> {
        Some(Vec::new())
    }
}

impl<T: FormValue> FormValue for Option<T> {
    fn merge_twin(value: Option<Self>, suffix: &str, twin: Value) -> Result<Option<Self>, String> {
        T::merge_twin(value.flatten(), suffix, twin).map(Some)
    }
    fn merge_companion(value: Option<Self>, twin: Companion) -> Result<Option<Self>, String> {
        T::merge_companion(value.flatten(), twin).map(Some)
    }
    fn absent() -> Option<Self> {
        Some(None)
    }
    fn is_unset(&self) -> bool {
        self.is_none()
    }
}

/// A reply's `_id` companion key as a typed record reads it, before it is folded into its
/// field by [`FormValue::merge_companion`]: a list of texts (ids; numbers read as text), a
/// text (often JSON text), or any other JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Companion {
    /// A list of texts or numbers: `["user1", "user2"]`.
    Texts(Vec<String>),
    /// A text: `"[{…}]"`.
    Text(String),
    /// Anything else.
    Json(Value),
}

impl Companion {
    /// As JSON.
    pub fn into_value(self) -> Value {
        match self {
            Companion::Texts(t) => Value::Array(t.into_iter().map(Value::String).collect()),
            Companion::Text(t) => Value::String(t),
            Companion::Json(v) => v,
        }
    }

    /// The ids it holds: a list, one id, or JSON text of a list.
    fn into_ids(self) -> Result<Vec<String>, String> {
        match self {
            Companion::Texts(t) => Ok(t),
            other => ids_of(other.into_value()),
        }
    }
}

impl<'de> Deserialize<'de> for Companion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// An element of a list: a text (or number) or other JSON.
        enum Item {
            Text(String),
            Json(Value),
        }
        impl<'de> Deserialize<'de> for Item {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Item;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("JSON")
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<Item, E> {
                        Ok(Item::Text(v.to_owned()))
                    }
                    fn visit_string<E: de::Error>(self, v: String) -> Result<Item, E> {
                        Ok(Item::Text(v))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Item, E> {
                        Ok(Item::Text(v.to_string()))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Item, E> {
                        Ok(Item::Text(v.to_string()))
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Item, E> {
                        Ok(Item::Json(Value::from(v)))
                    }
                    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Item, E> {
                        Ok(Item::Json(Value::Bool(v)))
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<Item, E> {
                        Ok(Item::Json(Value::Null))
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Item, A::Error> {
                        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Item::Json)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item, A::Error> {
                        Value::deserialize(MapAccessDeserializer::new(map)).map(Item::Json)
                    }
                }
                d.deserialize_any(V)
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Companion;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a companion value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Companion, E> {
                Ok(Companion::Text(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Companion, E> {
                Ok(Companion::Text(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Companion, E> {
                Ok(Companion::Json(Value::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Companion, E> {
                Ok(Companion::Json(Value::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Companion, E> {
                Ok(Companion::Json(Value::from(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Companion, E> {
                Ok(Companion::Json(Value::Bool(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Companion, E> {
                Ok(Companion::Json(Value::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<Companion, E> {
                Ok(Companion::Json(Value::Null))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Companion, D::Error> {
                Companion::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Companion, A::Error> {
                let mut texts: Vec<String> =
                    Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(item) = seq.next_element::<Item>()? {
                    match item {
                        Item::Text(t) => texts.push(t),
                        Item::Json(j) => {
                            // Not a list of ids: keep it all as JSON.
                            let mut all: Vec<Value> =
                                texts.into_iter().map(Value::String).collect();
                            all.push(j);
                            while let Some(v) = seq.next_element::<Value>()? {
                                all.push(v);
                            }
                            return Ok(Companion::Json(Value::Array(all)));
                        }
                    }
                }
                Ok(Companion::Texts(texts))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Companion, A::Error> {
                Value::deserialize(MapAccessDeserializer::new(map)).map(Companion::Json)
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// JSON or JSON text.

/// Reads `T` from JSON or from JSON text (once or twice encoded, as association twins are).
/// `null` and `""` read as `None`.
pub(crate) fn json_or_text<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    d.deserialize_any(JsonOrText(PhantomData))
}

struct JsonOrText<T>(PhantomData<T>);

fn parse_text<T: DeserializeOwned, E: de::Error>(s: &str) -> Result<Option<T>, E> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.starts_with('"') {
        // Text encoded twice: `"\"[{…}]\""` (association companions).
        let inner =
            serde_json::from_str::<String>(s).map_err(|e| E::custom(format!("JSON text: {e}")))?;
        let inner = inner.trim();
        if inner.is_empty() {
            return Ok(None);
        }
        return serde_json::from_str::<T>(inner)
            .map(Some)
            .map_err(|e| E::custom(format!("JSON text: {e}")));
    }
    match serde_json::from_str::<T>(s) {
        Ok(v) => Ok(Some(v)),
        Err(first) => match serde_json::from_str::<String>(s) {
            // Text encoded twice: `"\"[{…}]\""`.
            Ok(inner) if inner.trim_start().starts_with(['[', '{']) => {
                serde_json::from_str::<T>(&inner)
                    .map(Some)
                    .map_err(|e| E::custom(format!("JSON text: {e}")))
            }
            _ => Err(E::custom(format!("JSON text: {first}"))),
        },
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for JsonOrText<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON or a string holding JSON")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse_text(v)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        T::deserialize(SeqAccessDeserializer::new(seq)).map(Some)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Some)
    }
}

/// One text from a string or a number (ids arrive as both).
struct IdText;
impl<'de> Visitor<'de> for IdText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

/// A string read from a string or a number.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Id(String);
impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(IdText).map(Id)
    }
}

/// A key of an object value: the index of one of the known keys, or another key (kept in
/// `extra`). Matching keys directly is what makes these decoders cheap: no intermediate
/// buffering of the object (`#[serde(flatten)]` would buffer every entry first).
enum Key {
    Known(usize),
    Other(String),
}

/// Reads an object key against a list of known keys.
#[derive(Clone, Copy)]
struct Keys(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for Keys {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for Keys {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(match self.0.iter().position(|k| *k == v) {
            Some(i) => Key::Known(i),
            None => Key::Other(v.to_owned()),
        })
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        Ok(match self.0.iter().position(|k| *k == v) {
            Some(i) => Key::Known(i),
            None => Key::Other(v),
        })
    }
}

/// A text that may be `null` or a number (read as text); `null` reads as `None`.
struct Text(Option<String>);
impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::lenient::string(d).map(Text)
    }
}

/// An integer, numeric text or `null`.
struct Int(Option<i64>);
impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::lenient::i64(d).map(Int)
    }
}

/// A number, numeric text or `null`.
struct Float(Option<f64>);
impl<'de> Deserialize<'de> for Float {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        crate::lenient::f64(d).map(Float)
    }
}

/// Reads an object of known keys: `$on(index, map)` for each known key, the others kept in
/// `extra` when given (else skipped).
macro_rules! object_visitor {
    ($what:literal, $t:ty, $keys:expr, |$o:ident, $i:ident, $map:ident| $on:block) => {{
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = $t;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str($what)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut $map: A) -> Result<$t, A::Error> {
                let mut $o = <$t>::default();
                while let Some(k) = $map.next_key_seed(Keys($keys))? {
                    match k {
                        Key::Known($i) => $on,
                        Key::Other(k) => {
                            $o.extra.insert(k, $map.next_value()?);
                        }
                    }
                }
                Ok($o)
            }
        }
        V
    }};
}

fn ids_of(v: Value) -> Result<Vec<String>, String> {
    // A companion may itself be JSON text.
    let v = match v {
        Value::String(s) if s.trim_start().starts_with('[') => {
            serde_json::from_str(&s).map_err(|e| e.to_string())?
        }
        v => v,
    };
    match v {
        Value::Null => Ok(vec![]),
        Value::String(s) => Ok(vec![s]),
        Value::Number(n) => Ok(vec![n.to_string()]),
        Value::Array(a) => a
            .into_iter()
            .map(|x| match x {
                Value::String(s) => Ok(s),
                Value::Number(n) => Ok(n.to_string()),
                other => Err(format!("an id must be a text, not {other}")),
            })
            .collect(),
        other => Err(format!("expected a list of ids, not {other}")),
    }
}

// ---------------------------------------------------------------------------------------------
// I18n text.

/// A text in several languages, as Yida returns names (`{"zh_CN": "中国", "en_US": "China",
/// "type": "i18n"}`); a plain string reads as `zh_CN`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct I18nText {
    /// Chinese.
    #[serde(rename = "zh_CN", skip_serializing_if = "Option::is_none")]
    pub zh_cn: Option<String>,
    /// English.
    #[serde(rename = "en_US", skip_serializing_if = "Option::is_none")]
    pub en_us: Option<String>,
    /// Other keys as received (`type`, `pureEn_US`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl I18nText {
    /// Chinese if present, else English, else empty.
    pub fn text(&self) -> &str {
        self.zh_cn
            .as_deref()
            .or(self.en_us.as_deref())
            .unwrap_or("")
    }
}

impl<'de> Deserialize<'de> for I18nText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = I18nText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a text or an object of texts by language")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<I18nText, E> {
                Ok(I18nText {
                    zh_cn: Some(v.to_string()),
                    ..Default::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<I18nText, A::Error> {
                let mut t = I18nText::default();
                while let Some(k) = map.next_key_seed(Keys(&["zh_CN", "en_US"]))? {
                    match k {
                        Key::Known(0) => t.zh_cn = map.next_value::<Text>()?.0,
                        Key::Known(_) => t.en_us = map.next_value::<Text>()?.0,
                        Key::Other(k) => {
                            t.extra.insert(k, map.next_value()?);
                        }
                    }
                }
                Ok(t)
            }
        }
        d.deserialize_any(V)
    }
}

// ---------------------------------------------------------------------------------------------
// Members and departments: ids written, names read (ids in the `_id` twin).

/// One member of a member component: the DingTalk user id, and the display name when a reply
/// gave it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Member {
    /// DingTalk user id.
    pub id: String,
    /// Display name, from a reply.
    pub name: Option<String>,
}

/// One department: its id and, from a reply, its name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Department {
    /// Department id.
    pub id: String,
    /// Name, from a reply.
    pub name: Option<String>,
}

macro_rules! id_name_list {
    ($list:ident, $item:ident, $what:literal, $id_keys:expr, $name_keys:expr) => {
        impl $list {
            /// The ids, in order.
            pub fn ids(&self) -> impl Iterator<Item = &str> {
                self.0.iter().map(|m| m.id.as_str())
            }
            /// The names a reply gave (empty for values built from ids).
            pub fn names(&self) -> impl Iterator<Item = &str> {
                self.0.iter().filter_map(|m| m.name.as_deref())
            }
            /// From a reply's two keys: names under the field id, ids under `…_id`.
            pub fn from_reply(names: Vec<String>, ids: Vec<String>) -> Self {
                let mut names = names.into_iter();
                $list(
                    ids.into_iter()
                        .map(|id| $item {
                            id,
                            name: names.next(),
                        })
                        .collect(),
                )
            }
            /// No value.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
            /// The list read under the field id (each name read as an id) joined with the ids
            /// of the `_id` companion, in place: the ids decide the length.
            fn join(value: Option<Self>, ids: Vec<String>) -> Self {
                let mut list = value.map(|v| v.0).unwrap_or_default();
                list.truncate(ids.len());
                for (i, id) in ids.into_iter().enumerate() {
                    match list.get_mut(i) {
                        Some(m) => {
                            let shown = std::mem::replace(&mut m.id, id);
                            if m.name.is_none() {
                                m.name = Some(shown);
                            }
                        }
                        None => list.push($item { id, name: None }),
                    }
                }
                $list(list)
            }
        }

        impl<S: Into<String>, const N: usize> From<[S; N]> for $list {
            fn from(ids: [S; N]) -> Self {
                ids.into_iter().collect()
            }
        }

        impl<S: Into<String>> FromIterator<S> for $list {
            fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
                $list(
                    iter.into_iter()
                        .map(|id| $item {
                            id: id.into(),
                            name: None,
                        })
                        .collect(),
                )
            }
        }

        /// Writes the ids: `["id1", "id2"]`.
        impl Serialize for $list {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for m in &self.0 {
                    seq.serialize_element(&m.id)?;
                }
                seq.end()
            }
        }

        impl<'de> Deserialize<'de> for $item {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $item;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str(concat!("a ", $what, " id or an object with one"))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$item, E> {
                        Ok($item {
                            id: v.to_string(),
                            name: None,
                        })
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$item, E> {
                        Ok($item {
                            id: v.to_string(),
                            name: None,
                        })
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$item, E> {
                        Ok($item {
                            id: v.to_string(),
                            name: None,
                        })
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$item, A::Error> {
                        let (mut id, mut name) = (None::<String>, None::<String>);
                        while let Some(k) = map.next_key::<String>()? {
                            if $id_keys.contains(&k.as_str()) {
                                let v: Option<Id> = map.next_value()?;
                                if id.is_none() {
                                    id = v.map(|v| v.0);
                                }
                            } else if $name_keys.contains(&k.as_str()) {
                                let v: Option<I18nText> = map.next_value()?;
                                if name.is_none() {
                                    name = v.map(|t| t.text().to_string());
                                }
                            } else {
                                map.next_value::<de::IgnoredAny>()?;
                            }
                        }
                        let id = id.ok_or_else(|| {
                            de::Error::custom(concat!("a ", $what, " object without an id"))
                        })?;
                        Ok($item { id, name })
                    }
                }
                d.deserialize_any(V)
            }
        }

        /// Reads a list of ids, a single id, JSON text of either, or objects
        /// (`{"id", "name"}`, `{"value", "label"}`); see [`FormValue::merge_twin`] for replies.
        impl<'de> Deserialize<'de> for $list {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = $list;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str(concat!("a list of ", $what, "s"))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$list, E> {
                        let t = v.trim();
                        if t.starts_with('[') {
                            return serde_json::from_str::<Vec<$item>>(t)
                                .map($list)
                                .map_err(|e| E::custom(e.to_string()));
                        }
                        if t.is_empty() {
                            return Ok($list(vec![]));
                        }
                        Ok($list(vec![$item {
                            id: v.to_string(),
                            name: None,
                        }]))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$list, E> {
                        Ok($list(vec![$item {
                            id: v.to_string(),
                            name: None,
                        }]))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$list, E> {
                        Ok($list(vec![$item {
                            id: v.to_string(),
                            name: None,
                        }]))
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<$list, E> {
                        Ok($list(vec![]))
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<$list, A::Error> {
                        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                        while let Some(m) = seq.next_element::<$item>()? {
                            out.push(m);
                        }
                        Ok($list(out))
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<$list, A::Error> {
                        $item::deserialize(MapAccessDeserializer::new(map)).map(|m| $list(vec![m]))
                    }
                }
                d.deserialize_any(V)
            }
        }

        impl FormValue for $list {
            /// With an `_id` companion, the list under the field id holds names and the
            /// companion the ids.
            fn merge_twin(
                value: Option<Self>,
                suffix: &str,
                twin: Value,
            ) -> Result<Option<Self>, String> {
                if suffix != "_id" {
                    return Ok(value);
                }
                let ids = ids_of(twin)?;
                Ok(Some($list::join(value, ids)))
            }
            fn merge_companion(
                value: Option<Self>,
                twin: Companion,
            ) -> Result<Option<Self>, String> {
                Ok(Some($list::join(value, twin.into_ids()?)))
            }
            fn absent() -> Option<Self> {
                Some($list::default())
            }
        }
    };
}

/// A member component's value (`EmployeeField`): DingTalk users.
///
/// Written as user ids (`["user1"]`). Replies carry the display names under the field id and
/// the ids under `employeeField_x_id`; a typed record (or
/// [`decode_form`](crate::form_values::decode_form)) joins the two, so a record read and
/// written back writes ids, never names. A bare list read on its own is taken as ids.
///
/// ```
/// use yida_api::form_values::{FormValue, Members};
/// let names: Members = serde_json::from_str(r#"["经理"]"#).unwrap();
/// let joined = Members::merge_twin(Some(names), "_id", serde_json::json!(["manager123"]))
///     .unwrap()
///     .unwrap();
/// assert_eq!(joined.ids().collect::<Vec<_>>(), ["manager123"]);
/// assert_eq!(joined.names().collect::<Vec<_>>(), ["经理"]);
/// assert_eq!(serde_json::to_string(&joined).unwrap(), r#"["manager123"]"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members(pub Vec<Member>);
id_name_list!(
    Members,
    Member,
    "member",
    ["id", "value", "key", "userId", "emplId"],
    ["name", "label", "text"]
);

/// A department component's value (`DepartmentSelectField`): written as ids
/// (`["1123456"]`, also inside sub-form rows), read as names with the ids in the `_id` twin
/// when the reply has one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Departments(pub Vec<Department>);
id_name_list!(
    Departments,
    Department,
    "department",
    ["id", "value", "deptId", "departmentId"],
    ["name", "text", "label"]
);

// ---------------------------------------------------------------------------------------------
// Date range.

/// A date range component's value (`CascadeDateField`): written as
/// `["<start ms>", "<end ms>"]`; reads numbers, numeric text, or `{"start", "end"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateRange {
    /// Start.
    pub start: DateMs,
    /// End.
    pub end: DateMs,
}

impl Serialize for DateRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(2))?;
        seq.serialize_element(&self.start.0.to_string())?;
        seq.serialize_element(&self.end.0.to_string())?;
        seq.end()
    }
}

impl<'de> Deserialize<'de> for DateRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const BAD: &str = "a date range is two epoch milliseconds [start, end]";
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DateRange;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("two epoch milliseconds [start, end]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DateRange, A::Error> {
                let bad = || de::Error::custom(BAD);
                let start: DateMs = seq.next_element()?.ok_or_else(bad)?;
                let end: DateMs = seq.next_element()?.ok_or_else(bad)?;
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(bad());
                }
                Ok(DateRange { start, end })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DateRange, A::Error> {
                let (mut start, mut end) = (None, None);
                while let Some(k) = map.next_key_seed(Keys(&["start", "end"]))? {
                    match k {
                        Key::Known(0) => start = Some(map.next_value::<DateMs>()?),
                        Key::Known(_) => end = Some(map.next_value::<DateMs>()?),
                        Key::Other(_) => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                match (start, end) {
                    (Some(start), Some(end)) => Ok(DateRange { start, end }),
                    _ => Err(de::Error::custom(BAD)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl FormValue for DateRange {}

// ---------------------------------------------------------------------------------------------
// City.

/// A city component's value (`CitySelectField`): region codes province to district when
/// written (`["110000", "110100", "110101"]`), names when read (`["北京", "北京市",
/// "东城区"]`). A list of digits reads as codes, anything else as names. A value holding
/// names only cannot be written (the typed update never sends a field that did not change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct City {
    /// Region codes, when known.
    pub codes: Vec<String>,
    /// Names, from a reply.
    pub names: Vec<String>,
}

impl City {
    /// From region codes.
    pub fn from_codes<S: Into<String>>(codes: impl IntoIterator<Item = S>) -> Self {
        City {
            codes: codes.into_iter().map(Into::into).collect(),
            names: vec![],
        }
    }
}

impl Serialize for City {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.codes.is_empty() && !self.names.is_empty() {
            return Err(serde::ser::Error::custom(
                "a city read from a reply holds names only; Yida takes region codes (City::from_codes)",
            ));
        }
        self.codes.serialize(s)
    }
}

impl<'de> Deserialize<'de> for City {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list: Vec<Id> = json_or_text(d)?.unwrap_or_default();
        let list: Vec<String> = list.into_iter().map(|i| i.0).collect();
        if list
            .iter()
            .all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        {
            Ok(City {
                codes: list,
                names: vec![],
            })
        } else {
            Ok(City {
                codes: vec![],
                names: list,
            })
        }
    }
}

impl FormValue for City {
    fn merge_twin(value: Option<Self>, suffix: &str, twin: Value) -> Result<Option<Self>, String> {
        if suffix != "_id" {
            return Ok(value);
        }
        let mut v = value.unwrap_or_default();
        v.codes = ids_of(twin)?;
        Ok(Some(v))
    }
    fn merge_companion(value: Option<Self>, twin: Companion) -> Result<Option<Self>, String> {
        let mut v = value.unwrap_or_default();
        v.codes = twin.into_ids()?;
        Ok(Some(v))
    }
    fn absent() -> Option<Self> {
        Some(City::default())
    }
}

// ---------------------------------------------------------------------------------------------
// Object values (JSON text in replies).

macro_rules! json_text_list {
    ($(#[$doc:meta])* $list:ident, $item:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $list(pub Vec<$item>);

        impl Serialize for $list {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(s)
            }
        }

        impl<'de> Deserialize<'de> for $list {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                json_or_text::<D, OneOrMany<$item>>(d).map(|v| $list(v.map(|v| v.0).unwrap_or_default()))
            }
        }

        impl FormValue for $list {
            fn absent() -> Option<Self> {
                Some($list::default())
            }
        }

        impl $list {
            /// No value.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }
    };
}

/// A list, or one item on its own.
struct OneOrMany<T>(Vec<T>);
impl<'de, T: DeserializeOwned> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of objects")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::<T>::deserialize(SeqAccessDeserializer::new(seq)).map(OneOrMany)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(|t| OneOrMany(vec![t]))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A file of an attachment or image component.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Attachment {
    /// Download address (exchange it for a temporary URL with GetOpenUrl).
    #[serde(rename = "downloadUrl", default)]
    pub download_url: String,
    /// File name.
    #[serde(default)]
    pub name: String,
    /// Preview address.
    #[serde(
        rename = "previewUrl",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub preview_url: String,
    /// Address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// Extension (`txt`), attachments only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext: Option<String>,
    /// Size in bytes, images.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// Other keys as received (`fileUuid`, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Reads a file object: its keys matched directly, the others kept in `extra`.
impl<'de> Deserialize<'de> for Attachment {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const KEYS: &[&str] = &["downloadUrl", "name", "previewUrl", "url", "ext", "size"];
        d.deserialize_map(object_visitor!(
            "a file object",
            Attachment,
            KEYS,
            |a, i, map| {
                match i {
                    0 => a.download_url = map.next_value::<Text>()?.0.unwrap_or_default(),
                    1 => a.name = map.next_value::<Text>()?.0.unwrap_or_default(),
                    2 => a.preview_url = map.next_value::<Text>()?.0.unwrap_or_default(),
                    3 => a.url = map.next_value::<Text>()?.0.unwrap_or_default(),
                    4 => a.ext = map.next_value::<Text>()?.0,
                    _ => a.size = map.next_value::<Int>()?.0,
                }
            }
        ))
    }
}

/// An image of an image component (the same keys as an attachment, with `size`).
pub type Image = Attachment;

json_text_list!(
    /// An attachment component's value (`AttachmentField`): written as a list of files,
    /// read from JSON text (or JSON).
    Attachments,
    Attachment
);
json_text_list!(
    /// An image component's value (`ImageField`): written as a list of images, read from JSON
    /// text (or JSON).
    Images,
    Image
);

/// A link of a link component.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Address.
    #[serde(default)]
    pub link: String,
    /// Text shown.
    #[serde(default)]
    pub text: String,
}

json_text_list!(
    /// A link component's value (`LinkField`): written as `[{"link", "text"}]` (the list even
    /// for one link), read from JSON text.
    Links,
    Link
);

/// A country or region of a country component.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Country {
    /// Code (`CN`, `HK`).
    #[serde(default, deserialize_with = "de_id")]
    pub value: String,
    /// Name, from a reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<I18nText>,
}

fn de_id<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    d.deserialize_any(IdText)
}

json_text_list!(
    /// A country component's value (`CountrySelectField`): written as `[{"value": "CN"}]`,
    /// read from JSON text.
    Countries,
    Country
);

/// A reference to a record of another form.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AssociationRef {
    /// The other form's app.
    #[serde(rename = "appType", default)]
    pub app_type: String,
    /// The other form.
    #[serde(rename = "formUuid", default)]
    pub form_uuid: String,
    /// The record (`FINST-…`; the key is `instanceId`, not `formInstId`).
    #[serde(rename = "instanceId", default)]
    pub instance_id: String,
    /// `receipt` (a form) or `process`.
    #[serde(rename = "formType", default, skip_serializing_if = "Option::is_none")]
    pub form_type: Option<String>,
    /// Main field shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Second field shown.
    #[serde(rename = "subTitle", default, skip_serializing_if = "Option::is_none")]
    pub sub_title: Option<String>,
    /// Other keys as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Reads a reference object: its keys matched directly, the others kept in `extra`.
impl<'de> Deserialize<'de> for AssociationRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const KEYS: &[&str] = &[
            "appType",
            "formUuid",
            "instanceId",
            "formType",
            "title",
            "subTitle",
        ];
        d.deserialize_map(object_visitor!(
            "a reference object",
            AssociationRef,
            KEYS,
            |r, i, map| {
                let t = map.next_value::<Text>()?.0;
                match i {
                    0 => r.app_type = t.unwrap_or_default(),
                    1 => r.form_uuid = t.unwrap_or_default(),
                    2 => r.instance_id = t.unwrap_or_default(),
                    3 => r.form_type = t,
                    4 => r.title = t,
                    _ => r.sub_title = t,
                }
            }
        ))
    }
}

/// An association component's value (`AssociationFormField`): written as
/// `[{"appType", "formUuid", "instanceId", …}]`. Replies carry the title under the field id
/// and the references as JSON text (sometimes encoded twice) under `…_id`; a title alone
/// reads as an empty list until the companion is merged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssociationRefs(pub Vec<AssociationRef>);

impl Serialize for AssociationRefs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for AssociationRefs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AssociationRefs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of references, JSON text of one, or a title")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AssociationRefs, E> {
                let t = v.trim();
                if t.starts_with(['[', '{', '"']) {
                    if let Ok(Some(list)) = parse_text::<OneOrMany<AssociationRef>, E>(t) {
                        return Ok(AssociationRefs(list.0));
                    }
                }
                // The title shown: the references come with the `_id` companion.
                Ok(AssociationRefs(vec![]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<AssociationRefs, E> {
                Ok(AssociationRefs(vec![]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<AssociationRefs, A::Error> {
                Vec::<AssociationRef>::deserialize(SeqAccessDeserializer::new(seq))
                    .map(AssociationRefs)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<AssociationRefs, A::Error> {
                AssociationRef::deserialize(MapAccessDeserializer::new(map))
                    .map(|r| AssociationRefs(vec![r]))
            }
        }
        d.deserialize_any(V)
    }
}

impl FormValue for AssociationRefs {
    fn merge_twin(value: Option<Self>, suffix: &str, twin: Value) -> Result<Option<Self>, String> {
        if suffix != "_id" {
            return Ok(value);
        }
        let refs = AssociationRefs::deserialize(twin).map_err(|e| e.to_string())?;
        if refs.0.is_empty() {
            return Ok(value.or(Some(refs)));
        }
        Ok(Some(refs))
    }
    fn absent() -> Option<Self> {
        Some(AssociationRefs::default())
    }
}

impl AssociationRefs {
    /// One reference.
    pub fn to(
        app_type: impl Into<String>,
        form_uuid: impl Into<String>,
        instance_id: impl Into<String>,
    ) -> Self {
        AssociationRefs(vec![AssociationRef {
            app_type: app_type.into(),
            form_uuid: form_uuid.into(),
            instance_id: instance_id.into(),
            form_type: Some("receipt".into()),
            ..Default::default()
        }])
    }
}

macro_rules! json_text_object {
    ($t:ident) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                json_or_text::<D, PlainOf<$t>>(d).map(|v| v.map(|p| p.0).unwrap_or_default())
            }
        }
        impl FormValue for $t {}
    };
}

/// The plain (JSON, not JSON text) decoder of an object type.
trait PlainDecode: Sized {
    fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

struct PlainOf<T>(T);
impl<'de, T: PlainDecode> Deserialize<'de> for PlainOf<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::plain(d).map(PlainOf)
    }
}

/// An address component's value (`AddressField`): an object written as is and read from
/// JSON text (or JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Address {
    /// Street address.
    #[serde(default)]
    pub address: String,
    /// Region codes, province first (text in some sources, numbers in others: both read,
    /// written as text).
    #[serde(rename = "regionIds", default)]
    pub region_ids: Vec<String>,
    /// Region names, one per code.
    #[serde(rename = "regionText", default)]
    pub region_text: Vec<I18nText>,
    /// Other keys as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PlainDecode for Address {
    fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const KEYS: &[&str] = &["address", "regionIds", "regionText"];
        d.deserialize_map(object_visitor!(
            "an address object",
            Address,
            KEYS,
            |a, i, map| {
                match i {
                    0 => a.address = map.next_value::<Text>()?.0.unwrap_or_default(),
                    1 => {
                        a.region_ids = map
                            .next_value::<Option<Vec<Id>>>()?
                            .unwrap_or_default()
                            .into_iter()
                            .map(|i| i.0)
                            .collect()
                    }
                    _ => {
                        a.region_text = map
                            .next_value::<Option<Vec<I18nText>>>()?
                            .unwrap_or_default()
                    }
                }
            }
        ))
    }
}
json_text_object!(Address);

/// A location component's value (`LocationField`): an object, read from JSON text or JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Location {
    /// Address.
    #[serde(default)]
    pub address: String,
    /// Latitude.
    pub latitude: f64,
    /// Longitude.
    pub longitude: f64,
    /// Place name.
    #[serde(default)]
    pub name: String,
    /// Other keys as received.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PlainDecode for Location {
    fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const KEYS: &[&str] = &["address", "latitude", "longitude", "name"];
        d.deserialize_map(object_visitor!(
            "a location object",
            Location,
            KEYS,
            |l, i, map| {
                match i {
                    0 => l.address = map.next_value::<Text>()?.0.unwrap_or_default(),
                    1 => l.latitude = map.next_value::<Float>()?.0.unwrap_or_default(),
                    2 => l.longitude = map.next_value::<Float>()?.0.unwrap_or_default(),
                    _ => l.name = map.next_value::<Text>()?.0.unwrap_or_default(),
                }
            }
        ))
    }
}
json_text_object!(Location);

// ---------------------------------------------------------------------------------------------
// Sub-form rows.

/// A sub-form component's value (`TableField`): rows of `Row` (a `#[derive(YidaForm)]` row
/// struct, or any serde type keyed by the children's field ids). Written as a list of row
/// objects; read from a list or JSON text. Replies cut rows at 50: a typed record fetches
/// the rest through ListTableDataByFormInstanceIdTableId.
#[derive(Debug, Clone, PartialEq)]
pub struct Table<Row>(pub Vec<Row>);

impl<Row> Default for Table<Row> {
    fn default() -> Self {
        Table(Vec::new())
    }
}

impl<Row> Table<Row> {
    /// The rows.
    pub fn rows(&self) -> &[Row] {
        &self.0
    }
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<Row> From<Vec<Row>> for Table<Row> {
    fn from(rows: Vec<Row>) -> Self {
        Table(rows)
    }
}

impl<Row: Serialize> Serialize for Table<Row> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, Row: DeserializeOwned> Deserialize<'de> for Table<Row> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        json_or_text::<D, Vec<Row>>(d).map(|v| Table(v.unwrap_or_default()))
    }
}

impl<Row: Serialize + DeserializeOwned> FormValue for Table<Row> {
    fn absent() -> Option<Self> {
        Some(Table::default())
    }
}

// ---------------------------------------------------------------------------------------------
// The serde path: folding companions into a reply's map.

/// Folds a reply's companion keys into their fields, in place: `employeeField_x` (names) and
/// `employeeField_x_id` (ids) become `employeeField_x: [{"id", "name"}]` (likewise for
/// departments and cities), `associationFormField_x_id`'s JSON text replaces the title under
/// `associationFormField_x`, and `numberField_x_value` is dropped. Sub-form rows are folded
/// too. Values of the other kinds are left as they are (the value types read JSON text).
pub fn fold_twins(form_data: &mut Map<String, Value>) {
    use crate::components::ComponentKind as K;
    let twins: Vec<String> = form_data
        .keys()
        .filter(|k| K::twin_of(k).is_some())
        .cloned()
        .collect();
    for key in twins {
        let Some((field, kind)) = K::twin_of(&key) else {
            continue;
        };
        let field = field.to_string();
        let Some(twin) = form_data.remove(&key) else {
            continue;
        };
        match kind {
            K::EmployeeField | K::DepartmentSelectField => {
                let ids = ids_of(twin).unwrap_or_default();
                let names: Vec<Value> = match form_data.remove(&field) {
                    Some(Value::Array(a)) => a,
                    Some(Value::String(s)) => vec![Value::String(s)],
                    _ => vec![],
                };
                let mut names = names.into_iter();
                let joined: Vec<Value> = ids
                    .into_iter()
                    .map(|id| {
                        let mut o = Map::new();
                        o.insert("id".into(), Value::String(id));
                        if let Some(n) = names.next() {
                            o.insert("name".into(), n);
                        }
                        Value::Object(o)
                    })
                    .collect();
                form_data.insert(field, Value::Array(joined));
            }
            K::AssociationFormField => {
                form_data.insert(field, twin);
            }
            _ => {}
        }
    }
    for (k, v) in form_data.iter_mut() {
        if K::from_field_id(k) == Some(K::TableField) {
            if let Value::Array(rows) = v {
                for row in rows {
                    if let Value::Object(r) = row {
                        fold_twins(r);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn back<T: Serialize>(v: &T) -> Value {
        serde_json::to_value(v).unwrap()
    }

    #[test]
    fn members_read_in_every_shape_and_write_ids() {
        for text in [
            r#"["u1"]"#,
            r#""u1""#,
            r#"[{"id":"u1","name":"A"}]"#,
            r#"[{"key":"u1","label":"A","value":"u1","avatar":""}]"#,
            r#""[\"u1\"]""#,
        ] {
            let m: Members = serde_json::from_str(text).unwrap();
            assert_eq!(back(&m), json!(["u1"]), "{text}");
        }
        let empty: Members = serde_json::from_str("null").unwrap();
        assert!(empty.is_empty());
        assert!(serde_json::from_str::<Members>(r#"[{"name":"A"}]"#).is_err());
    }

    #[test]
    fn departments_take_a_bare_number() {
        let d: Departments = serde_json::from_str("1123456").unwrap();
        assert_eq!(back(&d), json!(["1123456"]));
        let d: Departments =
            serde_json::from_str(r#"[{"value":"407524713","text":{"zh_CN":"商务部门"}}]"#).unwrap();
        assert_eq!(d.0[0].name.as_deref(), Some("商务部门"));
    }

    #[test]
    fn json_text_values_read_and_write_json() {
        let a: Attachments =
            serde_json::from_str(r#""[{\"downloadUrl\":\"d\",\"name\":\"n\",\"url\":\"u\",\"ext\":\"txt\",\"fileUuid\":\"x\"}]""#)
                .unwrap();
        assert_eq!(a.0[0].extra["fileUuid"], "x");
        assert_eq!(
            back(&a),
            json!([{"downloadUrl":"d","name":"n","url":"u","ext":"txt","fileUuid":"x"}])
        );
        let r: AssociationRefs = serde_json::from_str(
            r#""\"[{\\\"appType\\\":\\\"A\\\",\\\"formUuid\\\":\\\"F\\\",\\\"instanceId\\\":\\\"I\\\"}]\"""#,
        )
        .unwrap();
        assert_eq!(r.0[0].instance_id, "I");
        let title: AssociationRefs = serde_json::from_str(r#""Acme""#).unwrap();
        assert!(title.0.is_empty());
        let addr: Address = serde_json::from_str(
            r#""{\"address\":\"x\",\"regionIds\":[500000,\"500100\"],\"regionText\":[{\"zh_CN\":\"重庆\"}]}""#,
        )
        .unwrap();
        assert_eq!(addr.region_ids, ["500000", "500100"]);
        let loc: Location = serde_json::from_str(r#"{"latitude":"31.5","longitude":121}"#).unwrap();
        assert_eq!(loc.latitude, 31.5);
        assert!(serde_json::from_str::<Address>(r#""not json""#).is_err());
    }

    #[test]
    fn date_range_and_city() {
        let r: DateRange = serde_json::from_str(r#"["1514736000000", 1517328000000]"#).unwrap();
        assert_eq!(back(&r), json!(["1514736000000", "1517328000000"]));
        let r: DateRange = serde_json::from_str(r#"{"start": 1, "end": "2"}"#).unwrap();
        assert_eq!(r.end, DateMs(2));
        assert!(serde_json::from_str::<DateRange>(r#"[1]"#).is_err());
        let c: City = serde_json::from_str(r#"["110000","110100"]"#).unwrap();
        assert_eq!(back(&c), json!(["110000", "110100"]));
        let named: City = serde_json::from_str(r#"["北京","北京市"]"#).unwrap();
        assert!(serde_json::to_value(&named).is_err());
    }

    #[test]
    fn fold_joins_names_and_ids() {
        let mut m = json!({
            "employeeField_o": ["经理"], "employeeField_o_id": ["u1"],
            "numberField_n": 2, "numberField_n_value": "2",
            "associationFormField_a": "Acme",
            "associationFormField_a_id": "\"[{\\\"appType\\\":\\\"A\\\",\\\"formUuid\\\":\\\"F\\\",\\\"instanceId\\\":\\\"I\\\"}]\"",
            "tableField_t": [{"employeeField_r": ["B"], "employeeField_r_id": ["u2"]}]
        });
        fold_twins(m.as_object_mut().unwrap());
        assert_eq!(m["employeeField_o"], json!([{"id": "u1", "name": "经理"}]));
        assert!(m.get("numberField_n_value").is_none());
        assert_eq!(
            m["tableField_t"][0]["employeeField_r"],
            json!([{"id": "u2", "name": "B"}])
        );
        let refs: AssociationRefs =
            serde_json::from_value(m["associationFormField_a"].clone()).unwrap();
        assert_eq!(refs.0[0].instance_id, "I");
    }
}
