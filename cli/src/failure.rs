//! Failures of a command and their exit codes.

use std::fmt;

use pp_secrets::Error;
pub use pp_secrets::error::with_causes;

use crate::exit_codes;

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// A library error; its kind gives the exit code.
    Secrets(Error),
    /// Bad arguments.
    Usage(String),
    /// `secrets.enabled` is false (a usage error).
    Disabled(String),
    /// A child process could not be started.
    Spawn(String),
}

impl Failure {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Secrets(e) => exit_codes::for_kind(e.kind()),
            Failure::Usage(_) | Failure::Disabled(_) => exit_codes::USAGE,
            Failure::Spawn(_) => exit_codes::CANNOT_RUN,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Secrets(e) => f.write_str(&with_causes(e)),
            Failure::Usage(m) | Failure::Disabled(m) | Failure::Spawn(m) => f.write_str(m),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Secrets(e)
    }
}
