//! A file read on first access and kept parsed, re-read by a refresh only
//! when it changed.
//!
//! The `file` and `dotenv` backends both read their file lazily (so a
//! manager can be built, and `get` of another backend served, even when the
//! file is missing). A failed read is not remembered: the next access tries
//! again. Without a refresh the file is read once; a refresh calls
//! [`SourceFile::reload_if_changed`], which compares the file's identity
//! (device, inode, size, modification and change times) with the one it was
//! read at, so an edit in place and a replacement by rename (a new inode)
//! are both seen, and an unchanged file costs one `stat`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;
use tokio::sync::Mutex;
use zeroize::Zeroizing;

use crate::secrets_provider::ProviderError;

/// A file parsed into `T`.
pub struct SourceFile<T> {
    path: PathBuf,
    parse: fn(&Path, &str) -> Result<T, ProviderError>,
    parsed: ArcSwapOption<Loaded<T>>,
    /// Serialises reads of the file, so that two first accesses read it
    /// once.
    reading: Mutex<()>,
}

/// The parsed file and the identity it was read at.
struct Loaded<T> {
    value: Arc<T>,
    identity: Identity,
}

/// What tells two versions of a file apart without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    device: u64,
    inode: u64,
    size: u64,
    modified: (i64, i64),
    changed: (i64, i64),
    /// Modified so shortly before it was read that a second write within
    /// the file system's timestamp granularity could leave the identity
    /// as it is: such a file is read again at the next refresh.
    racy: bool,
}

/// How close to the read a modification makes the identity untrustworthy.
const RACY_WINDOW: Duration = Duration::from_secs(2);

impl Identity {
    fn of(metadata: &std::fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        let modified = metadata.modified().ok();
        Self {
            device: metadata.dev(),
            inode: metadata.ino(),
            size: metadata.size(),
            modified: (metadata.mtime(), metadata.mtime_nsec()),
            changed: (metadata.ctime(), metadata.ctime_nsec()),
            racy: modified
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .is_none_or(|age| age < RACY_WINDOW),
        }
    }

    fn same_file_as(&self, other: &Identity) -> bool {
        !self.racy
            && (
                self.device,
                self.inode,
                self.size,
                self.modified,
                self.changed,
            ) == (
                other.device,
                other.inode,
                other.size,
                other.modified,
                other.changed,
            )
    }
}

impl<T> SourceFile<T> {
    /// A file at `path`, to be parsed by `parse`.
    pub fn new(path: PathBuf, parse: fn(&Path, &str) -> Result<T, ProviderError>) -> Self {
        Self {
            path,
            parse,
            parsed: ArcSwapOption::empty(),
            reading: Mutex::new(()),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The parsed content, reading the file if this is the first access.
    pub async fn get(&self) -> Result<Arc<T>, ProviderError> {
        if let Some(loaded) = self.parsed.load().as_ref() {
            return Ok(loaded.value.clone());
        }
        let _reading = self.reading.lock().await;
        if let Some(loaded) = self.parsed.load().as_ref() {
            return Ok(loaded.value.clone());
        }
        Ok(self.read().await?.value.clone())
    }

    /// Re-reads the file if it is not the one last read (or was never
    /// read); whether it did. A file that cannot be read is an error and
    /// leaves the last content in place.
    pub async fn reload_if_changed(&self) -> Result<bool, ProviderError> {
        let _reading = self.reading.lock().await;
        if let Some(loaded) = self.parsed.load().as_ref() {
            let now = Identity::of(&self.metadata().await?);
            if loaded.identity.same_file_as(&now) {
                return Ok(false);
            }
        }
        self.read().await?;
        Ok(true)
    }

    /// Reads and parses the file and keeps it (the caller holds `reading`).
    async fn read(&self) -> Result<Arc<Loaded<T>>, ProviderError> {
        // The identity from before the read: a change during the read
        // leaves it older than the content, so the next refresh reads again.
        let identity = Identity::of(&self.metadata().await?);
        let text = Zeroizing::new(
            tokio::fs::read_to_string(&self.path)
                .await
                .map_err(|e| self.cannot_read(&e))?,
        );
        let loaded = Arc::new(Loaded {
            value: Arc::new((self.parse)(&self.path, &text)?),
            identity,
        });
        self.parsed.store(Some(loaded.clone()));
        Ok(loaded)
    }

    async fn metadata(&self) -> Result<std::fs::Metadata, ProviderError> {
        tokio::fs::metadata(&self.path)
            .await
            .map_err(|e| self.cannot_read(&e))
    }

    /// A file that does not exist is a misconfigured backend (its `path`
    /// is wrong), one that may not be read a denied one.
    fn cannot_read(&self, e: &std::io::Error) -> ProviderError {
        let reason = format!("cannot read {}: {e}", self.path.display());
        match e.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory => {
                ProviderError::Misconfigured(reason)
            }
            std::io::ErrorKind::PermissionDenied => ProviderError::Denied(reason),
            _ => ProviderError::Failed(reason),
        }
    }
}
