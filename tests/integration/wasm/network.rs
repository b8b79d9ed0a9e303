//! Network grants: a provider reaches, over wasi:http, only the hosts in
//! its `allow.hosts`; anything else is denied before a connection is
//! made. Raw sockets stay closed, a slow server is cut off at the call's
//! time limit, and response bodies are capped.

use std::time::{Duration, Instant};

use pp_secrets::ErrorKind;

use super::http_server::{Reply, TestServer};
use super::{guest, manager, wasm_backend};
use crate::support::ExposeText;
use crate::support::block_on;

/// The result of `hostile:<request>` with `extra` backend settings.
fn ask(request: &str, extra: &str) -> Option<pp_secrets::Result<String>> {
    let hostile = guest("hostile")?;
    let secrets = manager(&format!(
        "  backends:\n{}",
        wasm_backend("hostile", &hostile, extra)
    ));
    Some(block_on(secrets.get_raw(&format!("hostile:{request}"))).map(|v| v.expose().to_owned()))
}

fn hosts(entries: &[&str]) -> String {
    format!("      allow: {{ hosts: {entries:?} }}\n")
}

#[test]
fn a_granted_host_is_reachable() {
    let server = TestServer::start(Reply::Text("hello"));
    let Some(result) = ask(
        &format!("http:{}", server.url("/x")),
        &hosts(&[&server.authority()]),
    ) else {
        return;
    };
    assert_eq!(result.expect("granted"), "status 200, 5 bytes");
    assert_eq!(server.connections(), 1);
}

#[test]
fn a_host_not_granted_is_denied_and_never_connected_to() {
    let granted = TestServer::start(Reply::Text("granted"));
    let other = TestServer::start(Reply::Text("other"));
    let Some(result) = ask(
        &format!("http:{}", other.url("/")),
        &hosts(&[&granted.authority()]),
    ) else {
        return;
    };
    let error = result.expect_err("denied");
    assert_eq!(error.kind(), ErrorKind::Backend);
    assert!(
        error
            .to_string()
            .contains("denied by the host (not in allow.hosts)"),
        "{error}"
    );
    assert_eq!(other.connections(), 0);
    assert_eq!(granted.connections(), 0);
}

#[test]
fn without_grants_no_host_is_reachable() {
    let server = TestServer::start(Reply::Text("hello"));
    let Some(result) = ask(&format!("http:{}", server.url("/")), "") else {
        return;
    };
    assert!(result.expect_err("denied").to_string().contains("denied"));
    assert_eq!(server.connections(), 0);
}

#[test]
fn a_grant_is_for_one_port_and_one_spelling_of_the_host() {
    let server = TestServer::start(Reply::Text("hello"));
    let port = server
        .authority()
        .rsplit_once(':')
        .expect("port")
        .1
        .to_owned();
    let other_port = format!("127.0.0.1:{}", port.parse::<u16>().expect("port") ^ 1);
    let Some(result) = ask(&format!("http:{}", server.url("/")), &hosts(&[&other_port])) else {
        return;
    };
    assert!(result.is_err());
    // `localhost` resolves to 127.0.0.1, but only the name written is granted.
    let by_name = format!("http://localhost:{port}/");
    let result = ask(&format!("http:{by_name}"), &hosts(&[&server.authority()]));
    assert!(result.expect("built").is_err());
    assert_eq!(server.connections(), 0);
}

#[test]
fn raw_sockets_stay_closed_when_hosts_are_granted() {
    let server = TestServer::start(Reply::Text("hello"));
    let Some(result) = ask(
        &format!("connect:{}", server.authority()),
        &hosts(&[&server.authority()]),
    ) else {
        return;
    };
    assert!(result.is_err());
    assert_eq!(server.connections(), 0);
}

#[test]
fn a_slow_server_is_cut_off_at_the_time_limit() {
    let server = TestServer::start(Reply::Hang);
    let Some(hostile) = guest("hostile") else {
        return;
    };
    let extra = format!(
        "{}      limits: {{ timeout_ms: 500 }}\n",
        hosts(&[&server.authority()])
    );
    let secrets = manager(&format!(
        "  backends:\n{}",
        wasm_backend("hostile", &hostile, &extra)
    ));
    let started = Instant::now();
    let error = block_on(secrets.get_raw(&format!("hostile:http:{}", server.url("/"))))
        .expect_err("cut off");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(error.to_string().contains("within 500 ms"), "{error}");
    assert_eq!(server.connections(), 1);
    // The backend serves again from a fresh instance.
    let value = block_on(secrets.get_raw("hostile:ok")).expect("serves again");
    assert_eq!(value.expose(), "value-of-ok");
}

#[test]
fn response_bodies_are_capped() {
    let small = TestServer::start(Reply::Bytes(1 << 20));
    let huge = TestServer::start(Reply::Bytes(20 << 20));
    let extra = format!(
        "{}      limits: {{ memory_mb: 256, timeout_ms: 10000 }}\n",
        hosts(&[&small.authority(), &huge.authority()])
    );
    let Some(result) = ask(&format!("http:{}", small.url("/")), &extra) else {
        return;
    };
    assert_eq!(result.expect("under the cap"), "status 200, 1048576 bytes");
    let result = ask(&format!("http:{}", huge.url("/")), &extra).expect("built");
    let error = result.expect_err("over the cap");
    assert_eq!(error.kind(), ErrorKind::Backend);
    // The host cut the body off (the guest SDK's own cap is 64 MiB).
    assert!(
        error.to_string().contains("cannot read the response"),
        "{error}"
    );
}
