//! Rotation's costs, side by side in one run (`bash bench/run.sh refresh`,
//! see BENCHMARKS.md):
//!
//! - cached `get` with refresh off, on (nothing changing), and on with the
//!   file rewritten every 100 ms (each change a new cache generation);
//! - one refresh of 1,000 AWS secrets on moto, nothing changed and 5
//!   changed, against the one-call-per-secret model of the AWS caching
//!   clients (a `GetSecretValue` per cached secret per TTL): calls counted
//!   by an SDK interceptor, wall time.
//!
//! Prints a Markdown table. Needs `PP_BENCH_MOTO` (a `moto_server`) for the
//! AWS part; without it only the cached-get part runs.

use std::hint::black_box;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_secretsmanager::config::{
    BehaviorVersion, ConfigBag, Credentials, Intercept, Region, RuntimeComponents,
};
use pp_secrets::config::RefreshSettings;
use pp_secrets::providers::{AwsProvider, FileProvider};
use pp_secrets::{SecretsManager, SecretsProvider};

/// Calls of each cached-get round, and rounds (best reported: noise only
/// ever adds time).
const CALLS: usize = 2_000_000;
const GET_ROUNDS: usize = 15;
/// Rounds of each AWS measurement (median reported).
const AWS_ROUNDS: usize = 5;

fn main() -> Result<()> {
    let dir = tempfile::tempdir()?;
    println!("| measurement | value |");
    println!("|---|---:|");
    cached_gets(dir.path())?;
    match std::env::var_os("PP_BENCH_MOTO") {
        Some(moto) => aws_refresh(Path::new(&moto))?,
        None => eprintln!("PP_BENCH_MOTO not set: the AWS part is skipped"),
    }
    Ok(())
}

fn row(name: &str, value: String) {
    println!("| {name} | {value} |");
}

