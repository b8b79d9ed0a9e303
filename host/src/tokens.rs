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
    fn walk(value: &Value, keys: &mut BTreeSet<String>) {
        match value {
            Value::String(text) => {
                keys.extend(find_tokens(text).into_iter().map(|t| t.key.to_owned()));
            }
            Value::Sequence(items) => items.iter().for_each(|item| walk(item, keys)),
            Value::Mapping(map) => map.values().for_each(|item| walk(item, keys)),
            Value::Tagged(tagged) => walk(&tagged.value, keys),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    let mut keys = BTreeSet::new();
    walk(tree, &mut keys);
    keys
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
        let value = secrets.get(&key).await.map_err(|source| Error::Token {
            token: format!("{OPEN}{key}}}"),
            yaml_path: path,
            source: Box::new(source),
        })?;
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
            SecretValue::Text(t) => Value::String(t.expose().to_owned()),
            SecretValue::Object(o) => serde_yaml::to_value(o.expose()).unwrap_or(Value::Null),
        });
    }
    // Sized up front: a buffer that grew would leave a copy of part of a
    // secret behind, unwiped.
    let capacity = text.len()
        + tokens
            .iter()
            .filter_map(|t| values.get(t.key))
            .map(|v| v.to_text().len())
            .sum::<usize>();
    let mut out = String::with_capacity(capacity);
    let mut at = 0;
    for token in &tokens {
        out.push_str(&text[at..token.start]);
        if let Some(value) = values.get(token.key) {
            out.push_str(value.to_text().expose());
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
}
