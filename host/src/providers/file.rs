//! `type: file`: secrets from a YAML file whose root is a mapping.
//!
//! The file is read once on first access. Values are turned into strings as
//! the README's "Keys, prefixes, patterns, values" says: a mapping is its
//! compact JSON (which the manager then reads
//! back as an object), a list is its JSON text, other scalars are their YAML
//! spelling (`42` -> `"42"`, `true` -> `"true"`), null is `""`. `${VAR}` and
//! `${VAR:-default}` in string values, nested ones too, are expanded from
//! the environment when a value is read; an unset variable is a backend
//! error for that secret alone.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

use super::source_file::SourceFile;
use super::{SecretMap, matching_names, matching_secrets};
use crate::config::tree::{scalar_spelling, wipe};
use crate::config::{SecretsConfig, UnsetVariable, expand_from_env};
use crate::providers::{BackendSettings, SettingsSource};
use crate::secrets_provider::{
    HeldSecret, MatchedSecret, Pattern, ProviderError, Refreshed, SecretsProvider,
    refresh_by_rereading,
};
use crate::value::{SecretText, StoredValue};

/// The settings of a `file` backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSettings {
    /// `path` (required): the YAML file.
    pub path: PathBuf,
}

impl BackendSettings for FileSettings {
    const FIELDS: &'static [&'static str] = &["path"];

    fn read(source: &SettingsSource<'_>) -> crate::Result<Self> {
        Ok(Self {
            path: source
                .fields
                .required_path("path", source.base_dir, source.context)?,
        })
    }

    fn provider(&self, _: &str, _: &SecretsConfig) -> crate::Result<Arc<dyn SecretsProvider>> {
        Ok(Arc::new(FileProvider::new(self.path.clone())))
    }
}

/// The file's top-level entries, values still as parsed.
struct Entries(SecretMap<Yaml>);

impl Drop for Entries {
    fn drop(&mut self) {
        for (_, value) in self.0.drain() {
            wipe(value);
        }
    }
}

/// Serves the top-level entries of one YAML file.
pub struct FileProvider {
    file: SourceFile<Entries>,
}

impl FileProvider {
    /// A provider over the YAML file at `path` (not read until first use).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            file: SourceFile::new(path.into(), parse),
        }
    }

    fn render(&self, name: &str, value: &Yaml) -> Result<SecretText, ProviderError> {
        render_value(value).map_err(|UnsetVariable(var)| {
            ProviderError::failed(format!(
                "secret {name:?} in {} uses environment variable `{var}`, which is not set",
                self.file.path().display()
            ))
        })
    }
}

fn parse(path: &Path, text: &str) -> Result<Entries, ProviderError> {
    let root: Yaml = serde_yaml::from_str(text)
        .map_err(|e| ProviderError::failed(format!("{} is not valid YAML: {e}", path.display())))?;
    match root {
        Yaml::Null => Ok(Entries(SecretMap::default())),
        Yaml::Mapping(map) => Ok(Entries(
            map.into_iter()
                .map(|(k, v)| match k {
                    Yaml::String(name) => (name, v),
                    other => (scalar_spelling(&other).unwrap_or_default(), v),
                })
                .collect(),
        )),
        _ => Err(ProviderError::failed(format!(
            "{} must hold a YAML mapping at its root",
            path.display()
        ))),
    }
}

#[async_trait]
impl SecretsProvider for FileProvider {
    async fn get(&self, name: &str) -> Result<StoredValue, ProviderError> {
        let entries = self.file.get().await?;
        let value = entries.0.get(name).ok_or(ProviderError::NotFound)?;
        self.render(name, value).map(StoredValue::from)
    }

    async fn list(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError> {
        Ok(matching_names(&self.file.get().await?.0, pattern))
    }

    async fn get_matching(&self, pattern: &Pattern) -> Result<Vec<MatchedSecret>, ProviderError> {
        let entries = self.file.get().await?;
        Ok(matching_secrets(&entries.0, pattern, |name, value| {
            self.render(name, value)
        }))
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

/// A YAML value as the string the backend stores.
fn render_value(value: &Yaml) -> Result<SecretText, UnsetVariable> {
    Ok(SecretText::new(match value {
        Yaml::String(s) => expand_from_env(s)?.into_owned(),
        Yaml::Mapping(_) | Yaml::Sequence(_) => to_json(value)?.to_string(),
        Yaml::Tagged(t) => return render_value(&t.value),
        scalar => scalar_spelling(scalar).unwrap_or_default(),
    }))
}

/// A YAML value as JSON, expanding `${VAR}` in every string. Mapping keys
/// that are not strings become their YAML spelling.
fn to_json(value: &Yaml) -> Result<Json, UnsetVariable> {
    Ok(match value {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(*b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                // NaN and infinities have no JSON number; keep their spelling.
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| Json::String(n.to_string()), Json::Number)
            }
        }
        Yaml::String(s) => Json::String(expand_from_env(s)?.into_owned()),
        Yaml::Sequence(items) => Json::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Yaml::Mapping(map) => Json::Object(
            map.iter()
                .map(|(k, v)| Ok((scalar_spelling(k).unwrap_or_default(), to_json(v)?)))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Tagged(t) => to_json(&t.value)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(yaml: &str) -> String {
        let v: Yaml = serde_yaml::from_str(yaml).expect("yaml");
        render_value(&v).expect("renders").expose().to_owned()
    }

    #[test]
    fn scalars_are_their_yaml_spelling() {
        assert_eq!(render("42"), "42");
        assert_eq!(render("true"), "true");
        assert_eq!(render("1.5"), "1.5");
        assert_eq!(render("~"), "");
        assert_eq!(render("'quoted 42'"), "quoted 42");
    }

    #[test]
    fn lists_are_json_text_and_mappings_compact_json() {
        assert_eq!(render("[1, two, true]"), r#"[1,"two",true]"#);
        assert_eq!(render("{b: 1, a: {c: x}}"), r#"{"b":1,"a":{"c":"x"}}"#);
        assert_eq!(render("{1: one}"), r#"{"1":"one"}"#);
    }
}
