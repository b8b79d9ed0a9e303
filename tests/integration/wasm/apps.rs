//! Wasm apps under a policy, through the embedding API: what the manager
//! interface and wasi:config let an app read, and what stops it.
//!
//! The probe app (tests/guests/app-probe) runs the commands it is given
//! and prints one line per command, which these tests read back.

use std::time::{Duration, Instant};

use pp_secrets::wasm::{AppPolicy, AppStdio, CompileCache, WasmApp};
use pp_secrets::{ErrorKind, SecretsManager};

use super::http_server::{Reply, TestServer};
use super::{guest, manager, serving_dir, shared_cache, wasm_backend};
use crate::support::block_on;

/// A manager with one backend of each local kind, over temporary files:
/// `env` (the process environment), `local` (YAML file), `dot` (.env
/// file) and `mounted` (the dir provider component).
struct Backends {
    dir: tempfile::TempDir,
    manager: SecretsManager,
}

impl Backends {
    /// The backends, or `None` when the dir provider or the probe app is
    /// not built.
    fn new() -> Option<Self> {
        let provider = guest("dir")?;
        guest("probe")?;
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::write(
            root.join("secrets.yaml"),
            "api_key: local-api-key\nother_secret: local-other\n\
             database: '{\"user\": \"svc\", \"password\": \"pw\"}'\n",
        )
        .expect("write");
        std::fs::write(root.join("app.env"), "DOT_KEY=dot-value\n").expect("write");
        let mount = root.join("mount");
        std::fs::create_dir(&mount).expect("mkdir");
        std::fs::write(mount.join("db_password"), "mounted-pw").expect("write");
        let manager = manager(&format!(
            "  backends:\n    env:\n      type: env\n    local:\n      type: file\n      \
             path: {:?}\n    dot:\n      type: dotenv\n      path: {:?}\n{}",
            root.join("secrets.yaml").display().to_string(),
            root.join("app.env").display().to_string(),
            wasm_backend("mounted", &provider, &serving_dir(&mount))
        ));
        Some(Self { dir, manager })
    }
}

fn probe_app() -> Option<WasmApp> {
    let path = guest("probe")?;
    Some(WasmApp::load(path, &CompileCache::in_dir(shared_cache())).expect("the probe loads"))
}

/// A policy named `probe` allowing `rules`, capturing stdio.
fn policy(rules: &[&str]) -> AppPolicy {
    rules.iter().fold(
        AppPolicy::new("probe").stdio(AppStdio::Capture(1 << 20)),
        |policy, rule| policy.allow(rule).expect("valid rule"),
    )
}

/// Runs the probe with `commands` (pairs of command and argument) and
/// returns each command's result.
fn probe(manager: &SecretsManager, policy: AppPolicy, commands: &[(&str, &str)]) -> Vec<String> {
    let app = probe_app().expect("probe built (checked by the caller)");
    let args = commands
        .iter()
        .flat_map(|(command, arg)| [*command, *arg])
        .filter(|word| !word.is_empty());
    let outcome = block_on(app.run(manager, policy.args(args))).expect("the probe runs");
    assert_eq!(outcome.exit_code, 0);
    let stdout = String::from_utf8(outcome.stdout).expect("utf-8");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), commands.len(), "{stdout}");
    commands
        .iter()
        .zip(lines)
        .map(|((command, arg), line)| {
            let prefix = format!("{command} {arg}: ");
            line.strip_prefix(&prefix)
                .unwrap_or_else(|| panic!("{line:?} starts with {prefix:?}"))
                .to_owned()
        })
        .collect()
}

/// The message of an `error:<kind>:<message>` result, with `key` replaced,
/// so that errors about two keys can be compared.
fn denial_shape(result: &str, key: &str) -> String {
    result.replace(key, "KEY")
}

