//! The checks, run in order over a provider opened by a [`SuiteTarget`].

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pp_secrets_pattern::Pattern;

use super::fixture::{ADDED, CHANGED, Fixture, FixtureFormat, FixtureValue, MANY, REMOVED};
use super::report::{CheckResult, Outcome, SuiteReport};
use super::target::{OpenedProvider, Setup, SuiteTarget};
use crate::config::RefreshSettings;
use crate::error::ErrorKind;
use crate::manager::SecretsManager;
use crate::secrets_provider::{ProviderError, SecretsProvider};
use crate::value::{SecretValue, StoredValue};

/// The backend name the suite gives the provider.
const BACKEND: &str = "t";

/// How old a fixture's files must be before versions are asked for: a
/// provider may give none for a file changed within the last 2 seconds
/// (its times could still change within the same tick).
const SETTLED: Duration = Duration::from_millis(2_100);

/// Patterns listed against every fixture; the expected names come from
/// the host's matcher over the fixture's names.
const LIST_PATTERNS: &[&str] = &[
    "*",
    "db_*",
    "DB_*",
    "Db_*",
    "db_use?",
    "[ab]*",
    "[!abD]*",
    "[^abD]*",
    "[a-c]*",
    "[A-Z]*",
    "caf?",
    "?????",
    "*i*",
    "*[?]*",
    "a[*]b",
    "b[?]c",
    "[]a]*",
    "*[-]*",
    "{a,b}",
    "*/*",
    "app/*",
    "app/*/password",
    "*password",
    "app/d?/*",
    "[!d]*/*",
    "nope*",
];

/// Names that must be not-found (besides mappings of a nested fixture).
const MISSING: &[&str] = &["nope", "DB_PASSWORD", "db_passwor", "db_password_", "café/"];

/// A check's verdict: passed with a detail, or failed or skipped.
type Verdict = std::result::Result<String, Outcome>;

fn fail(why: impl Into<String>) -> Outcome {
    Outcome::Failed(why.into())
}

/// Runs the suite against `target` with fixtures in `format`.
pub async fn run_suite(target: &dyn SuiteTarget, format: FixtureFormat) -> SuiteReport {
    let mut run = Run {
        report: SuiteReport {
            target: target.describe(),
            format: format.name().to_owned(),
            results: Vec::new(),
            notes: target.notes(),
        },
        fixture: Fixture::default(),
        format,
        target,
        messages: Vec::new(),
    };
    run.fixture = run.standard();
    run.all().await;
    run.report
}

/// One run of the suite.
struct Run<'a> {
    report: SuiteReport,
    fixture: Fixture,
    format: FixtureFormat,
    target: &'a dyn SuiteTarget,
    /// Every error message the provider produced, checked for values last.
    messages: Vec<String>,
}

