//! The command line (clap): the global options and the list of commands.
//! Each command's own arguments are its type, in `commands/`.

use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand};

use crate::commands::{
    Check, Completions, Export, Get, List, Load, Man, Render, Run, RunWasm, Schema, TestProvider,
};
use crate::exit_codes;

/// Read, list, preload and inject secrets from the backends of a YAML config.
#[derive(Debug, Parser)]
#[command(
    name = "pp-secrets",
    version,
    after_help = format!(
        "{}\n\nExample:\n  pp-secrets -c config.yaml get local:db_password",
        exit_codes::help()
    )
)]
pub struct Cli {
    /// The config file [default: $PP_SECRETS_CONFIG, else ./config.yaml]
    #[arg(
        short,
        long,
        global = true,
        env = "PP_SECRETS_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// More of this project's logs on stderr (-v info, -vv debug; other
    /// crates stay at warnings); RUST_LOG overrides
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print one secret. Reads on demand; the load declarations are not run.
    #[command(after_help = "Text is printed as is, an object as compact JSON.\n\n\
                            Examples:\n  pp-secrets get env:API_KEY\n  \
                            pp-secrets get aws:binance --json\n  \
                            pp-secrets get local:db_config --raw")]
    Get(Get),

    /// List the logical names matching backend:glob, one a line, sorted.
    #[command(
        after_help = "Globs: * (also matches /), ?, [abc], [!abc]; case-sensitive. \
                            --json prints {\"pattern\": ..., \"names\": [...]}.\n\n\
                            Examples:\n  pp-secrets list 'local:db_*'\n  \
                            pp-secrets list 'env:*' --json"
    )]
    List(List),

    /// Run the config's load declarations and print what each loaded.
    #[command(
        after_help = "Fails like an application start would: an exact name that \
                            does not exist, or a declaration whose every secret fails. \
                            When some matched secrets fail, the report is printed and the \
                            exit code is 3. --json prints one JSON document (see the README).\n\n\
                            Example:\n  pp-secrets -c config.yaml load --json"
    )]
    Load(Load),

    /// Print a YAML file with ${VAR} expanded and ${secret://...} tokens resolved.
    #[command(after_help = "The manager is started from the config first (load \
                            declarations included). --output writes atomically (mode 0600); \
                            --watch keeps it up to date as secrets rotate (the config's \
                            refresh settings) and --exec runs a command after each write.\n\n\
                            Examples:\n  pp-secrets render\n  \
                            pp-secrets -c config.yaml render service.yaml\n  \
                            pp-secrets render app.yaml -o /run/app.yaml --watch --exec 'pkill -HUP app'")]
    Render(Render),

    /// Run a command with secrets in its environment (never on its command line).
    #[command(
        after_help = "The child inherits the environment plus each secret that \
                            --from 'backend:glob' matches (named by the README's rule: \
                            db/password becomes DB_PASSWORD, after --prefix) and each --env \
                            (which wins over --from); an object is passed as compact JSON. SIGTERM, SIGINT, SIGHUP, SIGQUIT, \
                            SIGUSR1 and SIGUSR2 are passed on to the child (fit for a \
                            container's PID 1). pp-secrets exits with the child's code, \
                            128+N if signal N killed it, 127 if the command is not found, \
                            126 if it cannot be executed. --watch restarts the child (or \
                            signals it, --on-change signal:HUP) when a value it was given \
                            changes.\n\nExample:\n  \
                            pp-secrets run --env DB_PASSWORD=local:db_password -- ./server --port 80\n  \
                            pp-secrets run --from 'local:*' --prefix APP_ -- ./server"
    )]
    Run(Run),

    /// Run a Wasm app component that reads secrets through the host.
    #[command(
        after_help = "The app reads only the secrets its --allow patterns name (none by \
                      default), through processpype:secrets/manager or wasi:config/store \
                      (keys backend:name). It sees its arguments and stdio, and otherwise \
                      only what --allow-env, --allow-dir and --allow-host grant. pp-secrets exits with the \
                      app's code; an app that traps or passes a limit exits 3.\n\n\
                      Example:\n  pp-secrets run-wasm report.wasm --allow 'local:db_*' \
                      --allow env:API_TOKEN -- --since yesterday"
    )]
    RunWasm(RunWasm),

    /// Validate the config and every backend, and print a report.
    #[command(
        after_help = "Reports each backend's state (reachable, unreachable, denied, \
                            misconfigured, missing grant, or not loaded), what each load \
                            declaration matches and loads, and every ${secret://...} token \
                            in the config and in each FILE: resolved, broken, or a string \
                            that looks like a mistyped token. The header says ok only when \
                            nothing is wrong; otherwise the exit code is that of the first \
                            problem. --json prints one JSON document (see the README).\n\n\
                            Examples:\n  pp-secrets -c config.yaml check\n  \
                            pp-secrets check service.yaml --json"
    )]
    Check(Check),

    /// Print the secrets matching backend:glob patterns as dotenv, JSON or shell lines.
    #[command(
        after_help = "Names follow run --from's rule (db/password becomes DB_PASSWORD, \
                            after --prefix). Values are quoted so that pp-secrets' own .env \
                            parser and a POSIX shell read back exactly what was exported. \
                            --output writes atomically (mode 0600).\n\n\
                            Examples:\n  pp-secrets export 'local:*' > .env\n  \
                            pp-secrets export 'local:db_*' --format shell --prefix APP_\n  \
                            pp-secrets export 'local:*' --format json -o /run/secrets.json"
    )]
    Export(Export),

    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Reads no config. Install it where your shell looks for \
                            completions (see the README).\n\n\
                            Examples:\n  \
                            pp-secrets completions bash > ~/.local/share/bash-completion/completions/pp-secrets\n  \
                            pp-secrets completions fish > ~/.config/fish/completions/pp-secrets.fish")]
    Completions(Completions),

    /// Print the man page (roff), of pp-secrets or of one command.
    #[command(after_help = "Reads no config. The main page lists the commands as \
                            pp-secrets-COMMAND(1); `man COMMAND` prints that page, and \
                            --dir writes every page into a directory.\n\n\
                            Examples:\n  pp-secrets man > pp-secrets.1 && man ./pp-secrets.1\n  \
                            pp-secrets man get\n  \
                            pp-secrets man --dir ~/.local/share/man/man1")]
    Man(Man),

    /// Print the JSON Schema of the config file, for editors.
    #[command(
        after_help = "Reads no config. Describes the secrets: section field by \
                            field (the backend types of this build), from the tables the \
                            config parser checks against.\n\n\
                            Example:\n  pp-secrets schema > pp-secrets.schema.json\n  \
                            and as the first line of config.yaml:\n  \
                            # yaml-language-server: $schema=pp-secrets.schema.json"
    )]
    Schema(Schema),

    /// Run the provider test-suite on a provider component.
    #[command(
        after_help = "Reads no config. The suite file names the component, its \
                            backend settings and the fixture format it reads (files, json \
                            or ini); ${FIXTURE} in it stands for the directory the suite \
                            writes its secrets into. Every check is printed as ok, FAIL or \
                            skip; the exit code is 0 when none failed, 3 when one did.\n\n\
                            Example:\n  pp-secrets test-provider provider-suite.yaml"
    )]
    TestProvider(TestProvider),
}
