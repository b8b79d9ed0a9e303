//! Secret values: text, bytes or a JSON object, redacted in `Debug`, wiped
//! on drop.
//!
//! [`StoredValue`] is what backends return: the value as stored, text
//! ([`SecretText`]) or bytes ([`SecretBytes`], for binary secrets: key
//! stores, keytabs, AWS `SecretBinary`). [`SecretValue`] is what callers
//! get, after the one rule of the README's "Keys, prefixes, patterns,
//! values": a text that parses as a JSON *object* becomes an object,
//! anything else stays as it is. [`SecretValue::from_text`] is the only
//! place that rule lives.

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

/// Secret bytes, for binary secrets. `Debug` prints `<redacted>` and the
/// length; the memory is zeroed when the last handle to it is dropped.
#[derive(Clone, Default)]
pub struct SecretBytes(Arc<WipedBytes>);

/// Bytes zeroed on drop (spaced as [`WipedString`] is).
#[derive(Default)]
struct WipedBytes {
    bytes: Vec<u8>,
    _spacing: Spacing,
}

impl Drop for WipedBytes {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl SecretBytes {
    /// Wraps `bytes`, taking ownership so no unprotected copy is left
    /// behind.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Arc::new(WipedBytes {
            bytes,
            _spacing: Spacing::default(),
        }))
    }

    /// The secret itself (see [`SecretText::expose`]).
    pub fn expose(&self) -> &[u8] {
        &self.0.bytes
    }

    /// Length in bytes; safe to log.
    pub fn len(&self) -> usize {
        self.0.bytes.len()
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.bytes.is_empty()
    }

    /// The bytes as text, when they are UTF-8.
    pub fn as_utf8(&self) -> Option<&str> {
        std::str::from_utf8(self.expose()).ok()
    }

    /// A copy that shares no memory (and no reference count) with `self`.
    fn detached(&self) -> Self {
        Self::new(self.0.bytes.clone())
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for SecretBytes {}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self::new(bytes)
    }
}

impl From<&[u8]> for SecretBytes {
    fn from(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<redacted, {} bytes>)", self.len())
    }
}

/// A value as a backend stores it: text, or bytes (a binary secret). What
/// [`SecretsProvider`](crate::SecretsProvider)s return and `get_raw` gives.
#[derive(Clone, PartialEq, Eq)]
pub enum StoredValue {
    /// Text.
    Text(SecretText),
    /// Bytes, which need not be UTF-8.
    Bytes(SecretBytes),
}

impl StoredValue {
    /// The value's bytes (a text's UTF-8).
    pub fn expose_bytes(&self) -> &[u8] {
        match self {
            StoredValue::Text(t) => t.expose().as_bytes(),
            StoredValue::Bytes(b) => b.expose(),
        }
    }

    /// The text, when this is a text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            StoredValue::Text(t) => Some(t.expose()),
            StoredValue::Bytes(_) => None,
        }
    }

    /// The value as text: a text as it is, bytes when they are UTF-8 (a
    /// copy); `None` for bytes that are not.
    pub fn to_text(&self) -> Option<SecretText> {
        match self {
            StoredValue::Text(t) => Some(t.clone()),
            StoredValue::Bytes(b) => b.as_utf8().map(SecretText::from),
        }
    }

    /// Length in bytes; safe to log.
    pub fn len(&self) -> usize {
        self.expose_bytes().len()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A safe description for logs: the kind and size, never the content.
    pub fn describe(&self) -> String {
        match self {
            StoredValue::Text(t) => format!("text of {} bytes", t.len()),
            StoredValue::Bytes(b) => format!("{} bytes of binary data", b.len()),
        }
    }
}

impl From<SecretText> for StoredValue {
    fn from(text: SecretText) -> Self {
        StoredValue::Text(text)
    }
}

impl From<SecretBytes> for StoredValue {
    fn from(bytes: SecretBytes) -> Self {
        StoredValue::Bytes(bytes)
    }
}

impl From<&str> for StoredValue {
    fn from(text: &str) -> Self {
        StoredValue::Text(SecretText::from(text))
    }
}

impl From<String> for StoredValue {
    fn from(text: String) -> Self {
        StoredValue::Text(SecretText::new(text))
    }
}

impl fmt::Debug for StoredValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredValue::Text(t) => t.fmt(f),
            StoredValue::Bytes(b) => b.fmt(f),
        }
    }
}

/// A secret as callers see it: text, bytes, or a JSON object. Cheap to
/// clone.
#[derive(Clone, PartialEq)]
pub enum SecretValue {
    /// A plain string.
    Text(SecretText),
    /// A string that held a JSON object, parsed.
    Object(SecretObject),
    /// A binary secret, as stored (no rule applies to bytes).
    Bytes(SecretBytes),
}

