//! Binary secrets through the real binary: an environment variable that
//! is not UTF-8 is served as the bytes it is; `get` writes them as they
//! are, `--json` as base64; every path that needs text (`run`, `export`,
//! tokens) refuses them by key instead of mangling them.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use crate::support::{Run, cli, temp_config};

const CONFIG: &str = "secrets:
  enabled: true
  backends:
    env: {}
app:
  key: ${secret://env:PPT_BIN}
";

/// `pp-secrets -c CONFIG ARGS` with `PPT_BIN` holding bytes that are not
/// UTF-8, and its raw stdout.
fn run(config: &std::path::Path, args: &[&str]) -> (Run, Vec<u8>) {
    let out = cli()
        .arg("--config")
        .arg(config)
        .args(args)
        .env(OsStr::new("PPT_BIN"), OsStr::from_bytes(b"\xffkey\x01"))
        .output()
        .expect("pp-secrets runs");
    let stdout = out.stdout.clone();
    (out.into(), stdout)
}

#[test]
fn get_writes_binary_data_as_it_is_and_json_as_base64() {
    let (_dir, config) = temp_config(CONFIG);
    let (out, bytes) = run(&config, &["get", "env:PPT_BIN"]);
    out.expect_code(0);
    assert_eq!(bytes, b"\xffkey\x01", "the bytes, with no newline added");
    let (out, bytes) = run(&config, &["get", "env:PPT_BIN", "--raw"]);
    out.expect_code(0);
    assert_eq!(bytes, b"\xffkey\x01");
    let (out, _) = run(&config, &["get", "env:PPT_BIN", "--json"]);
    out.expect_code(0);
    assert_eq!(out.stdout, "{\"base64\":\"/2tleQE=\"}\n");
}

#[test]
fn paths_that_need_text_refuse_binary_data_by_key() {
    let (_dir, config) = temp_config(CONFIG);
    let refused = "secret \"env:PPT_BIN\" holds 5 bytes of binary data that are not UTF-8 text";
    for args in [
        &["run", "--env", "K=env:PPT_BIN", "--", "true"][..],
        &["run", "--from", "env:PPT_BIN", "--", "true"],
        &["export", "env:PPT_BIN"],
        &["render"],
    ] {
        let (out, bytes) = run(&config, args);
        out.expect_code(2);
        assert!(out.stderr.contains(refused), "{args:?}: {}", out.stderr);
        assert!(
            !bytes.windows(3).any(|w| w == b"key"),
            "{args:?} printed it"
        );
    }
    // The token's place is named too.
    let (out, _) = run(&config, &["render"]);
    assert!(out.stderr.contains("app.key"), "{}", out.stderr);
    // check reports the token as broken.
    let (out, _) = run(&config, &["check"]);
    out.expect_code(2);
    assert!(
        out.stdout
            .contains("app.key: ${secret://env:PPT_BIN}: BROKEN: "),
        "{}",
        out.stdout
    );
}
