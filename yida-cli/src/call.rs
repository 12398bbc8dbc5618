//! `yida call`: send one operation (or walk every page of a list operation), and
//! `yida call <Action> --help`: that operation's parameters from the spec.

use crate::fail::{Fail, OUTPUT};
use crate::out;
use crate::output::{Doc, OutputArgs, Shaper};
use std::io::IsTerminal;
use yida_api::{Client, OperationMeta, ParamType, Risk};

/// Send one operation and print the reply as received (JSON).
///
/// --input is one JSON object of the operation's parameters by their wire names (path
/// parameters included); JSON-text parameters such as formDataJson may be given as text or as
/// the JSON value. `yida call <Action> --help` lists the operation's parameters.
#[derive(clap::Args, Debug)]
#[command(disable_help_flag = true)]
pub struct CallArgs {
    /// The operation's action name, e.g. SaveFormData (see `yida ops`).
    #[arg(index = 1)]
    pub action: Option<String>,
    /// Parameters as NAME=VALUE (merged over --input): the value is text for a string
    /// parameter, else JSON (`taskId=7`, `useAlias=true`, `formDataJson='{"textField_a":"x"}'`).
    #[arg(index = 2, value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// API version of the operation [default: the current one: 2.0 where a 2.0 operation
    /// replaces a legacy 1.0 one, else the only one].
    #[arg(long, value_name = "VERSION", value_parser = ["1.0", "2.0"])]
    pub api_version: Option<String>,
    /// The parameters: one JSON (or YAML) object, `@file.json` / `@file.yaml` to read it
    /// from a file, or `-` for stdin.
    #[arg(long, value_name = "JSON | @file | -")]
    pub input: Option<String>,
    /// Walk every page of a list operation; print one JSON item per line, progress on stderr.
    #[arg(long)]
    pub all: bool,
    /// With --all: pages in flight at once once the first page has told `totalCount` (paced
    /// under the quota; keep 1 when records change during the walk).
    #[arg(long, default_value_t = 1, requires = "all", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// With --all: fetch at most N pages; past it the walk stops with an error [default: 1000,
    /// and a walk whose totalCount needs more stops after its first page].
    #[arg(long, value_name = "N", requires = "all", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pages: Option<u64>,
    /// Print the request it would send (secrets redacted), the validation result and the
    /// calls the job would use; send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run --all: spend one real call (page 1) to learn totalCount, so the number of
    /// calls is known.
    #[arg(long, requires = "dry_run")]
    pub probe: bool,
    /// Print help; with an action, that operation's parameters.
    #[arg(short, long)]
    pub help: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The operation `action` names at `version`, or its current version when none is given.
pub fn find_op(action: &str, version: Option<&str>) -> Result<&'static OperationMeta, Fail> {
    let ops = yida_api::operations();
    let same: Vec<&'static OperationMeta> =
        ops.iter().copied().filter(|o| o.action == action).collect();
    if same.is_empty() {
        let names = yida_api::did_you_mean(action, ops.iter().map(|o| o.action));
        let hint = if names.is_empty() {
            "see `yida ops`".to_string()
        } else {
            format!("did you mean {}?", quoted(&names))
        };
        return Err(Fail::usage(format!("unknown operation `{action}`: {hint}")));
    }
    let meta: &'static OperationMeta = match version {
        Some(v) => match same.iter().find(|o| o.version == v) {
            Some(op) => op,
            None => {
                let versions: Vec<&str> = same.iter().map(|o| o.version).collect();
                return Err(Fail::usage(format!(
                    "{action} has no API version {v}; it exists in API version {} \
                     (use --api-version {})",
                    versions.join(", "),
                    versions[0]
                )));
            }
        },
        None => yida_api::current_operation(action).unwrap_or(same[same.len() - 1]),
    };
    if let (Some(_), Some(replacement)) = (version, meta.legacy) {
        out::note(&format!(
            "note: {} is a legacy operation; {replacement} replaces it (the default without \
             --api-version)",
            meta.id
        ));
    }
    Ok(meta)
}

fn context_var(name: &str) -> Option<&'static str> {
    Some(match name {
        "appType" => "YIDA_APP_TYPE",
        "systemToken" => "YIDA_SYSTEM_TOKEN",
        "userId" => "YIDA_USER_ID",
        "language" => "YIDA_LANGUAGE",
        _ => return None,
    })
}

