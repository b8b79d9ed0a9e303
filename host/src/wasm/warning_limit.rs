//! Warnings a guest can cause again and again (a host not in
//! `allow.hosts`, a key outside an app's allow-list, a failed TLS
//! handshake or connection), rate-limited per backend or app run.
//!
//! A guest that is denied or fails in a loop must not flood the log: the
//! first [`LOGGED`] warnings are logged one by one, and after that the
//! first of each distinct subject (a host, a key, a reason; up to
//! [`DISTINCT`] of them), so a new host or a new failure is still named;
//! the rest only counted, at each power of ten and when the backend or app
//! run ends.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// Warnings logged one by one, whatever their subject.
pub(crate) const LOGGED: u64 = 5;
/// Distinct subjects whose first warning is logged after that.
pub(crate) const DISTINCT: usize = 32;

/// The repeated warnings of one backend or app run.
pub(crate) struct WarningLimit {
    /// `backend NAME` or `app NAME` (escaped).
    who: String,
    count: AtomicU64,
    subjects: Mutex<HashSet<String>>,
}

impl WarningLimit {
    /// The warnings of `who` (`backend NAME`, `app NAME`, already escaped).
    pub(crate) fn new(who: String) -> Self {
        Self {
            who,
            count: AtomicU64::new(0),
            subjects: Mutex::new(HashSet::new()),
        }
    }

    /// Counts one warning about `subject`; `true` when it should be logged
    /// on its own (the caller logs it with its details).
    pub(crate) fn record(&self, subject: &str) -> bool {
        let count = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        let new_subject = {
            let mut subjects = self.subjects.lock().unwrap_or_else(PoisonError::into_inner);
            subjects.len() < DISTINCT && subjects.insert(subject.to_owned())
        };
        if count == LOGGED {
            tracing::warn!(
                "{}: {LOGGED} warnings; further ones are logged once per host, key or \
                 reason, and otherwise counted",
                self.who
            );
        } else if count > LOGGED && is_power_of_ten(count) {
            tracing::warn!("{}: {count} warnings so far", self.who);
        }
        count <= LOGGED || new_subject
    }

    /// How many warnings were counted.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl Drop for WarningLimit {
    fn drop(&mut self) {
        let count = self.count();
        if count > LOGGED {
            tracing::warn!("{}: {count} warnings in all", self.who);
        }
    }
}

fn is_power_of_ten(mut n: u64) -> bool {
    while n >= 10 && n.is_multiple_of(10) {
        n /= 10;
    }
    n == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_few_then_each_new_subject_are_logged() {
        let warnings = WarningLimit::new("backend x".into());
        let logged = (0..1_000).filter(|_| warnings.record("same host")).count();
        assert_eq!(logged as u64, LOGGED);
        assert!(warnings.record("another host"), "a new subject is named");
        assert!(!warnings.record("another host"));
        assert_eq!(warnings.count(), 1_002);
        assert!(is_power_of_ten(10) && is_power_of_ten(1_000) && !is_power_of_ten(20));
    }

    #[test]
    fn distinct_subjects_are_bounded() {
        let warnings = WarningLimit::new("backend x".into());
        let logged = (0..1_000)
            .filter(|i| warnings.record(&format!("host-{i}")))
            .count();
        assert_eq!(logged, DISTINCT.max(LOGGED as usize));
    }
}
