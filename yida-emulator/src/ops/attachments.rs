//! Attachments: GetOpenUrl exchanges a stored attachment URL for a temporary one, which the
//! server's `/emu-oss/…` route serves until it expires.

use super::Call;
use crate::shared::{file_name_of, ApiErr};
use serde_json::{json, Value};

/// The lifetime of a temporary URL when the call gives none (GetOpenUrl's documented default).
const DEFAULT_LIFETIME_MS: i64 = 60_000;
/// The longest lifetime GetOpenUrl grants (24 hours).
const MAX_LIFETIME_MS: i64 = 86_400_000;

/// GetOpenUrl.
pub(super) fn open_url(c: &Call) -> Result<Option<Value>, ApiErr> {
    let url = c.p.req("fileUrl")?;
    let lifetime = c.p.i("timeout").unwrap_or(DEFAULT_LIFETIME_MS);
    if !(1..=MAX_LIFETIME_MS).contains(&lifetime) {
        return Err(ApiErr::bad(
            "invalidParameter",
            format!("timeout must be between 1 and {MAX_LIFETIME_MS} ms, not {lifetime}"),
        ));
    }
    let name = file_name_of(url)
        .filter(|n| c.shared.file(n).is_some())
        .ok_or_else(|| {
            ApiErr::bad(
                "invalidParameter",
                "fileUrl names no file of this app (an attachment URL as stored in form data: /ossFileHandle?fileName=…)",
            )
        })?;
    Ok(Some(
        json!({ "result": c.shared.temporary_url(&name, lifetime) }),
    ))
}
