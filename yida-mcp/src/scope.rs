//! What a person allowed when starting the server: writes, irreversible steps, and the apps and
//! forms writes may touch.

use crate::ops::Risk;

/// The scope of writes. Reads are never limited by it (they go through the app's own
/// permissions at DingTalk).
///
/// ```
/// let scope = yida_mcp::Scope::read_only();
/// assert!(!scope.allow_writes);
/// let scope = yida_mcp::Scope {
///     allow_writes: true,
///     apps: vec!["APP_1".into()],
///     ..yida_mcp::Scope::read_only()
/// };
/// assert!(scope.validate().is_ok());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Write operations may be called (`--allow-writes`).
    pub allow_writes: bool,
    /// Irreversible operations (start, terminate and delete instances, execute and redirect
    /// tasks, deletes) may be called too (`--allow-irreversible`).
    pub allow_irreversible: bool,
    /// The apps (`APP_…`) writes may touch (`--app`, repeatable). Required with writes.
    pub apps: Vec<String>,
    /// The forms (`FORM-…`) writes may touch (`--form`, repeatable); empty: every form of the
    /// apps above.
    pub forms: Vec<String>,
}

impl Scope {
    /// Reads only: the default.
    pub fn read_only() -> Scope {
        Scope::default()
    }

    /// Checks the scope is one a person could mean: writes need at least one app, and the
    /// irreversible flag needs writes.
    pub fn validate(&self) -> Result<(), String> {
        if self.allow_irreversible && !self.allow_writes {
            return Err("--allow-irreversible needs --allow-writes".into());
        }
        if self.allow_writes && self.apps.is_empty() {
            return Err(
                "--allow-writes needs a scope: at least one --app APP_… (and optionally --form FORM-…)"
                    .into(),
            );
        }
        let scoped = !self.apps.is_empty() || !self.forms.is_empty();
        if scoped && !self.allow_writes {
            return Err("--app and --form scope writes: they need --allow-writes".into());
        }
        Ok(())
    }

    /// Whether an operation of this risk may be called at all, or why not.
    pub(crate) fn permits(&self, risk: Risk) -> Result<(), String> {
        match risk {
            Risk::Read => Ok(()),
            Risk::Write if self.allow_writes => Ok(()),
            Risk::Irreversible if self.allow_writes && self.allow_irreversible => Ok(()),
            Risk::Write => Err("writes are off: the server was started without --allow-writes".into()),
            Risk::Irreversible if self.allow_writes => Err(
                "this operation cannot be undone: the server was started without --allow-irreversible"
                    .into(),
            ),
            Risk::Irreversible => Err(
                "writes are off: the server was started without --allow-writes (and this operation also needs --allow-irreversible)"
                    .into(),
            ),
        }
    }

    /// Whether a write to `app` (and `form`, when known) is inside the scope, or why not.
    pub(crate) fn check_target(&self, app: Option<&str>, form: Option<&str>) -> Result<(), String> {
        let app = app.ok_or_else(|| {
            format!(
                "cannot tell which app this write touches (no appType in the input or the server's context); the scope is --app {}",
                self.apps.join(", --app ")
            )
        })?;
        if !self.apps.iter().any(|a| a == app) {
            return Err(format!(
                "app {app} is outside the scope (--app {})",
                self.apps.join(", --app ")
            ));
        }
        if self.forms.is_empty() {
            return Ok(());
        }
        let form = form.ok_or_else(|| {
            format!(
                "cannot tell which form this write touches; the scope is --form {}",
                self.forms.join(", --form ")
            )
        })?;
        if !self.forms.iter().any(|f| f == form) {
            return Err(format!(
                "form {form} is outside the scope (--form {})",
                self.forms.join(", --form ")
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scoped() -> Scope {
        Scope {
            allow_writes: true,
            allow_irreversible: false,
            apps: vec!["APP_A".into()],
            forms: vec!["FORM-1".into()],
        }
    }

    #[test]
    fn writes_need_an_app_and_irreversible_needs_writes() {
        assert!(Scope::read_only().validate().is_ok());
        let no_app = Scope {
            allow_writes: true,
            ..Scope::default()
        };
        assert!(no_app.validate().unwrap_err().contains("--app"));
        let irr = Scope {
            allow_irreversible: true,
            ..Scope::default()
        };
        assert!(irr.validate().unwrap_err().contains("--allow-writes"));
        let app_only = Scope {
            apps: vec!["APP_A".into()],
            ..Scope::default()
        };
        assert!(app_only.validate().is_err());
    }

    #[test]
    fn risks_and_targets() {
        let s = scoped();
        assert!(s.permits(Risk::Read).is_ok());
        assert!(s.permits(Risk::Write).is_ok());
        assert!(s
            .permits(Risk::Irreversible)
            .unwrap_err()
            .contains("--allow-irreversible"));
        assert!(Scope::read_only()
            .permits(Risk::Write)
            .unwrap_err()
            .contains("--allow-writes"));
        assert!(s.check_target(Some("APP_A"), Some("FORM-1")).is_ok());
        assert!(s
            .check_target(Some("APP_B"), Some("FORM-1"))
            .unwrap_err()
            .contains("APP_B"));
        assert!(s
            .check_target(Some("APP_A"), Some("FORM-2"))
            .unwrap_err()
            .contains("FORM-2"));
        assert!(s
            .check_target(Some("APP_A"), None)
            .unwrap_err()
            .contains("which form"));
        assert!(s
            .check_target(None, Some("FORM-1"))
            .unwrap_err()
            .contains("which app"));
    }
}
