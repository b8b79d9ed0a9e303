//! Turning the `secrets:` section of a YAML tree into a [`SecretsConfig`].

use std::path::{Path, PathBuf};

use serde_yaml::Value;

use crate::config::fields::{Fields, kind_of};
use crate::config::model::{BackendConfig, CompileCacheSetting, SecretsConfig};
use crate::config::refresh::{RefreshSettings, read_refresh};
use crate::error::{Error, Result};
use crate::key::{backend_name_problem, declaration_problem};
use crate::providers::Trim;
use crate::providers::{SettingsSource, backend_type};

/// The fields of the `secrets` section.
pub(crate) const SECTION_FIELDS: &[&str] = &[
    "enabled",
    "cache_enabled",
    "backends",
    "load",
    "wasm_cache",
    "refresh",
];

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
    let refresh = read_refresh(&fields)?.over(None);
    let load = fields.string_list("load")?;
    for (i, declaration) in load.iter().enumerate() {
        if let Some(problem) = declaration_problem(declaration) {
            return Err(Error::config(file, format!("secrets.load[{i}]"), problem));
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
                backends.push(parse_backend(name, settings, file, base_dir, refresh)?);
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
        refresh,
    })
}

/// The fields every backend accepts, whatever its type (each type adds its
/// own, `BackendSettings::FIELDS`).
pub(crate) const BACKEND_FIELDS: &[&str] = &["type", "prefix", "refresh", "trim"];

/// The type of a backend without a `type`.
pub(crate) const DEFAULT_BACKEND_TYPE: &str = "env";

fn parse_backend(
    name: &str,
    settings: &Value,
    file: Option<&Path>,
    base_dir: &Path,
    default_refresh: Option<RefreshSettings>,
) -> Result<BackendConfig> {
    let path = format!("secrets.backends.{name}");
    if let Some(problem) = backend_name_problem(name) {
        return Err(Error::config(file, &path, problem));
    }
    // Read `type` first, leniently, to know which fields are allowed.
    let type_name = match settings.get("type") {
        None | Some(Value::Null) => DEFAULT_BACKEND_TYPE.to_owned(),
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
    let built_in = backend_type(&type_name)
        .map_err(|problem| Error::config(file, format!("{path}.type"), problem))?;
    let allowed: Vec<&str> = BACKEND_FIELDS
        .iter()
        .copied()
        .chain(built_in.fields.iter().copied())
        .collect();
    let fields = Fields::new(settings, &path, file, &allowed, &context)?;
    let kind = (built_in.read)(&SettingsSource {
        fields: &fields,
        base_dir,
        context: &context,
    })?;
    Ok(BackendConfig {
        name: name.to_owned(),
        prefix: fields.string("prefix")?.unwrap_or_default(),
        refresh: read_refresh(&fields)?.over(default_refresh),
        trim: read_trim(&fields)?,
        kind,
    })
}

/// A backend's `trim` (`none` when absent).
fn read_trim(fields: &Fields<'_>) -> Result<Trim> {
    match fields.string("trim")? {
        None => Ok(Trim::None),
        Some(name) => Trim::from_name(&name).ok_or_else(|| {
            fields.error(
                "trim",
                format!(
                    "unknown trim {name:?} (expected one of: {})",
                    Trim::NAMES.join(", ")
                ),
            )
        }),
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
