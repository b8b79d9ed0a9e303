//! `${secret://backend:key}` tokens in a YAML tree (the README's "`${secret://backend:key}` tokens").
//!
//! After the manager is built, every token in any string of the config is
//! replaced by `get(backend:key)`. A token that is the whole scalar and
//! resolves to an object becomes a YAML mapping; inside a longer string an
//! object is inserted as compact JSON. A token that cannot be resolved is an
//! error naming the token and its YAML path, never a value.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde_yaml::Value;

use crate::config::tree::visit_strings_mut;
use crate::config::{ConfigTree, read_yaml_file};
use crate::error::{Error, Result};
use crate::manager::SecretsManager;
use crate::value::SecretValue;

const OPEN: &str = "${secret://";

/// A token found in a string: its byte range and its key.
struct Token<'s> {
    start: usize,
    end: usize,
    key: &'s str,
}

/// The tokens in `text`, left to right. An opening without a closing `}`
/// is not a token.
fn find_tokens(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find(OPEN) {
        let start = from + offset;
        let key_start = start + OPEN.len();
        let Some(len) = text[key_start..].find('}') else {
            break;
        };
        tokens.push(Token {
            start,
            end: key_start + len + 1,
            key: &text[key_start..key_start + len],
        });
        from = key_start + len + 1;
    }
    tokens
}

/// The keys (`backend:name`) of every token in `tree`: what a rendering of
/// it depends on, and so what a watch on it listens for.
pub fn token_keys(tree: &Value) -> BTreeSet<String> {
    scan_tokens(tree)
        .tokens
        .into_iter()
        .map(|t| t.key)
        .collect()
}

/// A token in a tree: its key and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPlace {
    /// The YAML path of the string holding it, such as
    /// `services.billing.api_key`.
    pub yaml_path: String,
    /// Its key, `backend:name` (as written: it may be malformed).
    pub key: String,
}

impl TokenPlace {
    /// The token as written, `${secret://backend:name}`.
    pub fn token(&self) -> String {
        format!("{OPEN}{}}}", self.key)
    }
}

/// A string that looks like a mistyped token, and where it is. Neither
/// field holds the rest of the string (which may hold a value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspectToken {
    /// The YAML path of the string.
    pub yaml_path: String,
    /// What looks wrong, quoting only the opening as written.
    pub problem: String,
}

/// What [`scan_tokens`] finds in a tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenScan {
    /// Every token, each place it is used, in document order.
    pub tokens: Vec<TokenPlace>,
    /// Every string that looks like a mistyped token.
    pub suspects: Vec<SuspectToken>,
}

/// The tokens in `tree` with their places, and the strings that look like
/// mistyped tokens (`${secret:/...}`, `${secrets://...}`, an opening
/// without its closing `}`), for `pp-secrets check`.
pub fn scan_tokens(tree: &Value) -> TokenScan {
    let mut scan = TokenScan::default();
    crate::config::tree::visit_strings(tree, &mut |path, text| {
        for token in find_tokens(text) {
            scan.tokens.push(TokenPlace {
                yaml_path: path.to_owned(),
                key: token.key.to_owned(),
            });
        }
        for problem in suspects_in(text) {
            scan.suspects.push(SuspectToken {
                yaml_path: path.to_owned(),
                problem,
            });
        }
    });
    scan
}

/// As [`scan_tokens`], for the YAML file at `path` read as
/// [`render_file`] reads it.
pub fn scan_file_tokens(path: impl AsRef<Path>) -> Result<TokenScan> {
    let tree = read_yaml_file(path.as_ref())?;
    Ok(scan_tokens(&tree))
}

/// What looks like a mistyped token in `text`, one message each.
fn suspects_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find("${") {
        let start = from + offset;
        let rest = &text[start + 2..];
        from = start + 2;
        if !starts_with_ignoring_case(rest, "secret") {
            continue;
        }
        if rest.starts_with("secret://") {
            if !rest.contains('}') {
                found.push(format!(
                    "`{OPEN}` has no closing `}}` (expected {OPEN}backend:name}})"
                ));
            }
            continue;
        }
        // The opening as written: the word, then its `:` and `/` (a few
        // at most), never the key after them.
        let word = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let marks = rest[word..]
            .find(|c: char| !matches!(c, ':' | '/'))
            .unwrap_or(rest.len() - word);
        let opening = if word > 10 {
            &rest[..10]
        } else {
            &rest[..word + marks.min(4)]
        };
        found.push(format!(
            "`${{{opening}` looks like a mistyped `{OPEN}` (expected {OPEN}backend:name}})"
        ));
    }
    for (start, _) in text.match_indices("secret://") {
        let before = text[..start].chars().next_back();
        if matches!(before, Some('$' | '{')) && !text[..start].ends_with("${") {
            found.push(format!(
                "`{}secret://` looks like a mistyped `{OPEN}` (expected {OPEN}backend:name}})",
                before.map(String::from).unwrap_or_default()
            ));
        }
    }
    found
}

