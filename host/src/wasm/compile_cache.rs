//! Compiled components kept on disk between runs.
//!
//! Compiling a component takes about 100 ms; loading the compiled artifact
//! takes about 1 ms. An entry is keyed by a BLAKE3 hash of the component's
//! bytes together with everything about the engine that a compiled
//! artifact depends on (wasmtime's own compatibility hash, our format
//! version), so a changed component or an upgraded host never picks up a
//! stale entry.
//!
//! Loading a compiled artifact runs its machine code, so the cache is as
//! trusted as the binary, and enforced:
//! - the directory is created private (0700); a directory or entry owned
//!   by another user, or writable by group or others, is refused with a
//!   warning, and the component is compiled in memory (nothing is read
//!   from or written there);
//! - every entry is authenticated: its trailer holds a keyed BLAKE3 hash,
//!   whose key is a random 32 bytes in the cache's private file `key`
//!   (0600), so only a process of this user could have written it. A
//!   corrupt, truncated, foreign or forged entry is reported, recompiled
//!   and replaced; it is never run.
//!
//! Failing to write an entry (a read-only disk) only costs the next start
//! a compile.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::config::CompileCacheSetting;
use crate::error::{Error, Result};
use crate::wasm::component_loading::problem;

/// The start of every entry's trailer, with the format version.
const MAGIC: &[u8; 8] = b"ppsc\x00v03";
const HASH_LEN: usize = 32;
/// The cache's private key file, beside the entries.
const KEY_FILE: &str = "key";
/// The variable that moves (a directory) or disables (`off`) the default
/// cache.
pub(crate) const CACHE_ENV: &str = "PP_SECRETS_WASM_CACHE";

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
        let read_error = |source: std::io::Error| Error::ReadFile {
            path: path.to_path_buf(),
            source,
        };
        let compile_in_memory = || {
            let wasm = fs::read(path).map_err(read_error)?;
            compile(engine, path, &wasm, &failed)
        };
        let Some(dir) = &self.dir else {
            return compile_in_memory();
        };
        let key = match trusted_key(dir) {
            Ok(key) => key,
            Err(problem) => {
                tracing::warn!(
                    dir = %dir.display(),
                    "compile cache refused, compiling in memory: {problem}"
                );
                return compile_in_memory();
            }
        };
        // The warm path hashes the file as it streams by, without holding
        // it: the cache entry is all that is loaded.
        let entry = entry_key(engine, &mut fs::File::open(path).map_err(read_error)?)
            .map_err(read_error)?;
        let entry_path = dir.join(entry_name(&entry));
        match cached(engine, &entry_path, &key) {
            Cached::Hit(component) => return Ok(component),
            Cached::Miss => {}
            Cached::Refused(problem) => {
                tracing::warn!(
                    entry = %entry_path.display(),
                    "compile cache entry refused, compiling in memory: {problem}"
                );
                return compile_in_memory();
            }
        }
        // A miss compiles, and files the artifact under the key of the bytes
        // it compiled (the file may have changed since it was hashed).
        let wasm = fs::read(path).map_err(read_error)?;
        let entry = entry_key(engine, &mut wasm.as_slice()).map_err(read_error)?;
        // Said at info (`-v`): a large component (a Python or JavaScript
        // provider is 10-20 MB) compiles for seconds, once.
        tracing::info!(
            component = %path.display(),
            bytes = wasm.len(),
            cache = %dir.display(),
            "compiling the component into the compile cache (once; later starts load it from there)"
        );
        let started = std::time::Instant::now();
        let component = compile(engine, path, &wasm, &failed)?;
        tracing::info!(
            component = %path.display(),
            ms = started.elapsed().as_millis(),
            "compiled"
        );
        store(dir, &dir.join(entry_name(&entry)), &component, &key);
        Ok(component)
    }
}

/// Compiles `wasm`, the bytes of the component at `path`. A file that is
/// not a component at all is told by its header, in words of the host's
/// own (wasmtime's account of a bad header lists the file's first bytes);
/// any other reason is wasmtime's, escaped and capped.
fn compile(
    engine: &Engine,
    path: &Path,
    wasm: &[u8],
    failed: &impl Fn(String) -> Error,
) -> Result<Component> {
    if let Some(what) = header_problem(wasm) {
        return Err(failed(format!("{} {what}", path.display())));
    }
    Component::from_binary(engine, wasm)
        .map_err(|e| failed(problem(path, "is not a valid component", &e)))
}

/// The start of every WebAssembly binary, module or component.
const WASM_MAGIC: &[u8; 4] = b"\0asm";
/// The version and layer fields of a component's header (version 0x0d,
/// layer 1), after [`WASM_MAGIC`].
const COMPONENT_VERSION: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
/// The version and layer fields of a core module's header (version 1,
/// layer 0).
const MODULE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];

