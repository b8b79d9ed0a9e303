//! Configuration loading (the README's "Configuration reference"): defaults, validation with errors that
//! name the backend and the field, `${VAR}` expansion, relative paths.

use pp_secrets::config::{BackendKind, EnvSettings, FileSettings};
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
    assert_eq!(doc.secrets.backends[0].kind, BackendKind::Env(EnvSettings));
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

#[cfg(not(feature = "wasm"))]
#[test]
fn wasm_type_is_not_built_in_without_the_feature() {
    let msg = error_of("wasm-not-built.yaml");
    assert!(msg.contains("`wasm` is not built in"), "{msg}");
    assert!(msg.contains("secrets.backends.plugin.type"), "{msg}");
}

#[cfg(feature = "wasm")]
mod wasm_settings {
    use pp_secrets::ConfigDocument;
    use pp_secrets::config::{BackendKind, Limits, WasmSettings};

    fn settings(backend: &str) -> pp_secrets::Result<WasmSettings> {
        let yaml = format!("secrets:\n  backends:\n    plugin:\n      type: wasm\n{backend}");
        let doc = ConfigDocument::from_yaml_str(&yaml, "/etc/app")?;
        match &doc.secrets.backends[0].kind {
            BackendKind::Wasm(settings) => Ok(settings.clone()),
            other => panic!("not a wasm backend: {other:?}"),
        }
    }

    fn error(backend: &str) -> String {
        settings(backend).expect_err("invalid").to_string()
    }

    #[test]
    fn defaults_grant_nothing_with_safe_limits() {
        let s = settings("      path: p.wasm\n").expect("valid");
        assert_eq!(s.path, std::path::Path::new("/etc/app/p.wasm"));
        assert!(s.grants.env.is_empty() && s.grants.dirs.is_empty());
        assert_eq!(
            s.limits,
            Limits {
                memory_mb: 64,
                timeout_ms: 1_000,
                instances: 4,
                open_files: 16,
                handles: 256,
                max_names: 100_000,
                max_reply_mb: 64,
            }
        );
    }

    #[test]
    fn every_setting_is_read() {
        let s = settings(
            "      path: /opt/p.wasm\n      config: { dir: /run/secrets, retries: 3 }\n      \
             allow: { env: [TOKEN], dirs: [/run/secrets, rel] }\n      \
             limits: { memory_mb: 16, timeout_ms: 250, instances: 2, open_files: 8, \
             handles: 100, max_names: 10, max_reply_mb: 2 }\n",
        )
        .expect("valid");
        assert_eq!(s.config["dir"].expose(), "/run/secrets");
        assert_eq!(s.config["retries"].expose(), "3");
        assert_eq!(s.grants.env, ["TOKEN"]);
        assert_eq!(
            s.grants.dirs,
            [
                std::path::PathBuf::from("/run/secrets"),
                "/etc/app/rel".into()
            ]
        );
        assert_eq!(
            s.limits,
            Limits {
                memory_mb: 16,
                timeout_ms: 250,
                instances: 2,
                open_files: 8,
                handles: 100,
                max_names: 10,
                max_reply_mb: 2,
            }
        );
    }

    #[test]
    fn config_values_are_redacted_in_debug_output() {
        let s = settings("      path: p.wasm\n      config: { token: hunter2-canary }\n")
            .expect("valid");
        assert!(!format!("{s:?}").contains("hunter2-canary"));
    }

    #[test]
    fn a_missing_path_names_the_field() {
        let msg = error("      config: {}\n");
        assert!(msg.contains("missing required field `path`"), "{msg}");
    }

    #[test]
    fn an_unknown_grant_names_the_grants_there_are() {
        let msg = error("      path: p.wasm\n      allow: { files: [/] }\n");
        assert!(msg.contains("secrets.backends.plugin.allow"), "{msg}");
        assert!(msg.contains("unknown field `files`"), "{msg}");
        assert!(msg.contains("env, dirs, hosts"), "{msg}");
    }

    #[test]
    fn a_leading_tilde_is_the_home_directory_in_every_path_setting() {
        let Some(home) = std::env::var_os("HOME") else {
            return;
        };
        let home = std::path::PathBuf::from(home);
        let s = settings(
            "      path: ~/p.wasm\n      allow: { dirs: [~/mounted] }\n      \
             tls: { ca_file: ~/ca.pem }\n",
        )
        .expect("valid");
        assert_eq!(s.path, home.join("p.wasm"));
        assert_eq!(s.grants.dirs, [home.join("mounted")]);
        assert_eq!(s.tls.ca_file, Some(home.join("ca.pem")));
        let msg = error("      path: ~bob/p.wasm\n");
        assert!(msg.contains("secrets.backends.plugin.path"), "{msg}");
        assert!(
            msg.contains("only `~` (your home directory) is expanded"),
            "{msg}"
        );
    }

