//! HTTPS from guests, against a real etcd serving TLS with certificates
//! made at test time: the etcd provider reads through a private CA given
//! as `tls.ca_file`; an expired certificate, one for another name and an
//! unknown CA are each a backend error that says which (exit 3, never a
//! panic); mutual TLS with `tls.client_cert`; an app's HTTPS request with
//! `run-wasm --ca-file`; bad TLS settings named in the error.
//!
//! The test build compiles rustls with two crypto back-ends (ring as a
//! dev-dependency, aws-lc-rs from the library), the very setting in which
//! rustls cannot pick a process-wide default: any host path that relied on
//! that default would panic here.

use std::path::{Path, PathBuf};

use pp_secrets::{ErrorKind, SecretsManager};

use super::etcd_server::{EtcdServer, EtcdTls};
use super::test_pki::TestPki;
use super::{guest, shared_cache, wasm_backend};
use crate::support::{Run, block_on, run_with};

const KEYS: &[(&str, &str)] = &[
    ("app/db_password", "tls-db-pw"),
    ("app/db_user", "svc"),
    ("app/api_key", "tls-api-key"),
];

/// An etcd serving HTTPS with the certificate `cert` of `pki` (demanding
/// client certificates signed by the test CA when `mutual`), or `None` when
/// etcd or the etcd provider is missing.
fn etcd(pki: &TestPki, cert: &str, mutual: bool) -> Option<EtcdServer> {
    guest("etcd")?;
    let (cert, key, ca) = (
        pki.file(&format!("{cert}.pem")),
        pki.file(&format!("{cert}.key")),
        pki.file("ca.pem"),
    );
    EtcdServer::start_tls(
        KEYS,
        &EtcdTls {
            cert: &cert,
            key: &key,
            client_ca: mutual.then_some(ca.as_path()),
        },
    )
}

/// `config.yaml` in the PKI's directory (so relative paths in `tls`, such
/// as `ca.pem`, resolve against it) with backend `etcd` reading `server`
/// over HTTPS, and `tls` (a YAML flow mapping, or empty for none).
fn config(pki: &TestPki, server: &EtcdServer, tls: &str) -> PathBuf {
    let mut settings = format!(
        "      config: {{ endpoint: {:?} }}\n      allow: {{ hosts: [{:?}] }}\n",
        server.https_endpoint(),
        server.https_host()
    );
    if !tls.is_empty() {
        settings.push_str(&format!("      tls: {tls}\n"));
    }
    let yaml = format!(
        "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n{}",
        shared_cache().display().to_string(),
        wasm_backend("etcd", &guest("etcd").expect("built"), &settings)
    );
    let file = pki.dir().join("config.yaml");
    std::fs::write(&file, yaml).expect("write config");
    file
}

