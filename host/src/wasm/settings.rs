//! The settings of a `wasm` backend (`type: wasm`): which component, how
//! it is set up, and the sandbox it runs in (`allow`, `limits`, `tls`).
//! A description only: the rest of the `wasm` module enforces it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{CompileCache, WasmProvider};
use crate::config::fields::Fields;
use crate::config::{SecretsConfig, checked_dir_grant, resolve};
use crate::error::{Error, Result};
use crate::providers::{BackendSettings, SettingsSource};
use crate::secrets_provider::SecretsProvider;
use crate::value::SecretText;

impl BackendSettings for WasmSettings {
    const FIELDS: &'static [&'static str] = &["path", "config", "allow", "limits", "tls"];

    fn read(source: &SettingsSource<'_>) -> Result<Self> {
        read(source)
    }

    /// Loads the component (through the section's compile cache). A
    /// component that cannot be read is a configuration error at the
    /// backend's `path`, so the message names the backend as well as the
    /// file.
    fn provider(&self, backend: &str, section: &SecretsConfig) -> Result<Arc<dyn SecretsProvider>> {
        let cache = CompileCache::from_setting(&section.wasm_cache);
        match WasmProvider::load(backend, self, &cache) {
            Ok(provider) => Ok(Arc::new(provider)),
            Err(Error::ReadFile { path, source }) if path == self.path => Err(Error::config(
                None,
                format!("secrets.backends.{backend}.path"),
                format!("cannot read {}: {source}", path.display()),
            )),
            Err(other) => Err(other),
        }
    }
}
/// The fields of `allow`.
pub(crate) const ALLOW_FIELDS: &[&str] = &["env", "dirs", "hosts"];
/// The fields of `limits`.
pub(crate) const LIMIT_FIELDS: &[&str] = &[
    "memory_mb",
    "timeout_ms",
    "instances",
    "open_files",
    "handles",
    "max_names",
    "max_reply_mb",
];
/// The fields of `tls`.
pub(crate) const TLS_FIELDS: &[&str] = &["ca_file", "client_cert", "client_key"];

/// Settings of a `wasm` backend: which component, how it is set up, and
/// the sandbox it runs in. This is a description only; the
/// [`wasm`](crate::wasm) module enforces it.
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

impl TlsSettings {
    /// Whether nothing is set (the system's roots, no client certificate).
    pub fn is_default(&self) -> bool {
        self.ca_file.is_none() && self.client_cert.is_none() && self.client_key.is_none()
    }
}

/// What a sandboxed guest may reach (`allow:`). Everything else is denied.
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostGrant {
    host: String,
    port: Option<u16>,
}

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

impl std::fmt::Display for HostGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

/// How much a sandboxed guest may use (`limits:`).
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
    const HANDLE_BYTES: usize = 256;
    /// The default of `max_names`.
    pub const DEFAULT_MAX_NAMES: usize = 100_000;
    /// The largest `max_names` accepted.
    pub const MAX_MAX_NAMES: usize = 10_000_000;
    /// The default of `max_reply_mb`.
    pub const DEFAULT_MAX_REPLY_MB: u64 = 64;

    /// What `handles` handles reserve of the memory budget (the one rule,
    /// for the config's check and the instance's reservation).
    pub(crate) fn handle_table_bytes(handles: usize) -> usize {
        handles.saturating_mul(Self::HANDLE_BYTES)
    }

    /// The problem with `handles` beside `memory_mb`, if their table
    /// would not fit.
    pub(crate) fn handle_table_problem(handles: usize, memory_mb: u64) -> Option<String> {
        let bytes = Self::handle_table_bytes(handles) as u64;
        (bytes > memory_mb.saturating_mul(1 << 20)).then(|| {
            format!(
                "{handles} handles reserve {} KiB of memory_mb ({memory_mb} MiB), more than all \
                 of it: raise memory_mb or lower handles",
                bytes.div_ceil(1024)
            )
        })
    }
}

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

