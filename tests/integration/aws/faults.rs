//! Resilience: retries with backoff on throttling, 5xx and dropped
//! connections; a clear error, not a hang, when AWS is unreachable.

use std::time::{Duration, Instant};

use pp_secrets::ErrorKind;

use super::{Fault, create, setup, unique_prefix};
use crate::support::block_on;

fn recovers_from(fault: Fault, times: usize) {
    let p = unique_prefix("recover");
    let Some(s) = setup(&p) else { return };
    create(
        &s.admin,
        &[(&format!("{p}/a"), "1"), (&format!("{p}/b"), "2")],
    );
    s.proxy.inject(None, times, fault.clone());
    let report = block_on(s.manager.load_declarations(&["aws:*"]))
        .unwrap_or_else(|e| panic!("{fault:?} x{times}: {e}"));
    assert_eq!(report.loaded(), 2, "{fault:?}");
    let calls: usize = s.proxy.all_calls().values().sum();
    assert_eq!(
        calls,
        2 + times,
        "{fault:?}: one list, one batch, plus each retry"
    );
}

#[test]
fn throttling_is_retried() {
    recovers_from(Fault::Throttle, 2);
}

#[test]
fn server_errors_are_retried() {
    recovers_from(Fault::ServerError, 2);
}

#[test]
fn dropped_connections_are_retried() {
    recovers_from(Fault::Drop, 1);
}

#[test]
fn persistent_throttling_is_a_backend_error_with_the_aws_code_and_name() {
    let p = unique_prefix("throttled");
    let Some(s) = setup(&p) else { return };
    create(&s.admin, &[(&format!("{p}/a"), "1")]);
    s.proxy.inject(Some("GetSecretValue"), 100, Fault::Throttle);
    let e = block_on(s.manager.get("aws:a")).expect_err("never succeeds");
    assert_eq!(e.kind(), ErrorKind::Backend);
    let msg = e.to_string();
    assert!(
        msg.contains("ThrottlingException") && msg.contains(&format!("{p}/a")),
        "{msg}"
    );
    assert_eq!(
        s.proxy.calls("GetSecretValue"),
        3,
        "bounded: max_attempts tries"
    );
}

#[test]
fn unreachable_endpoint_fails_fast_with_a_clear_error() {
    let Some(_moto) = super::moto() else { return };
    let dead = format!("http://127.0.0.1:{}", super::free_port());
    let provider = pp_secrets::providers::AwsProvider::with_client(super::sdk_client(&dead), 4);
    let manager = pp_secrets::SecretsManager::builder()
        .backend("aws", "", provider)
        .build()
        .expect("valid");
    let started = Instant::now();
    let e = block_on(manager.get("aws:x")).expect_err("unreachable");
    assert_eq!(e.kind(), ErrorKind::Backend);
    assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    assert!(e.to_string().contains("GetSecretValue"), "{e}");
}
