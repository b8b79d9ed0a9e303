//! A suite file: a provider component, its backend settings and the
//! fixture format it reads (what `pp-secrets test-provider` runs).
//!
//! ```yaml
//! fixture: json                  # files | json | ini
//! backend:                       # as under secrets.backends (type: wasm implied)
//!   path: target/components/json_provider.wasm   # relative to this file
//!   config: { file: "${FIXTURE}/secrets.json" }
//!   allow: { dirs: ["${FIXTURE}"] }
//! after_write: ./load-fixture.sh # optional: run (by sh) after each fixture write
//! ```
//!
//! `${FIXTURE}` is replaced by the directory the suite wrote the fixture
//! into (a new one for each phase) before the backend is read; other
//! `${VAR}`s are the config's own expansion.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_yaml::{Mapping, Value};

use super::fixture::FixtureFormat;
use super::target::{CallTally, OpenedProvider, Setup, SuiteTarget};
use crate::config::{BackendKind, ConfigDocument};
use crate::error::{Error, Result};
use crate::wasm::{CompileCache, Limits, WasmProvider, WasmSettings};

/// What `${FIXTURE}` stands for in a suite file.
pub const FIXTURE_PLACEHOLDER: &str = "${FIXTURE}";

/// The backend name the provider is loaded under.
const BACKEND: &str = "t";

/// A parsed suite file.
pub struct SuiteFile {
    file: PathBuf,
    /// The whole file, `${FIXTURE}` not yet replaced.
    text: String,
    format: FixtureFormat,
    after_write: Option<String>,
    /// The settings as read with a stand-in fixture directory.
    settings: WasmSettings,
    /// The provider interface the component exports (`"0.2.0"`, ...).
    interface_version: &'static str,
    cache: CompileCache,
}

impl SuiteFile {
    /// Reads the suite file at `path`; components compile through `cache`.
    pub fn from_file(path: impl AsRef<Path>, cache: CompileCache) -> Result<Self> {
        let file = path.as_ref().to_path_buf();
        let text = std::fs::read_to_string(&file).map_err(|source| Error::ReadFile {
            path: file.clone(),
            source,
        })?;
        let document = parse(&file, &text)?;
        let format = match document.get("fixture") {
            Some(Value::String(name)) => FixtureFormat::from_name(name).ok_or_else(|| {
                config_error(
                    &file,
                    "fixture",
                    format!("unknown format {name:?}; one of: {}", format_names()),
                )
            })?,
            Some(_) => return Err(config_error(&file, "fixture", "must be a string")),
            None => {
                return Err(config_error(
                    &file,
                    "fixture",
                    format!(
                        "missing: the format the provider reads, one of: {}",
                        format_names()
                    ),
                ));
            }
        };
        let after_write = match document.get("after_write") {
            None | Some(Value::Null) => None,
            Some(Value::String(command)) => Some(command.clone()),
            Some(_) => return Err(config_error(&file, "after_write", "must be a string")),
        };
        for key in document.keys() {
            if !matches!(key.as_str(), Some("fixture" | "backend" | "after_write")) {
                let name = match key.as_str() {
                    Some(name) => name.to_owned(),
                    None => serde_yaml::to_string(key)
                        .unwrap_or_default()
                        .trim()
                        .to_owned(),
                };
                let hint = if matches!(
                    name.as_str(),
                    "path" | "config" | "allow" | "limits" | "tls" | "type"
                ) {
                    format!(" ({name} is a backend setting: indent it under backend:)")
                } else {
                    String::new()
                };
                return Err(config_error(
                    &file,
                    &name,
                    format!("unknown field; the fields are fixture, backend and after_write{hint}"),
                ));
            }
        }
        let settings = backend_settings(&file, &text, Path::new("/fixture"), Setup::AsConfigured)?;
        // Compiled (or taken from the cache) once here: a component that
        // does not load fails before any check, and its interface version
        // says whether it can serve bytes. No guest code runs yet.
        let interface_version = WasmProvider::load(BACKEND, &settings, &cache)?.interface_version();
        Ok(SuiteFile {
            file,
            text,
            format,
            after_write,
            settings,
            interface_version,
            cache,
        })
    }

    /// The fixture format the provider reads.
    pub fn format(&self) -> FixtureFormat {
        self.format
    }
}

