//! What the emulated tenant holds before the first call: credentials, apps, users, forms and
//! processes. Read from YAML or JSON; [`Seed::demo`] is the built-in one.

use serde::{Deserialize, Serialize};

/// The emulated tenant.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Seed {
    /// The company (`corpId`) of internal apps and of events.
    #[serde(default = "default_corp")]
    pub corp_id: String,
    /// Internal apps (`appKey`/`appSecret`) that may get tokens.
    #[serde(default)]
    pub internal_apps: Vec<InternalApp>,
    /// Third-party (ISV) suites that may get per-company tokens.
    #[serde(default)]
    pub suites: Vec<Suite>,
    /// Yida apps.
    #[serde(default)]
    pub apps: Vec<App>,
    /// Users of the company.
    #[serde(default)]
    pub users: Vec<User>,
    /// Forms and their components.
    #[serde(default)]
    pub forms: Vec<Form>,
    /// Approval processes.
    #[serde(default)]
    pub processes: Vec<Process>,
}

fn default_corp() -> String {
    "ding-emulator-corp".into()
}

/// An internal app's DingTalk credentials.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InternalApp {
    /// `appKey` (also the Stream `clientId`).
    pub app_key: String,
    /// `appSecret`.
    pub app_secret: String,
}

/// A third-party suite.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Suite {
    /// `suiteKey`.
    pub suite_key: String,
    /// `suiteSecret`.
    pub suite_secret: String,
    /// The current suite ticket.
    pub suite_ticket: String,
    /// Companies that authorized the suite.
    #[serde(default)]
    pub auth_corp_ids: Vec<String>,
}

/// A Yida app.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct App {
    /// `APP_…`.
    pub app_type: String,
    /// The app's secret.
    pub system_token: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
}

/// A user.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    /// DingTalk user id.
    pub user_id: String,
    /// Name in Chinese (or the only name).
    pub name: String,
    /// Name in English.
    #[serde(default)]
    pub name_in_english: String,
    /// E-mail.
    #[serde(default)]
    pub email: String,
    /// Department name.
    #[serde(default)]
    pub department: String,
}

/// A form.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Form {
    /// `FORM-…`.
    pub form_uuid: String,
    /// The app it belongs to.
    pub app_type: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Components.
    #[serde(default)]
    pub components: Vec<Component>,
}

/// A form component.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Component {
    /// Field id (`textField_title`).
    pub field_id: String,
    /// Label.
    #[serde(default)]
    pub label: String,
    /// Yida component name (`TextField`, `NumberField`, `DateField`, `SelectField`,
    /// `CheckboxField`, `MultiSelectField`, `EmployeeField`, `TableField`, …); when absent,
    /// derived from the field id's prefix.
    #[serde(default)]
    pub component_name: Option<String>,
    /// Parent component (sub-form fields).
    #[serde(default)]
    pub parent_id: Option<String>,
}

impl Component {
    /// The component name, given or derived from the field id (`numberField_x` → `NumberField`).
    pub fn kind(&self) -> String {
        if let Some(k) = &self.component_name {
            return k.clone();
        }
        let prefix = self.field_id.split('_').next().unwrap_or("");
        let mut c = prefix.chars();
        match c.next() {
            Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
            None => String::new(),
        }
    }
}

/// An approval process.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Process {
    /// `TPROC--…`.
    pub process_code: String,
    /// The form whose data the instance holds.
    pub form_uuid: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Approval steps, in order; each step is one task per approver (any one approves).
    pub steps: Vec<Step>,
}

/// An approval step.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Step {
    /// Activity id (`node_…`).
    pub activity_id: String,
    /// Name shown for the step.
    #[serde(default)]
    pub name: String,
    /// User ids who get a task.
    pub approvers: Vec<String>,
}

/// The built-in demo seed, as YAML.
pub const DEMO_SEED_YAML: &str = include_str!("demo_seed.yaml");

/// A seed file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// Not valid YAML/JSON for a seed.
    #[error("invalid seed: {0}")]
    Parse(String),
    /// Inconsistent content.
    #[error("invalid seed: {0}")]
    Invalid(String),
}

impl Seed {
    /// The built-in demo tenant: one app, two users, a form and a one-step process.
    pub fn demo() -> Seed {
        Seed::from_yaml(DEMO_SEED_YAML).expect("the built-in demo seed is valid")
    }

    /// An empty tenant (no credentials, apps or forms).
    pub fn empty() -> Seed {
        Seed {
            corp_id: default_corp(),
            internal_apps: vec![],
            suites: vec![],
            apps: vec![],
            users: vec![],
            forms: vec![],
            processes: vec![],
        }
    }

    /// Reads a seed from YAML (JSON is YAML too).
    pub fn from_yaml(text: &str) -> Result<Seed, SeedError> {
        let seed: Seed = if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| SeedError::Parse(e.to_string()))?
        } else {
            serde_saphyr::from_str(text).map_err(|e| SeedError::Parse(e.to_string()))?
        };
        seed.check()?;
        Ok(seed)
    }

    /// Checks references between the seed's parts.
    pub fn check(&self) -> Result<(), SeedError> {
        for f in &self.forms {
            if !self.apps.iter().any(|a| a.app_type == f.app_type) {
                return Err(SeedError::Invalid(format!(
                    "form {} names unknown app {}",
                    f.form_uuid, f.app_type
                )));
            }
        }
        for p in &self.processes {
            if !self.forms.iter().any(|f| f.form_uuid == p.form_uuid) {
                return Err(SeedError::Invalid(format!(
                    "process {} names unknown form {}",
                    p.process_code, p.form_uuid
                )));
            }
            if p.steps.is_empty() || p.steps.iter().any(|s| s.approvers.is_empty()) {
                return Err(SeedError::Invalid(format!(
                    "process {} needs at least one step, each with an approver",
                    p.process_code
                )));
            }
        }
        Ok(())
    }

    /// The form with this id.
    pub fn form(&self, uuid: &str) -> Option<&Form> {
        self.forms.iter().find(|f| f.form_uuid == uuid)
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.user_id == id)
    }
}
