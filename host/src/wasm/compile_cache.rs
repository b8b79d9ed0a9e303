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
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::config::CompileCacheSetting;
use crate::error::{Error, Result};
use crate::wasm::guest_text::shown;

/// The start of every entry's trailer, with the format version.
const MAGIC: &[u8; 8] = b"ppsc\x00v02";
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
        let read_error = |e: std::io::Error| Error::ReadFile {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let invalid =
            |e: wasmtime::Error| failed(load_problem(path, "is not a valid component", &e));
        let Some(dir) = &self.dir else {
            let wasm = fs::read(path).map_err(read_error)?;
            return Component::from_binary(engine, &wasm).map_err(invalid);
        };
        // The warm path hashes the file as it streams by, without holding
        // it: the cache entry is all that is loaded.
        let key = entry_key(engine, &mut fs::File::open(path).map_err(read_error)?)
            .map_err(read_error)?;
        if let Some(component) = cached(engine, &dir.join(entry_name(&key))) {
            return Ok(component);
        }
        // A miss compiles, and files the artifact under the key of the bytes
        // it compiled (the file may have changed since it was hashed).
        let wasm = fs::read(path).map_err(read_error)?;
        let key = entry_key(engine, &mut wasm.as_slice()).map_err(read_error)?;
        let component = Component::from_binary(engine, &wasm).map_err(invalid)?;
        store(dir, &dir.join(entry_name(&key)), &component);
        Ok(component)
    }
}

/// The component in the cache entry at `entry`, when there is a sound one
/// this engine can load. A damaged or unusable entry is reported (it will
/// be replaced).
fn cached(engine: &Engine, entry: &Path) -> Option<Component> {
    let file = match checked_entry(entry) {
        Ok(Some(file)) => file,
        Ok(None) => return None,
        Err(problem) => {
            tracing::warn!(
                entry = %entry.display(),
                "compile cache entry is damaged, recompiling: {problem}"
            );
            return None;
        }
    };
    match deserialize(engine, entry, &file) {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(
                entry = %entry.display(),
                "compile cache entry not usable by this engine, recompiling: {e}"
            );
            None
        }
    }
}

/// Writes `component`'s artifact to `entry`; failing costs the next load a
/// compile, nothing else.
fn store(dir: &Path, entry: &Path, component: &Component) {
    match component.serialize() {
        Ok(artifact) => {
            if let Err(e) = write_entry(dir, entry, &artifact) {
                tracing::warn!(
                    entry = %entry.display(),
                    "cannot write compile cache entry: {e}"
                );
            }
        }
        Err(e) => tracing::warn!("cannot serialize compiled component: {e}"),
    }
}

/// The hex key of the component read from `wasm`, compiled by `engine`.
fn entry_key(engine: &Engine, wasm: &mut impl Read) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(MAGIC);
    hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
    engine
        .precompile_compatibility_hash()
        .hash(&mut HashInto(&mut hasher));
    // The length goes in last, after the bytes (the streamed bytes' length
    // is known only at the end).
    let len = hash_stream(wasm, &mut hasher)?;
    hasher.update(&len.to_le_bytes());
    Ok(hasher.finalize().to_hex().to_string())
}

