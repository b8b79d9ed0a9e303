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
mod component_loading;
mod engine;
mod guest_calls;
mod guest_files;
mod guest_http_memory;
mod guest_listings;
mod guest_log;
mod guest_reply;
mod guest_text;
mod guest_trap;
mod host_error;
mod http_client;
mod http_grants;
mod limits;
mod off_thread_drop;
mod provider_host;
mod sandbox;
mod settings;
mod stall_pool;
mod stalling_filesystems;
#[cfg(test)]
mod test_guests;
mod tls;
mod warning_limit;

/// The host's checks of guest replies and text, for the fuzz target.
#[cfg(feature = "fuzzing")]
pub(crate) mod fuzzing {
    use crate::secrets_provider::Pattern;
    use crate::wasm::bindings::{GuestMatched, GuestValue};
    use crate::wasm::guest_reply::{ReplyCaps, checked_matches, checked_names};
    pub(crate) use crate::wasm::guest_text::escaped;

    const CAPS: ReplyCaps = ReplyCaps {
        names: 64,
        bytes: 1 << 16,
    };

    /// The names `list` would accept, or `None` when it refuses the reply.
    pub(crate) fn check_names(names: Vec<String>, pattern: &Pattern) -> Option<Vec<String>> {
        checked_names(names, pattern, CAPS).ok()
    }

    /// The names a bulk reply would deliver, or `None` when it is refused.
    pub(crate) fn check_matches(
        matched: Vec<(String, String)>,
        pattern: &Pattern,
    ) -> Option<Vec<String>> {
        let matched = matched
            .into_iter()
            .map(|(name, value)| GuestMatched {
                name,
                value: Ok(GuestValue::from(value)),
            })
            .collect();
        checked_matches(matched, pattern, CAPS)
            .ok()
            .map(|accepted| accepted.into_iter().map(|(name, _)| name).collect())
    }
}

pub use app::{AllowList, AppOutcome, AppPolicy, AppStdio, WasmApp};
pub use compile_cache::CompileCache;
pub use guest_calls::{CallCounts, Calls};
pub use provider_host::WasmProvider;
pub(crate) use settings::{ALLOW_FIELDS, LIMIT_FIELDS, TLS_FIELDS};
pub use settings::{Grants, HostGrant, Limits, TlsSettings, WasmSettings};
