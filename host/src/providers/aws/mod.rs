//! `type: aws`: AWS Secrets Manager.
//!
//! - `get` is one `GetSecretValue`.
//! - `list` pages through `ListSecrets` (100 a page) with the pattern's
//!   literal prefix (its text before the first wildcard) as the server-side
//!   `name` filter, a case-sensitive prefix match, and matches the full glob
//!   on the client. An exact name is its own prefix.
//! - The bulk call behind `load` lists, then fetches the names with
//!   `BatchGetSecretValue`, 20 names a call, `concurrency` calls at once. Each
//!   name comes back with its value or its own error (from the response's
//!   `Errors`); a name the response leaves out is an error too, so no secret
//!   goes missing silently. Where the batch call is denied
//!   (`AccessDeniedException`), names are fetched with `GetSecretValue`
//!   instead, and the provider remembers to do so.
//! - Binary secrets are an error: values here are text.
//!
//! - `check` is one `ListSecrets` with `MaxResults: 1` and no filter.
//! - A refresh lists once (the longest prefix common to the held names and
//!   the declarations' patterns as the name filter) and reads each entry's
//!   `AWSCURRENT` version id; only changed and new secrets are fetched, by
//!   `BatchGetSecretValue`. 1,000 unchanged secrets cost 10 calls. A held
//!   secret missing from the listing (which is eventually consistent) is
//!   read with `GetSecretValue` before it is called gone.
//!
//! The client is built on first use, so a manager with an `aws` backend
//! starts (and serves its other backends) without AWS being reachable.

mod client;
mod errors;
mod settings;

pub use settings::AwsSettings;

use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
use futures_util::stream::{self, StreamExt};
use tokio::sync::OnceCell;

use crate::secrets_provider::{
    HeldSecret, MatchedSecret, Pattern, ProviderError, Refreshed, SecretsProvider,
};
use crate::value::StoredValue;

/// Names a `BatchGetSecretValue` call may carry.
const BATCH_SIZE: usize = 20;
/// Names a `ListSecrets` page may carry.
const PAGE_SIZE: i32 = 100;
/// The staging label of a secret's current version.
const CURRENT_STAGE: &str = "AWSCURRENT";

/// The longest text every one of `texts` starts with (`""` for none).
fn common_prefix<'a>(mut texts: impl Iterator<Item = &'a str>) -> &'a str {
    let Some(first) = texts.next() else {
        return "";
    };
    let mut prefix = first;
    for text in texts {
        let common = prefix
            .char_indices()
            .zip(text.chars())
            .find(|((_, a), b)| a != b)
            .map_or(prefix.len().min(text.len()), |((i, _), _)| i);
        prefix = &prefix[..common];
    }
    prefix
}

/// Serves secrets from AWS Secrets Manager.
pub struct AwsProvider {
    settings: AwsSettings,
    client: OnceCell<Client>,
    batch_denied: AtomicBool,
}

impl AwsProvider {
    /// A provider for `settings`; the client is built on first use.
    pub fn new(settings: AwsSettings) -> Self {
        Self {
            settings,
            client: OnceCell::new(),
            batch_denied: AtomicBool::new(false),
        }
    }

    /// A provider over a client you built (your own credentials, endpoint,
    /// interceptors), fetching with `concurrency` batch calls at once.
    pub fn with_client(client: Client, concurrency: usize) -> Self {
        Self {
            settings: AwsSettings {
                concurrency: concurrency.max(1),
                ..AwsSettings::default()
            },
            client: OnceCell::new_with(Some(client)),
            batch_denied: AtomicBool::new(false),
        }
    }

    async fn client(&self) -> Result<&Client, ProviderError> {
        self.client
            .get_or_try_init(|| client::build_client(&self.settings))
            .await
    }

