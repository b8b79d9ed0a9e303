//! `man [COMMAND] [--dir DIR]`: the man pages (roff) of `pp-secrets` and
//! of each of its commands (`pp-secrets-get(1)`, which the main page
//! refers to), generated from the command line's definition (`args.rs`).
//! Reads no config.

use std::path::PathBuf;

use clap::{Args, CommandFactory};

use crate::args::Cli;
use crate::exit_codes;
use crate::failure::Failure;
use crate::output;

/// The arguments of `man`.
#[derive(Debug, Args)]
pub struct Man {
    /// A command, for its own page (pp-secrets-COMMAND(1))
    command: Option<String>,
    /// Write the pages into DIR as NAME.1 (every page without COMMAND)
    /// instead of printing one
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

impl Man {
    /// Prints the page, or writes the pages.
    pub fn run(self) -> Result<u8, Failure> {
        let mut cli = Cli::command().disable_help_subcommand(true);
        // Built, so that each command's display name is `pp-secrets-NAME`.
        cli.build();
        let pages: Vec<clap::Command> = match &self.command {
            Some(name) => vec![
                cli.get_subcommands()
                    .find(|command| command.get_name() == name)
                    .cloned()
                    .ok_or_else(|| {
                        Failure::Usage(format!(
                            "no command {name:?} (commands: {})",
                            cli.get_subcommands()
                                .map(|c| c.get_name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?,
            ],
            None if self.dir.is_some() => std::iter::once(cli.clone())
                .chain(cli.get_subcommands().cloned())
                .collect(),
            None => vec![cli],
        };
        for page in pages {
            let man = clap_mangen::Man::new(page)
                .source(concat!("pp-secrets ", env!("CARGO_PKG_VERSION")));
            let mut roff = Vec::new();
            man.render(&mut roff)
                .map_err(|e| Failure::Usage(format!("cannot write the man page: {e}")))?;
            match &self.dir {
                None => output::raw(&String::from_utf8_lossy(&roff)),
                Some(dir) => {
                    let file = dir.join(man.get_filename());
                    std::fs::write(&file, &roff).map_err(|e| {
                        Failure::Usage(format!("cannot write {}: {e}", file.display()))
                    })?;
                }
            }
        }
        Ok(exit_codes::SUCCESS)
    }
}
