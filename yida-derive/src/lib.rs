//! `#[derive(YidaForm)]`: a struct whose fields are Yida form components becomes a typed
//! record — `Serialize` writes what Yida accepts (read-only components left out), `Deserialize`
//! reads what Yida returns (companion keys joined, JSON text kept and parsed when read), and, with
//! `#[yida(form = "FORM-…")]`, typed save, get, update, delete and search through
//! `yida_api::Client::typed`. Use it through `yida-api`'s `derive` feature
//! (`yida_api::YidaForm`); the generated code refers to `::yida_api`.
//!
//! Attributes:
//! - on the struct: `#[yida(form = "FORM-…")]` (a form; without it, a sub-form row type);
//! - on each field: `#[yida(id = "textField_…")]`, optionally `kind = "EmployeeField"` when
//!   the id's prefix does not say the kind, and `read_only` (never written; serial numbers
//!   are read-only already);
//! - on one `serde_json::Map<String, serde_json::Value>` field: `#[yida(extra)]`, which keeps
//!   the keys of the reply no field took (they are never written back).

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote};
use syn::{parse_macro_input, Data, DeriveInput, Fields, LitStr};

/// What the macro knows about a component kind: its `componentName`, field id prefixes,
/// whether it is read-only, and which search methods it gets. Kept in step with
/// `yida_api::components::COMPONENTS` by a test in yida-api (`tests/derive.rs`).
struct KindInfo {
    name: &'static str,
    prefixes: &'static [&'static str],
    read_only: bool,
    search: Search,
}

#[derive(Clone, Copy, PartialEq)]
enum Search {
    Text,
    Choice,
    Choices,
    Number,
    Date,
    DateRange,
    Ids,
    Path,
    None,
}

const KINDS: &[KindInfo] = &[
    k("TextField", &["textField"], Search::Text),
    k("TextareaField", &["textareaField"], Search::Text),
    k("NumberField", &["numberField"], Search::Number),
    k("RateField", &["rateField"], Search::Number),
    k("RadioField", &["radioField"], Search::Choice),
    k("SelectField", &["selectField"], Search::Choice),
    k("CheckboxField", &["checkboxField"], Search::Choices),
    k("MultiSelectField", &["multiSelectField"], Search::Choices),
    k(
        "CascadeSelectField",
        &["cascadeSelectField", "cascaderField"],
        Search::Path,
    ),
    k("DateField", &["dateField"], Search::Date),
    k(
        "CascadeDateField",
        &["cascadeDateField", "cascadeDate", "dateRangeField"],
        Search::DateRange,
    ),
    k("EmployeeField", &["employeeField"], Search::Ids),
    k(
        "DepartmentSelectField",
        &["departmentSelectField", "departmentField"],
        Search::Ids,
    ),
    k(
        "CountrySelectField",
        &["countrySelectField", "regionSelectField"],
        Search::None,
    ),
    k("CityField", &["citySelectField", "cityField"], Search::Path),
    k("AddressField", &["addressField"], Search::None),
    k("AttachmentField", &["attachmentField"], Search::None),
    k(
        "ImageField",
        &["imageField", "imageUploadField"],
        Search::None,
    ),
    k("LinkField", &["linkField"], Search::None),
    k(
        "EditorField",
        &["editorField", "richTextField"],
        Search::Text,
    ),
    k(
        "AssociationFormField",
        &["associationFormField"],
        Search::None,
    ),
    k("TableField", &["tableField"], Search::Text),
    KindInfo {
        name: "SerialNumberField",
        prefixes: &["serialNumberField"],
        read_only: true,
        search: Search::Choice,
    },
    k(
        "DigitalSignatureField",
        &["digitalSignatureField", "signatureField"],
        Search::None,
    ),
    k("LocationField", &["locationField"], Search::None),
];

const fn k(name: &'static str, prefixes: &'static [&'static str], search: Search) -> KindInfo {
    KindInfo {
        name,
        prefixes,
        read_only: false,
        search,
    }
}

fn kind_by_name(name: &str) -> Option<&'static KindInfo> {
    // `CitySelectField` is the name Yida's definitions use for `CityField`.
    let name = if name == "CitySelectField" {
        "CityField"
    } else {
        name
    };
    KINDS.iter().find(|k| k.name == name)
}

fn kind_by_id(id: &str) -> Option<&'static KindInfo> {
    let prefix = id.split('_').next()?;
    KINDS.iter().find(|k| k.prefixes.contains(&prefix))
}

