//! In-process figures of one provider per language, run by
//! `bench/provider_languages.py` (see BENCHMARKS.md). Prints one JSON
//! object a line.
//!
//! The providers are the Rust `dir` provider
//! (`target/wasm32-wasip2/release/pp_secrets_dir_provider.wasm`, one file
//! per secret), the Python `json` provider
//! (`target/components/json_provider.wasm`) and the JavaScript `ini`
//! provider (`target/components/ini_provider.wasm`), each serving the same
//! ten settled secrets from its own file(s). All three do the same work on
//! a warm `get`: one `stat` of the file, then the value read before.
//!
//! - `first_get_{lang}_ms`: the first `get_raw` after building the manager
//!   from a warm compile cache: instantiating the component, the
//!   provider's set-up (reading and parsing its file) and the call; best
//!   and median of the rounds, interleaved across the languages.
//! - `warm_get_{lang}_ns`: one `get_raw` on a warm instance (the manager's
//!   cache is off, so every call reaches the provider); best round of
//!   calls, the languages' rounds interleaved.
//!
//! Each language has its own compile cache, `{cache}/{lang}`.
//! `PP_BENCH_WASM_CACHE` names a `{cache}` whose caches already hold the
//! components (the script passes its warm one); without it the bench
//! compiles them into a temporary one first (a minute or so for the
//! Python and JavaScript components). `PP_BENCH_ROUNDS` sets the rounds
//! (default 15).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use pp_secrets::{ConfigDocument, SecretsManager};

const DEFAULT_ROUNDS: usize = 15;
/// How long one round of warm gets lasts, about.
const ROUND: Duration = Duration::from_millis(50);
const KEY: &str = "b:db_password";

struct Lang {
    name: &'static str,
    component: PathBuf,
    /// The backend's `config` and `allow`, as YAML flow mappings.
    config: String,
    allow: String,
}

