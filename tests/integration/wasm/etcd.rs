//! The etcd provider component against a real etcd: get, JSON values,
//! list with globs, backend prefixes, missing keys, one range request per
//! `load` declaration, authentication on and off, a wrong password, etcd
//! down, and a slow answer cut off at the time limit.

use std::time::{Duration, Instant};

use pp_secrets::{ErrorKind, SecretValue, SecretsManager};

use super::etcd_server::EtcdServer;
use super::{guest, manager, shared_cache, wasm_backend};
use crate::support::ExposeText;
use crate::support::{block_on, free_port, run_with, temp_config};

const KEYS: &[(&str, &str)] = &[
    ("app/db_password", "etcd-db-pw"),
    ("app/db_user", "svc"),
    ("app/api_key", "etcd-api-key"),
    ("app/config", r#"{"host": "db.internal", "port": 5432}"#),
    ("app/nested/token", "etcd-token"),
    ("apple", "not-under-app/"),
    ("other/secret", "etcd-other"),
];

/// The YAML settings of an etcd backend for `endpoint` granted `host`,
/// with `extra` (indented six spaces).
fn etcd_settings(endpoint: &str, host: &str, extra: &str) -> String {
    format!(
        "      config: {{ endpoint: {endpoint:?} }}\n      allow: {{ hosts: [{host:?}] }}\n{extra}"
    )
}

/// A manager with backend `etcd` on `server` (prefix and more in `extra`).
fn etcd_manager(server: &EtcdServer, extra: &str) -> Option<SecretsManager> {
    let component = guest("etcd")?;
    let settings = etcd_settings(&server.endpoint(), &server.addr, extra);
    Some(manager(&format!(
        "  backends:\n{}",
        wasm_backend("etcd", &component, &settings)
    )))
}

fn started() -> Option<(EtcdServer, SecretsManager)> {
    guest("etcd")?;
    let server = EtcdServer::start(KEYS)?;
    let manager = etcd_manager(&server, "")?;
    Some((server, manager))
}

#[test]
fn get_reads_a_key_and_a_json_object() {
    let Some((_server, secrets)) = started() else {
        return;
    };
    let value = block_on(secrets.get("etcd:app/db_password")).expect("found");
    assert_eq!(value.as_text(), Some("etcd-db-pw"));
    let config = block_on(secrets.get("etcd:app/config")).expect("found");
    let SecretValue::Object(object) = config else {
        panic!("a JSON object value is an object");
    };
    assert_eq!(object.expose()["port"], 5432);
}

#[test]
fn a_missing_key_is_not_found() {
    let Some((_server, secrets)) = started() else {
        return;
    };
    let error = block_on(secrets.get("etcd:app/absent")).expect_err("missing");
    assert_eq!(error.kind(), ErrorKind::NotFound);
    assert_eq!(
        block_on(secrets.get_or_none("etcd:app/absent")).expect("not an error"),
        None
    );
}

#[test]
fn list_reads_the_prefix_of_the_glob_and_matches_the_rest() {
    let Some((_server, secrets)) = started() else {
        return;
    };
    let list = |pattern: &str| block_on(secrets.list(pattern)).expect("lists");
    assert_eq!(
        list("etcd:app/*"),
        [
            "app/api_key",
            "app/config",
            "app/db_password",
            "app/db_user",
            "app/nested/token"
        ]
    );
    assert_eq!(list("etcd:app/db_*"), ["app/db_password", "app/db_user"]);
    assert_eq!(list("etcd:app/[ac]*"), ["app/api_key", "app/config"]);
    assert_eq!(list("etcd:app*"), list("etcd:*")[..6].to_vec());
    assert_eq!(list("etcd:app/config"), ["app/config"]);
    assert!(list("etcd:app/zzz*").is_empty());
    assert_eq!(list("etcd:*").len(), KEYS.len());
}

#[test]
fn a_backend_prefix_scopes_keys_and_names() {
    let Some(server) = EtcdServer::start(KEYS) else {
        return;
    };
    let Some(secrets) = etcd_manager(&server, "      prefix: \"app/\"\n") else {
        return;
    };
    let value = block_on(secrets.get("etcd:db_password")).expect("found");
    assert_eq!(value.as_text(), Some("etcd-db-pw"));
    let names = block_on(secrets.list("etcd:*")).expect("lists");
    assert_eq!(
        names,
        [
            "api_key",
            "config",
            "db_password",
            "db_user",
            "nested/token"
        ]
    );
    // `apple` shares the letters but not the prefix.
    let error = block_on(secrets.get("etcd:le")).expect_err("outside the prefix");
    assert_eq!(error.kind(), ErrorKind::NotFound);
}

#[test]
fn a_load_declaration_is_one_range_request() {
    let Some((server, secrets)) = started() else {
        return;
    };
    block_on(secrets.get("etcd:app/api_key")).expect("warm-up");
    let before = server.range_requests();
    let listed = block_on(secrets.list("etcd:app/*")).expect("lists");
    assert_eq!(listed.len(), 5);
    assert_eq!(server.range_requests() - before, 1, "list: one range");

    let (_dir, config) = temp_config(&format!(
        "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n{}\n  load: [\"etcd:app/*\"]\n",
        shared_cache().display().to_string(),
        wasm_backend(
            "etcd",
            &guest("etcd").expect("built"),
            &etcd_settings(&server.endpoint(), &server.addr, "")
        )
    ));
    let before = server.range_requests();
    let run = run_with(&config, &["load"], &[]);
    run.expect_code(0);
    assert_eq!(run.stdout, "etcd:app/*\t5 matched, 5 loaded\n");
    assert_eq!(server.range_requests() - before, 1, "load: one range");
}

/// A config file with an authenticated etcd backend on `server`.
fn auth_config(server: &EtcdServer) -> (tempfile::TempDir, std::path::PathBuf) {
    let extra =
        "      config: { endpoint: ENDPOINT, username: reader, password_env: PPE_PASSWORD }\n";
    let settings = format!(
        "{}      allow: {{ hosts: [{:?}], env: [PPE_PASSWORD] }}\n",
        extra.replace("ENDPOINT", &format!("{:?}", server.endpoint())),
        server.addr
    );
    temp_config(&format!(
        "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n{}",
        shared_cache().display().to_string(),
        wasm_backend("etcd", &guest("etcd").expect("built"), &settings)
    ))
}

/// An etcd with authentication on, or `None` when etcd or the component
/// is missing.
fn auth_server() -> Option<EtcdServer> {
    guest("etcd")?;
    let server = EtcdServer::start(KEYS)?;
    server.enable_auth();
    Some(server)
}

#[test]
fn with_authentication_the_provider_logs_in_and_reads_what_the_user_may() {
    let Some(server) = auth_server() else {
        return;
    };
    let (_dir, config) = auth_config(&server);
    let env = [("PPE_PASSWORD", "reader-pw")];
    let run = run_with(&config, &["get", "etcd:app/db_password"], &env);
    run.expect_code(0);
    assert_eq!(run.stdout, "etcd-db-pw\n");
    let run = run_with(&config, &["list", "etcd:app/db_*"], &env);
    run.expect_code(0);
    assert_eq!(run.stdout, "app/db_password\napp/db_user\n");
    // Outside the user's role: etcd refuses, and says so.
    let run = run_with(&config, &["get", "etcd:other/secret"], &env);
    run.expect_code(3);
    assert!(run.stderr.contains("permission denied"), "{}", run.stderr);
    assert!(!run.stderr.contains("etcd-other"));
}

#[test]
fn a_wrong_password_is_a_backend_error_that_does_not_show_it() {
    let Some(server) = auth_server() else {
        return;
    };
    let (_dir, config) = auth_config(&server);
    let run = run_with(
        &config,
        &["get", "etcd:app/db_password"],
        &[("PPE_PASSWORD", "not-the-password")],
    );
    run.expect_code(3);
    assert!(
        run.stderr
            .contains("etcd refused the login of user \"reader\""),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("not-the-password"));
    // Without authentication the same server refuses the request.
    let Some(anonymous) = etcd_manager(&server, "") else {
        return;
    };
    let error = block_on(anonymous.get("etcd:app/db_password")).expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Backend);
}

