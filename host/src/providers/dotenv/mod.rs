//! `type: dotenv`: secrets from a `.env` file (syntax in [`syntax`]),
//! read once on first access.

pub(crate) mod syntax;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;

use crate::config::SecretsConfig;
use crate::providers::source_file::SourceFile;
use crate::providers::{BackendSettings, SettingsSource};
use crate::providers::{SecretMap, matching_names, matching_secrets};
use crate::secrets_provider::{
    HeldSecret, MatchedSecret, Pattern, ProviderError, Refreshed, SecretsProvider,
    refresh_by_rereading,
};
use crate::value::{SecretText, StoredValue};
use syntax::parse_dotenv;

/// The settings of a `dotenv` backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DotenvSettings {
    /// `path`: the `.env` file (default `.env` next to the config).
    pub path: PathBuf,
}

impl BackendSettings for DotenvSettings {
    const FIELDS: &'static [&'static str] = &["path"];

    fn read(source: &SettingsSource<'_>) -> crate::Result<Self> {
        Ok(Self {
            path: match source.fields.path("path", source.base_dir)? {
                Some(path) => path,
                None => source.base_dir.join(".env"),
            },
        })
    }

    fn provider(&self, _: &str, _: &SecretsConfig) -> crate::Result<Arc<dyn SecretsProvider>> {
        Ok(Arc::new(DotenvProvider::new(self.path.clone())))
    }
}

/// Serves the entries of one `.env` file.
pub struct DotenvProvider {
    file: SourceFile<SecretMap<SecretText>>,
}

impl DotenvProvider {
    /// A provider over the `.env` file at `path` (not read until first use).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            file: SourceFile::new(path.into(), parse),
        }
    }
}

fn parse(path: &Path, text: &str) -> Result<SecretMap<SecretText>, ProviderError> {
    let entries = parse_dotenv(text);
    for skipped in &entries.skipped {
        tracing::warn!(
            file = %path.display(),
            line = skipped.line,
            "skipping line {} of {}: {}",
            skipped.line,
            path.display(),
            skipped.reason
        );
    }
    Ok(entries.values)
}

#[async_trait]
impl SecretsProvider for DotenvProvider {
    async fn get(&self, name: &str) -> Result<StoredValue, ProviderError> {
        let values = self.file.get().await?;
        values
            .get(name)
            .cloned()
            .map(StoredValue::from)
            .ok_or(ProviderError::NotFound)
    }

    async fn list(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError> {
        Ok(matching_names(&*self.file.get().await?, pattern))
    }

    async fn get_matching(&self, pattern: &Pattern) -> Result<Vec<MatchedSecret>, ProviderError> {
        let values = self.file.get().await?;
        Ok(matching_secrets(&values, pattern, |_, v| Ok(v.clone())))
    }

    /// The file is read again only when it is not the one last read (one
    /// `stat` otherwise); what the manager holds is then compared with the
    /// parsed content in memory, every time, so a pass cut short after a
    /// re-read loses nothing.
    async fn refresh(
        &self,
        held: &[HeldSecret<'_>],
        patterns: &[Pattern],
    ) -> Result<Refreshed, ProviderError> {
        self.file.reload_if_changed().await?;
        refresh_by_rereading(self, held, patterns).await
    }

    async fn check(&self) -> Result<(), ProviderError> {
        self.file.get().await.map(|_| ())
    }
}
