//! `yida ops`: list the operations the spec describes.

use crate::fail::Fail;

/// List the operations (area, action, version, method, path), all or those matching a filter.
#[derive(clap::Args, Debug)]
pub struct OpsArgs {
    /// Only operations whose action name, area, description or DingTalk page title (Chinese)
    /// contains this text (case-insensitive; several words: each must match), e.g.
    /// `yida ops 审批`, `yida ops form`, `yida ops "form instance"`. Paths are not searched.
    pub filter: Option<String>,
    /// Machine-readable output: one JSON array with each operation's parameters.
    #[arg(long)]
    pub json: bool,
}

/// Whether every word of `filter` (lowercase) is in the action name, area, description or
/// Chinese title of `o`.
pub fn matches(o: &yida_api::OperationMeta, filter: &str) -> bool {
    let fields = [o.action, o.area, o.doc, o.doc_title.unwrap_or("")].map(str::to_lowercase);
    filter
        .split_whitespace()
        .all(|word| fields.iter().any(|f| f.contains(word)))
}

/// Prints the operation list.
pub async fn run(args: OpsArgs) -> Result<(), Fail> {
    let filter = args.filter.as_deref().map(str::to_lowercase);
    let ops: Vec<_> = yida_api::operations()
        .into_iter()
        .filter(|o| filter.as_deref().is_none_or(|f| matches(o, f)))
        .collect();
    let mut text = String::new();
    if args.json {
        let list: Vec<serde_json::Value> = ops
            .iter()
            .map(|o| {
                serde_json::json!({
                    "action": o.action,
                    "version": o.version,
                    "method": o.method.as_str(),
                    "path": o.path,
                    "area": o.area,
                    "doc": o.doc,
                    "docTitle": o.doc_title,
                    "permission": o.permission,
                    "risk": o.risk.as_str(),
                    "readOnly": o.read_only(),
                    "seed": o.seed,
                    "legacy": o.legacy.map(|l| l.to_string()),
                    "paginated": o.pagination.is_some(),
                    "params": o.params.iter().map(|p| serde_json::json!({
                        "name": p.name,
                        "in": p.location.as_str(),
                        "type": p.ty.to_string(),
                        "required": p.required,
                        "doc": p.doc,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        text = serde_json::to_string_pretty(&list).unwrap_or_default();
        text.push('\n');
    } else {
        for o in &ops {
            let legacy = o
                .legacy
                .map(|l| format!("  [legacy → {} {}]", l.action(), l.version()))
                .unwrap_or_default();
            let title = o.doc_title.map(|t| format!("  {t}")).unwrap_or_default();
            text.push_str(&format!(
                "{:<12} {:<48} {:<4} {:<6} {}{}{}\n",
                o.area, o.action, o.version, o.method, o.path, title, legacy
            ));
        }
        text.push_str(&format!("{} operations\n", ops.len()));
    }
    crate::out::stdout(&text)
}
