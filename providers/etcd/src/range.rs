//! etcd's KV range requests and responses, as the JSON gateway speaks
//! them: keys and values are base64, a range is `[key, range_end)`, and
//! 64-bit numbers (a key's `mod_revision`) are JSON strings. Also the
//! transaction (`/v3/kv/txn`) that reads several single keys in one
//! request.
//!
//! Pure functions, so the wire format is tested natively.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::{Value, json};

use pp_secrets_guest::{Error, StoredValue};

/// What to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Range<'a> {
    /// One key.
    Key(&'a str),
    /// Every key starting with the prefix (every key for `""`).
    Prefix(&'a str),
}

impl Range<'_> {
    /// Whether `key` is in this range.
    pub fn contains(&self, key: &str) -> bool {
        match self {
            Range::Key(k) => *k == key,
            Range::Prefix(prefix) => key.starts_with(prefix),
        }
    }

    /// Whether every key of `other` is in this range.
    pub fn covers(&self, other: &Range<'_>) -> bool {
        match (self, other) {
            (Range::Prefix(prefix), Range::Prefix(inner)) => inner.starts_with(prefix),
            (_, Range::Key(key)) => self.contains(key),
            (Range::Key(_), Range::Prefix(_)) => false,
        }
    }
}

/// The fewest of `ranges` that cover them all: duplicates and ranges
/// inside another are dropped. Order is kept.
pub fn covering<'a>(ranges: &[Range<'a>]) -> Vec<Range<'a>> {
    let mut kept: Vec<Range<'a>> = Vec::with_capacity(ranges.len());
    for (i, range) in ranges.iter().enumerate() {
        let covered = ranges.iter().enumerate().any(|(j, other)| {
            // Of two equal ranges the first stays.
            j != i && other.covers(range) && (!range.covers(other) || j < i)
        });
        if !covered {
            kept.push(range.clone());
        }
    }
    kept
}

/// The body of a `/v3/kv/range` request.
pub fn request_body(range: &Range<'_>, keys_only: bool) -> Vec<u8> {
    range_request(range, keys_only).to_string().into_bytes()
}

/// The body of a `/v3/kv/txn` request that reads each of `keys` (its key
/// and `mod_revision`, without the value) in one transaction.
pub fn keys_only_txn_body(keys: &[&str]) -> Vec<u8> {
    let success: Vec<Value> = keys
        .iter()
        .map(|key| json!({ "request_range": range_request(&Range::Key(key), true) }))
        .collect();
    json!({ "compare": [], "success": success })
        .to_string()
        .into_bytes()
}

/// A range request as JSON.
fn range_request(range: &Range<'_>, keys_only: bool) -> Value {
    let mut body = match range {
        Range::Key(key) => json!({ "key": BASE64.encode(key) }),
        Range::Prefix(prefix) => {
            // "\0" to "\0" is etcd's way of saying "every key".
            let (key, end) = if prefix.is_empty() {
                (vec![0], vec![0])
            } else {
                (prefix.as_bytes().to_vec(), prefix_end(prefix.as_bytes()))
            };
            json!({ "key": BASE64.encode(key), "range_end": BASE64.encode(end) })
        }
    };
    if keys_only {
        body["keys_only"] = Value::Bool(true);
    }
    body
}

/// The first key after every key starting with `prefix`: the prefix with
/// its last byte below 0xff incremented and what follows dropped; `"\0"`
/// (the end of the keyspace) when every byte is 0xff.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// One key of a range response, with its value when asked for. Keys that
/// are not UTF-8 cannot be secret names and are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// The value, when the request was not keys-only: text when it is
    /// UTF-8, bytes otherwise, or why it could not be read.
    pub value: Option<Result<StoredValue, Error>>,
    /// The revision of the key's last change (etcd's `mod_revision`), as
    /// etcd wrote it.
    pub mod_revision: Option<String>,
}

/// The parts of a range response this provider reads (etcd also sends a
/// header, a count and each key's other revisions, which are skipped
/// unread).
#[derive(Deserialize)]
struct RangeResponse<'a> {
    /// Left out when the range is empty.
    #[serde(default, borrow)]
    kvs: Vec<RawKv<'a>>,
}

/// The parts of a transaction's response this provider reads: the answer
/// of each range request, in order.
#[derive(Deserialize)]
struct TxnResponse<'a> {
    #[serde(default, borrow)]
    responses: Vec<TxnOpResponse<'a>>,
}

/// One operation's answer in a transaction.
#[derive(Deserialize)]
struct TxnOpResponse<'a> {
    #[serde(default, borrow, alias = "responseRange")]
    response_range: Option<RangeResponse<'a>>,
}

/// One key-value pair as etcd sends it, still base64.
#[derive(Deserialize)]
struct RawKv<'a> {
    #[serde(default, borrow)]
    key: Option<Base64Text<'a>>,
    /// Left out when the value is empty.
    #[serde(default, borrow)]
    value: Option<Base64Text<'a>>,
    #[serde(default, alias = "modRevision")]
    mod_revision: Option<Revision>,
}

