//! The README's commands still do what it says.
//!
//! # Code blocks in README.md
//!
//! Every command in the README sits in a fenced block whose info string
//! says whether these tests run it (an HTML comment at the top of the
//! README says the same to its authors):
//!
//! - `sh`: run. Each block is one POSIX `sh` script that stops at the first
//!   command that fails, run in a scratch directory that mirrors the
//!   repository root (each top-level entry symlinked there, so
//!   `examples/...` and `target/...` resolve and files a block writes stay
//!   out of the repository), with `pp-secrets` the binary under test (first
//!   on `PATH`) and `cargo run -p pp-secrets-cli -- ARGS` standing for
//!   `pp-secrets ARGS`. `HOME` and `TMPDIR` are scratch directories too
//!   (so a block writes its files under `"$(mktemp -d)"`). The script must
//!   exit 0; a command shown failing ends with `|| echo "exit $?"`.
//! - `stdout`: directly after a `sh` block, that block's whole expected
//!   standard output. Never run.
//! - `text`: shown, never run: commands that need a cloud account, a server
//!   that keeps running, or a build (`tests/run.sh` builds the guest
//!   components before the tests), synopses and placeholders.
//!
//! Other info strings name a language (`yaml`, `rust`, ...) and are never
//! run. `bash`, `shell`, `console`, a fence without an info string and an
//! indented code block are refused, so that every command is classified.
//! A `sh` block that names a `.wasm` file runs only with the `wasm` feature
//! and the guest components built (a missing build skips it loudly, and
//! fails it under `CI=true`). Every `target/wasm32-wasip2/release/*.wasm`
//! the README names must be a file the build produces, built by a `cargo
//! build` command the README gives.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::cli;

fn repository_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn readme() -> String {
    std::fs::read_to_string(repository_root().join("README.md")).expect("README.md")
}

/// Where the guest components are built, as the README names it.
const GUESTS: &str = "target/wasm32-wasip2/release/";

/// Where the test command builds the components of other languages.
const COMPONENTS: &str = "target/components/";

/// The longest a `sh` block may run.
const BLOCK_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Info strings refused: a shell block is either `sh` (run) or `text` (not).
const UNCLASSIFIED: &[&str] = &["bash", "shell", "console", "shell-session", "zsh"];

/// One fenced code block of the README.
struct Block {
    /// The info string after the opening fence (`sh`, `yaml`, ...).
    info: String,
    /// The line of the opening fence, from 1.
    line: usize,
    /// The lines between the fences.
    body: Vec<String>,
}

impl Block {
    fn text(&self) -> String {
        self.body.iter().map(|line| format!("{line}\n")).collect()
    }
}

/// The README's fenced code blocks outside HTML comments, in order, and
/// the lines (from 1) that open an indented code block (a line indented by
/// four spaces or a tab after a blank line, outside fences).
fn code_blocks(readme: &str) -> (Vec<Block>, Vec<usize>) {
    let mut blocks = Vec::new();
    let mut indented = Vec::new();
    let mut open: Option<Block> = None;
    let mut previous_blank = true;
    let mut in_comment = false;
    for (at, line) in readme.lines().enumerate() {
        // An HTML comment (`<!-- ... -->`) holds no code blocks.
        if open.is_none() && (in_comment || line.starts_with("<!--")) {
            in_comment = !line.contains("-->");
            previous_blank = false;
            continue;
        }
        if let Some(block) = open.as_mut() {
            if line.trim_end() == "```" {
                blocks.extend(open.take());
                previous_blank = false;
            } else {
                block.body.push(line.to_owned());
            }
            continue;
        }
        if let Some(info) = line.strip_prefix("```") {
            open = Some(Block {
                info: info.trim().to_owned(),
                line: at + 1,
                body: Vec::new(),
            });
        } else if previous_blank && (line.starts_with("    ") || line.starts_with('\t')) {
            indented.push(at + 1);
        }
        previous_blank = line.trim().is_empty();
    }
    assert!(open.is_none(), "README.md has a fence that is never closed");
    (blocks, indented)
}

