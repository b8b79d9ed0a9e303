//! `load [--json]`: run the declarations and print counts per declaration.
//! A secret that matched and could not be read makes the exit code a
//! backend error (3), after the whole report is printed: an application
//! starts with it missing, an operator checking the config must hear of
//! it.

use std::path::Path;

use clap::Args;
use pp_secrets::DeclarationReport;
use serde_json::{Value, json};

use crate::exit_codes;
use crate::failure::Failure;
use crate::output;

/// The arguments of `load`.
#[derive(Debug, Args)]
pub struct Load {
    /// Print one JSON document: {"declarations": [...], "loaded": N, "failed": N}
    #[arg(long)]
    json: bool,
}

impl Load {
    /// Runs the declarations and prints what each loaded.
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        let (_, manager) = super::open(config)?;
        let report = manager.load().await?;
        if self.json {
            output::json(&json!({
                "declarations": report.declarations.iter().map(counts_json).collect::<Vec<_>>(),
                "loaded": report.loaded(),
                "failed": report.declarations.iter().map(|d| d.failed.len()).sum::<usize>(),
            }));
        } else {
            for declaration in &report.declarations {
                output::line(&format!(
                    "{}\t{}",
                    declaration.declaration,
                    counts(declaration)
                ));
            }
        }
        if report.declarations.iter().any(|d| !d.failed.is_empty()) {
            return Ok(exit_codes::BACKEND);
        }
        Ok(exit_codes::SUCCESS)
    }
}

/// `N matched, N loaded[, M failed (names)]` for one declaration.
pub fn counts(d: &DeclarationReport) -> String {
    let mut line = format!("{} matched, {} loaded", d.matched, d.loaded);
    if !d.failed.is_empty() {
        line.push_str(&format!(
            ", {} failed ({})",
            d.failed.len(),
            d.failed.join(", ")
        ));
    }
    line
}

/// One declaration's counts as a JSON object (the README's "JSON output").
pub fn counts_json(d: &DeclarationReport) -> Value {
    json!({
        "declaration": d.declaration,
        "matched": d.matched,
        "loaded": d.loaded,
        "failed": d.failed,
    })
}