/// Derives a typed Yida record. See the crate documentation for the attributes.
#[proc_macro_derive(YidaForm, attributes(yida))]
pub fn derive_yida_form(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(t) => t.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

struct Field {
    ident: syn::Ident,
    ty: syn::Type,
    id: String,
    kind: Option<&'static KindInfo>,
    read_only: bool,
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let name = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new_spanned(
            &input.generics,
            format!("#[derive(YidaForm)] on `{name}`: generic parameters are not supported"),
        ));
    }
    let mut form: Option<LitStr> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("yida")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("form") {
                let v: LitStr = meta.value()?.parse()?;
                if !v.value().starts_with("FORM-") {
                    return Err(syn::Error::new_spanned(
                        &v,
                        format!("`{name}`: #[yida(form = …)] takes a form uuid starting with `FORM-`"),
                    ));
                }
                form = Some(v);
                Ok(())
            } else {
                Err(meta.error(format!(
                    "`{name}`: unknown struct attribute #[yida({})]; expected #[yida(form = \"FORM-…\")]",
                    path_text(&meta.path)
                )))
            }
        })?;
    }
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(n) => &n.named,
            _ => {
                return Err(syn::Error::new(
                    Span::call_site(),
                    format!("#[derive(YidaForm)] on `{name}`: needs a struct with named fields"),
                ))
            }
        },
        _ => {
            return Err(syn::Error::new(
                Span::call_site(),
                format!("#[derive(YidaForm)] on `{name}`: needs a struct with named fields"),
            ))
        }
    };

    let mut out: Vec<Field> = vec![];
    let mut extra: Option<syn::Ident> = None;
    for f in fields {
        let ident = f.ident.clone().expect("named field");
        let mut id: Option<LitStr> = None;
        let mut kind_lit: Option<LitStr> = None;
        let mut read_only = false;
        let mut is_extra = false;
        let mut seen = false;
        for attr in f.attrs.iter().filter(|a| a.path().is_ident("yida")) {
            seen = true;
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("id") {
                    id = Some(meta.value()?.parse()?);
                } else if meta.path.is_ident("kind") {
                    kind_lit = Some(meta.value()?.parse()?);
                } else if meta.path.is_ident("read_only") {
                    read_only = true;
                } else if meta.path.is_ident("extra") {
                    is_extra = true;
                } else {
                    return Err(meta.error(format!(
                        "field `{ident}`: unknown attribute #[yida({})]; expected id, kind, read_only or extra",
                        path_text(&meta.path)
                    )));
                }
                Ok(())
            })?;
        }
        if is_extra {
            if id.is_some() || kind_lit.is_some() || read_only {
                return Err(syn::Error::new_spanned(
                    f,
                    format!("field `{ident}`: #[yida(extra)] takes no id, kind or read_only"),
                ));
            }
            if extra.is_some() {
                return Err(syn::Error::new_spanned(
                    f,
                    format!("field `{ident}`: only one field can be #[yida(extra)]"),
                ));
            }
            extra = Some(ident);
            continue;
        }
        let Some(id) = id else {
            let msg = if seen {
                format!("field `{ident}`: #[yida(id = \"…\")] is missing")
            } else {
                format!(
                    "field `{ident}`: needs #[yida(id = \"<component id>\")] (or #[yida(extra)])"
                )
            };
            return Err(syn::Error::new_spanned(f, msg));
        };
        let idv = id.value();
        if idv.is_empty() || idv.contains(|c: char| c.is_whitespace() || c == '"') {
            return Err(syn::Error::new_spanned(
                &id,
                format!("field `{ident}`: #[yida(id = {idv:?})] is not a component id"),
            ));
        }
        if idv.ends_with("_id") && kind_by_id(&idv).is_some() && idv.matches('_').count() >= 2 {
            // `employeeField_x_id` is a reply's companion key, not a component.
            if let Some(k) = kind_by_id(&idv) {
                if matches!(
                    k.name,
                    "EmployeeField" | "DepartmentSelectField" | "AssociationFormField"
                ) {
                    return Err(syn::Error::new_spanned(
                        &id,
                        format!(
                            "field `{ident}`: #[yida(id = {idv:?})] is a reply's companion key; use the component id {:?}",
                            idv.trim_end_matches("_id")
                        ),
                    ));
                }
            }
        }
        if let Some(prev) = out.iter().find(|p| p.id == idv) {
            return Err(syn::Error::new_spanned(
                &id,
                format!(
                    "field `{ident}`: #[yida(id = {idv:?})] is also the id of field `{}`",
                    prev.ident
                ),
            ));
        }
        let kind = match &kind_lit {
            Some(k) => Some(kind_by_name(&k.value()).ok_or_else(|| {
                syn::Error::new_spanned(
                    k,
                    format!(
                        "field `{ident}`: #[yida(kind = {:?})] is not a Yida component kind (TextField, NumberField, EmployeeField, …)",
                        k.value()
                    ),
                )
            })?),
            None => kind_by_id(&idv),
        };
        if kind.is_some_and(|k| k.name == "TableField") && !looks_like_table(&f.ty) {
            return Err(syn::Error::new_spanned(
                &f.ty,
                format!("field `{ident}`: #[yida(id = {idv:?})] is a sub-form; its type must be Table<Row> or Option<Table<Row>>"),
            ));
        }
        out.push(Field {
            ident,
            ty: f.ty.clone(),
            id: idv,
            read_only: read_only || kind.is_some_and(|k| k.read_only),
            kind,
        });
    }

    let fv = quote!(::yida_api::form_values::FormValue);
    let vis = &input.vis;

    // Serialize: the writable fields that are set.
    let ser = out.iter().filter(|f| !f.read_only).map(|f| {
        let (ident, id) = (&f.ident, &f.id);
        quote! {
            if !#fv::is_unset(&self.#ident) {
                __m.serialize_entry(#id, &self.#ident)?;
            }
        }
    });

    // Deserialize.
    let n = out.len();
    let slots: Vec<_> = (0..n).map(|i| format_ident!("__f{}", i)).collect();
    let twin_slots: Vec<_> = (0..n).map(|i| format_ident!("__t{}", i)).collect();
    let ids: Vec<&str> = out.iter().map(|f| f.id.as_str()).collect();
    let twin_ids: Vec<String> = ids.iter().map(|id| format!("{id}_id")).collect();
    let value_ids: Vec<String> = ids.iter().map(|id| format!("{id}_value")).collect();
    let tys: Vec<&syn::Type> = out.iter().map(|f| &f.ty).collect();
    let field_idents: Vec<&syn::Ident> = out.iter().map(|f| &f.ident).collect();
    let missing: Vec<String> = out
        .iter()
        .map(|f| {
            format!(
                "missing field `{}` ({}); make it an Option to allow a reply without it",
                f.ident, f.id
            )
        })
        .collect();
    let bad: Vec<String> = out
        .iter()
        .map(|f| format!("field `{}` ({})", f.ident, f.id))
        .collect();
    // Keys of a reply a field takes, each with a code: field `i` is `i`, its `_id` companion
    // `n + i`, a `_value` companion `2n` (skipped). A key that is both a field id and another
    // field's companion goes to the field.
    let mut table: Vec<(String, usize)> = Vec::with_capacity(3 * n);
    table.extend(ids.iter().enumerate().map(|(i, id)| (id.to_string(), i)));
    table.extend(twin_ids.iter().enumerate().map(|(i, t)| (t.clone(), n + i)));
    table.extend(value_ids.iter().map(|v| (v.clone(), 2 * n)));
    table.sort();
    table.dedup_by(|later, first| later.0 == first.0);
    let field_codes: Vec<_> = (0..n)
        .map(|i| proc_macro2::Literal::u32_unsuffixed(i as u32))
        .collect();
    let twin_codes: Vec<_> = (n..2 * n)
        .map(|i| proc_macro2::Literal::u32_unsuffixed(i as u32))
        .collect();
    // Other keys: kept (as JSON) when the struct has an `extra` field, else skipped without
    // copying the key.
    let (key_enum, key_other, extra_decl, extra_other, extra_init) = match &extra {
        Some(e) => (
            quote!(
                enum __K {
                    Known(u32),
                    Other(::std::string::String),
                }
            ),
            quote!(__K::Other(::std::borrow::ToOwned::to_owned(v))),
            quote!(let mut __extra = ::serde_json::Map::new();),
            quote!(__K::Other(k) => { __extra.insert(k, __map.next_value::<::serde_json::Value>()?); }),
            quote!(#e: __extra,),
        ),
        None => (
            quote!(
                enum __K {
                    Known(u32),
                    Other,
                }
            ),
            quote!(__K::Other),
            quote!(),
            quote!(__K::Other => { __map.next_value::<::serde::de::IgnoredAny>()?; }),
            quote!(),
        ),
    };
    let key_lookup = key_match(&table, &key_other);
    let expecting = format!("the form data of {name} (a map of component ids)");

    let field_meta = out.iter().map(|f| {
        let (rust, id, ro) = (f.ident.to_string(), &f.id, f.read_only);
        let kind = match f.kind {
            Some(k) => {
                let v = format_ident!("{}", k.name);
                quote!(::core::option::Option::Some(::yida_api::components::ComponentKind::#v))
            }
            None => quote!(::core::option::Option::None),
        };
        quote!(::yida_api::typed::FieldMeta { name: #rust, id: #id, kind: #kind, read_only: #ro })
    });
    let write_fields = out.iter().filter(|f| !f.read_only).map(|f| {
        let (ident, id) = (&f.ident, &f.id);
        quote! {
            if !#fv::is_unset(&self.#ident) {
                __out.push((#id, ::serde_json::to_value(&self.#ident).map_err(|e| e.to_string())));
            }
        }
    });
    let tables: Vec<&Field> = out
        .iter()
        .filter(|f| f.kind.is_some_and(|k| k.name == "TableField"))
        .collect();
    let table_count = tables.iter().map(|f| {
        let (ident, id) = (&f.ident, &f.id);
        quote!(#id => ::core::option::Option::Some(::yida_api::typed::TableValue::row_count(&self.#ident)),)
    });
    let table_set = tables.iter().map(|f| {
        let (ident, id) = (&f.ident, &f.id);
        quote!(#id => ::yida_api::typed::TableValue::replace_rows(&mut self.#ident, rows),)
    });

    let record = quote! {
        impl ::serde::Serialize for #name {
            fn serialize<__S: ::serde::Serializer>(&self, __s: __S) -> ::core::result::Result<__S::Ok, __S::Error> {
                use ::serde::ser::SerializeMap as _;
                let mut __m = __s.serialize_map(::core::option::Option::None)?;
                #(#ser)*
                __m.end()
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<__D: ::serde::Deserializer<'de>>(__d: __D) -> ::core::result::Result<Self, __D::Error> {
                #key_enum
                struct __KV;
                impl<'de> ::serde::de::Visitor<'de> for __KV {
                    type Value = __K;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter) -> ::core::fmt::Result {
                        f.write_str("a component id")
                    }
                    fn visit_str<__E: ::serde::de::Error>(self, v: &str) -> ::core::result::Result<__K, __E> {
                        let __b = v.as_bytes();
                        ::core::result::Result::Ok(#key_lookup)
                    }
                }
                impl<'de> ::serde::Deserialize<'de> for __K {
                    fn deserialize<__D2: ::serde::Deserializer<'de>>(d: __D2) -> ::core::result::Result<Self, __D2::Error> {
                        d.deserialize_identifier(__KV)
                    }
                }
                struct __V;
                impl<'de> ::serde::de::Visitor<'de> for __V {
                    type Value = #name;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter) -> ::core::fmt::Result {
                        f.write_str(#expecting)
                    }
                    fn visit_map<__A: ::serde::de::MapAccess<'de>>(self, mut __map: __A) -> ::core::result::Result<#name, __A::Error> {
                        use ::serde::de::Error as _;
                        #(let mut #slots: ::core::option::Option<#tys> = ::core::option::Option::None;)*
                        #(let mut #twin_slots: ::core::option::Option<::yida_api::form_values::Companion> = ::core::option::Option::None;)*
                        #extra_decl
                        while let ::core::option::Option::Some(__k) = __map.next_key::<__K>()? {
                            match __k {
                                #(__K::Known(#field_codes) => {
                                    #slots = ::core::option::Option::Some(__map.next_value::<#tys>().map_err(|e| __A::Error::custom(::core::format_args!("{}: {}", #bad, e)))?);
                                })*
                                #(__K::Known(#twin_codes) => {
                                    __map.next_value_seed(::yida_api::form_values::CompanionSeed::<#tys> {
                                        value: &mut #slots,
                                        companion: &mut #twin_slots,
                                    }).map_err(|e| __A::Error::custom(::core::format_args!("{}: {}", #bad, e)))?;
                                })*
                                __K::Known(_) => { __map.next_value::<::serde::de::IgnoredAny>()?; }
                                #extra_other
                            }
                        }
                        #(
                            let #slots = match #twin_slots {
                                ::core::option::Option::Some(t) => <#tys as #fv>::merge_companion(#slots, t)
                                    .map_err(|e| __A::Error::custom(::core::format_args!("{}: {}", #bad, e)))?,
                                ::core::option::Option::None => #slots,
                            };
                            let #slots = match #slots {
                                ::core::option::Option::Some(v) => v,
                                ::core::option::Option::None => <#tys as #fv>::absent()
                                    .ok_or_else(|| __A::Error::custom(#missing))?,
                            };
                        )*
                        ::core::result::Result::Ok(#name { #(#field_idents: #slots,)* #extra_init })
                    }
                }
                __d.deserialize_map(__V)
            }
        }

        impl ::yida_api::typed::YidaRecord for #name {
            const FIELDS: &'static [::yida_api::typed::FieldMeta] = &[#(#field_meta),*];
            fn write_fields(&self) -> ::std::vec::Vec<(&'static str, ::core::result::Result<::serde_json::Value, ::std::string::String>)> {
                let mut __out = ::std::vec::Vec::new();
                #(#write_fields)*
                __out
            }
            fn table_row_count(&self, field_id: &str) -> ::core::option::Option<usize> {
                match field_id {
                    #(#table_count)*
                    _ => ::core::option::Option::None,
                }
            }
            fn replace_table_rows(&mut self, field_id: &str, rows: &[::yida_api::RawJson]) -> ::core::result::Result<(), ::std::string::String> {
                let _ = &rows;
                match field_id {
                    #(#table_set)*
                    _ => ::core::result::Result::Err(::std::format!("no sub-form field {field_id}")),
                }
            }
        }

    };

    let form_impl = match &form {
        None => quote!(),
        Some(uuid) => {
            let search = format_ident!("{}Search", name);
            let methods = out.iter().filter_map(search_methods);
            let doc = format!("Typed search conditions on [`{name}`] (one method per field and kind of condition).");
            quote! {
                impl ::yida_api::typed::YidaForm for #name {
                    const FORM_UUID: &'static str = #uuid;
                    type Search = #search;
                }

                #[doc = #doc]
                #[derive(Debug, Clone, Default)]
                #vis struct #search(::yida_api::typed::Search);

                impl #search {
                    /// No condition (every record).
                    pub fn new() -> Self { Self::default() }
                    #(#methods)*
                }

                impl ::core::convert::From<#search> for ::yida_api::typed::Search {
                    fn from(s: #search) -> Self { s.0 }
                }
            }
        }
    };

    Ok(quote! {
        const _: () = {
            #record
        };
        #form_impl
    })
}

/// The code of a reply key as a decision tree over the key's length and then the bytes that
/// tell the keys apart, ending in one comparison with the only key left: a few jumps per key
/// instead of a comparison with every component id (`v` is the key, `__b` its bytes).
fn key_match(keys: &[(String, usize)], other: &Tokens) -> Tokens {
    let mut by_len: std::collections::BTreeMap<usize, Vec<&(String, usize)>> = Default::default();
    for k in keys {
        by_len.entry(k.0.len()).or_default().push(k);
    }
    let arms = by_len.iter().map(|(len, group)| {
        let body = same_length(group, other);
        let len = proc_macro2::Literal::usize_unsuffixed(*len);
        quote!(#len => #body,)
    });
    quote! {
        match __b.len() {
            #(#arms)*
            _ => #other,
        }
    }
}

/// [`key_match`] among keys of one length: switch on the byte that splits them into the most
/// groups, until one key is left.
fn same_length(keys: &[&(String, usize)], other: &Tokens) -> Tokens {
    if let [(key, code)] = keys {
        let code = proc_macro2::Literal::u32_unsuffixed(*code as u32);
        return quote!(if v == #key { __K::Known(#code) } else { #other });
    }
    let len = keys[0].0.len();
    let distinct = |p: usize| {
        let mut b: Vec<u8> = keys.iter().map(|k| k.0.as_bytes()[p]).collect();
        b.sort_unstable();
        b.dedup();
        b.len()
    };
    // Keys are distinct, so some byte tells at least two groups apart.
    let at = (0..len)
        .max_by_key(|p| (distinct(*p), std::cmp::Reverse(*p)))
        .unwrap_or(0);
    let mut groups: std::collections::BTreeMap<u8, Vec<&(String, usize)>> = Default::default();
    for k in keys {
        groups.entry(k.0.as_bytes()[at]).or_default().push(k);
    }
    let arms = groups.iter().map(|(byte, group)| {
        let body = same_length(group, other);
        let byte = proc_macro2::Literal::u8_suffixed(*byte);
        quote!(#byte => #body,)
    });
    let at = proc_macro2::Literal::usize_unsuffixed(at);
    quote! {
        match __b[#at] {
            #(#arms)*
            _ => #other,
        }
    }
}

fn search_methods(f: &Field) -> Option<Tokens> {
    let kind = f.kind?;
    if f.read_only && kind.name != "SerialNumberField" {
        return None;
    }
    let id = &f.id;
    let base = f.ident.to_string();
    let m = |suffix: &str| {
        format_ident!(
            "{}_{}",
            base.trim_start_matches("r#"),
            suffix,
            span = f.ident.span()
        )
    };
    let doc = |what: &str| format!("`{id}` {what}.");
    Some(match kind.search {
        Search::Text => {
            let (m1, d1) = (
                m("contains"),
                doc("contains the text (Yida matches texts loosely)"),
            );
            quote! {
                #[doc = #d1]
                pub fn #m1(mut self, text: impl ::core::convert::Into<::std::string::String>) -> Self {
                    self.0.text(#id, text.into()); self
                }
            }
        }
        Search::Choice => {
            let (m1, d1) = (m("eq"), doc("equals the option"));
            quote! {
                #[doc = #d1]
                pub fn #m1(mut self, option: impl ::core::convert::Into<::std::string::String>) -> Self {
                    self.0.text(#id, option.into()); self
                }
            }
        }
        Search::Choices => {
            let (m1, d1) = (m("any_of"), doc("has any of the options"));
            quote! {
                #[doc = #d1]
                pub fn #m1<__I: ::core::convert::Into<::std::string::String>>(mut self, options: impl ::core::iter::IntoIterator<Item = __I>) -> Self {
                    self.0.texts(#id, options.into_iter().map(::core::convert::Into::into).collect()); self
                }
            }
        }
        Search::Ids => {
            let (m1, d1) = (
                m("any_of"),
                doc("holds any of the ids (user ids, department ids)"),
            );
            quote! {
                #[doc = #d1]
                pub fn #m1<__I: ::core::convert::Into<::std::string::String>>(mut self, ids: impl ::core::iter::IntoIterator<Item = __I>) -> Self {
                    self.0.texts(#id, ids.into_iter().map(::core::convert::Into::into).collect()); self
                }
            }
        }
        Search::Path => {
            let (m1, d1) = (
                m("eq"),
                doc("equals the path (option values or region codes, top first)"),
            );
            quote! {
                #[doc = #d1]
                pub fn #m1<__I: ::core::convert::Into<::std::string::String>>(mut self, path: impl ::core::iter::IntoIterator<Item = __I>) -> Self {
                    self.0.texts(#id, path.into_iter().map(::core::convert::Into::into).collect()); self
                }
            }
        }
        Search::Number => {
            let (m1, d1) = (
                m("between"),
                doc("is between `low` and `high`, both included"),
            );
            let (m2, d2) = (m("eq"), doc("equals the number"));
            quote! {
                #[doc = #d1]
                pub fn #m1(mut self, low: f64, high: f64) -> Self { self.0.number_range(#id, low, high); self }
                #[doc = #d2]
                pub fn #m2(mut self, n: f64) -> Self { self.0.number_range(#id, n, n); self }
            }
        }
        Search::Date => {
            let (m1, d1) = (
                m("between"),
                doc("is between `from` and `to` (epoch milliseconds, both included)"),
            );
            quote! {
                #[doc = #d1]
                pub fn #m1(mut self, from: ::yida_api::form_values::DateMs, to: ::yida_api::form_values::DateMs) -> Self {
                    self.0.date_range(#id, from, to); self
                }
            }
        }
        Search::DateRange => {
            let (m1, d1) = (m("within"), doc("starts and ends between `from` and `to`"));
            quote! {
                #[doc = #d1]
                pub fn #m1(mut self, from: ::yida_api::form_values::DateMs, to: ::yida_api::form_values::DateMs) -> Self {
                    self.0.date_range_within(#id, from, to); self
                }
            }
        }
        Search::None => return None,
    })
}

fn looks_like_table(ty: &syn::Type) -> bool {
    let syn::Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last() else {
        return false;
    };
    if last.ident == "Table" {
        return true;
    }
    if last.ident == "Option" {
        if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
            if let Some(syn::GenericArgument::Type(inner)) = a.args.first() {
                return looks_like_table(inner);
            }
        }
    }
    false
}

fn path_text(p: &syn::Path) -> String {
    p.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
        .chars()
        .take(40)
        .collect()
}
