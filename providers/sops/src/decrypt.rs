//! Decrypting a SOPS document's values and checking its MAC, as sops does.
//!
//! Each encrypted value is `ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,
//! type:<type>]`: AES-256-GCM under the file's 32-byte data key, with a
//! 32-byte IV and, as additional data, the mapping keys leading to the
//! value joined by `:` with a trailing `:` (list items add no key). A
//! value moved to another key therefore no longer decrypts.
//!
//! The MAC is SHA-512 over every value in document order (each as the
//! bytes sops gives it: the text, an integer's decimal digits, `True` or
//! `False`), upper-case hex, stored encrypted in `sops.mac` with
//! `sops.lastmodified` as additional data. With `mac_only_encrypted` it
//! covers only the encrypted values and starts from a fixed 32-byte
//! prefix. `null` values are neither encrypted nor hashed, and empty
//! strings are left as they are (sops never encrypts them).
//!
//! Nothing is served from a document whose MAC does not match: the caller
//! gets the decrypted tree only from [`decrypt`], which checks first.

use aes_gcm::aead::consts::U32;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce, Tag};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha512};
use zeroize::{Zeroize, Zeroizing};

use crate::metadata::Metadata;
use crate::names::join_name;
use crate::tree::{Node, Scalar};
use crate::values::go_format_f;

/// AES-256-GCM with sops's 32-byte IVs.
type Cipher = AesGcm<Aes256, U32>;

/// The first bytes hashed into a MAC that covers only encrypted values:
/// sops's constant (SHA-256 of `sops`), so that such a MAC never equals
/// one over all values.
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// How long a value's error message may quote its type name (the file's
/// own text, not a secret, but not trusted either).
const MAX_QUOTED: usize = 40;

/// The decrypted top-level entries of a document whose MAC matched.
pub(crate) type Plain = Vec<(String, Node)>;

/// Decrypts `data` (the document's entries, consumed) with the 32-byte
/// `data_key`, and checks the MAC of `metadata`. Every failure is an
/// error naming what failed; on any, every value decrypted so far is
/// wiped.
pub(crate) fn decrypt(
    mut data: Vec<(String, Node)>,
    metadata: &Metadata,
    data_key: &[u8; 32],
) -> Result<Plain, String> {
    let cipher = Cipher::new(data_key.into());
    let mut walk = Walk {
        cipher: &cipher,
        metadata,
        mac: Sha512::new(),
        keys: Vec::new(),
        names: Vec::new(),
    };
    if metadata.mac_only_encrypted {
        walk.mac.update(MAC_ONLY_ENCRYPTED_INIT);
    }
    let walked = data.iter_mut().try_for_each(|(key, node)| {
        walk.keys.push(key.clone());
        walk.names.push(key.clone());
        let done = walk.node(node);
        walk.keys.pop();
        walk.names.pop();
        done
    });
    let checked = walked.and_then(|()| {
        let computed = upper_hex(&walk.mac.finalize());
        let stored = match open(&cipher, &metadata.mac, &metadata.last_modified) {
            Ok(Scalar::Str(stored)) => Zeroizing::new(stored),
            _ => {
                return Err(
                    "its MAC does not decrypt with the file's data key: sops.mac or \
                            sops.lastmodified was changed after the file was encrypted"
                        .to_owned(),
                );
            }
        };
        if equal(stored.as_bytes(), computed.as_bytes()) {
            Ok(())
        } else {
            Err(
                "MAC mismatch: the file was changed after it was encrypted (a value edited, \
                 a key added, removed or reordered)"
                    .to_owned(),
            )
        }
    });
    match checked {
        Ok(()) => Ok(data),
        Err(e) => {
            data.iter_mut().for_each(|(_, node)| node.zeroize());
            Err(e)
        }
    }
}

