//! The on-disk compile cache: keyed by content and engine, trusted only
//! when its checksum matches, movable and switchable off, and never a
//! reason to fail.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use pp_secrets::{ConfigDocument, SecretsManager};

use super::{guest, serving_dir, wasm_backend};
use crate::support::ExposeText;
use crate::support::{block_on, run_with, temp_config};

/// A manager serving `mount` through the dir provider, caching in `cache`.
fn dir_manager(component: &Path, mount: &Path, cache: &Path) -> SecretsManager {
    let yaml = format!(
        "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n{}",
        cache.display().to_string(),
        wasm_backend("mounted", component, &serving_dir(mount)),
    );
    let doc = ConfigDocument::from_yaml_str(&yaml, "/").expect("config");
    SecretsManager::from_config(&doc.secrets).expect("loads")
}

fn entries(cache: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(cache)
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "cwasm"));
    found
}

fn mount_with_secret() -> tempfile::TempDir {
    let mount = tempfile::tempdir().expect("tempdir");
    fs::write(mount.path().join("token"), "t0ken").expect("write");
    mount
}

fn assert_serves(secrets: &SecretsManager) {
    let got = block_on(secrets.get_raw("mounted:token")).expect("served");
    assert_eq!(got.expose(), "t0ken");
}

#[test]
fn a_damaged_or_foreign_entry_is_recompiled_and_replaced() {
    let Some(component) = guest("dir") else {
        return;
    };
    let cache = tempfile::tempdir().expect("tempdir");
    let mount = mount_with_secret();
    assert_serves(&dir_manager(&component, mount.path(), cache.path()));
    let found = entries(cache.path());
    let [entry] = &found[..] else {
        panic!("one entry after the first load: {found:?}");
    };
    let sound = fs::read(entry).expect("entry");

    let mut flipped = sound.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x55;
    let damages: [(&str, Vec<u8>); 4] = [
        ("a flipped byte", flipped),
        ("a truncated entry", sound[..sound.len() / 3].to_vec()),
        ("an empty file", Vec::new()),
        (
            "a foreign artifact with a valid checksum",
            foreign_entry(&sound),
        ),
    ];
    for (what, bytes) in damages {
        fs::write(entry, &bytes).expect("damage");
        assert_serves(&dir_manager(&component, mount.path(), cache.path()));
        let repaired = fs::read(entry).expect("entry");
        assert_ne!(repaired, bytes, "{what} was replaced");
        assert_eq!(
            repaired.len(),
            sound.len(),
            "{what} was replaced by a full entry"
        );
    }
    assert_eq!(entries(cache.path()).len(), 1);
}

/// An entry in our format whose artifact is not one this engine made.
fn foreign_entry(sound: &[u8]) -> Vec<u8> {
    let trailer = 8 + 32;
    let (artifact, magic) = sound.split_at(sound.len() - trailer);
    let mut artifact = artifact.to_vec();
    // wasmtime's own header check must refuse it.
    for byte in artifact.iter_mut().take(64) {
        *byte = 0xAB;
    }
    let hash = blake3::hash(&artifact);
    artifact.extend_from_slice(&magic[..8]);
    artifact.extend_from_slice(hash.as_bytes());
    artifact
}

