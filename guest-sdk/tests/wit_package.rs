//! The WIT packages in `wit/` (0.2.0) and `wit/v0.1.0` parse, validate,
//! and have the shape the host and this SDK rely on.

use wit_parser::{Resolve, WorldItem, WorldKey};

fn package_in(dir: &str) -> (Resolve, wit_parser::PackageId) {
    let mut resolve = Resolve::default();
    let dir = format!("{}/../{dir}", env!("CARGO_MANIFEST_DIR"));
    let (id, _) = resolve
        .push_dir(&dir)
        .unwrap_or_else(|e| panic!("{dir} parses and validates: {e:?}"));
    (resolve, id)
}

fn package() -> (Resolve, wit_parser::PackageId) {
    package_in("wit")
}

fn version(resolve: &Resolve, id: wit_parser::PackageId) -> String {
    resolve.packages[id]
        .name
        .version
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
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
    assert_eq!(version(&resolve, id), "0.2.0");
}

#[test]
fn provider_component_world_exports_the_provider_interface() {
    let (resolve, _) = package();
    let exports = interface_names(&resolve, "provider-component", |w| {
        w.exports.keys().collect()
    });
    assert_eq!(exports, ["processpype:secrets/provider@0.2.0"]);
}

#[test]
fn the_0_1_package_is_kept_with_its_backend_interface() {
    let (resolve, id) = package_in("wit/v0.1.0");
    assert_eq!(version(&resolve, id), "0.1.0");
    let exports = interface_names(&resolve, "provider", |w| w.exports.keys().collect());
    assert_eq!(exports, ["processpype:secrets/backend@0.1.0"]);
    let backend = &resolve.interfaces[resolve.packages[id].interfaces["backend"]];
    for f in ["setup", "get", "list", "get-matching"] {
        assert!(backend.functions.contains_key(f), "backend.{f}");
    }
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
        (
            "provider",
            &[
                "[static]provider.create",
                "[method]provider.get",
                "[method]provider.list",
                "[method]provider.get-matching",
                "[method]provider.changes",
            ][..],
        ),
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
    let provider = &resolve.interfaces[resolve.packages[id].interfaces["provider"]];
    let resource = provider.types["provider"];
    assert!(
        resolve.types[resource].docs.contents.is_some(),
        "the provider resource is documented"
    );
    let types = &resolve.interfaces[resolve.packages[id].interfaces["types"]];
    for name in [
        "error",
        "stored-value",
        "versioned-value",
        "matched-secret",
        "held-secret",
        "change-set",
        "changes",
    ] {
        let ty = types
            .types
            .get(name)
            .unwrap_or_else(|| panic!("types.{name} exists"));
        assert!(
            resolve.types[*ty].docs.contents.is_some(),
            "types.{name} is documented"
        );
    }
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
