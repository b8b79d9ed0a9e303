//! Certificates made at test time with rcgen, written as PEM files: a
//! private CA, server certificates signed by it (for 127.0.0.1, for
//! another name, expired), and a client certificate for mutual TLS.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};

/// A directory of PEM files: `ca.pem`; `server`, `other-name`, `expired`
/// and `client`, each as `NAME.pem` and `NAME.key`.
pub struct TestPki {
    dir: tempfile::TempDir,
}

impl TestPki {
    /// Makes every certificate.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "pp-secrets test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        std::fs::write(dir.path().join("ca.pem"), ca_cert.pem()).expect("write CA");
        let issuer = Issuer::new(ca, ca_key);

        // etcd's own gateway connects to its listener with the server
        // certificate, so server certificates are good for both ends.
        let server = [
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let leaf = |file: &str, name: &str, expired: bool, usage: &[ExtendedKeyUsagePurpose]| {
            let key = KeyPair::generate().expect("key");
            let mut params = CertificateParams::new(vec![name.to_owned()]).expect("params");
            params.distinguished_name.push(DnType::CommonName, name);
            params.extended_key_usages = usage.to_vec();
            if expired {
                params.not_before = date_time_ymd(2020, 1, 1);
                params.not_after = date_time_ymd(2021, 1, 1);
            }
            let cert = params.signed_by(&key, &issuer).expect("signed");
            std::fs::write(dir.path().join(format!("{file}.pem")), cert.pem()).expect("write");
            std::fs::write(dir.path().join(format!("{file}.key")), key.serialize_pem())
                .expect("write");
        };
        leaf("server", "127.0.0.1", false, &server);
        leaf("other-name", "other.example", false, &server);
        leaf("expired", "127.0.0.1", true, &server);
        leaf(
            "client",
            "reader",
            false,
            &[ExtendedKeyUsagePurpose::ClientAuth],
        );
        Self { dir }
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The file `name` (such as `ca.pem` or `server.key`).
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}