#[test]
fn the_cache_moves_with_the_variable_and_turns_off() {
    let Some(component) = guest("dir") else {
        return;
    };
    let mount = mount_with_secret();
    let home = tempfile::tempdir().expect("tempdir");
    let moved = tempfile::tempdir().expect("tempdir");
    let base = format!(
        "secrets:\n  enabled: true\n  backends:\n{}",
        wasm_backend("mounted", &component, &serving_dir(mount.path())),
    );
    let home_str = home.path().display().to_string();
    let moved_str = moved.path().display().to_string();

    // Default: the user's cache directory.
    let (_d1, config) = temp_config(&base);
    let env = [("HOME", home_str.as_str()), ("XDG_CACHE_HOME", "")];
    run_with(&config, &["get", "mounted:token"], &env).expect_code(0);
    assert_eq!(
        entries(&home.path().join(".cache/pp-secrets/wasm")).len(),
        1
    );

    // PP_SECRETS_WASM_CACHE moves it.
    let env = [
        ("HOME", home_str.as_str()),
        ("PP_SECRETS_WASM_CACHE", moved_str.as_str()),
    ];
    run_with(&config, &["get", "mounted:token"], &env).expect_code(0);
    assert_eq!(entries(moved.path()).len(), 1);

    // `wasm_cache: false` turns it off.
    fs::remove_dir_all(moved.path()).expect("clear");
    let (_d2, off) =
        temp_config(&base.replace("enabled: true\n", "enabled: true\n  wasm_cache: false\n"));
    let run = run_with(&off, &["get", "mounted:token"], &env);
    run.expect_code(0);
    assert_eq!(run.stdout, "t0ken\n");
    assert!(!moved.path().exists(), "nothing written with the cache off");
}

#[test]
fn the_readmes_cache_setting_expands_the_home_directory() {
    let Some(component) = guest("dir") else {
        return;
    };
    let mount = mount_with_secret();
    let home = tempfile::tempdir().expect("tempdir");
    let (dir, config) = temp_config(&format!(
        "secrets:\n  enabled: true\n  wasm_cache: ~/.cache/pp-secrets/wasm\n  backends:\n{}",
        wasm_backend("mounted", &component, &serving_dir(mount.path())),
    ));
    let home_str = home.path().display().to_string();
    run_with(&config, &["get", "mounted:token"], &[("HOME", &home_str)]).expect_code(0);
    let cache = home.path().join(".cache/pp-secrets/wasm");
    assert_eq!(entries(&cache).len(), 1);
    let mode = fs::metadata(&cache).expect("cache").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the cache directory is private");
    assert!(!dir.path().join("~").exists(), "no directory named ~");
}

#[test]
fn a_cache_directory_others_can_write_is_not_used() {
    let Some(component) = guest("dir") else {
        return;
    };
    let mount = mount_with_secret();
    let cache = tempfile::tempdir().expect("tempdir");
    fs::set_permissions(cache.path(), fs::Permissions::from_mode(0o777)).expect("chmod");
    let (_dir, config) = temp_config(&format!(
        "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n{}",
        cache.path().display().to_string(),
        wasm_backend("mounted", &component, &serving_dir(mount.path())),
    ));
    let run = run_with(&config, &["get", "mounted:token"], &[]);
    run.expect_code(0);
    assert_eq!(run.stdout, "t0ken\n");
    assert!(
        run.stderr
            .contains("compile cache refused, compiling in memory: the directory is mode 777"),
        "{}",
        run.stderr
    );
    assert!(
        fs::read_dir(cache.path()).expect("dir").next().is_none(),
        "nothing written"
    );
}

#[test]
fn an_entry_owned_by_another_user_is_neither_run_nor_replaced() {
    let Some(component) = guest("dir") else {
        return;
    };
    let cache = tempfile::tempdir().expect("tempdir");
    let mount = mount_with_secret();
    assert_serves(&dir_manager(&component, mount.path(), cache.path()));
    let [entry] = &entries(cache.path())[..] else {
        panic!("one entry");
    };
    let chowned = std::process::Command::new("chown")
        .args(["65534"])
        .arg(entry)
        .status()
        .is_ok_and(|s| s.success());
    if !chowned {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "chown needs root, which CI has"
        );
        eprintln!("\n*** SKIPPING: chown needs root ***\n");
        return;
    }
    let before = fs::read(entry).expect("entry");
    assert_serves(&dir_manager(&component, mount.path(), cache.path()));
    assert_eq!(
        fs::metadata(entry).expect("entry").uid(),
        65534,
        "not replaced"
    );
    assert_eq!(fs::read(entry).expect("entry"), before);
}