#[test]
fn an_allowed_key_is_read_from_every_backend_kind() {
    let Some(backends) = Backends::new() else {
        return;
    };
    let path = std::env::var("PATH").expect("PATH is set");
    let results = probe(
        &backends.manager,
        policy(&["env:PATH", "local:*", "dot:DOT_KEY", "mounted:db_*"]),
        &[
            ("get", "env:PATH"),
            ("get", "local:api_key"),
            ("get", "local:database"),
            ("raw", "local:database"),
            ("get", "dot:DOT_KEY"),
            ("get", "mounted:db_password"),
            ("maybe", "local:absent"),
            ("get", "local:absent"),
        ],
    );
    assert_eq!(results[0], format!("text:{path}"));
    assert_eq!(results[1], "text:local-api-key");
    assert_eq!(results[2], r#"object:{"user":"svc","password":"pw"}"#);
    assert_eq!(results[3], r#"{"user": "svc", "password": "pw"}"#);
    assert_eq!(results[4], "text:dot-value");
    assert_eq!(results[5], "text:mounted-pw");
    assert_eq!(results[6], "none");
    assert!(results[7].starts_with("error:not-found:"), "{}", results[7]);
}

#[cfg(feature = "aws")]
#[test]
fn an_allowed_key_is_read_from_aws_secrets_manager() {
    use crate::aws::{create, setup, unique_prefix};

    if probe_app().is_none() {
        return;
    }
    let prefix = unique_prefix("app");
    let Some(aws) = setup(&format!("{prefix}/")) else {
        return;
    };
    create(
        &aws.admin,
        &[
            (&format!("{prefix}/token"), "aws-token"),
            (&format!("{prefix}/other"), "aws-other"),
        ],
    );
    let results = probe(
        &aws.manager,
        policy(&["aws:tok*"]),
        &[
            ("get", "aws:token"),
            ("list", "aws:*"),
            ("get", "aws:other"),
        ],
    );
    assert_eq!(results[0], "text:aws-token");
    assert_eq!(results[1], "token");
    assert!(
        results[2].starts_with("error:access-denied:"),
        "{}",
        results[2]
    );
}

#[test]
fn a_key_outside_the_allow_list_is_denied_whether_or_not_it_exists() {
    let Some(backends) = Backends::new() else {
        return;
    };
    let results = probe(
        &backends.manager,
        policy(&["local:api_key"]),
        &[
            ("get", "local:other_secret"),
            ("get", "local:no_such_secret"),
            ("maybe", "local:other_secret"),
            ("maybe", "local:no_such_secret"),
            ("raw", "local:other_secret"),
            ("get", "nobackend:x"),
            ("get", "no-colon"),
            ("config", "local:other_secret"),
            ("config", "local:no_such_secret"),
        ],
    );
    for result in &results[..7] {
        assert!(result.starts_with("error:access-denied:"), "{result}");
        assert!(!result.contains("local-other"), "{result}");
    }
    assert_eq!(
        denial_shape(&results[0], "local:other_secret"),
        denial_shape(&results[1], "local:no_such_secret")
    );
    assert_eq!(
        denial_shape(&results[2], "local:other_secret"),
        denial_shape(&results[3], "local:no_such_secret")
    );
    assert!(results[7].starts_with("error:upstream:access denied"));
    assert_eq!(
        denial_shape(&results[7], "local:other_secret"),
        denial_shape(&results[8], "local:no_such_secret")
    );
}

#[test]
fn an_empty_allow_list_reads_nothing() {
    let Some(backends) = Backends::new() else {
        return;
    };
    let results = probe(
        &backends.manager,
        policy(&[]),
        &[
            ("get", "env:PATH"),
            ("list", "local:*"),
            ("config", "local:api_key"),
            ("config-all", ""),
        ],
    );
    assert!(results[0].starts_with("error:access-denied:"));
    assert!(results[1].starts_with("error:access-denied:"));
    assert!(results[2].starts_with("error:upstream:access denied"));
    assert_eq!(results[3], "");
}

#[test]
fn list_returns_only_allowed_names() {
    let Some(backends) = Backends::new() else {
        return;
    };
    let results = probe(
        &backends.manager,
        policy(&["local:api_*", "local:database", "mounted:*"]),
        &[
            ("list", "local:*"),
            ("list", "local:other*"),
            ("list", "mounted:*"),
            ("list", "dot:*"),
            ("list", "nobackend:*"),
        ],
    );
    assert_eq!(results[0], "api_key,database");
    assert_eq!(results[1], "");
    assert_eq!(results[2], "db_password");
    // A backend no rule names is refused, configured or not.
    assert_eq!(
        denial_shape(&results[3], "dot:*"),
        denial_shape(&results[4], "nobackend:*")
    );
    assert!(results[3].starts_with("error:access-denied:"));
}

#[test]
fn invalidate_works_on_allowed_keys_only() {
    let Some(backends) = Backends::new() else {
        return;
    };
    let manager = &backends.manager;
    // The app and the host share one cache: a value the host cached is
    // what the app reads until the app invalidates it. (The dir provider
    // reads its files on every call; only the cache stands between.)
    let before = block_on(manager.get("mounted:db_password")).expect("cached by the host");
    assert_eq!(before.as_text(), Some("mounted-pw"));
    std::fs::write(backends.dir.path().join("mount/db_password"), "rotated-pw").expect("rewrite");
    block_on(manager.get("local:other_secret")).expect("cached by the host");
    let results = probe(
        manager,
        policy(&["mounted:db_password"]),
        &[
            ("get", "mounted:db_password"),
            ("invalidate", "mounted:db_password"),
            ("get", "mounted:db_password"),
            ("invalidate", "local:other_secret"),
        ],
    );
    assert_eq!(results[0], "text:mounted-pw");
    assert_eq!(results[1], "ok");
    assert_eq!(results[2], "text:rotated-pw");
    assert!(results[3].starts_with("error:access-denied:"));
    // The denied invalidate left the host's cached value alone.
    assert!(manager.cached("local:other_secret").is_some());
}

#[test]
fn wasi_config_serves_allowed_keys_and_get_all_returns_only_those_that_exist() {
    let Some(backends) = Backends::new() else {
        return;
    };
    let results = probe(
        &backends.manager,
        policy(&["local:api_key", "local:absent", "local:data*", "mounted:*"]),
        &[
            ("config", "local:api_key"),
            ("config", "local:absent"),
            ("config", "local:database"),
            ("config-all", ""),
        ],
    );
    assert_eq!(results[0], "some:local-api-key");
    assert_eq!(results[1], "none");
    assert_eq!(results[2], r#"some:{"user":"svc","password":"pw"}"#);
    assert_eq!(
        results[3],
        r#"local:api_key=local-api-key;local:database={"user":"svc","password":"pw"};mounted:db_password=mounted-pw"#
    );
}

#[test]
fn the_sandbox_grants_only_what_the_policy_names() {
    let Some(backends) = Backends::new() else {
        return;
    };
    let granted = backends.dir.path().join("mount");
    let file = granted.join("db_password").display().to_string();
    let outside = backends.dir.path().join("app.env").display().to_string();
    let results = probe(
        &backends.manager,
        policy(&[])
            .grant_env("PATH")
            .grant_dir(&granted)
            .expect("an ordinary directory"),
        &[
            ("env", "PATH"),
            ("env", "HOME"),
            ("read", &file),
            ("read", &outside),
        ],
    );
    assert_eq!(results[0], std::env::var("PATH").expect("PATH"));
    assert_eq!(results[1], "unset");
    assert_eq!(results[2], "read:mounted-pw");
    assert!(results[3].starts_with("denied:"), "{}", results[3]);
}

#[test]
fn an_app_reaches_only_the_hosts_its_policy_grants() {
    let Some(app) = probe_app() else {
        return;
    };
    let granted = TestServer::start(Reply::Text("hello"));
    let other = TestServer::start(Reply::Text("other"));
    let manager = manager("  backends: {}\n");
    let policy = policy(&[])
        .grant_host(&granted.authority())
        .expect("valid")
        .args(["http", &granted.url("/"), "http", &other.url("/")]);
    let outcome = block_on(app.run(&manager, policy)).expect("runs");
    let stdout = String::from_utf8_lossy(&outcome.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].ends_with(": status 200"), "{stdout}");
    assert!(
        lines[1].contains("denied by the host (not in allow.hosts)"),
        "{stdout}"
    );
    assert_eq!((granted.connections(), other.connections()), (1, 0));
    assert!(AppPolicy::new("a").grant_host("http://x").is_err());
}

#[test]
fn an_app_that_loops_is_stopped_at_its_time_limit() {
    let Some(app) = probe_app() else {
        return;
    };
    let manager = manager("  backends: {}\n");
    let started = Instant::now();
    let policy = policy(&[]).timeout_ms(300).expect("valid").args(["loop"]);
    let error = block_on(app.run(&manager, policy)).expect_err("stopped");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(error.kind(), ErrorKind::Backend);
    let message = error.to_string();
    assert!(message.contains("\"probe\""), "{message}");
    assert!(message.contains("within 300 ms"), "{message}");
}

#[test]
fn an_app_that_allocates_past_its_memory_limit_is_stopped() {
    let Some(app) = probe_app() else {
        return;
    };
    let manager = manager("  backends: {}\n");
    let policy = policy(&[])
        .memory_mb(16)
        .expect("valid")
        .args(["allocate", "64"]);
    let error = block_on(app.run(&manager, policy)).expect_err("stopped");
    assert!(
        error
            .to_string()
            .contains("ran out of memory (its limit is 16 MiB)"),
        "{error}"
    );
    // Within its limit the same app runs to the end.
    let policy = policy_with_args(&["allocate", "4"]);
    let outcome = block_on(app.run(&manager, policy)).expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&outcome.stdout),
        "allocate 4: allocated 4194304\n"
    );
}

