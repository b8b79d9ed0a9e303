//! Configuration loading (SPEC §1): defaults, validation with errors that
//! name the backend and the field, `${VAR}` expansion, relative paths.

use pp_secrets::config::BackendKind;
use pp_secrets::{ConfigDocument, ErrorKind, SecretsManager};

use crate::support::fixture;

fn error_of(file: &str) -> String {
    let e = ConfigDocument::from_file(fixture(&format!("errors/{file}"))).expect_err("invalid");
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    e.to_string()
}

#[test]
fn defaults_are_disabled_cache_on_no_backends_no_load() {
    let doc = ConfigDocument::from_yaml_str("secrets: {}\n", ".").expect("valid");
    assert!(!doc.secrets.enabled);
    assert!(doc.secrets.cache_enabled);
    assert!(doc.secrets.backends.is_empty() && doc.secrets.load.is_empty());
    let doc = ConfigDocument::from_file(fixture("errors/no-secrets-section.yaml")).expect("valid");
    assert!(!doc.secrets.enabled);
}

#[test]
fn disabled_subsystem_gives_no_manager() {
    let m = SecretsManager::from_file(fixture("errors/disabled.yaml")).expect("valid");
    assert!(m.is_none());
}

#[test]
fn backend_type_defaults_to_env_and_prefix_to_empty() {
    let doc = ConfigDocument::from_yaml_str(
        "secrets:\n  enabled: true\n  backends:\n    e: {}\n    f:\n      prefix: P_\n",
        ".",
    )
    .expect("valid");
    assert_eq!(doc.secrets.backends[0].kind, BackendKind::Env);
    assert_eq!(doc.secrets.backends[0].prefix, "");
    assert_eq!(doc.secrets.backends[1].prefix, "P_");
}

#[test]
fn unknown_field_names_the_backend_and_the_field() {
    let msg = error_of("unknown-field.yaml");
    assert!(
        msg.contains("secrets.backends.local") && msg.contains("`pth`"),
        "{msg}"
    );
}

#[test]
fn unknown_field_in_the_section_is_an_error() {
    let msg = error_of("unknown-section-field.yaml");
    assert!(msg.contains("`cache`"), "{msg}");
}

#[test]
fn unknown_type_is_an_error_naming_it() {
    let msg = error_of("unknown-type.yaml");
    assert!(
        msg.contains("secrets.backends.vault.type") && msg.contains("hashicorp"),
        "{msg}"
    );
}

#[test]
fn missing_required_field_is_an_error_naming_it() {
    let msg = error_of("missing-path.yaml");
    assert!(
        msg.contains("secrets.backends.local") && msg.contains("`path`"),
        "{msg}"
    );
}

#[test]
fn wasm_type_is_not_built_in_yet() {
    let msg = error_of("wasm-not-built.yaml");
    assert!(msg.contains("`wasm` is not built in"), "{msg}");
    assert!(msg.contains("secrets.backends.plugin.type"), "{msg}");
}

#[cfg(not(feature = "aws"))]
#[test]
fn aws_type_is_not_built_in_without_the_feature() {
    let e = ConfigDocument::from_yaml_str("secrets:\n  backends:\n    a:\n      type: aws\n", ".")
        .expect_err("not built in");
    assert!(e.to_string().contains("`aws` is not built in"), "{e}");
}

#[cfg(feature = "aws")]
#[test]
fn aws_settings_are_read_with_their_defaults() {
    use pp_secrets::config::AwsSettings;
    let doc = ConfigDocument::from_yaml_str(
        "secrets:\n  backends:\n    a:\n      type: aws\n      region_name: eu-west-1\n      profile_name: \"\"\n      concurrency: 8\n",
        ".",
    )
    .expect("valid");
    let BackendKind::Aws(settings) = &doc.secrets.backends[0].kind else {
        panic!("aws backend");
    };
    assert_eq!(settings.region_name.as_deref(), Some("eu-west-1"));
    assert_eq!(
        settings.profile_name, None,
        "an empty profile means the default chain"
    );
    assert_eq!(settings.concurrency, 8);
    assert_eq!(settings.max_attempts, AwsSettings::default().max_attempts);
    let e = ConfigDocument::from_yaml_str(
        "secrets:\n  backends:\n    a:\n      type: aws\n      concurrency: 0\n",
        ".",
    )
    .expect_err("zero concurrency");
    assert!(
        e.to_string().contains("secrets.backends.a.concurrency"),
        "{e}"
    );
}

#[test]
fn unset_variable_is_an_error_naming_it_and_where() {
    let msg = error_of("unset-var.yaml");
    assert!(msg.contains("PPT_UNSET_PATH_VAR"), "{msg}");
    assert!(msg.contains("secrets.backends.local.path"), "{msg}");
    assert!(msg.contains("unset-var.yaml"), "{msg}");
}

#[test]
fn declaration_without_colon_is_an_error() {
    let msg = error_of("bad-declaration.yaml");
    assert!(msg.contains("secrets.load[0]"), "{msg}");
}

#[test]
fn wrong_value_type_names_the_field_not_the_value() {
    let e = ConfigDocument::from_yaml_str("secrets:\n  enabled: maybe-hunter2\n", ".")
        .expect_err("not a bool");
    let msg = e.to_string();
    assert!(
        msg.contains("secrets.enabled") && !msg.contains("hunter2"),
        "{msg}"
    );
    let doc = ConfigDocument::from_yaml_str("secrets:\n  enabled: \"true\"\n", ".").expect("valid");
    assert!(
        doc.secrets.enabled,
        "the strings true/false are accepted, for ${{VAR}}"
    );
}

#[test]
fn other_sections_belong_to_the_application() {
    let doc = ConfigDocument::from_yaml_str(
        "secrets:\n  enabled: true\nanything:\n  goes: [here]\n",
        ".",
    )
    .expect("valid");
    assert_eq!(doc.tree["anything"]["goes"][0], "here");
}

#[test]
fn relative_paths_are_resolved_against_the_config_directory() {
    let doc = ConfigDocument::from_file(fixture("basic/config.yaml")).expect("valid");
    let local = &doc.secrets.backends[1];
    let BackendKind::File { path } = &local.kind else {
        panic!("file backend");
    };
    assert!(path.is_absolute());
    assert_eq!(
        std::fs::canonicalize(path).expect("exists"),
        std::fs::canonicalize(fixture("basic/secrets.yaml")).expect("exists")
    );
}

#[test]
fn invalid_yaml_is_a_config_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("broken.yaml");
    std::fs::write(&path, "secrets: [unclosed\n").expect("write");
    let e = ConfigDocument::from_file(&path).expect_err("invalid yaml");
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(e.to_string().contains("broken.yaml"), "{e}");
}
