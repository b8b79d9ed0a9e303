//! `trim`: what is stripped from the end of every value a backend serves
//! (the README's "Trimming values").
//!
//! Files written by `echo` or an editor end in a newline that is not part
//! of the secret (Docker's and Kubernetes' file-per-secret layouts). The
//! default keeps every value exactly as stored: a secret may end in
//! whitespace on purpose, and a value changed silently is worse than a
//! newline seen. [`Trimmed`] wraps a backend's provider when its setting
//! asks for a trim, so every path (one name, a bulk load, a refresh) is
//! trimmed the same way. Binary secrets (bytes) are never trimmed.

use async_trait::async_trait;

use crate::secrets_provider::{
    HeldSecret, MatchedSecret, Pattern, ProviderError, Refreshed, SecretsProvider,
};
use crate::value::{SecretText, StoredValue};

/// What `trim` strips from the end of each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trim {
    /// `none` (the default): values are served exactly as stored.
    #[default]
    None,
    /// `newline`: one trailing line end (`\n` or `\r\n`), as `echo` and
    /// editors write it.
    Newline,
    /// `whitespace`: all trailing whitespace (spaces, tabs, line ends).
    Whitespace,
}

impl Trim {
    /// The settings' spellings, for messages and the schema.
    pub const NAMES: &'static [&'static str] = &["none", "newline", "whitespace"];

    /// The setting spelled `name`, if it is one.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "none" => Some(Trim::None),
            "newline" => Some(Trim::Newline),
            "whitespace" => Some(Trim::Whitespace),
            _ => None,
        }
    }

    /// `value` with this trim applied when it is text: the same value
    /// (not a copy) when there is nothing to strip, and bytes as they are.
    pub fn apply_to(self, value: StoredValue) -> StoredValue {
        match value {
            StoredValue::Text(text) => StoredValue::Text(self.apply(text)),
            bytes @ StoredValue::Bytes(_) => bytes,
        }
    }

    /// `text` with this trim applied: the same value (not a copy) when
    /// there is nothing to strip.
    pub fn apply(self, text: SecretText) -> SecretText {
        let kept = self.kept_len(text.expose());
        if kept == text.len() {
            return text;
        }
        // The longer original is wiped when its last holder drops it.
        SecretText::from(&text.expose()[..kept])
    }

    /// How many bytes of `text` this trim keeps.
    fn kept_len(self, text: &str) -> usize {
        match self {
            Trim::None => text.len(),
            Trim::Newline => text
                .strip_suffix("\r\n")
                .or_else(|| text.strip_suffix('\n'))
                .map_or(text.len(), str::len),
            Trim::Whitespace => text.trim_end().len(),
        }
    }
}

/// A provider whose values are trimmed as a [`Trim`] says.
pub struct Trimmed<P: ?Sized> {
    trim: Trim,
    inner: std::sync::Arc<P>,
}

impl<P: ?Sized> Trimmed<P> {
    /// `inner`'s values trimmed by `trim`.
    pub fn new(trim: Trim, inner: std::sync::Arc<P>) -> Self {
        Self { trim, inner }
    }

    fn all(&self, matched: &mut [MatchedSecret]) {
        for secret in matched {
            if let Ok(value) = &mut secret.value {
                *value = self.trim.apply_to(value.clone());
            }
        }
    }
}

#[async_trait]
impl<P: SecretsProvider + ?Sized> SecretsProvider for Trimmed<P> {
    async fn get(&self, name: &str) -> Result<StoredValue, ProviderError> {
        self.inner
            .get(name)
            .await
            .map(|value| self.trim.apply_to(value))
    }

    async fn list(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError> {
        self.inner.list(pattern).await
    }

    async fn get_versioned(
        &self,
        name: &str,
    ) -> Result<(StoredValue, Option<String>), ProviderError> {
        let (value, version) = self.inner.get_versioned(name).await?;
        Ok((self.trim.apply_to(value), version))
    }

    async fn get_matching(&self, pattern: &Pattern) -> Result<Vec<MatchedSecret>, ProviderError> {
        let mut matched = self.inner.get_matching(pattern).await?;
        self.all(&mut matched);
        Ok(matched)
    }

    async fn refresh(
        &self,
        held: &[HeldSecret<'_>],
        patterns: &[Pattern],
    ) -> Result<Refreshed, ProviderError> {
        let mut refreshed = self.inner.refresh(held, patterns).await?;
        self.all(&mut refreshed.current);
        Ok(refreshed)
    }

    async fn check(&self) -> Result<(), ProviderError> {
        self.inner.check().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trimmed(trim: Trim, text: &str) -> String {
        trim.apply(SecretText::from(text)).expose().to_owned()
    }

    #[test]
    fn each_setting_strips_what_it_says() {
        assert_eq!(trimmed(Trim::None, "pw\n"), "pw\n");
        assert_eq!(trimmed(Trim::Newline, "pw\n"), "pw");
        assert_eq!(trimmed(Trim::Newline, "pw\r\n"), "pw");
        assert_eq!(trimmed(Trim::Newline, "pw\n\n"), "pw\n");
        assert_eq!(trimmed(Trim::Newline, "pw "), "pw ");
        assert_eq!(trimmed(Trim::Whitespace, "pw \t\r\n\n"), "pw");
        assert_eq!(trimmed(Trim::Whitespace, "  pw"), "  pw");
        assert_eq!(trimmed(Trim::Whitespace, "\n"), "");
    }

    #[test]
    fn names_round_trip() {
        for name in Trim::NAMES {
            assert!(Trim::from_name(name).is_some(), "{name}");
        }
        assert_eq!(Trim::from_name("lines"), None);
    }
}
