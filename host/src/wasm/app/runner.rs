//! Running an app component (a WASI command of the `app` world) under an
//! [`AppPolicy`].
//!
//! The component is compiled once ([`WasmApp::load`]); every
//! [`run`](WasmApp::run) is a fresh instance with its own sandbox: the
//! policy's grants, its arguments and stdio, the manager interface and
//! `wasi:config/store` served from the given manager through the policy's
//! allow-list, one memory budget, and one time limit for the whole run
//! (epochs stop a computing app; a timeout around the run stops one that
//! waits on the host). A panic in host code serving the app (a WASI or
//! wasi:http host call) ends the run with an error; the host carries on.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use wasmtime::component::{HasData, Linker};
use wasmtime::{Engine, Store};
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{I32Exit, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtxView, WasiHttpView};

use crate::error::{Error, Result};
use crate::manager::SecretsManager;
use crate::wasm::app::app_secrets::AppSecrets;
use crate::wasm::app::bindings::{manager, manager_0_1, wasi_config};
use crate::wasm::app::policy::{AppPolicy, AppStdio};
use crate::wasm::compile_cache::CompileCache;
use crate::wasm::component_loading::{HostLinker, World, load_component};
use crate::wasm::engine::{deadline_ticks, shared_engine};
use crate::wasm::guest_files::{GuestFiles, OpenFiles};
use crate::wasm::guest_text::{DEBUG_DETAIL_CHARS, escaped, escaped_at_length};
use crate::wasm::guest_trap::{Stop, stop_cause};
use crate::wasm::host_error::HostError;
use crate::wasm::off_thread_drop::DropOffThread;
use crate::wasm::sandbox::{GuestSpec, GuestState, GuestStdio, add_wasi};
use crate::wasm::stall_pool::{StallPool, run_in};
use crate::wasm::tls::TlsClient;
use crate::wasm::warning_limit::WarningLimit;

/// An app component, compiled and linked, ready to run any number of
/// times (each run in a fresh instance).
pub struct WasmApp {
    path: PathBuf,
    engine: Engine,
    pre: CommandPre<AppState>,
}

impl std::fmt::Debug for WasmApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmApp")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// How a run ended, when the app ran to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppOutcome {
    /// The app's exit code: 0 when `main` returned normally, its code when
    /// it called `exit`, 1 when it returned an error.
    pub exit_code: i32,
    /// What the app wrote to stdout, with [`AppStdio::Capture`] (else
    /// empty).
    pub stdout: Vec<u8>,
    /// What the app wrote to stderr, with [`AppStdio::Capture`] (else
    /// empty).
    pub stderr: Vec<u8>,
}

/// What a store holds for one app run.
struct AppState {
    guest: GuestState,
    secrets: AppSecrets,
}

impl GuestFiles for AppState {
    fn open_files(&self) -> &OpenFiles {
        self.guest.open_files()
    }
}

impl WasiView for AppState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        self.guest.ctx()
    }
}

impl WasiHttpView for AppState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        self.guest.http()
    }
}

/// The part of [`AppState`] the secrets interfaces see.
struct Secrets;

impl HasData for Secrets {
    type Data<'a> = &'a mut AppSecrets;
}

/// WASI, wasi:http and the two secrets interfaces, built once per process.
static APP_LINKER: HostLinker<AppState> = HostLinker::new(add_app_imports);

/// Adds an app's imports to `linker`.
fn add_app_imports(linker: &mut Linker<AppState>) -> std::result::Result<(), HostError> {
    add_wasi(linker)?;
    manager::add_to_linker::<AppState, Secrets>(linker, |s| &mut s.secrets).map_err(|source| {
        HostError::Link {
            what: "the manager interface",
            source,
        }
    })?;
    manager_0_1::add_to_linker::<AppState, Secrets>(linker, |s| &mut s.secrets).map_err(
        |source| HostError::Link {
            what: "the manager interface (0.1.0)",
            source,
        },
    )?;
    wasi_config::add_to_linker::<AppState, Secrets>(linker, |s| &mut s.secrets).map_err(|source| {
        HostError::Link {
            what: "wasi:config",
            source,
        }
    })
}