/// Why a file whose bytes are `wasm` cannot be a component, told from its
/// 8-byte header alone, if it cannot; the words never quote the file.
fn header_problem(wasm: &[u8]) -> Option<&'static str> {
    if wasm.is_empty() {
        return Some("is not a WebAssembly component (the file is empty)");
    }
    if !wasm.starts_with(WASM_MAGIC) {
        return Some(
            "is not a WebAssembly component (it does not start with the Wasm magic bytes)",
        );
    }
    match wasm.get(4..8) {
        Some(version) if version == COMPONENT_VERSION => None,
        Some(version) if version == MODULE_VERSION => Some(
            "is a core WebAssembly module, not a component (build it for wasm32-wasip2, \
             whose output is a component)",
        ),
        Some(_) => Some(
            "is not a WebAssembly component this host can read (its header has another \
             binary version)",
        ),
        None => Some("is not a WebAssembly component (the file ends inside its header)"),
    }
}

/// What the cache holds for one component.
enum Cached {
    /// A sound entry, loaded.
    Hit(Component),
    /// No usable entry (none, or a damaged one, which is reported and will
    /// be replaced).
    Miss,
    /// An entry that someone else could have written: not to be read, nor
    /// replaced.
    Refused(String),
}

/// The component in the cache entry at `entry`, when there is a sound one
/// this engine can load.
fn cached(engine: &Engine, entry: &Path, key: &CacheKey) -> Cached {
    let file = match checked_entry(entry, key) {
        Ok(Some(file)) => file,
        Ok(None) => return Cached::Miss,
        Err(EntryProblem::Untrusted(problem)) => return Cached::Refused(problem),
        Err(EntryProblem::Damaged(problem)) => {
            tracing::warn!(
                entry = %entry.display(),
                "compile cache entry is damaged, recompiling: {problem}"
            );
            return Cached::Miss;
        }
    };
    match deserialize(engine, entry, &file) {
        Ok(component) => Cached::Hit(component),
        Err(e) => {
            tracing::warn!(
                entry = %entry.display(),
                "compile cache entry not usable by this engine, recompiling: {e}"
            );
            Cached::Miss
        }
    }
}

