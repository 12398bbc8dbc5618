//! IR → Rust tokens. The generated code holds data types and one descriptor per operation;
//! the hand-written runtime in `yida-api` does all the HTTP work, and the repetitive parts of
//! each request (checks, context filling, redaction) are calls into `yida_api::__private`.

use crate::ir::*;
use crate::names::area_type_name;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use std::collections::{BTreeMap, BTreeSet};

fn ident(s: &str) -> Ident {
    match s.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(s, Span::call_site()),
    }
}

fn docs(lines: &[String]) -> TokenStream {
    let mut out = TokenStream::new();
    for l in lines {
        let l = format!(" {l}");
        out.extend(quote!(#[doc = #l]));
    }
    out
}

/// Path of a model from the crate root: its area module, or the shared `models`.
fn model_path(api: &Api, name: &str) -> TokenStream {
    let m = ident(name);
    match api.models.get(name).and_then(Model::home) {
        Some(area) => {
            let a = ident(area);
            quote!(crate::#a::#m)
        }
        None => quote!(crate::models::#m),
    }
}

/// Rust type of a reply field's value.
fn reply_type(api: &Api, ty: &Type) -> TokenStream {
    match ty {
        Type::String | Type::JsonText => quote!(String),
        Type::I64 => quote!(i64),
        Type::F64 => quote!(f64),
        Type::Bool => quote!(bool),
        Type::Json => quote!(crate::RawJson),
        Type::List(t) => {
            let t = reply_type(api, t);
            quote!(Vec<#t>)
        }
        Type::Map(t) => {
            let t = reply_type(api, t);
            quote!(std::collections::BTreeMap<String, #t>)
        }
        Type::Model(m) => model_path(api, m),
    }
}

/// Rust type of a request field.
fn request_type(api: &Api, p: &Param) -> TokenStream {
    if let Some(e) = &p.values {
        let e = ident(&e.name);
        return quote!(crate::#e);
    }
    if p.secret && p.ty == Type::String {
        return quote!(crate::__private::SecretText);
    }
    value_type(api, &p.ty)
}

fn value_type(api: &Api, ty: &Type) -> TokenStream {
    match ty {
        Type::JsonText => quote!(crate::JsonText),
        Type::List(t) => {
            let t = value_type(api, t);
            quote!(Vec<#t>)
        }
        Type::Map(t) => {
            let t = value_type(api, t);
            quote!(std::collections::BTreeMap<String, #t>)
        }
        Type::Json => quote!(serde_json::Value),
        other => reply_type(api, other),
    }
}

/// Argument type and conversion for a constructor argument or setter: (generic parameter with
/// its bound, if the argument needs one, named `g`; argument type; conversion of `value`).
fn setter_arg(
    api: &Api,
    p: &Param,
    value: &Ident,
    g: &Ident,
) -> (Option<TokenStream>, TokenStream, TokenStream) {
    if p.values.is_some() {
        return (None, request_type(api, p), quote!(#value));
    }
    match &p.ty {
        Type::String if p.secret => (
            None,
            quote!(impl Into<String>),
            quote!(crate::__private::SecretText::from(Into::<String>::into(#value))),
        ),
        Type::String => (None, quote!(impl Into<String>), quote!(#value.into())),
        Type::JsonText => (
            None,
            quote!(impl serde::Serialize),
            quote!(crate::JsonText::from_value(&#value)),
        ),
        Type::List(inner) if **inner == Type::JsonText => (
            Some(quote!(#g: serde::Serialize)),
            quote!(impl IntoIterator<Item = #g>),
            quote!(#value.into_iter().map(|v| crate::JsonText::from_value(&v)).collect()),
        ),
        Type::List(inner) if **inner == Type::String => (
            Some(quote!(#g: Into<String>)),
            quote!(impl IntoIterator<Item = #g>),
            quote!(#value.into_iter().map(Into::into).collect()),
        ),
        Type::Json => (
            None,
            quote!(impl Into<serde_json::Value>),
            quote!(#value.into()),
        ),
        _ => (None, request_type(api, p), quote!(#value)),
    }
}

fn cfg_areas<'a>(areas: impl IntoIterator<Item = &'a String>) -> TokenStream {
    let feats: BTreeSet<&String> = areas.into_iter().collect();
    match feats.len() {
        0 => quote!(),
        1 => {
            let f = feats.iter().next();
            quote!(#[cfg(feature = #f)])
        }
        _ => quote!(#[cfg(any(#(feature = #feats),*))]),
    }
}

fn response_type(api: &Api, op: &Operation) -> TokenStream {
    match &op.response {
        Some(r) => model_path(api, r),
        None => quote!(()),
    }
}

/// Emits the whole generated module.
pub fn emit(api: &Api) -> TokenStream {
    let mut areas: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
    for op in &api.operations {
        areas.entry(op.area.as_str()).or_default().push(op);
    }
    let shared_models = api
        .models
        .values()
        .filter(|m| m.home().is_none())
        .map(|m| emit_model(api, m));
    // The helpers are used wherever a shared model is compiled in.
    let shared_areas: BTreeSet<&String> = api
        .models
        .values()
        .filter(|m| m.home().is_none())
        .flat_map(|m| m.areas.iter())
        .collect();
    let shared_use = (!shared_areas.is_empty()).then(|| {
        let cfg = cfg_areas(shared_areas.iter().copied());
        quote!(#cfg use crate::__private::meta::*;)
    });
    let enums = emit_enums(api);
    let area_mods = areas.iter().map(|(area, ops)| emit_area(area, ops, api));
    let catalog = emit_catalog(api);
    let model_metas = emit_model_metas(api);
    quote! {
        /// Reply models shared by operations of several areas (a model used by one area lives
        /// in that area's module).
        pub mod models {
            #shared_use
            #(#shared_models)*
        }
        #(#enums)*
        #(#area_mods)*
        #catalog
        #model_metas
    }
}

/// The operation ids (every operation of the spec, whatever the features), their names, and
/// the descriptors compiled into this build, indexed by id.
fn emit_catalog(api: &Api) -> TokenStream {
    let n = proc_macro2::Literal::usize_unsuffixed(api.operations.len());
    let variants = api.operations.iter().map(|op| {
        let v = ident(op_id_name(op));
        let d = format!(" `{}@{}`: {}", op.action, op.version, op.doc);
        quote!(#[doc = #d] #v)
    });
    let ids = api.operations.iter().map(|op| {
        let v = ident(op_id_name(op));
        quote!(OpId::#v)
    });
    let names = api.operations.iter().map(|op| {
        let (a, v) = (&op.action, &op.version);
        quote!((#a, #v))
    });
    let metas = api.operations.iter().map(|op| {
        let area = ident(&op.area);
        let a = op.area.as_str();
        let req = ident(&op.rust.request);
        quote! {
            #[cfg(feature = #a)]
            Some(&<crate::#area::#req as crate::Operation>::META),
            #[cfg(not(feature = #a))]
            None,
        }
    });
    let typed_replies = api
        .operations
        .iter()
        .filter(|op| op.response.is_some())
        .map(|op| {
            test_row(
                op,
                |r| quote!(crate::client::typed_reply::<#r>, crate::client::default_reply::<#r>,),
            )
        });
    let typed_requests = api
        .operations
        .iter()
        .map(|op| test_row(op, |r| quote!(crate::client::typed_request::<#r>)));
    quote! {
        /// Test support: each operation's request read from JSON by its derived `Deserialize`,
        /// to which `Operation::from_input` (the dynamic calls' way) is held.
        #[cfg(test)]
        pub(crate) static TYPED_REQUESTS: &[crate::client::TypedRequest] = &[#(#typed_requests)*];

        /// Test support: each operation's typed reply decoding (and its default), to which
        /// the descriptor-driven reply check of dynamic calls is held.
        #[cfg(test)]
        pub(crate) static TYPED_REPLIES: &[crate::client::TypedReply] = &[#(#typed_replies)*];

        /// The id of an operation of the spec (`Copy`; `Display` is `Action@version`). Every
        /// operation has one, whether its area is compiled in or not ([`OpId::meta`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        #[repr(u16)]
        pub enum OpId {
            #(#variants),*
        }

        /// Every id, in catalogue order (area, action, version).
        pub(crate) static OP_IDS: &[OpId] = &[#(#ids),*];

        /// `(action, version)` by id.
        pub(crate) static OP_NAMES: [(&str, &str); #n] = [#(#names),*];

        /// The descriptors compiled into this build, by id.
        pub(crate) static OP_METAS: [Option<&crate::OperationMeta>; #n] = [#(#metas)*];

        /// Every operation compiled into this build (one entry per enabled area's operation),
        /// ordered by area, action and version.
        pub fn operations() -> Vec<&'static crate::OperationMeta> {
            OP_METAS.iter().flatten().copied().collect()
        }
    }
}

/// The name of an operation's [`OpId`] variant: its request type without `Request`.
fn op_id_name(op: &Operation) -> &str {
    id_name(&op.rust)
}

fn id_name(names: &OpNames) -> &str {
    names
        .request
        .strip_suffix("Request")
        .unwrap_or(&names.request)
}

/// The models a parameter's type or a reply reaches (through lists, maps and model fields).
fn param_models(api: &Api) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    let mut todo: Vec<&str> = api
        .operations
        .iter()
        .flat_map(|op| op.params.iter().filter_map(|p| p.ty.model()))
        // Reply models too: `OperationMeta::reply` (the CLI's `yida schema`).
        .chain(
            api.operations
                .iter()
                .filter_map(|op| op.response.as_deref()),
        )
        .collect();
    while let Some(name) = todo.pop() {
        if let Some(m) = api.models.get(name) {
            if out.insert(m.name.as_str()) {
                todo.extend(m.fields.iter().filter_map(|f| f.ty.model()));
            }
        }
    }
    out
}

/// A `ModelMeta` for each model a parameter's type or a reply reaches, in `crate::model_meta`.
fn emit_model_metas(api: &Api) -> TokenStream {
    let names = param_models(api);
    if names.is_empty() {
        return quote!();
    }
    let statics = names.iter().filter_map(|n| api.models.get(*n)).map(|m| {
        let cfg = cfg_areas(m.areas.iter());
        let name = ident(&m.name);
        let name_str = &m.name;
        let doc = &m.doc;
        let fields = m.fields.iter().map(|f| {
            let (fname, fdoc, secret) = (&f.name, &f.doc, f.secret);
            let ty = param_type(&f.ty);
            quote!(crate::FieldMeta { name: #fname, ty: #ty, doc: #fdoc, secret: #secret })
        });
        quote! {
            #cfg
            #[allow(non_upper_case_globals)]
            pub(crate) static #name: crate::ModelMeta = crate::ModelMeta {
                name: #name_str,
                doc: #doc,
                fields: &[#(#fields),*],
            };
        }
    });
    quote! {
        /// Descriptors of the models parameters and replies use.
        pub(crate) mod model_meta {
            #(#statics)*
        }
    }
}

/// A `ParamType` expression for a type.
fn param_type(ty: &Type) -> TokenStream {
    match ty {
        Type::String => quote!(crate::ParamType::String),
        Type::I64 => quote!(crate::ParamType::I64),
        Type::F64 => quote!(crate::ParamType::F64),
        Type::Bool => quote!(crate::ParamType::Bool),
        Type::Json => quote!(crate::ParamType::Json),
        Type::JsonText => quote!(crate::ParamType::JsonText),
        Type::List(t) => {
            let t = param_type(t);
            quote!(crate::ParamType::List(&#t))
        }
        Type::Map(t) => {
            let t = param_type(t);
            quote!(crate::ParamType::Map(&#t))
        }
        Type::Model(m) => {
            let m = ident(m);
            quote!(crate::ParamType::Model(&crate::model_meta::#m))
        }
    }
}

/// One enum per fixed-value parameter name (shared by the operations that list the same
/// values), gated on the areas that use it.
fn emit_enums(api: &Api) -> Vec<TokenStream> {
    let mut enums: BTreeMap<&str, (&ValueEnum, BTreeSet<String>, &Param)> = BTreeMap::new();
    for op in &api.operations {
        for p in &op.params {
            if let Some(e) = &p.values {
                enums
                    .entry(e.name.as_str())
                    .or_insert_with(|| (e, BTreeSet::new(), p))
                    .1
                    .insert(op.area.clone());
            }
        }
    }
    enums
        .values()
        .map(|(e, areas, p)| {
            let cfg = cfg_areas(areas.iter());
            let name = ident(&e.name);
            let doc = docs(&[
                format!("Values of `{}`: {}", p.name, p.doc),
                String::new(),
                "`Other` sends a value this crate does not know yet, as is.".into(),
            ]);
            let variants = e.variants.iter().map(|(wire, v)| {
                let v = ident(v);
                let d = format!(" `{wire}`");
                quote!(#[doc = #d] #v = #wire)
            });
            quote! {
                #cfg
                crate::__private::wire_enum! {
                    #doc
                    #name { #(#variants),* }
                }
            }
        })
        .collect()
}

/// Redacting `Debug` for a model holding a secret field.
fn model_debug(m: &Model, cfg: &TokenStream) -> Option<TokenStream> {
    if !m.fields.iter().any(|f| f.secret) {
        return None;
    }
    let name = ident(&m.name);
    let name_str = &m.name;
    let entries = m.fields.iter().map(|f| {
        let fname = ident(&f.rust);
        let label = f.rust.trim_start_matches("r#");
        if f.secret {
            quote!(.field(#label, &self.#fname.as_ref().map(|_| crate::__private::Redacted)))
        } else {
            quote!(.field(#label, &self.#fname))
        }
    });
    Some(quote! {
        #cfg
        impl std::fmt::Debug for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(#name_str)
                    #(#entries)*
                    .field("extra", &self.extra)
                    .finish()
            }
        }
    })
}

fn emit_model(api: &Api, m: &Model) -> TokenStream {
    let cfg = cfg_areas(m.areas.iter());
    let name = ident(&m.name);
    let doc = docs(std::slice::from_ref(&m.doc));
    let fields = m.fields.iter().map(|f| {
        let fname = ident(&f.rust);
        let wire = &f.name;
        let ty = reply_type(api, &f.ty);
        let mut lines = vec![f.doc.clone()];
        if f.ty == Type::JsonText {
            lines.push(String::new());
            lines.push("JSON text: parse it with [`crate::JsonText::parse`].".into());
        }
        if let Some(n) = &f.note {
            lines.push(String::new());
            lines.push(format!("Note: {n}"));
        }
        let fdoc = docs(&lines);
        let lenient = match f.ty {
            Type::String | Type::JsonText => Some("lenient_str"),
            Type::I64 => Some("lenient_i64"),
            Type::F64 => Some("lenient_f64"),
            Type::Bool => Some("lenient_bool"),
            _ => None,
        };
        let de = match lenient {
            Some(path) => quote!(deserialize_with = #path,),
            None => quote!(),
        };
        quote! {
            #fdoc
            #[serde(rename = #wire)]
            #[serde(#de skip_serializing_if = "is_none")]
            pub #fname: Option<#ty>,
        }
    });
    let derive_debug = if m.fields.iter().any(|f| f.secret) {
        quote!()
    } else {
        quote!(Debug,)
    };
    let debug_impl = model_debug(m, &cfg);
    quote! {
        #cfg
        #doc
        #[derive(#derive_debug Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default)]
        pub struct #name {
            #(#fields)*
            /// Fields of the reply this crate does not know (yet), kept as received.
            #[serde(flatten)]
            pub extra: crate::__private::Extra,
        }
        #debug_impl
    }
}

fn op_doc_lines(op: &Operation) -> Vec<String> {
    let mut lines = vec![op.doc.clone(), String::new()];
    let sent_by = format!(
        "Sent by [`Client::{}`](crate::Client::{})`().{}(…)` or [`Client::send`](crate::Client::send).",
        op.area, op.area, op.rust.method
    );
    lines.push(format!(
        "`{} {}` (action `{}`, API {}{}).",
        op.method.as_str(),
        op.path,
        op.action,
        op.version,
        match op.risk {
            Risk::Read => ", read-only",
            Risk::Write => ", changes data",
            Risk::Irreversible => ", **irreversible**",
        }
    ));
    lines.push(String::new());
    lines.push(sent_by);
    match (&op.doc_url, &op.doc_title) {
        (Some(url), Some(title)) => lines.push(format!("DingTalk's page: [{title}]({url}).")),
        (Some(url), None) => lines.push(format!("DingTalk's page: <{url}>.")),
        _ => {}
    }
    if let Some(p) = &op.permission {
        lines.push(format!("Permission: `{p}`."));
    }
    if let Some(l) = &op.legacy {
        lines.push(String::new());
        lines.push(format!(
            "**Legacy:** DingTalk no longer opens this operation to new apps; use \
             [`{req}`](crate::{req}) (`{}` {}) instead.",
            l.action,
            l.version,
            req = l.rust.request
        ));
    }
    if let Some(n) = &op.note {
        lines.push(String::new());
        lines.push(format!("Note: {n}"));
    }
    lines
}

fn emit_area(area: &str, ops: &[&Operation], api: &Api) -> TokenStream {
    let m = ident(area);
    let handle = format_ident!("{}Ops", area_type_name(area));
    let area_doc = format!(" Requests of the `{area}` area (cargo feature `{area}`).");
    let models = api
        .models
        .values()
        .filter(|md| md.home() == Some(area))
        .map(|md| emit_model(api, md));
    let items = ops.iter().map(|op| emit_request(op, api));
    let methods = ops.iter().map(|op| {
        let req = ident(&op.rust.request);
        let method = ident(&op.rust.method);
        let resp = response_type(api, op);
        let doc = docs(&[
            op.doc.clone(),
            String::new(),
            format!(
                "Sends a [`{}`]; see there for the wire details.",
                op.rust.request
            ),
        ]);
        quote! {
            #doc
            pub async fn #method(&self, request: #req) -> Result<#resp, crate::Error> {
                self.client.send(request).await
            }
        }
    });
    let handle_doc =
        format!(" The `{area}` operations, from [`Client::{area}`](crate::Client::{area}).");
    let getter_doc = format!(" The operations of the `{area}` area.");
    let getter = ident(area);
    quote! {
        #[cfg(feature = #area)]
        #[doc = #area_doc]
        pub mod #m {
            use crate::__private::meta::*;

            #(#models)*
            #(#items)*

            #[doc = #handle_doc]
            #[derive(Clone, Copy)]
            pub struct #handle<'a> {
                client: &'a crate::Client,
            }

            impl #handle<'_> {
                #(#methods)*
            }

            impl crate::Client {
                #[doc = #getter_doc]
                pub fn #getter(&self) -> #handle<'_> {
                    #handle { client: self }
                }
            }
        }
        #[cfg(feature = #area)]
        pub use #m::*;
    }
}

fn emit_fields(op: &Operation, api: &Api) -> Vec<TokenStream> {
    op.params
        .iter()
        .map(|p| {
            let f = ident(&p.rust);
            let wire = &p.name;
            let ty = request_type(api, p);
            match (p.in_constructor(), p.location == Location::Body) {
                (true, true) => quote!(#[serde(rename = #wire)] #f: #ty,),
                (true, false) => quote!(#[serde(rename = #wire, skip_serializing)] #f: #ty,),
                (false, true) => quote! {
                    #[serde(rename = #wire)]
                    #[serde(default, skip_serializing_if = "is_none")]
                    #f: Option<#ty>,
                },
                (false, false) => quote! {
                    #[serde(rename = #wire, default, skip_serializing)]
                    #f: Option<#ty>,
                },
            }
        })
        .collect()
}

/// `new` with the required parameters (spec order: identifiers first, values last) and a
/// setter per optional or context parameter.
fn emit_constructor_and_setters(op: &Operation, api: &Api) -> TokenStream {
    let mut ctor_params: Vec<&Param> = op.params.iter().filter(|p| p.in_constructor()).collect();
    // Identifiers first, values (JSON, lists, maps) last: `new(form_uuid, form_data_json)`.
    ctor_params.sort_by_key(|p| !matches!(p.ty, Type::String | Type::I64 | Type::F64 | Type::Bool));
    // Two or more required texts could be swapped silently as positional arguments: such
    // requests take their required parameters as a struct with named fields instead.
    let named = ctor_params
        .iter()
        .filter(|p| p.ty == Type::String && p.values.is_none())
        .count()
        >= 2;
    let args_name = format_ident!("{}Args", op.rust.request.trim_end_matches("Request"));
    let mut ctor_generics = Vec::new();
    let ctor_args: Vec<TokenStream> = if named {
        vec![quote!(args: #args_name)]
    } else {
        ctor_params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let f = ident(&p.rust);
                let (bound, arg, _) = setter_arg(api, p, &f, &format_ident!("T{}", i));
                ctor_generics.extend(bound);
                quote!(#f: #arg)
            })
            .collect()
    };
    let ctor_inits = op.params.iter().map(|p| {
        let f = ident(&p.rust);
        if !p.in_constructor() {
            quote!(#f: None,)
        } else if named && p.secret && p.ty == Type::String {
            quote!(#f: crate::__private::SecretText::from(args.#f),)
        } else if named {
            quote!(#f: args.#f,)
        } else {
            let (_, _, conv) = setter_arg(api, p, &f, &format_ident!("T"));
            if f == conv.to_string() {
                quote!(#f,)
            } else {
                quote!(#f: #conv,)
            }
        }
    });
    let args_struct = named.then(|| {
        let fields = ctor_params.iter().map(|p| {
            let f = ident(&p.rust);
            let ty = if p.secret && p.ty == Type::String {
                quote!(String)
            } else {
                request_type(api, p)
            };
            let d = docs(&[format!("`{}`: {}", p.name, p.doc)]);
            quote!(#d pub #f: #ty,)
        });
        let d = docs(&[format!(
            "The required parameters of [`{}`], by name (it takes two or more texts, which \
             positional arguments would let you swap unnoticed).",
            op.rust.request
        )]);
        quote! {
            #d
            #[derive(Clone)]
            pub struct #args_name {
                #(#fields)*
            }
        }
    });
    let mut ctor_doc = vec!["Starts a request with its required parameters.".to_string()];
    let ctx_required: Vec<String> = op
        .params
        .iter()
        .filter(|p| p.required && p.context)
        .map(|p| format!("`{}`", p.name))
        .collect();
    if !ctx_required.is_empty() {
        ctor_doc.push(String::new());
        ctor_doc.push(format!(
            "Also required, but usually set once on the client's app context: {}.",
            ctx_required.join(", ")
        ));
    }
    for p in &ctor_params {
        ctor_doc.push(format!(
            "- `{}`: {}",
            p.rust.trim_start_matches("r#"),
            p.doc
        ));
    }
    let ctor_doc = docs(&ctor_doc);
    let generics = (!ctor_generics.is_empty()).then(|| quote!(<#(#ctor_generics),*>));
    let setters = op.params.iter().filter(|p| !p.in_constructor()).map(|p| {
        let f = ident(&p.rust);
        let (bound, arg, conv) = setter_arg(api, p, &f, &format_ident!("T"));
        let gen = bound.map(|b| quote!(<#b>));
        let mut lines = vec![format!("`{}` ({}): {}", p.name, p.location.as_str(), p.doc)];
        if p.required {
            lines.push(String::new());
            lines.push("Required; taken from the client's app context when not set here.".into());
        }
        if let Some(n) = &p.note {
            lines.push(String::new());
            lines.push(format!("Note: {n}"));
        }
        let d = docs(&lines);
        quote! {
            #d
            pub fn #f #gen(mut self, #f: #arg) -> Self {
                self.#f = Some(#conv);
                self
            }
        }
    });
    let req = ident(&op.rust.request);
    // A request without required parameters is built from its `Default` (no `new()` that
    // would only repeat it).
    if ctor_args.is_empty() {
        return quote! {
            #args_struct
            impl #req {
                #(#setters)*
            }
        };
    }
    // Clippy's limit is 7; the spec decides how many parameters an operation requires.
    let many = (ctor_args.len() > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]));
    quote! {
        #args_struct
        impl #req {
            #ctor_doc
            #many
            pub fn new #generics(#(#ctor_args),*) -> Self {
                Self { #(#ctor_inits)* }
            }
            #(#setters)*
        }
    }
}

/// True when a value of this type holds JSON text that must be checked before sending.
fn holds_json_text(ty: &Type) -> bool {
    match ty {
        Type::JsonText => true,
        Type::List(t) | Type::Map(t) => holds_json_text(t),
        _ => false,
    }
}

/// The statements of `Operation::check`: one helper call per parameter that needs one.
fn check_stmts(op: &Operation) -> Vec<TokenStream> {
    let mut out = Vec::new();
    for p in &op.params {
        let f = ident(&p.rust);
        let wire = &p.name;
        if !p.in_constructor() && p.required {
            out.push(quote!(required(&self.#f, #wire)?;));
        }
        if p.location == Location::Path {
            out.push(quote!(segment(&self.#f, #wire)?;));
        }
        if holds_json_text(&p.ty) {
            out.push(quote!(json(&self.#f, #wire)?;));
        }
    }
    out
}

fn emit_request(op: &Operation, api: &Api) -> TokenStream {
    let req = ident(&op.rust.request);
    let doc = docs(&op_doc_lines(op));
    let fields = emit_fields(op, api);
    let ctor = emit_constructor_and_setters(op, api);
    let path_stmts = op.path_parts.iter().map(|part| match part {
        PathPart::Literal(lit) => match lit.chars().collect::<Vec<_>>()[..] {
            [c] => quote!(out.push(#c);),
            _ => quote!(out.push_str(#lit);),
        },
        PathPart::Param(i) => {
            let f = ident(&op.params[*i].rust);
            quote!(push_segment(out, &self.#f);)
        }
    });
    let query_stmts = op
        .params
        .iter()
        .filter(|p| p.location == Location::Query)
        .map(|p| {
            let f = ident(&p.rust);
            let wire = &p.name;
            quote!(q.push(#wire, &self.#f);)
        })
        .collect::<Vec<_>>();
    let context_stmts: Vec<TokenStream> = op
        .params
        .iter()
        .filter(|p| p.context)
        .map(|p| {
            let f = ident(&p.rust);
            let wire = &p.name;
            quote!(fill(&mut self.#f, ctx.value(#wire));)
        })
        .collect();
    let checks = check_stmts(op);
    let input_fields = op.params.iter().map(|p| {
        let f = ident(&p.rust);
        let wire = &p.name;
        quote!(#f: input.take(#wire)?,)
    });
    // The trait's defaults do nothing: emit a method only when it has something to do.
    let write_query = (!query_stmts.is_empty()).then(|| {
        quote! {
            fn write_query(&self, q: &mut crate::__private::QueryWriter) {
                #(#query_stmts)*
            }
        }
    });
    let fill_context = (!context_stmts.is_empty()).then(|| {
        quote! {
            fn fill_context(&mut self, ctx: &crate::AppContext) {
                #(#context_stmts)*
            }
        }
    });
    let check = (!checks.is_empty()).then(|| {
        quote! {
            fn check(&self) -> Result<(), crate::ParamError> {
                #(#checks)*
                Ok(())
            }
        }
    });
    let default = op
        .params
        .iter()
        .all(|p| !p.in_constructor())
        .then(|| quote!(Default,));
    let meta = emit_meta(op);
    let resp_ty = response_type(api, op);
    let paginated = op.pagination.map(|style| emit_paginated(op, style, api));
    quote! {
        #doc
        #[derive(Debug, Clone, #default serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct #req {
            #(#fields)*
        }

        #ctor

        impl crate::Operation for #req {
            type Response = #resp_ty;
            const META: crate::OperationMeta = #meta;
            fn write_path(&self, out: &mut String) {
                #(#path_stmts)*
            }
            #write_query
            #fill_context
            #check
            fn from_input(input: &mut crate::__private::Input) -> Result<Self, crate::__private::InputError> {
                Ok(Self { #(#input_fields)* })
            }
        }
        #paginated
    }
}

/// One row of a test-support table: `(OpId::X, <items>)` under the operation's area feature,
/// `items` given the path of its request type.
fn test_row(op: &Operation, items: impl FnOnce(TokenStream) -> TokenStream) -> TokenStream {
    let area = ident(&op.area);
    let a = op.area.as_str();
    let req = ident(&op.rust.request);
    let v = ident(op_id_name(op));
    let items = items(quote!(crate::#area::#req));
    quote! {
        #[cfg(feature = #a)]
        (OpId::#v, #items),
    }
}

fn emit_paginated(op: &Operation, style: Pagination, api: &Api) -> TokenStream {
    let req = ident(&op.rust.request);
    let page_field = ident(match style {
        Pagination::PageNumber => "page_number",
        Pagination::CurrentPage => "current_page",
    });
    let item = op
        .response
        .as_ref()
        .and_then(|r| api.models.get(r))
        .and_then(|m| m.fields.iter().find(|f| f.name == "data"))
        .map(|f| match &f.ty {
            Type::List(inner) => reply_type(api, inner),
            other => reply_type(api, other),
        })
        .unwrap_or_else(|| quote!(serde_json::Value));
    quote! {
        impl crate::Paginated for #req {
            type Item = #item;
            fn set_page(&mut self, page: i64) {
                self.#page_field = Some(page);
            }
            fn page(&self) -> Option<i64> {
                self.#page_field
            }
            fn set_page_size(&mut self, size: i64) {
                self.page_size = Some(size);
            }
            fn page_size(&self) -> Option<i64> {
                self.page_size
            }
            fn split_page(reply: Self::Response) -> (Vec<Self::Item>, Option<i64>) {
                (reply.data.unwrap_or_default(), reply.total_count)
            }
        }
    }
}

/// The descriptor: the typed model of the operation that the runtime, the CLI, the emulator
/// and the MCP server read.
fn emit_meta(op: &Operation) -> TokenStream {
    let action = &op.action;
    let version = &op.version;
    let id = ident(op_id_name(op));
    let method = format_ident!(
        "{}",
        match op.method {
            Method::Get => "Get",
            Method::Post => "Post",
            Method::Put => "Put",
            Method::Delete => "Delete",
        }
    );
    let path = &op.path;
    let path_parts = op.path_parts.iter().map(|part| match part {
        PathPart::Literal(l) => quote!(crate::PathPart::Literal(#l)),
        PathPart::Param(i) => {
            let i = proc_macro2::Literal::usize_unsuffixed(*i);
            quote!(crate::PathPart::Param(#i))
        }
    });
    let area = &op.area;
    let doc = &op.doc;
    let opt = |v: &Option<String>| match v {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    };
    let permission = opt(&op.permission);
    let doc_url = opt(&op.doc_url);
    let doc_title = opt(&op.doc_title);
    let risk = format_ident!(
        "{}",
        match op.risk {
            Risk::Read => "Read",
            Risk::Write => "Write",
            Risk::Irreversible => "Irreversible",
        }
    );
    let seed = op.seed;
    let legacy = match &op.legacy {
        Some(l) => {
            let t = ident(id_name(&l.rust));
            quote!(Some(crate::OpId::#t))
        }
        None => quote!(None),
    };
    let pagination = match op.pagination {
        Some(Pagination::PageNumber) => quote!(Some(crate::PageStyle::PageNumber)),
        Some(Pagination::CurrentPage) => quote!(Some(crate::PageStyle::CurrentPage)),
        None => quote!(None),
    };
    let has_body = op.has_body();
    let has_reply = op.response.is_some();
    let reply = match &op.response {
        Some(m) => {
            let m = ident(m);
            quote!(Some(&crate::model_meta::#m))
        }
        None => quote!(None),
    };
    let params = op.params.iter().map(|p| {
        let name = &p.name;
        let loc = format_ident!(
            "{}",
            match p.location {
                Location::Path => "path",
                Location::Query => "query",
                Location::Body => "body",
            }
        );
        let ty = param_type(&p.ty);
        let mut flags = Vec::new();
        if p.required {
            flags.push(quote!(REQUIRED));
        }
        if p.secret {
            flags.push(quote!(SECRET));
        }
        if p.context {
            flags.push(quote!(CONTEXT));
        }
        let flags = if flags.is_empty() {
            quote!(0)
        } else {
            quote!(#(#flags)|*)
        };
        let d = &p.doc;
        match &p.values {
            Some(e) => {
                let values = e.variants.iter().map(|(wire, _)| wire);
                quote!(values(#loc(#name, #ty, #flags, #d), &[#(#values),*]))
            }
            None => quote!(#loc(#name, #ty, #flags, #d)),
        }
    });
    quote! {
        crate::OperationMeta {
            id: crate::OpId::#id,
            action: #action,
            version: #version,
            method: crate::HttpMethod::#method,
            path: #path,
            path_parts: &[#(#path_parts),*],
            area: #area,
            doc: #doc,
            doc_url: #doc_url,
            doc_title: #doc_title,
            permission: #permission,
            risk: crate::Risk::#risk,
            seed: #seed,
            legacy: #legacy,
            pagination: #pagination,
            has_body: #has_body,
            has_reply: #has_reply,
            reply: #reply,
            params: &[#(#params),*],
            dynamic: crate::client::Dynamic::of::<Self>(),
        }
    }
}
