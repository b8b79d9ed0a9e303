//! The secrets manager: backends by name, the cache, and the `backend:key`
//! API the README describes.
//!
//! A hit is served from the cache without parsing the key. A miss splits
//! the key, asks the backend (through its prefix), applies the JSON-object
//! rule, and caches the result when caching is on. `get_raw` bypasses the
//! cache both ways.

mod backend;
mod builder;
mod cache;
mod events;
mod load;
mod refresh;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub use builder::ManagerBuilder;
pub use events::{SecretEvent, SecretEvents, SecretWatch};
pub use load::{DeclarationReport, LoadReport};
pub use refresh::{RefreshReport, RefreshStatus};

use crate::config::ConfigDocument;
use crate::error::{Error, Result};
use crate::key::SecretKey;
use crate::value::{SecretValue, StoredValue};
use backend::Backend;
use cache::SecretCache;

/// The secrets manager. Cheap to clone: clones share backends and cache,
/// and every method may be called from many threads at once.
#[derive(Clone)]
pub struct SecretsManager {
    inner: Arc<Inner>,
}

struct Inner {
    backends: HashMap<String, Backend>,
    cache: Option<SecretCache>,
    load: Vec<String>,
    /// Refresh events, for [`SecretsManager::events`].
    events: tokio::sync::broadcast::Sender<SecretEvent>,
    /// Dropped with the manager: the refresh tasks end when it is.
    shutdown: tokio::sync::watch::Sender<()>,
    /// Whether the refresh tasks were started.
    refresh_started: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for SecretsManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.inner.backends.keys().collect();
        names.sort();
        f.debug_struct("SecretsManager")
            .field("backends", &names)
            .field("cache_enabled", &self.inner.cache.is_some())
            .field(
                "cached",
                &self.inner.cache.as_ref().map_or(0, SecretCache::len),
            )
            .finish()
    }
}

