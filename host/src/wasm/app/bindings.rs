//! Host-side bindings of what an app imports, generated from `wit/`: the
//! `manager` interface (world `app`) at 0.2.0 and, for apps built against
//! it, at 0.1.0 (`wit/v0.1.0`), and the standard `wasi:config/store`.
//!
//! Both are async on the host: a `get` that misses the cache waits on a
//! backend, and that wait must not block the runtime.

/// The `app` world: `processpype:secrets/manager@0.2.0`.
pub(crate) mod manager {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "processpype:secrets/app",
        imports: { default: async },
    });

    pub(crate) use processpype::secrets::manager::{Host, SecretValue, add_to_linker};
    pub(crate) use processpype::secrets::types::{Error, StoredValue};
}

/// The `app` world of 0.1.0: `processpype:secrets/manager@0.1.0`, text
/// only.
pub(crate) mod manager_0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "processpype:secrets/app",
        imports: { default: async },
    });

    pub(crate) use processpype::secrets::manager::{Host, SecretValue, add_to_linker};
    pub(crate) use processpype::secrets::types::Error;
}

/// `wasi:config/store@0.2.0-rc.1`.
pub(crate) mod wasi_config {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "wasi:config/imports",
        imports: { default: async },
    });

    pub(crate) use wasi::config::store::{Error, Host, add_to_linker};
}
