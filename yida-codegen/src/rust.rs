//! IR → Rust tokens. The generated code holds data types and one descriptor per operation;
//! the hand-written runtime in `yida-api` does all the HTTP work.

use crate::ir::*;
use crate::load::collect_models;
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

/// Rust type of a reply field's value.
fn reply_type(ty: &Type) -> TokenStream {
    match ty {
        Type::String | Type::JsonText => quote!(String),
        Type::I64 => quote!(i64),
        Type::F64 => quote!(f64),
        Type::Bool => quote!(bool),
        Type::Json => quote!(crate::RawJson),
        Type::List(t) => {
            let t = reply_type(t);
            quote!(Vec<#t>)
        }
        Type::Map(t) => {
            let t = reply_type(t);
            quote!(std::collections::BTreeMap<String, #t>)
        }
        Type::Model(m) => {
            let m = ident(m);
            quote!(crate::models::#m)
        }
    }
}

/// Rust type of a request field.
fn request_type(ty: &Type) -> TokenStream {
    match ty {
        Type::JsonText => quote!(crate::JsonText),
        Type::List(t) => {
            let t = request_type(t);
            quote!(Vec<#t>)
        }
        Type::Map(t) => {
            let t = request_type(t);
            quote!(std::collections::BTreeMap<String, #t>)
        }
        Type::Json => quote!(serde_json::Value),
        other => reply_type(other),
    }
}

/// Argument type and conversion for a constructor argument or setter: (generic parameter with
/// its bound, if the argument needs one, named `g`; argument type; conversion of `value`).
fn setter_arg(
    ty: &Type,
    value: &Ident,
    g: &Ident,
) -> (Option<TokenStream>, TokenStream, TokenStream) {
    match ty {
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
        other => (None, request_type(other), quote!(#value)),
    }
}

fn cfg_areas(areas: &BTreeSet<String>) -> TokenStream {
    let feats: Vec<&String> = areas.iter().collect();
    match feats.len() {
        0 => quote!(),
        1 => {
            let f = feats[0];
            quote!(#[cfg(feature = #f)])
        }
        _ => quote!(#[cfg(any(#(feature = #feats),*))]),
    }
}

/// Emits the whole generated module.
pub fn emit(api: &Api) -> TokenStream {
    let mut areas: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
    for op in &api.operations {
        areas.entry(op.area.as_str()).or_default().push(op);
    }
    // Which areas reach each model (for cfg gating).
    let mut model_areas: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for op in &api.operations {
        let mut todo: Vec<String> = op.response.iter().cloned().collect();
        for p in &op.params {
            collect_models(&p.ty, &mut todo);
        }
        let mut seen = BTreeSet::new();
        while let Some(m) = todo.pop() {
            if seen.insert(m.clone()) {
                model_areas
                    .entry(m.clone())
                    .or_default()
                    .insert(op.area.clone());
                if let Some(model) = api.models.get(&m) {
                    for f in &model.fields {
                        collect_models(&f.ty, &mut todo);
                    }
                }
            }
        }
    }
    let models = api.models.values().map(|m| {
        let cfg = cfg_areas(&model_areas.get(&m.name).cloned().unwrap_or_default());
        emit_model(m, cfg)
    });
    let area_mods = areas.iter().map(|(area, ops)| emit_area(area, ops, api));
    let area_list: Vec<&str> = areas.keys().copied().collect();
    let catalog_pushes = area_list.iter().map(|a| {
        let m = ident(a);
        quote! {
            #[cfg(feature = #a)]
            out.extend_from_slice(crate::#m::OPERATIONS);
        }
    });
    let dispatch_arms = api.operations.iter().map(|op| {
        let area = ident(&op.area);
        let req = ident(&op.rust.request);
        let a = &op.action;
        let v = &op.version;
        let a_str = op.area.as_str();
        quote! {
            #[cfg(feature = #a_str)]
            (#a, #v) => client.call_json::<crate::#area::#req>(input).await,
        }
    });
    quote! {
        /// Reply models shared by the operations.
        pub mod models {
            #(#models)*
        }
        #(#area_mods)*

        /// Every operation compiled into this build (one entry per enabled area's operation),
        /// ordered by area, action and version.
        pub fn operations() -> Vec<&'static crate::OperationMeta> {
            #[allow(unused_mut)]
            let mut out: Vec<&'static crate::OperationMeta> = Vec::new();
            #(#catalog_pushes)*
            out
        }

        /// Sends the operation `action`@`version` with parameters given as one JSON object by
        /// wire name, and returns the reply as JSON (`None` for an empty reply).
        pub(crate) async fn call_dynamic(
            client: &crate::Client,
            action: &str,
            version: &str,
            input: serde_json::Value,
        ) -> Result<Option<serde_json::Value>, crate::Error> {
            let _ = (&client, &input);
            match (action, version) {
                #(#dispatch_arms)*
                _ => Err(crate::Error::UnknownOperation {
                    action: action.to_string(),
                    version: version.to_string(),
                }),
            }
        }
    }
}

fn emit_model(m: &Model, cfg: TokenStream) -> TokenStream {
    let name = ident(&m.name);
    let doc = docs(std::slice::from_ref(&m.doc));
    let fields = m.fields.iter().map(|f| {
        let fname = ident(&f.rust);
        let wire = &f.name;
        let ty = reply_type(&f.ty);
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
            Type::String | Type::JsonText => Some("crate::lenient::string"),
            Type::I64 => Some("crate::lenient::i64"),
            Type::F64 => Some("crate::lenient::f64"),
            Type::Bool => Some("crate::lenient::bool"),
            _ => None,
        };
        let de = match lenient {
            Some(path) => quote!(deserialize_with = #path,),
            None => quote!(),
        };
        quote! {
            #fdoc
            #[serde(rename = #wire, default, #de skip_serializing_if = "Option::is_none")]
            pub #fname: Option<#ty>,
        }
    });
    let secret = m.fields.iter().any(|f| f.secret);
    let derive_debug = if secret { quote!() } else { quote!(Debug,) };
    let debug_impl = secret.then(|| {
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
        quote! {
            #cfg
            impl std::fmt::Debug for #name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.debug_struct(#name_str)
                        #(#entries)*
                        .finish()
                }
            }
        }
    });
    quote! {
        #cfg
        #doc
        #[derive(#derive_debug Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        pub struct #name {
            #(#fields)*
        }
        #debug_impl
    }
}

fn op_doc_lines(op: &Operation) -> Vec<String> {
    let mut lines = vec![op.doc.clone(), String::new()];
    lines.push(format!(
        "`{} {}` (action `{}`, API {}{}).",
        op.method.as_str(),
        op.path,
        op.action,
        op.version,
        if op.read_only { ", read-only" } else { "" }
    ));
    if let Some(p) = &op.permission {
        lines.push(format!("Permission: `{p}`."));
    }
    if let Some((a, v)) = &op.legacy {
        let base = if v == "1.0" {
            a.clone()
        } else {
            format!("{a}V{}", v.split('.').next().unwrap_or(""))
        };
        lines.push(String::new());
        lines.push(format!(
            "**Legacy:** DingTalk no longer opens this operation to new apps; use \
             [`{base}Request`](crate::{base}Request) (`{a}` {v}) instead."
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
    let items = ops.iter().map(|op| emit_request(op, api));
    let metas = ops.iter().map(|op| {
        let req = ident(&op.rust.request);
        quote!(&<#req as crate::Operation>::META)
    });
    let methods = ops.iter().map(|op| {
        let req = ident(&op.rust.request);
        let method = ident(&op.rust.method);
        let resp = match &op.rust.response {
            Some(r) => {
                let r = ident(r);
                quote!(crate::models::#r)
            }
            None => quote!(()),
        };
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
            #(#items)*

            /// Descriptors of this area's operations.
            pub(crate) static OPERATIONS: &[&crate::OperationMeta] = &[#(#metas),*];

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

fn emit_request(op: &Operation, api: &Api) -> TokenStream {
    let req = ident(&op.rust.request);
    let doc = docs(&op_doc_lines(op));
    // Fields.
    let fields = op.params.iter().map(|p| {
        let f = ident(&p.rust);
        let wire = &p.name;
        let ty = request_type(&p.ty);
        let skip_ser = if p.location == Location::Body {
            quote!()
        } else {
            quote!(skip_serializing,)
        };
        if p.in_constructor() {
            quote! {
                #[serde(rename = #wire, #skip_ser)]
                #f: #ty,
            }
        } else if p.location == Location::Body {
            quote! {
                #[serde(rename = #wire, default, skip_serializing_if = "Option::is_none")]
                #f: Option<#ty>,
            }
        } else {
            quote! {
                #[serde(rename = #wire, default, skip_serializing)]
                #f: Option<#ty>,
            }
        }
    });
    // Constructor.
    let mut ctor_params: Vec<&Param> = op.params.iter().filter(|p| p.in_constructor()).collect();
    // Identifiers first, values (JSON, lists, maps) last: `new(form_uuid, form_data_json)`.
    ctor_params.sort_by_key(|p| !matches!(p.ty, Type::String | Type::I64 | Type::F64 | Type::Bool));
    let mut ctor_generics = Vec::new();
    let ctor_args = ctor_params
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let f = ident(&p.rust);
            let (bound, arg, _) = setter_arg(&p.ty, &f, &format_ident!("T{}", i));
            ctor_generics.extend(bound);
            quote!(#f: #arg)
        })
        .collect::<Vec<_>>();
    let ctor_inits = op.params.iter().map(|p| {
        let f = ident(&p.rust);
        if p.in_constructor() {
            let (_, _, conv) = setter_arg(&p.ty, &f, &format_ident!("T"));
            quote!(#f: #conv,)
        } else {
            quote!(#f: None,)
        }
    });
    let mut ctor_doc = vec!["Starts a request with its required parameters.".to_string()];
    let ctx_required: Vec<&Param> = op
        .params
        .iter()
        .filter(|p| p.required && p.context)
        .collect();
    if !ctx_required.is_empty() {
        ctor_doc.push(String::new());
        ctor_doc.push(format!(
            "Also required, but usually set once on the client's app context: {}.",
            ctx_required
                .iter()
                .map(|p| format!("`{}`", p.name))
                .collect::<Vec<_>>()
                .join(", ")
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
    let generics = if ctor_generics.is_empty() {
        quote!()
    } else {
        quote!(<#(#ctor_generics),*>)
    };
    // Setters for optional (and context) parameters.
    let setters = op.params.iter().filter(|p| !p.in_constructor()).map(|p| {
        let f = ident(&p.rust);
        let (bound, arg, conv) = setter_arg(&p.ty, &f, &format_ident!("T"));
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
    // Debug with secrets redacted.
    let debug_fields = op.params.iter().map(|p| {
        let f = ident(&p.rust);
        let name = p.rust.trim_start_matches("r#");
        if p.secret {
            if p.in_constructor() {
                quote!(.field(#name, &crate::__private::Redacted))
            } else {
                quote!(.field(#name, &self.#f.as_ref().map(|_| crate::__private::Redacted)))
            }
        } else {
            quote!(.field(#name, &self.#f))
        }
    });
    let req_name = &op.rust.request;
    // Path.
    let mut path_stmts = Vec::new();
    let mut rest = op.path.as_str();
    while let Some(open) = rest.find('{') {
        let lit = &rest[..open];
        if !lit.is_empty() {
            path_stmts.push(quote!(out.push_str(#lit);));
        }
        let after = &rest[open + 1..];
        let close = after.find('}').unwrap_or(after.len());
        let name = &after[..close];
        if let Some(p) = op.params.iter().find(|p| p.name == name) {
            let f = ident(&p.rust);
            path_stmts.push(quote!(crate::__private::push_segment(out, &self.#f);));
        }
        rest = after.get(close + 1..).unwrap_or("");
    }
    if !rest.is_empty() {
        path_stmts.push(quote!(out.push_str(#rest);));
    }
    let query_stmts = op
        .params
        .iter()
        .filter(|p| p.location == Location::Query)
        .map(|p| {
            let f = ident(&p.rust);
            let wire = &p.name;
            quote!(q.push(#wire, &self.#f);)
        });
    let context_stmts = op.params.iter().filter(|p| p.context).map(|p| {
        let f = ident(&p.rust);
        let getter = match p.name.as_str() {
            "appType" => quote!(ctx.get_app_type()),
            "systemToken" => quote!(ctx.get_system_token()),
            "userId" => quote!(ctx.get_user_id()),
            _ => quote!(ctx.get_language()),
        };
        quote! {
            if self.#f.is_none() {
                self.#f = #getter.map(str::to_string);
            }
        }
    });
    let check_stmts = op.params.iter().filter_map(|p| {
        let f = ident(&p.rust);
        let wire = &p.name;
        let opt = !p.in_constructor();
        match (&p.ty, opt, p.required) {
            (Type::JsonText, false, _) => Some(quote!(self.#f.check(#wire)?;)),
            (Type::JsonText, true, req) => Some(quote! {
                match &self.#f {
                    Some(v) => v.check(#wire)?,
                    None if #req => return Err(crate::ParamError::missing(#wire)),
                    None => {}
                }
            }),
            (Type::List(inner), false, _) if **inner == Type::JsonText => Some(quote! {
                for v in &self.#f { v.check(#wire)?; }
            }),
            (Type::String, false, _) if p.location == Location::Path => Some(quote! {
                if self.#f.is_empty() { return Err(crate::ParamError::empty(#wire)); }
            }),
            (Type::String, true, true) => Some(quote! {
                match &self.#f {
                    None => return Err(crate::ParamError::missing(#wire)),
                    Some(v) if v.is_empty() => return Err(crate::ParamError::empty(#wire)),
                    Some(_) => {}
                }
            }),
            (_, true, true) => Some(quote! {
                if self.#f.is_none() { return Err(crate::ParamError::missing(#wire)); }
            }),
            _ => None,
        }
    });
    let meta = emit_meta(op);
    let resp_ty = match &op.rust.response {
        Some(r) => {
            let r = ident(r);
            quote!(crate::models::#r)
        }
        None => quote!(()),
    };
    let paginated = op.pagination.map(|style| {
        let page_field = ident(match style {
            Pagination::PageNumber => "page_number",
            Pagination::CurrentPage => "current_page",
        });
        let model = op.response.as_ref().and_then(|r| api.models.get(r));
        let item = model
            .and_then(|m| m.fields.iter().find(|f| f.name == "data"))
            .map(|f| match &f.ty {
                Type::List(inner) => reply_type(inner),
                other => reply_type(other),
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
    });
    quote! {
        #doc
        #[derive(Clone, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct #req {
            #(#fields)*
        }

        impl #req {
            #ctor_doc
            #[allow(clippy::too_many_arguments, clippy::new_without_default)]
            pub fn new #generics(#(#ctor_args),*) -> Self {
                Self {
                    #(#ctor_inits)*
                }
            }
            #(#setters)*
        }

        impl std::fmt::Debug for #req {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(#req_name)
                    #(#debug_fields)*
                    .finish()
            }
        }

        impl crate::Operation for #req {
            type Response = #resp_ty;
            const META: crate::OperationMeta = #meta;
            fn write_path(&self, out: &mut String) {
                #(#path_stmts)*
            }
            #[allow(unused_variables)]
            fn write_query(&self, q: &mut crate::__private::QueryWriter) {
                #(#query_stmts)*
            }
            #[allow(unused_variables)]
            fn fill_context(&mut self, ctx: &crate::AppContext) {
                #(#context_stmts)*
            }
            fn check(&self) -> Result<(), crate::ParamError> {
                #(#check_stmts)*
                Ok(())
            }
        }
        #paginated
    }
}

fn emit_meta(op: &Operation) -> TokenStream {
    let action = &op.action;
    let version = &op.version;
    let method = op.method.as_str();
    let path = &op.path;
    let area = &op.area;
    let doc = &op.doc;
    let opt = |o: &Option<String>| match o {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    };
    let permission = opt(&op.permission);
    let read_only = op.read_only;
    let seed = op.seed;
    let legacy = match &op.legacy {
        Some((a, v)) => quote!(Some((#a, #v))),
        None => quote!(None),
    };
    let kinds = op.app_kinds.iter().map(|k| k.as_str());
    let pagination = match op.pagination {
        Some(Pagination::PageNumber) => quote!(Some(crate::PageStyle::PageNumber)),
        Some(Pagination::CurrentPage) => quote!(Some(crate::PageStyle::CurrentPage)),
        None => quote!(None),
    };
    let has_body = op.params.iter().any(|p| p.location == Location::Body);
    let request = &op.rust.request;
    let method_name = &op.rust.method;
    let response = opt(&op.response);
    let params = op.params.iter().map(|p| {
        let name = &p.name;
        let loc = match p.location {
            Location::Path => quote!(crate::ParamLocation::Path),
            Location::Query => quote!(crate::ParamLocation::Query),
            Location::Body => quote!(crate::ParamLocation::Body),
        };
        let ty = p.ty.spec_name();
        let required = p.required;
        let secret = p.secret;
        let context = p.context;
        let doc = &p.doc;
        quote! {
            crate::ParamMeta {
                name: #name,
                location: #loc,
                ty: #ty,
                required: #required,
                secret: #secret,
                context: #context,
                doc: #doc,
            }
        }
    });
    quote! {
        crate::OperationMeta {
            action: #action,
            version: #version,
            method: #method,
            path: #path,
            area: #area,
            doc: #doc,
            permission: #permission,
            read_only: #read_only,
            seed: #seed,
            legacy: #legacy,
            app_kinds: &[#(#kinds),*],
            pagination: #pagination,
            has_body: #has_body,
            request_type: #request,
            rust_method: #method_name,
            response_type: #response,
            params: &[#(#params),*],
        }
    }
}
