//! `run-wasm APP.wasm [--allow PATTERN]... [-- ARGS]`: run a Wasm app
//! component under a policy built from the flags, with the config's
//! manager serving its secrets. Exits with the app's code.

use std::path::Path;

use crate::args::RunWasmArgs;
use crate::failure::Failure;

#[cfg(feature = "wasm")]
pub async fn run(config: &Path, request: RunWasmArgs) -> Result<i32, Failure> {
    use pp_secrets::wasm::{AppPolicy, CompileCache, WasmApp};

    let name = request
        .app
        .file_stem()
        .map_or_else(|| "app".to_owned(), |s| s.to_string_lossy().into_owned());
    // Unset limits keep the policy's defaults.
    let mut policy = AppPolicy::new(name).args(request.args);
    if let Some(mb) = request.memory_mb {
        policy = policy.memory_mb(mb)?;
    }
    if let Some(ms) = request.timeout_ms {
        policy = policy.timeout_ms(ms)?;
    }
    for rule in &request.allow {
        policy = policy.allow(rule)?;
    }
    for var in request.allow_env {
        policy = policy.grant_env(var);
    }
    for host in &request.allow_host {
        policy = policy.grant_host(host)?;
    }
    for dir in &request.allow_dir {
        // The app sees a granted directory at its absolute host path.
        policy = policy.grant_dir(absolute_path("--allow-dir", dir)?)?;
    }

    if let Some(ca_file) = &request.ca_file {
        policy = policy.trust_ca_file(absolute_path("--ca-file", ca_file)?);
    }
    if let (Some(cert), Some(key)) = (&request.client_cert, &request.client_key) {
        policy = policy.client_certificate(
            absolute_path("--client-cert", cert)?,
            absolute_path("--client-key", key)?,
        );
    }

    let (document, manager) = super::start(config).await?;
    let cache = CompileCache::from_setting(&document.secrets.wasm_cache);
    let app = WasmApp::load(&request.app, &cache)?;
    let outcome = app.run(&manager, policy).await?;
    Ok(outcome.exit_code)
}

/// `path` (given with `flag`) made absolute against the working directory.
#[cfg(feature = "wasm")]
fn absolute_path(flag: &str, path: &Path) -> Result<std::path::PathBuf, Failure> {
    std::path::absolute(path).map_err(|e| Failure::Usage(format!("{flag} {}: {e}", path.display())))
}

#[cfg(not(feature = "wasm"))]
pub async fn run(_config: &Path, _request: RunWasmArgs) -> Result<i32, Failure> {
    Err(Failure::Usage(
        "run-wasm: this pp-secrets was built without Wasm support (cargo feature `wasm`)".into(),
    ))
}
