//! Unit tests' access to the guest components `tests/run.sh` builds, and
//! the compile cache the integration tests share.

use std::path::{Path, PathBuf};

/// The built component `file` (in `target/wasm32-wasip2/release`), or
/// `None` after saying it is missing (a failure under `CI=true`).
pub(crate) fn built_guest(file: &str) -> Option<PathBuf> {
    let path = target_dir().join("wasm32-wasip2/release").join(file);
    if path.is_file() {
        return Some(path);
    }
    let message = format!(
        "{} is not built: run `bash tests/run.sh`, which builds every guest component",
        path.display()
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("\n*** SKIPPING: {message} ***\n");
    None
}

/// The compile cache shared with the integration tests.
pub(crate) fn shared_cache() -> PathBuf {
    target_dir().join("test-wasm-cache")
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")
}
