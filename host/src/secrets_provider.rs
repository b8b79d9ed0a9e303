//! The contract between the manager and a backend.
//!
//! A provider deals only in *full* names (the backend prefix already
//! applied) and raw strings. Prefixes, caching and the JSON-object rule
//! belong to the [`SecretsManager`](crate::SecretsManager), so every
//! provider, built-in, Wasm or written by an embedder, behaves the same.
//!
//! ```
//! use pp_secrets::{async_trait, Pattern, ProviderError, SecretsProvider, StoredValue};
//! use std::collections::BTreeMap;
//!
//! /// Serves secrets from a map held in memory.
//! struct Fixed(BTreeMap<String, String>);
//!
//! #[async_trait]
//! impl SecretsProvider for Fixed {
//!     async fn get(&self, name: &str) -> Result<StoredValue, ProviderError> {
//!         self.0.get(name).map(|v| StoredValue::from(v.as_str())).ok_or(ProviderError::NotFound)
//!     }
//!     async fn list(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError> {
//!         Ok(self.0.keys().filter(|k| pattern.matches(k)).cloned().collect())
//!     }
//! }
//! ```

use async_trait::async_trait;

use crate::value::StoredValue;
pub use pp_secrets_pattern::Pattern;

/// Why a provider could not serve a name. The manager adds the backend and
/// key, and turns this into an [`Error`](crate::Error).
///
/// Every failure carries a reason for people, which must not contain a
/// secret value. Use the most specific case that is known to be true:
/// `pp-secrets check` reports a backend's state in these words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The provider has no secret of that name.
    #[error("not found")]
    NotFound,
    /// The provider failed, for a reason none of the cases below names.
    #[error("{0}")]
    Failed(String),
    /// The source did not answer: a network error, a server that is down,
    /// a timeout.
    #[error("{0}")]
    Unreachable(String),
    /// The source answered and refused: credentials rejected, a permission
    /// missing.
    #[error("{0}")]
    Denied(String),
    /// The backend's own settings are wrong: a file that does not exist, a
    /// setting the provider rejects at setup.
    #[error("{0}")]
    Misconfigured(String),
    /// The sandbox does not grant what the provider tried to use (a host,
    /// a directory, a variable).
    #[error("{0}")]
    MissingGrant(String),
}

impl ProviderError {
    /// A failure with a reason (which must not contain a secret value).
    pub fn failed(reason: impl Into<String>) -> Self {
        ProviderError::Failed(reason.into())
    }

    /// What kind of failure this is; `None` for [`NotFound`](Self::NotFound).
    pub fn problem(&self) -> Option<BackendProblem> {
        Some(match self {
            ProviderError::NotFound => return None,
            ProviderError::Failed(_) => BackendProblem::Failed,
            ProviderError::Unreachable(_) => BackendProblem::Unreachable,
            ProviderError::Denied(_) => BackendProblem::Denied,
            ProviderError::Misconfigured(_) => BackendProblem::Misconfigured,
            ProviderError::MissingGrant(_) => BackendProblem::MissingGrant,
        })
    }

    /// A failure of kind `problem` with `reason`.
    pub fn with_problem(problem: BackendProblem, reason: String) -> Self {
        match problem {
            BackendProblem::Failed => ProviderError::Failed(reason),
            BackendProblem::Unreachable => ProviderError::Unreachable(reason),
            BackendProblem::Denied => ProviderError::Denied(reason),
            BackendProblem::Misconfigured => ProviderError::Misconfigured(reason),
            BackendProblem::MissingGrant => ProviderError::MissingGrant(reason),
        }
    }

    /// The failure's kind and reason; `None` for a not-found.
    pub fn into_problem(self) -> Option<(BackendProblem, String)> {
        let problem = self.problem()?;
        match self {
            ProviderError::NotFound => None,
            ProviderError::Failed(r)
            | ProviderError::Unreachable(r)
            | ProviderError::Denied(r)
            | ProviderError::Misconfigured(r)
            | ProviderError::MissingGrant(r) => Some((problem, r)),
        }
    }
}

/// What kind of failure a backend had ([`Error::Backend`](crate::Error)),
/// in the words `pp-secrets check` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendProblem {
    /// A failure none of the other cases names.
    Failed,
    /// The source did not answer.
    Unreachable,
    /// The source refused the credentials or the request.
    Denied,
    /// The backend's own settings are wrong.
    Misconfigured,
    /// The sandbox does not grant what the provider needs.
    MissingGrant,
}

impl BackendProblem {
    /// The word for it: `failed`, `unreachable`, `denied`, `misconfigured`
    /// or `missing grant`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendProblem::Failed => "failed",
            BackendProblem::Unreachable => "unreachable",
            BackendProblem::Denied => "denied",
            BackendProblem::Misconfigured => "misconfigured",
            BackendProblem::MissingGrant => "missing grant",
        }
    }
}

