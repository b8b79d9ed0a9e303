//! `run-wasm APP.wasm [--allow PATTERN]... [-- ARGS]`: run a Wasm app
//! component under a policy built from the flags, with the config's
//! manager serving its secrets. Exits with the app's code.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::failure::Failure;

/// The arguments of `run-wasm`.
#[derive(Debug, Args)]
pub struct RunWasm {
    /// The app component (a WASI command built for wasm32-wasip2)
    app: PathBuf,
    /// Let the app read the secrets matching backend:glob; repeatable
    #[arg(long = "allow", value_name = "PATTERN")]
    allow: Vec<String>,
    /// Let the app see the host's environment variable VAR; repeatable
    #[arg(long = "allow-env", value_name = "VAR")]
    allow_env: Vec<String>,
    /// Let the app read (not write) DIR, at the same absolute path; repeatable
    #[arg(long = "allow-dir", value_name = "DIR")]
    allow_dir: Vec<PathBuf>,
    /// Let the app send HTTP requests to HOST:PORT (wasi:http); repeatable
    #[arg(long = "allow-host", value_name = "HOST:PORT")]
    allow_host: Vec<String>,
    /// Trust the CA certificates in this PEM bundle (besides the system's
    /// roots) for the app's HTTPS requests
    #[arg(long = "ca-file", value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Present this PEM certificate chain to servers that ask for a client
    /// certificate (mutual TLS); needs --client-key
    #[arg(long = "client-cert", value_name = "PEM", requires = "client_key")]
    client_cert: Option<PathBuf>,
    /// The PEM private key of --client-cert
    #[arg(long = "client-key", value_name = "PEM", requires = "client_cert")]
    client_key: Option<PathBuf>,
    /// The app's memory limit, in MiB [default: 64]
    #[arg(long, value_name = "MIB")]
    memory_mb: Option<u64>,
    /// The limit on the app's whole run, in milliseconds [default: 60000]
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u64>,
    /// The app's arguments
    #[arg(last = true, value_name = "ARGS")]
    args: Vec<String>,
}

impl RunWasm {
    /// Runs the app; its exit code is the result.
    #[cfg(feature = "wasm")]
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        use pp_secrets::wasm::{AppPolicy, CompileCache, WasmApp};

        let name = self
            .app
            .file_stem()
            .map_or_else(|| "app".to_owned(), |s| s.to_string_lossy().into_owned());
        // Unset limits keep the policy's defaults.
        let mut policy = AppPolicy::new(name).args(self.args);
        if let Some(mb) = self.memory_mb {
            policy = policy.memory_mb(mb)?;
        }
        if let Some(ms) = self.timeout_ms {
            policy = policy.timeout_ms(ms)?;
        }
        for rule in &self.allow {
            policy = policy.allow(rule)?;
        }
        for var in self.allow_env {
            policy = policy.grant_env(var);
        }
        for host in &self.allow_host {
            policy = policy.grant_host(host)?;
        }
        for dir in &self.allow_dir {
            // The app sees a granted directory at its absolute host path.
            policy = policy.grant_dir(absolute_path("--allow-dir", dir)?)?;
        }

        if let Some(ca_file) = &self.ca_file {
            policy = policy.trust_ca_file(absolute_path("--ca-file", ca_file)?);
        }
        if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) {
            policy = policy.client_certificate(
                absolute_path("--client-cert", cert)?,
                absolute_path("--client-key", key)?,
            );
        }

        let (document, manager) = super::start(config).await?;
        let cache = CompileCache::from_setting(&document.secrets.wasm_cache);
        let app = WasmApp::load(&self.app, &cache)?;
        let outcome = app.run(&manager, policy).await?;
        // A WASI exit code is 0..=255; anything else is a failure.
        Ok(u8::try_from(outcome.exit_code).unwrap_or(1))
    }

    /// Says that this build has no Wasm support.
    #[cfg(not(feature = "wasm"))]
    pub async fn run(self, _config: &Path) -> Result<u8, Failure> {
        Err(Failure::Usage(
            "run-wasm: this pp-secrets was built without Wasm support (cargo feature `wasm`)"
                .into(),
        ))
    }
}

/// `path` (given with `flag`) made absolute against the working directory.
#[cfg(feature = "wasm")]
fn absolute_path(flag: &str, path: &Path) -> Result<PathBuf, Failure> {
    std::path::absolute(path).map_err(|e| Failure::Usage(format!("{flag} {}: {e}", path.display())))
}
