//! Compiled components kept on disk between runs.
//!
//! Compiling a component takes about 100 ms; loading the compiled artifact
//! takes about 1 ms. An entry is keyed by a BLAKE3 hash of the component's
//! bytes together with everything about the engine that a compiled
//! artifact depends on (wasmtime's own compatibility hash, our format
//! version), so a changed component or an upgraded host never picks up a
//! stale entry.
//!
//! Loading a compiled artifact runs its machine code, so this cache is the
//! one place artifacts are ever loaded from, and an entry is trusted only
//! after its checksum matches. A corrupt, truncated or foreign entry is
//! reported, recompiled and replaced; it is never run. Failing to write an
//! entry (a read-only disk) only costs the next start a compile.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::config::CompileCacheSetting;
use crate::error::{Error, Result};
use crate::wasm::guest_text::shown;

/// The first bytes of every entry, with the format version.
const MAGIC: &[u8; 8] = b"ppsc\x00v01";
const HASH_LEN: usize = 32;
/// The variable that moves (a directory) or disables (`off`) the default
/// cache.
pub const CACHE_ENV: &str = "PP_SECRETS_WASM_CACHE";

/// Where compiled components are cached, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileCache {
    dir: Option<PathBuf>,
}

impl CompileCache {
    /// No cache: every load compiles.
    pub fn disabled() -> Self {
        Self { dir: None }
    }

    /// A cache in `dir` (created when first written).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: Some(dir.into()),
        }
    }

    /// The cache a config asks for. By default: `PP_SECRETS_WASM_CACHE`
    /// (a directory, or `off`), else `pp-secrets/wasm` in the user's cache
    /// directory, else none.
    pub fn from_setting(setting: &CompileCacheSetting) -> Self {
        match setting {
            CompileCacheSetting::Off => Self::disabled(),
            CompileCacheSetting::Dir(dir) => Self::in_dir(dir),
            CompileCacheSetting::Default => match std::env::var_os(CACHE_ENV) {
                Some(v) if v == "off" || v == "false" => Self::disabled(),
                Some(dir) if !dir.is_empty() => Self::in_dir(dir),
                _ => Self {
                    dir: dirs::cache_dir().map(|d| d.join("pp-secrets").join("wasm")),
                },
            },
        }
    }

    /// The directory, when caching is on.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Reads the component file at `path` and compiles it with `engine`, or
    /// takes it from the cache. `failed` words a reason as the caller's
    /// error (a backend's, an app's).
    pub(crate) fn load_file(
        &self,
        engine: &Engine,
        path: &Path,
        failed: impl Fn(String) -> Error,
    ) -> Result<Component> {
        let wasm = fs::read(path).map_err(|e| Error::ReadFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        self.component(engine, &wasm)
            .map_err(|e| failed(load_problem(path, "is not a valid component", &e)))
    }

    /// The component in `wasm`, compiled by `engine`: from the cache when
    /// a sound entry exists, else compiled (and cached).
    pub(crate) fn component(&self, engine: &Engine, wasm: &[u8]) -> wasmtime::Result<Component> {
        let Some(dir) = &self.dir else {
            return Component::from_binary(engine, wasm);
        };
        let entry = dir.join(format!("{}.cwasm", entry_key(engine, wasm)));
        match read_entry(&entry) {
            Ok(Some(entry_bytes)) => match deserialize(engine, artifact_of(&entry_bytes)) {
                Ok(component) => return Ok(component),
                Err(e) => tracing::warn!(
                    entry = %entry.display(),
                    "compile cache entry not usable by this engine, recompiling: {e}"
                ),
            },
            Ok(None) => {}
            Err(problem) => tracing::warn!(
                entry = %entry.display(),
                "compile cache entry is damaged, recompiling: {problem}"
            ),
        }
        let component = Component::from_binary(engine, wasm)?;
        match component.serialize() {
            Ok(artifact) => {
                if let Err(e) = write_entry(dir, &entry, &artifact) {
                    tracing::warn!(
                        entry = %entry.display(),
                        "cannot write compile cache entry: {e}"
                    );
                }
            }
            Err(e) => tracing::warn!("cannot serialize compiled component: {e}"),
        }
        Ok(component)
    }
}

