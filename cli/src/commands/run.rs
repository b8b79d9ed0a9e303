//! `run [--watch [--on-change ACTION]] [--from PATTERN]... [--env VAR=KEY]... -- CMD [ARGS]`:
//! run a command with secrets in its environment: every secret a `--from`
//! pattern matches, under its environment name (`secret_env`), and each
//! `--env` (which wins over `--from`). Secrets never go on a command line,
//! where `ps` shows them. The child is run under a
//! [`Supervisor`]: signals passed on, its exit code ours.
//!
//! With `--watch` the manager stays up and refreshes (the config's
//! `refresh` settings); when a value given to the child changes, the child
//! is restarted with the new environment (SIGTERM, `--grace`, SIGKILL, then
//! started again) or sent a signal (`--on-change signal:HUP`).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use clap::Args;
use pp_secrets::config::RefreshSettings;
use pp_secrets::manager::{SecretEvent, SecretEvents};
use pp_secrets::{SecretKey, SecretsManager};
use rustix::process::Signal;

use crate::failure::Failure;
use crate::secret_env;
use crate::supervisor::{Supervisor, signal_named};

/// The arguments of `run`.
#[derive(Debug, Args)]
pub struct Run {
    /// Set VAR to the secret KEY (backend:name); repeatable
    #[arg(long = "env", value_name = "VAR=KEY")]
    env: Vec<String>,
    /// Pass every secret backend:glob matches, named by the README's rule
    /// (db/password: DB_PASSWORD); repeatable
    #[arg(long = "from", value_name = "PATTERN")]
    from: Vec<String>,
    /// With --from: put PREFIX in front of each variable name
    #[arg(long, value_name = "PREFIX", default_value = "", requires = "from")]
    prefix: String,
    /// Keep the secrets refreshed and act when a value given to CMD changes
    #[arg(long)]
    watch: bool,
    /// With --watch: `restart` (default) or `signal:NAME` (HUP, USR1, ...)
    #[arg(long, value_name = "ACTION", requires = "watch")]
    on_change: Option<String>,
    /// With --watch: how long a restart waits after SIGTERM before SIGKILL
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "10s",
        requires = "watch"
    )]
    grace: String,
    /// The command and its arguments
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<String>,
}

/// What `--watch` does when a value changes.
#[derive(Debug, Clone, Copy)]
enum OnChange {
    Restart { grace: Duration },
    Signal(Signal),
}

impl Run {
    /// Runs the command; its exit code is the result.
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        let mut pairs = Vec::with_capacity(self.env.len());
        for spec in &self.env {
            let Some((var, key)) = spec.split_once('=') else {
                return Err(Failure::Usage(format!(
                    "--env {spec:?}: expected VAR=backend:name"
                )));
            };
            if var.is_empty() {
                return Err(Failure::Usage(format!(
                    "--env {spec:?}: the variable name is empty"
                )));
            }
            pairs.push((var, key));
        }
        let Some((program, args)) = self.command.split_first() else {
            return Err(Failure::Usage("run: no command given after --".into()));
        };
        let on_change = self.on_change()?;
        secret_env::check_prefix(&self.prefix)?;

        // Listening first: a SIGTERM while the secrets are read must not
        // be lost (or end `pp-secrets` and leave nothing to stop).
        let mut supervisor = Supervisor::listen()?;
        let command = || {
            let mut command = Command::new(program);
            command.args(args);
            command
        };
        let mut child = command();
        let (manager, mut events, pairs) = supervisor
            .before_start(async {
                let (document, manager) = super::start(config).await?;
                // Subscribed before the first read: a change between the
                // two is not lost.
                let events = manager.events();
                // --from's matches become --env pairs of their own, so a
                // restart reads the same keys again (the glob is expanded
                // once, at the start).
                let found =
                    secret_env::matching(&manager, &self.from, &self.prefix, &pairs).await?;
                if self.watch {
                    check_refreshed(&document.secrets.backends, &pairs, &found)?;
                }
                let mut all: Vec<(String, String)> = Vec::with_capacity(found.len() + pairs.len());
                for secret in found {
                    // Read once: the value matching() checked is the one given.
                    child.env(&secret.var, secret.value.expose());
                    all.push((secret.var, secret.key));
                }
                let explicit: Vec<(String, String)> = pairs
                    .iter()
                    .map(|(v, k)| ((*v).to_owned(), (*k).to_owned()))
                    .collect();
                set_env(&mut child, &manager, &explicit).await?;
                all.extend(explicit);
                Ok((manager, events, all))
            })
            .await?;
        if !self.watch {
            // The manager and its cache are dropped (and wiped) here: the
            // child may run for months.
            drop(manager);
            return supervisor.run(child, program).await;
        }

