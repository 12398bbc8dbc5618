//! `drift:` entries: where the spec deliberately differs from the official SDK or DingTalk's
//! pages, as data (`cargo xtask drift` matches differences against them; the emitters never
//! read them). Checked and lowered into [`crate::ir::Drift`] here.

use crate::ir::{Drift, DriftFact, DriftSource, DriftSubject};
use crate::spec::DriftDef;

/// Where entries are written.
pub(crate) enum Place<'a> {
    /// On an operation: the wire names of its parameters and whether it has a reply model.
    Operation {
        params: &'a [&'a str],
        has_reply: bool,
    },
    /// On the parameter of this wire name.
    Param(&'a str),
    /// On the model field of this wire name.
    Field(&'a str),
}

/// Checks and lowers the entries written at `place`; `note` is the note beside them (the
/// reason of an entry without `why`). Problems come back as `(line, message)`.
pub(crate) fn lower(
    defs: &[DriftDef],
    place: &Place<'_>,
    note: Option<&str>,
) -> (Vec<Drift>, Vec<(usize, String)>) {
    let mut out: Vec<Drift> = Vec::new();
    let mut problems = Vec::new();
    for def in defs {
        let line = def.source.line;
        match entry(def, place, note, line) {
            Ok(d) => {
                let twin = out
                    .iter()
                    .any(|o| o.source == d.source && o.fact == d.fact && o.subject == d.subject);
                if twin {
                    let msg = format!(
                        "drift: two entries for {} {} of {}",
                        d.source.as_str(),
                        d.fact.as_str(),
                        d.subject
                    );
                    problems.push((line, msg));
                } else {
                    out.push(d);
                }
            }
            Err(msg) => problems.push((line, format!("drift: {msg}"))),
        }
    }
    (out, problems)
}

fn entry(
    def: &DriftDef,
    place: &Place<'_>,
    note: Option<&str>,
    line: usize,
) -> Result<Drift, String> {
    let source = DriftSource::parse(&def.source.value).ok_or_else(|| {
        let all = DriftSource::ALL.map(DriftSource::as_str).join(" or ");
        format!("unknown source `{}` ({all})", def.source.value)
    })?;
    let fact = DriftFact::parse(&def.fact).ok_or_else(|| {
        let all = DriftFact::ALL.map(DriftFact::as_str).join(", ");
        format!("unknown fact `{}` ({all})", def.fact)
    })?;
    let subject = subject(def, fact, place)?;
    let says = says(def, fact)?;
    let why = match (&def.why, note) {
        (Some(w), _) if w.trim().is_empty() => return Err("`why` is empty".into()),
        (Some(w), _) => w.trim().to_string(),
        (None, Some(n)) if !n.trim().is_empty() => n.trim().to_string(),
        _ => return Err("say why: give `why:` or write a `note:` beside the entry".into()),
    };
    if let Some(c) = why.chars().find(|c| c.is_control()) {
        return Err(format!("`why` holds the control character {c:?}"));
    }
    Ok(Drift {
        source,
        fact,
        subject,
        says,
        why,
        line,
    })
}

/// The subject: implied on a parameter or field, named with `subject:` on an operation.
fn subject(def: &DriftDef, fact: DriftFact, place: &Place<'_>) -> Result<DriftSubject, String> {
    use DriftFact::*;
    let f = fact.as_str();
    let (params, has_reply) = match place {
        Place::Param(name) => {
            let ok = matches!(fact, Required | Type | Location | Removed);
            own_subject(def, "parameter", ok, "required, type, location or removed")?;
            return Ok(DriftSubject::Param(name.to_string()));
        }
        Place::Field(name) => {
            own_subject(
                def,
                "field",
                matches!(fact, Type | Removed),
                "type or removed",
            )?;
            return Ok(DriftSubject::Field(name.to_string()));
        }
        Place::Operation { params, has_reply } => (*params, *has_reply),
    };
    let Some(text) = def.subject.as_deref().map(str::trim) else {
        return if matches!(
            fact,
            Method | Path | Permission | AppKinds | Added | Removed
        ) {
            Ok(DriftSubject::Operation)
        } else {
            Err(format!(
                "fact `{f}` on an operation needs `subject: param <name>` or `subject: reply <path>`"
            ))
        };
    };
    if let Some(name) = text.strip_prefix("param ").map(str::trim) {
        if !matches!(fact, Required | Type | Location | Removed | Added) {
            let msg = format!("fact `{f}` does not apply to a parameter (required, type, location, added or removed)");
            return Err(msg);
        }
        let known = params.contains(&name);
        if fact == Added && known {
            return Err(format!(
                "`param {name}` is in the spec; `added` is for a parameter only the source has"
            ));
        }
        if fact != Added && !known {
            return Err(format!("the operation has no parameter `{name}`"));
        }
        return Ok(DriftSubject::Param(name.to_string()));
    }
    if text == "reply" {
        return match fact {
            Added if !has_reply => Ok(DriftSubject::Reply(String::new())),
            Removed if has_reply => Ok(DriftSubject::Reply(String::new())),
            Added | Removed => Err(format!(
                "`{f}` of the reply body, but the operation {} a reply model",
                if has_reply { "has" } else { "has no" }
            )),
            _ => Err(format!(
                "fact `{f}` does not apply to the reply body (added or removed)"
            )),
        };
    }
    if let Some(path) = text.strip_prefix("reply ").map(str::trim) {
        if !matches!(fact, Type | Removed | Added) {
            let msg =
                format!("fact `{f}` does not apply to a reply field (type, added or removed)");
            return Err(msg);
        }
        if !has_reply {
            return Err(format!(
                "subject `reply {path}`, but the operation has no reply model"
            ));
        }
        return Ok(DriftSubject::Reply(path.to_string()));
    }
    Err(format!(
        "subject `{text}` must be `param <name>`, `reply` or `reply <path>`"
    ))
}

/// An entry on a parameter or field (`what`) is about it: no `subject:`, and only the facts
/// `allowed` there (`fits`).
fn own_subject(def: &DriftDef, what: &str, fits: bool, allowed: &str) -> Result<(), String> {
    if let Some(s) = &def.subject {
        return Err(format!(
            "`subject: {s}` on a {what}: the entry is about the {what} it sits on"
        ));
    }
    if !fits {
        let f = &def.fact;
        return Err(format!("fact `{f}` does not apply to a {what} ({allowed})"));
    }
    Ok(())
}

/// What the source says: required for every fact but `added` (optional) and `removed` (the
/// source has nothing to say), and one of the source's words where there are few.
fn says(def: &DriftDef, fact: DriftFact) -> Result<Option<String>, String> {
    use DriftFact::*;
    let f = fact.as_str();
    let Some(says) = def.says.as_deref().map(str::trim) else {
        return match fact {
            Added | Removed => Ok(None),
            _ => Err(format!(
                "fact `{f}` needs `says:` (what the source says now)"
            )),
        };
    };
    let one_of = |words: &[&str]| -> Result<(), String> {
        if words.contains(&says) {
            Ok(())
        } else {
            Err(format!(
                "`says: {says}` for `{f}` must be one of {}",
                words.join(", ")
            ))
        }
    };
    match fact {
        Removed => return Err("a `removed` entry has no `says:` (the source lacks it)".into()),
        Required => one_of(&["required", "optional"])?,
        Location => one_of(&["path", "query", "body"])?,
        Method => one_of(&["GET", "POST", "PUT", "DELETE", "PATCH"])?,
        _ if says.is_empty() => return Err("`says` is empty".into()),
        _ => {}
    }
    Ok(Some(says.to_string()))
}
