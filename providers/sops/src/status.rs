//! The identity of the SOPS file: a stamp that changes whenever its
//! content may have, used as every value's version and to decide when to
//! decrypt again.
//!
//! In the Wasm build this asks wasi:filesystem directly (`stat-at` and
//! `metadata-hash-at` on the granted directory that holds the file,
//! following links): two host calls. The hash stands for the file's
//! device and inode, so a file replaced by a rename (as editors and
//! `sops --in-place` may do) is a new identity even when its size and
//! times repeat. Under wasmtime the status-change time the guest sees is
//! the file's birth time; natively it is the real ctime. Either way every
//! write changes the modification time.
//!
//! File times are coarse (a tick; a second on some file systems), so a
//! file changed twice within one tick can show the same stamp twice: a
//! stamp is trusted only once both times are at least [`SETTLED_AFTER`]
//! old (the rule of `providers/dir/src/status.rs`). Until then the file is
//! decrypted on every call and its values carry no version.

use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long after a file's last change its stamp can be trusted.
pub(crate) const SETTLED_AFTER: Duration = Duration::from_secs(2);

/// A file time, as seconds and nanoseconds since the Unix epoch.
type Time = (i64, u32);

/// The size, times and identity of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    len: u64,
    modified: Option<Time>,
    changed: Option<Time>,
    /// The device and inode, as the platform gives them (natively the
    /// numbers; under WASI the host's 128-bit hash of them).
    id: (u64, u64),
}

impl Stamp {
    /// The file's size in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

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

    /// The stamp as a version: short, equal for equal stamps and different
    /// for different ones.
    pub(crate) fn tag(&self) -> String {
        let time =
            |t: Option<Time>| t.map_or_else(|| "-".to_owned(), |(s, n)| format!("{s}.{n:09}"));
        format!(
            "{}:{}:{}:{:016x}{:016x}",
            self.len,
            time(self.modified),
            time(self.changed),
            self.id.0,
            self.id.1
        )
    }
}

/// The stamp of the file at `path` (absolute), following links. A path
/// that is not a regular file is an error of kind `InvalidInput`.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn stat(path: &Path) -> io::Result<Stamp> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    #[cfg(unix)]
    let (modified, changed, id) = {
        use std::os::unix::fs::MetadataExt;
        let nanos = |n: i64| u32::try_from(n).unwrap_or(0);
        (
            Some((meta.mtime(), nanos(meta.mtime_nsec()))),
            Some((meta.ctime(), nanos(meta.ctime_nsec()))),
            (meta.dev(), meta.ino()),
        )
    };
    // Elsewhere there is no status-change time: such a stamp is never
    // settled, so every call decrypts.
    #[cfg(not(unix))]
    let (modified, changed, id) = (None, None, (0, 0));
    Ok(Stamp {
        len: meta.len(),
        modified,
        changed,
        id,
    })
}

/// The stamp of the file at `path` (absolute), following links. A path
/// that is not a regular file is an error of kind `InvalidInput`.
#[cfg(target_arch = "wasm32")]
pub(crate) fn stat(path: &Path) -> io::Result<Stamp> {
    wasi::stat(path)
}

#[cfg(target_arch = "wasm32")]
mod wasi {
    use std::io;
    use std::path::{Path, PathBuf};

    use wasip2::filesystem::preopens::get_directories;
    use wasip2::filesystem::types::{Datetime, Descriptor, DescriptorType, ErrorCode, PathFlags};

    use super::{Stamp, Time};

    thread_local! {
        /// The directories the host granted, by their path in the guest.
        static GRANTED: Vec<(PathBuf, Descriptor)> = get_directories()
            .into_iter()
            .map(|(descriptor, path)| (PathBuf::from(path), descriptor))
            .collect();
    }

    pub(super) fn stat(path: &Path) -> io::Result<Stamp> {
        GRANTED.with(|granted| {
            // The innermost granted directory holding the file.
            let (dir, relative) = granted
                .iter()
                .filter_map(|(root, d)| path.strip_prefix(root).ok().map(|rest| (d, rest)))
                .min_by_key(|(_, rest)| rest.components().count())
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::PermissionDenied,
                        "not inside a granted directory",
                    )
                })?;
            let relative = relative
                .to_str()
                .filter(|r| !r.is_empty())
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file path"))?;
            let stat = dir
                .stat_at(PathFlags::SYMLINK_FOLLOW, relative)
                .map_err(io_error)?;
            if stat.type_ != DescriptorType::RegularFile {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a regular file",
                ));
            }
            let hash = dir
                .metadata_hash_at(PathFlags::SYMLINK_FOLLOW, relative)
                .map_err(io_error)?;
            Ok(Stamp {
                len: stat.size,
                modified: stat.data_modification_timestamp.map(time),
                changed: stat.status_change_timestamp.map(time),
                id: (hash.lower, hash.upper),
            })
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
            id: (1, 2),
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
    fn the_tag_shows_size_times_and_identity() {
        assert_eq!(
            stamp(5, 7).tag(),
            "1:5.000000000:7.000000000:00000000000000010000000000000002"
        );
        let moved = Stamp {
            id: (1, 3),
            ..stamp(5, 7)
        };
        assert_ne!(moved.tag(), stamp(5, 7).tag());
    }

    #[test]
    fn a_rename_over_the_file_changes_the_stamp() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("s.yaml");
        std::fs::write(&file, "one").expect("write");
        let before = stat(&file).expect("stat");
        let next = dir.path().join("next");
        std::fs::write(&next, "two").expect("write");
        std::fs::rename(&next, &file).expect("rename");
        assert_ne!(stat(&file).expect("stat"), before);
        assert_eq!(
            stat(dir.path()).expect_err("a directory").kind(),
            io::ErrorKind::InvalidInput
        );
    }
}
