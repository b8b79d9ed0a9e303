//! Turning the `secrets:` section of a YAML tree into a [`SecretsConfig`].

use std::path::{Path, PathBuf};

use serde_yaml::Value;

#[cfg(feature = "wasm")]
use crate::config::dir_grant::checked_dir_grant;
use crate::config::fields::{Fields, kind_of};
#[cfg(feature = "aws")]
use crate::config::model::AwsSettings;
use crate::config::model::{BackendConfig, BackendKind, CompileCacheSetting, SecretsConfig};
#[cfg(feature = "wasm")]
use crate::config::model::{Grants, HostGrant, Limits, TlsSettings, WasmSettings};
use crate::error::{Error, Result};
#[cfg(feature = "wasm")]
use crate::value::SecretText;

const SECTION_FIELDS: &[&str] = &["enabled", "cache_enabled", "backends", "load", "wasm_cache"];
const ENV_FIELDS: &[&str] = &["type", "prefix"];
const FILE_FIELDS: &[&str] = &["type", "prefix", "path"];
#[cfg(feature = "aws")]
const AWS_FIELDS: &[&str] = &[
    "type",
    "prefix",
    "region_name",
    "profile_name",
    "endpoint_url",
    "concurrency",
    "max_attempts",
    "connect_timeout_ms",
    "attempt_timeout_ms",
];

#[cfg(feature = "wasm")]
const WASM_FIELDS: &[&str] = &["type", "prefix", "path", "config", "allow", "limits", "tls"];
#[cfg(feature = "wasm")]
const WASM_ALLOW_FIELDS: &[&str] = &["env", "dirs", "hosts"];
#[cfg(feature = "wasm")]
const WASM_LIMIT_FIELDS: &[&str] = &[
    "memory_mb",
    "timeout_ms",
    "instances",
    "open_files",
    "handles",
    "max_names",
    "max_reply_mb",
];
#[cfg(feature = "wasm")]
const WASM_TLS_FIELDS: &[&str] = &["ca_file", "client_cert", "client_key"];

/// Backend types this project defines but this build does not contain.
const NOT_BUILT_IN: &[&str] = &[
    #[cfg(not(feature = "wasm"))]
    "wasm",
    #[cfg(not(feature = "aws"))]
    "aws",
];

/// The types this build serves, for messages.
const BUILT_IN: &str = match (cfg!(feature = "aws"), cfg!(feature = "wasm")) {
    (true, true) => "env, file, dotenv, aws, wasm",
    (true, false) => "env, file, dotenv, aws",
    (false, true) => "env, file, dotenv, wasm",
    (false, false) => "env, file, dotenv",
};

/// Reads the `secrets` section (`None` when the file has none). Relative
/// paths are resolved against `base_dir`.
pub fn parse_secrets_section(
    section: Option<&Value>,
    file: Option<&Path>,
    base_dir: &Path,
) -> Result<SecretsConfig> {
    let Some(section) = section else {
        return Ok(SecretsConfig::default());
    };
    let fields = Fields::new(
        section,
        "secrets",
        file,
        SECTION_FIELDS,
        "the secrets section",
    )?;
    let enabled = fields.bool("enabled", false)?;
    let cache_enabled = fields.bool("cache_enabled", true)?;
    let load = fields.string_list("load")?;
    for (i, declaration) in load.iter().enumerate() {
        if !declaration.contains(':') {
            return Err(Error::config(
                file,
                format!("secrets.load[{i}]"),
                format!("declaration {declaration:?} must be backend:pattern"),
            ));
        }
    }

    let wasm_cache = match fields.get("wasm_cache") {
        None | Some(Value::Bool(true)) => CompileCacheSetting::Default,
        Some(Value::Bool(false)) => CompileCacheSetting::Off,
        Some(Value::String(s)) if s == "false" || s == "off" => CompileCacheSetting::Off,
        Some(Value::String(s)) if s == "true" => CompileCacheSetting::Default,
        Some(Value::String(dir)) if !dir.is_empty() => CompileCacheSetting::Dir(
            resolve(base_dir, dir).map_err(|problem| fields.error("wasm_cache", problem))?,
        ),
        Some(other) => {
            return Err(fields.error(
                "wasm_cache",
                format!("expected a directory or false, found {}", kind_of(other)),
            ));
        }
    };

    let mut backends = Vec::new();
    match fields.get("backends") {
        None => {}
        Some(Value::Mapping(map)) => {
            for (name, settings) in map {
                let Some(name) = name.as_str() else {
                    return Err(fields.error("backends", "backend names must be strings"));
                };
                backends.push(parse_backend(name, settings, file, base_dir)?);
            }
        }
        Some(other) => {
            return Err(fields.error(
                "backends",
                format!(
                    "expected a mapping of backend names, found {}",
                    kind_of(other)
                ),
            ));
        }
    }

    Ok(SecretsConfig {
        enabled,
        cache_enabled,
        backends,
        load,
        wasm_cache,
    })
}

