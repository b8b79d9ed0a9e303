//! `run [--env VAR=KEY]... -- CMD [ARGS]`: run a command with secrets in its
//! environment. Secrets never go on a command line, where `ps` shows them.
//! The child is run under a [`Supervisor`]: signals passed on, its exit
//! code ours.

use std::path::Path;

use clap::Args;

use crate::failure::Failure;
use crate::supervisor::Supervisor;

/// The arguments of `run`.
#[derive(Debug, Args)]
pub struct Run {
    /// Set VAR to the secret KEY (backend:name); repeatable
    #[arg(long = "env", value_name = "VAR=KEY")]
    env: Vec<String>,
    /// The command and its arguments
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<String>,
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

        // Listening first: a SIGTERM while the secrets are read must not
        // be lost (or end `pp-secrets` and leave nothing to stop).
        let mut supervisor = Supervisor::listen()?;
        let mut child = std::process::Command::new(program);
        child.args(args);
        supervisor
            .before_start(async {
                let (_, manager) = super::start(config).await?;
                for (var, key) in pairs {
                    let value = manager.get(key).await?;
                    child.env(var, value.to_text().expose());
                }
                // The manager and its cache are dropped (and wiped) here:
                // the child may run for months.
                Ok(())
            })
            .await?;
        supervisor.run(child, program).await
    }
}
