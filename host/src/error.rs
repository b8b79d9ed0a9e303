//! The one error type of the secrets subsystem.
//!
//! Every failure is an [`Error`]; [`Error::kind`] gives callers (and the CLI's
//! exit codes) a machine-checkable [`ErrorKind`]. Messages name files,
//! backends, keys, variables and YAML paths so a user can act on them. They
//! never contain a secret value: the variants hold only names and reasons
//! that were written without access to a value.

use std::path::PathBuf;

/// The kind of an [`Error`], for callers that branch on what went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The secret (or the backend named in a key) does not exist.
    NotFound,
    /// A backend failed: I/O, network, authentication, a missing file, a
    /// guest trap.
    Backend,
    /// The configuration is invalid: unknown field or type, missing field,
    /// unset variable.
    Config,
    /// A malformed request, such as a key without `backend:`.
    Usage,
    /// A sandboxed app asked for a key outside its allow-list.
    AccessDenied,
}

/// Where in a configuration file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigLocation {
    /// The file, when the configuration came from one.
    pub file: Option<PathBuf>,
    /// The YAML path inside the file, such as `secrets.backends.local.path`.
    pub yaml_path: String,
}

impl std::fmt::Display for ConfigLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.file, self.yaml_path.is_empty()) {
            (Some(file), false) => write!(f, "{}: {}", file.display(), self.yaml_path),
            (Some(file), true) => write!(f, "{}", file.display()),
            (None, false) => write!(f, "{}", self.yaml_path),
            (None, true) => f.write_str("configuration"),
        }
    }
}

/// An error of the secrets subsystem. See [`Error::kind`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The backend has no secret of that name.
    #[error("secret {key:?} not found in backend {backend:?}")]
    NotFound {
        /// The backend asked.
        backend: String,
        /// The logical name asked for.
        key: String,
    },

    /// A key named a backend that is not configured.
    #[error("unknown backend {backend:?} in key {key:?}")]
    UnknownBackend {
        /// The backend named in the key.
        backend: String,
        /// The whole key.
        key: String,
    },

    /// A backend failed to serve a request.
    #[error("backend {backend:?} failed{}: {reason}", key.as_ref().map(|k| format!(" for {k:?}")).unwrap_or_default())]
    Backend {
        /// The backend that failed.
        backend: String,
        /// The logical name being served, when the failure concerns one.
        key: Option<String>,
        /// What went wrong, without any secret value.
        reason: String,
    },

    /// A `load` declaration could not be served.
    #[error("load declaration {declaration:?}: {problem}")]
    Load {
        /// The declaration as written, `backend:pattern`.
        declaration: String,
        /// What went wrong.
        problem: LoadProblem,
        /// The backend's error behind it, when there is one.
        #[source]
        cause: Option<Box<Error>>,
    },

    /// The configuration is invalid.
    #[error("{location}: {message}")]
    Config {
        /// Where the problem is.
        location: ConfigLocation,
        /// What is wrong and, where it helps, how to fix it.
        message: String,
    },

    /// A configuration or secrets file could not be read.
    #[error("cannot read {}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },

    /// A `${secret://...}` token could not be resolved.
    #[error("cannot resolve {token} at {yaml_path}")]
    Token {
        /// The token as written.
        token: String,
        /// Where it was found, such as `services.my_service.api_key`.
        yaml_path: String,
        /// Why it could not be resolved.
        #[source]
        source: Box<Error>,
    },

    /// A glob (in a `list`, a `load` declaration or an allow-list) is
    /// malformed.
    #[error("cannot search backend {backend:?}")]
    InvalidPattern {
        /// The backend the glob was for.
        backend: String,
        /// What is wrong with the glob (it names the glob).
        #[source]
        source: pp_secrets_pattern::PatternError,
    },

    /// A key is not of the form `backend:name`.
    #[error("invalid key {key:?}: expected backend:name")]
    InvalidKey {
        /// The key as given.
        key: String,
    },

    /// A sandboxed app asked for a key outside its allow-list.
    #[error("access denied: {app} may not read {key:?}")]
    AccessDenied {
        /// The app that asked.
        app: String,
        /// The key it asked for.
        key: String,
    },

    /// A limit given in code or on the command line is out of range.
    #[error("{what} {value} is out of range: expected 1 to {max}")]
    InvalidLimit {
        /// The limit, such as `memory limit (MiB)`.
        what: String,
        /// The value given.
        value: u64,
        /// The largest value accepted.
        max: u64,
    },

    /// A grant given in code or on the command line is malformed.
    #[error("{grant} {problem}")]
    InvalidGrant {
        /// The grant, such as `host "example.com:x"`.
        grant: String,
        /// What is wrong with it.
        problem: String,
    },

    /// The blocking API's worker thread could not be started.
    #[error("cannot start the blocking API's worker thread")]
    BlockingWorker {
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },

    /// A call through the blocking API got no answer.
    #[error("blocking API: {problem}")]
    Blocking {
        /// What happened.
        problem: &'static str,
    },

    /// A Wasm app could not be loaded or did not run to its end: it
    /// trapped, ran out of time or memory, or is not a command component.
    #[error("app {app:?} failed: {reason}")]
    App {
        /// The app's name.
        app: String,
        /// What went wrong, without any secret value.
        reason: String,
    },
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. } | Error::UnknownBackend { .. } => ErrorKind::NotFound,
            Error::Backend { .. } | Error::BlockingWorker { .. } | Error::Blocking { .. } => {
                ErrorKind::Backend
            }
            Error::Load { problem, cause, .. } => match (problem, cause) {
                (LoadProblem::NoSuchSecret { .. }, _) => ErrorKind::NotFound,
                (LoadProblem::CannotList, Some(cause)) => cause.kind(),
                _ => ErrorKind::Backend,
            },
            Error::Config { .. } | Error::ReadFile { .. } => ErrorKind::Config,
            Error::Token { source, .. } => source.kind(),
            Error::InvalidKey { .. }
            | Error::InvalidPattern { .. }
            | Error::InvalidLimit { .. }
            | Error::InvalidGrant { .. } => ErrorKind::Usage,
            Error::App { .. } => ErrorKind::Backend,
            Error::AccessDenied { .. } => ErrorKind::AccessDenied,
        }
    }

    /// True for [`ErrorKind::NotFound`].
    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }

    /// A configuration error at `yaml_path` of `file`.
    pub(crate) fn config(
        file: Option<&std::path::Path>,
        yaml_path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::Config {
            location: ConfigLocation {
                file: file.map(std::path::Path::to_path_buf),
                yaml_path: yaml_path.into(),
            },
            message: message.into(),
        }
    }
}

