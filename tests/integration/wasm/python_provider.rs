//! The json provider, written in Python (`providers/json`, built with the
//! Python SDK in `guest-sdk/python` into
//! `target/components/json_provider.wasm` by `tests/run.sh`), in the host:
//! nested names, bytes and JSON scalars served as the provider's README
//! says, set-up errors that name the file and the line or key and never a
//! value, all under the default limits. The generic provider contract is
//! the provider test-suite's.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use std::sync::Arc;
use std::time::Duration;

use pp_secrets::wasm::WasmProvider;
use pp_secrets::{ErrorKind, SecretValue, SecretsManager};

use super::{counted_backend, granting_dir, guest, manager, raw_text, serving_file, wasm_backend};
use crate::support::{block_on, run_with, temp_config, with_causes};

/// The 8 bytes of the `keystore` secret (not UTF-8).
const KEYSTORE: [u8; 8] = [0xFE, 0xFF, 0x6B, 0x65, 0x79, 0x00, 0x0A, 0x80];

/// A secrets file with nested keys, bytes and JSON scalars.
const SECRETS: &str = r#"{
  "db_password": "s3cr3t-canary",
  "api_key": "{\"id\": 7, \"key\": \"k\"}",
  "café": "non-ASCII name",
  "multi": "line one\nline two\n",
  "app": {"db": {"password": "nested-canary", "user": "app"}, "token": "t0ken"},
  "keystore": {"$base64": "/v9rZXkACoA="},
  "port": 5432,
  "ratio": 1.50,
  "on": true,
  "nothing": null,
  "hosts": ["a", {"b": 2}]
}"#;

/// The json provider component (`None` when it is not built, after saying
/// so), compiled into the shared cache once before the first test uses
/// it: compiling a ~19 MB componentize-py component takes seconds, and the
/// tests would otherwise each compile it at once.
fn json_provider() -> Option<PathBuf> {
    static COMPILED: OnceLock<()> = OnceLock::new();
    let component = guest("json")?;
    COMPILED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(serving(&component, dir.path()));
    });
    Some(component)
}

/// A manager with the backend `j` serving `dir/secrets.json`, with the
/// default limits.
fn serving(component: &Path, dir: &Path) -> SecretsManager {
    let settings = serving_file(&dir.join("secrets.json"), dir);
    manager(&format!(
        "  backends:\n{}",
        wasm_backend("j", component, &settings)
    ))
}

/// The error of the first call, with its causes.
fn set_up_error(component: &Path, document: &str) -> (ErrorKind, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("secrets.json"), document).expect("write");
    let secrets = serving(component, dir.path());
    let error = block_on(secrets.get("j:db_password")).expect_err("set-up fails");
    (error.kind(), with_causes(&error))
}

#[test]
fn nested_names_bytes_and_scalars_are_served_under_the_default_limits() {
    let Some(component) = json_provider() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("secrets.json"), SECRETS).expect("write");
    let secrets = serving(&component, dir.path());

    assert_eq!(raw_text(&secrets, "j:app/db/password"), "nested-canary");
    assert_eq!(raw_text(&secrets, "j:multi"), "line one\nline two\n");
    assert_eq!(raw_text(&secrets, "j:café"), "non-ASCII name");
    // Scalars as their JSON text, numbers as written; arrays compact.
    assert_eq!(raw_text(&secrets, "j:port"), "5432");
    assert_eq!(raw_text(&secrets, "j:ratio"), "1.50");
    assert_eq!(raw_text(&secrets, "j:on"), "true");
    assert_eq!(raw_text(&secrets, "j:nothing"), "null");
    assert_eq!(raw_text(&secrets, "j:hosts"), r#"["a",{"b":2}]"#);
    // A text holding a JSON object is read by the host as an object.
    let object = block_on(secrets.get("j:api_key")).expect("served");
    assert_eq!(object.as_object().map(|o| o["id"].clone()), Some(7.into()));
    // Bytes stay bytes.
    match block_on(secrets.get("j:keystore")) {
        Ok(SecretValue::Bytes(bytes)) => assert_eq!(bytes.expose(), KEYSTORE),
        Ok(other) => panic!("keystore: expected bytes, got {}", other.describe()),
        Err(e) => panic!("keystore: {e}"),
    }
    // A mapping is not a secret; leaves only.
    let missing = block_on(secrets.get("j:app/db")).expect_err("a mapping");
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    let mut nested = block_on(secrets.list("j:app/*")).expect("lists");
    nested.sort();
    assert_eq!(nested, ["app/db/password", "app/db/user", "app/token"]);
    assert_eq!(block_on(secrets.list("j:*")).expect("lists").len(), 13);
    let report = block_on(secrets.load_declaration("j:app/db/*")).expect("loads");
    assert_eq!((report.matched, report.loaded), (2, 2));
}

#[test]
fn a_malformed_file_fails_set_up_naming_the_file_and_line_and_no_value() {
    let Some(component) = json_provider() else {
        return;
    };
    let (kind, message) = set_up_error(
        &component,
        "{\n  \"db_password\": \"s3cr3t-canary\",\n  \"db_user\": \"billing-canary\"\n  \"x\": 1\n}",
    );
    assert_eq!(kind, ErrorKind::Backend, "{message}");
    assert!(
        message
            .contains("secrets.json: not valid JSON: Expecting ',' delimiter at line 4 column 3"),
        "{message}"
    );
    assert!(!message.contains("canary"), "{message}");

    // A string that breaks mid-line: the parser's complaint, no quote of it.
    let (_, message) = set_up_error(&component, "{\"db_password\": \"s3cr3t-canary\u{7}\"}");
    assert!(
        message.contains("Invalid control character at line 1"),
        "{message}"
    );
    assert!(!message.contains("canary"), "{message}");
}

