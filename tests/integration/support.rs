//! Shared test helpers: fixture paths and running the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `tests/fixtures/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(rel)
}

/// The outcome of one `pp-secrets` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, showing stderr (never secret values: the
    /// binary under test must not print them there) when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code; stderr was:\n{}",
            self.stderr
        );
        self
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A `pp-secrets` command with a clean, predictable environment: only
/// `PATH` and `HOME` are inherited, so tests do not see each other's or the
/// developer's variables.
pub fn cli() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pp-secrets"));
    cmd.env_clear();
    for var in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(var) {
            cmd.env(var, value);
        }
    }
    cmd
}

/// Runs `pp-secrets -c <config> <args>` with extra environment `env`.
pub fn run_with(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = cli();
    cmd.arg("--config").arg(config).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("pp-secrets runs").into()
}

/// The basic fixture config with the variables its env backend reads.
pub fn basic(args: &[&str]) -> Run {
    run_with(
        &fixture("basic/config.yaml"),
        args,
        &[
            ("PPT_API_KEY", "env-api-key"),
            ("PPT_DB_PASSWORD", "pw-from-env"),
        ],
    )
}

/// Runs an async block on a fresh runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// A temporary directory holding `config.yaml` with `yaml` in it; keep the
/// directory alive while the config is used.
pub fn temp_config(yaml: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, yaml).expect("write config");
    (dir, config)
}

/// A free loopback port (free when asked; a server should bind it soon).
#[cfg(any(feature = "aws", feature = "wasm"))]
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// An error and its causes, as the CLI prints them.
pub use pp_secrets::error::with_causes;

/// The text `manager` has cached for `key`, without asking the backend
/// (`None` when nothing is cached, or the value is an object).
pub fn cached_text(manager: &pp_secrets::SecretsManager, key: &str) -> Option<String> {
    manager
        .cached(key)
        .and_then(|v| v.as_text().map(str::to_owned))
}

/// `.expose()` on a stored value in tests, as on a text: the tests' raw
/// reads are text unless a test says otherwise (a binary value fails the
/// test, naming no content).
pub trait ExposeText {
    /// The text of a text value.
    fn expose(&self) -> &str;
}

impl ExposeText for pp_secrets::StoredValue {
    #[track_caller]
    fn expose(&self) -> &str {
        match self.as_text() {
            Some(text) => text,
            None => panic!("expected text, got {}", self.describe()),
        }
    }
}
