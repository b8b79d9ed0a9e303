//! Versions for values read from files, without opening them: a file's
//! [`Stamp`] (its size and modification and status-change times, and on
//! request its identity) changes whenever its content may have, and
//! [`Stamp::tag`] gives it as a version once it is [settled](Stamp::settled).
//!
//! ```no_run
//! use std::path::Path;
//! use std::time::SystemTime;
//! use pp_secrets_guest::file_version::{self, Kind};
//!
//! # fn demo() -> std::io::Result<()> {
//! let status = file_version::lstat(Path::new("/run/secrets/password"))?;
//! if status.kind == Kind::File {
//!     // No version for a file changed a moment ago: a second change
//!     // within the same clock tick would show the same stamp.
//!     let version = status
//!         .stamp
//!         .settled(SystemTime::now())
//!         .then(|| status.stamp.tag());
//! }
//! # Ok(()) }
//! ```
//!
//! Paths are absolute, and in the Wasm build must lie inside a directory
//! the host granted (`allow.dirs`); elsewhere the look fails with
//! [`io::ErrorKind::PermissionDenied`]. In the Wasm build the look asks
//! wasi:filesystem directly (`stat-at` on the innermost granted directory
//! holding the path): one host call, and a second (`metadata-hash-at`) for
//! the identity. Going through the standard library costs a second host
//! call for the inode hash wasi-libc asks for, and does not give the
//! status-change time, which the stamp needs.
//!
//! One host difference: wasmtime-wasi 48 fills wasi:filesystem's
//! status-change time with the file's creation (birth) time, not its
//! ctime. Under it a stamp still changes on every write (modification
//! time) and on every replacement by rename (a new file, a new birth
//! time); what it cannot see is a file rewritten in place to the same
//! length whose modification time is then set back to its exact previous
//! value. Natively the stamp uses the real ctime, which no one can set.
//! The identity ([`stat_with_identity`]) stands for the file's device and
//! inode, so a file replaced by a rename is a new stamp even when its size
//! and times repeat.

use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long after a file's last change its stamp can be trusted to tell a
/// later change apart: file times are coarse (a clock tick, a second on
/// some file systems), so a file changed twice within one tick can show
/// the same stamp twice.
pub const SETTLED_AFTER: Duration = Duration::from_secs(2);

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A symbolic link (not followed).
    Link,
    /// A directory.
    Dir,
    /// Anything else: a FIFO, a socket, a device.
    Other,
}

/// A file time, as seconds and nanoseconds since the Unix epoch.
type Time = (i64, u32);

/// The size and times of a file, and its identity when asked for. Two
/// equal stamps of a settled file (see [`Stamp::settled`]) mean its
/// content did not change in between: every write sets the modification
/// and status-change times, and a rename sets the status-change time of
/// the file renamed into place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    len: u64,
    modified: Option<Time>,
    changed: Option<Time>,
    /// The device and inode, as the platform gives them (natively the
    /// numbers; under WASI the host's 128-bit hash of them).
    identity: Option<(u64, u64)>,
}

impl Stamp {
    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.len
    }

    /// Whether both times are known and at least [`SETTLED_AFTER`] before
    /// `now`, so that any later change shows in the stamp. Only then is
    /// [`Stamp::tag`] fit to be a version: a file changed within the last
    /// tick may change again without its stamp changing.
    pub fn settled(&self, now: SystemTime) -> bool {
        let Some(cutoff) = now
            .checked_sub(SETTLED_AFTER)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        else {
            return false;
        };
        let cutoff = (
            i64::try_from(cutoff.as_secs()).unwrap_or(i64::MAX),
            cutoff.subsec_nanos(),
        );
        match (self.modified, self.changed) {
            (Some(modified), Some(changed)) => modified < cutoff && changed < cutoff,
            _ => false,
        }
    }

    /// The stamp as text: size, then modification and status-change times
    /// (seconds and nanoseconds; `-` when unknown), then the identity as 32
    /// hex digits when the stamp has one
    /// (`1024:1700000000.000000000:1700000000.000000000`). Equal stamps
    /// give equal text, different stamps different text.
    pub fn tag(&self) -> String {
        let time =
            |t: Option<Time>| t.map_or_else(|| "-".to_owned(), |(s, n)| format!("{s}.{n:09}"));
        let mut tag = format!(
            "{}:{}:{}",
            self.len,
            time(self.modified),
            time(self.changed)
        );
        if let Some((first, second)) = self.identity {
            tag.push_str(&format!(":{first:016x}{second:016x}"));
        }
        tag
    }
}

