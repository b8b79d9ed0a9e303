//! `wasi:config/store@0.2.0-rc.1` for apps: the same manager and the same
//! allow-list as the manager interface ([`AppSecrets`]), so an app written
//! against wasi:config alone runs unchanged.
//!
//! A key is a full `backend:name`. An allowed key that does not exist is
//! `none`; a key outside the allow-list is an `upstream` error, the same
//! whether or not it exists. `get-all` returns every allowed secret that
//! exists and nothing else. Objects are given as compact JSON text, binary
//! secrets as text when they are UTF-8 (an `upstream` error naming the key
//! when they are not).

use crate::error::Error;
use crate::value::SecretValue;
use crate::wasm::app::app_secrets::AppSecrets;
use crate::wasm::app::bindings::wasi_config::{Error as ConfigError, Host};

impl Host for AppSecrets {
    async fn get(&mut self, key: String) -> Result<Option<String>, ConfigError> {
        match AppSecrets::get_or_none(self, &key)
            .await
            .map_err(config_error)?
        {
            Some(value) => config_text(&key, &value).map(Some).map_err(config_error),
            None => Ok(None),
        }
    }

    async fn get_all(&mut self) -> Result<Vec<(String, String)>, ConfigError> {
        let all = AppSecrets::get_all(self).await.map_err(config_error)?;
        all.into_iter()
            .map(|(key, value)| {
                let text = config_text(&key, &value)?;
                Ok((key, text))
            })
            .collect::<Result<_, Error>>()
            .map_err(config_error)
    }
}

fn config_text(key: &str, value: &SecretValue) -> Result<String, Error> {
    Ok(value.text_of(key)?.expose().to_owned())
}

fn config_error(error: Error) -> ConfigError {
    ConfigError::Upstream(error.to_string())
}
