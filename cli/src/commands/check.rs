//! `check [--json]`: validate the config and every backend, and print a
//! report.
//!
//! Unlike the other commands, `check` goes on after a problem so the report
//! is complete: a backend that cannot be built (a Wasm component missing or
//! invalid) is reported and the others are still checked; a declaration on
//! such a backend is reported as skipped. It then exits with the code of the
//! first problem.

use std::path::Path;

use clap::Args;
use pp_secrets::config::duration_text;
use pp_secrets::{ConfigDocument, Error, SecretKey, SecretsManager};
use serde_json::{Value, json};

use crate::exit_codes;
use crate::failure::{Failure, with_causes};
use crate::output;

/// The arguments of `check`.
#[derive(Debug, Args)]
pub struct Check {
    /// Print one JSON document (the README's "JSON output")
    #[arg(long)]
    json: bool,
}

/// What was found for one backend.
enum BackendStatus {
    Reachable,
    /// Built, but its source could not be reached or read.
    Unreachable(Error),
    /// Its provider could not be built.
    NotLoaded(Error),
}

/// What was found for one declaration.
enum DeclarationStatus {
    Loaded(pp_secrets::DeclarationReport),
    Failed(Error),
    /// Its backend could not be built.
    Skipped {
        backend: String,
    },
}

impl Check {
    /// Prints the report; the code of the first problem is the result.
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        let document = super::document(config)?;
        let section = &document.secrets;
        let mut builder = SecretsManager::builder().cache_enabled(section.cache_enabled);
        let mut built = Vec::new();
        let mut not_loaded = Vec::new();
        for backend in &section.backends {
            match backend.provider(section) {
                Ok(provider) => {
                    builder = builder.shared_backend(&backend.name, &backend.prefix, provider);
                    built.push(backend.name.as_str());
                }
                Err(e) => not_loaded.push((backend.name.as_str(), e)),
            }
        }
        for declaration in &section.load {
            builder = builder.load(declaration);
        }
        let manager = builder.build()?;

        let mut backends = Vec::new();
        for backend in &section.backends {
            let status = match not_loaded.iter().position(|(n, _)| *n == backend.name) {
                Some(i) => BackendStatus::NotLoaded(not_loaded.swap_remove(i).1),
                None => match manager.check_backend(&backend.name).await {
                    Ok(()) => BackendStatus::Reachable,
                    Err(e) => BackendStatus::Unreachable(e),
                },
            };
            backends.push((backend, status));
        }
        let mut declarations = Vec::new();
        for declaration in manager.declarations() {
            let backend = SecretKey::parse(declaration)
                .map(|key| key.backend)
                .unwrap_or_default();
            let status = if !built.contains(&backend)
                && section.backends.iter().any(|b| b.name == backend)
            {
                DeclarationStatus::Skipped {
                    backend: backend.to_owned(),
                }
            } else {
                match manager.load_declaration(declaration).await {
                    Ok(report) => DeclarationStatus::Loaded(report),
                    Err(e) => DeclarationStatus::Failed(e),
                }
            };
            declarations.push((declaration.as_str(), status));
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

        // The code of the first problem in the order the report lists them.
        let code = backends
            .iter()
            .filter_map(|(_, status)| match status {
                BackendStatus::Reachable => None,
                BackendStatus::Unreachable(e) | BackendStatus::NotLoaded(e) => Some(e),
            })
            .chain(declarations.iter().filter_map(|(_, status)| match status {
                DeclarationStatus::Failed(e) => Some(e),
                _ => None,
            }))
            .chain(
                refreshes
                    .iter()
                    .filter_map(|(_, outcome)| outcome.as_ref().err()),
            )
            .map(|e| exit_codes::for_kind(e.kind()))
            .next()
            .unwrap_or(exit_codes::SUCCESS);
        if self.json {
            output::json(&as_json(
                config,
                &document,
                &backends,
                &declarations,
                &refreshes,
                code,
            ));
        } else {
            print_text(config, &document, &backends, &declarations, &refreshes);
        }
        Ok(code)
    }
}