/// What a look at a path found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// What the path is.
    pub kind: Kind,
    /// Its stamp.
    pub stamp: Stamp,
}

/// The status of `path` (absolute), without following a link at its end.
/// The stamp has no identity.
pub fn lstat(path: &Path) -> io::Result<Status> {
    look(path, Look::NoFollow)
}

/// The status of the entry `name` (one plain path component) of the
/// directory `dir` (absolute), without following a link: the same as
/// [`lstat`] of `dir/name`, for many looks into one directory. In the Wasm
/// build, where `dir` sits among the granted directories is worked out once
/// for a run of looks into the same `dir`, not per look.
pub fn lstat_in(dir: &Path, name: &str) -> io::Result<Status> {
    look_in(dir, name)
}

/// The status of `path` (absolute), following links, with the file's
/// identity (device and inode) in the stamp: a file replaced by a rename
/// then gets a new stamp even when its size and times repeat. In the Wasm
/// build this takes two host calls instead of one.
pub fn stat_with_identity(path: &Path) -> io::Result<Status> {
    look(path, Look::FollowWithIdentity)
}

/// How to look at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Look {
    /// Without following a link at its end; no identity.
    NoFollow,
    /// Following links, with the file's identity.
    FollowWithIdentity,
}

#[cfg(not(target_arch = "wasm32"))]
fn look(path: &Path, how: Look) -> io::Result<Status> {
    let meta = match how {
        Look::NoFollow => std::fs::symlink_metadata(path)?,
        Look::FollowWithIdentity => std::fs::metadata(path)?,
    };
    let file_type = meta.file_type();
    let kind = if file_type.is_symlink() {
        Kind::Link
    } else if file_type.is_file() {
        Kind::File
    } else if file_type.is_dir() {
        Kind::Dir
    } else {
        Kind::Other
    };
    #[cfg(unix)]
    let (modified, changed, identity) = {
        use std::os::unix::fs::MetadataExt;
        let nanos = |n: i64| u32::try_from(n).unwrap_or(0);
        (
            Some((meta.mtime(), nanos(meta.mtime_nsec()))),
            Some((meta.ctime(), nanos(meta.ctime_nsec()))),
            (meta.dev(), meta.ino()),
        )
    };
    // Elsewhere there is no status-change time (such a stamp is never
    // settled) and no identity.
    #[cfg(not(unix))]
    let (modified, changed, identity) = (None, None, (0, 0));
    Ok(Status {
        kind,
        stamp: Stamp {
            len: meta.len(),
            modified,
            changed,
            identity: (how == Look::FollowWithIdentity).then_some(identity),
        },
    })
}

#[cfg(not(target_arch = "wasm32"))]
fn look_in(dir: &Path, name: &str) -> io::Result<Status> {
    look(&dir.join(name), Look::NoFollow)
}

#[cfg(target_arch = "wasm32")]
use wasi::{look, look_in};

#[cfg(target_arch = "wasm32")]
mod wasi {
    use std::cell::RefCell;
    use std::io;
    use std::path::{Path, PathBuf};

    use wasip2::filesystem::preopens::get_directories;
    use wasip2::filesystem::types::{Datetime, Descriptor, DescriptorType, ErrorCode, PathFlags};

    use super::{Kind, Look, Stamp, Status, Time};

    thread_local! {
        /// The directories the host granted, by their path in the guest.
        static GRANTED: Vec<(PathBuf, Descriptor)> = get_directories()
            .into_iter()
            .map(|(descriptor, path)| (PathBuf::from(path), descriptor))
            .collect();
    }

