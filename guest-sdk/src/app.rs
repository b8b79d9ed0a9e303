//! Read secrets from the host in a Wasm app.
//!
//! An app is an ordinary Rust binary built with
//! `cargo build --release --target wasm32-wasip2` and run by the host
//! (`pp-secrets run-wasm app.wasm --allow 'local:db_*'`, or a service's
//! `WasmApp::run`). Keys are `backend:name`. The host decides what the app
//! may read: a key outside the app's allow-list is
//! [`Error::AccessDenied`] whether or not the secret exists.
//!
//! ```no_run
//! use pp_secrets_guest::app;
//!
//! fn main() -> Result<(), pp_secrets_guest::Error> {
//!     // A JSON object secret, with typed access to its fields.
//!     let db = app::get("local:database")?;
//!     let user = db.field_str("user").unwrap_or("postgres");
//!     // A secret that may be missing.
//!     let token = app::get_or_none("env:API_TOKEN")?;
//!     // A binary secret (a key store): bytes, never mangled into text.
//!     let keystore = app::get("local:keystore")?;
//!     let keystore_len = keystore.as_bytes().map_or(0, <[u8]>::len);
//!     println!("connecting as {user}; token set: {}; keystore: {keystore_len} bytes", token.is_some());
//!     Ok(())
//! }
//! ```
//!
//! Values are copies in the app's memory; the host cannot wipe them. Keep
//! them no longer than needed, and never print or log them.

use serde_json::{Map, Value};

use crate::{Error, StoredValue};

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "app",
    });
}

use bindings::processpype::secrets::manager as wit;

/// A secret as the host reads it: text, a JSON object, or bytes.
///
/// `Debug` shows the kind and the size, never the content.
#[derive(Clone, PartialEq)]
pub enum Secret {
    /// A plain string.
    Text(String),
    /// A string that held a JSON object, parsed.
    Object(Map<String, Value>),
    /// A binary secret's bytes (a key store, a keytab), which need not be
    /// UTF-8.
    Bytes(Vec<u8>),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Secret::Text(_) => f.write_str("Secret::Text(<redacted>)"),
            Secret::Object(map) => write!(f, "Secret::Object(<{} fields>)", map.len()),
            Secret::Bytes(bytes) => write!(f, "Secret::Bytes(<{} bytes redacted>)", bytes.len()),
        }
    }
}

impl Secret {
    /// The text, when this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Secret::Text(text) => Some(text),
            Secret::Object(_) | Secret::Bytes(_) => None,
        }
    }

    /// The object, when this is a JSON object.
    pub fn as_object(&self) -> Option<&Map<String, Value>> {
        match self {
            Secret::Object(map) => Some(map),
            Secret::Text(_) | Secret::Bytes(_) => None,
        }
    }

    /// The bytes, when this is a binary secret.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Secret::Bytes(bytes) => Some(bytes),
            Secret::Text(_) | Secret::Object(_) => None,
        }
    }

    /// A string field of the object (`None` for text, bytes, a missing
    /// field or a field that is not a string).
    pub fn field_str(&self, field: &str) -> Option<&str> {
        self.as_object()?.get(field)?.as_str()
    }

    /// The secret as one string: the text, the object as compact JSON, or
    /// bytes that are UTF-8. Bytes that are not UTF-8 are an error: they
    /// are never mangled into text.
    pub fn into_text(self) -> Result<String, Error> {
        match self {
            Secret::Text(text) => Ok(text),
            Secret::Object(map) => Ok(Value::Object(map).to_string()),
            Secret::Bytes(bytes) => String::from_utf8(bytes)
                .map_err(|_| Error::backend("the secret is binary, not UTF-8 text")),
        }
    }

    /// The secret as bytes: a text's UTF-8, the object as compact JSON, or
    /// the bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Secret::Text(text) => text.into_bytes(),
            Secret::Object(map) => Value::Object(map).to_string().into_bytes(),
            Secret::Bytes(bytes) => bytes,
        }
    }
}

impl From<wit::Error> for Error {
    fn from(e: wit::Error) -> Self {
        match e {
            wit::Error::NotFound(m) => Error::NotFound(m),
            wit::Error::Backend(m) => Error::Backend(m),
            wit::Error::AccessDenied(m) => Error::AccessDenied(m),
        }
    }
}

fn secret(value: wit::SecretValue) -> Result<Secret, Error> {
    match value {
        wit::SecretValue::Text(text) => Ok(Secret::Text(text)),
        wit::SecretValue::JsonObject(json) => match serde_json::from_str(&json) {
            Ok(Value::Object(map)) => Ok(Secret::Object(map)),
            _ => Err(Error::backend("the host sent an object that is not JSON")),
        },
        wit::SecretValue::Bytes(bytes) => Ok(Secret::Bytes(bytes)),
    }
}

/// The secret for `key` (`backend:name`), from the host's cache when
/// cached. A missing secret is [`Error::NotFound`].
pub fn get(key: &str) -> Result<Secret, Error> {
    secret(wit::get(key)?)
}

/// The secret for `key` as one string: text as is, an object as compact
/// JSON, bytes when they are UTF-8. Bytes that are not UTF-8 are an error
/// naming the key.
pub fn get_text(key: &str) -> Result<String, Error> {
    get(key)?
        .into_text()
        .map_err(|_| Error::backend(format!("{key} is binary, not UTF-8 text")))
}

/// The JSON object stored under `key`; text or bytes are an error.
pub fn get_object(key: &str) -> Result<Map<String, Value>, Error> {
    match get(key)? {
        Secret::Object(map) => Ok(map),
        Secret::Text(_) => Err(Error::backend(format!("{key} is text, not a JSON object"))),
        Secret::Bytes(_) => Err(Error::backend(format!(
            "{key} is binary, not a JSON object"
        ))),
    }
}

/// As [`get`], but a missing secret is `None`. Other failures (a denied
/// key, a failing backend) are still errors.
pub fn get_or_none(key: &str) -> Result<Option<Secret>, Error> {
    wit::get_or_none(key)?.map(secret).transpose()
}

/// The backend's value exactly as stored (text or bytes): never parsed,
/// never cached.
pub fn get_raw(key: &str) -> Result<StoredValue, Error> {
    Ok(match wit::get_raw(key)? {
        wit::StoredValue::Text(text) => StoredValue::Text(text),
        wit::StoredValue::Bytes(bytes) => StoredValue::Bytes(bytes),
    })
}

/// The names matching `pattern` (`backend:glob`) that the app may read,
/// sorted.
pub fn list(pattern: &str) -> Result<Vec<String>, Error> {
    Ok(wit::list(pattern)?)
}

/// Drops `key` from the host's cache, so the next [`get`] asks the backend
/// again. Only for keys the app may read.
pub fn invalidate(key: &str) -> Result<(), Error> {
    Ok(wit::invalidate(key)?)
}

/// Ends the app with exit code `code`, which the host passes on
/// (`pp-secrets run-wasm` exits with it). Use this rather than
/// `std::process::exit`: on `wasm32-wasip2`, Rust's standard library can
/// only report success or failure (0 or 1). Flushes stdout first.
pub fn exit(code: u8) -> ! {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    #[cfg(target_arch = "wasm32")]
    wasip2::cli::exit::exit_with_code(code);
    std::process::exit(i32::from(code))
}
