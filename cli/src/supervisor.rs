//! Running a child process the way `run` does, fit to be a container's
//! PID 1: the signals an operator or an orchestrator sends are passed on to
//! the child, every exited child is reaped, and the child's exit status
//! becomes ours.
//!
//! - SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to
//!   `pp-secrets` are sent on to the child; `pp-secrets` itself does not
//!   stop on them, it waits for the child.
//! - Exit: the child's code, or 128 + N when it died of signal N (as a shell
//!   reports it); 127 when the command is not found, 126 when it cannot be
//!   executed.
//! - As PID 1, orphaned processes are re-parented to `pp-secrets`; they are
//!   reaped as they exit (`waitpid(-1)` on each SIGCHLD), so none is left a
//!   zombie.

use std::io::ErrorKind;
use std::process::Command;

use rustix::process::{Pid, Signal, WaitOptions, WaitStatus};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use crate::exit_codes;
use crate::failure::Failure;

/// The signals passed on to the child.
const FORWARDED: [Signal; 6] = [
    Signal::TERM,
    Signal::INT,
    Signal::HUP,
    Signal::QUIT,
    Signal::USR1,
    Signal::USR2,
];

/// Runs `command` to its end; the result is the exit code to leave with.
/// `program` names the command in messages.
pub async fn supervise(mut command: Command, program: &str) -> Result<u8, Failure> {
    // Handlers first: a signal that arrives between the spawn and the
    // handlers would otherwise end `pp-secrets` and orphan the child.
    let (sender, mut received) = mpsc::unbounded_channel::<Signal>();
    for wanted in FORWARDED.into_iter().chain([Signal::CHILD]) {
        let mut stream =
            signal(SignalKind::from_raw(wanted.as_raw())).map_err(|e| Failure::CannotStart {
                code: exit_codes::CANNOT_EXECUTE,
                message: format!("run: cannot listen for signals to pass on: {e}"),
            })?;
        let sender = sender.clone();
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                if sender.send(wanted).is_err() {
                    break;
                }
            }
        });
    }
    drop(sender);

    let child = command.spawn().map_err(|e| cannot_start(program, &e))?;
    let child_pid = Pid::from_child(&child);
    // Reaped below with waitpid, not through `child`.
    drop(child);

    loop {
        // Before waiting: the child may have exited before its SIGCHLD
        // handler saw anything worth waking for.
        if let Some(status) = reap(child_pid) {
            return Ok(exit_code_of(status));
        }
        match received.recv().await {
            Some(Signal::CHILD) => {}
            Some(forwarded) => {
                tracing::debug!(
                    signal = forwarded.as_raw(),
                    "passing a signal on to the child"
                );
                // The child may have exited already; its status is
                // collected on the next turn.
                let _ = rustix::process::kill_process(child_pid, forwarded);
            }
            // Every listener holds a sender and loops forever; this is not
            // reached, but if it were, waiting for the child is still right.
            None => return Ok(wait_for(child_pid)),
        }
    }
}

/// Blocks until `child` exits; its exit code (1 when it cannot be had).
fn wait_for(child: Pid) -> u8 {
    match rustix::process::waitpid(Some(child), WaitOptions::empty()) {
        Ok(Some((_, status))) => exit_code_of(status),
        _ => 1,
    }
}

/// Reaps every exited child; the status of `child` if it was among them.
fn reap(child: Pid) -> Option<WaitStatus> {
    let mut ours = None;
    loop {
        match rustix::process::waitpid(None, WaitOptions::NOHANG) {
            Ok(Some((pid, status))) => {
                if pid == child && (status.exited() || status.signaled()) {
                    ours = Some(status);
                }
            }
            // Children left, none exited; or no children at all.
            Ok(None) | Err(_) => return ours,
        }
    }
}

/// The exit code for the child's status: its code, or 128 + N when it died
/// of signal N.
fn exit_code_of(status: WaitStatus) -> u8 {
    let code = status
        .exit_status()
        .or_else(|| status.terminating_signal().map(|signal| 128 + signal));
    // A code is 0..=255 on Unix; anything else is reported as a failure.
    code.and_then(|code| u8::try_from(code).ok()).unwrap_or(1)
}

/// Why the command could not be started, with the shell's exit code.
fn cannot_start(program: &str, error: &std::io::Error) -> Failure {
    let (code, problem) = match error.kind() {
        ErrorKind::NotFound => (exit_codes::COMMAND_NOT_FOUND, "command not found"),
        ErrorKind::PermissionDenied => (exit_codes::CANNOT_EXECUTE, "permission denied"),
        _ => (exit_codes::CANNOT_EXECUTE, "cannot be executed"),
    };
    Failure::CannotStart {
        code,
        message: format!("run: {program:?}: {problem} ({error})"),
    }
}
