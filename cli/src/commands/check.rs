//! `check`: validate the config and every backend, and print a report.
//!
//! Unlike the other commands, `check` goes on after a problem so the report
//! is complete; it then exits with the code of the first problem.

use std::path::Path;

use clap::Args;

use crate::exit_codes;
use crate::failure::{Failure, with_causes};
use crate::output;

/// `check` (no arguments of its own).
#[derive(Debug, Args)]
pub struct Check {}

impl Check {
    /// Prints the report; the code of the first problem is the result.
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        let (document, manager) = super::open(config)?;
        let mut first_failure: Option<u8> = None;
        let mut note = |error: &pp_secrets::Error| {
            first_failure.get_or_insert(exit_codes::for_kind(error.kind()));
        };

        output::line(&format!(
            "config {}: ok ({} backends, {} load declarations, cache {})",
            config.display(),
            document.secrets.backends.len(),
            document.secrets.load.len(),
            if manager.cache_enabled() { "on" } else { "off" }
        ));
        output::line("backends:");
        for backend in &document.secrets.backends {
            let status = match manager.check_backend(&backend.name).await {
                Ok(()) => "reachable".to_owned(),
                Err(e) => {
                    note(&e);
                    format!("UNREACHABLE: {}", with_causes(&e))
                }
            };
            output::line(&format!(
                "  {} ({}): {status}",
                backend.name,
                backend.kind.type_name()
            ));
        }
        output::line("load declarations:");
        for declaration in manager.declarations() {
            let status = match manager.load_declaration(declaration).await {
                Ok(d) => super::load::counts(&d),
                Err(e) => {
                    note(&e);
                    format!("FAILED: {}", with_causes(&e))
                }
            };
            output::line(&format!("  {declaration}: {status}"));
        }
        Ok(first_failure.unwrap_or(exit_codes::SUCCESS))
    }
}
