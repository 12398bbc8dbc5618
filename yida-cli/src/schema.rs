//! `yida schema <Action>`: the request and reply of an operation, read from its descriptor's
//! typed model. `--json` prints the library's JSON Schemas (`OperationMeta::input_schema`,
//! `reply_schema`); the text form is a table of the same model.

use crate::fail::Fail;
use crate::output::{align, Doc};
use std::io::IsTerminal;
use yida_api::{ModelMeta, OperationMeta};

/// Print the request and reply schema of an operation: parameters (type, required, where they
/// go) and the reply's fields, nested models expanded; `--json` prints JSON Schemas.
#[derive(clap::Args, Debug)]
pub struct SchemaArgs {
    /// The operation's action name, e.g. SearchFormDatas (see `yida ops`).
    pub action: String,
    /// API version [default: the current one].
    #[arg(long, value_name = "VERSION", value_parser = ["1.0", "2.0"])]
    pub api_version: Option<String>,
    /// Print `{"operation", "request", "reply"}` with JSON Schemas (draft 2020-12).
    #[arg(long)]
    pub json: bool,
}

/// Prints the schema.
pub async fn run(args: SchemaArgs) -> Result<(), Fail> {
    let meta = crate::call::find_op(&args.action, args.api_version.as_deref())?;
    if args.json {
        let doc = Doc::Obj(vec![
            ("operation".into(), Doc::Str(meta.id.to_string())),
            ("request".into(), Doc::from_value(meta.input_schema())),
            (
                "reply".into(),
                meta.reply_schema().map_or(Doc::Null, Doc::from_value),
            ),
        ]);
        let text = if std::io::stdout().is_terminal() {
            doc.pretty()
        } else {
            doc.compact()
        };
        return crate::out::stdout(&format!("{text}\n"));
    }
    crate::out::stdout(&render(meta))
}

/// The text form: the operation's header, a row per parameter, and the reply's fields with
/// nested models indented under the field that holds them.
fn render(meta: &OperationMeta) -> String {
    let mut s = meta.id.to_string();
    if let Some(t) = meta.doc_title {
        s.push_str(&format!("  {t}"));
    }
    s.push_str(&format!(
        "\n{}\n{} {}  (risk: {})\n",
        meta.doc,
        meta.method,
        meta.path,
        meta.risk.as_str()
    ));
    if let Some(url) = meta.doc_url {
        s.push_str(&format!("{url}\n"));
    }
    let mut rows = vec![["name", "type", "required", "in", "description"].map(String::from)];
    for p in meta.params {
        let needed = if p.required && !p.context {
            "yes"
        } else if p.context {
            "context"
        } else {
            "no"
        };
        let mut doc = p.doc.to_string();
        if !p.values.is_empty() {
            let values: Vec<String> = p
                .values
                .iter()
                .map(|v| serde_json::Value::from(*v).to_string())
                .collect();
            doc.push_str(&format!(" [one of {}]", values.join(", ")));
        }
        rows.push([
            p.name.to_string(),
            p.ty.to_string(),
            needed.into(),
            p.location.as_str().into(),
            doc,
        ]);
    }
    s.push_str("\nRequest (--input, by wire name; context: from the app context when unset):\n");
    s.push_str(&align(&rows, 2));
    match meta.reply {
        None => s.push_str("\nReply: empty\n"),
        Some(root) => {
            s.push_str(&format!("\nReply ({}):\n", root.name));
            let mut rows = vec![["field", "type", "description"].map(String::from)];
            reply_rows(root, 0, &mut vec![root.name], &mut rows);
            s.push_str(&align(&rows, 2));
        }
    }
    s
}

/// Rows for the fields of `model`, recursing into the models they hold (once per path, at
/// most 8 levels).
fn reply_rows(
    model: &'static ModelMeta,
    depth: usize,
    path: &mut Vec<&'static str>,
    rows: &mut Vec<[String; 3]>,
) {
    for f in model.fields {
        rows.push([
            format!("{}{}", "  ".repeat(depth), f.name),
            f.ty.to_string(),
            f.doc.to_string(),
        ]);
        if let Some(inner) = f.ty.model() {
            if !path.contains(&inner.name) && depth < 8 {
                path.push(inner.name);
                reply_rows(inner, depth + 1, path, rows);
                path.pop();
            }
        }
    }
}
