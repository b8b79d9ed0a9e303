//! Secrets providers as sandboxed WebAssembly components (the `wasm`
//! cargo feature).
//!
//! A `type: wasm` backend names a component of the `provider` world
//! (`wit/provider.wit`). The host compiles it once ([`CompileCache`]),
//! runs it in a sandbox that grants nothing but what the backend's `allow`
//! lists (`sandbox`), within memory and time limits (`limits`, `engine`),
//! sends its stdout and stderr to the log (`guest_log`), and checks
//! everything it returns (`guest_text`) before the manager sees it
//! ([`WasmProvider`]).
//!
//! Apps (the `app` world) run under a policy through [`WasmApp`]; see
//! [`app`].
//!
//! Wasm backends need a tokio runtime: guest calls are async, and WASI's
//! host calls run on tokio.

pub mod app;
mod bindings;
mod compile_cache;
mod denials;
mod engine;
mod guest_files;
mod guest_log;
mod guest_reply;
mod guest_text;
mod guest_trap;
mod http_client;
mod http_grants;
mod limits;
mod provider_host;
mod sandbox;
#[cfg(test)]
mod test_guests;
mod tls;

pub use app::{AllowList, AppOutcome, AppPolicy, AppStdio, WasmApp};
pub use compile_cache::{CACHE_ENV, CompileCache};
pub use provider_host::WasmProvider;
