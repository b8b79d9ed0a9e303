//! Wasm apps: components of the `app` world (WASI commands) that read
//! secrets from the host under a policy.
//!
//! An app imports `processpype:secrets/manager` (`wit/manager.wit`), the
//! standard `wasi:config/store`, or both; the host serves both from its
//! own manager (same cache, same backends) through the app's
//! [`AllowList`], the one place access is decided (`app_secrets`). What
//! else the app reaches (environment variables, read-only directories) and
//! how much it may use (memory, run time) is its [`AppPolicy`];
//! [`WasmApp`] compiles an app once and runs it under a policy.
//!
//! ```no_run
//! # async fn demo(manager: pp_secrets::SecretsManager) -> pp_secrets::Result<()> {
//! use pp_secrets::config::CompileCacheSetting;
//! use pp_secrets::wasm::{AppPolicy, CompileCache, WasmApp};
//!
//! let cache = CompileCache::from_setting(&CompileCacheSetting::Default);
//! let app = WasmApp::load("report.wasm", &cache)?;
//! let policy = AppPolicy::new("report")
//!     .allow("vault:reporting/*")?
//!     .allow("env:REPORT_TOKEN")?
//!     .timeout_ms(10_000)?
//!     .args(["--since", "yesterday"]);
//! let outcome = app.run(&manager, policy).await?;
//! println!("report exited with {}", outcome.exit_code);
//! # Ok(()) }
//! ```

mod app_secrets;
mod bindings;
mod config_host;
mod manager_host;
mod policy;
mod runner;

pub use policy::{AllowList, AppPolicy, AppStdio};
pub use runner::{AppOutcome, WasmApp};
