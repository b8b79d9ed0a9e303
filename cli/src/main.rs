//! `pp-secrets`: the operator's command line for the secrets subsystem.
//!
//! Results go to stdout, diagnostics to stderr; the exit codes are in
//! `exit_codes`. Each command is a type in `commands/`; `args` is the
//! command line that selects one.

mod args;
mod atomic_file;
mod commands;
mod exit_codes;
mod failure;
mod output;
mod secret_env;
mod supervisor;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use args::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("pp-secrets: cannot start the async runtime: {e}");
            return ExitCode::from(exit_codes::BACKEND);
        }
    };
    let code = match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("pp-secrets: {failure}");
            failure.exit_code()
        }
    };
    // Not waiting for the blocking pool: a guest's read on a filesystem
    // that stopped answering may still hold one of its threads after the
    // call timed out, and must not hold the process too.
    runtime.shutdown_background();
    ExitCode::from(code)
}

/// Logs go to stderr; `RUST_LOG` wins over `-v`. The flags raise this
/// project's logs only (the library's and the command line's, both
/// `pp_secrets`); its dependencies stay at warnings unless `RUST_LOG` asks
/// for more.
fn init_logging(verbose: u8) {
    let ours = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,pp_secrets={ours}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .init();
}