fn parse_backend(
    name: &str,
    settings: &Value,
    file: Option<&Path>,
    base_dir: &Path,
) -> Result<BackendConfig> {
    let path = format!("secrets.backends.{name}");
    if name.is_empty() || name.contains(':') {
        return Err(Error::config(
            file,
            &path,
            "a backend name must be non-empty and must not contain `:`",
        ));
    }
    // Read `type` first, leniently, to know which fields are allowed.
    let type_name = match settings.get("type") {
        None | Some(Value::Null) => "env".to_owned(),
        Some(Value::String(t)) => t.clone(),
        Some(other) => {
            return Err(Error::config(
                file,
                format!("{path}.type"),
                format!("expected a string, found {}", kind_of(other)),
            ));
        }
    };
    let context = format!("a `{type_name}` backend");
    let allowed = match type_name.as_str() {
        "env" => ENV_FIELDS,
        "file" | "dotenv" => FILE_FIELDS,
        #[cfg(feature = "aws")]
        "aws" => AWS_FIELDS,
        #[cfg(feature = "wasm")]
        "wasm" => WASM_FIELDS,
        t if NOT_BUILT_IN.contains(&t) => {
            return Err(Error::config(
                file,
                format!("{path}.type"),
                format!(
                    "backend type `{t}` is not built into this build of pp-secrets \
                     (built in: {BUILT_IN})"
                ),
            ));
        }
        t => {
            return Err(Error::config(
                file,
                format!("{path}.type"),
                format!(
                    "unknown backend type `{t}` (expected one of: env, file, dotenv, aws, wasm)"
                ),
            ));
        }
    };
    let fields = Fields::new(settings, &path, file, allowed, &context)?;
    let kind = match type_name.as_str() {
        "file" => BackendKind::File {
            path: fields.required_path("path", base_dir, &context)?,
        },
        "dotenv" => BackendKind::Dotenv {
            path: match fields.path("path", base_dir)? {
                Some(path) => path,
                None => base_dir.join(".env"),
            },
        },
        #[cfg(feature = "aws")]
        "aws" => BackendKind::Aws(parse_aws(&fields)?),
        #[cfg(feature = "wasm")]
        "wasm" => BackendKind::Wasm(parse_wasm(&fields, &context, base_dir)?),
        _ => BackendKind::Env,
    };
    Ok(BackendConfig {
        name: name.to_owned(),
        prefix: fields.string("prefix")?.unwrap_or_default(),
        kind,
    })
}

#[cfg(feature = "aws")]
fn parse_aws(fields: &Fields) -> Result<AwsSettings> {
    let defaults = AwsSettings::default();
    let non_empty = |name: &str| -> Result<Option<String>> {
        Ok(fields.string(name)?.filter(|s| !s.is_empty()))
    };
    let settings = AwsSettings {
        region_name: non_empty("region_name")?,
        profile_name: non_empty("profile_name")?,
        endpoint_url: non_empty("endpoint_url")?,
        concurrency: fields.positive("concurrency", defaults.concurrency as u64)? as usize,
        max_attempts: fields.positive("max_attempts", u64::from(defaults.max_attempts))? as u32,
        connect_timeout_ms: fields.positive("connect_timeout_ms", defaults.connect_timeout_ms)?,
        attempt_timeout_ms: fields.positive("attempt_timeout_ms", defaults.attempt_timeout_ms)?,
    };
    if settings.concurrency > 64 || settings.max_attempts > 10 {
        return Err(fields.error(
            if settings.concurrency > 64 {
                "concurrency"
            } else {
                "max_attempts"
            },
            "is too large (concurrency at most 64, max_attempts at most 10)",
        ));
    }
    Ok(settings)
}

#[cfg(feature = "wasm")]
fn parse_wasm(fields: &Fields, context: &str, base_dir: &Path) -> Result<WasmSettings> {
    let path = fields.required_path("path", base_dir, context)?;
    let config = fields
        .string_map("config")?
        .into_iter()
        .map(|(key, value)| (key, SecretText::new(value)))
        .collect();

    let allow = fields.nested("allow", WASM_ALLOW_FIELDS, "`allow` (grants)")?;
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

    let limit_fields = fields.nested("limits", WASM_LIMIT_FIELDS, "`limits`")?;
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
    let table_kib = limits.handles.saturating_mul(Limits::HANDLE_BYTES) >> 10;
    if table_kib as u64 > limits.memory_mb.saturating_mul(1024) {
        return Err(limit_fields.error(
            "handles",
            format!(
                "{} handles reserve {table_kib} KiB of memory_mb ({} MiB), more than all of it: raise memory_mb or lower handles",
                limits.handles, limits.memory_mb
            ),
        ));
    }
    Ok(WasmSettings {
        path,
        config,
        grants: Grants { env, dirs, hosts },
        limits,
        tls: parse_tls(fields, base_dir)?,
    })
}

#[cfg(feature = "wasm")]
fn parse_tls(fields: &Fields, base_dir: &Path) -> Result<TlsSettings> {
    let tls = fields.nested("tls", WASM_TLS_FIELDS, "`tls`")?;
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

/// A path setting as written, made absolute: a leading `~` is the user's
/// home directory (`$HOME`), and a relative path is relative to `base_dir`
/// (the config file's directory). `${VAR}` was expanded before, as in
/// every string. The error says what is wrong (`~user`, or `~` without
/// `HOME`).
pub(crate) fn resolve(base_dir: &Path, path: &str) -> std::result::Result<PathBuf, String> {
    if let Some(rest) = path.strip_prefix('~') {
        let rest = match rest.strip_prefix('/') {
            Some(rest) => rest,
            None if rest.is_empty() => rest,
            None => {
                return Err(format!(
                    "{path:?}: only `~` (your home directory) is expanded, not `~user`"
                ));
            }
        };
        let home = std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .ok_or_else(|| format!("{path:?} starts with `~`, but HOME is not set"))?;
        return Ok(PathBuf::from(home).join(rest));
    }
    let p = Path::new(path);
    Ok(if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    })
}
