//! Checks on the request as built, before anything is sent.

use crate::error::Error;
use crate::meta::OperationMeta;

/// Refuses path values that would change the resource hit: `.` and `..` (which a server or
/// proxy resolves as "this" and "parent" segment) and empty values (which drop a segment).
/// `path` is the request path as written (percent-encoded, without endpoint or query); each
/// `{name}` of the template is matched against its segment.
pub(crate) fn check_path(meta: &OperationMeta, path: &str) -> Result<(), Error> {
    let template = meta.path.split('/');
    let mut written = path.split('/');
    for t in template {
        let w = written.next().unwrap_or("");
        let Some(open) = t.find('{') else { continue };
        let Some(close) = t[open..].find('}').map(|c| open + c) else {
            continue;
        };
        let name = &t[open + 1..close];
        let (prefix, suffix) = (&t[..open], &t[close + 1..]);
        // One parameter per segment: its value is what lies between the literal parts.
        let value = if suffix.contains('{') {
            w
        } else {
            w.strip_prefix(prefix)
                .and_then(|v| v.strip_suffix(suffix))
                .unwrap_or(w)
        };
        let problem = match value {
            "" => "must not be empty (it is a path segment)",
            "." | ".." => "must not be `.` or `..` (it is a path segment; it would change the resource addressed)",
            _ => continue,
        };
        let name = meta
            .params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.name)
            .unwrap_or("path");
        return Err(Error::InvalidParameter {
            operation: meta.id(),
            name,
            problem: problem.to_string(),
        });
    }
    Ok(())
}