/// Writes `component`'s artifact to `entry`; failing costs the next load a
/// compile, nothing else.
fn store(dir: &Path, entry: &Path, component: &Component, key: &CacheKey) {
    match component.serialize() {
        Ok(artifact) => {
            if let Err(e) = write_entry(dir, entry, &artifact, key) {
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

/// The key that authenticates a cache's entries.
struct CacheKey([u8; HASH_LEN]);

impl CacheKey {
    fn authenticate(&self, artifact: &[u8]) -> blake3::Hash {
        blake3::keyed_hash(&self.0, artifact)
    }
}

impl Drop for CacheKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// Why `meta` (of the cache directory or a file in it) cannot be trusted:
/// owned by another user, or writable by group or others (`private`: also
/// readable by them).
fn untrusted(meta: &fs::Metadata, private: bool) -> Option<String> {
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return Some(format!(
            "owned by user {} (this process runs as {me})",
            meta.uid()
        ));
    }
    let forbidden = if private { 0o077 } else { 0o022 };
    (meta.mode() & forbidden != 0).then(|| {
        format!(
            "mode {:o} lets others {}",
            meta.mode() & 0o777,
            if private {
                "read or write it"
            } else {
                "write it"
            }
        )
    })
}

/// The key of the cache in `dir`, once `dir` passed the checks: created
/// (0700, with its key) when missing.
fn trusted_key(dir: &Path) -> Result<CacheKey, String> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create it: {e}"))?;
    let meta = fs::metadata(dir).map_err(|e| e.to_string())?;
    if let Some(problem) = untrusted(&meta, false) {
        return Err(format!("the directory is {problem}"));
    }
    let key_file = dir.join(KEY_FILE);
    match read_key(&key_file) {
        Ok(key) => return Ok(key),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(format!("{}: {e}", key_file.display()));
        }
        Err(_) => {}
    }
    // A new key, written whole under another name and linked into place
    // without replacing one that appeared meanwhile.
    let mut key = [0u8; HASH_LEN];
    rustix::rand::getrandom(&mut key, rustix::rand::GetRandomFlags::empty())
        .map_err(|e| format!("no random bytes for a key: {e}"))?;
    let written = (|| {
        let mut temp = tempfile::Builder::new()
            .permissions(fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)?;
        temp.write_all(&key)?;
        temp.persist_noclobber(&key_file).map_err(|e| e.error)
    })();
    zeroize::Zeroize::zeroize(&mut key);
    match written {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot write {}: {e}", key_file.display())),
    }
    read_key(&key_file).map_err(|e| format!("{}: {e}", key_file.display()))
}

/// Reads the key file, refusing one that is not this user's alone.
fn read_key(file: &Path) -> std::io::Result<CacheKey> {
    let mut opened = fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(file)?;
    if let Some(problem) = untrusted(&opened.metadata()?, true) {
        return Err(std::io::Error::other(format!("the key file is {problem}")));
    }
    let mut key = CacheKey([0u8; HASH_LEN]);
    opened.read_exact(&mut key.0)?;
    Ok(key)
}

/// What is wrong with a cache entry.
enum EntryProblem {
    /// Someone else could have written it.
    Untrusted(String),
    /// It is not a sound entry of this cache.
    Damaged(String),
}

/// The entry at `entry`, open, once it is authenticated: `None` when there
/// is no entry.
///
/// An entry is the artifact followed by a trailer, [`MAGIC`] and the
/// artifact's keyed BLAKE3 hash. The artifact stays where it is: the hash
/// is taken from a mapping of the file (megabytes, not copied), and
/// wasmtime then maps the same file and runs its code in place.
fn checked_entry(entry: &Path, key: &CacheKey) -> Result<Option<fs::File>, EntryProblem> {
    let damaged = |problem: &str| EntryProblem::Damaged(problem.to_owned());
    let file = match fs::File::open(entry) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(EntryProblem::Damaged(e.to_string())),
    };
    let meta = file
        .metadata()
        .map_err(|e| EntryProblem::Damaged(e.to_string()))?;
    if let Some(problem) = untrusted(&meta, false) {
        return Err(EntryProblem::Untrusted(format!("the entry is {problem}")));
    }
    let bytes = map_entry(&file).map_err(|e| EntryProblem::Damaged(e.to_string()))?;
    let Some(artifact_len) = bytes.len().checked_sub(MAGIC.len() + HASH_LEN) else {
        return Err(damaged("not a pp-secrets cache entry"));
    };
    let (artifact, trailer) = bytes.split_at(artifact_len);
    let (magic, stored) = trailer.split_at(MAGIC.len());
    if magic != MAGIC {
        return Err(damaged("not a pp-secrets cache entry"));
    }
    // blake3::Hash compares in constant time.
    if key.authenticate(artifact) != *stored {
        return Err(damaged("not authenticated by this cache's key"));
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
fn write_entry(dir: &Path, entry: &Path, artifact: &[u8], key: &CacheKey) -> std::io::Result<()> {
    let mut temp = tempfile::NamedTempFile::new_in(dir)?;
    temp.write_all(artifact)?;
    temp.write_all(MAGIC)?;
    temp.write_all(key.authenticate(artifact).as_bytes())?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(entry: &Path, key: &CacheKey) -> Result<Option<Vec<u8>>, String> {
        match checked_entry(entry, key) {
            Ok(file) => Ok(file.map(|_| fs::read(entry).expect("read"))),
            Err(EntryProblem::Damaged(problem) | EntryProblem::Untrusted(problem)) => Err(problem),
        }
    }

    #[test]
    fn a_file_that_is_not_a_component_is_told_by_its_header() {
        let component = [b"\0asm".as_slice(), &COMPONENT_VERSION, b"rest"].concat();
        assert_eq!(header_problem(&component), None);
        for (bytes, words) in [
            (b"".as_slice(), "the file is empty"),
            (
                b"MZ\x90\0\x1b[31m",
                "does not start with the Wasm magic bytes",
            ),
            (b"(component)", "does not start with the Wasm magic bytes"),
            (b"\0as", "does not start with the Wasm magic bytes"),
            (b"\0asm\x0d\0", "ends inside its header"),
            (b"\0asm\x01\0\0\0", "core WebAssembly module"),
            (b"\0asm\x0e\0\x01\0", "another binary version"),
        ] {
            let problem = header_problem(bytes).expect("refused");
            assert!(problem.contains(words), "{bytes:?}: {problem}");
        }
    }

    #[test]
    fn a_changed_byte_fails_the_authentication() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = trusted_key(dir.path()).expect("key");
        let entry = dir.path().join("k.cwasm");
        write_entry(dir.path(), &entry, b"artifact bytes", &key).expect("write");
        let check = |entry: &Path| check(entry, &key);
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
    fn an_entry_with_an_unkeyed_checksum_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = trusted_key(dir.path()).expect("key");
        let entry = dir.path().join("k.cwasm");
        let mut forged = b"machine code".to_vec();
        forged.extend_from_slice(MAGIC);
        forged.extend_from_slice(blake3::hash(b"machine code").as_bytes());
        fs::write(&entry, forged).expect("write");
        assert_eq!(
            check(&entry, &key),
            Err("not authenticated by this cache's key".into())
        );
    }

    #[test]
    fn the_directory_is_private_and_a_shared_one_is_refused() {
        let parent = tempfile::tempdir().expect("temp dir");
        let dir = parent.path().join("a/b");
        let first = trusted_key(&dir).expect("created");
        let mode = |p: &Path| fs::metadata(p).expect("stat").mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(KEY_FILE)), 0o600);
        assert_eq!(trusted_key(&dir).expect("same key").0, first.0);
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o770)).expect("chmod");
        let problem = trusted_key(&dir).err().expect("refused");
        assert!(problem.contains("lets others write it"), "{problem}");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
        fs::set_permissions(dir.join(KEY_FILE), fs::Permissions::from_mode(0o644)).expect("chmod");
        let problem = trusted_key(&dir).err().expect("refused");
        assert!(
            problem.contains("lets others read or write it"),
            "{problem}"
        );
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
