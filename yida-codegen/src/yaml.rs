//! Reading the spec's YAML: the events of `granit-parser` (a YAML 1.2 parser) become a tree of
//! nodes that keep their lines, and a serde `Deserializer` over that tree fills the
//! [`spec`](crate::spec) types, [`Spanned`] values with their line.
//!
//! Only what a spec needs: mappings, sequences and scalars (plain, quoted or block), in block
//! or flow style. Anchors, aliases, tags and more than one document are refused, so a spec
//! means what it shows; a repeated key is an error.

use crate::spec::Spanned;
use granit_parser::{Event, Parser, ScalarStyle};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// A YAML node and the line (1-based) it starts on.
#[derive(Debug)]
pub(crate) struct Node {
    line: usize,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// A scalar's text, and whether it was plain (unquoted: may read as null, bool or number).
    Scalar(String, bool),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A problem, with the line it is on where known.
#[derive(Debug)]
pub struct Error {
    line: Option<usize>,
    message: String,
}

impl Error {
    fn at(line: usize, message: impl fmt::Display) -> Error {
        Error {
            line: Some(line),
            message: message.to_string(),
        }
    }

    /// The innermost line wins: a line already known is kept.
    fn on_line(mut self, line: usize) -> Error {
        self.line.get_or_insert(line);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error {
            line: None,
            message: msg.to_string(),
        }
    }
}

/// Parses `text` (one YAML document) and fills `T` from it.
pub fn from_str<T: de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    let node = parse(text)?;
    T::deserialize(&node)
}

/// One document's tree. An empty document is an empty mapping.
pub(crate) fn parse(text: &str) -> Result<Node, Error> {
    let options = granit_parser::Options::default();
    // Open collections, innermost last; a mapping's pending key waits beside it.
    let mut open: Vec<(Node, Option<Node>)> = Vec::new();
    let mut root: Option<Node> = None;
    let mut documents = 0;
    for next in Parser::new_from_str_with_options(text, options) {
        let (event, span) = next.map_err(|e| Error::at(e.marker().line(), e.info()))?;
        let line = span.start.line();
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => continue,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(Error::at(line, "one document per file"));
                }
                continue;
            }
            Event::Alias(..) | Event::UnresolvedAlias(..) | Event::Anchor(..) => {
                return Err(Error::at(
                    line,
                    "anchors and aliases are not used in a spec",
                ));
            }
            Event::Scalar(_, _, anchor, tag)
            | Event::SequenceStart(_, anchor, tag)
            | Event::MappingStart(_, anchor, tag)
                if anchor != 0 || tag.is_some() =>
            {
                let what = if tag.is_some() { "tags" } else { "anchors" };
                return Err(Error::at(line, format!("{what} are not used in a spec")));
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                let kind = match event {
                    Event::SequenceStart(..) => Kind::Seq(Vec::new()),
                    _ => Kind::Map(Vec::new()),
                };
                open.push((Node { line, kind }, None));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match open.pop() {
                Some((node, None)) => node,
                _ => return Err(Error::at(line, "unbalanced collection")),
            },
            Event::Scalar(text, style, ..) => Node {
                line,
                kind: Kind::Scalar(text.into_owned(), style == ScalarStyle::Plain),
            },
            #[allow(unreachable_patterns)]
            _ => continue,
        };
        // Place the finished node in its parent.
        match open.last_mut() {
            None => root = Some(node),
            Some((parent, key)) => match &mut parent.kind {
                Kind::Seq(items) => items.push(node),
                Kind::Map(entries) => match key.take() {
                    None => *key = Some(node),
                    Some(k) => {
                        if let Kind::Scalar(name, _) = &k.kind {
                            if entries
                                .iter()
                                .any(|(e, _)| matches!(&e.kind, Kind::Scalar(n, _) if n == name))
                            {
                                return Err(Error::at(
                                    k.line,
                                    format!("key `{name}` appears twice"),
                                ));
                            }
                        }
                        entries.push((k, node));
                    }
                },
                Kind::Scalar(..) => return Err(Error::at(line, "unbalanced collection")),
            },
        }
    }
    Ok(root.unwrap_or(Node {
        line: 1,
        kind: Kind::Map(Vec::new()),
    }))
}

