//! Building a [`SecretsManager`] in code or from a config.

use std::collections::HashMap;
use std::sync::Arc;

use crate::config::{RefreshSettings, SecretsConfig};
use crate::error::{Error, Result};
use crate::key::{BackendPrefix, backend_name_problem, declaration_problem};
use crate::manager::backend::Backend;
use crate::manager::cache::SecretCache;
use crate::manager::events::EVENT_BUFFER;
use crate::manager::refresh::BackendRefresh;
use crate::manager::{Inner, SecretsManager};
use crate::secrets_provider::SecretsProvider;

/// Builds a [`SecretsManager`]: backends by name, caching, declarations.
///
/// ```
/// # async fn demo() -> pp_secrets::Result<()> {
/// use pp_secrets::{providers::EnvProvider, SecretsManager};
///
/// let secrets = SecretsManager::builder()
///     .backend("env", "APP_", EnvProvider::new())
///     .load("env:API_*")
///     .build()?;
/// secrets.load().await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct ManagerBuilder {
    backends: Vec<Backend>,
    cache_enabled: bool,
    load: Vec<String>,
    refresh: Vec<(String, RefreshSettings)>,
}

impl Default for ManagerBuilder {
    fn default() -> Self {
        Self {
            backends: Vec::new(),
            cache_enabled: true,
            load: Vec::new(),
            refresh: Vec::new(),
        }
    }
}

impl ManagerBuilder {
    /// A builder holding what a `secrets:` section describes (its backends,
    /// `cache` setting and `load` declarations, whether or not it is
    /// `enabled`), to add backends of your own before
    /// [`build`](Self::build). Fails when a Wasm backend's component cannot
    /// be read, compiled or linked.
    ///
    /// ```no_run
    /// # async fn demo() -> pp_secrets::Result<()> {
    /// use pp_secrets::{providers::EnvProvider, Application, ConfigDocument, ManagerBuilder};
    ///
    /// let document = ConfigDocument::from_file("config.yaml")?;
    /// let secrets = ManagerBuilder::from_config(&document.secrets)?
    ///     .backend("ops", "OPS_", EnvProvider::new())
    ///     .build()?;
    /// let app = Application::with_manager(document, secrets).await?;
    /// # Ok(()) }
    /// ```
    pub fn from_config(config: &SecretsConfig) -> Result<Self> {
        let mut builder = Self::default().cache_enabled(config.cache_enabled);
        for backend in &config.backends {
            builder =
                builder.shared_backend(&backend.name, &backend.prefix, backend.provider(config)?);
            if let Some(settings) = backend.refresh {
                builder = builder.refresh(&backend.name, settings);
            }
        }
        for declaration in &config.load {
            builder = builder.load(declaration);
        }
        Ok(builder)
    }

    /// Adds a backend named `name` with `prefix` (may be empty).
    pub fn backend(
        self,
        name: impl Into<String>,
        prefix: &str,
        provider: impl SecretsProvider,
    ) -> Self {
        self.shared_backend(name, prefix, Arc::new(provider))
    }

    /// Adds a backend whose provider is already shared.
    pub fn shared_backend(
        mut self,
        name: impl Into<String>,
        prefix: &str,
        provider: Arc<dyn SecretsProvider>,
    ) -> Self {
        self.backends.push(Backend {
            name: name.into(),
            prefix: BackendPrefix::new(prefix),
            provider,
            refresh: None,
        });
        self
    }

    /// Refreshes backend `name` (added before or after this call) as
    /// `settings` say (the README's "Rotation"). Without this its cached
    /// values are kept until invalidated.
    pub fn refresh(mut self, name: &str, settings: RefreshSettings) -> Self {
        self.refresh.push((name.to_owned(), settings));
        self
    }

    /// Whether fetched secrets are cached (default `true`).
    pub fn cache_enabled(mut self, enabled: bool) -> Self {
        self.cache_enabled = enabled;
        self
    }

    /// Adds a `backend:pattern` declaration for [`SecretsManager::load`].
    pub fn load(mut self, declaration: impl Into<String>) -> Self {
        self.load.push(declaration.into());
        self
    }

    /// The manager. Fails on a duplicate or malformed backend name or a
    /// declaration without `:`.
    pub fn build(self) -> Result<SecretsManager> {
        let mut backends = HashMap::with_capacity(self.backends.len());
        for backend in self.backends {
            if let Some(problem) = backend_name_problem(&backend.name) {
                return Err(Error::config(
                    None,
                    format!("backends.{}", backend.name),
                    problem,
                ));
            }
            let name = backend.name.clone();
            if backends.insert(name.clone(), backend).is_some() {
                return Err(Error::config(
                    None,
                    format!("backends.{name}"),
                    "a backend with this name is already registered",
                ));
            }
        }
        for (i, declaration) in self.load.iter().enumerate() {
            if let Some(problem) = declaration_problem(declaration) {
                return Err(Error::config(None, format!("load[{i}]"), problem));
            }
        }
        for (name, settings) in self.refresh {
            let Some(backend) = backends.get_mut(&name) else {
                return Err(Error::config(
                    None,
                    format!("backends.{name}.refresh"),
                    "there is no backend of this name",
                ));
            };
            backend.refresh = Some(Arc::new(BackendRefresh::new(settings)));
        }
        Ok(SecretsManager {
            inner: Arc::new(Inner {
                backends,
                cache: self.cache_enabled.then(SecretCache::default),
                load: self.load,
                events: tokio::sync::broadcast::channel(EVENT_BUFFER).0,
                shutdown: tokio::sync::watch::channel(()).0,
                refresh_started: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }
}

impl SecretsManager {
    /// A builder for a manager assembled in code.
    pub fn builder() -> ManagerBuilder {
        ManagerBuilder::default()
    }

    /// The manager a `secrets:` section describes (whether or not it is
    /// `enabled`; see [`SecretsManager::from_file`] for the usual entry).
    /// Does not run the `load` declarations.
    pub fn from_config(config: &SecretsConfig) -> Result<Self> {
        ManagerBuilder::from_config(config)?.build()
    }
}
