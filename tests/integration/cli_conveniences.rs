//! The operator's conveniences, through the real binary: shell completions,
//! the man page, the config's JSON Schema, and `list`'s word when a pattern
//! matches nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::support::{Run, basic, cli};

/// Runs `pp-secrets ARGS` in a directory whose `config.yaml` is not even
/// YAML, without `PP_SECRETS_CONFIG`: a command that reads the config
/// fails.
fn without_config(args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.yaml"), "secrets: [not: yaml\n")
        .expect("write the broken config");
    cli()
        .current_dir(dir.path())
        .args(args)
        .output()
        .expect("pp-secrets runs")
        .into()
}

/// The commands `pp-secrets --help` lists (without `help`).
fn commands() -> Vec<String> {
    let r = without_config(&["--help"]);
    r.expect_code(0);
    let listed: Vec<String> = r
        .stdout
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect();
    for expected in ["get", "list", "run-wasm", "completions", "man", "schema"] {
        assert!(
            listed.iter().any(|name| name == expected),
            "--help lists {expected}: {listed:?}"
        );
    }
    listed
}

/// Whether `program` can be run (a shell the machine may not have).
fn installed(program: &str) -> bool {
    Command::new(program)
        .args(["-c", "true"])
        .output()
        .is_ok_and(|out| out.status.success())
}

/// `script` checked by `shell -n` (parse only).
fn parses_in(shell: &str, script: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("completion");
    std::fs::write(&file, script).expect("write the script");
    let out = Command::new(shell)
        .arg("-n")
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{shell} runs: {e}"));
    assert!(
        out.status.success(),
        "{shell} -n refuses the script: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn completion_scripts_need_no_config_and_complete_every_command() {
    let commands = commands();
    for shell in ["bash", "zsh", "fish"] {
        let r = without_config(&["completions", shell]);
        r.expect_code(0);
        assert!(!r.stdout.trim().is_empty(), "{shell}: empty script");
        for command in &commands {
            assert!(
                r.stdout.contains(command.as_str()),
                "{shell} script lacks {command}"
            );
        }
        // The global options too (fish spells them `-l config`).
        assert!(
            r.stdout.contains("--config") || r.stdout.contains("-l config"),
            "{shell}: global options"
        );
        // bash is always there; zsh and fish where installed (tests/run.sh
        // installs them; under CI=true a missing one fails the test).
        if shell == "bash" || installed(shell) {
            parses_in(shell, &r.stdout);
        } else {
            let message = format!("{shell} is not installed: its completion script is unchecked");
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
            eprintln!("\n*** SKIPPING: {message} ***\n");
        }
    }
    let r = without_config(&["completions", "tcsh"]);
    r.expect_code(2);
}

#[test]
fn man_page_is_roff_naming_every_command_and_each_command_has_its_own() {
    let r = without_config(&["man"]);
    r.expect_code(0);
    assert!(r.stdout.contains(".TH pp-secrets 1"), "{}", r.stdout);
    assert!(r.stdout.contains(".SH SYNOPSIS"));
    // roff writes `-` as `\-`.
    for command in commands() {
        let reference = format!("pp\\-secrets\\-{}(1)", command.replace('-', "\\-"));
        assert!(r.stdout.contains(&reference), "man page lacks {reference}");
        let page = without_config(&["man", &command]);
        page.expect_code(0);
        assert!(
            page.stdout.contains(&format!(".TH pp-secrets-{command} 1")),
            "{command}: {}",
            page.stdout
        );
    }
    let r = without_config(&["man", "nope"]);
    r.expect_code(2);
    assert!(r.stderr.contains("\"nope\""), "{}", r.stderr);

    // --dir writes every page as NAME.1, the same pages `man` prints.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_str().expect("a UTF-8 path");
    let r = without_config(&["man", "--dir", out]);
    r.expect_code(0);
    assert_eq!(r.stdout, "");
    let main_page = std::fs::read_to_string(dir.path().join("pp-secrets.1")).expect("the page");
    assert_eq!(main_page, without_config(&["man"]).stdout);
    let mut written = std::fs::read_dir(dir.path())
        .expect("the directory")
        .map(|entry| entry.expect("an entry").file_name())
        .collect::<Vec<_>>();
    written.sort();
    let mut expected: Vec<_> = std::iter::once("pp-secrets.1".to_owned())
        .chain(commands().iter().map(|c| format!("pp-secrets-{c}.1")))
        .map(std::ffi::OsString::from)
        .collect();
    expected.sort();
    assert_eq!(written, expected);
}

// ---- schema -------------------------------------------------------------

/// The repository's root.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `pp-secrets schema`, parsed.
fn schema() -> Value {
    let r = without_config(&["schema"]);
    r.expect_code(0);
    serde_json::from_str(&r.stdout).expect("the schema is JSON")
}

/// A compiled schema (checked against the draft-07 meta-schema as it is
/// compiled).
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn new(schema: Value) -> Self {
        const URL: &str = "file:///pp-secrets.schema.json";
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler
            .add_resource(URL, schema)
            .expect("the schema is added");
        let index = compiler
            .compile(URL, &mut schemas)
            .unwrap_or_else(|e| panic!("the schema compiles: {e:#}"));
        Self { schemas, index }
    }

    /// Whether `config` fits; the reasons when it does not.
    fn check(&self, config: &Value) -> Result<(), String> {
        self.schemas
            .validate(config, self.index)
            .map_err(|e| e.to_string())
    }
}

/// YAML text as JSON (every key a string).
fn json_of(yaml: &str) -> Value {
    serde_yaml::from_str(yaml).expect("the YAML reads as JSON")
}

/// Whether the library's parser accepts `config` (no `${VAR}` in it).
fn parser_accepts(config: &Value) -> Result<(), String> {
    let yaml = serde_yaml::to_string(config).expect("as YAML");
    let dir = tempfile::tempdir().expect("tempdir");
    pp_secrets::ConfigDocument::from_yaml_str(&yaml, dir.path())
        .map(drop)
        .map_err(|e| e.to_string())
}

/// `config`'s verdict from the schema and from the parser, which must
/// agree; the verdict.
#[track_caller]
fn agreed(validator: &Validator, config: &Value) -> bool {
    let schema = validator.check(config);
    let parser = parser_accepts(config);
    assert_eq!(
        schema.is_ok(),
        parser.is_ok(),
        "schema and parser disagree on {config}:\nschema: {schema:?}\nparser: {parser:?}"
    );
    schema.is_ok()
}

#[test]
fn schema_needs_no_config_and_is_a_draft_07_schema() {
    let schema = schema();
    assert_eq!(
        schema["$schema"],
        json!("http://json-schema.org/draft-07/schema#")
    );
    assert_eq!(
        schema["definitions"]["backend"]["type"],
        json!(["object", "null"])
    );
    Validator::new(schema);
    let r = cli()
        .args(["-c", "/nonexistent/config.yaml", "schema"])
        .output()
        .expect("runs");
    Run::from(r).expect_code(0);
}

/// The backend types the schema knows (this build's).
fn built_types(schema: &Value) -> Vec<String> {
    schema["definitions"]["backend"]["allOf"]
        .as_array()
        .expect("one branch a type")
        .iter()
        .map(|branch| {
            let type_name = &branch["if"]["properties"]["type"];
            let name = type_name.get("const").unwrap_or(&type_name["enum"][0]);
            name.as_str().expect("a type name").to_owned()
        })
        .collect()
}

/// Whether `config` has a backend of a type this build does not have
/// (such as `wasm` without the `wasm` feature).
fn needs_another_build(config: &Value, built: &[String]) -> bool {
    config["secrets"]["backends"]
        .as_object()
        .into_iter()
        .flat_map(|backends| backends.values())
        .filter_map(|backend| backend["type"].as_str())
        .any(|type_name| !built.iter().any(|b| b == type_name))
}

/// The YAML files under `dir` (recursively).
fn yaml_files(dir: &Path, into: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            yaml_files(&path, into);
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
        {
            into.push(path);
        }
    }
}

