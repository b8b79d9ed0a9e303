//! The `wasm` backend: a provider component behind the
//! [`SecretsProvider`] trait.
//!
//! The component is compiled once (through the [`CompileCache`]) and
//! linked once; instances are made from it on demand. Each call takes an
//! idle instance (or makes one and runs the guest's `setup`), runs under
//! the backend's limits, and gives the instance back. An instance whose
//! call trapped, ran out of time or returned something the host refused
//! is thrown away, so the next call starts from a fresh `setup`. At most
//! `limits.instances` calls run at once; others wait their turn. Each call
//! is one of `guest_calls`, whose replies are checked (`guest_reply`)
//! before the manager sees them.
//!
//! A panic in host code that runs on the guest's behalf (a WASI or
//! wasi:http host call) ends that call with a backend error: the instance
//! is thrown away, and the process and other backends carry on.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::FutureExt;
use tokio::sync::Semaphore;
use wasmtime::{Engine, Store};
use zeroize::Zeroize;

use crate::config::WasmSettings;
use crate::error::{Error, Result};
use crate::secrets_provider::{
    BackendProblem, HeldSecret, MatchedSecret, Pattern, ProviderError, Refreshed, SecretsProvider,
    refresh_by_rereading,
};
use crate::value::StoredValue;
use crate::wasm::bindings::{GuestError, PROVIDER_0_1, PROVIDER_0_2, v0_1, v0_2};
use crate::wasm::compile_cache::CompileCache;
use crate::wasm::component_loading::{World, load_component};
use crate::wasm::engine::{deadline_ticks, shared_engine};
use crate::wasm::guest_calls::{
    CallCounts, CallKind, Calls, Changes, GetMatching, GetValue, Guest, GuestCall, ListNames,
};
use crate::wasm::guest_reply::{Refused, ReplyCaps};
use crate::wasm::guest_text::{DEBUG_DETAIL_CHARS, MAX_VALUE_BYTES, escaped, escaped_at_length};
use crate::wasm::guest_trap::{Stop, stop_cause};
use crate::wasm::http_grants::CallProblems;
use crate::wasm::limits::InstanceLimits;
use crate::wasm::off_thread_drop::DropOffThread;
use crate::wasm::sandbox::{GuestSpec, GuestState, GuestStdio, PROVIDER_LINKER};
use crate::wasm::stall_pool::{StallPool, run_in};
use crate::wasm::stalling_filesystems::grants_could_stall;
use crate::wasm::tls::TlsClient;
use crate::wasm::warning_limit::WarningLimit;

/// A secrets provider running as a sandboxed Wasm component.
pub struct WasmProvider {
    backend: Arc<str>,
    engine: Engine,
    pre: ProviderPre,
    settings: WasmSettings,
    tls: TlsClient,
    warnings: Arc<WarningLimit>,
    idle: Mutex<Vec<Instance>>,
    slots: Semaphore,
    calls: CallCounts,
    /// The backend's own thread pool, when its grants could stall.
    stall_pool: Option<StallPool>,
}

/// A live instance with its store.
struct Instance {
    /// Dropped on the blocking pool when the instance's grants could
    /// stall (closing its files could wait on their filesystem).
    store: DropOffThread<Store<GuestState>>,
    guest: Guest,
}

/// A linked provider component, by the version of the interface it
/// exports.
enum ProviderPre {
    /// `processpype:secrets/provider@0.2.0`.
    V0_2(v0_2::ProviderComponentPre<GuestState>),
    /// `processpype:secrets/backend@0.1.0`.
    V0_1(v0_1::ProviderPre<GuestState>),
}

