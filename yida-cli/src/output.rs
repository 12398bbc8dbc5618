//! Output shaping: `-o json|ndjson|yaml|table`, `--columns`, `--jq EXPR`.
//!
//! Replies are read into [`Doc`], a JSON tree that keeps the keys in the order they arrived
//! (`serde_json::Value` sorts them), so every format prints the fields as DingTalk sent them.
//! The `--jq` filter is compiled before anything is sent (a typo costs no call), and run on
//! each reply (or each item of `--all`) with jaq, the maintained Rust implementation of jq.

use crate::fail::{clean, Fail, DECODE};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use std::fmt;
use std::io::IsTerminal;
use unicode_width::UnicodeWidthStr;

/// The output options shared by commands that print replies.
#[derive(clap::Args, Debug, Clone, Default)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Output format [default: json, indented on a terminal, one line when piped].
    /// ndjson: one value per line; table: rows from the reply's list (see --columns).
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// With `-o table`: the columns, comma-separated; a dotted name reaches into an object
    /// (`formData.textField_x`) [default: every scalar field of the rows, in order].
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub columns: Vec<String>,
    /// Filter each reply with a jq expression (jaq); string results print as plain text
    /// unless -o is given, e.g. `--jq .result` or `--jq '.data[].formInstanceId'`.
    #[arg(long, value_name = "EXPR")]
    pub jq: Option<String>,
}

/// An output format.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON: indented on a terminal, compact when piped.
    Json,
    /// One compact JSON value per line.
    Ndjson,
    /// YAML, one document per value.
    Yaml,
    /// An aligned text table (CJK characters count as two columns).
    Table,
}

/// A JSON value that keeps object keys in their order.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number.
    Num(serde_json::Number),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Doc>),
    /// An object, keys in order.
    Obj(Vec<(String, Doc)>),
}

