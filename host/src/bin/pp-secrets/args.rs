//! Command-line arguments (clap). Only parsing lives here; the commands are
//! in `commands/`.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand};

/// Read, list, preload and inject secrets from the backends of a YAML config.
#[derive(Debug, Parser)]
#[command(
    name = "pp-secrets",
    version,
    after_help = "Exit codes: 0 success, 1 not found, 2 usage or configuration error (or \
                  subsystem disabled), 3 backend error, 4 access denied; run and run-wasm pass \
                  on the child's code.\n\nExample:\n  pp-secrets -c config.yaml get local:db_password"
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

    /// More log detail on stderr (-v info, -vv debug); RUST_LOG overrides
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
    Get {
        /// The secret, as backend:name
        key: String,
        /// Print the backend's string as stored: no JSON parsing, no cache
        #[arg(long)]
        raw: bool,
        /// Print the value JSON-encoded (text as a JSON string)
        #[arg(long)]
        json: bool,
    },

    /// List the logical names matching backend:glob, one a line, sorted.
    #[command(
        after_help = "Globs: * (also matches /), ?, [abc], [!abc]; case-sensitive.\n\n\
                            Examples:\n  pp-secrets list 'local:db_*'\n  \
                            pp-secrets list 'env:*'"
    )]
    List {
        /// backend:glob
        pattern: String,
    },

    /// Run the config's load declarations and print what each loaded.
    #[command(
        after_help = "Fails like an application start would: an exact name that \
                            does not exist, or a declaration whose every secret fails.\n\n\
                            Example:\n  pp-secrets -c config.yaml load"
    )]
    Load,

    /// Print a YAML file with ${VAR} expanded and ${secret://...} tokens resolved.
    #[command(after_help = "The manager is started from the config first (load \
                            declarations included).\n\nExamples:\n  pp-secrets render\n  \
                            pp-secrets -c config.yaml render service.yaml")]
    Render {
        /// The file to render [default: the config itself]
        file: Option<PathBuf>,
    },

    /// Run a command with secrets in its environment (never on its command line).
    #[command(
        after_help = "The child inherits the environment plus each --env; an object \
                            is passed as compact JSON. pp-secrets exits with the child's \
                            code.\n\nExample:\n  \
                            pp-secrets run --env DB_PASSWORD=local:db_password -- ./server --port 80"
    )]
    Run {
        /// Set VAR to the secret KEY (backend:name); repeatable
        #[arg(long = "env", value_name = "VAR=KEY")]
        env: Vec<String>,
        /// The command and its arguments
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },

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
    RunWasm(RunWasmArgs),

    /// Validate the config and every backend, and print a report.
    #[command(
        after_help = "Prints whether each backend is reachable and how many names each \
                            load declaration matches and loads. Exits non-zero with the code \
                            of the first problem.\n\nExample:\n  pp-secrets -c config.yaml check"
    )]
    Check,
}

/// The arguments of `run-wasm`.
#[derive(Debug, Args)]
pub struct RunWasmArgs {
    /// The app component (a WASI command built for wasm32-wasip2)
    pub app: PathBuf,
    /// Let the app read the secrets matching backend:glob; repeatable
    #[arg(long = "allow", value_name = "PATTERN")]
    pub allow: Vec<String>,
    /// Let the app see the host's environment variable VAR; repeatable
    #[arg(long = "allow-env", value_name = "VAR")]
    pub allow_env: Vec<String>,
    /// Let the app read (not write) DIR, at the same absolute path; repeatable
    #[arg(long = "allow-dir", value_name = "DIR")]
    pub allow_dir: Vec<PathBuf>,
    /// Let the app send HTTP requests to HOST:PORT (wasi:http); repeatable
    #[arg(long = "allow-host", value_name = "HOST:PORT")]
    pub allow_host: Vec<String>,
    /// Trust the CA certificates in this PEM bundle (besides the system's
    /// roots) for the app's HTTPS requests
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Present this PEM certificate chain to servers that ask for a client
    /// certificate (mutual TLS); needs --client-key
    #[arg(long = "client-cert", value_name = "PEM", requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The PEM private key of --client-cert
    #[arg(long = "client-key", value_name = "PEM", requires = "client_cert")]
    pub client_key: Option<PathBuf>,
    /// The app's memory limit, in MiB [default: 64]
    #[arg(long, value_name = "MIB")]
    pub memory_mb: Option<u64>,
    /// The limit on the app's whole run, in milliseconds [default: 60000]
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,
    /// The app's arguments
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,
}
