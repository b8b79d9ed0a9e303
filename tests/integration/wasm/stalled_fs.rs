//! A granted directory on a filesystem that stops answering, as a hung NFS
//! or FUSE server does: a FUSE filesystem mounted by the test answers
//! everything but reads of `secret` and the lookup of `hung`, which it
//! holds until the test releases it. A guest's call still ends at its time
//! limit, the instance slot comes back, and other backends serve.
//!
//! A thread waiting on a lookup that a FUSE server holds cannot be killed
//! (the kernel waits for the answer), so a process with such a thread
//! exits only once the filesystem answers; a read waits killably, and the
//! process exits at once. The tests show both.
//!
//! Mounting needs /dev/fuse and the right to mount (root here). Without
//! /dev/fuse these tests skip loudly; under `CI=true` a failed mount fails.

use std::ffi::OsStr;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

use fuser::{
    BackgroundSession, Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags,
    Generation, INodeNo, LockOwner, MountOption, OpenFlags, ReplyAttr, ReplyData, ReplyDirectory,
    ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, Request,
};
use pp_secrets::ErrorKind;

use super::host_boundary::{hostile_config, run_bounded};
use super::{guest, manager, serving_dir, wasm_backend};
use crate::support::{Run, cli};

/// The file whose reads are never answered, the name whose lookup is
/// never answered, and the file that reads but whose close (flush) is
/// never answered.
const SECRET: &str = "secret";
const HUNG: &str = "hung";
const SLOW_CLOSE: &str = "slow-close";
const SECRET_INO: INodeNo = INodeNo(2);
const SLOW_CLOSE_INO: INodeNo = INodeNo(3);
const SLOW_CLOSE_TEXT: &[u8] = b"closing";
const TTL: Duration = Duration::from_secs(60);

/// The blocking threads of the runtime the tests call from.
const CALLER_BLOCKING_THREADS: usize = 4;

/// A call that was stopped ends well within this; one that was not would
/// hang for ever.
const ENDS_WITHIN: Duration = Duration::from_secs(20);

/// The FUSE filesystem: a root holding `secret`.
struct Stalling(Arc<Held>);

/// The replies the filesystem holds back, until [`Held::release`].
#[derive(Default)]
struct Held {
    replies: Mutex<Vec<Box<dyn Send>>>,
    released: AtomicBool,
    everything: AtomicBool,
}

impl Held {
    /// From now on, every request is held (as a server that hangs).
    fn stall_everything(&self) {
        self.everything.store(true, Ordering::SeqCst);
    }

    /// Holds `reply` when every request is held; whether it did.
    fn held_as_everything<R: Send + 'static>(&self, reply: R) -> Option<R> {
        if self.everything.load(Ordering::SeqCst) && !self.released.load(Ordering::SeqCst) {
            self.hold(reply);
            None
        } else {
            Some(reply)
        }
    }

    /// Keeps `reply` unsent (dropping one answers it with an I/O error),
    /// or, once released, answers it so at once.
    fn hold(&self, reply: impl Send + 'static) {
        if !self.released.load(Ordering::SeqCst) {
            self.replies
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(Box::new(reply));
        }
    }

    /// Answers every held request, and every later one, with an I/O error.
    fn release(&self) {
        self.released.store(true, Ordering::SeqCst);
        self.replies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// A mounted stalling filesystem: released, then unmounted, when dropped.
struct Mounted {
    at: PathBuf,
    held: Arc<Held>,
    session: Option<BackgroundSession>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.held.release();
        // Lazily: the threads just released may still hold files there.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.at)
            .status();
        drop(self.session.take());
    }
}

fn attr(ino: INodeNo, kind: FileType, size: u64) -> FileAttr {
    FileAttr {
        ino,
        size,
        blocks: 1,
        atime: UNIX_EPOCH,
        mtime: UNIX_EPOCH,
        ctime: UNIX_EPOCH,
        crtime: UNIX_EPOCH,
        kind,
        perm: if kind == FileType::Directory {
            0o755
        } else {
            0o644
        },
        nlink: 1,
        uid: 0,
        gid: 0,
        rdev: 0,
        flags: 0,
        blksize: 512,
    }
}

