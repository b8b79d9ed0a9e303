//! Deserialising a config section into a service's own settings type, with
//! errors that never quote a value.
//!
//! serde's own messages quote what they were given (`invalid type: string
//! "hunter2", expected u16`), and a section may hold resolved secrets. This
//! deserialiser walks the tree itself and reports, for the field that did
//! not fit, its YAML path, what was expected and the *type* of what was
//! found. A message a settings type writes itself (`serde::de::Error::custom`,
//! used by `try_from`, `FromStr`-based helpers and hand-written impls) may
//! quote the value too, so it is withheld: the error says which field, not
//! why in the type's words.

use std::fmt;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Expected, IntoDeserializer, Unexpected, Visitor,
};
use serde_yaml::Value;

use super::tree::scalar_spelling;

/// `T` read from `value`; on failure, the YAML path inside `value` of the
/// field that did not fit (empty for `value` itself) and the problem.
pub(crate) fn settings_of<T: DeserializeOwned>(value: &Value) -> Result<T, SettingsError> {
    T::deserialize(Node(value))
}

/// Why a section does not fit a settings type, without any value.
#[derive(Debug)]
pub(crate) struct SettingsError {
    /// Path segments, innermost first (they are added as the error leaves
    /// each level).
    segments: Vec<Segment>,
    problem: String,
}

#[derive(Debug)]
enum Segment {
    Key(String),
    Index(usize),
}

impl SettingsError {
    fn new(problem: String) -> Self {
        Self {
            segments: Vec::new(),
            problem,
        }
    }

    fn within(mut self, segment: Segment) -> Self {
        self.segments.push(segment);
        self
    }

    /// The YAML path of the field, relative to the section (`db.port`,
    /// `hosts[2]`; empty for the section itself).
    pub(crate) fn path(&self) -> String {
        let mut path = String::new();
        for segment in self.segments.iter().rev() {
            match segment {
                Segment::Key(key) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                }
                Segment::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        path
    }

    /// What is wrong, without the value.
    pub(crate) fn problem(&self) -> &str {
        &self.problem
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problem)
    }
}

impl std::error::Error for SettingsError {}

/// The type of what was found, never its value.
fn found(unexpected: &Unexpected<'_>) -> &'static str {
    match unexpected {
        Unexpected::Bool(_) => "a boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) | Unexpected::Float(_) => "a number",
        Unexpected::Char(_) | Unexpected::Str(_) => "a string",
        Unexpected::Bytes(_) => "bytes",
        Unexpected::Unit | Unexpected::Option => "null",
        Unexpected::Seq => "a list",
        Unexpected::Map => "a mapping",
        Unexpected::NewtypeStruct
        | Unexpected::Enum
        | Unexpected::UnitVariant
        | Unexpected::NewtypeVariant
        | Unexpected::TupleVariant
        | Unexpected::StructVariant
        | Unexpected::Other(_) => "something else",
    }
}

impl de::Error for SettingsError {
    fn custom<T: fmt::Display>(_message: T) -> Self {
        Self::new(
            "is not valid for this setting (the settings type's own message is not shown: \
             it may quote the value)"
                .to_owned(),
        )
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::new(format!("expected {expected}, found {}", found(&unexpected)))
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::new(format!(
            "expected {expected}; the {} given is not one",
            found(&unexpected).trim_start_matches("a ")
        ))
    }

    fn invalid_length(len: usize, expected: &dyn Expected) -> Self {
        Self::new(format!("has {len} items, expected {expected}"))
    }

    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> Self {
        Self::new(format!("is not one of {}", one_of(expected)))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        // A field name is a mapping key, which no expansion or token touches.
        Self::new(format!(
            "has an unknown field `{field}` (expected {})",
            one_of(expected)
        ))
    }

    fn missing_field(field: &'static str) -> Self {
        Self::new(format!("is missing the field `{field}`"))
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::new(format!("has the field `{field}` twice"))
    }
}

/// `` `a`, `b` or `c` ``, or "nothing" for an empty list.
fn one_of(names: &[&str]) -> String {
    match names {
        [] => "nothing".to_owned(),
        [only] => format!("`{only}`"),
        [rest @ .., last] => format!(
            "{} or `{last}`",
            rest.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// One node of the tree, as a serde deserialiser.
#[derive(Clone, Copy)]
struct Node<'a>(&'a Value);

impl Node<'_> {
    fn unexpected(&self) -> Unexpected<'static> {
        match self.0 {
            Value::Null => Unexpected::Unit,
            Value::Bool(_) => Unexpected::Bool(false),
            Value::Number(_) => Unexpected::Unsigned(0),
            Value::String(_) => Unexpected::Str(""),
            Value::Sequence(_) => Unexpected::Seq,
            Value::Mapping(_) => Unexpected::Map,
            Value::Tagged(_) => Unexpected::Enum,
        }
    }
}

impl<'de> de::Deserializer<'de> for Node<'_> {
    type Error = SettingsError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SettingsError> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_str(s),
            Value::Sequence(items) => {
                let mut access = Items {
                    items: items.iter().enumerate(),
                };
                let value = visitor.visit_seq(&mut access)?;
                if access.items.next().is_some() {
                    return Err(SettingsError::new(format!(
                        "has {} items, more than the settings type takes",
                        items.len()
                    )));
                }
                Ok(value)
            }
            Value::Mapping(map) => visitor.visit_map(Entries {
                entries: map.iter(),
                pending: None,
            }),
            Value::Tagged(tagged) => Node(&tagged.value).deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, SettingsError> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, SettingsError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SettingsError> {
        match self.0 {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            Value::Mapping(map) if map.len() == 1 => match map.iter().next() {
                Some((key, value)) => visitor.visit_enum(Variant {
                    name: VariantName::Key(key),
                    value,
                }),
                None => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
            },
            Value::Tagged(tagged) => visitor.visit_enum(Variant {
                name: VariantName::Tag(tagged.tag.to_string()),
                value: &tagged.value,
            }),
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, SettingsError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier
    }
}

/// A list's items, each error tagged with its index.
struct Items<'a, I: Iterator<Item = (usize, &'a Value)>> {
    items: I,
}

