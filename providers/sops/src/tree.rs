//! A SOPS file as an ordered tree: its three formats (YAML, JSON, dotenv)
//! read into one shape, with the `sops` metadata split off.
//!
//! Order matters: the file's MAC is a hash of its values in document
//! order, so mappings keep their entries as written, duplicates included
//! (a later check refuses duplicates by name, see `names.rs`; here they are
//! kept so that the MAC sees what sops saw).
//!
//! No error message here quotes the file's content: a parser's own message
//! can echo a scalar, so only its position is given, with the reasons this
//! module writes itself.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use zeroize::Zeroize;

/// The formats sops writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `.yaml`, `.yml`.
    Yaml,
    /// `.json`.
    Json,
    /// `.env`: `KEY=value` lines.
    Dotenv,
}

impl Format {
    /// The format sops would pick for a file name (by its extension), if any.
    pub(crate) fn from_path(path: &str) -> Option<Format> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let (_, extension) = name.rsplit_once('.')?;
        match extension.to_ascii_lowercase().as_str() {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "env" => Some(Format::Dotenv),
            _ => None,
        }
    }

    /// The format named `name` in the config (`yaml`, `json`, `dotenv`).
    pub(crate) fn from_name(name: &str) -> Option<Format> {
        match name {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "dotenv" | "env" => Some(Format::Dotenv),
            _ => None,
        }
    }

    /// The format's name, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
            Format::Dotenv => "dotenv",
        }
    }
}

/// One node of a document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// A mapping, in document order.
    Map(Vec<(String, Node)>),
    /// A sequence.
    List(Vec<Node>),
    /// A leaf.
    Scalar(Scalar),
}

/// A leaf value, as read from the file or as decrypted.
#[derive(Clone, PartialEq)]
pub(crate) enum Scalar {
    /// `null` (or an empty YAML value): no value; sops neither encrypts it
    /// nor counts it in the MAC.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// Bytes (sops's `bytes` type, or a decrypted `str` that is not UTF-8).
    Bytes(Vec<u8>),
    /// A timestamp (sops's `time` type), as its text.
    Time(String),
}

/// Never the content: a scalar may be a decrypted secret.
impl fmt::Debug for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Scalar::Null => "Null",
            Scalar::Bool(_) => "Bool",
            Scalar::Int(_) => "Int",
            Scalar::Float(_) => "Float",
            Scalar::Str(_) => "Str",
            Scalar::Bytes(_) => "Bytes",
            Scalar::Time(_) => "Time",
        };
        write!(f, "{kind}(<redacted>)")
    }
}

impl Zeroize for Scalar {
    fn zeroize(&mut self) {
        match self {
            Scalar::Null => {}
            Scalar::Bool(b) => *b = false,
            Scalar::Int(i) => *i = 0,
            Scalar::Float(x) => *x = 0.0,
            Scalar::Str(s) | Scalar::Time(s) => s.zeroize(),
            Scalar::Bytes(b) => b.zeroize(),
        }
    }
}

impl Zeroize for Node {
    /// Wipes every leaf (keys stay: they are plain text in the file too).
    fn zeroize(&mut self) {
        match self {
            Node::Map(entries) => entries.iter_mut().for_each(|(_, v)| v.zeroize()),
            Node::List(items) => items.iter_mut().for_each(Zeroize::zeroize),
            Node::Scalar(s) => s.zeroize(),
        }
    }
}

/// A file read: its data entries (the top-level mapping less `sops`) and
/// its `sops` metadata.
#[derive(Debug)]
pub(crate) struct Document {
    /// The top-level entries, in order.
    pub(crate) data: Vec<(String, Node)>,
    /// The `sops` section.
    pub(crate) metadata: Node,
}

/// Why a file could not be read as a SOPS document. Never quotes the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError(pub(crate) String);

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Reasons this module gives the parsers as custom errors: the only parser
/// messages passed on (with the position), since they quote nothing.
const NOT_A_STRING_KEY: &str =
    "a mapping key that is not a string (sops supports string keys only)";
const TAGGED: &str = "a value with a local YAML tag (`!name`), which sops does not write";
const BINARY: &str = "a binary value";
const OWN_REASONS: [&str; 3] = [NOT_A_STRING_KEY, TAGGED, BINARY];

/// Reads `bytes` as a SOPS file of `format`.
pub(crate) fn parse(format: Format, bytes: &[u8]) -> Result<Document, ParseError> {
    let top = match format {
        Format::Yaml => parse_yaml(bytes)?,
        Format::Json => parse_json(bytes)?,
        Format::Dotenv => return parse_dotenv(bytes),
    };
    split_metadata(top)
}

