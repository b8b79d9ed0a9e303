//! No secret value may appear in an error message, a log line, a panic or a
//! Debug print (the README's "Security"). Every value in the `leak` fixtures contains
//! `LEAKCANARY`; each failure path below runs with full trace logging and
//! the output is searched for it.

use std::sync::{Arc, Mutex};

use pp_secrets::providers::FileProvider;
use pp_secrets::{SecretValue, SecretsManager};
use serde_yaml::Value;

use crate::support::{Run, block_on, fixture, run_with};

const CANARY: &str = "LEAKCANARY";

fn leak_run(args: &[&str], extra: &[(&str, &str)]) -> Run {
    let mut env = vec![("RUST_LOG", "trace"), ("PPT_LEAK_BOOL", "true")];
    env.extend_from_slice(extra);
    run_with(&fixture("leak/config.yaml"), args, &env)
}

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    // On failure, say where the canary was, without echoing it.
    if let Some(at) = text.find(CANARY) {
        panic!(
            "{what}: a secret value leaked at byte {at} of {} bytes",
            text.len()
        );
    }
}

#[test]
fn cli_failure_paths_print_no_values() {
    struct Case(
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
        i32,
    );
    let cases = [
        // A config value pulled in by ${VAR} that fails validation.
        Case(
            &["get", "local:good"],
            &[("PPT_LEAK_BOOL", "LEAKCANARY-bool")],
            2,
        ),
        // A secret whose ${VAR} is unset.
        Case(&["get", "local:bad"], &[], 3),
        // A secrets file that is not valid YAML.
        Case(&["get", "broken:good"], &[], 3),
        // A missing secret, and a missing backend.
        Case(&["get", "local:absent"], &[], 1),
        Case(&["get", "nope:good"], &[], 1),
        // Start-up with one failing secret among good ones (reported, and
        // exit 3), and a token that cannot be resolved next to one that can.
        Case(&["load"], &[], 3),
        Case(&["render"], &[], 1),
        // An export that reaches the failing secret prints nothing of the
        // others.
        Case(&["export", "local:*"], &[], 3),
        Case(&["run", "--from", "local:*", "--", "true"], &[], 3),
    ];
    for Case(args, env, code) in cases {
        let r = leak_run(args, env);
        let what = args.join(" ");
        assert_eq!(r.code, code, "{what}: unexpected exit code");
        assert_clean(&format!("stderr of `{what}`"), &r.stderr);
        assert_clean(&format!("stdout of `{what}`"), &r.stdout);
    }
}

#[test]
fn check_report_names_failures_without_values() {
    let r = leak_run(&["check"], &[]);
    assert_clean("check stdout", &r.stdout);
    assert_clean("check stderr", &r.stderr);
    assert!(r.stdout.contains("bad"), "the failing name is reported");
    assert_eq!(r.code, 3, "the broken backend is unreachable");
}

#[test]
fn skipped_dotenv_lines_are_reported_by_number_only() {
    let r = leak_run(&["get", "dotenv:OK"], &[]);
    r.expect_code(0);
    assert_clean("stderr", &r.stderr);
    for line in ["line 1", "line 3", "line 4"] {
        assert!(r.stderr.contains(line), "warning for {line}");
    }
}

#[test]
fn library_errors_logs_and_debug_output_carry_no_values() {
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || SharedWriter(sink.clone()))
        .finish();

    let mut seen = String::new();
    tracing::subscriber::with_default(subscriber, || {
        let m = SecretsManager::builder()
            .backend("local", "", FileProvider::new(fixture("leak/secrets.yaml")))
            .build()
            .expect("valid");
        let report = block_on(m.load_declarations(&["local:*"])).expect("partial failure is ok");
        seen.push_str(&format!("{report:?}\n{m:?}\n"));
        for key in ["local:bad", "local:absent"] {
            let e = block_on(m.get(key)).expect_err("fails");
            seen.push_str(&format!("{e}\n{e:?}\n"));
        }
        let good = block_on(m.get("local:good")).expect("loads");
        let object = block_on(m.get("local:object")).expect("loads");
        seen.push_str(&format!("{good:?} {object:?} {:#?}\n", [&good, &object]));
        seen.push_str(&format!(
            "{:?}\n",
            SecretValue::Text(good.to_text().unwrap_or_default())
        ));
    });
    assert_clean("errors and Debug output", &seen);
    let logs = String::from_utf8(logs.lock().expect("lock").clone()).expect("utf-8");
    assert!(logs.contains("local:bad"), "the failing name is logged");
    assert_clean("log lines", &logs);
}

