//! Secret values: text or a JSON object, redacted in `Debug`, wiped on drop.
//!
//! [`SecretText`] is what backends return (the string as stored);
//! [`SecretValue`] is what callers get, after the one rule of the README's "Keys, prefixes, patterns, values": a text
//! that parses as a JSON *object* becomes an object, anything else stays
//! text. [`SecretValue::from_text`] is the only place that rule lives.

use std::fmt;

use std::sync::Arc;

use serde_json::{Map, Value};
use zeroize::Zeroize;

/// A secret string. `Debug` prints `<redacted>`; the memory is zeroed when
/// the last handle to it is dropped.
///
/// Cloning is cheap (a reference count), so a value read from the cache is
/// shared rather than copied: there is one copy of each secret in memory per
/// reader thread, not one per read.
#[derive(Clone, Default)]
pub struct SecretText(Arc<WipedString>);

/// A string zeroed on drop.
///
/// Reader threads each hold their own copies of cached values and bump
/// their reference counts on every read; two counts in one cache line would
/// make threads slow each other down (false sharing). The spacing makes
/// every `Arc` allocation of this type at least 64 bytes, so no two counts
/// can share a line, without the cost of over-aligned allocation.
#[derive(Default)]
struct WipedString {
    text: String,
    _spacing: Spacing,
}

/// Padding that makes an allocation span a cache line (see [`WipedString`]).
#[derive(Default)]
struct Spacing {
    _bytes: [u8; 32],
}

impl Drop for WipedString {
    fn drop(&mut self) {
        self.text.zeroize();
    }
}

impl SecretText {
    /// Wraps `text`, taking ownership so no unprotected copy is left behind.
    pub fn new(text: String) -> Self {
        Self(Arc::new(WipedString {
            text,
            _spacing: Spacing::default(),
        }))
    }

    /// `value` as compact JSON, written into a buffer of exactly its size
    /// (measured by a first pass), so that no growing buffer leaves a
    /// partial copy of a secret behind, unwiped.
    pub fn json_of<T: serde::Serialize + ?Sized>(value: &T) -> Self {
        /// Counts what would be written.
        struct Measure(usize);
        impl std::io::Write for Measure {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0 += bytes.len();
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut measure = Measure(0);
        // Serialising strings and maps of JSON values cannot fail; a
        // failure leaves an empty text.
        if serde_json::to_writer(&mut measure, value).is_err() {
            return Self::new(String::new());
        }
        let mut bytes = Vec::with_capacity(measure.0);
        if serde_json::to_writer(&mut bytes, value).is_err() {
            bytes.zeroize();
            return Self::new(String::new());
        }
        // serde_json writes UTF-8 only.
        Self::new(String::from_utf8(bytes).unwrap_or_default())
    }

    /// The secret itself. Every read of a value goes through this method, so
    /// a search for `expose` finds every place a value leaves the type.
    pub fn expose(&self) -> &str {
        &self.0.text
    }

    /// Length in bytes; safe to log.
    pub fn len(&self) -> usize {
        self.0.text.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.text.is_empty()
    }

    /// A copy that shares no memory (and no reference count) with `self`.
    fn detached(&self) -> Self {
        Self::new(self.0.text.clone())
    }
}

impl PartialEq for SecretText {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for SecretText {}

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl From<&str> for SecretText {
    fn from(text: &str) -> Self {
        Self::new(text.to_owned())
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}

/// A secret JSON object. `Debug` prints only its field count; every string
/// in it (keys included) is zeroed when the last handle is dropped. Cloning
/// is cheap (a reference count).
#[derive(Clone, Default)]
pub struct SecretObject(Arc<WipedMap>);

/// A JSON map whose strings are zeroed on drop. A map is already larger
/// than a cache line, so needs no [`Spacing`].
#[derive(Default)]
struct WipedMap(Map<String, Value>);

const _: () = assert!(std::mem::size_of::<WipedString>() >= 48);
const _: () = assert!(std::mem::size_of::<WipedMap>() >= 48);

impl Drop for WipedMap {
    fn drop(&mut self) {
        wipe_map(std::mem::take(&mut self.0));
    }
}

impl SecretObject {
    fn new(map: Map<String, Value>) -> Self {
        Self(Arc::new(WipedMap(map)))
    }

    /// The object itself.
    pub fn expose(&self) -> &Map<String, Value> {
        &self.0.0
    }

    /// The object as compact JSON text.
    pub fn to_json_text(&self) -> SecretText {
        SecretText::json_of(self.expose())
    }

    fn detached(&self) -> Self {
        Self::new(self.expose().clone())
    }
}

impl PartialEq for SecretObject {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl fmt::Debug for SecretObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SecretObject(<redacted, {} fields>)",
            self.expose().len()
        )
    }
}

fn wipe_map(map: Map<String, Value>) {
    for (mut key, value) in map {
        key.zeroize();
        wipe_value(value);
    }
}

fn wipe_value(value: Value) {
    match value {
        Value::String(mut s) => s.zeroize(),
        Value::Array(items) => items.into_iter().for_each(wipe_value),
        Value::Object(map) => wipe_map(map),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// A secret as callers see it: text, or a JSON object. Cheap to clone.
#[derive(Clone, PartialEq)]
pub enum SecretValue {
    /// A plain string.
    Text(SecretText),
    /// A string that held a JSON object, parsed.
    Object(SecretObject),
}

impl SecretValue {
    /// Applies the value rule: a text that is a JSON object becomes an
    /// object; every other text (arrays, numbers, quoted strings, invalid
    /// JSON) stays text.
    pub fn from_text(text: SecretText) -> Self {
        // Only something that starts with `{` can be an object; skipping the
        // parser for everything else keeps bulk loads of plain strings fast.
        if !text.expose().trim_start().starts_with('{') {
            return SecretValue::Text(text);
        }
        match serde_json::from_str::<Value>(text.expose()) {
            Ok(Value::Object(map)) => SecretValue::Object(SecretObject::new(map)),
            Ok(other) => {
                wipe_value(other);
                SecretValue::Text(text)
            }
            Err(_) => SecretValue::Text(text),
        }
    }

    /// The text, when this is a text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            SecretValue::Text(t) => Some(t.expose()),
            SecretValue::Object(_) => None,
        }
    }

    /// The object, when this is an object.
    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        match self {
            SecretValue::Text(_) => None,
            SecretValue::Object(o) => Some(o.expose()),
        }
    }