fn parse_yaml(bytes: &[u8]) -> Result<Vec<(String, Node)>, ParseError> {
    let node: Node = serde_yaml::from_slice(bytes).map_err(|e| {
        let reason = e.to_string();
        let reason = OWN_REASONS
            .iter()
            .find(|own| reason.contains(*own))
            .copied()
            .unwrap_or(if reason.contains("more than one document") {
                "it holds more than one YAML document, which this provider does not read"
            } else if reason.contains("recursion limit") {
                "it nests deeper than 128 levels"
            } else if reason.contains("repetition limit") {
                "its aliases expand to too many values"
            } else {
                "a syntax error"
            });
        match e.location() {
            Some(at) => ParseError(format!(
                "not valid YAML: {reason} (line {}, column {})",
                at.line(),
                at.column()
            )),
            None => ParseError(format!("not valid YAML: {reason}")),
        }
    })?;
    match node {
        Node::Map(entries) => Ok(entries),
        // An empty document: no `sops` section either.
        Node::Scalar(Scalar::Null) => Ok(Vec::new()),
        _ => Err(ParseError(
            "its top level is not a mapping, so it is not a SOPS file".into(),
        )),
    }
}

fn parse_json(bytes: &[u8]) -> Result<Vec<(String, Node)>, ParseError> {
    let node: Node = serde_json::from_slice(bytes).map_err(|e| {
        let message = e.to_string();
        let reason = OWN_REASONS
            .iter()
            .find(|own| message.contains(*own))
            .copied()
            .unwrap_or(match e.classify() {
                serde_json::error::Category::Eof => "it ends too early",
                serde_json::error::Category::Syntax => "a syntax error",
                _ if message.contains("recursion limit") => "it nests deeper than 128 levels",
                _ => "a value it cannot read",
            });
        ParseError(format!(
            "not valid JSON: {reason} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    match node {
        Node::Map(entries) => Ok(entries),
        _ => Err(ParseError(
            "its top level is not an object, so it is not a SOPS file".into(),
        )),
    }
}

/// Splits the `sops` entry off the top-level entries.
fn split_metadata(top: Vec<(String, Node)>) -> Result<Document, ParseError> {
    let mut metadata = None;
    let mut data = Vec::with_capacity(top.len());
    for (key, value) in top {
        if key == "sops" {
            if metadata.replace(value).is_some() {
                return Err(ParseError("it has two `sops` sections".into()));
            }
        } else {
            data.push((key, value));
        }
    }
    let metadata = metadata.ok_or_else(|| {
        ParseError("it has no `sops` section: it is not a SOPS-encrypted file".into())
    })?;
    Ok(Document { data, metadata })
}

/// How many `__map_` / `__list_` steps a flattened dotenv metadata key may
/// take (sops's own use takes at most four: `key_groups`, a group, a key
/// type, a key).
const MAX_FLAT_DEPTH: usize = 8;

/// Reads a dotenv file as sops does: lines split at `\n`, empty lines
/// skipped, `#` lines are comments (not values), every other line is
/// `KEY=VALUE` split at the first `=`, with `\n` in a value standing for a
/// newline. Keys starting with `sops_` are the metadata, flattened
/// (`sops_age__list_0__map_recipient`).
fn parse_dotenv(bytes: &[u8]) -> Result<Document, ParseError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ParseError(format!("not UTF-8 text (at byte {})", e.valid_up_to())))?;
    let mut data = Vec::new();
    let mut flat: Vec<(String, String)> = Vec::new();
    for (index, line) in text.split('\n').enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(ParseError(format!(
                "line {} is not KEY=VALUE (it has no `=`)",
                index + 1
            )));
        };
        let value = value.replace("\\n", "\n");
        match key.strip_prefix("sops_") {
            Some(meta) => flat.push((meta.to_owned(), value)),
            None => data.push((key.to_owned(), Node::Scalar(Scalar::Str(value)))),
        }
    }
    if flat.is_empty() {
        return Err(ParseError(
            "it has no `sops_` lines: it is not a SOPS-encrypted file".into(),
        ));
    }
    Ok(Document {
        data,
        metadata: unflatten(flat)?,
    })
}

/// One step of a flattened key.
#[derive(Debug, PartialEq, Eq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// The steps of a flattened metadata key, split as sops splits them:
/// `age__list_0__map_enc` is `age`, item 0, `enc`.
fn steps(key: &str) -> Result<Vec<Step<'_>>, ParseError> {
    let bad = || ParseError(format!("the metadata line sops_{key} has a malformed key"));
    let mut out = Vec::new();
    let mut rest = key;
    // What the next part is: the first is a key, then what its separator says.
    let mut is_map = true;
    loop {
        let next = [("__map_", true), ("__list_", false)]
            .iter()
            .filter_map(|(sep, map)| rest.find(sep).map(|at| (at, sep.len(), *map)))
            .min_by_key(|(at, _, _)| *at);
        let part = next.map_or(rest, |(at, _, _)| &rest[..at]);
        out.push(if is_map {
            if part.is_empty() {
                return Err(bad());
            }
            Step::Key(part)
        } else {
            Step::Index(part.parse().map_err(|_| bad())?)
        });
        if out.len() > MAX_FLAT_DEPTH {
            return Err(bad());
        }
        match next {
            Some((at, len, map)) => {
                rest = &rest[at + len..];
                is_map = map;
            }
            None => return Ok(out),
        }
    }
}

