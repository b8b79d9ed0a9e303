//! The commands, one type each with one `run`, and what they share:
//! finding the config and building the manager from it.

mod check;
mod get;
mod list;
mod load;
mod render;
mod run;
mod run_wasm;

use std::path::{Path, PathBuf};

use pp_secrets::{ConfigDocument, SecretsManager};

pub use check::Check;
pub use get::Get;
pub use list::List;
pub use load::Load;
pub use render::Render;
pub use run::Run;
pub use run_wasm::RunWasm;

use crate::args::{Cli, Command};
use crate::failure::Failure;

/// Runs the parsed command line; the result is the exit code.
pub async fn run(cli: Cli) -> Result<u8, Failure> {
    let config = cli.config.unwrap_or_else(|| PathBuf::from("config.yaml"));
    match cli.command {
        Command::Get(command) => command.run(&config).await,
        Command::List(command) => command.run(&config).await,
        Command::Load(command) => command.run(&config).await,
        Command::Render(command) => command.run(&config).await,
        Command::Run(command) => command.run(&config).await,
        Command::Check(command) => command.run(&config).await,
        Command::RunWasm(command) => command.run(&config).await,
    }
}

/// The config document, when its secrets subsystem is enabled.
fn document(config: &Path) -> Result<ConfigDocument, Failure> {
    let document = ConfigDocument::from_file(config)?;
    if !document.secrets.enabled {
        return Err(Failure::Disabled(format!(
            "the secrets subsystem is disabled in {} (set secrets.enabled: true)",
            config.display()
        )));
    }
    Ok(document)
}

/// The config document and its manager, without running `load` (for the
/// on-demand commands `get` and `list`).
fn open(config: &Path) -> Result<(ConfigDocument, SecretsManager), Failure> {
    let document = document(config)?;
    let manager = SecretsManager::from_config(&document.secrets)?;
    Ok((document, manager))
}

/// The manager started as an application starts it: built, then the `load`
/// declarations run (a failing declaration fails the command).
async fn start(config: &Path) -> Result<(ConfigDocument, SecretsManager), Failure> {
    let (document, manager) = open(config)?;
    manager.load().await?;
    Ok((document, manager))
}
