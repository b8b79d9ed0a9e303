//! The `aws` backend from a config file, through the real binary: the
//! client the backend builds itself (region, endpoint, credentials from the
//! environment, retries and timeouts from the settings).

use std::fs;

use super::{Fault, FaultProxy, create, moto, sdk_client, unique_prefix};
use crate::support::{Run, run_with};

/// Credentials for moto. The shared config files point at empty files
/// (written by `config`) instead of the developer's.
const AWS_ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "testing"),
    ("AWS_SECRET_ACCESS_KEY", "testing"),
    ("AWS_EC2_METADATA_DISABLED", "true"),
];

fn config(dir: &std::path::Path, backend: &str) -> std::path::PathBuf {
    fs::write(dir.join("aws-config"), "").expect("write aws config");
    fs::write(dir.join("aws-credentials"), "").expect("write aws credentials");
    let path = dir.join("config.yaml");
    fs::write(
        &path,
        format!("secrets:\n  enabled: true\n  backends:\n    aws:\n      type: aws\n{backend}  load: [\"aws:*\"]\n"),
    )
    .expect("write config");
    path
}

fn run(config: &std::path::Path, args: &[&str]) -> Run {
    let dir = config.parent().expect("config has a directory");
    let files = [
        ("AWS_CONFIG_FILE", dir.join("aws-config")),
        ("AWS_SHARED_CREDENTIALS_FILE", dir.join("aws-credentials")),
    ];
    let mut env: Vec<(&str, &str)> = AWS_ENV.to_vec();
    for (var, path) in &files {
        env.push((var, path.to_str().expect("utf-8 temp path")));
    }
    let r = run_with(config, args, &env);
    assert!(
        !r.stderr.contains("WARN"),
        "unexpected warning: {}",
        r.stderr
    );
    r
}

#[test]
fn cli_reads_lists_and_loads_from_aws() {
    let Some(moto) = moto() else { return };
    let p = unique_prefix("cli");
    create(
        &sdk_client(&moto.endpoint),
        &[
            (&format!("{p}/exchanges/binance"), r#"{"api_key": "bk"}"#),
            (&format!("{p}/exchanges/kraken"), "kr"),
        ],
    );
    let proxy = FaultProxy::start(&moto.addr);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        dir.path(),
        &format!(
            "      region_name: us-east-1\n      endpoint_url: {}\n      prefix: \"{p}/exchanges\"\n",
            proxy.endpoint
        ),
    );
    let r = run(&cfg, &["get", "aws:binance"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "{\"api_key\":\"bk\"}\n");
    let r = run(&cfg, &["list", "aws:*"]);
    assert_eq!(r.stdout, "binance\nkraken\n");
    proxy.reset_counts();
    let r = run(&cfg, &["load"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "aws:*\t2 matched, 2 loaded\n");
    assert_eq!(proxy.calls("ListSecrets"), 1);
    assert_eq!(proxy.calls("BatchGetSecretValue"), 1);
    let r = run(&cfg, &["get", "aws:absent"]);
    r.expect_code(1);
}

#[test]
fn cli_recovers_from_throttling_with_its_own_retry_settings() {
    let Some(moto) = moto() else { return };
    let p = unique_prefix("cliretry");
    create(&sdk_client(&moto.endpoint), &[(&format!("{p}/a"), "1")]);
    let proxy = FaultProxy::start(&moto.addr);
    proxy.inject(None, 2, Fault::Throttle);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        dir.path(),
        &format!(
            "      region_name: us-east-1\n      endpoint_url: {}\n      prefix: \"{p}\"\n      max_attempts: 3\n",
            proxy.endpoint
        ),
    );
    run(&cfg, &["get", "aws:a"]).expect_code(0);
    assert_eq!(proxy.calls("GetSecretValue"), 3);
}

#[test]
fn cli_cuts_off_a_hanging_server_at_the_attempt_timeout() {
    let Some(moto) = moto() else { return };
    let proxy = FaultProxy::start(&moto.addr);
    proxy.inject(None, 100, Fault::Hang);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        dir.path(),
        &format!(
            "      region_name: us-east-1\n      endpoint_url: {}\n      attempt_timeout_ms: 300\n      max_attempts: 2\n",
            proxy.endpoint
        ),
    );
    let started = std::time::Instant::now();
    let r = run(&cfg, &["get", "aws:a"]);
    r.expect_code(3);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "no hang"
    );
    assert!(
        r.stderr.to_lowercase().contains("timeout") || r.stderr.contains("timed out"),
        "{}",
        r.stderr
    );
}

#[test]
fn cli_unreachable_endpoint_is_a_backend_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        dir.path(),
        &format!(
            "      region_name: us-east-1\n      endpoint_url: http://127.0.0.1:{}\n",
            super::free_port()
        ),
    );
    let started = std::time::Instant::now();
    let r = run(&cfg, &["get", "aws:a"]);
    r.expect_code(3);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "no hang"
    );
    assert!(r.stderr.contains("GetSecretValue"), "{}", r.stderr);
}

#[test]
fn cli_missing_region_is_a_clear_backend_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "      endpoint_url: http://127.0.0.1:1\n");
    let r = run(&cfg, &["get", "aws:a"]);
    r.expect_code(3);
    assert!(r.stderr.contains("no AWS region"), "{}", r.stderr);
}

#[test]
fn cli_wrong_profile_is_a_clear_backend_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        dir.path(),
        "      region_name: us-east-1\n      profile_name: no-such-profile\n      endpoint_url: http://127.0.0.1:1\n",
    );
    let r = run(&cfg, &["get", "aws:a"]);
    r.expect_code(3);
    assert!(r.stderr.contains("no-such-profile"), "{}", r.stderr);
}

#[test]
fn cli_rejects_unknown_aws_settings() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "      region: us-east-1\n");
    let r = run(&cfg, &["get", "aws:a"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("`region`") && r.stderr.contains("region_name"),
        "{}",
        r.stderr
    );
}

/// `check` names the state of an AWS backend it cannot reach in words:
/// nothing listens on the endpoint's port.
#[test]
fn check_calls_an_endpoint_nothing_listens_on_unreachable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = crate::support::free_port();
    let config = config(
        dir.path(),
        &format!(
            "      region_name: us-east-1\n      endpoint_url: http://127.0.0.1:{port}\n      \
             max_attempts: 1\n"
        ),
    );
    let r = run(&config, &["check"]);
    r.expect_code(3);
    assert!(
        r.stdout
            .contains("  aws (aws): UNREACHABLE: AWS ListSecrets failed"),
        "{}",
        r.stdout
    );
}
