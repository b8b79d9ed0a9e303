//! Cost of the Wasm backend, run by `bench/run.sh wasm`. Prints one JSON
//! object a line.
//!
//! - Warm `get` through the `dir` provider component against the same
//!   provider code compiled natively and registered as a native backend,
//!   on the same directory of settled files; `get_raw` skips the cache, so
//!   every call reaches the provider (which checks the file with one
//!   `stat` and serves what it read before). The difference is what the
//!   sandbox costs.
//! - The same for a call that does no I/O (the hostile guest's `get`,
//!   which only formats a string), to show the bare call overhead.
//! - Loading a backend (read, compile or fetch from the compile cache,
//!   link) and loading plus the first call (instantiate, `setup`), with an
//!   empty and with a warm compile cache.
//! - A Wasm app's cached `get` through the manager import (the probe app
//!   calling it N times in one run, less a run with N = 0) against the
//!   same cached `get` from Rust.
//!
//! Needs the guest components built (`bench/run.sh` builds them).
//!
//! For profiling one part: `PP_BENCH_ONLY` names the parts to run (a
//! comma-separated subset of `dir,bare,load,app`) and `PP_BENCH_ROUNDS`
//! sets the number of rounds. The Wasm and native rounds of a pair
//! alternate; `PP_BENCH_SEQ` (set to anything) runs all of one side's
//! rounds first instead, to see whether the order matters.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use pp_secrets::wasm::{AppPolicy, AppStdio, CompileCache, WasmApp};
use pp_secrets::{
    ConfigDocument, Pattern, ProviderError, SecretsManager, SecretsProvider, StoredValue,
    async_trait,
};
use pp_secrets_dir_provider::DirProvider;
use pp_secrets_guest::Provider as _;
use tokio::runtime::Runtime;

/// Rounds per figure, unless `PP_BENCH_ROUNDS` says otherwise; the best is
/// reported (noise only adds time).
const DEFAULT_ROUNDS: usize = 15;
const CALLS: usize = 20_000;

