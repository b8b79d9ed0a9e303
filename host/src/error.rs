//! The one error type of the secrets subsystem.
//!
//! Every failure is an [`Error`]; [`Error::kind`] gives callers (and the CLI's
//! exit codes) a machine-checkable [`ErrorKind`]. Messages name files,
//! backends, keys, variables and YAML paths so a user can act on them. They
//! never contain a secret value: the variants hold only names and reasons
//! that were written without access to a value.

use std::path::PathBuf;

use crate::secrets_provider::BackendProblem;

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
    #[error(
        "secret {key:?} not found in backend {backend:?}{}",
        not_found_detail(key, full_name)
    )]
    NotFound {
        /// The backend asked.
        backend: String,
        /// The logical name asked for.
        key: String,
        /// The name the backend was asked for: `key` with the backend's
        /// prefix in front.
        full_name: String,
    },

    /// A key named a backend that is not configured.
    #[error(
        "unknown backend {backend:?} in key {key:?} ({})",
        configured_list(configured)
    )]
    UnknownBackend {
        /// The backend named in the key.
        backend: String,
        /// The whole key.
        key: String,
        /// The backends that are configured, sorted.
        configured: Vec<String>,
    },

    /// A backend failed to serve a request.
    #[error("backend {backend:?} {}{}: {reason}", problem_words(*problem), key.as_ref().map(|k| format!(" for {k:?}")).unwrap_or_default())]
    Backend {
        /// The backend that failed.
        backend: String,
        /// The logical name being served, when the failure concerns one.
        key: Option<String>,
        /// What kind of failure it was.
        problem: BackendProblem,
        /// What went wrong, without any secret value.
        reason: String,
    },

    /// A binary secret that is not UTF-8 text was asked for as text (in a
    /// token, an environment variable, a text-only interface).
    #[error(
        "secret {key:?} holds {len} bytes of binary data that are not UTF-8 text, and cannot be used as text"
    )]
    NotText {
        /// The secret's key.
        key: String,
        /// How many bytes it holds.
        len: usize,
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
            | Error::InvalidGrant { .. }
            | Error::NotText { .. } => ErrorKind::Usage,
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

/// What a not-found message adds after the logical name: the full name
/// looked up when a prefix made it different, and a hint when the name
/// looks like a glob or repeats the prefix.
fn not_found_detail(key: &str, full_name: &str) -> String {
    let mut detail = String::new();
    if full_name != key {
        detail.push_str(&format!(" (looked up as {full_name:?}"));
        let prefix = full_name.strip_suffix(key).unwrap_or_default();
        if !prefix.is_empty() && key.starts_with(prefix) {
            detail.push_str(&format!(
                "; the backend puts its prefix {prefix:?} in front itself: ask for {:?}",
                &key[prefix.len()..]
            ));
        }
        detail.push(')');
    }
    if key.contains(['*', '?', '[']) {
        detail.push_str(
            "; a key names one secret, not a glob: list the names a glob matches with `list`",
        );
    }
    detail
}

/// `configured backends: a, b` (or that there are none).
fn configured_list(configured: &[String]) -> String {
    if configured.is_empty() {
        "no backend is configured".to_owned()
    } else {
        format!("configured backends: {}", configured.join(", "))
    }
}

/// `failed`, or `failed (unreachable)` and the like.
fn problem_words(problem: BackendProblem) -> String {
    match problem {
        BackendProblem::Failed => "failed".to_owned(),
        other => format!("failed ({other})"),
    }
}

/// Why a `load` declaration failed ([`Error::Load`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadProblem {
    /// The declaration names a backend that is not configured.
    #[error("unknown backend {backend:?} ({})", configured_list(configured))]
    UnknownBackend {
        /// The backend named.
        backend: String,
        /// The backends that are configured, sorted.
        configured: Vec<String>,
    },
    /// The backend could not list the matching secrets (its error is the
    /// [`Error::Load`]'s source).
    #[error("cannot list its secrets")]
    CannotList,
    /// An exact name that the backend does not have.
    #[error("backend {backend:?} has no secret {full_name:?}")]
    NoSuchSecret {
        /// The backend asked.
        backend: String,
        /// The name the backend was asked for (its prefix in front).
        full_name: String,
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
            configured: vec!["env".into(), "local".into()],
        };
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(
            e.to_string(),
            r#"unknown backend "nope" in key "nope:x" (configured backends: env, local)"#
        );
    }

    #[test]
    fn token_error_takes_the_kind_of_its_cause() {
        let e = Error::Token {
            token: "${secret://env:X}".into(),
            yaml_path: "services.a.b".into(),
            source: Box::new(Error::NotFound {
                backend: "env".into(),
                key: "X".into(),
                full_name: "X".into(),
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

    fn not_found(key: &str, full_name: &str) -> String {
        Error::NotFound {
            backend: "local".into(),
            key: key.into(),
            full_name: full_name.into(),
        }
        .to_string()
    }

    #[test]
    fn not_found_names_the_full_name_and_hints() {
        assert_eq!(
            not_found("db", "db"),
            r#"secret "db" not found in backend "local""#
        );
        assert_eq!(
            not_found("binance", "production/binance"),
            r#"secret "binance" not found in backend "local" (looked up as "production/binance")"#
        );
        assert!(
            not_found("production/binance", "production/production/binance")
                .contains(r#"puts its prefix "production/" in front itself: ask for "binance""#)
        );
        assert!(not_found("db_*", "db_*").contains("not a glob"));
    }
}
