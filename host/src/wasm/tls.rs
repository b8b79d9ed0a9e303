//! TLS for guests' outbound HTTPS: which certificates are trusted, which
//! client certificate is presented, and what a failed handshake means in
//! words.
//!
//! One crypto back-end serves the whole binary: aws-lc-rs, the one the AWS
//! SDK already uses, chosen here explicitly for every connection a guest
//! makes (never through rustls' process-wide default, which cannot choose
//! when two back-ends are compiled in). An embedder that installed its own
//! process default keeps it, and guests' connections use it too.
//!
//! Trusted by default: the system's roots (as `SSL_CERT_FILE` and
//! `SSL_CERT_DIR` may point them elsewhere); on a system without any, the
//! Mozilla roots compiled in. A backend's `tls.ca_file` (or an app's
//! `--ca-file`) adds a PEM bundle to those, for services signed by a
//! private CA; `tls.client_cert` with `tls.client_key` is presented to
//! servers that ask for a client certificate (mutual TLS).

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{CertificateError, ClientConfig, RootCertStore};
use wasmtime_wasi_http::Error as HttpError;
use zeroize::Zeroizing;

use crate::config::TlsSettings;
use crate::wasm::guest_text::escaped;
use crate::wasm::host_error::HostError;

/// How a guest's HTTPS connections are made: the process's defaults, or a
/// backend's (or app's) own trust and client certificate.
#[derive(Clone, Default)]
pub(crate) enum TlsClient {
    /// The system's roots, no client certificate (built on first use).
    #[default]
    Default,
    /// Built from `tls:` settings when the backend was loaded.
    Custom(Arc<ClientConfig>),
}

impl TlsClient {
    /// The client for `settings`: reads the CA bundle and the client
    /// certificate and key now, so that a missing or malformed file fails
    /// the load naming it, not the first request.
    pub(crate) fn from_settings(settings: &TlsSettings) -> Result<Self, HostError> {
        if settings.is_default() {
            return Ok(Self::Default);
        }
        let mut roots = system_roots().clone();
        if let Some(ca_file) = &settings.ca_file {
            let added = add_ca_bundle(&mut roots, ca_file)?;
            tracing::debug!(ca_file = %ca_file.display(), added, "CA bundle added");
        }
        let builder = config_builder()?.with_root_certificates(roots);
        let config = match (&settings.client_cert, &settings.client_key) {
            (Some(cert), Some(key)) => {
                let chain = read_certificates(cert, "tls.client_cert")?;
                let key = read_private_key(key)?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(HostError::TlsKeyMismatch)?
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(Self::Custom(Arc::new(config)))
    }

    /// The rustls configuration to connect with.
    pub(crate) fn config(&self) -> Result<Arc<ClientConfig>, HostError> {
        match self {
            Self::Custom(config) => Ok(Arc::clone(config)),
            Self::Default => {
                static DEFAULT: OnceLock<Result<Arc<ClientConfig>, Arc<HostError>>> =
                    OnceLock::new();
                DEFAULT
                    .get_or_init(|| {
                        let builder = config_builder().map_err(Arc::new)?;
                        Ok(Arc::new(
                            builder
                                .with_root_certificates(system_roots().clone())
                                .with_no_client_auth(),
                        ))
                    })
                    .clone()
                    .map_err(HostError::Shared)
            }
        }
    }
}

/// The crypto back-end of every guest connection, chosen once: the
/// process default when an embedder installed one, else aws-lc-rs.
fn crypto_provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    Arc::clone(PROVIDER.get_or_init(|| {
        CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
    }))
}

fn config_builder() -> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, HostError>
{
    ClientConfig::builder_with_provider(crypto_provider())
        .with_safe_default_protocol_versions()
        .map_err(HostError::TlsCrypto)
}

/// The system's trusted roots, read once; the compiled-in Mozilla roots
/// when the system has none.
fn system_roots() -> &'static RootCertStore {
    static ROOTS: OnceLock<RootCertStore> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        let mut roots = RootCertStore::empty();
        let (added, ignored) = roots.add_parsable_certificates(found.certs);
        if added == 0 {
            tracing::debug!(
                errors = found.errors.len(),
                "no system root certificates; using the compiled-in Mozilla roots"
            );
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        } else {
            tracing::debug!(added, ignored, "system root certificates loaded");
        }
        roots
    })
}

/// Adds every certificate of the PEM bundle `file` to `roots`; fails when
/// the file cannot be read or holds no certificate rustls accepts.
fn add_ca_bundle(roots: &mut RootCertStore, file: &Path) -> Result<usize, HostError> {
    let certs = read_certificates(file, "tls.ca_file")?;
    let mut added = 0;
    for cert in certs {
        roots.add(cert).map_err(|source| HostError::TlsBadCa {
            file: file.to_path_buf(),
            source,
        })?;
        added += 1;
    }
    Ok(added)
}