impl ProviderPre {
    /// The version's pre-instance for `linked`: 0.2.0 when the component
    /// exports it, else 0.1.0; a component with neither is refused, naming
    /// the provider interface it exports (if any) and the versions this
    /// host serves.
    fn of(linked: wasmtime::component::InstancePre<GuestState>) -> wasmtime::Result<Self> {
        let exports = exported_names(&linked);
        if exports.iter().any(|name| name == PROVIDER_0_2) {
            return Ok(ProviderPre::V0_2(v0_2::ProviderComponentPre::new(linked)?));
        }
        if exports.iter().any(|name| name == PROVIDER_0_1) {
            return Ok(ProviderPre::V0_1(v0_1::ProviderPre::new(linked)?));
        }
        let found: Vec<&str> = exports
            .iter()
            .map(String::as_str)
            .filter(|name| name.starts_with("processpype:secrets/"))
            .collect();
        Err(wasmtime::format_err!(
            "this host serves {PROVIDER_0_2} and {PROVIDER_0_1}; {}",
            if found.is_empty() {
                "it exports no processpype:secrets interface".to_owned()
            } else {
                format!("it exports {}", found.join(", "))
            }
        ))
    }

    /// The version of the interface, as written in the WIT package.
    fn version(&self) -> &'static str {
        match self {
            ProviderPre::V0_2(_) => "0.2.0",
            ProviderPre::V0_1(_) => "0.1.0",
        }
    }
}

/// The names of the interfaces `linked`'s component exports.
fn exported_names(linked: &wasmtime::component::InstancePre<GuestState>) -> Vec<String> {
    let component = linked.component();
    component
        .component_type()
        .exports(component.engine())
        .map(|(name, _)| name.to_owned())
        .collect()
}

impl std::fmt::Debug for WasmProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmProvider")
            .field("backend", &self.backend)
            .field("path", &self.settings.path)
            .finish_non_exhaustive()
    }
}

impl WasmProvider {
    /// Loads the component of backend `backend` (compiling it, or taking it
    /// from `cache`) and links it against the sandbox's imports. No guest
    /// code runs until the first call.
    pub fn load(backend: &str, settings: &WasmSettings, cache: &CompileCache) -> Result<Self> {
        let failed = |reason: String| Error::Backend {
            backend: backend.to_owned(),
            key: None,
            problem: BackendProblem::Misconfigured,
            reason,
        };
        let tls = TlsClient::from_settings(&settings.tls).map_err(|e| failed(e.report()))?;
        let engine = shared_engine().map_err(|e| failed(e.report()))?.clone();
        let loaded = load_component(
            &engine,
            cache,
            &settings.path,
            &PROVIDER_LINKER,
            &PROVIDER_WORLD,
            failed,
        )?;
        tracing::debug!(
            backend,
            path = %settings.path.display(),
            read_and_compile_us = loaded.compiled.as_micros(),
            link_us = loaded.linked.as_micros(),
            interface = loaded.pre.version(),
            "wasm backend loaded"
        );
        let pre = loaded.pre;
        let stall_pool = if grants_could_stall(&settings.grants) {
            let pool = StallPool::new(backend)
                .map_err(|e| failed(format!("cannot start a thread pool for the backend: {e}")))?;
            Some(pool)
        } else {
            None
        };
        Ok(Self {
            stall_pool,
            backend: backend.into(),
            engine,
            pre,
            settings: settings.clone(),
            tls,
            warnings: Arc::new(WarningLimit::new(format!("backend {}", escaped(backend)))),
            idle: Mutex::new(Vec::new()),
            slots: Semaphore::new(settings.limits.instances),
            calls: CallCounts::default(),
        })
    }

    /// How many calls of each kind this backend has made into its
    /// component so far.
    pub fn calls(&self) -> Calls {
        self.calls.snapshot()
    }

