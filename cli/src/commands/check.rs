//! `check [FILE]... [--json]`: validate the config, every backend, every
//! load declaration and every `${secret://...}` token, and print a report.
//!
//! Unlike the other commands, `check` goes on after a problem so the report
//! is complete: a backend that cannot be built (a Wasm component missing or
//! invalid) is reported and the others are still checked; a declaration or
//! token on such a backend is reported as skipped. The header says `ok`
//! only when nothing below it is wrong, and the exit code is that of the
//! first problem in the order the report lists them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use pp_secrets::config::{BackendConfig, duration_text};
use pp_secrets::{
    BackendProblem, ConfigDocument, Error, SecretKey, SecretsManager, TokenScan, scan_file_tokens,
    scan_tokens,
};
use serde_json::{Value, json};

use crate::exit_codes;
use crate::failure::{Failure, with_causes};
use crate::output;

/// The arguments of `check`.
#[derive(Debug, Args)]
pub struct Check {
    /// YAML files whose ${secret://...} tokens to check too (a service's
    /// own config, as `render FILE` reads it)
    files: Vec<PathBuf>,
    /// Print one JSON document (the README's "JSON output")
    #[arg(long)]
    json: bool,
}

/// What was found for one backend.
enum BackendStatus {
    Reachable,
    /// Built, but its check failed (the error says how).
    Failed(Error),
    /// Its provider could not be built.
    NotLoaded(Error),
}

/// What was found for one declaration.
enum DeclarationStatus {
    /// Run; some of the secrets it matched may have failed.
    Loaded(pp_secrets::DeclarationReport),
    Failed(Error),
    /// Its backend could not be built.
    Skipped {
        backend: String,
    },
}

/// What was found for one token.
enum TokenStatus {
    Resolved,
    Broken(Error),
    /// Its backend could not be built.
    Skipped {
        backend: String,
    },
}

/// The tokens of one file (the config, or a FILE argument).
struct FileTokens {
    file: PathBuf,
    /// The scan, or why the file could not be read.
    scan: Result<TokenScan, Error>,
}

