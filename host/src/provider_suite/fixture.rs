//! The secrets the suite asks a provider to serve, and the file formats it
//! writes them in.

use std::fmt;
use std::io;
use std::path::Path;

use base64::Engine;

/// A value of the fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FixtureValue {
    /// Text.
    Text(String),
    /// Bytes that are not UTF-8.
    Bytes(Vec<u8>),
}

impl FixtureValue {
    /// The value's bytes (a text's UTF-8).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            FixtureValue::Text(t) => t.as_bytes(),
            FixtureValue::Bytes(b) => b,
        }
    }
}

/// One secret of the fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureSecret {
    /// The full name.
    pub name: String,
    /// The value.
    pub value: FixtureValue,
}

/// A set of secrets, in name order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fixture {
    secrets: Vec<FixtureSecret>,
}

/// The name whose value the suite changes before a refresh.
pub(crate) const CHANGED: &str = "db_user";
/// The name the suite adds before a refresh.
pub(crate) const ADDED: &str = "db_extra";
/// The name the suite removes before a refresh.
pub(crate) const REMOVED: &str = "Db_upper";
/// The prefix of the names of the "many names" fixture.
pub(crate) const MANY: usize = 1_000;

impl Fixture {
    /// The standard secrets a provider serves for the suite, as far as
    /// `format` can hold them: names with `/` only in a format that nests,
    /// bytes only in one that holds them.
    pub fn standard(format: FixtureFormat) -> Self {
        let mut fixture = Fixture::default();
        for (name, value) in [
            ("db_password", "s3cr3t-canary"),
            (CHANGED, "billing"),
            ("api_key", "{\"id\": 7, \"key\": \"k\"}"),
            (REMOVED, "case"),
            ("a*b", "literal star"),
            ("b?c", "literal question mark"),
            ("café", "non-ASCII name"),
            ("empty", ""),
            ("multi", "line one\nline two\n"),
        ] {
            fixture.insert(name, FixtureValue::Text(value.to_owned()));
        }
        if format.nests() {
            for (name, value) in [
                ("app/db/password", "nested-canary"),
                ("app/db/user", "app"),
                ("app/token", "t0ken"),
            ] {
                fixture.insert(name, FixtureValue::Text(value.to_owned()));
            }
        }
        if format.holds_bytes() {
            fixture.insert("keystore", FixtureValue::Bytes(KEYSTORE.to_vec()));
        }
        fixture
    }

    /// The standard fixture after the suite's edit: one value changed, one
    /// name added, one removed.
    pub fn edited(format: FixtureFormat) -> Self {
        let mut fixture = Self::standard(format);
        fixture.insert(CHANGED, FixtureValue::Text("billing-2".into()));
        fixture.insert(ADDED, FixtureValue::Text("added-later".into()));
        fixture.secrets.retain(|s| s.name != REMOVED);
        fixture
    }

    /// The fixture without its bytes, for a provider that serves text
    /// only.
    pub fn text_only(mut self) -> Self {
        self.secrets
            .retain(|s| matches!(s.value, FixtureValue::Text(_)));
        self
    }

    /// 1,000 names (`many_0000`, ...), 64 bytes of text each.
    pub fn many() -> Self {
        let mut fixture = Fixture::default();
        for i in 0..MANY {
            let value = format!("{i:04}-{}", "v".repeat(59));
            fixture.insert(&format!("many_{i:04}"), FixtureValue::Text(value));
        }
        fixture
    }

    /// Sets `name` to `value`.
    pub fn insert(&mut self, name: &str, value: FixtureValue) {
        match self.secrets.binary_search_by(|s| s.name.as_str().cmp(name)) {
            Ok(at) => self.secrets[at].value = value,
            Err(at) => self.secrets.insert(
                at,
                FixtureSecret {
                    name: name.to_owned(),
                    value,
                },
            ),
        }
    }

    /// The secrets, in name order.
    pub fn secrets(&self) -> &[FixtureSecret] {
        &self.secrets
    }

    /// The value of `name`.
    pub fn value(&self, name: &str) -> Option<&FixtureValue> {
        self.secrets
            .iter()
            .find(|s| s.name == name)
            .map(|s| &s.value)
    }

