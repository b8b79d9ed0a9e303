//! Failures of a command and their exit codes.

use std::fmt;

use pp_secrets::Error;

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// A library error; its kind gives the exit code.
    Secrets(Error),
    /// Bad arguments (exit 2).
    Usage(String),
    /// `secrets.enabled` is false (exit 2).
    Disabled(String),
    /// A child process could not be started (exit 127, as a shell does).
    Spawn(String),
}

impl Failure {
    /// The process exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Secrets(e) => e.kind().exit_code(),
            Failure::Usage(_) | Failure::Disabled(_) => 2,
            Failure::Spawn(_) => 127,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Secrets(e) => {
                write!(f, "{e}")?;
                let mut source = std::error::Error::source(e);
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
            Failure::Usage(m) | Failure::Disabled(m) | Failure::Spawn(m) => f.write_str(m),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Secrets(e)
    }
}