impl std::fmt::Display for BackendProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One name served by a bulk call, with its value or its own error.
#[derive(Debug)]
pub struct MatchedSecret {
    /// The full name.
    pub name: String,
    /// The value as stored, or why this one name failed.
    pub value: Result<StoredValue, ProviderError>,
    /// The backend's version of the value (an opaque tag that changes when
    /// the value does, such as AWS's `VersionId`), when it has one. A
    /// refresh hands it back in [`HeldSecret::version`] so the provider can
    /// tell what changed without fetching values.
    pub version: Option<String>,
}

impl MatchedSecret {
    /// `name` with its value or error, and no version.
    pub fn new(name: String, value: Result<StoredValue, ProviderError>) -> Self {
        Self {
            name,
            value,
            version: None,
        }
    }
}

/// A secret the manager holds, as a refresh asks about it.
#[derive(Debug, Clone, Copy)]
pub struct HeldSecret<'a> {
    /// The full name.
    pub name: &'a str,
    /// The version it was served with, when the provider gave one.
    pub version: Option<&'a str>,
}

/// What a refresh found (see [`SecretsProvider::refresh`]).
#[derive(Debug, Default)]
pub struct Refreshed {
    /// The current value of every name that is new or may have changed,
    /// or that name's own error. Names the provider knows to be unchanged
    /// may be left out; a value equal to the one held is not a change.
    pub current: Vec<MatchedSecret>,
    /// Held names that no longer exist.
    pub gone: Vec<String>,
}

/// A backend that stores secrets under full names.
///
/// Implement [`get`](Self::get) and [`list`](Self::list); override
/// [`get_matching`](Self::get_matching) when the backend can serve a whole
/// `load` declaration in fewer round trips than one per name.
#[async_trait]
pub trait SecretsProvider: Send + Sync + 'static {
    /// The value stored under `name`, as stored (not JSON-parsed).
    async fn get(&self, name: &str) -> Result<StoredValue, ProviderError>;

    /// As [`get`](Self::get), with the backend's version of the value
    /// (see [`MatchedSecret::version`]) when it has one: what a refresh
    /// hands back in [`HeldSecret::version`]. The default has none.
    async fn get_versioned(
        &self,
        name: &str,
    ) -> Result<(StoredValue, Option<String>), ProviderError> {
        self.get(name).await.map(|value| (value, None))
    }

    /// Every full name that matches `pattern`, in any order.
    async fn list(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError>;

    /// Every name matching `pattern` with its value or its error. An `Err`
    /// means the listing itself failed. The default lists, then gets each
    /// name in turn.
    async fn get_matching(&self, pattern: &Pattern) -> Result<Vec<MatchedSecret>, ProviderError> {
        let names = self.list(pattern).await?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let value = self.get(&name).await;
            out.push(MatchedSecret::new(name, value));
        }
        Ok(out)
    }

    /// What changed among the secrets the manager holds (`held`) and the
    /// names matching its `load` declarations (`patterns`), for a refresh
    /// (the README's "Rotation"). An `Err` means the check itself failed:
    /// the manager keeps serving what it holds.
    ///
    /// The default re-reads: each pattern through
    /// [`get_matching`](Self::get_matching), each held name no pattern
    /// covers through [`get`](Self::get). Override it when the backend can
    /// tell what changed more cheaply (a version per name, a file's
    /// identity).
    async fn refresh(
        &self,
        held: &[HeldSecret<'_>],
        patterns: &[Pattern],
    ) -> Result<Refreshed, ProviderError> {
        refresh_by_rereading(self, held, patterns).await
    }

    /// Whether the backend is reachable and its source is readable, for
    /// `pp-secrets check`. The default lists a name that cannot exist, which
    /// exercises the same path as a real listing.
    async fn check(&self) -> Result<(), ProviderError> {
        self.list(&Pattern::exact("\u{0}pp-secrets-check"))
            .await
            .map(|_| ())
    }
}

/// The default [`SecretsProvider::refresh`]: re-reads every pattern and
/// every held name no pattern covers. A held name a pattern covers but no
/// longer lists is gone; one read alone is gone when it is not found.
pub async fn refresh_by_rereading<P: SecretsProvider + ?Sized>(
    provider: &P,
    held: &[HeldSecret<'_>],
    patterns: &[Pattern],
) -> Result<Refreshed, ProviderError> {
    let mut refreshed = Refreshed::default();
    let mut seen = std::collections::HashSet::new();
    for pattern in patterns {
        for matched in provider.get_matching(pattern).await? {
            if seen.insert(matched.name.clone()) {
                refreshed.current.push(matched);
            }
        }
    }
    for secret in held {
        if seen.contains(secret.name) {
            continue;
        }
        if patterns.iter().any(|p| p.matches(secret.name)) {
            refreshed.gone.push(secret.name.to_owned());
            continue;
        }
        match provider.get(secret.name).await {
            Err(ProviderError::NotFound) => refreshed.gone.push(secret.name.to_owned()),
            value => refreshed
                .current
                .push(MatchedSecret::new(secret.name.to_owned(), value)),
        }
    }
    Ok(refreshed)
}
