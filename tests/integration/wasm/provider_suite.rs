//! The provider test-suite (`pp_secrets::provider_suite`, the command
//! `pp-secrets test-provider`) run against every provider the test command
//! builds: the Rust `dir` provider against WIT 0.2.0 and 0.1.0
//! (`wit/v0.1.0`, which the host keeps serving), the Python `json`
//! provider (`providers/json`) and the JavaScript `ini` provider
//! (`providers/ini`), each under the default limits; then what the suite
//! cannot ask of every provider: the dir provider's bytes and exact call
//! counts per version, and a component of a version the host does not
//! serve.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pp_secrets::provider_suite::{Outcome, SuiteFile, SuiteReport, run_suite};
use pp_secrets::wasm::{CompileCache, WasmProvider};
use pp_secrets::{SecretValue, SecretsManager};

use super::{counted_backend, guest, serving_dir, shared_cache, wasm_backend};
use crate::support::{Run, block_on, cli};

/// One build of a provider under test.
struct Build {
    component: PathBuf,
    /// The interface version it exports.
    version: &'static str,
}

/// The builds of the `dir` provider (none when they are not built, after
/// saying so; a failure under `CI=true`).
fn dir_builds() -> Vec<Build> {
    let mut builds = Vec::new();
    if let Some(component) = guest("dir") {
        builds.push(Build {
            component,
            version: "0.2.0",
        });
    }
    if let Some(component) = guest("dir-v0-1") {
        builds.push(Build {
            component,
            version: "0.1.0",
        });
    }
    builds
}

/// A directory of secret files for the suite.
fn secrets_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, value) in [
        ("db_password", "s3cr3t-canary"),
        ("db_user", "billing"),
        ("api_key", "{\"id\": 7, \"key\": \"k\"}"),
        ("Db_upper", "case"),
        ("a*b", "literal star"),
        ("b?c", "literal question mark"),
    ] {
        std::fs::write(dir.path().join(name), value).expect("write");
    }
    dir
}

/// The backend `d` of `build` over `dir` with `prefix`, and its provider
/// (to count its calls), refreshed only when asked.
fn backend(build: &Build, dir: &Path, prefix: &str) -> (SecretsManager, Arc<WasmProvider>) {
    let backend = wasm_backend("d", &build.component, &serving_dir(dir));
    let (manager, provider) = counted_backend("d", &backend, prefix, &[]);
    assert_eq!(provider.interface_version(), build.version);
    (manager, provider)
}

fn text(manager: &SecretsManager, key: &str) -> String {
    match block_on(manager.get(key)) {
        Ok(SecretValue::Text(t)) => t.expose().to_owned(),
        Ok(other) => panic!("{key}: expected text, got {}", other.describe()),
        Err(e) => panic!("{key}: {e}"),
    }
}

/// The provider test-suite's report on `component`, read through a suite
/// file of `fixture` and the backend settings `backend` (YAML lines at the
/// `backend:` level), as `pp-secrets test-provider` reads one.
fn suite_report(component: &Path, fixture: &str, backend: &str) -> SuiteReport {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("suite.yaml");
    let yaml = format!(
        "fixture: {fixture}\nbackend:\n  path: {:?}\n{backend}",
        component.display().to_string()
    );
    std::fs::write(&file, yaml).expect("write");
    let suite = SuiteFile::from_file(&file, CompileCache::in_dir(shared_cache()))
        .unwrap_or_else(|e| panic!("the suite file is valid: {e}"));
    block_on(run_suite(&suite, suite.format()))
}

/// The detail of a passed check.
fn detail<'a>(report: &'a SuiteReport, check: &str) -> &'a str {
    report
        .results
        .iter()
        .find(|r| r.check == check && r.outcome == Outcome::Passed)
        .map(|r| r.detail.as_str())
        .unwrap_or_else(|| panic!("{check} passed:\n{report}"))
}

/// The checks a report skipped.
fn skipped(report: &SuiteReport) -> Vec<&'static str> {
    report.skipped().map(|r| r.check).collect()
}

