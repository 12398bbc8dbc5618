//! Helpers the generated code calls. Not part of the public API.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use std::fmt::{self, Write};

/// Printed in place of a secret by the generated `Debug` impls.
pub struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(yida_auth::REDACTED)
    }
}

/// RFC 3986 unreserved characters stay; everything else is escaped.
pub(crate) const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A value that can stand in a path segment or the query string.
pub trait WireScalar {
    /// Appends the value, percent-encoded. Returns false for an unset value.
    fn write_encoded(&self, out: &mut String) -> bool;
}

impl WireScalar for String {
    fn write_encoded(&self, out: &mut String) -> bool {
        out.extend(utf8_percent_encode(self, COMPONENT));
        true
    }
}

impl WireScalar for i64 {
    fn write_encoded(&self, out: &mut String) -> bool {
        let _ = write!(out, "{self}");
        true
    }
}

impl WireScalar for f64 {
    fn write_encoded(&self, out: &mut String) -> bool {
        let _ = write!(out, "{self}");
        true
    }
}

impl WireScalar for bool {
    fn write_encoded(&self, out: &mut String) -> bool {
        out.push_str(if *self { "true" } else { "false" });
        true
    }
}

impl WireScalar for crate::JsonText {
    fn write_encoded(&self, out: &mut String) -> bool {
        match self.as_str() {
            Some(t) => {
                out.extend(utf8_percent_encode(t, COMPONENT));
                true
            }
            None => false,
        }
    }
}

impl<T: WireScalar> WireScalar for Option<T> {
    fn write_encoded(&self, out: &mut String) -> bool {
        match self {
            Some(v) => v.write_encoded(out),
            None => false,
        }
    }
}

/// Appends one percent-encoded path segment.
pub fn push_segment(out: &mut String, value: &impl WireScalar) {
    value.write_encoded(out);
}

/// Builds a query string; unset values are skipped.
#[derive(Default)]
pub struct QueryWriter {
    buf: String,
    scratch: String,
}

impl QueryWriter {
    /// Appends `name=value` when the value is set.
    pub fn push(&mut self, name: &str, value: &impl WireScalar) {
        self.scratch.clear();
        if value.write_encoded(&mut self.scratch) {
            self.buf.push(if self.buf.is_empty() { '?' } else { '&' });
            self.buf.extend(utf8_percent_encode(name, COMPONENT));
            self.buf.push('=');
            self.buf.push_str(&self.scratch);
        }
    }

    /// The query string with its leading `?`, or empty.
    pub fn finish(self) -> String {
        self.buf
    }
}

/// Unknown fields of a reply model, kept as received.
pub type Extra = serde_json::Map<String, serde_json::Value>;

/// A secret request parameter (`systemToken`, …): sent as a plain string, never printed.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretText(String);

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(yida_auth::REDACTED)
    }
}

impl From<String> for SecretText {
    fn from(s: String) -> Self {
        SecretText(s)
    }
}

impl WireScalar for SecretText {
    fn write_encoded(&self, out: &mut String) -> bool {
        self.0.write_encoded(out)
    }
}

/// Built from the text of a context value (see [`meta::fill`]).
pub trait FromWire {
    /// The value for this text.
    fn from_wire(s: &str) -> Self;
}

impl FromWire for String {
    fn from_wire(s: &str) -> Self {
        s.to_string()
    }
}

impl FromWire for SecretText {
    fn from_wire(s: &str) -> Self {
        SecretText(s.to_string())
    }
}

/// A value that can be blank (empty text).
pub trait Blank {
    /// True for an empty value.
    fn is_blank(&self) -> bool {
        false
    }
}

impl Blank for String {
    fn is_blank(&self) -> bool {
        self.is_empty()
    }
}
impl Blank for SecretText {
    fn is_blank(&self) -> bool {
        self.0.is_empty()
    }
}
impl Blank for i64 {}

