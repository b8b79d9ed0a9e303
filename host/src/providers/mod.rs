//! The built-in backends, each in its own module with its settings (the
//! fields it accepts and how they are read) and its provider; the table of
//! backend types the config accepts; and the factory that turns a
//! [`BackendKind`] into a provider.
//!
//! The `wasm` backend type lives in [`wasm`](crate::wasm) (its settings in
//! `wasm/settings.rs`), beside the sandbox that enforces them.

#[cfg(feature = "aws")]
mod aws;
pub(crate) mod dotenv;
mod env;
mod file;
mod source_file;

use std::path::Path;
use std::sync::Arc;

#[cfg(feature = "aws")]
pub use aws::{AwsProvider, AwsSettings};
pub use dotenv::DotenvProvider;
pub use env::EnvProvider;
pub use file::FileProvider;

use std::path::PathBuf;

use crate::config::fields::Fields;
use crate::config::{BackendConfig, SecretsConfig};
use crate::error::Result;
use crate::secrets_provider::{MatchedSecret, Pattern, ProviderError, SecretsProvider};
use crate::value::SecretText;

/// A map keyed by full secret names (hashed with foldhash: the names come
/// from the operator's own files, not from an attacker).
pub(crate) type SecretMap<V> = hashbrown::HashMap<String, V, foldhash::fast::RandomState>;

/// The names in `map` that match `pattern`.
pub(crate) fn matching_names<V>(map: &SecretMap<V>, pattern: &Pattern) -> Vec<String> {
    map.keys().filter(|k| pattern.matches(k)).cloned().collect()
}

/// The entries of `map` that match `pattern`, each turned into the string
/// the backend stores by `render` (which may fail for that entry alone).
pub(crate) fn matching_secrets<V>(
    map: &SecretMap<V>,
    pattern: &Pattern,
    render: impl Fn(&str, &V) -> Result<SecretText, ProviderError>,
) -> Vec<MatchedSecret> {
    // Sized for the common `*` up front, so a large load does not regrow it.
    let mut matched = Vec::with_capacity(map.len());
    matched.extend(
        map.iter()
            .filter(|(name, _)| pattern.matches(name))
            .map(|(name, value)| MatchedSecret {
                name: name.clone(),
                value: render(name, value),
            }),
    );
    matched
}

/// A backend type with its type-specific settings. Paths are absolute,
/// already resolved against the config file's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// Built once per backend at start-up: the size of the largest variant
// costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum BackendKind {
    /// `type: env`: the process environment.
    Env,
    /// `type: file`: a YAML mapping.
    File {
        /// The YAML file.
        path: PathBuf,
    },
    /// `type: dotenv`: a `.env` file.
    Dotenv {
        /// The `.env` file (default `.env` next to the config).
        path: PathBuf,
    },
    /// `type: aws`: AWS Secrets Manager (the `aws` cargo feature).
    #[cfg(feature = "aws")]
    Aws(AwsSettings),
    /// `type: wasm`: a provider component run in a sandbox (the `wasm`
    /// cargo feature).
    #[cfg(feature = "wasm")]
    Wasm(crate::wasm::WasmSettings),
}

impl BackendKind {
    /// The `type:` spelling of this kind.
    pub fn type_name(&self) -> &'static str {
        match self {
            BackendKind::Env => "env",
            BackendKind::File { .. } => "file",
            BackendKind::Dotenv { .. } => "dotenv",
            #[cfg(feature = "aws")]
            BackendKind::Aws(_) => "aws",
            #[cfg(feature = "wasm")]
            BackendKind::Wasm(_) => "wasm",
        }
    }
}

/// The provider for `backend`, a backend of `section`. Native providers
/// cannot fail here; a Wasm provider fails when its component cannot be
/// read, compiled or linked.
pub(crate) fn provider_for(
    backend: &BackendConfig,
    section: &SecretsConfig,
) -> Result<Arc<dyn SecretsProvider>> {
    let _ = section; // Only Wasm backends read section-wide settings.
    Ok(match &backend.kind {
        BackendKind::Env => Arc::new(EnvProvider::new()),
        BackendKind::File { path } => Arc::new(FileProvider::new(path.clone())),
        BackendKind::Dotenv { path } => Arc::new(DotenvProvider::new(path.clone())),
        #[cfg(feature = "aws")]
        BackendKind::Aws(settings) => Arc::new(AwsProvider::new(settings.clone())),
        #[cfg(feature = "wasm")]
        BackendKind::Wasm(settings) => Arc::new(crate::wasm::WasmProvider::load(
            &backend.name,
            settings,
            &crate::wasm::CompileCache::from_setting(&section.wasm_cache),
        )?),
    })
}

/// What a backend type's settings are read from.
pub(crate) struct SettingsSource<'a> {
    /// The backend's fields, already checked against its type's list.
    pub(crate) fields: &'a Fields<'a>,
    /// The config file's directory (relative paths are relative to it).
    pub(crate) base_dir: &'a Path,
    /// How messages name the backend ("a `file` backend").
    pub(crate) context: &'a str,
}

/// A backend type this build contains: the fields it accepts besides
/// `type` and `prefix`, and how its settings are read.
pub(crate) struct BuiltIn {
    /// The fields besides `type` and `prefix`.
    pub(crate) fields: &'static [&'static str],
    /// Reads the settings.
    pub(crate) read: fn(&SettingsSource<'_>) -> Result<BackendKind>,
}

/// A backend type this project defines: its `type:` name, and what this
/// build has of it (`None` when its cargo feature is off).
pub(crate) struct BackendType {
    /// The `type:` spelling.
    pub(crate) name: &'static str,
    /// The type, when built in.
    pub(crate) built_in: Option<BuiltIn>,
}

/// `Some(row)` when the cargo feature `$feature` is on, else `None`; the
/// row's path is not looked up when the feature is off.
macro_rules! with_feature {
    ($feature:literal, $row:expr) => {{
        #[cfg(feature = $feature)]
        let row = Some($row);
        #[cfg(not(feature = $feature))]
        let row = None;
        row
    }};
}

/// Every backend type, in the order messages list them. Adding a type is
/// one row here (see the README's "Adding a backend").
pub(crate) const BACKEND_TYPES: &[BackendType] = &[
    BackendType {
        name: "env",
        built_in: Some(env::BUILT_IN),
    },
    BackendType {
        name: "file",
        built_in: Some(file::BUILT_IN),
    },
    BackendType {
        name: "dotenv",
        built_in: Some(dotenv::BUILT_IN),
    },
    BackendType {
        name: "aws",
        built_in: with_feature!("aws", aws::BUILT_IN),
    },
    BackendType {
        name: "wasm",
        built_in: with_feature!("wasm", crate::wasm::BUILT_IN),
    },
];

/// The built-in type named `name`, or why there is none: an unknown type,
/// or one this build does not contain.
pub(crate) fn backend_type(name: &str) -> std::result::Result<&'static BuiltIn, String> {
    let listed = |built: bool| {
        BACKEND_TYPES
            .iter()
            .filter(|t| !built || t.built_in.is_some())
            .map(|t| t.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    match BACKEND_TYPES.iter().find(|t| t.name == name) {
        Some(BackendType {
            built_in: Some(built),
            ..
        }) => Ok(built),
        Some(_) => Err(format!(
            "backend type `{name}` is not built into this build of pp-secrets (built in: {})",
            listed(true)
        )),
        None => Err(format!(
            "unknown backend type `{name}` (expected one of: {})",
            listed(false)
        )),
    }
}
