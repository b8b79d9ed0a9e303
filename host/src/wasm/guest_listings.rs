//! Listing a directory for a guest (`wasi:filesystem` `read-directory`),
//! in place of wasmtime's own: the same listing, charged to the instance's
//! memory budget (`limits.memory_mb`) for as long as the guest holds it.
//!
//! wasmtime reads a whole directory into host memory when a guest asks to
//! list it, and keeps it until the guest drops the stream. Uncounted, a
//! guest could hold one listing of a large granted directory per handle.
//! Here the directory is counted first (names only, no `stat`s); a listing
//! that does not fit the budget is refused with `insufficient-memory`,
//! which the guest can handle, and one that fits is charged until the
//! guest drops its stream (or the instance is dropped).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use wasmtime::component::{Linker, Resource, ResourceType};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
use wasmtime_wasi::p2::ReaddirIterator;
use wasmtime_wasi::p2::bindings::filesystem::types::{ErrorCode, Host, HostDescriptor};

use crate::wasm::guest_files::{FILESYSTEM_TYPES, GuestFiles};
use crate::wasm::limits::HostCharge;

/// What one entry of a listing costs the host beyond its name: wasmtime's
/// entry (a `result` of a name and a type, 32 bytes) in a vector that may
/// be twice as long as its entries, and the name's smallest allocation.
const ENTRY_BYTES: usize = 128;

/// The listings an instance holds, by stream handle, with their charges.
#[derive(Default)]
pub(crate) struct Listings(Mutex<HashMap<u32, HostCharge>>);

impl Listings {
    fn hold(&self, stream: u32, charge: HostCharge) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(stream, charge);
    }

    fn release(&self, stream: u32) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&stream);
    }
}

/// Replaces wasmtime's `read-directory` and the directory-entry stream's
/// destructor in `linker` (which must already have WASI).
pub(crate) fn replace_read_directory<T: GuestFiles + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut types = linker.instance(FILESYSTEM_TYPES)?;
    types.func_wrap_async(
        "[method]descriptor.read-directory",
        |mut store, (dir,): (Resource<Descriptor>,)| {
            Box::new(async move { Ok((read_directory(store.data_mut(), dir).await?,)) })
        },
    )?;
    types.resource(
        "directory-entry-stream",
        ResourceType::host::<ReaddirIterator>(),
        |mut store, stream| {
            let state = store.data_mut();
            state.open_files().listings().release(stream);
            state
                .ctx()
                .table
                .delete(Resource::<ReaddirIterator>::new_own(stream))?;
            Ok(())
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Lists `dir` as wasmtime does, once the listing's size is charged.
async fn read_directory<T: GuestFiles>(
    state: &mut T,
    dir: Resource<Descriptor>,
) -> wasmtime::Result<Result<Resource<ReaddirIterator>, ErrorCode>> {
    let handle = match state.ctx().table.get(&dir)? {
        Descriptor::Dir(opened) => Arc::clone(&opened.dir),
        Descriptor::File(_) => return Ok(Err(ErrorCode::NotDirectory)),
    };
    let counted = if state.open_files().inline() {
        listing_bytes(&handle)
    } else {
        match tokio::task::spawn_blocking(move || listing_bytes(&handle)).await {
            Ok(counted) => counted,
            Err(e) => return Err(wasmtime::Error::msg(format!("read-directory failed: {e}"))),
        }
    };
    let bytes = match counted {
        Ok(bytes) => bytes,
        Err(e) => return Ok(Err(ErrorCode::from(&e))),
    };
    let Some(charge) = state.open_files().memory().charge(bytes) else {
        tracing::debug!(bytes, "listing refused: limits.memory_mb reached");
        return Ok(Err(ErrorCode::InsufficientMemory));
    };
    let mut filesystem = state.filesystem();
    match HostDescriptor::read_directory(&mut filesystem, dir).await {
        Ok(stream) => {
            state.open_files().listings().hold(stream.rep(), charge);
            Ok(Ok(stream))
        }
        Err(e) => Ok(Err(filesystem.convert_error_code(e)?)),
    }
}

/// What listing `dir` will hold in host memory.
fn listing_bytes(dir: &std::fs::File) -> std::io::Result<usize> {
    let mut bytes = 0usize;
    for entry in cap_primitives::fs::read_base_dir(dir)? {
        let name_bytes = entry?.file_name().len();
        bytes = bytes.saturating_add(ENTRY_BYTES + name_bytes);
    }
    Ok(bytes)
}
