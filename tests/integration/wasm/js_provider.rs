//! The JavaScript example provider (`providers/ini`, built with the SDK in
//! `guest-sdk/js` into `target/components/ini_provider.wasm` by
//! `tests/run.sh`), through the host and under the default limits: what is
//! particular to it. INI sections become nested names, quoted values
//! unescape, a malformed file fails naming the line and never a value, a
//! set-up error names the setting or the path and the OS error, a file
//! rewritten on disk is read again, and a refresh of an unchanged file is
//! one change check that fetches nothing. The generic contract checks are
//! the provider test-suite's.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pp_secrets::wasm::WasmProvider;
use pp_secrets::{ErrorKind, SecretsManager};

use super::{counted_backend, guest, manager, raw_text, serving_file, wasm_backend};
use crate::support::block_on;

/// Longer than the provider's settling time: a file this old has versions.
const SETTLE: Duration = Duration::from_millis(2_200);

/// A manager with the backend `ini` over `dir/secrets.ini` holding `text`.
fn ini(component: &Path, dir: &Path, text: &str) -> SecretsManager {
    let file = dir.join("secrets.ini");
    std::fs::write(&file, text).expect("write");
    manager(&format!(
        "  backends:\n{}",
        wasm_backend("ini", component, &serving_file(&file, dir))
    ))
}

fn names(secrets: &SecretsManager, pattern: &str) -> Vec<String> {
    block_on(secrets.list(pattern)).unwrap_or_else(|e| panic!("{pattern}: {e}"))
}

/// The error of getting `key`, as the host reports it.
fn failure(secrets: &SecretsManager, key: &str) -> pp_secrets::Error {
    match block_on(secrets.get_raw(key)) {
        Ok(_) => panic!("{key} was served"),
        Err(e) => e,
    }
}

#[test]
fn sections_are_nested_names_and_quoted_values_unescape() {
    let Some(component) = guest("ini") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let secrets = ini(
        &component,
        dir.path(),
        concat!(
            "; a comment\n",
            "# another\n",
            "plain =   unquoted ; and # are kept  \n",
            "quoted = \"tab\\there \\\"q\\\" back\\\\slash\\r\\nend\"\n",
            "crlf = \"windows\"\r\n",
            "empty = \"\"\n",
            "\n",
            "[app/db]\n",
            "password = \"nested-canary\"\n",
            "[app]\n",
            "token = t0ken\n",
            "[app/db]\n",
            "user = app\n",
        ),
    );
    assert_eq!(raw_text(&secrets, "ini:plain"), "unquoted ; and # are kept");
    assert_eq!(
        raw_text(&secrets, "ini:quoted"),
        "tab\there \"q\" back\\slash\r\nend"
    );
    assert_eq!(raw_text(&secrets, "ini:crlf"), "windows");
    assert_eq!(raw_text(&secrets, "ini:empty"), "");
    assert_eq!(raw_text(&secrets, "ini:app/db/password"), "nested-canary");
    assert_eq!(raw_text(&secrets, "ini:app/db/user"), "app");
    assert_eq!(raw_text(&secrets, "ini:app/token"), "t0ken");
    assert_eq!(
        names(&secrets, "ini:app/*"),
        ["app/db/password", "app/db/user", "app/token"]
    );
    assert_eq!(names(&secrets, "ini:app/db/?ser"), ["app/db/user"]);
    // A section is not a secret.
    let section = failure(&secrets, "ini:app/db");
    assert_eq!(section.kind(), ErrorKind::NotFound, "{section}");
    // One bulk read for a declaration.
    let report = block_on(secrets.load_declaration("ini:app/*")).expect("loads");
    assert_eq!((report.matched, report.loaded), (3, 3));
}

#[test]
fn a_malformed_file_fails_naming_the_line_and_never_a_value() {
    let Some(component) = guest("ini") else {
        return;
    };
    let cases = [
        ("ok = 1\nhunter2-canary\n", "line 2: not `key = value`"),
        (
            "ok = 1\n\nk = \"hunter2-canary\n",
            "line 3: the quoted value is not closed",
        ),
        (
            "k = \"hunter2\\q-canary\"\n",
            "line 1: in a quoted value a backslash must be followed by",
        ),
        (
            "[app]\nk = 1\n[app]\nk = \"hunter2-canary\"\n",
            "line 4: app/k is set twice (first on line 2)",
        ),
        (
            "k = \"hunter2\" canary\n",
            "line 1: only blank space may follow",
        ),
        ("[hunter2-canary\n", "line 1: a section header is `[name]`"),
        (
            "a/b = hunter2-canary\n",
            "line 1: a key may not contain `/`",
        ),
    ];
    for (content, expected) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let secrets = ini(&component, dir.path(), content);
        let file = dir.path().join("secrets.ini").display().to_string();
        let error = failure(&secrets, "ini:ok");
        let message = error.to_string();
        assert_eq!(error.kind(), ErrorKind::Backend, "{message}");
        assert!(
            message.contains(&format!("{file}: {expected}")),
            "{content:?}: {message}"
        );
        assert!(
            !message.contains("hunter2") && !message.contains("canary"),
            "{content:?}: {message}"
        );
    }
}