impl Doc {
    /// Parses JSON text.
    pub fn parse(text: &str) -> Result<Doc, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Compact JSON text.
    pub fn compact(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Indented JSON text.
    pub fn pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A `serde_json` value as a [`Doc`] (its keys are in `serde_json`'s order).
    pub fn from_value(v: serde_json::Value) -> Doc {
        Doc::deserialize(v).unwrap_or(Doc::Null)
    }

    fn get(&self, key: &str) -> Option<&Doc> {
        match self {
            Doc::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value at a dotted path (`a.b.c`); a whole key with dots is tried first.
    fn at(&self, path: &str) -> Option<&Doc> {
        if let Some(v) = self.get(path) {
            return Some(v);
        }
        let mut cur = self;
        for part in path.split('.') {
            cur = match cur {
                Doc::Arr(items) => items.get(part.parse::<usize>().ok()?)?,
                _ => cur.get(part)?,
            };
        }
        Some(cur)
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, Doc::Arr(_) | Doc::Obj(_))
    }

    /// The text of a table cell: strings as they are, other scalars as JSON, objects and
    /// arrays as compact JSON; control characters escaped.
    fn cell(&self) -> String {
        match self {
            Doc::Null => String::new(),
            Doc::Str(s) => clean(s),
            other => clean(&other.compact()),
        }
    }
}

impl Serialize for Doc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Doc::Null => s.serialize_unit(),
            Doc::Bool(b) => s.serialize_bool(*b),
            Doc::Num(n) => n.serialize(s),
            Doc::Str(t) => s.serialize_str(t),
            Doc::Arr(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Doc::Obj(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Doc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Doc, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Doc;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E>(self) -> Result<Doc, E> {
                Ok(Doc::Null)
            }
            fn visit_none<E>(self) -> Result<Doc, E> {
                Ok(Doc::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Doc, D::Error> {
                Doc::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Doc, E> {
                Ok(Doc::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Doc, E> {
                Ok(Doc::Num(n.into()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Doc, E> {
                Ok(Doc::Num(n.into()))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Doc, E> {
                Ok(serde_json::Number::from_f64(n).map_or(Doc::Null, Doc::Num))
            }
            fn visit_str<E>(self, s: &str) -> Result<Doc, E> {
                Ok(Doc::Str(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Doc, E> {
                Ok(Doc::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Doc, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Doc::Arr(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc, A::Error> {
                let mut fields: Vec<(String, Doc)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Doc>()? {
                    // A repeated key: the last one wins, as in serde_json and jq.
                    match fields.iter_mut().find(|(name, _)| *name == k) {
                        Some(slot) => slot.1 = v,
                        None => fields.push((k, v)),
                    }
                }
                Ok(Doc::Obj(fields))
            }
        }
        d.deserialize_any(V)
    }
}

/// Most values a `--jq` filter may produce for one reply (`repeat(.)` would never end).
const MAX_JQ_OUTPUTS: usize = 1_000_000;

/// A compiled `--jq` expression.
pub struct Jq(yida_jq::Filter);

impl fmt::Debug for Jq {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("Jq")
    }
}

impl Jq {
    /// Compiles `code`; a syntax error or an unknown function is a usage error naming --jq.
    pub fn compile(code: &str) -> Result<Jq, Fail> {
        yida_jq::Filter::compile(code)
            .map(Jq)
            .map_err(|msgs| jq_usage(code, &msgs))
    }

    /// Runs the filter on one value: its outputs, or the first error's text.
    pub fn run(&self, input: &Doc) -> Result<Vec<Doc>, String> {
        let text = input.compact();
        self.0
            .run(text.as_bytes(), MAX_JQ_OUTPUTS)?
            .iter()
            .map(from_jaq)
            .collect()
    }
}

fn jq_usage(code: &str, msgs: &[String]) -> Fail {
    Fail::usage(format!(
        "--jq `{}` is not a valid expression: {}",
        clean(code),
        if msgs.is_empty() {
            "cannot compile it".to_string()
        } else {
            clean(&msgs.join("; "))
        }
    ))
}

/// A jaq value as a [`Doc`], keys in order.
fn from_jaq(v: &yida_jq::Val) -> Result<Doc, String> {
    use yida_jq::Val;
    Ok(match v {
        Val::Null => Doc::Null,
        Val::Bool(b) => Doc::Bool(*b),
        Val::Num(_) => {
            let text = v.to_string();
            // NaN and infinities have no JSON form: null, as jq prints them.
            serde_json::from_str::<serde_json::Number>(&text).map_or(Doc::Null, Doc::Num)
        }
        Val::TStr(b) | Val::BStr(b) => Doc::Str(String::from_utf8_lossy(b).into_owned()),
        Val::Arr(items) => Doc::Arr(items.iter().map(from_jaq).collect::<Result<_, _>>()?),
        Val::Obj(map) => Doc::Obj(
            map.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
                        other => other.to_string(),
                    };
                    Ok((key, from_jaq(v)?))
                })
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// Turns replies into the text to print, as the options ask.
#[derive(Debug)]
pub struct Shaper {
    format: Format,
    explicit: bool,
    pretty: bool,
    columns: Vec<String>,
    jq: Option<Jq>,
}

impl Shaper {
    /// Checks the options (the --jq expression is compiled here, before anything is sent).
    pub fn new(args: &OutputArgs) -> Result<Shaper, Fail> {
        Self::with_terminal(args, std::io::stdout().is_terminal())
    }

    /// [`Shaper::new`] with the terminal question answered.
    pub fn with_terminal(args: &OutputArgs, terminal: bool) -> Result<Shaper, Fail> {
        let format = args.format.unwrap_or(Format::Json);
        if !args.columns.is_empty() && format != Format::Table {
            return Err(Fail::usage("--columns needs `-o table`"));
        }
        if let Some(c) = args.columns.iter().find(|c| c.trim().is_empty()) {
            return Err(Fail::usage(format!(
                "--columns has an empty name ({:?})",
                c
            )));
        }
        let jq = args.jq.as_deref().map(Jq::compile).transpose()?;
        Ok(Shaper {
            format,
            explicit: args.format.is_some(),
            pretty: terminal,
            columns: args.columns.iter().map(|c| c.trim().to_string()).collect(),
            jq,
        })
    }

    /// Whether the values are collected before printing (a table needs every row's width).
    pub fn collects(&self) -> bool {
        self.format == Format::Table
    }

    /// The values to print for one reply: the reply, or the --jq filter's outputs.
    pub fn values(&self, reply: Doc) -> Result<Vec<Doc>, Fail> {
        match &self.jq {
            None => Ok(vec![reply]),
            Some(jq) => jq.run(&reply).map_err(|e| {
                Fail(
                    DECODE,
                    format!("error: --jq failed on the reply: {}", clean(&e)),
                )
            }),
        }
    }

    /// The text of one reply's values.
    pub fn render(&self, values: &[Doc]) -> String {
        self.render_as(self.format, values, true)
    }

    /// The text of the items of one page of `--all`: one compact JSON value per line unless
    /// `-o` says otherwise. `first`: nothing was printed before.
    pub fn render_items(&self, values: &[Doc], first: bool) -> String {
        let format = if self.explicit {
            self.format
        } else {
            Format::Ndjson
        };
        self.render_as(format, values, first)
    }

    /// The table of the rows `--all` collected.
    pub fn table_of_rows(&self, rows: Vec<Doc>) -> String {
        table(&rows, &self.columns)
    }

    fn render_as(&self, format: Format, values: &[Doc], first: bool) -> String {
        if format == Format::Table {
            return self.table(values.to_vec());
        }
        let mut out = String::new();
        for (i, v) in values.iter().enumerate() {
            if let (Some(_), false, Doc::Str(s)) = (&self.jq, self.explicit, v) {
                // `--jq .result` in a script: the text, not a JSON string (as `jq -r`).
                out.push_str(s);
                out.push('\n');
                continue;
            }
            match format {
                Format::Json | Format::Table => {
                    if self.pretty {
                        out.push_str(&v.pretty());
                    } else {
                        out.push_str(&v.compact());
                    }
                }
                Format::Ndjson => out.push_str(&v.compact()),
                Format::Yaml => {
                    if !(first && i == 0) {
                        out.push_str("---\n");
                    }
                    let text = serde_saphyr::to_string(v).unwrap_or_default();
                    out.push_str(text.strip_suffix('\n').unwrap_or(&text));
                }
            }
            out.push('\n');
        }
        out
    }

    /// The table of `values`: the rows are the values, or, for one object holding one list of
    /// objects (a page: `{"totalCount": …, "data": [...]}`), that list.
    pub fn table(&self, values: Vec<Doc>) -> String {
        let rows: Vec<Doc> = match <[Doc; 1]>::try_from(values) {
            Ok([Doc::Arr(items)]) => items,
            Ok([obj @ Doc::Obj(_)]) => match list_in(&obj) {
                Some(items) => items,
                None => vec![obj],
            },
            Ok([v]) => vec![v],
            Err(values) => values,
        };
        table(&rows, &self.columns)
    }
}

/// Prints the reply of one call (`None` or empty: the operation replies with no body). A write
/// with an empty reply gets a confirmation line on stderr, so a terminal shows it happened.
pub fn print_reply(
    shaper: &Shaper,
    meta: &yida_api::OperationMeta,
    reply: Option<&str>,
) -> Result<(), Fail> {
    let text = reply.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        if !meta.read_only() {
            crate::out::note(&format!("ok: {} sent; the reply is empty", meta.id));
        }
        return Ok(());
    }
    let doc = match Doc::parse(text) {
        // No filter, JSON: the text as received (numbers as written), re-indented or on one
        // line as the output asks.
        Ok(_)
            if shaper.jq.is_none()
                && shaper.format != Format::Yaml
                && shaper.format != Format::Table =>
        {
            let pretty = shaper.format == Format::Json && shaper.pretty;
            return crate::out::stdout(&format!("{}\n", reindent(text, pretty)));
        }
        Ok(doc) => doc,
        // Not JSON (the library passes what it could decode): printed as received.
        Err(_) if shaper.jq.is_none() => return crate::out::stdout(&format!("{text}\n")),
        Err(e) => {
            return Err(Fail(
                DECODE,
                format!("error: --jq: the reply is not JSON: {e}"),
            ))
        }
    };
    let values = shaper.values(doc)?;
    crate::out::stdout(&shaper.render(&values))
}

/// Valid JSON text re-spaced: indented by two (`pretty`) or on one line; every token (numbers,
/// strings, key order) kept as written.
pub fn reindent(text: &str, pretty: bool) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        if pretty {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        }
    };
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
                    chars.next();
                }
                if matches!(chars.peek(), Some('}' | ']')) {
                    out.extend(chars.next());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(if pretty { ": " } else { ":" }),
            c if c.is_ascii_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// The one list of objects an object holds, if it holds exactly one.
fn list_in(obj: &Doc) -> Option<Vec<Doc>> {
    let Doc::Obj(fields) = obj else { return None };
    let mut lists = fields.iter().filter_map(|(_, v)| match v {
        Doc::Arr(items) if items.iter().all(|i| matches!(i, Doc::Obj(_))) => Some(items),
        _ => None,
    });
    let one = lists.next()?;
    lists.next().is_none().then(|| one.clone())
}

/// An aligned table: a header line, then one line per row; widths by display columns (a CJK
/// character takes two), so the columns line up in a terminal.
pub fn table(rows: &[Doc], columns: &[String]) -> String {
    let columns: Vec<String> = if !columns.is_empty() {
        columns.to_vec()
    } else if rows.iter().any(|r| matches!(r, Doc::Obj(_))) {
        let mut names: Vec<String> = Vec::new();
        for r in rows {
            if let Doc::Obj(fields) = r {
                for (k, v) in fields {
                    if v.is_scalar() && !names.contains(k) {
                        names.push(k.clone());
                    }
                }
            }
        }
        names
    } else {
        vec!["value".to_string()]
    };
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| match r {
                    Doc::Obj(_) => r.at(c).map(Doc::cell).unwrap_or_default(),
                    other if c == "value" => other.cell(),
                    _ => String::new(),
                })
                .collect()
        })
        .collect();
    let header: Vec<String> = columns.iter().map(|c| clean(c)).collect();
    let rows: Vec<Vec<String>> = std::iter::once(header).chain(cells).collect();
    align(&rows, 0)
}

/// Rows of cells as aligned columns, each line indented by `indent` spaces and without
/// trailing blanks; widths by display columns (a CJK character takes two).
pub fn align<R: AsRef<[String]>>(rows: &[R], indent: usize) -> String {
    let n = rows.iter().map(|r| r.as_ref().len()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.as_ref().get(i))
                .map(|c| c.width())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let row = row.as_ref();
        let mut line = " ".repeat(indent);
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                line.push_str(&" ".repeat(widths[i] - cell.width() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_their_order_and_numbers_their_value() {
        let d = Doc::parse(r#"{"z":1,"a":[true,null,2.5],"m":{"y":"x","b":-3}}"#).unwrap();
        assert_eq!(
            d.compact(),
            r#"{"z":1,"a":[true,null,2.5],"m":{"y":"x","b":-3}}"#
        );
    }

    #[test]
    fn reindent_keeps_every_token_as_written() {
        let text = "{ \"a\" : [1.50, 2e3, {}, [ ]], \"b\":\"x, \\\"{y}: \" }";
        assert_eq!(
            reindent(text, false),
            r#"{"a":[1.50,2e3,{},[]],"b":"x, \"{y}: "}"#
        );
        assert_eq!(
            reindent(text, true),
            "{\n  \"a\": [\n    1.50,\n    2e3,\n    {},\n    []\n  ],\n  \"b\": \"x, \\\"{y}: \"\n}"
        );
    }

    #[test]
    fn yaml_output_reads_back_as_the_same_values() {
        let text = r##"{"ids":["123","true","null","","a: b","- x","多行\n文本","#c","0x1F","1e3","~","yes","NO","2026-12-05"," lead"],"n":[1,-2,2.5,12345678901234],"b":false,"z":null,"m":{}}"##;
        let doc = Doc::parse(text).unwrap();
        let yaml = serde_saphyr::to_string(&doc).unwrap();
        let back: Doc = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(back, doc, "{yaml}");
    }

    #[test]
    fn jq_outputs_keep_key_order() {
        let jq = Jq::compile("{b: .x, a: .y}, .x").unwrap();
        let out = jq.run(&Doc::parse(r#"{"x":1,"y":"é"}"#).unwrap()).unwrap();
        assert_eq!(
            out.iter().map(Doc::compact).collect::<Vec<_>>(),
            [r#"{"b":1,"a":"é"}"#, "1"]
        );
    }
}
