//! The Wasm host's own errors, kept with their causes until an entry point
//! (loading or calling a provider, loading or running an app) turns one
//! into the public [`Error`](crate::Error) of the backend or app it
//! concerns, worded with its causes ([`HostError::report`]).

use std::path::PathBuf;
use std::sync::Arc;

/// Why the host could not start, link or set up a guest.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HostError {
    /// wasmtime's engine could not be made.
    #[error("cannot start wasmtime")]
    Engine(#[source] wasmtime::Error),
    /// The thread that ends calls at their time limit could not start.
    #[error("cannot start the Wasm epoch thread")]
    EpochThread(#[source] std::io::Error),
    /// An interface could not be added to a host's linker.
    #[error("cannot link {what}")]
    Link {
        /// The interface ("WASI", "the manager interface").
        what: &'static str,
        /// wasmtime's reason.
        #[source]
        source: wasmtime::Error,
    },
    /// The thread building a linker panicked.
    #[error("building the Wasm linker panicked")]
    LinkerPanicked,
    /// A granted directory failed its check when the instance was made.
    #[error("granted directory {} {problem}", dir.display())]
    Grant {
        /// The directory.
        dir: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// A granted directory's path cannot be given to a guest.
    #[error("granted directory {} is not valid UTF-8", dir.display())]
    GrantNotUtf8 {
        /// The directory.
        dir: PathBuf,
    },
    /// A granted directory could not be opened for the guest.
    #[error("cannot open granted directory {}", dir.display())]
    OpenGrant {
        /// The directory.
        dir: PathBuf,
        /// wasmtime's reason.
        #[source]
        source: wasmtime::Error,
    },
    /// Setting up the sandbox on the blocking pool failed.
    #[error("cannot set up the sandbox")]
    Setup(#[source] tokio::task::JoinError),
    /// The handle table's share does not fit the memory limit.
    #[error(
        "limits.handles ({handles}) takes {table_kib} KiB of limits.memory_mb ({memory_mb} MiB): \
         raise memory_mb or lower handles"
    )]
    TableTooLarge {
        /// `limits.handles`.
        handles: usize,
        /// What the table reserves.
        table_kib: usize,
        /// `limits.memory_mb`.
        memory_mb: u64,
    },
    /// A TLS file could not be read.
    #[error("cannot read {field} {}", file.display())]
    TlsRead {
        /// The setting (`tls.ca_file`, ...).
        field: &'static str,
        /// The file.
        file: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A TLS file is not PEM.
    #[error("{field} {} is not valid PEM", file.display())]
    TlsNotPem {
        /// The setting.
        field: &'static str,
        /// The file.
        file: PathBuf,
        /// The parser's reason.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// A certificate file holds no certificate.
    #[error("{field} {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)", file.display())]
    TlsNoCertificate {
        /// The setting.
        field: &'static str,
        /// The file.
        file: PathBuf,
    },
    /// The client key file holds no key.
    #[error(
        "tls.client_key {} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)",
        file.display()
    )]
    TlsNoKey {
        /// The file.
        file: PathBuf,
    },
    /// A certificate of the CA bundle cannot be a trust anchor.
    #[error("tls.ca_file {}: a certificate cannot be used as a CA", file.display())]
    TlsBadCa {
        /// The bundle.
        file: PathBuf,
        /// rustls's reason.
        #[source]
        source: rustls::Error,
    },
    /// The client key is not the client certificate's.
    #[error("tls.client_key does not fit tls.client_cert")]
    TlsKeyMismatch(#[source] rustls::Error),
    /// The crypto back-end cannot make a TLS configuration.
    #[error("the TLS crypto provider cannot be used")]
    TlsCrypto(#[source] rustls::Error),
    /// An error made once and shared by every later caller (the engine,
    /// a linker).
    #[error(transparent)]
    Shared(Arc<HostError>),
}

impl HostError {
    /// The error and its causes, joined by `: `, for the public error's
    /// reason.
    pub(crate) fn report(&self) -> String {
        crate::error::with_causes(self)
    }
}
