//! Strict reading of one YAML mapping of settings.
//!
//! Serde's messages for a wrong type quote the offending value, which may be
//! a secret pulled in by `${VAR}`; this reader names the field and the kind
//! of value found instead, and rejects unknown fields by name.

use std::path::Path;

use serde_yaml::{Mapping, Value};

use crate::config::tree::scalar_spelling;
use crate::error::{Error, Result};

/// A mapping of settings at `path` in `file`, with its allowed field names.
pub struct Fields<'a> {
    map: Option<&'a Mapping>,
    path: String,
    file: Option<&'a Path>,
}

impl<'a> Fields<'a> {
    /// Reads `value` (which must be a mapping or null) at `path`, rejecting
    /// any field not in `allowed`. `context` says what the mapping is, for
    /// the message (such as "a `file` backend").
    pub fn new(
        value: &'a Value,
        path: &str,
        file: Option<&'a Path>,
        allowed: &[&str],
        context: &str,
    ) -> Result<Self> {
        let map = match value {
            Value::Mapping(map) => Some(map),
            Value::Null => None,
            other => {
                return Err(Error::config(
                    file,
                    path,
                    format!("expected a mapping, found {}", kind_of(other)),
                ));
            }
        };
        if let Some(map) = map {
            for key in map.keys() {
                let name = key.as_str().unwrap_or("");
                if !allowed.contains(&name) {
                    return Err(Error::config(
                        file,
                        path,
                        format!(
                            "unknown field `{}` for {context} (expected one of: {})",
                            scalar_spelling(key).unwrap_or_else(|| "?".into()),
                            allowed.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(Self {
            map,
            path: path.to_owned(),
            file,
        })
    }

    /// The raw value of `name`, when present and not null.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.map?.get(name).filter(|v| !v.is_null())
    }

    /// The YAML path of field `name`.
    pub fn path_of(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// An error about field `name`.
    pub fn error(&self, name: &str, message: impl Into<String>) -> Error {
        Error::config(self.file, self.path_of(name), message)
    }

    /// A boolean; the strings `true` and `false` are accepted too, so that
    /// `${VAR:-true}` works.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool> {
        match self.get(name) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s == "true" => Ok(true),
            Some(Value::String(s)) if s == "false" => Ok(false),
            Some(other) => Err(self.error(
                name,
                format!("expected true or false, found {}", kind_of(other)),
            )),
        }
    }

    /// A scalar read as a string (`2024` reads as `"2024"`).
    pub fn string(&self, name: &str) -> Result<Option<String>> {
        match self.get(name) {
            None => Ok(None),
            Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => {
                Ok(scalar_spelling(v))
            }
            Some(other) => {
                Err(self.error(name, format!("expected a string, found {}", kind_of(other))))
            }
        }
    }

    /// A path setting (see [`resolve`](super::parse::resolve)): `None` when
    /// absent or empty.
    pub fn path(
        &self,
        name: &str,
        base_dir: &std::path::Path,
    ) -> Result<Option<std::path::PathBuf>> {
        match self.string(name)? {
            Some(path) if !path.is_empty() => super::parse::resolve(base_dir, &path)
                .map(Some)
                .map_err(|problem| self.error(name, problem)),
            _ => Ok(None),
        }
    }

    /// A path setting that must be present and non-empty.
    pub fn required_path(
        &self,
        name: &str,
        base_dir: &std::path::Path,
        context: &str,
    ) -> Result<std::path::PathBuf> {
        self.path(name, base_dir)?.ok_or_else(|| {
            Error::config(
                self.file,
                &self.path,
                format!("missing required field `{name}` for {context}"),
            )
        })
    }

    /// A whole number of at least 1 (numbers written as strings are
    /// accepted, for `${VAR}`).
    #[cfg_attr(not(any(feature = "aws", feature = "wasm")), allow(dead_code))]
    pub fn positive(&self, name: &str, default: u64) -> Result<u64> {
        let number = match self.get(name) {
            None => return Ok(default),
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            Some(_) => None,
        };
        match number {
            Some(n) if n >= 1 => Ok(n),
            _ => Err(self.error(name, "expected a whole number of at least 1")),
        }
    }

    /// The nested mapping `name` (absent reads as empty), with its own
    /// allowed fields.
    #[cfg_attr(not(feature = "wasm"), allow(dead_code))]
    pub fn nested(&self, name: &str, allowed: &[&str], context: &str) -> Result<Fields<'a>> {
        static NULL: Value = Value::Null;
        Fields::new(
            self.get(name).unwrap_or(&NULL),
            &self.path_of(name),
            self.file,
            allowed,
            context,
        )
    }

    /// A mapping of string keys to scalar values, each read as a string
    /// (for settings handed on to someone else, such as a provider's
    /// `config`).
    #[cfg_attr(not(feature = "wasm"), allow(dead_code))]
    pub fn string_map(&self, name: &str) -> Result<Vec<(String, String)>> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Mapping(map)) => map
                .iter()
                .map(|(key, value)| {
                    let Some(key) = key.as_str() else {
                        return Err(self.error(name, "keys must be strings"));
                    };
                    match value {
                        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                            Ok((key.to_owned(), scalar_spelling(value).unwrap_or_default()))
                        }
                        other => Err(self.error(
                            &format!("{name}.{key}"),
                            format!("expected a string, found {}", kind_of(other)),
                        )),
                    }
                })
                .collect(),
            Some(other) => Err(self.error(
                name,
                format!("expected a mapping, found {}", kind_of(other)),
            )),
        }
    }

    /// A list of strings.
    pub fn string_list(&self, name: &str) -> Result<Vec<String>> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Sequence(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(Error::config(
                        self.file,
                        format!("{}[{i}]", self.path_of(name)),
                        format!("expected a string, found {}", kind_of(other)),
                    )),
                })
                .collect(),
            Some(other) => {
                Err(self.error(name, format!("expected a list, found {}", kind_of(other))))
            }
        }
    }
}

/// What kind of YAML value this is, for messages that must not quote it.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}
