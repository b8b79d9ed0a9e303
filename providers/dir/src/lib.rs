//! A `pp-secrets` provider component that serves secrets mounted as files:
//! Kubernetes secret volumes and Docker secrets (`/run/secrets`).
//!
//! Configured as a `type: wasm` backend of the host:
//!
//! ```yaml
//! secrets:
//!   backends:
//!     mounted:
//!       type: wasm
//!       path: pp_secrets_dir_provider.wasm
//!       config: { dir: /run/secrets }
//!       allow: { dirs: [/run/secrets] }
//! ```
//!
//! - One file per secret: the name is the file name, the value its content,
//!   exactly (a trailing newline is part of the value): text when the file
//!   is UTF-8, bytes otherwise (a key store, a keytab).
//! - Names starting with `.` are not secrets: that hides Kubernetes' `..data`
//!   link and its timestamped `..2024_...` directories. Directories are not
//!   secrets either.
//! - Symlinks inside the directory work (Kubernetes mounts every secret as a
//!   link into `..data`); a link that leads outside the directory is an
//!   error, never followed. The sandbox refuses such paths too; checking here
//!   as well gives a clear message and keeps the rule when run natively.
//! - Every get looks at the file (following its links afresh), and reads
//!   it again only when it changed: a value read earlier is kept with the
//!   file's size and times and served while they stay the same (see
//!   [`Stamp`]). A rotated Kubernetes secret resolves to a new file; an
//!   edited file has new times. So a get always sees the file as
//!   it is, at the cost of one `stat` instead of an open and reads.
//! - A value's version is the identity of the file it was read from: the
//!   path it resolved to (for a link, which of the kubelet's timestamped
//!   directories) with the file's size and modification and status-change
//!   times. It is given only once the file's times are settled (see
//!   [`Stamp::settled`]); a value read from a file changed a moment ago
//!   comes without one, so a change check reports it changed until a
//!   read gives it a version.
//! - Change detection (`changes`) reads no file: it resolves and `stat`s
//!   each held name (changed when its identity differs or cannot be
//!   trusted yet, gone when it is no longer a file) and, when there are
//!   patterns, lists the directory once for the names they match that are
//!   not held (added).
//!
//! With the cargo feature `wit-0-1` the crate builds as a
//! `processpype:secrets@0.1.0` component instead (`tests/guests/dir-v0-1`
//! builds it that way, as a test fixture).

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use pp_secrets_guest::file_version::{Kind, Stamp, Status, lstat, lstat_in};
use pp_secrets_guest::{
    ChangeSet, Changes, Config, Error, Held, Pattern, Provider, StoredValue, Value,
};
use zeroize::Zeroize;

/// How many symlinks one lookup may follow.
const MAX_LINKS: usize = 32;
/// Values longer than this are read on every get, never kept.
const MAX_KEPT_VALUE: usize = 64 * 1024;
/// At most this many bytes of values are kept.
const MAX_KEPT_TOTAL: usize = 4 * 1024 * 1024;

/// Serves the files of one directory.
pub struct DirProvider {
    dir: PathBuf,
    kept: Mutex<Kept>,
}

/// Values read earlier, by secret name.
#[derive(Default)]
struct Kept {
    values: HashMap<String, KeptValue>,
    bytes: usize,
}

/// A value as read from the file at `place` when it had `stamp`.
struct KeptValue {
    place: Place,
    stamp: Stamp,
    value: StoredValue,
}

impl Drop for KeptValue {
    fn drop(&mut self) {
        match &mut self.value {
            StoredValue::Text(text) => text.zeroize(),
            StoredValue::Bytes(bytes) => bytes.zeroize(),
        }
    }
}

impl Kept {
    /// The value kept for `name`, if it was read from `place` with `stamp`.
    fn get(&self, name: &str, place: &Place, stamp: &Stamp) -> Option<StoredValue> {
        self.values
            .get(name)
            .filter(|kept| kept.stamp == *stamp && kept.place == *place)
            .map(|kept| kept.value.clone())
    }