    /// The version of the provider interface the component exports
    /// (`"0.2.0"`, `"0.1.0"`).
    pub fn interface_version(&self) -> &'static str {
        self.pre.version()
    }

    fn time_limit(&self) -> Duration {
        Duration::from_millis(self.settings.limits.timeout_ms)
    }

    fn timed_out(&self) -> ProviderError {
        self.timed_out_waiting(None)
    }

    /// The error for a call that ran out of time, `waiting_on` being the
    /// host a request of the provider was still waiting for then (which
    /// makes the backend unreachable rather than slow).
    fn timed_out_waiting(&self, waiting_on: Option<String>) -> ProviderError {
        let reason = format!(
            "the provider did not answer within {} ms (limits.timeout_ms)",
            self.settings.limits.timeout_ms
        );
        match waiting_on {
            Some(host) => ProviderError::Unreachable(format!(
                "{reason}: its request to {host} had no answer yet"
            )),
            None => ProviderError::Failed(reason),
        }
    }

    /// Makes `call` in an instance, within the limits: its answer (or the
    /// guest's own error) with the host's accounts of the requests that
    /// failed meanwhile.
    async fn call<C: GuestCall>(
        &self,
        call: C,
    ) -> std::result::Result<
        (
            std::result::Result<C::Answer, GuestError>,
            Vec<(BackendProblem, String)>,
        ),
        ProviderError,
    > {
        if !matches!(
            (C::KIND, &self.pre),
            (CallKind::Changes, ProviderPre::V0_1(_))
        ) {
            self.calls.count(C::KIND);
        }
        let _turn = self
            .slots
            .acquire()
            .await
            .map_err(|_| ProviderError::failed("the provider is shut down"))?;
        let ticks = deadline_ticks(self.time_limit());
        // The instance's accounts, kept outside the call: when it runs out
        // of time the instance is gone, and they say what it waited for.
        let accounts = std::sync::OnceLock::new();
        let attempt = async {
            // A fresh instance keeps the deadline its set-up started, so
            // set-up and call together stay within the limit.
            let mut instance = match self.take_idle() {
                Some(mut instance) => {
                    begin_call(&mut instance.store, ticks);
                    instance
                }
                None => self.instantiate(ticks, &accounts).await?,
            };
            let _ = accounts.set(instance.store.data().call_problems().clone());
            let caps = self.reply_caps();
            instance.store.set_hostcall_fuel(call.lift_fuel(caps));
            let outcome = call.make(&instance.guest, &mut instance.store, caps).await;
            instance.store.data().log.end_call();
            match outcome {
                Ok(Ok(reply)) => Ok((instance, reply)),
                // A refused reply costs the instance: its state is suspect.
                Ok(Err(Refused(error))) => Err(error),
                Err(trap) => Err(self.trap_error(&instance.store, &trap)),
            }
        };
        // A backend whose grants could stall runs in its own pool.
        let attempt = run_in(self.stall_pool.as_ref(), attempt);
        // The epoch deadline stops a guest that computes; this timeout
        // stops one that waits in a host call; a panic in a host call ends
        // the call. Each way the instance is dropped with the future.
        let attempt = std::pin::pin!(AssertUnwindSafe(attempt).catch_unwind());
        let finished = tokio::select! {
            finished = attempt => finished,
            () = tokio::time::sleep(self.time_limit()) => {
                // Read while the call is still alive: a request it made
                // is still waiting, or it is not.
                let waiting_on = accounts.get().and_then(CallProblems::waiting_on);
                return Err(self.timed_out_waiting(waiting_on));
            }
        };
        let (instance, reply) = match finished {
            Ok(finished) => finished?,
            Err(_) => {
                tracing::error!(backend = %self.backend, "a host call made for the provider panicked");
                return Err(ProviderError::failed(
                    "the host failed while serving the provider's request (a panic in a \
                     host call; the instance was discarded)",
                ));
            }
        };
        let problems = instance.store.data().call_problems().take();
        self.calls
            .count_requests(instance.store.data().call_problems().take_sent());
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(instance);
        Ok((reply, problems))
    }

    fn reply_caps(&self) -> ReplyCaps {
        let limits = &self.settings.limits;
        ReplyCaps {
            names: limits.max_names,
            bytes: usize::try_from(limits.max_reply_mb.saturating_mul(1 << 20))
                .unwrap_or(usize::MAX),
        }
    }

    fn take_idle(&self) -> Option<Instance> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// A fresh instance, set up with the backend's `config`.
    /// Its accounts of failed requests are put in `accounts` before any
    /// guest code runs.
    async fn instantiate(
        &self,
        ticks: u64,
        accounts: &std::sync::OnceLock<CallProblems>,
    ) -> std::result::Result<Instance, ProviderError> {
        let state = GuestState::build(GuestSpec {
            name: Arc::clone(&self.backend),
            grants: self.settings.grants.clone(),
            tls: self.tls.clone(),
            warnings: Arc::clone(&self.warnings),
            limits: InstanceLimits::from(&self.settings.limits),
            args: Vec::new(),
            stdio: GuestStdio::Log,
        })
        .await
        .map_err(|e| ProviderError::Failed(e.report()))?;
        let _ = accounts.set(state.call_problems().clone());
        let off_thread = state.files_could_stall();
        let mut store = DropOffThread::new(Store::new(&self.engine, state), off_thread);
        store.limiter(|state| &mut state.memory);
        store.set_hostcall_fuel(self.reply_caps().lift_fuel());
        begin_call(&mut store, ticks);
        let instantiated = match &self.pre {
            ProviderPre::V0_2(pre) => pre.instantiate_async(&mut *store).await.map(Ok),
            ProviderPre::V0_1(pre) => pre.instantiate_async(&mut *store).await.map(Err),
        };
        let instantiated = match instantiated {
            Ok(instantiated) => instantiated,
            Err(e) => return Err(self.trap_error(&store, &e)),
        };
        // Wiped however this ends: also when the call's time runs out
        // during set-up and this future is dropped.
        let config = SetupConfig(
            self.settings
                .config
                .iter()
                .map(|(key, value)| (key.clone(), value.expose().to_owned()))
                .collect(),
        );
        let setup: wasmtime::Result<std::result::Result<Guest, GuestError>> = match instantiated {
            Ok(exports) => exports
                .processpype_secrets_provider()
                .provider()
                .call_create(&mut *store, &config.0)
                .await
                .map(|created| {
                    created
                        .map(|provider| Guest::V0_2 { exports, provider })
                        .map_err(GuestError::from)
                }),
            Err(exports) => exports
                .processpype_secrets_backend()
                .call_setup(&mut *store, &config.0)
                .await
                .map(|set_up| {
                    set_up
                        .map(|()| Guest::V0_1(exports))
                        .map_err(GuestError::from)
                }),
        };
        drop(config);
        store.data().log.end_call();
        match setup {
            Ok(Ok(guest)) => {
                // What failed during a set-up that worked is not the call's.
                store.data().call_problems().take();
                Ok(Instance { store, guest })
            }
            Ok(Err(e)) => {
                let problems = store.data().call_problems().take();
                Err(guest_error(e, &problems, true))
            }
            Err(e) => Err(self.trap_error(&store, &e)),
        }
    }

    /// The error for a call that trapped or failed inside wasmtime.
    fn trap_error(&self, store: &Store<GuestState>, error: &wasmtime::Error) -> ProviderError {
        let refused = store.data().memory.refused();
        tracing::debug!(
            backend = %self.backend,
            "instance discarded: {}",
            escaped_at_length(&format!("{error:?}"), DEBUG_DETAIL_CHARS)
        );
        match stop_cause(error, refused, "the provider") {
            Stop::TimedOut => self.timed_out(),
            Stop::OutOfMemory => ProviderError::Failed(format!(
                "the provider ran out of memory (limits.memory_mb = {})",
                self.settings.limits.memory_mb
            )),
            Stop::TooManyHandles => ProviderError::Failed(format!(
                "the provider held more host resources than limits.handles = {} allows",
                self.settings.limits.handles
            )),
            Stop::TooMuchData => ProviderError::Failed(format!(
                "the provider passed more data than the host accepts from one call (a value: \
                 {MAX_VALUE_BYTES} bytes; a list or bulk reply: limits.max_names = {} names \
                 and limits.max_reply_mb = {} MiB); refused before it was copied",
                self.settings.limits.max_names, self.settings.limits.max_reply_mb
            )),
            Stop::Failed(reason) => ProviderError::Failed(reason),
        }
    }
}

