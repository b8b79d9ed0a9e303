//! Embedding the secrets manager in a Rust service.
//!
//! Run it from the repository root:
//!
//!     cargo run -p pp-secrets --example embed
//!
//! It loads the bundled local example (no cloud account needed), registers a
//! service that receives its resolved config section and the manager, reads
//! secrets through the `backend:key` API, and adds a backend of its own.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;
use pp_secrets::{
    Application, Pattern, ProviderError, SecretText, SecretsManager, SecretsProvider, Service,
    ServiceContext, async_trait,
};

/// A service that keeps what the application hands it.
struct Billing {
    context: Option<ServiceContext>,
}

impl Service for Billing {
    fn name(&self) -> &str {
        "billing"
    }

    fn attach(&mut self, context: ServiceContext) {
        self.context = Some(context);
    }
}

/// A backend of the service's own: secrets held in memory.
struct InMemory(BTreeMap<String, String>);

#[async_trait]
impl SecretsProvider for InMemory {
    async fn get(&self, name: &str) -> Result<SecretText, ProviderError> {
        self.0
            .get(name)
            .map(|v| SecretText::from(v.as_str()))
            .ok_or(ProviderError::NotFound)
    }

    async fn list(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError> {
        Ok(self
            .0
            .keys()
            .filter(|k| pattern.matches(k))
            .cloned()
            .collect())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/local/config.yaml");

    // 1. As an application: load the config, preload, resolve tokens.
    let mut app = Application::from_file(&config).await?;
    let billing = app.register(Billing { context: None });
    let context = billing.context.as_ref().expect("registered");
    let exchange = &context.config()["exchange"];
    println!(
        "billing's exchange key id: {}",
        exchange["key"].as_str().unwrap_or("?")
    );

    // 2. The manager itself: get, get_or_none, list.
    let secrets = context.secrets().expect("the example enables secrets");
    let api_key = secrets.get("local:api_key").await?;
    println!("local:api_key is {}", api_key.describe());
    let missing = secrets.get_or_none("local:not_there").await?;
    println!("local:not_there present: {}", missing.is_some());
    println!("names under local: {:?}", secrets.list("local:*").await?);

    // 3. A manager built in code, with a backend of your own.
    let own = SecretsManager::builder()
        .backend(
            "memory",
            "svc/",
            InMemory(BTreeMap::from([(
                "svc/token".to_owned(),
                r#"{"id": 7}"#.to_owned(),
            )])),
        )
        .load("memory:*")
        .build()?;
    own.load().await?;
    let token = own.get("memory:token").await?;
    println!("memory:token is an object: {}", token.as_object().is_some());
    Ok(())
}
