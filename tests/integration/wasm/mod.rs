//! The `wasm` backend type (provider components in the sandbox) and Wasm
//! apps run under a policy.
//!
//! The guest components are built by `tests/run.sh` (`cargo build --release
//! --target wasm32-wasip2`); a missing build skips these tests loudly, and
//! fails them under `CI=true`. Every test compiles through one shared
//! compile cache in the target directory, so each component is compiled
//! once per build.

mod apps;
mod apps_cli;
mod cache;
mod check_states;
mod cli;
mod component_files;
mod dir_changes;
mod etcd;
mod etcd_server;
mod host_boundary;
mod hostile;
mod http_server;
mod js_provider;
mod network;
mod provider_suite;
mod python_provider;
mod rotation;
mod sandbox;
mod sops;
mod stalled_fs;
mod test_pki;
mod tls;

use std::path::{Path, PathBuf};

use std::sync::Arc;
use std::time::Duration;

use pp_secrets::config::{BackendKind, RefreshSettings};
use pp_secrets::wasm::{CompileCache, WasmProvider};
use pp_secrets::{ConfigDocument, SecretsManager};

/// The directory the guest components are built into.
pub fn guests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/release")
}

/// The directory of the components built outside cargo (by `tests/run.sh`,
/// with another language's toolchain).
pub fn components_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/components")
}

/// The component `name` (providers `hostile`, `dir`, `etcd`, `sops`, `json` (in
/// Python) and `ini` (in JavaScript); apps `probe`, `db-report` and
/// `config-report`), or `None` (after saying so) when it is not built.
pub fn guest(name: &str) -> Option<PathBuf> {
    let file = match name {
        "dir" => "pp_secrets_dir_provider.wasm",
        "dir-v0-1" => "pp_secrets_dir_provider_v0_1.wasm",
        "etcd" => "pp_secrets_etcd_provider.wasm",
        "sops" => "pp_secrets_sops_provider.wasm",
        "hostile" => "pp_secrets_hostile_guest.wasm",
        "probe" => "pp-secrets-app-probe.wasm",
        "db-report" => "pp-secrets-example-db-report.wasm",
        "config-report" => "pp-secrets-example-config-report.wasm",
        "json" => "json_provider.wasm",
        "ini" => "ini_provider.wasm",
        other => panic!("no guest named {other}"),
    };
    let dir = match name {
        "json" | "ini" => components_dir(),
        _ => guests_dir(),
    };
    let path = dir.join(file);
    if path.is_file() {
        return Some(path);
    }
    let message = format!(
        "{} is not built: run `bash tests/run.sh`, which builds every guest component \
         (cargo build --release --target wasm32-wasip2 -p ..., and the Python and JavaScript \
         ones into target/components)",
        path.display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("\n*** SKIPPING: {message} ***\n");
    None
}

/// The compile cache every test shares.
pub fn shared_cache() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-wasm-cache")
}

/// A manager from a `secrets:` section written as YAML (with `enabled` and
/// the shared compile cache added).
pub fn manager(section: &str) -> SecretsManager {
    try_manager(section).unwrap_or_else(|e| panic!("config is valid: {e}"))
}

/// As [`manager`], keeping the error.
pub fn try_manager(section: &str) -> pp_secrets::Result<SecretsManager> {
    let yaml = format!(
        "secrets:\n  enabled: true\n  wasm_cache: {:?}\n{section}",
        shared_cache().display().to_string()
    );
    let doc = ConfigDocument::from_yaml_str(&yaml, "/")?;
    SecretsManager::from_config(&doc.secrets)
}

/// The YAML of a `wasm` backend named `name` running `component`, with
/// extra settings (already indented by six spaces).
pub fn wasm_backend(name: &str, component: &Path, extra: &str) -> String {
    format!(
        "    {name}:\n      type: wasm\n      path: {:?}\n{extra}",
        component.display().to_string()
    )
}

/// Backend settings (indented for [`wasm_backend`]) that grant read access
/// to `dir`.
pub fn granting_dir(dir: &Path) -> String {
    format!(
        "      allow: {{ dirs: [{:?}] }}\n",
        dir.display().to_string()
    )
}

/// Backend settings that point a provider's `file` setting at `file` and
/// grant the directory `grant` (the json and ini providers read one file).
pub fn serving_file(file: &Path, grant: &Path) -> String {
    format!(
        "      config: {{ file: {:?} }}\n{}",
        file.display().to_string(),
        granting_dir(grant)
    )
}

/// The text `key` holds now: `get_raw` is never cached, so each call asks
/// the provider.
pub fn raw_text(secrets: &SecretsManager, key: &str) -> String {
    let value =
        crate::support::block_on(secrets.get_raw(key)).unwrap_or_else(|e| panic!("{key}: {e}"));
    crate::support::ExposeText::expose(&value).to_owned()
}

/// Backend settings that point the dir provider at `dir` and grant it.
pub fn serving_dir(dir: &Path) -> String {
    format!(
        "      config: {{ dir: {:?} }}\n{}",
        dir.display().to_string(),
        granting_dir(dir)
    )
}

/// The `wasm` backend `name` (its YAML as [`wasm_backend`] writes it)
/// loaded through the shared cache, and a manager over it behind `prefix`
/// with the `load` declarations `loads`, refreshed only when a test asks
/// (`refresh_now`). The provider comes too, to count its calls.
pub fn counted_backend(
    name: &str,
    backend_yaml: &str,
    prefix: &str,
    loads: &[&str],
) -> (SecretsManager, Arc<WasmProvider>) {
    let yaml = format!("secrets:\n  enabled: true\n  backends:\n{backend_yaml}");
    let document = ConfigDocument::from_yaml_str(&yaml, "/").expect("valid config");
    let Some(BackendKind::Wasm(settings)) =
        document.secrets.backends.first().map(|b| b.kind.clone())
    else {
        panic!("a wasm backend");
    };
    let cache = CompileCache::in_dir(shared_cache());
    let provider = Arc::new(WasmProvider::load(name, &settings, &cache).expect("loads"));
    let mut builder = SecretsManager::builder()
        .shared_backend(name, prefix, provider.clone())
        .refresh(name, RefreshSettings::every(Duration::from_secs(3600)));
    for declaration in loads {
        builder = builder.load(*declaration);
    }
    (builder.build().expect("valid"), provider)
}
