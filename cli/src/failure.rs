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
    /// `run` was stopped by a signal before its command started (`code` is
    /// 128 + N).
    Stopped {
        /// The exit code.
        code: u8,
        /// What happened.
        message: String,
    },
    /// `run`'s command could not be started; `code` says why (126, 127).
    CannotStart {
        /// The exit code.
        code: u8,
        /// What went wrong.
        message: String,
    },
}

impl Failure {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Secrets(e) => exit_codes::for_kind(e.kind()),
            Failure::Usage(_) | Failure::Disabled(_) => exit_codes::USAGE,
            Failure::CannotStart { code, .. } | Failure::Stopped { code, .. } => *code,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Secrets(e) => f.write_str(&with_causes(e)),
            Failure::Usage(m)
            | Failure::Disabled(m)
            | Failure::CannotStart { message: m, .. }
            | Failure::Stopped { message: m, .. } => f.write_str(m),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Secrets(e)
    }
}
