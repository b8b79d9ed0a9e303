//! The suite against native providers: a faithful one passes every check,
//! and each flaw fails the check that covers it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use pp_secrets_pattern::Pattern;

use super::*;
use crate::error::Result;
use crate::secrets_provider::{ProviderError, SecretsProvider};
use crate::value::{SecretBytes, SecretText, StoredValue};

/// What a fake provider gets wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flaw {
    None,
    /// Lists ignoring case.
    CaseInsensitiveList,
    /// Serves bytes that are not UTF-8 as (lossy) text.
    BytesAsText,
    /// Says which secrets exist, values included, in a not-found error.
    ChattyNotFound,
    /// Keeps serving what it read first.
    NeverRereads,
}

/// Serves a `files` fixture from its directory, with a flaw.
struct Fake {
    dir: PathBuf,
    flaw: Flaw,
    first: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

impl Fake {
    fn read(&self, name: &str) -> std::result::Result<Vec<u8>, ProviderError> {
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return Err(ProviderError::NotFound);
        }
        let mut first = self.first.lock().expect("lock");
        if self.flaw == Flaw::NeverRereads
            && let Some(kept) = first.get(name)
        {
            return Ok(kept.clone());
        }
        match std::fs::read(self.dir.join(name)) {
            Ok(bytes) => {
                first.insert(name.to_owned(), bytes.clone());
                Ok(bytes)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if self.flaw == Flaw::ChattyNotFound {
                    let known =
                        std::fs::read_to_string(self.dir.join("db_password")).unwrap_or_default();
                    return Err(ProviderError::Failed(format!(
                        "no {name:?}; db_password is {known}"
                    )));
                }
                Err(ProviderError::NotFound)
            }
            Err(e) => Err(ProviderError::Failed(e.to_string())),
        }
    }
}

#[async_trait]
impl SecretsProvider for Fake {
    async fn get(&self, name: &str) -> std::result::Result<StoredValue, ProviderError> {
        let bytes = self.read(name)?;
        Ok(match String::from_utf8(bytes) {
            Ok(text) => StoredValue::Text(SecretText::new(text)),
            Err(e) if self.flaw == Flaw::BytesAsText => StoredValue::Text(SecretText::new(
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
            )),
            Err(e) => StoredValue::Bytes(SecretBytes::new(e.into_bytes())),
        })
    }

    async fn list(&self, pattern: &Pattern) -> std::result::Result<Vec<String>, ProviderError> {
        let mut names = Vec::new();
        let entries =
            std::fs::read_dir(&self.dir).map_err(|e| ProviderError::Failed(e.to_string()))?;
        for entry in entries {
            let name = entry
                .map_err(|e| ProviderError::Failed(e.to_string()))?
                .file_name()
                .to_string_lossy()
                .into_owned();
            let matches = match self.flaw {
                Flaw::CaseInsensitiveList => Pattern::new(&pattern.as_str().to_lowercase())
                    .map(|p| p.matches(&name.to_lowercase()))
                    .unwrap_or(false),
                _ => pattern.matches(&name),
            };
            if matches {
                names.push(name);
            }
        }
        Ok(names)
    }
}

/// A provider that fails every call as a set-up without its `dir` would.
struct Unset;

#[async_trait]
impl SecretsProvider for Unset {
    async fn get(&self, _: &str) -> std::result::Result<StoredValue, ProviderError> {
        Err(ProviderError::Misconfigured(
            "setup failed: the setting \"dir\" is missing".into(),
        ))
    }
    async fn list(&self, _: &Pattern) -> std::result::Result<Vec<String>, ProviderError> {
        Err(ProviderError::Misconfigured(
            "setup failed: the setting \"dir\" is missing".into(),
        ))
    }
}

struct FakeTarget(Flaw);

impl SuiteTarget for FakeTarget {
    fn describe(&self) -> String {
        format!("a native provider ({:?})", self.0)
    }
    fn setting_names(&self) -> Vec<String> {
        vec!["dir".into()]
    }
    fn open(&self, dir: &Path, setup: Setup) -> Result<OpenedProvider> {
        let provider: Arc<dyn SecretsProvider> = match setup {
            Setup::AsConfigured => Arc::new(Fake {
                dir: dir.to_path_buf(),
                flaw: self.0,
                first: Default::default(),
            }),
            Setup::WithoutSettings => Arc::new(Unset),
        };
        Ok(OpenedProvider {
            provider,
            tally: None,
        })
    }
}

fn run(flaw: Flaw) -> SuiteReport {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run_suite(&FakeTarget(flaw), FixtureFormat::Files))
}

fn failed(report: &SuiteReport) -> Vec<&'static str> {
    report.failed().map(|r| r.check).collect()
}

#[test]
fn a_faithful_provider_passes_every_check() {
    let report = run(Flaw::None);
    assert!(report.passed(), "{report}");
    let skipped: Vec<_> = report.skipped().map(|r| r.check).collect();
    assert_eq!(skipped, ["a malformed fixture", "versions"], "{report}");
    assert_eq!(report.results.len(), 15, "{report}");
    assert!(
        report
            .to_string()
            .ends_with("13 passed, 0 failed, 2 skipped"),
        "{report}"
    );
}

#[test]
fn a_matcher_that_ignores_case_fails_the_listing() {
    let report = run(Flaw::CaseInsensitiveList);
    assert_eq!(
        failed(&report),
        ["list with globs", "bulk read (get-matching)"],
        "{report}"
    );
    let Some(Outcome::Failed(why)) = report.outcome("list with globs") else {
        panic!("{report}");
    };
    assert!(
        why.contains("pattern \"db_*\": listed [\"Db_upper\""),
        "{why}"
    );
}

#[test]
fn bytes_served_as_text_fail_the_values() {
    let report = run(Flaw::BytesAsText);
    assert!(failed(&report).contains(&"get"), "{report}");
    assert!(failed(&report).contains(&"bytes"), "{report}");
    let Some(Outcome::Failed(why)) = report.outcome("bytes") else {
        panic!("{report}");
    };
    assert_eq!(why, "\"keystore\": served as text, written as bytes");
}

#[test]
fn a_value_in_an_error_fails_two_checks_and_is_not_repeated() {
    let report = run(Flaw::ChattyNotFound);
    let failed = failed(&report);
    assert!(failed.contains(&"not-found"), "{report}");
    assert!(failed.contains(&"errors carry no value"), "{report}");
    // The provider's error is quoted with the value taken out.
    assert!(!report.to_string().contains("s3cr3t-canary"), "{report}");
    let Some(Outcome::Failed(why)) = report.outcome("errors carry no value") else {
        panic!("{report}");
    };
    assert_eq!(why, "an error message holds the value of \"db_password\"");
}

#[test]
fn a_provider_that_never_rereads_fails_the_refresh() {
    let report = run(Flaw::NeverRereads);
    assert_eq!(failed(&report), ["refresh"], "{report}");
}
