//! The call ledger of the CLI (`YIDA_LEDGER`, `YIDA_CORP_ID`, `YIDA_CALL_BUDGET`) and
//! `yida quota`: this month's calls and what is left of the budget.

use crate::config::env;
use crate::fail::Fail;
use std::collections::BTreeMap;
use std::path::PathBuf;
use yida_api::ledger::{CallBudget, FileLedger, Ledger, Month, OrgUsage};

/// The ledger settings read from the environment.
pub struct LedgerConfig {
    /// The folder of the file ledger.
    pub dir: PathBuf,
    /// The organisation the calls count for.
    pub org: String,
    /// The budget, if set.
    pub budget: Option<CallBudget>,
}

/// The organisation calls count for: `YIDA_CORP_ID`, else `YIDA_AUTH_CORP_ID`, else the app
/// key, else `default`.
pub fn org() -> String {
    env("YIDA_CORP_ID")
        .or_else(|| env("YIDA_AUTH_CORP_ID"))
        .or_else(|| env("YIDA_APP_KEY"))
        .or_else(|| env("YIDA_SUITE_KEY"))
        .unwrap_or_else(|| "default".into())
}

fn number(name: &str) -> Result<Option<u64>, Fail> {
    env(name)
        .map(|v| {
            v.trim().parse::<u64>().map_err(|_| {
                Fail::usage(format!("{name} must be a whole number of calls, not {v:?}"))
            })
        })
        .transpose()
}

/// `YIDA_CALL_BUDGET` (monthly limit, refused past it) and `YIDA_CALL_BUDGET_WARN` (warn from
/// this many calls; default 80 % of the limit).
pub fn budget() -> Result<Option<CallBudget>, Fail> {
    let Some(limit) = number("YIDA_CALL_BUDGET")? else {
        if env("YIDA_CALL_BUDGET_WARN").is_some() {
            return Err(Fail::usage(
                "YIDA_CALL_BUDGET_WARN needs YIDA_CALL_BUDGET (the monthly limit)",
            ));
        }
        return Ok(None);
    };
    let mut b = CallBudget::monthly(limit);
    if let Some(w) = number("YIDA_CALL_BUDGET_WARN")? {
        b = b.warn_at(w);
    }
    Ok(Some(b))
}

/// The ledger the environment asks for: `YIDA_LEDGER` = `off`, or a folder (default: the
/// user's data folder, see [`FileLedger::default_dir`]). `None`: no ledger (turned off, or no
/// home folder to keep it in and no budget asking for one).
pub fn config() -> Result<Option<LedgerConfig>, Fail> {
    let budget = budget()?;
    let dir = match env("YIDA_LEDGER") {
        Some(v) if v.trim() == "off" => {
            if budget.is_some() {
                return Err(Fail::usage(
                    "YIDA_CALL_BUDGET needs the call ledger, but YIDA_LEDGER is off",
                ));
            }
            return Ok(None);
        }
        Some(v) => PathBuf::from(v.trim()),
        None => match FileLedger::default_dir() {
            Some(d) => d,
            None if budget.is_some() => {
                return Err(Fail::usage(
                    "YIDA_CALL_BUDGET needs the call ledger: set YIDA_LEDGER to a folder (no \
                     home folder to keep it in)",
                ))
            }
            None => return Ok(None),
        },
    };
    Ok(Some(LedgerConfig {
        dir,
        org: org(),
        budget,
    }))
}

/// The ledger and organisation for [`crate::config::client`].
pub fn ledger() -> Result<Option<(Ledger, String)>, Fail> {
    let Some(c) = config()? else {
        return Ok(None);
    };
    let mut ledger = Ledger::new(FileLedger::new(c.dir));
    if let Some(b) = c.budget {
        ledger = ledger.budget(c.org.clone(), b);
    }
    Ok(Some((ledger, c.org)))
}

