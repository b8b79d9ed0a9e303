//! Opening files for a guest (`wasi:filesystem` `open-at`), in place of
//! wasmtime's own: read-only, never blocking, regular files and
//! directories only, and at most `limits.open_files` open at once per
//! instance.
//!
//! wasmtime opens by path with a blocking `open(2)` on the calling thread,
//! where neither the epoch deadline nor the call's timeout can stop it: a
//! FIFO in a granted directory (or a file swapped for one between a
//! guest's check and its open) would hold the call, and the thread, until
//! someone writes to it. Here the open itself cannot block (`O_NONBLOCK`,
//! `O_NOCTTY`), and the type is checked on the file that was opened, so
//! there is no window between check and open: a FIFO, socket or device
//! node is refused with `access`. Every other filesystem call
//! (`stat-at`, `readlink-at`, `read-directory`, reading an open regular
//! file) cannot block on such a file. They run on the calling thread when
//! every grant of the instance is local, through tokio's blocking pool
//! when one could stall (`stalling_filesystems`), so that the call's
//! timeout still ends the call.
//!
//! Every grant is read-only, so a request to create, truncate or write is
//! refused with `not-permitted`, as wasmtime does. A file on one of the
//! kernel's filesystems (procfs, sysfs, devfs, ...; a mount inside a
//! granted directory) is refused with `access`.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};

use crate::wasm::off_thread_drop::drop_off_thread;

use cap_primitives::fs::{FollowSymlinks, OpenOptions, OpenOptionsExt};
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, Dir, File};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    DescriptorFlags, ErrorCode, OpenFlags, PathFlags,
};
use wasmtime_wasi::{OpenMode, WasiView};

use crate::config::kernel_filesystem;
use crate::wasm::guest_http_memory::HttpHoldings;
use crate::wasm::guest_listings::Listings;
use crate::wasm::limits::{HostCharge, HostMemory};

/// The `wasi:filesystem/types` interface as wasmtime-wasi defines it
/// (guests importing any 0.2.x version are served by it).
pub(crate) const FILESYSTEM_TYPES: &str = "wasi:filesystem/types@0.2.12";

/// The files, directories and HTTP connections one instance has open, up
/// to one limit (`limits.open_files`): each holds a host file descriptor.
/// Shared by the instance's filesystem and wasi:http host calls.
#[derive(Clone)]
pub(crate) struct OpenFiles(Arc<Open>);

struct Open {
    limit: usize,
    inline: bool,
    memory: HostMemory,
    listings: Listings,
    http: HttpHoldings,
    files: Mutex<Vec<Tracked>>,
    connections: AtomicUsize,
}

/// An open file or directory of the guest's, as the host follows it.
enum Tracked {
    /// Of an instance whose filesystem calls run on the calling thread:
    /// closed wherever its last holder drops it.
    Followed(Weak<std::fs::File>),
    /// Of an instance whose grants could stall: the host keeps a handle,
    /// so that the last close is the host's, on the blocking pool.
    Kept(Arc<std::fs::File>),
}

impl Tracked {
    /// Whether the guest (a descriptor, a stream, a call in progress)
    /// still holds the file.
    fn in_use(&self) -> bool {
        match self {
            Tracked::Followed(file) => file.strong_count() > 0,
            Tracked::Kept(file) => Arc::strong_count(file) > 1,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        let files = std::mem::take(self.files.get_mut().unwrap_or_else(PoisonError::into_inner));
        drop_off_thread(files, !self.inline);
    }
}

/// What an HTTP connection costs the memory budget while it is open: the
/// client's read and write buffers (hyper's grow to about 400 KiB), TLS
/// records, and the response body's frames on their way to the guest.
pub(crate) const CONNECTION_BYTES: usize = 1 << 20;

/// One open connection, counted (and its buffers charged to the memory
/// budget) until it is dropped.
pub(crate) struct ConnectionPermit {
    files: OpenFiles,
    _buffers: HostCharge,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        self.files.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

impl OpenFiles {
    /// Room for `limit` open files, directories and connections (granted
    /// directories themselves not counted), opened on the calling thread
    /// when `inline`, else on tokio's blocking pool; host memory held for
    /// the guest is charged to `memory`.
    pub(crate) fn new(limit: usize, inline: bool, memory: HostMemory) -> Self {
        Self(Arc::new(Open {
            limit,
            inline,
            memory,
            listings: Listings::default(),
            http: HttpHoldings::default(),
            files: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
        }))
    }

