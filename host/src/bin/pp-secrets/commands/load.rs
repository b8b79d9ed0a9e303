//! `load`: run the declarations and print counts per declaration.

use std::path::Path;

use pp_secrets::DeclarationReport;

use crate::failure::Failure;
use crate::output;

pub async fn run(config: &Path) -> Result<i32, Failure> {
    let (_, manager) = super::open(config)?;
    let report = manager.load().await?;
    for declaration in &report.declarations {
        output::line(&format!(
            "{}\t{}",
            declaration.declaration,
            counts(declaration)
        ));
    }
    Ok(0)
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
