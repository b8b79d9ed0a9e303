//! Warnings about denied requests (a host not in `allow.hosts`, a key
//! outside an app's allow-list), rate-limited per backend or app run.
//!
//! A guest that is denied in a loop must not flood the log: the first
//! [`LOGGED`] denials are logged one by one, then only the count, at each
//! power of ten and when the backend or app run ends.

use std::sync::atomic::{AtomicU64, Ordering};

/// Denials logged one by one.
pub(crate) const LOGGED: u64 = 5;

/// The denials of one backend or app run.
pub(crate) struct Denials {
    /// `backend NAME` or `app NAME` (escaped).
    who: String,
    count: AtomicU64,
}

impl Denials {
    /// The denials of `who` (`backend NAME`, `app NAME`, already escaped).
    pub(crate) fn new(who: String) -> Self {
        Self {
            who,
            count: AtomicU64::new(0),
        }
    }

    /// Counts one denial; `true` when it should be logged on its own (the
    /// caller logs it with its details).
    pub(crate) fn record(&self) -> bool {
        let count = self.count.fetch_add(1, Ordering::Relaxed) + 1;
        if count == LOGGED {
            tracing::warn!(
                "{}: {LOGGED} denials; further ones are counted, not logged one by one",
                self.who
            );
        } else if count > LOGGED && is_power_of_ten(count) {
            tracing::warn!("{}: {count} denials so far", self.who);
        }
        count <= LOGGED
    }

    /// How many denials were counted.
    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl Drop for Denials {
    fn drop(&mut self) {
        let count = self.count();
        if count > LOGGED {
            tracing::warn!("{}: {count} denials in all", self.who);
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
    fn the_first_few_are_logged_then_only_counted() {
        let denials = Denials::new("backend x".into());
        let logged = (0..1_000).filter(|_| denials.record()).count();
        assert_eq!(logged as u64, LOGGED);
        assert_eq!(denials.count(), 1_000);
        assert!(is_power_of_ten(10) && is_power_of_ten(1_000) && !is_power_of_ten(20));
    }
}
