//! `run [--env VAR=KEY]... -- CMD [ARGS]`: run a command with secrets in its
//! environment. Secrets never go on a command line, where `ps` shows them.

use std::path::Path;

use crate::failure::Failure;

pub async fn run(config: &Path, env: &[String], command: &[String]) -> Result<i32, Failure> {
    let mut pairs = Vec::with_capacity(env.len());
    for spec in env {
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
    let Some((program, args)) = command.split_first() else {
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

/// The child's exit code; a child killed by signal N gives 128 + N, as a
/// shell reports it.
fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    if let Some(code) = status.code() {
        return code;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    1
}
