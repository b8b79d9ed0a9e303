//! Write secrets providers for `pp-secrets` as WebAssembly components.
//!
//! A provider is one implementation of [`Provider`] plus one
//! [`export_provider!`] line; build it with
//! `cargo build --release --target wasm32-wasip2` and point a `type: wasm`
//! backend at the `.wasm` file. The host hands `setup` the backend's
//! `config` map, then calls `get`, `list` and `get_matching` with *full*
//! names and patterns (the backend prefix already applied).
//!
//! ```
//! use std::collections::BTreeMap;
//! use pp_secrets_guest::{Config, Error, Pattern, Provider};
//!
//! /// Serves the entries of its `config` map whose keys start with `secret.`.
//! struct FromConfig(BTreeMap<String, String>);
//!
//! impl Provider for FromConfig {
//!     fn setup(config: Config) -> Result<Self, Error> {
//!         Ok(FromConfig(
//!             config
//!                 .into_iter()
//!                 .filter_map(|(k, v)| Some((k.strip_prefix("secret.")?.to_owned(), v)))
//!                 .collect(),
//!         ))
//!     }
//!
//!     fn get(&self, name: &str) -> Result<String, Error> {
//!         self.0.get(name).cloned().ok_or_else(|| Error::not_found(name))
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
//! [`Pattern`] is the same glob matcher the host uses, so a provider lists
//! exactly the names the host would.
//!
//! Apps (WASI commands that read secrets from the host) use the [`app`]
//! module instead.

use std::collections::BTreeMap;
use std::fmt;

pub use pp_secrets_pattern::{Pattern, PatternError};

/// The bindings generated from the package in `wit/` (world `provider`).
#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "provider",
        default_bindings_module: "pp_secrets_guest::bindings",
        pub_export_macro: true,
        export_macro_name: "export_provider_world",
    });
}

use bindings::processpype::secrets::types as wit;

pub mod app;
pub mod http;

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

/// One name served by [`Provider::get_matching`], with its value or error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// The full name.
    pub name: String,
    /// The value as stored, or why this one name failed.
    pub value: Result<String, Error>,
}

/// A secrets provider. See the [crate documentation](crate) for an example.
pub trait Provider: Sized + 'static {
    /// Builds the provider from the backend's `config` map. Called once per
    /// instance, before anything else.
    fn setup(config: Config) -> Result<Self, Error>;

    /// The value stored under the full `name`; [`Error::NotFound`] when
    /// there is none.
    fn get(&self, name: &str) -> Result<String, Error>;

    /// Every full name matching `pattern`, in any order.
    fn list(&self, pattern: &Pattern) -> Result<Vec<String>, Error>;

    /// Every name matching `pattern` with its value or its error. The
    /// default lists, then gets each name; override it when the backend can
    /// fetch many secrets in one request.
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
}

/// Exports a [`Provider`] implementation as the component's `backend`
/// interface (world `provider`). Use it once, in the provider crate's `lib.rs`.
#[macro_export]
macro_rules! export_provider {
    ($provider:ty) => {
        #[doc(hidden)]
        pub struct __PpSecretsProviderExport;

        impl $crate::bindings::exports::processpype::secrets::backend::Guest
            for __PpSecretsProviderExport
        {
            fn setup(
                config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
            ) -> ::std::result::Result<(), $crate::__private::WitError> {
                $crate::__private::setup::<$provider>(config)
            }

            fn get(
                name: ::std::string::String,
            ) -> ::std::result::Result<::std::string::String, $crate::__private::WitError> {
                $crate::__private::get::<$provider>(&name)
            }

            fn list(
                pattern: ::std::string::String,
            ) -> ::std::result::Result<
                ::std::vec::Vec<::std::string::String>,
                $crate::__private::WitError,
            > {
                $crate::__private::list::<$provider>(&pattern)
            }

            fn get_matching(
                pattern: ::std::string::String,
            ) -> ::std::result::Result<
                ::std::vec::Vec<$crate::__private::WitMatched>,
                $crate::__private::WitError,
            > {
                $crate::__private::get_matching::<$provider>(&pattern)
            }
        }

        $crate::bindings::export_provider_world!(__PpSecretsProviderExport);
    };
}

/// What [`export_provider!`] expands to calls; not a public API.
#[doc(hidden)]
pub mod __private {
    use std::any::Any;
    use std::cell::RefCell;

    use super::{Config, Error, Pattern, Provider, wit};

    pub use wit::{Error as WitError, MatchedSecret as WitMatched};

    thread_local! {
        /// The instance `setup` built. A component instance is
        /// single-threaded, so one slot per instance is all there is.
        static INSTANCE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    }

    pub fn setup<P: Provider>(config: Vec<(String, String)>) -> Result<(), WitError> {
        let provider = P::setup(config.into_iter().collect::<Config>())?;
        INSTANCE.with(|slot| *slot.borrow_mut() = Some(Box::new(provider)));
        Ok(())
    }

    fn with<P: Provider, T>(f: impl FnOnce(&P) -> Result<T, Error>) -> Result<T, WitError> {
        INSTANCE.with(|slot| {
            let slot = slot.borrow();
            let provider = slot
                .as_ref()
                .and_then(|p| p.downcast_ref::<P>())
                .ok_or_else(|| Error::backend("the provider was called before setup"))?;
            Ok(f(provider)?)
        })
    }

    fn pattern(text: &str) -> Result<Pattern, Error> {
        Pattern::new(text).map_err(|e| Error::backend(e.to_string()))
    }

    pub fn get<P: Provider>(name: &str) -> Result<String, WitError> {
        with::<P, _>(|p| p.get(name))
    }

    pub fn list<P: Provider>(text: &str) -> Result<Vec<String>, WitError> {
        with::<P, _>(|p| p.list(&pattern(text)?))
    }

    pub fn get_matching<P: Provider>(text: &str) -> Result<Vec<WitMatched>, WitError> {
        with::<P, _>(|p| {
            Ok(p.get_matching(&pattern(text)?)?
                .into_iter()
                .map(|m| WitMatched {
                    name: m.name,
                    value: m.value.map_err(WitError::from),
                })
                .collect())
        })
    }
}
