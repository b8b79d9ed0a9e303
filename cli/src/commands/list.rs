//! `list PATTERN [--json]`: logical names matching backend:glob, sorted.
//! A pattern that matches nothing is not an error (exit 0, nothing on
//! stdout but the JSON document with `--json`), but stderr says so.

use std::path::Path;

use clap::Args;
use pp_secrets::SecretKey;
use serde_json::json;

use crate::exit_codes;
use crate::failure::Failure;
use crate::output;

/// The arguments of `list`.
#[derive(Debug, Args)]
pub struct List {
    /// backend:glob
    pattern: String,
    /// Print one JSON document: {"pattern": ..., "names": [...]}
    #[arg(long)]
    json: bool,
}

impl List {
    /// Prints the matching names, one a line (or as JSON).
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        let (_, manager) = super::open(config)?;
        let names = manager.list(&self.pattern).await?;
        if names.is_empty() {
            // `list` accepted the pattern, so it has a colon.
            let (backend, glob) = SecretKey::parse(&self.pattern)
                .map(|key| (key.backend, key.name))
                .unwrap_or(("", self.pattern.as_str()));
            output::note(&format!(
                "no secret in backend {backend:?} matches {glob:?}"
            ));
        }
        if self.json {
            output::json(&json!({ "pattern": self.pattern, "names": names }));
        } else {
            for name in names {
                output::line(&name);
            }
        }
        Ok(exit_codes::SUCCESS)
    }
}
