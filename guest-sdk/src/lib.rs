//! Write secrets providers for `pp-secrets` as WebAssembly components.
//!
//! A provider is one implementation of [`Provider`] plus one
//! [`export_provider!`] line; build it with
//! `cargo build --release --target wasm32-wasip2` and point a `type: wasm`
//! backend at the `.wasm` file. The component targets
//! `processpype:secrets@0.2.0` (`wit/provider.wit`, world
//! `provider-component`): the host creates one provider per instance from
//! the backend's `config` map ([`Provider::create`]), then calls `get`,
//! `list`, `get_matching` and `changes` on it with *full* names and
//! patterns (the backend prefix already applied).
//!
//! ```
//! use std::collections::BTreeMap;
//! use pp_secrets_guest::{Config, Error, Pattern, Provider, Value};
//!
//! /// Serves the entries of its `config` map whose keys start with `secret.`.
//! struct FromConfig(BTreeMap<String, String>);
//!
//! impl Provider for FromConfig {
//!     fn create(config: Config) -> Result<Self, Error> {
//!         Ok(FromConfig(
//!             config
//!                 .into_iter()
//!                 .filter_map(|(k, v)| Some((k.strip_prefix("secret.")?.to_owned(), v)))
//!                 .collect(),
//!         ))
//!     }
//!
//!     fn get(&self, name: &str) -> Result<Value, Error> {
//!         self.0.get(name).map(Value::text).ok_or_else(|| Error::not_found(name))
//!     }
//!
//!     fn list(&self, pattern: &Pattern) -> Result<Vec<String>, Error> {
//!         Ok(self.0.keys().filter(|k| pattern.matches(k)).cloned().collect())
//!     }
//! }
//!
//! pp_secrets_guest::export_provider!(FromConfig);
//! # fn main() {}
//! ```
//!
//! That is a whole provider. The rest is optional:
//!
//! - **Bytes.** A [`Value`] is text or bytes ([`Value::text`],
//!   [`Value::bytes`], [`Value::text_or_bytes`], or `.into()` from a
//!   `String`, `&str` or `Vec<u8>`). Use bytes for binary secrets (key
//!   stores, keytabs): the host never reads them as text.
//! - **Versions.** [`Value::with_version`] tags a value with an opaque
//!   version that changes whenever the value does (a revision, a file's
//!   identity). The host hands versions back to [`Provider::changes`].
//!   For values read from files, [`file_version`] gives a file's version
//!   from its size, times and identity, without opening it.
//! - **Bulk reads.** [`Provider::get_matching`] lists, then gets each name;
//!   override it when the backend can fetch many secrets in one request.
//! - **Change detection.** [`Provider::changes`] answers
//!   [`Changes::Unknown`] (the host re-reads everything it holds); override
//!   it when the backend can tell cheaply what changed, and build the answer
//!   with [`ChangeSet::compare`].
//!
//! [`Pattern`] is the same glob matcher the host uses, so a provider lists
//! exactly the names the host would.
//!
//! # Building for 0.1.0 hosts
//!
//! Hosts keep loading components of `processpype:secrets@0.1.0`
//! (`wit/v0.1.0/provider.wit`: free functions, text only). The SDK's cargo
//! feature `wit-0-1` builds the same provider as such a component: give the
//! provider's crate a feature of the same name that turns the SDK's on,
//!
//! ```toml
//! [features]
//! wit-0-1 = ["pp-secrets-guest/wit-0-1"]
//! ```
//!
//! and build it with `--features wit-0-1`; [`export_provider!`] then exports
//! 0.1.0's `backend` interface instead. The choice is the provider crate's
//! own feature (not only the SDK's), so a workspace can build a 0.1.0 and a
//! 0.2.0 provider in one `cargo build` (cargo turns the SDK's features on for
//! every crate built together). In a 0.1.0 build, text values pass as they
//! are, bytes that are UTF-8 pass as text, other bytes are a backend error
//! naming the secret, and versions and change detection are dropped.
//!
//! Apps (WASI commands that read secrets from the host) use the [`app`]
//! module instead.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

