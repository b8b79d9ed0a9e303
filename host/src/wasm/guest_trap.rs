//! What a trap means, in words an operator can act on.
//!
//! Providers and apps stop the same ways (time, memory, stack, panic);
//! each caller words the time and memory cases with its own limit's name.

use wasmtime::Trap;
use wasmtime::component::ResourceTableError;

use crate::wasm::guest_text::escaped;
use crate::wasm::limits::HostMemoryRefused;

/// Why a guest stopped.
pub(crate) enum Stop {
    /// Its epoch deadline passed: the time limit.
    TimedOut,
    /// A memory request was refused, and the guest trapped after it.
    OutOfMemory,
    /// The guest asked for one more host resource than its handle limit.
    TooManyHandles,
    /// wasmtime refused to copy more data out of the guest than the
    /// store's hostcall fuel allows (a reply, or a host call's arguments).
    TooMuchData,
    /// Anything else, described (`who` is "the provider" or "the app").
    Failed(String),
}

/// The cause of `error`, raised by a guest that `refused_memory` (or not).
pub(crate) fn stop_cause(error: &wasmtime::Error, refused_memory: bool, who: &str) -> Stop {
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Stop::TimedOut,
        None if is_fuel_exhausted(error) => Stop::TooMuchData,
        None if error.downcast_ref::<HostMemoryRefused>().is_some() => Stop::OutOfMemory,
        _ if refused_memory => Stop::OutOfMemory,
        Some(Trap::StackOverflow) => Stop::Failed(format!("{who} overflowed its stack")),
        // A Rust guest's stack lives in its linear memory: running off its
        // end is an out-of-bounds access, not a host stack overflow.
        Some(Trap::MemoryOutOfBounds) => Stop::Failed(format!(
            "{who} accessed memory out of bounds (a stack overflow or a bug in it)"
        )),
        Some(Trap::UnreachableCodeReached) => {
            Stop::Failed(format!("{who} panicked or aborted (its stderr says why)"))
        }
        Some(trap) => Stop::Failed(format!("{who} trapped: {trap}")),
        None if matches!(
            error.downcast_ref::<ResourceTableError>(),
            Some(ResourceTableError::Full)
        ) =>
        {
            Stop::TooManyHandles
        }
        // The root cause, without the guest's backtrace (its function
        // names are the guest's words; the debug log has them, escaped).
        None => Stop::Failed(format!(
            "{who} failed: {}",
            escaped(&error.root_cause().to_string())
        )),
    }
}

/// Whether wasmtime stopped `error`'s call for running out of hostcall
/// fuel. Its error type is private, so its message is matched (the
/// integration tests of a flooding provider and of a 3 MB value pin it to
/// the wasmtime in use).
fn is_fuel_exhausted(error: &wasmtime::Error) -> bool {
    error
        .chain()
        .any(|cause| cause.to_string().contains(FUEL_EXHAUSTED))
}

/// What wasmtime's hostcall-fuel error says.
const FUEL_EXHAUSTED: &str = "fuel allocated for hostcalls has been exhausted";
