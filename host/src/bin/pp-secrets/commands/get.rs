//! `get KEY [--raw] [--json]`: print one secret.

use std::path::Path;

use pp_secrets::SecretValue;

use crate::failure::Failure;
use crate::output;

pub async fn run(config: &Path, key: &str, raw: bool, json: bool) -> Result<i32, Failure> {
    let (_, manager) = super::open(config)?;
    let printed = if raw {
        let text = manager.get_raw(key).await?;
        if json {
            SecretValue::Text(text).to_json()
        } else {
            text
        }
    } else {
        let value = manager.get(key).await?;
        if json {
            value.to_json()
        } else {
            value.to_text()
        }
    };
    output::line(printed.expose());
    Ok(0)
}