pub use pp_secrets_pattern::{Pattern, PatternError};

/// The bindings generated from the package in `wit/` (world
/// `provider-component`).
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "provider-component",
        default_bindings_module: "pp_secrets_guest::bindings",
        pub_export_macro: true,
        export_macro_name: "export_provider_world",
    });
}

use bindings::processpype::secrets::types as wit;

pub mod app;
pub mod file_version;
pub mod http;
#[cfg(feature = "wit-0-1")]
#[doc(hidden)]
pub mod v0_1;

/// The backend's `config` map, as written in the host's YAML.
pub type Config = BTreeMap<String, String>;

/// Why a request could not be served. Messages are shown to operators and
/// logged by the host: never put a secret value in one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The secret does not exist.
    NotFound(String),
    /// The provider failed: I/O, network, authentication, bad data.
    Backend(String),
    /// The provider may not read this secret.
    AccessDenied(String),
}

impl Error {
    /// `name` does not exist.
    pub fn not_found(name: &str) -> Self {
        Error::NotFound(format!("{name} not found"))
    }

    /// A failure with a message (which must not contain a secret value).
    pub fn backend(message: impl Into<String>) -> Self {
        Error::Backend(message.into())
    }

    /// Whether this is [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    /// Whether this is [`Error::AccessDenied`].
    pub fn is_access_denied(&self) -> bool {
        matches!(self, Error::AccessDenied(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NotFound(m) | Error::Backend(m) | Error::AccessDenied(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for wit::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(m) => wit::Error::NotFound(m),
            Error::Backend(m) => wit::Error::Backend(m),
            Error::AccessDenied(m) => wit::Error::AccessDenied(m),
        }
    }
}

/// A secret's value as stored: text, or bytes for binary secrets.
///
/// `Debug` shows only the kind and the length, never the content.
#[derive(Clone, PartialEq, Eq)]
pub enum StoredValue {
    /// UTF-8 text. The host reads a text holding a JSON object as an object.
    Text(String),
    /// Bytes, which need not be UTF-8. The host never reads them as text.
    Bytes(Vec<u8>),
}

impl StoredValue {
    /// Text when `bytes` are UTF-8, bytes otherwise: what a provider reading
    /// raw data (a file, a binary field) serves.
    pub fn text_or_bytes(bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => StoredValue::Text(text),
            Err(e) => StoredValue::Bytes(e.into_bytes()),
        }
    }

    /// The text, when this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            StoredValue::Text(text) => Some(text),
            StoredValue::Bytes(_) => None,
        }
    }

    /// The content: the text's UTF-8 bytes, or the bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            StoredValue::Text(text) => text.as_bytes(),
            StoredValue::Bytes(bytes) => bytes,
        }
    }

    /// The content as bytes (a text's UTF-8 bytes).
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            StoredValue::Text(text) => text.into_bytes(),
            StoredValue::Bytes(bytes) => bytes,
        }
    }

    /// The length of the content in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the content is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether this is [`StoredValue::Bytes`].
    pub fn is_bytes(&self) -> bool {
        matches!(self, StoredValue::Bytes(_))
    }
}

impl fmt::Debug for StoredValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoredValue::Text(text) => write!(f, "Text(<{} bytes redacted>)", text.len()),
            StoredValue::Bytes(bytes) => write!(f, "Bytes(<{} bytes redacted>)", bytes.len()),
        }
    }
}

impl From<StoredValue> for wit::StoredValue {
    fn from(value: StoredValue) -> Self {
        match value {
            StoredValue::Text(text) => wit::StoredValue::Text(text),
            StoredValue::Bytes(bytes) => wit::StoredValue::Bytes(bytes),
        }
    }
}