fn rounds() -> usize {
    std::env::var("PP_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(DEFAULT_ROUNDS)
}

fn main() -> Result<()> {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let work = tempfile::tempdir()?;
    let langs = write_data(work.path(), &target)?;
    for lang in &langs {
        anyhow::ensure!(
            lang.component.exists(),
            "{} is missing: build it first (bash tests/run.sh)",
            lang.component.display()
        );
    }
    // Deployed secret files are old: let these settle, so that every
    // provider keeps what it read and a warm get is one `stat` (a file
    // changed within the last 2 s is read again on every get).
    std::thread::sleep(Duration::from_millis(2_100));
    let cache = match std::env::var_os("PP_BENCH_WASM_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => work.path().join("cache"),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Fill the compile cache (a no-op when it is warm) and check the value.
    for lang in &langs {
        let value = rt.block_on(manager(lang, &cache)?.get_raw(KEY))?;
        anyhow::ensure!(
            value.as_text() == Some("hunter2"),
            "{}: unexpected value",
            lang.name
        );
    }

    // The first get on a fresh manager, interleaved round by round.
    let mut first: Vec<Vec<f64>> = vec![Vec::new(); langs.len()];
    for _ in 0..rounds() {
        for (lang, times) in langs.iter().zip(&mut first) {
            let m = manager(lang, &cache)?;
            let started = Instant::now();
            black_box(rt.block_on(m.get_raw(KEY))?);
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    for (lang, times) in langs.iter().zip(&mut first) {
        times.sort_by(f64::total_cmp);
        emit(&format!("first_get_{}_ms_best", lang.name), times[0]);
        emit(
            &format!("first_get_{}_ms_median", lang.name),
            times[times.len() / 2],
        );
    }

    // Warm gets: rounds of about ROUND each, interleaved.
    let managers = langs
        .iter()
        .map(|lang| manager(lang, &cache))
        .collect::<Result<Vec<_>>>()?;
    let mut calls = Vec::new();
    for m in &managers {
        // Warm up, then size the rounds from 20 calls.
        rt.block_on(m.get_raw(KEY))?;
        let per_call = rt.block_on(round(m, 20))?;
        calls.push(((ROUND.as_secs_f64() * 1e9 / per_call) as usize).clamp(20, 50_000));
    }
    let mut best = vec![f64::MAX; langs.len()];
    for _ in 0..rounds() {
        for ((m, &n), best) in managers.iter().zip(&calls).zip(&mut best) {
            *best = best.min(rt.block_on(round(m, n))?);
        }
    }
    for (lang, best) in langs.iter().zip(best) {
        emit(&format!("warm_get_{}_ns", lang.name), best);
    }
    drop(managers);
    drop(rt);
    Ok(())
}

/// The three providers' data under `work`: the same ten secrets as files
/// for `dir`, as a JSON object for `json`, as INI lines for `ini`.
fn write_data(work: &Path, target: &Path) -> Result<Vec<Lang>> {
    let secrets: Vec<(String, String)> = std::iter::once(("db_password".into(), "hunter2".into()))
        .chain((1..10).map(|i| {
            (
                format!("secret_{i:02}"),
                format!("value-{i:02}-abcdefghijklmnopqrstuvwxyz"),
            )
        }))
        .collect();
    let (rust, python, js) = (work.join("rust"), work.join("python"), work.join("js"));
    for dir in [&rust, &python, &js] {
        std::fs::create_dir(dir)?;
    }
    for (name, value) in &secrets {
        std::fs::write(rust.join(name), value)?;
    }
    let json: serde_json::Map<String, serde_json::Value> = secrets
        .iter()
        .map(|(k, v)| (k.clone(), v.clone().into()))
        .collect();
    std::fs::write(python.join("secrets.json"), serde_json::to_vec(&json)?)?;
    let ini: String = secrets
        .iter()
        .map(|(k, v)| format!("{k} = \"{v}\"\n"))
        .collect();
    std::fs::write(js.join("secrets.ini"), ini)?;
    let q = |p: &Path| format!("{:?}", p.display().to_string());
    Ok(vec![
        Lang {
            name: "rust",
            component: target.join("wasm32-wasip2/release/pp_secrets_dir_provider.wasm"),
            config: format!("{{ dir: {} }}", q(&rust)),
            allow: format!("{{ dirs: [{}] }}", q(&rust)),
        },
        Lang {
            name: "python",
            component: target.join("components/json_provider.wasm"),
            config: format!("{{ file: {} }}", q(&python.join("secrets.json"))),
            allow: format!("{{ dirs: [{}] }}", q(&python)),
        },
        Lang {
            name: "js",
            component: target.join("components/ini_provider.wasm"),
            config: format!("{{ file: {} }}", q(&js.join("secrets.ini"))),
            allow: format!("{{ dirs: [{}] }}", q(&js)),
        },
    ])
}

/// A manager with the provider as backend `b`, default limits, the value
/// cache off (every get reaches the provider) and the compile cache in
/// `cache/{lang}`.
fn manager(lang: &Lang, cache: &Path) -> Result<SecretsManager> {
    let yaml = format!(
        "secrets:\n  enabled: true\n  cache_enabled: false\n  wasm_cache: {:?}\n  backends:\n    \
         b:\n      type: wasm\n      path: {:?}\n      config: {}\n      allow: {}\n",
        cache.join(lang.name).display().to_string(),
        lang.component.display().to_string(),
        lang.config,
        lang.allow,
    );
    let doc = ConfigDocument::from_yaml_str(&yaml, "/")?;
    SecretsManager::from_config(&doc.secrets).with_context(|| format!("loading {}", lang.name))
}

/// Nanoseconds per `get_raw` over `calls` calls.
async fn round(m: &SecretsManager, calls: usize) -> Result<f64> {
    let started = Instant::now();
    for _ in 0..calls {
        black_box(m.get_raw(black_box(KEY)).await?);
    }
    Ok(started.elapsed().as_nanos() as f64 / calls as f64)
}

fn emit(name: &str, value: f64) {
    println!("{{\"impl\": \"rust\", \"name\": \"{name}\", \"value\": {value:.3}}}");
}
