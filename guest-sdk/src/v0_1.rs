//! The legacy export: a [`Provider`] as `processpype:secrets@0.1.0`'s
//! `backend` interface (`wit/v0.1.0/provider.wit`, world `provider`), for
//! hosts and tests that load 0.1.0 components. Only with the SDK's cargo
//! feature `wit-0-1`; [`export_provider!`](crate::export_provider) uses it
//! when the calling crate's own `wit-0-1` feature is on.
//!
//! 0.1.0 has free functions, so the provider `setup` builds lives in a
//! per-instance global. Values are text only: a bytes value that is UTF-8
//! passes as text, any other is a backend error naming the secret.
//! Versions are dropped; 0.1.0 has no change detection.

use std::any::Any;
use std::cell::RefCell;

use crate::{__private::pattern, Config, Error, Provider, StoredValue, Value};

/// The bindings generated from the package in `wit/v0.1.0` (world
/// `provider`).
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/v0.1.0",
        world: "provider",
        default_bindings_module: "pp_secrets_guest::v0_1::bindings",
        pub_export_macro: true,
        export_macro_name: "export_provider_world_v0_1",
    });
}

use bindings::processpype::secrets::types as wit;

pub use wit::{Error as WitError, MatchedSecret as WitMatched};

impl From<Error> for WitError {
    fn from(e: Error) -> Self {
        match e {
            Error::NotFound(m) => WitError::NotFound(m),
            Error::Backend(m) => WitError::Backend(m),
            Error::AccessDenied(m) => WitError::AccessDenied(m),
        }
    }
}

thread_local! {
    /// The provider `setup` built. A component instance is single-threaded,
    /// so one slot per instance is all there is.
    static INSTANCE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// `value` as 0.1.0 text: bytes only when they are UTF-8.
pub fn text(name: &str, value: Value) -> Result<String, Error> {
    match value.stored {
        StoredValue::Text(text) => Ok(text),
        StoredValue::Bytes(bytes) => String::from_utf8(bytes).map_err(|_| {
            Error::backend(format!(
                "secret {name} is binary (not UTF-8 text), which a processpype:secrets@0.1.0 \
                 component cannot serve"
            ))
        }),
    }
}

/// 0.1.0's `setup`: builds the provider and keeps it for this instance.
pub fn setup<P: Provider>(config: Vec<(String, String)>) -> Result<(), WitError> {
    let provider = P::create(config.into_iter().collect::<Config>())?;
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

/// 0.1.0's `get`.
pub fn get<P: Provider>(name: &str) -> Result<String, WitError> {
    with::<P, _>(|p| text(name, p.get(name)?))
}

/// 0.1.0's `list`.
pub fn list<P: Provider>(text: &str) -> Result<Vec<String>, WitError> {
    with::<P, _>(|p| p.list(&pattern(text)?))
}

/// 0.1.0's `get-matching`.
pub fn get_matching<P: Provider>(text: &str) -> Result<Vec<WitMatched>, WitError> {
    with::<P, _>(|p| {
        Ok(p.get_matching(&pattern(text)?)?
            .into_iter()
            .map(|m| {
                let value = m.value.and_then(|v| self::text(&m.name, v));
                WitMatched {
                    name: m.name,
                    value: value.map_err(WitError::from),
                }
            })
            .collect())
    })
}

/// Exports a [`Provider`] as the 0.1.0 `backend` interface: what
/// [`export_provider!`](crate::export_provider) expands to in a crate with
/// the `wit-0-1` feature on.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_provider_v0_1 {
    ($provider:ty) => {
        const _: () = {
            struct __PpSecretsProviderExportV01;

            impl $crate::v0_1::bindings::exports::processpype::secrets::backend::Guest
                for __PpSecretsProviderExportV01
            {
                fn setup(
                    config: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<(), $crate::v0_1::WitError> {
                    $crate::v0_1::setup::<$provider>(config)
                }

                fn get(
                    name: ::std::string::String,
                ) -> ::std::result::Result<::std::string::String, $crate::v0_1::WitError> {
                    $crate::v0_1::get::<$provider>(&name)
                }

                fn list(
                    pattern: ::std::string::String,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<::std::string::String>,
                    $crate::v0_1::WitError,
                > {
                    $crate::v0_1::list::<$provider>(&pattern)
                }

                fn get_matching(
                    pattern: ::std::string::String,
                ) -> ::std::result::Result<
                    ::std::vec::Vec<$crate::v0_1::WitMatched>,
                    $crate::v0_1::WitError,
                > {
                    $crate::v0_1::get_matching::<$provider>(&pattern)
                }
            }

            $crate::v0_1::bindings::export_provider_world_v0_1!(__PpSecretsProviderExportV01);
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_utf8_values_pass_as_text_and_versions_are_dropped() {
        assert_eq!(
            text("a", Value::text("one").with_version("3")),
            Ok("one".to_owned())
        );
        assert_eq!(text("a", Value::bytes(*b"two")), Ok("two".to_owned()));
        let refused = text("keytab", Value::bytes([0xff, 0xfe])).expect_err("not text");
        assert!(matches!(&refused, Error::Backend(m) if m.contains("keytab")));
    }
}