    /// Text as is; an object as compact JSON. This is how a value is
    /// inserted into a longer string or an environment variable.
    pub fn to_text(&self) -> SecretText {
        match self {
            SecretValue::Text(t) => t.clone(),
            SecretValue::Object(o) => o.to_json_text(),
        }
    }

    /// The value JSON-encoded: a text as a JSON string, an object as an
    /// object.
    pub fn to_json(&self) -> SecretText {
        match self {
            SecretValue::Text(t) => SecretText::json_of(t.expose()),
            SecretValue::Object(o) => o.to_json_text(),
        }
    }

    /// A copy that shares no memory with `self`, so that handing out clones
    /// of it touches no reference count another thread also uses.
    pub(crate) fn detached(&self) -> Self {
        match self {
            SecretValue::Text(t) => SecretValue::Text(t.detached()),
            SecretValue::Object(o) => SecretValue::Object(o.detached()),
        }
    }

    /// A safe description for logs: the kind and size, never the content.
    pub fn describe(&self) -> String {
        match self {
            SecretValue::Text(t) => format!("text of {} bytes", t.len()),
            SecretValue::Object(o) => format!("object with {} fields", o.expose().len()),
        }
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretValue::Text(t) => t.fmt(f),
            SecretValue::Object(o) => o.fmt(f),
        }
    }
}

impl From<&str> for SecretValue {
    fn from(text: &str) -> Self {
        SecretValue::from_text(SecretText::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_is_a_json_object_becomes_an_object() {
        let v = SecretValue::from(r#"{"key": "abc", "n": 1}"#);
        let obj = v.as_object().expect("object");
        assert_eq!(obj["key"], "abc");
    }

    #[test]
    fn json_arrays_numbers_and_strings_stay_text() {
        for text in [
            "[1,2]",
            "42",
            "\"quoted\"",
            "true",
            "null",
            "{not json",
            " plain ",
        ] {
            assert_eq!(SecretValue::from(text).as_text(), Some(text), "{text}");
        }
    }

    #[test]
    fn object_with_leading_whitespace_is_an_object() {
        assert!(SecretValue::from("  \n{\"a\":1}").as_object().is_some());
    }

    #[test]
    fn debug_never_prints_the_value() {
        let text = SecretValue::from("hunter2-very-secret");
        let obj = SecretValue::from(r#"{"password":"hunter2-very-secret"}"#);
        for printed in [
            format!("{text:?}"),
            format!("{obj:?}"),
            format!("{:#?}", Some(&obj)),
        ] {
            assert!(!printed.contains("hunter2"), "{printed}");
            assert!(printed.contains("redacted"));
        }
    }

    #[test]
    fn json_encoding_quotes_text_and_keeps_objects_compact() {
        assert_eq!(SecretValue::from("a\"b").to_json().expose(), r#""a\"b""#);
        assert_eq!(
            SecretValue::from(r#"{ "a" : 1 }"#).to_json().expose(),
            r#"{"a":1}"#
        );
        assert_eq!(
            SecretValue::from(r#"{ "a" : 1 }"#).to_text().expose(),
            r#"{"a":1}"#
        );
    }
}