fn policy_with_args(args: &[&str]) -> AppPolicy {
    policy(&[]).args(args.iter().copied())
}

#[test]
fn exit_codes_and_panics_are_reported() {
    let Some(app) = probe_app() else {
        return;
    };
    let manager = manager("  backends: {}\n");
    for code in [0, 1, 7, 255] {
        let text = code.to_string();
        let outcome =
            block_on(app.run(&manager, policy_with_args(&["exit", &text]))).expect("exits");
        assert_eq!(outcome.exit_code, code);
    }
    let error = block_on(app.run(&manager, policy_with_args(&["panic"]))).expect_err("trap");
    assert!(error.to_string().contains("panicked"), "{error}");
    // One app that failed costs one error: the next run starts afresh.
    let outcome = block_on(app.run(&manager, policy_with_args(&["exit", "3"]))).expect("runs");
    assert_eq!(outcome.exit_code, 3);
}

#[test]
fn a_provider_component_is_not_an_app() {
    let Some(provider) = guest("dir") else {
        return;
    };
    let error =
        WasmApp::load(&provider, &CompileCache::in_dir(shared_cache())).expect_err("not a command");
    assert_eq!(error.kind(), ErrorKind::Backend);
    assert!(
        error.to_string().contains("is not a WASI command"),
        "{error}"
    );
}