/// Every public type that can hold a resolved config or a value, printed
/// with `{:?}` and `{:#?}` after canaries went through `${VAR}` expansion
/// and token resolution: none shows one. A type added later that holds
/// values belongs in this list.
#[test]
fn every_public_type_that_holds_values_redacts_them_in_debug() {
    use pp_secrets::{Application, ConfigDocument, ConfigTree, ServiceContext, blocking};

    let yaml = "secrets:\n  enabled: true\n  backends:\n    local:\n      type: file\n      \
                path: secrets.yaml\n  load: [\"local:good\", \"local:object\"]\n\
                services:\n  svc:\n    good: ${secret://local:good}\n    \
                object: ${secret://local:object}\n    keyed: ${secret://local:keyed}\n    inline: \"x-${secret://local:good}-y\"\n    \
                from_env: ${PPT_LEAK_UNSET:-LEAKCANARY-env}\n";
    let document = ConfigDocument::from_yaml_str(yaml, fixture("leak")).expect("valid");
    let mut seen = String::new();
    let mut show = |what: &str, debug: String| {
        assert_clean(what, &debug);
        seen.push_str(&debug);
    };
    show("ConfigDocument", format!("{document:?}{document:#?}"));
    let app = block_on(Application::start(document)).expect("starts");
    assert!(
        app.config()["services"]["svc"]["good"]
            .as_str()
            .is_some_and(|v| v.contains(CANARY)),
        "the canary was resolved (else this test proves nothing)"
    );
    show("Application", format!("{app:?}{app:#?}"));
    show(
        "ConfigDocument after resolution",
        format!("{:?}", app.document()),
    );
    let context = app.service_context("svc");
    show("ServiceContext", format!("{context:?}{context:#?}"));
    let tree = ConfigTree::new(Value::clone(context.config()));
    show("ConfigTree", format!("{tree:?}"));
    let secrets = app.secrets().expect("enabled").clone();
    show("SecretsManager", format!("{secrets:?}"));
    show("LoadReport", format!("{:?}", app.load_report()));
    let rendered = block_on(pp_secrets::render_file(
        fixture("leak/config.yaml"),
        &secrets,
    ));
    show("render_file error", format!("{rendered:?}"));
    let blocking = blocking::SecretsManager::new(secrets.clone()).expect("worker");
    let value = blocking.get("local:object").expect("present");
    show(
        "blocking manager and value",
        format!("{blocking:?}{value:?}{value:#?}"),
    );
    let made = ServiceContext::new("svc", context.config().clone(), Some(secrets));
    show("ServiceContext::new", format!("{made:?}"));
    assert!(seen.contains("svc"), "the shape is still shown");
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A Wasm backend whose `config` holds a canary, and a dir provider whose
/// files hold canaries: failing calls (traps, timeouts, refused answers,
/// links out of the directory) and a listing under trace logging never
/// show them.
#[cfg(feature = "wasm")]
#[test]
fn wasm_failure_paths_print_no_values() {
    use crate::wasm::{guest, guests_dir, serving_dir, shared_cache, wasm_backend};

    let (Some(hostile), Some(_)) = (guest("hostile"), guest("dir")) else {
        return;
    };
    let mount = tempfile::tempdir().expect("tempdir");
    std::fs::write(mount.path().join("token"), format!("{CANARY}-file")).expect("write");
    std::os::unix::fs::symlink("/etc/hostname", mount.path().join("escape")).expect("link");
    let yaml = format!(
        "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n{}{}",
        shared_cache().display().to_string(),
        wasm_backend(
            "hostile",
            &hostile,
            &format!(
                "      config: {{ token: {CANARY}-config }}\n      limits: {{ timeout_ms: 300 }}\n"
            ),
        ),
        wasm_backend(
            "mounted",
            &guests_dir().join("pp_secrets_dir_provider.wasm"),
            &serving_dir(mount.path()),
        ),
    );
    let (_dir, config) = crate::support::temp_config(&yaml);
    // Everything at trace except the Wasm compiler, which logs each
    // instruction it emits when a component is not in the compile cache.
    let trace = [(
        "RUST_LOG",
        "trace,cranelift_codegen=warn,regalloc2=warn,wasmtime_internal_cranelift=warn",
    )];
    for key in [
        "hostile:panic",
        "hostile:loop",
        "hostile:shout",
        "hostile:huge",
        "mounted:escape",
        "mounted:absent",
    ] {
        let r = run_with(&config, &["get", key], &trace);
        assert_ne!(r.code, 0, "{key} fails");
        assert_clean(key, &r.stdout);
        assert_clean(key, &r.stderr);
    }
    let r = run_with(&config, &["list", "mounted:*"], &trace);
    r.expect_code(0);
    assert_clean("list", &r.stdout);
    assert_clean("list", &r.stderr);
}

/// An app that reads a canary secret it may read, and is refused one it
/// may not, under trace logging: the host's log (stderr) shows neither
/// value; only the app's own stdout has the one it was allowed.
#[cfg(feature = "wasm")]
#[test]
fn app_runs_log_no_values() {
    use crate::wasm::{guest, shared_cache};

    let Some(probe) = guest("probe") else {
        return;
    };
    let (dir, config) = crate::support::temp_config(&format!(
        "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n    local:\n      \
         type: file\n      path: secrets.yaml\n",
        shared_cache().display().to_string()
    ));
    std::fs::write(
        dir.path().join("secrets.yaml"),
        format!("allowed: {CANARY}-allowed\ndenied: {CANARY}-denied\n"),
    )
    .expect("write");
    let trace = [(
        "RUST_LOG",
        "trace,cranelift_codegen=warn,regalloc2=warn,wasmtime_internal_cranelift=warn",
    )];
    let probe = probe.display().to_string();
    let args = [
        "run-wasm",
        &probe,
        "--allow",
        "local:allowed",
        "--",
        "get",
        "local:allowed",
        "get",
        "local:denied",
        "config-all",
        "panic",
    ];
    let r = run_with(&config, &args, &trace);
    r.expect_code(3);
    assert_clean("app run", &r.stderr);
    assert!(r.stdout.contains(&format!("{CANARY}-allowed")));
    assert!(!r.stdout.contains(&format!("{CANARY}-denied")));
}
