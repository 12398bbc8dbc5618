//! `yida ops`: list the operations the spec describes.

use crate::fail::Fail;
use std::io::Write;

/// List every operation (area, action, version, method, path).
#[derive(clap::Args, Debug)]
pub struct OpsArgs {
    /// Machine-readable output: one JSON array with each operation's parameters.
    #[arg(long)]
    pub json: bool,
}

/// Prints the operation list.
pub async fn run(args: OpsArgs) -> Result<(), Fail> {
    let ops = yida_api::operations();
    let mut out = std::io::stdout().lock();
    if args.json {
        let list: Vec<serde_json::Value> = ops
            .iter()
            .map(|o| {
                serde_json::json!({
                    "action": o.action,
                    "version": o.version,
                    "method": o.method,
                    "path": o.path,
                    "area": o.area,
                    "doc": o.doc,
                    "permission": o.permission,
                    "readOnly": o.read_only,
                    "seed": o.seed,
                    "legacy": o.legacy.map(|(a, v)| format!("{a}@{v}")),
                    "paginated": o.pagination.is_some(),
                    "params": o.params.iter().map(|p| serde_json::json!({
                        "name": p.name,
                        "in": match p.location { yida_api::ParamLocation::Path => "path", yida_api::ParamLocation::Query => "query", yida_api::ParamLocation::Body => "body" },
                        "type": p.ty,
                        "required": p.required,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&list).unwrap_or_default()
        );
    } else {
        for o in &ops {
            let legacy = o
                .legacy
                .map(|(a, v)| format!("  [legacy → {a} {v}]"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:<12} {:<48} {:<4} {:<6} {}{}",
                o.area, o.action, o.version, o.method, o.path, legacy
            );
        }
        let _ = writeln!(out, "{} operations", ops.len());
    }
    Ok(())
}
