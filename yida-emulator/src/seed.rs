//! What the emulated tenant holds before the first call: credentials, apps, users, forms and
//! processes. Read from YAML or JSON; [`Seed::demo`] is the built-in one.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use yida_api::components::ComponentKind;

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
    /// Departments (names shown for department values).
    #[serde(default)]
    pub departments: Vec<Department>,
    /// Regions and countries (names shown for city and country values).
    #[serde(default)]
    pub regions: Vec<Region>,
    /// Files attachment values may point at (`/ossFileHandle?fileName=NAME`), served through
    /// GetOpenUrl's temporary URLs.
    #[serde(default)]
    pub files: Vec<SeedFile>,
}

/// A department.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Department {
    /// Department id, as written in department values (`"1123456"`).
    pub dept_id: String,
    /// Name shown in replies.
    pub name: String,
}

/// A region (province, city, district) or a country.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Region {
    /// Code as written (`"110000"`, `"CN"`).
    pub code: String,
    /// Name in Chinese, shown in replies.
    pub name: String,
    /// Name in English.
    #[serde(default)]
    pub name_in_english: String,
}

/// A file held by the emulated tenant.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedFile {
    /// File name (unique): the stored URL is `/ossFileHandle?fileName=NAME`.
    pub name: String,
    /// Its content, as text.
    pub content: String,
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
    /// The component kind: from the component name, else from the field id's prefix; `None`
    /// for a component yida-api's model does not know (its values are kept as written).
    pub fn component_kind(&self) -> Option<ComponentKind> {
        match &self.component_name {
            Some(n) => ComponentKind::from_component_name(n),
            None => ComponentKind::from_field_id(&self.field_id),
        }
    }

    /// The component name, given or derived from the field id (`numberField_x` → `NumberField`).
    pub fn kind(&self) -> String {
        if let Some(k) = &self.component_name {
            return k.clone();
        }
        if let Some(k) = ComponentKind::from_field_id(&self.field_id) {
            return k.component_name().to_string();
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
            departments: vec![],
            regions: vec![],
            files: vec![],
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

    /// Adds a form from a GetFormComponentDefinitionList reply (`{"result": [...]}` or the
    /// bare list), to the app `app_type`: so tests run against the shape of a production form.
    /// Labels given as i18n objects are kept as their JSON text; unknown keys are ignored.
    pub fn add_form_definitions(
        &mut self,
        form_uuid: &str,
        app_type: &str,
        title: &str,
        reply: &str,
    ) -> Result<(), SeedError> {
        let bad = |m: String| SeedError::Invalid(format!("form {form_uuid}: {m}"));
        let v: Value = serde_json::from_str(reply).map_err(|e| bad(format!("not JSON: {e}")))?;
        let list = match &v {
            Value::Array(a) => a,
            Value::Object(o) => match o.get("result") {
                Some(Value::Array(a)) => a,
                _ => return Err(bad("no `result` list of component definitions".into())),
            },
            _ => return Err(bad("not a component definitions reply".into())),
        };
        let text = |d: &Value, k: &str| -> Option<String> {
            match d.get(k)? {
                Value::String(s) if !s.is_empty() => Some(s.clone()),
                Value::Null => None,
                Value::String(_) => None,
                other => Some(other.to_string()),
            }
        };
        let mut components = Vec::with_capacity(list.len());
        for (i, d) in list.iter().enumerate() {
            let field_id =
                text(d, "fieldId").ok_or_else(|| bad(format!("definition {i} has no fieldId")))?;
            components.push(Component {
                label: text(d, "label").unwrap_or_default(),
                component_name: text(d, "componentName"),
                parent_id: text(d, "parentId"),
                field_id,
            });
        }
        if self.form(form_uuid).is_some() {
            return Err(bad("a form with this id is already in the seed".into()));
        }
        self.forms.push(Form {
            form_uuid: form_uuid.to_string(),
            app_type: app_type.to_string(),
            title: title.to_string(),
            components,
        });
        self.check()
    }

    /// The department with this id.
    pub fn department(&self, id: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.dept_id == id)
    }

    /// The region or country with this code.
    pub fn region(&self, code: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.code == code)
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.user_id == id)
    }
}