/// What [`Provider::get`] serves: a [`StoredValue`] (text or bytes) and, when
/// the provider keeps versions, its version.
///
/// ```
/// use pp_secrets_guest::Value;
///
/// let plain: Value = "s3cret".into();
/// let binary = Value::bytes(vec![0xde, 0xad, 0xbe, 0xef]);
/// let tagged = Value::text("s3cret").with_version("42");
/// assert_eq!(plain.as_text(), Some("s3cret"));
/// assert!(binary.as_text().is_none());
/// assert_eq!(tagged.version.as_deref(), Some("42"));
/// ```
///
/// `Debug` shows the kind, the length and the version, never the content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    /// The value as stored.
    pub stored: StoredValue,
    /// Its version: an opaque tag that changes whenever the value does (a
    /// revision, a file's identity). `None` when the provider keeps none.
    /// The host compares versions for equality only.
    pub version: Option<String>,
}

impl Value {
    /// A text value, without a version.
    pub fn text(text: impl Into<String>) -> Self {
        StoredValue::Text(text.into()).into()
    }

    /// A bytes value (kept as bytes even when they are UTF-8), without a
    /// version.
    pub fn bytes(bytes: impl Into<Vec<u8>>) -> Self {
        StoredValue::Bytes(bytes.into()).into()
    }

    /// Text when `bytes` are UTF-8, bytes otherwise
    /// ([`StoredValue::text_or_bytes`]), without a version.
    pub fn text_or_bytes(bytes: Vec<u8>) -> Self {
        StoredValue::text_or_bytes(bytes).into()
    }

    /// This value with `version`.
    #[must_use]
    pub fn with_version(mut self, version: impl Into<String>) -> Self {
        self.version = Some(version.into());
        self
    }

    /// The text, when the value is text.
    pub fn as_text(&self) -> Option<&str> {
        self.stored.as_text()
    }

    /// The content: a text's UTF-8 bytes, or the bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.stored.as_bytes()
    }
}

impl From<StoredValue> for Value {
    fn from(stored: StoredValue) -> Self {
        Value {
            stored,
            version: None,
        }
    }
}

impl From<String> for Value {
    fn from(text: String) -> Self {
        Value::text(text)
    }
}

impl From<&str> for Value {
    fn from(text: &str) -> Self {
        Value::text(text)
    }
}

/// Bytes as given, even when they are UTF-8 (see [`Value::text_or_bytes`]).
impl From<Vec<u8>> for Value {
    fn from(bytes: Vec<u8>) -> Self {
        Value::bytes(bytes)
    }
}

impl From<Value> for wit::VersionedValue {
    fn from(value: Value) -> Self {
        wit::VersionedValue {
            value: value.stored.into(),
            version: value.version,
        }
    }
}

/// One name served by [`Provider::get_matching`], with its value or error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// The full name.
    pub name: String,
    /// The value (with its version), or why this one name failed.
    pub value: Result<Value, Error>,
}

/// A secret the host holds, as [`Provider::changes`] is asked about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The full name.
    pub name: String,
    /// The version it was served with; `None` when it came without one.
    pub version: Option<String>,
}

/// What changed among the secrets the host holds and the names its
/// patterns match, by full name. A name in no list is unchanged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// Held names whose value is no longer the held version.
    pub changed: Vec<String>,
    /// Names the patterns match that the host does not hold.
    pub added: Vec<String>,
    /// Held names that no longer exist.
    pub gone: Vec<String>,
}