#[test]
fn the_repository_configs_fit_the_schema_and_the_broken_ones_do_not() {
    let schema = schema();
    let built = built_types(&schema);
    let validator = Validator::new(schema);
    let root = repository();
    let mut files = Vec::new();
    yaml_files(&root.join("examples"), &mut files);
    yaml_files(&root.join("tests/fixtures"), &mut files);
    let errors = root.join("tests/fixtures/errors");
    let (mut good, mut refused) = (0, 0);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        // Configs only: a mapping with a `secrets` key (secret files are
        // not configs, and may have keys that are not strings).
        let Ok(config) = serde_yaml::from_str::<Value>(&text) else {
            continue;
        };
        if config.get("secrets").is_none() {
            continue;
        }
        let verdict = validator.check(&config);
        if file.starts_with(&errors) {
            // The error fixtures: the schema agrees with the parser, except
            // on what only `${VAR}` expansion can tell.
            match pp_secrets::ConfigDocument::from_file(&file) {
                Err(e) if e.to_string().contains("is not set") => {}
                parsed => {
                    assert_eq!(
                        verdict.is_ok(),
                        parsed.is_ok(),
                        "{}: schema {verdict:?}, parser {:?}",
                        file.display(),
                        parsed.err()
                    );
                    if verdict.is_err() {
                        refused += 1;
                    }
                }
            }
        } else if !needs_another_build(&config, &built) {
            verdict.unwrap_or_else(|e| panic!("{} does not fit: {e}", file.display()));
            good += 1;
        }
    }
    assert!(
        good >= 5 && refused >= 4,
        "{good} configs, {refused} refused"
    );
}

