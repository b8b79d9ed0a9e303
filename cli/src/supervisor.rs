//! Running a child process the way `run` does, fit to be a container's
//! PID 1: the signals an operator or an orchestrator sends are passed on to
//! the child, every exited child is reaped, and the child's exit status
//! becomes ours.
//!
//! - SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 sent to
//!   `pp-secrets` are sent on to the child; `pp-secrets` itself does not
//!   stop on them, it waits for the child. Listening starts before the
//!   secrets are read: a signal that arrives before the child starts ends
//!   `pp-secrets` with 128 + N and the child is never started.
//! - A signal `pp-secrets` was started with ignored (`nohup`, a background
//!   job's SIGINT and SIGQUIT) stays ignored and is not passed on: the
//!   child inherits it ignored, as it would without `pp-secrets`.
//! - When `pp-secrets` runs in the foreground of a terminal, the terminal's
//!   own SIGINT and SIGQUIT (Ctrl-C, Ctrl-\) already reach the child, which
//!   is in the same process group: those two are not passed on again, so
//!   the child sees one Ctrl-C, not two.
//! - Exit: the child's code, or 128 + N when it died of signal N (as a shell
//!   reports it); 127 when the command is not found, 126 when it cannot be
//!   executed.
//! - As PID 1, orphaned processes are re-parented to `pp-secrets`; they are
//!   reaped as they exit (`waitpid(-1)` on each SIGCHLD), so none is left a
//!   zombie.

use std::future::Future;
use std::io::ErrorKind;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

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

/// Signals listened for, from before the secrets are read until the child
/// has exited.
pub struct Supervisor {
    received: mpsc::UnboundedReceiver<Signal>,
    /// Whether a signal asking to stop (TERM, INT, QUIT) was passed on:
    /// the child is on its way out, and is not to be replaced.
    stopping: bool,
    /// The forwarded signals that are passed on (the rest are listened for
    /// only so that they do not end `pp-secrets`).
    passed_on: Vec<Signal>,
}

impl Supervisor {
    /// Starts listening. Call it before any slow work, so that no signal
    /// is lost.
    pub fn listen() -> Result<Self, Failure> {
        let ignored = ignored_signals();
        let terminal_reaches_child = in_terminal_foreground();
        let (sender, received) = mpsc::unbounded_channel::<Signal>();
        let mut passed_on = Vec::new();
        for wanted in FORWARDED.into_iter().chain([Signal::CHILD]) {
            if ignored.contains(&wanted) {
                continue;
            }
            if wanted != Signal::CHILD
                && !(terminal_reaches_child && [Signal::INT, Signal::QUIT].contains(&wanted))
            {
                passed_on.push(wanted);
            }
            let mut stream = signal(SignalKind::from_raw(wanted.as_raw())).map_err(|e| {
                Failure::CannotStart {
                    code: exit_codes::CANNOT_EXECUTE,
                    message: format!("run: cannot listen for signals to pass on: {e}"),
                }
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
        Ok(Self {
            received,
            stopping: false,
            passed_on,
        })
    }

    /// Runs `work` (reading the secrets), unless a signal that would be
    /// passed on arrives first: then there is no child to pass it to, and
    /// `pp-secrets` stops with 128 + N.
    pub async fn before_start<T>(
        &mut self,
        work: impl Future<Output = Result<T, Failure>>,
    ) -> Result<T, Failure> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                result = &mut work => return result,
                Some(received) = self.received.recv() => {
                    if FORWARDED.contains(&received) {
                        return Err(Failure::Stopped {
                            code: 128 + received.as_raw() as u8,
                            message: format!(
                                "run: stopped by signal {} before the command started",
                                received.as_raw()
                            ),
                        });
                    }
                }
            }
        }
    }

    /// Waits for one of the signals `run` would pass on, for a command
    /// with no child that ends on them (`render --watch`).
    pub async fn until_forwarded_signal(&mut self) -> Option<Signal> {
        loop {
            match self.received.recv().await {
                Some(received) if FORWARDED.contains(&received) => return Some(received),
                Some(_) => {}
                None => return None,
            }
        }
    }

    /// Runs `command` to its end; the result is the exit code to leave
    /// with. `program` names the command in messages.
    pub async fn run(mut self, command: Command, program: &str) -> Result<u8, Failure> {
        let child = self.spawn(command, program)?;
        Ok(self.wait(child).await)
    }

