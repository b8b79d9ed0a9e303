//! age identities, read the way sops reads them, and the file's data key.
//!
//! sops takes identities from `SOPS_AGE_KEY` (any number, separated by
//! whitespace or newlines) and from the file `SOPS_AGE_KEY_FILE` names
//! (one a line); in both, empty lines and lines starting with `#` are
//! skipped. Only X25519 identities (`AGE-SECRET-KEY-1...`, what
//! `age-keygen` writes) are read. No message here quotes an identity or
//! any part of a line that held one.

use std::io::Read;

use age::x25519;
use zeroize::Zeroizing;

use crate::metadata::Metadata;

/// How many recipients an error lists before summing up the rest.
const LISTED_RECIPIENTS: usize = 4;
/// How much of the start and of the end of a recipient an error quotes.
const RECIPIENT_HEAD: usize = 16;
const RECIPIENT_TAIL: usize = 6;

/// Identities read from one source.
pub(crate) struct Identities(Vec<x25519::Identity>);

impl Identities {
    /// No identities.
    pub(crate) fn new() -> Self {
        Identities(Vec::new())
    }

    /// Reads the identities in `text`, from `source` (named in errors).
    /// With `words`, every whitespace-separated word of a line is one
    /// (as sops reads `SOPS_AGE_KEY`); without, every line is one (as it
    /// reads a key file).
    pub(crate) fn read(&mut self, text: &str, source: &str, words: bool) -> Result<(), String> {
        if text
            .trim_start()
            .starts_with("-----BEGIN AGE ENCRYPTED FILE-----")
            || text.starts_with("age-encryption.org/")
        {
            return Err(format!(
                "{source} is itself age-encrypted (a passphrase-protected key file), which this \
                 provider cannot unlock"
            ));
        }
        for (number, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = if words {
                line.split_whitespace().collect()
            } else {
                vec![line]
            };
            for part in parts {
                let identity = part.parse::<x25519::Identity>().map_err(|_| {
                    let line = number + 1;
                    if part.starts_with("AGE-PLUGIN-") {
                        format!(
                            "{source}: line {line} holds an age plugin identity, which this \
                             provider does not support"
                        )
                    } else if part.starts_with("AGE-SECRET-KEY-PQ-") {
                        format!(
                            "{source}: line {line} holds a post-quantum age identity, which this \
                             provider does not support"
                        )
                    } else {
                        format!(
                            "{source}: line {line} is not an age identity (AGE-SECRET-KEY-1...)"
                        )
                    }
                })?;
                self.0.push(identity);
            }
        }
        Ok(())
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The recipients (public keys) of the identities: not secret.
    pub(crate) fn recipients(&self) -> Vec<String> {
        self.0.iter().map(|i| i.to_public().to_string()).collect()
    }

    /// The file's 32-byte data key, from the first of its age stanzas that
    /// one of the identities opens (the stanzas addressed to one of their
    /// recipients first). Errors say which keys the file has and, when
    /// none opens, which recipients it is for.
    pub(crate) fn data_key(&self, metadata: &Metadata) -> Result<Zeroizing<[u8; 32]>, String> {
        if metadata.age.is_empty() {
            return Err(if metadata.other_keys.is_empty() {
                "its `sops` section lists no keys for its data key".to_owned()
            } else {
                format!(
                    "its data key is encrypted only for {} keys, which this provider does not \
                     support (it uses age keys)",
                    metadata.other_keys.join(", ")
                )
            });
        }
        let ours = self.recipients();
        let mut order: Vec<usize> = (0..metadata.age.len()).collect();
        // Stable: addressed stanzas first, each group in file order.
        order.sort_by_key(|&i| !ours.contains(&metadata.age[i].recipient));
        let mut damaged = Vec::new();
        for i in order {
            let stanza = &metadata.age[i];
            match self.open(&stanza.enc) {
                Ok(Some(key)) => return Ok(key),
                Ok(None) => {}
                Err(why) => damaged.push(format!(
                    "the age key for {} {why}",
                    quoted(&stanza.recipient)
                )),
            }
        }
        let mut message = format!(
            "no age identity given can decrypt the data key: the file is for {}; the identities \
             given are for {}",
            recipient_list(metadata.age.iter().map(|s| s.recipient.as_str())),
            recipient_list(ours.iter().map(String::as_str))
        );
        if !damaged.is_empty() {
            message.push_str("; ");
            message.push_str(&damaged.join("; "));
        }
        if !metadata.other_keys.is_empty() {
            message.push_str(&format!(
                "; it also has {} keys, which this provider does not use",
                metadata.other_keys.join(", ")
            ));
        }
        Err(message)
    }

    /// The data key in one armored age stanza: `Ok(None)` when none of the
    /// identities is a recipient of it, `Err` (what is wrong) when it is
    /// damaged or does not hold a 32-byte key.
    fn open(&self, armored: &str) -> Result<Option<Zeroizing<[u8; 32]>>, &'static str> {
        let reader = age::armor::ArmoredReader::new(armored.as_bytes());
        let decryptor = age::Decryptor::new(reader).map_err(|e| match e {
            age::DecryptError::UnknownFormat => "is not an age file",
            _ => "has a damaged age header",
        })?;
        let identities = self.0.iter().map(|i| i as &dyn age::Identity);
        let mut plain = match decryptor.decrypt(identities) {
            Ok(reader) => reader,
            Err(age::DecryptError::NoMatchingKeys) => return Ok(None),
            Err(_) => return Err("has a damaged age header"),
        };
        // One byte more than a data key, to tell a longer payload.
        let mut key = Zeroizing::new(Vec::with_capacity(33));
        (&mut plain)
            .take(33)
            .read_to_end(&mut key)
            .map_err(|_| "has a damaged age payload")?;
        let key: [u8; 32] = key
            .as_slice()
            .try_into()
            .map_err(|_| "does not hold a 32-byte data key")?;
        Ok(Some(Zeroizing::new(key)))
    }
}

