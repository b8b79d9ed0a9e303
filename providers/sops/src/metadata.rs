//! The `sops` section of a file: which keys hold the data key, the MAC,
//! and the rule that says which values are encrypted.

use regex_lite::Regex;

use crate::tree::{Node, Scalar};

/// One age recipient of the file's data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AgeStanza {
    /// The recipient (`age1...`), as the file says (not trusted: the
    /// decryption itself tells whether an identity fits).
    pub(crate) recipient: String,
    /// The data key, age-encrypted to the recipient, ASCII-armored.
    pub(crate) enc: String,
}

/// Which values sops encrypted: the one rule a file may have.
#[derive(Debug, Clone)]
pub(crate) enum Rule {
    /// Values under a key ending with the suffix are plain (sops's default,
    /// `_unencrypted`).
    UnencryptedSuffix(String),
    /// Only values under a key ending with the suffix are encrypted.
    EncryptedSuffix(String),
    /// Values under a key matching the regex are plain.
    UnencryptedRegex(Regex),
    /// Only values under a key matching the regex are encrypted.
    EncryptedRegex(Regex),
}

impl Rule {
    /// Whether sops encrypted the value at `path` (the mapping keys leading
    /// to it; list items add none): sops's own test, on every key of the
    /// path.
    pub(crate) fn encrypts(&self, path: &[&str]) -> bool {
        match self {
            Rule::UnencryptedSuffix(suffix) => !path.iter().any(|k| k.ends_with(suffix.as_str())),
            Rule::EncryptedSuffix(suffix) => path.iter().any(|k| k.ends_with(suffix.as_str())),
            Rule::UnencryptedRegex(regex) => !path.iter().any(|k| regex.is_match(k)),
            Rule::EncryptedRegex(regex) => path.iter().any(|k| regex.is_match(k)),
        }
    }
}

/// What the provider needs from a file's `sops` section.
#[derive(Debug)]
pub(crate) struct Metadata {
    /// The age recipients, in file order.
    pub(crate) age: Vec<AgeStanza>,
    /// The other key types holding the data key (`pgp`, `kms`, ...), which
    /// this provider cannot use, in a fixed order.
    pub(crate) other_keys: Vec<&'static str>,
    /// `lastmodified`, the MAC's additional data (as sops formats it).
    pub(crate) last_modified: String,
    /// `mac`: the MAC, encrypted with the data key.
    pub(crate) mac: String,
    /// Which values are encrypted.
    pub(crate) rule: Rule,
    /// `mac_only_encrypted`: whether the MAC covers only encrypted values.
    pub(crate) mac_only_encrypted: bool,
}

/// Key types sops knows besides age, by their metadata names.
const OTHER_KEY_TYPES: [&str; 6] = ["pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"];

/// The metadata of a file. Errors say what is wrong with the `sops`
/// section; they quote its names, never its values.
pub(crate) fn read(node: &Node) -> Result<Metadata, String> {
    let Node::Map(entries) = node else {
        return Err("its `sops` section is not a mapping".into());
    };
    let field = |name: &str| entries.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    let text = |name: &str| -> Result<Option<&str>, String> {
        match field(name) {
            None | Some(Node::Scalar(Scalar::Null)) => Ok(None),
            Some(Node::Scalar(Scalar::Str(s))) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("sops.{name} is not a string")),
        }
    };

    let (age, other_keys) = match field("key_groups") {
        None | Some(Node::Scalar(Scalar::Null)) => keys_of(entries, "sops")?,
        Some(Node::List(groups)) => match groups.as_slice() {
            [] => keys_of(entries, "sops")?,
            [Node::Map(group)] => keys_of(group, "sops.key_groups[0]")?,
            [Node::Map(_), ..] => {
                return Err(format!(
                    "its data key is split across {} key groups (Shamir's secret sharing), \
                     which this provider does not support",
                    groups.len()
                ));
            }
            _ => return Err("sops.key_groups is not a list of mappings".into()),
        },
        Some(_) => return Err("sops.key_groups is not a list".into()),
    };

    let last_modified = text("lastmodified")?
        .ok_or("its `sops` section has no lastmodified")?
        .to_owned();
    let mac = text("mac")?
        .filter(|m| !m.is_empty())
        .ok_or("its `sops` section has no mac: it cannot be checked, so it is not served")?
        .to_owned();

    let mut rules = Vec::new();
    for name in [
        "unencrypted_suffix",
        "encrypted_suffix",
        "unencrypted_regex",
        "encrypted_regex",
        "unencrypted_comment_regex",
        "encrypted_comment_regex",
    ] {
        if let Some(value) = text(name)?.filter(|v| !v.is_empty()) {
            rules.push((name, value));
        }
    }
    let regex = |name: &str, pattern: &str| {
        Regex::new(pattern).map_err(|_| {
            format!(
                "sops.{name} is a regular expression this provider cannot compile (Unicode \
                 classes such as \\pL are not supported)"
            )
        })
    };
    let rule = match rules.as_slice() {
        [] => Rule::UnencryptedSuffix("_unencrypted".into()),
        [("unencrypted_suffix", s)] => Rule::UnencryptedSuffix((*s).to_owned()),
        [("encrypted_suffix", s)] => Rule::EncryptedSuffix((*s).to_owned()),
        [("unencrypted_regex", r)] => Rule::UnencryptedRegex(regex("unencrypted_regex", r)?),
        [("encrypted_regex", r)] => Rule::EncryptedRegex(regex("encrypted_regex", r)?),
        [(name, _)] => {
            return Err(format!(
                "it uses sops.{name}, which decides by YAML comments; this provider does not \
                 read comments, so it does not serve such files"
            ));
        }
        _ => {
            return Err(format!(
                "its `sops` section has more than one of {}, which sops does not allow",
                rules.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ));
        }
    };

    let mac_only_encrypted = match field("mac_only_encrypted") {
        None | Some(Node::Scalar(Scalar::Null)) => false,
        Some(Node::Scalar(Scalar::Bool(b))) => *b,
        // The dotenv format writes it as text.
        Some(Node::Scalar(Scalar::Str(s))) if s == "true" => true,
        Some(Node::Scalar(Scalar::Str(s))) if s == "false" => false,
        Some(_) => return Err("sops.mac_only_encrypted is not true or false".into()),
    };

    Ok(Metadata {
        age,
        other_keys,
        last_modified: normalized_time(&last_modified)
            .ok_or("sops.lastmodified is not an RFC 3339 time")?,
        mac,
        rule,
        mac_only_encrypted,
    })
}

