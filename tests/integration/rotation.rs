//! Rotation (the README's "Rotation"): values that follow the backend,
//! refreshed in the background, served stale on failure, watched.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use pp_secrets::config::RefreshSettings;
use pp_secrets::manager::SecretEvent;
use pp_secrets::providers::{DotenvProvider, FileProvider};
use pp_secrets::{
    ConfigDocument, ErrorKind, HeldSecret, Pattern, ProviderError, Refreshed, SecretsManager,
    SecretsProvider, StoredValue, async_trait,
};

use crate::support::{block_on, cached_text, temp_config};

/// Writes `text` to `path` and dates it a minute back: older than the
/// window in which a file is re-read whatever its identity says, so these
/// tests exercise the identity comparison itself.
fn write_settled(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).expect("write");
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("open");
    file.set_modified(std::time::SystemTime::now() - Duration::from_secs(60))
        .expect("backdate");
}

/// A manager over one YAML file, refreshed (by hand in these tests) with
/// `local:*` preloaded.
fn file_manager(path: &std::path::Path) -> SecretsManager {
    SecretsManager::builder()
        .backend("local", "", FileProvider::new(path))
        .refresh("local", RefreshSettings::every(Duration::from_secs(3600)))
        .load("local:*")
        .build()
        .expect("valid")
}

#[test]
fn a_file_edited_in_place_or_replaced_by_rename_is_seen_by_the_next_refresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("secrets.yaml");
    write_settled(&path, "a: one\nb: two\ngone: soon\n");
    let manager = file_manager(&path);
    block_on(async {
        manager.load().await.expect("loads");
        let mut events = manager.events();

        // Nothing changed: nothing to report.
        let report = manager.refresh_now("local").await.expect("refreshes");
        assert_eq!(report, Default::default());

        // Edited in place: a changed, c added (it matches local:*), gone removed.
        write_settled(&path, "a: ONE\nb: two\nc: three\n");
        let report = manager.refresh_now("local").await.expect("refreshes");
        assert_eq!(report.changed, ["a"]);
        assert_eq!(report.added, ["c"]);
        assert_eq!(report.removed, ["gone"]);
        assert_eq!(cached_text(&manager, "local:a").as_deref(), Some("ONE"));
        assert_eq!(cached_text(&manager, "local:c").as_deref(), Some("three"));
        assert_eq!(cached_text(&manager, "local:gone"), None);
        let mut seen = Vec::new();
        for _ in 0..3 {
            seen.push(events.recv().await.expect("an event"));
        }
        seen.sort_by_key(|e| format!("{e:?}"));
        assert_eq!(
            seen,
            [
                SecretEvent::Added {
                    key: "local:c".into()
                },
                SecretEvent::Changed {
                    key: "local:a".into()
                },
                SecretEvent::Removed {
                    key: "local:gone".into()
                },
            ]
        );

        // Replaced by rename (as editors and config tools do): a new inode.
        let next = dir.path().join("secrets.yaml.new");
        write_settled(&next, "a: ONE\nb: TWO\nc: three\n");
        std::fs::rename(&next, &path).expect("rename");
        let report = manager.refresh_now("local").await.expect("refreshes");
        assert_eq!(report.changed, ["b"]);
        assert_eq!(cached_text(&manager, "local:b").as_deref(), Some("TWO"));
    });
}

#[test]
fn a_dotenv_file_follows_its_edits_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("app.env");
    std::fs::write(&path, "TOKEN=one\n").expect("write");
    let manager = SecretsManager::builder()
        .backend("dotenv", "", DotenvProvider::new(&path))
        .refresh("dotenv", RefreshSettings::every(Duration::from_secs(3600)))
        .build()
        .expect("valid");
    block_on(async {
        assert_eq!(
            manager.get("dotenv:TOKEN").await.expect("found").as_text(),
            Some("one")
        );
        std::fs::write(&path, "TOKEN=two\n").expect("write");
        let report = manager.refresh_now("dotenv").await.expect("refreshes");
        assert_eq!(
            report.changed,
            ["TOKEN"],
            "a name read by get is refreshed too"
        );
        assert_eq!(
            cached_text(&manager, "dotenv:TOKEN").as_deref(),
            Some("two")
        );
    });
}