impl ChangeSet {
    /// Compares what the host holds with what the provider finds now.
    ///
    /// `current` is every name that exists now among the `held` names and
    /// the names the patterns match, each with its current version (`None`
    /// when the provider cannot tell it now); names may repeat. It must
    /// cover every held name the provider looked at: a held name missing
    /// from it is gone. A held name whose version differs is changed, and
    /// so is one where either version is `None` (an unversioned value cannot
    /// be shown unchanged). A name of `current` that is not held is added,
    /// so leave out names the patterns do not match.
    ///
    /// ```
    /// use pp_secrets_guest::{ChangeSet, Held};
    ///
    /// let held = |name: &str, version: &str| Held {
    ///     name: name.into(),
    ///     version: Some(version.into()),
    /// };
    /// let set = ChangeSet::compare(
    ///     &[held("a", "1"), held("b", "1"), held("c", "1")],
    ///     [("a", Some("1")), ("b", Some("2")), ("d", Some("1"))],
    /// );
    /// assert_eq!((set.changed, set.added, set.gone), (vec!["b".into()], vec!["d".into()], vec!["c".into()]));
    /// ```
    pub fn compare<N, V>(held: &[Held], current: impl IntoIterator<Item = (N, Option<V>)>) -> Self
    where
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let versions: HashMap<&str, Option<&str>> = held
            .iter()
            .map(|h| (h.name.as_str(), h.version.as_deref()))
            .collect();
        let mut seen: HashSet<String> = HashSet::new();
        let mut set = ChangeSet::default();
        for (name, version) in current {
            let name = name.as_ref();
            if !seen.insert(name.to_owned()) {
                continue;
            }
            match versions.get(name) {
                None => set.added.push(name.to_owned()),
                Some(held) => {
                    let same = matches!(
                        (held, &version),
                        (Some(held), Some(now)) if *held == now.as_ref()
                    );
                    if !same {
                        set.changed.push(name.to_owned());
                    }
                }
            }
        }
        // Each held name once, in the order held.
        let mut reported: HashSet<&str> = HashSet::new();
        for h in held {
            if !seen.contains(&h.name) && reported.insert(&h.name) {
                set.gone.push(h.name.clone());
            }
        }
        set
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty() && self.added.is_empty() && self.gone.is_empty()
    }
}

/// The answer of [`Provider::changes`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changes {
    /// The provider cannot tell: the host re-reads every held name and
    /// every pattern.
    Unknown,
    /// What changed; the host fetches the changed and added names.
    Known(ChangeSet),
}

impl From<Changes> for wit::Changes {
    fn from(changes: Changes) -> Self {
        match changes {
            Changes::Unknown => wit::Changes::Unknown,
            Changes::Known(set) => wit::Changes::Known(wit::ChangeSet {
                changed: set.changed,
                added: set.added,
                gone: set.gone,
            }),
        }
    }
}

/// A secrets provider. See the [crate documentation](crate) for an example.
///
/// A component instance is single-threaded and owns one provider: keep
/// state (clients, tokens, caches) in `self`, with `Cell`/`RefCell` where
/// it changes.
pub trait Provider: Sized + 'static {
    /// Builds the provider from the backend's `config` map, once per
    /// instance, before anything else. An error is the backend's set-up
    /// error: every call of the backend fails with it until a fresh
    /// instance is created.
    fn create(config: Config) -> Result<Self, Error>;

    /// The value stored under the full `name` (with its version, when the
    /// provider keeps versions); [`Error::NotFound`] when there is none.
    fn get(&self, name: &str) -> Result<Value, Error>;

    /// Every full name matching `pattern`, in any order.
    fn list(&self, pattern: &Pattern) -> Result<Vec<String>, Error>;

    /// Every name matching `pattern` with its value or its error; an `Err`
    /// means the listing itself failed. The default lists, then gets each
    /// name; override it when the backend can fetch many secrets in one
    /// request.
    fn get_matching(&self, pattern: &Pattern) -> Result<Vec<Matched>, Error> {
        Ok(self
            .list(pattern)?
            .into_iter()
            .map(|name| {
                let value = self.get(&name);
                Matched { name, value }
            })
            .collect())
    }

    /// What changed among `held` (the names the host holds, with the
    /// versions it was served) and the names `patterns` match: the host's
    /// refresh. An `Err` means the check itself failed (the host keeps
    /// serving what it holds).
    ///
    /// The default answers [`Changes::Unknown`], and the host re-reads
    /// everything: right for a provider without versions, or one that
    /// cannot tell more cheaply than by reading. Override it when the
    /// backend can (one request for a prefix's revisions, one `stat` per
    /// file), building the answer with [`ChangeSet::compare`].
    fn changes(&self, held: &[Held], patterns: &[Pattern]) -> Result<Changes, Error> {
        let _ = (held, patterns);
        Ok(Changes::Unknown)
    }
}