/// Everything `check` found, in report order.
struct Report<'a> {
    backends: Vec<(&'a BackendConfig, BackendStatus)>,
    declarations: Vec<(&'a str, DeclarationStatus)>,
    /// Each refreshed backend's trial pass.
    refreshes: Vec<(&'a str, Result<(), Error>)>,
    files: Vec<FileTokens>,
    /// Each distinct token key's status.
    tokens: BTreeMap<String, TokenStatus>,
}

impl Check {
    /// Prints the report; the code of the first problem is the result.
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        let document = super::document(config)?;
        let report = self.inspect(config, &document).await?;
        let problems = report.problems();
        let code = problems.first().copied().unwrap_or(exit_codes::SUCCESS);
        if self.json {
            output::json(&report.as_json(config, &document, code));
        } else {
            report.print_text(config, &document, problems.len());
        }
        Ok(code)
    }

    async fn inspect<'a>(
        &self,
        config: &Path,
        document: &'a ConfigDocument,
    ) -> Result<Report<'a>, Failure> {
        let section = &document.secrets;
        let mut builder = SecretsManager::builder().cache_enabled(section.cache_enabled);
        let mut not_loaded = Vec::new();
        for backend in &section.backends {
            match backend.provider(section) {
                Ok(provider) => {
                    builder = builder.shared_backend(&backend.name, &backend.prefix, provider);
                }
                Err(e) => not_loaded.push((backend.name.as_str(), e)),
            }
        }
        for declaration in &section.load {
            builder = builder.load(declaration);
        }
        let manager = builder.build()?;
        let skipped = |key: &str| -> Option<String> {
            let backend = SecretKey::parse(key).ok()?.backend;
            not_loaded
                .iter()
                .any(|(name, _)| *name == backend)
                .then(|| backend.to_owned())
        };

        let mut declarations = Vec::new();
        for declaration in &section.load {
            let status = match skipped(declaration) {
                Some(backend) => DeclarationStatus::Skipped { backend },
                None => match manager.load_declaration(declaration).await {
                    Ok(report) => DeclarationStatus::Loaded(report),
                    Err(e) => DeclarationStatus::Failed(e),
                },
            };
            declarations.push((declaration.as_str(), status));
        }

        // Tokens after the declarations: what they loaded is what an
        // application resolves its tokens from.
        let mut files = vec![FileTokens {
            file: config.to_path_buf(),
            scan: Ok(scan_tokens(&document.tree)),
        }];
        for file in &self.files {
            files.push(FileTokens {
                file: file.clone(),
                scan: scan_file_tokens(file),
            });
        }
        let mut tokens = BTreeMap::new();
        for scan in files.iter().filter_map(|f| f.scan.as_ref().ok()) {
            for place in &scan.tokens {
                if tokens.contains_key(&place.key) {
                    continue;
                }
                let status = match skipped(&place.key) {
                    Some(backend) => TokenStatus::Skipped { backend },
                    // A token needs text: binary data that is not UTF-8
                    // breaks it as render would find.
                    None => match manager
                        .get(&place.key)
                        .await
                        .and_then(|value| value.text_of(&place.key))
                    {
                        Ok(_) => TokenStatus::Resolved,
                        Err(e) => TokenStatus::Broken(e),
                    },
                };
                tokens.insert(place.key.clone(), status);
            }
        }

        let mut backends = Vec::new();
        for backend in &section.backends {
            let status = match not_loaded.iter().position(|(n, _)| *n == backend.name) {
                Some(i) => BackendStatus::NotLoaded(not_loaded.swap_remove(i).1),
                None => match manager.check_backend(&backend.name).await {
                    Ok(()) => BackendStatus::Reachable,
                    Err(e) => BackendStatus::Failed(e),
                },
            };
            backends.push((backend, status));
        }
        // One refresh pass per reachable backend with a refresh setting:
        // the change detection the running service will use, tried once.
        let mut refreshes = Vec::new();
        for (backend, status) in &backends {
            if let (Some(_), BackendStatus::Reachable) = (backend.refresh, status) {
                let outcome = manager.refresh_now(&backend.name).await.map(|_| ());
                refreshes.push((backend.name.as_str(), outcome));
            }
        }
        Ok(Report {
            backends,
            declarations,
            refreshes,
            files,
            tokens,
        })
    }
}

