//! Host-side bindings of the provider worlds, generated from `wit/`: the
//! current `processpype:secrets@0.2.0` (world `provider-component`) and the
//! older 0.1.0 (`wit/v0.1.0`, world `provider`), which the host keeps
//! serving; and the host's own view of a guest's answers, the same for
//! both.
//!
//! Exports are called asynchronously so that epoch interruption and WASI
//! host calls cooperate with tokio.

/// `processpype:secrets@0.2.0`: a `provider` resource, text or bytes,
/// versions, change checks.
pub(crate) mod v0_2 {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "processpype:secrets/provider-component",
        exports: { default: async },
    });

    pub(crate) use processpype::secrets::types::{
        Changes, Error, HeldSecret, MatchedSecret, StoredValue, VersionedValue,
    };
}

/// `processpype:secrets@0.1.0`: free functions over one global provider,
/// text only.
pub(crate) mod v0_1 {
    wasmtime::component::bindgen!({
        path: "../wit/v0.1.0",
        world: "processpype:secrets/provider",
        exports: { default: async },
    });

    pub(crate) use processpype::secrets::types::{Error, MatchedSecret};
}

/// The export a 0.2.0 provider component has.
pub(crate) const PROVIDER_0_2: &str = "processpype:secrets/provider@0.2.0";
/// The export a 0.1.0 provider component has.
pub(crate) const PROVIDER_0_1: &str = "processpype:secrets/backend@0.1.0";

/// A guest's own error, whichever version it speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GuestError {
    /// The secret does not exist.
    NotFound(String),
    /// The provider failed.
    Backend(String),
    /// The provider (or its source) refused.
    AccessDenied(String),
}

impl From<v0_2::Error> for GuestError {
    fn from(e: v0_2::Error) -> Self {
        match e {
            v0_2::Error::NotFound(m) => GuestError::NotFound(m),
            v0_2::Error::Backend(m) => GuestError::Backend(m),
            v0_2::Error::AccessDenied(m) => GuestError::AccessDenied(m),
        }
    }
}

impl From<v0_1::Error> for GuestError {
    fn from(e: v0_1::Error) -> Self {
        match e {
            v0_1::Error::NotFound(m) => GuestError::NotFound(m),
            v0_1::Error::Backend(m) => GuestError::Backend(m),
            v0_1::Error::AccessDenied(m) => GuestError::AccessDenied(m),
        }
    }
}

/// A value as a guest gives it, before the host's checks: text or bytes,
/// and the guest's version of it.
pub(crate) struct GuestValue {
    /// Text, or bytes.
    pub(crate) value: GuestBytes,
    /// The guest's version, when it gave one.
    pub(crate) version: Option<String>,
}

/// A guest's value: text or bytes.
pub(crate) enum GuestBytes {
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
}

impl From<v0_2::VersionedValue> for GuestValue {
    fn from(v: v0_2::VersionedValue) -> Self {
        GuestValue {
            value: match v.value {
                v0_2::StoredValue::Text(t) => GuestBytes::Text(t),
                v0_2::StoredValue::Bytes(b) => GuestBytes::Bytes(b),
            },
            version: v.version,
        }
    }
}

impl From<String> for GuestValue {
    fn from(text: String) -> Self {
        GuestValue {
            value: GuestBytes::Text(text),
            version: None,
        }
    }
}

/// A name with its value (or its own error) as a bulk reply gives it.
pub(crate) struct GuestMatched {
    /// The full name.
    pub(crate) name: String,
    /// The value, or why this one name failed.
    pub(crate) value: Result<GuestValue, GuestError>,
}

impl From<v0_2::MatchedSecret> for GuestMatched {
    fn from(m: v0_2::MatchedSecret) -> Self {
        GuestMatched {
            name: m.name,
            value: m.value.map(GuestValue::from).map_err(GuestError::from),
        }
    }
}

impl From<v0_1::MatchedSecret> for GuestMatched {
    fn from(m: v0_1::MatchedSecret) -> Self {
        GuestMatched {
            name: m.name,
            value: m.value.map(GuestValue::from).map_err(GuestError::from),
        }
    }
}

/// What a change check answered.
pub(crate) enum GuestChanges {
    /// The provider cannot tell.
    Unknown,
    /// The names that changed, appeared and went away.
    Known {
        changed: Vec<String>,
        added: Vec<String>,
        gone: Vec<String>,
    },
}

impl From<v0_2::Changes> for GuestChanges {
    fn from(c: v0_2::Changes) -> Self {
        match c {
            v0_2::Changes::Unknown => GuestChanges::Unknown,
            v0_2::Changes::Known(set) => GuestChanges::Known {
                changed: set.changed,
                added: set.added,
                gone: set.gone,
            },
        }
    }
}
