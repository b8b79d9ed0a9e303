//! The per-instance limits of a guest: memory (linear memories and
//! tables, one budget), and the counts of open files and host handles
//! (enforced by `guest_files` and the resource table).
//!
//! wasmtime asks the store's limiter before any memory or table grows
//! (including the initial allocation at instantiation). The budget counts
//! every memory of the instance together, so a component with several
//! memories cannot multiply its share, and remembers that a request was
//! refused so that the trap which usually follows can be reported as what
//! it is: out of memory.

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
    limit: usize,
    used: usize,
    refused: bool,
}

impl MemoryBudget {
    /// A budget of `memory_mb` MiB.
    pub(crate) fn new(memory_mb: u64) -> Self {
        Self {
            limit: usize::try_from(memory_mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX),
            used: 0,
            refused: false,
        }
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
        let extra = desired.saturating_sub(current);
        match self.used.checked_add(extra) {
            Some(total) if total <= self.limit => {
                self.used = total;
                Ok(true)
            }
            _ => {
                self.refused = true;
                Ok(false)
            }
        }
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
        let allowed = desired <= MAX_TABLE_ELEMENTS
            && self
                .used
                .checked_add(extra)
                .is_some_and(|total| total <= self.limit);
        if allowed {
            self.used += extra;
        }
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
