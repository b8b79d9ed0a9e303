//! `processpype:secrets/manager` for apps: the host's manager behind the
//! app's allow-list ([`AppSecrets`]), in the interface's types.
//!
//! Values cross into the guest as copies the host cannot wipe afterwards;
//! the host's own copies stay in zeroizing types. This version of the
//! interface carries text only: a binary secret is given as text when it is
//! UTF-8, and is an error naming its key when it is not.

use crate::error::{Error, ErrorKind};
use crate::value::SecretValue;
use crate::wasm::app::app_secrets::AppSecrets;
use crate::wasm::app::bindings::manager::{Error as WitError, Host, SecretValue as WitValue};

impl Host for AppSecrets {
    async fn get(&mut self, key: String) -> Result<WitValue, WitError> {
        let value = AppSecrets::get(self, &key).await.map_err(wit_error)?;
        wit_value(&key, &value).map_err(wit_error)
    }

    async fn get_raw(&mut self, key: String) -> Result<String, WitError> {
        let stored = AppSecrets::get_raw(self, &key).await.map_err(wit_error)?;
        match stored.to_text() {
            Some(text) => Ok(text.expose().to_owned()),
            None => Err(wit_error(Error::NotText {
                len: stored.len(),
                key,
            })),
        }
    }

    async fn get_or_none(&mut self, key: String) -> Result<Option<WitValue>, WitError> {
        match AppSecrets::get_or_none(self, &key)
            .await
            .map_err(wit_error)?
        {
            Some(value) => wit_value(&key, &value).map(Some).map_err(wit_error),
            None => Ok(None),
        }
    }

    async fn list(&mut self, pattern: String) -> Result<Vec<String>, WitError> {
        AppSecrets::list(self, &pattern).await.map_err(wit_error)
    }

    async fn invalidate(&mut self, key: String) -> Result<(), WitError> {
        AppSecrets::invalidate(self, &key).map_err(wit_error)
    }
}

/// The interface's value for secret `key`: text, an object as JSON text,
/// binary data as text when it is UTF-8 (an error when it is not).
fn wit_value(key: &str, value: &SecretValue) -> Result<WitValue, Error> {
    Ok(match value {
        SecretValue::Object(object) => {
            WitValue::JsonObject(object.to_json_text().expose().to_owned())
        }
        value => WitValue::Text(value.text_of(key)?.expose().to_owned()),
    })
}

/// The interface's error for a host error: the same case the CLI's exit
/// code would report, with the host's message (which never holds a value).
fn wit_error(error: Error) -> WitError {
    let message = error.to_string();
    match error.kind() {
        ErrorKind::NotFound => WitError::NotFound(message),
        ErrorKind::AccessDenied => WitError::AccessDenied(message),
        _ => WitError::Backend(message),
    }
}
