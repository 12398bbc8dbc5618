//! The YAML spec as written by maintainers (see `spec/README.md`). Unknown keys are errors.
//!
//! The values errors point at are [`Spanned`], so every message carries the line of the
//! operation, parameter, model or field it is about (taken from the YAML parser, never by
//! searching the text).

use serde::Deserialize;
use std::collections::BTreeMap;

/// A value of the spec and the line (1-based) it was written on.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Its line in the file.
    pub line: usize,
}

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
    pub action: Spanned<String>,
    pub version: String,
    pub method: String,
    pub path: String,
    pub area: String,
    pub doc: String,
    /// The public DingTalk page of the operation.
    pub doc_url: Option<String>,
    /// That page's (Chinese) title.
    pub doc_title: Option<String>,
    pub permission: Option<String>,
    pub app_kinds: Vec<String>,
    /// `read`, `write` or `irreversible`.
    pub risk: String,
    #[serde(default)]
    pub seed: bool,
    pub legacy: Option<String>,
    pub pagination: Option<String>,
    pub note: Option<String>,
    #[serde(default)]
    pub drift: Vec<DriftDef>,
    pub params: Vec<ParamDef>,
    pub response: Option<String>,
}

/// One request parameter as written in the spec.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamDef {
    pub name: Spanned<String>,
    #[serde(rename = "in")]
    pub location: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub required: bool,
    pub doc: String,
    #[serde(default)]
    pub secret: bool,
    /// The documented values of a fixed-value string parameter (becomes an enum).
    pub values: Option<Vec<String>>,
    pub note: Option<String>,
    #[serde(default)]
    pub drift: Vec<DriftDef>,
}

/// A named reply model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDef {
    /// Its line is the line errors about the model point at.
    pub doc: Spanned<String>,
    pub fields: Vec<FieldDef>,
}

/// One field of a model.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    pub name: Spanned<String>,
    #[serde(rename = "type")]
    pub ty: String,
    pub doc: String,
    #[serde(default)]
    pub secret: bool,
    pub note: Option<String>,
    #[serde(default)]
    pub drift: Vec<DriftDef>,
}

/// One `drift:` entry: where the spec deliberately differs from the official SDK or the doc
/// pages, and why (checked by `cargo xtask drift`; see `spec/README.md`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftDef {
    /// `sdk` or `docs`; its line is the line errors about the entry point at.
    pub source: Spanned<String>,
    /// `required`, `type`, `method`, `path`, `location`, `added`, `removed`, `permission`,
    /// `app_kinds`.
    pub fact: String,
    /// On an operation: `param <name>`, `reply` or `reply <path>` (none: the operation itself).
    pub subject: Option<String>,
    /// What the source says.
    pub says: Option<String>,
    /// Why the spec differs (free text); defaults to the `note` beside the entry.
    pub why: Option<String>,
}
