//! Keys (`backend:name`) and backend prefixes.
//!
//! Callers always speak in *logical* names; a backend's [`BackendPrefix`]
//! turns them into the *full* names its provider stores, and back again
//! when listing. This module is the only place that rule lives.

use crate::error::{Error, Result};

/// A key split into its backend and its logical name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecretKey<'a> {
    /// The backend's name, before the first `:`.
    pub backend: &'a str,
    /// The logical name (or pattern), everything after the first `:`.
    pub name: &'a str,
}

impl<'a> SecretKey<'a> {
    /// Splits `key` at its first `:`; `b:a:c` is backend `b`, name `a:c`.
    /// A key without `:` is a usage error.
    pub fn parse(key: &'a str) -> Result<Self> {
        match key.split_once(':') {
            Some((backend, name)) => Ok(Self { backend, name }),
            None => Err(Error::InvalidKey {
                key: key.to_owned(),
            }),
        }
    }
}

/// Separators after which a prefix is prepended verbatim.
const SEPARATORS: [char; 5] = ['/', '_', '-', '.', ':'];

/// A backend's prefix, normalised once so that joining is a plain
/// concatenation.
///
/// An empty prefix leaves names alone. A prefix ending in one of
/// `/ _ - . :` is prepended as is (`APP_` + `API_KEY` = `APP_API_KEY`); any
/// other prefix is joined with `/` (`production/exchanges` + `binance` =
/// `production/exchanges/binance`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackendPrefix {
    joined: String,
}

impl BackendPrefix {
    /// Normalises `prefix` as described on the type.
    pub fn new(prefix: &str) -> Self {
        let joined = if prefix.is_empty() || prefix.ends_with(SEPARATORS) {
            prefix.to_owned()
        } else {
            format!("{prefix}/")
        };
        Self { joined }
    }

    /// The text put in front of every logical name.
    pub fn as_str(&self) -> &str {
        &self.joined
    }

    /// The full name the provider stores for a logical `name`.
    pub fn apply(&self, name: &str) -> String {
        let mut full = String::with_capacity(self.joined.len() + name.len());
        full.push_str(&self.joined);
        full.push_str(name);
        full
    }

    /// The logical name for a provider's `full` name, or `None` when the
    /// name lies outside this prefix (and so must not be listed).
    pub fn strip<'n>(&self, full: &'n str) -> Option<&'n str> {
        full.strip_prefix(self.joined.as_str())
    }
}

/// Why `name` cannot name a backend, if it cannot (the one rule, for the
/// config and the builder alike).
pub(crate) fn backend_name_problem(name: &str) -> Option<&'static str> {
    (name.is_empty() || name.contains(':'))
        .then_some("a backend name must be non-empty and must not contain `:`")
}

/// Why `declaration` is not a `backend:pattern` load declaration, if it
/// is not.
pub(crate) fn declaration_problem(declaration: &str) -> Option<String> {
    (!declaration.contains(':'))
        .then(|| format!("declaration {declaration:?} must be backend:pattern"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_splits_at_first_colon() {
        let k = SecretKey::parse("b:a:c").expect("valid");
        assert_eq!((k.backend, k.name), ("b", "a:c"));
        let k = SecretKey::parse("env:").expect("valid");
        assert_eq!((k.backend, k.name), ("env", ""));
    }

    #[test]
    fn key_without_colon_is_a_usage_error() {
        let e = SecretKey::parse("API_KEY").expect_err("no colon");
        assert_eq!(e.kind(), crate::ErrorKind::Usage);
        assert!(e.to_string().contains("API_KEY"));
    }

    #[test]
    fn empty_prefix_leaves_names_alone() {
        assert_eq!(BackendPrefix::new("").apply("API_KEY"), "API_KEY");
    }

    #[test]
    fn prefix_ending_in_separator_is_prepended_verbatim() {
        assert_eq!(BackendPrefix::new("APP_").apply("API_KEY"), "APP_API_KEY");
        assert_eq!(BackendPrefix::new("prod/app/").apply("key"), "prod/app/key");
        assert_eq!(BackendPrefix::new("a-").apply("b"), "a-b");
        assert_eq!(BackendPrefix::new("a.").apply("b"), "a.b");
        assert_eq!(BackendPrefix::new("a:").apply("b"), "a:b");
    }

    #[test]
    fn other_prefix_is_joined_with_slash() {
        assert_eq!(
            BackendPrefix::new("production/exchanges").apply("binance"),
            "production/exchanges/binance"
        );
    }

    #[test]
    fn strip_returns_logical_names_only_inside_the_prefix() {
        let p = BackendPrefix::new("prod");
        assert_eq!(p.strip("prod/x"), Some("x"));
        assert_eq!(p.strip("prod_other"), None);
        assert_eq!(p.strip("production/x"), None);
        assert_eq!(BackendPrefix::new("").strip("any"), Some("any"));
    }
}
