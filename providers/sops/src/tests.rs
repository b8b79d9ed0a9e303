//! Unit tests of the provider on files this module encrypts itself, in
//! sops's format, with fresh age keys. The real `sops` and `age` check
//! the same provider, built as a component, in the integration tests
//! (tests/integration/wasm/sops.rs); here are the cases that need the
//! clock, counters or thousands of damaged files.

use std::path::Path;
use std::time::{Duration, SystemTime};

use age::secrecy::ExposeSecret;
use pp_secrets_guest::{ChangeSet, Changes, Config, Error, Held, Pattern, Provider, StoredValue};
use sha2::{Digest, Sha512};

use super::*;
use crate::decrypt::tests::seal;

/// A fresh age identity and its recipient.
fn identity() -> (age::x25519::Identity, String) {
    let identity = age::x25519::Identity::generate();
    let recipient = identity.to_public().to_string();
    (identity, recipient)
}

/// A SOPS YAML file built the way sops builds one: every value of
/// `values` (full key paths, plaintext, sops type) encrypted under a fresh
/// data key with its path as additional data, the data key age-encrypted
/// to `recipients`, and the MAC over the values in order.
fn sops_yaml(values: &[(&[&str], &str, &str)], recipients: &[&str]) -> String {
    let data_key = [9u8; 32];
    let mut text = String::new();
    let mut mac = Sha512::new();
    let mut open: Vec<&str> = Vec::new();
    for (path, plain, kind) in values {
        // Open the mappings this path needs (paths come grouped).
        let (leaf, parents) = path.split_last().expect("a path");
        let common = open
            .iter()
            .zip(parents.iter())
            .take_while(|(a, b)| a == b)
            .count();
        open.truncate(common);
        for parent in &parents[common..] {
            text.push_str(&format!("{}{parent}:\n", "    ".repeat(open.len())));
            open.push(parent);
        }
        let additional = format!("{}:", path.join(":"));
        // Kind `plain`: left unencrypted (the key must say so).
        let value = if *kind == "plain" {
            (*plain).to_owned()
        } else {
            seal(&data_key, plain.as_bytes(), &additional, kind)
        };
        text.push_str(&format!("{}{leaf}: {value}\n", "    ".repeat(open.len())));
        let hashed = match (*kind, *plain) {
            ("bool", "true") => "True",
            ("bool", "false") => "False",
            _ => plain,
        };
        mac.update(hashed.as_bytes());
    }
    let last_modified = "2026-12-01T10:00:00Z";
    let mac: String = mac.finalize().iter().map(|b| format!("{b:02X}")).collect();
    text.push_str("sops:\n    age:\n");
    for recipient in recipients {
        let parsed: age::x25519::Recipient = recipient.parse().expect("a recipient");
        let armored = age::encrypt_and_armor(&parsed, &data_key).expect("encrypts");
        text.push_str(&format!(
            "        - recipient: {recipient}\n          enc: |\n"
        ));
        for line in armored.lines() {
            text.push_str(&format!("            {line}\n"));
        }
    }
    text.push_str(&format!(
        "    lastmodified: \"{last_modified}\"\n    mac: {}\n    unencrypted_suffix: _unencrypted\n    version: 3.11.0\n",
        seal(&data_key, mac.as_bytes(), last_modified, "str")
    ));
    text
}

/// The values of the standard test file.
const VALUES: &[(&[&str], &str, &str)] = &[
    (&["db", "user"], "admin", "str"),
    (&["db", "password"], "hunter2-secret", "str"),
    (&["db", "port"], "5432", "int"),
    (&["api_key"], "key-0123456789", "str"),
    (&["debug"], "true", "bool"),
];

/// A directory with `secrets.yaml` (the standard file for a fresh key)
/// and `keys.txt` (that key).
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let (identity, recipient) = identity();
        Self::with(&sops_yaml(VALUES, &[&recipient]), &identity)
    }

    fn with(file: &str, identity: &age::x25519::Identity) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("secrets.yaml"), file).expect("write");
        std::fs::write(
            dir.path().join("keys.txt"),
            format!(
                "# public key: {}\n{}\n",
                identity.to_public(),
                identity.to_string().expose_secret()
            ),
        )
        .expect("write");
        Setup { dir }
    }

    fn file(&self) -> std::path::PathBuf {
        self.dir.path().join("secrets.yaml")
    }

    fn config(&self) -> Config {
        config(&self.file(), &self.dir.path().join("keys.txt"))
    }

    fn provider(&self) -> SopsProvider {
        SopsProvider::configure(&self.config()).expect("configured")
    }
}