#[test]
fn set_up_errors_name_the_setting_or_the_path_and_the_os_error() {
    let Some(component) = guest("ini") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let other = tempfile::tempdir().expect("tempdir");
    std::fs::write(other.path().join("secrets.ini"), "k = v\n").expect("write");
    let missing = dir.path().join("missing.ini");
    let elsewhere = other.path().join("secrets.ini");
    let grant = format!(
        "      allow: {{ dirs: [{:?}] }}\n",
        dir.path().display().to_string()
    );
    let cases = [
        (
            grant.clone(),
            "the ini provider needs config: { file: PATH }".to_owned(),
        ),
        (
            format!("      config: {{ file: secrets.ini }}\n{grant}"),
            "config file secrets.ini must be an absolute path".to_owned(),
        ),
        (
            format!("      config: {{ file: /x.ini, flie: /y.ini }}\n{grant}"),
            "unknown setting \"flie\"".to_owned(),
        ),
        (
            serving_file(&missing, dir.path()),
            format!(
                "cannot open {}: no-entry (no such file or directory)",
                missing.display()
            ),
        ),
        (
            serving_file(&elsewhere, dir.path()),
            format!("cannot read {}: not-granted", elsewhere.display()),
        ),
    ];
    for (settings, expected) in cases {
        let secrets = manager(&format!(
            "  backends:\n{}",
            wasm_backend("ini", &component, &settings)
        ));
        let error = failure(&secrets, "ini:k");
        assert_eq!(error.kind(), ErrorKind::Backend, "{error}");
        assert!(error.to_string().contains(&expected), "{error}");
    }
}

#[test]
fn a_file_rewritten_on_disk_is_read_again() {
    let Some(component) = guest("ini") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let secrets = ini(&component, dir.path(), "a = one\nb = bee\n");
    assert_eq!(raw_text(&secrets, "ini:a"), "one");
    std::fs::write(dir.path().join("secrets.ini"), "a = two\nc = sea\n").expect("rewrite");
    // `get_raw` is never cached: each asks the provider, which sees the
    // file as it is now.
    assert_eq!(raw_text(&secrets, "ini:a"), "two");
    assert_eq!(raw_text(&secrets, "ini:c"), "sea");
    let gone = failure(&secrets, "ini:b");
    assert_eq!(gone.kind(), ErrorKind::NotFound, "{gone}");
    // A file that turns bad fails the call; fixed, it serves again.
    std::fs::write(dir.path().join("secrets.ini"), "a = two\nbroken\n").expect("rewrite");
    let broken = failure(&secrets, "ini:a");
    assert!(broken.to_string().contains("line 2"), "{broken}");
    std::fs::write(dir.path().join("secrets.ini"), "a = three\n").expect("rewrite");
    assert_eq!(raw_text(&secrets, "ini:a"), "three");
}

/// The backend `ini` over `dir/secrets.ini`, declared `ini:*`, and its
/// provider (to count its calls), refreshed only when asked.
fn counted(component: &Path, dir: &Path) -> (SecretsManager, Arc<WasmProvider>) {
    let backend = wasm_backend(
        "ini",
        component,
        &serving_file(&dir.join("secrets.ini"), dir),
    );
    let (manager, provider) = counted_backend("ini", &backend, "", &["ini:*"]);
    assert_eq!(provider.interface_version(), "0.2.0");
    (manager, provider)
}

#[test]
fn a_refresh_of_an_unchanged_file_asks_once_and_fetches_nothing() {
    let Some(component) = guest("ini") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("secrets.ini"), "a = one\nb = bee\n").expect("write");
    std::thread::sleep(SETTLE);
    let (secrets, provider) = counted(&component, dir.path());
    block_on(secrets.load()).expect("loads");
    let before = provider.calls();
    let report = block_on(secrets.refresh_now("ini")).expect("refreshes");
    assert_eq!(report, Default::default(), "nothing changed");
    let quiet = provider.calls();
    assert_eq!(quiet.changes - before.changes, 1);
    assert_eq!(
        (quiet.get, quiet.get_matching, quiet.list),
        (before.get, before.get_matching, before.list)
    );

    // A rewrite: one value changed, one name added, one removed. The
    // versions are the file's, so both held names are fetched again; only
    // the one whose value differs is reported changed.
    std::fs::write(dir.path().join("secrets.ini"), "a = two\nc = sea\n").expect("rewrite");
    let report = block_on(secrets.refresh_now("ini")).expect("refreshes");
    assert_eq!(report.changed, ["a"]);
    assert_eq!(report.added, ["c"]);
    assert_eq!(report.removed, ["b"]);
    assert_eq!(raw_text(&secrets, "ini:a"), "two");
}