/// Exports a [`Provider`] implementation as the component's `provider`
/// resource (`processpype:secrets@0.2.0`, world `provider-component`). Use
/// it once, in the provider crate's `lib.rs`.
///
/// When the crate that uses it has a cargo feature `wit-0-1` turned on
/// (which must turn on the SDK's feature of that name), it exports the
/// 0.1.0 `backend` interface instead: see the
/// [crate documentation](crate#building-for-010-hosts).
#[macro_export]
macro_rules! export_provider {
    ($provider:ty) => {
        #[doc(hidden)]
        type __PpSecretsExportedProvider = $provider;

        // The cfgs are the calling crate's: cargo turns an SDK feature on
        // for every crate built together, so the SDK's own cannot choose.
        // Most crates have no `wit-0-1` feature, hence the `allow`.
        #[doc(hidden)]
        #[allow(unexpected_cfgs)]
        mod __pp_secrets_guest_export {
            // Not `pub`: its `Guest` impl names the provider type, which
            // may be private.
            #[cfg(not(feature = "wit-0-1"))]
            struct __PpSecretsProviderExport;

            #[cfg(not(feature = "wit-0-1"))]
            impl $crate::bindings::exports::processpype::secrets::provider::Guest
                for __PpSecretsProviderExport
            {
                type Provider = $crate::__private::Exported<super::__PpSecretsExportedProvider>;
            }

            #[cfg(not(feature = "wit-0-1"))]
            $crate::bindings::export_provider_world!(__PpSecretsProviderExport);

            #[cfg(feature = "wit-0-1")]
            $crate::__export_provider_v0_1!(super::__PpSecretsExportedProvider);
        }
    };
}

/// Without the SDK's `wit-0-1` feature there is no 0.1.0 export: a crate
/// whose own `wit-0-1` feature is on gets this error instead.
#[cfg(not(feature = "wit-0-1"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __export_provider_v0_1 {
    ($provider:ty) => {
        ::core::compile_error!(
            "this crate's `wit-0-1` feature is on but pp-secrets-guest's is not: declare it as \
             `wit-0-1 = [\"pp-secrets-guest/wit-0-1\"]`"
        );
    };
}

/// What [`export_provider!`] expands to calls; not a public API.
#[doc(hidden)]
pub mod __private {
    use super::bindings::exports::processpype::secrets::provider as export;
    use super::{Config, Error, Held, Pattern, Provider, wit};

    /// The exported `provider` resource: the provider `create` built.
    pub struct Exported<P>(P);

    /// `text` as a pattern; an invalid one is a backend error.
    pub fn pattern(text: &str) -> Result<Pattern, Error> {
        Pattern::new(text).map_err(|e| Error::backend(e.to_string()))
    }

    impl<P: Provider> export::GuestProvider for Exported<P> {
        fn create(config: Vec<(String, String)>) -> Result<export::Provider, wit::Error> {
            let provider = P::create(config.into_iter().collect::<Config>())?;
            Ok(export::Provider::new(Exported(provider)))
        }

        fn get(&self, name: String) -> Result<wit::VersionedValue, wit::Error> {
            Ok(self.0.get(&name)?.into())
        }

        fn list(&self, pattern: String) -> Result<Vec<String>, wit::Error> {
            Ok(self.0.list(&self::pattern(&pattern)?)?)
        }

        fn get_matching(&self, pattern: String) -> Result<Vec<wit::MatchedSecret>, wit::Error> {
            Ok(self
                .0
                .get_matching(&self::pattern(&pattern)?)?
                .into_iter()
                .map(|m| wit::MatchedSecret {
                    name: m.name,
                    value: m.value.map(Into::into).map_err(Into::into),
                })
                .collect())
        }