#[test]
fn without_refresh_a_cached_value_is_kept_as_before() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("secrets.yaml");
    std::fs::write(&path, "a: one\n").expect("write");
    let manager = SecretsManager::builder()
        .backend("local", "", FileProvider::new(&path))
        .load("local:*")
        .build()
        .expect("valid");
    block_on(async {
        manager.load().await.expect("loads");
        std::fs::write(&path, "a: two\n").expect("write");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(cached_text(&manager, "local:a").as_deref(), Some("one"));
        assert!(manager.refresh_status("local").is_none());
    });
}

#[test]
fn the_background_refresh_finds_a_change_and_a_watch_yields_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("secrets.yaml");
    std::fs::write(&path, "token: one\n").expect("write");
    let (_config_dir, config) = temp_config(&format!(
        "secrets:\n  enabled: true\n  refresh: {{ every: 100ms }}\n  backends:\n    local:\n      \
         type: file\n      path: {}\n  load: [\"local:*\"]\n",
        path.display()
    ));
    let document = ConfigDocument::from_file(&config).expect("valid");
    assert_eq!(
        document.secrets.backends[0].refresh,
        Some(RefreshSettings::every(Duration::from_millis(100)))
    );
    let manager = SecretsManager::from_document(&document)
        .expect("valid")
        .expect("enabled");
    block_on(async {
        manager.load().await.expect("loads");
        let mut watch = manager.watch("local:token");
        std::fs::write(&path, "token: two\n").expect("write");
        let value = tokio::time::timeout(Duration::from_secs(30), watch.changed())
            .await
            .expect("seen within 30 s")
            .expect("the manager lives")
            .expect("readable");
        assert_eq!(value.as_text(), Some("two"));
        assert_eq!(cached_text(&manager, "local:token").as_deref(), Some("two"));
        let status = manager.refresh_status("local").expect("refreshed");
        assert!(status.last_good.is_some() && !status.serving_stale());
    });
}

/// What a [`Flaky`] backend serves, and how often it was refreshed.
#[derive(Default)]
struct FlakyState {
    second: AtomicBool,
    down: AtomicBool,
    /// Only reads of `k` fail (the listing works).
    key_down: AtomicBool,
    refreshes: AtomicUsize,
}

/// A backend that serves `v1` or `v2` and can be made to fail, counting
/// its refresh calls.
struct Flaky(Arc<FlakyState>);

impl std::ops::Deref for Flaky {
    type Target = FlakyState;
    fn deref(&self) -> &FlakyState {
        &self.0
    }
}

#[async_trait]
impl SecretsProvider for Flaky {
    async fn get(&self, name: &str) -> Result<StoredValue, ProviderError> {
        if self.down.load(Ordering::SeqCst) || self.key_down.load(Ordering::SeqCst) {
            return Err(ProviderError::failed("the server is down"));
        }
        match name {
            "k" if self.second.load(Ordering::SeqCst) => Ok(StoredValue::from("v2")),
            "k" => Ok(StoredValue::from("v1")),
            _ => Err(ProviderError::NotFound),
        }
    }
    async fn list(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(ProviderError::failed("the server is down"));
        }
        Ok(["k"]
            .iter()
            .filter(|n| pattern.matches(n))
            .map(|n| (*n).to_owned())
            .collect())
    }
    async fn refresh(
        &self,
        held: &[HeldSecret<'_>],
        patterns: &[Pattern],
    ) -> Result<Refreshed, ProviderError> {
        self.refreshes.fetch_add(1, Ordering::SeqCst);
        pp_secrets::secrets_provider::refresh_by_rereading(self, held, patterns).await
    }
}