    #[test]
    fn directories_that_would_defeat_the_sandbox_are_refused() {
        let link_dir = tempfile::tempdir().expect("tempdir");
        let link = link_dir.path().join("into-proc");
        std::os::unix::fs::symlink("/proc/self", &link).expect("symlink");
        let link = link.display().to_string();
        for (dir, problem) in [
            ("/", "is the root directory"),
            ("/proc", "is on procfs"),
            ("/proc/self", "is on procfs"),
            ("/sys/kernel", "is on sysfs"),
            ("/dev", "is on devfs"),
            ("/etc/../proc", "resolves to /proc, which is on procfs"),
            (link.as_str(), "which is on procfs"),
        ] {
            let msg = error(&format!(
                "      path: p.wasm\n      allow: {{ dirs: [/srv/ok, {dir:?}] }}\n"
            ));
            assert!(
                msg.contains("secrets.backends.plugin.allow.dirs[1]"),
                "{msg}"
            );
            assert!(msg.contains(problem), "{dir}: {msg}");
        }
    }

    #[test]
    fn hosts_are_host_and_port_as_written() {
        let s = settings(
            "      path: p.wasm\n      allow: { hosts: [\"127.0.0.1:2379\", Etcd.Internal, \"[::1]:8080\"] }\n",
        )
        .expect("valid");
        let hosts: Vec<String> = s.grants.hosts.iter().map(ToString::to_string).collect();
        assert_eq!(hosts, ["127.0.0.1:2379", "etcd.internal", "[::1]:8080"]);
        let grant = &s.grants.hosts[0];
        assert!(grant.permits("127.0.0.1", 2379, 80));
        assert!(!grant.permits("127.0.0.1", 2380, 80));
        assert!(!grant.permits("localhost", 2379, 80));
        // A host without a port is granted on the scheme's default port.
        let named = &s.grants.hosts[1];
        assert!(named.permits("ETCD.internal", 443, 443));
        assert!(!named.permits("etcd.internal", 2379, 443));
        assert!(s.grants.hosts[2].permits("[::1]", 8080, 80));
    }

    #[test]
    fn a_malformed_host_names_the_entry() {
        for (entry, problem) in [
            ("http://etcd:2379", "is a URL"),
            ("etcd:notaport", "invalid port"),
            ("etcd:0", "invalid port"),
            ("*.internal:443", "not a host name"),
            ("[::1", "closing"),
            ("fe80::1:8080", "without brackets"),
        ] {
            let msg = error(&format!(
                "      path: p.wasm\n      allow: {{ hosts: [{entry:?}] }}\n"
            ));
            assert!(
                msg.contains("secrets.backends.plugin.allow.hosts[0]") && msg.contains(problem),
                "{entry}: {msg}"
            );
        }
    }

    #[test]
    fn limits_must_be_positive_and_sane() {
        let msg = error("      path: p.wasm\n      limits: { memory_mb: 0 }\n");
        assert!(
            msg.contains("secrets.backends.plugin.limits.memory_mb"),
            "{msg}"
        );
        let msg = error("      path: p.wasm\n      limits: { memory_mb: 100000 }\n");
        assert!(msg.contains("too large"), "{msg}");
    }

    #[test]
    fn config_values_must_be_scalars() {
        let msg = error("      path: p.wasm\n      config: { nested: { a: 1 } }\n");
        assert!(msg.contains("config.nested"), "{msg}");
        assert!(msg.contains("expected a string, found a mapping"), "{msg}");
    }

    #[test]
    fn a_granted_variable_name_must_be_a_name() {
        let msg = error("      path: p.wasm\n      allow: { env: ['A=B'] }\n");
        assert!(msg.contains("allow.env[0]"), "{msg}");
    }

    #[test]
    fn the_compile_cache_setting_is_read() {
        use pp_secrets::config::CompileCacheSetting;
        let cache = |v: &str| {
            ConfigDocument::from_yaml_str(&format!("secrets:\n  wasm_cache: {v}\n"), "/etc/app")
                .map(|d| d.secrets.wasm_cache)
        };
        assert_eq!(cache("false").expect("valid"), CompileCacheSetting::Off);
        assert_eq!(cache("true").expect("valid"), CompileCacheSetting::Default);
        assert_eq!(
            cache("c").expect("valid"),
            CompileCacheSetting::Dir("/etc/app/c".into())
        );
        assert!(cache("[1]").is_err());
    }
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
    let BackendKind::File(FileSettings { path }) = &local.kind else {
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