/// `yida call <Action> --help`: the operation and its parameters, from the spec.
fn op_help(meta: &OperationMeta) -> String {
    let mut s = format!("{}: {}\n\n", meta.id, meta.doc);
    s.push_str(&format!("  {} {}\n", meta.method, meta.path));
    s.push_str(&format!("  area: {}", meta.area));
    if let Some(p) = meta.permission {
        s.push_str(&format!("; permission: {p}"));
    }
    s.push_str(&format!("; risk: {}", meta.risk));
    s.push_str(match meta.risk {
        Risk::Read => " (read-only: retried on transient failures)\n",
        Risk::Write => " (changes data; never retried once it may have applied)\n",
        Risk::Irreversible => " (cannot be undone; never retried once it may have applied)\n",
    });
    if let Some(replacement) = meta.legacy {
        s.push_str(&format!("  legacy: {replacement} replaces it\n"));
    }
    if meta.pagination.is_some() {
        s.push_str("  paginated: --all walks every page\n");
    }
    let required: Vec<String> = meta
        .params
        .iter()
        .filter(|p| p.required && !p.context)
        .map(|p| format!("\"{}\": …", p.name))
        .collect();
    s.push_str(&format!(
        "\nUsage: yida call {} --api-version {} --input '{{{}}}'\n\nParameters (--input, by wire \
         name):\n",
        meta.action,
        meta.version,
        required.join(", ")
    ));
    let width = meta
        .params
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let ty_width = meta
        .params
        .iter()
        .map(|p| p.ty.to_string().len())
        .max()
        .unwrap_or(4)
        .max(4);
    s.push_str(&format!(
        "  {:<width$}  {:<ty_width$}  {:<8}  {:<5}  description\n",
        "name", "type", "required", "in"
    ));
    for p in meta.params {
        let mut doc = p.doc.to_string();
        if p.context {
            if let Some(var) = context_var(p.name) {
                doc.push_str(&format!(" [default: ${var}]"));
            }
        }
        if p.ty == ParamType::JsonText {
            doc.push_str(" [JSON text: give the text or the JSON value]");
        }
        s.push_str(&format!(
            "  {:<width$}  {:<ty_width$}  {:<8}  {:<5}  {}\n",
            p.name,
            p.ty.to_string(),
            if p.required { "yes" } else { "no" },
            p.location.as_str(),
            doc.trim()
        ));
    }
    s
}

/// Sends the operation and prints the reply.
pub async fn run(args: CallArgs) -> Result<(), Fail> {
    let Some(action) = args.action.as_deref() else {
        if args.help {
            return out::stdout(&crate::subcommand_help("call"));
        }
        return Err(Fail::usage(
            "which operation? `yida call <Action>` (see `yida ops`, `yida call --help`)",
        ));
    };
    let meta = find_op(action, args.api_version.as_deref())?;
    if args.help {
        return out::stdout(&op_help(meta));
    }
    let mut input = crate::input::read(args.input.as_deref())?;
    crate::input::merge_params(meta, &mut input, &args.params)?;
    // The input is checked by the library (names, types, required) before anything is sent;
    // the output options here, so a bad --jq costs no call either.
    let shaper = Shaper::new(&args.output)?;
    let client = crate::config::client()?;
    if args.dry_run {
        return crate::dry_run::call(&client, meta, input, args.all, args.probe, args.max_pages)
            .await;
    }
    if args.all {
        return call_all(
            &client,
            meta,
            input,
            usize::from(args.concurrency),
            args.max_pages,
            &shaper,
        )
        .await;
    }
    let reply = client.call(meta, input).await?;
    crate::output::print_reply(&shaper, meta, reply.as_deref().map(|r| r.get()))
        .map_err(|f| sent_but_not_written(f, meta))
}

/// An output failure after a write was sent says so: the reply (e.g. a new record id) is lost.
fn sent_but_not_written(f: Fail, meta: &OperationMeta) -> Fail {
    match f {
        Fail(OUTPUT, msg) if !meta.read_only() => Fail(
            OUTPUT,
            format!(
                "{msg}\n  {} was sent and applied; its reply is lost",
                meta.id
            ),
        ),
        f => f,
    }
}

/// `--all`: every page, one JSON item per line, progress on stderr.
async fn call_all(
    client: &Client,
    meta: &'static OperationMeta,
    input: serde_json::Value,
    concurrency: usize,
    max_pages: Option<u64>,
    shaper: &Shaper,
) -> Result<(), Fail> {
    if meta.pagination.is_none() {
        return Err(Fail::usage(format!(
            "{} is not a paginated operation; --all does not apply",
            meta.id
        )));
    }
    let mut pages = client.paginate_json(meta, input)?.concurrency(concurrency);
    if let Some(n) = max_pages {
        pages = pages.max_pages(n);
    }
    let progress = Progress::new();
    let mut rows: Vec<Doc> = Vec::new();
    let mut first = true;
    let result = async {
        while let Some(items) = pages.next_items().await {
            let mut values = Vec::new();
            for item in items? {
                let item = Doc::from_value(item);
                values.extend(shaper.values(item)?);
            }
            if shaper.collects() {
                rows.extend(values);
            } else {
                // An output error (a closed pipe, a full disk) stops the walk here.
                out::stdout(&shaper.render_items(&values, first))?;
                first &= values.is_empty();
            }
            progress.page(pages.pages(), pages.fetched(), pages.total_count());
        }
        Ok(())
    }
    .await;
    let result = result.and_then(|()| match shaper.collects() {
        true => out::stdout(&shaper.table_of_rows(rows)),
        false => Ok(()),
    });
    progress.finish(result.is_ok());
    result
}

/// Progress of a walk on stderr: a bar on a terminal, one line per page otherwise.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new() -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar =
            indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        Progress(Some(bar))
    }

    fn page(&self, page: i64, seen: i64, total: Option<i64>) {
        let total_s = total.map(|t| t.to_string()).unwrap_or_else(|| "?".into());
        let Some(bar) = &self.0 else {
            out::note(&format!("page {page}: {seen}/{total_s} items"));
            return;
        };
        let template = match total {
            Some(t) => {
                bar.set_length(t.max(0) as u64);
                "[{bar:30}] {pos}/{len} items, page {msg}"
            }
            None => "{pos}/? items, page {msg}",
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("## "));
        }
        bar.set_message(page.to_string());
        bar.set_position(seen.max(0) as u64);
    }

    fn finish(&self, ok: bool) {
        if let Some(bar) = &self.0 {
            if ok {
                bar.finish();
            } else {
                bar.abandon();
            }
        }
    }
}