    /// Where a directory looked into sits among the grants.
    struct Base {
        /// The directory, as the caller names it.
        dir: PathBuf,
        /// Its granted directory: an index into `GRANTED`.
        granted: usize,
        /// Its path inside that granted directory (`""` for the same).
        inside: String,
    }

    thread_local! {
        /// The last directory [`look_in`] looked in.
        static BASE: RefCell<Option<Base>> = const { RefCell::new(None) };
    }

    pub(super) fn look(path: &Path, how: Look) -> io::Result<Status> {
        GRANTED.with(|granted| {
            let (index, relative) = innermost_grant(granted, path)?;
            stat(&granted[index].1, relative.unwrap_or("."), how)
        })
    }

    pub(super) fn look_in(dir: &Path, name: &str) -> io::Result<Status> {
        GRANTED.with(|granted| {
            BASE.with(|slot| {
                let mut slot = slot.borrow_mut();
                let base = match slot.take() {
                    Some(base) if base.dir == dir => slot.insert(base),
                    _ => {
                        let (granted, inside) = innermost_grant(granted, dir)?;
                        slot.insert(Base {
                            dir: dir.to_path_buf(),
                            granted,
                            inside: inside.unwrap_or("").to_owned(),
                        })
                    }
                };
                let descriptor = &granted[base.granted].1;
                if base.inside.is_empty() {
                    stat(descriptor, name, Look::NoFollow)
                } else {
                    stat(
                        descriptor,
                        &format!("{}/{name}", base.inside),
                        Look::NoFollow,
                    )
                }
            })
        })
    }

