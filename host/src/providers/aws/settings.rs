//! The settings of an `aws` backend (`type: aws`).

use std::sync::Arc;

use super::AwsProvider;
use crate::config::SecretsConfig;
use crate::error::Result;
use crate::providers::{BackendSettings, SettingsSource};
use crate::secrets_provider::SecretsProvider;

/// Settings of an `aws` backend. Anything not set here comes from the
/// standard AWS chain (environment, shared config and credentials files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsSettings {
    /// `region_name`: the region; else `AWS_REGION` or the profile's.
    pub region_name: Option<String>,
    /// `profile_name`: a profile of the shared config files. When set, its
    /// credentials are used even if the environment has others.
    pub profile_name: Option<String>,
    /// `endpoint_url`: a Secrets Manager endpoint, such as a local server;
    /// else `AWS_ENDPOINT_URL` or the region's endpoint.
    pub endpoint_url: Option<String>,
    /// `concurrency`: batch calls in flight at once during a `load`.
    pub concurrency: usize,
    /// `max_attempts`: tries per call, retrying throttling, 5xx and
    /// connection errors with exponential backoff.
    pub max_attempts: u32,
    /// `connect_timeout_ms`: time to open a connection.
    pub connect_timeout_ms: u64,
    /// `attempt_timeout_ms`: time for one attempt of one call.
    pub attempt_timeout_ms: u64,
}

impl AwsSettings {
    /// The largest `concurrency` accepted.
    pub const MAX_CONCURRENCY: usize = 64;
    /// The largest `max_attempts` accepted.
    pub const MAX_ATTEMPTS: u32 = 10;
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            region_name: None,
            profile_name: None,
            endpoint_url: None,
            concurrency: 4,
            max_attempts: 3,
            connect_timeout_ms: 2_000,
            attempt_timeout_ms: 5_000,
        }
    }
}

impl BackendSettings for AwsSettings {
    const FIELDS: &'static [&'static str] = &[
        "region_name",
        "profile_name",
        "endpoint_url",
        "concurrency",
        "max_attempts",
        "connect_timeout_ms",
        "attempt_timeout_ms",
    ];

    fn read(source: &SettingsSource<'_>) -> Result<Self> {
        read(source)
    }

    fn provider(&self, _: &str, _: &SecretsConfig) -> Result<Arc<dyn SecretsProvider>> {
        Ok(Arc::new(AwsProvider::new(self.clone())))
    }
}

/// Reads an `aws` backend's settings.
fn read(source: &SettingsSource<'_>) -> Result<AwsSettings> {
    let fields = source.fields;
    let defaults = AwsSettings::default();
    let non_empty = |name: &str| -> Result<Option<String>> {
        Ok(fields.string(name)?.filter(|s| !s.is_empty()))
    };
    let settings = AwsSettings {
        region_name: non_empty("region_name")?,
        profile_name: non_empty("profile_name")?,
        endpoint_url: non_empty("endpoint_url")?,
        concurrency: fields.positive("concurrency", defaults.concurrency as u64)? as usize,
        max_attempts: fields.positive("max_attempts", u64::from(defaults.max_attempts))? as u32,
        connect_timeout_ms: fields.positive("connect_timeout_ms", defaults.connect_timeout_ms)?,
        attempt_timeout_ms: fields.positive("attempt_timeout_ms", defaults.attempt_timeout_ms)?,
    };
    if settings.concurrency > AwsSettings::MAX_CONCURRENCY
        || settings.max_attempts > AwsSettings::MAX_ATTEMPTS
    {
        return Err(fields.error(
            if settings.concurrency > AwsSettings::MAX_CONCURRENCY {
                "concurrency"
            } else {
                "max_attempts"
            },
            format!(
                "is too large (concurrency at most {}, max_attempts at most {})",
                AwsSettings::MAX_CONCURRENCY,
                AwsSettings::MAX_ATTEMPTS
            ),
        ));
    }
    Ok(settings)
}
