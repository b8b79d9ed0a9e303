//! `processpype:secrets/manager` for apps: the host's manager behind the
//! app's allow-list ([`AppSecrets`]), in the interface's types.
//!
//! Values cross into the guest as copies the host cannot wipe afterwards;
//! the host's own copies stay in zeroizing types.

use crate::error::{Error, ErrorKind};
use crate::value::SecretValue;
use crate::wasm::app::app_secrets::AppSecrets;
use crate::wasm::app::bindings::manager::{Error as WitError, Host, SecretValue as WitValue};

impl Host for AppSecrets {
    async fn get(&mut self, key: String) -> Result<WitValue, WitError> {
        AppSecrets::get(self, &key)
            .await
            .map(|v| wit_value(&v))
            .map_err(wit_error)
    }

    async fn get_raw(&mut self, key: String) -> Result<String, WitError> {
        AppSecrets::get_raw(self, &key)
            .await
            .map(|text| text.expose().to_owned())
            .map_err(wit_error)
    }

    async fn get_or_none(&mut self, key: String) -> Result<Option<WitValue>, WitError> {
        AppSecrets::get_or_none(self, &key)
            .await
            .map(|v| v.as_ref().map(wit_value))
            .map_err(wit_error)
    }

    async fn list(&mut self, pattern: String) -> Result<Vec<String>, WitError> {
        AppSecrets::list(self, &pattern).await.map_err(wit_error)
    }

    async fn invalidate(&mut self, key: String) -> Result<(), WitError> {
        AppSecrets::invalidate(self, &key).map_err(wit_error)
    }
}

fn wit_value(value: &SecretValue) -> WitValue {
    match value {
        SecretValue::Text(text) => WitValue::Text(text.expose().to_owned()),
        SecretValue::Object(object) => {
            WitValue::JsonObject(object.to_json_text().expose().to_owned())
        }
    }
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