    /// The innermost granted directory holding `path` (its index in
    /// `granted`), and the path inside it (`None` for itself).
    fn innermost_grant<'p>(
        granted: &[(PathBuf, Descriptor)],
        path: &'p Path,
    ) -> io::Result<(usize, Option<&'p str>)> {
        let (index, relative) = granted
            .iter()
            .enumerate()
            .filter_map(|(i, (root, _))| path.strip_prefix(root).ok().map(|rest| (i, rest)))
            .min_by_key(|(_, rest)| rest.components().count())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "not inside a granted directory",
                )
            })?;
        match relative.to_str() {
            Some("") => Ok((index, None)),
            Some(relative) => Ok((index, Some(relative))),
            None => Err(io::Error::new(io::ErrorKind::InvalidInput, "not UTF-8")),
        }
    }

    /// The status of `relative` in `dir`, looked at `how`.
    fn stat(dir: &Descriptor, relative: &str, how: Look) -> io::Result<Status> {
        let flags = match how {
            Look::NoFollow => PathFlags::empty(),
            Look::FollowWithIdentity => PathFlags::SYMLINK_FOLLOW,
        };
        let stat = dir.stat_at(flags, relative).map_err(io_error)?;
        let kind = match stat.type_ {
            DescriptorType::RegularFile => Kind::File,
            DescriptorType::SymbolicLink => Kind::Link,
            DescriptorType::Directory => Kind::Dir,
            _ => Kind::Other,
        };
        let identity = match how {
            Look::NoFollow => None,
            Look::FollowWithIdentity => {
                let hash = dir.metadata_hash_at(flags, relative).map_err(io_error)?;
                Some((hash.lower, hash.upper))
            }
        };
        Ok(Status {
            kind,
            stamp: Stamp {
                len: stat.size,
                modified: stat.data_modification_timestamp.map(time),
                changed: stat.status_change_timestamp.map(time),
                identity,
            },
        })
    }

    fn time(t: Datetime) -> Time {
        (i64::try_from(t.seconds).unwrap_or(i64::MAX), t.nanoseconds)
    }

    fn io_error(code: ErrorCode) -> io::Error {
        let kind = match code {
            ErrorCode::NoEntry => io::ErrorKind::NotFound,
            ErrorCode::Access | ErrorCode::NotPermitted => io::ErrorKind::PermissionDenied,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, format!("{code:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(modified: i64, changed: i64) -> Stamp {
        Stamp {
            len: 1,
            modified: Some((modified, 0)),
            changed: Some((changed, 0)),
            identity: None,
        }
    }

    #[test]
    fn only_times_well_before_now_are_settled() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert!(stamp(990, 990).settled(now));
        assert!(stamp(997, 997).settled(now), "more than 2 seconds ago");
        assert!(!stamp(998, 990).settled(now), "exactly 2 seconds ago");
        assert!(!stamp(999, 990).settled(now), "modified a moment ago");
        assert!(!stamp(990, 999).settled(now), "changed a moment ago");
        assert!(!stamp(2_000, 990).settled(now), "from the future");
        let unknown = Stamp {
            changed: None,
            ..stamp(990, 990)
        };
        assert!(!unknown.settled(now));
        assert!(!stamp(0, 0).settled(UNIX_EPOCH), "no time before the epoch");
    }

    #[test]
    fn the_tag_shows_size_and_both_times() {
        assert_eq!(stamp(5, 7).tag(), "1:5.000000000:7.000000000");
        let unknown = Stamp {
            modified: None,
            ..stamp(5, 7)
        };
        assert_eq!(unknown.tag(), "1:-:7.000000000");
    }

    #[test]
    fn the_tag_ends_with_the_identity_when_there_is_one() {
        let identified = Stamp {
            identity: Some((1, 2)),
            ..stamp(5, 7)
        };
        assert_eq!(
            identified.tag(),
            "1:5.000000000:7.000000000:00000000000000010000000000000002"
        );
        let moved = Stamp {
            identity: Some((1, 3)),
            ..identified
        };
        assert_ne!(moved.tag(), identified.tag());
    }

    /// A fresh directory under the system's temporary directory, removed
    /// when dropped.
    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn new(name: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "pp-secrets-guest-{name}-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("create a temporary directory");
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A fresh temporary directory for the test `test`, holding the file
    /// `s` (`one`), and that file's path.
    fn with_file(test: &str) -> (TempDir, std::path::PathBuf) {
        let dir = TempDir::new(test);
        let file = dir.0.join("s");
        std::fs::write(&file, "one").expect("write");
        (dir, file)
    }

    #[test]
    fn a_write_changes_the_stamp() {
        let (dir, file) = with_file("write");
        let before = lstat(&file).expect("stat");
        assert_eq!(before.kind, Kind::File);
        assert_eq!(before.stamp.size(), 3);
        assert_eq!(lstat_in(&dir.0, "s").expect("stat"), before);
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&file, "two").expect("write");
        assert_ne!(lstat(&file).expect("stat").stamp, before.stamp);
        assert_eq!(lstat(&dir.0).expect("stat").kind, Kind::Dir);
        assert_eq!(
            lstat(&dir.0.join("missing")).expect_err("missing").kind(),
            io::ErrorKind::NotFound
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_lstat_stops_at_a_link() {
        let dir = TempDir::new("link");
        std::fs::write(dir.0.join("target"), "value").expect("write");
        std::os::unix::fs::symlink("target", dir.0.join("link")).expect("symlink");
        let link = dir.0.join("link");
        assert_eq!(lstat(&link).expect("lstat").kind, Kind::Link);
        let followed = stat_with_identity(&link).expect("stat");
        assert_eq!(followed.kind, Kind::File);
        assert_eq!(
            followed,
            stat_with_identity(&dir.0.join("target")).expect("stat")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_rename_over_the_file_changes_the_identity() {
        let (dir, file) = with_file("rename");
        let before = stat_with_identity(&file).expect("stat");
        let next = dir.0.join("next");
        std::fs::write(&next, "two").expect("write");
        std::fs::rename(&next, &file).expect("rename");
        let after = stat_with_identity(&file).expect("stat");
        assert_ne!(after.stamp.identity, before.stamp.identity);
        assert_ne!(after.stamp.tag(), before.stamp.tag());
        assert!(lstat(&file).expect("lstat").stamp.identity.is_none());
    }
}
