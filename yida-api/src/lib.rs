//! Typed client for the server API of Yida (宜搭), DingTalk's low-code platform.
//!
//! Every operation of API versions 1.0 and 2.0 is generated from the YAML definitions in
//! `spec/`: a request type per operation (`…Request`, required parameters in `new`, optional
//! ones as setters), a reply model, and a method on the area handle
//! (`client.forms().save_form_data_v2(…)`). One naming rule: the action in snake_case for the
//! method (`GetFormDataByID` → `get_form_data_by_id`), the same words in PascalCase for the
//! type (`GetFormDataByIdRequest`), and `_v2`/`V2` for API 2.0. Legacy 1.0 operations say
//! which 2.0 operation replaces them; each request's page links DingTalk's own page.
//!
//! ```no_run
//! use yida_api::{AppContext, Client, SaveFormDataV2Request};
//! # async fn run() -> Result<(), yida_api::Error> {
//! let client = Client::builder()
//!     .access_token("token-from-yida-auth")
//!     .context(AppContext::new().app_type("APP_XXXX").system_token("sys-token").user_id("u1"))
//!     .build()?;
//! let reply = client
//!     .forms()
//!     .save_form_data_v2(SaveFormDataV2Request::new(
//!         "FORM-XXXX",
//!         serde_json::json!({ "textField_abc": "hello", "numberField_def": 3 }),
//!     ))
//!     .await?;
//! println!("new instance: {:?}", reply.result);
//! # Ok(()) }
//! ```
//!
//! # Requests
//!
//! A required parameter cannot be left out: it is an argument of `new`, so forgetting it does
//! not compile.
//!
//! ```compile_fail
//! // `formUuid` and `formDataJson` are required by SaveFormData 2.0.
//! let request = yida_api::SaveFormDataV2Request::new();
//! ```
//!
//! A request with two or more required texts takes them by name, in a `…Args` struct
//! (`ExecuteTaskRequest::new(ExecuteTaskArgs { .. })`), so two ids cannot be swapped
//! unnoticed. Parameters with documented values are enums (`Language`, `Env`,
//! `ExecuteTaskOutResult`, …) whose `Other(String)` (or `from_wire`) sends a value this
//! crate does not know yet.
//!
//! The four parameters of the app context (`appType`, `systemToken`, `userId`, `language`) are
//! the exception: they are usually set once on the client, so a missing one is reported by
//! [`Client::send`] as [`Error::InvalidParameter`], naming it, before anything is sent.
//!
//! # Replies and decoding
//!
//! Every field of a reply model is an `Option` (DingTalk leaves out what it has no value
//! for), decoded leniently (a number sent as text still reads as a number); fields the spec
//! does not know are kept in the model's `extra` map. Free JSON (`formData`, …) is a
//! [`RawJson`]: decode it into your own type with [`RawJson::decode`]; form values are
//! written from any `Serialize` value (see [`form_values`] for dates and member lists).
//!
//! # Pagination
//!
//! List operations implement [`Paginated`]: [`Client::paginate`] walks every page and yields
//! items ([`PageStream`]); [`Client::paginate_json`] does the same for dynamic calls (a
//! `PageStream<serde_json::Value>`).
//!
//! # Errors
//!
//! Everything returns [`Error`]. DingTalk's own errors arrive as [`Error::Api`] with the HTTP
//! status, code, message and request id; bad input is [`Error::InvalidParameter`] before
//! anything is sent; a reply that does not decode is [`Error::Decode`]. Reads are retried on
//! transient failures ([`RetryConfig`]); a write that may have applied is never sent twice.
//!
//! # Guides
//!
//! Task guides, in English and Chinese (`<name>.zh-CN.md`), are in the repository's
//! `docs/guides/`; each has an example in `examples/examples/` that CI runs against the
//! emulator:
//!
//! - `docs/guides/first-session.md`: first session without a tenant
//! - `docs/guides/internal-app.md`: internal app end to end
//! - `docs/guides/isv-app.md`: ISV app end to end (suite_ticket intake, tokens per company)
//! - `docs/guides/export-import.md`: exporting and importing a form at the quota
//! - `docs/guides/testing.md`: testing your own code against the emulator
//! - `docs/guides/typed-forms.md`: typed records of a form (`yida codegen form`, `#[derive(YidaForm)]`)
//! - `docs/guides/dingtalk-changes.md`: when DingTalk changes (drift, spec, gen)
#![cfg_attr(feature = "all-areas", doc = include_str!(concat!(env!("OUT_DIR"), "/index.md")))]
#![warn(missing_docs)]

#[cfg(feature = "batch")]
pub mod bulk;
mod client;
pub mod components;
mod context;
#[cfg(feature = "attachments")]
pub mod download;
mod drive;
pub mod dry_run;
mod error;
pub mod form_values;
#[cfg(feature = "formgen")]
pub mod formgen;
mod json_text;
pub mod ledger;
#[doc(hidden)]
pub mod lenient;
pub mod limiter;
mod meta;
mod paginate;
mod raw;
mod retry;
mod schema;
pub mod typed;
mod values;

#[doc(hidden)]
pub mod __private;

pub use client::{
    Client, ClientBuilder, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_BODY_LIMIT, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_ENDPOINT, DEFAULT_TOTAL_TIMEOUT,
};
pub use context::AppContext;
#[cfg(feature = "attachments")]
pub use download::{Download, DownloadError};
pub use error::{ApiError, Error};
pub use json_text::JsonText;
pub use limiter::{AdaptiveRateLimiter, FixedRateLimiter, QuotaKey, RateLimiter};
pub use meta::{
    current_operation, did_you_mean, operation, FieldMeta, HttpMethod, ModelMeta, Operation,
    OperationMeta, PageStyle, Paginated, ParamError, ParamLocation, ParamMeta, ParamType, PathPart,
    Risk,
};
pub use paginate::{PageStream, DEFAULT_MAX_PAGES, MAX_PAGE_SIZE};
pub use raw::{DecodeError, RawJson};
pub use retry::RetryConfig;
pub use yida_auth;
/// `#[derive(YidaForm)]`: typed records of a form (see [`typed`]).
#[cfg(feature = "derive")]
pub use yida_derive::YidaForm;

mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}
pub use generated::*;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