/// This month's calls (China time) from the call ledger, and what is left of the budget.
///
/// Every call the CLI sends is counted in a file ledger (default `~/.local/share/yida/ledger`,
/// `YIDA_LEDGER` to move it, `off` to stop counting) per organisation (`YIDA_CORP_ID`, else the
/// app's corp or key), app and operation; token fetches and DingTalk's `ApiCountLimitForOrg`
/// refusals are counted apart. `YIDA_CALL_BUDGET=N` refuses calls past N a month (nothing is
/// sent) and warns from 80 % (`YIDA_CALL_BUDGET_WARN`).
#[derive(clap::Args, Debug)]
pub struct QuotaArgs {
    /// The month, `YYYY-MM` (China time) [default: this month].
    #[arg(long, value_name = "YYYY-MM")]
    pub month: Option<String>,
    /// Break the calls down by operation or by app.
    #[arg(long, value_enum)]
    pub by: Option<By>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// How `yida quota --by` breaks the calls down.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// Per `Action@version`.
    Operation,
    /// Per app (`appType`).
    App,
}

fn breakdown(usage: &OrgUsage, by: By) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for (app, ops) in &usage.by_app {
        for (op, n) in ops {
            let key = match by {
                By::Operation => op.clone(),
                By::App => app.clone(),
            };
            *out.entry(key).or_insert(0) += n;
        }
    }
    out
}

/// Runs `yida quota`.
pub async fn run(args: QuotaArgs) -> Result<(), Fail> {
    let month: Month = match &args.month {
        Some(m) => m
            .parse()
            .map_err(|e| Fail::usage(format!("--month: {e}")))?,
        None => Month::now(),
    };
    let Some(c) = config()? else {
        crate::out::note(
            "note: no call ledger (YIDA_LEDGER is off, or there is no home folder to keep it \
             in): nothing is counted",
        );
        let text = if args.json {
            format!(
                "{}\n",
                serde_json::json!({"month": month.to_string(), "ledger": null, "orgs": []})
            )
        } else {
            format!("month {month} (China time, UTC+8); no call ledger\n")
        };
        return crate::out::stdout(&text);
    };
    let ledger = FileLedger::new(&c.dir);
    let usage = Ledger::new(ledger)
        .usage(month)
        .await
        .map_err(|e| Fail(crate::fail::FAILED, format!("error: {e}")))?;
    let mut orgs = usage.orgs;
    // The configured organisation is always shown, with its budget.
    orgs.entry(c.org.clone()).or_default();
    if args.json {
        let list: Vec<serde_json::Value> = orgs
            .iter()
            .map(|(org, u)| {
                let budget = (org == &c.org).then_some(c.budget.as_ref()).flatten();
                let mut v = serde_json::json!({
                    "org": org,
                    "calls": u.calls,
                    "tokenFetches": u.token_fetches,
                    "limitReplies": u.limit_replies,
                });
                if let Some(b) = budget {
                    v["budget"] = b.limit().into();
                    v["left"] = b.limit().saturating_sub(u.calls).into();
                }
                if let Some(by) = args.by {
                    v["by"] = serde_json::to_value(breakdown(u, by)).unwrap_or_default();
                }
                v
            })
            .collect();
        let doc = serde_json::json!({
            "month": month.to_string(),
            "ledger": c.dir.display().to_string(),
            "orgs": list,
        });
        return crate::out::stdout(&format!("{doc}\n"));
    }
    let mut text = format!(
        "month {month} (China time, UTC+8); ledger {}\n",
        c.dir.display()
    );
    for (org, u) in &orgs {
        text.push_str(&format!(
            "{org}: {} calls, {} token fetches",
            u.calls, u.token_fetches
        ));
        if org == &c.org {
            if let Some(b) = &c.budget {
                text.push_str(&format!(
                    "; budget {}: {} left",
                    b.limit(),
                    b.limit().saturating_sub(u.calls)
                ));
            }
        }
        text.push('\n');
        if u.limit_replies > 0 {
            text.push_str(&format!(
                "  DingTalk refused {} calls with ApiCountLimitForOrg (the monthly quota is used up)\n",
                u.limit_replies
            ));
        }
        if let Some(by) = args.by {
            let rows = breakdown(u, by);
            let width = rows.keys().map(|k| k.chars().count()).max().unwrap_or(0);
            for (k, n) in rows {
                text.push_str(&format!("  {k:<width$}  {n:>8}\n"));
            }
        }
    }
    crate::out::stdout(&text)
}
