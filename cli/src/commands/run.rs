//! `run [--env VAR=KEY]... -- CMD [ARGS]`: run a command with secrets in its
//! environment. Secrets never go on a command line, where `ps` shows them.

use std::path::Path;

use clap::Args;

use crate::failure::Failure;

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

        let (_, manager) = super::start(config).await?;
        let mut child = std::process::Command::new(program);
        child.args(args);
        for (var, key) in pairs {
            let value = manager.get(key).await?;
            child.env(var, value.to_text().expose());
        }
        let status = child
            .status()
            .map_err(|e| Failure::Spawn(format!("cannot run {program:?}: {e}")))?;
        Ok(exit_code_of(status))
    }
}

/// The child's exit code; a child killed by signal N gives 128 + N, as a
/// shell reports it.
fn exit_code_of(status: std::process::ExitStatus) -> u8 {
    let code = status.code().or_else(|| {
        use std::os::unix::process::ExitStatusExt;
        status.signal().map(|signal| 128 + signal)
    });
    // A code is 0..=255 on Unix; anything else is reported as a failure.
    code.and_then(|code| u8::try_from(code).ok()).unwrap_or(1)
}