fn rounds() -> usize {
    std::env::var("PP_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(DEFAULT_ROUNDS)
}

/// Whether the part `name` is to run (see `PP_BENCH_ONLY`).
fn selected(name: &str) -> bool {
    std::env::var("PP_BENCH_ONLY").map_or(true, |only| only.split(',').any(|p| p.trim() == name))
}

fn main() -> Result<()> {
    let guests = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/wasm32-wasip2/release");
    let dir_wasm = guests.join("pp_secrets_dir_provider.wasm");
    let bare_wasm = guests.join("pp_secrets_hostile_guest.wasm");
    let work = tempfile::tempdir()?;
    let mount = work.path().join("mount");
    std::fs::create_dir(&mount)?;
    for i in 0..100 {
        std::fs::write(
            mount.join(format!("secret_{i:03}")),
            format!("value-{i:03}-abcdefghijklmnopqrstuvwxyz"),
        )?;
    }
    // Deployed secret files are old: let these settle, so that the dir
    // provider keeps what it read and a warm get is one `stat` (a file
    // changed within the last 2 s is read on every get).
    std::thread::sleep(Duration::from_millis(2_100));
    let cache = work.path().join("cache");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    if selected("dir") {
        // The dir provider component against its own code compiled
        // natively.
        let native = NativeDir::new(&mount)?;
        let setting = (dir_wasm.as_path(), mount.as_path(), cache.as_path());
        warm_pair(&rt, "dir_get", "mounted:secret_042", setting, native)?;
    }
    if selected("versions") {
        // The same dir provider built against WIT 0.2.0 and 0.1.0: what
        // the newer interface (a resource, text-or-bytes values with
        // versions) costs a warm call.
        let v0_1 = guests.join("pp_secrets_dir_provider_v0_1.wasm");
        let current = manager(&config(&dir_wasm, &mount, Some(&cache)))?;
        let older = manager(&config(&v0_1, &mount, Some(&cache)))?;
        let (current_ns, older_ns) =
            rt.block_on(warm_gets(&current, &older, "mounted:secret_042"))?;
        emit("dir_get_0_2_0_ns", current_ns);
        emit("dir_get_0_1_0_ns", older_ns);
    }
    if let Some(endpoint) = std::env::var("PP_BENCH_ETCD")
        .ok()
        .filter(|_| selected("etcd_refresh"))
    {
        etcd_refresh(
            &rt,
            &guests.join("pp_secrets_etcd_provider.wasm"),
            &endpoint,
            &cache,
        )?;
    }
    if selected("bare") {
        // A guest call that does no I/O against the same work natively.
        let setting = (bare_wasm.as_path(), mount.as_path(), cache.as_path());
        warm_pair(&rt, "bare_get", "mounted:ok", setting, Formatting)?;
    }
    if selected("load") {
        loads(&rt, &dir_wasm, &mount, work.path(), &cache)?;
    }
    if selected("app") {
        // A Wasm app's cached get.
        let probe = guests.join("pp-secrets-app-probe.wasm");
        let (import_ns, rust_ns) = rt.block_on(app_get(&probe, work.path(), &cache))?;
        emit("app_get_import_ns", import_ns);
        emit("app_get_rust_ns", rust_ns);
        emit("app_get_overhead_ns", import_ns - rust_ns);
    }
    Ok(())
}

/// Warm `get_raw` of `key` through the component at `component` (serving
/// `mount`) against the same through `native`; emits both and the
/// difference as `{figure}_wasm_ns`, `{figure}_native_ns` and
/// `{figure}_overhead_ns`.
fn warm_pair(
    rt: &Runtime,
    figure: &str,
    key: &str,
    (component, mount, cache): (&Path, &Path, &Path),
    native: impl SecretsProvider + 'static,
) -> Result<()> {
    let wasm = manager(&config(component, mount, Some(cache)))?;
    let native = SecretsManager::builder()
        .backend("mounted", "", native)
        .build()?;
    let (wasm_ns, native_ns) = rt.block_on(warm_gets(&wasm, &native, key))?;
    emit(&format!("{figure}_wasm_ns"), wasm_ns);
    emit(&format!("{figure}_native_ns"), native_ns);
    emit(&format!("{figure}_overhead_ns"), wasm_ns - native_ns);
    Ok(())
}

/// Loading a backend with an empty and with a warm compile cache.
fn loads(rt: &Runtime, dir_wasm: &Path, mount: &Path, work: &Path, cache: &Path) -> Result<()> {
    // Make sure the warm cache has the entry.
    manager(&config(dir_wasm, mount, Some(cache)))?;
    let cold_cache = work.join("cold");
    let load_cold = best(rounds().min(5), || {
        let _ = std::fs::remove_dir_all(&cold_cache);
        time(|| manager(&config(dir_wasm, mount, Some(&cold_cache))).map(drop))
    })?;
    let load_warm = best(rounds(), || {
        time(|| manager(&config(dir_wasm, mount, Some(cache))).map(drop))
    })?;
    let first_call_warm = best(rounds(), || {
        time(|| {
            let m = manager(&config(dir_wasm, mount, Some(cache)))?;
            rt.block_on(m.get_raw("mounted:secret_001"))?;
            Ok(())
        })
    })?;
    emit("load_empty_cache_ms", load_cold);
    emit("load_warm_cache_ms", load_warm);
    emit("load_and_first_get_warm_cache_ms", first_call_warm);
    Ok(())
}

/// Nanoseconds per cached `get` of one secret: by an app through the
/// manager import, and from Rust. Best of the rounds for each.
async fn app_get(probe: &Path, work: &Path, cache: &Path) -> Result<(f64, f64)> {
    const APP_CALLS: usize = 5 * CALLS;
    std::fs::write(
        work.join("app-secrets.yaml"),
        "token: t0ken-abcdefghijklmnopqrstuvwxyz\n",
    )?;
    let secrets = manager(&format!(
        "secrets:\n  enabled: true\n  backends:\n    local:\n      type: file\n      \
         path: {:?}\n",
        work.join("app-secrets.yaml").display().to_string()
    ))?;
    let key = "local:token";
    secrets.get(key).await?;
    let app = WasmApp::load(probe, &CompileCache::in_dir(cache))?;
    let run = |calls: usize| {
        let policy = AppPolicy::new("bench").allow(key).map(|p| {
            p.stdio(AppStdio::Capture(1 << 16))
                .args(["repeat", &format!("{calls}:{key}")])
        });
        let (app, secrets) = (&app, &secrets);
        async move {
            let started = Instant::now();
            let outcome = app.run(secrets, policy?).await?;
            anyhow::ensure!(outcome.exit_code == 0, "the probe failed");
            Ok::<_, anyhow::Error>(started.elapsed())
        }
    };
    let mut empty = Duration::MAX;
    let mut full = Duration::MAX;
    for _ in 0..rounds() {
        empty = empty.min(run(0).await?);
        full = full.min(run(APP_CALLS).await?);
    }
    let import_ns = full.saturating_sub(empty).as_nanos() as f64 / APP_CALLS as f64;

    let rust_ns = per_call(|| async {
        black_box(secrets.get(black_box(key)).await?);
        Ok(())
    })
    .await?;
    Ok((import_ns, rust_ns))
}

/// A refresh of the 1,000 keys under `bench/` of the etcd at `endpoint`
/// (bench/etcd_compare.py stores them) with nothing changed, against
/// reading them all again (what a refresh without change detection does):
/// best milliseconds of each, and the HTTP requests one refresh sends.
fn etcd_refresh(rt: &Runtime, component: &Path, endpoint: &str, cache: &Path) -> Result<()> {
    let host = endpoint
        .strip_prefix("http://")
        .context("PP_BENCH_ETCD is http://host:port")?;
    let yaml = format!(
        "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n    etcd:\n      \
         type: wasm\n      path: {:?}\n      config: {{ endpoint: {endpoint:?} }}\n      \
         allow: {{ hosts: [{host:?}] }}\n      refresh: {{ every: 1h }}\n  load: [\"etcd:bench/*\"]\n",
        cache.display().to_string(),
        component.display().to_string(),
    );
    let secrets = manager(&yaml)?;
    let loaded = rt.block_on(secrets.load())?.loaded();
    anyhow::ensure!(
        loaded == 1000,
        "expected 1,000 keys under bench/, found {loaded}"
    );
    let (mut refresh, mut reread) = (Duration::MAX, Duration::MAX);
    for _ in 0..rounds() {
        let started = Instant::now();
        let report = rt.block_on(secrets.refresh_now("etcd"))?;
        refresh = refresh.min(started.elapsed());
        anyhow::ensure!(report == Default::default(), "nothing changed");
        let started = Instant::now();
        rt.block_on(secrets.load_declaration("etcd:bench/*"))?;
        reread = reread.min(started.elapsed());
    }
    emit(
        "etcd_refresh_1000_unchanged_ms",
        refresh.as_secs_f64() * 1e3,
    );
    emit("etcd_reread_1000_ms", reread.as_secs_f64() * 1e3);
    Ok(())
}

fn emit(name: &str, value: f64) {
    println!("{{\"impl\": \"rust\", \"name\": \"{name}\", \"value\": {value:.3}}}");
}

fn config(component: &Path, mount: &Path, cache: Option<&Path>) -> String {
    format!(
        "secrets:\n  enabled: true\n  cache_enabled: false\n  wasm_cache: {}\n  backends:\n    \
         mounted:\n      type: wasm\n      path: {:?}\n      config: {{ dir: {m:?} }}\n      \
         allow: {{ dirs: [{m:?}] }}\n",
        cache.map_or("false".to_owned(), |c| format!(
            "{:?}",
            c.display().to_string()
        )),
        component.display().to_string(),
        m = mount.display().to_string(),
    )
}

fn manager(yaml: &str) -> Result<SecretsManager> {
    let doc = ConfigDocument::from_yaml_str(yaml, "/")?;
    Ok(SecretsManager::from_config(&doc.secrets)?)
}

/// Best nanoseconds per `get_raw` of `key` from `a` and from `b`, their
/// rounds interleaved so that both see the machine in the same states.
async fn warm_gets(a: &SecretsManager, b: &SecretsManager, key: &str) -> Result<(f64, f64)> {
    a.get_raw(key).await.context("warm-up")?;
    b.get_raw(key).await.context("warm-up")?;
    let sequential = std::env::var_os("PP_BENCH_SEQ").is_some();
    let (mut best_a, mut best_b) = (f64::MAX, f64::MAX);
    for _ in 0..rounds() {
        best_a = best_a.min(get_round(a, key).await?);
        if !sequential {
            best_b = best_b.min(get_round(b, key).await?);
        }
    }
    if sequential {
        for _ in 0..rounds() {
            best_b = best_b.min(get_round(b, key).await?);
        }
    }
    Ok((best_a, best_b))
}

/// Nanoseconds per `get_raw` of `key` over one round.
async fn get_round(manager: &SecretsManager, key: &str) -> Result<f64> {
    round(|| async {
        black_box(manager.get_raw(black_box(key)).await?);
        Ok(())
    })
    .await
}

/// Best nanoseconds per call of `call` over the rounds.
async fn per_call<F, Fut>(mut call: F) -> Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut best = f64::MAX;
    for _ in 0..rounds() {
        best = best.min(round(&mut call).await?);
    }
    Ok(best)
}