    /// Whether some value of the fixture occurs in `text` (values of fewer
    /// than four characters, which occur anywhere, are not looked for).
    pub(crate) fn leaks_into(&self, text: &str) -> Option<&str> {
        self.secrets.iter().find_map(|s| match &s.value {
            FixtureValue::Text(v) if v.len() >= 4 && text.contains(v.as_str()) => {
                Some(s.name.as_str())
            }
            _ => None,
        })
    }
}

/// The bytes of `keystore`: not UTF-8.
const KEYSTORE: [u8; 8] = [0xfe, 0xff, b'k', b'e', b'y', 0x00, b'\n', 0x80];

/// How the suite writes a fixture into a directory for the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixtureFormat {
    /// One file per secret, named after it (no nesting; bytes as they are).
    Files,
    /// `secrets.json`: a JSON object, names with `/` as nested objects,
    /// bytes as `{"$base64": "..."}`.
    Json,
    /// `secrets.ini`: `key = "value"` lines, names `a/b/key` under the
    /// section `[a/b]`; text only.
    Ini,
}

impl FixtureFormat {
    /// Every format, for messages.
    pub const ALL: [FixtureFormat; 3] = [
        FixtureFormat::Files,
        FixtureFormat::Json,
        FixtureFormat::Ini,
    ];

    /// The format's name in a suite file.
    pub fn name(self) -> &'static str {
        match self {
            FixtureFormat::Files => "files",
            FixtureFormat::Json => "json",
            FixtureFormat::Ini => "ini",
        }
    }

    /// The format named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether names may hold `/`.
    pub fn nests(self) -> bool {
        !matches!(self, FixtureFormat::Files)
    }

    /// Whether values may be bytes.
    pub fn holds_bytes(self) -> bool {
        !matches!(self, FixtureFormat::Ini)
    }

    /// Writes `fixture` into `dir`, replacing what an earlier write left.
    pub fn write(self, fixture: &Fixture, dir: &Path) -> io::Result<()> {
        match self {
            FixtureFormat::Files => write_files(fixture, dir),
            FixtureFormat::Json => replace(&dir.join("secrets.json"), &json_text(fixture)),
            FixtureFormat::Ini => replace(&dir.join("secrets.ini"), &ini_text(fixture)),
        }
    }

    /// Writes a fixture the provider must refuse (a file cut off in the
    /// middle of a value), when the format can be malformed.
    pub fn write_malformed(self, fixture: &Fixture, dir: &Path) -> io::Result<bool> {
        let (file, text) = match self {
            FixtureFormat::Files => return Ok(false),
            FixtureFormat::Json => ("secrets.json", json_text(fixture)),
            FixtureFormat::Ini => ("secrets.ini", ini_text(fixture)),
        };
        // Cut inside the first value's quotes, after its first character.
        let cut = match text.find("s3cr3t") {
            Some(at) => at + "s3cr3t".len(),
            None => text.len() / 2,
        };
        replace(&dir.join(file), &text[..cut])?;
        Ok(true)
    }
}

impl fmt::Display for FixtureFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Writes `text` to `path` through a new file renamed over it, so a
/// provider never reads half a fixture.
fn replace(path: &Path, text: &str) -> io::Result<()> {
    let mut staged = path.as_os_str().to_owned();
    staged.push(".new");
    std::fs::write(&staged, text)?;
    std::fs::rename(&staged, path)
}

fn write_files(fixture: &Fixture, dir: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file()
            && fixture
                .value(&entry.file_name().to_string_lossy())
                .is_none()
        {
            std::fs::remove_file(entry.path())?;
        }
    }
    for secret in fixture.secrets() {
        let path = dir.join(&secret.name);
        if std::fs::read(&path).ok().as_deref() != Some(secret.value.as_bytes()) {
            std::fs::write(path, secret.value.as_bytes())?;
        }
    }
    Ok(())
}

