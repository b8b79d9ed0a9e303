//! A `pp-secrets` provider that reads secrets from an etcd v3 cluster
//! through its JSON gateway (`/v3/kv/range`), over `wasi:http`.
//!
//! A secret's full name is its etcd key, its value the key's value: text
//! when it is UTF-8, bytes otherwise. Its version is the key's
//! `mod_revision`. `get` reads one key; `list` reads the range of the
//! glob's literal prefix, keys only, and matches the rest here; the bulk
//! call serves a whole `load` declaration with one range request.
//!
//! Change detection (`changes`) reads no values: one keys-only range
//! request per pattern (over its literal prefix; a pattern whose range
//! lies inside another's shares it) gives the names and `mod_revision`s
//! there, compared with the revisions the host holds. Held names outside
//! every pattern's range are read keys-only as well, in one transaction
//! (`/v3/kv/txn`) per 128 names (etcd's default `--max-txn-ops`; one name
//! is a plain range request). So a refresh where nothing changed costs one
//! request per pattern. When etcd refuses a transaction (a lower
//! `--max-txn-ops`, say), the answer is "unknown" and the host re-reads.
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
use std::collections::HashSet;
use std::time::Duration;

use pp_secrets_guest::http::{Request, Response};
use pp_secrets_guest::{
    ChangeSet, Changes, Config, Error, Held, Matched, Pattern, Provider, StoredValue, Value,
};
use serde_json::json;

pub mod range;

use range::{
    Entry, Range, covering, keys_only_txn_body, parse_keys_only_txn_response, parse_response,
    request_body,
};

