//! The manager's contract (keys, prefixes, patterns and the manager, as the README states them), driven through an in-memory
//! provider that counts how it is called.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use pp_secrets::{
    ErrorKind, MatchedSecret, Pattern, ProviderError, SecretsManager, SecretsProvider, StoredValue,
    async_trait,
};

use crate::support::ExposeText;
use crate::support::{block_on, with_causes};

/// A provider over a mutable map, counting calls; names in `failing` fail.
#[derive(Default)]
pub struct MapProvider {
    pub values: Mutex<BTreeMap<String, String>>,
    pub failing: Vec<String>,
    pub list_fails: bool,
    pub gets: AtomicUsize,
    pub lists: AtomicUsize,
}

impl MapProvider {
    pub fn with(entries: &[(&str, &str)]) -> Self {
        let provider = Self::default();
        provider.set_all(entries);
        provider
    }

    pub fn set_all(&self, entries: &[(&str, &str)]) {
        let mut values = self.values.lock().expect("lock");
        for (k, v) in entries {
            values.insert((*k).to_owned(), (*v).to_owned());
        }
    }

    pub fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl SecretsProvider for MapProvider {
    async fn get(&self, name: &str) -> Result<StoredValue, ProviderError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        if self.failing.iter().any(|f| f == name) {
            return Err(ProviderError::failed("simulated outage"));
        }
        let values = self.values.lock().expect("lock");
        values
            .get(name)
            .map(|v| StoredValue::from(v.as_str()))
            .ok_or(ProviderError::NotFound)
    }

    async fn list(&self, pattern: &Pattern) -> Result<Vec<String>, ProviderError> {
        self.lists.fetch_add(1, Ordering::SeqCst);
        if self.list_fails {
            return Err(ProviderError::failed("listing refused"));
        }
        let values = self.values.lock().expect("lock");
        Ok(values
            .keys()
            .filter(|k| pattern.matches(k))
            .cloned()
            .collect())
    }
}

fn manager_with(provider: Arc<MapProvider>, prefix: &str, cache: bool) -> SecretsManager {
    SecretsManager::builder()
        .shared_backend("m", prefix, provider)
        .cache_enabled(cache)
        .build()
        .expect("valid manager")
}

#[test]
fn get_fetches_once_then_serves_from_the_cache() {
    let p = Arc::new(MapProvider::with(&[("a", "1")]));
    let m = manager_with(p.clone(), "", true);
    block_on(async {
        assert_eq!(m.get("m:a").await.expect("found").as_text(), Some("1"));
        p.set_all(&[("a", "changed")]);
        assert_eq!(m.get("m:a").await.expect("found").as_text(), Some("1"));
    });
    assert_eq!(p.gets(), 1);
}

#[test]
fn with_caching_off_every_get_asks_the_backend() {
    let p = Arc::new(MapProvider::with(&[("a", "1")]));
    let m = manager_with(p.clone(), "", false);
    block_on(async {
        m.get("m:a").await.expect("found");
        p.set_all(&[("a", "2")]);
        assert_eq!(m.get("m:a").await.expect("found").as_text(), Some("2"));
    });
    assert_eq!(p.gets(), 2);
    assert_eq!(m.cached_len(), 0);
}