impl Filesystem for Stalling {
    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        let Some(reply) = self.0.held_as_everything(reply) else {
            return;
        };
        match (parent, name.to_str()) {
            (INodeNo::ROOT, Some(SECRET)) => reply.entry(
                &TTL,
                &attr(SECRET_INO, FileType::RegularFile, 6),
                Generation(0),
            ),
            (INodeNo::ROOT, Some(SLOW_CLOSE)) => reply.entry(
                &TTL,
                &attr(
                    SLOW_CLOSE_INO,
                    FileType::RegularFile,
                    SLOW_CLOSE_TEXT.len() as u64,
                ),
                Generation(0),
            ),
            (INodeNo::ROOT, Some(HUNG)) => self.0.hold(reply),
            _ => reply.error(Errno::ENOENT),
        }
    }

    fn getattr(&self, _req: &Request, ino: INodeNo, _fh: Option<FileHandle>, reply: ReplyAttr) {
        let Some(reply) = self.0.held_as_everything(reply) else {
            return;
        };
        match ino {
            INodeNo::ROOT => reply.attr(&TTL, &attr(ino, FileType::Directory, 0)),
            SECRET_INO => reply.attr(&TTL, &attr(ino, FileType::RegularFile, 6)),
            SLOW_CLOSE_INO => reply.attr(
                &TTL,
                &attr(ino, FileType::RegularFile, SLOW_CLOSE_TEXT.len() as u64),
            ),
            _ => reply.error(Errno::ENOENT),
        }
    }

    fn opendir(&self, _req: &Request, _ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        if let Some(reply) = self.0.held_as_everything(reply) {
            reply.opened(FileHandle(0), FopenFlags::empty());
        }
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        if let Some(reply) = self.0.held_as_everything(reply) {
            reply.statfs(0, 0, 0, 0, 0, 512, 255, 0);
        }
    }

    fn flush(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        if ino == SLOW_CLOSE_INO {
            self.0.hold(reply);
        } else {
            reply.ok();
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn read(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        _size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        if ino == SLOW_CLOSE_INO {
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            reply.data(SLOW_CLOSE_TEXT.get(start..).unwrap_or_default());
        } else {
            self.0.hold(reply);
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        if ino != INodeNo::ROOT {
            reply.error(Errno::ENOENT);
            return;
        }
        let entries = [
            (INodeNo::ROOT, FileType::Directory, "."),
            (INodeNo::ROOT, FileType::Directory, ".."),
            (SECRET_INO, FileType::RegularFile, SECRET),
            (SLOW_CLOSE_INO, FileType::RegularFile, SLOW_CLOSE),
        ];
        for (at, (ino, kind, name)) in entries.into_iter().enumerate().skip(offset as usize) {
            if reply.add(ino, at as u64 + 1, kind, name) {
                break;
            }
        }
        reply.ok();
    }
}

/// The stalling filesystem mounted at `at` (a new directory), or `None`
/// (after saying so) where FUSE is not available.
fn mount_stalling(at: &Path) -> Option<Mounted> {
    std::fs::create_dir(at).expect("mount point");
    if !Path::new("/dev/fuse").exists() {
        eprintln!("\n*** SKIPPING: no /dev/fuse, so no FUSE filesystem to stall ***\n");
        return None;
    }
    let mut config = Config::default();
    config.mount_options = vec![MountOption::RO, MountOption::FSName("pp-stall".into())];
    let held = Arc::new(Held::default());
    match fuser::spawn_mount(Stalling(Arc::clone(&held)), at, &config) {
        Ok(session) => Some(Mounted {
            at: at.to_owned(),
            held,
            session: Some(session),
        }),
        Err(e) => {
            let message = format!("cannot mount a FUSE filesystem (needs root): {e}");
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
            eprintln!("\n*** SKIPPING: {message} ***\n");
            None
        }
    }
}

/// Runs `pp-secrets --config <config> <args>` until its stderr says that
/// the provider did not answer within 500 ms (failing the test if that
/// takes past [`ENDS_WITHIN`]), then releases `mounted` and returns how
/// long the error took and the finished run.
fn run_until_timeout_error(config: &Path, args: &[&str], mounted: &Mounted) -> (Duration, Run) {
    let mut child = cli()
        .arg("--config")
        .arg(config)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pp-secrets runs");
    let started = Instant::now();
    let stderr = child.stderr.take().expect("stderr piped");
    let (line_tx, lines) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = line_tx.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    let mut took = None;
    while took.is_none() {
        let left = ENDS_WITHIN.saturating_sub(started.elapsed());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains("did not answer within 500 ms") => {
                took = Some(started.elapsed());
            }
            Ok(_) => {}
            Err(_) => {
                mounted.held.release();
                let _ = child.kill();
                panic!("pp-secrets {args:?} gave no timeout error within {ENDS_WITHIN:?}");
            }
        }
    }
    // Lets the thread the kernel holds go, so that the process can exit.
    mounted.held.release();
    let status = child.wait().expect("exits once released");
    let stderr = reader.join().expect("stderr read");
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr,
    };
    (took.unwrap_or(ENDS_WITHIN), run)
}

