//! Rotation through provider components: a Kubernetes secret volume whose
//! `..data` link is swapped, seen through the `dir` provider; an etcd put
//! and delete, seen through the etcd provider. Wasm backends are refreshed
//! by re-reading through the bulk call (the README's "Rotation").

use std::fs;
use std::os::unix::fs::symlink;

use super::etcd_server::EtcdServer;
use super::{guest, manager, serving_dir, wasm_backend};
use crate::support::{block_on, cached_text};

/// Writes a kubelet-style generation `stamp` of the volume at `root` with
/// `secrets`, and points `..data` at it atomically (a new link renamed over
/// the old one, as the kubelet does).
fn kubelet_write(root: &std::path::Path, stamp: &str, secrets: &[(&str, &str)]) {
    let dir = root.join(stamp);
    fs::create_dir(&dir).expect("mkdir");
    for (name, value) in secrets {
        fs::write(dir.join(name), value).expect("write");
        let link = root.join(name);
        if fs::symlink_metadata(&link).is_err() {
            symlink(format!("..data/{name}"), link).expect("link");
        }
    }
    symlink(stamp, root.join("..data_tmp")).expect("link");
    fs::rename(root.join("..data_tmp"), root.join("..data")).expect("swap ..data");
}

#[test]
fn a_swapped_kubernetes_volume_is_seen_by_the_next_refresh() {
    let Some(component) = guest("dir") else {
        return;
    };
    let volume = tempfile::tempdir().expect("tempdir");
    let root = volume.path();
    kubelet_write(
        root,
        "..2026_12_01",
        &[("api_key", "key-1"), ("db", "db-1")],
    );
    let secrets = manager(&format!(
        "  refresh: {{ every: 1h }}\n  backends:\n{}  load: [\"mounted:*\"]\n",
        wasm_backend("mounted", &component, &serving_dir(root))
    ));
    block_on(async {
        secrets.load().await.expect("loads");
        assert_eq!(
            cached_text(&secrets, "mounted:api_key").as_deref(),
            Some("key-1")
        );
        kubelet_write(
            root,
            "..2026_12_02",
            &[("api_key", "key-2"), ("db", "db-1")],
        );
        let report = secrets.refresh_now("mounted").await.expect("refreshes");
        assert_eq!(report.changed, ["api_key"]);
        assert_eq!(
            cached_text(&secrets, "mounted:api_key").as_deref(),
            Some("key-2")
        );
        assert_eq!(cached_text(&secrets, "mounted:db").as_deref(), Some("db-1"));
    });
}

#[test]
fn an_etcd_put_and_delete_are_seen_by_the_next_refresh() {
    let Some(component) = guest("etcd") else {
        return;
    };
    let Some(server) = EtcdServer::start(&[("app/a", "one"), ("app/b", "two")]) else {
        return;
    };
    let secrets = manager(&format!(
        "  refresh: {{ every: 1h }}\n  backends:\n{}      prefix: app/\n  load: [\"etcd:*\"]\n",
        wasm_backend(
            "etcd",
            &component,
            &format!(
                "      config: {{ endpoint: {:?} }}\n      allow: {{ hosts: [{:?}] }}\n",
                server.endpoint(),
                server.addr
            )
        )
    ));
    block_on(async {
        secrets.load().await.expect("loads");
        server.put("app/a", "ONE");
        server.put("app/c", "three");
        server.delete("app/b");
        let report = secrets.refresh_now("etcd").await.expect("refreshes");
        assert_eq!(report.changed, ["a"]);
        assert_eq!(report.added, ["c"]);
        assert_eq!(report.removed, ["b"]);
        assert_eq!(cached_text(&secrets, "etcd:a").as_deref(), Some("ONE"));
        assert_eq!(cached_text(&secrets, "etcd:b"), None);
    });
}
