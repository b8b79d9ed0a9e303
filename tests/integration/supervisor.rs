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

/// `nohup pp-secrets run -- CMD`: SIGHUP stays ignored for the child, as it
/// would be without `pp-secrets`.
#[test]
fn a_signal_ignored_at_start_stays_ignored() {
    let mut child = std::process::Command::new("nohup")
        .arg(env!("CARGO_BIN_EXE_pp-secrets"))
        .arg("--config")
        .arg(fixture("basic/config.yaml"))
        .args([
            "run",
            "--",
            "sh",
            "-c",
            "echo ready; sleep 0.5; echo survived",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("reads");
    assert_eq!(line.trim(), "ready");
    signal(&child, Signal::HUP);
    line.clear();
    stdout.read_line(&mut line).expect("reads");
    assert_eq!(line.trim(), "survived", "the child was not hung up");
    assert_eq!(exit_code(&mut child), 0);
}

/// A SIGTERM that arrives while the secrets are still being read (here,
/// from a FIFO nobody writes to) stops `pp-secrets` with 143 and the
/// command is never started.
#[test]
fn a_signal_before_the_child_starts_stops_pp_secrets_without_starting_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("secrets.env");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "secrets:\n  enabled: true\n  backends:\n    slow:\n      type: dotenv\n      \
         path: secrets.env\n  load: [\"slow:*\"]\n",
    )
    .expect("write");
    let marker = dir.path().join("started");
    let mut child = cli()
        .arg("--config")
        .arg(&config)
        .args(["run", "--", "touch", &marker.display().to_string()])
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    // Opening the FIFO for writing waits until pp-secrets opens it to read:
    // then it is inside the load, long after it started listening.
    let (opened, wait) = std::sync::mpsc::channel();
    let writer_path = fifo.clone();
    std::thread::spawn(move || {
        let writer = std::fs::OpenOptions::new().write(true).open(writer_path);
        let _ = opened.send(writer);
    });
    let _writer = wait
        .recv_timeout(Duration::from_secs(60))
        .expect("pp-secrets opened the FIFO")
        .expect("opened for writing");
    signal(&child, Signal::TERM);
    assert_eq!(exit_code(&mut child), 128 + Signal::TERM.as_raw());
    assert!(!marker.exists(), "the command was never started");
}