/// The backend's settings of the suite file `file` (its `text`) with
/// `${FIXTURE}` standing for `dir`.
fn backend_settings(file: &Path, text: &str, dir: &Path, setup: Setup) -> Result<WasmSettings> {
    let dir = dir
        .to_str()
        .ok_or_else(|| config_error(file, "backend", "the fixture directory is not UTF-8"))?;
    let text = text.replace(FIXTURE_PLACEHOLDER, dir);
    let document = parse(file, &text)?;
    let mut backend = match document.get("backend") {
        Some(Value::Mapping(backend)) => backend.clone(),
        Some(_) => return Err(config_error(file, "backend", "must be a mapping")),
        None => {
            return Err(config_error(
                file,
                "backend",
                "missing: the backend's settings (path, config, allow), as under \
                     secrets.backends",
            ));
        }
    };
    match backend.get("type") {
        None => {
            backend.insert("type".into(), "wasm".into());
        }
        Some(Value::String(kind)) if kind == "wasm" => {}
        Some(_) => {
            return Err(config_error(
                file,
                "backend.type",
                "the suite tests provider components: the type is wasm",
            ));
        }
    }
    if setup == Setup::WithoutSettings {
        backend.remove("config");
    }
    let mut backends = Mapping::new();
    backends.insert(BACKEND.into(), Value::Mapping(backend));
    let mut secrets = Mapping::new();
    secrets.insert("enabled".into(), true.into());
    secrets.insert("wasm_cache".into(), false.into());
    secrets.insert("backends".into(), Value::Mapping(backends));
    let mut root = Mapping::new();
    root.insert("secrets".into(), Value::Mapping(secrets));
    let yaml =
        serde_yaml::to_string(&root).map_err(|e| config_error(file, "backend", e.to_string()))?;
    let base = file.parent().unwrap_or(Path::new("."));
    let config = ConfigDocument::from_yaml_str(&yaml, base)
        .map_err(|e| config_error(file, "backend", e.to_string()))?;
    match config.secrets.backends.first().map(|b| &b.kind) {
        Some(BackendKind::Wasm(settings)) => Ok(settings.clone()),
        _ => Err(config_error(file, "backend", "is not a wasm backend")),
    }
}

impl SuiteTarget for SuiteFile {
    fn describe(&self) -> String {
        format!(
            "{} (processpype:secrets@{})",
            self.settings.path.display(),
            self.interface_version
        )
    }

    fn text_only(&self) -> bool {
        self.interface_version == "0.1.0"
    }

    fn setting_names(&self) -> Vec<String> {
        self.settings.config.keys().cloned().collect()
    }

    fn notes(&self) -> Vec<String> {
        let limits = self.settings.limits;
        let defaults = Limits::default();
        let mut differing = Vec::new();
        for (name, set, default) in [
            ("memory_mb", limits.memory_mb, defaults.memory_mb),
            ("timeout_ms", limits.timeout_ms, defaults.timeout_ms),
            (
                "instances",
                limits.instances as u64,
                defaults.instances as u64,
            ),
            (
                "open_files",
                limits.open_files as u64,
                defaults.open_files as u64,
            ),
            ("handles", limits.handles as u64, defaults.handles as u64),
            (
                "max_names",
                limits.max_names as u64,
                defaults.max_names as u64,
            ),
            ("max_reply_mb", limits.max_reply_mb, defaults.max_reply_mb),
        ] {
            if set != default {
                differing.push(format!("limits.{name} = {set} (default {default})"));
            }
        }
        if differing.is_empty() {
            vec!["run under the default limits".into()]
        } else {
            vec![format!(
                "run under changed limits: {}",
                differing.join(", ")
            )]
        }
    }

    fn open(&self, dir: &Path, setup: Setup) -> Result<OpenedProvider> {
        let settings = backend_settings(&self.file, &self.text, dir, setup)?;
        let provider = Arc::new(WasmProvider::load(BACKEND, &settings, &self.cache)?);
        let counted = provider.clone();
        Ok(OpenedProvider {
            provider,
            tally: Some(Box::new(move || {
                let calls = counted.calls();
                CallTally {
                    get: calls.get,
                    list: calls.list,
                    get_matching: calls.get_matching,
                    changes: calls.changes,
                }
            })),
        })
    }

    fn after_write(&self, dir: &Path) -> Result<()> {
        let Some(command) = &self.after_write else {
            return Ok(());
        };
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .env("FIXTURE", dir)
            .current_dir(self.file.parent().unwrap_or(Path::new(".")))
            .status()
            .map_err(|e| config_error(&self.file, "after_write", format!("cannot run sh: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(config_error(
                &self.file,
                "after_write",
                format!("{command:?} failed ({status})"),
            ))
        }
    }
}

fn parse(file: &Path, text: &str) -> Result<Mapping> {
    match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(mapping)) => Ok(mapping),
        Ok(_) => Err(config_error(
            file,
            "",
            "a suite file is a mapping (fixture, backend)",
        )),
        Err(e) => Err(config_error(file, "", format!("not valid YAML: {e}"))),
    }
}

fn config_error(file: &Path, field: &str, message: impl Into<String>) -> Error {
    Error::config(Some(file), field, message)
}

fn format_names() -> String {
    FixtureFormat::ALL.map(FixtureFormat::name).join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(yaml: &str) -> String {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("suite.yaml");
        std::fs::write(&file, yaml).expect("write");
        match SuiteFile::from_file(&file, CompileCache::disabled()) {
            Ok(_) => panic!("refused: {yaml}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_backend_setting_at_the_top_is_refused_by_its_name_with_where_it_goes() {
        let message =
            refusal("fixture: json\nbackend: { path: x.wasm }\nlimits: { memory_mb: 80 }\n");
        assert!(
            message.contains("limits: unknown field")
                && message.contains("indent it under backend:"),
            "{message}"
        );
        assert!(!message.contains("String("), "{message}");
    }

    #[test]
    fn a_missing_or_unknown_fixture_format_names_the_formats() {
        let message = refusal("backend: { path: x.wasm }\n");
        assert!(
            message.contains("fixture") && message.contains("files, json, ini"),
            "{message}"
        );
        let message = refusal("fixture: toml\nbackend: { path: x.wasm }\n");
        assert!(message.contains("unknown format \"toml\""), "{message}");
    }
}