impl Report<'_> {
    /// The exit code of each problem, in report order.
    fn problems(&self) -> Vec<u8> {
        let code = |e: &Error| exit_codes::for_kind(e.kind());
        let mut problems = Vec::new();
        for (_, status) in &self.backends {
            if let BackendStatus::Failed(e) | BackendStatus::NotLoaded(e) = status {
                problems.push(code(e));
            }
        }
        for (_, status) in &self.declarations {
            match status {
                DeclarationStatus::Failed(e) => problems.push(code(e)),
                DeclarationStatus::Loaded(report) if !report.failed.is_empty() => {
                    problems.push(exit_codes::BACKEND);
                }
                _ => {}
            }
        }
        for (_, outcome) in &self.refreshes {
            if let Err(e) = outcome {
                problems.push(code(e));
            }
        }
        for file in &self.files {
            match &file.scan {
                Err(e) => problems.push(code(e)),
                Ok(scan) => {
                    for place in &scan.tokens {
                        if let Some(TokenStatus::Broken(e)) = self.tokens.get(&place.key) {
                            problems.push(code(e));
                        }
                    }
                    problems.extend(scan.suspects.iter().map(|_| exit_codes::USAGE));
                }
            }
        }
        problems
    }

    fn print_text(&self, config: &Path, document: &ConfigDocument, problems: usize) {
        let token_count: usize = self
            .files
            .iter()
            .filter_map(|f| f.scan.as_ref().ok())
            .map(|scan| scan.tokens.len())
            .sum();
        let verdict = match problems {
            0 => "ok".to_owned(),
            1 => "1 problem".to_owned(),
            n => format!("{n} problems"),
        };
        output::line(&format!(
            "config {}: {verdict} ({} backends, {} load declarations, {token_count} tokens, cache {})",
            config.display(),
            document.secrets.backends.len(),
            document.secrets.load.len(),
            if document.secrets.cache_enabled {
                "on"
            } else {
                "off"
            }
        ));
        output::line("backends:");
        for (backend, status) in &self.backends {
            let status = match status {
                BackendStatus::Reachable => "reachable".to_owned(),
                BackendStatus::Failed(e) => {
                    format!("{}: {}", shout(backend_word(e)), reason_of(e))
                }
                BackendStatus::NotLoaded(e) => format!("NOT LOADED: {}", reason_of(e)),
            };
            output::line(&format!(
                "  {} ({}): {status}",
                backend.name,
                backend.kind.type_name()
            ));
        }
        output::line("load declarations:");
        for (declaration, status) in &self.declarations {
            let status = match status {
                DeclarationStatus::Loaded(report) if report.failed.is_empty() => {
                    super::load::counts(report)
                }
                DeclarationStatus::Loaded(report) => {
                    format!("SOME FAILED: {}", super::load::counts(report))
                }
                DeclarationStatus::Failed(e) => format!("FAILED: {}", with_causes(e)),
                DeclarationStatus::Skipped { backend } => {
                    format!("skipped: backend {backend:?} is not loaded")
                }
            };
            output::line(&format!("  {declaration}: {status}"));
        }
        self.print_refreshes();
        for file in &self.files {
            output::line(&format!("tokens in {}:", file.file.display()));
            let scan = match &file.scan {
                Ok(scan) => scan,
                Err(e) => {
                    output::line(&format!("  UNREADABLE: {}", with_causes(e)));
                    continue;
                }
            };
            if scan.tokens.is_empty() && scan.suspects.is_empty() {
                output::line("  none");
            }
            for place in &scan.tokens {
                let status = match self.tokens.get(&place.key) {
                    Some(TokenStatus::Resolved) | None => "ok".to_owned(),
                    Some(TokenStatus::Broken(e)) => format!("BROKEN: {}", with_causes(e)),
                    Some(TokenStatus::Skipped { backend }) => {
                        format!("skipped: backend {backend:?} is not loaded")
                    }
                };
                output::line(&format!(
                    "  {}: {}: {status}",
                    place.yaml_path,
                    place.token()
                ));
            }
            for suspect in &scan.suspects {
                output::line(&format!(
                    "  {}: MISTYPED TOKEN?: {}",
                    suspect.yaml_path, suspect.problem
                ));
            }
        }
    }

    fn print_refreshes(&self) {
        if self.refreshes.is_empty() {
            return;
        }
        output::line("refresh:");
        for (name, outcome) in &self.refreshes {
            let settings = self
                .backends
                .iter()
                .find(|(b, _)| b.name == *name)
                .and_then(|(b, _)| b.refresh)
                .map(|r| {
                    format!(
                        "every {}, max_stale {}",
                        duration_text(r.every),
                        duration_text(r.max_stale)
                    )
                })
                .unwrap_or_default();
            let status = match outcome {
                Ok(()) => "a check works".to_owned(),
                Err(e) => format!("FAILED: {}", with_causes(e)),
            };
            output::line(&format!("  {name} ({settings}): {status}"));
        }
    }

    fn as_json(&self, config: &Path, document: &ConfigDocument, code: u8) -> Value {
        let backends: Vec<Value> = self
            .backends
            .iter()
            .map(|(backend, status)| {
                let refresh = backend.refresh.map(|r| {
                    let settings = json!({
                        "every": duration_text(r.every),
                        "max_stale": duration_text(r.max_stale),
                    });
                    let check = match self.refreshes.iter().find(|(n, _)| *n == backend.name) {
                        Some((_, Ok(()))) => json!({ "check": "ok" }),
                        Some((_, Err(e))) => with(json!({ "check": "failed" }), error_fields(e)),
                        None => json!({ "check": "skipped" }),
                    };
                    with(settings, check)
                });
                let row = json!({
                    "name": backend.name,
                    "type": backend.kind.type_name(),
                    "refresh": refresh,
                });
                with(
                    row,
                    match status {
                        BackendStatus::Reachable => json!({ "status": "reachable" }),
                        BackendStatus::Failed(e) => with(
                            json!({ "status": backend_word(e).replace(' ', "_") }),
                            error_fields(e),
                        ),
                        BackendStatus::NotLoaded(e) => {
                            with(json!({ "status": "not_loaded" }), error_fields(e))
                        }
                    },
                )
            })
            .collect();
        let declarations: Vec<Value> = self
            .declarations
            .iter()
            .map(|(declaration, status)| {
                let row = json!({ "declaration": declaration });
                with(
                    row,
                    match status {
                        DeclarationStatus::Loaded(report) if report.failed.is_empty() => with(
                            json!({ "status": "loaded" }),
                            super::load::counts_json(report),
                        ),
                        DeclarationStatus::Loaded(report) => with(
                            json!({ "status": "some_failed", "exit_code": exit_codes::BACKEND }),
                            super::load::counts_json(report),
                        ),
                        DeclarationStatus::Failed(e) => {
                            with(json!({ "status": "failed" }), error_fields(e))
                        }
                        DeclarationStatus::Skipped { backend } => {
                            json!({ "status": "skipped", "backend": backend })
                        }
                    },
                )
            })
            .collect();
        let mut tokens = Vec::new();
        let mut files = Vec::new();
        for file in &self.files {
            let name = file.file.display().to_string();
            let scan = match &file.scan {
                Ok(scan) => scan,
                Err(e) => {
                    files.push(with(
                        json!({ "file": name, "status": "unreadable" }),
                        error_fields(e),
                    ));
                    continue;
                }
            };
            files.push(json!({ "file": name, "status": "read" }));
            for place in &scan.tokens {
                let row = json!({
                    "file": name,
                    "yaml_path": place.yaml_path,
                    "token": place.token(),
                });
                tokens.push(with(
                    row,
                    match self.tokens.get(&place.key) {
                        Some(TokenStatus::Resolved) | None => json!({ "status": "ok" }),
                        Some(TokenStatus::Broken(e)) => {
                            with(json!({ "status": "broken" }), error_fields(e))
                        }
                        Some(TokenStatus::Skipped { backend }) => {
                            json!({ "status": "skipped", "backend": backend })
                        }
                    },
                ));
            }
            for suspect in &scan.suspects {
                tokens.push(json!({
                    "file": name,
                    "yaml_path": suspect.yaml_path,
                    "status": "mistyped",
                    "error": suspect.problem,
                    "exit_code": exit_codes::USAGE,
                }));
            }
        }
        json!({
            "config": {
                "file": config.display().to_string(),
                "backends": document.secrets.backends.len(),
                "load_declarations": document.secrets.load.len(),
                "cache": document.secrets.cache_enabled,
            },
            "backends": backends,
            "declarations": declarations,
            "files": files,
            "tokens": tokens,
            "ok": code == exit_codes::SUCCESS,
            "exit_code": code,
        })
    }
}

/// The word for a backend whose check failed: the kind of failure its
/// error names (`unreachable`, `denied`, `misconfigured`, `missing grant`,
/// `failed`).
fn backend_word(e: &Error) -> &'static str {
    match e {
        Error::Backend { problem, .. } => problem.as_str(),
        _ => BackendProblem::Failed.as_str(),
    }
}

/// `word` in capitals, as the report marks problems.
fn shout(word: &str) -> String {
    word.to_ascii_uppercase()
}

/// What to print after a backend's status word: a backend error's own
/// reason (its backend and kind are on the line already), else the whole
/// error.
fn reason_of(e: &Error) -> String {
    match e {
        Error::Backend { reason, .. } => reason.clone(),
        other => with_causes(other),
    }
}

/// `error` (the whole story) and `exit_code` of one problem.
fn error_fields(e: &Error) -> Value {
    json!({
        "error": with_causes(e),
        "exit_code": exit_codes::for_kind(e.kind()),
    })
}

/// `object` with the entries of `more` added after its own (a field that
/// is in both keeps its place and takes `more`'s value).
fn with(mut object: Value, more: Value) -> Value {
    if let (Some(object), Value::Object(more)) = (object.as_object_mut(), more) {
        object.extend(more);
    }
    object
}