/// The backend settings of a provider reading the one file `name` of the
/// fixture.
fn file_backend(name: &str) -> String {
    format!(
        "  config: {{ file: \"${{FIXTURE}}/{name}\" }}\n  allow: {{ dirs: [\"${{FIXTURE}}\"] }}\n"
    )
}

/// Whether the suite ran under the default limits, as it says in its notes.
fn under_default_limits(report: &SuiteReport) -> bool {
    report
        .notes
        .iter()
        .any(|n| n == "run under the default limits")
}

const DIR_BACKEND: &str =
    "  config: { dir: \"${FIXTURE}\" }\n  allow: { dirs: [\"${FIXTURE}\"] }\n";

#[test]
fn the_suite_passes_for_the_rust_dir_provider_of_each_version() {
    for build in dir_builds() {
        let report = suite_report(&build.component, "files", DIR_BACKEND);
        assert!(report.passed(), "{}:\n{report}", build.version);
        // A files fixture holds no nesting and cannot be malformed.
        match build.version {
            "0.2.0" => {
                assert_eq!(skipped(&report), ["a malformed fixture"], "{report}");
                assert!(detail(&report, "versions").ends_with("versioned"));
                assert!(
                    detail(&report, "refresh").starts_with("unchanged: one change check, no reads"),
                    "{report}"
                );
            }
            _ => {
                // 0.1.0 carries text only and has no versions.
                assert_eq!(
                    skipped(&report),
                    ["bytes", "a malformed fixture", "versions"],
                    "{report}"
                );
                assert!(
                    detail(&report, "refresh").starts_with("unchanged: re-read"),
                    "{report}"
                );
            }
        }
    }
}

#[test]
fn the_suite_passes_for_the_python_json_provider() {
    let Some(component) = guest("json") else {
        return;
    };
    let report = suite_report(&component, "json", &file_backend("secrets.json"));
    assert!(report.passed(), "{report}");
    assert!(skipped(&report).is_empty(), "{report}");
    assert!(under_default_limits(&report), "{report}");
}

#[test]
fn the_suite_passes_for_the_javascript_ini_provider() {
    let Some(component) = guest("ini") else {
        return;
    };
    let report = suite_report(&component, "ini", &file_backend("secrets.ini"));
    assert!(report.passed(), "{report}");
    // An INI file holds text only.
    assert_eq!(skipped(&report), ["bytes"], "{report}");
    assert!(under_default_limits(&report), "{report}");
}

#[test]
fn the_suite_fails_a_provider_over_a_fixture_it_does_not_read() {
    // The dir provider pointed at a directory holding one secrets.json
    // serves that file as one secret: the suite must say so.
    let Some(component) = guest("dir") else {
        return;
    };
    let report = suite_report(&component, "json", DIR_BACKEND);
    assert!(!report.passed(), "{report}");
    let failed: Vec<_> = report.failed().map(|r| r.check).collect();
    assert!(failed.contains(&"set-up"), "{report}");
}

#[test]
fn test_provider_runs_the_suite_file_of_the_dir_provider() {
    if guest("dir").is_none() {
        return;
    }
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("../providers/dir/suite.yaml");
    let run: Run = cli()
        .arg("test-provider")
        .arg(&suite)
        .output()
        .expect("pp-secrets runs")
        .into();
    run.expect_code(0);
    assert!(run.stdout.contains("ok    refresh"), "{}", run.stdout);
    assert!(
        run.stdout.ends_with("14 passed, 0 failed, 1 skipped\n"),
        "{}",
        run.stdout
    );
    // A suite file that names no fixture format is refused, naming the field.
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("suite.yaml");
    std::fs::write(&bad, "backend: { path: x.wasm }\n").expect("write");
    let run: Run = cli()
        .arg("test-provider")
        .arg(&bad)
        .output()
        .expect("pp-secrets runs")
        .into();
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("fixture"), "{}", run.stderr);
}