/// Whether `text` starts with `prefix`, ASCII case ignored.
fn starts_with_ignoring_case(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

/// Each token's start, end and key, for the fuzz target.
#[cfg(feature = "fuzzing")]
pub(crate) fn token_spans(text: &str) -> Vec<(usize, usize, &str)> {
    find_tokens(text)
        .into_iter()
        .map(|token| (token.start, token.end, token.key))
        .collect()
}

/// Reads the YAML file at `path` as the config is read (`${VAR}`
/// expanded in every string) and replaces every token in it with its
/// secret: a service's own config file, rendered as its section of the
/// main config would be.
pub async fn render_file(path: impl AsRef<Path>, secrets: &SecretsManager) -> Result<ConfigTree> {
    let mut tree = read_yaml_file(path.as_ref())?;
    resolve_tokens(&mut tree, secrets).await?;
    Ok(tree)
}

/// The keys of the tokens in the YAML file at `path`, read as
/// [`render_file`] reads it (`${VAR}` expanded first): what a rendering of
/// it depends on.
pub fn file_token_keys(path: impl AsRef<Path>) -> Result<BTreeSet<String>> {
    let tree = read_yaml_file(path.as_ref())?;
    Ok(token_keys(&tree))
}

/// Replaces every token in `tree` with its secret, as the module docs say.
/// On error the tree is left unchanged.
pub async fn resolve_tokens(tree: &mut Value, secrets: &SecretsManager) -> Result<()> {
    // First pass: each distinct key once, with the first place it is used.
    let mut wanted: Vec<(String, String)> = Vec::new();
    visit_strings_mut::<()>(tree, &mut |path, node| {
        for token in node.as_str().map(find_tokens).unwrap_or_default() {
            if !wanted.iter().any(|(k, _)| k == token.key) {
                wanted.push((token.key.to_owned(), path.to_owned()));
            }
        }
        Ok(())
    })
    .ok();
    if wanted.is_empty() {
        return Ok(());
    }

    let mut values: HashMap<String, SecretValue> = HashMap::with_capacity(wanted.len());
    for (key, path) in wanted {
        let token_error = |source| Error::Token {
            token: format!("{OPEN}{key}}}"),
            yaml_path: path.clone(),
            source: Box::new(source),
        };
        let value = secrets.get(&key).await.map_err(token_error)?;
        // A binary secret is text here when it is UTF-8, else an error:
        // never mangled.
        let value = match value {
            SecretValue::Bytes(_) => SecretValue::Text(value.text_of(&key).map_err(token_error)?),
            value => value,
        };
        values.insert(key, value);
    }

    // Second pass: substitute. Every key is resolved, so this cannot fail.
    visit_strings_mut::<()>(tree, &mut |_, node| {
        if let Some(replacement) = node.as_str().and_then(|s| substitute(s, &values)) {
            *node = replacement;
        }
        Ok(())
    })
    .ok();
    Ok(())
}

/// The new node for string `text`, or `None` when it has no token.
fn substitute(text: &str, values: &HashMap<String, SecretValue>) -> Option<Value> {
    let tokens = find_tokens(text);
    let first = tokens.first()?;
    if tokens.len() == 1 && first.start == 0 && first.end == text.len() {
        return values.get(first.key).map(|v| match v {
            SecretValue::Object(o) => serde_yaml::to_value(o.expose()).unwrap_or(Value::Null),
            // Text (bytes were made text, or refused, when fetched).
            v => v
                .to_text()
                .map_or(Value::Null, |t| Value::String(t.expose().to_owned())),
        });
    }
    // Sized up front: a buffer that grew would leave a copy of part of a
    // secret behind, unwiped.
    let capacity = text.len()
        + tokens
            .iter()
            .filter_map(|t| values.get(t.key))
            .filter_map(SecretValue::to_text)
            .map(|t| t.len())
            .sum::<usize>();
    let mut out = String::with_capacity(capacity);
    let mut at = 0;
    for token in &tokens {
        out.push_str(&text[at..token.start]);
        if let Some(text) = values.get(token.key).and_then(SecretValue::to_text) {
            out.push_str(text.expose());
        }
        at = token.end;
    }
    out.push_str(&text[at..]);
    Some(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_with_their_keys() {
        let keys: Vec<_> = find_tokens("a ${secret://env:A} b ${secret://f:x:y}${secret://broken")
            .iter()
            .map(|t| t.key)
            .collect();
        assert_eq!(keys, ["env:A", "f:x:y"]);
    }

    #[test]
    fn plain_variables_are_not_tokens() {
        assert!(find_tokens("${HOME} ${secret:/x}").is_empty());
    }

    #[test]
    fn mistyped_tokens_are_suspects_and_real_ones_are_not() {
        let suspects = |text: &str| suspects_in(text);
        assert!(suspects("${secret://local:db} and ${HOME}").is_empty());
        assert!(suspects("no token at all: secret://x").is_empty());
        for text in [
            "${secret:/local:db}",
            "${secrets://local:db}",
            "${Secret://local:db}",
            "${secret//local:db}",
            "x ${secret://local:db",
            "$secret://local:db",
            "{secret://local:db}",
        ] {
            let found = suspects(text);
            assert_eq!(found.len(), 1, "{text}: {found:?}");
            assert!(!found[0].contains("loc"), "{}", found[0]);
        }
    }

    #[test]
    fn a_scan_gives_each_token_its_place() {
        let tree: Value = serde_yaml::from_str(
            "a:\n  b: ${secret://env:A}\n  c: [x, \"${secret://f:y} ${secrets://f:z}\"]\n",
        )
        .expect("YAML");
        let scan = scan_tokens(&tree);
        let places: Vec<_> = scan
            .tokens
            .iter()
            .map(|t| (t.yaml_path.as_str(), t.key.as_str()))
            .collect();
        assert_eq!(places, [("a.b", "env:A"), ("a.c[1]", "f:y")]);
        assert_eq!(scan.suspects.len(), 1);
        assert_eq!(scan.suspects[0].yaml_path, "a.c[1]");
    }
}
