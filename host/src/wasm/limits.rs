//! The per-instance limits of a guest: memory (linear memories, tables,
//! and what the host holds for the guest, one budget), and the counts of
//! open files and host handles (enforced by `guest_files` and the resource
//! table).
//!
//! wasmtime asks the store's limiter before any memory or table grows
//! (including the initial allocation at instantiation). The budget counts
//! every memory of the instance together, so a component with several
//! memories cannot multiply its share, and remembers that a request was
//! refused so that the trap which usually follows can be reported as what
//! it is: out of memory. Host memory taken for the guest (a directory
//! listing, an HTTP connection's buffers) is charged to the same budget
//! through [`HostMemory`] while it is held, and given back when it is
//! freed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use wasmtime::ResourceLimiter;

use crate::config::Limits;

/// Table elements an instance may hold (a function table of a large Rust
/// program has a few thousand).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// What a table element costs the memory budget: a pointer in wasmtime's
/// tables.
const TABLE_ELEMENT_BYTES: usize = std::mem::size_of::<usize>();

/// What one instance may use, of the limits that apply per instance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InstanceLimits {
    /// Linear memories and tables together, in MiB.
    pub(crate) memory_mb: u64,
    /// Files and directories open at once.
    pub(crate) open_files: usize,
    /// Entries of the host's resource table.
    pub(crate) handles: usize,
}

impl From<&Limits> for InstanceLimits {
    fn from(limits: &Limits) -> Self {
        Self {
            memory_mb: limits.memory_mb,
            open_files: limits.open_files,
            handles: limits.handles,
        }
    }
}

/// Memory allowed to one instance, and what it has taken.
pub(crate) struct MemoryBudget {
    shared: Arc<Budget>,
    refused: bool,
}

/// The bytes one instance may use, and has in use (its memories and
/// tables, and host memory held for it).
struct Budget {
    limit: usize,
    used: AtomicUsize,
}

impl Budget {
    /// Takes `extra` bytes, if they fit.
    fn take(&self, extra: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(extra).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }
}

/// The host's side of an instance's memory budget.
#[derive(Clone)]
pub(crate) struct HostMemory(Arc<Budget>);

/// Host memory held for a guest, given back to its budget when dropped.
pub(crate) struct HostCharge {
    budget: Arc<Budget>,
    bytes: usize,
}

impl HostMemory {
    /// Charges `bytes` to the instance's budget, or `None` when they do
    /// not fit (the guest gets an error it can handle).
    pub(crate) fn charge(&self, bytes: usize) -> Option<HostCharge> {
        self.0.take(bytes).then(|| HostCharge {
            budget: Arc::clone(&self.0),
            bytes,
        })
    }
}

/// Host memory the guest asked for did not fit its budget, and the host
/// call cannot fail in a way the guest handles: the call ends as out of
/// memory.
#[derive(Debug, thiserror::Error)]
#[error("host memory held for the guest would exceed limits.memory_mb")]
pub(crate) struct HostMemoryRefused;

impl Drop for HostCharge {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

impl MemoryBudget {
    /// A budget of `memory_mb` MiB.
    pub(crate) fn new(memory_mb: u64) -> Self {
        Self {
            shared: Arc::new(Budget {
                limit: usize::try_from(memory_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX),
                used: AtomicUsize::new(0),
            }),
            refused: false,
        }
    }

    /// The handle through which host code charges memory it holds for the
    /// guest.
    pub(crate) fn host(&self) -> HostMemory {
        HostMemory(Arc::clone(&self.shared))
    }

    /// Whether a request was refused since the last [`forget_refusals`](Self::forget_refusals).
    pub(crate) fn refused(&self) -> bool {
        self.refused
    }

    /// Starts a call with a clean record (a guest may have handled an
    /// earlier refusal, as `try_reserve` does).
    pub(crate) fn forget_refusals(&mut self) {
        self.refused = false;
    }
}

impl ResourceLimiter for MemoryBudget {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.shared.take(desired.saturating_sub(current));
        self.refused |= !allowed;
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let extra = desired
            .saturating_sub(current)
            .saturating_mul(TABLE_ELEMENT_BYTES);
        let allowed = desired <= MAX_TABLE_ELEMENTS && self.shared.take(extra);
        self.refused |= !allowed;
        Ok(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn tables_count_in_the_memory_budget() {
        let mut budget = MemoryBudget::new(1);
        assert!(budget.memory_growing(0, MIB / 2, None).unwrap_or(false));
        let half_in_elements = MIB / 2 / TABLE_ELEMENT_BYTES;
        assert!(
            budget
                .table_growing(0, half_in_elements, None)
                .unwrap_or(false)
        );
        assert!(
            !budget
                .table_growing(half_in_elements, half_in_elements + 1, None)
                .unwrap_or(true)
        );
        assert!(budget.refused());
    }

    #[test]
    fn host_memory_counts_while_it_is_held() {
        let mut budget = MemoryBudget::new(1);
        let host = budget.host();
        let charge = host.charge(MIB / 2).expect("fits");
        assert!(host.charge(MIB).is_none(), "past the budget");
        assert!(!budget.memory_growing(0, MIB, None).unwrap_or(true));
        drop(charge);
        assert!(budget.memory_growing(0, MIB, None).unwrap_or(false));
    }

    #[test]
    fn memories_share_one_budget() {
        let mut budget = MemoryBudget::new(2);
        assert!(budget.memory_growing(0, MIB, None).unwrap_or(false));
        assert!(budget.memory_growing(0, MIB, None).unwrap_or(false));
        assert!(!budget.memory_growing(MIB, 2 * MIB, None).unwrap_or(true));
        assert!(budget.refused());
        budget.forget_refusals();
        assert!(!budget.refused());
    }
}
