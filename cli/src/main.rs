//! `pp-secrets`: the operator's command line for the secrets subsystem.
//!
//! Results go to stdout, diagnostics to stderr; the exit codes are in
//! `exit_codes`. Each command is a type in `commands/`; `args` is the
//! command line that selects one.

mod args;
mod commands;
mod exit_codes;
mod failure;
mod output;
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

/// Logs go to stderr; `RUST_LOG` wins over `-v`.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    // The Wasm compiler logs every instruction it emits at trace level
    // (seconds of output per component); `-v` flags leave it at warn.
    // RUST_LOG, when set, is taken as written.
    let default = format!(
        "{default},cranelift_codegen=warn,cranelift_frontend=warn,regalloc2=warn,\
         wasmtime_internal_cranelift=warn"
    );
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .init();
}