#[test]
fn a_key_with_a_slash_is_refused_naming_its_path() {
    let Some(component) = json_provider() else {
        return;
    };
    let (kind, message) = set_up_error(
        &component,
        r#"{"app": {"db/password": "s3cr3t-canary"}, "db_password": "x"}"#,
    );
    assert_eq!(kind, ErrorKind::Backend, "{message}");
    assert!(
        message.contains(r#"the key "db/password" (under "app") contains '/'"#),
        "{message}"
    );
    assert!(!message.contains("canary"), "{message}");

    let (_, message) = set_up_error(&component, r#"{"k": {"$base64": "not base64!"}}"#);
    assert!(
        message.contains(r#""k": "$base64" is not standard base64 with padding"#),
        "{message}"
    );
}

#[test]
fn config_mistakes_are_set_up_errors_that_say_which() {
    let Some(component) = json_provider() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let with_config = |config: &str| {
        let settings = format!("      config: {config}\n{}", granting_dir(dir.path()));
        let secrets = manager(&format!(
            "  backends:\n{}",
            wasm_backend("j", &component, &settings)
        ));
        let error = block_on(secrets.get("j:x")).expect_err("set-up fails");
        with_causes(&error)
    };
    let message = with_config("{}");
    assert!(message.contains("config: `file` is required"), "{message}");
    let message = with_config("{ file: secrets.json }");
    assert!(
        message.contains("`file` must be an absolute path"),
        "{message}"
    );
    // A file outside the granted directory cannot be opened.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    std::fs::write(elsewhere.path().join("secrets.json"), "{}").expect("write");
    let file = elsewhere.path().join("secrets.json").display().to_string();
    let message = with_config(&format!("{{ file: {file:?} }}"));
    assert!(
        message.contains(&format!("cannot read {file}: ")) && message.contains("allow.dirs"),
        "{message}"
    );
}

#[test]
fn the_command_line_lists_and_gets_through_the_python_component() {
    let Some(component) = json_provider() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("secrets.json"), SECRETS).expect("write");
    let file = dir.path().join("secrets.json").display().to_string();
    let (_config_dir, config) = temp_config(&format!(
        "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n{}      \
         config: {{ file: {file:?} }}\n{}",
        super::shared_cache().display().to_string(),
        wasm_backend("j", &component, ""),
        granting_dir(dir.path()),
    ));
    let run = run_with(&config, &["list", "j:app/db/*"], &[]);
    run.expect_code(0);
    assert_eq!(run.stdout, "app/db/password\napp/db/user\n");
    let run = run_with(&config, &["get", "j:app/token"], &[]);
    run.expect_code(0);
    assert_eq!(run.stdout, "t0ken\n");
}

/// The backend `j` over `dir/secrets.json` with the declaration `j:app/*`,
/// and its provider (to count its calls), refreshed only when asked.
fn counted(component: &Path, dir: &Path) -> (SecretsManager, Arc<WasmProvider>) {
    let settings = serving_file(&dir.join("secrets.json"), dir);
    counted_backend(
        "j",
        &wasm_backend("j", component, &settings),
        "",
        &["j:app/*"],
    )
}

#[test]
fn a_refresh_asks_the_python_provider_what_changed() {
    let Some(component) = json_provider() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("secrets.json");
    std::fs::write(&file, SECRETS).expect("write");
    let (secrets, provider) = counted(&component, dir.path());
    block_on(secrets.load()).expect("loads");
    // Versions come once the file's times are 2 seconds old: the first
    // refresh after that reads each held name again to get them.
    std::thread::sleep(Duration::from_millis(2_100));
    block_on(secrets.refresh_now("j")).expect("refreshes");

    // Unchanged: one change check (one stat in the guest), no reads.
    let before = provider.calls();
    let report = block_on(secrets.refresh_now("j")).expect("refreshes");
    assert_eq!(report, Default::default());
    let quiet = provider.calls();
    assert_eq!(quiet.changes - before.changes, 1);
    assert_eq!(
        (quiet.get, quiet.get_matching),
        (before.get, before.get_matching)
    );

    // Rewritten: a value changed, a name removed, a name added.
    let rewritten = SECRETS
        .replace("\"t0ken\"", "\"t0ken-2\"")
        .replace(", \"user\": \"app\"", "")
        .replace("\"token\":", "\"added\": \"new\", \"token\":");
    std::fs::write(&file, rewritten).expect("write");
    let report = block_on(secrets.refresh_now("j")).expect("refreshes");
    // The guest reports every held name still in the file changed (each
    // carries the old file's identity) and the new one added: the host
    // gets those three, and reports the one whose value differs.
    let after = provider.calls();
    assert_eq!(after.changes - quiet.changes, 1);
    assert_eq!(after.get - quiet.get, 3, "{quiet:?} -> {after:?}");
    assert_eq!(report.changed, ["app/token"]);
    assert_eq!(report.added, ["app/added"]);
    assert_eq!(report.removed, ["app/db/user"]);
    assert_eq!(raw_text(&secrets, "j:app/token"), "t0ken-2");
    assert_eq!(raw_text(&secrets, "j:app/added"), "new");
}