/// The certificates of the PEM file `file` (setting `field`), at least one.
fn read_certificates(
    file: &Path,
    field: &'static str,
) -> Result<Vec<CertificateDer<'static>>, HostError> {
    let bytes = std::fs::read(file).map_err(|source| HostError::TlsRead {
        field,
        file: file.to_path_buf(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| HostError::TlsNotPem {
            field,
            file: file.to_path_buf(),
            source,
        })?;
    if certs.is_empty() {
        return Err(HostError::TlsNoCertificate {
            field,
            file: file.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The private key of the PEM file `file` (`tls.client_key`). The file's
/// bytes are wiped once parsed; rustls wipes the key when it is dropped.
fn read_private_key(file: &Path) -> Result<PrivateKeyDer<'static>, HostError> {
    let bytes = Zeroizing::new(std::fs::read(file).map_err(|source| HostError::TlsRead {
        field: "tls.client_key",
        file: file.to_path_buf(),
        source,
    })?);
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| HostError::TlsNoKey {
        file: file.to_path_buf(),
    })
}

/// What went wrong with TLS, for the guest and for the operator.
pub(crate) struct TlsProblem {
    /// The wasi:http error the guest gets.
    pub(crate) code: HttpError,
    /// The host's account, in words an operator can act on.
    pub(crate) account: String,
}

/// The TLS failure somewhere in the chain of `error`, on the connection
/// to `server` (`host:port`) for the name `host`, if there is one.
pub(crate) fn tls_problem(
    error: &(dyn std::error::Error + 'static),
    server: &str,
    host: &str,
) -> Option<TlsProblem> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        let tls = error.downcast_ref::<rustls::Error>().or_else(|| {
            error
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if let Some(tls) = tls {
            return Some(described(tls, server, host));
        }
        cause = error.source();
    }
    None
}

fn described(error: &rustls::Error, server: &str, host: &str) -> TlsProblem {
    match error {
        rustls::Error::InvalidCertificate(problem) => TlsProblem {
            code: HttpError::TlsCertificateError,
            account: certificate_problem(problem, server, host),
        },
        rustls::Error::AlertReceived(alert) => TlsProblem {
            code: HttpError::TlsAlertReceived {
                alert_id: Some(u8::from(*alert)),
                alert_message: Some(format!("{alert:?}")),
            },
            account: format!(
                "{server} ended the TLS connection with the alert {alert:?} (if it asks \
                 for a client certificate, set tls.client_cert and tls.client_key)"
            ),
        },
        other => TlsProblem {
            code: HttpError::TlsProtocolError,
            account: format!("TLS with {server} failed: {other}"),
        },
    }
}

fn certificate_problem(problem: &CertificateError, server: &str, host: &str) -> String {
    let what = match problem {
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "has expired".to_owned()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "is not valid yet".to_owned()
        }
        CertificateError::NotValidForName => format!("is not valid for the name {host}"),
        CertificateError::NotValidForNameContext { presented, .. } => {
            let names: Vec<&str> = presented.iter().map(|name| bare_name(name)).collect();
            format!(
                "is not valid for the name {host} (it is for {})",
                escaped(&names.join(", "))
            )
        }
        CertificateError::UnknownIssuer => "is signed by an unknown certificate authority \
             (for a private CA, add it with tls.ca_file)"
            .to_owned(),
        CertificateError::Revoked => "has been revoked".to_owned(),
        CertificateError::BadSignature => "has a bad signature".to_owned(),
        other => format!("was refused: {other}"),
    };
    format!("the TLS certificate of {server} {what}")
}

/// A name the certificate presents, as rustls spells it (`DnsName("a.b")`,
/// `IpAddress(10.0.0.1)`), without the spelling's wrapper.
fn bare_name(presented: &str) -> &str {
    for (open, close) in [("DnsName(\"", "\")"), ("IpAddress(", ")")] {
        if let Some(inner) = presented
            .strip_prefix(open)
            .and_then(|rest| rest.strip_suffix(close))
        {
            return inner;
        }
    }
    presented
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_names_lose_their_wrappers() {
        assert_eq!(bare_name("DnsName(\"db.internal\")"), "db.internal");
        assert_eq!(bare_name("IpAddress(10.0.0.1)"), "10.0.0.1");
        assert_eq!(bare_name("Unsupported(0x80)"), "Unsupported(0x80)");
    }
}
