//! `yida codegen form`: a Rust module with the typed record of a form, from its live
//! component definitions (`yida_api::formgen`).

use crate::fail::Fail;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use yida_api::formgen::{self, ComponentDef, Options};

/// Write a Rust module with a `#[derive(YidaForm)]` struct for a form: one field per component,
/// named from its alias or label (Chinese labels in pinyin), its label and id in the doc
/// comment. Reads GetFormComponentDefinitionList (and GetFormComponentAliasList when the app
/// has aliases); the output is the same for the same form.
#[derive(clap::Args, Debug)]
pub struct CodegenArgs {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand, Debug)]
enum What {
    /// Generate the typed record of one form.
    Form(FormArgs),
}

#[derive(clap::Args, Debug)]
struct FormArgs {
    /// The form (`FORM-…`).
    form_uuid: String,
    /// Write the module here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Field names to use instead of the derived ones: `componentId = field_name` lines
    /// (`#` starts a comment), or a JSON object of the same.
    #[arg(long, value_name = "FILE")]
    names: Option<PathBuf>,
    /// Name of the struct.
    #[arg(long = "struct", value_name = "NAME", default_value = "Record")]
    struct_name: String,
    /// Read the definitions from a saved GetFormComponentDefinitionList reply instead of the
    /// live form (no call is made).
    #[arg(long, value_name = "FILE")]
    definitions: Option<PathBuf>,
}

/// Most bytes of a local input file (definitions, names, generated module).
pub const MAX_FILE: u64 = 8 << 20;

/// Reads a local file, bounded.
pub fn read_file(path: &PathBuf, what: &str) -> Result<String, Fail> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Fail::usage(format!("{what} {}: {e}", path.display())))?;
    if !meta.is_file() || meta.len() > MAX_FILE {
        return Err(Fail::usage(format!(
            "{what} {}: not a regular file of at most {MAX_FILE} bytes",
            path.display()
        )));
    }
    std::fs::read_to_string(path)
        .map_err(|e| Fail::usage(format!("{what} {}: {e}", path.display())))
}

/// Calls an operation by name with JSON parameters; the reply as JSON.
async fn call_json(
    client: &yida_api::Client,
    action: &str,
    version: &str,
    input: Value,
) -> Result<Option<Value>, Fail> {
    let meta = yida_api::operation(action, version)
        .ok_or_else(|| Fail::usage(format!("{action}@{version} is not in this build")))?;
    match client.call(meta, input).await? {
        None => Ok(None),
        Some(raw) => serde_json::from_str(raw.get()).map(Some).map_err(|e| {
            Fail(
                crate::fail::DECODE,
                format!("error: {action}@{version}: the reply is not JSON: {e}"),
            )
        }),
    }
}

/// The live form's components, with aliases where the app has them.
pub async fn live_definitions(form_uuid: &str) -> Result<Vec<ComponentDef>, Fail> {
    if !form_uuid.starts_with("FORM-") {
        return Err(Fail::usage(format!(
            "form uuid {form_uuid:?} does not start with FORM-"
        )));
    }
    let client = crate::config::client()?;
    let reply = call_json(
        &client,
        "GetFormComponentDefinitionList",
        "1.0",
        json!({ "formUuid": form_uuid }),
    )
    .await?
    .unwrap_or(Value::Null);
    let mut defs = formgen::parse_definitions(&reply)
        .map_err(|e| Fail::usage(format!("GetFormComponentDefinitionList reply: {e}")))?;
    // Aliases are optional: an app without them (or a server without the operation) keeps
    // the labels.
    match call_json(
        &client,
        "GetFormComponentAliasList",
        "2.0",
        json!({ "formUuid": form_uuid }),
    )
    .await
    {
        Ok(Some(v)) => {
            let aliases: BTreeMap<String, String> = v
                .get("result")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| {
                    Some((
                        a.get("fieldId")?.as_str()?.to_string(),
                        a.get("alias")?.as_str()?.to_string(),
                    ))
                })
                .filter(|(_, a)| !a.is_empty())
                .collect();
            for d in &mut defs {
                if let Some(a) = aliases.get(&d.field_id) {
                    d.alias = Some(a.clone());
                }
            }
        }
        Ok(None) => {}
        Err(Fail(_, msg)) => crate::out::note(&format!(
            "note: no component aliases ({}); names come from the labels",
            msg.lines()
                .next()
                .unwrap_or("")
                .trim_start_matches("error: ")
        )),
    }
    Ok(defs)
}

/// Reads a names file: `id = name` lines or a JSON object.
fn read_names(path: &PathBuf) -> Result<BTreeMap<String, String>, Fail> {
    let text = read_file(path, "names file")?;
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(&text)
            .map_err(|e| Fail::usage(format!("names file {}: {e}", path.display())));
    }
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (id, name) = line.split_once('=').ok_or_else(|| {
            Fail::usage(format!(
                "names file {} line {}: expected `componentId = field_name`",
                path.display(),
                i + 1
            ))
        })?;
        out.insert(id.trim().to_string(), name.trim().to_string());
    }
    Ok(out)
}

/// Runs `yida codegen form`.
pub async fn run(args: CodegenArgs) -> Result<(), Fail> {
    let What::Form(a) = args.what;
    let mut opts = Options::new(&a.struct_name);
    if let Some(p) = &a.names {
        opts.names = read_names(p)?;
    }
    let defs = match &a.definitions {
        Some(p) => {
            let v: Value = serde_json::from_str(&read_file(p, "definitions file")?)
                .map_err(|e| Fail::usage(format!("definitions file {}: {e}", p.display())))?;
            formgen::parse_definitions(&v)
                .map_err(|e| Fail::usage(format!("definitions file {}: {e}", p.display())))?
        }
        None => live_definitions(&a.form_uuid).await?,
    };
    for id in opts.names.keys() {
        if !defs.iter().any(|d| &d.field_id == id) {
            return Err(Fail::usage(format!(
                "names file: {id} is not a component of {}",
                a.form_uuid
            )));
        }
    }
    let code = formgen::generate(&a.form_uuid, &defs, &opts).map_err(Fail::usage)?;
    match &a.out {
        Some(p) => std::fs::write(p, code)
            .map_err(|e| Fail(crate::fail::OUTPUT, format!("error: {}: {e}", p.display()))),
        None => crate::out::stdout(&code),
    }
}
