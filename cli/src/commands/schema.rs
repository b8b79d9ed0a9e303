//! `schema`: the JSON Schema of a config file, for editors (see
//! `pp_secrets::config::config_schema`). Reads no config.

use clap::Args;

use crate::exit_codes;
use crate::failure::Failure;
use crate::output;

/// The arguments of `schema` (none).
#[derive(Debug, Args)]
pub struct Schema {}

impl Schema {
    /// Prints the schema, indented.
    pub fn run(self) -> Result<u8, Failure> {
        let schema = pp_secrets::config::config_schema();
        let text = serde_json::to_string_pretty(&schema)
            .map_err(|e| Failure::Usage(format!("cannot write the schema: {e}")))?;
        output::line(&text);
        Ok(exit_codes::SUCCESS)
    }
}