    /// Keeps `value`, read from `place` with `stamp`, when it fits.
    fn keep(&mut self, name: &str, place: Place, stamp: Stamp, value: &StoredValue) {
        self.forget(name);
        if value.len() > MAX_KEPT_VALUE || self.bytes + value.len() > MAX_KEPT_TOTAL {
            return;
        }
        self.bytes += value.len();
        let kept = KeptValue {
            place,
            stamp,
            value: value.clone(),
        };
        self.values.insert(name.to_owned(), kept);
    }

    fn forget(&mut self, name: &str) {
        if let Some(old) = self.values.remove(name) {
            self.bytes -= old.value.len();
        }
    }
}

impl Provider for DirProvider {
    fn create(config: Config) -> Result<Self, Error> {
        let dir = config
            .get("dir")
            .filter(|d| !d.is_empty())
            .ok_or_else(|| Error::backend("the dir provider needs `config: { dir: PATH }`"))?;
        let dir = normalize(Path::new(dir));
        if !dir.is_absolute() {
            return Err(Error::backend(format!(
                "config dir {} must be an absolute path",
                dir.display()
            )));
        }
        Ok(DirProvider {
            dir,
            kept: Mutex::default(),
        })
    }

    fn get(&self, name: &str) -> Result<Value, Error> {
        self.get_with_clock(name, SystemTime::now)
    }

    fn list(&self, pattern: &Pattern) -> Result<Vec<String>, Error> {
        self.list_where(|name| pattern.matches(name))
    }

    fn changes(&self, held: &[Held], patterns: &[Pattern]) -> Result<Changes, Error> {
        self.changes_at(held, patterns, SystemTime::now())
    }
}

/// What a change check finds for a held name.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// A file, with its version (`None` while its times are not settled).
    File(Option<String>),
    /// No such secret (no entry, or not a file): gone.
    Missing,
    /// It cannot be looked at (a link leading out, an I/O error): reported
    /// changed, so that the host's get says why.
    Unreadable,
}