/// A value that holds JSON text to check before sending.
pub trait HoldsJson {
    /// Checks every JSON text inside.
    fn check_json(&self, name: &'static str) -> Result<(), crate::ParamError>;
}

impl HoldsJson for crate::JsonText {
    fn check_json(&self, name: &'static str) -> Result<(), crate::ParamError> {
        self.check(name)
    }
}
impl<T: HoldsJson> HoldsJson for Option<T> {
    fn check_json(&self, name: &'static str) -> Result<(), crate::ParamError> {
        self.as_ref().map_or(Ok(()), |v| v.check_json(name))
    }
}
impl<T: HoldsJson> HoldsJson for Vec<T> {
    fn check_json(&self, name: &'static str) -> Result<(), crate::ParamError> {
        self.iter().try_for_each(|v| v.check_json(name))
    }
}
impl<T: HoldsJson> HoldsJson for std::collections::BTreeMap<String, T> {
    fn check_json(&self, name: &'static str) -> Result<(), crate::ParamError> {
        self.values().try_for_each(|v| v.check_json(name))
    }
}

/// What the generated request code calls, imported with `use crate::__private::meta::*` in
/// each area module: descriptor constructors and the per-parameter steps of
/// `Operation::{check, fill_context, write_path}`.
pub mod meta {
    pub use super::push_segment;
    use super::WireScalar;
    use super::{Blank, FromWire, HoldsJson};
    pub use crate::lenient::{
        bool as lenient_bool, f64 as lenient_f64, i64 as lenient_i64, string as lenient_str,
    };
    use crate::{ParamError, ParamLocation, ParamMeta, ParamType};

    /// `skip_serializing_if` of optional fields.
    pub fn is_none<T>(v: &Option<T>) -> bool {
        v.is_none()
    }

    /// Flag: required by the API.
    pub const REQUIRED: u8 = 1;
    /// Flag: redacted in `Debug`.
    pub const SECRET: u8 = 2;
    /// Flag: filled from the app context.
    pub const CONTEXT: u8 = 4;

    const fn param(
        name: &'static str,
        location: ParamLocation,
        ty: ParamType,
        flags: u8,
        doc: &'static str,
    ) -> ParamMeta {
        ParamMeta {
            name,
            location,
            ty,
            required: flags & REQUIRED != 0,
            secret: flags & SECRET != 0,
            context: flags & CONTEXT != 0,
            values: &[],
            doc,
        }
    }

    /// A fixed-value parameter's descriptor: `p` with its documented values.
    pub const fn values(p: ParamMeta, values: &'static [&'static str]) -> ParamMeta {
        ParamMeta { values, ..p }
    }

    /// A path parameter's descriptor.
    pub const fn path(
        name: &'static str,
        ty: ParamType,
        flags: u8,
        doc: &'static str,
    ) -> ParamMeta {
        param(name, ParamLocation::Path, ty, flags, doc)
    }
    /// A query parameter's descriptor.
    pub const fn query(
        name: &'static str,
        ty: ParamType,
        flags: u8,
        doc: &'static str,
    ) -> ParamMeta {
        param(name, ParamLocation::Query, ty, flags, doc)
    }
    /// A body parameter's descriptor.
    pub const fn body(
        name: &'static str,
        ty: ParamType,
        flags: u8,
        doc: &'static str,
    ) -> ParamMeta {
        param(name, ParamLocation::Body, ty, flags, doc)
    }

    /// Fills an unset context parameter from the app context's value.
    pub fn fill<T: FromWire>(slot: &mut Option<T>, value: Option<&str>) {
        if slot.is_none() {
            *slot = value.map(T::from_wire);
        }
    }

    /// A required parameter held as optional (context and paging parameters) must be set and,
    /// for text, not empty.
    pub fn required<T: Blank>(v: &Option<T>, name: &'static str) -> Result<(), ParamError> {
        match v {
            None => Err(ParamError::missing(name)),
            Some(v) if v.is_blank() => Err(ParamError::empty(name)),
            Some(_) => Ok(()),
        }
    }