    /// How many files and directories are open now: one stays open while
    /// the guest holds its descriptor or a stream reading it. Those the
    /// guest let go of and the host kept are closed now, off this thread.
    fn files(&self) -> usize {
        let mut files = self.0.files.lock().unwrap_or_else(PoisonError::into_inner);
        let (open, closed): (Vec<Tracked>, Vec<Tracked>) = std::mem::take(&mut *files)
            .into_iter()
            .partition(Tracked::in_use);
        *files = open;
        let count = files.len();
        drop(files);
        if !closed.is_empty() {
            drop_off_thread(closed, !self.0.inline);
        }
        count
    }

    /// Whether files and connections together are at the limit.
    fn at_limit(&self) -> bool {
        self.files() + self.0.connections.load(Ordering::Relaxed) >= self.0.limit
    }

    fn track(&self, file: &Arc<std::fs::File>) {
        let tracked = if self.0.inline {
            Tracked::Followed(Arc::downgrade(file))
        } else {
            Tracked::Kept(Arc::clone(file))
        };
        self.0
            .files
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tracked);
    }

    /// A permit for one more connection, or `None` at the limit (or when
    /// its buffers do not fit the memory budget).
    pub(crate) fn connect(&self) -> Option<ConnectionPermit> {
        if self.at_limit() {
            return None;
        }
        let charge = self.0.memory.charge(CONNECTION_BYTES)?;
        self.0.connections.fetch_add(1, Ordering::Relaxed);
        Some(ConnectionPermit {
            files: self.clone(),
            _buffers: charge,
        })
    }

    /// Whether filesystem calls run on the calling thread (every grant is
    /// local) rather than on tokio's blocking pool.
    pub(crate) fn inline(&self) -> bool {
        self.0.inline
    }

    /// The instance's memory budget, for host memory held for the guest.
    pub(crate) fn memory(&self) -> &HostMemory {
        &self.0.memory
    }

    /// The directory listings the guest holds.
    pub(crate) fn listings(&self) -> &Listings {
        &self.0.listings
    }