/// Resets the per-call limits of `store`. (An idle instance has no TLS
/// problems on record: each call takes them when it ends.)
fn begin_call(store: &mut Store<GuestState>, ticks: u64) {
    store.set_epoch_deadline(ticks);
    store.data_mut().memory.forget_refusals();
}

/// The backend's `config` as handed to `setup`, wiped when dropped.
struct SetupConfig(Vec<(String, String)>);

impl Drop for SetupConfig {
    fn drop(&mut self) {
        for (_, value) in &mut self.0 {
            value.zeroize();
        }
    }
}

/// A guest's own error, escaped and capped.
fn describe_guest_error(error: &GuestError) -> String {
    match error {
        GuestError::NotFound(m) => format!("not found: {}", escaped(m)),
        GuestError::Backend(m) => escaped(m),
        GuestError::AccessDenied(m) => format!("access denied: {}", escaped(m)),
    }
}

/// The provider error for a guest's own error, with the host's accounts
/// of the requests that failed during the call (the guest could only learn
/// that one failed, not why). A guest's `backend` error takes its kind from
/// those accounts (a request to a host it is not granted makes it a
/// missing grant, a server that did not answer an unreachable backend);
/// its `access-denied` error stays a denial, and a failed `setup` (`in_setup`)
/// is a misconfigured backend unless the accounts say otherwise.
fn guest_error(
    error: GuestError,
    problems: &[(BackendProblem, String)],
    in_setup: bool,
) -> ProviderError {
    let own = match (&error, in_setup) {
        (GuestError::NotFound(_), false) => return ProviderError::NotFound,
        (_, true) => BackendProblem::Misconfigured,
        (GuestError::AccessDenied(_), false) => BackendProblem::Denied,
        (_, false) => BackendProblem::Failed,
    };
    let mut reason = format!(
        "{}{}",
        if in_setup {
            "setup failed: "
        } else {
            "provider error: "
        },
        describe_guest_error(&error)
    );
    for (_, problem) in problems {
        reason.push_str("; the host says: ");
        reason.push_str(problem);
    }
    let kind = match own {
        BackendProblem::Denied => own,
        _ => worst(problems).unwrap_or(own),
    };
    ProviderError::with_problem(kind, reason)
}

