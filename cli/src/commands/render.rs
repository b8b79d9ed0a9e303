//! `render [FILE]`: print FILE (default: the config) as YAML, `${VAR}`
//! expanded and `${secret://...}` tokens resolved.

use std::path::{Path, PathBuf};

use clap::Args;
use pp_secrets::{render_file, resolve_tokens};
use zeroize::Zeroizing;

use crate::exit_codes;
use crate::failure::Failure;
use crate::output;

/// The arguments of `render`.
#[derive(Debug, Args)]
pub struct Render {
    /// The file to render [default: the config itself]
    file: Option<PathBuf>,
}

impl Render {
    /// Prints the rendered file.
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        let (document, manager) = super::start(config).await?;
        let tree = match &self.file {
            Some(file) => render_file(file, &manager).await?,
            None => {
                let mut tree = document.tree;
                resolve_tokens(&mut tree, &manager).await?;
                tree
            }
        };
        // The text holds the resolved secrets: wiped once printed.
        let yaml = serde_yaml::to_string(&*tree)
            .map(Zeroizing::new)
            .map_err(|e| Failure::Usage(format!("cannot print the result as YAML: {e}")))?;
        output::raw(&yaml);
        Ok(exit_codes::SUCCESS)
    }
}
