//! A `wasm` backend (or an app) whose component file is missing or is not
//! a component: one line that names the backend and the file, through
//! the real binary, and never a byte of the file.

use std::path::Path;

use crate::support::{Run, run_with, temp_config};

/// A config with one `wasm` backend, `vault`, whose component is `file`
/// (relative to the config), and the config's directory.
fn vault_at(file: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    temp_config(&format!(
        "secrets:\n  enabled: true\n  wasm_cache: false\n  backends:\n    vault:\n      \
         type: wasm\n      path: {file}\n  load: [\"vault:*\"]\n"
    ))
}

/// Asserts `text` is one line that quotes nothing of a file: no escape
/// sequences, no lists of bytes, none of `canary`.
#[track_caller]
fn one_clean_line(text: &str, canary: &str) {
    assert_eq!(text.trim_end().lines().count(), 1, "one line: {text}");
    for quoted in ["\\n", "\\u", "\\x", "\\t", "[0x", "[ 0x", ", 0x", canary] {
        assert!(!text.contains(quoted), "{quoted:?} in {text}");
    }
}

/// `list 'vault:*'` and `check` on `config`.
fn list_and_check(config: &Path) -> (Run, Run) {
    (
        run_with(config, &["list", "vault:*"], &[]),
        run_with(config, &["check"], &[]),
    )
}

#[test]
fn a_missing_component_names_the_backend_and_the_file() {
    let (dir, config) = vault_at("missing.wasm");
    let file = dir.path().join("missing.wasm").display().to_string();
    let (list, check) = list_and_check(&config);
    list.expect_code(2);
    assert_eq!(
        list.stderr.trim_end(),
        format!(
            "pp-secrets: secrets.backends.vault.path: cannot read {file}: No such file or \
             directory (os error 2)"
        )
    );
    check.expect_code(2);
    assert!(
        check.stdout.contains(&format!(
            "vault (wasm): NOT LOADED: secrets.backends.vault.path: cannot read {file}:"
        )),
        "{}",
        check.stdout
    );
}

#[test]
fn a_file_that_is_not_wasm_is_one_line_naming_the_backend_and_the_file() {
    let (dir, config) = vault_at("vault.wasm");
    let file = dir.path().join("vault.wasm");
    // What an operator may point `path` at by mistake: a secrets file,
    // with a terminal escape in it.
    std::fs::write(&file, "password: canary-s3cr3t\n\x1b[31mred\n").expect("write");
    let file = file.display().to_string();
    let (list, check) = list_and_check(&config);
    list.expect_code(3);
    one_clean_line(&list.stderr, "canary");
    for part in [
        "backend \"vault\"",
        &format!(
            "{file} is not a WebAssembly component (it does not start with the Wasm magic \
             bytes)"
        ),
    ] {
        assert!(list.stderr.contains(part), "{part:?} in {}", list.stderr);
    }
    check.expect_code(3);
    let line = check
        .stdout
        .lines()
        .find(|line| line.contains("vault (wasm): NOT LOADED:"))
        .unwrap_or_else(|| panic!("the backend's line in {}", check.stdout));
    // The line starts with the backend's name.
    one_clean_line(line, "canary");
    assert!(line.contains(&file), "{line}");

    let json = run_with(&config, &["check", "--json"], &[]);
    json.expect_code(3);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("one JSON document");
    let error = report["backends"][0]["error"].as_str().expect("an error");
    one_clean_line(error, "canary");
    assert!(error.contains("is not a WebAssembly component"), "{error}");
}

#[test]
fn an_empty_file_a_core_module_and_a_broken_component_are_told_apart() {
    for (bytes, words) in [
        (
            b"".as_slice(),
            "is not a WebAssembly component (the file is empty)",
        ),
        (
            b"\0asm\x01\0\0\0".as_slice(),
            "is a core WebAssembly module, not a component",
        ),
        (
            b"\0asm\x0e\0\x01\0".as_slice(),
            "is not a WebAssembly component this host can read",
        ),
        // A component header, then a nested core module whose own header
        // is wrong: wasmtime's reason, without the bytes it would list.
        (
            b"\0asm\x0d\0\x01\0\x01\x04\0ab\x63".as_slice(),
            "is not a valid component: ",
        ),
    ] {
        let (dir, config) = vault_at("vault.wasm");
        std::fs::write(dir.path().join("vault.wasm"), bytes).expect("write");
        let run = run_with(&config, &["list", "vault:*"], &[]);
        run.expect_code(3);
        one_clean_line(&run.stderr, "abc");
        assert!(!run.stderr.contains("0x62"), "{}", run.stderr);
        assert!(run.stderr.contains("backend \"vault\""), "{}", run.stderr);
        assert!(run.stderr.contains(words), "{words:?} in {}", run.stderr);
    }
}

#[test]
fn an_app_that_is_not_wasm_is_one_line_naming_the_file() {
    let (dir, config) = temp_config("secrets:\n  enabled: true\n  wasm_cache: false\n");
    let app = dir.path().join("report.wasm");
    std::fs::write(&app, "canary-s3cr3t\n").expect("write");
    let app = app.display().to_string();
    let run = run_with(&config, &["run-wasm", &app], &[]);
    run.expect_code(3);
    one_clean_line(&run.stderr, "canary");
    assert!(
        run.stderr.contains(&format!(
            "{app} is not a WebAssembly component (it does not start with the Wasm magic bytes)"
        )),
        "{}",
        run.stderr
    );
}