/// One pass over a document: decrypts in place and hashes for the MAC.
struct Walk<'a> {
    cipher: &'a Cipher,
    metadata: &'a Metadata,
    mac: Sha512,
    /// The mapping keys to the current node: what sops authenticates.
    keys: Vec<String>,
    /// The current node's name (keys and list indices), for messages.
    names: Vec<String>,
}

impl Walk<'_> {
    fn node(&mut self, node: &mut Node) -> Result<(), String> {
        match node {
            Node::Map(entries) => entries.iter_mut().try_for_each(|(key, child)| {
                self.keys.push(key.clone());
                self.names.push(key.clone());
                let done = self.node(child);
                self.keys.pop();
                self.names.pop();
                done
            }),
            Node::List(items) => items.iter_mut().enumerate().try_for_each(|(i, child)| {
                self.names.push(i.to_string());
                let done = self.node(child);
                self.names.pop();
                done
            }),
            Node::Scalar(Scalar::Null) => Ok(()),
            Node::Scalar(scalar) => self.leaf(scalar),
        }
    }

    fn leaf(&mut self, scalar: &mut Scalar) -> Result<(), String> {
        let keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        let encrypted = self.metadata.rule.encrypts(&keys);
        if encrypted {
            let name = || join_name(&self.names);
            let Scalar::Str(text) = scalar else {
                return Err(format!(
                    "the value of {} is not encrypted, though the file's rules say it must be: \
                     it was edited after the file was encrypted",
                    name()
                ));
            };
            if !text.is_empty() {
                let additional = format!("{}:", keys.join(":"));
                let plain = open(self.cipher, text, &additional).map_err(|e| match e {
                    Opened::NotEnc => format!(
                        "the value of {} is not encrypted (not sops's ENC[AES256_GCM,...] form), \
                         though the file's rules say it must be: it was edited after the file \
                         was encrypted",
                        name()
                    ),
                    Opened::Malformed => format!(
                        "the value of {} is a malformed ENC[AES256_GCM,...] value",
                        name()
                    ),
                    Opened::Failed => format!(
                        "the value of {} does not decrypt with the file's data key: it was \
                         changed, or moved here from another key",
                        name()
                    ),
                    Opened::UnknownType(kind) => {
                        format!("the value of {} has an unknown type {kind:?}", name())
                    }
                    Opened::NotOfType(kind) => {
                        format!("the value of {} does not read as its type {kind}", name())
                    }
                })?;
                text.zeroize();
                *scalar = plain;
            }
        }
        if !self.metadata.mac_only_encrypted || encrypted {
            hash_into(&mut self.mac, scalar);
        }
        Ok(())
    }
}

/// Adds `scalar`'s bytes to the MAC as sops does (its `ToBytes`).
fn hash_into(mac: &mut Sha512, scalar: &Scalar) {
    match scalar {
        Scalar::Null => {}
        Scalar::Str(s) | Scalar::Time(s) => mac.update(s.as_bytes()),
        Scalar::Bytes(b) => mac.update(b),
        Scalar::Int(i) => mac.update(i.to_string().as_bytes()),
        Scalar::Float(f) => mac.update(go_format_f(*f).as_bytes()),
        Scalar::Bool(true) => mac.update(b"True"),
        Scalar::Bool(false) => mac.update(b"False"),
    }
}