/// A manager over one [`Flaky`] backend `f` refreshed as `settings` say,
/// with `f:*` preloaded; and the state that drives the backend.
fn flaky_manager(settings: RefreshSettings) -> (Arc<FlakyState>, SecretsManager) {
    let flaky = Arc::new(FlakyState::default());
    let manager = SecretsManager::builder()
        .backend("f", "", Flaky(flaky.clone()))
        .refresh("f", settings)
        .load("f:*")
        .build()
        .expect("valid");
    (flaky, manager)
}

#[test]
fn a_failing_backend_is_served_stale_then_dropped_after_max_stale_then_recovers() {
    let (flaky, manager) = flaky_manager(RefreshSettings {
        every: Duration::from_secs(3600),
        max_stale: Duration::from_millis(300),
    });
    block_on(async {
        manager.load().await.expect("loads");
        let mut events = manager.events();
        flaky.down.store(true, Ordering::SeqCst);

        // Down: the cached value is still served, once warned about.
        let e = manager.refresh_now("f").await.expect_err("down");
        assert_eq!(e.kind(), ErrorKind::Backend);
        manager.refresh_now("f").await.expect_err("still down");
        assert_eq!(
            manager.get("f:k").await.expect("served stale").as_text(),
            Some("v1")
        );
        let status = manager.refresh_status("f").expect("has refresh");
        assert!(status.serving_stale(), "{status:?}");
        assert!(
            status
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("down"))
        );
        assert!(matches!(
            events.recv().await,
            Some(SecretEvent::RefreshFailed { .. })
        ));

        // Past max_stale: dropped, and reads go to the (down) backend.
        tokio::time::sleep(Duration::from_millis(400)).await;
        manager.refresh_now("f").await.expect_err("still down");
        assert_eq!(
            events.recv().await,
            Some(SecretEvent::Expired {
                backend: "f".into()
            })
        );
        assert!(manager.refresh_status("f").expect("status").expired);
        assert_eq!(manager.cached("f:k"), None);
        assert_eq!(
            manager.get("f:k").await.expect_err("down").kind(),
            ErrorKind::Backend
        );

        // Back, with a new value: recovered, and the declaration's name is
        // loaded again.
        flaky.second.store(true, Ordering::SeqCst);
        flaky.down.store(false, Ordering::SeqCst);
        let report = manager.refresh_now("f").await.expect("back");
        assert_eq!(report.added, ["k"]);
        assert_eq!(cached_text(&manager, "f:k").as_deref(), Some("v2"));
        let mut rest = Vec::new();
        while let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_millis(100), events.recv()).await
        {
            rest.push(event);
        }
        assert!(
            rest.contains(&SecretEvent::Recovered {
                backend: "f".into()
            }),
            "{rest:?}"
        );
        let status = manager.refresh_status("f").expect("status");
        assert!(!status.expired && !status.serving_stale());
    });
}

#[test]
fn dropping_the_manager_stops_its_refresh_tasks() {
    let (flaky, manager) = flaky_manager(RefreshSettings::every(Duration::from_millis(100)));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        manager.load().await.expect("loads");
        tokio::time::sleep(Duration::from_millis(450)).await;
        assert!(
            flaky.refreshes.load(Ordering::SeqCst) >= 2,
            "the refresh runs"
        );
        drop(manager);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let after_drop = flaky.refreshes.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(flaky.refreshes.load(Ordering::SeqCst), after_drop);
    });
}

