//! Embedding the secrets manager in a Rust service.
//!
//! Run it from the repository root:
//!
//!     cargo run -p pp-secrets --example embed
//!
//! It loads the bundled local example (no cloud account needed), registers a
//! service that receives its resolved config section and the manager, reads
//! secrets through the `backend:key` API, starts an application whose
//! manager has a backend added in code (its secrets feed tokens), and reads
//! through the blocking API. The test command runs it.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, ensure};
use pp_secrets::{
    Application, ConfigDocument, ManagerBuilder, Pattern, ProviderError, SecretsManager,
    SecretsProvider, Service, ServiceContext, StoredValue, async_trait, blocking,
};

/// A service's config whose tokens come from a config backend and from a
/// backend added in code (`memory`).
const WITH_A_CODE_BACKEND: &str = r#"
secrets:
  enabled: true
  backends:
    local: { type: file, path: ./secrets.yaml, prefix: staging }
  load: ["local:*"]
services:
  billing:
    exchange: ${secret://local:binance}
    signing_key: ${secret://memory:signing_key}
"#;

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
    async fn get(&self, name: &str) -> Result<StoredValue, ProviderError> {
        self.0
            .get(name)
            .map(|v| StoredValue::from(v.as_str()))
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

/// The backend added in code.
fn memory() -> InMemory {
    InMemory(BTreeMap::from([
        ("svc/token".to_owned(), r#"{"id": 7}"#.to_owned()),
        ("svc/signing_key".to_owned(), "sk-demo".to_owned()),
    ]))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/local");

    // 1. As an application: load the config, preload, resolve tokens.
    let mut app = Application::from_file(example.join("config.yaml")).await?;
    let billing = app.register(Billing { context: None });
    let context = billing.context.as_ref().context("registered")?;
    let exchange = &context.config()["exchange"];
    println!(
        "billing's exchange key id: {}",
        exchange["key"].as_str().unwrap_or("?")
    );

    // 2. The manager itself: get, get_or_none, list.
    let secrets = context.secrets().context("the example enables secrets")?;
    let api_key = secrets.get("local:api_key").await?;
    println!("local:api_key is {}", api_key.describe());
    let missing = secrets.get_or_none("local:not_there").await?;
    println!("local:not_there present: {}", missing.is_some());
    println!("names under local: {:?}", secrets.list("local:*").await?);

    // 3. A manager built in code, with a backend of your own.
    let own = SecretsManager::builder()
        .backend("memory", "svc/", memory())
        .load("memory:*")
        .build()?;
    own.load().await?;
    let token = own.get("memory:token").await?;
    println!("memory:token is an object: {}", token.as_object().is_some());

    // 4. An application whose manager has the config's backends plus one
    //    added in code: its secrets feed the config's tokens.
    let document = ConfigDocument::from_yaml_str(WITH_A_CODE_BACKEND, &example)?;
    let manager = ManagerBuilder::from_config(&document.secrets)?
        .backend("memory", "svc/", memory())
        .build()?;
    let mut app = Application::with_manager(document, manager).await?;
    let billing = app.register(Billing { context: None });
    let section = billing.context.as_ref().context("registered")?.config();
    ensure!(
        section["signing_key"].as_str() == Some("sk-demo"),
        "the code backend's secret fed the token"
    );
    println!("billing's signing key came from the code backend");

    // 5. The blocking API, for code without a runtime (here, inside one:
    //    it runs its calls on a thread of its own, so that works too).
    let sync = blocking::SecretsManager::from_file(example.join("config.yaml"))?
        .context("the example enables secrets")?;
    let report = sync.load()?;
    println!("blocking load: {} secrets", report.loaded());
    println!(
        "blocking get local:port: {}",
        sync.get("local:port")?.describe()
    );
    Ok(())
}