#[test]
fn the_readme_configs_fit_the_schema() {
    let schema = schema();
    let built = built_types(&schema);
    let validator = Validator::new(schema);
    let readme = std::fs::read_to_string(repository().join("README.md")).expect("README");
    let mut checked = 0;
    let mut block: Option<String> = None;
    for line in readme.lines() {
        match &mut block {
            None if line.trim_end() == "```yaml" => block = Some(String::new()),
            None => {}
            Some(text) if line.starts_with("```") => {
                let config = text
                    .lines()
                    .any(|line| line.starts_with("secrets:"))
                    .then(|| json_of(text));
                if let Some(config) = config.filter(|c| !needs_another_build(c, &built)) {
                    validator
                        .check(&config)
                        .unwrap_or_else(|e| panic!("README block does not fit: {e}\n{text}"));
                    checked += 1;
                }
                block = None;
            }
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
        }
    }
    assert!(checked >= 1, "{checked} README configs");
}

/// A value for a field, from its schema: its default, constant, example
/// or first allowed value, else one of its type (a mapping gets every
/// property).
fn sample(root: &Value, schema: &Value) -> Value {
    for key in ["default", "const"] {
        if let Some(value) = schema.get(key) {
            return value.clone();
        }
    }
    for key in ["examples", "enum"] {
        if let Some(Value::Array(values)) = schema.get(key) {
            return values[0].clone();
        }
    }
    if let Some(Value::String(reference)) = schema.get("$ref") {
        let name = reference
            .strip_prefix("#/definitions/")
            .expect("a local definition");
        return sample(root, &root["definitions"][name]);
    }
    for key in ["allOf", "anyOf"] {
        if let Some(Value::Array(schemas)) = schema.get(key) {
            return sample(root, &schemas[0]);
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.contains(&"object") || schema.get("properties").is_some() {
        let mut object = serde_json::Map::new();
        if let Some(Value::Object(properties)) = schema.get("properties") {
            for (name, property) in properties {
                object.insert(name.clone(), sample(root, property));
            }
        }
        return Value::Object(object);
    }
    if types.contains(&"string") {
        return json!("sample");
    }
    if types.contains(&"integer") {
        return json!(1);
    }
    if types.contains(&"array") {
        return json!([]);
    }
    Value::Null
}

/// A config with `backend` as its one backend, `b`.
fn with_backend(backend: Value) -> Value {
    json!({ "secrets": { "enabled": true, "backends": { "b": backend } } })
}

#[test]
fn schema_and_parser_agree_on_every_field_of_every_backend_type() {
    let schema = schema();
    let validator = Validator::new(schema.clone());

    // The section, every field set.
    let section = sample(&schema, &schema["properties"]["secrets"]);
    assert!(section.get("refresh").is_some() && section.get("wasm_cache").is_some());
    assert!(agreed(&validator, &json!({ "secrets": section })));
    let mut unknown = section.clone();
    unknown["cache"] = json!(false);
    assert!(!agreed(&validator, &json!({ "secrets": unknown })));

    let branches = schema["definitions"]["backend"]["allOf"]
        .as_array()
        .expect("one branch a type");
    let mut types = Vec::new();
    for branch in branches {
        let then = &branch["then"];
        let backend = sample(&schema, then);
        let type_name = backend["type"].clone();
        types.push(type_name.clone());
        // Every field the schema lists for the type, the parser takes.
        assert!(
            agreed(&validator, &with_backend(backend.clone())),
            "{type_name}"
        );
        // A field the type does not have: both refuse it.
        let mut extra = backend.clone();
        extra["not_a_field"] = json!("x");
        assert!(!agreed(&validator, &with_backend(extra)), "{type_name}");
        // Without a required field: both refuse.
        for required in then["required"].as_array().into_iter().flatten() {
            let mut missing = backend.clone();
            missing
                .as_object_mut()
                .expect("a mapping")
                .remove(required.as_str().expect("a name"));
            assert!(!agreed(&validator, &with_backend(missing)), "{type_name}");
        }
        // A field of every other type that this one does not have.
        for other in branches {
            for name in other["then"]["properties"]
                .as_object()
                .expect("properties")
                .keys()
            {
                if then["properties"].get(name).is_none() {
                    let mut foreign = backend.clone();
                    foreign[name.as_str()] = json!("x");
                    assert!(
                        !agreed(&validator, &with_backend(foreign)),
                        "{type_name}.{name}"
                    );
                }
            }
        }
    }
    for expected in ["env", "file", "dotenv"] {
        assert!(types.contains(&json!(expected)), "{types:?}");
    }
    #[cfg(feature = "aws")]
    assert!(types.contains(&json!("aws")));
    #[cfg(feature = "wasm")]
    assert!(types.contains(&json!("wasm")));
}

#[test]
fn schema_and_parser_agree_on_values() {
    let validator = Validator::new(schema());
    let section = |yaml: &str| json_of(&format!("secrets:\n{yaml}"));
    #[cfg_attr(not(any(feature = "aws", feature = "wasm")), allow(unused_mut))]
    let mut cases = vec![
        ("  enabled: \"true\"\n", true),
        ("  enabled: yes please\n", false),
        ("  enabled: 1\n", false),
        ("  cache_enabled: ~\n", true),
        ("  load: [\"local:*\", \"env:HOME\"]\n", true),
        ("  load: [no-colon]\n", false),
        ("  load: [1]\n", false),
        ("  load: \"local:*\"\n", false),
        ("  wasm_cache: false\n", true),
        ("  wasm_cache: \"\"\n", false),
        ("  wasm_cache: [a]\n", false),
        ("  refresh: off\n", true),
        ("  refresh: false\n", true),
        ("  refresh: true\n", false),
        ("  refresh: { every: 30s }\n", true),
        ("  refresh: { every: 30s, max_stale: 1h }\n", true),
        ("  refresh: { max_stale: 1h }\n", false),
        ("  refresh: { every: 30 }\n", false),
        ("  refresh: { every: 1d }\n", false),
        ("  refresh: { every: 30s, often: yes }\n", false),
        ("  backends: ~\n", true),
        ("  backends: [env]\n", false),
        ("  backends:\n    env: ~\n", true),
        ("  backends:\n    \"a:b\": {}\n", false),
        (
            "  backends:\n    e:\n      type: env\n      prefix: APP_\n",
            true,
        ),
        ("  backends:\n    e:\n      prefix: 2024\n", true),
        ("  backends:\n    e:\n      path: x\n", false),
        ("  backends:\n    e:\n      type: hashicorp\n", false),
        ("  backends:\n    e:\n      type: [env]\n", false),
        ("  backends:\n    f:\n      type: file\n", false),
        (
            "  backends:\n    f:\n      type: file\n      path: \"\"\n",
            false,
        ),
        (
            "  backends:\n    f:\n      type: file\n      path: 2024\n",
            true,
        ),
        (
            "  backends:\n    f:\n      type: file\n      path: s.yaml\n      pth: t\n",
            false,
        ),
        ("  backends:\n    d:\n      type: dotenv\n", true),
        (
            "  backends:\n    d:\n      type: dotenv\n      refresh: off\n",
            true,
        ),
        (
            "  backends:\n    d:\n      type: dotenv\n      refresh: { every: 5m }\n",
            true,
        ),
        (
            "  backends:\n    d:\n      type: dotenv\n      refresh: 5m\n",
            false,
        ),
        (
            "  backends:\n    d:\n      type: dotenv\n      trim: newline\n",
            true,
        ),
        (
            "  backends:\n    d:\n      type: dotenv\n      trim: sideways\n",
            false,
        ),
    ];
    #[cfg(feature = "aws")]
    cases.extend([
        ("  backends:\n    a:\n      type: aws\n      region_name: eu-west-1\n      concurrency: \"8\"\n", true),
        ("  backends:\n    a:\n      type: aws\n      concurrency: 0\n", false),
        ("  backends:\n    a:\n      type: aws\n      concurrency: 65\n", false),
        ("  backends:\n    a:\n      type: aws\n      max_attempts: 11\n", false),
        ("  backends:\n    a:\n      type: aws\n      max_attempts: ten\n", false),
    ]);
    #[cfg(feature = "wasm")]
    cases.extend([
        ("  backends:\n    w:\n      type: wasm\n", false),
        ("  backends:\n    w:\n      type: wasm\n      path: p.wasm\n      config: { dir: /x, n: 1 }\n      allow: { env: [TOKEN], hosts: [\"h:8200\"] }\n      limits: { memory_mb: \"32\", timeout_ms: 2000 }\n      tls: { ca_file: ca.pem }\n", true),
        ("  backends:\n    w:\n      type: wasm\n      path: p.wasm\n      config: { dir: [x] }\n", false),
        ("  backends:\n    w:\n      type: wasm\n      path: p.wasm\n      allow: { env: [\"A=B\"] }\n", false),
        ("  backends:\n    w:\n      type: wasm\n      path: p.wasm\n      allow: { hosts: [\"https://h\"] }\n", false),
        ("  backends:\n    w:\n      type: wasm\n      path: p.wasm\n      allow: { files: [x] }\n", false),
        ("  backends:\n    w:\n      type: wasm\n      path: p.wasm\n      limits: { memory_mb: 5000 }\n", false),
        ("  backends:\n    w:\n      type: wasm\n      path: p.wasm\n      limits: { memory_mb: 0 }\n", false),
        ("  backends:\n    w:\n      type: wasm\n      path: p.wasm\n      limits: { cpu: 1 }\n", false),
        ("  backends:\n    w:\n      type: wasm\n      path: p.wasm\n      tls: { ca: x }\n", false),
    ]);
    for (yaml, fits) in cases {
        assert_eq!(agreed(&validator, &section(yaml)), fits, "{yaml}");
    }
    // What only `${VAR}` expansion can tell is left to it.
    for yaml in [
        "  enabled: ${ENABLED:-true}\n",
        "  backends:\n    e:\n      type: ${TYPE}\n",
        "  backends:\n    f:\n      type: file\n      path: ${DIR}/s.yaml\n",
    ] {
        validator
            .check(&section(yaml))
            .unwrap_or_else(|e| panic!("{yaml}: {e}"));
    }
}

// ---- list ---------------------------------------------------------------

#[test]
fn list_of_a_pattern_matching_nothing_says_so_on_stderr_and_exits_0() {
    let r = basic(&["list", "local:nothing_*"]);
    r.expect_code(0);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "pp-secrets: no secret in backend \"local\" matches \"nothing_*\"\n"
    );

    let r = basic(&["list", "scoped:nothing", "--json"]);
    r.expect_code(0);
    assert_eq!(
        serde_json::from_str::<Value>(&r.stdout).expect("JSON"),
        json!({ "pattern": "scoped:nothing", "names": [] })
    );
    assert_eq!(
        r.stderr,
        "pp-secrets: no secret in backend \"scoped\" matches \"nothing\"\n"
    );

    // A pattern that matches says nothing on stderr.
    let r = basic(&["list", "local:db_*"]);
    r.expect_code(0);
    assert_eq!(r.stderr, "");
    assert!(!r.stdout.is_empty());
}