    /// Every full name matching `pattern`.
    async fn list_names(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError> {
        let entries = self
            .list_entries(pattern.literal_prefix(), |name| pattern.matches(name))
            .await?;
        Ok(entries.into_iter().map(|(name, _)| name).collect())
    }

    /// Every secret whose name starts with `prefix` (the server-side name
    /// filter) and passes `keep`, with its `AWSCURRENT` version id.
    async fn list_entries(
        &self,
        prefix: &str,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, Option<String>)>, ProviderError> {
        let client = self.client().await?;
        let mut names = Vec::new();
        let mut next_token: Option<String> = None;
        loop {
            let mut request = client
                .list_secrets()
                .max_results(PAGE_SIZE)
                .set_next_token(next_token.take());
            if !prefix.is_empty() {
                request = request.filters(
                    Filter::builder()
                        .key(FilterNameStringType::Name)
                        .values(prefix)
                        .build(),
                );
            }
            let page = request
                .send()
                .await
                .map_err(|e| errors::call_failed("ListSecrets", "the listing", &e))?;
            names.extend(page.secret_list().iter().filter_map(|entry| {
                let name = entry.name().filter(|name| keep(name))?;
                let current = entry.secret_versions_to_stages().and_then(|versions| {
                    versions
                        .iter()
                        .find(|(_, stages)| stages.iter().any(|s| s == CURRENT_STAGE))
                        .map(|(id, _)| id.clone())
                });
                Some((name.to_owned(), current))
            }));
            match page.next_token() {
                Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                _ => break,
            }
        }
        Ok(names)
    }

    /// One chunk of names with `BatchGetSecretValue`, or with
    /// `GetSecretValue` each where the batch call is denied.
    async fn fetch_chunk(&self, client: &Client, names: Vec<String>) -> Vec<MatchedSecret> {
        if !self.batch_denied.load(Ordering::Relaxed) {
            match self.batch_get(client, &names).await {
                Ok(found) => return found,
                Err(BatchFailure::Denied) => {
                    tracing::warn!(
                        "BatchGetSecretValue is denied; falling back to GetSecretValue per secret"
                    );
                    self.batch_denied.store(true, Ordering::Relaxed);
                }
                Err(BatchFailure::Other(error)) => {
                    return names
                        .into_iter()
                        .map(|name| MatchedSecret::new(name, Err(error.clone())))
                        .collect();
                }
            }
        }
        let mut found = Vec::with_capacity(names.len());
        for name in names {
            found.push(match self.get_one(client, &name).await {
                Ok((value, version)) => MatchedSecret {
                    name,
                    value: Ok(value),
                    version,
                },
                Err(e) => MatchedSecret::new(name, Err(e)),
            });
        }
        found
    }

    async fn batch_get(
        &self,
        client: &Client,
        names: &[String],
    ) -> Result<Vec<MatchedSecret>, BatchFailure> {
        let response = client
            .batch_get_secret_value()
            .set_secret_id_list(Some(names.to_vec()))
            .send()
            .await
            .map_err(|e| {
                if errors::code_of(&e) == Some(errors::ACCESS_DENIED) {
                    BatchFailure::Denied
                } else {
                    BatchFailure::Other(errors::call_failed(
                        "BatchGetSecretValue",
                        &format!("{} secrets", names.len()),
                        &e,
                    ))
                }
            })?;
        type Found = (Result<StoredValue, ProviderError>, Option<String>);
        let mut values: std::collections::HashMap<&str, Found> =
            std::collections::HashMap::with_capacity(names.len());
        for entry in response.secret_values() {
            let Some(name) = entry.name() else { continue };
            let value = errors::value_of(
                name,
                entry.secret_string(),
                entry.secret_binary().map(AsRef::as_ref),
            );
            if let Some(wanted) = names.iter().find(|n| n.as_str() == name) {
                values.insert(wanted, (value, entry.version_id().map(str::to_owned)));
            }
        }
        for error in response.errors() {
            let Some(id) = error.secret_id() else {
                continue;
            };
            if let Some(wanted) = names.iter().find(|n| n.as_str() == id) {
                values.insert(
                    wanted,
                    (
                        Err(errors::batch_entry_failed(
                            id,
                            error.error_code(),
                            error.message(),
                        )),
                        None,
                    ),
                );
            }
        }
        Ok(names
            .iter()
            .map(|name| {
                let (value, version) = values.remove(name.as_str()).unwrap_or_else(|| {
                    let missing =
                        format!("AWS BatchGetSecretValue left {name} out of its response");
                    (Err(ProviderError::failed(missing)), None)
                });
                MatchedSecret {
                    name: name.clone(),
                    value,
                    version,
                }
            })
            .collect())
    }

    /// One secret with `GetSecretValue`, with its version id.
    async fn get_one(
        &self,
        client: &Client,
        name: &str,
    ) -> Result<(StoredValue, Option<String>), ProviderError> {
        let response = client
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .map_err(|e| errors::call_failed("GetSecretValue", name, &e))?;
        let value = errors::value_of(
            name,
            response.secret_string(),
            response.secret_binary().map(AsRef::as_ref),
        )?;
        Ok((value, response.version_id().map(str::to_owned)))
    }

    /// `names` fetched in batches, `concurrency` calls at once.
    async fn fetch_all(&self, names: Vec<String>) -> Result<Vec<MatchedSecret>, ProviderError> {
        let client = self.client().await?;
        let chunks: Vec<Vec<String>> = names.chunks(BATCH_SIZE).map(<[String]>::to_vec).collect();
        let results: Vec<Vec<MatchedSecret>> = stream::iter(chunks)
            .map(|chunk| self.fetch_chunk(client, chunk))
            .buffer_unordered(self.settings.concurrency)
            .collect()
            .await;
        Ok(results.into_iter().flatten().collect())
    }
}

/// Why a whole batch call failed.
enum BatchFailure {
    /// The credentials may not call `BatchGetSecretValue`.
    Denied,
    /// Any other failure, for every name of the chunk.
    Other(ProviderError),
}

#[async_trait]
impl SecretsProvider for AwsProvider {
    async fn get(&self, name: &str) -> Result<StoredValue, ProviderError> {
        Ok(self.get_versioned(name).await?.0)
    }