impl SecretsManager {
    /// The manager of the config file at `path`, or `None` when its
    /// `secrets.enabled` is false. Does not run the `load` declarations:
    /// call [`load`](Self::load), or use [`Application`](crate::Application).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Option<Self>> {
        Self::from_document(&ConfigDocument::from_file(path)?)
    }

    /// As [`from_file`](Self::from_file), from YAML text; relative paths are
    /// resolved against `base_dir`.
    pub fn from_yaml_str(yaml: &str, base_dir: impl AsRef<Path>) -> Result<Option<Self>> {
        Self::from_document(&ConfigDocument::from_yaml_str(yaml, base_dir)?)
    }

    /// The manager of a parsed config, or `None` when it is disabled.
    pub fn from_document(document: &ConfigDocument) -> Result<Option<Self>> {
        if !document.secrets.enabled {
            return Ok(None);
        }
        Self::from_config(&document.secrets).map(Some)
    }

    /// The secret for `key` (`backend:name`), from the cache when cached.
    pub async fn get(&self, key: &str) -> Result<SecretValue> {
        match self.cached(key) {
            Some(value) => Ok(value),
            // Boxed so that the future of a cache hit stays small.
            None => Box::pin(self.fetch_and_cache(key)).await,
        }
    }

    async fn fetch_and_cache(&self, key: &str) -> Result<SecretValue> {
        self.start_refresh();
        let (key_parts, backend) = self.resolve(key)?;
        let (stored, version) = backend.fetch_versioned(key_parts.name).await?;
        let value = SecretValue::from_stored(stored);
        if let Some(cache) = &self.inner.cache {
            cache.insert(key.to_owned(), value.clone());
            if let Some(refresh) = &backend.refresh {
                // The version it was served with: a refresh asks the
                // provider about it.
                refresh.served(key_parts.name, version);
            }
        }
        tracing::debug!(key, "fetched {}", value.describe());
        Ok(value)
    }

    /// As [`get`](Self::get), but a missing secret (or backend) is `None`.
    /// Backend failures are still errors.
    pub async fn get_or_none(&self, key: &str) -> Result<Option<SecretValue>> {
        match self.get(key).await {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The backend's string exactly as stored: never JSON-parsed, never read
    /// from or written to the cache.
    pub async fn get_raw(&self, key: &str) -> Result<StoredValue> {
        self.start_refresh();
        let (key_parts, backend) = self.resolve(key)?;
        backend.fetch(key_parts.name).await
    }

    /// As [`get_raw`](Self::get_raw), but a missing secret (or backend) is
    /// `None`. Backend failures are still errors.
    pub async fn get_raw_or_none(&self, key: &str) -> Result<Option<StoredValue>> {
        match self.get_raw(key).await {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The cached value for `key`, without asking any backend. Useful in
    /// synchronous code after a [`load`](Self::load).
    pub fn cached(&self, key: &str) -> Option<SecretValue> {
        self.inner.cache.as_ref()?.get(key)
    }

    /// Logical names matching `backend:glob`, sorted.
    pub async fn list(&self, pattern: &str) -> Result<Vec<String>> {
        self.start_refresh();
        let (key_parts, backend) = self.resolve(pattern)?;
        let mut names = backend.list(key_parts.name).await?;
        names.sort_unstable();
        names.dedup();
        Ok(names)
    }

    /// Drops `key` from the cache; the next `get` asks the backend again.
    pub fn invalidate(&self, key: &str) {
        if let Some(cache) = &self.inner.cache {
            cache.remove(key);
        }
        if let Ok((parts, backend)) = self.resolve(key)
            && let Some(refresh) = &backend.refresh
        {
            // The version it was served with no longer describes anything
            // cached (the name itself stays checked).
            refresh.served(parts.name, None);
        }
    }

    /// Drops every cached secret.
    pub fn clear_cache(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.clear();
        }
    }

    /// Whether fetched secrets are cached.
    pub fn cache_enabled(&self) -> bool {
        self.inner.cache.is_some()
    }

    /// How many secrets are cached now.
    pub fn cached_len(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, SecretCache::len)
    }

    /// The configured backend names, sorted.
    pub fn backend_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.inner.backends.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The configured `load` declarations.
    pub fn declarations(&self) -> &[String] {
        &self.inner.load
    }

    /// Every refresh event from now on (see the README's "Rotation").
    pub fn events(&self) -> SecretEvents {
        SecretEvents::new(self.inner.events.subscribe())
    }

    /// Each new value of `key` as refreshes find it. The watch keeps the
    /// manager alive.
    pub fn watch(&self, key: &str) -> SecretWatch {
        self.keep_checking(key);
        SecretWatch::new(self.clone(), key.to_owned())
    }

    /// Has every refresh of `key`'s backend check `key`, whether or not it
    /// is cached, so that a secret that goes away and comes back is seen
    /// again (`Added`). Keys that are read, loaded or watched are kept
    /// checked already; this is for a key only the caller's events stream
    /// listens for. Starts the refresh; a key of a backend without a
    /// `refresh` setting, or a malformed one, is ignored.
    pub fn keep_checking(&self, key: &str) {
        self.start_refresh();
        if let Ok((parts, backend)) = self.resolve(key)
            && let Some(refresh) = &backend.refresh
        {
            refresh.track(parts.name);
        }
    }

    /// Whether backend `name` is reachable and its source readable.
    pub async fn check_backend(&self, name: &str) -> Result<()> {
        let backend = self.backend_named(name)?;
        backend
            .provider
            .check()
            .await
            .map_err(|e| backend.failure(e))
    }

    /// The backend called `name`, or the error for an unknown one.
    fn backend_named(&self, name: &str) -> Result<&Backend> {
        self.inner
            .backends
            .get(name)
            .ok_or_else(|| self.unknown_backend(name, &format!("{name}:")))
    }

    fn resolve<'k>(&self, key: &'k str) -> Result<(SecretKey<'k>, &Backend)> {
        let parts = SecretKey::parse(key)?;
        let backend = self
            .inner
            .backends
            .get(parts.backend)
            .ok_or_else(|| self.unknown_backend(parts.backend, key))?;
        Ok((parts, backend))
    }

    /// The error for `backend`, named in `key`, that is not configured.
    fn unknown_backend(&self, backend: &str, key: &str) -> Error {
        Error::UnknownBackend {
            backend: backend.to_owned(),
            key: key.to_owned(),
            configured: self.configured_backends(),
        }
    }

    /// The configured backend names, sorted, for messages.
    pub(crate) fn configured_backends(&self) -> Vec<String> {
        self.backend_names()
            .into_iter()
            .map(str::to_owned)
            .collect()
    }
}
