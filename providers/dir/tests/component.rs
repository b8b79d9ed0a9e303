//! The Wasm build of this provider is a component of the
//! `provider-component` world: it exports the `provider` interface of
//! `processpype:secrets@0.2.0` (and not 0.1.0's `backend`).
//!
//! `tests/run.sh` builds the component before the tests run; under
//! `CI=true` a missing build fails this test instead of skipping it.

use std::path::PathBuf;

fn component_path() -> PathBuf {
    std::env::var_os("PP_DIR_PROVIDER_WASM").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/wasm32-wasip2/release/pp_secrets_dir_provider.wasm")
        },
        PathBuf::from,
    )
}

#[test]
fn wasm_build_exports_the_0_2_provider_interface() {
    let path = component_path();
    let Ok(bytes) = std::fs::read(&path) else {
        let message = format!(
            "{} is not built: run `bash tests/run.sh` (or cargo build --release \
             --target wasm32-wasip2 -p pp-secrets-dir-provider)",
            path.display()
        );
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("\n*** SKIPPING: {message} ***\n");
        return;
    };
    assert_eq!(
        &bytes[..8],
        b"\0asm\x0d\x00\x01\x00",
        "a component, not a core module"
    );
    let decoded = wit_component::decode(&bytes).expect("the component decodes");
    let wit_component::DecodedWasm::Component(resolve, world) = decoded else {
        panic!("decoded as a WIT package, not a component");
    };
    let world = &resolve.worlds[world];
    let exports: Vec<String> = world
        .exports
        .keys()
        .map(|k| resolve.name_world_key(k))
        .collect();
    assert_eq!(
        exports,
        ["processpype:secrets/provider@0.2.0"],
        "exports: {exports:?}"
    );
    // The SDK's app bindings (the `manager` import) stay out of a provider.
    let imports: Vec<String> = world
        .imports
        .keys()
        .map(|k| resolve.name_world_key(k))
        .collect();
    assert!(
        imports
            .iter()
            .all(|i| !i.starts_with("processpype:secrets/manager")),
        "imports: {imports:?}"
    );
}
