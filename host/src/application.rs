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
use crate::manager::{SecretEvent, SecretEvents};
use crate::tokens::{resolve_tokens, token_keys};

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
    /// The config before token resolution, to render a service's section
    /// again when a secret it uses changes.
    unresolved: ConfigTree,
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
        let unresolved = document.tree.clone();
        let mut load_report = LoadReport::default();
        if let Some(secrets) = &secrets {
            load_report = secrets.load().await?;
            resolve_tokens(&mut document.tree, secrets).await?;
        }
        Ok(Self {
            document,
            unresolved,
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

    /// A watch on service `name`'s section: it yields a new context each
    /// time a refresh changes (or removes) a secret the section's tokens
    /// use, so the service can re-read its settings. `None` without a
    /// manager.
    pub fn watch_service(&self, name: &str) -> Option<ServiceWatch> {
        let secrets = self.secrets.clone()?;
        let section = ConfigTree::new(
            self.unresolved
                .get("services")
                .and_then(|services| services.get(name))
                .cloned()
                .unwrap_or(Value::Null),
        );
        let keys = token_keys(&section);
        let events = secrets.events();
        secrets.start_refresh();
        Some(ServiceWatch {
            name: name.to_owned(),
            section,
            keys,
            secrets,
            events,
        })
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

/// New contexts for one service as the secrets its section uses change
/// ([`Application::watch_service`]).
#[derive(Debug)]
pub struct ServiceWatch {
    name: String,
    section: ConfigTree,
    keys: std::collections::BTreeSet<String>,
    secrets: SecretsManager,
    events: SecretEvents,
}

impl ServiceWatch {
    /// The keys the section's tokens use.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    /// Waits for a change to one of [`keys`](Self::keys) and returns the
    /// section rendered again; an error when a token can no longer be
    /// resolved (a secret was removed). `None` once no refresh can happen.
    pub async fn changed(&mut self) -> Option<Result<ServiceContext>> {
        loop {
            let event = self.events.recv().await?;
            let relevant = match &event {
                SecretEvent::Missed { .. } => true,
                other => other.key().is_some_and(|key| self.keys.contains(key)),
            };
            if !relevant {
                continue;
            }
            let mut section = self.section.clone();
            return Some(
                resolve_tokens(&mut section, &self.secrets)
                    .await
                    .map(|()| ServiceContext::new(&self.name, section, Some(self.secrets.clone()))),
            );
        }
    }
}