/// Settings for `file` with identities from `keys` only (never from the
/// test process's environment).
fn config(file: &Path, keys: &Path) -> Config {
    Config::from([
        ("file".to_owned(), file.display().to_string()),
        ("age_key_file".to_owned(), keys.display().to_string()),
        (
            "age_key_env".to_owned(),
            "PP_SOPS_UNIT_TESTS_NEVER_SET".to_owned(),
        ),
    ])
}

/// A clock for which every file on disk is settled.
fn later() -> SystemTime {
    SystemTime::now() + Duration::from_secs(60)
}

fn text(value: Result<Value, Error>) -> Result<String, Error> {
    value.map(|v| match v.stored {
        StoredValue::Text(text) => text,
        StoredValue::Bytes(_) => panic!("served bytes, not text"),
    })
}

fn all() -> Pattern {
    Pattern::new("*").expect("glob")
}

#[test]
fn serves_every_key_with_slash_names_and_whole_mappings() {
    let setup = Setup::new();
    let p = SopsProvider::create(setup.config()).expect("creates");
    assert_eq!(text(p.get("db/password")).as_deref(), Ok("hunter2-secret"));
    assert_eq!(text(p.get("db/port")).as_deref(), Ok("5432"));
    assert_eq!(text(p.get("debug")).as_deref(), Ok("true"));
    assert_eq!(
        text(p.get("db")).as_deref(),
        Ok(r#"{"user":"admin","password":"hunter2-secret","port":5432}"#)
    );
    assert!(p.get("db/absent").is_err_and(|e| e.is_not_found()));
    assert_eq!(
        p.list(&all()).expect("lists"),
        [
            "db",
            "db/user",
            "db/password",
            "db/port",
            "api_key",
            "debug"
        ]
    );
    let matched = p
        .get_matching(&Pattern::new("db/*").expect("glob"))
        .expect("matches");
    assert_eq!(matched.len(), 3);
    assert_eq!(
        matched[1].value.as_ref().map(|v| v.as_text()),
        Ok(Some("hunter2-secret"))
    );
}

#[test]
fn several_recipients_each_decrypt_and_a_stranger_does_not() {
    let (first, first_recipient) = identity();
    let (second, second_recipient) = identity();
    let file = sops_yaml(VALUES, &[&first_recipient, &second_recipient]);
    for identity in [&first, &second] {
        let setup = Setup::with(&file, identity);
        let p = setup.provider();
        assert_eq!(
            text(p.get_at("api_key", later())).as_deref(),
            Ok("key-0123456789")
        );
    }
    let (stranger, stranger_recipient) = identity();
    let setup = Setup::with(&file, &stranger);
    let e = SopsProvider::create(setup.config())
        .err()
        .expect("no identity fits");
    let message = e.to_string();
    assert!(
        message.contains("no age identity given can decrypt the data key"),
        "{message}"
    );
    for recipient in [&first_recipient, &second_recipient, &stranger_recipient] {
        let short = format!(
            "{}...{}",
            &recipient[..16],
            &recipient[recipient.len() - 6..]
        );
        assert!(message.contains(&short), "{message}");
    }
    assert!(message.len() < 300, "fits the host's cut: {message}");
    assert!(!message.contains("AGE-SECRET-KEY"), "{message}");
}

#[test]
fn a_settled_file_is_decrypted_once_and_again_after_a_change() {
    let (identity, recipient) = identity();
    let setup = Setup::with(&sops_yaml(VALUES, &[&recipient]), &identity);
    let p = setup.provider();
    for _ in 0..3 {
        assert_eq!(text(p.get_at("db/user", later())).as_deref(), Ok("admin"));
    }
    p.list(&all()).expect("lists");
    assert_eq!(p.decryptions.get(), 1, "served from memory");
    let version = p.get_at("db/user", later()).expect("served").version;
    assert!(version.is_some());

    std::thread::sleep(Duration::from_millis(20));
    let changed: Vec<(&[&str], &str, &str)> = vec![
        (&["db", "user"], "root", "str"),
        (&["api_key"], "key-0123456789", "str"),
    ];
    std::fs::write(setup.file(), sops_yaml(&changed, &[&recipient])).expect("rewrite");
    assert_eq!(text(p.get_at("db/user", later())).as_deref(), Ok("root"));
    assert_eq!(p.decryptions.get(), 2);
    assert_ne!(
        p.get_at("db/user", later()).expect("served").version,
        version
    );
    assert!(
        p.get_at("db/password", later())
            .is_err_and(|e| e.is_not_found())
    );
}

#[test]
fn a_file_changed_a_moment_ago_is_decrypted_on_every_call_without_versions() {
    let setup = Setup::new();
    let p = setup.provider();
    for _ in 0..2 {
        let value = p.get("api_key").expect("served");
        assert_eq!(value.version, None, "its times could repeat");
    }
    assert_eq!(p.decryptions.get(), 2);
}

fn held(name: &str, version: Option<String>) -> Held {
    Held {
        name: name.to_owned(),
        version,
    }
}

fn known(changes: Result<Changes, Error>) -> ChangeSet {
    match changes {
        Ok(Changes::Known(set)) => set,
        other => panic!("not known: {other:?}"),
    }
}

#[test]
fn changes_read_nothing_while_the_file_is_unchanged() {
    let (identity, recipient) = identity();
    let setup = Setup::with(&sops_yaml(VALUES, &[&recipient]), &identity);
    let p = setup.provider();
    let version = p.get_at("db/user", later()).expect("served").version;
    let holding = [
        held("db/user", version.clone()),
        held("api_key", version.clone()),
    ];
    let set = known(p.changes_at(&holding, &[Pattern::new("db/*").expect("glob")], later()));
    assert_eq!(set.added, ["db/password", "db/port"]);
    assert!(set.changed.is_empty() && set.gone.is_empty(), "{set:?}");
    let set = known(p.changes_at(&holding, &[], later()));
    assert!(set.is_empty(), "{set:?}");
    assert_eq!(p.decryptions.get(), 1, "no decryption for a change check");

    // Edited: every held name that is still there is changed (the
    // version is the file's), the others gone.
    std::thread::sleep(Duration::from_millis(20));
    let edited: Vec<(&[&str], &str, &str)> = vec![(&["db", "user"], "admin", "str")];
    std::fs::write(setup.file(), sops_yaml(&edited, &[&recipient])).expect("rewrite");
    let set = known(p.changes_at(&holding, &[], later()));
    assert_eq!(set.changed, ["db/user"]);
    assert_eq!(set.gone, ["api_key"]);
    assert_eq!(p.decryptions.get(), 2);
}

#[test]
fn a_damaged_file_after_a_good_one_serves_nothing() {
    let (identity, recipient) = identity();
    let setup = Setup::with(&sops_yaml(VALUES, &[&recipient]), &identity);
    let p = setup.provider();
    assert!(p.get_at("api_key", later()).is_ok());
    std::thread::sleep(Duration::from_millis(20));
    let good = std::fs::read_to_string(setup.file()).expect("read");
    // Two values swapped between keys: each is bound to its own key.
    let lines: Vec<&str> = good.lines().collect();
    let user = lines
        .iter()
        .position(|l| l.contains("user:"))
        .expect("user");
    let password = lines
        .iter()
        .position(|l| l.contains("password:"))
        .expect("password");
    let value = |i: usize| lines[i].split_once(": ").expect("a value").1.to_owned();
    let mut swapped: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    swapped[user] = format!("    user: {}", value(password));
    swapped[password] = format!("    password: {}", value(user));
    std::fs::write(setup.file(), swapped.join("\n")).expect("rewrite");
    for result in [p.get_at("api_key", later()), p.get_at("db/user", later())] {
        let e = result.expect_err("not served");
        assert!(e.to_string().contains("does not decrypt"), "{e}");
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }
    assert!(p.list(&all()).is_err());
    assert!(
        p.changes_at(&[held("api_key", Some("v".into()))], &[], later())
            .is_err(),
        "the check fails, so the host keeps what it holds"
    );
}

#[test]
fn the_mac_catches_what_each_value_alone_cannot() {
    let values: &[(&[&str], &str, &str)] = &[
        (&["a"], "alpha-value", "str"),
        (&["b"], "bravo-value", "str"),
        (&["c"], "charlie-value", "str"),
        (&["note_unencrypted"], "plain-note", "plain"),
    ];
    let (identity, recipient) = identity();
    let good = sops_yaml(values, &[&recipient]);
    let setup = Setup::with(&good, &identity);
    let p = setup.provider();
    assert_eq!(
        text(p.get_at("note_unencrypted", later())).as_deref(),
        Ok("plain-note")
    );
    let line = |prefix: &str| {
        good.lines()
            .find(|l| l.starts_with(prefix))
            .expect("a line")
            .to_owned()
    };
    let damaged = [
        (
            "a line removed",
            good.replacen(&format!("{}\n", line("b:")), "", 1),
        ),
        (
            "two lines swapped",
            good.replacen(
                &format!("{}\n{}", line("a:"), line("b:")),
                &format!("{}\n{}", line("b:"), line("a:")),
                1,
            ),
        ),
        (
            "a plain value edited",
            good.replacen("plain-note", "plain-notE", 1),
        ),
        (
            "a plain key added",
            good.replacen(
                "note_unencrypted:",
                "more_unencrypted: x\nnote_unencrypted:",
                1,
            ),
        ),
    ];
    for (what, file) in damaged {
        std::fs::write(setup.file(), file).expect("write");
        let e = p.get_at("a", later()).expect_err(what);
        assert!(e.to_string().contains("MAC mismatch"), "{what}: {e}");
    }
}

/// The values `p` serves, by name.
fn served(p: &SopsProvider) -> Result<Vec<(String, String)>, Error> {
    let matched = p.get_matching(&all())?;
    matched
        .into_iter()
        .map(|m| Ok((m.name, text(m.value)?)))
        .collect()
}

#[test]
fn no_one_byte_damage_changes_a_served_value() {
    // Every other byte of a file changed (flipped, removed, or a byte put
    // before it, in turn): each damaged file is refused, or (a change sops
    // does not authenticate: the recipient label, YAML spacing, the
    // version) serves exactly the original values.
    let (identity, recipient) = identity();
    let good = sops_yaml(VALUES, &[&recipient]);
    let setup = Setup::with(&good, &identity);
    let p = setup.provider();
    let original = served(&p).expect("the intact file");
    let bytes = good.as_bytes();
    let mut refused = 0;
    let mut tried = 0;
    for i in (0..bytes.len()).step_by(2) {
        let change = (i / 2) % 3;
        {
            tried += 1;
            let mut damaged = bytes.to_vec();
            match change {
                0 => damaged[i] ^= 0x01,
                1 => {
                    damaged.remove(i);
                }
                _ => damaged.insert(i, b'A'),
            }
            std::fs::write(setup.file(), &damaged).expect("write");
            match served(&p) {
                Ok(values) => assert_eq!(values, original, "byte {i}, change {change}"),
                Err(e) => {
                    refused += 1;
                    let message = e.to_string();
                    for (_, plain, _) in VALUES {
                        assert!(plain.len() < 6 || !message.contains(plain), "{message}");
                    }
                }
            }
        }
    }
    assert!(
        refused * 10 > tried * 8,
        "most damage is refused: {refused} of {tried}"
    );
}

#[test]
fn garbage_never_panics_in_any_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("keys.txt");
    let (identity, _) = identity();
    std::fs::write(&keys, identity.to_string().expose_secret()).expect("write");
    let samples: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"\xff\xfe\x00".to_vec(),
        b"a: [".to_vec(),
        b"- a\n- b\n".to_vec(),
        b"sops: 1\n".to_vec(),
        b"sops: {age: 1, mac: 2, lastmodified: 3}\n".to_vec(),
        b"sops:\n  age: [{recipient: x, enc: y}]\n  mac: ENC[AES256_GCM,data:,iv:,tag:,type:]\n  lastmodified: '2026-01-01T00:00:00Z'\n".to_vec(),
        b"{\"sops\": {\"key_groups\": [{}, {}]}}".to_vec(),
        b"[1, 2]".to_vec(),
        b"=\nsops_=\nsops___map_=\nsops_age__list_99999999999__map_enc=x\n".to_vec(),
        b"sops_age__list_0__list_0__list_0=x\nsops_mac=y\n".to_vec(),
        b"a: &x [*x]\n".to_vec(),
        "a: !custom 1\n".as_bytes().to_vec(),
        b"1: one\nsops: {}\n".to_vec(),
        format!("{}1{}", "[".repeat(200), "]".repeat(200)).into_bytes(),
        format!("a: {}1{}\n", "[".repeat(200), "]".repeat(200)).into_bytes(),
        b"a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n".to_vec(),
    ];
    // And simple pseudo-random bytes from a fixed seed.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut random = samples;
    for _ in 0..200 {
        let len = usize::try_from(seed % 300).unwrap_or(0);
        let mut bytes = Vec::with_capacity(len);
        for _ in 0..len {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            bytes.push(
                b"sops:_age\n -[]{}\"'=:&*!#ENC,0123456789"
                    [usize::try_from(seed % 38).unwrap_or(0)],
            );
        }
        random.push(bytes);
    }
    for (name, format) in [("s.yaml", "yaml"), ("s.json", "json"), ("s.env", "dotenv")] {
        let file = dir.path().join(name);
        for sample in &random {
            std::fs::write(&file, sample).expect("write");
            let mut config = config(&file, &keys);
            config.insert("format".into(), format.into());
            let p = SopsProvider::configure(&config).expect("configured");
            assert!(p.get_at("a", later()).is_err(), "{format}: {sample:?}");
        }
    }
}

