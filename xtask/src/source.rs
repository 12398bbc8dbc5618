//! The one shape `cargo xtask drift` compares the spec with: each source's operations,
//! normalised. Two small adapters fill it: [`from_sdk`] (the official Python SDK, read by
//! [`crate::pysdk`]) and [`from_pages`] (DingTalk's doc pages, read by [`crate::docpages`]).

use crate::docpages::DocPage;
use crate::pysdk::{PyType, Sdk};
use std::collections::BTreeMap;
pub use yida_codegen::ir::DriftSource as Source;
pub use yida_codegen::ir::Location;

/// A type as a source gives it: its normalised shape and the source's own spelling (what
/// `cargo xtask drift` shows and a `says:` names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceType {
    pub shape: Shape,
    /// `Dict[str, Any]`, `Array of String`, `Long`.
    pub text: String,
}

/// The shape of a source's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Str,
    Int,
    Float,
    /// Integer or floating point (a page's `Number`).
    Number,
    Bool,
    /// Any JSON value.
    Any,
    /// A list; `None` when the source does not say of what.
    List(Option<Box<SourceType>>),
    /// An object with string keys; `None` when the source does not say of what.
    Map(Option<Box<SourceType>>),
    /// An object: one of the source's models (by name, see [`SourceSet::models`]), or
    /// unnamed (a page's `Object`).
    Object(Option<String>),
    /// A spelling this reader does not know.
    Other,
}

/// One request parameter.
#[derive(Debug, Clone)]
pub struct SourceParam {
    /// Wire name.
    pub name: String,
    pub location: Location,
    pub ty: SourceType,
    pub required: bool,
}

/// What a source says of the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Nothing (doc-page tables of replies are not read).
    NotDescribed,
    /// No body.
    Empty,
    /// A body: this model of [`SourceSet::models`].
    Model(String),
}

/// How a source names its operations, and so how the spec's are found in it.
#[derive(Debug, Clone)]
pub enum OpKey {
    /// By action and version (the SDK).
    Action { action: String, version: String },
    /// By page: the spec's `doc_url` is the page's `source_url`, else method and path agree.
    Page {
        url: Option<String>,
        title: Option<String>,
    },
}

/// One operation of a source, normalised.
#[derive(Debug, Clone)]
pub struct SourceOp {
    pub key: OpKey,
    /// Where the source says it (`yida_1_0/client.py:29`, a page's file name).
    pub at: String,
    pub method: String,
    /// The path as the source writes it.
    pub path: String,
    pub params: Vec<SourceParam>,
    pub reply: Reply,
    /// `None` when the source does not speak of permissions; `Some(None)` when it names none.
    pub permission: Option<Option<String>>,
    /// Spec spelling of the app kinds the source names (empty: it names none).
    pub app_kinds: Vec<String>,
}

impl SourceOp {
    /// How the drift report names an operation the spec lacks.
    pub fn label(&self) -> String {
        match &self.key {
            OpKey::Action { action, version } => format!("{action}@{version}"),
            OpKey::Page { title, .. } => title.clone().unwrap_or_else(|| self.at.clone()),
        }
    }
}

/// A field of a source's model.
#[derive(Debug, Clone)]
pub struct SourceField {
    /// Wire name.
    pub name: String,
    pub ty: SourceType,
}

/// Everything one source says, normalised.
#[derive(Debug, Clone)]
pub struct SourceSet {
    pub source: Source,
    /// `alibabacloud-dingtalk 2.2.65`, or the pages folder.
    pub label: String,
    /// The source describes every operation of the API (the SDK), so one it lacks is a
    /// difference; a folder of pages may cover part of it.
    pub complete: bool,
    pub ops: Vec<SourceOp>,
    /// Models by name.
    pub models: BTreeMap<String, Vec<SourceField>>,
}

fn py_type(t: &PyType) -> SourceType {
    let inner = |t: &PyType| Some(Box::new(py_type(t)));
    let shape = match t {
        PyType::Str => Shape::Str,
        PyType::Int => Shape::Int,
        PyType::Float => Shape::Float,
        PyType::Bool => Shape::Bool,
        PyType::Any => Shape::Any,
        PyType::List(t) => Shape::List(inner(t)),
        PyType::Dict(t) => Shape::Map(inner(t)),
        PyType::Model(m) => Shape::Object(Some(m.clone())),
        PyType::Other(_) => Shape::Other,
    };
    SourceType {
        shape,
        text: t.python(),
    }
}

