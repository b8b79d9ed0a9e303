//! Host-side bindings of what an app imports, generated from `wit/`: the
//! `manager` interface (world `app`) and the standard `wasi:config/store`.
//!
//! Both are async on the host: a `get` that misses the cache waits on a
//! backend, and that wait must not block the runtime.

/// The `app` world: `processpype:secrets/manager`.
pub(crate) mod manager {
    wasmtime::component::bindgen!({
        path: "../wit",
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