impl SecretValue {
    /// The value callers get for a stored one: [`from_text`](Self::from_text)
    /// for text, bytes as they are.
    pub fn from_stored(stored: StoredValue) -> Self {
        match stored {
            StoredValue::Text(text) => Self::from_text(text),
            StoredValue::Bytes(bytes) => SecretValue::Bytes(bytes),
        }
    }

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
            SecretValue::Object(_) | SecretValue::Bytes(_) => None,
        }
    }

    /// The object, when this is an object.
    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        match self {
            SecretValue::Object(o) => Some(o.expose()),
            SecretValue::Text(_) | SecretValue::Bytes(_) => None,
        }
    }

    /// The bytes, when this is a binary secret.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            SecretValue::Bytes(b) => Some(b.expose()),
            SecretValue::Text(_) | SecretValue::Object(_) => None,
        }
    }

    /// Text as is; an object as compact JSON; bytes when they are UTF-8
    /// (`None` when they are not: bytes are never mangled into text). This
    /// is how a value is inserted into a longer string or an environment
    /// variable; [`text_of`](Self::text_of) gives the error for a key.
    pub fn to_text(&self) -> Option<SecretText> {
        match self {
            SecretValue::Text(t) => Some(t.clone()),
            SecretValue::Object(o) => Some(o.to_json_text()),
            SecretValue::Bytes(b) => b.as_utf8().map(SecretText::from),
        }
    }

    /// As [`to_text`](Self::to_text), with the error for secret `key` when
    /// it holds bytes that are not UTF-8.
    pub fn text_of(&self, key: &str) -> crate::Result<SecretText> {
        self.to_text().ok_or_else(|| crate::Error::NotText {
            key: key.to_owned(),
            len: self.as_bytes().map_or(0, <[u8]>::len),
        })
    }

    /// The value JSON-encoded: a text as a JSON string, an object as an
    /// object, bytes as `{"base64": "..."}` (standard alphabet, padded).
    pub fn to_json(&self) -> SecretText {
        match self {
            SecretValue::Text(t) => SecretText::json_of(t.expose()),
            SecretValue::Object(o) => o.to_json_text(),
            SecretValue::Bytes(b) => bytes_as_json(b),
        }
    }

    /// A copy that shares no memory with `self`, so that handing out clones
    /// of it touches no reference count another thread also uses.
    pub(crate) fn detached(&self) -> Self {
        match self {
            SecretValue::Text(t) => SecretValue::Text(t.detached()),
            SecretValue::Object(o) => SecretValue::Object(o.detached()),
            SecretValue::Bytes(b) => SecretValue::Bytes(b.detached()),
        }
    }

    /// A safe description for logs: the kind and size, never the content.
    pub fn describe(&self) -> String {
        match self {
            SecretValue::Text(t) => format!("text of {} bytes", t.len()),
            SecretValue::Object(o) => format!("object with {} fields", o.expose().len()),
            SecretValue::Bytes(b) => format!("{} bytes of binary data", b.len()),
        }
    }
}

/// `{"base64": "..."}` for `bytes`, built in buffers of their final size
/// (wiped when dropped).
fn bytes_as_json(bytes: &SecretBytes) -> SecretText {
    use base64::Engine;
    let engine = &base64::engine::general_purpose::STANDARD;
    let encoded_len = base64::encoded_len(bytes.len(), true).unwrap_or(0);
    let mut encoded = zeroize::Zeroizing::new(String::with_capacity(encoded_len));
    engine.encode_string(bytes.expose(), &mut encoded);
    let mut json = String::with_capacity(encoded.len() + 14);
    json.push_str("{\"base64\":\"");
    json.push_str(&encoded);
    json.push_str("\"}");
    SecretText::new(json)
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretValue::Text(t) => t.fmt(f),
            SecretValue::Object(o) => o.fmt(f),
            SecretValue::Bytes(b) => b.fmt(f),
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
            SecretValue::from(r#"{ "a" : 1 }"#)
                .to_text()
                .expect("text")
                .expose(),
            r#"{"a":1}"#
        );
    }

    #[test]
    fn bytes_stay_bytes_and_are_text_only_when_utf8() {
        let binary = SecretValue::from_stored(SecretBytes::from(&b"\xff\x00key"[..]).into());
        assert_eq!(binary.as_bytes(), Some(&b"\xff\x00key"[..]));
        assert!(binary.to_text().is_none());
        let error = binary.text_of("local:keystore").expect_err("not text");
        assert!(error.to_string().contains("local:keystore"), "{error}");
        assert_eq!(binary.to_json().expose(), r#"{"base64":"/wBrZXk="}"#);
        // No JSON-object rule for bytes, but UTF-8 bytes serve as text.
        let utf8 = SecretValue::from_stored(SecretBytes::from(&b"{\"a\":1}"[..]).into());
        assert!(utf8.as_object().is_none());
        assert_eq!(utf8.to_text().expect("UTF-8").expose(), "{\"a\":1}");
        assert!(!format!("{binary:?}").contains("key"));
    }
}