/// ns per cached `get` over 10 keys, one thread, for each refresh mode.
fn cached_gets(dir: &Path) -> Result<()> {
    let file = dir.join("secrets.yaml");
    let yaml: String = (0..1000).map(|i| format!("k{i}: value-{i}\n")).collect();
    std::fs::write(&file, &yaml)?;
    let mut results = Vec::new();
    for mode in ["off", "on, nothing changing", "on, a change every 100 ms"] {
        // A runtime of its own runs the refresh tasks beside the loop.
        let background = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()?;
        let mut builder = SecretsManager::builder()
            .backend("local", "", FileProvider::new(&file))
            .load("local:*");
        if mode != "off" {
            builder = builder.refresh("local", RefreshSettings::every(Duration::from_millis(100)));
        }
        let manager = builder.build()?;
        background.block_on(manager.load())?;
        let stop = Arc::new(AtomicBool::new(false));
        let writer = (mode == "on, a change every 100 ms").then(|| {
            let (stop, file, yaml) = (stop.clone(), file.clone(), yaml.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let _ = std::fs::write(&file, format!("{yaml}rotating: {n}\n"));
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        });
        let keys: Vec<String> = (0..10).map(|i| format!("local:k{i}")).collect();
        let local = tokio::runtime::Builder::new_current_thread().build()?;
        let mut best = f64::MAX;
        for _ in 0..GET_ROUNDS {
            let start = Instant::now();
            local.block_on(async {
                for i in 0..CALLS {
                    black_box(manager.get(&keys[i % keys.len()]).await?);
                }
                Ok::<_, pp_secrets::Error>(())
            })?;
            best = best.min(start.elapsed().as_nanos() as f64 / CALLS as f64);
        }
        stop.store(true, Ordering::Relaxed);
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        drop(manager);
        background.shutdown_background();
        results.push((mode, best));
        std::fs::write(&file, &yaml)?;
    }
    let off = results[0].1;
    for (mode, ns) in results {
        row(
            &format!("cached `get`, 10 hot keys, refresh {mode} (ns, best of {GET_ROUNDS})"),
            format!("{ns:.1} ({:.2}x off)", ns / off),
        );
    }
    Ok(())
}

/// Counts the requests a client sends (each attempt).
#[derive(Debug, Default)]
struct Counter(AtomicUsize);

#[derive(Debug)]
struct Counting(Arc<Counter>);

impl Intercept for Counting {
    fn name(&self) -> &'static str {
        "Counting"
    }

    fn read_before_transmit(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), aws_sdk_secretsmanager::error::BoxError> {
        self.0.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn client(endpoint: &str, counter: Option<Arc<Counter>>) -> Client {
    let mut config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"));
    if let Some(counter) = counter {
        config = config.interceptor(Counting(counter));
    }
    Client::from_conf(config.build())
}

/// A moto server, killed when dropped.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn aws_refresh(moto: &Path) -> Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let _server = Moto(
        Command::new(moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start moto_server")?,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(Instant::now() < deadline, "moto did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let endpoint = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let admin = client(&endpoint, None);
    let names: Vec<String> = (0..1000).map(|i| format!("bench/app/s{i:04}")).collect();
    rt.block_on(async {
        for name in &names {
            admin
                .create_secret()
                .name(name)
                .secret_string("v0")
                .send()
                .await?;
        }
        Ok::<_, anyhow::Error>(())
    })?;

    let counter = Arc::new(Counter::default());
    let provider = Arc::new(AwsProvider::with_client(
        client(&endpoint, Some(counter.clone())),
        4,
    ));
    let manager = SecretsManager::builder()
        .shared_backend("aws", "bench/app/", provider.clone())
        .refresh("aws", RefreshSettings::every(Duration::from_secs(3600)))
        .load("aws:*")
        .build()?;
    rt.block_on(manager.load())?;

    let calls = |f: &mut dyn FnMut() -> Result<()>| -> Result<(usize, f64)> {
        counter.0.store(0, Ordering::Relaxed);
        let start = Instant::now();
        f()?;
        Ok((
            counter.0.load(Ordering::Relaxed),
            start.elapsed().as_secs_f64() * 1000.0,
        ))
    };

    let mut unchanged = Vec::new();
    let mut unchanged_calls = 0;
    for _ in 0..AWS_ROUNDS {
        let (n, ms) = calls(&mut || {
            let report = rt.block_on(manager.refresh_now("aws"))?;
            anyhow::ensure!(report.changed.is_empty(), "nothing changed");
            Ok(())
        })?;
        unchanged_calls = n;
        unchanged.push(ms);
    }

    let mut changed = Vec::new();
    let mut changed_calls = 0;
    for round in 0..AWS_ROUNDS {
        rt.block_on(async {
            for name in names.iter().skip(round * 5).take(5) {
                admin
                    .put_secret_value()
                    .secret_id(name)
                    .secret_string(format!("v{}", round + 1))
                    .send()
                    .await?;
            }
            Ok::<_, anyhow::Error>(())
        })?;
        let (n, ms) = calls(&mut || {
            let report = rt.block_on(manager.refresh_now("aws"))?;
            anyhow::ensure!(report.changed.len() == 5, "5 changed");
            Ok(())
        })?;
        changed_calls = n;
        changed.push(ms);
    }

    // The caching clients' model: every cached secret read again on its
    // own when its TTL ends.
    let mut per_secret = Vec::new();
    let mut per_secret_calls = 0;
    for _ in 0..3 {
        let (n, ms) = calls(&mut || {
            rt.block_on(async {
                for name in &names {
                    black_box(provider.get(name).await.map_err(anyhow::Error::msg)?);
                }
                Ok::<_, anyhow::Error>(())
            })
        })?;
        per_secret_calls = n;
        per_secret.push(ms);
    }
    let per_secret_ms = median(per_secret);
    for (what, n, ms) in [
        ("nothing changed", unchanged_calls, median(unchanged)),
        ("5 changed", changed_calls, median(changed)),
    ] {
        row(
            &format!("refresh of 1,000 AWS secrets, {what}: calls"),
            format!(
                "{n} (one call per secret: {per_secret_calls}; 1/{:.0})",
                per_secret_calls as f64 / n.max(1) as f64
            ),
        );
        row(
            &format!("refresh of 1,000 AWS secrets, {what}: ms (median of {AWS_ROUNDS})"),
            format!(
                "{ms:.1} (one call per secret: {per_secret_ms:.1}; {:.1}x faster)",
                per_secret_ms / ms
            ),
        );
    }
    Ok(())
}
