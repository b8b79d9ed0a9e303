//! The in-memory secret cache.
//!
//! Reads must scale across threads: a service reading cached secrets from
//! every worker must not queue on one lock. The map is `papaya`'s lock-free
//! hash map, where a read takes no lock and writes no shared cache line, so
//! readers on different cores do not slow each other down. Keys are the
//! whole `backend:name` string as callers write it, so a hit needs no
//! parsing and no allocation beyond the returned copy of the value.

use crate::value::SecretValue;

type Map = papaya::HashMap<String, SecretValue, foldhash::fast::RandomState>;

/// Cached secrets by `backend:name` key.
#[derive(Default)]
pub struct SecretCache {
    map: Map,
}

impl SecretCache {
    /// A copy of the cached value for `key`.
    pub fn get(&self, key: &str) -> Option<SecretValue> {
        self.map.pin().get(key).cloned()
    }

    /// Stores `value` under `key`, replacing any earlier one.
    pub fn insert(&self, key: String, value: SecretValue) {
        self.map.pin().insert(key, value);
    }

    /// Drops the value for `key`, if cached.
    pub fn remove(&self, key: &str) {
        self.map.pin().remove(key);
    }

    /// Drops every value.
    pub fn clear(&self) {
        self.map.pin().clear();
    }

    /// How many values are cached.
    pub fn len(&self) -> usize {
        self.map.len()
    }
}
