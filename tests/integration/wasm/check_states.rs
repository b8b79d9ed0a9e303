//! `check` names a Wasm backend's state in words (a missing grant, an
//! unreachable server, a misconfigured provider), and `-vv` shows this
//! project's logs, not the compiler's.

use std::path::Path;

use super::guest;
use super::http_server::{Reply, TestServer};
use crate::support::{free_port, run_with, temp_config};

/// A config with one etcd backend `kv` for `endpoint`, with `extra`
/// settings (grants) after its `config`.
fn etcd_config(etcd: &Path, config: &str, extra: &str) -> String {
    format!(
        "secrets:
  enabled: true
  wasm_cache: false
  backends:
    kv:
      type: wasm
      path: {:?}
      config: {config}
{extra}",
        etcd.display().to_string()
    )
}

/// `pp-secrets check`'s line for backend `kv`, and the exit code.
fn kv_line(config: &str) -> (String, i32) {
    let (_dir, path) = temp_config(config);
    let out = run_with(&path, &["check"], &[]);
    let line = out
        .stdout
        .lines()
        .find(|line| line.starts_with("  kv (wasm): "))
        .unwrap_or_else(|| panic!("no line for kv in:\n{}", out.stdout))
        .to_owned();
    assert!(!out.stdout.lines().next().unwrap_or("").contains(": ok ("));
    (line, out.code)
}

#[test]
fn a_host_the_backend_is_not_granted_is_a_missing_grant() {
    let Some(etcd) = guest("etcd") else { return };
    let server = TestServer::start(Reply::Hang);
    let (line, code) = kv_line(&etcd_config(
        &etcd,
        &format!("{{ endpoint: {:?} }}", server.url("")),
        "",
    ));
    assert_eq!(code, 3);
    assert!(line.starts_with("  kv (wasm): MISSING GRANT: "), "{line}");
    assert!(
        line.contains(&format!(
            "the provider tried {}, which allow.hosts does not grant",
            server.authority()
        )),
        "{line}"
    );
    assert_eq!(server.connections(), 0);
}

#[test]
fn a_call_that_runs_out_of_time_waiting_for_a_server_is_unreachable() {
    let Some(etcd) = guest("etcd") else { return };
    let server = TestServer::start(Reply::Hang);
    // No timeout of the provider's own: the host's limit ends the call
    // while its request waits.
    let (line, code) = kv_line(&etcd_config(
        &etcd,
        &format!("{{ endpoint: {:?} }}", server.url("")),
        &format!(
            "      allow: {{ hosts: [{:?}] }}\n      limits: {{ timeout_ms: 400 }}\n",
            server.authority()
        ),
    ));
    assert_eq!(code, 3);
    assert_eq!(
        line,
        format!(
            "  kv (wasm): UNREACHABLE: the provider did not answer within 400 ms \
             (limits.timeout_ms): its request to {} had no answer yet",
            server.authority()
        )
    );
}

#[test]
fn a_url_with_credentials_shows_only_the_host_in_errors() {
    let Some(etcd) = guest("etcd") else { return };
    let port = free_port();
    let (line, _) = kv_line(&etcd_config(
        &etcd,
        &format!("{{ endpoint: \"http://reader:hunter2@127.0.0.1:{port}\" }}"),
        "",
    ));
    assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
    assert!(!line.contains("hunter2"), "the password is shown");
}

#[test]
fn a_server_that_does_not_answer_is_unreachable_in_words() {
    let Some(etcd) = guest("etcd") else { return };
    let server = TestServer::start(Reply::Hang);
    let (line, _) = kv_line(&etcd_config(
        &etcd,
        &format!("{{ endpoint: {:?}, timeout_ms: \"300\" }}", server.url("")),
        &format!("      allow: {{ hosts: [{:?}] }}\n", server.authority()),
    ));
    assert!(line.starts_with("  kv (wasm): UNREACHABLE: "), "{line}");
    assert!(line.contains("no answer within the timeout"), "{line}");
    assert!(!line.contains("ErrorCode"), "{line}");

    let port = free_port();
    let (line, _) = kv_line(&etcd_config(
        &etcd,
        &format!("{{ endpoint: \"http://127.0.0.1:{port}\" }}"),
        &format!("      allow: {{ hosts: [\"127.0.0.1:{port}\"] }}\n"),
    ));
    assert!(line.starts_with("  kv (wasm): UNREACHABLE: "), "{line}");
    assert!(line.contains("refused"), "{line}");
}

#[test]
fn a_setup_the_provider_refuses_is_misconfigured() {
    let Some(etcd) = guest("etcd") else { return };
    let (line, code) = kv_line(&etcd_config(&etcd, "{ endpoint_typo: x }", ""));
    assert_eq!(code, 3);
    assert!(
        line.starts_with("  kv (wasm): MISCONFIGURED: setup failed: "),
        "{line}"
    );
}

#[test]
fn verbose_flags_show_this_projects_logs_not_the_compilers() {
    let Some(dir_provider) = guest("dir") else {
        return;
    };
    let secrets = tempfile::tempdir().expect("tempdir");
    std::fs::write(secrets.path().join("pw"), "x").expect("write");
    let root = secrets.path().display().to_string();
    let config = format!(
        "secrets:
  enabled: true
  wasm_cache: false
  backends:
    d:
      type: wasm
      path: {:?}
      config: {{ dir: {root:?} }}
      allow: {{ dirs: [{root:?}] }}
",
        dir_provider.display().to_string()
    );
    let (_dir, path) = temp_config(&config);
    let ours = run_with(&path, &["-vv", "get", "d:pw"], &[]);
    ours.expect_code(0);
    assert!(
        ours.stderr.contains("DEBUG fetched text"),
        "{}",
        ours.stderr
    );
    assert!(
        ours.stderr.contains("wasm backend loaded"),
        "{}",
        ours.stderr
    );
    // RUST_LOG asks for everyone's debug logs: the compiler's are there.
    let everyone = run_with(&path, &["get", "d:pw"], &[("RUST_LOG", "debug")]);
    everyone.expect_code(0);
    assert!(
        everyone.stderr.contains("CLIF"),
        "the compiler logs at debug"
    );
    assert!(!ours.stderr.contains("CLIF"), "{}", ours.stderr);
    assert!(ours.stderr.lines().count() < 10, "{}", ours.stderr);
}

/// A guest's own `access-denied` error stays a denial, whatever the host
/// saw during the call; its `backend` error after a request the sandbox
/// refused is a missing grant.
#[test]
fn a_guests_denial_stays_a_denial_and_a_refused_request_is_a_missing_grant() {
    let Some(hostile) = guest("hostile") else {
        return;
    };
    let config = format!(
        "secrets:\n  enabled: true\n  wasm_cache: false\n  backends:\n    hostile:\n      \
         type: wasm\n      path: {:?}\n",
        hostile.display().to_string()
    );
    let (_dir, path) = temp_config(&config);
    let url = format!("http://127.0.0.1:{}/", free_port());
    let out = run_with(
        &path,
        &["get", &format!("hostile:deny-after-http:{url}")],
        &[],
    );
    out.expect_code(3);
    assert!(
        out.stderr
            .contains("backend \"hostile\" failed (denied) for"),
        "{}",
        out.stderr
    );
    let out = run_with(&path, &["get", &format!("hostile:http:{url}")], &[]);
    out.expect_code(3);
    assert!(
        out.stderr
            .contains("backend \"hostile\" failed (missing grant) for"),
        "{}",
        out.stderr
    );
}