#[test]
fn the_wasi_config_example_imports_nothing_of_pp_secrets() {
    let Some(path) = guest("config-report") else {
        return;
    };
    let bytes = std::fs::read(&path).expect("read");
    let engine = wasmtime::Engine::default();
    let component = wasmtime::component::Component::new(&engine, &bytes).expect("component");
    let imports: Vec<String> = component
        .component_type()
        .imports(&engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    assert!(
        imports.iter().any(|i| i.starts_with("wasi:config/store")),
        "{imports:?}"
    );
    assert!(
        !imports.iter().any(|i| i.starts_with("processpype:")),
        "{imports:?}"
    );
}

/// A binary secret reaches an app (manager@0.2.0) as the bytes it is, by
/// `get` and `get-raw`.
#[test]
fn an_app_reads_a_binary_secret_as_bytes() {
    let Some(backends) = Backends::new() else {
        return;
    };
    std::fs::write(
        backends.dir.path().join("mount").join("keystore"),
        b"\xfe\x00\xff",
    )
    .expect("write");
    let results = probe(
        &backends.manager,
        policy(&["mounted:keystore"]),
        &[("get", "mounted:keystore"), ("raw", "mounted:keystore")],
    );
    assert_eq!(results, ["bytes:fe00ff", "bytes:fe00ff"]);
}