/// `recipient` (the file's text) for a message, shortened to its start
/// and end (`age1lxjv69cg32jj...auwd2x`): enough to tell keys apart, and
/// short enough for a message the host cuts at 300 characters.
fn quoted(recipient: &str) -> String {
    if recipient.is_empty() {
        return "(no recipient given)".into();
    }
    let chars: Vec<char> = recipient.chars().collect();
    if chars.len() <= RECIPIENT_HEAD + RECIPIENT_TAIL + 3 {
        return recipient.to_owned();
    }
    let head: String = chars[..RECIPIENT_HEAD].iter().collect();
    let tail: String = chars[chars.len() - RECIPIENT_TAIL..].iter().collect();
    format!("{head}...{tail}")
}

/// Recipients for a message: the first few, then how many more.
fn recipient_list<'a>(recipients: impl Iterator<Item = &'a str>) -> String {
    let all: Vec<&str> = recipients.collect();
    if all.is_empty() {
        return "no recipient".into();
    }
    let mut text = all
        .iter()
        .take(LISTED_RECIPIENTS)
        .map(|r| quoted(r))
        .collect::<Vec<_>>()
        .join(", ");
    if all.len() > LISTED_RECIPIENTS {
        text.push_str(&format!(" and {} more", all.len() - LISTED_RECIPIENTS));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";

    #[test]
    fn identities_are_read_as_sops_reads_them() {
        let mut ids = Identities::new();
        ids.read(
            &format!("# created: today\n# public key: age1...\n\n{KEY}\r\n"),
            "key file",
            false,
        )
        .expect("a key file");
        assert_eq!(ids.recipients().len(), 1);
        ids.read(&format!("{KEY} {KEY}\n#{KEY}\n{KEY}"), "SOPS_AGE_KEY", true)
            .expect("words");
        assert_eq!(ids.recipients().len(), 4);
    }

    #[test]
    fn errors_never_quote_the_line() {
        let secret = "AGE-SECRET-KEY-1NOTAVALIDKEYBUTSTILLSECRETLOOKING";
        for (text, words, says) in [
            (
                format!("{secret}\n"),
                false,
                "line 1 is not an age identity",
            ),
            (
                format!("\n{KEY} {secret}"),
                true,
                "line 2 is not an age identity",
            ),
            ("AGE-PLUGIN-YUBIKEY-1XYZ".to_owned(), false, "plugin"),
            (format!("{KEY} trailing"), false, "line 1 is not"),
        ] {
            let mut ids = Identities::new();
            let e = ids.read(&text, "SOPS_AGE_KEY", words).expect_err("refused");
            assert!(e.contains(says), "{e}");
            assert!(
                !e.contains("NOTAVALIDKEY") && !e.contains("trailing"),
                "{e}"
            );
        }
        let e = Identities::new()
            .read("-----BEGIN AGE ENCRYPTED FILE-----\n...", "keys.txt", false)
            .expect_err("encrypted");
        assert!(e.contains("passphrase"), "{e}");
    }

    #[test]
    fn recipients_are_listed_briefly() {
        let many: Vec<String> = (0..10).map(|i| format!("age1{i}")).collect();
        let text = recipient_list(many.iter().map(String::as_str));
        assert!(text.ends_with("age13 and 6 more"), "{text}");
        assert_eq!(
            quoted(&"x".repeat(100)).len(),
            RECIPIENT_HEAD + 3 + RECIPIENT_TAIL
        );
        assert_eq!(
            quoted("age1lxjv69cg32jj6kw2yucup2th5w6lm83fkty54cyh3chrjzgs6uyqauwd2x"),
            "age1lxjv69cg32jj...auwd2x"
        );
        assert_eq!(recipient_list(std::iter::empty()), "no recipient");
    }
}
