//! A `pp-secrets` provider component serving a SOPS-encrypted file (YAML,
//! JSON or dotenv, with age keys), decrypted inside the sandbox.
//!
//! Configured as a `type: wasm` backend of the host:
//!
//! ```yaml
//! secrets:
//!   backends:
//!     sops:
//!       type: wasm
//!       path: pp_secrets_sops_provider.wasm
//!       config: { file: /etc/app/secrets.enc.yaml }
//!       allow:
//!         dirs: [/etc/app]          # the file's directory
//!         env: [SOPS_AGE_KEY]       # the age identity, as sops reads it
//! ```
//!
//! - **Settings** (`config`): `file`, the absolute path of the SOPS file
//!   (`.yaml`, `.yml`, `.json` or `.env`, or any name with `format: yaml`,
//!   `json` or `dotenv`); optionally `age_key_file`, the absolute path of
//!   an age key file, and `age_key_env`, the variable holding identities
//!   (default `SOPS_AGE_KEY`). Any other setting is an error.
//! - **Identities**, read as sops reads them: every identity in the
//!   variable (`SOPS_AGE_KEY`: several, separated by whitespace or lines,
//!   `#` lines skipped) and in the key file (`age_key_file`, else the file
//!   `SOPS_AGE_KEY_FILE` names when that variable is granted; one a line).
//!   Only X25519 identities (`AGE-SECRET-KEY-1...`, from `age-keygen`).
//! - **Names** are the file's keys: `api_key`; nested mappings joined with
//!   `/` (`database/password`), the whole mapping under its own name as a
//!   JSON object (`database`); list items by index (`hosts/0`), the whole
//!   list as a JSON array (`hosts`). Values are text as `sops -d` prints
//!   them (`5432`, `true`, `1.5`); a `null` is no name. See `names.rs`.
//! - **Integrity first.** The whole file is decrypted and its MAC checked
//!   before anything is served: a changed value, an added, removed or
//!   reordered key, a value moved to another key, a wrong identity or a
//!   file for other recipients is a backend error saying which, and no
//!   value of that file is served. Values sops left unencrypted
//!   (`unencrypted_suffix` and the other rules) are served as they are;
//!   they are in the MAC unless the file says `mac_only_encrypted`.
//! - **Versions.** Every value's version is the file's identity (size,
//!   times, inode; see `status.rs`). Each call looks at the file (one
//!   `stat`) and decrypts it again only when that changed, or while it
//!   changed less than 2 seconds ago (then values carry no version). A
//!   refresh's change check reads nothing when the file is unchanged.
//! - **Bounds.** Files over [`MAX_FILE_BYTES`] and key files over
//!   [`MAX_KEY_FILE_BYTES`] are refused. The plaintext is held only in
//!   this instance's memory and wiped when it is replaced or dropped.
//!   Errors name the file, keys and recipients, never a value or an
//!   identity.

mod decrypt;
mod identity;
mod metadata;
mod names;
mod status;
mod tree;
mod values;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use pp_secrets_guest::file_version::Stamp;
use pp_secrets_guest::{
    ChangeSet, Changes, Config, Error, Held, Matched, Pattern, Provider, Value,
};
use zeroize::{Zeroize, Zeroizing};

use decrypt::Plain;
use identity::Identities;
use names::{Names, Slot, node_at};
use tree::{Format, Node};
use values::Served;

/// The largest SOPS file read, in bytes (4 MiB: a file of 1,000 secrets
/// is about 150 KiB). Decrypting takes a few times the file's size in
/// memory; a file near the cap needs `limits.memory_mb` above the default.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The largest age key file read, in bytes.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// The variable sops reads identities from, and the default of
/// `age_key_env`.
const DEFAULT_KEY_ENV: &str = "SOPS_AGE_KEY";

/// The variable naming a key file, as sops reads it.
const KEY_FILE_ENV: &str = "SOPS_AGE_KEY_FILE";

