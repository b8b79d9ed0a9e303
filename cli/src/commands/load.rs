//! `load`: run the declarations and print counts per declaration.

use std::path::Path;

use clap::Args;
use pp_secrets::DeclarationReport;

use crate::exit_codes;
use crate::failure::Failure;
use crate::output;

/// `load` (no arguments of its own).
#[derive(Debug, Args)]
pub struct Load {}

impl Load {
    /// Runs the declarations and prints what each loaded.
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        let (_, manager) = super::open(config)?;
        let report = manager.load().await?;
        for declaration in &report.declarations {
            output::line(&format!(
                "{}\t{}",
                declaration.declaration,
                counts(declaration)
            ));
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