/// Reads a `wasm` backend's settings.
fn read(source: &SettingsSource<'_>) -> Result<WasmSettings> {
    let SettingsSource {
        fields,
        base_dir,
        context,
    } = *source;
    let path = fields.required_path("path", base_dir, context)?;
    let config = fields
        .string_map("config")?
        .into_iter()
        .map(|(key, value)| (key, SecretText::new(value)))
        .collect();

    let allow = fields.nested("allow", ALLOW_FIELDS, "`allow` (grants)")?;
    let env = allow.string_list("env")?;
    for (i, name) in env.iter().enumerate() {
        if name.is_empty() || name.contains('=') || name.contains('\0') {
            return Err(allow.error(&format!("env[{i}]"), "is not an environment variable name"));
        }
    }
    let mut dirs = Vec::new();
    for (i, dir) in allow.string_list("dirs")?.iter().enumerate() {
        if dir.is_empty() {
            return Err(allow.error(&format!("dirs[{i}]"), "must not be empty"));
        }
        let entry = format!("dirs[{i}]");
        let resolved = resolve(base_dir, dir).map_err(|problem| allow.error(&entry, problem))?;
        let grant = checked_dir_grant(resolved, |_, problem| {
            allow.error(&entry, format!("{dir:?} {problem}"))
        })?;
        dirs.push(grant);
    }
    let mut hosts = Vec::new();
    for (i, entry) in allow.string_list("hosts")?.iter().enumerate() {
        let grant = HostGrant::parse(entry).map_err(|problem| {
            allow.error(&format!("hosts[{i}]"), format!("{entry:?} {problem}"))
        })?;
        hosts.push(grant);
    }

    let limit_fields = fields.nested("limits", LIMIT_FIELDS, "`limits`")?;
    let defaults = Limits::default();
    let limits = Limits {
        memory_mb: limit_fields.positive("memory_mb", defaults.memory_mb)?,
        timeout_ms: limit_fields.positive("timeout_ms", defaults.timeout_ms)?,
        instances: limit_fields.positive("instances", defaults.instances as u64)? as usize,
        open_files: limit_fields.positive("open_files", defaults.open_files as u64)? as usize,
        handles: limit_fields.positive("handles", defaults.handles as u64)? as usize,
        max_names: limit_fields.positive("max_names", defaults.max_names as u64)? as usize,
        max_reply_mb: limit_fields.positive("max_reply_mb", defaults.max_reply_mb)?,
    };
    for (field, value, max) in [
        ("memory_mb", limits.memory_mb, Limits::MAX_MEMORY_MB),
        ("timeout_ms", limits.timeout_ms, Limits::MAX_TIMEOUT_MS),
        (
            "instances",
            limits.instances as u64,
            Limits::MAX_INSTANCES as u64,
        ),
        (
            "open_files",
            limits.open_files as u64,
            Limits::MAX_OPEN_FILES as u64,
        ),
        ("handles", limits.handles as u64, Limits::MAX_HANDLES as u64),
        (
            "max_names",
            limits.max_names as u64,
            Limits::MAX_MAX_NAMES as u64,
        ),
        ("max_reply_mb", limits.max_reply_mb, Limits::MAX_MEMORY_MB),
    ] {
        if value > max {
            return Err(limit_fields.error(field, format!("is too large (at most {max})")));
        }
    }
    if let Some(problem) = Limits::handle_table_problem(limits.handles, limits.memory_mb) {
        return Err(limit_fields.error("handles", problem));
    }
    Ok(WasmSettings {
        path,
        config,
        grants: Grants { env, dirs, hosts },
        limits,
        tls: read_tls(fields, base_dir)?,
    })
}

/// Reads `tls`.
fn read_tls(fields: &Fields<'_>, base_dir: &Path) -> Result<TlsSettings> {
    let tls = fields.nested("tls", TLS_FIELDS, "`tls`")?;
    let settings = TlsSettings {
        ca_file: tls.path("ca_file", base_dir)?,
        client_cert: tls.path("client_cert", base_dir)?,
        client_key: tls.path("client_key", base_dir)?,
    };
    match (&settings.client_cert, &settings.client_key) {
        (Some(_), None) => Err(tls.error("client_key", "is required with client_cert")),
        (None, Some(_)) => Err(tls.error("client_cert", "is required with client_key")),
        _ => Ok(settings),
    }
}