/// Why a `load` declaration failed ([`Error::Load`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadProblem {
    /// The declaration names a backend that is not configured.
    #[error("unknown backend {backend:?}")]
    UnknownBackend {
        /// The backend named.
        backend: String,
    },
    /// The backend could not list the matching secrets (its error is the
    /// [`Error::Load`]'s source).
    #[error("cannot list its secrets")]
    CannotList,
    /// An exact name that the backend does not have.
    #[error("names a secret that does not exist")]
    NoSuchSecret {
        /// The backend asked.
        backend: String,
    },
    /// Every matching secret failed to load (each was logged).
    #[error("all {failed} secrets it matched failed to load")]
    AllFailed {
        /// How many failed.
        failed: usize,
    },
}

/// `error` and each of its causes, joined by `: `: the whole story of a
/// failure, for a person to read (an error's own message leaves its causes
/// to [`source`](std::error::Error::source)).
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_backend_is_a_not_found() {
        let e = Error::UnknownBackend {
            backend: "nope".into(),
            key: "nope:x".into(),
        };
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().contains("unknown backend"));
    }

    #[test]
    fn token_error_takes_the_kind_of_its_cause() {
        let e = Error::Token {
            token: "${secret://env:X}".into(),
            yaml_path: "services.a.b".into(),
            source: Box::new(Error::NotFound {
                backend: "env".into(),
                key: "X".into(),
            }),
        };
        assert_eq!(e.kind(), ErrorKind::NotFound);
        let msg = e.to_string();
        assert!(msg.contains("services.a.b") && msg.contains("${secret://env:X}"));
        let cause = std::error::Error::source(&e)
            .expect("has a cause")
            .to_string();
        assert!(cause.contains("not found"));
    }
}
