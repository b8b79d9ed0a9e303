//! `type: env`: secrets from the process environment, read at call time.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::SecretsConfig;
use crate::providers::{BackendSettings, SettingsSource};

use crate::secrets_provider::{Pattern, ProviderError, SecretsProvider};
use crate::value::StoredValue;

/// The settings of an `env` backend: it has none besides `prefix`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnvSettings;

impl BackendSettings for EnvSettings {
    const FIELDS: &'static [&'static str] = &[];

    fn read(_: &SettingsSource<'_>) -> crate::Result<Self> {
        Ok(Self)
    }

    fn provider(&self, _: &str, _: &SecretsConfig) -> crate::Result<Arc<dyn SecretsProvider>> {
        Ok(Arc::new(EnvProvider::new()))
    }
}

/// Reads environment variables each time it is asked, so a variable set
/// after start-up is seen (unless the manager has cached the old value).
#[derive(Debug, Default, Clone, Copy)]
pub struct EnvProvider;

impl EnvProvider {
    /// A provider over the process environment.
    pub fn new() -> Self {
        Self
    }
}

#[async_trait]
impl SecretsProvider for EnvProvider {
    async fn get(&self, name: &str) -> Result<StoredValue, ProviderError> {
        // `var_os` rejects names with `=` or NUL by returning None.
        match std::env::var_os(name) {
            None => Err(ProviderError::NotFound),
            // A value that is not UTF-8 is served as the bytes it is.
            Some(value) => Ok(match value.into_string() {
                Ok(text) => StoredValue::from(text),
                Err(raw) => {
                    StoredValue::Bytes(std::os::unix::ffi::OsStringExt::into_vec(raw).into())
                }
            }),
        }
    }

    async fn list(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError> {
        Ok(std::env::vars_os()
            .filter_map(|(name, _)| name.into_string().ok())
            .filter(|name| pattern.matches(name))
            .collect())
    }

    async fn check(&self) -> Result<(), ProviderError> {
        Ok(())
    }
}