impl<'de, 'a, I: Iterator<Item = (usize, &'a Value)>> de::SeqAccess<'de> for Items<'a, I> {
    type Error = SettingsError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, SettingsError> {
        match self.items.next() {
            None => Ok(None),
            Some((i, item)) => seed
                .deserialize(Node(item))
                .map(Some)
                .map_err(|e| e.within(Segment::Index(i))),
        }
    }
}

/// A mapping's entries, each value's error tagged with its key.
struct Entries<'a> {
    entries: serde_yaml::mapping::Iter<'a>,
    /// The entry whose key was just read, waiting for its value to be.
    pending: Option<(&'a Value, &'a Value)>,
}

impl<'de, 'a> de::MapAccess<'de> for Entries<'a> {
    type Error = SettingsError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, SettingsError> {
        match self.entries.next() {
            None => Ok(None),
            Some((key, value)) => {
                self.pending = Some((key, value));
                seed.deserialize(Node(key)).map(Some)
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, SettingsError> {
        let Some((key, value)) = self.pending.take() else {
            return Err(SettingsError::new(
                "a value was asked for before its key".into(),
            ));
        };
        seed.deserialize(Node(value))
            .map_err(|e| e.within(key_segment(key)))
    }

    fn next_entry_seed<K: DeserializeSeed<'de>, V: DeserializeSeed<'de>>(
        &mut self,
        kseed: K,
        vseed: V,
    ) -> Result<Option<(K::Value, V::Value)>, SettingsError> {
        match self.entries.next() {
            None => Ok(None),
            Some((key, value)) => {
                let k = kseed.deserialize(Node(key))?;
                let v = vseed
                    .deserialize(Node(value))
                    .map_err(|e| e.within(key_segment(key)))?;
                Ok(Some((k, v)))
            }
        }
    }
}

fn key_segment(key: &Value) -> Segment {
    Segment::Key(scalar_spelling(key).unwrap_or_else(|| "?".to_owned()))
}

/// An enum's variant and its content, written as a one-entry mapping
/// (`{variant: content}`) or as a YAML tag (`!variant content`).
struct Variant<'a> {
    name: VariantName<'a>,
    value: &'a Value,
}

/// How a variant is named.
enum VariantName<'a> {
    /// The mapping's one key (errors in the content are located under it).
    Key(&'a Value),
    /// The tag, `!` included.
    Tag(String),
}

impl<'de, 'a> de::EnumAccess<'de> for Variant<'a> {
    type Error = SettingsError;
    type Variant = Content<'a>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Content<'a>), SettingsError> {
        let (variant, segment) = match &self.name {
            VariantName::Key(key) => (seed.deserialize(Node(key))?, Some(key_segment(key))),
            VariantName::Tag(tag) => {
                let name = tag.trim_start_matches('!');
                let name = de::value::StrDeserializer::<SettingsError>::new(name);
                (seed.deserialize(name)?, None)
            }
        };
        Ok((
            variant,
            Content {
                value: self.value,
                segment,
            },
        ))
    }
}

/// The content of an enum variant.
struct Content<'a> {
    value: &'a Value,
    segment: Option<Segment>,
}

