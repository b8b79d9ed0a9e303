//! The typed model of the `secrets:` section.

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::RefreshSettings;
use crate::error::Result;
use crate::providers::{BackendKind, Trim, Trimmed};
use crate::secrets_provider::SecretsProvider;

/// The `secrets:` section of an application config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretsConfig {
    /// Whether the subsystem exists at all (default `false`).
    pub enabled: bool,
    /// Whether fetched secrets are kept in memory (default `true`).
    pub cache_enabled: bool,
    /// The named backends, in the order the file lists them.
    pub backends: Vec<BackendConfig>,
    /// `backend:pattern` declarations preloaded at start-up, in order.
    pub load: Vec<String>,
    /// `wasm_cache`: where compiled Wasm components are kept between runs.
    pub wasm_cache: CompileCacheSetting,
    /// `refresh`: the default of every backend's own (each
    /// [`BackendConfig::refresh`] already has it applied).
    pub refresh: Option<RefreshSettings>,
}

/// Where compiled Wasm components are kept between runs (`secrets.wasm_cache`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CompileCacheSetting {
    /// Not set (or `true`): `PP_SECRETS_WASM_CACHE` when set (a directory,
    /// or `off`), else `pp-secrets/wasm` in the user's cache directory.
    #[default]
    Default,
    /// A directory (relative paths are relative to the config file).
    Dir(PathBuf),
    /// `false`: compile every component at every start.
    Off,
}

impl Default for SecretsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            cache_enabled: true,
            backends: Vec::new(),
            load: Vec::new(),
            wasm_cache: CompileCacheSetting::Default,
            refresh: None,
        }
    }
}

/// One named backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendConfig {
    /// The name used in keys (`name:secret`).
    pub name: String,
    /// Prepended to every logical name (see [`BackendPrefix`](crate::BackendPrefix)).
    pub prefix: String,
    /// The backend type and its settings.
    pub kind: BackendKind,
    /// `refresh` (its own, else the section's): how its cached values
    /// follow the backend. `None`: they are kept until invalidated.
    pub refresh: Option<RefreshSettings>,
    /// `trim`: what is stripped from the end of each value (none by
    /// default).
    pub trim: Trim,
}

impl BackendConfig {
    /// The provider this backend's settings describe, `section` being the
    /// `secrets:` section it belongs to. Native providers cannot fail here
    /// (they read their source on first use); a Wasm provider's component
    /// is read, compiled (or taken from the compile cache) and linked here,
    /// and any of those can fail.
    pub fn provider(&self, section: &SecretsConfig) -> Result<Arc<dyn SecretsProvider>> {
        let provider = self.kind.provider(&self.name, section)?;
        Ok(match self.trim {
            Trim::None => provider,
            trim => Arc::new(Trimmed::new(trim, provider)),
        })
    }
}
