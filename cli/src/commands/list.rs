//! `list PATTERN`: logical names matching backend:glob, sorted.

use std::path::Path;

use clap::Args;

use crate::exit_codes;
use crate::failure::Failure;
use crate::output;

/// The arguments of `list`.
#[derive(Debug, Args)]
pub struct List {
    /// backend:glob
    pattern: String,
}

impl List {
    /// Prints the matching names, one a line.
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        let (_, manager) = super::open(config)?;
        for name in manager.list(&self.pattern).await? {
            output::line(&name);
        }
        Ok(exit_codes::SUCCESS)
    }
}
