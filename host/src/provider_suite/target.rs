//! The provider under test, as the suite opens it.

use std::path::Path;
use std::sync::Arc;

use crate::error::Result;
use crate::secrets_provider::SecretsProvider;

/// How the suite opens the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// With the backend's settings, over the fixture in the given directory.
    AsConfigured,
    /// With the same grants and an empty `config` map: its set-up must
    /// fail, naming a setting it needs.
    WithoutSettings,
}

/// How many calls of each kind reached the provider, when the target can
/// count them (a Wasm component can).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallTally {
    /// Single reads.
    pub get: u64,
    /// Listings.
    pub list: u64,
    /// Bulk reads.
    pub get_matching: u64,
    /// Change checks.
    pub changes: u64,
}

/// A provider opened for the suite.
pub struct OpenedProvider {
    /// The provider.
    pub provider: Arc<dyn SecretsProvider>,
    /// Counts its calls, when the target can.
    pub tally: Option<Box<dyn Fn() -> CallTally + Send + Sync>>,
}

/// Something the suite can open over a fixture: a provider component and
/// its backend settings, or any other [`SecretsProvider`] a test builds.
pub trait SuiteTarget {
    /// What is tested, for the report (a component's path and version).
    fn describe(&self) -> String;

    /// The names of the `config` settings the backend is given (a set-up
    /// without them must name one), or none when it needs none.
    fn setting_names(&self) -> Vec<String>;

    /// Whether the provider serves text only (a component of
    /// `processpype:secrets@0.1.0`): the fixture then holds no bytes.
    fn text_only(&self) -> bool {
        false
    }

    /// Settings that differ from the defaults, for the report's notes.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }

    /// Opens a fresh provider over the fixture written in `dir`. Called
    /// once per phase of the suite, each time over a new directory.
    fn open(&self, dir: &Path, setup: Setup) -> Result<OpenedProvider>;

    /// Runs after each write of a fixture into `dir`, before the provider
    /// reads it: for a provider whose store is not the files themselves,
    /// this loads them into it. Nothing by default.
    fn after_write(&self, _dir: &Path) -> Result<()> {
        Ok(())
    }
}
