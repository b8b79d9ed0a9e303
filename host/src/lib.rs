//! A multi-backend secrets manager.
//!
//! Secrets come from named *backends* (the process environment, YAML files,
//! `.env` files, or any [`SecretsProvider`] you register), are preloaded at
//! start-up from `backend:pattern` declarations, cached in memory, read
//! through one `backend:key` API, and referenced from YAML config as
//! `${secret://backend:key}`.
//!
//! ```no_run
//! # async fn demo() -> pp_secrets::Result<()> {
//! use pp_secrets::SecretsManager;
//!
//! // `None` when the config says `secrets.enabled: false`.
//! if let Some(secrets) = SecretsManager::from_file("config.yaml")? {
//!     secrets.load().await?;                       // the start-up preload
//!     let db = secrets.get("local:db_password").await?;
//!     let token = secrets.get_or_none("env:API_TOKEN").await?;
//! }
//! # Ok(()) }
//! ```
//!
//! The async API needs a Tokio runtime with its I/O and time drivers
//! (`#[tokio::main]`, or a runtime built with `enable_all()`; current-thread
//! or multi-thread): the `file` and `dotenv` backends read through
//! `tokio::fs`, the `aws` backend and Wasm providers use Tokio's network
//! and timers. Synchronous code uses [`blocking::SecretsManager`], which
//! needs no runtime of its own.
//!
//! The crate is laid out by concern:
//! [`config`] (the YAML model, `${VAR}` expansion),
//! [`key`] (`backend:name`, prefixes), [`value`] (redacted, zeroized
//! values), [`manager`] (cache, get, load), [`tokens`] (`${secret://}`),
//! [`application`] (service integration), [`blocking`] (the manager for
//! synchronous code), [`secrets_provider`] (the trait every backend implements),
//! [`providers`] (the built-in backends) and `wasm` (providers as
//! sandboxed WebAssembly components, and Wasm apps that read secrets under
//! an allow-list; the `wasm` feature).

pub mod application;
pub mod blocking;
pub mod config;
pub mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod key;
pub mod manager;
#[cfg(feature = "wasm")]
pub mod provider_suite;
pub mod providers;
pub mod secrets_provider;
pub mod tokens;
pub mod value;
#[cfg(feature = "wasm")]
pub mod wasm;

pub use application::{Application, Service, ServiceContext, ServiceWatch};
pub use async_trait::async_trait;
pub use config::{ConfigDocument, ConfigTree, SecretsConfig};
pub use error::{Error, ErrorKind, Result};
pub use key::{BackendPrefix, SecretKey};
pub use manager::{DeclarationReport, LoadReport, ManagerBuilder, SecretsManager};
pub use secrets_provider::{
    BackendProblem, HeldSecret, MatchedSecret, Pattern, ProviderError, Refreshed, SecretsProvider,
};
pub use tokens::{
    SuspectToken, TokenPlace, TokenScan, file_token_keys, render_file, resolve_tokens,
    scan_file_tokens, scan_tokens, token_keys,
};
pub use value::{SecretBytes, SecretObject, SecretText, SecretValue, StoredValue};
