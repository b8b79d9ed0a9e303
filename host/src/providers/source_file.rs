//! A file read once, on first access, and kept parsed.
//!
//! The `file` and `dotenv` backends both read their file lazily (so a
//! manager can be built, and `get` of another backend served, even when the
//! file is missing) and only once. A failed read is not remembered: the next
//! access tries again.

use std::path::{Path, PathBuf};

use tokio::sync::OnceCell;
use zeroize::Zeroizing;

use crate::secrets_provider::ProviderError;

/// A file parsed into `T` on first access.
pub struct SourceFile<T> {
    path: PathBuf,
    parse: fn(&Path, &str) -> Result<T, ProviderError>,
    parsed: OnceCell<T>,
}

impl<T> SourceFile<T> {
    /// A file at `path`, to be parsed by `parse`.
    pub fn new(path: PathBuf, parse: fn(&Path, &str) -> Result<T, ProviderError>) -> Self {
        Self {
            path,
            parse,
            parsed: OnceCell::new(),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The parsed content, reading the file if this is the first access.
    pub async fn get(&self) -> Result<&T, ProviderError> {
        self.parsed
            .get_or_try_init(|| async {
                let text =
                    Zeroizing::new(tokio::fs::read_to_string(&self.path).await.map_err(|e| {
                        ProviderError::failed(format!("cannot read {}: {e}", self.path.display()))
                    })?);
                (self.parse)(&self.path, &text)
            })
            .await
    }
}
