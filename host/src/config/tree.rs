//! Walking every string of a YAML tree, with its path.
//!
//! Both `${VAR}` expansion and `${secret://...}` resolution rewrite strings
//! anywhere in a document and report problems by YAML path
//! (`services.my_service.api_key`, `load[2]`). This is the one walker.

use serde_yaml::Value;

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
