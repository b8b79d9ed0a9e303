//! Config trees: the type that holds one, and the walk over its strings.
//!
//! A tree that has been through `${VAR}` expansion or `${secret://...}`
//! resolution may hold secrets anywhere, so [`ConfigTree`] never shows a
//! value in `Debug` and wipes its strings when dropped.
//!
//! Both `${VAR}` expansion and `${secret://...}` resolution rewrite strings
//! anywhere in a document and report problems by YAML path
//! (`services.my_service.api_key`, `load[2]`); [`visit_strings_mut`] is the
//! one walker.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde_yaml::Value;
use zeroize::Zeroize;

/// A YAML tree that may hold secrets: a config after `${VAR}` expansion
/// and token resolution, or a service's section of one. It derefs to the
/// [`Value`]; its `Debug` shows only what kind of node the root is and how
/// big (`mapping of 3 entries`): no value, and no key either, since a token
/// that resolves to a JSON object brings the secret's own keys into the
/// tree. Its strings are overwritten with zeros when it is dropped.
#[derive(Clone, PartialEq, Default)]
pub struct ConfigTree(Value);

impl ConfigTree {
    /// Wraps `value`.
    pub fn new(value: Value) -> Self {
        Self(value)
    }

    /// The tree as a plain [`Value`], which is no longer redacted or wiped:
    /// the caller takes over both.
    pub fn into_value(mut self) -> Value {
        std::mem::take(&mut self.0)
    }
}

impl Deref for ConfigTree {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.0
    }
}

impl DerefMut for ConfigTree {
    fn deref_mut(&mut self) -> &mut Value {
        &mut self.0
    }
}

impl From<Value> for ConfigTree {
    fn from(value: Value) -> Self {
        Self(value)
    }
}

impl Drop for ConfigTree {
    fn drop(&mut self) {
        wipe(std::mem::take(&mut self.0));
    }
}

impl fmt::Debug for ConfigTree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shape = match &self.0 {
            Value::Null => "null".to_owned(),
            Value::Bool(_) => "a boolean".to_owned(),
            Value::Number(_) => "a number".to_owned(),
            Value::String(_) => "a string".to_owned(),
            Value::Sequence(items) => format!("list of {} items", items.len()),
            Value::Mapping(map) => format!("mapping of {} entries", map.len()),
            Value::Tagged(_) => "a tagged value".to_owned(),
        };
        write!(f, "ConfigTree({shape})")
    }
}

/// Overwrites every string of `value` (keys too) with zeros as it drops it.
pub(crate) fn wipe(value: Value) {
    match value {
        Value::String(mut s) => s.zeroize(),
        Value::Sequence(items) => items.into_iter().for_each(wipe),
        Value::Mapping(map) => map.into_iter().for_each(|(k, v)| {
            wipe(k);
            wipe(v);
        }),
        Value::Tagged(t) => wipe(t.value),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Calls `visit` with the path and the node of every string scalar in
/// `value` (mapping keys are left alone); `visit` may replace the node with
/// any value. Stops at the first error.
pub fn visit_strings_mut<E>(
    value: &mut Value,
    visit: &mut dyn FnMut(&str, &mut Value) -> Result<(), E>,
) -> Result<(), E> {
    let mut path = String::new();
    walk(value, &mut path, visit)
}

fn walk<E>(
    value: &mut Value,
    path: &mut String,
    visit: &mut dyn FnMut(&str, &mut Value) -> Result<(), E>,
) -> Result<(), E> {
    match value {
        Value::String(_) => visit(path, value),
        Value::Sequence(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, visit)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Mapping(map) => {
            for (key, item) in map.iter_mut() {
                let len = path.len();
                push_key(path, key);
                walk(item, path, visit)?;
                path.truncate(len);
            }
            Ok(())
        }
        Value::Tagged(tagged) => walk(&mut tagged.value, path, visit),
        Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
    }
}

/// Calls `visit` with the YAML path and the text of every string in
/// `value` (mapping keys excluded), in document order.
pub fn visit_strings(value: &Value, visit: &mut dyn FnMut(&str, &str)) {
    fn walk(value: &Value, path: &mut String, visit: &mut dyn FnMut(&str, &str)) {
        match value {
            Value::String(text) => visit(path, text),
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(item, path, visit);
                    path.truncate(len);
                }
            }
            Value::Mapping(map) => {
                for (key, item) in map {
                    let len = path.len();
                    push_key(path, key);
                    walk(item, path, visit);
                    path.truncate(len);
                }
            }
            Value::Tagged(tagged) => walk(&tagged.value, path, visit),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    walk(value, &mut String::new(), visit);
}

/// Appends `.key` (or `key` at the root) to a YAML path.
pub fn push_key(path: &mut String, key: &Value) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(&scalar_spelling(key).unwrap_or_else(|| "?".to_owned()));
}

/// The YAML spelling of a scalar (`42`, `true`, `1.5`, a string as is),
/// `""` for null, and `None` for sequences and mappings.
pub fn scalar_spelling(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Tagged(t) => scalar_spelling(&t.value),
        Value::Sequence(_) | Value::Mapping(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_the_kind_and_size_and_no_key_or_value() {
        let yaml = "db: {password: hunter2, port: 5432, on: true}\nlist: [x, ~]\n";
        let tree = ConfigTree::new(serde_yaml::from_str(yaml).expect("yaml"));
        assert_eq!(format!("{tree:?}"), "ConfigTree(mapping of 2 entries)");
    }

    #[test]
    fn paths_name_mapping_keys_and_sequence_indexes() {
        let mut doc: Value =
            serde_yaml::from_str("a:\n  b: x\n  list: [y, {c: z}]\n7: w\n").expect("yaml");
        let mut seen = Vec::new();
        visit_strings_mut::<()>(&mut doc, &mut |path, s| {
            seen.push(format!("{path}={}", s.as_str().unwrap_or("?")));
            Ok(())
        })
        .expect("walk");
        assert_eq!(seen, ["a.b=x", "a.list[0]=y", "a.list[1].c=z", "7=w"]);
    }
}