#[test]
fn a_read_that_never_returns_ends_at_the_time_limit_and_the_process_exits() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The grant is a local directory with the stalling mount below it.
    let Some(config) = hostile_config(dir.path(), "{ timeout_ms: 500 }") else {
        return;
    };
    let remote = dir.path().join("remote");
    let Some(_mounted) = mount_stalling(&remote) else {
        return;
    };
    let started = Instant::now();
    let file = remote.join(SECRET);
    let run = run_bounded(
        &config,
        &["get", &format!("hostile:file:{}", file.display())],
        &[],
    );
    run.expect_code(3);
    assert!(
        run.stderr.contains("did not answer within 500 ms"),
        "{}",
        run.stderr
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    run_bounded(&config, &["get", "local:api_key"], &[]).expect_code(0);
}

#[test]
fn a_lookup_that_never_returns_ends_at_the_time_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(config) = hostile_config(dir.path(), "{ timeout_ms: 500 }") else {
        return;
    };
    let remote = dir.path().join("remote");
    let Some(mounted) = mount_stalling(&remote) else {
        return;
    };
    let file = remote.join(HUNG);
    let (took, run) = run_until_timeout_error(
        &config,
        &["get", &format!("hostile:file:{}", file.display())],
        &mounted,
    );
    run.expect_code(3);
    assert!(took < Duration::from_secs(10), "the error took {took:?}");
}

#[test]
fn a_stalled_backend_keeps_its_slot_and_others_serve() {
    let dir = tempfile::tempdir().expect("tempdir");
    let remote = dir.path().join("remote");
    let Some(mounted) = mount_stalling(&remote) else {
        return;
    };
    let Some((secrets, runtime)) = stalled_and_local(dir.path(), &remote) else {
        return;
    };
    let (done, finished) = std::sync::mpsc::channel();
    let calls = runtime.spawn(async move {
        let mut outcomes = Vec::new();
        // Twice: with one instance slot, a slot lost to the first stall
        // would hold the second call for ever.
        for _ in 0..2 {
            let started = Instant::now();
            let error = secrets
                .get_raw("stalled:secret")
                .await
                .expect_err("a stalled read is an error");
            outcomes.push((error.kind(), error.to_string(), started.elapsed()));
        }
        let local = secrets
            .get_raw("local:TOKEN")
            .await
            .map(|v| v.expose().to_owned());
        let _ = done.send(());
        (outcomes, local)
    });
    if finished.recv_timeout(ENDS_WITHIN).is_err() {
        // Released first, or the runtime's threads would hold the test.
        mounted.held.release();
        panic!("a call on the stalled filesystem hung past {ENDS_WITHIN:?}");
    }
    let (outcomes, local) = runtime.block_on(calls).expect("calls ran");
    for (kind, message, took) in outcomes {
        assert_eq!(kind, ErrorKind::Backend, "{message}");
        assert!(
            message.contains("did not answer within 500 ms"),
            "{message}"
        );
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }
    assert_eq!(local.expect("the other backend serves"), "local-value");
    // The pool's threads still wait on the filesystem; the runtime does
    // not wait for them, and releasing the filesystem answers them.
    runtime.shutdown_background();
    drop(mounted);
}

/// A manager serving `remote` through the `dir` provider (one instance,
/// 500 ms) and a local `.env` backend, on a runtime of its own.
fn stalled_and_local(
    dir: &Path,
    remote: &Path,
) -> Option<(pp_secrets::SecretsManager, tokio::runtime::Runtime)> {
    let dir_provider = guest("dir")?;
    std::fs::write(dir.join("local.env"), "TOKEN=local-value\n").expect("write");
    let secrets = manager(&format!(
        "  backends:\n{}    local:\n      type: dotenv\n      path: {:?}\n",
        wasm_backend(
            "stalled",
            &dir_provider,
            &format!(
                "{}      limits: {{ instances: 1, timeout_ms: 500 }}\n",
                serving_dir(remote)
            )
        ),
        dir.join("local.env").display().to_string()
    ));
    // A small blocking pool, as an embedder may have: the stalled
    // backend's threads must not come from it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(CALLER_BLOCKING_THREADS)
        .enable_all()
        .build()
        .expect("runtime");
    Some((secrets, runtime))
}