/// The kind the host's accounts give a failure: a missing grant over an
/// unreachable server; `None` when they show neither.
fn worst(problems: &[(BackendProblem, String)]) -> Option<BackendProblem> {
    [BackendProblem::MissingGrant, BackendProblem::Unreachable]
        .into_iter()
        .find(|kind| problems.iter().any(|(k, _)| k == kind))
}

/// What a provider component must be: a provider of a version this host
/// serves.
static PROVIDER_WORLD: World<GuestState, ProviderPre> = World {
    missing_import: "needs an import this host does not grant",
    missing_export: "is not a provider this host can serve",
    typed: ProviderPre::of,
};

/// The glob a guest is sent for `pattern` (an exact name has its wildcard
/// characters escaped).
fn wire_pattern(pattern: &Pattern) -> String {
    if pattern.is_exact() {
        pp_secrets_pattern::escape(pattern.as_str())
    } else {
        pattern.as_str().to_owned()
    }
}

#[async_trait]
impl SecretsProvider for WasmProvider {
    async fn get(&self, name: &str) -> std::result::Result<StoredValue, ProviderError> {
        self.get_versioned(name).await.map(|(value, _)| value)
    }

    async fn get_versioned(
        &self,
        name: &str,
    ) -> std::result::Result<(StoredValue, Option<String>), ProviderError> {
        let (answer, problems) = self.call(GetValue(name)).await?;
        answer.map_err(|e| guest_error(e, &problems, false))
    }

    async fn list(&self, pattern: &Pattern) -> std::result::Result<Vec<String>, ProviderError> {
        let glob = wire_pattern(pattern);
        let (answer, problems) = self.call(ListNames { glob, pattern }).await?;
        answer.map_err(|e| guest_error(e, &problems, false))
    }

    async fn get_matching(
        &self,
        pattern: &Pattern,
    ) -> std::result::Result<Vec<MatchedSecret>, ProviderError> {
        let glob = wire_pattern(pattern);
        let (answer, problems) = self.call(GetMatching { glob, pattern }).await?;
        let matched = answer.map_err(|e| guest_error(e, &problems, false))?;
        Ok(matched
            .into_iter()
            .map(|(name, value)| match value {
                Ok((value, version)) => MatchedSecret {
                    name,
                    value: Ok(value),
                    version,
                },
                Err(e) => MatchedSecret::new(name, Err(guest_error(e, &problems, false))),
            })
            .collect())
    }

