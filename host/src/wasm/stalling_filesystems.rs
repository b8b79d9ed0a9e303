//! Which granted directories could stall a filesystem call: those on, or
//! with a mount below them of, a filesystem that is not served by the
//! local kernel and its disks (NFS, SMB, FUSE, 9p, Ceph, an automounter,
//! or anything this list does not know).
//!
//! Filesystem calls of a guest run on the calling thread when every grant
//! of its instance is local: there they cannot stall (opens cannot block,
//! `guest_files`), and the hop to tokio's blocking pool would cost about
//! 20 us each way. When any grant could stall, every filesystem call of
//! the instance goes through the blocking pool instead, so the call's
//! timeout ends the call even if the filesystem never answers (the pool's
//! thread waits for the filesystem, not the caller).
//!
//! The mounts are read from `/proc/self/mountinfo` when the backend is
//! loaded (for its thread pool, `stall_pool`) and when an instance is
//! created (for its filesystem calls); a directory that cannot be placed (no mount table, a path
//! outside this process's root) counts as one that could stall.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::config::{Grants, open_granted_dir};

/// Filesystems served by the local kernel: memory, block devices, and the
/// kernel's own (whose files `guest_files` refuses, without waiting).
const LOCAL: &[&str] = &[
    "ext2",
    "ext3",
    "ext4",
    "xfs",
    "btrfs",
    "bcachefs",
    "f2fs",
    "jfs",
    "reiserfs",
    "nilfs2",
    "zfs",
    "erofs",
    "squashfs",
    "iso9660",
    "udf",
    "vfat",
    "msdos",
    "exfat",
    "ntfs3",
    "hfsplus",
    "tmpfs",
    "ramfs",
    "overlay",
    "devtmpfs",
    "proc",
    "sysfs",
    "devpts",
    "mqueue",
    "cgroup",
    "cgroup2",
    "debugfs",
    "tracefs",
    "securityfs",
    "pstore",
    "bpf",
    "configfs",
    "efivarfs",
    "hugetlbfs",
    "nsfs",
    "binfmt_misc",
    "selinuxfs",
];

/// Whether a filesystem call under any of the directories `granted`
/// (open directories) could wait on something other than the local
/// kernel. The mount table is read once for all of them.
pub(crate) fn any_could_stall<'a>(granted: impl IntoIterator<Item = &'a std::fs::File>) -> bool {
    let mut granted = granted.into_iter().peekable();
    if granted.peek().is_none() {
        return false;
    }
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return true;
    };
    granted.any(|dir| {
        let fd = dir.as_raw_fd();
        match (
            std::fs::read_link(format!("/proc/self/fd/{fd}")),
            mount_id(fd),
        ) {
            (Ok(path), Some(mount)) => could_stall_at(&path, mount, &mounts),
            _ => true,
        }
    })
}

/// Whether any directory `grants` names could stall (one that cannot be
/// opened counts as one that could).
pub(crate) fn grants_could_stall(grants: &Grants) -> bool {
    let opened: Result<Vec<_>, _> = grants
        .dirs
        .iter()
        .map(|dir| open_granted_dir(dir))
        .collect();
    opened.map_or(true, |opened| any_could_stall(&opened))
}

/// The id of the mount the open file `fd` is on, as `/proc/self/fdinfo`
/// gives it (the first field of its line in `mountinfo`).
fn mount_id(fd: i32) -> Option<u64> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).ok()?;
    info.lines()
        .find_map(|line| line.strip_prefix("mnt_id:"))
        .and_then(|id| id.trim().parse().ok())
}

/// Whether `path`, on the mount with id `mount`, is on a mount that is not
/// local or has one below it, according to the mount table `mountinfo`.
/// The mount is found by its id, not by its path: mounts stacked on one
/// path are listed in the order they were made, which after a move is not
/// the order they are stacked in.
fn could_stall_at(path: &Path, mount: u64, mountinfo: &str) -> bool {
    if !path.is_absolute() {
        return true;
    }
    let mut holder_is_local = None;
    for (id, point, kind) in mountinfo.lines().filter_map(parse_mount) {
        let local = LOCAL.contains(&kind);
        if id == mount {
            holder_is_local = Some(local);
        }
        if point != path && point.starts_with(path) && !local {
            return true;
        }
    }
    holder_is_local != Some(true)
}

/// The mount id, mount point and filesystem type of one line of
/// `mountinfo` (`id parent major:minor root point options [tags] - type
/// source ...`).
fn parse_mount(line: &str) -> Option<(u64, PathBuf, &str)> {
    let (before, after) = line.split_once(" - ")?;
    let mut fields = before.split(' ');
    let id = fields.next()?.parse().ok()?;
    let point = fields.nth(3)?;
    let kind = after.split(' ').next()?;
    Some((id, PathBuf::from(unescape(point)), kind))
}

/// A mount point as the kernel writes it: space, tab, newline and
/// backslash as three octal digits after a backslash.
fn unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut rest = field;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let digits = rest.get(at + 1..at + 4);
        match digits.and_then(|d| u8::from_str_radix(d, 8).ok()) {
            Some(byte) => {
                out.push(char::from(byte));
                rest = &rest[at + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTS: &str = "\
22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/root rw
23 22 0:21 / /proc rw,nosuid - proc proc rw
30 22 0:40 / /srv/nfs rw,relatime shared:9 - nfs4 server:/export rw,vers=4.2
31 22 0:41 / /home/me/fuse\\040box rw - fuse.sshfs me@there: rw
32 22 0:42 / /data rw - xfs /dev/sdb1 rw
33 32 0:43 / /data/remote rw - cifs //nas/share rw
40 22 0:50 / /stack rw - nfs4 server:/moved rw
41 22 0:51 / /stack rw - tmpfs tmpfs rw
";

    /// Whether `path` on the mount `mount` could stall.
    fn stalls(path: &str, mount: u64) -> bool {
        could_stall_at(Path::new(path), mount, MOUNTS)
    }

    #[test]
    fn local_directories_do_not_stall() {
        assert!(!stalls("/etc/secrets", 22));
        assert!(!stalls("/data/local", 32));
    }

    #[test]
    fn network_and_fuse_filesystems_stall() {
        assert!(stalls("/srv/nfs", 30));
        assert!(stalls("/srv/nfs/app", 30));
        assert!(stalls("/home/me/fuse box/keys", 31));
    }

    #[test]
    fn a_remote_mount_below_a_grant_stalls_it() {
        assert!(stalls("/data", 32));
        assert!(stalls("/srv", 22));
        assert!(stalls("/", 22));
        assert!(!stalls("/data/other", 32));
    }

    #[test]
    fn stacked_mounts_are_told_apart_by_id() {
        // The tmpfs listed last may be the one below (a mount moved on
        // top of it keeps its older place in the table).
        assert!(stalls("/stack/keys", 40));
        assert!(!stalls("/stack/keys", 41));
    }

    #[test]
    fn what_cannot_be_placed_stalls() {
        assert!(could_stall_at(Path::new("relative"), 22, MOUNTS));
        assert!(could_stall_at(Path::new("/etc"), 22, ""));
        assert!(stalls("/etc", 99), "a mount id the table does not list");
        assert_eq!(unescape("a\\040b\\134c\\x"), "a b\\c\\x");
    }

    #[test]
    fn this_process_can_place_its_own_directories() {
        let dir = tempfile::tempdir().expect("tempdir");
        let opened = std::fs::File::open(dir.path()).expect("open");
        assert!(mount_id(opened.as_raw_fd()).is_some());
    }
}
