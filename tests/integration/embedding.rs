//! What an embedder builds on: the blocking API (outside and inside a
//! runtime), an application started with a manager built in code, and a
//! `ServiceContext` made by hand.

use std::collections::BTreeMap;

use pp_secrets::{
    Application, ConfigDocument, ErrorKind, ManagerBuilder, Pattern, ProviderError,
    SecretsProvider, ServiceContext, StoredValue, async_trait, blocking,
};

use crate::support::ExposeText;
use crate::support::{block_on, cached_text, fixture};

/// A backend of the embedder's own, in memory.
struct InMemory(BTreeMap<&'static str, &'static str>);

#[async_trait]
impl SecretsProvider for InMemory {
    async fn get(&self, name: &str) -> Result<StoredValue, ProviderError> {
        self.0
            .get(name)
            .map(|v| StoredValue::from(*v))
            .ok_or(ProviderError::NotFound)
    }

    async fn list(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError> {
        Ok(self
            .0
            .keys()
            .filter(|k| pattern.matches(k))
            .map(|k| k.to_string())
            .collect())
    }
}

fn basic_blocking() -> blocking::SecretsManager {
    blocking::SecretsManager::from_file(fixture("app/config.yaml"))
        .expect("valid")
        .expect("enabled")
}

/// Every operation of the blocking manager, on the calling thread.
fn exercise(secrets: &blocking::SecretsManager) {
    assert_eq!(secrets.cached("local:db_host"), None, "nothing loaded yet");
    let report = secrets.load().expect("loads");
    assert_eq!(report.loaded(), 3);
    assert_eq!(
        cached_text(secrets.as_async(), "local:db_host").as_deref(),
        Some("localhost")
    );
    let creds = secrets.get("local:api_credentials").expect("present");
    assert!(creds.as_object().is_some(), "JSON objects are parsed");
    let raw = secrets.get_raw("local:api_credentials").expect("present");
    assert!(raw.expose().starts_with('{'), "raw is the stored string");
    assert!(secrets.get_or_none("local:absent").expect("ok").is_none());
    assert!(
        secrets
            .get_raw_or_none("local:absent")
            .expect("ok")
            .is_none()
    );
    assert!(secrets.get_raw_or_none("nope:x").expect("ok").is_none());
    assert!(
        secrets
            .get_raw_or_none("local:db_host")
            .expect("ok")
            .is_some()
    );
    assert_eq!(
        secrets.get("local:absent").expect_err("absent").kind(),
        ErrorKind::NotFound
    );
    let names = secrets.list("local:db_*").expect("lists");
    assert_eq!(names, ["db_host", "db_password", "db_port"]);
    assert_eq!(
        secrets.list("local:[z-a]").expect_err("bad glob").kind(),
        ErrorKind::Usage
    );
    let one = secrets.load_declaration("local:api_*").expect("loads");
    assert_eq!(one.loaded, 1);
    secrets.invalidate("local:db_host");
    assert_eq!(secrets.cached("local:db_host"), None);
    assert!(secrets.get("local:db_host").is_ok(), "fetched again");
    secrets.clear_cache();
    assert_eq!(secrets.cached("local:db_host"), None);
    secrets.check_backend("local").expect("reachable");
    assert_eq!(secrets.backend_names(), ["local"]);
    assert_eq!(secrets.declarations(), ["local:db_*"]);
}

#[test]
fn the_blocking_api_needs_no_runtime() {
    exercise(&basic_blocking());
}

#[test]
fn the_blocking_api_works_inside_a_current_thread_runtime() {
    block_on(async {
        let secrets = basic_blocking();
        exercise(&secrets);
        // Dropped inside the runtime: no panic.
        drop(secrets);
    });
}

#[test]
fn the_blocking_api_works_inside_a_multi_thread_runtime() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let task = tokio::spawn(async {
            let secrets = basic_blocking();
            exercise(&secrets);
        });
        task.await.expect("no panic");
    });
}

#[test]
fn blocking_clones_share_the_cache_and_serve_many_threads() {
    let secrets = basic_blocking();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let secrets = secrets.clone();
            scope.spawn(move || {
                for _ in 0..50 {
                    assert!(secrets.get("local:db_password").is_ok());
                }
            });
        }
    });
    assert!(secrets.cached("local:db_password").is_some());
    // The async face shares the same cache.
    assert!(secrets.as_async().cached("local:db_password").is_some());
}

#[test]
fn a_panicking_backend_is_an_error_of_the_blocking_call_not_a_hang() {
    struct Panics;
    #[async_trait]
    impl SecretsProvider for Panics {
        async fn get(&self, _: &str) -> Result<StoredValue, ProviderError> {
            panic!("provider bug")
        }
        async fn list(&self, _: &Pattern) -> Result<Vec<String>, ProviderError> {
            Ok(Vec::new())
        }
    }
    let manager = pp_secrets::SecretsManager::builder()
        .backend("p", "", Panics)
        .build()
        .expect("valid");
    let secrets = blocking::SecretsManager::new(manager).expect("worker");
    let e = secrets.get("p:x").expect_err("panicked");
    assert_eq!(e.kind(), ErrorKind::Backend);
    // The worker survives the panic.
    assert!(secrets.list("p:*").expect("lists").is_empty());
}

