//! The typed model of the `secrets:` section.

use std::path::PathBuf;

#[cfg(feature = "wasm")]
use std::collections::BTreeMap;

#[cfg(feature = "wasm")]
use crate::value::SecretText;

/// The `secrets:` section of an application config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretsConfig {
    /// Whether the subsystem exists at all (default `false`).
    pub enabled: bool,
    /// Whether fetched secrets are kept in memory (default `true`).
    pub cache_enabled: bool,
    /// The named backends, in the order the file lists them.
    pub backends: Vec<BackendConfig>,
    /// `backend:pattern` declarations preloaded at start-up, in order.
    pub load: Vec<String>,
    /// `wasm_cache`: where compiled Wasm components are kept between runs.
    pub wasm_cache: CompileCacheSetting,
}

/// Where compiled Wasm components are kept between runs (`secrets.wasm_cache`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CompileCacheSetting {
    /// Not set (or `true`): `PP_SECRETS_WASM_CACHE` when set (a directory,
    /// or `off`), else `pp-secrets/wasm` in the user's cache directory.
    #[default]
    Default,
    /// A directory (relative paths are relative to the config file).
    Dir(PathBuf),
    /// `false`: compile every component at every start.
    Off,
}

impl Default for SecretsConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            cache_enabled: true,
            backends: Vec::new(),
            load: Vec::new(),
            wasm_cache: CompileCacheSetting::Default,
        }
    }
}

/// One named backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendConfig {
    /// The name used in keys (`name:secret`).
    pub name: String,
    /// Prepended to every logical name (see [`BackendPrefix`](crate::BackendPrefix)).
    pub prefix: String,
    /// The backend type and its settings.
    pub kind: BackendKind,
}

/// A backend type with its type-specific settings. Paths are absolute,
/// already resolved against the config file's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// Built once per backend at start-up: the size of the largest variant
// costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum BackendKind {
    /// `type: env`: the process environment.
    Env,
    /// `type: file`: a YAML mapping.
    File {
        /// The YAML file.
        path: PathBuf,
    },
    /// `type: dotenv`: a `.env` file.
    Dotenv {
        /// The `.env` file (default `.env` next to the config).
        path: PathBuf,
    },
    /// `type: aws`: AWS Secrets Manager (the `aws` cargo feature).
    #[cfg(feature = "aws")]
    Aws(AwsSettings),
    /// `type: wasm`: a provider component run in a sandbox (the `wasm`
    /// cargo feature).
    #[cfg(feature = "wasm")]
    Wasm(WasmSettings),
}

/// Settings of a `wasm` backend: which component, how it is set up, and
/// the sandbox it runs in. This is a description only; the
/// [`wasm`](crate::wasm) module enforces it.
#[cfg(feature = "wasm")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WasmSettings {
    /// `path`: the component file, made absolute.
    pub path: PathBuf,
    /// `config`: the string map handed to the provider's `setup`. Values may
    /// be credentials (from `${VAR}`), so they are kept as secrets.
    pub config: BTreeMap<String, SecretText>,
    /// `allow`: what the guest may reach. Nothing by default.
    pub grants: Grants,
    /// `limits`: memory and time.
    pub limits: Limits,
    /// `tls`: how the hosts in `allow.hosts` are trusted over HTTPS.
    pub tls: TlsSettings,
}

/// How a guest's HTTPS connections trust servers and present themselves
/// (`tls:` of a `wasm` backend, `--ca-file` of `run-wasm`). The system's
/// roots are always trusted; paths are absolute.
#[cfg(feature = "wasm")]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsSettings {
    /// `tls.ca_file`: a PEM bundle of CA certificates trusted besides the
    /// system's roots (for services signed by a private CA).
    pub ca_file: Option<PathBuf>,
    /// `tls.client_cert`: a PEM certificate chain presented to servers that
    /// ask for one (mutual TLS); set together with `client_key`.
    pub client_cert: Option<PathBuf>,
    /// `tls.client_key`: the PEM private key of `client_cert`.
    pub client_key: Option<PathBuf>,
}