/// `pp-secrets -c config get etcd:app/db_password`, expected to fail with
/// a backend error (exit 3) whose message has `says`.
#[track_caller]
fn get_fails_saying(config: &Path, says: &str) -> Run {
    let run = run_with(config, &["get", "etcd:app/db_password"], &[]);
    run.expect_code(3);
    assert!(
        run.stderr.contains(says),
        "expected {says:?} in:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(!run.stderr.contains("tls-db-pw"));
    run
}

#[test]
fn through_a_private_ca_get_list_and_load_work_over_https() {
    let pki = TestPki::new();
    let Some(server) = etcd(&pki, "server", false) else {
        return;
    };
    let config = config(&pki, &server, "{ ca_file: ca.pem }");
    let run = run_with(&config, &["get", "etcd:app/db_password"], &[]);
    run.expect_code(0);
    assert_eq!(run.stdout, "tls-db-pw\n");
    let run = run_with(&config, &["list", "etcd:app/db_*"], &[]);
    run.expect_code(0);
    assert_eq!(run.stdout, "app/db_password\napp/db_user\n");

    let text = std::fs::read_to_string(&config).expect("config");
    std::fs::write(&config, format!("{text}  load: [\"etcd:app/*\"]\n")).expect("write");
    let run = run_with(&config, &["load"], &[]);
    run.expect_code(0);
    assert_eq!(run.stdout, "etcd:app/*\t3 matched, 3 loaded\n");
}

#[test]
fn an_expired_certificate_is_a_backend_error_that_says_so() {
    let pki = TestPki::new();
    let Some(server) = etcd(&pki, "expired", false) else {
        return;
    };
    let config = config(&pki, &server, "{ ca_file: ca.pem }");
    let run = get_fails_saying(&config, "has expired");
    assert!(run.stderr.contains(server.https_host()), "{}", run.stderr);
}

#[test]
fn a_certificate_for_another_name_is_a_backend_error_that_says_so() {
    let pki = TestPki::new();
    let Some(server) = etcd(&pki, "other-name", false) else {
        return;
    };
    let config = config(&pki, &server, "{ ca_file: ca.pem }");
    get_fails_saying(
        &config,
        &format!(
            "the TLS certificate of {} is not valid for the name 127.0.0.1 (it is for \
             other.example)",
            server.https_host()
        ),
    );
}

#[test]
fn an_unknown_ca_is_a_backend_error_that_says_how_to_trust_it() {
    let pki = TestPki::new();
    let Some(server) = etcd(&pki, "server", false) else {
        return;
    };
    // The system's roots do not include the test CA.
    let config = config(&pki, &server, "");
    get_fails_saying(
        &config,
        "is signed by an unknown certificate authority (for a private CA, add it with \
         tls.ca_file)",
    );
}

#[test]
fn mutual_tls_presents_the_client_certificate() {
    let pki = TestPki::new();
    let Some(server) = etcd(&pki, "server", true) else {
        return;
    };
    let config_with = config(
        &pki,
        &server,
        "{ ca_file: ca.pem, client_cert: client.pem, client_key: client.key }",
    );
    let run = run_with(&config_with, &["get", "etcd:app/db_password"], &[]);
    run.expect_code(0);
    assert_eq!(run.stdout, "tls-db-pw\n");

    let config_without = config(&pki, &server, "{ ca_file: ca.pem }");
    get_fails_saying(&config_without, "tls.client_cert");
}

#[test]
fn unusable_tls_settings_are_named() {
    let pki = TestPki::new();
    let Some(server) = etcd(&pki, "server", false) else {
        return;
    };
    std::fs::write(pki.file("not-pem.txt"), "just text\n").expect("write");
    for (tls, says, code) in [
        ("{ ca_file: missing.pem }", "cannot read tls.ca_file", 3),
        ("{ ca_file: not-pem.txt }", "holds no PEM certificate", 3),
        (
            "{ client_cert: client.pem, client_key: ca.pem }",
            "tls.client_key",
            3,
        ),
        (
            "{ client_cert: client.pem }",
            "secrets.backends.etcd.tls.client_key: is required with client_cert",
            2,
        ),
        ("{ ca: ca.pem }", "unknown field `ca` for `tls`", 2),
    ] {
        let config = config(&pki, &server, tls);
        let run = run_with(&config, &["get", "etcd:app/db_password"], &[]);
        assert_eq!(run.code, code, "{tls}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{tls}: {}", run.stderr);
    }
}

#[test]
fn a_process_default_installed_by_an_embedder_is_kept() {
    // An embedder that chose its own provider (here ring, while the library
    // uses aws-lc-rs) installs it before building a manager.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pki = TestPki::new();
    let Some(server) = etcd(&pki, "server", false) else {
        return;
    };
    let config = config(&pki, &server, "{ ca_file: ca.pem }");
    let secrets = SecretsManager::from_file(&config)
        .expect("valid config")
        .expect("enabled");
    let value = block_on(secrets.get("etcd:app/api_key")).expect("served over HTTPS");
    assert_eq!(value.as_text(), Some("tls-api-key"));
    let error = block_on(secrets.get("etcd:app/absent")).expect_err("missing");
    assert_eq!(error.kind(), ErrorKind::NotFound);
}

/// `pp-secrets run-wasm` of the probe app, fetching `url` with `flags`.
fn probe_fetches(url: &str, flags: &[&str]) -> Option<Run> {
    let probe = guest("probe")?;
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "secrets:\n  enabled: true\n  wasm_cache: {:?}\n",
            shared_cache().display().to_string()
        ),
    )
    .expect("write config");
    let probe = probe.display().to_string();
    let mut args = vec!["run-wasm", probe.as_str()];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--", "http", url]);
    Some(run_with(&config, &args, &[]))
}

#[test]
fn an_apps_https_request_trusts_the_ca_file_it_is_given() {
    let pki = TestPki::new();
    let Some(server) = etcd(&pki, "server", false) else {
        return;
    };
    let url = format!("{}/health", server.https_endpoint());
    let ca = pki.file("ca.pem").display().to_string();
    let host = server.https_host();
    let Some(run) = probe_fetches(&url, &["--allow-host", host, "--ca-file", &ca]) else {
        return;
    };
    run.expect_code(0);
    assert_eq!(run.stdout, format!("http {url}: status 200\n"));

    // Without the CA the app gets a certificate error, and the host says why.
    let Some(run) = probe_fetches(&url, &["--allow-host", host]) else {
        return;
    };
    run.expect_code(0);
    assert!(
        run.stdout.contains("error:backend:")
            && run
                .stdout
                .contains("the server's TLS certificate was refused"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("unknown certificate authority"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn the_readmes_https_example_works_as_written() {
    let readme = include_str!("../../../README.md");
    let block = readme
        .split("```yaml\n")
        .filter_map(|rest| rest.split("```").next())
        .find(|block| block.contains("https://etcd.internal:2379"))
        .expect("the README has an HTTPS etcd example");
    let pki = TestPki::new();
    let Some(server) = etcd(&pki, "server", true) else {
        return;
    };
    let component = guest("etcd").expect("built").display().to_string();
    let backend = block
        .replace("etcd.internal:2379", server.https_host())
        .replace(
            "target/wasm32-wasip2/release/pp_secrets_etcd_provider.wasm",
            &component,
        );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("certs")).expect("mkdir");
    for (from, to) in [
        ("ca.pem", "etcd-ca.pem"),
        ("client.pem", "client.pem"),
        ("client.key", "client.key"),
    ] {
        std::fs::copy(pki.file(from), dir.path().join("certs").join(to)).expect("copy");
    }
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n{backend}",
            shared_cache().display().to_string()
        ),
    )
    .expect("write config");
    let run = run_with(&config, &["get", "etcd:app/db_user"], &[]);
    run.expect_code(0);
    assert_eq!(run.stdout, "svc\n");
}
