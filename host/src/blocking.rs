//! The blocking API: the secrets manager for synchronous code.
//!
//! The async [`SecretsManager`](crate::SecretsManager) needs a Tokio
//! runtime (see the README's "Embedding in a Rust service"). A program
//! without one, such as a command-line tool, a build script or a
//! synchronous test, uses [`SecretsManager`] from this module instead: every
//! operation is a plain function call that returns when it is done.
//!
//! Each manager owns a worker thread running a small Tokio runtime of its
//! own; calls are handed to it and their results handed back, as
//! `reqwest::blocking` does. Nothing here starts, enters or drops a runtime
//! on the caller's thread, so the blocking manager works outside a runtime
//! and inside one alike (called from async code it blocks that task's
//! thread while it waits, as any blocking call does: async code should use
//! the async manager). Cache hits are served on the caller's thread without
//! a round trip. Dropping the last clone stops the worker and waits for the
//! calls it is running. Background refresh (the README's "Rotation") runs
//! on the worker's runtime.
//!
//! Two ways to wait for ever, both refused or documented:
//!
//! - A backend that calls the blocking manager it serves would wait for its
//!   own worker: such a call is an error instead.
//! - A blocking call made on a runtime thread, while async code on that
//!   same runtime uses the same backends (through
//!   [`SecretsManager::as_async`], or a manager passed to
//!   [`SecretsManager::new`] and used there too), can wait for a first read
//!   that a task of the blocked runtime holds. Give async code and blocking
//!   code their own managers, or keep blocking calls off runtime threads.
//!
//! ```no_run
//! use pp_secrets::blocking::SecretsManager;
//!
//! fn main() -> pp_secrets::Result<()> {
//!     let secrets = SecretsManager::from_file("config.yaml")?.expect("secrets.enabled");
//!     secrets.load()?;
//!     let password = secrets.get("local:db_password")?;
//!     println!("{}", password.describe());
//!     Ok(())
//! }
//! ```

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::thread::{JoinHandle, ThreadId};

use tokio::sync::mpsc;

use crate::config::{ConfigDocument, SecretsConfig};
use crate::error::{Error, Result};
use crate::manager::{self, DeclarationReport, LoadReport};
use crate::value::{SecretValue, StoredValue};

/// A call for the worker: a future that sends its own result back.
type Job = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The secrets manager for synchronous code: the same operations as the
/// async [`SecretsManager`](crate::SecretsManager), each a blocking call.
/// Cheap to clone: clones share the manager and its worker thread, and
/// every method may be called from many threads at once.
#[derive(Clone)]
pub struct SecretsManager {
    manager: manager::SecretsManager,
    worker: Arc<Worker>,
}

impl std::fmt::Debug for SecretsManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("blocking::SecretsManager")
            .field(&self.manager)
            .finish()
    }
}

impl SecretsManager {
    /// The blocking face of `manager` (built in code with
    /// [`SecretsManager::builder`](crate::SecretsManager::builder), or from
    /// a config). Starts the worker thread; fails only when the operating
    /// system cannot start a thread or a runtime.
    pub fn new(manager: manager::SecretsManager) -> Result<Self> {
        let blocking = Self {
            manager,
            worker: Arc::new(Worker::start()?),
        };
        // Background refresh runs on the worker's runtime.
        blocking.call("", |m, _| async move {
            m.start_refresh();
            Ok(())
        })?;
        Ok(blocking)
    }

