//! The built-in backends, one module each, and the factory that turns a
//! [`BackendKind`] into a provider.

#[cfg(feature = "aws")]
mod aws;
mod dotenv;
pub(crate) mod dotenv_syntax;
mod env;
mod file;
mod source_file;

use std::sync::Arc;

#[cfg(feature = "aws")]
pub use aws::AwsProvider;
pub use dotenv::DotenvProvider;
pub use env::EnvProvider;
pub use file::FileProvider;

use crate::config::{BackendConfig, BackendKind, SecretsConfig};
use crate::error::Result;
use crate::provider::{MatchedSecret, Pattern, ProviderError, SecretsProvider};
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
