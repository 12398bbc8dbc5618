//! The YAML spec as written by maintainers (see `spec/README.md`). Unknown keys are errors.

use serde::Deserialize;
use std::collections::BTreeMap;

/// One spec file: operations and the models they use.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// Operations defined in this file.
    #[serde(default)]
    pub operations: Vec<OperationDef>,
    /// Named models defined in this file.
    #[serde(default)]
    pub models: BTreeMap<String, ModelDef>,
}

/// One operation as written in the spec.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperationDef {
    pub action: String,
    pub version: String,
    pub method: String,
    pub path: String,
    pub area: String,
    pub doc: String,
    pub permission: Option<String>,
    pub app_kinds: Vec<String>,
    pub read_only: bool,
    #[serde(default)]
    pub seed: bool,
    pub legacy: Option<String>,
    pub pagination: Option<String>,
    pub doc_page: Option<String>,
    pub note: Option<String>,
    pub params: Vec<ParamDef>,
    pub response: Option<String>,
}

/// One request parameter as written in the spec.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    pub name: String,
    #[serde(rename = "in")]
    pub location: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub required: bool,
    pub doc: String,
    #[serde(default)]
    pub secret: bool,
    pub note: Option<String>,
}

/// A named reply model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDef {
    pub doc: String,
    pub fields: Vec<FieldDef>,
}

/// One field of a model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub doc: String,
    #[serde(default)]
    pub secret: bool,
    pub note: Option<String>,
}