/// Feeds everything `reader` gives into `hasher`; the number of bytes.
///
/// In 64 KiB reads: BLAKE3 hashes many 1 KiB chunks at once with SIMD,
/// and `std::io::copy`'s 8 KiB buffer left most of that unused.
fn hash_stream(reader: &mut impl Read, hasher: &mut blake3::Hasher) -> std::io::Result<u64> {
    let mut buffer = [0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return Ok(total),
            Ok(n) => {
                hasher.update(&buffer[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn entry_name(key: &str) -> String {
    format!("{key}.cwasm")
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

/// The entry at `entry`, open, once its checksum matched: `None` when
/// there is no entry, an error when the entry is not one of ours or its
/// checksum does not match.
///
/// An entry is the artifact followed by a trailer, [`MAGIC`] and the
/// artifact's BLAKE3 hash. The artifact stays where it is: the checksum is
/// taken from a mapping of the file (megabytes, not copied), and wasmtime
/// then maps the same file and runs its code in place.
fn checked_entry(entry: &Path) -> Result<Option<fs::File>, String> {
    let file = match fs::File::open(entry) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let bytes = map_entry(&file).map_err(|e| e.to_string())?;
    let Some(artifact_len) = bytes.len().checked_sub(MAGIC.len() + HASH_LEN) else {
        return Err("not a pp-secrets cache entry".into());
    };
    let (artifact, trailer) = bytes.split_at(artifact_len);
    let (magic, stored) = trailer.split_at(MAGIC.len());
    if magic != MAGIC {
        return Err("not a pp-secrets cache entry".into());
    }
    if blake3::hash(artifact).as_bytes() != stored {
        return Err("checksum mismatch".into());
    }
    drop(bytes);
    Ok(Some(file))
}

/// The bytes of the cache entry `file`, mapped read-only (an empty file
/// maps to no bytes).
#[allow(unsafe_code)]
fn map_entry(file: &fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the mapping is only read, and only while `checked_entry`
    // runs. Entries are written whole to a temporary file and renamed into
    // place, never changed in place, so the file does not change under the
    // mapping; a process that can write the cache directory is outside
    // what the cache defends against (the README says so), as it is for
    // `Component::deserialize_file`, which maps the same file after this.
    unsafe { memmap2::MmapOptions::new().populate().map(file) }
}

/// Writes `artifact` to `entry` atomically (a temporary file renamed into
/// place), so a reader never sees half an entry and an entry's file is
/// never changed in place.
fn write_entry(dir: &Path, entry: &Path, artifact: &[u8]) -> std::io::Result<()> {
    fs::create_dir_all(dir)?;
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(artifact)?;
    temp.write_all(MAGIC)?;
    temp.write_all(blake3::hash(artifact).as_bytes())?;
    temp.persist(entry).map_err(|e| e.error)?;
    Ok(())
}

/// Loads the artifact of an entry that [`checked_entry`] accepted, from
/// the very file it checked.
#[allow(unsafe_code)]
fn deserialize(engine: &Engine, entry: &Path, checked: &fs::File) -> wasmtime::Result<Component> {
    let path = same_file(entry, checked);
    // SAFETY: `Component::deserialize_file` runs the machine code in the
    // file, so it must hold what `Component::serialize` produced. It does:
    // `checked` was accepted by `checked_entry`, whose BLAKE3 checksum was
    // written by `write_entry` next to bytes from `serialize`, and `path`
    // opens that same file (see `same_file`); entries are replaced only by
    // renaming a new file into place, never changed in place. wasmtime
    // ignores the trailer after the artifact, and itself rejects an
    // artifact from another version or with other settings.
    unsafe { Component::deserialize_file(engine, path) }
}

/// A path that opens `file` itself: on Linux its `/proc/self/fd` link, so
/// that an entry renamed over `entry` after the check cannot be loaded in
/// its place; elsewhere `entry` (a rename there replaces it with another
/// entry of the same key, written whole).
fn same_file(entry: &Path, file: &fs::File) -> PathBuf {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let link = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        if link.exists() {
            return link;
        }
    }
    let _ = file;
    entry.to_path_buf()
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

    fn check(entry: &Path) -> Result<Option<Vec<u8>>, String> {
        checked_entry(entry).map(|file| file.map(|_| fs::read(entry).expect("read")))
    }

    #[test]
    fn a_changed_byte_fails_the_checksum() {
        let dir = tempfile::tempdir().expect("temp dir");
        let entry = dir.path().join("k.cwasm");
        write_entry(dir.path(), &entry, b"artifact bytes").expect("write");
        let sound = check(&entry).expect("sound").expect("present");
        assert!(sound.starts_with(b"artifact bytes"));
        for at in [0, 3, sound.len() - 1] {
            let mut bytes = sound.clone();
            bytes[at] ^= 1;
            fs::write(&entry, &bytes).expect("write");
            assert!(check(&entry).is_err(), "byte {at} flipped");
        }
        fs::write(&entry, b"garbage").expect("write");
        assert_eq!(check(&entry), Err("not a pp-secrets cache entry".into()));
        fs::write(&entry, b"").expect("write");
        assert_eq!(check(&entry), Err("not a pp-secrets cache entry".into()));
        assert_eq!(check(&dir.path().join("none")), Ok(None));
    }

    #[test]
    fn the_key_covers_the_bytes_and_their_length() {
        let engine = Engine::default();
        let key = |bytes: &[u8]| entry_key(&engine, &mut &bytes[..]).expect("hash");
        assert_eq!(key(b"abc"), key(b"abc"));
        assert_ne!(key(b"abc"), key(b"abd"));
        assert_ne!(key(b""), key(b"\0"));
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
