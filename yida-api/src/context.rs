//! Parameters most calls share, set once on the client.

use std::fmt;
use yida_auth::Secret;

/// The Yida app a client works for, and who it acts as. Filled into every operation that takes
/// these parameters, unless the request sets its own.
///
/// ```
/// use yida_api::AppContext;
/// let ctx = AppContext::new()
///     .app_type("APP_XXXX")
///     .system_token("app-secret-token")
///     .user_id("manager123")
///     .language("en_US");
/// assert!(!format!("{ctx:?}").contains("app-secret-token"));
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct AppContext {
    app_type: Option<String>,
    system_token: Option<Secret>,
    user_id: Option<String>,
    language: Option<String>,
}

impl AppContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// `appType`: the app's code (`APP_…`).
    pub fn app_type(mut self, v: impl Into<String>) -> Self {
        self.app_type = Some(v.into());
        self
    }

    /// `systemToken`: the app's secret key (redacted in `Debug`).
    pub fn system_token(mut self, v: impl Into<Secret>) -> Self {
        self.system_token = Some(v.into());
        self
    }

    /// `userId`: the DingTalk user the calls act as.
    pub fn user_id(mut self, v: impl Into<String>) -> Self {
        self.user_id = Some(v.into());
        self
    }

    /// `language`: `zh_CN` or `en_US`.
    pub fn language(mut self, v: impl Into<String>) -> Self {
        self.language = Some(v.into());
        self
    }

    /// The value of the context parameter with this wire name, if set. The generated code
    /// fills every parameter named in `yida_codegen::CONTEXT_PARAMS` from here.
    #[allow(dead_code)]
    pub(crate) fn value(&self, wire_name: &str) -> Option<&str> {
        match wire_name {
            "appType" => self.app_type.as_deref(),
            "systemToken" => self.system_token.as_ref().map(Secret::expose),
            "userId" => self.user_id.as_deref(),
            "language" => self.language.as_deref(),
            _ => None,
        }
    }
}

impl fmt::Debug for AppContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppContext")
            .field("app_type", &self.app_type)
            .field("system_token", &self.system_token)
            .field("user_id", &self.user_id)
            .field("language", &self.language)
            .finish()
    }
}
