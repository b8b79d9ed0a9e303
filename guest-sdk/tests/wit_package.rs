//! The WIT package in `wit/` parses, validates, and has the shape the host
//! and this SDK rely on.

use wit_parser::{Resolve, WorldItem, WorldKey};

fn package() -> (Resolve, wit_parser::PackageId) {
    let mut resolve = Resolve::default();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../wit");
    let (id, _) = resolve.push_dir(dir).expect("wit/ parses and validates");
    (resolve, id)
}

fn interface_names(
    resolve: &Resolve,
    world: &str,
    items: impl Fn(&wit_parser::World) -> Vec<&WorldKey>,
) -> Vec<String> {
    let (_, world) = resolve
        .worlds
        .iter()
        .find(|(_, w)| w.name == world)
        .unwrap_or_else(|| panic!("world {world} exists"));
    items(world)
        .into_iter()
        .map(|k| resolve.name_world_key(k))
        .collect()
}

#[test]
fn package_is_processpype_secrets_and_versioned() {
    let (resolve, id) = package();
    let name = &resolve.packages[id].name;
    assert_eq!(
        (name.namespace.as_str(), name.name.as_str()),
        ("processpype", "secrets")
    );
    assert!(name.version.is_some(), "the package is versioned");
}

#[test]
fn provider_world_exports_the_backend_interface() {
    let (resolve, _) = package();
    let exports = interface_names(&resolve, "provider", |w| w.exports.keys().collect());
    assert!(
        exports
            .iter()
            .any(|e| e.starts_with("processpype:secrets/backend")),
        "{exports:?}"
    );
}

#[test]
fn app_world_imports_the_manager_interface() {
    let (resolve, _) = package();
    let imports = interface_names(&resolve, "app", |w| w.imports.keys().collect());
    assert!(
        imports
            .iter()
            .any(|i| i.starts_with("processpype:secrets/manager")),
        "{imports:?}"
    );
}

#[test]
fn interfaces_have_the_documented_functions_and_docs() {
    let (resolve, id) = package();
    let expect = [
        ("backend", &["setup", "get", "list", "get-matching"][..]),
        (
            "manager",
            &["get", "get-raw", "get-or-none", "list", "invalidate"][..],
        ),
    ];
    for (name, functions) in expect {
        let iface = resolve.packages[id].interfaces[name];
        let iface = &resolve.interfaces[iface];
        assert!(
            iface.docs.contents.is_some(),
            "interface {name} is documented"
        );
        for f in functions {
            let func = iface
                .functions
                .get(*f)
                .unwrap_or_else(|| panic!("{name}.{f} exists"));
            assert!(func.docs.contents.is_some(), "{name}.{f} is documented");
        }
    }
    let types = &resolve.interfaces[resolve.packages[id].interfaces["types"]];
    assert!(types.types.contains_key("error") && types.types.contains_key("matched-secret"));
}

#[test]
fn every_world_item_resolves() {
    let (resolve, _) = package();
    for (_, world) in resolve.worlds.iter() {
        for item in world.imports.values().chain(world.exports.values()) {
            if let WorldItem::Interface { id, .. } = item {
                assert!(resolve.interfaces.get(*id).is_some());
            }
        }
    }
}
