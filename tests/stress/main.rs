//! The stress test of the sandbox (its own test binary, so that the file
//! descriptor and memory figures are this test's alone): many tasks call
//! one Wasm backend for a bounded time while calls trap, run out of time,
//! memory, open files or handles; afterwards every instance slot is free,
//! descriptors and memory are back near where they started, and the other
//! backends still serve. `--nocapture` prints the figures RELIABILITY.md
//! records.

#![cfg(feature = "wasm")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pp_secrets::{ErrorKind, SecretsManager};

/// How long the load runs.
const LOAD_FOR: Duration = Duration::from_secs(15);
/// Calls in flight at once.
const TASKS: usize = 32;
/// The backend's time limit.
const TIMEOUT_MS: u64 = 500;
/// The backend's instances (slots).
const INSTANCES: usize = 4;

/// What the tasks ask for, in turn: most calls are ordinary, the rest each
/// hit one limit.
const BEHAVIOURS: &[&str] = &[
    "ok",
    "ok",
    "ok",
    "loop",
    "ok",
    "panic",
    "ok",
    "allocate",
    "ok",
    "sleep",
    "ok",
    "pollables:1000",
    "ok",
    "HOARD",
    "ok",
    "recurse",
];

fn hostile() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/wasm32-wasip2/release/pp_secrets_hostile_guest.wasm");
    if path.is_file() {
        return Some(path);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is not built: run `bash tests/run.sh`",
        path.display()
    );
    eprintln!("\n*** SKIPPING: the hostile guest is not built ***\n");
    None
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

fn resident_mib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096 / (1 << 20)
}

