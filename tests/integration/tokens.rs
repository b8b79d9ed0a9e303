//! `${secret://backend:key}` resolution (the README's "`${secret://backend:key}` tokens").

use std::sync::Arc;

use pp_secrets::{ErrorKind, SecretsManager, resolve_tokens};
use serde_yaml::Value;

use crate::manager::MapProvider;
use crate::support::block_on;

fn manager() -> SecretsManager {
    let p = MapProvider::with(&[
        ("user", "alice"),
        ("creds", r#"{"key": "abc", "secret": "xyz"}"#),
        ("hidden", "TOKENCANARY"),
    ]);
    SecretsManager::builder()
        .shared_backend("m", "", Arc::new(p))
        .build()
        .expect("valid")
}

fn resolve(yaml: &str) -> pp_secrets::Result<Value> {
    let mut tree: Value = serde_yaml::from_str(yaml).expect("yaml");
    block_on(resolve_tokens(&mut tree, &manager()))?;
    Ok(tree)
}

#[test]
fn whole_scalar_object_token_becomes_a_mapping() {
    let tree = resolve("svc:\n  creds: ${secret://m:creds}\n").expect("resolves");
    assert_eq!(tree["svc"]["creds"]["secret"], "xyz");
}

#[test]
fn object_inside_a_longer_string_is_compact_json() {
    let tree = resolve("v: \"x=${secret://m:creds};\"\n").expect("resolves");
    assert_eq!(tree["v"], "x={\"key\":\"abc\",\"secret\":\"xyz\"};");
}

#[test]
fn several_tokens_in_any_section_and_in_lists() {
    let tree =
        resolve("a:\n  - \"${secret://m:user}@${secret://m:user}\"\n  - ${secret://m:user}\n")
            .expect("resolves");
    assert_eq!(tree["a"][0], "alice@alice");
    assert_eq!(tree["a"][1], "alice");
}

#[test]
fn unresolvable_token_names_the_token_and_its_path_but_no_value() {
    let e = resolve(
        "services:\n  my_service:\n    a: ${secret://m:hidden}\n    api_key: ${secret://m:nope}\n",
    )
    .expect_err("missing");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let msg = e.to_string();
    assert!(msg.contains("${secret://m:nope}"), "{msg}");
    assert!(msg.contains("services.my_service.api_key"), "{msg}");
    let chain = format!(
        "{e:?} {}",
        std::error::Error::source(&e)
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    assert!(!chain.contains("TOKENCANARY"), "{chain}");
}

#[test]
fn token_without_backend_separator_is_a_usage_error_with_its_path() {
    let e = resolve("list:\n  - ok\n  - ${secret://nocolon}\n").expect_err("bad key");
    assert_eq!(e.kind(), ErrorKind::Usage);
    assert!(e.to_string().contains("list[1]"), "{e}");
}

#[test]
fn tree_is_unchanged_when_resolution_fails() {
    let yaml = "a: ${secret://m:user}\nb: ${secret://m:nope}\n";
    let mut tree: Value = serde_yaml::from_str(yaml).expect("yaml");
    let before = tree.clone();
    assert!(block_on(resolve_tokens(&mut tree, &manager())).is_err());
    assert_eq!(tree, before);
}
