//! The commands, one type each with one `run`, and what they share:
//! finding the config and building the manager from it.

mod check;
mod completions;
mod export;
mod get;
mod list;
mod load;
mod man;
mod render;
mod run;
mod run_wasm;
mod schema;
mod test_provider;

use std::path::{Path, PathBuf};

use pp_secrets::{ConfigDocument, SecretsManager};

pub use check::Check;
pub use completions::Completions;
pub use export::Export;
pub use get::Get;
pub use list::List;
pub use load::Load;
pub use man::Man;
pub use render::Render;
pub use run::Run;
pub use run_wasm::RunWasm;
pub use schema::Schema;
pub use test_provider::TestProvider;

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
        Command::Export(command) => command.run(&config).await,
        Command::RunWasm(command) => command.run(&config).await,
        // These read no config.
        Command::Completions(command) => command.run(),
        Command::Man(command) => command.run(),
        Command::Schema(command) => command.run(),
        Command::TestProvider(command) => command.run().await,
    }
}

/// The config document, when its secrets subsystem is enabled.
fn document(config: &Path) -> Result<ConfigDocument, Failure> {
    let document = ConfigDocument::from_file(config)?;
    if !document.secrets.enabled {
        return Err(Failure::Disabled(disabled_reason(config, &document)));
    }
    Ok(document)
}

/// Why the subsystem of `document` is off: no `secrets:` section (perhaps
/// a misspelled one), or `enabled` not set.
fn disabled_reason(config: &Path, document: &ConfigDocument) -> String {
    let keys: Vec<&str> = document
        .tree
        .as_mapping()
        .map(|map| map.keys().filter_map(|k| k.as_str()).collect())
        .unwrap_or_default();
    if keys.contains(&"secrets") {
        return format!(
            "the secrets subsystem is disabled in {} (set secrets.enabled: true)",
            config.display()
        );
    }
    match keys.iter().find(|key| looks_like_secrets(key)) {
        Some(key) => format!(
            "{} has no `secrets:` section; did you mean `secrets:` where it says `{key}:`?",
            config.display()
        ),
        None => format!(
            "{} has no `secrets:` section (the README's \"Configuration reference\" shows one)",
            config.display()
        ),
    }
}

/// Whether a top-level key is probably `secrets` misspelled: the same
/// ignoring case, or at most two letters added, dropped or changed.
fn looks_like_secrets(key: &str) -> bool {
    key != "secrets" && edit_distance(&key.to_ascii_lowercase(), "secrets") <= 2
}

/// Levenshtein distance, for short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substituted = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substituted.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_of_secrets_are_caught() {
        for key in [
            "secret", "Secrets", "SECRETS", "secrest", "secretss", "secrets_",
        ] {
            assert!(looks_like_secrets(key), "{key}");
        }
        for key in ["secrets", "services", "app", "settings"] {
            assert!(!looks_like_secrets(key), "{key}");
        }
    }
}
