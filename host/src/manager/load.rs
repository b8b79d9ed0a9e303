//! Running `load` declarations: the start-up preload (the README's "Preloading (`load`)").
//!
//! For each `backend:pattern`, in order: fetch every matching name with the
//! provider's bulk call, keep the values in the cache (or, with caching off,
//! only check that they can be fetched). Some names failing is a warning
//! naming them; all of them failing is a backend error; an exact name that
//! matches nothing is a not-found error; a glob that matches nothing is a
//! warning.

use crate::error::{Error, LoadProblem, Result};
use crate::key::SecretKey;
use crate::manager::SecretsManager;
use crate::value::SecretValue;

/// What one declaration loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclarationReport {
    /// The declaration as written.
    pub declaration: String,
    /// How many names matched.
    pub matched: usize,
    /// How many were fetched (and cached, when caching is on).
    pub loaded: usize,
    /// Logical names that matched but could not be fetched.
    pub failed: Vec<String>,
}

/// What a whole `load` did, declaration by declaration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// One entry per declaration, in order.
    pub declarations: Vec<DeclarationReport>,
}

impl LoadReport {
    /// Total secrets loaded.
    pub fn loaded(&self) -> usize {
        self.declarations.iter().map(|d| d.loaded).sum()
    }
}

impl SecretsManager {
    /// Runs the configured `load` declarations (see the module docs).
    pub async fn load(&self) -> Result<LoadReport> {
        self.start_refresh();
        self.load_declarations(&self.inner.load).await
    }

    /// Runs the given `backend:pattern` declarations, in order, stopping at
    /// the first one that fails.
    pub async fn load_declarations<S: AsRef<str>>(&self, declarations: &[S]) -> Result<LoadReport> {
        let mut report = LoadReport::default();
        for declaration in declarations {
            report
                .declarations
                .push(self.load_declaration(declaration.as_ref()).await?);
        }
        Ok(report)
    }

    /// Runs one declaration.
    pub async fn load_declaration(&self, declaration: &str) -> Result<DeclarationReport> {
        let key = SecretKey::parse(declaration)?;
        let fail = |problem: LoadProblem, cause: Option<Error>| Error::Load {
            declaration: declaration.to_owned(),
            problem,
            cause: cause.map(Box::new),
        };
        let backend = self.inner.backends.get(key.backend).ok_or_else(|| {
            fail(
                LoadProblem::UnknownBackend {
                    backend: key.backend.to_owned(),
                    configured: self.configured_backends(),
                },
                None,
            )
        })?;
        // One writer at a time with the backend's refresh passes.
        let _one_at_a_time = match &backend.refresh {
            Some(refresh) => Some(refresh.exclusive.lock().await),
            None => None,
        };
        let (pattern, found) = backend
            .fetch_matching(key.name)
            .await
            .map_err(|e| fail(LoadProblem::CannotList, Some(e)))?;

        let mut report = DeclarationReport {
            declaration: declaration.to_owned(),
            matched: found.len(),
            loaded: 0,
            failed: Vec::new(),
        };
        let caching = self.inner.cache.is_some();
        let mut fetched = Vec::with_capacity(if caching { found.len() } else { 0 });
        for matched in found {
            match matched.value {
                Ok(text) => {
                    if let Some(refresh) = &backend.refresh
                        && caching
                    {
                        refresh.served(&matched.name, matched.version);
                    }
                    if caching {
                        let mut cache_key =
                            String::with_capacity(key.backend.len() + 1 + matched.name.len());
                        cache_key.push_str(key.backend);
                        cache_key.push(':');
                        cache_key.push_str(&matched.name);
                        fetched.push((cache_key, SecretValue::from_stored(text)));
                    }
                    report.loaded += 1;
                }
                Err(e) => {
                    let error = backend.error(&matched.name, e);
                    tracing::warn!(
                        declaration,
                        "failed to load {}:{}: {error}",
                        key.backend,
                        matched.name
                    );
                    report.failed.push(matched.name);
                }
            }
        }

        if let Some(cache) = &self.inner.cache {
            cache.insert_many(fetched);
        }

        if report.matched == 0 {
            if pattern.is_exact() {
                return Err(fail(
                    LoadProblem::NoSuchSecret {
                        backend: key.backend.to_owned(),
                        full_name: backend.prefix.apply(key.name),
                    },
                    None,
                ));
            }
            tracing::warn!(
                declaration,
                "load declaration {declaration:?} matched no secrets"
            );
        } else if report.loaded == 0 {
            return Err(fail(
                LoadProblem::AllFailed {
                    failed: report.failed.len(),
                },
                None,
            ));
        }
        tracing::debug!(
            declaration,
            matched = report.matched,
            loaded = report.loaded,
            "load declaration done"
        );
        Ok(report)
    }
}