#[test]
fn etcd_down_is_a_prompt_backend_error() {
    let Some(component) = guest("etcd") else {
        return;
    };
    let addr = format!("127.0.0.1:{}", free_port());
    let secrets = manager(&format!(
        "  backends:\n{}",
        wasm_backend(
            "etcd",
            &component,
            &etcd_settings(&format!("http://{addr}"), &addr, "")
        )
    ));
    let started = Instant::now();
    let error = block_on(secrets.get("etcd:app/x")).expect_err("down");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(error.kind(), ErrorKind::Backend);
    assert!(error.to_string().contains("connection refused"), "{error}");
}

#[test]
fn a_slow_answer_is_cut_off_at_the_time_limit() {
    let Some(server) = EtcdServer::start(KEYS) else {
        return;
    };
    let Some(secrets) = etcd_manager(&server, "      limits: { timeout_ms: 400 }\n") else {
        return;
    };
    block_on(secrets.get_raw("etcd:app/api_key")).expect("answers while running");
    server.freeze(true);
    let started = Instant::now();
    let error = block_on(secrets.get_raw("etcd:app/api_key")).expect_err("cut off");
    let waited = started.elapsed();
    server.freeze(false);
    assert!(waited < Duration::from_secs(10));
    assert!(error.to_string().contains("within 400 ms"), "{error}");
    // Once etcd answers again, so does the backend (a fresh instance).
    let value = block_on(secrets.get_raw("etcd:app/api_key")).expect("answers again");
    assert_eq!(value.expose(), "etcd-api-key");
}