#[test]
fn the_blocking_manager_refreshes_in_the_background_too() {
    let (flaky, manager) = flaky_manager(RefreshSettings::every(Duration::from_millis(100)));
    let secrets = pp_secrets::blocking::SecretsManager::new(manager).expect("worker");
    secrets.load().expect("loads");
    flaky.second.store(true, Ordering::SeqCst);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while cached_text(secrets.as_async(), "f:k").as_deref() != Some("v2") {
        assert!(
            std::time::Instant::now() < deadline,
            "refreshed within 30 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn refresh_settings_are_read_strictly() {
    let doc = ConfigDocument::from_yaml_str(
        "secrets:\n  refresh: { every: 5m }\n  backends:\n    a: {}\n    b:\n      \
         refresh: { every: 30s, max_stale: 10m }\n    c:\n      refresh: off\n",
        ".",
    )
    .expect("valid");
    let refresh: Vec<_> = doc.secrets.backends.iter().map(|b| b.refresh).collect();
    assert_eq!(
        refresh,
        [
            Some(RefreshSettings::every(Duration::from_secs(300))),
            Some(RefreshSettings {
                every: Duration::from_secs(30),
                max_stale: Duration::from_secs(600),
            }),
            None,
        ]
    );
    for (yaml, field) in [
        ("refresh: { every: 5 }", "secrets.refresh.every"),
        ("refresh: { every: 1.5s }", "secrets.refresh.every"),
        ("refresh: { max_stale: 1m }", "secrets.refresh.every"),
        (
            "refresh: { every: 1m, max_stale: soon }",
            "secrets.refresh.max_stale",
        ),
        (
            "refresh: { every: 1m, often: yes }",
            "unknown field `often`",
        ),
        ("refresh: 30s", "secrets.refresh"),
    ] {
        let e =
            ConfigDocument::from_yaml_str(&format!("secrets:\n  {yaml}\n"), ".").expect_err(yaml);
        assert_eq!(e.kind(), ErrorKind::Config, "{yaml}");
        assert!(e.to_string().contains(field), "{yaml}: {e}");
    }
}

#[test]
fn a_service_reads_its_section_again_when_a_secret_it_uses_changes() {
    let (dir, config) = temp_config(
        "secrets:\n  enabled: true\n  backends:\n    local:\n      type: file\n      \
         path: secrets.yaml\n      refresh: { every: 1h }\n  load: [\"local:*\"]\n\
         services:\n  billing:\n    dsn: \"postgres://app:${secret://local:db}@db/app\"\n  \
         other:\n    key: ${secret://local:unrelated}\n",
    );
    let secrets = dir.path().join("secrets.yaml");
    std::fs::write(&secrets, "db: pw-1\nunrelated: u-1\n").expect("write");
    block_on(async {
        let app = pp_secrets::Application::from_file(&config)
            .await
            .expect("starts");
        let mut watch = app.watch_service("billing").expect("a manager");
        assert_eq!(watch.keys().collect::<Vec<_>>(), ["local:db"]);
        let manager = app.secrets().expect("enabled").clone();

        // A change to a secret billing does not use wakes nothing...
        std::fs::write(&secrets, "db: pw-1\nunrelated: u-2\n").expect("write");
        let report = manager.refresh_now("local").await.expect("refreshes");
        assert_eq!(report.changed, ["unrelated"]);
        assert!(
            tokio::time::timeout(Duration::from_millis(300), watch.changed())
                .await
                .is_err(),
            "not woken by a secret it does not use"
        );
        // ...and one it uses gives it its section rendered again.
        std::fs::write(&secrets, "db: pw-2\nunrelated: u-2\n").expect("write");
        manager.refresh_now("local").await.expect("refreshes");
        let context = tokio::time::timeout(Duration::from_secs(10), watch.changed())
            .await
            .expect("woken")
            .expect("alive")
            .expect("renders");
        assert_eq!(context.config()["dsn"], "postgres://app:pw-2@db/app");
    });
}

/// Waits (at most a minute) until `path` holds text for which `done` is
/// true; that text.
fn wait_for_file(path: &std::path::Path, done: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && done(&text)
        {
            return text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{} never got there",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A config refreshing a file backend every 100ms, in a fresh directory.
fn watched_config() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let (dir, config) = temp_config(
        "secrets:\n  enabled: true\n  refresh: { every: 100ms }\n  backends:\n    local:\n      \
         type: file\n      path: secrets.yaml\n  load: [\"local:*\"]\n\
         app:\n  password: ${secret://local:pw}\n",
    );
    let secrets = dir.path().join("secrets.yaml");
    std::fs::write(&secrets, "pw: one\n").expect("write");
    (dir, config, secrets)
}

/// `pp-secrets -c CONFIG run --watch ARGS -- sh -c SCRIPT`, started.
fn run_watching(config: &std::path::Path, args: &[&str], script: &str) -> std::process::Child {
    crate::support::cli()
        .arg("--config")
        .arg(config)
        .args(["run", "--watch"])
        .args(args)
        .args(["--env", "PW=local:pw", "--", "sh", "-c", script])
        .spawn()
        .expect("starts")
}

/// Sends SIGTERM to `child` and waits for it; its exit code.
fn terminate(mut child: std::process::Child) -> Option<i32> {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).expect("signal");
    child.wait().expect("exits").code()
}

#[test]
fn run_watch_restarts_the_child_with_the_new_value() {
    let (dir, config, secrets) = watched_config();
    let log = dir.path().join("log");
    let script = format!(
        "trap 'echo stopped >> {log}; exit 0' TERM; echo \"start $PW\" >> {log}; \
         while :; do sleep 0.05; done",
        log = log.display()
    );
    let child = run_watching(&config, &["--grace", "5s"], &script);
    wait_for_file(&log, |t| t.contains("start one"));
    std::fs::write(&secrets, "pw: two\n").expect("write");
    let text = wait_for_file(&log, |t| t.contains("start two"));
    assert_eq!(text, "start one\nstopped\nstart two\n");
    assert_eq!(
        terminate(child),
        Some(0),
        "the child's own code after SIGTERM"
    );
}

#[test]
fn run_watch_restarts_a_child_given_secrets_by_from_with_their_new_values() {
    let (dir, config, secrets) = watched_config();
    std::fs::write(&secrets, "pw: one\nuser: u1\n").expect("write");
    let log = dir.path().join("log");
    let script = format!(
        "trap 'exit 0' TERM; echo \"start $PW $USER\" >> {log}; while :; do sleep 0.05; done",
        log = log.display()
    );
    let child = crate::support::cli()
        .arg("--config")
        .arg(&config)
        .args([
            "run", "--watch", "--from", "local:*", "--", "sh", "-c", &script,
        ])
        .spawn()
        .expect("starts");
    wait_for_file(&log, |t| t.contains("start one u1"));
    std::fs::write(&secrets, "pw: one\nuser: u2\n").expect("write");
    let text = wait_for_file(&log, |t| t.contains("start one u2"));
    assert_eq!(text, "start one u1\nstart one u2\n");
    assert_eq!(terminate(child), Some(0));
}

#[test]
fn run_watch_can_signal_the_child_instead() {
    let (dir, config, secrets) = watched_config();
    let log = dir.path().join("log");
    let script = format!(
        "trap 'echo \"hup\" >> {log}' HUP; echo ready >> {log}; while :; do sleep 0.05; done",
        log = log.display()
    );
    let child = run_watching(&config, &["--on-change", "signal:HUP"], &script);
    wait_for_file(&log, |t| t.contains("ready"));
    std::fs::write(&secrets, "pw: two\n").expect("write");
    wait_for_file(&log, |t| t.contains("hup"));
    // SIGTERM is passed on: the script (no trap for it) ends, and so does
    // pp-secrets, with its code.
    assert_eq!(
        terminate(child),
        Some(128 + rustix::process::Signal::TERM.as_raw())
    );
}

#[test]
fn run_watch_without_a_refreshed_backend_is_refused() {
    let r = crate::support::basic(&["run", "--watch", "--env", "X=local:db_host", "--", "true"]);
    r.expect_code(2);
    assert!(r.stderr.contains("refresh"), "{}", r.stderr);
}

#[test]
fn render_writes_atomically_and_rewrites_on_a_change_running_exec() {
    use std::os::unix::fs::PermissionsExt;

    let (dir, config, secrets) = watched_config();
    let out = dir.path().join("rendered.yaml");
    let log = dir.path().join("exec.log");
    let child = crate::support::cli()
        .arg("--config")
        .arg(&config)
        .args(["render", "--output"])
        .arg(&out)
        .args([
            "--watch",
            "--exec",
            &format!("echo written >> {}", log.display()),
        ])
        .spawn()
        .expect("starts");
    wait_for_file(&out, |t| t.contains("password: one"));
    let mode = std::fs::metadata(&out)
        .expect("written")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    std::fs::write(&secrets, "pw: two\n").expect("write");
    wait_for_file(&out, |t| t.contains("password: two"));
    wait_for_file(&log, |t| t == "written\nwritten\n");
    assert_eq!(terminate(child), Some(0));
    // No temporary file left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("pp-secrets-"))
        .collect();
    assert!(names.is_empty(), "{names:?}");
}

#[test]
fn a_secret_that_goes_away_and_comes_back_is_seen_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("secrets.yaml");
    std::fs::write(&path, "a: one\n").expect("write");
    let manager = file_manager(&path);
    block_on(async {
        manager.load().await.expect("loads");
        let mut watch = manager.watch("local:a");
        // A rewrite that is not atomic: for a moment the key is missing.
        std::fs::write(&path, "").expect("write");
        let report = manager.refresh_now("local").await.expect("refreshes");
        assert_eq!(report.removed, ["a"]);
        let removed = watch.changed().await.expect("alive");
        assert_eq!(removed.expect_err("gone").kind(), ErrorKind::NotFound);
        std::fs::write(&path, "a: two\n").expect("write");
        let report = manager.refresh_now("local").await.expect("refreshes");
        assert_eq!(report.added, ["a"]);
        let back = tokio::time::timeout(Duration::from_secs(10), watch.changed())
            .await
            .expect("woken")
            .expect("alive")
            .expect("readable");
        assert_eq!(back.as_text(), Some("two"));
    });
}

#[test]
fn run_watch_stopped_during_a_restart_does_not_start_a_new_child() {
    let (dir, config, secrets) = watched_config();
    let log = dir.path().join("log");
    // The child ignores SIGTERM: a restart waits out the grace period.
    let script = format!(
        "trap '' TERM; echo \"start $PW\" >> {log}; while :; do sleep 0.05; done",
        log = log.display()
    );
    let child = run_watching(&config, &["--grace", "3s"], &script);
    wait_for_file(&log, |t| t.contains("start one"));
    std::fs::write(&secrets, "pw: two\n").expect("write");
    // Inside the grace period of the restart, the operator stops it all.
    std::thread::sleep(Duration::from_millis(1000));
    let code = terminate(child);
    assert_eq!(
        code,
        Some(128 + 9),
        "the old child was killed after the grace period, and pp-secrets left with its code"
    );
    std::thread::sleep(Duration::from_millis(300));
    let text = std::fs::read_to_string(&log).expect("log");
    assert_eq!(text, "start one\n", "no new child was started");
}

#[test]
fn check_tries_a_refresh_of_each_refreshed_backend_and_shows_its_settings() {
    let (_dir, config, _secrets) = watched_config();
    let r = crate::support::run_with(&config, &["check", "--json"], &[]);
    r.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(
        report["backends"][0]["refresh"],
        serde_json::json!({"every": "100ms", "max_stale": "1s", "check": "ok"})
    );
    let r = crate::support::run_with(&config, &["check"], &[]);
    assert!(
        r.stdout
            .contains("local (every 100ms, max_stale 1s): a check works"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_secret_that_alone_cannot_be_read_expires_after_max_stale_too() {
    let (flaky, manager) = flaky_manager(RefreshSettings {
        every: Duration::from_secs(3600),
        max_stale: Duration::from_millis(300),
    });
    block_on(async {
        manager.load().await.expect("loads");
        flaky.key_down.store(true, Ordering::SeqCst);
        let report = manager.refresh_now("f").await.expect("the pass works");
        assert_eq!(report.failed, ["k"]);
        assert_eq!(
            cached_text(&manager, "f:k").as_deref(),
            Some("v1"),
            "kept for now"
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        manager.refresh_now("f").await.expect("the pass works");
        assert_eq!(cached_text(&manager, "f:k"), None, "dropped past max_stale");
        flaky.key_down.store(false, Ordering::SeqCst);
        let report = manager.refresh_now("f").await.expect("the pass works");
        assert_eq!(report.added, ["k"]);
        assert!(report.failed.is_empty());
    });
}
