//! Service integration: the application object of the original framework.
//!
//! An [`Application`] loads the whole config, builds the secrets manager when
//! `secrets.enabled` (or takes one built in code, see
//! [`Application::with_manager`]), runs its `load` declarations, resolves
//! `${secret://...}` tokens across the whole config, and hands each
//! registered [`Service`] a [`ServiceContext`]: its own section of the config
//! (`services.<name>`) and an `Option` of the shared manager (`None` only
//! when there is none).
//!
//! The resolved config holds secrets: its `Debug` shows only its shape, and
//! it is wiped when dropped (see [`ConfigTree`]).
//!
//! ```no_run
//! use pp_secrets::{Application, Service, ServiceContext};
//!
//! struct Billing { ctx: Option<ServiceContext> }
//!
//! impl Service for Billing {
//!     fn name(&self) -> &str { "billing" }
//!     fn attach(&mut self, ctx: ServiceContext) { self.ctx = Some(ctx); }
//! }
//!
//! # async fn demo() -> pp_secrets::Result<()> {
//! let mut app = Application::from_file("config.yaml").await?;
//! let billing = app.register(Billing { ctx: None });
//! # Ok(()) }
//! ```

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_yaml::Value;

use crate::config::{ConfigDocument, ConfigTree, settings_of};
use crate::error::{Error, Result};
use crate::manager::{LoadReport, SecretsManager};
use crate::tokens::resolve_tokens;

/// A service that receives its config section and the secrets manager.
pub trait Service {
    /// The service's name: its section is `services.<name>`.
    fn name(&self) -> &str;
    /// Called once by [`Application::register`].
    fn attach(&mut self, context: ServiceContext);
}

/// What a service is handed when it is registered.
#[derive(Debug, Clone)]
pub struct ServiceContext {
    name: String,
    config: ConfigTree,
    secrets: Option<SecretsManager>,
}

impl ServiceContext {
    /// A context made by hand, as [`Application::register`] would make it:
    /// for a service's unit tests, or a service started without an
    /// application. `config` is the service's section, tokens resolved.
    pub fn new(
        name: impl Into<String>,
        config: impl Into<ConfigTree>,
        secrets: Option<SecretsManager>,
    ) -> Self {
        Self {
            name: name.into(),
            config: config.into(),
            secrets,
        }
    }

    /// The service's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The service's config section, tokens resolved (`Null` when absent).
    /// A [`ConfigTree`]: it derefs to the `Value`, and its `Debug` shows no
    /// value.
    pub fn config(&self) -> &ConfigTree {
        &self.config
    }

    /// The section deserialised into `T`. An error names the field that
    /// does not fit (`services.billing.port`), what was expected and the
    /// type of what was found, never the value; a message `T`'s own
    /// `Deserialize` writes is withheld, as it may quote the value.
    pub fn config_as<T: DeserializeOwned>(&self) -> Result<T> {
        settings_of(&self.config).map_err(|e| {
            let path = e.path();
            let field = match path.as_str() {
                "" => format!("services.{}", self.name),
                _ => format!("services.{}.{path}", self.name),
            };
            Error::config(None, field, e.problem())
        })
    }

    /// The shared secrets manager; `None` when the subsystem is disabled.
    pub fn secrets(&self) -> Option<&SecretsManager> {
        self.secrets.as_ref()
    }
}

/// A loaded application config with its secrets manager.
#[derive(Debug)]
pub struct Application {
    document: ConfigDocument,
    secrets: Option<SecretsManager>,
    load_report: LoadReport,
    services: Vec<String>,
}

impl Application {
    /// Loads the config file at `path` and starts the secrets subsystem.
    pub async fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::start(ConfigDocument::from_file(path)?).await
    }

    /// As [`from_file`](Self::from_file), from YAML text; relative paths are
    /// resolved against `base_dir`.
    pub async fn from_yaml_str(yaml: &str, base_dir: impl AsRef<Path>) -> Result<Self> {
        Self::start(ConfigDocument::from_yaml_str(yaml, base_dir)?).await
    }

    /// Starts the secrets subsystem for a parsed config: builds the manager,
    /// runs the `load` declarations, resolves every token.
    pub async fn start(document: ConfigDocument) -> Result<Self> {
        let secrets = SecretsManager::from_document(&document)?;
        Self::run(document, secrets).await
    }

    /// Starts an application with a manager built in code, so that
    /// backends added in code feed `${secret://...}` tokens, services and
    /// `load` as the config's own do. The usual way to build one is
    /// [`ManagerBuilder::from_config`](crate::ManagerBuilder::from_config)
    /// with the document's `secrets` section, plus
    /// [`backend`](crate::ManagerBuilder::backend) calls. The manager's
    /// `load` declarations are run and every token is resolved with it,
    /// whatever the document's `secrets.enabled` says.
    pub async fn with_manager(document: ConfigDocument, secrets: SecretsManager) -> Result<Self> {
        Self::run(document, Some(secrets)).await
    }

    async fn run(mut document: ConfigDocument, secrets: Option<SecretsManager>) -> Result<Self> {
        let mut load_report = LoadReport::default();
        if let Some(secrets) = &secrets {
            load_report = secrets.load().await?;
            resolve_tokens(&mut document.tree, secrets).await?;
        }
        Ok(Self {
            document,
            secrets,
            load_report,
            services: Vec::new(),
        })
    }

    /// The whole config, `${VAR}` expanded and tokens resolved (a
    /// [`ConfigTree`]: it derefs to the `Value`, and its `Debug` shows no
    /// value).
    pub fn config(&self) -> &ConfigTree {
        &self.document.tree
    }

    /// The parsed config document.
    pub fn document(&self) -> &ConfigDocument {
        &self.document
    }

    /// The shared secrets manager; `None` when the subsystem is disabled.
    pub fn secrets(&self) -> Option<&SecretsManager> {
        self.secrets.as_ref()
    }

    /// What the start-up `load` did.
    pub fn load_report(&self) -> &LoadReport {
        &self.load_report
    }

    /// The context for the service called `name`.
    pub fn service_context(&self, name: &str) -> ServiceContext {
        let config = self
            .document
            .tree
            .get("services")
            .and_then(|services| services.get(name))
            .cloned()
            .unwrap_or(Value::Null);
        ServiceContext::new(name, config, self.secrets.clone())
    }

    /// Registers `service`, handing it its context, and gives it back.
    pub fn register<S: Service>(&mut self, mut service: S) -> S {
        let context = self.service_context(service.name());
        self.services.push(service.name().to_owned());
        service.attach(context);
        service
    }

    /// The names of the registered services, in order.
    pub fn services(&self) -> &[String] {
        &self.services
    }
}
