//! The `dir` provider component keeps what it read and serves it while the
//! file is unchanged; a file changed on disk is read again on the next
//! get, whether it was rewritten in place or rotated the kubelet's way.

use std::fs;
use std::os::unix::fs::symlink;
use std::time::Duration;

use pp_secrets::SecretsManager;

use super::{guest, manager, serving_dir, wasm_backend};
use crate::support::ExposeText;
use crate::support::block_on;

/// Longer than the provider's settling time: a file this old is kept.
const SETTLE: Duration = Duration::from_millis(2_200);

fn get(secrets: &SecretsManager, name: &str) -> String {
    let key = format!("mounted:{name}");
    let value = block_on(secrets.get_raw(&key)).expect("served");
    value.expose().to_owned()
}

#[test]
fn changed_files_are_read_again_through_the_component() {
    let Some(component) = guest("dir") else {
        return;
    };
    let volume = tempfile::tempdir().expect("tempdir");
    let root = volume.path();
    fs::write(root.join("plain"), "plain-one").expect("write");
    let first = root.join("..2026_11_29_07_00_00.000000001");
    fs::create_dir(&first).expect("mkdir");
    fs::write(first.join("rotated"), "rotated-one").expect("write");
    symlink("..2026_11_29_07_00_00.000000001", root.join("..data")).expect("link");
    symlink("..data/rotated", root.join("rotated")).expect("link");
    std::thread::sleep(SETTLE);

    let secrets = manager(&format!(
        "  backends:\n{}",
        wasm_backend("mounted", &component, &serving_dir(root))
    ));
    for _ in 0..2 {
        assert_eq!(get(&secrets, "plain"), "plain-one");
        assert_eq!(get(&secrets, "rotated"), "rotated-one");
    }

    // Rewritten in place, same length.
    fs::write(root.join("plain"), "plain-two").expect("write");
    assert_eq!(get(&secrets, "plain"), "plain-two");

    // Rotated: a new timestamped directory, `..data` swapped by a rename.
    let second = root.join("..2026_11_29_08_00_00.000000002");
    fs::create_dir(&second).expect("mkdir");
    fs::write(second.join("rotated"), "rotated-two").expect("write");
    symlink("..2026_11_29_08_00_00.000000002", root.join("..data_tmp")).expect("link");
    fs::rename(root.join("..data_tmp"), root.join("..data")).expect("swap");
    fs::remove_dir_all(&first).expect("old data removed");
    assert_eq!(get(&secrets, "rotated"), "rotated-two");

    // Removed.
    fs::remove_file(root.join("plain")).expect("remove");
    let gone = block_on(secrets.get_raw("mounted:plain"));
    assert!(gone.is_err_and(|e| e.kind() == pp_secrets::ErrorKind::NotFound));
}
