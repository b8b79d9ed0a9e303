//! `type: dotenv`: secrets from a `.env` file (syntax in [`syntax`]),
//! read once on first access.

pub(crate) mod syntax;

use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::config::BackendKind;
use crate::providers::BuiltIn;
use crate::providers::source_file::SourceFile;
use crate::providers::{SecretMap, matching_names, matching_secrets};
use crate::secrets_provider::{MatchedSecret, Pattern, ProviderError, SecretsProvider};
use crate::value::SecretText;
use syntax::parse_dotenv;

/// The `dotenv` row of the backend-type table: `path`, by default `.env`
/// next to the config.
pub(crate) const BUILT_IN: BuiltIn = BuiltIn {
    fields: &["path"],
    read: |source| {
        Ok(BackendKind::Dotenv {
            path: match source.fields.path("path", source.base_dir)? {
                Some(path) => path,
                None => source.base_dir.join(".env"),
            },
        })
    },
};

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
    async fn get(&self, name: &str) -> Result<SecretText, ProviderError> {
        let values = self.file.get().await?;
        values.get(name).cloned().ok_or(ProviderError::NotFound)
    }

    async fn list(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError> {
        Ok(matching_names(self.file.get().await?, pattern))
    }

    async fn get_matching(&self, pattern: &Pattern) -> Result<Vec<MatchedSecret>, ProviderError> {
        let values = self.file.get().await?;
        Ok(matching_secrets(values, pattern, |_, v| Ok(v.clone())))
    }

    async fn check(&self) -> Result<(), ProviderError> {
        self.file.get().await.map(|_| ())
    }
}
