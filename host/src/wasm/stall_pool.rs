//! A thread pool of a backend's own, for a backend whose granted
//! directories could stall (`stalling_filesystems`).
//!
//! Each call that a stalled filesystem holds keeps one thread of tokio's
//! blocking pool until the filesystem answers. In the caller's runtime
//! those threads would come from the embedder's own pool (which also does
//! its other blocking work, and the name lookups of HTTP backends), and a
//! backend that kept timing out could use it up. So such a backend runs
//! its calls with a runtime of its own entered: its filesystem calls take
//! threads from that runtime's blocking pool, at most
//! [`MAX_WAITING_THREADS`]; past that its calls wait for a thread and end
//! at their timeout, and nothing outside the backend notices.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::future::Either;
use tokio::runtime::{Builder, Handle, Runtime};

/// Threads one backend's filesystem calls may hold at once.
pub(crate) const MAX_WAITING_THREADS: usize = 32;

/// A backend's own runtime, entered while its calls run.
pub(crate) struct StallPool {
    /// Taken only by `drop`, which shuts it down without waiting.
    runtime: Option<Runtime>,
    handle: Handle,
}

impl StallPool {
    /// A pool for the backend `backend`.
    pub(crate) fn new(backend: &str) -> std::io::Result<Self> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(MAX_WAITING_THREADS)
            .thread_name(format!("pp-secrets-fs-{}", backend.escape_debug()))
            .enable_all()
            .build()?;
        Ok(Self {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }

    /// This pool's runtime entered, until the guard is dropped.
    pub(crate) fn enter(&self) -> tokio::runtime::EnterGuard<'_> {
        self.handle.enter()
    }

    /// `future`, polled with this pool's runtime entered (so that what it
    /// hands to the blocking pool goes to this one).
    pub(crate) fn run<F: Future>(&self, future: F) -> Entered<F> {
        Entered {
            handle: self.handle.clone(),
            future: Box::pin(future),
        }
    }
}

/// `future`, run inside `pool` when there is one. A plain function, not
/// an `async` one: wrapping the call's future in one more state machine
/// cost a warm call about 200 ns (it is moved whole).
pub(crate) fn run_in<F: Future>(pool: Option<&StallPool>, future: F) -> Either<Entered<F>, F> {
    match pool {
        Some(pool) => Either::Left(pool.run(future)),
        None => Either::Right(future),
    }
}

impl Drop for StallPool {
    fn drop(&mut self) {
        // Threads a filesystem still holds are left to it.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A future polled inside a [`StallPool`]'s runtime.
pub(crate) struct Entered<F> {
    handle: Handle,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for Entered<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _entered = self.handle.enter();
        self.future.as_mut().poll(cx)
    }
}
