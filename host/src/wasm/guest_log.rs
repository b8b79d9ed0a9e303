//! Where a guest's stdout and stderr go: the host log, tagged with the
//! backend, one event per line.
//!
//! A guest cannot flood the log: a line is cut at [`MAX_LINE_BYTES`], and
//! each call may write at most [`CALL_BUDGET_BYTES`]; the rest is dropped
//! with one warning. Lines are escaped like every other guest text.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

use crate::wasm::guest_text::escaped;

/// The longest line logged; the rest of the line is dropped.
pub(crate) const MAX_LINE_BYTES: usize = 1_024;
/// How much the guest may write at once (every write is accepted).
const WRITE_CHUNK: usize = 64 * 1_024;
/// What one call may write to stdout and stderr together.
pub(crate) const CALL_BUDGET_BYTES: usize = 16 * 1_024;

/// The stdout and stderr of one guest instance.
pub(crate) struct GuestLog {
    state: Arc<Mutex<LogState>>,
    /// Whether anything was written since the last `end_call`, so a quiet
    /// call (the usual case) does not take the lock.
    written: Arc<AtomicBool>,
}

struct LogState {
    backend: Arc<str>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    budget: usize,
    dropped: usize,
}

/// One of the two streams, as WASI sees it.
#[derive(Clone)]
pub(crate) struct GuestStream {
    state: Arc<Mutex<LogState>>,
    written: Arc<AtomicBool>,
    stderr: bool,
}

impl GuestLog {
    /// A log for an instance of `backend`.
    pub(crate) fn new(backend: Arc<str>) -> Self {
        Self {
            state: Arc::new(Mutex::new(LogState {
                backend,
                stdout: Vec::new(),
                stderr: Vec::new(),
                budget: CALL_BUDGET_BYTES,
                dropped: 0,
            })),
            written: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The guest's stdout.
    pub(crate) fn stdout(&self) -> GuestStream {
        self.stream(false)
    }

    /// The guest's stderr.
    pub(crate) fn stderr(&self) -> GuestStream {
        self.stream(true)
    }

    fn stream(&self, stderr: bool) -> GuestStream {
        GuestStream {
            state: Arc::clone(&self.state),
            written: Arc::clone(&self.written),
            stderr,
        }
    }

    /// Ends a call: logs unfinished lines, reports dropped output, and
    /// gives the next call a fresh budget.
    pub(crate) fn end_call(&self) {
        if !self.written.swap(false, Ordering::Relaxed) {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        for stderr in [false, true] {
            let line = std::mem::take(state.line(stderr));
            if !line.is_empty() {
                state.emit(stderr, &line);
            }
        }
        if state.dropped > 0 {
            tracing::warn!(
                backend = %state.backend,
                "guest output over {CALL_BUDGET_BYTES} bytes in one call: {} bytes dropped",
                state.dropped
            );
        }
        state.budget = CALL_BUDGET_BYTES;
        state.dropped = 0;
    }
}

impl LogState {
    fn line(&mut self, stderr: bool) -> &mut Vec<u8> {
        if stderr {
            &mut self.stderr
        } else {
            &mut self.stdout
        }
    }

    fn accept(&mut self, stderr: bool, bytes: &[u8]) {
        let taken = bytes.len().min(self.budget);
        self.budget -= taken;
        self.dropped += bytes.len() - taken;
        for &byte in &bytes[..taken] {
            if byte == b'\n' {
                let line = std::mem::take(self.line(stderr));
                self.emit(stderr, &line);
            } else {
                let line = self.line(stderr);
                if line.len() < MAX_LINE_BYTES {
                    line.push(byte);
                }
            }
        }
    }

    fn emit(&self, stderr: bool, line: &[u8]) {
        let text = escaped(&String::from_utf8_lossy(line));
        if stderr {
            tracing::warn!(backend = %self.backend, stream = "stderr", "guest: {text}");
        } else {
            tracing::info!(backend = %self.backend, stream = "stdout", "guest: {text}");
        }
    }
}

impl IsTerminal for GuestStream {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestStream {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    // Served directly rather than through wasmtime's adapter over
    // `AsyncWrite`, which hands every write to a background task.
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

impl OutputStream for GuestStream {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.accept(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_CHUNK)
    }
}

#[async_trait::async_trait]
impl Pollable for GuestStream {
    async fn ready(&mut self) {}
}

impl GuestStream {
    fn accept(&self, bytes: &[u8]) {
        self.written.store(true, Ordering::Relaxed);
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .accept(self.stderr, bytes);
    }
}

impl AsyncWrite for GuestStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.accept(buf);
        // Everything is accepted, even what is dropped: a guest whose
        // output is over budget keeps running rather than failing on a
        // write error.
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(log: &GuestLog) -> std::sync::MutexGuard<'_, LogState> {
        log.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[test]
    fn output_past_the_call_budget_is_dropped_and_counted() {
        let log = GuestLog::new("b".into());
        log.stdout().accept(&vec![b'x'; CALL_BUDGET_BYTES + 10]);
        assert_eq!(state(&log).dropped, 10);
        assert!(state(&log).stdout.len() <= MAX_LINE_BYTES);
        log.end_call();
        assert_eq!(state(&log).budget, CALL_BUDGET_BYTES);
        assert_eq!(state(&log).dropped, 0);
        assert!(state(&log).stdout.is_empty());
    }

    #[test]
    fn a_line_is_cut_at_the_line_limit() {
        let log = GuestLog::new("b".into());
        state(&log).accept(true, &vec![b'y'; MAX_LINE_BYTES * 2]);
        assert_eq!(state(&log).stderr.len(), MAX_LINE_BYTES);
        state(&log).accept(true, b"\n");
        assert!(state(&log).stderr.is_empty());
    }
}
