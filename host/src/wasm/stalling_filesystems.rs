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
//! The mounts are read from `/proc/self/mountinfo` when the instance is
//! created; a directory that cannot be placed (no mount table, a path
//! outside this process's root) counts as one that could stall.

use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

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

/// Whether a filesystem call under the directory `granted` (an open
/// directory) could wait on something other than the local kernel.
pub(crate) fn could_stall(granted: &std::fs::File) -> bool {
    let link = format!("/proc/self/fd/{}", granted.as_raw_fd());
    let (Ok(path), Ok(mounts)) = (
        std::fs::read_link(link),
        std::fs::read_to_string("/proc/self/mountinfo"),
    ) else {
        return true;
    };
    could_stall_at(&path, &mounts)
}

/// Whether `path` lies on, or has below it, a mount that is not local,
/// according to the mount table `mountinfo`.
fn could_stall_at(path: &Path, mountinfo: &str) -> bool {
    if !path.is_absolute() {
        return true;
    }
    let mut holder: Option<(PathBuf, &str)> = None;
    for (point, kind) in mountinfo.lines().filter_map(mount) {
        if point != path && point.starts_with(path) {
            if !LOCAL.contains(&kind) {
                return true;
            }
        } else if path.starts_with(&point) {
            // The deepest mount holding `path` (the last one, when stacked).
            let deeper = holder
                .as_ref()
                .is_none_or(|(held, _)| point.components().count() >= held.components().count());
            if deeper {
                holder = Some((point, kind));
            }
        }
    }
    holder.is_none_or(|(_, kind)| !LOCAL.contains(&kind))
}

/// The mount point and filesystem type of one line of `mountinfo`
/// (`id parent major:minor root point options [tags] - type source ...`).
fn mount(line: &str) -> Option<(PathBuf, &str)> {
    let (before, after) = line.split_once(" - ")?;
    let point = before.split(' ').nth(4)?;
    let kind = after.split(' ').next()?;
    Some((PathBuf::from(unescape(point)), kind))
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
";

    fn stalls(path: &str) -> bool {
        could_stall_at(Path::new(path), MOUNTS)
    }

    #[test]
    fn local_directories_do_not_stall() {
        assert!(!stalls("/etc/secrets"));
        assert!(!stalls("/data/local"));
    }

    #[test]
    fn network_and_fuse_filesystems_stall() {
        assert!(stalls("/srv/nfs"));
        assert!(stalls("/srv/nfs/app"));
        assert!(
            stalls("/home/me/fuse box/keys"),
            "escaped mount points are read"
        );
    }

    #[test]
    fn a_remote_mount_below_a_grant_stalls_it() {
        assert!(stalls("/data"));
        assert!(stalls("/srv"));
        assert!(stalls("/"));
        assert!(!stalls("/data/other"));
    }

    #[test]
    fn what_cannot_be_placed_stalls() {
        assert!(could_stall_at(Path::new("relative"), MOUNTS));
        assert!(could_stall_at(Path::new("/etc"), ""));
        assert_eq!(unescape("a\\040b\\134c\\x"), "a b\\c\\x");
    }
}
