//! The commands, one module each, and what they share: finding the config
//! and building the manager from it.

mod check;
mod get;
mod list;
mod load;
mod render;
mod run;
mod run_wasm;

use std::path::{Path, PathBuf};

use pp_secrets::{ConfigDocument, SecretsManager};

use crate::args::{Cli, Command};
use crate::failure::Failure;

/// Runs the parsed command line; the result is the exit code.
pub async fn run(cli: Cli) -> Result<i32, Failure> {
    let config = cli.config.unwrap_or_else(|| PathBuf::from("config.yaml"));
    match cli.command {
        Command::Get { key, raw, json } => get::run(&config, &key, raw, json).await,
        Command::List { pattern } => list::run(&config, &pattern).await,
        Command::Load => load::run(&config).await,
        Command::Render { file } => render::run(&config, file.as_deref()).await,
        Command::Run { env, command } => run::run(&config, &env, &command).await,
        Command::Check => check::run(&config).await,
        Command::RunWasm(request) => run_wasm::run(&config, request).await,
    }
}

/// The config document and its manager, without running `load` (for the
/// on-demand commands `get` and `list`).
fn open(config: &Path) -> Result<(ConfigDocument, SecretsManager), Failure> {
    let document = ConfigDocument::from_file(config)?;
    match SecretsManager::from_document(&document)? {
        Some(manager) => Ok((document, manager)),
        None => Err(Failure::Disabled(format!(
            "the secrets subsystem is disabled in {} (set secrets.enabled: true)",
            config.display()
        ))),
    }
}

/// The manager started as an application starts it: built, then the `load`
/// declarations run (a failing declaration fails the command).
async fn start(config: &Path) -> Result<(ConfigDocument, SecretsManager), Failure> {
    let (document, manager) = open(config)?;
    manager.load().await?;
    Ok((document, manager))
}