/// Every `target/wasm32-wasip2/release/NAME.wasm` the README names.
fn guest_paths(readme: &str) -> Vec<String> {
    let mut names: Vec<String> = readme
        .match_indices(GUESTS)
        .map(|(at, _)| {
            readme[at + GUESTS.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                .collect::<String>()
        })
        .filter(|name| name.ends_with(".wasm") && name.len() > ".wasm".len())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Whether the guest components are built (any of them).
fn guests_built() -> bool {
    std::fs::read_dir(repository_root().join(GUESTS)).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.path().extension().is_some_and(|x| x == "wasm"))
    })
}

/// Skips loudly, or fails under `CI=true`.
fn skip(message: &str) {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("\n*** SKIPPING: {message} ***\n");
}

/// The README's main job, taken from the README itself: its
/// `cargo run -p pp-secrets-cli -- ARGS` line, run as `pp-secrets ARGS`
/// from the repository root, prints the example's config with every token
/// resolved.
#[test]
fn the_readme_main_job_renders_the_bundled_example() {
    let readme = readme();
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

/// Every code block says whether it is run, and every `stdout` block
/// belongs to a `sh` block.
#[test]
fn every_readme_code_block_is_classified() {
    let (blocks, indented) = code_blocks(&readme());
    assert!(
        indented.is_empty(),
        "README.md has indented code blocks at lines {indented:?}: fence them as ```sh \
         (run by tests/integration/readme.rs) or ```text (not run)"
    );
    for (at, block) in blocks.iter().enumerate() {
        let info = block.info.split_whitespace().next().unwrap_or("");
        assert!(
            !info.is_empty() && !UNCLASSIFIED.contains(&info),
            "README.md line {}: a block tagged {:?}: tag commands ```sh (run by \
             tests/integration/readme.rs) or ```text (not run)",
            block.line,
            block.info
        );
        if info == "stdout" {
            let previous = at.checked_sub(1).map(|p| blocks[p].info.as_str());
            assert_eq!(
                previous,
                Some("sh"),
                "README.md line {}: a stdout block follows the sh block it belongs to",
                block.line
            );
        }
    }
    let runs = blocks.iter().filter(|b| b.info == "sh").count();
    assert!(runs >= 4, "the README's sh blocks were found ({runs})");
}

/// Each `sh` block runs as written, and prints what its `stdout` block
/// shows.
#[test]
fn the_readme_sh_blocks_run_as_written() {
    let (blocks, _) = code_blocks(&readme());
    let mut failures = Vec::new();
    let mut ran = 0;
    for (at, block) in blocks.iter().enumerate() {
        if block.info != "sh" {
            continue;
        }
        let script = block.text();
        if script.contains(".wasm") {
            if !cfg!(feature = "wasm") {
                eprintln!(
                    "README.md line {}: not run, the wasm feature is off",
                    block.line
                );
                continue;
            }
            if !guests_built() {
                skip(&format!(
                    "README.md line {}: the guest components are not built: run `bash \
                     tests/run.sh`, which builds them",
                    block.line
                ));
                continue;
            }
        }
        let expected = blocks
            .get(at + 1)
            .filter(|next| next.info == "stdout")
            .map(Block::text);
        let output = run_block(&script);
        ran += 1;
        eprintln!("README.md line {}: ran, {}", block.line, output.status);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            failures.push(format!(
                "README.md line {}: the sh block exited with {}\n{script}--- stdout:\n{stdout}\
                 --- stderr:\n{stderr}",
                block.line, output.status
            ));
        } else if let Some(expected) = expected.filter(|e| *e != stdout) {
            failures.push(format!(
                "README.md line {}: the sh block printed\n{stdout}--- where the README shows\n\
                 {expected}--- stderr:\n{stderr}",
                block.line
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(ran > 0, "no sh block of the README ran");
}

/// Runs `script` as the convention says: `sh`, in a scratch mirror of the
/// repository root, `pp-secrets` the binary under test.
fn run_block(script: &str) -> Output {
    let scratch = tempfile::tempdir().expect("scratch directory");
    let dir = scratch.path();
    for entry in std::fs::read_dir(repository_root()).expect("the repository root") {
        let entry = entry.expect("a repository entry");
        std::os::unix::fs::symlink(entry.path(), dir.join(entry.file_name()))
            .expect("mirror the repository root");
    }
    let bin = dir.join(".readme-bin");
    let home = dir.join(".readme-home");
    let tmp = dir.join(".readme-tmp");
    for made in [&bin, &home, &tmp] {
        std::fs::create_dir(made).expect("scratch directory");
    }
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_pp-secrets"), bin.join("pp-secrets"))
        .expect("pp-secrets on the PATH");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path =
        std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(&path)))
            .expect("PATH");
    let wasm_cache: PathBuf = repository_root().join("target/test-wasm-cache");
    let preamble = "set -e\n\
        cargo() {\n\
          if [ \"$1 $2 $3 $4\" = 'run -p pp-secrets-cli --' ]; then shift 4; pp-secrets \"$@\"; \
          else echo \"a sh block runs cargo only as cargo run -p pp-secrets-cli -- ARGS: tag a \
          block that builds as text\" >&2; return 97; fi\n\
        }\n";
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("{preamble}{script}"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", &home)
        .env("TMPDIR", &tmp)
        .env("PWD", dir)
        .env("PP_SECRETS_WASM_CACHE", wasm_cache);
    output_within(command, BLOCK_TIME_LIMIT)
}

/// `command`'s output, or a panic when it runs past `limit`.
fn output_within(mut command: Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let drain = |stream: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut stream) = stream {
                let _ = stream.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|s| Box::new(s) as _));
    let stderr = drain(child.stderr.take().map(|s| Box::new(s) as _));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for sh") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a README sh block ran past {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout read"),
        stderr: stderr.join().expect("stderr read"),
    }
}

