//! A configured backend: a provider behind a name and a prefix.
//!
//! This is where logical names become full names and back, and where a
//! provider's error gets its backend and key attached: the one place that
//! maps [`ProviderError`] to the public [`Error`].

use std::sync::Arc;

use crate::error::Error;
use crate::key::BackendPrefix;
use crate::manager::refresh::BackendRefresh;
use crate::secrets_provider::{
    BackendProblem, MatchedSecret, Pattern, ProviderError, SecretsProvider,
};
use crate::value::StoredValue;

/// A provider with its name and prefix.
#[derive(Clone)]
pub struct Backend {
    pub(crate) name: String,
    pub(crate) prefix: BackendPrefix,
    pub(crate) provider: Arc<dyn SecretsProvider>,
    /// Its `refresh` setting and state, when it has one.
    pub(crate) refresh: Option<Arc<BackendRefresh>>,
}

impl Backend {
    /// The provider's error for logical `name`, as a public error.
    pub(crate) fn error(&self, name: &str, e: ProviderError) -> Error {
        match e.into_problem() {
            None => Error::NotFound {
                backend: self.name.clone(),
                key: name.to_owned(),
                full_name: self.prefix.apply(name),
            },
            Some((problem, reason)) => Error::Backend {
                backend: self.name.clone(),
                key: Some(name.to_owned()),
                problem,
                reason,
            },
        }
    }

    /// A failure that concerns the backend rather than one name.
    pub(crate) fn failure(&self, e: ProviderError) -> Error {
        let (problem, reason) = e
            .into_problem()
            .unwrap_or((BackendProblem::Failed, "not found".to_owned()));
        Error::Backend {
            backend: self.name.clone(),
            key: None,
            problem,
            reason,
        }
    }

    /// The raw value of logical `name`.
    pub(crate) async fn fetch(&self, name: &str) -> Result<StoredValue, Error> {
        self.provider
            .get(&self.prefix.apply(name))
            .await
            .map_err(|e| self.error(name, e))
    }

    /// The raw value of logical `name` with the backend's version of it.
    pub(crate) async fn fetch_versioned(
        &self,
        name: &str,
    ) -> Result<(StoredValue, Option<String>), Error> {
        self.provider
            .get_versioned(&self.prefix.apply(name))
            .await
            .map_err(|e| self.error(name, e))
    }

    /// The pattern a provider sees for a logical pattern.
    pub(crate) fn full_pattern(&self, logical: &str) -> Result<Pattern, Error> {
        Pattern::new(logical)
            .and_then(|p| p.with_literal_prefix(self.prefix.as_str()))
            .map_err(|source| Error::InvalidPattern {
                backend: self.name.clone(),
                source,
            })
    }

    /// Logical names matching a logical pattern.
    pub(crate) async fn list(&self, logical: &str) -> Result<Vec<String>, Error> {
        let pattern = self.full_pattern(logical)?;
        let names = self
            .provider
            .list(&pattern)
            .await
            .map_err(|e| self.failure(e))?;
        Ok(names
            .iter()
            .filter_map(|full| self.prefix.strip(full))
            .map(str::to_owned)
            .collect())
    }

    /// Every logical name matching a logical pattern, with its value or
    /// error. Names a provider returns outside the prefix are dropped.
    pub(crate) async fn fetch_matching(
        &self,
        logical: &str,
    ) -> Result<(Pattern, Vec<MatchedSecret>), Error> {
        let pattern = self.full_pattern(logical)?;
        let mut found = self
            .provider
            .get_matching(&pattern)
            .await
            .map_err(|e| self.failure(e))?;
        if !self.prefix.as_str().is_empty() {
            found.retain_mut(|m| match self.prefix.strip(&m.name) {
                Some(logical) => {
                    m.name = logical.to_owned();
                    true
                }
                None => false,
            });
        }
        Ok((pattern, found))
    }
}