#[test]
fn a_wasm_backend_under_load_with_faults_gives_everything_back() {
    let Some(hostile) = hostile() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("secrets.yaml"), "api_key: stress-value\n").expect("write");
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-wasm-cache");
    let yaml = format!(
        "secrets:\n  enabled: true\n  wasm_cache: {cache:?}\n  backends:\n    hostile:\n      \
         type: wasm\n      path: {hostile:?}\n      allow: {{ dirs: [{dir:?}] }}\n      \
         limits: {{ instances: {INSTANCES}, timeout_ms: {TIMEOUT_MS}, open_files: 4, \
         handles: 64 }}\n    local:\n      type: file\n      path: secrets.yaml\n    env: {{}}\n",
        dir = dir.path().display().to_string(),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let hoard = format!("hoard:100:{}", dir.path().join("secrets.yaml").display());

    let secrets = Arc::new(
        SecretsManager::from_yaml_str(&yaml, dir.path())
            .expect("valid")
            .expect("enabled"),
    );
    // Warm: the component is compiled and one instance made.
    runtime
        .block_on(secrets.get_raw("hostile:ok"))
        .expect("warm-up");
    let (fds_before, rss_before) = (open_descriptors(), resident_mib());

    let started = Instant::now();
    let mut outcomes = std::collections::BTreeMap::<String, u64>::new();
    let mut peak_fds = fds_before;
    let mut peak_rss = rss_before;
    let mut round = 0usize;
    while started.elapsed() < LOAD_FOR {
        let results = runtime.block_on(async {
            let mut tasks = Vec::new();
            for task in 0..TASKS {
                let behaviour = BEHAVIOURS[(round + task) % BEHAVIOURS.len()];
                let key = match behaviour {
                    "HOARD" => format!("hostile:{hoard}"),
                    other => format!("hostile:{other}"),
                };
                let secrets = Arc::clone(&secrets);
                tasks.push(tokio::spawn(async move {
                    (
                        behaviour,
                        secrets
                            .get_raw(&key)
                            .await
                            .map(|v| v.as_text().unwrap_or_default().to_owned()),
                    )
                }));
            }
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await.expect("task"));
            }
            results
        });
        for (behaviour, result) in results {
            let outcome = match (&result, behaviour) {
                (Ok(value), "ok") => {
                    assert_eq!(value, "value-of-ok");
                    "ok: served"
                }
                (Ok(value), "HOARD") => {
                    assert!(value.starts_with("hoarded "), "{value}");
                    "hoard: stopped at open_files"
                }
                (Err(e), _) => {
                    assert_eq!(e.kind(), ErrorKind::Backend, "{behaviour}: {e}");
                    let message = e.to_string();
                    if message.contains("did not answer within") {
                        "fault: timed out"
                    } else if message.contains("ran out of memory") {
                        "fault: out of memory"
                    } else if message.contains("limits.handles") {
                        "fault: handle cap"
                    } else {
                        "fault: trapped"
                    }
                }
                (Ok(value), other) => panic!("{other} answered {value:?}"),
            };
            *outcomes.entry(outcome.to_owned()).or_default() += 1;
        }
        peak_fds = peak_fds.max(open_descriptors());
        peak_rss = peak_rss.max(resident_mib());
        round += 1;
    }
    let loaded_for = started.elapsed();

    // Every slot is free: INSTANCES calls that each wait out the time
    // limit run side by side, ending together (a lost slot would make one
    // wait a whole limit more).
    let side_by_side = Instant::now();
    runtime.block_on(async {
        let sleeps: Vec<_> = (0..INSTANCES)
            .map(|i| {
                let secrets = Arc::clone(&secrets);
                tokio::spawn(async move { secrets.get_raw(&format!("hostile:sleep:{i}")).await })
            })
            .collect();
        for sleep in sleeps {
            let error = sleep.await.expect("task").expect_err("cut off");
            assert!(
                error.to_string().contains("did not answer within"),
                "{error}"
            );
        }
    });
    let waited = side_by_side.elapsed();
    assert!(
        waited < Duration::from_millis(TIMEOUT_MS * 19 / 10),
        "{INSTANCES} calls took {waited:?}: a slot was lost"
    );
    // The other backends and the Wasm backend itself still serve.
    let value = runtime
        .block_on(secrets.get_raw("local:api_key"))
        .expect("file backend");
    assert_eq!(value.as_text(), Some("stress-value"));
    assert!(runtime.block_on(secrets.get_raw("env:PATH")).is_ok());
    let value = runtime
        .block_on(secrets.get_raw("hostile:ok"))
        .expect("wasm backend");
    assert_eq!(value.as_text(), Some("value-of-ok"));

    let fds_loaded = open_descriptors();
    drop(secrets);
    let (fds_after, rss_after) = (open_descriptors(), resident_mib());
    let calls: u64 = outcomes.values().sum();
    eprintln!(
        "stress: {calls} calls in {loaded_for:.1?} ({rounds} rounds of {TASKS} at once)",
        rounds = round
    );
    for (outcome, count) in &outcomes {
        eprintln!("stress:   {outcome}: {count}");
    }
    eprintln!(
        "stress: descriptors {fds_before} before, {peak_fds} at most, {fds_loaded} with the \
         manager idle, {fds_after} after it was dropped"
    );
    eprintln!("stress: resident MiB {rss_before} before, {peak_rss} at most, {rss_after} after");
    eprintln!(
        "stress: {INSTANCES} slots free afterwards ({waited:.1?} for {INSTANCES} cut-off calls)"
    );

    assert!(
        outcomes.keys().filter(|o| o.starts_with("fault")).count() >= 4,
        "{outcomes:?}"
    );
    // Idle instances may keep what they hoarded (open_files each); dropped,
    // everything is back.
    assert!(
        fds_loaded <= fds_before + INSTANCES * 4 + 4,
        "{fds_loaded} vs {fds_before}"
    );
    assert!(fds_after <= fds_before + 2, "{fds_after} vs {fds_before}");
    assert!(
        rss_after <= rss_before + 256,
        "{rss_after} MiB vs {rss_before} MiB"
    );
}
