//! `get KEY [--raw] [--json]`: print one secret.

use std::path::Path;

use clap::Args;
use pp_secrets::{SecretValue, StoredValue};

use crate::exit_codes;
use crate::failure::Failure;
use crate::output;

/// The arguments of `get`.
#[derive(Debug, Args)]
pub struct Get {
    /// The secret, as backend:name
    key: String,
    /// Print the backend's value as stored: no JSON parsing, no cache
    #[arg(long)]
    raw: bool,
    /// Print the value JSON-encoded (text as a JSON string, binary data as
    /// {"base64": ...})
    #[arg(long)]
    json: bool,
}

impl Get {
    /// Prints the secret: text and objects with a newline, binary data as
    /// the bytes it is (no newline added).
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        let (_, manager) = super::open(config)?;
        let value = if self.raw {
            match manager.get_raw(&self.key).await? {
                StoredValue::Text(text) => SecretValue::Text(text),
                StoredValue::Bytes(bytes) => SecretValue::Bytes(bytes),
            }
        } else {
            manager.get(&self.key).await?
        };
        if self.json {
            output::line(value.to_json().expose());
            return Ok(exit_codes::SUCCESS);
        }
        match &value {
            SecretValue::Bytes(bytes) => output::bytes(bytes.expose()),
            value => {
                if let Some(text) = value.to_text() {
                    output::line(text.expose());
                }
            }
        }
        Ok(exit_codes::SUCCESS)
    }
}
