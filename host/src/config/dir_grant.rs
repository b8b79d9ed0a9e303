//! Which directories may be granted to a guest (`allow.dirs`,
//! `--allow-dir`): none that would defeat the sandbox.
//!
//! The root directory would grant every file; the kernel's own filesystems
//! (procfs, sysfs, the device filesystem and their kin) would grant the
//! host's processes, devices and settings, and `/proc/self/environ` would
//! be a way around `allow.env`. Such a grant is a configuration error,
//! checked on the path as written and on what it resolves to. The host's
//! `open-at` also refuses any file on such a filesystem (a mount inside a
//! granted directory), checked on the opened file with [`kernel_filesystem`].

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rustix::fd::AsFd;
use rustix::fs::FsWord;

/// Kernel filesystems a guest must never read, by `statfs` magic number.
const KERNEL_FILESYSTEMS: &[(FsWord, &str)] = &[
    (0x9fa0, "procfs"),
    (0x6265_6572, "sysfs"),
    (0x1cd1, "devpts"),
    (0x0027_e0eb, "cgroupfs"),
    (0x6367_7270, "cgroup2"),
    (0x6462_6720, "debugfs"),
    (0x7363_6673, "securityfs"),
    (0x7472_6163, "tracefs"),
    (0xcafe_4a11, "bpffs"),
    (0x6265_6570, "configfs"),
    (0xde5e_81e4, "efivarfs"),
    (0x6165_676c, "pstore"),
    (0xf97c_ff8c, "selinuxfs"),
    (0x4249_4e4d, "binfmt_misc"),
    (0x6e73_6673, "nsfs"),
];

/// Directories that are kernel filesystems wherever they are mounted from.
const KERNEL_DIRS: &[(&str, &str)] = &[("/proc", "procfs"), ("/sys", "sysfs"), ("/dev", "devfs")];

/// Why granting `dir` would defeat the sandbox, if it would.
pub fn refused_dir_grant(dir: &Path) -> Option<String> {
    let resolved = match checked_path(dir) {
        Err(problem) => return Some(problem),
        Ok(resolved) => resolved?,
    };
    let opened = open_dir(&resolved).ok()?;
    checked_handle(dir, &resolved, &opened).err()
}

/// Refuses `dir` by its path, as written and as resolved; the resolved
/// path, when it exists.
fn checked_path(dir: &Path) -> Result<Option<PathBuf>, String> {
    let resolved = std::fs::canonicalize(dir).ok();
    for path in std::iter::once(dir).chain(resolved.as_deref()) {
        if path == Path::new("/") {
            return Err(if path == dir {
                "is the root directory, which would grant every file".into()
            } else {
                "resolves to the root directory, which would grant every file".into()
            });
        }
        if let Some(filesystem) = kernel_dir(path) {
            return Err(refusal(dir, path, filesystem));
        }
    }
    Ok(resolved)
}

/// Refuses the directory `opened` (`dir`, resolved to `resolved`): the
/// root directory, by device and inode, or one on a kernel filesystem.
fn checked_handle(dir: &Path, resolved: &Path, opened: &std::fs::File) -> Result<(), String> {
    let meta = opened.metadata().map_err(|e| e.to_string())?;
    let root = std::fs::metadata("/").map_err(|e| e.to_string())?;
    if (meta.dev(), meta.ino()) == (root.dev(), root.ino()) {
        return Err("is the root directory, which would grant every file".into());
    }
    match kernel_filesystem(opened) {
        Some(filesystem) => Err(refusal(dir, resolved, filesystem)),
        None => Ok(()),
    }
}

/// `dir` opened as a directory, without waiting (a FIFO in its place is
/// an error, not a hang).
fn open_dir(dir: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags((rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(dir)
}

/// The granted directory `dir`, opened once and checked on what was
/// opened (the root directory or a kernel filesystem is refused), so that
/// the sandbox can be given exactly this directory: nothing can swap the
/// path between the check and the grant.
pub(crate) fn open_granted_dir(dir: &Path) -> Result<std::fs::File, String> {
    checked_path(dir)?;
    let opened = open_dir(dir).map_err(|e| format!("cannot be opened: {e}"))?;
    checked_handle(dir, dir, &opened)?;
    Ok(opened)
}

fn refusal(dir: &Path, resolved: &Path, filesystem: &str) -> String {
    let place = if dir == resolved {
        "is".to_owned()
    } else {
        format!("resolves to {}, which is", resolved.display())
    };
    format!(
        "{place} on {filesystem}, the kernel's own filesystem: granting it would expose \
         the host's processes, devices or settings (and /proc/self/environ would bypass \
         allow.env)"
    )
}

/// The kernel filesystem whose directory `path` is or lies under.
fn kernel_dir(path: &Path) -> Option<&'static str> {
    KERNEL_DIRS
        .iter()
        .find(|(root, _)| path.starts_with(root))
        .map(|(_, name)| *name)
}

/// The name of the kernel filesystem `file` lives on, when it is one a
/// guest must never read (the device filesystem is told by its device
/// number, since it shares tmpfs's magic number).
pub(crate) fn kernel_filesystem(file: &impl AsFd) -> Option<&'static str> {
    let magic = rustix::fs::fstatfs(file).ok()?.f_type;
    if let Some((_, name)) = KERNEL_FILESYSTEMS.iter().find(|(m, _)| *m == magic) {
        return Some(name);
    }
    let device = rustix::fs::fstat(file).ok()?.st_dev;
    (Some(device) == devfs_device()).then_some("devfs")
}

/// The device number of the filesystem mounted on `/dev`, when it is a
/// filesystem of its own.
fn devfs_device() -> Option<u64> {
    static DEVICE: OnceLock<Option<u64>> = OnceLock::new();
    *DEVICE.get_or_init(|| {
        let dev = std::fs::metadata("/dev").ok()?.dev();
        let root = std::fs::metadata("/").ok()?.dev();
        (dev != root).then_some(dev)
    })
}

/// `dir`, refused with an error made by `error` when granting it would
/// defeat the sandbox.
pub(crate) fn checked_dir_grant<E>(
    dir: PathBuf,
    error: impl FnOnce(&Path, String) -> E,
) -> Result<PathBuf, E> {
    match refused_dir_grant(&dir) {
        Some(problem) => Err(error(&dir, problem)),
        None => Ok(dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_and_kernel_filesystems_are_refused() {
        for dir in [
            "/",
            "/proc",
            "/proc/self",
            "/sys/kernel",
            "/dev",
            "/dev/shm",
        ] {
            assert!(refused_dir_grant(Path::new(dir)).is_some(), "{dir}");
        }
    }

    #[test]
    fn a_link_into_procfs_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("proc-link");
        std::os::unix::fs::symlink("/proc/self", &link).expect("symlink");
        let problem = refused_dir_grant(&link).expect("refused");
        assert!(problem.contains("resolves to /proc/"), "{problem}");
    }

    #[test]
    fn ordinary_directories_are_granted() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(refused_dir_grant(dir.path()), None);
        assert_eq!(refused_dir_grant(Path::new("/does/not/exist")), None);
    }

    #[test]
    fn procfs_is_told_by_its_magic_number() {
        let file = std::fs::File::open("/proc/self/stat").expect("procfs");
        assert_eq!(kernel_filesystem(&file), Some("procfs"));
        let file = tempfile::tempfile().expect("file");
        assert_eq!(kernel_filesystem(&file), None);
    }
}