/// The settings `config` may hold.
const SETTINGS: [&str; 4] = ["file", "format", "age_key_file", "age_key_env"];

/// Serves one SOPS file.
pub struct SopsProvider {
    file: PathBuf,
    format: Format,
    key_env: String,
    key_file: Option<PathBuf>,
    state: RefCell<Option<Loaded>>,
    decryptions: Cell<u64>,
}

/// What the last look at the file found.
struct Loaded {
    stamp: Stamp,
    /// Whether `stamp` was settled before the file was read: only then
    /// does the same stamp later mean the same content.
    settled: bool,
    outcome: Result<Decrypted, String>,
}

/// A decrypted file whose MAC matched, with its names.
struct Decrypted {
    plain: Plain,
    names: Names,
}

impl Drop for Decrypted {
    fn drop(&mut self) {
        self.plain.iter_mut().for_each(|(_, node)| node.zeroize());
    }
}

impl Provider for SopsProvider {
    fn create(config: Config) -> Result<Self, Error> {
        let provider = SopsProvider::configure(&config)?;
        // Decrypt and check now, so that a wrong key or a damaged file is
        // the backend's set-up error.
        provider.with_current(SystemTime::now(), |_, _| ())?;
        Ok(provider)
    }

    fn get(&self, name: &str) -> Result<Value, Error> {
        self.get_at(name, SystemTime::now())
    }

    fn list(&self, pattern: &Pattern) -> Result<Vec<String>, Error> {
        self.with_current(SystemTime::now(), |decrypted, _| {
            decrypted
                .names
                .iter()
                .filter(|name| pattern.matches(name))
                .map(str::to_owned)
                .collect()
        })
    }

    fn get_matching(&self, pattern: &Pattern) -> Result<Vec<Matched>, Error> {
        self.with_current(SystemTime::now(), |decrypted, version| {
            decrypted
                .names
                .iter()
                .filter(|name| pattern.matches(name))
                .map(|name| Matched {
                    name: name.to_owned(),
                    value: self.value(decrypted, name, version),
                })
                .collect()
        })
    }

    fn changes(&self, held: &[Held], patterns: &[Pattern]) -> Result<Changes, Error> {
        self.changes_at(held, patterns, SystemTime::now())
    }
}

impl SopsProvider {
    /// Reads the settings; touches no file.
    fn configure(config: &Config) -> Result<Self, Error> {
        if let Some(unknown) = config.keys().find(|k| !SETTINGS.contains(&k.as_str())) {
            return Err(Error::backend(format!(
                "the sops provider has no setting {unknown:?} (its settings: {})",
                SETTINGS.join(", ")
            )));
        }
        let file = config
            .get("file")
            .filter(|f| !f.is_empty())
            .ok_or_else(|| Error::backend("the sops provider needs `config: { file: PATH }`"))?;
        let file = absolute(file, "config file")?;
        let format = match config.get("format") {
            Some(name) => Format::from_name(name).ok_or_else(|| {
                Error::backend(format!(
                    "config format {name:?} is not one of yaml, json, dotenv"
                ))
            })?,
            None => Format::from_path(&file.to_string_lossy()).ok_or_else(|| {
                Error::backend(format!(
                    "cannot tell the format of {} from its name (.yaml, .yml, .json or .env): \
                     give `format: yaml`, `json` or `dotenv`",
                    file.display()
                ))
            })?,
        };
        let key_env = match config.get("age_key_env") {
            Some(name) if name.is_empty() || name.contains(['=', '\0']) => {
                return Err(Error::backend(
                    "config age_key_env must be the name of an environment variable",
                ));
            }
            Some(name) => name.clone(),
            None => DEFAULT_KEY_ENV.to_owned(),
        };
        let key_file = match config.get("age_key_file") {
            Some(path) => Some(absolute(path, "config age_key_file")?),
            None => match std::env::var(KEY_FILE_ENV) {
                Ok(path) if !path.is_empty() => Some(absolute(&path, KEY_FILE_ENV)?),
                _ => None,
            },
        };
        Ok(SopsProvider {
            file,
            format,
            key_env,
            key_file,
            state: RefCell::new(None),
            decryptions: Cell::new(0),
        })
    }