#[test]
fn settings_are_checked() {
    let setup = Setup::new();
    let err = |config: Config| {
        SopsProvider::configure(&config)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    assert!(err(Config::new()).contains("needs `config: { file: PATH }`"));
    let mut c = setup.config();
    c.insert("dir".into(), "/x".into());
    assert!(err(c).contains("no setting \"dir\""));
    let mut c = setup.config();
    c.insert("file".into(), "secrets.yaml".into());
    assert!(err(c).contains("must be an absolute path"));
    let mut c = setup.config();
    c.insert("file".into(), "/etc/secrets.enc".into());
    assert!(err(c).contains("cannot tell the format"));
    let mut c = setup.config();
    c.insert("format".into(), "toml".into());
    assert!(err(c).contains("not one of yaml, json, dotenv"));
    let mut c = setup.config();
    c.insert("age_key_file".into(), "keys.txt".into());
    assert!(err(c).contains("must be an absolute path"));

    // A missing file and a missing key are set-up errors that say so.
    let mut c = setup.config();
    c.insert(
        "file".into(),
        setup.dir.path().join("absent.yaml").display().to_string(),
    );
    let e = SopsProvider::create(c).err().expect("fails");
    assert!(e.to_string().contains("does not exist"), "{e}");
    let mut c = setup.config();
    c.remove("age_key_file");
    let e = SopsProvider::create(c).err().expect("fails");
    assert!(
        e.to_string()
            .contains("no age identity: set PP_SOPS_UNIT_TESTS_NEVER_SET"),
        "{e}"
    );
}

#[test]
fn files_over_the_cap_are_refused_unread() {
    let setup = Setup::new();
    let file = std::fs::File::options()
        .append(true)
        .open(setup.file())
        .expect("open");
    file.set_len(MAX_FILE_BYTES + 1).expect("grow");
    let e = setup
        .provider()
        .get_at("api_key", later())
        .expect_err("refused");
    assert!(e.to_string().contains("more than the 4194304"), "{e}");
}

#[test]
fn debug_output_shows_no_value() {
    let scalar = tree::Scalar::Str("hunter2".into());
    assert!(!format!("{scalar:?}").contains("hunter2"));
}