/// Every component path the README gives is where the build puts it, and
/// the README gives the `cargo build` command that makes it.
#[test]
fn the_readmes_component_paths_are_what_the_build_produces() {
    let readme = readme();
    // `path:` settings in configs (not messages that quote a YAML path).
    let settings = readme.lines().filter(|l| {
        let l = l.trim_start();
        l.starts_with("path:") || l.contains(", path:") || l.contains("{ path:")
    });
    for line in settings {
        if !line.contains(".wasm") || line.contains(GUESTS) {
            continue;
        }
        // Otherwise a component another language's toolchain builds (into
        // target/components/ or beside the config), with the README's
        // command that writes it there.
        let file = line
            .split_once("path:")
            .map(|(_, rest)| rest.trim_start().trim_start_matches('"'))
            .and_then(|rest| rest.split(['"', ' ']).next())
            .unwrap_or_default();
        let built_by = match file.split_once(COMPONENTS) {
            Some((_, name)) => [
                format!("-o {COMPONENTS}{name}"),
                format!("-o ../../{COMPONENTS}{name}"),
            ],
            None => [format!("-o {file}"), format!("-o {file}")],
        };
        assert!(
            built_by
                .iter()
                .any(|command| readme.contains(command.as_str())),
            "a README config names {file}, which neither the cargo build ({GUESTS}) nor a \
             build command of the README (`... -o {file}`) makes: {line}"
        );
    }
    let names = guest_paths(&readme);
    assert!(
        names.len() >= 4,
        "the README names its components: {names:?}"
    );
    let builds: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("cargo build --release --target wasm32-wasip2 -p "))
        .collect();
    for name in &names {
        // Cargo names a library's component after its crate (`-` made
        // `_`), a binary's after the package.
        let package = name.trim_end_matches(".wasm").replace('_', "-");
        assert!(
            builds
                .iter()
                .any(|b| b.split_whitespace().any(|word| word == package)),
            "the README names {GUESTS}{name} but gives no `cargo build --release --target \
             wasm32-wasip2 -p {package}`"
        );
    }
    if !guests_built() {
        skip("the guest components are not built: run `bash tests/run.sh`, which builds them");
        return;
    }
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| !repository_root().join(GUESTS).join(name).is_file())
        .collect();
    assert!(
        missing.is_empty(),
        "the README names components the build does not produce in {GUESTS}: {missing:?}"
    );
}