impl Content<'_> {
    fn located(&self, error: SettingsError) -> SettingsError {
        match &self.segment {
            Some(Segment::Key(key)) => error.within(Segment::Key(key.clone())),
            Some(Segment::Index(i)) => error.within(Segment::Index(*i)),
            None => error,
        }
    }
}

impl<'de> de::VariantAccess<'de> for Content<'_> {
    type Error = SettingsError;

    fn unit_variant(self) -> Result<(), SettingsError> {
        match self.value {
            Value::Null => Ok(()),
            other => Err(self.located(de::Error::invalid_type(
                Node(other).unexpected(),
                &"a variant without content",
            ))),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, SettingsError> {
        seed.deserialize(Node(self.value))
            .map_err(|e| self.located(e))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, SettingsError> {
        de::Deserializer::deserialize_seq(Node(self.value), visitor).map_err(|e| self.located(e))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, SettingsError> {
        de::Deserializer::deserialize_map(Node(self.value), visitor).map_err(|e| self.located(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Settings {
        port: u16,
        name: Option<String>,
        mode: Mode,
        #[serde(default)]
        hosts: Vec<String>,
        #[serde(default)]
        pair: Option<(u8, u8)>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    #[serde(rename_all = "lowercase")]
    enum Mode {
        Fast,
        Safe { level: u8 },
    }

    fn problem(yaml: &str) -> (String, String) {
        let value: Value = serde_yaml::from_str(yaml).expect("yaml");
        let e = settings_of::<Settings>(&value).expect_err("does not fit");
        (e.path(), e.problem().to_owned())
    }

    #[test]
    fn reads_what_fits() {
        let value: Value =
            serde_yaml::from_str("port: 80\nname: ~\nmode: {safe: {level: 2}}\nhosts: [a]\n")
                .expect("yaml");
        let s: Settings = settings_of(&value).expect("fits");
        assert_eq!((s.port, s.hosts.len()), (80, 1));
        assert!(matches!(s.mode, Mode::Safe { level: 2 }));
    }

    #[test]
    fn errors_name_the_field_and_the_types_never_the_value() {
        let cases = [
            (
                "port: SECRETVALUE\nmode: fast\n",
                "port",
                "expected u16, found a string",
            ),
            (
                "port: 99999\nmode: fast\n",
                "port",
                "expected u16; the number given is not one",
            ),
            (
                "port: 1\nmode: SECRETVALUE\n",
                "mode",
                "is not one of `fast` or `safe`",
            ),
            (
                "port: 1\nmode: {safe: {level: SECRETVALUE}}\n",
                "mode.safe.level",
                "expected u8, found a string",
            ),
            (
                "port: 1\nmode: fast\nhosts: [a, [SECRETVALUE]]\n",
                "hosts[1]",
                "expected a string, found a list",
            ),
            ("mode: fast\n", "", "is missing the field `port`"),
            (
                "port: 1\nmode: fast\npair: [1, 2, 3]\n",
                "pair",
                "has 3 items, more than the settings type takes",
            ),
        ];
        for (yaml, path, message) in cases {
            let (got_path, got) = problem(yaml);
            assert!(!got.contains("SECRETVALUE") && !got.contains("99999"));
            assert_eq!((got_path.as_str(), got.as_str()), (path, message), "{yaml}");
        }
    }
}
