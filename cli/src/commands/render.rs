//! `render [FILE] [--output OUT [--watch] [--exec CMD]]`: FILE (default:
//! the config) as YAML, `${VAR}` expanded and `${secret://...}` tokens
//! resolved; printed, or written to OUT.
//!
//! OUT is written atomically: a temporary file in the same directory,
//! mode 0600, renamed over OUT, so a reader never sees half a file. With
//! `--watch`, `render` keeps running (the config's `refresh` settings) and
//! writes OUT again whenever a secret it uses changes, then runs CMD (with
//! `sh -c`) if given: the consul-template and Vault Agent template use.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::Args;
use pp_secrets::manager::SecretEvent;
use pp_secrets::{
    ConfigTree, SecretsManager, file_token_keys, render_file, resolve_tokens, token_keys,
};
use zeroize::Zeroizing;

use crate::atomic_file::write_atomically;
use crate::exit_codes;
use crate::failure::Failure;
use crate::output;
use crate::supervisor::Supervisor;

/// The arguments of `render`.
#[derive(Debug, Args)]
pub struct Render {
    /// The file to render [default: the config itself]
    file: Option<PathBuf>,
    /// Write the result to OUT (atomically, mode 0600) instead of printing it
    #[arg(long, short, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Keep running and write OUT again when a secret it uses changes
    #[arg(long, requires = "output")]
    watch: bool,
    /// Run CMD (with sh -c) after each write of OUT
    #[arg(long, value_name = "CMD", requires = "output")]
    exec: Option<String>,
}

impl Render {
    /// Prints or writes the rendered file.
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        // Listening first, so that a SIGTERM to a watching `render` ends it
        // cleanly (exit 0) rather than mid-write.
        let mut signals = if self.watch {
            Some(Supervisor::listen()?)
        } else {
            None
        };
        // FILE is read (and parsed) before the load declarations run: a
        // missing or malformed file is reported at once.
        if let Some(file) = &self.file {
            file_token_keys(file)?;
        }
        let (document, manager) = super::start(config).await?;
        // Subscribed before the first rendering: a change between the two
        // is not lost.
        let mut events = manager.events();
        let template = match &self.file {
            Some(_) => None,
            None => Some(document.tree),
        };
        let render = || self.render(template.as_ref(), &manager);
        let Some(output) = &self.output else {
            let yaml = yaml_of(&render().await?)?;
            output::raw(&yaml);
            return Ok(exit_codes::SUCCESS);
        };

        let mut last = yaml_of(&render().await?)?;
        write_atomically(output, &last)?;
        let Some(signals) = signals.as_mut() else {
            self.run_exec(None).await;
            return Ok(exit_codes::SUCCESS);
        };
        if self.run_exec(Some(signals)).await {
            return Ok(exit_codes::SUCCESS);
        }

        let keys = || -> Result<BTreeSet<String>, Failure> {
            Ok(match (&self.file, &template) {
                (_, Some(tree)) => token_keys(tree),
                (Some(file), None) => file_token_keys(file)?,
                (None, None) => BTreeSet::new(),
            })
        };
        let mut watched = keys()?;
        for key in &watched {
            manager.keep_checking(key);
        }
        loop {
            tokio::select! {
                _ = signals.until_forwarded_signal() => return Ok(exit_codes::SUCCESS),
                event = events.recv() => match event {
                    None => return Ok(exit_codes::SUCCESS),
                    Some(SecretEvent::Missed { .. }) => {}
                    Some(event) if event.key().is_some_and(|k| watched.contains(k)) => {}
                    Some(_) => continue,
                },
            }
            let yaml = match render().await {
                Ok(tree) => yaml_of(&tree)?,
                Err(failure) => {
                    tracing::warn!("{failure}; {} keeps its last content", output.display());
                    continue;
                }
            };
            // FILE is read again at each rendering: its tokens may have
            // changed too.
            if let Ok(now) = keys() {
                for key in now.difference(&watched) {
                    manager.keep_checking(key);
                }
                watched = now;
            }
            if *yaml != *last {
                write_atomically(output, &yaml)?;
                last = yaml;
                tracing::info!("{} rewritten: a secret it uses changed", output.display());
                if self.run_exec(Some(signals)).await {
                    return Ok(exit_codes::SUCCESS);
                }
            }
        }
    }

    /// The rendered tree: FILE read again (so edits to it are seen), or the
    /// config's own tree.
    async fn render(
        &self,
        template: Option<&ConfigTree>,
        manager: &SecretsManager,
    ) -> Result<ConfigTree, Failure> {
        match (&self.file, template) {
            (Some(file), _) => Ok(render_file(file, manager).await?),
            (None, Some(template)) => {
                let mut tree = template.clone();
                resolve_tokens(&mut tree, manager).await?;
                Ok(tree)
            }
            (None, None) => Ok(ConfigTree::default()),
        }
    }

    /// Runs `--exec` and waits for it (a failure is logged, not fatal),
    /// unless a signal to stop comes first: then it is passed on to the
    /// command and the result is `true` (time to stop).
    async fn run_exec(&self, signals: Option<&mut Supervisor>) -> bool {
        let Some(command) = &self.exec else {
            return false;
        };
        let mut child = match tokio::process::Command::new("sh")
            .args(["-c", command])
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                tracing::warn!("--exec {command:?} could not be started: {e}");
                return false;
            }
        };
        let status = match signals {
            Some(signals) => tokio::select! {
                status = child.wait() => status,
                signal = signals.until_forwarded_signal() => {
                    let pid = child.id().and_then(|pid| rustix::process::Pid::from_raw(pid as i32));
                    if let (Some(signal), Some(pid)) = (signal, pid) {
                        let _ = rustix::process::kill_process(pid, signal);
                    }
                    let _ = child.wait().await;
                    return true;
                }
            },
            None => child.wait().await,
        };
        match status {
            Ok(status) if status.success() => {}
            Ok(status) => tracing::warn!("--exec {command:?} exited with {status}"),
            Err(e) => tracing::warn!("--exec {command:?} could not be waited for: {e}"),
        }
        false
    }
}

/// The tree as YAML text (it holds the resolved secrets: wiped once
/// dropped).
fn yaml_of(tree: &ConfigTree) -> Result<Zeroizing<String>, Failure> {
    serde_yaml::to_string(&**tree)
        .map(Zeroizing::new)
        .map_err(|e| Failure::Usage(format!("cannot print the result as YAML: {e}")))
}
