//! Speed of the manager, run by `bench/run.sh` side by side with
//! ProcessPype on the same data. Prints one JSON object a line.

//!
//! Reads its data from the directory in `PP_BENCH_DATA`:
//! `cached.yaml` (keys for the cached-get loop), `preload.yaml` and
//! `preload.env` (10,000 keys each).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use pp_secrets::SecretsManager;
use pp_secrets::providers::{DotenvProvider, FileProvider};

/// Rounds for the preloads, whose best is reported (see `GET_ROUNDS`).
const ROUNDS: usize = 7;
/// Rounds for the cached-get loops, whose best is reported: on a shared,
/// noisy machine the fastest round is the closest to the code's own cost
/// (noise only ever adds time). Threads are pinned to cores for the same
/// reason: a migration in the middle of a round stacks both on one core.
const GET_ROUNDS: usize = 25;

fn main() -> Result<()> {
    let data = PathBuf::from(std::env::var("PP_BENCH_DATA").context("set PP_BENCH_DATA")?);
    let calls: usize = std::env::var("PP_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000_000);

    for (label, keys) in [("hot10", 10), ("all1000", 1000)] {
        let (one, two) = cached_get(&data, keys, calls)?;
        emit(&format!("cached_get_{label}_1_thread_ns"), one);
        emit(&format!("cached_get_{label}_2_threads_ns"), two);
        emit(
            &format!("cached_get_{label}_2_thread_speedup"),
            2.0 * one / two,
        );
    }
    emit(
        "preload_yaml_10k_ms",
        preload(&data, "preload.yaml", Kind::Yaml)?,
    );
    emit(
        "preload_dotenv_10k_ms",
        preload(&data, "preload.env", Kind::Dotenv)?,
    );
    Ok(())
}

fn emit(name: &str, value: f64) {
    println!("{{\"impl\": \"rust\", \"name\": \"{name}\", \"value\": {value:.3}}}");
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().build()?)
}

/// ns per cached `get` of the first `key_count` keys with one thread, and
/// per call per thread with two threads reading the same keys at once (best
/// of `GET_ROUNDS`, interleaved).
fn cached_get(data: &Path, key_count: usize, calls: usize) -> Result<(f64, f64)> {
    let manager = SecretsManager::builder()
        .backend("local", "", FileProvider::new(data.join("cached.yaml")))
        .build()?;
    let rt = runtime()?;
    rt.block_on(manager.load_declarations(&["local:*"]))?;
    let keys: Vec<String> = rt
        .block_on(manager.list("local:*"))?
        .into_iter()
        .take(key_count)
        .map(|name| format!("local:{name}"))
        .collect();
    anyhow::ensure!(!keys.is_empty(), "no keys loaded from cached.yaml");

    let run = |threads: usize| -> Result<Duration> {
        let barrier = Barrier::new(threads);
        let started = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (manager, keys, barrier) = (&manager, &keys, &barrier);
                    s.spawn(move || -> Result<Duration> {
                        core_affinity::set_for_current(core_affinity::CoreId { id: t });
                        let rt = runtime()?;
                        barrier.wait();
                        let start = Instant::now();
                        rt.block_on(async {
                            for i in 0..calls {
                                let key = &keys[(i + t * 7) % keys.len()];
                                black_box(manager.get(key).await?);
                            }
                            Ok::<_, pp_secrets::Error>(())
                        })?;
                        Ok(start.elapsed())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .map_err(|_| anyhow::anyhow!("bench thread panicked"))?
                })
                .collect::<Result<Vec<_>>>()
        })?;
        Ok(started.into_iter().max().unwrap_or_default())
    };

    let (mut best_one, mut best_two) = (f64::MAX, f64::MAX);
    for _ in 0..GET_ROUNDS {
        best_one = best_one.min(run(1)?.as_nanos() as f64 / calls as f64);
        best_two = best_two.min(run(2)?.as_nanos() as f64 / calls as f64);
    }
    Ok((best_one, best_two))
}

enum Kind {
    Yaml,
    Dotenv,
}

/// Best ms of `ROUNDS` to build a manager over `file` and load every key
/// from it. The best, not the median: on this shared machine the spread of
/// allocation-heavy work is wide (27-56 ms medians for one unchanged build)
/// and noise only ever adds time.
fn preload(data: &Path, file: &str, kind: Kind) -> Result<f64> {
    let rt = runtime()?;
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let builder = SecretsManager::builder();
        let builder = match kind {
            Kind::Yaml => builder.backend("b", "", FileProvider::new(data.join(file))),
            Kind::Dotenv => builder.backend("b", "", DotenvProvider::new(data.join(file))),
        };
        let manager = builder.build()?;
        let report = rt.block_on(manager.load_declarations(&["b:*"]))?;
        let elapsed = start.elapsed();
        anyhow::ensure!(
            report.loaded() == 10_000,
            "loaded {} of 10000",
            report.loaded()
        );
        black_box(manager);
        times.push(elapsed.as_secs_f64() * 1000.0);
    }
    Ok(times.into_iter().fold(f64::MAX, f64::min))
}
