//! Typed client for the server API of Yida (宜搭), DingTalk's low-code platform.
//!
//! Every operation of API versions 1.0 and 2.0 is generated from the YAML definitions in
//! `spec/`: a request type per operation (`…Request`, required parameters in `new`, optional
//! ones as setters), a reply model, and a method on the area handle
//! (`client.forms().save_form_data_v2(…)`). Version 2.0 operations carry a `V2` suffix;
//! legacy 1.0 operations say which 2.0 operation replaces them.
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
//! Errors are [`Error`]: DingTalk's own errors arrive as [`Error::Api`] with the HTTP status,
//! code, message and request id.
//!
//! A required parameter cannot be left out: it is an argument of `new`, so forgetting it does
//! not compile.
//!
//! ```compile_fail
//! // `formUuid` and `formDataJson` are required by SaveFormData 2.0.
//! let request = yida_api::SaveFormDataV2Request::new();
//! ```
//!
//! The four parameters of the app context (`appType`, `systemToken`, `userId`, `language`) are
//! the exception: they are usually set once on the client, so a missing one is reported by
//! [`Client::send`] as [`Error::InvalidParameter`], naming it, before anything is sent.
#![warn(missing_docs)]

mod client;
mod context;
mod error;
pub mod form;
mod guard;
mod json_text;
#[doc(hidden)]
pub mod lenient;
mod meta;
mod paginate;
mod raw;
mod retry;

#[doc(hidden)]
pub mod __private;

pub use client::{
    Client, ClientBuilder, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_BODY_LIMIT, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_ENDPOINT, DEFAULT_TOTAL_TIMEOUT,
};
pub use context::AppContext;
pub use error::{ApiError, Error};
pub use json_text::JsonText;
pub use meta::{
    Operation, OperationMeta, PageStyle, Paginated, ParamError, ParamLocation, ParamMeta,
};
pub use paginate::{JsonPageStream, PageStream};
pub use raw::{DecodeError, RawJson};
pub use retry::RetryConfig;
pub use yida_auth;

#[allow(missing_docs, clippy::all)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}
pub use generated::*;

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
