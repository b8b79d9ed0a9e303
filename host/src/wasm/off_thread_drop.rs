//! Closing files where a filesystem that stopped answering cannot hold the
//! caller.
//!
//! Closing a file can wait on its filesystem (FUSE sends a flush, 9p a
//! clunk, NFS writes back). For an instance whose grants could stall
//! (`stalling_filesystems`), the host closes the guest's files, and drops
//! the whole instance, on tokio's blocking pool.

use std::ops::{Deref, DerefMut};

use tokio::runtime::Handle;

/// Drops `value` on tokio's blocking pool when `off_thread` and a runtime
/// is at hand; otherwise here.
pub(crate) fn drop_off_thread<T: Send + 'static>(value: T, off_thread: bool) {
    drop_on(value, current_runtime_if(off_thread).as_ref());
}

/// The current runtime, when `wanted` and there is one.
fn current_runtime_if(wanted: bool) -> Option<Handle> {
    wanted.then(Handle::try_current).and_then(Result::ok)
}

/// Drops `value` on the blocking pool of `runtime`, or here without one.
fn drop_on<T: Send + 'static>(value: T, runtime: Option<&Handle>) {
    match runtime {
        Some(runtime) => drop(runtime.spawn_blocking(move || drop(value))),
        None => drop(value),
    }
}

/// A value dropped on the blocking pool of the runtime that was current
/// when it was made (a backend's own, `stall_pool`, when its calls run in
/// one).
pub(crate) struct DropOffThread<T: Send + 'static> {
    value: Option<T>,
    runtime: Option<Handle>,
}

impl<T: Send + 'static> DropOffThread<T> {
    /// `value`, to be dropped on the current runtime's blocking pool when
    /// `off_thread` (and here otherwise).
    pub(crate) fn new(value: T, off_thread: bool) -> Self {
        Self {
            value: Some(value),
            runtime: current_runtime_if(off_thread),
        }
    }
}

impl<T: Send + 'static> Deref for DropOffThread<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.value {
            Some(value) => value,
            // Only `drop` takes the value.
            None => unreachable!("a DropOffThread is used after its drop"),
        }
    }
}

impl<T: Send + 'static> DerefMut for DropOffThread<T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.value {
            Some(value) => value,
            None => unreachable!("a DropOffThread is used after its drop"),
        }
    }
}

impl<T: Send + 'static> Drop for DropOffThread<T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            drop_on(value, self.runtime.as_ref());
        }
    }
}
