//! The sandbox grants nothing unless the backend's `allow` says so: no
//! files, no environment variables, no network.

use std::io::ErrorKind as IoErrorKind;
use std::net::TcpListener;

use pp_secrets::ErrorKind;

use super::{granting_dir, guest, manager, wasm_backend};
use crate::support::ExposeText;
use crate::support::block_on;

const CANARY: &str = "sandbox-canary-7f3a";

/// The result of `hostile:<request>` under `allow` (YAML, indented).
fn ask(request: &str, allow: &str) -> Option<pp_secrets::Result<String>> {
    let hostile = guest("hostile")?;
    let secrets = manager(&format!(
        "  backends:\n{}",
        wasm_backend("hostile", &hostile, allow)
    ));
    Some(block_on(secrets.get_raw(&format!("hostile:{request}"))).map(|v| v.expose().to_owned()))
}

fn secret_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("secret.txt");
    std::fs::write(&file, CANARY).expect("write");
    (dir, file.display().to_string())
}

#[test]
fn a_file_outside_the_grants_cannot_be_read() {
    let (_dir, file) = secret_file();
    let Some(result) = ask(&format!("file:{file}"), "") else {
        return;
    };
    let error = result.expect_err("denied");
    assert_eq!(error.kind(), ErrorKind::Backend);
    assert!(error.to_string().contains("backend \"hostile\""), "{error}");
    assert!(!error.to_string().contains(CANARY));
}

#[test]
fn a_granted_directory_is_readable_at_its_own_path() {
    let (dir, file) = secret_file();
    let allow = granting_dir(dir.path());
    let Some(result) = ask(&format!("file:{file}"), &allow) else {
        return;
    };
    assert_eq!(result.expect("granted"), CANARY);
}

#[test]
fn a_granted_directory_does_not_open_its_parent() {
    let (dir, _) = secret_file();
    let inner = dir.path().join("inner");
    std::fs::create_dir(&inner).expect("mkdir");
    let allow = granting_dir(&inner);
    let escape = format!("{}/../secret.txt", inner.display());
    let Some(result) = ask(&format!("file:{escape}"), &allow) else {
        return;
    };
    assert!(
        result.is_err(),
        "`..` out of a granted directory is refused"
    );
}

#[test]
fn a_missing_granted_directory_is_a_backend_error_naming_it() {
    let Some(result) = ask("ok", "      allow: { dirs: [/no/such/granted/dir] }\n") else {
        return;
    };
    let error = result.expect_err("cannot open");
    assert!(
        error.to_string().contains("/no/such/granted/dir"),
        "{error}"
    );
}

#[test]
fn an_environment_variable_not_granted_is_unset() {
    // PATH is set in every test process; the guest must not see it.
    let Some(result) = ask("env:PATH", "") else {
        return;
    };
    let error = result.expect_err("not granted");
    assert!(
        error.to_string().contains("environment variable not found"),
        "{error}"
    );
}

#[test]
fn a_granted_environment_variable_has_the_host_value() {
    let Some(result) = ask("env:PATH", "      allow: { env: [PATH] }\n") else {
        return;
    };
    assert_eq!(
        result.expect("granted"),
        std::env::var("PATH").expect("PATH")
    );
}

#[test]
fn the_network_is_closed_and_no_connection_is_made() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let address = listener.local_addr().expect("address");
    let Some(result) = ask(&format!("connect:{address}"), "") else {
        return;
    };
    let error = result.expect_err("denied");
    assert!(error.to_string().contains("cannot connect"), "{error}");
    match listener.accept() {
        Err(e) if e.kind() == IoErrorKind::WouldBlock => {}
        other => panic!("the listener saw a connection: {other:?}"),
    }
}
