//! The typed model of the `secrets:` section.

use std::path::PathBuf;

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
}

impl Default for SecretsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            cache_enabled: true,
            backends: Vec::new(),
            load: Vec::new(),
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
}

/// A backend type with its type-specific settings. Paths are absolute,
/// already resolved against the config file's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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
}

impl BackendKind {
    /// The `type:` spelling of this kind.
    pub fn type_name(&self) -> &'static str {
        match self {
            BackendKind::Env => "env",
            BackendKind::File { .. } => "file",
            BackendKind::Dotenv { .. } => "dotenv",
        }
    }
}