/// The fixture as one JSON document (names split at `/` into objects).
fn json_text(fixture: &Fixture) -> String {
    let mut root = serde_json::Map::new();
    for secret in fixture.secrets() {
        let mut parts: Vec<&str> = secret.name.split('/').collect();
        let leaf = parts.pop().unwrap_or_default();
        let mut object = &mut root;
        for part in parts {
            let entry = object
                .entry(part.to_owned())
                .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
            if !entry.is_object() {
                *entry = serde_json::Value::Object(serde_json::Map::new());
            }
            let serde_json::Value::Object(inner) = entry else {
                unreachable!("made an object above");
            };
            object = inner;
        }
        let value = match &secret.value {
            FixtureValue::Text(t) => serde_json::Value::String(t.clone()),
            FixtureValue::Bytes(b) => serde_json::json!({
                "$base64": base64::engine::general_purpose::STANDARD.encode(b)
            }),
        };
        object.insert(leaf.to_owned(), value);
    }
    let mut text = serde_json::to_string_pretty(&serde_json::Value::Object(root))
        .unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// The fixture as an INI file: names without `/` first, then one section
/// per parent path; every value double-quoted with escapes.
fn ini_text(fixture: &Fixture) -> String {
    let mut sections: Vec<(&str, Vec<(&str, &FixtureValue)>)> = vec![("", Vec::new())];
    for secret in fixture.secrets() {
        let (section, key) = secret.name.rsplit_once('/').unwrap_or(("", &secret.name));
        match sections.iter_mut().find(|(s, _)| *s == section) {
            Some((_, keys)) => keys.push((key, &secret.value)),
            None => sections.push((section, vec![(key, &secret.value)])),
        }
    }
    let mut text = String::from("; written by the pp-secrets provider suite\n");
    for (section, keys) in sections {
        if !section.is_empty() {
            text.push_str(&format!("\n[{section}]\n"));
        }
        for (key, value) in keys {
            let FixtureValue::Text(value) = value else {
                continue;
            };
            text.push_str(key);
            text.push_str(" = \"");
            for c in value.chars() {
                match c {
                    '\\' => text.push_str("\\\\"),
                    '"' => text.push_str("\\\""),
                    '\n' => text.push_str("\\n"),
                    '\r' => text.push_str("\\r"),
                    '\t' => text.push_str("\\t"),
                    c => text.push(c),
                }
            }
            text.push_str("\"\n");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_formats_hold_what_they_say() {
        let files = Fixture::standard(FixtureFormat::Files);
        assert!(files.secrets().iter().all(|s| !s.name.contains('/')));
        assert!(files.value("keystore").is_some());
        let ini = Fixture::standard(FixtureFormat::Ini);
        assert!(ini.value("app/db/password").is_some());
        assert!(ini.value("keystore").is_none());
    }

    #[test]
    fn json_nests_and_writes_bytes_as_base64() {
        let text = json_text(&Fixture::standard(FixtureFormat::Json));
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(value["app"]["db"]["password"], "nested-canary");
        assert_eq!(value["keystore"]["$base64"], "/v9rZXkACoA=");
        assert_eq!(value["multi"], "line one\nline two\n");
    }

    #[test]
    fn ini_quotes_and_sections() {
        let text = ini_text(&Fixture::standard(FixtureFormat::Ini));
        assert!(
            text.contains("multi = \"line one\\nline two\\n\"\n"),
            "{text}"
        );
        assert!(text.contains("api_key = \"{\\\"id\\\": 7, \\\"key\\\": \\\"k\\\"}\"\n"));
        assert!(text.contains("\n[app/db]\npassword = \"nested-canary\"\nuser = \"app\"\n"));
        assert!(text.contains("\n[app]\ntoken = \"t0ken\"\n"));
    }

    #[test]
    fn the_edit_changes_adds_and_removes_one_each() {
        let before = Fixture::standard(FixtureFormat::Files);
        let after = Fixture::edited(FixtureFormat::Files);
        assert_ne!(before.value(CHANGED), after.value(CHANGED));
        assert!(before.value(ADDED).is_none() && after.value(ADDED).is_some());
        assert!(before.value(REMOVED).is_some() && after.value(REMOVED).is_none());
    }

    #[test]
    fn a_malformed_fixture_stops_inside_the_first_canary() {
        let dir = std::env::temp_dir().join(format!("pp-suite-fixture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let fixture = Fixture::standard(FixtureFormat::Json);
        assert!(
            FixtureFormat::Json
                .write_malformed(&fixture, &dir)
                .expect("writes")
        );
        let text = std::fs::read_to_string(dir.join("secrets.json")).expect("reads");
        assert!(
            text.ends_with("\"s3cr3t") && !text.contains("s3cr3t-canary"),
            "{text}"
        );
        std::fs::remove_dir_all(&dir).expect("cleans up");
    }
}