impl Run<'_> {
    /// The standard fixture, as far as the format and the target hold it.
    fn standard(&self) -> Fixture {
        self.for_target(Fixture::standard(self.format))
    }

    /// The standard fixture after the suite's edit.
    fn edited(&self) -> Fixture {
        self.for_target(Fixture::edited(self.format))
    }

    fn for_target(&self, fixture: Fixture) -> Fixture {
        if self.target.text_only() {
            fixture.text_only()
        } else {
            fixture
        }
    }

    fn record(&mut self, check: &'static str, verdict: Verdict) {
        let (outcome, detail) = match verdict {
            Ok(detail) => (Outcome::Passed, detail),
            Err(Outcome::Failed(why)) => (Outcome::Failed(self.redacted(why)), String::new()),
            Err(outcome) => (outcome, String::new()),
        };
        self.report.results.push(CheckResult {
            check,
            outcome,
            detail,
        });
    }

    /// `text` with every fixture value in it replaced by a mention of its
    /// name: a provider's error quoted in a failure shows no value.
    fn redacted(&self, mut text: String) -> String {
        for fixture in [self.standard(), self.edited()] {
            for secret in fixture.secrets() {
                if let FixtureValue::Text(value) = &secret.value
                    && value.len() >= 4
                {
                    text =
                        text.replace(value.as_str(), &format!("<the value of {:?}>", secret.name));
                }
            }
        }
        text
    }

    /// A fresh directory with `fixture` written into it.
    fn write(&self, fixture: &Fixture) -> std::result::Result<tempfile::TempDir, String> {
        let dir = tempfile::Builder::new()
            .prefix("pp-secrets-suite-")
            .tempdir()
            .map_err(|e| format!("cannot make a fixture directory: {e}"))?;
        self.format
            .write(fixture, dir.path())
            .map_err(|e| format!("cannot write the fixture: {e}"))?;
        self.target
            .after_write(dir.path())
            .map_err(|e| format!("after writing the fixture: {e}"))?;
        Ok(dir)
    }

    async fn all(&mut self) {
        let fixture = self.fixture.clone();
        let dir = match self.write(&fixture) {
            Ok(dir) => dir,
            Err(why) => return self.record("fixture", Err(fail(why))),
        };
        let written = Instant::now();
        let opened = match self.target.open(dir.path(), Setup::AsConfigured) {
            Ok(opened) => opened,
            Err(e) => return self.record("set-up", Err(fail(e.to_string()))),
        };
        let started = Instant::now();
        let first = opened.provider.get("db_password").await;
        let verdict = match &first {
            Ok(_) => Ok(format!("first call {} ms", started.elapsed().as_millis())),
            Err(e) => {
                self.messages.push(e.to_string());
                Err(fail(format!(
                    "the first call (get \"db_password\") failed: {e}"
                )))
            }
        };
        let set_up = verdict.is_ok();
        self.record("set-up", verdict);
        if !set_up {
            return;
        }
        let provider = opened.provider.clone();
        let verdict = self.get_each(&*provider).await;
        self.record("get", verdict);
        let verdict = self.json_object(&provider).await;
        self.record("a JSON object through the host", verdict);
        let verdict = self.not_found(&provider).await;
        self.record("not-found", verdict);
        let verdict = self.list_globs(&*provider).await;
        self.record("list with globs", verdict);
        let verdict = self.bulk(&provider).await;
        self.record("bulk read (get-matching)", verdict);
        let verdict = self.prefixes(&provider).await;
        self.record("prefix through the host", verdict);
        let verdict = self.bytes(&provider).await;
        self.record("bytes", verdict);
        let verdict = self.parallel(&provider).await;
        self.record("parallel reads", verdict);
        let verdict = self.without_settings(dir.path()).await;
        self.record("set-up without settings", verdict);
        let verdict = self.malformed().await;
        self.record("a malformed fixture", verdict);
        if let Some(wait) = SETTLED.checked_sub(written.elapsed()) {
            tokio::time::sleep(wait).await;
        }
        let (verdict, versioned) = self.versions(&*provider).await;
        self.record("versions", verdict);
        let verdict = self.refresh(&opened, dir.path(), versioned).await;
        self.record("refresh", verdict);
        drop(opened);
        let verdict = self.many().await;
        self.record("many names under the limits", verdict);
        let verdict = self.no_values_in_errors();
        self.record("errors carry no value", verdict);
    }

    /// Every secret of the fixture, read one by one.
    async fn get_each(&mut self, provider: &dyn SecretsProvider) -> Verdict {
        let fixture = self.fixture.clone();
        for secret in fixture.secrets() {
            match provider.get(&secret.name).await {
                Ok(value) => same_value(&secret.name, &value, &secret.value)?,
                Err(e) => {
                    self.messages.push(e.to_string());
                    return Err(fail(format!("{:?}: {e}", secret.name)));
                }
            }
        }
        Ok(format!("{} secrets", fixture.secrets().len()))
    }

    /// `api_key` holds a JSON object: the host serves it as one.
    async fn json_object(&mut self, provider: &Arc<dyn SecretsProvider>) -> Verdict {
        let manager = manager_over(provider, "")?;
        let value = manager
            .get(&key("api_key"))
            .await
            .map_err(|e| fail(format!("\"api_key\": {e}")))?;
        match value.as_object().and_then(|o| o.get("id")) {
            Some(id) if *id == 7 => Ok(String::new()),
            _ => Err(fail(format!(
                "\"api_key\" was not the JSON object written (it read as {})",
                value.describe()
            ))),
        }
    }

    /// Names that are not there, in the provider and through the host.
    async fn not_found(&mut self, provider: &Arc<dyn SecretsProvider>) -> Verdict {
        let mut names: Vec<&str> = MISSING.to_vec();
        if self.format.nests() {
            names.extend(["app/db", "app", "app/", "/app/token"]);
        }
        for name in &names {
            match provider.get(name).await {
                Err(ProviderError::NotFound) => {}
                Err(e) => {
                    self.messages.push(e.to_string());
                    return Err(fail(format!("{name:?}: expected not-found, got: {e}")));
                }
                Ok(value) => {
                    return Err(fail(format!(
                        "{name:?}: expected not-found, got a value ({})",
                        value.describe()
                    )));
                }
            }
        }
        let manager = manager_over(provider, "")?;
        match manager.get(&key("nope")).await {
            Err(e) if e.kind() == ErrorKind::NotFound => self.messages.push(e.to_string()),
            Err(e) => return Err(fail(format!("through the host, \"nope\": {e}"))),
            Ok(_) => return Err(fail("through the host, \"nope\" had a value")),
        }
        Ok(format!("{} names", names.len() + 1))
    }

    /// Every pattern of [`LIST_PATTERNS`], and exact names with wildcard
    /// characters, listed.
    async fn list_globs(&mut self, provider: &dyn SecretsProvider) -> Verdict {
        let mut patterns: Vec<Pattern> = Vec::new();
        for source in LIST_PATTERNS {
            patterns.push(Pattern::new(source).map_err(|e| fail(e.to_string()))?);
        }
        patterns.extend(["a*b", "b?c", "café", "nope"].map(Pattern::exact));
        for pattern in &patterns {
            let expected = self.expected_names(pattern);
            let mut listed = match provider.list(pattern).await {
                Ok(names) => names,
                Err(e) => {
                    self.messages.push(e.to_string());
                    return Err(fail(format!("pattern {:?}: {e}", pattern.as_str())));
                }
            };
            listed.sort();
            if listed != expected {
                return Err(fail(format!(
                    "pattern {:?}{}: listed {listed:?}, expected {expected:?}",
                    pattern.as_str(),
                    if pattern.is_exact() { " (exact)" } else { "" }
                )));
            }
        }
        Ok(format!("{} patterns", patterns.len()))
    }

    /// Bulk reads of whole patterns, and a `load` declaration.
    async fn bulk(&mut self, provider: &Arc<dyn SecretsProvider>) -> Verdict {
        let mut sources = vec!["*", "db_*", "nope*"];
        if self.format.nests() {
            sources.push("app/*");
        }
        for source in &sources {
            let pattern = Pattern::new(source).map_err(|e| fail(e.to_string()))?;
            let matched = match provider.get_matching(&pattern).await {
                Ok(matched) => matched,
                Err(e) => {
                    self.messages.push(e.to_string());
                    return Err(fail(format!("pattern {source:?}: {e}")));
                }
            };
            let mut names: Vec<String> = matched.iter().map(|m| m.name.clone()).collect();
            names.sort();
            let expected = self.expected_names(&pattern);
            if names != expected {
                return Err(fail(format!(
                    "pattern {source:?}: served {names:?}, expected {expected:?}"
                )));
            }
            for secret in matched {
                let Some(written) = self.fixture.value(&secret.name) else {
                    continue;
                };
                match secret.value {
                    Ok(value) => same_value(&secret.name, &value, written)?,
                    Err(e) => {
                        self.messages.push(e.to_string());
                        return Err(fail(format!(
                            "{:?} in pattern {source:?}: {e}",
                            secret.name
                        )));
                    }
                }
            }
        }
        let manager = manager_over(provider, "")?;
        let report = manager
            .load_declaration(&key("db_*"))
            .await
            .map_err(|e| fail(format!("load \"db_*\": {e}")))?;
        if (report.matched, report.loaded) != (2, 2) {
            return Err(fail(format!(
                "load \"db_*\" matched {} and loaded {}, expected 2 and 2",
                report.matched, report.loaded
            )));
        }
        Ok(format!("{} patterns and a load", sources.len()))
    }

    /// The host's prefix: names are read and listed without it.
    async fn prefixes(&mut self, provider: &Arc<dyn SecretsProvider>) -> Verdict {
        let manager = manager_over(provider, "db_")?;
        self.expect_text(&manager, "password", "db_password")
            .await?;
        let listed = manager
            .list(&key("*"))
            .await
            .map_err(|e| fail(format!("list \"*\" behind \"db_\": {e}")))?;
        if listed != ["password", "user"] {
            return Err(fail(format!(
                "list \"*\" behind the prefix \"db_\" gave {listed:?}, expected [\"password\", \"user\"]"
            )));
        }
        match manager.get(&key("api_key")).await {
            Err(e) if e.kind() == ErrorKind::NotFound => self.messages.push(e.to_string()),
            Err(e) => return Err(fail(format!("\"api_key\" behind \"db_\": {e}"))),
            Ok(_) => return Err(fail("\"api_key\" behind \"db_\" had a value")),
        }
        if self.format.nests() {
            let nested = manager_over(provider, "app/")?;
            self.expect_text(&nested, "db/password", "app/db/password")
                .await?;
            let listed = nested
                .list(&key("*"))
                .await
                .map_err(|e| fail(format!("list \"*\" behind \"app/\": {e}")))?;
            if listed != ["db/password", "db/user", "token"] {
                return Err(fail(format!(
                    "list \"*\" behind the prefix \"app/\" gave {listed:?}"
                )));
            }
        }
        Ok(String::new())
    }

    /// The manager's `key` is the fixture's `name`.
    async fn expect_text(
        &mut self,
        manager: &SecretsManager,
        key_name: &str,
        name: &str,
    ) -> std::result::Result<(), Outcome> {
        let value = manager
            .get(&key(key_name))
            .await
            .map_err(|e| fail(format!("{key_name:?}: {e}")))?;
        let expected = self.fixture.value(name).map(FixtureValue::as_bytes);
        let got = match &value {
            SecretValue::Text(t) => Some(t.expose().as_bytes()),
            _ => None,
        };
        if got != expected {
            return Err(fail(format!("{key_name:?} is not the value of {name:?}")));
        }
        Ok(())
    }

    /// A value that is not UTF-8 is bytes, in the provider and the host.
    async fn bytes(&mut self, provider: &Arc<dyn SecretsProvider>) -> Verdict {
        let Some(written) = self.fixture.value("keystore").cloned() else {
            return Err(Outcome::Skipped(if self.target.text_only() {
                "the provider serves text only".into()
            } else {
                format!("the {} fixture holds text only", self.format)
            }));
        };
        let value = provider
            .get("keystore")
            .await
            .map_err(|e| fail(format!("\"keystore\": {e}")))?;
        same_value("keystore", &value, &written)?;
        let manager = manager_over(provider, "")?;
        let value = manager
            .get(&key("keystore"))
            .await
            .map_err(|e| fail(format!("\"keystore\" through the host: {e}")))?;
        if value.as_bytes() != Some(written.as_bytes()) {
            return Err(fail(
                "\"keystore\" through the host is not the bytes written",
            ));
        }
        Ok(String::new())
    }

    /// Reads at once, more than the default number of instances.
    async fn parallel(&mut self, provider: &Arc<dyn SecretsProvider>) -> Verdict {
        let names = ["db_password", "db_user", "multi", "café"];
        let reads = (0..16).map(|i| {
            let provider = provider.clone();
            let name = names[i % names.len()];
            async move { (name, provider.get(name).await) }
        });
        for (name, result) in futures_util::future::join_all(reads).await {
            match result {
                Ok(value) => {
                    if let Some(written) = self.fixture.value(name) {
                        same_value(name, &value, written)?;
                    }
                }
                Err(e) => return Err(fail(format!("{name:?} among 16 at once: {e}"))),
            }
        }
        Ok("16 reads".into())
    }

    /// With an empty `config`, set-up fails naming a setting.
    async fn without_settings(&mut self, dir: &Path) -> Verdict {
        let settings = self.target.setting_names();
        if settings.is_empty() {
            return Err(Outcome::Skipped("the backend has no settings".into()));
        }
        let opened = match self.target.open(dir, Setup::WithoutSettings) {
            Ok(opened) => opened,
            Err(e) => {
                let message = e.to_string();
                self.messages.push(message.clone());
                return names_a_setting(&message, &settings);
            }
        };
        match opened.provider.get("db_password").await {
            Ok(_) => Err(fail("served a value without its settings")),
            Err(ProviderError::NotFound) => Err(fail(
                "answered not-found without its settings: a set-up error was expected",
            )),
            Err(e) => {
                let message = e.to_string();
                self.messages.push(message.clone());
                names_a_setting(&message, &settings)
            }
        }
    }

    /// A fixture cut off inside a value: an error that shows no part of it.
    async fn malformed(&mut self) -> Verdict {
        let dir = tempfile::Builder::new()
            .prefix("pp-secrets-suite-")
            .tempdir()
            .map_err(|e| fail(format!("cannot make a fixture directory: {e}")))?;
        let written = self
            .format
            .write_malformed(&self.fixture, dir.path())
            .map_err(|e| fail(format!("cannot write the fixture: {e}")))?;
        if !written {
            return Err(Outcome::Skipped(format!(
                "a {} fixture cannot be malformed",
                self.format
            )));
        }
        self.target
            .after_write(dir.path())
            .map_err(|e| fail(format!("after writing the fixture: {e}")))?;
        let opened = self
            .target
            .open(dir.path(), Setup::AsConfigured)
            .map_err(|e| fail(e.to_string()))?;
        match opened.provider.get("db_password").await {
            Ok(_) => Err(fail("served a value from a malformed file")),
            Err(ProviderError::NotFound) => Err(fail(
                "answered not-found from a malformed file: an error was expected",
            )),
            Err(e) => {
                let message = e.to_string();
                self.messages.push(message.clone());
                if message.contains("s3cr3t") {
                    return Err(fail("the error quotes the malformed value"));
                }
                Ok(String::new())
            }
        }
    }

    /// Versions of settled values, when the provider gives them. Returns
    /// whether it did.
    async fn versions(&mut self, provider: &dyn SecretsProvider) -> (Verdict, bool) {
        let mut with = 0;
        let fixture = self.fixture.clone();
        for secret in fixture.secrets() {
            match provider.get_versioned(&secret.name).await {
                Ok((_, Some(version))) => {
                    if let Some(name) = fixture.leaks_into(&version) {
                        return (
                            Err(fail(format!("the version of {:?} holds a value", name))),
                            true,
                        );
                    }
                    with += 1;
                }
                Ok((_, None)) => {}
                Err(e) => return (Err(fail(format!("{:?}: {e}", secret.name))), false),
            }
        }
        match with {
            0 => (
                Err(Outcome::Skipped(
                    "the provider gives no versions (a refresh re-reads)".into(),
                )),
                false,
            ),
            n if n == fixture.secrets().len() => (Ok(format!("{n} versioned")), true),
            n => (
                Err(fail(format!(
                    "{n} of {} settled values have a version: all or none",
                    fixture.secrets().len()
                ))),
                true,
            ),
        }
    }

    /// A refresh with nothing changed reports nothing (and, with versions,
    /// reads nothing); after the fixture's edit it reports the change, the
    /// addition and the removal, and serves the new values.
    async fn refresh(&mut self, opened: &OpenedProvider, dir: &Path, versioned: bool) -> Verdict {
        let manager = SecretsManager::builder()
            .shared_backend(BACKEND, "", opened.provider.clone())
            .refresh(BACKEND, RefreshSettings::every(Duration::from_secs(3600)))
            // A configured declaration: a refresh looks for names added
            // under the declarations it was configured with.
            .load(key("*"))
            .build()
            .map_err(|e| fail(e.to_string()))?;
        manager
            .load()
            .await
            .map_err(|e| fail(format!("load \"*\": {e}")))?;
        let refresh = |manager: &SecretsManager| {
            let manager = manager.clone();
            async move { manager.refresh_now(BACKEND).await }
        };
        let first = refresh(&manager)
            .await
            .map_err(|e| fail(format!("a refresh: {e}")))?;
        if first != Default::default() {
            return Err(fail(format!(
                "a refresh with nothing changed reported {first:?}"
            )));
        }
        let before = opened.tally.as_ref().map(|t| t());
        let quiet = refresh(&manager)
            .await
            .map_err(|e| fail(format!("a refresh: {e}")))?;
        if quiet != Default::default() {
            return Err(fail(format!(
                "a refresh with nothing changed reported {quiet:?}"
            )));
        }
        let mut detail = String::new();
        if let (Some(before), Some(tally)) = (before, opened.tally.as_ref()) {
            let after = tally();
            if versioned && after.changes > before.changes {
                if after.get != before.get || after.get_matching != before.get_matching {
                    return Err(fail(format!(
                        "an unchanged refresh read values: {} gets and {} bulk reads after \
                         the change check",
                        after.get - before.get,
                        after.get_matching - before.get_matching
                    )));
                }
                detail = "unchanged: one change check, no reads".into();
            } else {
                detail = "unchanged: re-read (no change check)".into();
            }
        }
        let edited = self.edited();
        self.format
            .write(&edited, dir)
            .map_err(|e| fail(format!("cannot rewrite the fixture: {e}")))?;
        self.target
            .after_write(dir)
            .map_err(|e| fail(format!("after rewriting the fixture: {e}")))?;
        let report = refresh(&manager)
            .await
            .map_err(|e| fail(format!("the refresh after the edit: {e}")))?;
        if report.changed != [CHANGED]
            || report.added != [ADDED]
            || report.removed != [REMOVED]
            || !report.failed.is_empty()
        {
            return Err(fail(format!(
                "after changing {CHANGED:?}, adding {ADDED:?} and removing {REMOVED:?}, the \
                 refresh reported {report:?}"
            )));
        }
        self.fixture = edited;
        self.expect_text(&manager, CHANGED, CHANGED).await?;
        self.expect_text(&manager, ADDED, ADDED).await?;
        match manager.get(&key(REMOVED)).await {
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(fail(format!("{REMOVED:?} after its removal: {e}"))),
            Ok(_) => {
                return Err(fail(format!(
                    "{REMOVED:?} is still served after its removal"
                )));
            }
        }
        if detail.is_empty() {
            detail = "change, addition and removal seen".into();
        } else {
            detail.push_str("; change, addition and removal seen");
        }
        Ok(detail)
    }

    /// [`MANY`] names in one bulk read of a fresh provider.
    async fn many(&mut self) -> Verdict {
        let fixture = Fixture::many();
        let dir = self.write(&fixture).map_err(fail)?;
        let opened = self
            .target
            .open(dir.path(), Setup::AsConfigured)
            .map_err(|e| fail(e.to_string()))?;
        let pattern = Pattern::new("many_*").map_err(|e| fail(e.to_string()))?;
        let started = Instant::now();
        let matched = opened
            .provider
            .get_matching(&pattern)
            .await
            .map_err(|e| fail(format!("a bulk read of {MANY} names: {e}")))?;
        let elapsed = started.elapsed();
        if matched.len() != MANY {
            return Err(fail(format!(
                "a bulk read of {MANY} names served {}",
                matched.len()
            )));
        }
        for secret in matched {
            let written = fixture
                .value(&secret.name)
                .ok_or_else(|| fail(format!("served {:?}, which was not written", secret.name)))?;
            let value = secret
                .value
                .map_err(|e| fail(format!("{:?}: {e}", secret.name)))?;
            same_value(&secret.name, &value, written)?;
        }
        Ok(format!(
            "{MANY} in one bulk read, {} ms (first call of a fresh instance)",
            elapsed.as_millis()
        ))
    }

    fn no_values_in_errors(&self) -> Verdict {
        let written = [self.standard(), self.edited()];
        for message in &self.messages {
            if let Some(name) = written.iter().find_map(|f| f.leaks_into(message)) {
                return Err(fail(format!(
                    "an error message holds the value of {name:?}"
                )));
            }
        }
        Ok(format!("{} messages", self.messages.len()))
    }

    /// The fixture's names that `pattern` matches, sorted.
    fn expected_names(&self, pattern: &Pattern) -> Vec<String> {
        self.fixture
            .secrets()
            .iter()
            .filter(|s| pattern.matches(&s.name))
            .map(|s| s.name.clone())
            .collect()
    }
}

