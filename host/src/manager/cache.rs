//! The in-memory secret cache.
//!
//! Reads must scale across threads: a service reading cached secrets from
//! every worker must not queue on a lock, nor bounce a cache line between
//! cores. So the cache has two levels:
//!
//! - the *shared* map, `papaya`'s lock-free hash map, holds every cached
//!   value and takes all writes;
//! - each reader thread keeps a small *local* map of the values it has read,
//!   with its own copies of them, padded to its own cache lines.
//!
//! Every write bumps a version counter; a thread whose local map is older
//! than the counter empties it before its next read. A hit therefore reads
//! one shared word that only writes change and touches nothing else that
//! another thread writes, not even a reference count: the values a thread
//! hands out are its own copies. Keys are the whole `backend:name` string as
//! callers write it, so a hit needs no parsing.
//!
//! A thread's copies live until its next read after a change, or until the
//! manager is dropped; like every value, they are zeroed when dropped.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use thread_local::ThreadLocal;

use crate::value::SecretValue;

type Hasher = foldhash::fast::RandomState;

/// Cached secrets by `backend:name` key.
#[derive(Default)]
pub struct SecretCache {
    shared: papaya::HashMap<String, SecretValue, Hasher>,
    version: AtomicU64,
    local: ThreadLocal<LocalCache>,
}

/// One thread's copies. Aligned so that two threads' entries, which
/// `ThreadLocal` stores side by side, never share a cache line.
#[derive(Default)]
#[repr(align(128))]
struct LocalCache(RefCell<LocalEntries>);

#[derive(Default)]
struct LocalEntries {
    version: u64,
    values: hashbrown::HashMap<String, SecretValue, Hasher>,
}

impl SecretCache {
    /// The cached value for `key`.
    pub fn get(&self, key: &str) -> Option<SecretValue> {
        // Acquire pairs with the Release bump in `changed`: a thread that
        // sees a version also sees the shared map as of that version.
        let version = self.version.load(Ordering::Acquire);
        let local = self.local.get_or_default();
        let Ok(mut local) = local.0.try_borrow_mut() else {
            // Unreachable in practice (nothing here calls back into the
            // cache), but never worth a panic.
            return self.shared.pin().get(key).cloned();
        };
        if local.version != version {
            local.values.clear();
            local.version = version;
        }
        if let Some(value) = local.values.get(key) {
            return Some(value.clone());
        }
        let value = self.shared.pin().get(key)?.detached();
        local.values.insert(key.to_owned(), value.clone());
        Some(value)
    }

    /// Stores `value` under `key`, replacing any earlier one.
    pub fn insert(&self, key: String, value: SecretValue) {
        self.shared.pin().insert(key, value);
        self.changed();
    }

    /// Stores many values at once: one guard, one version bump, and room
    /// reserved up front, which is what a `load` of thousands of keys needs.
    pub fn insert_many(&self, entries: Vec<(String, SecretValue)>) {
        if entries.is_empty() {
            return;
        }
        let shared = self.shared.pin();
        shared.reserve(entries.len());
        for (key, value) in entries {
            shared.insert(key, value);
        }
        drop(shared);
        self.changed();
    }

    /// Drops the value for `key`, if cached.
    pub fn remove(&self, key: &str) {
        self.shared.pin().remove(key);
        self.changed();
    }

    /// Drops every value.
    pub fn clear(&self) {
        self.shared.pin().clear();
        self.changed();
    }

    /// How many values are cached.
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    fn changed(&self) {
        self.version.fetch_add(1, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &SecretValue) -> &str {
        v.as_text().unwrap_or("<object>")
    }

    #[test]
    fn a_write_on_one_thread_is_seen_by_readers_on_others() {
        let cache = SecretCache::default();
        cache.insert("b:k".into(), SecretValue::from("old"));
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(cache.get("b:k").as_ref().map(text), Some("old")));
        });
        assert_eq!(cache.get("b:k").as_ref().map(text), Some("old"));
        cache.insert("b:k".into(), SecretValue::from("new"));
        assert_eq!(cache.get("b:k").as_ref().map(text), Some("new"));
        std::thread::scope(|s| {
            s.spawn(|| assert_eq!(cache.get("b:k").as_ref().map(text), Some("new")));
        });
        cache.remove("b:k");
        assert!(cache.get("b:k").is_none());
        cache.insert("b:k".into(), SecretValue::from("again"));
        cache.clear();
        assert!(cache.get("b:k").is_none());
        assert_eq!(cache.len(), 0);
    }
}