/// A revision: a JSON string of digits as the gateway writes 64-bit
/// numbers, or a plain number.
struct Revision(String);

impl<'de> Deserialize<'de> for Revision {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Number;
        impl Visitor<'_> for Number {
            type Value = Revision;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a revision")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Revision(v.to_owned()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Revision(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Revision(v.to_string()))
            }
        }
        deserializer.deserialize_any(Number)
    }
}

/// A JSON string holding base64, taken as the bytes between its quotes:
/// checking them as UTF-8 first would be wasted (the base64 decoder refuses
/// anything outside its alphabet), and with a thousand keys those checks
/// stood out in profiles of the guest's parse.
struct Base64Text<'a>(Cow<'a, [u8]>);

impl<'de: 'a, 'a> Deserialize<'de> for Base64Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Bytes<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Bytes<'a> {
            type Value = Base64Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a base64 string")
            }
            fn visit_borrowed_bytes<E: de::Error>(self, v: &'de [u8]) -> Result<Self::Value, E> {
                Ok(Base64Text(Cow::Borrowed(v)))
            }
            // A string with escapes in it cannot be borrowed.
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Ok(Base64Text(Cow::Owned(v.to_vec())))
            }
        }
        // serde_json hands a JSON string to `deserialize_bytes` as its raw
        // bytes (escapes resolved), without UTF-8 validation.
        deserializer.deserialize_bytes(Bytes(std::marker::PhantomData))
    }
}

/// The entries of a `/v3/kv/range` response body, with values unless the
/// request was `keys_only`.
///
/// Parsed into borrowed strings in one pass (a range of 1,000 keys is
/// hundreds of kilobytes of JSON; building a `serde_json::Value` of it
/// first took longer than the rest of the work).
pub fn parse_response(body: &[u8], keys_only: bool) -> Result<Vec<Entry>, Error> {
    let response: RangeResponse<'_> = serde_json::from_slice(body).map_err(|_| {
        Error::backend("etcd answered a range request with something that is not a range response")
    })?;
    let mut entries = Vec::with_capacity(response.kvs.len());
    push_entries(&mut entries, response.kvs, keys_only);
    Ok(entries)
}

/// The entries of every range request's answer in a `/v3/kv/txn` response
/// body (see [`keys_only_txn_body`]), keys only.
pub fn parse_keys_only_txn_response(body: &[u8]) -> Result<Vec<Entry>, Error> {
    let response: TxnResponse<'_> = serde_json::from_slice(body).map_err(|_| {
        Error::backend("etcd answered a transaction with something that is not a txn response")
    })?;
    let mut entries = Vec::new();
    for op in response.responses {
        if let Some(range) = op.response_range {
            push_entries(&mut entries, range.kvs, true);
        }
    }
    Ok(entries)
}

/// Appends the entries of `kvs` to `entries`.
fn push_entries(entries: &mut Vec<Entry>, kvs: Vec<RawKv<'_>>, keys_only: bool) {
    for kv in kvs {
        let Some(key) = kv
            .key
            .and_then(|k| BASE64.decode(&k.0).ok())
            .and_then(|k| String::from_utf8(k).ok())
        else {
            continue;
        };
        let value = (!keys_only).then(|| match kv.value {
            Some(value) => decode_value(&key, &value),
            None => Ok(StoredValue::Text(String::new())),
        });
        entries.push(Entry {
            key,
            value,
            mod_revision: kv.mod_revision.map(|r| r.0),
        });
    }
}

