//! The Wasm build of this provider is a component of the `provider` world:
//! it exports the `backend` interface of `processpype:secrets`.
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
fn wasm_build_exports_the_backend_interface() {
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
    assert!(
        exports
            .iter()
            .any(|e| e == "processpype:secrets/backend@0.1.0"),
        "exports: {exports:?}"
    );
}
