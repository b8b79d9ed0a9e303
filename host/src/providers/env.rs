//! `type: env`: secrets from the process environment, read at call time.

use crate::config::BackendKind;
use crate::providers::BuiltIn;
use async_trait::async_trait;

use crate::secrets_provider::{Pattern, ProviderError, SecretsProvider};
use crate::value::SecretText;

/// The `env` row of the backend-type table: no settings of its own.
pub(crate) const BUILT_IN: BuiltIn = BuiltIn {
    fields: &[],
    read: |_| Ok(BackendKind::Env),
};

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
    async fn get(&self, name: &str) -> Result<SecretText, ProviderError> {
        // `var_os` rejects names with `=` or NUL by returning None.
        match std::env::var_os(name) {
            None => Err(ProviderError::NotFound),
            Some(value) => value.into_string().map(SecretText::new).map_err(|_| {
                ProviderError::failed(format!("environment variable {name:?} is not valid UTF-8"))
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