/// Builds the metadata tree from its flattened lines.
fn unflatten(flat: Vec<(String, String)>) -> Result<Node, ParseError> {
    let mut root = Node::Map(Vec::new());
    for (key, value) in &flat {
        let path = steps(key)?;
        place(&mut root, &path, value, key)?;
    }
    Ok(root)
}

fn place(root: &mut Node, path: &[Step<'_>], value: &str, key: &str) -> Result<(), ParseError> {
    let clash = || ParseError(format!("the metadata line sops_{key} clashes with another"));
    let Some((step, rest)) = path.split_first() else {
        return Err(clash());
    };
    let child = match (root, step) {
        (Node::Map(entries), Step::Key(name)) => {
            let at = match entries.iter().position(|(k, _)| k == name) {
                Some(at) => at,
                None => {
                    let fresh = match rest.first() {
                        None => Node::Scalar(Scalar::Null),
                        Some(Step::Key(_)) => Node::Map(Vec::new()),
                        Some(Step::Index(_)) => Node::List(Vec::new()),
                    };
                    entries.push(((*name).to_owned(), fresh));
                    entries.len() - 1
                }
            };
            &mut entries[at].1
        }
        (Node::List(items), Step::Index(index)) => {
            // sops numbers list items from 0 without gaps; items may come in
            // any order, so make room up to the index (bounded: a file has
            // a few keys, not thousands).
            if *index > 4096 {
                return Err(clash());
            }
            while items.len() <= *index {
                items.push(Node::Scalar(Scalar::Null));
            }
            if !rest.is_empty() && matches!(items[*index], Node::Scalar(Scalar::Null)) {
                items[*index] = match rest.first() {
                    Some(Step::Index(_)) => Node::List(Vec::new()),
                    _ => Node::Map(Vec::new()),
                };
            }
            &mut items[*index]
        }
        _ => return Err(clash()),
    };
    if rest.is_empty() {
        if !matches!(child, Node::Scalar(Scalar::Null)) {
            return Err(clash());
        }
        *child = Node::Scalar(Scalar::Str(value.to_owned()));
        Ok(())
    } else {
        place(child, rest, value, key)
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// Reads any value into a [`Node`], keeping mappings in order and every
/// duplicate. Each kind a format cannot hold in a SOPS file gets an error
/// of this module's own, never serde's (whose messages quote the value).
struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping, a list or a scalar")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Bool(v)))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Int(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        // Past i64, sops's JSON reader takes the number as a float.
        Ok(Node::Scalar(match i64::try_from(v) {
            Ok(v) => Scalar::Int(v),
            Err(_) => Scalar::Float(v as f64),
        }))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Node, E> {
        Ok(Node::Scalar(match i64::try_from(v) {
            Ok(v) => Scalar::Int(v),
            Err(_) => Scalar::Float(v as f64),
        }))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Node, E> {
        Ok(Node::Scalar(match i64::try_from(v) {
            Ok(v) => Scalar::Int(v),
            Err(_) => Scalar::Float(v as f64),
        }))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Float(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Str(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Str(v)))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Err(E::custom(BINARY))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Null))
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(Key(key)) = map.next_key::<Key>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Node::Map(entries))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<Node, A::Error> {
        Err(de::Error::custom(TAGGED))
    }
}

/// A mapping key: sops takes string keys only.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        Ok(Key(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Key, E> {
        Ok(Key(v))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Key, E> {
        Err(E::custom(NOT_A_STRING_KEY))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Key, E> {
        Err(E::custom(NOT_A_STRING_KEY))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Key, E> {
        Err(E::custom(NOT_A_STRING_KEY))
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Key, E> {
        Err(E::custom(NOT_A_STRING_KEY))
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Key, E> {
        Err(E::custom(NOT_A_STRING_KEY))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Key, E> {
        Err(E::custom(NOT_A_STRING_KEY))
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Key, E> {
        Err(E::custom(NOT_A_STRING_KEY))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Err(E::custom(NOT_A_STRING_KEY))
    }

    fn visit_none<E: de::Error>(self) -> Result<Key, E> {
        Err(E::custom(NOT_A_STRING_KEY))
    }

    fn visit_some<D: Deserializer<'de>>(self, _: D) -> Result<Key, D::Error> {
        Err(de::Error::custom(NOT_A_STRING_KEY))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Key, A::Error> {
        Err(de::Error::custom(NOT_A_STRING_KEY))
    }

    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Key, A::Error> {
        Err(de::Error::custom(NOT_A_STRING_KEY))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, _: A) -> Result<Key, A::Error> {
        Err(de::Error::custom(TAGGED))
    }
}