    async fn get_versioned(
        &self,
        name: &str,
    ) -> Result<(StoredValue, Option<String>), ProviderError> {
        let client = self.client().await?;
        self.get_one(client, name).await
    }

    async fn list(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError> {
        self.list_names(pattern).await
    }

    async fn get_matching(&self, pattern: &Pattern) -> Result<Vec<MatchedSecret>, ProviderError> {
        let names = self.list_names(pattern).await?;
        self.fetch_all(names).await
    }

    /// One listing (`ListSecrets` pages under the longest prefix common to
    /// every held name and pattern) gives each secret's current version;
    /// only names whose version differs from the one held, or that are new
    /// and match a pattern, are fetched, in batches.
    async fn refresh(
        &self,
        held: &[HeldSecret<'_>],
        patterns: &[Pattern],
    ) -> Result<Refreshed, ProviderError> {
        if held.is_empty() && patterns.is_empty() {
            // Nothing to ask about: no listing of the whole account.
            return Ok(Refreshed::default());
        }
        let prefix = common_prefix(
            held.iter()
                .map(|h| h.name)
                .chain(patterns.iter().map(Pattern::literal_prefix)),
        );
        let held_versions: std::collections::HashMap<&str, Option<&str>> =
            held.iter().map(|h| (h.name, h.version)).collect();
        let listed = self
            .list_entries(prefix, |name| {
                held_versions.contains_key(name) || patterns.iter().any(|p| p.matches(name))
            })
            .await?;
        let mut refreshed = Refreshed::default();
        let mut listed_names = std::collections::HashSet::with_capacity(listed.len());
        let mut to_fetch = Vec::new();
        for (name, version) in listed {
            let unchanged = matches!(
                (held_versions.get(name.as_str()), version.as_deref()),
                (Some(Some(held)), Some(current)) if *held == current
            );
            listed_names.insert(name.clone());
            if !unchanged {
                to_fetch.push(name);
            }
        }
        // ListSecrets is eventually consistent: a secret missing from the
        // listing is gone only if reading it says so; otherwise its value
        // is current.
        let unlisted: Vec<String> = held
            .iter()
            .filter(|h| !listed_names.contains(h.name))
            .map(|h| h.name.to_owned())
            .collect();
        let client = self.client().await?;
        for name in unlisted {
            match self.get_one(client, &name).await {
                Err(ProviderError::NotFound) => refreshed.gone.push(name),
                Ok((value, version)) => refreshed.current.push(MatchedSecret {
                    name,
                    value: Ok(value),
                    version,
                }),
                Err(e) => refreshed.current.push(MatchedSecret::new(name, Err(e))),
            }
        }
        refreshed.current.extend(self.fetch_all(to_fetch).await?);
        Ok(refreshed)
    }

    /// One `ListSecrets` asking for a single entry and no filter: the
    /// cheapest call that proves the endpoint, the credentials and the
    /// `secretsmanager:ListSecrets` permission.
    async fn check(&self) -> Result<(), ProviderError> {
        let client = self.client().await?;
        client
            .list_secrets()
            .max_results(1)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| errors::call_failed("ListSecrets", "the check", &e))
    }
}
