//! Host-side bindings of the `provider` world, generated from `wit/`.
//!
//! Exports are called asynchronously so that epoch interruption and WASI
//! host calls cooperate with tokio.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "processpype:secrets/provider",
    exports: { default: async },
});

pub(crate) use processpype::secrets::types::{Error as GuestError, MatchedSecret as GuestMatched};
