//! The built-in backends, each in its own module with its settings (the
//! fields it accepts, how they are read, the provider they describe) and
//! its provider; and the table of backend types the config accepts, which
//! makes [`BackendKind`].
//!
//! The `wasm` backend type lives in [`wasm`](crate::wasm) (its settings in
//! `wasm/settings.rs`), beside the sandbox that enforces them.

#[cfg(feature = "aws")]
mod aws;
pub(crate) mod dotenv;
mod env;
mod file;
mod source_file;
mod trim;

use std::path::Path;
use std::sync::Arc;

#[cfg(feature = "aws")]
pub use aws::{AwsProvider, AwsSettings};
pub use dotenv::{DotenvProvider, DotenvSettings};
pub use env::{EnvProvider, EnvSettings};
pub use file::{FileProvider, FileSettings};
pub use trim::{Trim, Trimmed};

use crate::config::SecretsConfig;
use crate::config::fields::Fields;
use crate::error::Result;
use crate::secrets_provider::{MatchedSecret, Pattern, ProviderError, SecretsProvider};
use crate::value::{SecretText, StoredValue};

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
            .map(|(name, value)| {
                MatchedSecret::new(name.clone(), render(name, value).map(StoredValue::from))
            }),
    );
    matched
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

/// What each backend type's settings struct provides: the fields it
/// accepts, how they are read, and the provider they describe. A type
/// implements this beside its provider and takes one row in the table
/// below (see the README's "Adding a backend").
pub(crate) trait BackendSettings: Sized {
    /// The fields besides `type` and `prefix`.
    const FIELDS: &'static [&'static str];

    /// Reads the settings from a backend's fields.
    fn read(source: &SettingsSource<'_>) -> Result<Self>;

    /// The provider these settings describe, for the backend named
    /// `backend` in `section`. Native providers cannot fail here; a Wasm
    /// provider fails when its component cannot be read, compiled or
    /// linked.
    fn provider(&self, backend: &str, section: &SecretsConfig) -> Result<Arc<dyn SecretsProvider>>;
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

/// The [`BuiltIn`] of the variant `$variant` holding `$settings`; with a
/// feature, `None` when it is off (the settings path is then not looked
/// up).
macro_rules! built_in {
    ($variant:ident, $settings:ty) => {
        Some(BuiltIn {
            fields: <$settings as BackendSettings>::FIELDS,
            read: |source| {
                Ok(BackendKind::$variant(<$settings as BackendSettings>::read(
                    source,
                )?))
            },
        })
    };
    ($variant:ident, $settings:ty, $feature:literal) => {{
        #[cfg(feature = $feature)]
        let row = built_in!($variant, $settings);
        #[cfg(not(feature = $feature))]
        let row = None;
        row
    }};
}

/// The table of backend types: one row each, `"type name" =>
/// Variant(SettingsStruct)`, with `if feature = "..."` for a type behind a
/// cargo feature. It makes the public [`BackendKind`] (one variant a row),
/// [`BackendKind::type_name`], the dispatch to each type's provider, and
/// `BACKEND_TYPES`, from which the config's "unknown type" and "not built
/// in" messages are written.
macro_rules! backend_types {
    ($(
        $(#[doc = $doc:literal])*
        $name:literal => $variant:ident($settings:ty) $(if feature = $feature:literal)?;
    )*) => {
        /// A backend type with its type-specific settings. Paths are
        /// absolute, already resolved against the config file's directory.
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        // Built once per backend at start-up: the size of the largest
        // variant costs nothing worth a box.
        #[allow(clippy::large_enum_variant)]
        pub enum BackendKind {
            $(
                $(#[doc = $doc])*
                $(#[cfg(feature = $feature)])?
                $variant($settings),
            )*
        }

        impl BackendKind {
            /// The `type:` spelling of this kind.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(
                        $(#[cfg(feature = $feature)])?
                        BackendKind::$variant(_) => $name,
                    )*
                }
            }

            /// The provider for `backend`, a backend of `section`.
            pub(crate) fn provider(
                &self,
                backend: &str,
                section: &SecretsConfig,
            ) -> Result<Arc<dyn SecretsProvider>> {
                match self {
                    $(
                        $(#[cfg(feature = $feature)])?
                        BackendKind::$variant(settings) => settings.provider(backend, section),
                    )*
                }
            }
        }

        /// Every backend type, in the order messages list them.
        pub(crate) const BACKEND_TYPES: &[BackendType] = &[$(
            BackendType {
                name: $name,
                built_in: built_in!($variant, $settings $(, $feature)?),
            },
        )*];
    };
}

backend_types! {
    /// `type: env`: the process environment.
    "env" => Env(EnvSettings);
    /// `type: file`: a YAML mapping.
    "file" => File(FileSettings);
    /// `type: dotenv`: a `.env` file.
    "dotenv" => Dotenv(DotenvSettings);
    /// `type: aws`: AWS Secrets Manager (the `aws` cargo feature).
    "aws" => Aws(AwsSettings) if feature = "aws";
    /// `type: wasm`: a provider component run in a sandbox (the `wasm`
    /// cargo feature).
    "wasm" => Wasm(crate::wasm::WasmSettings) if feature = "wasm";
}

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