/// The age stanzas and the other key types found in the mapping `entries`
/// (the `sops` section, or its one key group), which is at `at`.
fn keys_of(
    entries: &[(String, Node)],
    at: &str,
) -> Result<(Vec<AgeStanza>, Vec<&'static str>), String> {
    let mut age = Vec::new();
    for (key, value) in entries.iter().filter(|(k, _)| k == "age") {
        let items = match value {
            Node::List(items) => items,
            Node::Scalar(Scalar::Null) => continue,
            _ => return Err(format!("{at}.{key} is not a list")),
        };
        for (index, item) in items.iter().enumerate() {
            let Node::Map(fields) = item else {
                return Err(format!("{at}.age[{index}] is not a mapping"));
            };
            let get = |name: &str| {
                fields
                    .iter()
                    .find(|(k, _)| k == name)
                    .and_then(|(_, v)| match v {
                        Node::Scalar(Scalar::Str(s)) => Some(s.clone()),
                        _ => None,
                    })
            };
            let recipient = get("recipient").unwrap_or_default();
            let enc = get("enc").ok_or_else(|| format!("{at}.age[{index}] has no enc"))?;
            age.push(AgeStanza { recipient, enc });
        }
    }
    let other = OTHER_KEY_TYPES
        .iter()
        .copied()
        .filter(|name| {
            entries
                .iter()
                .any(|(k, v)| k == name && matches!(v, Node::List(items) if !items.is_empty()))
        })
        .collect();
    Ok((age, other))
}

/// `lastmodified` as sops formats it for the MAC's additional data: sops
/// parses the time (RFC 3339) and formats it again, which drops a fraction
/// of a second and writes a zero offset as `Z`. `None` when it is not an
/// RFC 3339 time.
pub(crate) fn normalized_time(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    // YYYY-MM-DDTHH:MM:SS
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    let at = |i: usize, c: u8| bytes.get(i) == Some(&c);
    let shaped = digits(0..4)
        && at(4, b'-')
        && digits(5..7)
        && at(7, b'-')
        && digits(8..10)
        && (at(10, b'T') || at(10, b't'))
        && digits(11..13)
        && at(13, b':')
        && digits(14..16)
        && at(16, b':')
        && digits(17..19);
    if !shaped {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 {
            return None;
        }
        rest = &fraction[end..];
    }
    let zone = match rest {
        "Z" | "z" | "+00:00" | "-00:00" => "Z".to_owned(),
        _ => {
            let b = rest.as_bytes();
            let ok = b.len() == 6
                && (b[0] == b'+' || b[0] == b'-')
                && b[1..3].iter().all(u8::is_ascii_digit)
                && b[3] == b':'
                && b[4..6].iter().all(u8::is_ascii_digit);
            if !ok {
                return None;
            }
            rest.to_owned()
        }
    };
    Some(format!("{}T{}{zone}", &text[..10], &text[11..19]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_formatted_as_sops_formats_them() {
        assert_eq!(
            normalized_time("2026-12-02T19:26:26Z").as_deref(),
            Some("2026-12-02T19:26:26Z")
        );
        assert_eq!(
            normalized_time("2026-12-02T19:26:26.123456Z").as_deref(),
            Some("2026-12-02T19:26:26Z")
        );
        assert_eq!(
            normalized_time("2026-12-02T19:26:26+00:00").as_deref(),
            Some("2026-12-02T19:26:26Z")
        );
        assert_eq!(
            normalized_time("2026-12-02T19:26:26+02:00").as_deref(),
            Some("2026-12-02T19:26:26+02:00")
        );
        for bad in [
            "",
            "2026-12-02",
            "2026-12-02T19:26:26",
            "2026-12-02T19:26:26.Z",
            "2026-12-02T19:26:26+2:00",
            "2026-12-02 19:26:26Z",
            "x026-12-02T19:26:26Z",
            "2026-12-02T19:26:26Zjunk",
        ] {
            assert_eq!(normalized_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn rules_test_every_key_of_the_path() {
        let rule = Rule::UnencryptedSuffix("_unencrypted".into());
        assert!(rule.encrypts(&["a", "b"]));
        assert!(!rule.encrypts(&["a_unencrypted", "b"]));
        assert!(!rule.encrypts(&["a", "b_unencrypted"]));
        let rule = Rule::EncryptedSuffix("_enc".into());
        assert!(!rule.encrypts(&["a", "b"]));
        assert!(rule.encrypts(&["a_enc", "b"]));
        let rule = Rule::EncryptedRegex(Regex::new("^(data|stringData)$").expect("regex"));
        assert!(rule.encrypts(&["data", "x"]));
        assert!(!rule.encrypts(&["metadata", "name"]));
        let rule = Rule::UnencryptedRegex(Regex::new("public").expect("regex"));
        assert!(!rule.encrypts(&["a_public_key"]));
        assert!(rule.encrypts(&["private"]));
    }
}