/// Why an `ENC[...]` value could not be opened.
#[derive(Debug, PartialEq, Eq)]
enum Opened {
    /// Not an `ENC[AES256_GCM,...]` value at all.
    NotEnc,
    /// Its fields are not base64, or of the wrong length.
    Malformed,
    /// Authentication failed: wrong key, changed data, other position.
    Failed,
    /// A type sops does not write (quoted, cut short).
    UnknownType(String),
    /// The plaintext is not a value of its type (never quoted).
    NotOfType(&'static str),
}

/// The parts of an `ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]`
/// value, or `None` when it is not of that form.
fn fields(value: &str) -> Option<(&str, &str, &str, &str)> {
    let inner = value
        .strip_prefix("ENC[AES256_GCM,data:")?
        .strip_suffix(']')?;
    let (data, rest) = inner.split_once(",iv:")?;
    let (iv, rest) = rest.split_once(",tag:")?;
    let (tag, kind) = rest.split_once(",type:")?;
    Some((data, iv, tag, kind))
}

/// Decrypts one `ENC[...]` value with `additional` as the authenticated
/// data, into the scalar its type says.
fn open(cipher: &Cipher, value: &str, additional: &str) -> Result<Scalar, Opened> {
    let (data, iv, tag, kind) = fields(value).ok_or(Opened::NotEnc)?;
    let mut plain = Zeroizing::new(STANDARD.decode(data).map_err(|_| Opened::Malformed)?);
    let iv: [u8; 32] = STANDARD
        .decode(iv)
        .ok()
        .and_then(|iv| iv.try_into().ok())
        .ok_or(Opened::Malformed)?;
    let tag: [u8; 16] = STANDARD
        .decode(tag)
        .ok()
        .and_then(|tag| tag.try_into().ok())
        .ok_or(Opened::Malformed)?;
    cipher
        .decrypt_in_place_detached(
            Nonce::<U32>::from_slice(&iv),
            additional.as_bytes(),
            &mut plain,
            Tag::from_slice(&tag),
        )
        .map_err(|_| Opened::Failed)?;
    typed(kind, plain)
}

/// The plaintext `plain` as a value of sops's type `kind`, read as sops
/// reads it (Go's `strconv`).
fn typed(kind: &str, plain: Zeroizing<Vec<u8>>) -> Result<Scalar, Opened> {
    let text = || std::str::from_utf8(&plain).map_err(|_| Opened::NotOfType(kind_name(kind)));
    match kind {
        // A comment's type only appears in comments, which this provider
        // does not read; as a value it is text.
        "str" | "comment" => Ok(match String::from_utf8(plain.to_vec()) {
            Ok(text) => Scalar::Str(text),
            Err(e) => Scalar::Bytes(e.into_bytes()),
        }),
        "bytes" => Ok(Scalar::Bytes(plain.to_vec())),
        "int" => parse_go_int(text()?)
            .map(Scalar::Int)
            .ok_or(Opened::NotOfType("int")),
        "float" => parse_go_float(text()?)
            .map(Scalar::Float)
            .ok_or(Opened::NotOfType("float")),
        "bool" => match text()? {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(Scalar::Bool(true)),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(Scalar::Bool(false)),
            _ => Err(Opened::NotOfType("bool")),
        },
        // sops wrote it with Go's MarshalText (RFC 3339 with nanoseconds),
        // which is the text it hashes again.
        "time" => Ok(Scalar::Time(text()?.to_owned())),
        other => Err(Opened::UnknownType(
            other.chars().take(MAX_QUOTED).collect(),
        )),
    }
}

/// A type name for [`Opened::NotOfType`].
fn kind_name(kind: &str) -> &'static str {
    match kind {
        "int" => "int",
        "float" => "float",
        "bool" => "bool",
        "time" => "time",
        _ => "str",
    }
}

/// A decimal integer as Go's `strconv.Atoi` reads it: an optional sign
/// and ASCII digits.
fn parse_go_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A float as Go's `strconv.ParseFloat` reads the texts sops writes
/// (decimal, optionally with an exponent; `NaN`, `Inf`).
fn parse_go_float(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ if text
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) =>
        {
            text.parse().ok()
        }
        _ => None,
    }
}