/// The hex key of a component compiled by `engine`.
fn entry_key(engine: &Engine, wasm: &[u8]) -> String {
    let mut hasher = blake3::Hasher::new();
    hasher.update(MAGIC);
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    engine
        .precompile_compatibility_hash()
        .hash(&mut HashInto(&mut hasher));
    hasher.update(&(wasm.len() as u64).to_le_bytes());
    hasher.update(wasm);
    hasher.finalize().to_hex().to_string()
}

/// Feeds `Hash` output into BLAKE3.
struct HashInto<'a>(&'a mut blake3::Hasher);

impl Hasher for HashInto<'_> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        0
    }
}

/// The bytes of `entry`, header included (see [`artifact_of`]): `None`
/// when there is no entry, an error when the entry is not one of ours or its
/// checksum does not match.
fn read_entry(entry: &Path) -> Result<Option<Vec<u8>>, String> {
    let bytes = match fs::read(entry) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let header = MAGIC.len() + HASH_LEN;
    if bytes.len() < header || &bytes[..MAGIC.len()] != MAGIC {
        return Err("not a pp-secrets cache entry".into());
    }
    let stored = &bytes[MAGIC.len()..header];
    if blake3::hash(&bytes[header..]).as_bytes() != stored {
        return Err("checksum mismatch".into());
    }
    Ok(Some(bytes))
}

/// The artifact in an entry that [`read_entry`] accepted (not copied: an
/// artifact is megabytes).
fn artifact_of(entry: &[u8]) -> &[u8] {
    &entry[MAGIC.len() + HASH_LEN..]
}

/// Writes `artifact` to `entry` atomically (a temporary file renamed into
/// place), so a reader never sees half an entry.
fn write_entry(dir: &Path, entry: &Path, artifact: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(MAGIC)?;
    temp.write_all(blake3::hash(artifact).as_bytes())?;
    temp.write_all(artifact)?;
    temp.persist(entry).map_err(|e| e.error)?;
    Ok(())
}

/// Loads an artifact this cache wrote (the part of an entry that
/// [`read_entry`] checked).
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: `Component::deserialize` runs the machine code in `artifact`,
    // so the bytes must be what `Component::serialize` produced. They are:
    // `artifact` comes only from `read_entry`, which accepts an entry only
    // when its BLAKE3 checksum, written by `write_entry` next to bytes from
    // `serialize`, matches. wasmtime itself rejects an artifact from
    // another version or with other settings.
    unsafe { Component::deserialize(engine, artifact) }
}

/// Why the component at `path` cannot be used, with wasmtime's reason
/// escaped and capped (it may quote the file).
pub(crate) fn load_problem(path: &Path, what: &str, error: &wasmtime::Error) -> String {
    format!(
        "{} {what}: {}",
        path.display(),
        shown(&format!("{error:#}"))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_byte_fails_the_checksum() {
        let dir = tempfile::tempdir().expect("temp dir");
        let entry = dir.path().join("k.cwasm");
        write_entry(dir.path(), &entry, b"artifact bytes").expect("write");
        let sound = read_entry(&entry).expect("sound").expect("present");
        assert_eq!(artifact_of(&sound), b"artifact bytes");
        let mut bytes = fs::read(&entry).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&entry, &bytes).expect("write");
        assert_eq!(read_entry(&entry), Err("checksum mismatch".into()));
        fs::write(&entry, b"garbage").expect("write");
        assert!(read_entry(&entry).is_err());
        assert_eq!(read_entry(&dir.path().join("none")), Ok(None));
    }

    #[test]
    fn the_setting_picks_the_directory() {
        assert_eq!(
            CompileCache::from_setting(&CompileCacheSetting::Off).dir(),
            None
        );
        assert_eq!(
            CompileCache::from_setting(&CompileCacheSetting::Dir("/c".into())).dir(),
            Some(Path::new("/c"))
        );
    }
}
