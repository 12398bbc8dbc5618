//! `yida forms check`: does a generated module (or a saved definitions reply) still match the
//! live form?

use crate::codegen_form::{live_definitions, read_file};
use crate::fail::Fail;
use serde_json::Value;
use std::path::PathBuf;
use yida_api::formgen::{self, DeclaredField};

/// Compare a generated module (`yida codegen form`) or a saved GetFormComponentDefinitionList
/// reply with the live form, and name the components added, removed and retyped. Exit codes:
/// 0 the same, 1 drift (or the live form could not be read), 2 bad input.
#[derive(clap::Args, Debug)]
pub struct FormsArgs {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand, Debug)]
enum What {
    /// Compare with the live form.
    Check(CheckArgs),
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// A generated `.rs` module, or a `.json` definitions reply.
    file: PathBuf,
    /// The live form (`FORM-…`).
    form_uuid: String,
}

/// Exit code: the declared form differs from the live one.
const DRIFT: u8 = 1;

/// Runs `yida forms check`.
pub async fn run(args: FormsArgs) -> Result<(), Fail> {
    let What::Check(a) = args.what;
    let text = read_file(&a.file, "file")?;
    let declared: Vec<DeclaredField> = if text.trim_start().starts_with(['{', '[']) {
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| Fail::usage(format!("{}: {e}", a.file.display())))?;
        formgen::parse_definitions(&v)
            .map_err(|e| Fail::usage(format!("{}: {e}", a.file.display())))?
            .into_iter()
            .map(|d| DeclaredField {
                field_id: d.field_id,
                component_name: Some(d.component_name).filter(|s| !s.is_empty()),
            })
            .collect()
    } else {
        let (form, fields) = formgen::declared_fields(&text)
            .map_err(|e| Fail::usage(format!("{}: {e}", a.file.display())))?;
        if let Some(f) = form.filter(|f| f != &a.form_uuid) {
            return Err(Fail::usage(format!(
                "{} is the module of {f}, not of {}",
                a.file.display(),
                a.form_uuid
            )));
        }
        fields
    };
    let live = live_definitions(&a.form_uuid)
        .await
        .map_err(|Fail(_, msg)| Fail(DRIFT, msg))?;
    let drift = formgen::compare(&declared, &live);
    if drift.is_empty() {
        return crate::out::stdout(&format!(
            "{}: same as {} ({} components)\n",
            a.file.display(),
            a.form_uuid,
            live.len()
        ));
    }
    let mut out = String::new();
    for (id, kind, label) in &drift.added {
        out.push_str(&format!(
            "added: {id} ({kind}, {})\n",
            crate::fail::clean(label)
        ));
    }
    for id in &drift.removed {
        out.push_str(&format!("removed: {id}\n"));
    }
    for (id, was, now) in &drift.retyped {
        out.push_str(&format!("retyped: {id} ({was} -> {now})\n"));
    }
    crate::out::stdout(&out)?;
    Err(Fail(
        DRIFT,
        format!(
            "error: {} differs from the live form {}: {} added, {} removed, {} retyped",
            a.file.display(),
            a.form_uuid,
            drift.added.len(),
            drift.removed.len(),
            drift.retyped.len()
        ),
    ))
}
