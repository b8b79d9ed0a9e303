//! What a refresh tells the rest of the program: a manager-wide stream of
//! events, and a watch on one key that yields each new value.
//!
//! Events name keys and backends, never values. A receiver that falls
//! behind (more than [`EVENT_BUFFER`] events unread) is told how many it
//! missed, so it can re-read what it cares about.

use tokio::sync::broadcast;

use crate::error::Result;
use crate::manager::SecretsManager;
use crate::value::SecretValue;

/// Events kept for a receiver that has not read them yet.
pub(crate) const EVENT_BUFFER: usize = 1024;

/// Something a refresh found or did. Keys are `backend:name`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretEvent {
    /// A cached secret has a new value.
    Changed {
        /// The key.
        key: String,
    },
    /// A new secret matching a `load` declaration was loaded.
    Added {
        /// The key.
        key: String,
    },
    /// A cached secret no longer exists in its backend and was dropped.
    Removed {
        /// The key.
        key: String,
    },
    /// A refresh of `backend` failed; its cached values are still served
    /// (until `max_stale`). Sent once per failure streak.
    RefreshFailed {
        /// The backend.
        backend: String,
        /// Why (never a value).
        reason: String,
    },
    /// A refresh of `backend` succeeded after failures.
    Recovered {
        /// The backend.
        backend: String,
    },
    /// `backend`'s cached values were dropped: its checks have failed for
    /// longer than `max_stale`.
    Expired {
        /// The backend.
        backend: String,
    },
    /// This receiver fell behind and missed `count` events.
    Missed {
        /// How many.
        count: u64,
    },
}

impl SecretEvent {
    /// The key a `Changed`, `Added` or `Removed` event is about.
    pub fn key(&self) -> Option<&str> {
        match self {
            SecretEvent::Changed { key }
            | SecretEvent::Added { key }
            | SecretEvent::Removed { key } => Some(key),
            _ => None,
        }
    }
}

/// The manager's events, from the moment this receiver was made
/// ([`SecretsManager::events`]).
pub struct SecretEvents {
    receiver: broadcast::Receiver<SecretEvent>,
}

impl SecretEvents {
    pub(crate) fn new(receiver: broadcast::Receiver<SecretEvent>) -> Self {
        Self { receiver }
    }

    /// The next event; `None` once the manager is gone.
    pub async fn recv(&mut self) -> Option<SecretEvent> {
        match self.receiver.recv().await {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(count)) => Some(SecretEvent::Missed { count }),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }
}

impl std::fmt::Debug for SecretEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretEvents").finish_non_exhaustive()
    }
}

/// Each new value of one key ([`SecretsManager::watch`]). It keeps the
/// manager (and its refresh) alive while it exists.
#[derive(Debug)]
pub struct SecretWatch {
    manager: SecretsManager,
    key: String,
    events: SecretEvents,
    last: Option<SecretValue>,
}

impl SecretWatch {
    pub(crate) fn new(manager: SecretsManager, key: String) -> Self {
        let events = manager.events();
        let last = manager.cached(&key);
        Self {
            manager,
            key,
            events,
            last,
        }
    }

    /// The key watched.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Waits for the key's value to change and returns the new one: a
    /// not-found error when the secret was removed, and the backend's error
    /// when it cannot be read now. `None` when no refresh can happen any
    /// more.
    pub async fn changed(&mut self) -> Option<Result<SecretValue>> {
        loop {
            let event = self.events.recv().await?;
            let relevant = match &event {
                SecretEvent::Missed { .. } => true,
                other => other.key() == Some(self.key.as_str()),
            };
            if !relevant {
                continue;
            }
            match self.manager.get(&self.key).await {
                Ok(value) => {
                    if self.last.as_ref() == Some(&value) {
                        continue;
                    }
                    self.last = Some(value.clone());
                    return Some(Ok(value));
                }
                Err(e) => {
                    if self.last.take().is_none() && matches!(event, SecretEvent::Missed { .. }) {
                        continue;
                    }
                    return Some(Err(e));
                }
            }
        }
    }
}
