//! Rotation against moto: changes, additions and deletions seen within one
//! refresh, with the calls counted; a server that goes away and comes back.

use std::time::Duration;

use pp_secrets::config::RefreshSettings;
use pp_secrets::providers::AwsProvider;
use pp_secrets::{ErrorKind, SecretsManager};

use super::{create, sdk_client, setup, unique_prefix};
use crate::support::{block_on, cached_text};

fn refreshed_manager(endpoint: &str, prefix: &str, max_stale: Duration) -> SecretsManager {
    SecretsManager::builder()
        .backend(
            "aws",
            prefix,
            AwsProvider::with_client(sdk_client(endpoint), 4),
        )
        .refresh(
            "aws",
            RefreshSettings {
                every: Duration::from_secs(3600),
                max_stale,
            },
        )
        .load("aws:*")
        .build()
        .expect("valid")
}

#[test]
fn a_refresh_lists_once_and_fetches_only_what_changed() {
    let p = unique_prefix("rotation");
    let Some(s) = setup(&p) else { return };
    let names: Vec<String> = (0..150).map(|i| format!("{p}/s{i:03}")).collect();
    let secrets: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v1")).collect();
    create(&s.admin, &secrets);
    create(&s.admin, &[(&format!("{p}-other/x"), "outside the prefix")]);
    let manager = refreshed_manager(&s.proxy.endpoint, &format!("{p}/"), Duration::from_secs(60));
    block_on(async {
        assert_eq!(manager.load().await.expect("loads").loaded(), 150);

        // Nothing changed: two ListSecrets pages (100 a page), nothing else.
        s.proxy.reset_counts();
        let report = manager.refresh_now("aws").await.expect("refreshes");
        assert_eq!(report, Default::default());
        assert_eq!(s.proxy.calls("ListSecrets"), 2);
        assert_eq!(s.proxy.all_calls().values().sum::<usize>(), 2);

        // Two rotated, one new, one deleted: the same two pages, one batch
        // call for the three values to fetch, one read for the deletion.
        for name in [&names[3], &names[77]] {
            s.admin
                .put_secret_value()
                .secret_id(name)
                .secret_string("v2")
                .send()
                .await
                .expect("put");
        }
        s.admin
            .create_secret()
            .name(format!("{p}/new"))
            .secret_string("fresh")
            .send()
            .await
            .expect("create");
        s.admin
            .delete_secret()
            .secret_id(&names[9])
            .force_delete_without_recovery(true)
            .send()
            .await
            .expect("delete");
        s.proxy.reset_counts();
        let mut report = manager.refresh_now("aws").await.expect("refreshes");
        report.changed.sort();
        assert_eq!(report.changed, ["s003", "s077"]);
        assert_eq!(report.added, ["new"]);
        assert_eq!(report.removed, ["s009"]);
        assert_eq!(s.proxy.calls("ListSecrets"), 2);
        assert_eq!(s.proxy.calls("BatchGetSecretValue"), 1);
        // The listing is eventually consistent: the deletion is confirmed by
        // reading the secret before it is dropped.
        assert_eq!(s.proxy.calls("GetSecretValue"), 1);
        assert_eq!(s.proxy.all_calls().values().sum::<usize>(), 4);
        assert_eq!(cached_text(&manager, "aws:s003").as_deref(), Some("v2"));
        assert_eq!(cached_text(&manager, "aws:new").as_deref(), Some("fresh"));
        assert_eq!(cached_text(&manager, "aws:s009"), None);
        assert_eq!(cached_text(&manager, "aws:s004").as_deref(), Some("v1"));
    });
}

#[test]
fn moto_stopped_then_stale_then_dropped_then_recovered() {
    let Some(mut moto) = super::moto::private_moto() else {
        return;
    };
    let admin = sdk_client(&moto.endpoint);
    create(&admin, &[("app/db", "pw-1")]);
    let manager = refreshed_manager(&moto.endpoint, "app/", Duration::from_secs(2));
    block_on(async {
        manager.load().await.expect("loads");
        moto.stop();

        // Down: served stale.
        manager.refresh_now("aws").await.expect_err("down");
        assert_eq!(cached_text(&manager, "aws:db").as_deref(), Some("pw-1"));
        assert!(
            manager
                .refresh_status("aws")
                .expect("status")
                .serving_stale()
        );

        // Past max_stale: dropped; a read goes to AWS and fails.
        tokio::time::sleep(Duration::from_millis(2100)).await;
        manager.refresh_now("aws").await.expect_err("still down");
        assert_eq!(cached_text(&manager, "aws:db"), None);
        assert_eq!(
            manager.get("aws:db").await.expect_err("down").kind(),
            ErrorKind::Backend
        );

        // Back (a fresh server: the secret is put there again, rotated).
        moto.restart();
        let admin = sdk_client(&moto.endpoint);
        admin
            .create_secret()
            .name("app/db")
            .secret_string("pw-2")
            .send()
            .await
            .expect("create");
        let report = manager.refresh_now("aws").await.expect("back");
        assert_eq!(report.added, ["db"]);
        assert_eq!(cached_text(&manager, "aws:db").as_deref(), Some("pw-2"));
        let status = manager.refresh_status("aws").expect("status");
        assert!(!status.expired && !status.serving_stale(), "{status:?}");
    });
}
