//! `--input`: the parameters as JSON or YAML, inline, from a file (`@file.json`,
//! `@file.yaml`) or from standard input (`-`).

use crate::fail::{clean, Fail};
use std::io::Read;
use yida_api::ParamType;

/// Most bytes read from an input file or standard input.
pub const MAX_INPUT: u64 = 16 << 20;

/// The parameters object `arg` gives: `{}` when there is none.
pub fn read(arg: Option<&str>) -> Result<serde_json::Value, Fail> {
    let (text, yaml) = match arg {
        None => return Ok(serde_json::json!({})),
        Some("-") => (
            read_bounded(std::io::stdin().lock(), "standard input")?,
            None,
        ),
        Some(a) if a.starts_with('@') => {
            let path = &a[1..];
            let file = std::fs::File::open(path)
                .map_err(|e| Fail::usage(format!("--input: cannot read {}: {e}", clean(path))))?;
            let lower = path.to_ascii_lowercase();
            let yaml = lower.ends_with(".yaml") || lower.ends_with(".yml");
            (read_bounded(file, path)?, Some(yaml))
        }
        Some(a) => (a.to_string(), None),
    };
    let value = match yaml {
        Some(true) => from_yaml(&text)?,
        Some(false) => from_json(&text)?,
        // Inline or standard input: JSON, or YAML when it is not JSON.
        None => match from_json(&text) {
            Ok(v) => v,
            Err(json_err) => match serde_saphyr::from_str::<serde_json::Value>(&text) {
                Ok(v) if v.is_object() => v,
                _ => return Err(json_err),
            },
        },
    };
    if !value.is_object() {
        return Err(Fail::usage(
            "--input must be one JSON object (or YAML mapping) of parameters by wire name",
        ));
    }
    Ok(value)
}

fn read_bounded(r: impl Read, what: &str) -> Result<String, Fail> {
    let mut s = String::new();
    r.take(MAX_INPUT + 1)
        .read_to_string(&mut s)
        .map_err(|e| Fail::usage(format!("--input: cannot read {}: {e}", clean(what))))?;
    if s.len() as u64 > MAX_INPUT {
        return Err(Fail::usage(format!(
            "--input: {} is larger than {} MiB",
            clean(what),
            MAX_INPUT >> 20
        )));
    }
    Ok(s)
}

fn from_json(text: &str) -> Result<serde_json::Value, Fail> {
    serde_json::from_str(text).map_err(|e| Fail::usage(format!("--input is not valid JSON: {e}")))
}

fn from_yaml(text: &str) -> Result<serde_json::Value, Fail> {
    serde_saphyr::from_str(text).map_err(|e| {
        Fail::usage(format!(
            "--input is not valid YAML: {}",
            clean(&e.to_string())
        ))
    })
}

/// Merges `NAME=VALUE` arguments into the parameters object: text for a string parameter,
/// JSON otherwise (kept as text when it is not JSON, so the type check names the parameter).
pub fn merge_params(
    meta: &yida_api::OperationMeta,
    input: &mut serde_json::Value,
    params: &[String],
) -> Result<(), Fail> {
    let Some(map) = input.as_object_mut() else {
        return Ok(());
    };
    for p in params {
        let Some((name, value)) = p.split_once('=') else {
            return Err(Fail::usage(format!(
                "`{}`: parameters after the action are NAME=VALUE (see `yida call {} --help`)",
                clean(p),
                meta.action
            )));
        };
        let text_param = meta
            .params
            .iter()
            .find(|q| q.name == name)
            .is_none_or(|q| matches!(q.ty, ParamType::String | ParamType::JsonText));
        let v = if text_param {
            serde_json::Value::String(value.to_string())
        } else {
            serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.into()))
        };
        map.insert(name.to_string(), v);
    }
    Ok(())
}
