//! `pp-secrets run-wasm` end to end: the example apps, exit codes, limits
//! and the denial log.

use super::{guest, shared_cache};
use crate::support::{Run, fixture, run_with};

/// Runs `pp-secrets run-wasm <app> <args>` on the apps fixture.
fn run_wasm(app: &std::path::Path, args: &[&str]) -> Run {
    let cache = shared_cache().display().to_string();
    let app = app.display().to_string();
    let mut full = vec!["run-wasm", app.as_str()];
    full.extend_from_slice(args);
    run_with(
        &fixture("wasm/apps.yaml"),
        &full,
        &[
            ("PP_WASM_CACHE", cache.as_str()),
            ("PPA_TOKEN", "app-token-value"),
        ],
    )
}

#[test]
fn the_sdk_example_reads_an_object_and_an_optional_secret() {
    let Some(app) = guest("db-report") else {
        return;
    };
    let run = run_wasm(
        &app,
        &[
            "--allow",
            "local:database",
            "--allow",
            "env:TOKEN",
            "--",
            "local:database",
            "env:TOKEN",
        ],
    );
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        "database: postgres://svc@db.internal:5433/orders (password: 15 characters)\n\
         token: set (15 characters)\n"
    );
    assert!(!run.stderr.contains("app-db-password"));
}

#[test]
fn the_sdk_example_exits_4_when_denied_and_the_denial_is_logged() {
    let Some(app) = guest("db-report") else {
        return;
    };
    let run = run_wasm(
        &app,
        &[
            "--allow",
            "local:api_key",
            "--",
            "local:database",
            "env:TOKEN",
        ],
    );
    run.expect_code(4);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(
        run.stderr.contains("access denied")
            && run.stderr.contains("app=pp-secrets-example-db-report")
            && run.stderr.contains("key=local:database"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("app-db-password"));
}

#[test]
fn the_wasi_config_example_sees_only_allowed_secrets() {
    let Some(app) = guest("config-report") else {
        return;
    };
    let run = run_wasm(&app, &["--allow", "local:*", "--", "--all"]);
    run.expect_code(0);
    assert_eq!(
        run.stdout,
        "local:api_key: set (11 characters)\nlocal:database: set (94 characters)\n\
         local:unrelated: set (19 characters)\n"
    );
    let run = run_wasm(
        &app,
        &["--allow", "env:TOKEN", "--", "env:TOKEN", "env:MISSING"],
    );
    run.expect_code(1);
    assert_eq!(run.stdout, "env:TOKEN: set (15 characters)\n");
    assert!(run.stderr.contains("access denied"), "{}", run.stderr);
}

#[test]
fn run_wasm_exits_with_the_apps_code() {
    let Some(app) = guest("probe") else {
        return;
    };
    run_wasm(&app, &["--", "exit", "0"]).expect_code(0);
    run_wasm(&app, &["--", "exit", "42"]).expect_code(42);
}

#[test]
fn run_wasm_grants_environment_variables_only_when_asked() {
    let Some(app) = guest("probe") else {
        return;
    };
    let run = run_wasm(&app, &["--", "env", "PPA_TOKEN"]);
    run.expect_code(0);
    assert_eq!(run.stdout, "env PPA_TOKEN: unset\n");
    let run = run_wasm(
        &app,
        &["--allow-env", "PPA_TOKEN", "--", "env", "PPA_TOKEN"],
    );
    assert_eq!(run.stdout, "env PPA_TOKEN: app-token-value\n");
}

#[test]
fn run_wasm_stops_an_app_at_its_limits() {
    let Some(app) = guest("probe") else {
        return;
    };
    let run = run_wasm(&app, &["--timeout-ms", "200", "--", "loop"]);
    run.expect_code(3);
    assert!(run.stderr.contains("within 200 ms"), "{}", run.stderr);
    let run = run_wasm(&app, &["--memory-mb", "8", "--", "allocate", "32"]);
    run.expect_code(3);
    assert!(run.stderr.contains("ran out of memory"), "{}", run.stderr);
    let run = run_wasm(&app, &["--memory-mb", "0", "--", "exit", "0"]);
    run.expect_code(2);
    assert!(run.stderr.contains("memory limit"), "{}", run.stderr);
}

#[test]
fn run_wasm_refuses_a_malformed_allow_pattern() {
    let Some(app) = guest("probe") else {
        return;
    };
    let run = run_wasm(&app, &["--allow", "no-backend", "--", "exit", "0"]);
    run.expect_code(2);
    assert!(run.stderr.contains("no-backend"), "{}", run.stderr);
}

#[test]
fn denials_are_logged_a_few_at_a_time_then_counted() {
    let Some(app) = guest("probe") else {
        return;
    };
    let mut args = vec!["--allow", "local:api_key", "--"];
    for _ in 0..10 {
        args.extend_from_slice(&["get", "local:database", "http", "http://127.0.0.1:9/"]);
    }
    let run = run_wasm(&app, &args);
    run.expect_code(0);
    let one_by_one = run.stderr.matches("access denied").count()
        + run.stderr.matches("HTTP request denied").count();
    assert_eq!(one_by_one, 5, "{}", run.stderr);
    assert!(run.stderr.contains("20 warnings in all"), "{}", run.stderr);
}

#[test]
fn an_apps_name_from_its_file_is_escaped() {
    let Some(app) = guest("probe") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let renamed = dir.path().join("evil\u{1b}[31mname\nforged.wasm");
    std::fs::copy(&app, &renamed).expect("copy");
    let run = run_wasm(&renamed, &["--", "get", "local:database"]);
    run.expect_code(0);
    assert!(
        run.stderr.contains("evil\\u{1b}[31mname\\nforged"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\u{1b}'), "{}", run.stderr);
}