#[test]
fn raw_bypasses_the_cache_both_ways() {
    let p = Arc::new(MapProvider::with(&[("j", r#"{"a": 1}"#)]));
    let m = manager_with(p.clone(), "", true);
    block_on(async {
        // Raw does not write the cache...
        assert_eq!(
            m.get_raw("m:j").await.expect("found").expose(),
            r#"{"a": 1}"#
        );
        assert!(m.cached("m:j").is_none());
        // ...and does not read it.
        assert!(m.get("m:j").await.expect("found").as_object().is_some());
        p.set_all(&[("j", "new")]);
        assert_eq!(m.get_raw("m:j").await.expect("found").expose(), "new");
    });
    assert_eq!(p.gets(), 3);
}

#[test]
fn json_objects_are_parsed_and_everything_else_stays_text() {
    let p = Arc::new(MapProvider::with(&[
        ("obj", r#"{"user": "u", "n": 2}"#),
        ("arr", "[1, 2]"),
        ("num", "42"),
        ("str", r#""s""#),
    ]));
    let m = manager_with(p, "", true);
    block_on(async {
        let obj = m.get("m:obj").await.expect("found");
        assert_eq!(obj.as_object().expect("object")["user"], "u");
        for (key, text) in [("m:arr", "[1, 2]"), ("m:num", "42"), ("m:str", r#""s""#)] {
            assert_eq!(m.get(key).await.expect("found").as_text(), Some(text));
        }
    });
}

#[test]
fn missing_secret_is_not_found_and_get_or_none_gives_none() {
    let m = manager_with(Arc::new(MapProvider::default()), "", true);
    block_on(async {
        let e = m.get("m:absent").await.expect_err("missing");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(
            m.get_or_none("m:absent")
                .await
                .expect("not an error")
                .is_none()
        );
        let e = m.get("other:x").await.expect_err("unknown backend");
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert!(e.to_string().contains("unknown backend"));
        assert!(
            m.get_or_none("other:x")
                .await
                .expect("not an error")
                .is_none()
        );
    });
}

#[test]
fn get_or_none_still_fails_on_backend_errors() {
    let p = MapProvider {
        failing: vec!["down".into()],
        ..MapProvider::default()
    };
    let m = manager_with(Arc::new(p), "", true);
    let e = block_on(m.get_or_none("m:down")).expect_err("backend error");
    assert_eq!(e.kind(), ErrorKind::Backend);
}

#[test]
fn key_splits_at_the_first_colon() {
    let p = Arc::new(MapProvider::with(&[("a:c", "colon")]));
    let m = manager_with(p, "", true);
    assert_eq!(
        block_on(m.get("m:a:c")).expect("found").as_text(),
        Some("colon")
    );
    assert_eq!(
        block_on(m.get("nocolon")).expect_err("usage").kind(),
        ErrorKind::Usage
    );
}

#[test]
fn invalidate_and_clear_cache_force_a_new_fetch() {
    let p = Arc::new(MapProvider::with(&[("a", "1"), ("b", "2")]));
    let m = manager_with(p.clone(), "", true);
    block_on(async {
        m.get("m:a").await.expect("found");
        m.get("m:b").await.expect("found");
        p.set_all(&[("a", "1b"), ("b", "2b")]);
        m.invalidate("m:a");
        assert_eq!(m.get("m:a").await.expect("found").as_text(), Some("1b"));
        assert_eq!(m.get("m:b").await.expect("found").as_text(), Some("2"));
        m.clear_cache();
        assert_eq!(m.cached_len(), 0);
        assert_eq!(m.get("m:b").await.expect("found").as_text(), Some("2b"));
    });
}

#[test]
fn prefix_is_applied_for_the_provider_and_stripped_when_listing() {
    let p = Arc::new(MapProvider::with(&[
        ("production/exchanges/binance", "b"),
        ("production/exchanges/binance-futures", "bf"),
        ("production/exchanges-other/x", "outside"),
        ("binance", "unprefixed"),
    ]));
    let m = manager_with(p, "production/exchanges", true);
    block_on(async {
        assert_eq!(
            m.get("m:binance").await.expect("found").as_text(),
            Some("b")
        );
        assert_eq!(
            m.list("m:*").await.expect("lists"),
            ["binance", "binance-futures"]
        );
        assert_eq!(m.list("m:binance").await.expect("lists"), ["binance"]);
    });
}

#[test]
fn separator_prefix_is_prepended_verbatim() {
    let p = Arc::new(MapProvider::with(&[
        ("APP_API_KEY", "k"),
        ("APP/API_KEY", "wrong"),
    ]));
    let m = manager_with(p, "APP_", true);
    assert_eq!(
        block_on(m.get("m:API_KEY")).expect("found").as_text(),
        Some("k")
    );
    assert_eq!(block_on(m.list("m:*")).expect("lists"), ["API_KEY"]);
}

#[test]
fn load_caches_every_matching_secret() {
    let p = Arc::new(MapProvider::with(&[
        ("db_a", "1"),
        ("db_b", "2"),
        ("other", "3"),
    ]));
    let m = manager_with(p.clone(), "", true);
    let report = block_on(m.load_declarations(&["m:db_*"])).expect("loads");
    assert_eq!(report.declarations[0].matched, 2);
    assert_eq!(report.declarations[0].loaded, 2);
    assert_eq!(m.cached_len(), 2);
    let before = p.gets();
    assert_eq!(
        block_on(m.get("m:db_b")).expect("cached").as_text(),
        Some("2")
    );
    assert_eq!(p.gets(), before, "a loaded secret is served from the cache");
}

#[test]
fn load_with_caching_off_still_fetches_but_keeps_nothing() {
    let p = Arc::new(MapProvider::with(&[("db_a", "1"), ("db_b", "2")]));
    let m = manager_with(p.clone(), "", false);
    let report = block_on(m.load_declarations(&["m:db_*"])).expect("loads");
    assert_eq!(report.loaded(), 2);
    assert_eq!(p.gets(), 2);
    assert_eq!(m.cached_len(), 0);
}

#[test]
fn load_uses_the_providers_bulk_call() {
    /// Serves everything through `get_matching`; single gets would fail.
    struct BulkOnly(AtomicUsize);
    #[async_trait]
    impl SecretsProvider for BulkOnly {
        async fn get(&self, _: &str) -> Result<StoredValue, ProviderError> {
            Err(ProviderError::failed("single get not expected"))
        }
        async fn list(&self, _: &Pattern) -> Result<Vec<String>, ProviderError> {
            Err(ProviderError::failed("list not expected"))
        }
        async fn get_matching(&self, p: &Pattern) -> Result<Vec<MatchedSecret>, ProviderError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(["k1", "k2"]
                .iter()
                .filter(|n| p.matches(n))
                .map(|n| MatchedSecret::new((*n).into(), Ok(StoredValue::from("v"))))
                .collect())
        }
    }
    let provider = Arc::new(BulkOnly(AtomicUsize::new(0)));
    let m = SecretsManager::builder()
        .shared_backend("b", "", provider.clone())
        .build()
        .expect("valid");
    let report = block_on(m.load_declarations(&["b:k*"])).expect("loads");
    assert_eq!(report.loaded(), 2);
    assert_eq!(provider.0.load(Ordering::SeqCst), 1);
}

#[test]
fn load_with_some_failures_warns_and_goes_on() {
    let p = MapProvider {
        failing: vec!["db_b".into()],
        ..MapProvider::with(&[("db_a", "1"), ("db_b", "2")])
    };
    let m = manager_with(Arc::new(p), "", true);
    let report = block_on(m.load_declarations(&["m:db_*", "m:db_a"])).expect("loads");
    assert_eq!(report.declarations[0].failed, ["db_b"]);
    assert_eq!(report.declarations[0].loaded, 1);
    assert_eq!(report.declarations.len(), 2, "later declarations still run");
}

#[test]
fn load_where_every_secret_fails_is_a_backend_error() {
    let p = MapProvider {
        failing: vec!["db_a".into(), "db_b".into()],
        ..MapProvider::with(&[("db_a", "1"), ("db_b", "2")])
    };
    let m = manager_with(Arc::new(p), "", true);
    let e = block_on(m.load_declarations(&["m:db_*"])).expect_err("all failed");
    assert_eq!(e.kind(), ErrorKind::Backend);
    assert!(
        e.to_string().contains("secrets it matched failed to load"),
        "{e}"
    );
    assert!(e.to_string().contains("m:db_*"), "{e}");
}

#[test]
fn exact_declaration_matching_nothing_is_not_found() {
    let m = manager_with(Arc::new(MapProvider::with(&[("a", "1")])), "", true);
    let e = block_on(m.load_declarations(&["m:missing"])).expect_err("fail fast");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(e.to_string().contains("m:missing"), "{e}");
}

#[test]
fn glob_declaration_matching_nothing_is_only_a_warning() {
    let m = manager_with(Arc::new(MapProvider::with(&[("a", "1")])), "", true);
    let report = block_on(m.load_declarations(&["m:zzz*"])).expect("a warning, not an error");
    assert_eq!(report.declarations[0].matched, 0);
}

#[test]
fn load_from_an_unknown_backend_is_a_backend_error() {
    let m = manager_with(Arc::new(MapProvider::default()), "", true);
    let e = block_on(m.load_declarations(&["ghost:*"])).expect_err("unknown backend");
    assert_eq!(e.kind(), ErrorKind::Backend);
    assert!(e.to_string().contains("ghost"));
}

#[test]
fn failure_to_list_is_a_backend_error() {
    let p = MapProvider {
        list_fails: true,
        ..MapProvider::default()
    };
    let m = manager_with(Arc::new(p), "", true);
    let e = block_on(m.load_declarations(&["m:*"])).expect_err("list failed");
    assert_eq!(e.kind(), ErrorKind::Backend);
    // The backend's error is kept as the cause.
    let message = with_causes(&e);
    assert!(
        message.contains("cannot list its secrets: ") && message.contains("listing refused"),
        "{message}"
    );
    assert_eq!(
        block_on(m.list("m:*")).expect_err("list failed").kind(),
        ErrorKind::Backend
    );
}

#[test]
fn configured_declarations_run_in_order() {
    let p = Arc::new(MapProvider::with(&[("a", "1"), ("b", "2")]));
    let m = SecretsManager::builder()
        .shared_backend("m", "", p)
        .load("m:b")
        .load("m:a")
        .build()
        .expect("valid");
    let report = block_on(m.load()).expect("loads");
    let order: Vec<_> = report
        .declarations
        .iter()
        .map(|d| d.declaration.as_str())
        .collect();
    assert_eq!(order, ["m:b", "m:a"]);
}

#[test]
fn builder_rejects_duplicate_and_malformed_backends() {
    let dup = SecretsManager::builder()
        .backend("x", "", MapProvider::default())
        .backend("x", "", MapProvider::default())
        .build();
    assert_eq!(dup.expect_err("duplicate").kind(), ErrorKind::Config);
    let colon = SecretsManager::builder()
        .backend("a:b", "", MapProvider::default())
        .build();
    assert_eq!(colon.expect_err("colon").kind(), ErrorKind::Config);
}

#[test]
fn cache_is_safe_to_use_from_many_threads_at_once() {
    let entries: Vec<(String, String)> = (0..64)
        .map(|i| (format!("k{i}"), format!("v{i}")))
        .collect();
    let refs: Vec<(&str, &str)> = entries
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let m = manager_with(Arc::new(MapProvider::with(&refs)), "", true);
    block_on(m.load_declarations(&["m:*"])).expect("loads");
    std::thread::scope(|s| {
        for t in 0..8 {
            let m = m.clone();
            s.spawn(move || {
                for round in 0..2_000 {
                    let i = (t * 7 + round) % 64;
                    let key = format!("m:k{i}");
                    if round % 500 == 0 {
                        m.invalidate(&key);
                        continue;
                    }
                    if let Some(v) = m.cached(&key) {
                        assert_eq!(v.as_text(), Some(format!("v{i}").as_str()));
                    }
                }
            });
        }
    });
}

#[test]
fn manager_debug_shows_names_not_values() {
    let m = manager_with(Arc::new(MapProvider::with(&[("a", "hunter2")])), "", true);
    block_on(m.get("m:a")).expect("found");
    let printed = format!("{m:?}");
    assert!(
        printed.contains("\"m\"") && !printed.contains("hunter2"),
        "{printed}"
    );
}