#[cfg(feature = "wasm")]
impl TlsSettings {
    /// Whether nothing is set (the system's roots, no client certificate).
    pub fn is_default(&self) -> bool {
        self.ca_file.is_none() && self.client_cert.is_none() && self.client_key.is_none()
    }
}

/// What a sandboxed guest may reach (`allow:`). Everything else is denied.
#[cfg(feature = "wasm")]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Grants {
    /// `allow.env`: names of host environment variables the guest sees
    /// (with the host's values; unset ones stay unset).
    pub env: Vec<String>,
    /// `allow.dirs`: host directories the guest may read (not write), each
    /// at the same absolute path inside the guest.
    pub dirs: Vec<PathBuf>,
    /// `allow.hosts`: the hosts the guest may send HTTP requests to
    /// (wasi:http). Raw sockets stay closed.
    pub hosts: Vec<HostGrant>,
}

/// One entry of `allow.hosts`: a host name or IP address, and a port.
///
/// Written `host:port` (`[::1]:8080` for IPv6), or `host` alone for the
/// scheme's default port (80 for `http`, 443 for `https`). Host names are
/// matched exactly, ignoring ASCII case; there are no wildcards, and a
/// name does not grant the addresses it resolves to (or the reverse).
#[cfg(feature = "wasm")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostGrant {
    host: String,
    port: Option<u16>,
}

#[cfg(feature = "wasm")]
impl HostGrant {
    /// Parses `host:port`, `[v6]:port` or `host`. The error says what is
    /// wrong with the entry.
    pub fn parse(entry: &str) -> Result<Self, String> {
        if entry.contains("://") || entry.contains('/') {
            return Err("is a URL or a path: write host:port".into());
        }
        let (host, port) = match entry.strip_prefix('[') {
            Some(v6) => match v6.split_once(']') {
                Some((addr, "")) => (format!("[{addr}]"), None),
                Some((addr, rest)) => match rest.strip_prefix(':') {
                    Some(port) => (format!("[{addr}]"), Some(port)),
                    None => return Err("has text after the IPv6 address".into()),
                },
                None => return Err("has no closing `]`".into()),
            },
            None => match entry.rsplit_once(':') {
                Some((host, _)) if host.contains(':') => {
                    return Err("is an IPv6 address without brackets: write [address]:port".into());
                }
                Some((host, port)) => (host.to_owned(), Some(port)),
                None => (entry.to_owned(), None),
            },
        };
        let port = match port {
            Some(port) => Some(
                port.parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| format!("has an invalid port {port:?}"))?,
            ),
            None => None,
        };
        let valid =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']');
        if host.is_empty() || !host.chars().all(valid) {
            return Err("is not a host name or IP address".into());
        }
        Ok(Self {
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Whether a request to `host` (as in a URL; IPv6 in brackets) on
    /// `port`, whose scheme's default port is `default_port`, is granted.
    pub fn permits(&self, host: &str, port: u16, default_port: u16) -> bool {
        self.host.eq_ignore_ascii_case(host) && self.port.unwrap_or(default_port) == port
    }
}

#[cfg(feature = "wasm")]
impl std::fmt::Display for HostGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// How much a sandboxed guest may use (`limits:`).
#[cfg(feature = "wasm")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `limits.memory_mb`: linear memory and tables of one instance, in MiB.
    pub memory_mb: u64,
    /// `limits.timeout_ms`: wall-clock time of one call, in milliseconds.
    pub timeout_ms: u64,
    /// `limits.instances`: calls running at once, each in its own instance.
    pub instances: usize,
    /// `limits.open_files`: files and directories one instance may have
    /// open at once (granted directories not counted).
    pub open_files: usize,
    /// `limits.handles`: host resources one instance may hold at once
    /// (open files, streams, pollables, HTTP requests, headers and bodies:
    /// every entry of its resource table).
    pub handles: usize,
    /// `limits.max_names`: names in one `list` or bulk reply.
    pub max_names: usize,
    /// `limits.max_reply_mb`: bytes of names and values in one `list` or
    /// bulk reply, in MiB.
    pub max_reply_mb: u64,
}

