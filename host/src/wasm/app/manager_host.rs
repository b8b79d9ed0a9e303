//! `processpype:secrets/manager` for apps: the host's manager behind the
//! app's allow-list ([`AppSecrets`]), in the interface's types, at 0.2.0
//! and at 0.1.0 (for apps built against it).
//!
//! Values cross into the guest as copies the host cannot wipe afterwards;
//! the host's own copies stay in zeroizing types. 0.2.0 carries binary
//! secrets as bytes; 0.1.0 carries text only: a binary secret is given as
//! text when it is UTF-8, and is an error naming its key when it is not.

use crate::error::{Error, ErrorKind};
use crate::value::{SecretValue, StoredValue};
use crate::wasm::app::app_secrets::AppSecrets;
use crate::wasm::app::bindings::{manager, manager_0_1};

impl manager::Host for AppSecrets {
    async fn get(&mut self, key: String) -> Result<manager::SecretValue, manager::Error> {
        let value = AppSecrets::get(self, &key).await.map_err(wit_error)?;
        Ok(wit_value(&value))
    }

    async fn get_raw(&mut self, key: String) -> Result<manager::StoredValue, manager::Error> {
        let stored = AppSecrets::get_raw(self, &key).await.map_err(wit_error)?;
        Ok(match stored {
            StoredValue::Text(text) => manager::StoredValue::Text(text.expose().to_owned()),
            StoredValue::Bytes(bytes) => manager::StoredValue::Bytes(bytes.expose().to_vec()),
        })
    }

    async fn get_or_none(
        &mut self,
        key: String,
    ) -> Result<Option<manager::SecretValue>, manager::Error> {
        AppSecrets::get_or_none(self, &key)
            .await
            .map(|value| value.as_ref().map(wit_value))
            .map_err(wit_error)
    }

    async fn list(&mut self, pattern: String) -> Result<Vec<String>, manager::Error> {
        AppSecrets::list(self, &pattern).await.map_err(wit_error)
    }

    async fn invalidate(&mut self, key: String) -> Result<(), manager::Error> {
        AppSecrets::invalidate(self, &key).map_err(wit_error)
    }
}

impl manager_0_1::Host for AppSecrets {
    async fn get(&mut self, key: String) -> Result<manager_0_1::SecretValue, manager_0_1::Error> {
        let value = AppSecrets::get(self, &key).await.map_err(wit_error_0_1)?;
        wit_value_0_1(&key, &value).map_err(wit_error_0_1)
    }

    async fn get_raw(&mut self, key: String) -> Result<String, manager_0_1::Error> {
        let stored = AppSecrets::get_raw(self, &key)
            .await
            .map_err(wit_error_0_1)?;
        match stored.to_text() {
            Some(text) => Ok(text.expose().to_owned()),
            None => Err(wit_error_0_1(Error::NotText {
                len: stored.len(),
                key,
            })),
        }
    }

    async fn get_or_none(
        &mut self,
        key: String,
    ) -> Result<Option<manager_0_1::SecretValue>, manager_0_1::Error> {
        match AppSecrets::get_or_none(self, &key)
            .await
            .map_err(wit_error_0_1)?
        {
            Some(value) => wit_value_0_1(&key, &value).map(Some).map_err(wit_error_0_1),
            None => Ok(None),
        }
    }

    async fn list(&mut self, pattern: String) -> Result<Vec<String>, manager_0_1::Error> {
        AppSecrets::list(self, &pattern)
            .await
            .map_err(wit_error_0_1)
    }

    async fn invalidate(&mut self, key: String) -> Result<(), manager_0_1::Error> {
        AppSecrets::invalidate(self, &key).map_err(wit_error_0_1)
    }
}

/// The 0.2.0 interface's value.
fn wit_value(value: &SecretValue) -> manager::SecretValue {
    match value {
        SecretValue::Text(text) => manager::SecretValue::Text(text.expose().to_owned()),
        SecretValue::Object(object) => {
            manager::SecretValue::JsonObject(object.to_json_text().expose().to_owned())
        }
        SecretValue::Bytes(bytes) => manager::SecretValue::Bytes(bytes.expose().to_vec()),
    }
}

/// The 0.1.0 interface's value for secret `key`: text, an object as JSON
/// text, binary data as text when it is UTF-8 (an error when it is not).
fn wit_value_0_1(key: &str, value: &SecretValue) -> Result<manager_0_1::SecretValue, Error> {
    Ok(match value {
        SecretValue::Object(object) => {
            manager_0_1::SecretValue::JsonObject(object.to_json_text().expose().to_owned())
        }
        value => manager_0_1::SecretValue::Text(value.text_of(key)?.expose().to_owned()),
    })
}

/// The case of an error the CLI's exit code would report, with the host's
/// message (which never holds a value).
enum Case {
    NotFound,
    AccessDenied,
    Backend,
}

fn case_of(error: &Error) -> Case {
    match error.kind() {
        ErrorKind::NotFound => Case::NotFound,
        ErrorKind::AccessDenied => Case::AccessDenied,
        _ => Case::Backend,
    }
}

/// The 0.2.0 interface's error for a host error.
fn wit_error(error: Error) -> manager::Error {
    let message = error.to_string();
    match case_of(&error) {
        Case::NotFound => manager::Error::NotFound(message),
        Case::AccessDenied => manager::Error::AccessDenied(message),
        Case::Backend => manager::Error::Backend(message),
    }
}

/// The 0.1.0 interface's error for a host error.
fn wit_error_0_1(error: Error) -> manager_0_1::Error {
    let message = error.to_string();
    match case_of(&error) {
        Case::NotFound => manager_0_1::Error::NotFound(message),
        Case::AccessDenied => manager_0_1::Error::AccessDenied(message),
        Case::Backend => manager_0_1::Error::Backend(message),
    }
}
