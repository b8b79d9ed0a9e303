//! The built-in backends (the README's "Backend types"), driven through their providers and, for
//! what depends on environment variables, through the real binary.

use std::fs;

use pp_secrets::providers::{DotenvProvider, EnvProvider, FileProvider};
use pp_secrets::{Pattern, ProviderError, SecretsProvider};

use crate::support::ExposeText;
use crate::support::{block_on, fixture, run_with};

fn get(provider: &dyn SecretsProvider, name: &str) -> Result<String, ProviderError> {
    block_on(provider.get(name)).map(|t| t.expose().to_owned())
}

#[test]
fn file_backend_turns_values_into_strings_by_the_value_rules() {
    let p = FileProvider::new(fixture("file/values.yaml"));
    assert_eq!(get(&p, "text").as_deref(), Ok("hello"));
    assert_eq!(get(&p, "number").as_deref(), Ok("42"));
    assert_eq!(get(&p, "float").as_deref(), Ok("1.5"));
    assert_eq!(get(&p, "yes_no").as_deref(), Ok("true"));
    assert_eq!(get(&p, "nothing").as_deref(), Ok(""));
    assert_eq!(get(&p, "list").as_deref(), Ok(r#"[1,"two"]"#));
    assert_eq!(get(&p, "json_text").as_deref(), Ok(r#"{"k": "v"}"#));
    assert_eq!(get(&p, "absent"), Err(ProviderError::NotFound));
}

#[test]
fn file_backend_mapping_is_an_object_with_nested_variables_expanded() {
    let config = fixture("basic/config.yaml");
    let r = run_with(
        &config,
        &["get", "local:nested"],
        &[("PPT_DB_PASSWORD", "pw")],
    );
    r.expect_code(0);
    assert_eq!(
        r.stdout,
        "{\"user\":\"admin\",\"password\":\"pw\",\"ports\":[1,2]}\n"
    );
    // Raw: the compact JSON text.
    let r = run_with(
        &config,
        &["get", "local:nested", "--raw"],
        &[("PPT_DB_PASSWORD", "pw")],
    );
    assert_eq!(
        r.stdout,
        "{\"user\":\"admin\",\"password\":\"pw\",\"ports\":[1,2]}\n"
    );
    // A list is its JSON text, and stays text.
    let r = run_with(&config, &["get", "local:flags", "--json"], &[]);
    assert_eq!(r.stdout, "\"[\\\"a\\\",\\\"b\\\"]\"\n");
    // JSON-array text stays text.
    let r = run_with(&config, &["get", "local:json_array", "--json"], &[]);
    assert_eq!(r.stdout, "\"[1, 2, 3]\"\n");
}

#[test]
fn file_backend_expands_variables_at_call_time_with_defaults() {
    let config = fixture("basic/config.yaml");
    let r = run_with(
        &config,
        &["get", "local:db_password"],
        &[("PPT_DB_PASSWORD", "from-env")],
    );
    assert_eq!(r.stdout, "from-env\n");
    let r = run_with(&config, &["get", "local:db_password"], &[]);
    assert_eq!(r.stdout, "pw-from-default\n");
}

#[test]
fn file_backend_unset_variable_is_a_backend_error_naming_it() {
    let p = FileProvider::new(fixture("file/values.yaml"));
    let Err(ProviderError::Failed(reason)) = get(&p, "needs_unset") else {
        panic!("expected a backend failure");
    };
    assert!(reason.contains("PPT_SURELY_UNSET_VAR"), "{reason}");
    // Nested variables too.
    let Err(ProviderError::Failed(reason)) = get(&p, "mapping") else {
        panic!("expected a backend failure");
    };
    assert!(reason.contains("PPT_FILE_PW"), "{reason}");
    // Other secrets of the same file are unaffected.
    assert_eq!(get(&p, "text").as_deref(), Ok("hello"));
}

#[test]
fn file_backend_reads_the_file_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.yaml");
    fs::write(&path, "a: first\n").expect("write");
    let p = FileProvider::new(&path);
    assert_eq!(get(&p, "a").as_deref(), Ok("first"));
    fs::write(&path, "a: second\nb: new\n").expect("write");
    assert_eq!(get(&p, "a").as_deref(), Ok("first"));
    assert_eq!(get(&p, "b"), Err(ProviderError::NotFound));
}

#[test]
fn file_backend_missing_file_is_a_misconfigured_backend_naming_the_path() {
    let path = fixture("file/does-not-exist.yaml");
    let p = FileProvider::new(&path);
    let Err(ProviderError::Misconfigured(reason)) = get(&p, "x") else {
        panic!("expected a misconfigured backend");
    };
    assert!(reason.contains(&path.display().to_string()), "{reason}");
}

#[test]
fn file_backend_root_must_be_a_mapping() {
    let p = FileProvider::new(fixture("file/list-root.yaml"));
    let Err(ProviderError::Failed(reason)) = get(&p, "x") else {
        panic!("expected a backend failure");
    };
    assert!(
        reason.contains("mapping") && reason.contains("list-root.yaml"),
        "{reason}"
    );
}

#[test]
fn file_backend_lists_top_level_names_by_glob() {
    let p = FileProvider::new(fixture("basic/secrets.yaml"));
    let mut names = block_on(p.list(&Pattern::new("db_*").expect("pattern"))).expect("lists");
    names.sort();
    assert_eq!(names, ["db_host", "db_password", "db_port"]);
}

#[test]
fn dotenv_backend_follows_every_syntax_rule() {
    let p = DotenvProvider::new(fixture("dotenv/edge-cases.env"));
    let expect = [
        ("PLAIN", "plain value"),
        ("SPACED", "spaced value"),
        ("EXPORTED", "exported"),
        ("SINGLE", r"literal \n $HOME # not a comment"),
        ("DOUBLE", "line1\nline2\ttab \"quoted\" back\\slash"),
        ("MULTI", "first line\nsecond line"),
        ("UNQUOTED_COMMENT", "value"),
        ("HASH_INSIDE", "val#ue"),
        ("AFTER_QUOTE", "quoted"),
        ("DOLLAR", "$HOME ${HOME}"),
        ("DUP", "last"),
        ("JSON", r#"{"a": 1}"#),
    ];
    for (name, value) in expect {
        assert_eq!(get(&p, name).as_deref(), Ok(value), "{name}");
    }
    assert_eq!(get(&p, "BAD_TAIL"), Err(ProviderError::NotFound));
    let mut names = block_on(p.list(&Pattern::new("*").expect("pattern"))).expect("lists");
    names.sort();
    assert_eq!(names.len(), expect.len());
}

#[test]
fn dotenv_skipped_line_warning_names_the_line_not_its_content() {
    let r = run_with(
        &fixture("basic/config.yaml"),
        &["get", "dotenv:DOTENV_ONE"],
        &[],
    );
    r.expect_code(0);
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(
        dir.path().join(".env"),
        "A=1\nsecret-looking-line-content\n",
    )
    .expect("write");
    fs::write(
        dir.path().join("config.yaml"),
        "secrets:\n  enabled: true\n  backends:\n    d:\n      type: dotenv\n",
    )
    .expect("write");
    let r = run_with(&dir.path().join("config.yaml"), &["get", "d:A"], &[]);
    r.expect_code(0);
    assert!(r.stderr.contains("line 2"), "{}", r.stderr);
    assert!(
        !r.stderr.contains("secret-looking-line-content"),
        "{}",
        r.stderr
    );
}

#[test]
fn dotenv_default_path_is_dot_env_next_to_the_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join(".env"), "TOKEN=t\n").expect("write");
    fs::write(
        dir.path().join("config.yaml"),
        "secrets:\n  enabled: true\n  backends:\n    d:\n      type: dotenv\n",
    )
    .expect("write");
    let r = run_with(&dir.path().join("config.yaml"), &["get", "d:TOKEN"], &[]);
    r.expect_code(0);
    assert_eq!(r.stdout, "t\n");
}

#[test]
fn dotenv_missing_file_is_a_misconfigured_backend_naming_the_path() {
    let path = fixture("dotenv/absent.env");
    let p = DotenvProvider::new(&path);
    let Err(ProviderError::Misconfigured(reason)) = get(&p, "X") else {
        panic!("expected a misconfigured backend");
    };
    assert!(reason.contains(&path.display().to_string()), "{reason}");
}

#[test]
fn env_backend_reads_the_environment_at_call_time() {
    let p = EnvProvider::new();
    assert_eq!(
        get(&p, "PPT_SURELY_NOT_SET_ANYWHERE"),
        Err(ProviderError::NotFound)
    );
    let r = run_with(
        &fixture("basic/config.yaml"),
        &["get", "env:API_KEY"],
        &[("PPT_API_KEY", "v1")],
    );
    assert_eq!(r.stdout, "v1\n");
    // A JSON object in a variable becomes an object.
    let r = run_with(
        &fixture("basic/config.yaml"),
        &["get", "env:OBJ", "--json"],
        &[("PPT_OBJ", r#"{ "a" : [1] }"#)],
    );
    assert_eq!(r.stdout, "{\"a\":[1]}\n");
}
