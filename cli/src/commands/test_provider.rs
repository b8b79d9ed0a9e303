//! `test-provider SUITE.yaml`: run the provider test-suite (see
//! `pp_secrets::provider_suite`) on a provider component, as its suite
//! file describes it. Reads no config.

use std::path::PathBuf;

use clap::Args;

use crate::failure::Failure;

/// The arguments of `test-provider`.
#[derive(Debug, Args)]
pub struct TestProvider {
    /// The suite file: fixture (files, json or ini), backend (path, config,
    /// allow, limits) and optionally after_write
    suite: PathBuf,
}

impl TestProvider {
    /// Runs the suite and prints its report; exits 0 when every check
    /// passed, 3 when one failed.
    #[cfg(feature = "wasm")]
    pub async fn run(self) -> Result<u8, Failure> {
        use pp_secrets::config::CompileCacheSetting;
        use pp_secrets::provider_suite::{SuiteFile, run_suite};
        use pp_secrets::wasm::CompileCache;

        use crate::{exit_codes, output};

        let cache = CompileCache::from_setting(&CompileCacheSetting::Default);
        let suite = SuiteFile::from_file(&self.suite, cache)?;
        let report = run_suite(&suite, suite.format()).await;
        output::line(&report.to_string());
        Ok(if report.passed() {
            exit_codes::SUCCESS
        } else {
            exit_codes::BACKEND
        })
    }

    /// Says that this build has no Wasm support.
    #[cfg(not(feature = "wasm"))]
    pub async fn run(self) -> Result<u8, Failure> {
        Err(Failure::Usage(
            "test-provider: this pp-secrets was built without Wasm support (cargo feature `wasm`)"
                .into(),
        ))
    }
}