/// A refresh of a 0.2.0 etcd provider asks what changed: one keys-only
/// range request over the declaration's prefix when nothing did, and one
/// more read per changed or added key.
#[test]
fn a_refresh_is_one_range_request_when_nothing_changed() {
    if guest("etcd").is_none() {
        return;
    }
    let keys: Vec<(String, String)> = (0..200)
        .map(|i| (format!("app/k{i:03}"), format!("v{i}")))
        .collect();
    let keys: Vec<(&str, &str)> = keys.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let Some(server) = EtcdServer::start(&keys) else {
        return;
    };
    let Some(component) = guest("etcd") else {
        return;
    };
    let settings = etcd_settings(
        &server.endpoint(),
        &server.addr,
        "      prefix: app/\n      refresh: { every: 1h }\n",
    );
    let secrets = manager(&format!(
        "  backends:\n{}  load: [\"etcd:*\"]\n",
        wasm_backend("etcd", &component, &settings)
    ));
    block_on(async {
        assert_eq!(secrets.load().await.expect("loads").loaded(), 200);

        let before = server.range_requests();
        let report = secrets.refresh_now("etcd").await.expect("refreshes");
        assert_eq!(report, Default::default());
        // One request, as a re-read would also send: the next step (two
        // requests for one change, where a re-read sends one) tells them
        // apart.
        assert_eq!(
            server.range_requests() - before,
            1,
            "nothing changed: one request"
        );

        server.put("app/k007", "changed");
        let before = server.range_requests();
        let report = secrets.refresh_now("etcd").await.expect("refreshes");
        assert_eq!(report.changed, ["k007"]);
        assert_eq!(
            server.range_requests() - before,
            2,
            "the check and one read"
        );
        assert_eq!(
            secrets.get("etcd:k007").await.expect("cached").as_text(),
            Some("changed")
        );

        server.delete("app/k008");
        server.put("app/new", "fresh");
        let before = server.range_requests();
        let report = secrets.refresh_now("etcd").await.expect("refreshes");
        assert!(report.changed.is_empty(), "{:?}", report.changed);
        assert_eq!(report.added, ["new"]);
        assert_eq!(report.removed, ["k008"]);
        assert!(secrets.cached("etcd:k008").is_none());
        assert_eq!(
            server.range_requests() - before,
            2,
            "the check and one read"
        );
    });
}
