//! The identity of the SOPS file: a stamp that changes whenever its
//! content may have, used as every value's version and to decide when to
//! decrypt again.
//!
//! The stamp is the guest SDK's [`file_version`] stamp with the file's
//! identity ([`file_version::stat_with_identity`]: size, times, and device
//! and inode, following links), so a file replaced by a rename (as editors
//! and `sops --in-place` may do) is a new identity even when its size and
//! times repeat. A stamp is trusted only once it is settled
//! ([`Stamp::settled`], [`file_version::SETTLED_AFTER`]); until then the
//! file is decrypted on every call and its values carry no version.

use std::io;
use std::path::Path;

use pp_secrets_guest::file_version::{self, Kind, Stamp};

/// The stamp of the file at `path` (absolute), following links. A path
/// that is not a regular file is an error of kind `InvalidInput`.
pub(crate) fn stat(path: &Path) -> io::Result<Stamp> {
    let status = file_version::stat_with_identity(path)?;
    if status.kind != Kind::File {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(status.stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

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