impl DirProvider {
    /// The secret names (files, through links that stay inside) of the
    /// directory for which `wanted` holds.
    fn list_where(&self, wanted: impl Fn(&str) -> bool) -> Result<Vec<String>, Error> {
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| Error::backend(format!("cannot list {}: {e}", self.dir.display())))?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry
                .map_err(|e| Error::backend(format!("cannot list {}: {e}", self.dir.display())))?;
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if !is_secret_name(&name) || !wanted(&name) {
                continue;
            }
            // Only files (through links that stay inside) are secrets.
            let is_file = self
                .resolve(&name)
                .is_ok_and(|(_, status)| status.is_ok_and(|s| s.kind == Kind::File));
            if is_file {
                names.push(name);
            }
        }
        Ok(names)
    }

    /// [`Provider::changes`] at the time `now`: one resolve (a `stat`, more
    /// for links) per held name, and one listing of the directory when
    /// there are patterns. No file is read.
    fn changes_at(
        &self,
        held: &[Held],
        patterns: &[Pattern],
        now: SystemTime,
    ) -> Result<Changes, Error> {
        let mut current: Vec<(String, Option<String>)> = Vec::with_capacity(held.len());
        for h in held {
            match self.find(&h.name, now) {
                Found::File(version) => current.push((h.name.clone(), version)),
                Found::Missing => {}
                Found::Unreadable => current.push((h.name.clone(), None)),
            }
        }
        if !patterns.is_empty() {
            let held_names: HashSet<&str> = held.iter().map(|h| h.name.as_str()).collect();
            let added = self.list_where(|name| {
                !held_names.contains(name) && patterns.iter().any(|p| p.matches(name))
            })?;
            current.extend(added.into_iter().map(|name| (name, None)));
        }
        Ok(Changes::Known(ChangeSet::compare(held, current)))
    }

    /// What is under `name` now, with the version a get would give it.
    fn find(&self, name: &str, now: SystemTime) -> Found {
        if !is_secret_name(name) {
            return Found::Missing;
        }
        match self.resolve(name) {
            Ok((
                place,
                Ok(Status {
                    kind: Kind::File,
                    stamp,
                }),
            )) => Found::File(stamp.settled(now).then(|| self.version(&place, &stamp))),
            Ok((_, Ok(_))) => Found::Missing,
            Ok((_, Err(e))) if e.kind() == std::io::ErrorKind::NotFound => Found::Missing,
            Ok((_, Err(_))) | Err(_) => Found::Unreadable,
        }
    }

    /// The version of a value read from the file at `place` with `stamp`:
    /// the file's identity (its size and times, and for a link the path it
    /// resolves to, hashed so that a version stays short whatever the
    /// name's length).
    fn version(&self, place: &Place, stamp: &Stamp) -> String {
        match place {
            Place::Entry => stamp.tag(),
            Place::Linked(path) => {
                let inside = path.strip_prefix(&self.dir).unwrap_or(path);
                format!(
                    "{}@{:016x}",
                    stamp.tag(),
                    fnv1a(inside.as_os_str().as_encoded_bytes())
                )
            }
        }
    }

    /// [`Provider::get`], with `clock` telling the time when the file is
    /// read (asked only then, before the read: a change after it has later
    /// times).
    fn get_with_clock(
        &self,
        name: &str,
        clock: impl FnOnce() -> SystemTime,
    ) -> Result<Value, Error> {
        if !is_secret_name(name) {
            return Err(Error::not_found(name));
        }
        let (place, status) = self.resolve(name)?;
        // Only regular files: opening a FIFO or a device could block.
        let stamp = match status {
            Ok(Status {
                kind: Kind::File,
                stamp,
            }) => stamp,
            Ok(_) => return Err(Error::not_found(name)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::not_found(name));
            }
            Err(e) => return Err(Error::backend(format!("cannot read secret {name}: {e}"))),
        };
        // A kept value's stamp was settled when it was kept, and still is.
        if let Some(value) = self.kept().get(name, &place, &stamp) {
            return Ok(Value::from(value).with_version(self.version(&place, &stamp)));
        }
        let now = clock();
        let bytes = read_file(&place.path(&self.dir, name))
            .map_err(|e| Error::backend(format!("cannot read secret {name}: {e}")))?;
        let value = StoredValue::text_or_bytes(bytes);
        if !stamp.settled(now) {
            self.kept().forget(name);
            return Ok(value.into());
        }
        let version = self.version(&place, &stamp);
        self.kept().keep(name, place, stamp, &value);
        Ok(Value::from(value).with_version(version))
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Where the file of `name` is, following symlinks one path component
    /// at a time; an error if any link leads outside the directory.
    ///
    /// Also gives the status of the path it resolved to (without a second
    /// look-up: the last component was examined while resolving).
    fn resolve(&self, name: &str) -> Result<(Place, std::io::Result<Status>), Error> {
        let outside = || {
            Error::backend(format!(
                "secret {name} links outside {}",
                self.dir.display()
            ))
        };
        // The usual case: a secret's name is one plain component, and the
        // file is no link. One look settles it.
        if is_secret_name(name) {
            match lstat_in(&self.dir, name) {
                Ok(status) if status.kind == Kind::Link => {}
                other => return Ok((Place::Entry, other)),
            }
        }
        let mut resolved = self.dir.clone();
        let mut last: Option<std::io::Result<Status>> = None;
        let mut pending: Vec<PathBuf> = vec![PathBuf::from(name)];
        let mut links = 0;
        while let Some(rest) = pending.pop() {
            let mut components = rest.components();
            let Some(first) = components.next() else {
                continue;
            };
            let remainder: PathBuf = components.collect();
            if !remainder.as_os_str().is_empty() {
                pending.push(remainder);
            }
            match first {
                Component::RootDir | Component::Prefix(_) => {
                    resolved = PathBuf::from("/");
                    last = None;
                }
                Component::CurDir => {}
                Component::ParentDir => {
                    resolved.pop();
                    last = None;
                }
                Component::Normal(part) => {
                    let candidate = resolved.join(part);
                    match lstat(&candidate) {
                        Ok(status) if status.kind == Kind::Link => {
                            links += 1;
                            if links > MAX_LINKS {
                                return Err(Error::backend(format!(
                                    "secret {name}: too many links"
                                )));
                            }
                            let target = std::fs::read_link(&candidate).map_err(|e| {
                                // The WASI sandbox refuses to read a link
                                // whose target is absolute: it leads out.
                                if e.kind() == std::io::ErrorKind::PermissionDenied {
                                    outside()
                                } else {
                                    Error::backend(format!(
                                        "cannot read link for secret {name}: {e}"
                                    ))
                                }
                            })?;
                            pending.push(target);
                        }
                        other => {
                            resolved = candidate;
                            last = Some(other);
                        }
                    }
                }
            }
            if !resolved.starts_with(&self.dir) {
                return Err(outside());
            }
        }
        // Ended on `.` or `..`: every component is resolved already.
        let status = last.unwrap_or_else(|| lstat(&resolved));
        Ok((Place::Linked(resolved), status))
    }
}

