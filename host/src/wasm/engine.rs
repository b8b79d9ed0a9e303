//! The process's one wasmtime engine, and the epoch clock that bounds the
//! time of every guest call.
//!
//! Every Wasm backend shares the engine (compiled code, settings). A
//! background thread advances the engine's epoch every [`EPOCH_TICK`]; a
//! store traps once its deadline (a number of ticks from the start of a
//! call) has passed, so a guest spinning in a loop stops within one tick of
//! its time limit.

use std::sync::Arc;
use std::sync::OnceLock;
use std::time::Duration;

use crate::wasm::host_error::HostError;
use wasmtime::{Config, Engine};

/// How often the epoch advances: the granularity of call time limits.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The shared engine, created (with its epoch thread) on first use.
pub(crate) fn shared_engine() -> Result<&'static Engine, HostError> {
    static ENGINE: OnceLock<Result<Engine, Arc<HostError>>> = OnceLock::new();
    ENGINE
        .get_or_init(|| new_engine().map_err(Arc::new))
        .as_ref()
        .map_err(|e| HostError::Shared(Arc::clone(e)))
}

fn new_engine() -> Result<Engine, HostError> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    let engine = Engine::new(&config).map_err(HostError::Engine)?;
    let ticking = engine.clone();
    std::thread::Builder::new()
        .name("pp-secrets-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                ticking.increment_epoch();
            }
        })
        .map_err(HostError::EpochThread)?;
    Ok(engine)
}

/// The epoch deadline, in ticks from now, for a call limited to `limit`.
/// One tick more than the limit, so that a call is never cut short: the
/// first tick may come at any moment after the call starts.
pub(crate) fn deadline_ticks(limit: Duration) -> u64 {
    let tick = EPOCH_TICK.as_millis();
    u64::try_from(limit.as_millis().div_ceil(tick)).unwrap_or(u64::MAX / 2) + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_covers_the_whole_limit_plus_one_tick() {
        assert_eq!(deadline_ticks(Duration::from_millis(1_000)), 101);
        assert_eq!(deadline_ticks(Duration::from_millis(5)), 2);
        assert_eq!(deadline_ticks(Duration::from_millis(15)), 3);
    }
}