impl Node {
    fn scalar(&self) -> Option<(&str, bool)> {
        match &self.kind {
            Kind::Scalar(text, plain) => Some((text, *plain)),
            _ => None,
        }
    }

    /// A plain scalar that reads as null (YAML 1.2 core schema).
    fn is_null(&self) -> bool {
        matches!(
            self.scalar(),
            Some(("" | "~" | "null" | "Null" | "NULL", true))
        )
    }

    fn what(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar(..) => "a scalar",
            Kind::Seq(_) => "a sequence",
            Kind::Map(_) => "a mapping",
        }
    }

    fn expected(&self, want: &str) -> Error {
        Error::at(self.line, format!("expected {want}, found {}", self.what()))
    }
}

/// A plain scalar as a boolean (core schema).
fn plain_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Name and fields under which [`Spanned`] asks for its value and line.
pub(crate) const SPANNED: &str = "$yida_codegen::Spanned";
pub(crate) const SPANNED_FIELDS: [&str; 2] = ["line", "value"];

impl<'de> Deserializer<'de> for &Node {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        let r = match &self.kind {
            Kind::Seq(items) => v.visit_seq(Items(items.iter())),
            Kind::Map(entries) => v.visit_map(Entries {
                entries: entries.iter(),
                value: None,
            }),
            Kind::Scalar(text, false) => v.visit_str(text),
            Kind::Scalar(text, true) => {
                if self.is_null() {
                    v.visit_unit()
                } else if let Some(b) = plain_bool(text) {
                    v.visit_bool(b)
                } else if let Ok(n) = text.parse::<i64>() {
                    v.visit_i64(n)
                } else if let Ok(n) = text.parse::<f64>().map_err(drop).and_then(|n| {
                    // `.5`, `1e3` and such; not Rust's `inf`/`NaN` spellings.
                    let digits = text.trim_start_matches(['-', '+']);
                    if digits.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
                        Ok(n)
                    } else {
                        Err(())
                    }
                }) {
                    v.visit_f64(n)
                } else {
                    v.visit_str(text)
                }
            }
        };
        r.map_err(|e| e.on_line(self.line))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.scalar() {
            Some((text, true)) => match plain_bool(text) {
                Some(b) => v.visit_bool(b),
                None => Err(Error::at(
                    self.line,
                    format!("expected true or false, found `{text}`"),
                )),
            },
            Some((text, false)) => Err(Error::at(
                self.line,
                format!("expected true or false, found the quoted text \"{text}\""),
            )),
            None => Err(self.expected("true or false")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match self.scalar() {
            Some(_) if self.is_null() => Err(Error::at(self.line, "expected a text, found null")),
            Some((text, _)) => v.visit_str(text).map_err(|e: Error| e.on_line(self.line)),
            None => Err(self.expected("a text")),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        if self.is_null() {
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.kind {
            Kind::Seq(items) => v
                .visit_seq(Items(items.iter()))
                .map_err(|e| e.on_line(self.line)),
            _ => Err(self.expected("a sequence")),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        match &self.kind {
            Kind::Map(entries) => v
                .visit_map(Entries {
                    entries: entries.iter(),
                    value: None,
                })
                .map_err(|e| e.on_line(self.line)),
            _ => Err(self.expected("a mapping")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        if name == SPANNED && fields == SPANNED_FIELDS {
            return v.visit_map(SpannedAccess {
                node: self,
                step: 0,
            });
        }
        self.deserialize_map(v)
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf unit
        unit_struct newtype_struct tuple tuple_struct enum ignored_any
    }
}

struct Items<'a>(std::slice::Iter<'a, Node>);

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = Error;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        self.0.next().map(|n| seed.deserialize(n)).transpose()
    }
}

struct Entries<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(k).map(Some).map_err(|e| e.on_line(k.line))
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
        let v = self
            .value
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("a value without a key"))?;
        seed.deserialize(v).map_err(|e| e.on_line(v.line))
    }
}

/// A [`Spanned`] value as a map of two entries: its line, then the value itself.
struct SpannedAccess<'a> {
    node: &'a Node,
    step: u8,
}