        let keys: BTreeSet<String> = pairs.iter().map(|(_, key)| key.clone()).collect();
        for key in &keys {
            manager.keep_checking(key);
        }
        let mut pid = supervisor.spawn(child, program)?;
        loop {
            tokio::select! {
                code = supervisor.wait(pid) => return Ok(code),
                changed = next_change(&mut events, &keys) => {
                    if !changed {
                        return Ok(supervisor.wait(pid).await);
                    }
                }
            }
            // The child may have ended just as the change came: its code
            // is the answer, not a restart.
            if let Some(code) = supervisor.exited(pid) {
                return Ok(code);
            }
            match on_change {
                OnChange::Signal(signal) => {
                    tracing::info!(
                        "a secret changed: sending signal {} to the command",
                        signal.as_raw()
                    );
                    let _ = rustix::process::kill_process(pid, signal);
                }
                OnChange::Restart { grace } => {
                    // Read first: if a value cannot be read now, the
                    // running child keeps its old one.
                    let mut next = command();
                    if let Err(e) = set_env(&mut next, &manager, &pairs).await {
                        tracing::warn!(
                            "a secret changed but cannot be read ({e}); the command keeps running"
                        );
                        continue;
                    }
                    tracing::info!("a secret changed: restarting the command");
                    let code = supervisor.stop(pid, grace).await;
                    if supervisor.stopping() {
                        // pp-secrets was asked to stop during the restart.
                        return Ok(code);
                    }
                    pid = supervisor.spawn(next, program)?;
                }
            }
        }
    }

    fn on_change(&self) -> Result<OnChange, Failure> {
        let grace = pp_secrets::config::parse_duration(&self.grace)
            .map_err(|problem| Failure::Usage(format!("--grace: {problem}")))?;
        match self.on_change.as_deref() {
            None | Some("restart") => Ok(OnChange::Restart { grace }),
            Some(action) => action
                .strip_prefix("signal:")
                .and_then(signal_named)
                .map(OnChange::Signal)
                .ok_or_else(|| {
                    Failure::Usage(format!(
                        "--on-change {action:?}: expected restart or signal:NAME \
                         (HUP, INT, QUIT, TERM, USR1, USR2)"
                    ))
                }),
        }
    }
}

/// Sets each variable on `command` to its secret; a value no variable can
/// hold (a NUL byte) is an error naming the key.
async fn set_env(
    command: &mut Command,
    manager: &SecretsManager,
    pairs: &[(String, String)],
) -> Result<(), Failure> {
    for (var, key) in pairs {
        let value = manager.get(key).await?.text_of(key)?;
        if let Some(why) = secret_env::unfit_value(&value) {
            return Err(Failure::Usage(format!("{key} (for {var}): {why}")));
        }
        command.env(var, value.expose());
    }
    Ok(())
}

/// `--watch` is refused when no secret given to the command comes from a
/// backend with a `refresh` setting: nothing would ever change.
fn check_refreshed(
    backends: &[pp_secrets::config::BackendConfig],
    pairs: &[(&str, &str)],
    derived: &[secret_env::EnvSecret],
) -> Result<(), Failure> {
    let refreshed = |key: &str| {
        SecretKey::parse(key).is_ok_and(|key| {
            backends
                .iter()
                .any(|b| b.name == key.backend && b.refresh.is_some())
        })
    };
    if pairs.iter().any(|(_, key)| refreshed(key))
        || derived.iter().any(|secret| refreshed(&secret.key))
    {
        return Ok(());
    }
    let example = RefreshSettings::every(Duration::from_secs(60));
    Err(Failure::Usage(format!(
        "run --watch: no secret given to the command comes from a backend with a refresh \
         setting, so none \
         would ever change (add, for example, `refresh: {{ every: {} }}` to the backend or \
         to the secrets section)",
        pp_secrets::config::duration_text(example.every)
    )))
}

/// Waits for an event about one of `keys` (or a missed one, which may have
/// been); `false` when the manager can send no more.
async fn next_change(events: &mut SecretEvents, keys: &BTreeSet<String>) -> bool {
    loop {
        match events.recv().await {
            None => return false,
            Some(SecretEvent::Missed { .. }) => return true,
            Some(event) if event.key().is_some_and(|key| keys.contains(key)) => return true,
            Some(_) => {}
        }
    }
}
