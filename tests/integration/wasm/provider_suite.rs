//! The provider contract, run against each build of a provider: the `dir`
//! provider built against WIT 0.2.0 (the current package) and against
//! 0.1.0 (`wit/v0.1.0`, which the host keeps serving). Every build must
//! set up from its config (and fail set-up with a clear error), get, say
//! not-found, list and load with the host's globs, sit behind a prefix,
//! and never put a value in an error; a 0.2.0 build also serves binary
//! files as bytes, gives versions, and answers a refresh by change
//! detection, with the calls counted.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pp_secrets::config::{BackendKind, RefreshSettings};
use pp_secrets::wasm::{CompileCache, WasmProvider};
use pp_secrets::{ConfigDocument, ErrorKind, SecretValue, SecretsManager};

use super::{guest, shared_cache};
use crate::support::block_on;

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
/// (to count its calls), refreshed every hour unless asked.
fn backend(build: &Build, dir: &Path, prefix: &str) -> (SecretsManager, Arc<WasmProvider>) {
    let root = dir.display().to_string();
    let yaml = format!(
        "secrets:\n  enabled: true\n  backends:\n    d:\n      type: wasm\n      path: {:?}\n      \
         config: {{ dir: {root:?} }}\n      allow: {{ dirs: [{root:?}] }}\n",
        build.component.display().to_string()
    );
    let document = ConfigDocument::from_yaml_str(&yaml, "/").expect("valid config");
    let Some(BackendKind::Wasm(settings)) =
        document.secrets.backends.first().map(|b| b.kind.clone())
    else {
        panic!("a wasm backend");
    };
    let cache = CompileCache::in_dir(shared_cache());
    let provider = Arc::new(WasmProvider::load("d", &settings, &cache).expect("loads"));
    assert_eq!(provider.interface_version(), build.version);
    let manager = SecretsManager::builder()
        .shared_backend("d", prefix, provider.clone())
        .refresh("d", RefreshSettings::every(Duration::from_secs(3600)))
        .build()
        .expect("valid");
    (manager, provider)
}

fn text(manager: &SecretsManager, key: &str) -> String {
    match block_on(manager.get(key)) {
        Ok(SecretValue::Text(t)) => t.expose().to_owned(),
        Ok(other) => panic!("{key}: expected text, got {}", other.describe()),
        Err(e) => panic!("{key}: {e}"),
    }
}

fn names(manager: &SecretsManager, pattern: &str) -> Vec<String> {
    block_on(manager.list(pattern)).unwrap_or_else(|e| panic!("{pattern}: {e}"))
}

#[test]
fn every_build_gets_lists_and_loads_as_the_contract_says() {
    for build in dir_builds() {
        let dir = secrets_dir();
        let (manager, _) = backend(&build, dir.path(), "");
        let v = build.version;
        assert_eq!(text(&manager, "d:db_password"), "s3cr3t-canary", "{v}");
        // The JSON-object rule is the host's, whatever the build.
        let object = block_on(manager.get("d:api_key")).expect("object");
        assert_eq!(object.as_object().map(|o| o["id"].clone()), Some(7.into()));
        let missing = block_on(manager.get("d:nope")).expect_err("missing");
        assert_eq!(missing.kind(), ErrorKind::NotFound, "{v}");

        // Globs: `*`, `?`, classes, negation, literal specials, case.
        let all = names(&manager, "d:*");
        assert_eq!(all.len(), 6, "{v}: {all:?}");
        assert_eq!(names(&manager, "d:db_*"), ["db_password", "db_user"], "{v}");
        assert_eq!(names(&manager, "d:db_use?"), ["db_user"], "{v}");
        assert_eq!(names(&manager, "d:[ab]*"), ["a*b", "api_key", "b?c"], "{v}");
        assert_eq!(
            names(&manager, "d:[!abD]*"),
            ["db_password", "db_user"],
            "{v}"
        );
        assert_eq!(names(&manager, "d:Db_*"), ["Db_upper"], "{v}");
        assert_eq!(names(&manager, "d:DB_*"), Vec::<String>::new(), "{v}");
        // An exact name with a wildcard character is that name alone.
        assert_eq!(text(&manager, "d:a*b"), "literal star", "{v}");
        assert_eq!(text(&manager, "d:b?c"), "literal question mark", "{v}");

        // Bulk: one get-matching for a declaration.
        let report = block_on(manager.load_declaration("d:db_*")).expect("loads");
        assert_eq!((report.matched, report.loaded), (2, 2), "{v}");
    }
}

#[test]
fn every_build_sits_behind_a_prefix() {
    for build in dir_builds() {
        let dir = secrets_dir();
        let (manager, _) = backend(&build, dir.path(), "db_");
        let v = build.version;
        assert_eq!(text(&manager, "d:password"), "s3cr3t-canary", "{v}");
        assert_eq!(names(&manager, "d:*"), ["password", "user"], "{v}");
        let missing = block_on(manager.get("d:api_key")).expect_err("outside the prefix");
        assert!(
            missing.to_string().contains("\"db_api_key\""),
            "{v}: {missing}"
        );
    }
}

#[test]
fn every_build_fails_set_up_clearly_and_never_shows_a_value() {
    for build in dir_builds() {
        let dir = secrets_dir();
        let root = dir.path().display().to_string();
        let manager_with = |config: &str| {
            let yaml = format!(
                "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n    d:\n      \
                 type: wasm\n      path: {:?}\n      config: {config}\n      \
                 allow: {{ dirs: [{root:?}] }}\n",
                shared_cache().display().to_string(),
                build.component.display().to_string(),
            );
            SecretsManager::from_yaml_str(&yaml, "/")
                .expect("valid")
                .expect("enabled")
        };
        let v = build.version;
        // No `dir`: set-up refuses the config, naming the setting.
        let error = block_on(manager_with("{}").get("d:db_password")).expect_err("set-up fails");
        let message = error.to_string();
        assert_eq!(error.kind(), ErrorKind::Backend, "{v}: {message}");
        assert!(
            message.contains("setup failed") && message.contains("dir"),
            "{v}: {message}"
        );
        // `dir` outside the grants: a backend error, with no value in it.
        let elsewhere = tempfile::tempdir().expect("tempdir");
        std::fs::write(elsewhere.path().join("db_password"), "other-canary").expect("write");
        let config = format!("{{ dir: {:?} }}", elsewhere.path().display().to_string());
        let error = block_on(manager_with(&config).get("d:db_password")).expect_err("refused");
        let message = error.to_string();
        assert_eq!(error.kind(), ErrorKind::Backend, "{v}: {message}");
        assert!(!message.contains("canary"), "{v}: {message}");
    }
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
