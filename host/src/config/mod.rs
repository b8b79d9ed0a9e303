//! Loading an application config: the YAML document, `${VAR}` expansion,
//! and the typed `secrets:` section.
//!
//! The order of work is fixed (the README's "Configuration reference"):
//! read the file, parse it as
//! YAML, replace `${VAR}` / `${VAR:-default}` in every string of the whole
//! document, then read the `secrets:` section strictly (unknown fields,
//! unknown types and missing fields are errors naming the backend and the
//! field). Other sections belong to the application and are kept as they
//! are, for [`tokens`](crate::tokens) to resolve later.

#[cfg(feature = "wasm")]
mod dir_grant;
mod expand;
pub(crate) mod fields;
mod model;
mod parse;
mod refresh;
mod schema;
mod settings_of;
pub(crate) mod tree;

use std::path::{Path, PathBuf};

use serde_yaml::Value;

#[cfg(feature = "aws")]
pub use crate::providers::AwsSettings;
pub use crate::providers::{BackendKind, DotenvSettings, EnvSettings, FileSettings, Trim};
#[cfg(feature = "wasm")]
pub use crate::wasm::{Grants, HostGrant, Limits, TlsSettings, WasmSettings};
#[cfg(feature = "wasm")]
pub(crate) use dir_grant::{checked_dir_grant, kernel_filesystem, open_granted_dir};
#[cfg(feature = "fuzzing")]
pub(crate) use expand::expand_vars;
pub(crate) use expand::{UnsetVariable, expand_from_env};
pub use model::{BackendConfig, CompileCacheSetting, SecretsConfig};
#[cfg(feature = "wasm")]
pub(crate) use parse::resolve;
pub use refresh::{RefreshSettings, duration_text, parse_duration};
pub use schema::config_schema;
pub(crate) use settings_of::settings_of;
pub use tree::ConfigTree;

use crate::error::{Error, Result};

/// A parsed application config: the whole tree (with `${VAR}` expanded)
/// and its `secrets:` section. `Debug` shows the tree's shape, never its
/// values (see [`ConfigTree`]).
#[derive(Debug, Clone)]
pub struct ConfigDocument {
    /// The file it came from, if any.
    pub file: Option<PathBuf>,
    /// The directory relative paths are resolved against.
    pub base_dir: PathBuf,
    /// The whole document after `${VAR}` expansion (wiped when dropped).
    pub tree: ConfigTree,
    /// The `secrets:` section.
    pub secrets: SecretsConfig,
}

impl ConfigDocument {
    /// Reads and parses the config file at `path`. Relative paths inside it
    /// are resolved against its directory.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let tree = read_yaml_file(path)?;
        let base_dir = absolute(path.parent().unwrap_or(Path::new(".")));
        Self::from_tree(tree, Some(path), base_dir)
    }

    /// Parses a config from YAML text; relative paths are resolved against
    /// `base_dir`.
    pub fn from_yaml_str(yaml: &str, base_dir: impl AsRef<Path>) -> Result<Self> {
        let tree = parse_yaml_expanded(yaml, None)?;
        Self::from_tree(tree, None, absolute(base_dir.as_ref()))
    }

    fn from_tree(tree: ConfigTree, file: Option<&Path>, base_dir: PathBuf) -> Result<Self> {
        let section = match &*tree {
            Value::Mapping(map) => map.get("secrets").filter(|v| !v.is_null()),
            Value::Null => None,
            _ => {
                return Err(Error::config(
                    file,
                    "",
                    "the config must be a YAML mapping at its root",
                ));
            }
        };
        let secrets = parse::parse_secrets_section(section, file, &base_dir)?;
        Ok(Self {
            file: file.map(Path::to_path_buf),
            base_dir,
            tree,
            secrets,
        })
    }
}

/// Reads a YAML file and applies `${VAR}` expansion to every string in it,
/// exactly as for the config.
pub(crate) fn read_yaml_file(path: &Path) -> Result<ConfigTree> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadFile {
        path: path.to_path_buf(),
        source,
    })?;
    parse_yaml_expanded(&text, Some(path))
}

/// Parses YAML text and applies `${VAR}` expansion to every string. The
/// tree is a [`ConfigTree`] from the start, so that it is wiped on every
/// path, errors included.
pub(crate) fn parse_yaml_expanded(text: &str, file: Option<&Path>) -> Result<ConfigTree> {
    let mut tree = ConfigTree::new(
        serde_yaml::from_str(text)
            .map_err(|e| Error::config(file, "", format!("invalid YAML: {e}")))?,
    );
    tree::visit_strings_mut(&mut tree, &mut |path, node| {
        let Value::String(s) = node else {
            return Ok(());
        };
        if let std::borrow::Cow::Owned(expanded) =
            expand_from_env(s).map_err(|UnsetVariable(name)| {
                Error::config(
                    file,
                    path,
                    format!("environment variable `{name}` is not set and has no default"),
                )
            })?
        {
            *s = expanded;
        }
        Ok(())
    })?;
    Ok(tree)
}

fn absolute(dir: &Path) -> PathBuf {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}
