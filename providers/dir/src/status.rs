//! What a lookup needs to know about one path, without following a link
//! at its end: what it is, and a stamp that changes whenever its content
//! may have.
//!
//! In the Wasm build this asks wasi:filesystem directly (`stat-at` on the
//! granted directory): one host call and one system call. Going through
//! the standard library costs a second host call (and a second system
//! call) for the inode hash wasi-libc asks for, and does not give the
//! status-change time, which the stamp needs.
//!
//! One host difference: wasmtime-wasi 48 fills wasi:filesystem's
//! status-change time with the file's creation (birth) time, not its
//! ctime. Under it a stamp still changes on every write (modification
//! time) and on every replacement by rename (a new file, a new birth
//! time); what it cannot see is a file rewritten in place to the same
//! length whose modification time is then set back to its exact previous
//! value. Natively the stamp uses the real ctime, which no one can set.

use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long after a file's last change its stamp can be trusted to tell a
/// later change apart: file times are coarse (a clock tick, a second on
/// some file systems), so a file changed twice within one tick can show
/// the same stamp twice.
const SETTLED_AFTER: Duration = Duration::from_secs(2);

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
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

/// The size and times of a file. Two equal stamps of a settled file (see
/// [`Stamp::settled`]) mean its content did not change in between: every
/// write sets the modification and status-change times, and a rename
/// sets the status-change time of the file renamed into place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    len: u64,
    modified: Option<Time>,
    changed: Option<Time>,
}

impl Stamp {
    /// Whether both times are known and at least [`SETTLED_AFTER`] before
    /// `now`, so that any later change shows in the stamp.
    pub(crate) fn settled(&self, now: SystemTime) -> bool {
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
}

impl Stamp {
    /// The stamp as text: size, then modification and status-change times
    /// (seconds and nanoseconds; `-` when unknown). Equal stamps give equal
    /// text, different stamps different text.
    pub(crate) fn tag(&self) -> String {
        let time =
            |t: Option<Time>| t.map_or_else(|| "-".to_owned(), |(s, n)| format!("{s}.{n:09}"));
        format!(
            "{}:{}:{}",
            self.len,
            time(self.modified),
            time(self.changed)
        )
    }
}

/// What [`lstat`] found.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Status {
    pub(crate) kind: Kind,
    pub(crate) stamp: Stamp,
}

/// The status of `path` (absolute), without following a link at its end.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn lstat(path: &Path) -> io::Result<Status> {
    let meta = std::fs::symlink_metadata(path)?;
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
    let (modified, changed) = {
        use std::os::unix::fs::MetadataExt;
        let nanos = |n: i64| u32::try_from(n).unwrap_or(0);
        (
            Some((meta.mtime(), nanos(meta.mtime_nsec()))),
            Some((meta.ctime(), nanos(meta.ctime_nsec()))),
        )
    };
    // Elsewhere there is no status-change time: such a stamp is never
    // settled, so every get reads the file.
    #[cfg(not(unix))]
    let (modified, changed) = (None, None);
    Ok(Status {
        kind,
        stamp: Stamp {
            len: meta.len(),
            modified,
            changed,
        },
    })
}

/// The status of `path` (absolute), without following a link at its end.
#[cfg(target_arch = "wasm32")]
pub(crate) fn lstat(path: &Path) -> io::Result<Status> {
    wasi::lstat(path)
}

/// The status of the entry `name` (one plain path component) of the
/// directory `dir` (absolute), without following a link: the same as
/// [`lstat`] of `dir/name`, for the one look most gets make.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn lstat_in(dir: &Path, name: &str) -> io::Result<Status> {
    lstat(&dir.join(name))
}

/// The status of the entry `name` (one plain path component) of the
/// directory `dir` (absolute), without following a link: the same as
/// [`lstat`] of `dir/name`, for the one look most gets make. Where `dir`
/// sits among the granted directories is worked out once, not per look.
#[cfg(target_arch = "wasm32")]
pub(crate) fn lstat_in(dir: &Path, name: &str) -> io::Result<Status> {
    wasi::lstat_in(dir, name)
}

#[cfg(target_arch = "wasm32")]
mod wasi {
    use std::cell::RefCell;
    use std::io;
    use std::path::{Path, PathBuf};

    use wasip2::filesystem::preopens::get_directories;
    use wasip2::filesystem::types::{Datetime, Descriptor, DescriptorType, ErrorCode, PathFlags};

    use super::{Kind, Stamp, Status, Time};

    thread_local! {
        /// The directories the host granted, by their path in the guest.
        static GRANTED: Vec<(PathBuf, Descriptor)> = get_directories()
            .into_iter()
            .map(|(descriptor, path)| (PathBuf::from(path), descriptor))
            .collect();
    }

    /// Where a directory the provider reads sits among the grants.
    struct Base {
        /// The directory, as the provider names it.
        dir: PathBuf,
        /// Its granted directory: an index into `GRANTED`.
        granted: usize,
        /// Its path inside that granted directory (`""` for the same).
        inside: String,
    }

    thread_local! {
        /// The last directory [`lstat_in`] looked in.
        static BASE: RefCell<Option<Base>> = const { RefCell::new(None) };
    }

    pub(super) fn lstat(path: &Path) -> io::Result<Status> {
        GRANTED.with(|granted| {
            let (index, relative) = innermost_grant(granted, path)?;
            stat(&granted[index].1, relative.unwrap_or("."))
        })
    }

    pub(super) fn lstat_in(dir: &Path, name: &str) -> io::Result<Status> {
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
                    stat(descriptor, name)
                } else {
                    stat(descriptor, &format!("{}/{name}", base.inside))
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

    /// The status of `relative` in `dir`, without following a link at its
    /// end.
    fn stat(dir: &Descriptor, relative: &str) -> io::Result<Status> {
        let stat = dir
            .stat_at(PathFlags::empty(), relative)
            .map_err(io_error)?;
        let kind = match stat.type_ {
            DescriptorType::RegularFile => Kind::File,
            DescriptorType::SymbolicLink => Kind::Link,
            DescriptorType::Directory => Kind::Dir,
            _ => Kind::Other,
        };
        Ok(Status {
            kind,
            stamp: Stamp {
                len: stat.size,
                modified: stat.data_modification_timestamp.map(time),
                changed: stat.status_change_timestamp.map(time),
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
        }
    }

    #[test]
    fn only_times_well_before_now_are_settled() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        assert!(stamp(990, 990).settled(now));
        assert!(!stamp(999, 990).settled(now), "modified a moment ago");
        assert!(!stamp(990, 999).settled(now), "changed a moment ago");
        assert!(!stamp(2_000, 990).settled(now), "from the future");
        let unknown = Stamp {
            changed: None,
            ..stamp(990, 990)
        };
        assert!(!unknown.settled(now));
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
    fn a_write_changes_the_stamp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("s");
        std::fs::write(&file, "one").expect("write");
        let before = lstat(&file).expect("stat");
        assert_eq!(before.kind, Kind::File);
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&file, "two").expect("write");
        assert_ne!(lstat(&file).expect("stat").stamp, before.stamp);
        assert_eq!(lstat(dir.path()).expect("stat").kind, Kind::Dir);
    }
}
