//! A `pp-secrets` provider that reads secrets from an etcd v3 cluster
//! through its JSON gateway (`/v3/kv/range`), over `wasi:http`.
//!
//! A secret's full name is its etcd key, its value the key's value (UTF-8
//! text). `get` reads one key; `list` reads the range of the glob's
//! literal prefix, keys only, and matches the rest here; the bulk call
//! serves a whole `load` declaration with one range request.
//!
//! Settings (the backend's `config` map):
//!
//! | key | meaning |
//! |---|---|
//! | `endpoint` | the gateway, such as `http://127.0.0.1:2379` (required) |
//! | `username` | authenticate as this user (`/v3/auth/authenticate`) |
//! | `password_env` | the environment variable holding the password (grant it with `allow.env`) |
//! | `timeout_ms` | connect and first-byte timeout of each request |
//!
//! The host must grant the endpoint's `host:port` in `allow.hosts`.

use std::cell::RefCell;
use std::time::Duration;

use pp_secrets_guest::http::{Request, Response};
use pp_secrets_guest::{Config, Error, Matched, Pattern, Provider};
use serde_json::{Value, json};

pub mod range;

use range::{Range, parse_response, request_body};

/// The etcd provider: where the gateway is, how to log in, and the
/// current auth token.
pub struct EtcdProvider {
    endpoint: String,
    login: Option<Login>,
    timeout: Option<Duration>,
    token: RefCell<Option<String>>,
}

struct Login {
    username: String,
    password: String,
}

impl Drop for Login {
    fn drop(&mut self) {
        // Best effort: the guest SDK has no zeroizing type; overwrite the
        // bytes so the password does not linger in this instance's memory.
        let mut bytes = std::mem::take(&mut self.password).into_bytes();
        bytes.fill(0);
        std::hint::black_box(&bytes);
    }
}

impl EtcdProvider {
    /// Builds the provider from its settings; reads the password from the
    /// environment variable `password_env` names.
    pub fn from_config(
        config: &Config,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        for key in config.keys() {
            if !matches!(
                key.as_str(),
                "endpoint" | "username" | "password_env" | "timeout_ms"
            ) {
                return Err(Error::backend(format!(
                    "unknown setting config.{key} (expected endpoint, username, password_env, \
                     timeout_ms)"
                )));
            }
        }
        let endpoint = config
            .get("endpoint")
            .ok_or_else(|| Error::backend("config.endpoint is required (http://host:port)"))?;
        // The SDK's own URL check, so the endpoint fails here, not on the
        // first request.
        Request::post(endpoint).map_err(|e| Error::backend(format!("config.endpoint: {e}")))?;
        let login = match (config.get("username"), config.get("password_env")) {
            (None, None) => None,
            (Some(username), Some(var)) => {
                let password = env(var).ok_or_else(|| {
                    Error::backend(format!(
                        "config.password_env: {var} is not set (or not granted in allow.env)"
                    ))
                })?;
                Some(Login {
                    username: username.clone(),
                    password,
                })
            }
            (Some(_), None) => {
                return Err(Error::backend(
                    "config.username needs config.password_env (the variable with the password)",
                ));
            }
            (None, Some(_)) => {
                return Err(Error::backend("config.password_env needs config.username"));
            }
        };
        let timeout = match config.get("timeout_ms") {
            Some(ms) => Some(Duration::from_millis(ms.parse().map_err(|_| {
                Error::backend(format!("config.timeout_ms {ms:?} is not a number"))
            })?)),
            None => None,
        };
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            login,
            timeout,
            token: RefCell::new(None),
        })
    }

    /// POSTs `body` to the gateway's `path` with the auth token, if any.
    fn post(&self, path: &str, body: Vec<u8>, token: Option<&str>) -> Result<Response, Error> {
        let mut request = Request::post(&format!("{}{path}", self.endpoint))?
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = token {
            request = request.header("authorization", token);
        }
        if let Some(timeout) = self.timeout {
            request = request.timeout(timeout);
        }
        request.send()
    }

    /// A fresh auth token.
    fn authenticate(&self, login: &Login) -> Result<String, Error> {
        let body = json!({ "name": login.username, "password": login.password })
            .to_string()
            .into_bytes();
        let response = self.post("/v3/auth/authenticate", body, None)?;
        if response.status != 200 {
            return Err(Error::backend(format!(
                "etcd refused the login of user {:?}: {}",
                login.username,
                etcd_message(&response)
            )));
        }
        serde_json::from_slice::<Value>(&response.body)
            .ok()
            .and_then(|v| v.get("token")?.as_str().map(str::to_owned))
            .ok_or_else(|| Error::backend("etcd's login answer has no token"))
    }

    /// Runs a range request, logging in first when needed and once more
    /// when the token has expired.
    fn range(&self, range: &Range<'_>, keys_only: bool) -> Result<Vec<range::Entry>, Error> {
        let body = request_body(range, keys_only);
        let mut retried = false;
        loop {
            let token = match &self.login {
                None => None,
                Some(login) => {
                    if self.token.borrow().is_none() {
                        *self.token.borrow_mut() = Some(self.authenticate(login)?);
                    }
                    self.token.borrow().clone()
                }
            };
            let response = self.post("/v3/kv/range", body.clone(), token.as_deref())?;
            match response.status {
                200 => return parse_response(&response.body, keys_only),
                401 if self.login.is_some() && !retried => {
                    // The token expired: log in again, once.
                    *self.token.borrow_mut() = None;
                    retried = true;
                }
                _ => {
                    return Err(Error::backend(format!(
                        "etcd refused the range request: {}",
                        etcd_message(&response)
                    )));
                }
            }
        }
    }

    /// The range that holds every name `pattern` can match.
    fn range_of(pattern: &Pattern) -> Range<'_> {
        if pattern.is_exact() {
            Range::Key(pattern.literal_prefix())
        } else {
            Range::Prefix(pattern.literal_prefix())
        }
    }
}

