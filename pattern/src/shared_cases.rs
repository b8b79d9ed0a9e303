//! `agreement.json`: the cases every guest SDK's matcher is held to (the
//! Rust SDK uses this crate; the Python and JavaScript SDKs carry their own
//! matchers and run these cases in their tests).
//!
//! The file lists names, patterns with the names each one matches, and
//! patterns that must be refused. This test checks that the file says what
//! this matcher does; after a deliberate change to the cases (in
//! [`NAMES`] and [`PATTERNS`]) or to the dialect, `PP_BLESS=1 cargo test -p
//! pp-secrets-pattern shared_cases` rewrites it.

use serde_json::{Value, json};

use crate::Pattern;

/// The names every pattern is matched against.
const NAMES: &[&str] = &[
    "",
    "a",
    "b",
    "c",
    "x",
    "z",
    "A",
    "1",
    "ab",
    "abc",
    "a/b",
    "a/b/c",
    "a-b",
    "a!b",
    "a^b",
    "a*b",
    "b?c",
    "[x]",
    "x]",
    "]",
    "[",
    "-",
    "!",
    "^",
    "{a,b}",
    "a\\b",
    ".hidden",
    "db_password",
    "db_user",
    "DB_PASSWORD",
    "Db_upper",
    "app/db/password",
    "app/token",
    "café",
    "é",
    "aé",
    "日本",
];

/// The patterns: every shape of the dialect, and its edges.
const PATTERNS: &[&str] = &[
    "",
    "*",
    "**",
    "*?*",
    "a",
    "A",
    "a*",
    "*b",
    "a*b",
    "a*b*c",
    "a/*",
    "*/c",
    "a/*/c",
    "*/*",
    "app/*",
    "app/*/password",
    "*password",
    "db_*",
    "DB_*",
    "?",
    "??",
    "?b",
    "a?b",
    "caf?",
    "caf??",
    "?é",
    "日?",
    "[ab]",
    "[ab]*",
    "[a-c]",
    "[a-c]*",
    "[A-Z]*",
    "[0-9]",
    "[!a]",
    "[^a]",
    "[!abD]*",
    "[é]",
    "[]]",
    "[]x]",
    "x[]]",
    "[!]]",
    "[^]]",
    "[a-]",
    "[-a]",
    "[!-]",
    "a[*]b",
    "b[?]c",
    "[[]x]",
    "[",
    "a[",
    "[ab",
    "*[",
    "{a,b}",
    "a\\b",
    "a\\*",
    ".*",
    "*.*",
];

/// Patterns the matcher refuses (a range written backwards).
const REFUSED: &[&str] = &["[z-a]", "a[b-a]c", "*[9-0]"];

/// The cases as this matcher decides them.
fn cases() -> Value {
    let patterns: Vec<Value> = PATTERNS
        .iter()
        .map(|source| {
            let pattern =
                Pattern::new(source).unwrap_or_else(|e| panic!("{source:?} is accepted: {e}"));
            let matches: Vec<&str> = NAMES
                .iter()
                .copied()
                .filter(|name| pattern.matches(name))
                .collect();
            json!({ "pattern": source, "matches": matches })
        })
        .collect();
    for source in REFUSED {
        assert!(Pattern::new(source).is_err(), "{source:?} is refused");
    }
    json!({
        "about": "Glob agreement cases: every guest SDK's matcher must match each pattern \
                  against exactly the names listed with it (in names order, out of `names`) and \
                  refuse each of `refused`. Generated from the host's matcher by \
                  `PP_BLESS=1 cargo test -p pp-secrets-pattern shared_cases`.",
        "names": NAMES,
        "patterns": patterns,
        "refused": REFUSED,
    })
}

#[test]
fn agreement_json_says_what_the_matcher_does() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/agreement.json");
    let expected = cases();
    if std::env::var_os("PP_BLESS").is_some() {
        let mut text = serde_json::to_string_pretty(&expected).expect("serializes");
        text.push('\n');
        std::fs::write(path, text).expect("writes agreement.json");
        return;
    }
    let written = std::fs::read_to_string(path).expect("pattern/agreement.json");
    let written: Value = serde_json::from_str(&written).expect("agreement.json is JSON");
    assert!(
        written == expected,
        "pattern/agreement.json differs from the matcher: rerun with PP_BLESS=1 after a \
         deliberate change"
    );
}