/// The SDK's operations and models.
pub fn from_sdk(sdk: &Sdk) -> SourceSet {
    let ops = sdk
        .operations
        .iter()
        .map(|s| SourceOp {
            key: OpKey::Action {
                action: s.action.clone(),
                version: s.version.clone(),
            },
            at: s.source.clone(),
            method: s.method.clone(),
            path: s.path.clone(),
            params: s
                .params
                .iter()
                .map(|p| SourceParam {
                    name: p.name.clone(),
                    location: p.location,
                    ty: py_type(&p.ty),
                    required: p.required,
                })
                .collect(),
            reply: match &s.response {
                Some(r) if sdk.models.contains_key(r) => Reply::Model(r.clone()),
                _ => Reply::Empty,
            },
            permission: None,
            app_kinds: Vec::new(),
        })
        .collect();
    let models = sdk
        .models
        .iter()
        .map(|(name, m)| {
            let fields = m
                .fields
                .iter()
                .map(|f| SourceField {
                    name: f.name.clone(),
                    ty: py_type(&f.ty),
                })
                .collect();
            (name.clone(), fields)
        })
        .collect();
    SourceSet {
        source: Source::Sdk,
        label: format!(
            "alibabacloud-dingtalk {}",
            sdk.version.as_deref().unwrap_or("(version unknown)")
        ),
        complete: true,
        ops,
        models,
    }
}

/// A page's type word (`String`, `Long`, `Array of String`, `Map`): element types of arrays
/// and maps are not read.
fn page_type(word: &str) -> SourceType {
    let p = word.to_lowercase();
    let shape = match p.as_str() {
        "string" => Shape::Str,
        "long" | "integer" | "int" => Shape::Int,
        "double" | "float" => Shape::Float,
        "number" => Shape::Number,
        "boolean" | "bool" => Shape::Bool,
        "object" | "json" => Shape::Object(None),
        _ if p.starts_with("array") || p.starts_with("list") => Shape::List(None),
        _ if p.starts_with("map") => Shape::Map(None),
        _ => Shape::Other,
    };
    SourceType {
        shape,
        text: word.to_string(),
    }
}

/// The operations of doc pages (`label`: the folder they came from).
pub fn from_pages(pages: &[DocPage], label: &str) -> SourceSet {
    let ops = pages
        .iter()
        .map(|p| SourceOp {
            key: OpKey::Page {
                url: p.source_url.clone(),
                title: p.title.clone(),
            },
            at: p.file.clone(),
            method: p.method.clone(),
            path: p.path.clone(),
            params: p
                .params
                .iter()
                .map(|q| SourceParam {
                    name: q.name.clone(),
                    location: q.location,
                    ty: page_type(&q.ty),
                    required: q.required,
                })
                .collect(),
            reply: Reply::NotDescribed,
            permission: Some(p.permission.clone()),
            app_kinds: p.app_kinds.clone(),
        })
        .collect();
    SourceSet {
        source: Source::Docs,
        label: label.to_string(),
        complete: false,
        ops,
        models: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_words_are_normalised() {
        let shape = |w: &str| page_type(w).shape;
        assert_eq!(shape("String"), Shape::Str);
        assert_eq!(shape("Long"), Shape::Int);
        assert_eq!(shape("Number"), Shape::Number);
        assert_eq!(shape("Array of String"), Shape::List(None));
        assert_eq!(shape("Map"), Shape::Map(None));
        assert_eq!(shape("Object"), Shape::Object(None));
        assert_eq!(shape("Blob"), Shape::Other);
        assert_eq!(page_type("Array of String").text, "Array of String");
    }

    #[test]
    fn sdk_types_keep_their_spelling_at_every_level() {
        let t = py_type(&PyType::parse("List[Dict[str, Any]]", "yida_1_0"));
        assert_eq!(t.text, "List[Dict[str, Any]]");
        let Shape::List(Some(inner)) = &t.shape else {
            panic!("{t:?}")
        };
        assert_eq!(inner.text, "Dict[str, Any]");
        assert!(matches!(inner.shape, Shape::Map(Some(_))));
    }
}