    /// Starts `command` (dropping it, and the secrets in its environment,
    /// once started); the child's pid.
    pub fn spawn(&mut self, mut command: Command, program: &str) -> Result<Pid, Failure> {
        let child = command.spawn().map_err(|e| cannot_start(program, &e))?;
        drop(command);
        // Reaped with waitpid, not through `child`.
        Ok(Pid::from_child(&child))
    }

    /// Passes signals on to `child` until it exits; its exit code. Safe to
    /// cancel and call again.
    pub async fn wait(&mut self, child: Pid) -> u8 {
        loop {
            // Before waiting: the child may have exited before its SIGCHLD
            // handler saw anything worth waking for.
            if let Some(status) = reap(child) {
                return exit_code_of(status);
            }
            match self.received.recv().await {
                Some(Signal::CHILD) => {}
                Some(received) if self.passed_on.contains(&received) => {
                    tracing::debug!(
                        signal = received.as_raw(),
                        "passing a signal on to the child"
                    );
                    if [Signal::TERM, Signal::INT, Signal::QUIT].contains(&received) {
                        self.stopping = true;
                    }
                    // The child may have exited already; its status is
                    // collected on the next turn.
                    let _ = rustix::process::kill_process(child, received);
                }
                Some(_) => {}
                // Every listener holds a sender and loops for ever; this is
                // not reached, but if it were, waiting for the child is
                // still right.
                None => return wait_for(child),
            }
        }
    }

    /// Stops `child`: SIGTERM, then SIGKILL if it has not exited after
    /// `grace`; its exit code, once it is reaped. Signals received
    /// meanwhile are still passed on.
    pub async fn stop(&mut self, child: Pid, grace: Duration) -> u8 {
        let _ = rustix::process::kill_process(child, Signal::TERM);
        let deadline = tokio::time::Instant::now() + grace;
        tokio::select! {
            code = self.wait(child) => return code,
            () = tokio::time::sleep_until(deadline) => {}
        }
        tracing::warn!("the command did not stop within {grace:?} of SIGTERM: sending SIGKILL");
        let _ = rustix::process::kill_process(child, Signal::KILL);
        self.wait(child).await
    }

    /// Whether a signal asking to stop was passed on to a child: it is not
    /// to be restarted.
    pub fn stopping(&self) -> bool {
        self.stopping
    }

    /// `child`'s exit code if it has exited (reaping it), without waiting.
    pub fn exited(&mut self, child: Pid) -> Option<u8> {
        reap(child).map(exit_code_of)
    }
}

/// A signal named as `kill -l` does (`HUP`, `SIGHUP`, `USR1`), among those
/// a child may be sent on a change.
pub fn signal_named(name: &str) -> Option<Signal> {
    let name = name.strip_prefix("SIG").unwrap_or(name);
    Some(match name {
        "HUP" => Signal::HUP,
        "INT" => Signal::INT,
        "QUIT" => Signal::QUIT,
        "TERM" => Signal::TERM,
        "USR1" => Signal::USR1,
        "USR2" => Signal::USR2,
        _ => return None,
    })
}

/// The signals this process was started with ignored, from
/// `/proc/self/status` (`SigIgn`, a hexadecimal mask, bit N-1 for signal N).
fn ignored_signals() -> Vec<Signal> {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return Vec::new();
    };
    let Some(mask) = status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
    else {
        return Vec::new();
    };
    FORWARDED
        .into_iter()
        .filter(|s| (1..=64).contains(&s.as_raw()) && mask & (1 << (s.as_raw() - 1)) != 0)
        .collect()
}

/// Whether this process is in the foreground process group of its
/// controlling terminal (so that the terminal's SIGINT and SIGQUIT reach
/// the child as well).
fn in_terminal_foreground() -> bool {
    let Ok(terminal) = std::fs::File::open("/dev/tty") else {
        return false;
    };
    rustix::termios::tcgetpgrp(&terminal).is_ok_and(|group| group == rustix::process::getpgrp())
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
        // A path that exists but "is not found" names a script whose
        // interpreter is missing: the shell says 126 for that.
        ErrorKind::NotFound if program.contains('/') && Path::new(program).exists() => (
            exit_codes::CANNOT_EXECUTE,
            "cannot be executed (its interpreter was not found)",
        ),
        ErrorKind::NotFound => (exit_codes::COMMAND_NOT_FOUND, "command not found"),
        ErrorKind::PermissionDenied => (exit_codes::CANNOT_EXECUTE, "permission denied"),
        _ => (exit_codes::CANNOT_EXECUTE, "cannot be executed"),
    };
    Failure::CannotStart {
        code,
        message: format!("run: {program:?}: {problem} ({error})"),
    }
}