/// The gateway's error message (never a value: etcd's errors name the
/// problem, not the data), with the status.
fn etcd_message(response: &Response) -> String {
    let message = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| {
            v.get("error")
                .or_else(|| v.get("message"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "no message".to_owned());
    format!("HTTP {}: {message}", response.status)
}

impl Provider for EtcdProvider {
    fn setup(config: Config) -> Result<Self, Error> {
        Self::from_config(&config, |var| std::env::var(var).ok())
    }

    fn get(&self, name: &str) -> Result<String, Error> {
        self.range(&Range::Key(name), false)?
            .into_iter()
            .find(|entry| entry.key == name)
            .and_then(|entry| entry.value)
            .unwrap_or_else(|| Err(Error::not_found(name)))
    }

    fn list(&self, pattern: &Pattern) -> Result<Vec<String>, Error> {
        Ok(self
            .range(&Self::range_of(pattern), true)?
            .into_iter()
            .filter(|entry| pattern.matches(&entry.key))
            .map(|entry| entry.key)
            .collect())
    }

    fn get_matching(&self, pattern: &Pattern) -> Result<Vec<Matched>, Error> {
        Ok(self
            .range(&Self::range_of(pattern), false)?
            .into_iter()
            .filter(|entry| pattern.matches(&entry.key))
            .map(|entry| Matched {
                value: entry.value.unwrap_or_else(|| Ok(String::new())),
                name: entry.key,
            })
            .collect())
    }
}

// The component's exports exist only in the Wasm build; natively this crate
// is a library for its unit tests.
#[cfg(target_arch = "wasm32")]
pp_secrets_guest::export_provider!(EtcdProvider);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn endpoint_is_required_and_must_be_http() {
        let error = EtcdProvider::from_config(&config(&[]), no_env).err();
        assert!(matches!(error, Some(Error::Backend(m)) if m.contains("endpoint")));
        let error = EtcdProvider::from_config(&config(&[("endpoint", "127.0.0.1:2379")]), no_env);
        assert!(error.is_err());
    }

    #[test]
    fn a_username_needs_a_set_password_variable() {
        let base = [("endpoint", "http://e:2379"), ("username", "root")];
        assert!(EtcdProvider::from_config(&config(&base), no_env).is_err());
        let with_env = [base[0], base[1], ("password_env", "ETCD_PW")];
        let error = EtcdProvider::from_config(&config(&with_env), no_env).err();
        assert!(matches!(error, Some(Error::Backend(m)) if m.contains("ETCD_PW is not set")));
        let provider =
            EtcdProvider::from_config(&config(&with_env), |_| Some("pw".into())).expect("valid");
        assert!(provider.login.is_some());
    }

    #[test]
    fn unknown_settings_are_refused() {
        let error =
            EtcdProvider::from_config(&config(&[("endpoint", "http://e"), ("user", "x")]), no_env)
                .err();
        assert!(matches!(error, Some(Error::Backend(m)) if m.contains("config.user")));
    }

    #[test]
    fn an_exact_pattern_reads_one_key_and_a_glob_its_prefix() {
        let exact = Pattern::new("app/db").expect("pattern");
        assert_eq!(EtcdProvider::range_of(&exact), Range::Key("app/db"));
        let glob = Pattern::new("app/*").expect("pattern");
        assert_eq!(EtcdProvider::range_of(&glob), Range::Prefix("app/"));
    }
}
