//! Reading, listing and loading through the provider (the `aws` backend, as the README describes it).

use pp_secrets::ErrorKind;

use super::{Fault, create, create_binary, setup, unique_prefix};
use crate::support::ExposeText;
use crate::support::block_on;

#[test]
fn get_returns_text_objects_and_raw_strings() {
    let p = unique_prefix("get");
    let Some(s) = setup(&p) else { return };
    create(
        &s.admin,
        &[
            (&format!("{p}/plain"), "hello"),
            (&format!("{p}/creds"), r#"{"key": "k", "n": 1}"#),
        ],
    );
    block_on(async {
        assert_eq!(
            s.manager.get("aws:plain").await.expect("found").as_text(),
            Some("hello")
        );
        let creds = s.manager.get("aws:creds").await.expect("found");
        assert_eq!(creds.as_object().expect("object")["key"], "k");
        assert_eq!(
            s.manager
                .get_raw("aws:creds")
                .await
                .expect("found")
                .expose(),
            r#"{"key": "k", "n": 1}"#
        );
    });
    assert_eq!(s.proxy.calls("GetSecretValue"), 3);
}

#[test]
fn missing_secret_is_not_found() {
    let p = unique_prefix("missing");
    let Some(s) = setup(&p) else { return };
    let e = block_on(s.manager.get("aws:nope")).expect_err("missing");
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(
        block_on(s.manager.get_or_none("aws:nope"))
            .expect("no error")
            .is_none()
    );
}

/// The bytes `create_binary` stores.
const BLOB: &[u8] = &[0, 159, 146];

#[test]
fn binary_secrets_are_served_as_bytes_one_by_one_and_in_bulk() {
    let p = unique_prefix("binary");
    let Some(s) = setup(&p) else { return };
    create_binary(&s.admin, &format!("{p}/blob"));
    create(&s.admin, &[(&format!("{p}/text"), "t")]);
    block_on(async {
        let value = s.manager.get("aws:blob").await.expect("served");
        assert_eq!(value.as_bytes(), Some(BLOB));
        let raw = s.manager.get_raw("aws:blob").await.expect("served");
        assert_eq!(raw.expose_bytes(), BLOB);
        assert!(raw.as_text().is_none(), "bytes, not text");
        let error = value.text_of("aws:blob").expect_err("not UTF-8");
        assert_eq!(error.kind(), ErrorKind::Usage);
        assert!(error.to_string().contains("\"aws:blob\""), "{error}");

        // In bulk: one BatchGetSecretValue serves the text and the bytes.
        s.manager.clear_cache();
        s.proxy.reset_counts();
        let report = s.manager.load_declaration("aws:*").await.expect("loads");
        assert_eq!((report.matched, report.loaded), (2, 2));
        assert_eq!(s.proxy.calls("BatchGetSecretValue"), 1);
        assert_eq!(s.proxy.calls("GetSecretValue"), 0);
        let cached = s.manager.cached("aws:blob").expect("cached");
        assert_eq!(cached.as_bytes(), Some(BLOB));
    });
}

#[test]
fn a_refresh_sees_new_bytes_of_a_binary_secret() {
    let p = unique_prefix("binary-rotation");
    let Some(s) = setup(&p) else { return };
    create_binary(&s.admin, &format!("{p}/blob"));
    let manager = pp_secrets::SecretsManager::builder()
        .backend(
            "aws",
            &format!("{p}/"),
            pp_secrets::providers::AwsProvider::with_client(
                super::sdk_client(&s.proxy.endpoint),
                4,
            ),
        )
        .refresh(
            "aws",
            pp_secrets::config::RefreshSettings::every(std::time::Duration::from_secs(3600)),
        )
        .load("aws:*")
        .build()
        .expect("valid");
    block_on(async {
        manager.load().await.expect("loads");
        s.admin
            .put_secret_value()
            .secret_id(format!("{p}/blob"))
            .secret_binary(aws_sdk_secretsmanager::primitives::Blob::new(vec![
                1, 2, 255,
            ]))
            .send()
            .await
            .expect("put");
        let report = manager.refresh_now("aws").await.expect("refreshes");
        assert_eq!(report.changed, ["blob"]);
        let cached = manager.cached("aws:blob").expect("cached");
        assert_eq!(cached.as_bytes(), Some(&[1u8, 2, 255][..]));
    });
}

#[test]
fn exact_list_uses_the_name_filter_and_an_exact_match() {
    let p = unique_prefix("exact");
    let Some(s) = setup(&p) else { return };
    create(
        &s.admin,
        &[
            (&format!("{p}/binance"), "a"),
            (&format!("{p}/binance-futures"), "b"),
        ],
    );
    assert_eq!(
        block_on(s.manager.list("aws:binance")).expect("lists"),
        ["binance"]
    );
    let bodies = s.proxy.bodies("ListSecrets");
    assert_eq!(bodies.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&bodies[0]).expect("json body");
    assert_eq!(body["Filters"][0]["Key"], "name");
    assert_eq!(body["Filters"][0]["Values"][0], format!("{p}/binance"));
}

#[test]
fn check_is_one_unfiltered_list_of_one_entry() {
    let p = unique_prefix("check");
    let Some(s) = setup(&p) else { return };
    create(
        &s.admin,
        &[(&format!("{p}/a"), "a"), (&format!("{p}/b"), "b")],
    );
    block_on(s.manager.check_backend("aws")).expect("reachable");
    let bodies = s.proxy.bodies("ListSecrets");
    assert_eq!(bodies.len(), 1, "one call");
    let body: serde_json::Value = serde_json::from_str(&bodies[0]).expect("json body");
    assert_eq!(body["MaxResults"], 1);
    // No filter at all: AWS allows only a documented alphabet in filter
    // values, and a check should ask for nothing it could refuse.
    assert!(body.get("Filters").is_none(), "no filter: {body}");
}

#[test]
fn glob_list_sends_its_literal_prefix_and_matches_on_the_client() {
    let p = unique_prefix("glob");
    let Some(s) = setup(&p) else { return };
    create(
        &s.admin,
        &[
            (&format!("{p}/binance"), "a"),
            (&format!("{p}/binance-futures"), "b"),
            (&format!("{p}/kraken"), "c"),
            (&format!("{p}-other/binance"), "outside the prefix"),
        ],
    );
    assert_eq!(
        block_on(s.manager.list("aws:bin*")).expect("lists"),
        ["binance", "binance-futures"]
    );
    assert_eq!(
        block_on(s.manager.list("aws:*")).expect("lists"),
        ["binance", "binance-futures", "kraken"]
    );
    assert_eq!(
        block_on(s.manager.list("aws:?inance")).expect("lists"),
        ["binance"]
    );
    let filters: Vec<String> = s
        .proxy
        .bodies("ListSecrets")
        .iter()
        .map(|b| {
            let v: serde_json::Value = serde_json::from_str(b).expect("json body");
            v["Filters"][0]["Values"][0]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(
        filters,
        [format!("{p}/bin"), format!("{p}/"), format!("{p}/")]
    );
}

#[test]
fn load_fetches_in_batches_of_twenty() {
    let p = unique_prefix("batches");
    let Some(s) = setup(&p) else { return };
    let names: Vec<String> = (0..45).map(|i| format!("{p}/k{i:02}")).collect();
    let entries: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    create(&s.admin, &entries);
    let report = block_on(s.manager.load_declarations(&["aws:*"])).expect("loads");
    assert_eq!(report.loaded(), 45);
    assert_eq!(s.proxy.calls("ListSecrets"), 1);
    assert_eq!(s.proxy.calls("BatchGetSecretValue"), 3);
    assert_eq!(s.proxy.calls("GetSecretValue"), 0);
    for body in s.proxy.bodies("BatchGetSecretValue") {
        let v: serde_json::Value = serde_json::from_str(&body).expect("json body");
        assert!(v["SecretIdList"].as_array().expect("id list").len() <= 20);
    }
    assert_eq!(
        s.manager
            .cached("aws:k44")
            .and_then(|v| v.as_text().map(str::to_owned))
            .as_deref(),
        Some("v")
    );
}

#[test]
fn loading_1000_secrets_takes_10_list_pages_and_50_batch_calls() {
    let p = unique_prefix("thousand");
    let Some(s) = setup(&p) else { return };
    let names: Vec<String> = (0..1000).map(|i| format!("{p}/k{i:04}")).collect();
    let entries: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "value")).collect();
    create(&s.admin, &entries);
    let report = block_on(s.manager.load_declarations(&["aws:*"])).expect("loads");
    assert_eq!(report.loaded(), 1000);
    assert_eq!(s.proxy.calls("ListSecrets"), 10);
    assert_eq!(s.proxy.calls("BatchGetSecretValue"), 50);
    assert_eq!(s.proxy.calls("GetSecretValue"), 0);
}

#[test]
fn per_secret_batch_errors_are_reported_by_name() {
    let p = unique_prefix("partial");
    let Some(s) = setup(&p) else { return };
    create(
        &s.admin,
        &[
            (&format!("{p}/a"), "1"),
            (&format!("{p}/b"), "2"),
            (&format!("{p}/c"), "3"),
        ],
    );
    s.proxy.inject(
        Some("BatchGetSecretValue"),
        1,
        Fault::BatchEntryError {
            name: format!("{p}/b"),
            code: "DecryptionFailure".into(),
        },
    );
    let report = block_on(s.manager.load_declarations(&["aws:*"])).expect("partial failure loads");
    assert_eq!(report.declarations[0].failed, ["b"]);
    assert_eq!(report.loaded(), 2);
    let e = block_on(s.manager.get("aws:b"));
    assert!(e.is_ok(), "a later get asks again and succeeds");
}

#[test]
fn a_secret_left_out_of_the_batch_response_is_not_silently_lost() {
    let p = unique_prefix("leftout");
    let Some(s) = setup(&p) else { return };
    create(
        &s.admin,
        &[(&format!("{p}/a"), "1"), (&format!("{p}/b"), "2")],
    );
    s.proxy.inject(
        Some("BatchGetSecretValue"),
        1,
        Fault::BatchEntryMissing {
            name: format!("{p}/a"),
        },
    );
    let report = block_on(s.manager.load_declarations(&["aws:*"])).expect("loads");
    assert_eq!(report.declarations[0].failed, ["a"]);
}

#[test]
fn every_secret_failing_is_a_backend_error_with_the_aws_code() {
    let p = unique_prefix("allfail");
    let Some(s) = setup(&p) else { return };
    create(&s.admin, &[(&format!("{p}/a"), "1")]);
    s.proxy.inject(
        Some("BatchGetSecretValue"),
        1,
        Fault::BatchEntryError {
            name: format!("{p}/a"),
            code: "DecryptionFailure".into(),
        },
    );
    let e = block_on(s.manager.load_declarations(&["aws:*"])).expect_err("all failed");
    assert_eq!(e.kind(), ErrorKind::Backend);
    assert!(
        e.to_string().contains("secrets it matched failed to load"),
        "{e}"
    );
}

#[test]
fn exact_declaration_of_a_missing_secret_is_not_found() {
    let p = unique_prefix("exactmissing");
    let Some(s) = setup(&p) else { return };
    let e = block_on(s.manager.load_declarations(&["aws:ghost"])).expect_err("missing");
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

#[test]
fn denied_batch_calls_fall_back_to_one_get_per_secret() {
    let p = unique_prefix("denied");
    let Some(s) = setup(&p) else { return };
    let names: Vec<String> = (0..25).map(|i| format!("{p}/k{i:02}")).collect();
    let entries: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    create(&s.admin, &entries);
    s.proxy
        .inject(Some("BatchGetSecretValue"), 100, Fault::AccessDenied);
    let report =
        block_on(s.manager.load_declarations(&["aws:*"])).expect("loads through the fallback");
    assert_eq!(report.loaded(), 25);
    assert_eq!(s.proxy.calls("GetSecretValue"), 25);
    assert!(
        s.proxy.calls("BatchGetSecretValue") <= 2,
        "the denial is remembered"
    );
}
