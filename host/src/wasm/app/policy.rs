//! What a Wasm app may do: the secrets it may read (its [`AllowList`]),
//! what else it may reach (grants), and how much it may use (limits).
//!
//! A policy is data, built in code by an embedding service or from the
//! `run-wasm` command line; only the runner knows wasmtime.

use std::path::PathBuf;

use crate::config::{Grants, HostGrant, Limits, TlsSettings, checked_dir_grant};
use crate::error::{Error, Result};
use crate::key::SecretKey;
use crate::secrets_provider::Pattern;
use crate::wasm::guest_text::escaped;
use crate::wasm::limits::InstanceLimits;

/// The `backend:pattern` globs an app may read. Empty by default: an app
/// with an empty list can read nothing.
///
/// The backend part is a literal backend name; the pattern is a glob over
/// logical names (`*`, `?`, `[abc]`, `[!abc]`, case-sensitive), matched as
/// `list` and `load` match them.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    rules: Vec<AllowRule>,
}

#[derive(Debug, Clone)]
struct AllowRule {
    backend: String,
    pattern: Pattern,
}

impl AllowList {
    /// Adds `backend:pattern`. Fails (as a usage error naming the pattern)
    /// when there is no `backend:` or the glob is malformed.
    pub fn add(&mut self, rule: &str) -> Result<()> {
        let key = SecretKey::parse(rule)?;
        let pattern = Pattern::new(key.name).map_err(|source| Error::InvalidPattern {
            backend: key.backend.to_owned(),
            source,
        })?;
        self.rules.push(AllowRule {
            backend: key.backend.to_owned(),
            pattern,
        });
        Ok(())
    }

    /// Whether the app may read `key` (`backend:name`). A malformed key is
    /// never permitted.
    pub fn permits(&self, key: &str) -> bool {
        SecretKey::parse(key).is_ok_and(|key| {
            self.rules
                .iter()
                .any(|rule| rule.backend == key.backend && rule.pattern.matches(key.name))
        })
    }

    /// Whether any rule names `backend` (so listing it can return anything).
    pub fn names_backend(&self, backend: &str) -> bool {
        self.rules.iter().any(|rule| rule.backend == backend)
    }

    /// Every rule, as `backend:pattern`.
    pub fn rules(&self) -> impl Iterator<Item = String> + '_ {
        self.rules
            .iter()
            .map(|rule| format!("{}:{}", rule.backend, rule.pattern.as_str()))
    }

    /// Whether the list is empty (the app can read nothing).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// Where an app's stdin, stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AppStdio {
    /// The host process's own stdio (what `pp-secrets run-wasm` uses).
    #[default]
    Inherit,
    /// No stdin; stdout and stderr kept in memory, up to this many bytes
    /// each, and returned in the [`AppOutcome`](super::AppOutcome). A
    /// stream that is full is closed: the app's next write fails.
    Capture(usize),
}

/// Everything the host lets one app run do.
#[derive(Debug, Clone)]
pub struct AppPolicy {
    name: String,
    allow: AllowList,
    grants: Grants,
    tls: TlsSettings,
    memory_mb: u64,
    timeout_ms: u64,
    open_files: usize,
    handles: usize,
    args: Vec<String>,
    stdio: AppStdio,
}

impl AppPolicy {
    /// Default memory limit of an app, in MiB (as for providers).
    pub const DEFAULT_MEMORY_MB: u64 = Limits::DEFAULT_MEMORY_MB;
    /// Default limit on an app's whole run, in milliseconds.
    pub const DEFAULT_TIMEOUT_MS: u64 = 60_000;
    /// The largest memory limit accepted, in MiB (as for providers: the
    /// wasm32 address space).
    pub const MAX_MEMORY_MB: u64 = Limits::MAX_MEMORY_MB;
    /// The longest run time accepted, in milliseconds (as for providers: a
    /// day).
    pub const MAX_TIMEOUT_MS: u64 = Limits::MAX_TIMEOUT_MS;

