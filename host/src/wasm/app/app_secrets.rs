//! The one place an app's allow-list is enforced: every secret an app
//! reads, through either interface, goes through [`AppSecrets`].
//!
//! A key outside the allow-list is refused before any backend is asked,
//! with the same error whether or not the secret exists, so an app cannot
//! probe for names. Refusals are logged with the app and the key as the
//! app wrote it (escaped), never with a value: the first few one by one,
//! then counted (`warning_limit`).

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::key::SecretKey;
use crate::manager::SecretsManager;
use crate::value::{SecretValue, StoredValue};
use crate::wasm::app::policy::AppPolicy;
use crate::wasm::guest_text::escaped;
use crate::wasm::warning_limit::WarningLimit;

/// The host's manager, as one app run sees it.
pub(crate) struct AppSecrets {
    manager: SecretsManager,
    policy: Arc<AppPolicy>,
    warnings: Arc<WarningLimit>,
}

impl AppSecrets {
    pub(crate) fn new(
        manager: SecretsManager,
        policy: Arc<AppPolicy>,
        warnings: Arc<WarningLimit>,
    ) -> Self {
        Self {
            manager,
            policy,
            warnings,
        }
    }

    /// Refuses (and logs) a key the app may not read.
    fn check(&self, key: &str) -> Result<()> {
        if self.policy.allow_list().permits(key) {
            Ok(())
        } else {
            Err(self.denied(key))
        }
    }

    fn denied(&self, key: &str) -> Error {
        let key = escaped(key);
        if self.warnings.record(&key) {
            tracing::warn!(app = %self.policy.name(), key = %key, "access denied");
        }
        Error::AccessDenied {
            app: self.policy.name().to_owned(),
            key,
        }
    }

    /// As [`SecretsManager::get`], for allowed keys only.
    pub(crate) async fn get(&self, key: &str) -> Result<SecretValue> {
        self.check(key)?;
        self.manager.get(key).await
    }

    /// As [`SecretsManager::get_or_none`], for allowed keys only.
    pub(crate) async fn get_or_none(&self, key: &str) -> Result<Option<SecretValue>> {
        self.check(key)?;
        self.manager.get_or_none(key).await
    }

    /// As [`SecretsManager::get_raw`], for allowed keys only.
    pub(crate) async fn get_raw(&self, key: &str) -> Result<StoredValue> {
        self.check(key)?;
        self.manager.get_raw(key).await
    }

    /// The allowed names matching `pattern` (`backend:glob`). A backend no
    /// rule names is refused without asking it, whether or not it exists.
    pub(crate) async fn list(&self, pattern: &str) -> Result<Vec<String>> {
        let backend = SecretKey::parse(pattern).map(|key| key.backend);
        match backend {
            Ok(backend) if self.policy.allow_list().names_backend(backend) => {
                let mut names = self.manager.list(pattern).await?;
                names.retain(|name| {
                    self.policy
                        .allow_list()
                        .permits(&format!("{backend}:{name}"))
                });
                Ok(names)
            }
            _ => Err(self.denied(pattern)),
        }
    }

    /// As [`SecretsManager::invalidate`], for allowed keys only.
    pub(crate) fn invalidate(&self, key: &str) -> Result<()> {
        self.check(key)?;
        self.manager.invalidate(key);
        Ok(())
    }

    /// Every allowed secret that exists, under its full `backend:name` key,
    /// sorted. A rule naming a backend that is not configured matches
    /// nothing; a backend failure fails the whole call.
    pub(crate) async fn get_all(&self) -> Result<Vec<(String, SecretValue)>> {
        let mut keys = Vec::new();
        for rule in self.policy.allow_list().rules() {
            let backend = SecretKey::parse(&rule)?.backend.to_owned();
            let names = match self.manager.list(&rule).await {
                Ok(names) => names,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e),
            };
            keys.extend(names.into_iter().map(|name| format!("{backend}:{name}")));
        }
        keys.sort_unstable();
        keys.dedup();
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(value) = self.manager.get_or_none(&key).await? {
                found.push((key, value));
            }
        }
        Ok(found)
    }
}
