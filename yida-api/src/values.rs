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
pub use smol_str::SmolStr;
use std::fmt;
use std::marker::PhantomData;
use std::sync::OnceLock;

/// A type that can be the value of a form field in a typed record (`#[derive(YidaForm)]`).
///
/// Implemented for the value types of this module, `String`, [`SmolStr`] (short texts kept
/// inline), numbers, `bool`, `Vec<String>`, `Vec<SmolStr>`, [`DateMs`], `serde_json::Value`
/// and `Option<T>`.
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

    /// Reads a reply's `_id` companion while the record is read: into `value` in place where
    /// the type allows it (the ids of [`Members`] and [`Departments`] go straight into the
    /// list read under the field id), else into `companion`, folded in by
    /// [`merge_companion`](FormValue::merge_companion) once the record is read.
    fn read_companion<'de, D: Deserializer<'de>>(
        value: &mut Option<Self>,
        companion: &mut Option<Companion>,
        d: D,
    ) -> Result<(), D::Error> {
        let _ = value;
        *companion = Some(Companion::deserialize(d)?);
        Ok(())
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
plain_form_value!(String, SmolStr, f64, f32, i64, i32, u64, u32, bool, DateMs);

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

impl FormValue for Vec<SmolStr> {
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
    fn read_companion<'de, D: Deserializer<'de>>(
        value: &mut Option<Self>,
        companion: &mut Option<Companion>,
        d: D,
    ) -> Result<(), D::Error> {
        match value {
            Some(inner) => T::read_companion(inner, companion, d),
            None => {
                *companion = Some(Companion::deserialize(d)?);
                Ok(())
            }
        }
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

/// Reads a reply's `_id` companion key with [`FormValue::read_companion`] (what
/// `#[derive(YidaForm)]` records do for each field): `value` is the field's value read so far.
pub struct CompanionSeed<'a, T> {
    /// The field's value read so far.
    pub value: &'a mut Option<T>,
    /// Where a companion that could not go into the value waits to be merged.
    pub companion: &'a mut Option<Companion>,
}

impl<'de, T: FormValue> DeserializeSeed<'de> for CompanionSeed<'_, T> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        T::read_companion(self.value, self.companion, d)
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

/// A text as a `SmolStr`: up to 23 bytes copied inline by `new_inline` (measured faster here
/// than `SmolStr::new`, whose copy the compiler reads back through the stack), longer ones on
/// the heap.
#[inline(always)]
fn short_text(v: &str) -> SmolStr {
    if v.len() <= SmolStr::INLINE_CAP {
        SmolStr::new_inline(v)
    } else {
        SmolStr::new(v)
    }
}

/// One text from a string or a number (ids arrive as both); short texts are kept inline.
struct IdText;
impl<'de> Visitor<'de> for IdText {
    type Value = SmolStr;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<SmolStr, E> {
        Ok(short_text(v))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<SmolStr, E> {
        Ok(SmolStr::from(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<SmolStr, E> {
        Ok(smol_str::format_smolstr!("{v}"))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<SmolStr, E> {
        Ok(smol_str::format_smolstr!("{v}"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<SmolStr, E> {
        Ok(smol_str::format_smolstr!("{v}"))
    }
}

/// A string read from a string or a number.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Id(SmolStr);
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
    pub id: SmolStr,
    /// Display name, from a reply.
    pub name: Option<SmolStr>,
}

/// One department: its id and, from a reply, its name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Department {
    /// Department id.
    pub id: SmolStr,
    /// Name, from a reply.
    pub name: Option<SmolStr>,
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
            pub fn from_reply<N: Into<SmolStr>, I: Into<SmolStr>>(
                names: impl IntoIterator<Item = N>,
                ids: impl IntoIterator<Item = I>,
            ) -> Self {
                let mut names = names.into_iter();
                $list(
                    ids.into_iter()
                        .map(|id| $item {
                            id: id.into(),
                            name: names.next().map(Into::into),
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
                    Self::put_id(&mut list, i, id.into());
                }
                $list(list)
            }
            /// The `i`th id of an `_id` companion into entry `i` (whose name, read under the
            /// field id as its id, moves to `name`), or appended.
            fn put_id(list: &mut Vec<$item>, i: usize, id: SmolStr) {
                match list.get_mut(i) {
                    Some(m) => {
                        let shown = std::mem::replace(&mut m.id, id);
                        if m.name.is_none() {
                            m.name = Some(shown);
                        }
                    }
                    None => list.push($item::of_id(id)),
                }
            }
        }

        impl $item {
            /// An entry with an id and no name.
            fn of_id(id: SmolStr) -> Self {
                $item { id, name: None }
            }
        }

        impl<S: Into<SmolStr>, const N: usize> From<[S; N]> for $list {
            fn from(ids: [S; N]) -> Self {
                ids.into_iter().collect()
            }
        }

        impl<S: Into<SmolStr>> FromIterator<S> for $list {
            fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
                $list(iter.into_iter().map(|id| $item::of_id(id.into())).collect())
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
                        IdText.visit_str(v).map($item::of_id)
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$item, E> {
                        IdText.visit_i64(v).map($item::of_id)
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$item, E> {
                        IdText.visit_u64(v).map($item::of_id)
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$item, A::Error> {
                        let (mut id, mut name) = (None::<SmolStr>, None::<SmolStr>);
                        while let Some(k) = map.next_key::<String>()? {
                            if $id_keys.contains(&k.as_str()) {
                                let v: Option<Id> = map.next_value()?;
                                if id.is_none() {
                                    id = v.map(|v| v.0);
                                }
                            } else if $name_keys.contains(&k.as_str()) {
                                let v: Option<I18nText> = map.next_value()?;
                                if name.is_none() {
                                    name = v.map(|t| short_text(t.text()));
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
                        IdText.visit_str(v).map(|id| $list(vec![$item::of_id(id)]))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<$list, E> {
                        IdText.visit_i64(v).map(|id| $list(vec![$item::of_id(id)]))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<$list, E> {
                        IdText.visit_u64(v).map(|id| $list(vec![$item::of_id(id)]))
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
            fn read_companion<'de, D: Deserializer<'de>>(
                value: &mut Option<Self>,
                companion: &mut Option<Companion>,
                d: D,
            ) -> Result<(), D::Error> {
                let Some(list) = value else {
                    *companion = Some(Companion::deserialize(d)?);
                    return Ok(());
                };
                /// The ids of a list go straight into the members read so far (the names).
                struct IdsInto<'a>(&'a mut Vec<$item>);
                impl<'de> Visitor<'de> for IdsInto<'_> {
                    type Value = Option<Companion>;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("a list of ids")
                    }
                    fn visit_seq<A: SeqAccess<'de>>(
                        self,
                        mut seq: A,
                    ) -> Result<Option<Companion>, A::Error> {
                        let mut n = 0;
                        while let Some(id) = seq.next_element::<Id>()? {
                            $list::put_id(self.0, n, id.0);
                            n += 1;
                        }
                        self.0.truncate(n);
                        Ok(None)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<Companion>, E> {
                        Ok(Some(Companion::Text(v.to_owned())))
                    }
                    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<Companion>, E> {
                        Ok(Some(Companion::Texts(vec![v.to_string()])))
                    }
                    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<Companion>, E> {
                        Ok(Some(Companion::Texts(vec![v.to_string()])))
                    }
                    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Option<Companion>, E> {
                        Ok(Some(Companion::Json(Value::from(v))))
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<Option<Companion>, E> {
                        Ok(Some(Companion::Json(Value::Null)))
                    }
                    fn visit_none<E: de::Error>(self) -> Result<Option<Companion>, E> {
                        Ok(Some(Companion::Json(Value::Null)))
                    }
                }
                if let Some(c) = d.deserialize_any(IdsInto(&mut list.0))? {
                    let ids = c.into_ids().map_err(de::Error::custom)?;
                    *value = Some($list::join(value.take(), ids));
                }
                Ok(())
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
    pub codes: Vec<SmolStr>,
    /// Names, from a reply.
    pub names: Vec<SmolStr>,
}

impl City {
    /// From region codes.
    pub fn from_codes<S: Into<SmolStr>>(codes: impl IntoIterator<Item = S>) -> Self {
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
        let list: Vec<SmolStr> = list.into_iter().map(|i| i.0).collect();
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
        v.codes = ids_of(twin)?.into_iter().map(SmolStr::from).collect();
        Ok(Some(v))
    }
    fn merge_companion(value: Option<Self>, twin: Companion) -> Result<Option<Self>, String> {
        let mut v = value.unwrap_or_default();
        v.codes = twin.into_ids()?.into_iter().map(SmolStr::from).collect();
        Ok(Some(v))
    }
    fn absent() -> Option<Self> {
        Some(City::default())
    }
}

// ---------------------------------------------------------------------------------------------
// Object values (JSON text in replies).

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

/// An attachment component's value (`AttachmentField`): written as a list of files, read
/// from JSON text (or JSON). Parsed when first read: `files.get()?` (see [`Lazy`]).
pub type Attachments = Lazy<Vec<Attachment>>;
/// An image component's value (`ImageField`): written as a list of images, read from JSON
/// text (or JSON). Parsed when first read (see [`Lazy`]); the same type as [`Attachments`].
pub type Images = Lazy<Vec<Image>>;

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

/// A link component's value (`LinkField`): written as `[{"link", "text"}]` (the list even for
/// one link), read from JSON text. Parsed when first read (see [`Lazy`]).
pub type Links = Lazy<Vec<Link>>;

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
    d.deserialize_any(IdText).map(String::from)
}

/// A country component's value (`CountrySelectField`): written as `[{"value": "CN"}]`, read
/// from JSON text. Parsed when first read (see [`Lazy`]).
pub type Countries = Lazy<Vec<Country>>;

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
/// reads as an empty list until the companion is merged. Parsed when first read:
/// `refs.get()?` (see [`Lazy`]).
pub type AssociationRefs = Lazy<Vec<AssociationRef>>;

impl Lazy<Vec<AssociationRef>> {
    /// One reference (a form's record).
    pub fn to(
        app_type: impl Into<String>,
        form_uuid: impl Into<String>,
        instance_id: impl Into<String>,
    ) -> Self {
        Lazy::new(vec![AssociationRef {
            app_type: app_type.into(),
            form_uuid: form_uuid.into(),
            instance_id: instance_id.into(),
            form_type: Some("receipt".into()),
            ..Default::default()
        }])
    }
}

/// The plain (JSON, not JSON text) decoder of an object type.
trait PlainDecode: Sized {
    fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// An address component's value (`AddressField`): an object written as is and read from
/// JSON text (or JSON). Parsed when first read: `address.get()?.region_ids` (see [`Lazy`]).
pub type Address = Lazy<AddressValue>;

/// The object of an address component ([`Address`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AddressValue {
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

impl PlainDecode for AddressValue {
    fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const KEYS: &[&str] = &["address", "regionIds", "regionText"];
        d.deserialize_map(object_visitor!(
            "an address object",
            AddressValue,
            KEYS,
            |a, i, map| {
                match i {
                    0 => a.address = map.next_value::<Text>()?.0.unwrap_or_default(),
                    1 => {
                        a.region_ids = map
                            .next_value::<Option<Vec<Id>>>()?
                            .unwrap_or_default()
                            .into_iter()
                            .map(|i| i.0.into())
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

/// A location component's value (`LocationField`): an object, read from JSON text or JSON.
/// Parsed when first read (see [`Lazy`]).
pub type Location = Lazy<LocationValue>;

/// The object of a location component ([`Location`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LocationValue {
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

impl PlainDecode for LocationValue {
    fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        const KEYS: &[&str] = &["address", "latitude", "longitude", "name"];
        d.deserialize_map(object_visitor!(
            "a location object",
            LocationValue,
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

// ---------------------------------------------------------------------------------------------
// Values Yida returns as JSON text, parsed on first access.

/// A component value that Yida returns as JSON text (attachments, images, links, countries,
/// an address, a location, association references): kept as the text received and parsed
/// into `T` the first time it is read ([`get`](Lazy::get)), then cached.
///
/// Decoding a record costs what `serde_json::Value` pays for the same value (one string),
/// and a value nobody reads is never parsed. A malformed text fails when the value is read,
/// not when the record (or the page) is decoded. Built from a value ([`Lazy::new`], `From`)
/// or decoded from JSON rather than text, it holds the value itself. Either way it writes
/// what Yida accepts: `T` as JSON (the text is parsed then, if it was not yet).
///
/// ```
/// use yida_api::form_values::{Attachment, Attachments};
/// // As a reply carries it: JSON text.
/// let files: Attachments =
///     serde_json::from_str(r#""[{\"name\":\"a.txt\",\"downloadUrl\":\"https://x/a\"}]""#).unwrap();
/// assert_eq!(files.get().unwrap()[0].name, "a.txt");
/// // Written as JSON.
/// assert_eq!(
///     serde_json::to_string(&files).unwrap(),
///     r#"[{"downloadUrl":"https://x/a","name":"a.txt"}]"#
/// );
/// let mut files = files;
/// files.get_mut().unwrap().push(Attachment { name: "b.txt".into(), ..Default::default() });
/// assert_eq!(files.get().unwrap().len(), 2);
/// ```
pub struct Lazy<T> {
    /// The JSON text as received (empty: none), until the value is changed through
    /// `get_mut`/`set`.
    text: Box<str>,
    /// The value: parsed from `text` on first access, or given (boxed: a record holding
    /// values nobody reads stays small).
    value: OnceLock<Box<T>>,
}

/// The parsed content of a [`Lazy`] value: `Vec<Attachment>`, `Vec<Link>`, `Vec<Country>`,
/// `Vec<AssociationRef>`, [`AddressValue`], [`LocationValue`].
pub trait LazyContent: Serialize + Default + Sized + sealed::Sealed {
    /// What the value is, for errors: `"attachments"`.
    #[doc(hidden)]
    const WHAT: &'static str;
    /// A list (empty when a reply leaves the field out) rather than an object.
    #[doc(hidden)]
    const LIST: bool;
    /// Decodes the content from JSON (not text).
    #[doc(hidden)]
    fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
    /// An empty list.
    #[doc(hidden)]
    fn is_empty_value(&self) -> bool;
    /// Folds a reply's `_id` companion into the value (association references); the default
    /// keeps the value.
    #[doc(hidden)]
    fn merge_companion(
        value: Option<Lazy<Self>>,
        twin: Companion,
    ) -> Result<Option<Lazy<Self>>, String> {
        let _ = twin;
        Ok(value)
    }
    /// Whether text received under the field id holds the value (association fields hold
    /// the title shown there instead, read as an empty list).
    #[doc(hidden)]
    fn holds_value(text: &str) -> bool {
        let _ = text;
        true
    }
}

mod sealed {
    pub trait Sealed {}
}

/// A [`Lazy`] value's text is not the JSON its component holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonTextError {
    what: &'static str,
    message: String,
}

impl fmt::Display for JsonTextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: JSON text: {}", self.what, self.message)
    }
}

impl std::error::Error for JsonTextError {}

impl<T: LazyContent> Lazy<T> {
    /// A value (written as JSON).
    pub fn new(value: T) -> Self {
        Lazy {
            text: Box::default(),
            value: OnceLock::from(Box::new(value)),
        }
    }

    /// The JSON text of a value, as a reply carries it (parsed when read). Text encoded
    /// twice (`"\"[{…}]\""`, as association companions sometimes are) is decoded once here.
    pub fn from_text(text: impl Into<String>) -> Result<Self, JsonTextError> {
        Self::received(text.into()).map_err(|message| JsonTextError {
            what: T::WHAT,
            message,
        })
    }

    /// Text as received: empty reads as the empty value; text encoded twice is unwrapped.
    fn received(text: String) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() || t == "null" {
            return Ok(Lazy::default());
        }
        if t.starts_with('"') {
            let inner = serde_json::from_str::<String>(t).map_err(|e| e.to_string())?;
            if inner.trim().is_empty() {
                return Ok(Lazy::default());
            }
            return Ok(Lazy {
                text: inner.into_boxed_str(),
                value: OnceLock::new(),
            });
        }
        Ok(Lazy {
            text: text.into_boxed_str(),
            value: OnceLock::new(),
        })
    }

    fn parse(text: &str) -> Result<T, JsonTextError> {
        let mut de = serde_json::Deserializer::from_str(text);
        T::plain(&mut de)
            .and_then(|v| de.end().map(|()| v))
            .map_err(|e| JsonTextError {
                what: T::WHAT,
                message: e.to_string(),
            })
    }

    /// The value, parsed from the received text on first access.
    pub fn get(&self) -> Result<&T, JsonTextError> {
        if let Some(v) = self.value.get() {
            return Ok(v);
        }
        let v = match &*self.text {
            "" => T::default(),
            t => Self::parse(t)?,
        };
        Ok(self.value.get_or_init(|| Box::new(v)))
    }

    /// The value to change (parsed first if need be); it is written from the value from then
    /// on.
    pub fn get_mut(&mut self) -> Result<&mut T, JsonTextError> {
        self.get()?;
        self.text = Box::default();
        self.value.get_mut().map(|v| &mut **v).ok_or(JsonTextError {
            what: T::WHAT,
            message: "no value".into(),
        })
    }

    /// Replaces the value.
    pub fn set(&mut self, value: T) {
        *self = Lazy::new(value);
    }

    /// The value (parsed if need be).
    pub fn into_inner(self) -> Result<T, JsonTextError> {
        self.get()?;
        let Lazy { value, .. } = self;
        Ok(value.into_inner().map(|v| *v).unwrap_or_default())
    }

    /// The JSON text as received, while the value has not been changed (`None` for a value
    /// built or changed in code, or decoded from JSON).
    pub fn text(&self) -> Option<&str> {
        Some(&*self.text).filter(|t| !t.is_empty())
    }

    /// Known to be empty without parsing: no text, or `[]`.
    fn known_empty(&self) -> bool {
        match &*self.text {
            "" => self.value.get().is_none_or(|v| v.is_empty_value()),
            t => t.trim() == "[]",
        }
    }
}

impl<T> Default for Lazy<T> {
    fn default() -> Self {
        Lazy {
            text: Box::default(),
            value: OnceLock::new(),
        }
    }
}

impl<T: Clone> Clone for Lazy<T> {
    fn clone(&self) -> Self {
        Lazy {
            text: self.text.clone(),
            value: self.value.clone(),
        }
    }
}

/// Equal values (texts parsed as needed); two texts that do not parse are equal when they
/// are the same text.
impl<T: LazyContent + PartialEq> PartialEq for Lazy<T> {
    fn eq(&self, other: &Self) -> bool {
        match (self.get(), other.get()) {
            (Ok(a), Ok(b)) => a == b,
            (Err(_), Err(_)) => self.text == other.text,
            _ => false,
        }
    }
}

/// The value's `Debug` (parsed as needed), or the text that does not parse.
impl<T: LazyContent + fmt::Debug> fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.get() {
            Ok(v) => v.fmt(f),
            Err(e) => f
                .debug_struct("Lazy")
                .field("text", &self.text)
                .field("error", &e.message)
                .finish(),
        }
    }
}

impl<T: LazyContent> From<T> for Lazy<T> {
    fn from(value: T) -> Self {
        Lazy::new(value)
    }
}

impl<I> Lazy<Vec<I>>
where
    Vec<I>: LazyContent,
{
    /// No item (an empty text `[]` counts as empty without being parsed; a text that does not
    /// parse is not empty).
    pub fn is_empty(&self) -> bool {
        self.known_empty() || self.get().is_ok_and(|v| v.is_empty())
    }
}

impl<I> FromIterator<I> for Lazy<Vec<I>>
where
    Vec<I>: LazyContent,
{
    fn from_iter<It: IntoIterator<Item = I>>(iter: It) -> Self {
        Lazy::new(iter.into_iter().collect())
    }
}

impl<T: LazyContent> Serialize for Lazy<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.get().map_err(serde::ser::Error::custom)?.serialize(s)
    }
}

/// Reads JSON text (kept, parsed on first access) or JSON (decoded now); `null` and `""` read
/// as the empty value.
impl<'de, T: LazyContent> Deserialize<'de> for Lazy<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: LazyContent> Visitor<'de> for V<T> {
            type Value = Lazy<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "{} as JSON or JSON text", T::WHAT)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lazy<T>, E> {
                if !T::holds_value(v) {
                    return Ok(Lazy::default());
                }
                Lazy::received(v.to_owned()).map_err(|e| E::custom(format!("JSON text: {e}")))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Lazy<T>, E> {
                if !T::holds_value(&v) {
                    return Ok(Lazy::default());
                }
                Lazy::received(v).map_err(|e| E::custom(format!("JSON text: {e}")))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Lazy<T>, E> {
                Ok(Lazy::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Lazy<T>, E> {
                Ok(Lazy::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Lazy<T>, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Lazy<T>, A::Error> {
                T::plain(SeqAccessDeserializer::new(seq)).map(Lazy::new)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Lazy<T>, A::Error> {
                T::plain(MapAccessDeserializer::new(map)).map(Lazy::new)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

impl<T: LazyContent> FormValue for Lazy<T> {
    fn merge_companion(value: Option<Self>, twin: Companion) -> Result<Option<Self>, String> {
        T::merge_companion(value, twin)
    }
    fn merge_twin(value: Option<Self>, suffix: &str, twin: Value) -> Result<Option<Self>, String> {
        if suffix != "_id" {
            return Ok(value);
        }
        let twin = match twin {
            Value::String(s) => Companion::Text(s),
            other => Companion::Json(other),
        };
        T::merge_companion(value, twin)
    }
    fn absent() -> Option<Self> {
        T::LIST.then(Lazy::default)
    }
}

macro_rules! lazy_list {
    ($item:ty, $what:literal) => {
        impl sealed::Sealed for Vec<$item> {}
        impl LazyContent for Vec<$item> {
            const WHAT: &'static str = $what;
            const LIST: bool = true;
            fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                OneOrMany::<$item>::deserialize(d).map(|l| l.0)
            }
            fn is_empty_value(&self) -> bool {
                self.is_empty()
            }
        }
    };
}
lazy_list!(Attachment, "attachments or images");
lazy_list!(Link, "links");
lazy_list!(Country, "countries");

impl sealed::Sealed for Vec<AssociationRef> {}
impl LazyContent for Vec<AssociationRef> {
    const WHAT: &'static str = "association references";
    const LIST: bool = true;
    fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        OneOrMany::<AssociationRef>::deserialize(d).map(|l| l.0)
    }
    fn is_empty_value(&self) -> bool {
        self.is_empty()
    }
    /// The references of the `_id` companion replace the list read under the field id (a
    /// title reads as an empty list), unless the companion is empty.
    fn merge_companion(
        value: Option<Lazy<Self>>,
        twin: Companion,
    ) -> Result<Option<Lazy<Self>>, String> {
        let refs = match twin {
            Companion::Text(t) => Lazy::received(t)?,
            other => Lazy::<Self>::deserialize(other.into_value()).map_err(|e| e.to_string())?,
        };
        if refs.known_empty() {
            return Ok(value.or(Some(refs)));
        }
        Ok(Some(refs))
    }
    /// Under the field id, a reply carries the title shown; JSON text there (from
    /// [`fold_twins`], or a value written back) holds the references.
    fn holds_value(text: &str) -> bool {
        let t = text.trim_start();
        t.starts_with(['[', '{', '"']) && serde_json::from_str::<de::IgnoredAny>(text).is_ok()
    }
}

impl sealed::Sealed for AddressValue {}
impl LazyContent for AddressValue {
    const WHAT: &'static str = "an address";
    const LIST: bool = false;
    fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <AddressValue as PlainDecode>::plain(d)
    }
    fn is_empty_value(&self) -> bool {
        false
    }
}

impl sealed::Sealed for LocationValue {}
impl LazyContent for LocationValue {
    const WHAT: &'static str = "a location";
    const LIST: bool = false;
    fn plain<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <LocationValue as PlainDecode>::plain(d)
    }
    fn is_empty_value(&self) -> bool {
        false
    }
}

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
    fn member_texts_of_any_length_read_whole() {
        // Inline up to 23 bytes, on the heap past it: every length around the limit, in
        // ASCII and in three-byte characters, through the list, the companion and a number.
        for len in [0, 1, 22, 23, 24, 25, 64] {
            let id = "u".repeat(len);
            let name = "经".repeat(len / 3 + 1);
            let list = json!({"employeeField_x": [&name], "employeeField_x_id": [&id]});
            let mut folded = list.as_object().unwrap().clone();
            fold_twins(&mut folded);
            let m: Members = serde_json::from_value(folded["employeeField_x"].clone()).unwrap();
            assert_eq!(m.ids().collect::<Vec<_>>(), [id.as_str()], "{len}");
            assert_eq!(m.names().collect::<Vec<_>>(), [name.as_str()], "{len}");
            let mut value: Option<Members> =
                Some(serde_json::from_str(&json!([&name]).to_string()).unwrap());
            let mut companion = None;
            let ids = json!([&id, 12345678901u64]).to_string();
            let mut ids = serde_json::Deserializer::from_str(&ids);
            Members::read_companion(&mut value, &mut companion, &mut ids).unwrap();
            assert!(companion.is_none());
            let m = value.unwrap();
            assert_eq!(m.0[0].id, id.as_str());
            assert_eq!(m.0[0].name.as_deref(), Some(name.as_str()));
            assert_eq!(m.0[1].id, "12345678901");
            assert_eq!(back(&m), json!([id, "12345678901"]));
        }
        let m = Members::from(["a".repeat(40)]);
        assert_eq!(m.0[0].id.len(), 40);
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
        assert_eq!(a.get().unwrap()[0].extra["fileUuid"], "x");
        assert!(a.text().is_some(), "kept as text until read");
        assert_eq!(
            back(&a),
            json!([{"downloadUrl":"d","name":"n","url":"u","ext":"txt","fileUuid":"x"}])
        );
        let r: AssociationRefs = serde_json::from_str(
            r#""\"[{\\\"appType\\\":\\\"A\\\",\\\"formUuid\\\":\\\"F\\\",\\\"instanceId\\\":\\\"I\\\"}]\"""#,
        )
        .unwrap();
        assert_eq!(r.get().unwrap()[0].instance_id, "I");
        let title: AssociationRefs = serde_json::from_str(r#""Acme""#).unwrap();
        assert!(title.is_empty());
        let draft: AssociationRefs = serde_json::from_str(r#""[draft] Acme""#).unwrap();
        assert!(
            draft.is_empty(),
            "a title that is not JSON reads as no reference"
        );
        let addr: Address = serde_json::from_str(
            r#""{\"address\":\"x\",\"regionIds\":[500000,\"500100\"],\"regionText\":[{\"zh_CN\":\"重庆\"}]}""#,
        )
        .unwrap();
        assert_eq!(addr.get().unwrap().region_ids, ["500000", "500100"]);
        let loc: Location = serde_json::from_str(r#"{"latitude":"31.5","longitude":121}"#).unwrap();
        assert_eq!(loc.get().unwrap().latitude, 31.5);
        // Malformed text fails when the value is read, naming what it is.
        let bad: Address = serde_json::from_str(r#""not json""#).unwrap();
        let e = bad.get().unwrap_err().to_string();
        assert!(e.starts_with("an address: JSON text:"), "{e}");
        assert!(serde_json::to_value(&bad).is_err());
        let bad: Attachments = serde_json::from_str(r#""[1]""#).unwrap();
        assert!(bad.get().is_err() && !bad.is_empty());
    }

    #[test]
    fn json_text_is_parsed_once_on_access_and_written_as_json() {
        let text = r#"[{"downloadUrl":"d","name":"n","size":"12"}]"#;
        let mut a: Attachments =
            serde_json::from_str(&serde_json::to_string(text).unwrap()).unwrap();
        assert_eq!(a.text(), Some(text));
        let first = a.get().unwrap() as *const Vec<Attachment>;
        assert_eq!(a.get().unwrap() as *const Vec<Attachment>, first, "cached");
        assert_eq!(
            back(&a),
            json!([{"downloadUrl": "d", "name": "n", "size": 12}])
        );
        // The same value given as JSON or built in code is equal.
        let json: Attachments = serde_json::from_str(text).unwrap();
        assert_eq!(json.text(), None);
        assert_eq!(a, json);
        a.get_mut().unwrap()[0].name = "m".into();
        assert_eq!(a.text(), None, "changed: written from the value");
        assert_eq!(back(&a)[0]["name"], "m");
        assert_ne!(a, json);
        let built = Attachments::from(vec![Attachment {
            download_url: "d".into(),
            name: "m".into(),
            size: Some(12),
            ..Default::default()
        }]);
        assert_eq!(a, built);
        assert_eq!(built.clone().into_inner().unwrap().len(), 1);
        // Empty text, null and `[]` are no value; an address left out is none.
        for empty in [r#""""#, "null", r#""[]""#, r#""  ""#] {
            let e: Attachments = serde_json::from_str(empty).unwrap();
            assert!(e.is_empty(), "{empty}");
            assert_eq!(back(&e), json!([]));
        }
        assert!(<Address as FormValue>::absent().is_none());
        assert!(<Attachments as FormValue>::absent().is_some());
        // Text encoded twice is decoded once on receipt.
        let twice = Links::from_text(r#""[{\"link\":\"https://x\",\"text\":\"X\"}]""#).unwrap();
        assert_eq!(twice.get().unwrap()[0].text, "X");
        assert!(Links::from_text(r#""[unterminated"#).is_err());
        assert!(Links::from_text("[unterminated").unwrap().get().is_err());
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
        assert_eq!(refs.get().unwrap()[0].instance_id, "I");
    }
}
