//! Rotation: each backend with a `refresh` setting has its cached values
//! checked against the backend every `every`, off the read path (the
//! README's "Rotation").
//!
//! One pass over a backend:
//!
//! 1. asks the provider what changed among the keys the cache holds (with
//!    the versions they were served with) and the names matching the
//!    backend's `load` declarations ([`SecretsProvider::refresh`]);
//! 2. compares what came back with what is cached: a different value is a
//!    change, a new name matching a declaration is an addition, a name that
//!    is gone is a removal;
//! 3. applies all of it to the cache as one new generation, so a reader
//!    sees the whole refresh or none of it, and sends one event per key.
//!
//! A pass that fails leaves the cache as it is: values are served stale,
//! with one warning per failure streak and a message when a pass succeeds
//! again. Once the last good pass is older than `max_stale`, the backend's
//! values are dropped and reads go to the backend.
//!
//! The tasks run on the Tokio runtime of the first async call that starts
//! them ([`SecretsManager::start_refresh`]) and hold only a weak reference
//! to the manager: dropping its last clone stops them.
//!
//! [`SecretsProvider::refresh`]: crate::SecretsProvider::refresh

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use crate::config::RefreshSettings;
use crate::error::{Error, Result};
use crate::manager::backend::Backend;
use crate::manager::cache::CacheChange;
use crate::manager::events::SecretEvent;
use crate::manager::{Inner, SecretsManager};
use crate::secrets_provider::{HeldSecret, ProviderError};
use crate::value::SecretValue;

/// A backend's refresh: its settings and what the passes have seen.
pub(crate) struct BackendRefresh {
    pub(crate) settings: RefreshSettings,
    state: Mutex<RefreshState>,
    /// Held by a pass and by a `load` of this backend: each compares with
    /// the cache and writes to it, and two at once could write back an
    /// older value over a newer one.
    pub(crate) exclusive: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct RefreshState {
    /// The version each cached logical name was served with.
    versions: HashMap<String, String>,
    /// Every logical name handed out (read, loaded or watched): checked by
    /// every pass whether or not the cache still holds it, so a secret
    /// that went away (removed, or dropped past `max_stale`) and comes back
    /// is seen again.
    tracked: std::collections::HashSet<String>,
    /// Names whose own read has failed since the time given (the pass as a
    /// whole succeeding): past `max_stale` such a value is dropped too, and
    /// its warning is given once a streak.
    failing_names: HashMap<String, Instant>,
    /// When the last pass succeeded (or the refresh started).
    last_good: Option<(Instant, SystemTime)>,
    /// When the current failure streak began, and its last reason.
    failing: Option<(SystemTime, String)>,
    /// Whether the values were dropped for being older than `max_stale`.
    expired: bool,
}

/// What embedders can see of a backend's refresh
/// ([`SecretsManager::refresh_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshStatus {
    /// The backend's settings.
    pub settings: RefreshSettings,
    /// When a pass last succeeded (`None` before the first one).
    pub last_good: Option<SystemTime>,
    /// When the current failure streak began (`None` while passes
    /// succeed).
    pub failing_since: Option<SystemTime>,
    /// Why the last pass failed, while failing (never a value).
    pub last_error: Option<String>,
    /// Whether the backend's values were dropped for being older than
    /// `max_stale` (reads go to the backend until a pass succeeds).
    pub expired: bool,
}

impl RefreshStatus {
    /// Whether cached values are being served although the last pass
    /// failed.
    pub fn serving_stale(&self) -> bool {
        self.failing_since.is_some() && !self.expired
    }
}

/// What one pass changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefreshReport {
    /// Logical names with a new value.
    pub changed: Vec<String>,
    /// New logical names matching a declaration.
    pub added: Vec<String>,
    /// Logical names no longer in the backend.
    pub removed: Vec<String>,
    /// Logical names that could not be read this time (their cached values
    /// are kept).
    pub failed: Vec<String>,
}