    /// Runs `serve` on the file as it is now (decrypting it when it
    /// changed since the last call, or changed too recently to tell), with
    /// the version its values carry.
    fn with_current<T>(
        &self,
        now: SystemTime,
        serve: impl FnOnce(&Decrypted, Option<&str>) -> T,
    ) -> Result<T, Error> {
        let stamp = status::stat(&self.file).map_err(|e| self.stat_error(&e))?;
        let settled = stamp.settled(now);
        let fresh = matches!(
            &*self.state.borrow(),
            Some(loaded) if loaded.stamp == stamp && loaded.settled
        );
        if !fresh {
            // Drop (and wipe) what was held before decrypting again.
            self.state.borrow_mut().take();
            let outcome = self.decrypt(&stamp);
            *self.state.borrow_mut() = Some(Loaded {
                stamp,
                settled,
                outcome,
            });
        }
        let state = self.state.borrow();
        let Some(loaded) = state.as_ref() else {
            return Err(Error::backend("internal: nothing loaded"));
        };
        match &loaded.outcome {
            Ok(decrypted) => {
                let version = settled.then(|| stamp.tag());
                Ok(serve(decrypted, version.as_deref()))
            }
            Err(why) => Err(Error::backend(format!(
                "sops file {}: {why}",
                self.file.display()
            ))),
        }
    }

    /// The error for a file that could not be looked at.
    fn stat_error(&self, e: &std::io::Error) -> Error {
        let file = self.file.display();
        Error::backend(match e.kind() {
            std::io::ErrorKind::NotFound => format!("sops file {file} does not exist"),
            std::io::ErrorKind::PermissionDenied => {
                format!("sops file {file} is not readable: grant its directory in allow.dirs")
            }
            std::io::ErrorKind::InvalidInput => format!("sops file {file} is not a regular file"),
            _ => format!("cannot look at sops file {file}: {e}"),
        })
    }

    /// Reads, decrypts and checks the file, which had `stamp`.
    fn decrypt(&self, stamp: &Stamp) -> Result<Decrypted, String> {
        self.decryptions.set(self.decryptions.get() + 1);
        if stamp.size() > MAX_FILE_BYTES {
            return Err(format!(
                "it is {} bytes, more than the {MAX_FILE_BYTES} this provider reads",
                stamp.size()
            ));
        }
        let bytes =
            read_bounded(&self.file, MAX_FILE_BYTES).map_err(|e| format!("cannot read it: {e}"))?;
        let document = tree::parse(self.format, &bytes)
            .map_err(|e| format!("not a {} SOPS file: {e}", self.format.name()))?;
        let metadata = metadata::read(&document.metadata)?;
        let identities = self.identities()?;
        let data_key = identities.data_key(&metadata)?;
        let plain = decrypt::decrypt(document.data, &metadata, &data_key)?;
        let names = Names::build(&plain);
        Ok(Decrypted { plain, names })
    }

    /// The identities from the granted variable and the key file.
    fn identities(&self) -> Result<Identities, String> {
        let mut identities = Identities::new();
        let mut sources = 0;
        match std::env::var(&self.key_env) {
            Ok(text) => {
                let text = Zeroizing::new(text);
                identities.read(&text, &self.key_env, true)?;
                sources += 1;
            }
            Err(std::env::VarError::NotUnicode(raw)) => {
                drop(Zeroizing::new(raw.into_encoded_bytes()));
                return Err(format!("{} is not UTF-8 text", self.key_env));
            }
            Err(std::env::VarError::NotPresent) => {}
        }
        if let Some(path) = &self.key_file {
            let source = format!("age key file {}", path.display());
            let bytes = Zeroizing::new(
                read_bounded(path, MAX_KEY_FILE_BYTES)
                    .map_err(|e| format!("cannot read {source}: {e}"))?,
            );
            let text =
                std::str::from_utf8(&bytes).map_err(|_| format!("{source} is not UTF-8 text"))?;
            identities.read(text, &source, false)?;
            sources += 1;
        }
        if identities.is_empty() {
            return Err(if sources == 0 {
                format!(
                    "no age identity: set {} and grant it (allow.env), or give age_key_file (or \
                     {KEY_FILE_ENV}) with its directory in allow.dirs",
                    self.key_env
                )
            } else {
                format!("no age identity in {}", self.sources())
            });
        }
        Ok(identities)
    }

