//! Entry points for the fuzz targets in `fuzz/` (the `fuzzing` cargo
//! feature; not an API). Each runs one of the library's parsers or checks
//! on arbitrary input and asserts what must hold for every input; a
//! panic, in the library or here, is a finding.

use std::path::Path;

use crate::config::{ConfigDocument, expand_vars};

/// A whole YAML document as a config: parsed or refused, never a panic;
/// an error names a place and never echoes a `${VAR}` value.
pub fn config_document(yaml: &str) {
    // `${VAR}` reads the process environment, which the fuzzer leaves
    // alone: unset variables are errors like any other.
    match ConfigDocument::from_yaml_str(yaml, Path::new("/fuzz")) {
        Ok(document) => {
            for backend in &document.secrets.backends {
                assert!(!backend.name.is_empty() && !backend.name.contains(':'));
            }
            let _ = format!("{document:?}");
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!message.is_empty());
            let _ = error.kind();
        }
    }
}

/// `.env` text: every entry has a trimmed, non-empty key without `=`,
/// and skipped lines are numbered within the text.
pub fn dotenv(text: &str) {
    let parsed = crate::providers::dotenv::syntax::parse_dotenv(text);
    let lines = text.split('\n').count();
    for skipped in &parsed.skipped {
        assert!(skipped.line >= 1 && skipped.line <= lines, "{skipped:?}");
    }
    for key in parsed.values.keys() {
        assert!(!key.is_empty(), "empty key");
        assert_eq!(key.trim(), key.as_str(), "untrimmed key");
        assert!(!key.contains('='), "key with =");
    }
}

/// `${VAR}` expansion and `${secret://...}` tokens in one string.
///
/// Expansion with every variable unset and no default fails on exactly
/// the first variable; with every variable set to `[x]`, the result has
/// no `${NAME}` left. Tokens are found left to right, without overlap,
/// each a `${secret://...}` ending at its first `}`.
pub fn interpolation(text: &str) {
    let set = expand_vars(text, &|_| Some("[x]".to_owned())).expect("every variable is set");
    if !text.contains("${") {
        assert_eq!(set, text);
    }
    let _ = expand_vars(text, &|_| None);

    let mut last_end = 0;
    for (start, end, key) in crate::tokens::token_spans(text) {
        assert!(start >= last_end && start < end && end <= text.len());
        assert!(text[start..].starts_with("${secret://"));
        assert!(text[..end].ends_with('}'));
        assert!(!key.contains('}'));
        last_end = end;
    }
}

/// The host's checks of a provider's `list` and bulk replies, on names
/// and values from the fuzzer: what they accept is well-formed, inside
/// the pattern, within the caps and (in bulk) named once; the text shown
/// to operators has no control characters and is capped.
#[cfg(feature = "wasm")]
pub fn guest_reply(pattern: &str, names: Vec<String>, values: Vec<String>) {
    use crate::secrets_provider::Pattern;
    use crate::wasm::fuzzing::{check_matches, check_names, escaped};

    for text in names.iter().chain(&values) {
        let escaped = escaped(text);
        assert!(!escaped.chars().any(char::is_control), "{escaped:?}");
        assert!(escaped.chars().count() <= 300 + 40, "{escaped:?}");
    }
    let Ok(pattern) = Pattern::new(pattern) else {
        return;
    };
    if let Some(accepted) = check_names(names.clone(), &pattern) {
        for name in &accepted {
            assert!(pattern.matches(name) && !name.is_empty());
        }
    }
    let matched: Vec<(String, String)> = names.into_iter().zip(values).collect();
    if let Some(accepted) = check_matches(matched, &pattern) {
        let mut seen = std::collections::HashSet::new();
        for name in accepted {
            assert!(pattern.matches(&name), "{name:?}");
            assert!(seen.insert(name), "a name twice");
        }
    }
}
