//! `run` as a container's PID 1: real signals sent to a real `pp-secrets`
//! reach its child, and the child's fate is the exit code.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

use crate::support::{cli, fixture};

/// `pp-secrets run -- sh -c SCRIPT` with stdout piped, once the script has
/// printed its first line (`ready`), so its traps are set.
fn start(script: &str) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = cli()
        .arg("--config")
        .arg(fixture("basic/config.yaml"))
        .args(["run", "--", "sh", "-c", script])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("pp-secrets starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("reads");
    assert_eq!(line.trim(), "ready", "the script started");
    (child, stdout)
}

/// Waits (at most a minute) for `child` to exit; its code.
fn exit_code(child: &mut Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            return status.code().unwrap_or_else(|| {
                panic!("pp-secrets itself died of a signal: {status:?}");
            });
        }
        assert!(Instant::now() < deadline, "pp-secrets did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &Child, signal: Signal) {
    let pid = Pid::from_raw(child.id() as i32).expect("a pid");
    kill_process(pid, signal).expect("signal sent");
}

#[test]
fn each_forwarded_signal_reaches_the_child_and_its_exit_code_is_kept() {
    for (name, sig) in [
        ("TERM", Signal::TERM),
        ("INT", Signal::INT),
        ("HUP", Signal::HUP),
        ("QUIT", Signal::QUIT),
        ("USR1", Signal::USR1),
        ("USR2", Signal::USR2),
    ] {
        // The trap runs between two short sleeps; it answers and exits 42.
        let script = format!(
            "trap 'echo got-{name}; exit 42' {name}; echo ready; while :; do sleep 0.05; done"
        );
        let (mut child, mut stdout) = start(&script);
        signal(&child, sig);
        let mut answer = String::new();
        stdout.read_line(&mut answer).expect("reads");
        assert_eq!(
            answer.trim(),
            format!("got-{name}"),
            "SIG{name} reached the child"
        );
        assert_eq!(exit_code(&mut child), 42, "SIG{name}: the child's own code");
    }
}

#[test]
fn a_child_killed_by_a_forwarded_signal_gives_128_plus_its_number() {
    // `exec`: the signal goes to `sleep` itself, which has no handler.
    let (mut child, _stdout) = start("echo ready; exec sleep 30");
    signal(&child, Signal::TERM);
    assert_eq!(exit_code(&mut child), 128 + Signal::TERM.as_raw());

    let (mut child, _stdout) = start("echo ready; exec sleep 30");
    signal(&child, Signal::USR1);
    assert_eq!(exit_code(&mut child), 128 + Signal::USR1.as_raw());
}

#[test]
fn a_child_that_kills_itself_gives_128_plus_the_signal() {
    let r = crate::support::basic(&["run", "--", "sh", "-c", "kill -KILL $$"]);
    r.expect_code(128 + 9);
}

#[test]
fn a_missing_command_is_127_and_one_that_cannot_be_executed_is_126() {
    let r = crate::support::basic(&["run", "--", "pp-secrets-test-no-such-command"]);
    r.expect_code(127);
    assert!(r.stderr.contains("command not found"), "{}", r.stderr);

    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("not-executable.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").expect("write");
    let r = crate::support::basic(&["run", "--", &script.display().to_string()]);
    r.expect_code(126);
    assert!(r.stderr.contains("permission denied"), "{}", r.stderr);
}

/// As PID 1 of a new PID namespace (`unshare`, which needs root), an
/// orphaned grandchild is re-parented to `pp-secrets`, which must reap it:
/// the script checks that its orphan left no zombie behind.
#[test]
fn as_pid_1_orphans_are_reaped() {
    let probe = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "unshare --pid is needed for this test under CI"
        );
        eprintln!("SKIPPED as_pid_1_orphans_are_reaped: unshare --pid needs root here");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let pid_file = dir.path().join("orphan.pid");
    let script = format!(
        "(sleep 0.1 & echo $! > {file}); sleep 0.8; p=$(cat {file}); \
         if [ -e /proc/$p ]; then echo \"left: $(cut -d' ' -f3 /proc/$p/stat)\"; exit 1; fi; \
         echo reaped",
        file = pid_file.display()
    );
    let output = std::process::Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc"])
        .arg(env!("CARGO_BIN_EXE_pp-secrets"))
        .arg("--config")
        .arg(fixture("basic/config.yaml"))
        .args(["run", "--", "sh", "-c", &script])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        stdout.trim(),
        "reaped",
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(0));
}
