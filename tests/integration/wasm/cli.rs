//! `pp-secrets` end to end with native and Wasm backends in one config:
//! get, list, load declarations and `${secret://}` tokens served by the
//! `dir` provider component from a Kubernetes-style secret volume.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;

use super::{guest, guests_dir, shared_cache};
use crate::support::{Run, fixture, run_with};

/// A secret volume laid out as the kubelet writes one: the files live in a
/// timestamped directory, `..data` links to it, and each secret is a link
/// through `..data`. `escape` links outside the volume.
fn kubernetes_volume() -> tempfile::TempDir {
    let volume = tempfile::tempdir().expect("tempdir");
    let root = volume.path();
    let stamped = root.join("..2026_11_28_23_00_00.000000001");
    fs::create_dir(&stamped).expect("mkdir");
    fs::write(stamped.join("api_key"), "k8s-api-key").expect("write");
    fs::write(stamped.join("db_password"), "k8s-db-pw").expect("write");
    fs::write(
        stamped.join("credentials"),
        r#"{"user":"svc","password":"k8s-pw"}"#,
    )
    .expect("write");
    symlink("..2026_11_28_23_00_00.000000001", root.join("..data")).expect("link");
    for name in ["api_key", "db_password", "credentials"] {
        symlink(format!("..data/{name}"), root.join(name)).expect("link");
    }
    symlink("/etc/hostname", root.join("escape")).expect("link");
    volume
}

/// Runs `pp-secrets` on the mixed fixture with `volume` mounted.
fn mixed(volume: &Path, args: &[&str]) -> Run {
    let guests = guests_dir().display().to_string();
    let mount = volume.display().to_string();
    let cache = shared_cache().display().to_string();
    run_with(
        &fixture("wasm/mixed.yaml"),
        args,
        &[
            ("PP_GUESTS", guests.as_str()),
            ("PP_MOUNT", mount.as_str()),
            ("PP_WASM_CACHE", cache.as_str()),
            ("PPT_API_KEY", "env-api-key"),
        ],
    )
}

#[test]
fn get_reads_a_kubernetes_secret_through_the_component() {
    if guest("dir").is_none() {
        return;
    }
    let volume = kubernetes_volume();
    let run = mixed(volume.path(), &["get", "mounted:db_password"]);
    run.expect_code(0);
    assert_eq!(run.stdout, "k8s-db-pw\n");
    let run = mixed(volume.path(), &["get", "local:db_host"]);
    run.expect_code(0);
    assert_eq!(run.stdout, "localhost\n");
}

#[test]
fn list_shows_secrets_not_kubernetes_internals_or_escaping_links() {
    if guest("dir").is_none() {
        return;
    }
    let volume = kubernetes_volume();
    let run = mixed(volume.path(), &["list", "mounted:*"]);
    run.expect_code(0);
    assert_eq!(run.stdout, "api_key\ncredentials\ndb_password\n");
}

#[test]
fn a_link_out_of_the_volume_is_a_backend_error() {
    if guest("dir").is_none() {
        return;
    }
    let volume = kubernetes_volume();
    let run = mixed(volume.path(), &["get", "mounted:escape"]);
    run.expect_code(3);
    assert!(run.stderr.contains("links outside"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn a_missing_secret_is_not_found() {
    if guest("dir").is_none() {
        return;
    }
    let volume = kubernetes_volume();
    mixed(volume.path(), &["get", "mounted:nope"]).expect_code(1);
    mixed(volume.path(), &["get", "mounted:..data"]).expect_code(1);
}

#[test]
fn load_runs_declarations_on_native_and_wasm_backends() {
    if guest("dir").is_none() {
        return;
    }
    let volume = kubernetes_volume();
    let run = mixed(volume.path(), &["load"]);
    run.expect_code(0);
    assert!(run.stdout.contains("mounted:*"), "{}", run.stdout);
    assert!(run.stdout.contains("local:db_*"), "{}", run.stdout);
    assert!(!run.stdout.contains("k8s-"), "values are not printed");
}

#[test]
fn render_resolves_tokens_served_by_the_component() {
    if guest("dir").is_none() {
        return;
    }
    let volume = kubernetes_volume();
    let run = mixed(volume.path(), &["render"]);
    run.expect_code(0);
    let tree: serde_yaml::Value = serde_yaml::from_str(&run.stdout).expect("YAML out");
    let api = &tree["services"]["api"];
    assert_eq!(api["key"].as_str(), Some("k8s-api-key"));
    assert_eq!(
        api["dsn"].as_str(),
        Some("postgres://app:k8s-db-pw@localhost/app")
    );
    assert_eq!(api["credentials"]["user"].as_str(), Some("svc"));
    assert_eq!(api["from_env"].as_str(), Some("env-api-key"));
}

#[test]
fn check_reports_every_backend_healthy() {
    if guest("dir").is_none() {
        return;
    }
    let volume = kubernetes_volume();
    let run = mixed(volume.path(), &["check"]);
    run.expect_code(0);
    assert!(run.stdout.contains("mounted"), "{}", run.stdout);
}

#[test]
fn a_missing_component_fails_at_start_naming_the_file() {
    let volume = kubernetes_volume();
    let run = run_with(
        &fixture("wasm/mixed.yaml"),
        &["get", "local:db_host"],
        &[
            ("PP_GUESTS", "/no/such/guests"),
            ("PP_MOUNT", &volume.path().display().to_string()),
            ("PP_WASM_CACHE", "off"),
        ],
    );
    run.expect_code(2);
    assert!(
        run.stderr.contains(
            "secrets.backends.mounted.path: cannot read \
             /no/such/guests/pp_secrets_dir_provider.wasm"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn a_file_that_is_not_a_component_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join("pp_secrets_dir_provider.wasm"),
        b"not wasm at all",
    )
    .expect("write");
    let volume = kubernetes_volume();
    let run = run_with(
        &fixture("wasm/mixed.yaml"),
        &["get", "local:db_host"],
        &[
            ("PP_GUESTS", &dir.path().display().to_string()),
            ("PP_MOUNT", &volume.path().display().to_string()),
            ("PP_WASM_CACHE", "off"),
        ],
    );
    run.expect_code(3);
    assert!(
        run.stderr.contains(
            "is not a WebAssembly component (it does not start with the Wasm magic bytes)"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("backend \"mounted\""), "{}", run.stderr);
}
