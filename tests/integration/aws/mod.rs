//! The `aws` backend against moto's Secrets Manager server (started by the
//! tests), through a fault-injecting proxy that counts calls.

mod cli;
mod faults;
mod library;
mod moto;
mod proxy;
mod rotation;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_secretsmanager::primitives::Blob;
use pp_secrets::SecretsManager;
use pp_secrets::providers::AwsProvider;

pub use crate::support::free_port;
pub use moto::{MotoServer, moto};
pub use proxy::{Fault, FaultProxy};

use crate::support::block_on;

/// A client with fixed test credentials, for setting up secrets.
pub fn sdk_client(endpoint: &str) -> Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .retry_config(
            aws_sdk_secretsmanager::config::retry::RetryConfig::standard()
                .with_initial_backoff(std::time::Duration::from_millis(10)),
        )
        .build();
    Client::from_conf(config)
}

/// A name prefix no other test uses, so tests can share one server.
pub fn unique_prefix(test: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("t{}-{test}", NEXT.fetch_add(1, Ordering::SeqCst))
}

/// Creates text secrets.
pub fn create(client: &Client, secrets: &[(&str, &str)]) {
    block_on(async {
        for (name, value) in secrets {
            client
                .create_secret()
                .name(*name)
                .secret_string(*value)
                .send()
                .await
                .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
        }
    });
}

/// Creates a binary secret.
pub fn create_binary(client: &Client, name: &str) {
    block_on(
        client
            .create_secret()
            .name(name)
            .secret_binary(Blob::new(vec![0, 159, 146]))
            .send(),
    )
    .expect("create binary secret");
}

/// moto, a proxy in front of it, and a manager whose backend `aws` (with
/// `prefix`) talks to AWS through the proxy.
pub struct Setup {
    /// Kept so the shared server outlives the test.
    pub _moto: Arc<MotoServer>,
    pub proxy: FaultProxy,
    pub admin: Client,
    pub manager: SecretsManager,
}

pub fn setup(prefix: &str) -> Option<Setup> {
    let moto = moto()?;
    let proxy = FaultProxy::start(&moto.addr);
    let provider = AwsProvider::with_client(sdk_client(&proxy.endpoint), 4);
    let manager = SecretsManager::builder()
        .backend("aws", prefix, provider)
        .build()
        .expect("valid manager");
    let admin = sdk_client(&moto.endpoint);
    Some(Setup {
        _moto: moto,
        proxy,
        admin,
        manager,
    })
}