impl<'de> MapAccess<'de> for SpannedAccess<'_> {
    type Error = Error;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(key) = SPANNED_FIELDS.get(usize::from(self.step)) else {
            return Ok(None);
        };
        seed.deserialize(de::value::StrDeserializer::<Error>::new(key))
            .map(Some)
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Error> {
        self.step += 1;
        if self.step == 1 {
            seed.deserialize(de::value::UsizeDeserializer::<Error>::new(self.node.line))
        } else {
            seed.deserialize(self.node)
        }
    }
}

impl<'de, T: de::Deserialize<'de>> de::Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: de::Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value with its line")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Spanned<T>, A::Error> {
                let (mut line, mut value) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "line" => line = Some(map.next_value::<usize>()?),
                        "value" => value = Some(map.next_value::<T>()?),
                        other => return Err(de::Error::unknown_field(other, &SPANNED_FIELDS)),
                    }
                }
                Ok(Spanned {
                    line: line.ok_or_else(|| de::Error::missing_field("line"))?,
                    value: value.ok_or_else(|| de::Error::missing_field("value"))?,
                })
            }
        }
        d.deserialize_struct(SPANNED, &SPANNED_FIELDS, V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        name: Spanned<String>,
        #[serde(default)]
        flag: bool,
        version: String,
        list: Vec<String>,
        opt: Option<String>,
        map: BTreeMap<String, Item>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Item {
        n: Spanned<String>,
    }

    #[test]
    fn block_and_flow_styles_fill_values_with_their_lines() {
        let text = "# a comment\nname: \"quoted: text\"\nflag: true\nversion: 1.0\nlist: [a, 'b c', \"d\\ne\"]\nopt: ~\nmap:\n  One:\n    n: plain text here\n  Two: { n: x }\n";
        let doc: Doc = from_str(text).unwrap();
        assert_eq!(doc.name.value, "quoted: text");
        assert_eq!(doc.name.line, 2);
        assert!(doc.flag);
        assert_eq!(doc.version, "1.0");
        assert_eq!(doc.list, ["a", "b c", "d\ne"]);
        assert_eq!(doc.opt, None);
        assert_eq!(doc.map["One"].n.value, "plain text here");
        assert_eq!(doc.map["One"].n.line, 9);
        assert_eq!(doc.map["Two"].n.line, 10);
    }

    #[test]
    fn problems_name_their_line() {
        let base = "name: a\nversion: v\nlist: []\nmap: {}\n";
        let err = |t: &str| from_str::<Doc>(t).unwrap_err().to_string();
        let e = err(&format!("{base}colour: red\n"));
        assert!(e.starts_with("line 5: unknown field `colour`"), "{e}");
        let e = err(&format!("{base}flag: \"yes\"\n"));
        assert!(e.starts_with("line 5: expected true or false"), "{e}");
        let e = err("name: a\nversion: v\nlist: []\n");
        assert!(e.contains("missing field `map`"), "{e}");
        let e = err(&format!("{base}name: b\n"));
        assert!(e.starts_with("line 5: key `name` appears twice"), "{e}");
        let e = err("name: &x a\nversion: *x\nlist: []\nmap: {}\n");
        assert!(e.contains("anchors"), "{e}");
        let e = err("name: [unclosed\n");
        assert!(e.starts_with("line "), "{e}");
        let e = err(&format!("{base}---\n{base}"));
        assert!(e.contains("one document"), "{e}");
        let e = err("name: a\nversion: [v]\nlist: []\nmap: {}\n");
        assert!(
            e.starts_with("line 2: expected a text, found a sequence"),
            "{e}"
        );
    }

    #[test]
    fn plain_scalars_read_as_the_core_schema_says() {
        let v: Vec<serde_json::Value> =
            from_str("[~, null, true, False, 12, -3, 1.5, .5, 1e3, inf, x, '12', \"true\"]")
                .unwrap();
        assert_eq!(
            serde_json::Value::Array(v).to_string(),
            r#"[null,null,true,false,12,-3,1.5,0.5,1000.0,"inf","x","12","true"]"#
        );
    }
}