    /// The identity sources, for messages.
    fn sources(&self) -> String {
        match &self.key_file {
            Some(path) => format!("{} or age key file {}", self.key_env, path.display()),
            None => self.key_env.clone(),
        }
    }

    /// [`Provider::get`] at the time `now`.
    fn get_at(&self, name: &str, now: SystemTime) -> Result<Value, Error> {
        self.with_current(now, |decrypted, version| {
            self.value(decrypted, name, version)
        })?
    }

    /// The value of `name` in `decrypted`, with `version`.
    fn value(
        &self,
        decrypted: &Decrypted,
        name: &str,
        version: Option<&str>,
    ) -> Result<Value, Error> {
        let at = match decrypted.names.get(name) {
            None => return Err(Error::not_found(name)),
            Some(Slot::Ambiguous(count)) => {
                return Err(Error::backend(format!(
                    "{name} is ambiguous in sops file {}: {count} entries have that name (a \
                     duplicated key, or a key with `/` that spells a nested name)",
                    self.file.display()
                )));
            }
            Some(Slot::At(at)) => at,
        };
        let node = node_at(&decrypted.plain, at).ok_or_else(|| Error::not_found(name))?;
        let value = match node {
            Node::Scalar(scalar) => match values::scalar_text(scalar, self.format) {
                Served::Text(text) => Value::text(text),
                Served::Bytes(bytes) => Value::bytes(bytes),
            },
            Node::Map(_) | Node::List(_) => Value::text(values::json_text(node)),
        };
        Ok(match version {
            Some(version) => value.with_version(version),
            None => value,
        })
    }

    /// [`Provider::changes`] at the time `now`: one look at the file, and
    /// decrypting it only when it changed.
    fn changes_at(
        &self,
        held: &[Held],
        patterns: &[Pattern],
        now: SystemTime,
    ) -> Result<Changes, Error> {
        self.with_current(now, |decrypted, version| {
            let held_names: HashSet<&str> = held.iter().map(|h| h.name.as_str()).collect();
            let current = held
                .iter()
                .map(|h| h.name.as_str())
                .filter(|name| decrypted.names.get(name).is_some())
                .chain(decrypted.names.iter().filter(|name| {
                    !held_names.contains(name) && patterns.iter().any(|p| p.matches(name))
                }))
                .map(|name| (name, version));
            Changes::Known(ChangeSet::compare(held, current))
        })
    }
}

/// `path` as an absolute path, or an error naming `what`.
fn absolute(path: &str, what: &str) -> Result<PathBuf, Error> {
    let path = PathBuf::from(path);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(Error::backend(format!(
            "{what} {} must be an absolute path",
            path.display()
        )))
    }
}

/// The bytes of the file at `path`, at most `cap` of them (a longer file
/// is an error).
fn read_bounded(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        bytes.zeroize();
        return Err(std::io::Error::other(format!(
            "it is longer than {cap} bytes"
        )));
    }
    Ok(bytes)
}

// The component's exports exist only in the Wasm build; natively this crate
// is a library for its unit tests.
#[cfg(target_arch = "wasm32")]
pp_secrets_guest::export_provider!(SopsProvider);

#[cfg(test)]
mod tests;
