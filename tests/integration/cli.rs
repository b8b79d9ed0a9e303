//! The `pp-secrets` binary, per the README's "Command line reference": commands, output formats, config
//! discovery and exit codes.

use std::fs;

use crate::support::{Run, basic, cli, fixture, run_with, temp_config};

#[test]
fn get_prints_text_as_is_with_a_newline() {
    let r = basic(&["get", "local:db_host"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "localhost\n");
}

#[test]
fn get_prints_an_object_as_compact_json() {
    let r = basic(&["get", "local:api_credentials"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "{\"key\":\"abc\",\"secret\":\"xyz\"}\n");
}

#[test]
fn get_json_encodes_text_as_a_json_string() {
    let r = basic(&["get", "local:db_host", "--json"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "\"localhost\"\n");
}

#[test]
fn get_raw_prints_the_stored_string_unparsed() {
    let r = basic(&["get", "local:api_credentials", "--raw"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "{\"key\": \"abc\", \"secret\": \"xyz\"}\n");
    let r = basic(&["get", "local:api_credentials", "--raw", "--json"]);
    assert_eq!(
        r.stdout,
        "\"{\\\"key\\\": \\\"abc\\\", \\\"secret\\\": \\\"xyz\\\"}\"\n"
    );
}

#[test]
fn get_through_a_prefix_uses_the_logical_name() {
    let r = basic(&["get", "env:API_KEY"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "env-api-key\n");
    let r = basic(&["get", "scoped:binance-futures"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "bf\n");
}

#[test]
fn get_does_not_run_the_load_declarations() {
    // The only load declaration names a missing exact secret; `get` of
    // another secret still works, while `load` fails.
    let (_dir, config) = temp_config(
        "secrets:\n  enabled: true\n  backends:\n    env: {}\n  load: [\"env:PPT_MISSING\"]\n",
    );
    run_with(
        &config,
        &["get", "env:PPT_PRESENT"],
        &[("PPT_PRESENT", "x")],
    )
    .expect_code(0);
    run_with(&config, &["list", "env:PPT_*"], &[("PPT_PRESENT", "x")]).expect_code(0);
    run_with(&config, &["load"], &[]).expect_code(1);
}

#[test]
fn missing_secret_exits_1() {
    let r = basic(&["get", "local:does_not_exist"]);
    r.expect_code(1);
    assert!(r.stderr.contains("does_not_exist"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn unknown_backend_in_get_exits_1_saying_unknown_backend() {
    let r = basic(&["get", "nope:x"]);
    r.expect_code(1);
    assert!(r.stderr.contains("unknown backend"), "{}", r.stderr);
}

#[test]
fn key_without_colon_is_a_usage_error() {
    let r = basic(&["get", "API_KEY"]);
    r.expect_code(2);
    assert!(r.stderr.contains("backend:name"), "{}", r.stderr);
}

#[test]
fn bad_arguments_exit_2() {
    basic(&["get"]).expect_code(2);
    basic(&["frobnicate"]).expect_code(2);
    basic(&["run", "--env", "NOEQUALS", "--", "true"]).expect_code(2);
}

#[test]
fn backend_failure_exits_3_naming_the_path() {
    let (dir, config) = temp_config(
        "secrets:\n  enabled: true\n  backends:\n    local:\n      type: file\n      path: absent.yaml\n",
    );
    let r = run_with(&config, &["get", "local:x"], &[]);
    r.expect_code(3);
    assert!(
        r.stderr
            .contains(&dir.path().join("absent.yaml").display().to_string()),
        "{}",
        r.stderr
    );
}

#[test]
fn list_prints_logical_names_sorted_one_a_line() {
    let r = basic(&["list", "local:db_*"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "db_host\ndb_password\ndb_port\n");
}

#[test]
fn list_strips_the_prefix_and_never_leaves_it() {
    let r = basic(&["list", "scoped:*"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "binance\nbinance-futures\n");
    let r = basic(&["list", "scoped:binance"]);
    assert_eq!(r.stdout, "binance\n");
}

#[test]
fn list_over_env_matches_variable_names_case_sensitively() {
    let r = run_with(
        &fixture("basic/config.yaml"),
        &["list", "env:A*"],
        &[
            ("PPT_API_KEY", "1"),
            ("PPT_AB", "2"),
            ("PPT_api", "3"),
            ("OTHER_A", "4"),
        ],
    );
    r.expect_code(0);
    assert_eq!(r.stdout, "AB\nAPI_KEY\n");
}

#[test]
fn load_prints_counts_per_declaration() {
    let r = basic(&["load"]);
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        "local:db_*\t3 matched, 3 loaded\ndotenv:*\t2 matched, 2 loaded\n"
    );
}

#[test]
fn render_resolves_the_config_tokens() {
    let r = basic(&["render"]);
    r.expect_code(0);
    let tree: serde_yaml::Value = serde_yaml::from_str(&r.stdout).expect("yaml output");
    let svc = &tree["services"]["my_service"];
    assert_eq!(svc["api_key"], "env-api-key");
    assert_eq!(svc["credentials"]["secret"], "xyz");
    assert_eq!(svc["dsn"], "postgres://app:pw-from-env@localhost/app");
    assert_eq!(svc["timeout"], "30");
}

#[test]
fn render_file_applies_var_expansion_and_tokens_like_the_config() {
    let file = fixture("render/service.yaml");
    let r = run_with(
        &fixture("basic/config.yaml"),
        &["render", file.to_str().expect("utf-8 path")],
        &[("PPT_API_KEY", "k"), ("PPT_SERVICE_NAME", "payments")],
    );
    r.expect_code(0);
    let tree: serde_yaml::Value = serde_yaml::from_str(&r.stdout).expect("yaml output");
    assert_eq!(tree["service"]["name"], "payments");
    assert_eq!(tree["service"]["key"], "pw-from-default");
    assert_eq!(tree["service"]["creds"]["key"], "abc");
    assert_eq!(
        tree["service"]["url"],
        "https://x/?c={\"key\":\"abc\",\"secret\":\"xyz\"}"
    );
}

#[test]
fn render_fails_on_an_unresolvable_token_naming_it_and_its_path() {
    // Without PPT_API_KEY, `${secret://env:API_KEY}` cannot resolve.
    let r = run_with(&fixture("basic/config.yaml"), &["render"], &[]);
    r.expect_code(1);
    assert!(r.stderr.contains("${secret://env:API_KEY}"), "{}", r.stderr);
    assert!(
        r.stderr.contains("services.my_service.api_key"),
        "{}",
        r.stderr
    );
}

#[test]
fn run_passes_secrets_in_the_environment_and_forwards_the_exit_code() {
    let r = basic(&[
        "run",
        "--env",
        "DB_PW=local:db_password",
        "--env",
        "CREDS=local:api_credentials",
        "--",
        "sh",
        "-c",
        "printf '%s|%s|%s' \"$DB_PW\" \"$CREDS\" \"$PPT_API_KEY\"; exit 42",
    ]);
    r.expect_code(42);
    assert_eq!(
        r.stdout,
        "pw-from-env|{\"key\":\"abc\",\"secret\":\"xyz\"}|env-api-key"
    );
}

#[test]
fn run_never_puts_secrets_on_the_child_command_line() {
    let r = basic(&[
        "run",
        "--env",
        "DB_PW=local:db_password",
        "--",
        "sh",
        "-c",
        "cat /proc/$$/cmdline",
    ]);
    r.expect_code(0);
    assert!(!r.stdout.contains("pw-from-env"));
}

#[test]
fn run_with_a_missing_secret_does_not_start_the_child() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("started");
    let r = basic(&[
        "run",
        "--env",
        "X=local:absent",
        "--",
        "touch",
        marker.to_str().expect("utf-8"),
    ]);
    r.expect_code(1);
    assert!(!marker.exists());
}

#[test]
fn run_fails_when_a_load_declaration_fails() {
    let (_dir, config) = temp_config(
        "secrets:\n  enabled: true\n  backends:\n    env: {}\n  load: [\"env:PPT_MISSING\"]\n",
    );
    run_with(&config, &["run", "--", "true"], &[]).expect_code(1);
    run_with(&config, &["render"], &[]).expect_code(1);
    run_with(&config, &["check"], &[]).expect_code(1);
}

#[test]
fn check_reports_backends_and_declaration_counts() {
    let r = basic(&["check"]);
    r.expect_code(0);
    assert!(r.stdout.contains("local (file): reachable"), "{}", r.stdout);
    assert!(
        r.stdout.contains("local:db_*: 3 matched, 3 loaded"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("dotenv:*: 2 matched, 2 loaded"),
        "{}",
        r.stdout
    );
}

#[test]
fn check_reports_a_backend_whose_file_is_missing_as_misconfigured_and_exits_3() {
    let (_dir, config) = temp_config(
        "secrets:\n  enabled: true\n  backends:\n    env: {}\n    gone:\n      type: dotenv\n      path: missing.env\n",
    );
    let r = run_with(&config, &["check"], &[]);
    r.expect_code(3);
    assert!(r.stdout.contains("env (env): reachable"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("gone (dotenv): MISCONFIGURED: cannot read "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("missing.env"), "{}", r.stdout);
}

/// A backend whose provider cannot be built (its component is missing) is
/// reported, the others are still checked, and a declaration on it is
/// reported as skipped; the exit code is the missing file's (2, a
/// configuration error).
#[cfg(feature = "wasm")]
#[test]
fn check_reports_a_backend_that_cannot_be_built_and_goes_on() {
    let (_dir, config) = temp_config(
        "secrets:\n  enabled: true\n  backends:\n    env: {}\n    broken:\n      type: wasm\n      \
         path: missing.wasm\n  load: [\"broken:*\", \"env:PATH\"]\n",
    );
    let r = run_with(&config, &["check"], &[]);
    r.expect_code(2);
    for line in [
        "env (env): reachable",
        "broken (wasm): NOT LOADED: secrets.backends.broken.path: cannot read ",
        "broken:*: skipped: backend \"broken\" is not loaded",
        "env:PATH: 1 matched, 1 loaded",
    ] {
        assert!(r.stdout.contains(line), "{line:?} in {}", r.stdout);
    }
    assert!(r.stdout.contains("missing.wasm"), "{}", r.stdout);

    let r = run_with(&config, &["check", "--json"], &[]);
    r.expect_code(2);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("one JSON document");
    assert_eq!(report["ok"], false);
    assert_eq!(report["exit_code"], 2);
    assert_eq!(report["backends"][1]["name"], "broken");
    assert_eq!(report["backends"][1]["status"], "not_loaded");
    assert_eq!(report["backends"][1]["exit_code"], 2);
    assert_eq!(report["declarations"][0]["status"], "skipped");
    assert_eq!(report["declarations"][1]["status"], "loaded");
}

/// The exit code is that of the first problem in the report's order, not
/// the first one found.
#[cfg(feature = "wasm")]
#[test]
fn check_exits_with_the_code_of_the_first_problem_listed() {
    let (_dir, config) = temp_config(
        "secrets:\n  enabled: true\n  backends:\n    aaa:\n      type: dotenv\n      \
         path: missing.env\n    zzz:\n      type: wasm\n      path: missing.wasm\n",
    );
    // aaa is unreachable (3), zzz cannot be built (2): aaa comes first.
    run_with(&config, &["check"], &[]).expect_code(3);
}

#[test]
fn list_load_and_check_print_one_json_document_each() {
    let r = basic(&["list", "local:db_*", "--json"]);
    r.expect_code(0);
    let list: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(
        list,
        serde_json::json!({"pattern": "local:db_*", "names": ["db_host", "db_password", "db_port"]})
    );

    let r = basic(&["load", "--json"]);
    r.expect_code(0);
    let load: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(load["declarations"][0]["declaration"], "local:db_*");
    assert_eq!(load["declarations"][0]["matched"], 3);
    assert_eq!(load["declarations"][0]["loaded"], 3);
    assert_eq!(load["declarations"][0]["failed"], serde_json::json!([]));
    let total: u64 = load["declarations"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|d| d["loaded"].as_u64())
        .sum();
    assert_eq!(load["loaded"], total);

    let r = basic(&["check", "--json"]);
    r.expect_code(0);
    let check: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(check["ok"], true);
    assert_eq!(check["exit_code"], 0);
    assert_eq!(check["config"]["backends"], 4);
    assert_eq!(check["config"]["cache"], true);
    let statuses: Vec<_> = check["backends"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|b| (b["name"].as_str(), b["type"].as_str(), b["status"].as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            (Some("env"), Some("env"), Some("reachable")),
            (Some("local"), Some("file"), Some("reachable")),
            (Some("scoped"), Some("file"), Some("reachable")),
            (Some("dotenv"), Some("dotenv"), Some("reachable")),
        ]
    );
    assert_eq!(check["declarations"][0]["status"], "loaded");
    assert_eq!(check["declarations"][0]["loaded"], 3);
}

#[test]
fn a_malformed_glob_is_a_usage_error_everywhere() {
    let r = basic(&["list", "local:[z-a]"]);
    r.expect_code(2);
    assert!(r.stderr.contains("[z-a]"), "{}", r.stderr);
    let (_dir, config) = temp_config(
        "secrets:\n  enabled: true\n  backends:\n    env: {}\n  load: [\"env:[z-a]\"]\n",
    );
    run_with(&config, &["load"], &[]).expect_code(2);
    #[cfg(feature = "wasm")]
    {
        let r = basic(&["run-wasm", "app.wasm", "--allow", "local:[z-a]"]);
        r.expect_code(2);
        assert!(r.stderr.contains("[z-a]"), "{}", r.stderr);
    }
}

#[test]
fn disabled_subsystem_exits_2_saying_so() {
    let r = run_with(&fixture("errors/disabled.yaml"), &["get", "env:X"], &[]);
    r.expect_code(2);
    assert!(r.stderr.contains("disabled"), "{}", r.stderr);
    run_with(&fixture("errors/no-secrets-section.yaml"), &["load"], &[]).expect_code(2);
}

#[test]
fn config_errors_exit_2() {
    for file in [
        "unknown-field.yaml",
        "unknown-type.yaml",
        "missing-path.yaml",
        #[cfg(not(feature = "wasm"))]
        "wasm-not-built.yaml",
        "unknown-section-field.yaml",
        "unset-var.yaml",
        "bad-declaration.yaml",
    ] {
        let r = run_with(&fixture(&format!("errors/{file}")), &["get", "env:X"], &[]);
        assert_eq!(r.code, 2, "{file}: {}", r.stderr);
        assert!(
            r.stderr.contains(file),
            "{file}: message names the file: {}",
            r.stderr
        );
    }
}

#[test]
fn missing_config_file_exits_2_naming_it() {
    let r = run_with(
        std::path::Path::new("/nonexistent/pp.yaml"),
        &["get", "env:X"],
        &[],
    );
    r.expect_code(2);
    assert!(r.stderr.contains("/nonexistent/pp.yaml"), "{}", r.stderr);
}

#[test]
fn config_comes_from_flag_then_environment_then_working_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, value: &str| {
        let path = dir.path().join(name);
        fs::write(
            &path,
            format!("secrets:\n  enabled: true\n  backends:\n    f:\n      type: file\n      path: {name}.secrets\n"),
        )
        .expect("write");
        fs::write(
            dir.path().join(format!("{name}.secrets")),
            format!("which: {value}\n"),
        )
        .expect("write");
        path
    };
    write("config.yaml", "cwd");
    let from_env = write("env.yaml", "env");
    let from_flag = write("flag.yaml", "flag");

    let get = |cmd: &mut std::process::Command| -> String {
        Run::from(
            cmd.args(["get", "f:which"])
                .current_dir(dir.path())
                .output()
                .expect("runs"),
        )
        .stdout
    };
    assert_eq!(get(&mut cli()), "cwd\n");
    assert_eq!(get(cli().env("PP_SECRETS_CONFIG", &from_env)), "env\n");
    assert_eq!(
        get(cli()
            .env("PP_SECRETS_CONFIG", &from_env)
            .arg("--config")
            .arg(&from_flag)),
        "flag\n"
    );
}

#[test]
fn relative_paths_resolve_against_the_config_directory() {
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let r = Run::from(
        cli()
            .current_dir(elsewhere.path())
            .arg("-c")
            .arg(fixture("basic/config.yaml"))
            .args(["get", "dotenv:DOTENV_TWO"])
            .output()
            .expect("runs"),
    );
    r.expect_code(0);
    assert_eq!(r.stdout, "two\n");
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in ["get", "list", "load", "render", "run", "check"] {
        let r = Run::from(cli().args([command, "--help"]).output().expect("runs"));
        r.expect_code(0);
        assert!(
            r.stdout.contains("Example"),
            "{command} --help lacks an example"
        );
        assert!(r.stdout.contains("pp-secrets"), "{command} --help");
    }
}

#[test]
fn verbose_flag_and_rust_log_control_diagnostics_on_stderr() {
    let quiet = basic(&["get", "local:db_host"]);
    assert!(!quiet.stderr.contains("DEBUG"));
    let loud = basic(&["-vv", "get", "local:db_host"]);
    assert!(loud.stderr.contains("DEBUG"), "{}", loud.stderr);
    assert_eq!(loud.stdout, "localhost\n");
    let r = run_with(
        &fixture("basic/config.yaml"),
        &["get", "local:db_host"],
        &[("RUST_LOG", "debug")],
    );
    assert!(r.stderr.contains("DEBUG"), "{}", r.stderr);
}