/// Nanoseconds per call of `call` over one round of [`CALLS`] calls.
async fn round<F, Fut>(mut call: F) -> Result<f64>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let started = Instant::now();
    for _ in 0..CALLS {
        call().await?;
    }
    Ok(started.elapsed().as_nanos() as f64 / CALLS as f64)
}

fn time(f: impl FnOnce() -> Result<()>) -> Result<Duration> {
    let started = Instant::now();
    f()?;
    Ok(started.elapsed())
}

/// Best milliseconds of `rounds` runs of `f`.
fn best(rounds: usize, mut f: impl FnMut() -> Result<Duration>) -> Result<f64> {
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        best = best.min(f()?);
    }
    Ok(best.as_secs_f64() * 1e3)
}

/// The dir provider's own code, compiled natively.
struct NativeDir(DirProvider);

impl NativeDir {
    fn new(mount: &Path) -> Result<Self> {
        let config = [("dir".to_owned(), mount.display().to_string())].into();
        DirProvider::create(config)
            .map(Self)
            .map_err(|e| anyhow::anyhow!("{e:?}"))
    }
}

#[async_trait]
impl SecretsProvider for NativeDir {
    async fn get(&self, name: &str) -> Result<StoredValue, ProviderError> {
        // The guest SDK's value made the host's, as the host does with a
        // guest's reply.
        match self.0.get(name) {
            Ok(value) => Ok(match value.stored {
                pp_secrets_guest::StoredValue::Text(text) => StoredValue::from(text),
                pp_secrets_guest::StoredValue::Bytes(bytes) => {
                    StoredValue::Bytes(pp_secrets::SecretBytes::new(bytes))
                }
            }),
            Err(_) => Err(ProviderError::NotFound),
        }
    }
    async fn list(&self, _: &Pattern) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
}

/// What the hostile guest's `get("ok")` does, natively.
struct Formatting;

#[async_trait]
impl SecretsProvider for Formatting {
    async fn get(&self, name: &str) -> Result<StoredValue, ProviderError> {
        Ok(StoredValue::from(format!("value-of-{}", black_box(name))))
    }
    async fn list(&self, _: &Pattern) -> Result<Vec<String>, ProviderError> {
        Ok(Vec::new())
    }
}
