//! JSON Schemas of an operation's request and reply, written as text at generation time (the
//! runtime carries them as `&'static str`; nothing parses spec types again).
//!
//! Request: an object of the parameters by wire name; each property has its type, its
//! description, `enum` for fixed values, and `x-in` (`path`, `query`, `body`); `x-context`
//! marks parameters filled from the app context when unset (not listed in `required`).
//! Reply: the reply model, with the models it reaches in `$defs` (so recursive models work).

use crate::ir::{Api, Operation, Type};
use std::collections::BTreeSet;
use std::fmt::Write;

/// A JSON string literal.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The schema of a type: its JSON fields without braces (`"type":"string"`).
fn type_fields(ty: &Type) -> String {
    match ty {
        Type::String => r#""type":"string""#.into(),
        Type::I64 => r#""type":"integer""#.into(),
        Type::F64 => r#""type":"number""#.into(),
        Type::Bool => r#""type":"boolean""#.into(),
        Type::Json => String::new(),
        Type::JsonText => r#""type":"string","contentMediaType":"application/json""#.into(),
        Type::List(t) => format!(r#""type":"array","items":{{{}}}"#, type_fields(t)),
        Type::Map(t) => format!(
            r#""type":"object","additionalProperties":{{{}}}"#,
            type_fields(t)
        ),
        Type::Model(m) => format!(r##""$ref":"#/$defs/{m}""##),
    }
}

fn join(parts: &[String]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(",")
}

/// The request schema of `op`.
pub fn request(op: &Operation) -> String {
    let mut props = Vec::new();
    let mut required = Vec::new();
    for p in &op.params {
        let mut fields = vec![
            type_fields(&p.ty),
            format!(r#""description":{}"#, string(&p.doc)),
        ];
        if let Some(values) = &p.values {
            let list: Vec<String> = values.variants.iter().map(|(w, _)| string(w)).collect();
            fields.push(format!(r#""enum":[{}]"#, list.join(",")));
        }
        fields.push(format!(r#""x-in":"{}""#, p.location.as_str()));
        if p.context {
            fields.push(r#""x-context":true"#.into());
        }
        if p.secret {
            fields.push(r#""x-secret":true"#.into());
        }
        props.push(format!("{}:{{{}}}", string(&p.name), join(&fields)));
        if p.required && !p.context && !p.paging {
            required.push(string(&p.name));
        }
    }
    format!(
        r#"{{"type":"object","properties":{{{}}},"required":[{}],"additionalProperties":false}}"#,
        props.join(","),
        required.join(",")
    )
}

/// The reply schema of `op`, or `None` for an empty reply.
pub fn reply(api: &Api, op: &Operation) -> Option<String> {
    let root = op.response.as_deref()?;
    // The models reachable from the reply, each once.
    let mut seen = BTreeSet::new();
    let mut todo = vec![root.to_string()];
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(m) = api.models.get(&name) {
            todo.extend(
                m.fields
                    .iter()
                    .filter_map(|f| f.ty.model().map(String::from)),
            );
        }
    }
    let defs: Vec<String> = seen
        .iter()
        .filter_map(|name| api.models.get(name))
        .map(|m| {
            let props: Vec<String> = m
                .fields
                .iter()
                .map(|f| {
                    let mut fields = vec![
                        type_fields(&f.ty),
                        format!(r#""description":{}"#, string(&f.doc)),
                    ];
                    if f.secret {
                        fields.push(r#""x-secret":true"#.into());
                    }
                    format!("{}:{{{}}}", string(&f.name), join(&fields))
                })
                .collect();
            format!(
                r#"{}:{{"type":"object","description":{},"properties":{{{}}}}}"#,
                string(&m.name),
                string(&m.doc),
                props.join(",")
            )
        })
        .collect();
    Some(format!(
        r##"{{"$ref":"#/$defs/{root}","$defs":{{{}}}}}"##,
        defs.join(",")
    ))
}