    /// A policy for the app called `name` (used in logs and errors, and as
    /// its `argv[0]`; control characters escaped and cut at 300
    /// characters, as it may come from a file name) that allows nothing: no secrets, no environment, no
    /// directories, no network hosts; 64 MiB of memory and 60 s of run time;
    /// stdio inherited.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            // It may come from a file name: escaped and capped like any
            // text that reaches a log line.
            name: escaped(&name.into()),
            allow: AllowList::default(),
            grants: Grants::default(),
            tls: TlsSettings::default(),
            memory_mb: Self::DEFAULT_MEMORY_MB,
            timeout_ms: Self::DEFAULT_TIMEOUT_MS,
            open_files: Limits::DEFAULT_OPEN_FILES,
            handles: Limits::DEFAULT_HANDLES,
            args: Vec::new(),
            stdio: AppStdio::Inherit,
        }
    }

    /// Lets the app read the secrets matching `rule` (`backend:glob`).
    pub fn allow(mut self, rule: &str) -> Result<Self> {
        self.allow.add(rule)?;
        Ok(self)
    }

    /// Lets the app see the host's environment variable `name`.
    pub fn grant_env(mut self, name: impl Into<String>) -> Self {
        self.grants.env.push(name.into());
        self
    }

    /// Lets the app read (not write) the host directory `dir`, at the same
    /// absolute path inside the app. Fails for the root directory and for
    /// the kernel's filesystems (procfs, sysfs, devfs and their kin), or a
    /// path that resolves into them.
    pub fn grant_dir(mut self, dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = checked_dir_grant(dir.into(), |dir, problem| Error::InvalidGrant {
            grant: format!("directory {:?}", dir.display().to_string()),
            problem,
        })?;
        self.grants.dirs.push(dir);
        Ok(self)
    }

    /// Lets the app send HTTP requests (wasi:http) to `host` (`host:port`,
    /// or `host` for the scheme's default port). Fails when the entry is
    /// malformed.
    pub fn grant_host(mut self, host: &str) -> Result<Self> {
        let grant = HostGrant::parse(host).map_err(|problem| Error::InvalidGrant {
            grant: format!("host {host:?}"),
            problem,
        })?;
        self.grants.hosts.push(grant);
        Ok(self)
    }

    /// Trusts the CA certificates of the PEM bundle `file` (besides the
    /// system's roots) for the app's HTTPS requests. The file is read when
    /// the app runs.
    pub fn trust_ca_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.tls.ca_file = Some(file.into());
        self
    }

    /// Presents the PEM certificate chain `cert` with its PEM private key
    /// `key` to servers that ask the app's HTTPS requests for a client
    /// certificate (mutual TLS). The files are read when the app runs.
    pub fn client_certificate(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.tls.client_cert = Some(cert.into());
        self.tls.client_key = Some(key.into());
        self
    }

    /// Caps the app's memory at `mb` MiB (1 to [`MAX_MEMORY_MB`](Self::MAX_MEMORY_MB)).
    pub fn memory_mb(mut self, mb: u64) -> Result<Self> {
        self.memory_mb = in_range("memory limit (MiB)", mb, Self::MAX_MEMORY_MB)?;
        Ok(self)
    }

    /// Caps the app's whole run at `ms` milliseconds (1 to
    /// [`MAX_TIMEOUT_MS`](Self::MAX_TIMEOUT_MS)), time spent waiting on
    /// backends included.
    pub fn timeout_ms(mut self, ms: u64) -> Result<Self> {
        self.timeout_ms = in_range("time limit (ms)", ms, Self::MAX_TIMEOUT_MS)?;
        Ok(self)
    }

    /// Caps the files and directories the app may have open at once at
    /// `count` (1 to [`Limits::MAX_OPEN_FILES`]; default
    /// [`Limits::DEFAULT_OPEN_FILES`]).
    pub fn open_files(mut self, count: usize) -> Result<Self> {
        self.open_files =
            in_range("open files", count as u64, Limits::MAX_OPEN_FILES as u64)? as usize;
        Ok(self)
    }

    /// Caps the host resources (open files, streams, pollables, HTTP
    /// requests, ...) the app may hold at once at `count` (1 to
    /// [`Limits::MAX_HANDLES`]; default [`Limits::DEFAULT_HANDLES`]).
    pub fn handles(mut self, count: usize) -> Result<Self> {
        self.handles = in_range("handles", count as u64, Limits::MAX_HANDLES as u64)? as usize;
        Ok(self)
    }

    /// The app's arguments (after `argv[0]`, which is its name).
    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Where the app's stdio goes.
    pub fn stdio(mut self, stdio: AppStdio) -> Self {
        self.stdio = stdio;
        self
    }

    /// The app's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The secrets the app may read.
    pub fn allow_list(&self) -> &AllowList {
        &self.allow
    }

    /// What else the app may reach.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// How the app's HTTPS requests trust servers.
    pub fn tls(&self) -> &TlsSettings {
        &self.tls
    }

    /// The memory limit, in MiB.
    pub fn memory_limit_mb(&self) -> u64 {
        self.memory_mb
    }

    /// The run-time limit, in milliseconds.
    pub fn time_limit_ms(&self) -> u64 {
        self.timeout_ms
    }

    pub(crate) fn instance_limits(&self) -> InstanceLimits {
        InstanceLimits {
            memory_mb: self.memory_mb,
            open_files: self.open_files,
            handles: self.handles,
        }
    }

    pub(crate) fn arguments(&self) -> &[String] {
        &self.args
    }

    pub(crate) fn stdio_mode(&self) -> AppStdio {
        self.stdio
    }
}

fn in_range(what: &str, value: u64, max: u64) -> Result<u64> {
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(Error::InvalidLimit {
            what: what.to_owned(),
            value,
            max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(rules: &[&str]) -> AllowList {
        let mut list = AllowList::default();
        for rule in rules {
            list.add(rule).expect("valid rule");
        }
        list
    }

    #[test]
    fn an_empty_list_permits_nothing() {
        assert!(!AllowList::default().permits("env:HOME"));
    }

    #[test]
    fn a_rule_permits_matching_names_of_its_backend_only() {
        let allow = list(&["local:db_*", "env:API_KEY"]);
        assert!(allow.permits("local:db_password"));
        assert!(allow.permits("env:API_KEY"));
        assert!(!allow.permits("local:api_key"));
        assert!(!allow.permits("env:API_KEY_2"));
        assert!(!allow.permits("other:db_password"));
        assert!(!allow.permits("no-colon"));
    }

    #[test]
    fn the_backend_part_is_literal() {
        let allow = list(&["loc*:x"]);
        assert!(!allow.permits("local:x"));
        assert!(allow.permits("loc*:x"));
    }

    #[test]
    fn a_rule_without_a_backend_is_refused() {
        assert!(AllowList::default().add("no-backend").is_err());
    }

    #[test]
    fn limits_outside_their_range_are_refused() {
        assert!(AppPolicy::new("a").memory_mb(0).is_err());
        assert!(AppPolicy::new("a").memory_mb(4_097).is_err());
        assert!(AppPolicy::new("a").timeout_ms(0).is_err());
        assert_eq!(
            AppPolicy::new("a")
                .timeout_ms(5)
                .map(|p| p.time_limit_ms())
                .ok(),
            Some(5)
        );
    }
}
