//! An operator's first hour, through the real binary: `check` finding every
//! mistake, errors that say what was looked up, `trim`, `run --from`,
//! `export`, and the log levels of `-v`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::support::{Run, run_with, temp_config};

/// A directory with `secrets.yaml` holding `secrets` and `config.yaml`
/// holding `config` (which may name `secrets.yaml` relatively).
fn setup(config: &str, secrets: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, path) = temp_config(config);
    std::fs::write(dir.path().join("secrets.yaml"), secrets).expect("write secrets");
    (dir, path)
}

fn run(config: &Path, args: &[&str]) -> Run {
    run_with(config, args, &[])
}

const LOCAL: &str = "secrets:
  enabled: true
  backends:
    local:
      type: file
      path: secrets.yaml
";

#[test]
fn check_reports_every_broken_and_mistyped_token_with_its_place() {
    let config = format!(
        "{LOCAL}services:
  app:
    good: ${{secret://local:db}}
    missing: ${{secret://local:nope}}
    no_backend: ${{secret://vault:x}}
    no_colon: ${{secret://local}}
    list: [ok, \"url ${{secret://local:gone}}/x\"]
    slash: ${{secret:/local:db}}
    plural: ${{secrets://local:db}}
    unclosed: \"${{secret://local:db\"
"
    );
    let (_dir, config) = setup(&config, "db: s3cr3t-db\n");
    let out = run(&config, &["check"]);
    out.expect_code(1);
    let text = &out.stdout;
    assert!(
        text.starts_with(&format!("config {}: 7 problems", config.display())),
        "{text}"
    );
    for line in [
        "services.app.good: ${secret://local:db}: ok",
        "services.app.missing: ${secret://local:nope}: BROKEN: secret \"nope\" not found",
        "services.app.no_backend: ${secret://vault:x}: BROKEN: unknown backend \"vault\" in key \"vault:x\" (configured backends: local)",
        "services.app.no_colon: ${secret://local}: BROKEN: invalid key \"local\"",
        "services.app.list[1]: ${secret://local:gone}: BROKEN:",
        "services.app.slash: MISTYPED TOKEN?: `${secret:/` looks like a mistyped `${secret://`",
        "services.app.plural: MISTYPED TOKEN?: `${secrets://` looks like a mistyped",
        "services.app.unclosed: MISTYPED TOKEN?: `${secret://` has no closing `}`",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(!text.contains("s3cr3t-db") && !out.stderr.contains("s3cr3t-db"));

    let out = run(&config, &["check", "--json"]);
    out.expect_code(1);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(report["ok"], false);
    assert_eq!(report["exit_code"], 1);
    let tokens = report["tokens"].as_array().expect("tokens");
    let status = |path: &str| {
        tokens
            .iter()
            .find(|t| t["yaml_path"] == path)
            .map(|t| t["status"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(status("services.app.good").as_deref(), Some("ok"));
    assert_eq!(status("services.app.missing").as_deref(), Some("broken"));
    assert_eq!(status("services.app.unclosed").as_deref(), Some("mistyped"));
    assert_eq!(tokens.len(), 8, "{tokens:?}");
}

#[test]
fn check_says_ok_only_when_nothing_is_wrong() {
    let good = format!("{LOCAL}  load: [\"local:*\"]\nservices:\n  a: ${{secret://local:db}}\n");
    let (_dir, config) = setup(&good, "db: x\n");
    let out = run(&config, &["check"]);
    out.expect_code(0);
    assert!(
        out.stdout.starts_with(&format!(
            "config {}: ok (1 backends, 1 load declarations, 1 tokens, cache on)",
            config.display()
        )),
        "{}",
        out.stdout
    );

    // A backend whose file is missing: misconfigured, in words.
    let bad = format!("{LOCAL}    gone:\n      type: file\n      path: nothere.yaml\n");
    let (_dir, config) = setup(&bad, "db: x\n");
    let out = run(&config, &["check"]);
    out.expect_code(3);
    assert!(out.stdout.contains(": 1 problem ("), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("  gone (file): MISCONFIGURED: cannot read "),
        "{}",
        out.stdout
    );
    let out = run(&config, &["check", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(report["backends"][1]["status"], "misconfigured");
    assert_eq!(report["ok"], false);
}

#[test]
fn a_secret_that_fails_to_load_fails_check_and_load() {
    let config = format!("{LOCAL}  load: [\"local:*\"]\n");
    // `bad` reads a variable that is not set: that one secret fails.
    let (_dir, config) = setup(&config, "good: x\nbad: ${PPT_OPERATOR_UNSET}\n");
    let out = run(&config, &["check"]);
    out.expect_code(3);
    assert!(
        out.stdout
            .contains("local:*: SOME FAILED: 2 matched, 1 loaded, 1 failed (bad)"),
        "{}",
        out.stdout
    );
    let out = run(&config, &["load"]);
    out.expect_code(3);
    assert!(out.stdout.contains("1 failed (bad)"), "{}", out.stdout);
    let out = run(&config, &["load", "--json"]);
    out.expect_code(3);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    assert_eq!(report["failed"], 1);
}

#[test]
fn check_reads_the_tokens_of_the_files_it_is_given() {
    let (dir, config) = setup(LOCAL, "db: x\n");
    let service = dir.path().join("service.yaml");
    std::fs::write(
        &service,
        "db: ${secret://local:db}\napi: ${secret://local:api}\n",
    )
    .expect("write");
    let missing = dir.path().join("missing.yaml");
    let out = run(
        &config,
        &[
            "check",
            &service.display().to_string(),
            &missing.display().to_string(),
        ],
    );
    out.expect_code(1);
    let text = &out.stdout;
    assert!(
        text.contains(&format!("tokens in {}:", service.display())),
        "{text}"
    );
    assert!(text.contains("  db: ${secret://local:db}: ok"), "{text}");
    assert!(
        text.contains("  api: ${secret://local:api}: BROKEN"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "tokens in {}:\n  UNREADABLE: cannot read",
            missing.display()
        )),
        "{text}"
    );
}

#[test]
fn not_found_errors_say_what_was_looked_up_and_what_to_do() {
    let config = "secrets:
  enabled: true
  backends:
    local:
      type: file
      path: secrets.yaml
      prefix: production
    env: {}
";
    let (_dir, config) = setup(config, "production/binance: k\n");
    let out = run(&config, &["get", "local:binance"]);
    out.expect_code(0);
    assert_eq!(out.stdout, "k\n");

    let out = run(&config, &["get", "local:kraken"]);
    out.expect_code(1);
    assert_eq!(
        out.stderr.trim(),
        "pp-secrets: secret \"kraken\" not found in backend \"local\" (looked up as \"production/kraken\")"
    );
    let out = run(&config, &["get", "local:production/binance"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "(looked up as \"production/production/binance\"; the backend puts its prefix \
             \"production/\" in front itself: ask for \"binance\")"
        ),
        "{}",
        out.stderr
    );
    let out = run(&config, &["get", "local:bin*"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "a key names one secret, not a glob: list the names a glob matches with `list`"
        ),
        "{}",
        out.stderr
    );
    let out = run(&config, &["get", "vault:binance"]);
    out.expect_code(1);
    assert!(
        out.stderr.contains(
            "unknown backend \"vault\" in key \"vault:binance\" (configured backends: env, local)"
        ),
        "{}",
        out.stderr
    );
    // One message per failure: the declaration is named once.
    let config_text =
        std::fs::read_to_string(&config).expect("read") + "  load: [\"local:kraken\"]\n";
    std::fs::write(&config, config_text).expect("write");
    let out = run(&config, &["load"]);
    out.expect_code(1);
    assert_eq!(
        out.stderr.matches("local:kraken").count(),
        1,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("has no secret \"production/kraken\""),
        "{}",
        out.stderr
    );
}

#[test]
fn a_missing_or_misspelled_secrets_section_is_named() {
    let (_dir, config) = temp_config("secret:\n  enabled: true\n");
    let out = run(&config, &["get", "env:X"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains(
            "has no `secrets:` section; did you mean `secrets:` where it says `secret:`?"
        ),
        "{}",
        out.stderr
    );
    let (_dir, config) = temp_config("app: {}\n");
    let out = run(&config, &["get", "env:X"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("has no `secrets:` section"),
        "{}",
        out.stderr
    );
    let (_dir, config) = temp_config("secrets:\n  enabled: false\n");
    let out = run(&config, &["get", "env:X"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("set secrets.enabled: true"),
        "{}",
        out.stderr
    );
}

#[test]
fn render_reports_a_missing_file_before_running_the_declarations() {
    let config = format!("{LOCAL}  load: [\"local:nope\"]\n");
    let (dir, config) = setup(&config, "db: x\n");
    let missing = dir.path().join("missing.yaml");
    let out = run(&config, &["render", &missing.display().to_string()]);
    out.expect_code(2);
    assert!(out.stderr.contains("missing.yaml"), "{}", out.stderr);
    assert!(!out.stderr.contains("local:nope"), "{}", out.stderr);
}

/// Docker-style secret files end in the newline `echo` wrote.
const DOCKER_SECRETS: &str = "db: |\n  docker-pw\napi: \"key \\n\\n\"\n";

#[test]
fn trim_strips_what_the_backend_setting_says_everywhere() {
    let config = "secrets:
  enabled: true
  backends:
    raw:
      type: file
      path: secrets.yaml
    trimmed:
      type: file
      path: secrets.yaml
      trim: newline
    bare:
      type: file
      path: secrets.yaml
      trim: whitespace
services:
  app:
    raw: ${secret://raw:db}
    trimmed: ${secret://trimmed:db}
";
    let (_dir, config) = setup(config, DOCKER_SECRETS);
    // The default keeps the value as stored.
    assert_eq!(run(&config, &["get", "raw:db"]).stdout, "docker-pw\n\n");
    assert_eq!(run(&config, &["get", "trimmed:db"]).stdout, "docker-pw\n");
    assert_eq!(run(&config, &["get", "trimmed:api"]).stdout, "key \n\n");
    assert_eq!(run(&config, &["get", "bare:api"]).stdout, "key\n");
    assert_eq!(
        run(&config, &["get", "trimmed:db", "--raw"]).stdout,
        "docker-pw\n"
    );

    let out = run(
        &config,
        &[
            "run",
            "--env",
            "PW=trimmed:db",
            "--env",
            "RAW=raw:db",
            "--",
            "sh",
            "-c",
            "printf '[%s][%s]' \"$PW\" \"$RAW\"",
        ],
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "[docker-pw][docker-pw\n]");

    let out = run(&config, &["render"]);
    out.expect_code(0);
    let rendered: serde_yaml::Value = serde_yaml::from_str(&out.stdout).expect("YAML");
    assert_eq!(rendered["services"]["app"]["trimmed"], "docker-pw");
    assert_eq!(rendered["services"]["app"]["raw"], "docker-pw\n");

    let out = run(&config, &["load"]);
    out.expect_code(0);
    let bad = "secrets:\n  enabled: true\n  backends:\n    x: { type: file, path: s.yaml, trim: lines }\n";
    let (_dir, bad) = temp_config(bad);
    let out = run(&bad, &["list", "x:*"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains("secrets.backends.x.trim: unknown trim \"lines\" (expected one of: none, newline, whitespace)"),
        "{}",
        out.stderr
    );
}

/// Values that quoting gets wrong if it can, by name, with the variable
/// `--prefix APP_` gives each: quotes of both kinds, `$`, backslashes (one
/// at the end), `#`, line ends (a lone `\r`, a trailing `\n`), tabs,
/// spaces at both ends, other control characters.
const TRICKY: &[(&str, &str, &str)] = &[
    ("plain", "APP_PLAIN", "simple"),
    (
        "db/password",
        "APP_DB_PASSWORD",
        "it's a \"quoted\" $HOME `value` $(true)",
    ),
    ("db-url", "APP_DB_URL", "postgres://u:p@h/db?x=1#frag"),
    ("multi/line", "APP_MULTI_LINE", "line1\nline2\r\n\tend\\n"),
    ("spaced", "APP_SPACED", "  both ends  "),
    ("backslash", "APP_BACKSLASH", "ends in \\"),
    ("newline", "APP_NEWLINE", "ends in a newline\n"),
    ("carriage", "APP_CARRIAGE", "a lone\rreturn"),
    ("control", "APP_CONTROL", "bell\u{7} escape\u{1b}[0m"),
    ("quotes", "APP_QUOTES", "'''\"\"\"''"),
];

/// A `file` backend holding `TRICKY` (written as YAML by serde_yaml, so
/// the file holds exactly those values).
fn tricky_setup() -> (tempfile::TempDir, std::path::PathBuf) {
    let map: std::collections::BTreeMap<&str, &str> = TRICKY
        .iter()
        .map(|(name, _, value)| (*name, *value))
        .collect();
    setup(LOCAL, &serde_yaml::to_string(&map).expect("YAML"))
}

#[test]
fn run_from_passes_every_match_under_its_environment_name() {
    let (_dir, config) = tricky_setup();
    let out = run(
        &config,
        &[
            "run",
            "--from",
            "local:db*",
            "--from",
            "local:plain",
            "--env",
            "DB_URL=local:plain",
            "--",
            "sh",
            "-c",
            "printf '%s|%s|%s' \"$DB_PASSWORD\" \"$DB_URL\" \"$PLAIN\"",
        ],
    );
    out.expect_code(0);
    // --env wins over --from for the same variable.
    assert_eq!(
        out.stdout,
        "it's a \"quoted\" $HOME `value` $(true)|simple|simple"
    );

    let out = run(
        &config,
        &["run", "--from", "local:*", "--prefix", "APP_", "--", "env"],
    );
    out.expect_code(0);
    for (_, var, value) in TRICKY {
        if !value.contains(['\n', '\r']) {
            assert!(
                out.stdout.contains(&format!("\n{var}={value}\n"))
                    || out.stdout.starts_with(&format!("{var}={value}\n")),
                "{var} not passed as expected"
            );
        }
    }
}

#[test]
fn run_from_reports_names_that_make_no_variable() {
    let (_dir, config) = setup(LOCAL, "9lives: a\nok: b\ndb-x: c\ndb_x: d\n");
    let out = run(&config, &["run", "--from", "local:*", "--", "true"]);
    out.expect_code(2);
    assert!(
        out.stderr
            .contains("local:9lives: no environment variable name: it would start with a digit"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("local:db_x and local:db-x would both be DB_X")
            || out
                .stderr
                .contains("local:db-x and local:db_x would both be DB_X"),
        "{}",
        out.stderr
    );
    let out = run(
        &config,
        &["run", "--from", "local:*", "--prefix", "1X", "--", "true"],
    );
    out.expect_code(2);
    assert!(out.stderr.contains("--prefix \"1X\""), "{}", out.stderr);
}

#[test]
fn export_round_trips_through_the_dotenv_parser_a_shell_and_json() {
    let (dir, config) = tricky_setup();
    let expected: Vec<(&str, &str)> = TRICKY
        .iter()
        .map(|(_, var, value)| (*var, *value))
        .collect();
    let exported = |format: &str| {
        let file = dir.path().join(format!("exported.{format}"));
        let out = run(
            &config,
            &[
                "export",
                "local:*",
                "--prefix",
                "APP_",
                "--format",
                format,
                "--output",
                &file.display().to_string(),
            ],
        );
        out.expect_code(0);
        assert_eq!(out.stdout, "", "--output prints nothing");
        let mode = std::fs::metadata(&file)
            .expect("written")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{format}");
        file
    };

    // dotenv: read back by this project's own parser (a dotenv backend).
    let dotenv = exported("dotenv");
    let reader = format!(
        "secrets:\n  enabled: true\n  backends:\n    back: {{ type: dotenv, path: {:?} }}\n",
        dotenv.display().to_string()
    );
    let (_rdir, reader) = temp_config(&reader);
    for (var, value) in &expected {
        let out = run(&reader, &["get", &format!("back:{var}"), "--raw"]);
        out.expect_code(0);
        assert!(
            out.stdout == format!("{value}\n"),
            "dotenv value of {var} differs"
        );
    }

    // shell: sourced by a POSIX shell.
    let shell = exported("shell");
    for (var, value) in &expected {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(". \"$1\" && printf %s \"${var}\""))
            .arg("sh")
            .arg(&shell)
            .output()
            .expect("sh runs");
        assert!(out.status.success());
        assert!(
            out.stdout == value.as_bytes(),
            "shell value of {var} differs"
        );
    }

    // json: one object of strings.
    let json = exported("json");
    let object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(json).expect("read")).expect("JSON");
    assert_eq!(object.len(), expected.len());
    for (var, value) in &expected {
        assert!(object[*var] == *value, "JSON value of {var} differs");
    }

    // Printed, it is the same text as written.
    let out = run(&config, &["export", "local:*", "--prefix", "APP_"]);
    out.expect_code(0);
    assert_eq!(out.stdout, std::fs::read_to_string(dotenv).expect("read"));
}

#[test]
fn export_writes_nothing_when_it_fails() {
    // A pattern on an unknown backend fails before anything is written.
    let (dir, config) = setup(LOCAL, "db: x\n");
    let file = dir.path().join("out.env");
    let out = run(
        &config,
        &["export", "vault:*", "--output", &file.display().to_string()],
    );
    out.expect_code(1);
    assert!(!file.exists());
}

#[test]
fn run_from_leaves_what_env_maps_to_it_and_refuses_runtime_variables() {
    // `9lives` makes no variable name and `path` would set PATH: both are
    // refused, unless --env names them.
    let (_dir, config) = setup(LOCAL, "9lives: a\npath: /tmp/evil\nok: b\n");
    let out = run(&config, &["run", "--from", "local:*", "--", "true"]);
    out.expect_code(2);
    assert!(
        out.stderr.contains(
            "local:path: no environment variable name: it would set a variable that \
             changes how programs run"
        ),
        "{}",
        out.stderr
    );
    let out = run(
        &config,
        &[
            "run",
            "--from",
            "local:*",
            "--env",
            "NINE=local:9lives",
            "--env",
            "SEARCH=local:path",
            "--",
            "sh",
            "-c",
            "printf '%s|%s|%s' \"$NINE\" \"$SEARCH\" \"$OK\"",
        ],
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "a|/tmp/evil|b");
    // Under a prefix `path` is APP_PATH, which changes nothing.
    let out = run(
        &config,
        &[
            "export", "local:p*", "--prefix", "APP_", "--format", "shell",
        ],
    );
    out.expect_code(0);
    assert_eq!(out.stdout, "export APP_PATH='/tmp/evil'\n");
}
