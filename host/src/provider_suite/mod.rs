//! The provider test-suite: one contract check for every provider
//! component, whatever language it is written in.
//!
//! The suite writes a standard set of secrets (the fixture: text, a JSON
//! object, a name with `*`, one with `?`, a non-ASCII name, an empty value,
//! a value with newlines, nested names and bytes where the format holds
//! them) into a fresh directory, in a format the provider reads
//! ([`FixtureFormat`]: one file per secret, a JSON file, an INI file),
//! opens the provider over it, and checks through the host:
//!
//! - set-up from the backend's settings, and a clear set-up error (naming a
//!   setting) without them;
//! - every value, exactly, as text or bytes; not-found for names that are
//!   not there (case matters, a mapping is not a secret);
//! - `list` and the bulk `get-matching` against the host's own matcher over
//!   the fixture's names, for patterns covering `*` across `/`, `?` on a
//!   non-ASCII character, classes, negation, literal specials and case;
//! - the host's prefixes, JSON objects and 16 reads at once;
//! - a malformed fixture refused without quoting it;
//! - versions (all values or none) and refresh: an unchanged refresh
//!   reports nothing (and, with versions, reads no value), an edit is seen
//!   as one change, one addition and one removal;
//! - 1,000 names in one bulk read of a fresh instance, under the backend's
//!   limits (the defaults unless the suite file sets others);
//! - no error message holds a value.
//!
//! `pp-secrets test-provider SUITE.yaml` runs it on a component described
//! by a [`SuiteFile`]; a Rust test can run it on any [`SuiteTarget`].

mod checks;
mod fixture;
mod report;
mod suite_file;
mod target;
#[cfg(test)]
mod tests;

pub use checks::run_suite;
pub use fixture::{Fixture, FixtureFormat, FixtureSecret, FixtureValue};
pub use report::{CheckResult, Outcome, SuiteReport};
pub use suite_file::{FIXTURE_PLACEHOLDER, SuiteFile};
pub use target::{CallTally, OpenedProvider, Setup, SuiteTarget};
