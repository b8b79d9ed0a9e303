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
/// [`Value`]; its `Debug` shows the shape (keys, list lengths, the type of
/// each scalar) and never a value; its strings are overwritten with zeros
/// when it is dropped.
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
        Shape(&self.0).fmt(f)
    }
}

/// The `Debug` of a tree without its values.
struct Shape<'a>(&'a Value);

impl fmt::Debug for Shape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Null => f.write_str("null"),
            Value::Bool(_) => f.write_str("<bool>"),
            Value::Number(_) => f.write_str("<number>"),
            Value::String(_) => f.write_str("<string>"),
            Value::Sequence(items) => f.debug_list().entries(items.iter().map(Shape)).finish(),
            // Keys are shown: neither `${VAR}` expansion nor token
            // resolution touches a mapping key.
            Value::Mapping(map) => f
                .debug_map()
                .entries(map.iter().map(|(k, v)| (KeyShape(k), Shape(v))))
                .finish(),
            Value::Tagged(tagged) => write!(f, "{} {:?}", tagged.tag, Shape(&tagged.value)),
        }
    }
}

/// A mapping key in a [`Shape`]: a string or number as written, anything
/// else as its type.
struct KeyShape<'a>(&'a Value);

impl fmt::Debug for KeyShape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::String(s) => f.write_str(s),
            Value::Number(n) => write!(f, "{n}"),
            other => Shape(other).fmt(f),
        }
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
    fn debug_shows_the_shape_and_no_value() {
        let tree = ConfigTree::new(
            serde_yaml::from_str(
                "db: {password: hunter2, port: 5432, on: true}
list: [x, ~]
",
            )
            .expect("yaml"),
        );
        assert_eq!(
            format!("{tree:?}"),
            "{db: {password: <string>, port: <number>, on: <bool>}, list: [<string>, null]}"
        );
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
