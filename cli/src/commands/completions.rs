//! `completions SHELL`: a completion script for the shell, generated from
//! the command line's definition (`args.rs`). Reads no config.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::args::Cli;
use crate::exit_codes;
use crate::failure::Failure;
use crate::output;

/// The arguments of `completions`.
#[derive(Debug, Args)]
pub struct Completions {
    /// The shell to complete for
    #[arg(value_enum)]
    shell: Shell,
}

impl Completions {
    /// Prints the script.
    pub fn run(self) -> Result<u8, Failure> {
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut Cli::command(), "pp-secrets", &mut script);
        output::raw(&String::from_utf8_lossy(&script));
        Ok(exit_codes::SUCCESS)
    }
}