/// At most this many single-key reads go in one transaction: etcd's
/// default `--max-txn-ops`.
const MAX_TXN_OPS: usize = 128;

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
        serde_json::from_slice::<serde_json::Value>(&response.body)
            .ok()
            .and_then(|v| v.get("token")?.as_str().map(str::to_owned))
            .ok_or_else(|| Error::backend("etcd's login answer has no token"))
    }

    /// Runs a range request, logging in first when needed and once more
    /// when the token has expired.
    fn range(&self, range: &Range<'_>, keys_only: bool) -> Result<Vec<Entry>, Error> {
        match self.call("/v3/kv/range", request_body(range, keys_only))? {
            Ok(body) => parse_response(&body, keys_only),
            Err(response) => Err(Error::backend(format!(
                "etcd refused the range request: {}",
                etcd_message(&response)
            ))),
        }
    }

    /// The keys among `keys` that exist, each with its `mod_revision`, in
    /// one request: a range request for one key, a transaction of
    /// keys-only range requests for more. `None` when etcd refuses the
    /// transaction.
    fn keys_only(&self, keys: &[&str]) -> Result<Option<Vec<Entry>>, Error> {
        match keys {
            [] => Ok(Some(Vec::new())),
            [key] => self.range(&Range::Key(key), true).map(Some),
            _ => match self.call("/v3/kv/txn", keys_only_txn_body(keys))? {
                Ok(body) => parse_keys_only_txn_response(&body).map(Some),
                Err(_) => Ok(None),
            },
        }
    }

    /// POSTs `body` to the gateway's `path`, logging in first when needed
    /// and once more when the token has expired: the body of a `200`
    /// answer, or the answer that refused the request.
    fn call(&self, path: &str, body: Vec<u8>) -> Result<Result<Vec<u8>, Response>, Error> {
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
            let response = self.post(path, body.clone(), token.as_deref())?;
            match response.status {
                200 => return Ok(Ok(response.body)),
                401 if self.login.is_some() && !retried => {
                    // The token expired: log in again, once.
                    *self.token.borrow_mut() = None;
                    retried = true;
                }
                _ => return Ok(Err(response)),
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

/// An entry's value with its `mod_revision` as version.
fn value_of(entry: Entry) -> (String, Result<Value, Error>) {
    let value = entry
        .value
        .unwrap_or_else(|| Ok(StoredValue::Text(String::new())))
        .map(|stored| Value {
            stored,
            version: entry.mod_revision,
        });
    (entry.key, value)
}

/// The gateway's error message (never a value: etcd's errors name the
/// problem, not the data), with the status.
fn etcd_message(response: &Response) -> String {
    let message = serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|v| {
            v.get("error")
                .or_else(|| v.get("message"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "no message".to_owned());
    format!("HTTP {}: {message}", response.status)
}

impl Provider for EtcdProvider {
    fn create(config: Config) -> Result<Self, Error> {
        Self::from_config(&config, |var| std::env::var(var).ok())
    }

    fn get(&self, name: &str) -> Result<Value, Error> {
        self.range(&Range::Key(name), false)?
            .into_iter()
            .find(|entry| entry.key == name)
            .map_or_else(|| Err(Error::not_found(name)), |entry| value_of(entry).1)
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
            .map(|entry| {
                let (name, value) = value_of(entry);
                Matched { name, value }
            })
            .collect())
    }

    fn changes(&self, held: &[Held], patterns: &[Pattern]) -> Result<Changes, Error> {
        changes(
            held,
            patterns,
            |range| self.range(range, true),
            |keys| self.keys_only(keys),
        )
    }
}

/// [`Provider::changes`], with `range` running a keys-only range request
/// and `keys_only` reading single keys in one request
/// ([`EtcdProvider::keys_only`]).
fn changes(
    held: &[Held],
    patterns: &[Pattern],
    mut range: impl FnMut(&Range<'_>) -> Result<Vec<Entry>, Error>,
    mut keys_only: impl FnMut(&[&str]) -> Result<Option<Vec<Entry>>, Error>,
) -> Result<Changes, Error> {
    let held_names: HashSet<&str> = held.iter().map(|h| h.name.as_str()).collect();
    let ranges = covering(
        &patterns
            .iter()
            .map(EtcdProvider::range_of)
            .collect::<Vec<_>>(),
    );
    let mut current: Vec<(String, Option<String>)> = Vec::new();
    for r in &ranges {
        for entry in range(r)? {
            if held_names.contains(entry.key.as_str())
                || patterns.iter().any(|p| p.matches(&entry.key))
            {
                current.push((entry.key, entry.mod_revision));
            }
        }
    }
    // Held names no range read: each once, in the order held.
    let mut outside: Vec<&str> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for h in held {
        let name = h.name.as_str();
        if !ranges.iter().any(|r| r.contains(name)) && seen.insert(name) {
            outside.push(name);
        }
    }
    for chunk in outside.chunks(MAX_TXN_OPS) {
        let Some(entries) = keys_only(chunk)? else {
            return Ok(Changes::Unknown);
        };
        current.extend(
            entries
                .into_iter()
                .filter(|entry| chunk.contains(&entry.key.as_str()))
                .map(|entry| (entry.key, entry.mod_revision)),
        );
    }
    Ok(Changes::Known(ChangeSet::compare(held, current)))
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

    /// A fake etcd: keys with their `mod_revision`s, and the requests made.
    struct Store {
        keys: Vec<(String, u32)>,
        ranges: RefCell<Vec<String>>,
        txns: RefCell<Vec<usize>>,
        refuse_txn: bool,
    }

    impl Store {
        fn new<K: Into<String>>(keys: impl IntoIterator<Item = (K, u32)>) -> Self {
            Self {
                keys: keys.into_iter().map(|(k, r)| (k.into(), r)).collect(),
                ranges: RefCell::new(Vec::new()),
                txns: RefCell::new(Vec::new()),
                refuse_txn: false,
            }
        }

        fn entry(key: &str, revision: u32) -> Entry {
            Entry {
                key: key.to_owned(),
                value: None,
                mod_revision: Some(revision.to_string()),
            }
        }

        fn range(&self, range: &Range<'_>) -> Result<Vec<Entry>, Error> {
            self.ranges.borrow_mut().push(format!("{range:?}"));
            Ok(self
                .keys
                .iter()
                .filter(|(key, _)| range.contains(key))
                .map(|(key, revision)| Self::entry(key, *revision))
                .collect())
        }

        fn keys_only(&self, keys: &[&str]) -> Result<Option<Vec<Entry>>, Error> {
            self.txns.borrow_mut().push(keys.len());
            if self.refuse_txn {
                return Ok(None);
            }
            Ok(Some(
                self.keys
                    .iter()
                    .filter(|(key, _)| keys.contains(&key.as_str()))
                    .map(|(key, revision)| Self::entry(key, *revision))
                    .collect(),
            ))
        }

        fn changes(&self, held: &[Held], patterns: &[&str]) -> Result<Changes, Error> {
            let patterns: Vec<Pattern> = patterns
                .iter()
                .map(|p| Pattern::new(p).expect("pattern"))
                .collect();
            changes(
                held,
                &patterns,
                |range| self.range(range),
                |keys| self.keys_only(keys),
            )
        }
    }

    fn held(name: &str, revision: u32) -> Held {
        Held {
            name: name.to_owned(),
            version: Some(revision.to_string()),
        }
    }

    fn known(changes: Result<Changes, Error>) -> ChangeSet {
        match changes {
            Ok(Changes::Known(set)) => set,
            other => panic!("not known: {other:?}"),
        }
    }

    #[test]
    fn nothing_changed_under_a_prefix_is_one_request() {
        let names: Vec<String> = (0..1_000).map(|i| format!("app/{i}")).collect();
        let store = Store::new(
            names
                .iter()
                .map(|n| (n.clone(), 7))
                .chain([("app0".into(), 1), ("other".into(), 1)]),
        );
        let held: Vec<Held> = names.iter().map(|n| held(n, 7)).collect();
        let set = known(store.changes(&held, &["app/*"]));
        assert!(set.is_empty(), "{set:?}");
        assert_eq!(*store.ranges.borrow(), [r#"Prefix("app/")"#]);
        assert!(store.txns.borrow().is_empty());
    }

    #[test]
    fn changes_compare_revisions_and_find_added_and_gone() {
        let store = Store::new([
            ("app/same", 3),
            ("app/newer", 9),
            ("app/new", 4),
            ("app/skip.txt", 4),
            ("solo", 2),
        ]);
        let held = [
            held("app/same", 3),
            held("app/newer", 5),
            held("app/deleted", 1),
            held("solo", 1),
            held("gone-solo", 1),
            Held {
                name: "app/unversioned".into(),
                version: None,
            },
        ];
        let set = known(store.changes(&held, &["app/*.json", "app/n*", "app/s*e"]));
        assert_eq!(set.changed, ["app/newer", "solo"]);
        assert_eq!(set.added, ["app/new"]);
        assert_eq!(set.gone, ["app/deleted", "gone-solo", "app/unversioned"]);
        // One range for the three patterns (the same prefix), one
        // transaction for the two held names outside it.
        assert_eq!(*store.ranges.borrow(), [r#"Prefix("app/")"#]);
        assert_eq!(*store.txns.borrow(), [2]);
    }

    #[test]
    fn held_names_outside_the_patterns_go_in_transactions_of_128() {
        let names: Vec<String> = (0..300).map(|i| format!("k{i}")).collect();
        let store = Store::new(names.iter().map(|n| (n.clone(), 1)));
        let held: Vec<Held> = names.iter().map(|n| held(n, 1)).collect();
        assert!(known(store.changes(&held, &[])).is_empty());
        assert!(store.ranges.borrow().is_empty());
        assert_eq!(*store.txns.borrow(), [128, 128, 44]);
    }

    #[test]
    fn a_refused_transaction_makes_the_answer_unknown() {
        let mut store = Store::new([("a", 1), ("b", 1)]);
        store.refuse_txn = true;
        assert_eq!(
            store.changes(&[held("a", 1), held("b", 1)], &[]),
            Ok(Changes::Unknown)
        );
    }

    #[test]
    fn an_exact_pattern_reads_one_key_and_a_glob_its_prefix() {
        let exact = Pattern::new("app/db").expect("pattern");
        assert_eq!(EtcdProvider::range_of(&exact), Range::Key("app/db"));
        let glob = Pattern::new("app/*").expect("pattern");
        assert_eq!(EtcdProvider::range_of(&glob), Range::Prefix("app/"));
    }
}
