//! The fixture is the dir provider built as a `processpype:secrets@0.1.0`
//! component: it exports 0.1.0's `backend` interface and nothing of 0.2.0.
//!
//! `tests/run.sh` builds the component before the tests run; under
//! `CI=true` a missing build fails this test instead of skipping it.

use std::path::PathBuf;

#[test]
fn wasm_build_exports_the_0_1_backend_interface() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../target/wasm32-wasip2/release/pp_secrets_dir_provider_v0_1.wasm");
    let Ok(bytes) = std::fs::read(&path) else {
        let message = format!(
            "{} is not built: run `bash tests/run.sh` (or cargo build --release \
             --target wasm32-wasip2 -p pp-secrets-dir-provider-v0-1)",
            path.display()
        );
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("\n*** SKIPPING: {message} ***\n");
        return;
    };
    let decoded = wit_component::decode(&bytes).expect("the component decodes");
    let wit_component::DecodedWasm::Component(resolve, world) = decoded else {
        panic!("decoded as a WIT package, not a component");
    };
    let exports: Vec<String> = resolve.worlds[world]
        .exports
        .keys()
        .map(|k| resolve.name_world_key(k))
        .collect();
    assert_eq!(exports, ["processpype:secrets/backend@0.1.0"]);
}
