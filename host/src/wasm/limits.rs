//! The memory limit of one guest instance.
//!
//! wasmtime asks the store's limiter before any memory or table grows
//! (including the initial allocation at instantiation). The budget counts
//! every memory of the instance together, so a component with several
//! memories cannot multiply its share, and remembers that a request was
//! refused so that the trap which usually follows can be reported as what
//! it is: out of memory.

use wasmtime::ResourceLimiter;

/// Table elements an instance may hold (a function table of a large Rust
/// program has a few thousand).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

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
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = desired <= MAX_TABLE_ELEMENTS;
        self.refused |= !allowed;
        Ok(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

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