/// A value: text when it is UTF-8, bytes otherwise.
fn decode_value(key: &str, value: &Base64Text<'_>) -> Result<StoredValue, Error> {
    let bytes = BASE64
        .decode(&value.0)
        .map_err(|_| Error::backend(format!("etcd sent a malformed value for {key}")))?;
    Ok(StoredValue::text_or_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(text: &str) -> StoredValue {
        StoredValue::Text(text.to_owned())
    }

    #[test]
    fn revisions_are_read_as_strings_or_numbers() {
        let body = json!({
            "kvs": [
                { "key": BASE64.encode("a"), "mod_revision": "12" },
                { "key": BASE64.encode("b"), "modRevision": 13 },
                { "key": BASE64.encode("c") },
            ]
        })
        .to_string();
        let entries = parse_response(body.as_bytes(), true).expect("parses");
        let revisions: Vec<Option<&str>> =
            entries.iter().map(|e| e.mod_revision.as_deref()).collect();
        assert_eq!(revisions, [Some("12"), Some("13"), None]);
    }

    #[test]
    fn a_txn_reads_each_key_keys_only() {
        let body: Value = serde_json::from_slice(&keys_only_txn_body(&["a", "b"])).expect("json");
        assert_eq!(body["compare"], json!([]));
        assert_eq!(
            body["success"][1]["request_range"],
            json!({ "key": BASE64.encode("b"), "keys_only": true })
        );
        // As etcd 3.4 answers it: the second key does not exist.
        let answer = json!({
            "header": { "revision": "3" },
            "succeeded": true,
            "responses": [
                { "response_range": { "header": {}, "kvs": [
                    { "key": BASE64.encode("a"), "create_revision": "2",
                      "mod_revision": "2", "version": "1" }
                ], "count": "1" } },
                { "response_range": { "header": { "revision": "3" } } }
            ]
        })
        .to_string();
        let entries = parse_keys_only_txn_response(answer.as_bytes()).expect("parses");
        assert_eq!(entries.len(), 1);
        assert_eq!(
            (entries[0].key.as_str(), entries[0].mod_revision.as_deref()),
            ("a", Some("2"))
        );
        assert!(entries[0].value.is_none());
        assert!(parse_keys_only_txn_response(b"<html>").is_err());
    }

    #[test]
    fn ranges_inside_others_are_dropped() {
        let ranges = [
            Range::Prefix("app/db/"),
            Range::Key("app/x"),
            Range::Prefix("app/"),
            Range::Key("other"),
            Range::Prefix("app/"),
            Range::Key("other"),
        ];
        assert_eq!(
            covering(&ranges),
            [Range::Prefix("app/"), Range::Key("other")]
        );
        assert_eq!(
            covering(&[Range::Key("a"), Range::Prefix("")]),
            [Range::Prefix("")]
        );
        assert!(Range::Prefix("").contains("anything"));
        assert!(!Range::Key("a").covers(&Range::Prefix("a")));
    }

    #[test]
    fn prefix_end_increments_the_last_byte_that_can_be() {
        assert_eq!(prefix_end(b"app/"), b"app0".to_vec());
        assert_eq!(prefix_end(b"a\xff"), b"b".to_vec());
        assert_eq!(prefix_end(b"\xff\xff"), vec![0]);
    }

    #[test]
    fn a_prefix_range_covers_exactly_the_prefix() {
        let body: Value =
            serde_json::from_slice(&request_body(&Range::Prefix("app/"), true)).expect("json");
        assert_eq!(body["key"], BASE64.encode("app/"));
        assert_eq!(body["range_end"], BASE64.encode("app0"));
        assert_eq!(body["keys_only"], true);
        let all: Value =
            serde_json::from_slice(&request_body(&Range::Prefix(""), false)).expect("json");
        assert_eq!(all["key"], "AA==");
        assert_eq!(all["range_end"], "AA==");
        assert!(all.get("keys_only").is_none());
    }

    #[test]
    fn a_key_request_has_no_range_end() {
        let body: Value =
            serde_json::from_slice(&request_body(&Range::Key("db"), false)).expect("json");
        assert_eq!(body["key"], BASE64.encode("db"));
        assert!(body.get("range_end").is_none());
    }

    #[test]
    fn responses_decode_keys_and_values_and_skip_binary_keys() {
        let body = json!({
            "header": {},
            "kvs": [
                { "key": BASE64.encode("a"), "value": BASE64.encode("one") },
                { "key": BASE64.encode([0xff_u8, 0xfe]), "value": BASE64.encode("x") },
                { "key": BASE64.encode("b"), "value": BASE64.encode([0xc3_u8, 0x28]) },
                { "key": BASE64.encode("c") },
            ],
            "count": "4"
        })
        .to_string();
        let entries = parse_response(body.as_bytes(), false).expect("parses");
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].value, Some(Ok(text("one"))));
        assert_eq!(
            entries[1].value,
            Some(Ok(StoredValue::Bytes(vec![0xc3, 0x28])))
        );
        assert_eq!(entries[2].key, "c");
        assert_eq!(entries[2].value, Some(Ok(text(""))));
        let keys = parse_response(body.as_bytes(), true).expect("parses");
        assert!(keys.iter().all(|e| e.value.is_none()));
    }

    #[test]
    fn escaped_base64_is_read_too() {
        // `=` written as a JSON escape: the string cannot be borrowed.
        let body = br#"{"kvs": [{"key": "YQ\u003d\u003d", "value": "b25l"}]}"#;
        let entries = parse_response(body, false).expect("parses");
        assert_eq!(entries[0].key, "a");
        assert_eq!(entries[0].value, Some(Ok(text("one"))));
        assert!(parse_response(br#"{"kvs": [{"key": 7}]}"#, false).is_err());
    }

    #[test]
    fn an_empty_range_has_no_kvs() {
        assert_eq!(
            parse_response(br#"{"header":{},"count":"0"}"#, false),
            Ok(Vec::new())
        );
        assert!(parse_response(b"<html>", false).is_err());
        assert!(parse_response(br#"{"kvs": {"key": "YQ=="}}"#, false).is_err());
        let bad_base64 =
            parse_response(br#"{"kvs": [{"key": "YQ==", "value": "%%"}]}"#, false).expect("parses");
        assert!(matches!(bad_base64[0].value, Some(Err(_))));
    }
}