#[test]
fn a_binary_file_is_bytes_from_0_2_0_and_an_error_from_0_1_0() {
    for build in dir_builds() {
        let dir = secrets_dir();
        std::fs::write(dir.path().join("keystore"), b"\xfe\xffkey-canary\x00").expect("write");
        let (manager, _) = backend(&build, dir.path(), "");
        let result = block_on(manager.get("d:keystore"));
        match build.version {
            "0.2.0" => {
                let value = result.expect("served");
                assert_eq!(value.as_bytes(), Some(&b"\xfe\xffkey-canary\x00"[..]));
            }
            _ => {
                let error = result.expect_err("0.1.0 carries text only");
                let message = error.to_string();
                assert!(message.contains("keystore"), "{message}");
                assert!(!message.contains("canary"), "{message}");
            }
        }
    }
}

#[test]
fn a_0_2_0_refresh_asks_what_changed_and_reads_only_that() {
    for build in dir_builds() {
        let dir = secrets_dir();
        let (manager, provider) = backend(&build, dir.path(), "");
        // Held: every secret, loaded. A file gets a version only once its
        // times are 2 seconds old (a newer one may change again within the
        // same tick), so the first refresh after that reads each once.
        block_on(manager.load_declaration("d:*")).expect("loads");
        std::thread::sleep(Duration::from_millis(2_100));
        block_on(manager.refresh_now("d")).expect("refreshes");
        let before = provider.calls();
        let report = block_on(manager.refresh_now("d")).expect("refreshes");
        assert_eq!(
            report,
            Default::default(),
            "{}: nothing changed",
            build.version
        );
        let quiet = provider.calls();
        std::fs::write(dir.path().join("db_user"), "billing-2").expect("write");
        let report = block_on(manager.refresh_now("d")).expect("refreshes");
        assert_eq!(report.changed, ["db_user"], "{}", build.version);
        let after = provider.calls();
        match build.version {
            "0.2.0" => {
                // One change check and nothing else when nothing changed;
                // one check and one get for the one change.
                assert_eq!(quiet.changes - before.changes, 1);
                assert_eq!(
                    (quiet.get, quiet.get_matching),
                    (before.get, before.get_matching)
                );
                assert_eq!(after.changes - quiet.changes, 1);
                assert_eq!(after.get - quiet.get, 1);
                assert_eq!(after.get_matching, quiet.get_matching);
            }
            _ => {
                // 0.1.0 cannot tell: each refresh re-reads.
                assert!(quiet.get_matching > before.get_matching || quiet.get > before.get);
            }
        }
        assert_eq!(text(&manager, "d:db_user"), "billing-2");
    }
}

/// A component that exports a version of the provider interface this host
/// does not serve: an empty instance as `processpype:secrets/provider@0.3.0`.
fn future_provider() -> Vec<u8> {
    use wasm_encoder::{
        Component, ComponentExportKind, ComponentExportSection, ComponentInstanceSection,
    };
    let mut component = Component::new();
    let mut instances = ComponentInstanceSection::new();
    instances.export_items(Vec::<(&str, ComponentExportKind, u32)>::new());
    component.section(&instances);
    let mut exports = ComponentExportSection::new();
    exports.export(
        "processpype:secrets/provider@0.3.0",
        ComponentExportKind::Instance,
        0,
        None,
    );
    component.section(&exports);
    component.finish()
}

#[test]
fn a_component_of_an_unknown_version_is_refused_naming_the_versions_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("future.wasm");
    std::fs::write(&path, future_provider()).expect("write");
    let yaml = format!(
        "secrets:\n  enabled: true\n  wasm_cache: false\n  backends:\n    x:\n      type: wasm\n      \
         path: {:?}\n",
        path.display().to_string()
    );
    let error = SecretsManager::from_yaml_str(&yaml, "/").expect_err("refused");
    let message = error.to_string();
    assert!(
        message.contains("it exports processpype:secrets/provider@0.3.0")
            && message.contains("this host serves processpype:secrets/provider@0.2.0 and processpype:secrets/backend@0.1.0"),
        "{message}"
    );
    assert!(message.contains("backend \"x\""), "{message}");
}