    /// A 0.2.0 provider is asked what changed (`changes`); the names it
    /// says changed or appeared are read again, one `get` each. A provider
    /// that cannot tell, or a 0.1.0 one, is re-read.
    async fn refresh(
        &self,
        held: &[HeldSecret<'_>],
        patterns: &[Pattern],
    ) -> std::result::Result<Refreshed, ProviderError> {
        if matches!(self.pre, ProviderPre::V0_1(_)) {
            return refresh_by_rereading(self, held, patterns).await;
        }
        let call = Changes {
            held: held
                .iter()
                .map(|h| v0_2::HeldSecret {
                    name: h.name.to_owned(),
                    version: h.version.map(str::to_owned),
                })
                .collect(),
            globs: patterns.iter().map(wire_pattern).collect(),
            patterns,
        };
        let (answer, problems) = self.call(call).await?;
        let Some(changes) = answer.map_err(|e| guest_error(e, &problems, false))? else {
            return refresh_by_rereading(self, held, patterns).await;
        };
        let mut refreshed = Refreshed {
            current: Vec::with_capacity(changes.fetch.len()),
            gone: changes.gone,
        };
        // What one pass may bring into the host, as one bulk reply may
        // (limits.max_reply_mb): a provider that names many changes cannot
        // make the host hold more.
        let budget = self.reply_caps().bytes;
        let mut fetched = 0usize;
        for name in changes.fetch {
            match self.get_versioned(&name).await {
                Ok((value, version)) => {
                    fetched = fetched.saturating_add(name.len() + value.len());
                    if fetched > budget {
                        return Err(ProviderError::failed(format!(
                            "the provider's change check named more changed values than one \
                             reply may hold (limits.max_reply_mb = {})",
                            self.settings.limits.max_reply_mb
                        )));
                    }
                    refreshed.current.push(MatchedSecret {
                        name,
                        value: Ok(value),
                        version,
                    });
                }
                Err(ProviderError::NotFound) => refreshed.gone.push(name),
                Err(e) => refreshed.current.push(MatchedSecret::new(name, Err(e))),
            }
        }
        Ok(refreshed)
    }
}

#[cfg(test)]
mod tests {
    use crate::error::ErrorKind;
    use crate::manager::SecretsManager;
    use crate::wasm::http_grants::forced_failure::{IN_CALL, IN_TASK};
    use crate::wasm::test_guests::{built_guest, shared_cache};

    /// Backends `IN_CALL` and `IN_TASK` (whose HTTP requests make the host
    /// panic), `steady` (the same component) and `env`.
    fn manager() -> Option<SecretsManager> {
        let hostile = built_guest("pp_secrets_hostile_guest.wasm")?;
        let backend = |name: &str| {
            format!(
                "    {name}:\n      type: wasm\n      path: {:?}\n      \
                 allow: {{ hosts: [\"127.0.0.1:9\"] }}\n",
                hostile.display().to_string()
            )
        };
        let yaml = format!(
            "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n{}{}{}    env: {{}}\n",
            shared_cache().display().to_string(),
            backend(IN_CALL),
            backend(IN_TASK),
            backend("steady"),
        );
        Some(
            SecretsManager::from_yaml_str(&yaml, "/")
                .expect("valid config")
                .expect("enabled"),
        )
    }

    #[test]
    fn a_panic_in_a_host_call_is_that_calls_backend_error() {
        let Some(secrets) = manager() else {
            return;
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        for backend in [IN_CALL, IN_TASK] {
            // Twice: the first instance is discarded, the next fails alike.
            for _ in 0..2 {
                let error = runtime
                    .block_on(secrets.get_raw(&format!("{backend}:http:http://127.0.0.1:9/")))
                    .expect_err("the host call panicked");
                assert_eq!(error.kind(), ErrorKind::Backend, "{error}");
                assert!(
                    error.to_string().contains("a panic in a host call"),
                    "{error}"
                );
            }
            let value = runtime
                .block_on(secrets.get_raw(&format!("{backend}:ok")))
                .expect("calls without the failing host call still work");
            assert_eq!(value.as_text(), Some("value-of-ok"));
        }
        let value = runtime
            .block_on(secrets.get_raw("steady:ok"))
            .expect("another backend is untouched");
        assert_eq!(value.as_text(), Some("value-of-ok"));
        assert!(runtime.block_on(secrets.get_raw("env:PATH")).is_ok());
    }
}
