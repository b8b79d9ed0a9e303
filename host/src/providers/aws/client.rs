//! Building the Secrets Manager client from an `aws` backend's settings.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::ProvideCredentials;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

use crate::config::AwsSettings;
use crate::secrets_provider::ProviderError;

/// A client for `settings`: the given region, profile and endpoint, or the
/// standard AWS chain for whatever is not set, with bounded retries (throttling,
/// 5xx and connection errors, exponential backoff) and timeouts.
pub async fn build_client(settings: &AwsSettings) -> Result<Client, ProviderError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(settings.max_attempts)
                .with_initial_backoff(Duration::from_millis(100))
                .with_max_backoff(Duration::from_secs(2)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
                .operation_attempt_timeout(Duration::from_millis(settings.attempt_timeout_ms))
                .build(),
        );
    if let Some(region) = &settings.region_name {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &settings.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(profile) = &settings.profile_name {
        // An explicit profile wins over credentials in the environment, as
        // `--profile` does for the AWS CLI.
        let credentials = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(profile)
            .build();
        // Asked once here so that a profile that is not defined (or cannot
        // give credentials) is an error that names it; the SDK would only
        // say that no credentials were loaded.
        credentials.provide_credentials().await.map_err(|e| {
            ProviderError::Misconfigured(format!(
                "AWS profile {profile:?} gives no credentials: {}",
                DisplayErrorContext(&e)
            ))
        })?;
        loader = loader
            .profile_name(profile)
            .credentials_provider(credentials);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(ProviderError::Misconfigured(
            "no AWS region: set region_name on the backend, or AWS_REGION".to_owned(),
        ));
    }
    Ok(Client::new(&config))
}