    /// The HTTP objects the guest holds.
    pub(crate) fn http(&self) -> &HttpHoldings {
        &self.0.http
    }
}

/// A store's data that keeps an [`OpenFiles`].
pub(crate) trait GuestFiles: WasiView {
    /// The instance's open files.
    fn open_files(&self) -> &OpenFiles;
}

/// Replaces wasmtime's `open-at` in `linker` (which must already have
/// WASI) with [`open_at`].
pub(crate) fn replace_open_at<T: GuestFiles + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.instance(FILESYSTEM_TYPES)?.func_wrap_async(
        "[method]descriptor.open-at",
        |mut store,
         (dir, path_flags, path, open_flags, flags): (
            Resource<Descriptor>,
            PathFlags,
            String,
            OpenFlags,
            DescriptorFlags,
        )| {
            Box::new(async move {
                let opened =
                    open_at(store.data_mut(), &dir, path_flags, path, open_flags, flags).await?;
                Ok((opened,))
            })
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Opens `path` under the directory `dir` for reading, as described in the
/// module docs: on the calling thread, or on tokio's blocking pool when a
/// grant of the instance could stall. A table that is full is a trap (the
/// call fails).
async fn open_at<T: GuestFiles>(
    state: &mut T,
    dir: &Resource<Descriptor>,
    path_flags: PathFlags,
    path: String,
    open_flags: OpenFlags,
    flags: DescriptorFlags,
) -> wasmtime::Result<Result<Resource<Descriptor>, ErrorCode>> {
    let (base, perms) = match state.ctx().table.get(dir)? {
        Descriptor::Dir(dir) => (Arc::clone(&dir.dir), dir.perms),
        Descriptor::File(_) => return Ok(Err(ErrorCode::NotDirectory)),
    };
    // As wasmtime on a read-only grant: creating, truncating or writing is
    // refused; `mutate-directory` and a bare `exclusive` are ignored (the
    // read-only permissions refuse any change later).
    if open_flags.intersects(OpenFlags::CREATE | OpenFlags::TRUNCATE)
        || flags.contains(DescriptorFlags::WRITE)
    {
        return Ok(Err(ErrorCode::NotPermitted));
    }
    let syncs = DescriptorFlags::FILE_INTEGRITY_SYNC
        | DescriptorFlags::DATA_INTEGRITY_SYNC
        | DescriptorFlags::REQUESTED_WRITE_SYNC;
    if flags.intersects(syncs) {
        return Ok(Err(ErrorCode::Unsupported));
    }
    if state.open_files().at_limit() {
        tracing::debug!("open refused: limits.open_files reached");
        return Ok(Err(ErrorCode::InsufficientMemory));
    }
    let request = OpenRequest {
        follow: if path_flags.contains(PathFlags::SYMLINK_FOLLOW) {
            FollowSymlinks::Yes
        } else {
            FollowSymlinks::No
        },
        directory: open_flags.contains(OpenFlags::DIRECTORY),
    };
    let inline = state.open_files().inline();
    let opened = if inline {
        request.open(&base, &path)
    } else {
        // Dropped with the call when its time runs out; the pool's thread
        // then waits for the filesystem alone.
        let blocking = tokio::task::spawn_blocking(move || request.open(&base, &path));
        match blocking.await {
            Ok(opened) => opened,
            Err(e) => return Err(wasmtime::Error::msg(format!("open-at failed: {e}"))),
        }
    };
    let descriptor = match opened {
        Ok(Opened::Dir(opened)) => Descriptor::Dir(Dir::new(opened, perms, OpenMode::READ, inline)),
        Ok(Opened::File(opened)) => {
            Descriptor::File(File::new(opened, perms, OpenMode::READ, inline))
        }
        Err(code) => return Ok(Err(code)),
    };
    let handle = match &descriptor {
        Descriptor::Dir(dir) => Arc::clone(&dir.dir),
        Descriptor::File(file) => Arc::clone(&file.file),
    };
    let pushed = state.ctx().table.push(descriptor)?;
    state.open_files().track(&handle);
    Ok(Ok(pushed))
}

/// How a guest asked to open a path (after the checks of its flags).
#[derive(Clone, Copy)]
struct OpenRequest {
    follow: FollowSymlinks,
    directory: bool,
}

/// What an open gave: only these two kinds are served.
enum Opened {
    Dir(std::fs::File),
    File(std::fs::File),
}

impl OpenRequest {
    /// Opens `path` under `base` without blocking on the file itself: a
    /// regular file or a directory, never a FIFO, socket, device node or
    /// a file on a kernel filesystem.
    fn open(self, base: &std::fs::File, path: &str) -> Result<Opened, ErrorCode> {
        let path = Path::new(path);
        // What the path names now, so that a FIFO or device is not opened
        // at all (opening one has effects: a FIFO's writer is released, a
        // driver's open runs). What was opened is checked again below, for
        // a swap in between.
        let meta =
            cap_primitives::fs::stat(base, path, self.follow).map_err(|e| ErrorCode::from(&e))?;
        if !meta.is_file() && !meta.is_dir() {
            return Err(ErrorCode::Access);
        }
        let mut custom = rustix::fs::OFlags::NOCTTY;
        if self.directory {
            custom |= rustix::fs::OFlags::DIRECTORY;
        }
        let mut options = OpenOptions::new();
        options
            .read(true)
            ._cap_fs_ext_follow(self.follow)
            ._cap_fs_ext_nonblock(true)
            .custom_flags(custom.bits() as i32);
        let opened =
            cap_primitives::fs::open(base, path, &options).map_err(|e| ErrorCode::from(&e))?;
        if let Some(filesystem) = kernel_filesystem(&opened) {
            tracing::debug!(filesystem, "open refused: a kernel filesystem");
            return Err(ErrorCode::Access);
        }
        let kind = opened
            .metadata()
            .map_err(|e| ErrorCode::from(&e))?
            .file_type();
        if kind.is_dir() {
            Ok(Opened::Dir(opened))
        } else if self.directory {
            Err(ErrorCode::NotDirectory)
        } else if kind.is_file() {
            Ok(Opened::File(opened))
        } else {
            // A FIFO, socket or device node: never served.
            Err(ErrorCode::Access)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_connections_share_the_limit() {
        let budget = crate::wasm::limits::MemoryBudget::new(64);
        let files = OpenFiles::new(2, true, budget.host());
        let file = Arc::new(tempfile::tempfile().expect("file"));
        files.track(&file);
        let connection = files.connect().expect("one file, one connection");
        assert!(files.connect().is_none(), "at the limit");
        drop(file);
        assert_eq!(files.files(), 0, "a closed file leaves the count");
        let second = files.connect().expect("room again");
        drop((connection, second));
        assert!(!files.at_limit());
    }
}
