//! The README's commands still do what it says.

use std::path::Path;

use crate::support::cli;

fn repository_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The README's main job, taken from the README itself: its
/// `cargo run -p pp-secrets-cli -- ARGS` line, run as `pp-secrets ARGS`
/// from the repository root, prints the example's config with every token
/// resolved.
#[test]
fn the_readme_main_job_renders_the_bundled_example() {
    let readme = std::fs::read_to_string(repository_root().join("README.md")).expect("README.md");
    let command = readme
        .lines()
        .skip_while(|line| !line.starts_with("Run the main job"))
        .map(str::trim)
        .find(|line| line.starts_with("cargo run"))
        .expect("the README gives the main job's command");
    let args = command
        .strip_prefix("cargo run -p pp-secrets-cli -- ")
        .unwrap_or_else(|| panic!("the main job runs the CLI crate: {command}"));
    let output = cli()
        .current_dir(repository_root())
        .env("HOME", "/home/readme-test")
        .args(args.split_whitespace())
        .output()
        .expect("pp-secrets runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let rendered: serde_yaml::Value =
        serde_yaml::from_slice(&output.stdout).expect("the output is YAML");
    let billing = &rendered["services"]["billing"];
    assert_eq!(billing["exchange"]["key"], "demo-binance-key");
    assert_eq!(billing["exchange"]["secret"], "demo-binance-secret");
    assert_eq!(
        billing["database_url"],
        "postgres://billing:s3cr3t \"quoted\"@db:5432/billing"
    );
    assert_eq!(billing["api_key"], "demo-api-key");
    assert_eq!(billing["home"], "/home/readme-test");
    assert_eq!(
        rendered["secrets"]["backends"]["local"]["prefix"],
        "staging"
    );
}