        fn changes(
            &self,
            held: Vec<wit::HeldSecret>,
            patterns: Vec<String>,
        ) -> Result<wit::Changes, wit::Error> {
            let held: Vec<Held> = held
                .into_iter()
                .map(|h| Held {
                    name: h.name,
                    version: h.version,
                })
                .collect();
            let patterns = patterns
                .iter()
                .map(|p| pattern(p))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(self.0.changes(&held, &patterns)?.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(name: &str, version: Option<&str>) -> Held {
        Held {
            name: name.into(),
            version: version.map(str::to_owned),
        }
    }

    #[test]
    fn values_convert_from_text_and_bytes() {
        assert_eq!(Value::from("a"), Value::text("a"));
        assert_eq!(Value::from(String::from("a")), Value::text("a"));
        assert_eq!(
            Value::from(b"a".to_vec()).stored,
            StoredValue::Bytes(b"a".to_vec())
        );
        assert_eq!(Value::text_or_bytes(b"a".to_vec()), Value::text("a"));
        assert_eq!(
            Value::text_or_bytes(vec![0xff]).stored,
            StoredValue::Bytes(vec![0xff])
        );
        let v = Value::bytes([1u8, 2]).with_version("7");
        assert_eq!(v.as_bytes(), [1, 2]);
        assert_eq!(v.version.as_deref(), Some("7"));
        assert_eq!(v.stored.len(), 2);
    }

    #[test]
    fn debug_output_hides_values() {
        let shown = format!("{:?}", Value::text("hunter2").with_version("3"));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("7 bytes") && shown.contains("\"3\""),
            "{shown}"
        );
        let shown = format!("{:?}", StoredValue::Bytes(b"hunter2".to_vec()));
        assert!(!shown.contains("104"), "{shown}");
    }

    #[test]
    fn compare_reports_changed_added_and_gone() {
        let held = [
            held("same", Some("1")),
            held("newer", Some("1")),
            held("unversioned", None),
            held("deleted", Some("1")),
        ];
        let current = [
            ("same", Some("1")),
            ("newer", Some("2")),
            ("unversioned", Some("1")),
            ("fresh", None),
            ("fresh", None),
            ("same", Some("1")),
        ];
        let set = ChangeSet::compare(&held, current);
        assert_eq!(set.changed, ["newer", "unversioned"]);
        assert_eq!(set.added, ["fresh"]);
        assert_eq!(set.gone, ["deleted"]);
        assert!(!set.is_empty());
    }

    #[test]
    fn compare_with_an_unknown_current_version_is_a_change() {
        let set = ChangeSet::compare(&[held("a", Some("1"))], [("a", None::<&str>)]);
        assert_eq!(set.changed, ["a"]);
        let set = ChangeSet::compare(&[held("a", Some("1"))], [("a", Some("1"))]);
        assert!(set.is_empty());
    }

    struct Plain;

    impl Provider for Plain {
        fn create(_: Config) -> Result<Self, Error> {
            Ok(Plain)
        }
        fn get(&self, name: &str) -> Result<Value, Error> {
            match name {
                "a" => Ok("one".into()),
                _ => Err(Error::not_found(name)),
            }
        }
        fn list(&self, _: &Pattern) -> Result<Vec<String>, Error> {
            Ok(vec!["a".into(), "b".into()])
        }
    }

    #[test]
    fn defaults_list_then_get_and_cannot_tell_changes() {
        let p = Plain::create(Config::new()).expect("creates");
        let matched = p
            .get_matching(&Pattern::new("*").expect("glob"))
            .expect("lists");
        assert_eq!(matched[0].value, Ok(Value::text("one")));
        assert!(matched[1].value.as_ref().is_err_and(Error::is_not_found));
        assert_eq!(p.changes(&[], &[]), Ok(Changes::Unknown));
    }
}