/// What an app component must be: a WASI command.
static APP_WORLD: World<AppState, CommandPre<AppState>> = World {
    missing_import: "needs an import this host does not serve",
    missing_export: "is not a WASI command (it does not export wasi:cli/run)",
    typed: CommandPre::new,
};

impl WasmApp {
    /// Loads the app component at `path`, compiling it or taking it from
    /// `cache`, and links it. Fails when the file is not a component, or
    /// needs an import the host does not serve, or is not a WASI command.
    pub fn load(path: impl AsRef<Path>, cache: &CompileCache) -> Result<Self> {
        let path = path.as_ref();
        let failed = |reason: String| Error::App {
            app: path.display().to_string(),
            reason,
        };
        let engine = shared_engine().map_err(|e| failed(e.report()))?.clone();
        let pre = load_component(&engine, cache, path, &APP_LINKER, &APP_WORLD, failed)?.pre;
        Ok(Self {
            path: path.to_path_buf(),
            engine,
            pre,
        })
    }

    /// The component file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs the app to its end under `policy`, serving secrets from
    /// `manager`. An app that exits (with any code) gives its
    /// [`AppOutcome`]; one that traps, runs past its time limit or out of
    /// memory is an [`Error::App`] saying which.
    pub async fn run(&self, manager: &SecretsManager, policy: AppPolicy) -> Result<AppOutcome> {
        let policy = Arc::new(policy);
        let name: Arc<str> = policy.name().into();
        let failed = |reason: String| Error::App {
            app: name.to_string(),
            reason,
        };
        let (stdio, captured) = match policy.stdio_mode() {
            AppStdio::Inherit => (GuestStdio::Inherit, None),
            AppStdio::Capture(capacity) => {
                let (stdout, stderr) = (
                    MemoryOutputPipe::new(capacity),
                    MemoryOutputPipe::new(capacity),
                );
                let stdio = GuestStdio::Capture {
                    stdout: stdout.clone(),
                    stderr: stderr.clone(),
                };
                (stdio, Some((stdout, stderr)))
            }
        };
        let mut argv = Vec::with_capacity(policy.arguments().len() + 1);
        argv.push(policy.name().to_owned());
        argv.extend(policy.arguments().iter().cloned());
        let tls = TlsClient::from_settings(policy.tls()).map_err(|e| failed(e.report()))?;
        let warnings = Arc::new(WarningLimit::new(format!("app {name}")));
        let limit = Duration::from_millis(policy.time_limit_ms());
        let timed_out = || {
            failed(format!(
                "the app did not finish within {} ms (its time limit)",
                policy.time_limit_ms()
            ))
        };
        let started = Instant::now();
        let spec = GuestSpec {
            name: Arc::clone(&name),
            grants: policy.grants().clone(),
            tls,
            warnings: Arc::clone(&warnings),
            limits: policy.instance_limits(),
            args: argv,
            stdio,
        };
        // An app granted directories runs in a pool of its own, in case one
        // stalls (`stall_pool`).
        let pool = if policy.grants().dirs.is_empty() {
            None
        } else {
            let pool = StallPool::new(&name)
                .map_err(|e| failed(format!("cannot start a thread pool for the app: {e}")))?;
            Some(pool)
        };
        let guest = tokio::time::timeout(limit, run_in(pool.as_ref(), GuestState::build(spec)))
            .await
            .map_err(|_| timed_out())?
            .map_err(|e| failed(e.report()))?;
        let limit = limit.saturating_sub(started.elapsed());
        let secrets = AppSecrets::new(manager.clone(), Arc::clone(&policy), warnings);
        let off_thread = guest.files_could_stall();
        let mut store = {
            // Dropped on the app's own pool, when it has one.
            let _entered = pool.as_ref().map(StallPool::enter);
            DropOffThread::new(
                Store::new(&self.engine, AppState { guest, secrets }),
                off_thread,
            )
        };
        store.limiter(|state| &mut state.guest.memory);
        store.set_epoch_deadline(deadline_ticks(limit));

        let run = async {
            let command = self.pre.instantiate_async(&mut *store).await?;
            command.wasi_cli_run().call_run(&mut *store).await
        };
        let run = run_in(pool.as_ref(), run);
        let run = AssertUnwindSafe(tokio::time::timeout(limit, run)).catch_unwind();
        let Ok(finished) = run.await else {
            tracing::error!(app = %name, "a host call made for the app panicked");
            return Err(failed(
                "the host failed while serving the app's request (a panic in a host call)".into(),
            ));
        };
        let exit_code = match finished {
            Err(_) => return Err(timed_out()),
            Ok(Ok(Ok(()))) => 0,
            Ok(Ok(Err(()))) => 1,
            Ok(Err(error)) => match error.downcast_ref::<I32Exit>() {
                Some(exit) => exit.0,
                None => {
                    let refused = store.data().guest.memory.refused();
                    tracing::debug!(
                        app = %escaped(&name),
                        "app stopped: {}",
                        escaped_at_length(&format!("{error:?}"), DEBUG_DETAIL_CHARS)
                    );
                    return Err(match stop_cause(&error, refused, "the app") {
                        Stop::TimedOut => timed_out(),
                        Stop::OutOfMemory => failed(format!(
                            "the app ran out of memory (its limit is {} MiB)",
                            policy.memory_limit_mb()
                        )),
                        Stop::TooManyHandles => failed(format!(
                            "the app held more host resources than its limit of {} handles",
                            policy.instance_limits().handles
                        )),
                        Stop::TooMuchData => failed(
                            "the app passed more data to the host in one call than the \
                             host copies (128 MiB)"
                                .into(),
                        ),
                        Stop::Failed(reason) => failed(reason),
                    });
                }
            },
        };
        let (stdout, stderr) = captured
            .map(|(out, err)| (out.contents().to_vec(), err.contents().to_vec()))
            .unwrap_or_default();
        Ok(AppOutcome {
            exit_code,
            stdout,
            stderr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasm::http_grants::forced_failure::IN_TASK;
    use crate::wasm::test_guests::{built_guest, shared_cache};

    #[test]
    fn a_panic_in_a_host_call_ends_the_run_with_an_error() {
        let Some(probe) = built_guest("pp-secrets-app-probe.wasm") else {
            return;
        };
        let manager = SecretsManager::from_yaml_str(
            "secrets:\n  enabled: true\n  backends:\n    env: {}\n",
            "/",
        )
        .expect("valid config")
        .expect("enabled");
        let app = WasmApp::load(&probe, &CompileCache::in_dir(shared_cache())).expect("loads");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let policy = |name: &str| {
            AppPolicy::new(name)
                .allow("env:PATH")
                .and_then(|p| p.grant_host("127.0.0.1:9"))
                .expect("valid policy")
                .stdio(AppStdio::Capture(4_096))
                .args(["http", "http://127.0.0.1:9/", "get", "env:PATH"])
        };
        let error = runtime
            .block_on(app.run(&manager, policy(IN_TASK)))
            .expect_err("the host call panicked");
        assert!(
            error.to_string().contains("a panic in a host call"),
            "{error}"
        );
        // The host, the manager and the next run carry on.
        let outcome = runtime
            .block_on(app.run(&manager, policy("steady")))
            .expect("runs");
        let stdout = String::from_utf8_lossy(&outcome.stdout);
        assert!(stdout.contains("get env:PATH: text:"), "{stdout}");
    }
}