/// The manager key of `name` in the suite's backend.
fn key(name: &str) -> String {
    format!("{BACKEND}:{name}")
}

/// A manager over `provider` behind `prefix`.
fn manager_over(
    provider: &Arc<dyn SecretsProvider>,
    prefix: &str,
) -> std::result::Result<SecretsManager, Outcome> {
    SecretsManager::builder()
        .shared_backend(BACKEND, prefix, provider.clone())
        .build()
        .map_err(|e| fail(e.to_string()))
}

/// `value` is what was written for `name`: text as text, bytes as bytes.
/// The message says how they differ without showing either.
fn same_value(
    name: &str,
    value: &StoredValue,
    written: &FixtureValue,
) -> std::result::Result<(), Outcome> {
    let (got, kind) = match value {
        StoredValue::Text(t) => (t.expose().as_bytes(), "text"),
        StoredValue::Bytes(b) => (b.expose(), "bytes"),
    };
    let (expected, expected_kind) = match written {
        FixtureValue::Text(t) => (t.as_bytes(), "text"),
        FixtureValue::Bytes(b) => (b.as_slice(), "bytes"),
    };
    if kind != expected_kind {
        return Err(fail(format!(
            "{name:?}: served as {kind}, written as {expected_kind}"
        )));
    }
    if got != expected {
        return Err(fail(format!(
            "{name:?}: served {} bytes of {kind}, not the {} written",
            got.len(),
            expected.len()
        )));
    }
    Ok(())
}

fn names_a_setting(message: &str, settings: &[String]) -> Verdict {
    if settings.iter().any(|s| message.contains(s.as_str())) {
        Ok(String::new())
    } else {
        Err(fail(format!(
            "the set-up error does not name a setting ({}): {message}",
            settings.join(", ")
        )))
    }
}