#[test]
fn setting_up_an_instance_on_a_hung_grant_ends_at_the_time_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let remote = dir.path().join("remote");
    let Some(mounted) = mount_stalling(&remote) else {
        return;
    };
    // The grant is checked when the config is read, while it answers.
    let Some((secrets, runtime)) = stalled_and_local(dir.path(), &remote) else {
        return;
    };
    mounted.held.stall_everything();
    let (done, finished) = std::sync::mpsc::channel();
    let calls = runtime.spawn(async move {
        let mut errors = Vec::new();
        for _ in 0..2 {
            let started = Instant::now();
            let error = secrets
                .get_raw("stalled:secret")
                .await
                .expect_err("stalled");
            errors.push((error.to_string(), started.elapsed()));
        }
        let local = secrets
            .get_raw("local:TOKEN")
            .await
            .map(|v| v.expose().to_owned());
        let _ = done.send(());
        (errors, local)
    });
    if finished.recv_timeout(ENDS_WITHIN).is_err() {
        mounted.held.release();
        panic!("setting up an instance on the hung grant hung past {ENDS_WITHIN:?}");
    }
    let (errors, local) = runtime.block_on(calls).expect("calls ran");
    for (message, took) in errors {
        assert!(
            message.contains("did not answer within 500 ms"),
            "{message}"
        );
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }
    assert_eq!(local.expect("the other backend serves"), "local-value");
    runtime.shutdown_background();
    drop(mounted);
}

#[test]
fn a_close_that_never_returns_does_not_hold_the_call() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(config) = hostile_config(dir.path(), "{ timeout_ms: 2000 }") else {
        return;
    };
    let remote = dir.path().join("remote");
    let Some(mounted) = mount_stalling(&remote) else {
        return;
    };
    let file = remote.join(SLOW_CLOSE);
    let asked = format!("hostile:file:{}", file.display());
    let secrets = pp_secrets::SecretsManager::from_config(
        &pp_secrets::ConfigDocument::from_file(&config)
            .expect("config")
            .secrets,
    )
    .expect("manager");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (done, finished) = std::sync::mpsc::channel();
    let call = runtime.spawn(async move {
        let value = secrets.get_raw(&asked).await.map(|v| v.expose().to_owned());
        let _ = done.send(());
        value
    });
    if finished.recv_timeout(ENDS_WITHIN).is_err() {
        mounted.held.release();
        panic!("closing the file held the call past {ENDS_WITHIN:?}");
    }
    let value = runtime.block_on(call).expect("call ran");
    assert_eq!(
        value.expect("read, closed off the caller's thread"),
        "closing"
    );
    runtime.shutdown_background();
    drop(mounted);
}

#[test]
fn stalled_calls_do_not_take_the_callers_threads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let remote = dir.path().join("remote");
    let Some(mounted) = mount_stalling(&remote) else {
        return;
    };
    let Some((secrets, runtime)) = stalled_and_local(dir.path(), &remote) else {
        return;
    };
    let (done, finished) = std::sync::mpsc::channel();
    let calls = runtime.spawn(async move {
        // Each call leaves a thread waiting on the filesystem.
        for _ in 0..CALLER_BLOCKING_THREADS + 2 {
            let error = secrets
                .get_raw("stalled:secret")
                .await
                .expect_err("stalled");
            assert!(
                error.to_string().contains("did not answer within 500 ms"),
                "{error}"
            );
        }
        let own = tokio::time::timeout(
            Duration::from_secs(5),
            tokio::task::spawn_blocking(|| "the caller's pool serves"),
        )
        .await;
        let local = secrets
            .get_raw("local:TOKEN")
            .await
            .map(|v| v.expose().to_owned());
        let _ = done.send(());
        (own.ok().and_then(Result::ok), local)
    });
    if finished.recv_timeout(ENDS_WITHIN * 2).is_err() {
        mounted.held.release();
        panic!("the calls hung past {:?}", ENDS_WITHIN * 2);
    }
    let (own, local) = runtime.block_on(calls).expect("calls ran");
    assert_eq!(own, Some("the caller's pool serves"));
    assert_eq!(local.expect("the other backend serves"), "local-value");
    runtime.shutdown_background();
    drop(mounted);
}