    /// A path value must be a segment that addresses what it says: not empty (which drops a
    /// segment) and not `.` or `..` (which a server or proxy resolves as "this" and "parent"
    /// segment). An unset value passes (`required` reports it).
    pub fn segment<T: WireScalar>(v: &T, name: &'static str) -> Result<(), ParamError> {
        let mut encoded = String::new();
        if !v.write_encoded(&mut encoded) {
            return Ok(());
        }
        let problem = match encoded.as_str() {
            "" => "must not be empty (it is a path segment)",
            "." | ".." => {
                "must not be `.` or `..` (it is a path segment; it would change the resource addressed)"
            }
            _ => return Ok(()),
        };
        Err(ParamError {
            name,
            problem: problem.into(),
        })
    }

    /// Checks the JSON text a parameter holds.
    pub fn json<T: HoldsJson>(v: &T, name: &'static str) -> Result<(), ParamError> {
        v.check_json(name)
    }
}

/// Declares a fixed-value parameter's enum: its documented values plus `Other(String)` for a
/// value this crate does not know yet. Serialized as the wire text.
#[allow(unused_macros)]
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $w:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $v,)*
            /// A value not listed when this crate was generated, sent as is.
            Other(String),
        }

        impl $name {
            /// The value as sent.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$v => $w,)*
                    Self::Other(s) => s,
                }
            }

            /// The variant for a wire value (`Other` for an unknown one).
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $($w => Self::$v,)*
                    other => Self::Other(other.to_string()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <String as serde::Deserialize>::deserialize(d)?;
                Ok(Self::from_wire(&s))
            }
        }

        impl $crate::__private::FromWire for $name {
            fn from_wire(s: &str) -> Self {
                Self::from_wire(s)
            }
        }

        impl $crate::__private::Blank for $name {
            fn is_blank(&self) -> bool {
                self.as_str().is_empty()
            }
        }

        impl $crate::__private::WireScalar for $name {
            fn write_encoded(&self, out: &mut String) -> bool {
                $crate::__private::WireScalar::write_encoded(&self.as_str().to_string(), out)
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use wire_enum;

/// A dynamic call's input (checked against the operation's descriptor), taken apart one
/// parameter at a time by the generated `Operation::from_input`: the per-operation code is a
/// list of `take` calls, and each `take` is instantiated once per parameter type, not once per
/// operation (as the request's derived `Deserialize` would be).
pub struct Input(serde_json::Map<String, serde_json::Value>);

/// A parameter of a dynamic call's input that does not fit its type.
#[derive(Debug)]
pub struct InputError {
    /// Wire name.
    pub name: &'static str,
    /// What is wrong.
    pub problem: String,
}

impl Input {
    pub(crate) fn new(input: serde_json::Value) -> Result<Input, InputError> {
        match input {
            serde_json::Value::Object(map) => Ok(Input(map)),
            serde_json::Value::Null => Ok(Input(serde_json::Map::new())),
            other => Err(InputError {
                name: "input",
                problem: format!("must be one JSON object by wire name, not {other}"),
            }),
        }
    }

    /// Removes parameter `name` and reads it as `T` (absent reads as `null`: `None` for an
    /// optional parameter).
    pub fn take<T: serde::de::DeserializeOwned>(
        &mut self,
        name: &'static str,
    ) -> Result<T, InputError> {
        let value = self.0.remove(name).unwrap_or(serde_json::Value::Null);
        T::deserialize(value).map_err(|e| InputError {
            name,
            problem: e.to_string(),
        })
    }

    /// The first parameter no field took, if any (as the request's `deny_unknown_fields`).
    pub(crate) fn leftover(&self) -> Option<&str> {
        self.0.keys().next().map(String::as_str)
    }
}