    /// The manager of the config file at `path`, or `None` when its
    /// `secrets.enabled` is false. Does not run the `load` declarations:
    /// call [`load`](Self::load).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Option<Self>> {
        Self::from_document(&ConfigDocument::from_file(path)?)
    }

    /// As [`from_file`](Self::from_file), from YAML text; relative paths are
    /// resolved against `base_dir`.
    pub fn from_yaml_str(yaml: &str, base_dir: impl AsRef<Path>) -> Result<Option<Self>> {
        Self::from_document(&ConfigDocument::from_yaml_str(yaml, base_dir)?)
    }

    /// The manager of a parsed config, or `None` when it is disabled.
    pub fn from_document(document: &ConfigDocument) -> Result<Option<Self>> {
        manager::SecretsManager::from_document(document)?
            .map(Self::new)
            .transpose()
    }

    /// The manager a `secrets:` section describes (whether or not it is
    /// `enabled`).
    pub fn from_config(config: &SecretsConfig) -> Result<Self> {
        Self::new(manager::SecretsManager::from_config(config)?)
    }

    /// The async manager behind this one (they share backends and cache).
    pub fn as_async(&self) -> &manager::SecretsManager {
        &self.manager
    }

    /// The secret for `key` (`backend:name`), from the cache when cached.
    pub fn get(&self, key: &str) -> Result<SecretValue> {
        match self.manager.cached(key) {
            Some(value) => Ok(value),
            None => self.call(key, |m, key| async move { m.get(&key).await }),
        }
    }

    /// As [`get`](Self::get), but a missing secret (or backend) is `None`.
    /// Backend failures are still errors.
    pub fn get_or_none(&self, key: &str) -> Result<Option<SecretValue>> {
        match self.manager.cached(key) {
            Some(value) => Ok(Some(value)),
            None => self.call(key, |m, key| async move { m.get_or_none(&key).await }),
        }
    }

    /// The backend's string exactly as stored: never JSON-parsed, never read
    /// from or written to the cache.
    pub fn get_raw(&self, key: &str) -> Result<StoredValue> {
        self.call(key, |m, key| async move { m.get_raw(&key).await })
    }

    /// As [`get_raw`](Self::get_raw), but a missing secret (or backend) is
    /// `None`.
    pub fn get_raw_or_none(&self, key: &str) -> Result<Option<StoredValue>> {
        self.call(key, |m, key| async move { m.get_raw_or_none(&key).await })
    }

    /// The cached value for `key`, without asking any backend.
    pub fn cached(&self, key: &str) -> Option<SecretValue> {
        self.manager.cached(key)
    }

    /// Logical names matching `backend:glob`, sorted.
    pub fn list(&self, pattern: &str) -> Result<Vec<String>> {
        self.call(pattern, |m, pattern| async move { m.list(&pattern).await })
    }

    /// Runs the configured `load` declarations (see
    /// [`SecretsManager::load`](crate::SecretsManager::load)).
    pub fn load(&self) -> Result<LoadReport> {
        self.call("", |m, _| async move { m.load().await })
    }

    /// Runs the given `backend:pattern` declarations, in order, stopping at
    /// the first one that fails.
    pub fn load_declarations(&self, declarations: &[&str]) -> Result<LoadReport> {
        let declarations: Vec<String> = declarations.iter().map(|d| (*d).to_owned()).collect();
        self.call("", |m, _| async move {
            m.load_declarations(&declarations).await
        })
    }

    /// Runs one `backend:pattern` declaration.
    pub fn load_declaration(&self, declaration: &str) -> Result<DeclarationReport> {
        self.call(declaration, |m, declaration| async move {
            m.load_declaration(&declaration).await
        })
    }

    /// Drops `key` from the cache; the next `get` asks the backend again.
    pub fn invalidate(&self, key: &str) {
        self.manager.invalidate(key);
    }

    /// Drops every cached secret.
    pub fn clear_cache(&self) {
        self.manager.clear_cache();
    }

    /// Whether fetched secrets are cached.
    pub fn cache_enabled(&self) -> bool {
        self.manager.cache_enabled()
    }

    /// The configured backend names, sorted.
    pub fn backend_names(&self) -> Vec<&str> {
        self.manager.backend_names()
    }

    /// The configured `load` declarations.
    pub fn declarations(&self) -> &[String] {
        self.manager.declarations()
    }

    /// Whether backend `name` is reachable and its source readable.
    pub fn check_backend(&self, name: &str) -> Result<()> {
        self.call(name, |m, name| async move { m.check_backend(&name).await })
    }

    /// Runs `operation` on the worker with a clone of the manager and an
    /// owned copy of `argument`, and waits for its result.
    fn call<T, F, Fut>(&self, argument: &str, operation: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(manager::SecretsManager, String) -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        if std::thread::current().id() == self.worker.thread_id {
            return Err(Error::Blocking {
                problem: "called from its own worker thread (a backend that uses the blocking \
                          manager it serves): it would wait for itself",
            });
        }
        let (reply, answer) = std_mpsc::sync_channel(1);
        let work = operation(self.manager.clone(), argument.to_owned());
        self.worker.submit(Box::pin(async move {
            // The caller may have gone (it cannot, while it waits below,
            // but a send to nobody is not an error worth a panic).
            let _ = reply.send(work.await);
        }))?;
        match answer.recv() {
            Ok(result) => result,
            // The job was dropped without answering: the provider panicked
            // (the worker's runtime caught it) or the worker is gone.
            Err(_) => Err(Error::Blocking {
                problem: "the call ended without an answer (a backend panicked)",
            }),
        }
    }
}

/// The worker thread and the queue into its runtime.
struct Worker {
    jobs: Option<mpsc::UnboundedSender<Job>>,
    thread: Option<JoinHandle<()>>,
    thread_id: ThreadId,
}

impl Worker {
    fn start() -> Result<Self> {
        let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
        let (started, outcome) = std_mpsc::sync_channel::<std::io::Result<()>>(1);
        let thread = std::thread::Builder::new()
            .name("pp-secrets-blocking".into())
            .spawn(move || {
                // Built, run and dropped on this thread, never the caller's.
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = started.send(Err(e));
                        return;
                    }
                };
                let _ = started.send(Ok(()));
                runtime.block_on(async move {
                    let mut running = tokio::task::JoinSet::new();
                    loop {
                        tokio::select! {
                            job = queue.recv() => match job {
                                Some(job) => {
                                    running.spawn(job);
                                }
                                None => break,
                            },
                            // Reap finished calls so the set stays small.
                            Some(_) = running.join_next(), if !running.is_empty() => {}
                        }
                    }
                    // The last handle is gone: let the calls still running
                    // finish (none are, unless a clone was dropped while
                    // another thread waited on it).
                    while running.join_next().await.is_some() {}
                });
            })
            .map_err(|source| Error::BlockingWorker { source })?;
        let thread_id = thread.thread().id();
        match outcome.recv() {
            Ok(Ok(())) => Ok(Self {
                jobs: Some(jobs),
                thread: Some(thread),
                thread_id,
            }),
            Ok(Err(source)) => Err(Error::BlockingWorker { source }),
            Err(_) => Err(Error::Blocking {
                problem: "the worker thread ended while starting",
            }),
        }
    }

    fn submit(&self, job: Job) -> Result<()> {
        self.jobs
            .as_ref()
            .and_then(|jobs| jobs.send(job).ok())
            .ok_or(Error::Blocking {
                problem: "the worker thread has stopped",
            })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing the queue ends the worker's loop.
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            // Never wait for ourselves (a provider that dropped the last
            // clone of a blocking manager on the worker thread).
            if std::thread::current().id() != self.thread_id {
                let _ = thread.join();
            }
        }
    }
}