type BackendRows<'a> = [(&'a pp_secrets::config::BackendConfig, BackendStatus)];

/// Each refreshed backend's trial pass.
type RefreshRows<'a> = [(&'a str, Result<(), Error>)];

fn print_text(
    config: &Path,
    document: &ConfigDocument,
    backends: &BackendRows<'_>,
    declarations: &[(&str, DeclarationStatus)],
    refreshes: &RefreshRows<'_>,
) {
    output::line(&format!(
        "config {}: ok ({} backends, {} load declarations, cache {})",
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
    for (backend, status) in backends {
        let status = match status {
            BackendStatus::Reachable => "reachable".to_owned(),
            BackendStatus::Unreachable(e) => format!("UNREACHABLE: {}", with_causes(e)),
            BackendStatus::NotLoaded(e) => format!("NOT LOADED: {}", with_causes(e)),
        };
        output::line(&format!(
            "  {} ({}): {status}",
            backend.name,
            backend.kind.type_name()
        ));
    }
    output::line("load declarations:");
    for (declaration, status) in declarations {
        let status = match status {
            DeclarationStatus::Loaded(report) => super::load::counts(report),
            DeclarationStatus::Failed(e) => format!("FAILED: {}", with_causes(e)),
            DeclarationStatus::Skipped { backend } => {
                format!("skipped: backend {backend:?} is not loaded")
            }
        };
        output::line(&format!("  {declaration}: {status}"));
    }
    if refreshes.is_empty() {
        return;
    }
    output::line("refresh:");
    for (name, outcome) in refreshes {
        let settings = backends
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

fn as_json(
    config: &Path,
    document: &ConfigDocument,
    backends: &BackendRows<'_>,
    declarations: &[(&str, DeclarationStatus)],
    refreshes: &RefreshRows<'_>,
    code: u8,
) -> Value {
    let problem = |status: &str, e: &Error| {
        json!({
            "status": status,
            "error": with_causes(e),
            "exit_code": exit_codes::for_kind(e.kind()),
        })
    };
    let backends: Vec<Value> = backends
        .iter()
        .map(|(backend, status)| {
            let refresh = backend.refresh.map(|r| {
                let settings = json!({
                    "every": duration_text(r.every),
                    "max_stale": duration_text(r.max_stale),
                });
                let check = match refreshes.iter().find(|(n, _)| *n == backend.name) {
                    Some((_, Ok(()))) => json!({ "check": "ok" }),
                    Some((_, Err(e))) => json!({
                        "check": "failed",
                        "error": with_causes(e),
                        "exit_code": exit_codes::for_kind(e.kind()),
                    }),
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
                    BackendStatus::Unreachable(e) => problem("unreachable", e),
                    BackendStatus::NotLoaded(e) => problem("not_loaded", e),
                },
            )
        })
        .collect();
    let declarations: Vec<Value> = declarations
        .iter()
        .map(|(declaration, status)| {
            let row = json!({ "declaration": declaration });
            with(
                row,
                match status {
                    DeclarationStatus::Loaded(report) => with(
                        json!({ "status": "loaded" }),
                        super::load::counts_json(report),
                    ),
                    DeclarationStatus::Failed(e) => problem("failed", e),
                    DeclarationStatus::Skipped { backend } => {
                        json!({ "status": "skipped", "backend": backend })
                    }
                },
            )
        })
        .collect();
    json!({
        "config": {
            "file": config.display().to_string(),
            "backends": document.secrets.backends.len(),
            "load_declarations": document.secrets.load.len(),
            "cache": document.secrets.cache_enabled,
        },
        "backends": backends,
        "declarations": declarations,
        "ok": code == exit_codes::SUCCESS,
        "exit_code": code,
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