impl BackendRefresh {
    pub(crate) fn new(settings: RefreshSettings) -> Self {
        Self {
            settings,
            state: Mutex::new(RefreshState::default()),
            exclusive: tokio::sync::Mutex::new(()),
        }
    }

    /// Notes that logical `name` was handed out, so passes keep checking
    /// it.
    pub(crate) fn track(&self, name: &str) {
        let mut state = self.state();
        if !state.tracked.contains(name) {
            state.tracked.insert(name.to_owned());
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, RefreshState> {
        // A pass that panicked mid-update leaves nothing inconsistent
        // enough to be worth a second panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the version a logical name was served with (and tracks it).
    pub(crate) fn served(&self, name: &str, version: Option<String>) {
        let mut state = self.state();
        if !state.tracked.contains(name) {
            state.tracked.insert(name.to_owned());
        }
        match version {
            Some(version) => {
                state.versions.insert(name.to_owned(), version);
            }
            None => {
                state.versions.remove(name);
            }
        }
    }

    fn status(&self) -> RefreshStatus {
        let state = self.state();
        RefreshStatus {
            settings: self.settings,
            last_good: state.last_good.map(|(_, at)| at),
            failing_since: state.failing.as_ref().map(|(at, _)| *at),
            last_error: state.failing.as_ref().map(|(_, why)| why.clone()),
            expired: state.expired,
        }
    }
}

impl SecretsManager {
    /// Starts the background refresh of every backend with a `refresh`
    /// setting, on the current Tokio runtime. Every async operation of the
    /// manager calls it, so it rarely needs calling; it does nothing outside
    /// a runtime, with caching off, or when already started.
    pub fn start_refresh(&self) {
        use std::sync::atomic::Ordering;
        // A read first: this runs on every cache miss, and once started a
        // plain load keeps the flag's cache line shared between threads.
        if self.inner.cache.is_none()
            || self.inner.refresh_started.load(Ordering::Acquire)
            || self.inner.refresh_started.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.inner.refresh_started.store(false, Ordering::Release);
            return;
        };
        for backend in self.inner.backends.values() {
            let Some(refresh) = &backend.refresh else {
                continue;
            };
            refresh.state().last_good = Some((Instant::now(), SystemTime::now()));
            runtime.spawn(refresh_loop(
                Arc::downgrade(&self.inner),
                backend.name.clone(),
                refresh.settings.every,
                self.inner.shutdown.subscribe(),
            ));
        }
    }

    /// The refresh status of backend `name`; `None` when it has no
    /// `refresh` setting (or no such backend).
    pub fn refresh_status(&self, name: &str) -> Option<RefreshStatus> {
        Some(self.inner.backends.get(name)?.refresh.as_ref()?.status())
    }

    /// Runs one refresh pass of backend `name` now (the background tasks
    /// run the same pass every `every`). Works on any backend, with or
    /// without a `refresh` setting; an error is the pass's failure, and the
    /// cached values are kept.
    pub async fn refresh_now(&self, name: &str) -> Result<RefreshReport> {
        let backend = self.backend_named(name)?;
        match &backend.refresh {
            Some(refresh) => {
                let _one_at_a_time = refresh.exclusive.lock().await;
                // Bounded: a pass that hangs (a file system that stopped
                // answering) must still count as failed, so that the values
                // expire after `max_stale`.
                let bound = refresh.settings.max_stale.max(refresh.settings.every);
                let outcome = tokio::time::timeout(bound, self.pass(backend))
                    .await
                    .unwrap_or_else(|_| {
                        Err(Error::Backend {
                            backend: backend.name.clone(),
                            key: None,
                            problem: crate::secrets_provider::BackendProblem::Failed,
                            reason: format!("the refresh did not finish within {bound:?}"),
                        })
                    });
                self.note_outcome(backend, refresh, &outcome);
                outcome
            }
            None => self.pass(backend).await,
        }
    }

    /// One pass: ask, compare, apply.
    async fn pass(&self, backend: &Backend) -> Result<RefreshReport> {
        let Some(cache) = &self.inner.cache else {
            return Ok(RefreshReport::default());
        };
        let key_prefix = format!("{}:", backend.name);
        let cached: HashMap<String, SecretValue> = cache
            .entries_with_prefix(&key_prefix)
            .into_iter()
            .map(|(key, value)| (key[key_prefix.len()..].to_owned(), value))
            .collect();
        let (versions, tracked) = backend
            .refresh
            .as_ref()
            .map(|r| {
                let state = r.state();
                (state.versions.clone(), state.tracked.clone())
            })
            .unwrap_or_default();
        let full_names: Vec<(String, &str)> = cached
            .keys()
            .chain(tracked.iter().filter(|name| !cached.contains_key(*name)))
            .map(|logical| (backend.prefix.apply(logical), logical.as_str()))
            .collect();
        let held: Vec<HeldSecret<'_>> = full_names
            .iter()
            .map(|(full, logical)| HeldSecret {
                name: full,
                version: versions.get(*logical).map(String::as_str),
            })
            .collect();
        let mut patterns = Vec::new();
        for declaration in &self.inner.load {
            if let Some(logical) = declaration
                .strip_prefix(backend.name.as_str())
                .and_then(|rest| rest.strip_prefix(':'))
            {
                patterns.push(backend.full_pattern(logical)?);
            }
        }

        let found = backend
            .provider
            .refresh(&held, &patterns)
            .await
            .map_err(|e| backend.failure(e))?;

        let mut report = RefreshReport::default();
        let mut change = CacheChange::default();
        let mut events = Vec::new();
        let mut served = Vec::new();
        for matched in found.current {
            let Some(logical) = backend.prefix.strip(&matched.name).map(str::to_owned) else {
                continue;
            };
            let key = format!("{key_prefix}{logical}");
            match matched.value {
                Ok(stored) => {
                    let value = SecretValue::from_stored(stored);
                    served.push((logical.clone(), matched.version));
                    match cached.get(&logical) {
                        Some(old) if *old == value => {}
                        Some(_) => {
                            change.store.push((key.clone(), value));
                            events.push(SecretEvent::Changed { key });
                            report.changed.push(logical);
                        }
                        None if tracked.contains(&logical)
                            || patterns.iter().any(|p| p.matches(&matched.name)) =>
                        {
                            change.store.push((key.clone(), value));
                            events.push(SecretEvent::Added { key });
                            report.added.push(logical);
                        }
                        None => {}
                    }
                }
                Err(ProviderError::NotFound) if cached.contains_key(&logical) => {
                    change.drop.push(key.clone());
                    events.push(SecretEvent::Removed { key });
                    report.removed.push(logical);
                }
                Err(ProviderError::NotFound) => {}
                Err(e) => {
                    let error = backend.error(&logical, e);
                    let since = backend.refresh.as_ref().map(|refresh| {
                        let mut state = refresh.state();
                        let first = !state.failing_names.contains_key(&logical);
                        let since = *state
                            .failing_names
                            .entry(logical.clone())
                            .or_insert_with(Instant::now);
                        (first, since, refresh.settings.max_stale)
                    });
                    match since {
                        Some((true, _, _)) | None => tracing::warn!(
                            backend = %backend.name,
                            "refresh could not read {key}; its cached value is kept: {error}"
                        ),
                        Some((false, since, max_stale))
                            if since.elapsed() > max_stale && cached.contains_key(&logical) =>
                        {
                            tracing::warn!(
                                backend = %backend.name,
                                "{key} could not be read for longer than max_stale: its cached value was dropped"
                            );
                            change.drop.push(key);
                        }
                        Some(_) => {}
                    }
                    report.failed.push(logical);
                }
            }
        }
        for full in found.gone {
            let Some(logical) = backend.prefix.strip(&full) else {
                continue;
            };
            if cached.contains_key(logical) && !report.removed.iter().any(|r| r == logical) {
                let key = format!("{key_prefix}{logical}");
                change.drop.push(key.clone());
                events.push(SecretEvent::Removed { key });
                report.removed.push(logical.to_owned());
            }
        }
        // Versions and values change together (the pass holds `exclusive`).
        if let Some(refresh) = &backend.refresh {
            for (name, version) in served {
                refresh.served(&name, version);
            }
            let mut state = refresh.state();
            let failed = &report.failed;
            state.failing_names.retain(|name, _| failed.contains(name));
            for name in &report.removed {
                state.versions.remove(name);
            }
        }
        cache.change(change);
        for name in &report.removed {
            tracing::info!(backend = %backend.name, "{}:{name} no longer exists and was dropped", backend.name);
        }
        for event in events {
            let _ = self.inner.events.send(event);
        }
        Ok(report)
    }

    /// Updates the backend's health after a pass: warnings once per
    /// failure streak, recovery, and dropping values past `max_stale`.
    fn note_outcome(
        &self,
        backend: &Backend,
        refresh: &BackendRefresh,
        outcome: &Result<RefreshReport>,
    ) {
        let mut state = refresh.state();
        match outcome {
            Ok(_) => {
                state.last_good = Some((Instant::now(), SystemTime::now()));
                state.expired = false;
                if state.failing.take().is_some() {
                    tracing::info!(backend = %backend.name, "refresh of backend {:?} succeeded again", backend.name);
                    let _ = self.inner.events.send(SecretEvent::Recovered {
                        backend: backend.name.clone(),
                    });
                }
            }
            Err(error) => {
                let reason = crate::error::with_causes(error);
                if state.failing.is_none() {
                    tracing::warn!(
                        backend = %backend.name,
                        "refresh of backend {:?} failed; serving its cached values (for at most {:?}): {reason}",
                        backend.name,
                        refresh.settings.max_stale
                    );
                    let _ = self.inner.events.send(SecretEvent::RefreshFailed {
                        backend: backend.name.clone(),
                        reason: reason.clone(),
                    });
                    state.failing = Some((SystemTime::now(), reason));
                } else if let Some((_, last)) = state.failing.as_mut() {
                    *last = reason;
                }
                let too_old = state
                    .last_good
                    .is_none_or(|(at, _)| at.elapsed() > refresh.settings.max_stale);
                if too_old {
                    let newly = !state.expired;
                    state.expired = true;
                    state.versions.clear();
                    drop(state);
                    // Again on every failed check while expired: values a
                    // `get` cached meanwhile are no fresher than the check.
                    self.drop_backend_values(backend);
                    if newly {
                        tracing::warn!(
                            backend = %backend.name,
                            "backend {:?} has failed for longer than max_stale: its cached values were dropped",
                            backend.name
                        );
                        let _ = self.inner.events.send(SecretEvent::Expired {
                            backend: backend.name.clone(),
                        });
                    }
                }
            }
        }
    }

    fn drop_backend_values(&self, backend: &Backend) {
        if let Some(cache) = &self.inner.cache {
            let prefix = format!("{}:", backend.name);
            let keys = cache
                .entries_with_prefix(&prefix)
                .into_iter()
                .map(|(key, _)| key)
                .collect();
            cache.change(CacheChange {
                store: Vec::new(),
                drop: keys,
            });
        }
    }
}

/// Refreshes backend `name` every `every` until the manager is dropped.
async fn refresh_loop(
    inner: Weak<Inner>,
    name: String,
    every: Duration,
    mut shutdown: tokio::sync::watch::Receiver<()>,
) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    // A pass that took longer than `every` is followed by a full interval,
    // not a burst of catch-up passes.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            // The sender lives in the manager: this ends when it is dropped.
            _ = shutdown.changed() => return,
        }
        let Some(inner) = inner.upgrade() else {
            return;
        };
        let manager = SecretsManager { inner };
        // Failures are recorded and logged by the pass itself.
        let _ = manager.refresh_now(&name).await;
    }
}
