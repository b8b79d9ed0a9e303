//! `get KEY [--raw] [--json]`: print one secret.

use std::path::Path;

use clap::Args;
use pp_secrets::SecretValue;

use crate::exit_codes;
use crate::failure::Failure;
use crate::output;

/// The arguments of `get`.
#[derive(Debug, Args)]
pub struct Get {
    /// The secret, as backend:name
    key: String,
    /// Print the backend's string as stored: no JSON parsing, no cache
    #[arg(long)]
    raw: bool,
    /// Print the value JSON-encoded (text as a JSON string)
    #[arg(long)]
    json: bool,
}

impl Get {
    /// Prints the secret.
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        let (_, manager) = super::open(config)?;
        let printed = if self.raw {
            let text = manager.get_raw(&self.key).await?;
            if self.json {
                SecretValue::Text(text).to_json()
            } else {
                text
            }
        } else {
            let value = manager.get(&self.key).await?;
            if self.json {
                value.to_json()
            } else {
                value.to_text()
            }
        };
        output::line(printed.expose());
        Ok(exit_codes::SUCCESS)
    }
}