#[cfg(feature = "wasm")]
impl Limits {
    /// The default memory limit of a guest (provider or app), in MiB.
    pub const DEFAULT_MEMORY_MB: u64 = 64;
    /// The largest memory limit accepted, in MiB: a 32-bit guest cannot
    /// address more than 4 GiB.
    pub const MAX_MEMORY_MB: u64 = 4_096;
    /// The longest time limit accepted, in milliseconds (a day; more is a
    /// typo, not a setting).
    pub const MAX_TIMEOUT_MS: u64 = 86_400_000;
    /// The most instances of one backend accepted.
    pub const MAX_INSTANCES: usize = 1_024;
    /// The default of `open_files`: more than a provider needs, and with
    /// the default 4 instances far below a process's usual 1,024 files.
    pub const DEFAULT_OPEN_FILES: usize = 16;
    /// The most open files per instance accepted.
    pub const MAX_OPEN_FILES: usize = 1_024;
    /// The default of `handles`.
    pub const DEFAULT_HANDLES: usize = 256;
    /// The most handles per instance accepted.
    pub const MAX_HANDLES: usize = 65_536;
    /// What each handle reserves of `memory_mb` for the host's resource
    /// table: its entry and the small object behind it (a pollable, a
    /// timer, a stream's state), with room to spare.
    pub const HANDLE_BYTES: usize = 256;
    /// The default of `max_names`.
    pub const DEFAULT_MAX_NAMES: usize = 100_000;
    /// The largest `max_names` accepted.
    pub const MAX_MAX_NAMES: usize = 10_000_000;
    /// The default of `max_reply_mb`.
    pub const DEFAULT_MAX_REPLY_MB: u64 = 64;
}

#[cfg(feature = "wasm")]
impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_mb: Self::DEFAULT_MEMORY_MB,
            timeout_ms: 1_000,
            instances: 4,
            open_files: Self::DEFAULT_OPEN_FILES,
            handles: Self::DEFAULT_HANDLES,
            max_names: Self::DEFAULT_MAX_NAMES,
            max_reply_mb: Self::DEFAULT_MAX_REPLY_MB,
        }
    }
}

#[cfg(feature = "aws")]
/// Settings of an `aws` backend. Anything not set here comes from the
/// standard AWS chain (environment, shared config and credentials files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    /// `region_name`: the region; else `AWS_REGION` or the profile's.
    pub region_name: Option<String>,
    /// `profile_name`: a profile of the shared config files. When set, its
    /// credentials are used even if the environment has others.
    pub profile_name: Option<String>,
    /// `endpoint_url`: a Secrets Manager endpoint, such as a local server;
    /// else `AWS_ENDPOINT_URL` or the region's endpoint.
    pub endpoint_url: Option<String>,
    /// `concurrency`: batch calls in flight at once during a `load`.
    pub concurrency: usize,
    /// `max_attempts`: tries per call, retrying throttling, 5xx and
    /// connection errors with exponential backoff.
    pub max_attempts: u32,
    /// `connect_timeout_ms`: time to open a connection.
    pub connect_timeout_ms: u64,
    /// `attempt_timeout_ms`: time for one attempt of one call.
    pub attempt_timeout_ms: u64,
}

#[cfg(feature = "aws")]
impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            region_name: None,
            profile_name: None,
            endpoint_url: None,
            concurrency: 4,
            max_attempts: 3,
            connect_timeout_ms: 2_000,
            attempt_timeout_ms: 5_000,
        }
    }
}

impl BackendKind {
    /// The `type:` spelling of this kind.
    pub fn type_name(&self) -> &'static str {
        match self {
            BackendKind::Env => "env",
            BackendKind::File { .. } => "file",
            BackendKind::Dotenv { .. } => "dotenv",
            #[cfg(feature = "aws")]
            BackendKind::Aws(_) => "aws",
            #[cfg(feature = "wasm")]
            BackendKind::Wasm(_) => "wasm",
        }
    }
}
