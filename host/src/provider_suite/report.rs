//! What a suite run found: one outcome per check.

use std::fmt;

/// How one check went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The provider did what the contract says.
    Passed,
    /// It did not; the reason names the secret or pattern (never a value).
    Failed(String),
    /// Not checked, and why (the fixture format cannot hold bytes, the
    /// provider offers no versions).
    Skipped(String),
}

/// One check and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// What was checked, in a few words (`get`, `list with globs`).
    pub check: &'static str,
    /// How it went.
    pub outcome: Outcome,
    /// What was seen when it passed (counts, timings), for the report.
    pub detail: String,
}

/// Every check of one run, in the order they ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SuiteReport {
    /// What was tested (the component and its interface version).
    pub target: String,
    /// The fixture format.
    pub format: String,
    /// The results.
    pub results: Vec<CheckResult>,
    /// Settings of the backend under test that differ from the defaults
    /// (its `limits`), so that a pass is read with them in mind.
    pub notes: Vec<String>,
}

impl SuiteReport {
    /// Whether no check failed.
    pub fn passed(&self) -> bool {
        self.failed().next().is_none()
    }

    /// The checks that failed.
    pub fn failed(&self) -> impl Iterator<Item = &CheckResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
    }

    /// The checks that were skipped.
    pub fn skipped(&self) -> impl Iterator<Item = &CheckResult> {
        self.results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Skipped(_)))
    }

    /// The outcome of `check`, when it ran.
    pub fn outcome(&self, check: &str) -> Option<&Outcome> {
        self.results
            .iter()
            .find(|r| r.check == check)
            .map(|r| &r.outcome)
    }
}

impl fmt::Display for SuiteReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "provider suite: {} (fixture {})",
            self.target, self.format
        )?;
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        for result in &self.results {
            match &result.outcome {
                Outcome::Passed if result.detail.is_empty() => {
                    writeln!(f, "ok    {}", result.check)?
                }
                Outcome::Passed => writeln!(f, "ok    {}: {}", result.check, result.detail)?,
                Outcome::Failed(why) => writeln!(f, "FAIL  {}: {why}", result.check)?,
                Outcome::Skipped(why) => writeln!(f, "skip  {}: {why}", result.check)?,
            }
        }
        let failed = self.failed().count();
        let skipped = self.skipped().count();
        let passed = self.results.len() - failed - skipped;
        write!(f, "{passed} passed, {failed} failed, {skipped} skipped")
    }
}