/// Where the file of a secret is.
#[derive(Debug, PartialEq, Eq)]
enum Place {
    /// The directory's own entry of that name, no link on the way: the
    /// common case, told apart without building a path.
    Entry,
    /// The path reached by following links (inside the directory).
    Linked(PathBuf),
}

impl Place {
    /// The path of the file of `name` in `dir`.
    fn path(&self, dir: &Path, name: &str) -> PathBuf {
        match self {
            Place::Entry => dir.join(name),
            Place::Linked(path) => path.clone(),
        }
    }
}

/// The bytes of the file at `path`, in as few calls as the platform allows
/// (`std::fs::read` asks for the size first, which under WASI is several
/// more system calls).
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Whether `name` can be a secret: a plain file name, not hidden.
fn is_secret_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}

/// `path` with `.` and `..` removed lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

// The component's exports exist only in the Wasm build; natively this crate
// is a library for its unit tests.
#[cfg(target_arch = "wasm32")]
pp_secrets_guest::export_provider!(DirProvider);

/// 64-bit FNV-1a of `bytes`: a short, stable tag for a path in a version
/// (not a defence against anyone; versions are compared for equality).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn provider(dir: &Path) -> DirProvider {
        let config = Config::from([("dir".to_owned(), dir.display().to_string())]);
        DirProvider::create(config).expect("create")
    }

    /// The text a get served (a test failure when it served bytes).
    fn text(value: Result<Value, Error>) -> Result<String, Error> {
        value.map(|v| match v.stored {
            StoredValue::Text(text) => text,
            StoredValue::Bytes(_) => panic!("served bytes, not text"),
        })
    }

    fn sorted(mut names: Vec<String>) -> Vec<String> {
        names.sort();
        names
    }

    /// A Kubernetes secret volume: `..2024_...` holds the files, `..data`
    /// links to it, and each secret links into `..data`.
    fn kubernetes_volume() -> tempfile::TempDir {
        let root = tempfile::tempdir().expect("tempdir");
        let stamp = root.path().join("..2026_11_28_12_00_00.000000001");
        std::fs::create_dir(&stamp).expect("mkdir");
        std::fs::write(stamp.join("username"), "admin").expect("write");
        std::fs::write(stamp.join("password"), "s3cret\n").expect("write");
        symlink(
            "..2026_11_28_12_00_00.000000001",
            root.path().join("..data"),
        )
        .expect("link");
        symlink("..data/username", root.path().join("username")).expect("link");
        symlink("..data/password", root.path().join("password")).expect("link");
        root
    }

    #[test]
    fn one_file_per_secret_with_its_exact_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("db_password"), "pw\n").expect("write");
        std::fs::write(dir.path().join("api_key"), r#"{"k": 1}"#).expect("write");
        let p = provider(dir.path());
        assert_eq!(text(p.get("db_password")).as_deref(), Ok("pw\n"));
        assert_eq!(text(p.get("api_key")).as_deref(), Ok(r#"{"k": 1}"#));
        assert_eq!(
            sorted(p.list(&Pattern::new("*").expect("glob")).expect("lists")),
            ["api_key", "db_password"]
        );
        assert_eq!(
            p.list(&Pattern::new("db_*").expect("glob")).expect("lists"),
            ["db_password"]
        );
    }

    #[test]
    fn kubernetes_layout_serves_the_linked_files_and_hides_its_own_entries() {
        let volume = kubernetes_volume();
        let p = provider(volume.path());
        assert_eq!(
            sorted(p.list(&Pattern::new("*").expect("glob")).expect("lists")),
            ["password", "username"]
        );
        assert_eq!(text(p.get("password")).as_deref(), Ok("s3cret\n"));
        assert!(matches!(p.get("..data"), Err(Error::NotFound(_))));
    }

    #[test]
    fn links_outside_the_directory_are_refused() {
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(outside.path().join("host-secret"), "nope").expect("write");
        let dir = tempfile::tempdir().expect("tempdir");
        symlink(
            outside.path().join("host-secret"),
            dir.path().join("absolute"),
        )
        .expect("link");
        let relative = format!(
            "../{}/host-secret",
            outside
                .path()
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
        );
        symlink(relative, dir.path().join("relative")).expect("link");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        symlink(outside.path(), dir.path().join("sub/escape")).expect("link");
        let p = provider(dir.path());
        for name in ["absolute", "relative"] {
            let e = p.get(name).expect_err("refused");
            assert!(e.to_string().contains("links outside"), "{name}: {e}");
        }
        assert!(
            p.list(&Pattern::new("*").expect("glob"))
                .expect("lists")
                .is_empty()
        );
    }

    #[test]
    fn missing_hidden_and_path_like_names_are_not_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(".hidden"), "x").expect("write");
        std::fs::create_dir(dir.path().join("a_dir")).expect("mkdir");
        let p = provider(dir.path());
        for name in ["absent", ".hidden", "a_dir", "../etc/passwd", "a/b", ""] {
            assert!(matches!(p.get(name), Err(Error::NotFound(_))), "{name}");
        }
    }

    /// A clock for which every file on disk is settled.
    fn later() -> SystemTime {
        SystemTime::now() + std::time::Duration::from_secs(60)
    }

    fn kept_names(p: &DirProvider) -> Vec<String> {
        sorted(p.kept().values.keys().cloned().collect())
    }

    /// Lets the file system's clock move on, so that a rewrite gets new
    /// times (file times are coarse: a tick of a few milliseconds).
    fn tick() {
        std::thread::sleep(std::time::Duration::from_millis(30));
    }

    #[test]
    fn a_settled_value_is_kept_and_read_again_once_the_file_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("token");
        std::fs::write(&file, "first").expect("write");
        let p = provider(dir.path());
        assert_eq!(
            text(p.get_with_clock("token", later)).as_deref(),
            Ok("first")
        );
        assert_eq!(kept_names(&p), ["token"]);
        assert_eq!(
            text(p.get_with_clock("token", later)).as_deref(),
            Ok("first")
        );

        // Same length, written in place.
        tick();
        std::fs::write(&file, "again").expect("write");
        assert_eq!(
            text(p.get_with_clock("token", later)).as_deref(),
            Ok("again")
        );

        // Replaced by a rename, with the old modification time.
        tick();
        let old_time = std::fs::metadata(&file)
            .and_then(|m| m.modified())
            .expect("mtime");
        let next = dir.path().join(".next");
        std::fs::write(&next, "third").expect("write");
        std::fs::File::options()
            .write(true)
            .open(&next)
            .and_then(|f| f.set_modified(old_time))
            .expect("set mtime");
        std::fs::rename(&next, &file).expect("rename");
        assert_eq!(
            text(p.get_with_clock("token", later)).as_deref(),
            Ok("third")
        );

        std::fs::remove_file(&file).expect("remove");
        assert!(matches!(p.get("token"), Err(Error::NotFound(_))));
    }

    #[test]
    fn a_rotated_kubernetes_secret_is_read_from_its_new_file() {
        let volume = kubernetes_volume();
        let p = provider(volume.path());
        assert_eq!(
            text(p.get_with_clock("password", later)).as_deref(),
            Ok("s3cret\n")
        );
        assert_eq!(kept_names(&p), ["password"]);
        // What the kubelet does: a new timestamped directory, then `..data`
        // swapped to it by a rename.
        let stamp = volume.path().join("..2026_11_29_08_00_00.000000002");
        std::fs::create_dir(&stamp).expect("mkdir");
        std::fs::write(stamp.join("username"), "admin").expect("write");
        std::fs::write(stamp.join("password"), "r0tated").expect("write");
        let swap = volume.path().join("..data_tmp");
        symlink("..2026_11_29_08_00_00.000000002", &swap).expect("link");
        std::fs::rename(&swap, volume.path().join("..data")).expect("swap");
        assert_eq!(
            text(p.get_with_clock("password", later)).as_deref(),
            Ok("r0tated")
        );
    }

    #[test]
    fn a_recently_changed_file_is_read_on_every_get() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("fresh"), "v1").expect("write");
        let p = provider(dir.path());
        assert_eq!(text(p.get("fresh")).as_deref(), Ok("v1"));
        assert!(kept_names(&p).is_empty(), "its times could repeat");
        // Within the same tick, with the same length: still seen.
        std::fs::write(dir.path().join("fresh"), "v2").expect("write");
        assert_eq!(text(p.get("fresh")).as_deref(), Ok("v2"));
    }

    #[test]
    fn big_values_are_not_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let big = "x".repeat(MAX_KEPT_VALUE + 1);
        std::fs::write(dir.path().join("big"), &big).expect("write");
        std::fs::write(dir.path().join("small"), "s").expect("write");
        let p = provider(dir.path());
        assert_eq!(
            text(p.get_with_clock("big", later)).as_deref(),
            Ok(big.as_str())
        );
        assert_eq!(text(p.get_with_clock("small", later)).as_deref(), Ok("s"));
        assert_eq!(kept_names(&p), ["small"]);
        assert_eq!(p.kept().bytes, 1);
    }

    #[test]
    fn create_needs_an_absolute_dir() {
        assert!(DirProvider::create(Config::new()).is_err());
        let relative = Config::from([("dir".to_owned(), "run/secrets".to_owned())]);
        assert!(DirProvider::create(relative).is_err());
    }

    #[test]
    fn non_utf8_content_is_served_as_bytes_and_kept_like_text() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("bin"), [0xff, 0xfe, 0]).expect("write");
        std::fs::write(dir.path().join("utf8"), "é").expect("write");
        let p = provider(dir.path());
        let served = p.get_with_clock("bin", later).expect("served");
        assert_eq!(served.stored, StoredValue::Bytes(vec![0xff, 0xfe, 0]));
        assert_eq!(kept_names(&p), ["bin"]);
        assert_eq!(p.get_with_clock("bin", later), Ok(served));
        assert_eq!(text(p.get("utf8")).as_deref(), Ok("é"));
    }

    fn held(name: &str, version: Option<String>) -> Held {
        Held {
            name: name.to_owned(),
            version,
        }
    }

    fn version_of(p: &DirProvider, name: &str) -> Option<String> {
        p.get_with_clock(name, later).expect("served").version
    }

    fn known(changes: Result<Changes, Error>) -> ChangeSet {
        match changes {
            Ok(Changes::Known(set)) => set,
            other => panic!("not known: {other:?}"),
        }
    }

    #[test]
    fn a_settled_file_has_its_identity_as_version_and_a_fresh_one_none() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("token");
        std::fs::write(&file, "first").expect("write");
        let p = provider(dir.path());
        assert_eq!(
            p.get("token").expect("served").version,
            None,
            "just written"
        );
        let first = version_of(&p, "token").expect("a version");
        assert_eq!(version_of(&p, "token").as_ref(), Some(&first), "kept");
        tick();
        std::fs::write(&file, "again").expect("write");
        let second = version_of(&p, "token").expect("a version");
        assert_ne!(first, second);
    }

    #[test]
    fn a_kubelet_swap_changes_the_version() {
        let volume = kubernetes_volume();
        let p = provider(volume.path());
        let before = version_of(&p, "password").expect("a version");
        // The resolved path is in the version, hashed to a fixed length.
        assert!(before.len() < 100 && before.contains('@'), "{before}");
        let stamp = volume.path().join("..2026_11_29_08_00_00.000000002");
        std::fs::create_dir(&stamp).expect("mkdir");
        std::fs::write(stamp.join("password"), "r0tated").expect("write");
        let swap = volume.path().join("..data_tmp");
        symlink("..2026_11_29_08_00_00.000000002", &swap).expect("link");
        std::fs::rename(&swap, volume.path().join("..data")).expect("swap");
        let set = known(p.changes_at(&[held("password", Some(before.clone()))], &[], later()));
        assert_eq!(set.changed, ["password"]);
        assert_ne!(version_of(&p, "password"), Some(before));
    }

    #[test]
    fn changes_report_changed_added_and_gone_by_identity() {
        let dir = tempfile::tempdir().expect("tempdir");
        for name in ["same", "edited", "deleted", "unversioned"] {
            std::fs::write(dir.path().join(name), name).expect("write");
        }
        let p = provider(dir.path());
        let held: Vec<Held> = ["same", "edited", "deleted"]
            .into_iter()
            .map(|name| held(name, version_of(&p, name)))
            .chain([held("unversioned", None)])
            .collect();
        let all = [Pattern::new("*").expect("glob")];
        assert_eq!(
            known(p.changes_at(&held, &all, later())),
            ChangeSet {
                changed: vec!["unversioned".into()],
                ..ChangeSet::default()
            }
        );

        tick();
        std::fs::write(dir.path().join("edited"), "other").expect("write");
        std::fs::remove_file(dir.path().join("deleted")).expect("remove");
        std::fs::write(dir.path().join("new"), "n").expect("write");
        std::fs::write(dir.path().join("unmatched"), "u").expect("write");
        std::fs::create_dir(dir.path().join("new_dir")).expect("mkdir");
        let some = [
            Pattern::new("n*").expect("glob"),
            Pattern::new("s*").expect("glob"),
        ];
        let set = known(p.changes_at(&held, &some, later()));
        assert_eq!(set.changed, ["edited", "unversioned"]);
        assert_eq!(set.added, ["new"]);
        assert_eq!(set.gone, ["deleted"]);

        // Without patterns, only the held names are looked at.
        let set = known(p.changes_at(&held, &[], later()));
        assert!(set.added.is_empty());
        assert_eq!(set.gone, ["deleted"]);
    }

    #[test]
    fn changes_of_a_file_written_a_moment_ago_cannot_be_ruled_out() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("fresh"), "v1").expect("write");
        let p = provider(dir.path());
        let version = version_of(&p, "fresh");
        let set = known(p.changes(&[held("fresh", version)], &[]));
        assert_eq!(set.changed, ["fresh"], "its times could repeat");
    }

    #[test]
    fn changes_of_unreadable_and_hidden_names() {
        let outside = tempfile::tempdir().expect("tempdir");
        let dir = tempfile::tempdir().expect("tempdir");
        symlink(outside.path(), dir.path().join("escape")).expect("link");
        std::fs::create_dir(dir.path().join("now_a_dir")).expect("mkdir");
        let p = provider(dir.path());
        let v = Some("1:0.000000000:0.000000000".to_owned());
        let set = known(p.changes_at(
            &[
                held("escape", v.clone()),
                held("now_a_dir", v.clone()),
                held("..data", v),
            ],
            &[],
            later(),
        ));
        assert_eq!(set.changed, ["escape"], "a get says why");
        assert_eq!(set.gone, ["now_a_dir", "..data"]);
    }

    #[test]
    fn a_missing_directory_fails_the_check_only_when_listing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = provider(&dir.path().join("absent"));
        let set = known(p.changes_at(&[held("a", Some("x".into()))], &[], later()));
        assert_eq!(set.gone, ["a"]);
        let all = [Pattern::new("*").expect("glob")];
        assert!(p.changes_at(&[], &all, later()).is_err());
    }
}
