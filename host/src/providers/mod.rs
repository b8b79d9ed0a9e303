//! The built-in backends, one module each, and the factory that turns a
//! [`BackendKind`] into a provider.

mod dotenv;
pub(crate) mod dotenv_syntax;
mod env;
mod file;
mod source_file;

use std::sync::Arc;

pub use dotenv::DotenvProvider;
pub use env::EnvProvider;
pub use file::FileProvider;

use crate::config::BackendKind;
use crate::provider::SecretsProvider;

/// A map keyed by full secret names (hashed with foldhash: the names come
/// from the operator's own files, not from an attacker).
pub(crate) type SecretMap<V> = hashbrown::HashMap<String, V, foldhash::fast::RandomState>;

/// The provider for a configured backend kind.
pub fn provider_for(kind: &BackendKind) -> Arc<dyn SecretsProvider> {
    match kind {
        BackendKind::Env => Arc::new(EnvProvider::new()),
        BackendKind::File { path } => Arc::new(FileProvider::new(path.clone())),
        BackendKind::Dotenv { path } => Arc::new(DotenvProvider::new(path.clone())),
    }
}