/// Upper-case hex, as sops writes the MAC.
fn upper_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Whether `a` and `b` are equal, in time that depends on their lengths
/// only.
fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use aes_gcm::aead::Aead;

    /// Encrypts `plain` as sops would (a test's stand-in for the real tool,
    /// used only for cases the real tool cannot make).
    pub(crate) fn seal(key: &[u8; 32], plain: &[u8], additional: &str, kind: &str) -> String {
        let cipher = Cipher::new(key.into());
        let iv = [7u8; 32];
        let sealed = cipher
            .encrypt(
                Nonce::<U32>::from_slice(&iv),
                aes_gcm::aead::Payload {
                    msg: plain,
                    aad: additional.as_bytes(),
                },
            )
            .expect("encrypts");
        let (data, tag) = sealed.split_at(sealed.len() - 16);
        format!(
            "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
            STANDARD.encode(data),
            STANDARD.encode(iv),
            STANDARD.encode(tag)
        )
    }

    const KEY: [u8; 32] = [3u8; 32];

    fn opened(value: &str, additional: &str) -> Result<Scalar, Opened> {
        open(&Cipher::new((&KEY).into()), value, additional)
    }

    #[test]
    fn values_open_into_their_types() {
        let cases: [(&[u8], &str, Scalar); 7] = [
            (b"hunter2", "str", Scalar::Str("hunter2".into())),
            (b"5432", "int", Scalar::Int(5432)),
            (b"-7", "int", Scalar::Int(-7)),
            (b"1.5", "float", Scalar::Float(1.5)),
            (b"True", "bool", Scalar::Bool(true)),
            (b"False", "bool", Scalar::Bool(false)),
            (&[0xff, 0], "str", Scalar::Bytes(vec![0xff, 0])),
        ];
        for (plain, kind, want) in cases {
            let value = seal(&KEY, plain, "a:b:", kind);
            assert_eq!(opened(&value, "a:b:"), Ok(want), "{kind}");
        }
    }

    #[test]
    fn a_value_opens_only_at_its_own_path_and_intact() {
        let value = seal(&KEY, b"hunter2", "db:password:", "str");
        assert_eq!(opened(&value, "db:user:"), Err(Opened::Failed));
        let other = Cipher::new((&[4u8; 32]).into());
        assert_eq!(
            open(&other, &value, "db:password:"),
            Err(Opened::Failed),
            "another data key"
        );
        // One bit of the data flipped.
        let (data, _, _, _) = fields(&value).expect("fields");
        let mut bytes = STANDARD.decode(data).expect("b64");
        bytes[0] ^= 1;
        let flipped = value.replacen(data, &STANDARD.encode(&bytes), 1);
        assert_eq!(opened(&flipped, "db:password:"), Err(Opened::Failed));
    }

    #[test]
    fn malformed_values_are_told_apart() {
        assert_eq!(opened("hunter2", "a:"), Err(Opened::NotEnc));
        assert_eq!(
            opened("ENC[AES256_GCM,data:!!,iv:AA==,tag:AA==,type:str]", "a:"),
            Err(Opened::Malformed)
        );
        // A 12-byte IV: not what sops writes.
        let short = format!(
            "ENC[AES256_GCM,data:AA==,iv:{},tag:{},type:str]",
            STANDARD.encode([0u8; 12]),
            STANDARD.encode([0u8; 16])
        );
        assert_eq!(opened(&short, "a:"), Err(Opened::Malformed));
        let value = seal(&KEY, b"x", "a:", "weird\ntype");
        assert_eq!(
            opened(&value, "a:"),
            Err(Opened::UnknownType("weird\ntype".into()))
        );
        let value = seal(&KEY, b"12abc", "a:", "int");
        assert_eq!(opened(&value, "a:"), Err(Opened::NotOfType("int")));
    }

    #[test]
    fn go_number_reading() {
        assert_eq!(parse_go_int("+12"), Some(12));
        assert_eq!(parse_go_int("1_000"), None);
        assert_eq!(parse_go_int("0x10"), None);
        assert_eq!(parse_go_int(""), None);
        assert_eq!(parse_go_float("1e21"), Some(1e21));
        assert_eq!(parse_go_float("-Inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_go_float("inf"), None);
        assert!(parse_go_float("NaN").is_some_and(f64::is_nan));
        assert_eq!(upper_hex(&[0x0a, 0xff]), "0AFF");
        assert!(equal(b"ab", b"ab") && !equal(b"ab", b"ac") && !equal(b"a", b"ab"));
    }
}
