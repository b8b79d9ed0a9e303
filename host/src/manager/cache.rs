//! The in-memory secret cache.
//!
//! Reads must scale across threads: a service reading cached secrets from
//! every worker must not queue on a lock, nor bounce a cache line between
//! cores. And a refresh that changes several secrets of a backend must
//! never be seen half done. So the cache has two levels:
//!
//! - the *shared* level is a sequence of immutable *generations*: each a
//!   lock-free map (`papaya`) of every cached value, replaced whole
//!   (copy, change, swap) by every write that changes or removes values, so
//!   a reader sees a refresh entirely or not at all. The only write made in
//!   place is adding a key the generation does not have (a `get` that
//!   missed), which changes no value a reader may have seen;
//! - each reader thread keeps a small *local* map of the values it has read
//!   from one generation, with its own copies of them, padded to its own
//!   cache lines.
//!
//! The current generation's number is also kept in one word; a thread whose
//! local map belongs to an older generation empties it before its next
//! read. A hit therefore reads one shared word that only writes change and
//! touches nothing else that another thread writes, not even a reference
//! count: the values a thread hands out are its own copies. Keys are the
//! whole `backend:name` string as callers write it, so a hit needs no
//! parsing.
//!
//! A thread's copies live until its next read after a change, or until the
//! manager is dropped; like every value, they are zeroed when dropped.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use thread_local::ThreadLocal;

use crate::value::SecretValue;

type Hasher = foldhash::fast::RandomState;
type SharedMap = papaya::HashMap<String, SecretValue, Hasher>;

/// Cached secrets by `backend:name` key.
pub struct SecretCache {
    current: ArcSwap<Generation>,
    /// The current generation's number (the fast path reads only this).
    version: AtomicU64,
    /// Serialises the writers that make a new generation.
    writer: Mutex<()>,
    local: ThreadLocal<LocalCache>,
}

/// One generation: its values never change once it is current, except by
/// gaining keys it did not have.
struct Generation {
    number: u64,
    values: SharedMap,
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

impl Default for SecretCache {
    fn default() -> Self {
        Self {
            current: ArcSwap::from_pointee(Generation {
                number: 0,
                values: SharedMap::default(),
            }),
            version: AtomicU64::new(0),
            writer: Mutex::new(()),
            local: ThreadLocal::new(),
        }
    }
}

/// A change to many keys at once, seen whole or not at all.
#[derive(Default)]
pub struct CacheChange {
    /// Keys to store (replacing any earlier value).
    pub store: Vec<(String, SecretValue)>,
    /// Keys to drop.
    pub drop: Vec<String>,
}

impl SecretCache {
    /// The cached value for `key`.
    pub fn get(&self, key: &str) -> Option<SecretValue> {
        // Acquire pairs with the Release store in `publish`: a thread that
        // sees a number also sees that generation.
        let version = self.version.load(Ordering::Acquire);
        let local = self.local.get_or_default();
        let Ok(mut local) = local.0.try_borrow_mut() else {
            // Unreachable in practice (nothing here calls back into the
            // cache), but never worth a panic.
            return self.current.load().values.pin().get(key).cloned();
        };
        if local.version == version
            && let Some(value) = local.values.get(key)
        {
            return Some(value.clone());
        }
        let generation = self.current.load();
        if local.version != generation.number {
            local.values.clear();
            local.version = generation.number;
        }
        let value = generation.values.pin().get(key)?.detached();
        local.values.insert(key.to_owned(), value.clone());
        Some(value)
    }

    /// Stores `value` under `key` unless the current generation has a value
    /// for it already (a concurrent fetch of the same key, or a refresh,
    /// got there first). Changes no value a reader may have seen.
    pub fn insert(&self, key: String, value: SecretValue) {
        let generation = self.current.load();
        let _ = generation.values.pin().try_insert(key, value);
    }

    /// Stores many values at once, in one new generation.
    pub fn insert_many(&self, entries: Vec<(String, SecretValue)>) {
        self.change(CacheChange {
            store: entries,
            drop: Vec::new(),
        });
    }

    /// Applies `change` whole: readers see every part of it or none.
    pub fn change(&self, change: CacheChange) {
        if change.store.is_empty() && change.drop.is_empty() {
            return;
        }
        let guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let old = self.current.load_full();
        let values = SharedMap::with_capacity_and_hasher(
            old.values.len() + change.store.len(),
            Hasher::default(),
        );
        {
            let (old_values, new_values) = (old.values.pin(), values.pin());
            for (key, value) in old_values.iter() {
                new_values.insert(key.clone(), value.clone());
            }
            for key in &change.drop {
                new_values.remove(key);
            }
            for (key, value) in change.store {
                new_values.insert(key, value);
            }
        }
        self.publish(old.number + 1, values);
        drop(guard);
    }

    /// Drops the value for `key`, if cached.
    pub fn remove(&self, key: &str) {
        if self.current.load().values.pin().contains_key(key) {
            self.change(CacheChange {
                store: Vec::new(),
                drop: vec![key.to_owned()],
            });
        }
    }

    /// Drops every value.
    pub fn clear(&self) {
        let guard = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let number = self.current.load().number + 1;
        self.publish(number, SharedMap::default());
        drop(guard);
    }

    /// How many values are cached.
    pub fn len(&self) -> usize {
        self.current.load().values.len()
    }

    /// The cached entries whose key starts with `prefix` (`backend:`), as
    /// one generation has them.
    pub fn entries_with_prefix(&self, prefix: &str) -> Vec<(String, SecretValue)> {
        let generation = self.current.load();
        let values = generation.values.pin();
        values
            .iter()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect()
    }

    /// Makes `values` the current generation, numbered `number`.
    fn publish(&self, number: u64, values: SharedMap) {
        self.current.store(Arc::new(Generation { number, values }));
        self.version.store(number, Ordering::Release);
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
        cache.insert_many(vec![("b:k".into(), SecretValue::from("new"))]);
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

    #[test]
    fn a_change_is_seen_whole_or_not_at_all() {
        let cache = std::sync::Arc::new(SecretCache::default());
        cache.insert_many(vec![
            ("b:user".into(), SecretValue::from("u0")),
            ("b:pass".into(), SecretValue::from("p0")),
        ]);
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| {
                    while !stop.load(Ordering::Relaxed) {
                        // Read the pair as one generation has it.
                        let user = cache.get("b:user");
                        let pass = cache.get("b:pass");
                        let (Some(user), Some(pass)) = (user, pass) else {
                            panic!("a key went missing");
                        };
                        let (u, p) = (text(&user), text(&pass));
                        // Written together; a reader whose local copies
                        // belong to one generation sees matching numbers,
                        // unless a new generation came between its two
                        // reads (then the second is newer, never older).
                        assert!(u[1..] <= p[1..], "torn: {u} then {p}");
                    }
                });
            }
            for i in 1..2000 {
                cache.change(CacheChange {
                    store: vec![
                        (
                            "b:user".into(),
                            SecretValue::from(format!("u{i:04}").as_str()),
                        ),
                        (
                            "b:pass".into(),
                            SecretValue::from(format!("p{i:04}").as_str()),
                        ),
                    ],
                    drop: Vec::new(),
                });
            }
            stop.store(true, Ordering::Relaxed);
        });
    }
}