#[test]
fn an_application_started_with_its_own_manager_feeds_tokens_services_and_load() {
    let document = ConfigDocument::from_yaml_str(
        "secrets:\n  enabled: true\n  backends:\n    local:\n      type: file\n      \
         path: ../basic/secrets.yaml\n  load: [\"local:db_*\"]\n\
         services:\n  billing:\n    db: ${secret://local:db_password}\n    \
         vault: ${secret://memory:token}\n",
        fixture("app"),
    )
    .expect("valid");
    let secrets = ManagerBuilder::from_config(&document.secrets)
        .expect("builds")
        .backend(
            "memory",
            "svc/",
            InMemory(BTreeMap::from([("svc/token", "t-123"), ("svc/other", "o")])),
        )
        .load("memory:*")
        .build()
        .expect("valid");
    let app = block_on(Application::with_manager(document, secrets)).expect("starts");
    // The config's declaration and the one added in code both ran.
    let loaded: Vec<_> = app
        .load_report()
        .declarations
        .iter()
        .map(|d| (d.declaration.as_str(), d.loaded))
        .collect();
    assert_eq!(loaded, [("local:db_*", 3), ("memory:*", 2)]);
    let context = app.service_context("billing");
    assert_eq!(context.config()["vault"], "t-123", "a code backend's token");
    assert_eq!(context.config()["db"], "pw-from-default");
    let secrets = context.secrets().expect("the manager");
    assert!(secrets.cached("memory:other").is_some(), "preloaded");
}

#[test]
fn a_service_context_can_be_made_for_a_unit_test() {
    #[derive(serde::Deserialize)]
    struct Settings {
        port: u16,
    }
    let manager = pp_secrets::SecretsManager::builder()
        .backend("memory", "", InMemory(BTreeMap::from([("k", "v")])))
        .build()
        .expect("valid");
    let section: serde_yaml::Value = serde_yaml::from_str("port: 8080").expect("yaml");
    let context = ServiceContext::new("billing", section, Some(manager));
    assert_eq!(context.name(), "billing");
    let settings: Settings = context.config_as().expect("fits");
    assert_eq!(settings.port, 8080);
    let value = block_on(context.secrets().expect("given").get("memory:k")).expect("present");
    assert_eq!(value.as_text(), Some("v"));
}

#[test]
fn config_as_names_the_field_and_types_never_the_value() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Settings {
        port: u16,
        db: Db,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Db {
        password: u32,
    }
    let section: serde_yaml::Value =
        serde_yaml::from_str("port: 1\ndb: {password: LEAKCANARY-pw}\n").expect("yaml");
    let context = ServiceContext::new("billing", section, None);
    let e = context.config_as::<Settings>().expect_err("does not fit");
    let message = e.to_string();
    assert!(!message.contains("LEAKCANARY"), "no value in the error");
    assert_eq!(e.kind(), ErrorKind::Config);
    assert_eq!(
        message,
        "services.billing.db.password: expected u32, found a string"
    );
}

#[test]
fn a_backend_calling_the_blocking_manager_it_serves_gets_an_error_not_a_hang() {
    use std::sync::{Arc, Mutex};

    /// Reads another secret through the blocking manager it is part of.
    struct Reentrant(Arc<Mutex<Option<blocking::SecretsManager>>>);

    #[async_trait]
    impl SecretsProvider for Reentrant {
        async fn get(&self, _: &str) -> Result<StoredValue, ProviderError> {
            let secrets = self.0.lock().expect("lock").clone();
            let secrets = secrets.ok_or(ProviderError::NotFound)?;
            secrets
                .get("memory:k")
                .map(|v| StoredValue::Text(v.to_text().unwrap_or_default()))
                .map_err(|e| ProviderError::failed(e.to_string()))
        }
        async fn list(&self, _: &Pattern) -> Result<Vec<String>, ProviderError> {
            Ok(Vec::new())
        }
    }

    let slot = Arc::new(Mutex::new(None));
    let manager = pp_secrets::SecretsManager::builder()
        .backend("re", "", Reentrant(slot.clone()))
        .backend("memory", "", InMemory(BTreeMap::from([("k", "v")])))
        .build()
        .expect("valid");
    let secrets = blocking::SecretsManager::new(manager).expect("worker");
    *slot.lock().expect("lock") = Some(secrets.clone());
    let e = secrets.get("re:x").expect_err("refused");
    assert!(
        pp_secrets::error::with_causes(&e).contains("its own worker thread"),
        "{e}"
    );
    // Break the cycle (manager -> provider -> blocking manager) so the
    // worker stops.
    slot.lock().expect("lock").take();
}
