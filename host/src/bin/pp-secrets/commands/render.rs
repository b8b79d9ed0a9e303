//! `render [FILE]`: print FILE (default: the config) as YAML, `${VAR}`
//! expanded and `${secret://...}` tokens resolved.

use std::path::Path;

use pp_secrets::{config::read_yaml_file, resolve_tokens};

use crate::failure::Failure;
use crate::output;

pub async fn run(config: &Path, file: Option<&Path>) -> Result<i32, Failure> {
    let (document, manager) = super::start(config).await?;
    let mut tree = match file {
        Some(file) => read_yaml_file(file)?,
        None => document.tree,
    };
    resolve_tokens(&mut tree, &manager).await?;
    let yaml = serde_yaml::to_string(&tree)
        .map_err(|e| Failure::Usage(format!("cannot print the result as YAML: {e}")))?;
    output::raw(&yaml);
    Ok(0)
}
