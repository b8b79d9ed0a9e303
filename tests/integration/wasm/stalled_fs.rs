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
use std::future::Future;
use std::io::BufRead;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

use fuser::{
    BackgroundSession, Config, Errno, FileAttr, FileHandle, FileType, Filesystem, FopenFlags,
    Generation, INodeNo, LockOwner, MountOption, OpenFlags, ReplyAttr, ReplyData, ReplyDirectory,
    ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, Request,
};
use pp_secrets::{ErrorKind, SecretsManager};
use tokio::runtime::Runtime;

use super::host_boundary::{hostile_config, run_bounded, spawn_piped};
use super::{guest, manager, serving_dir, wasm_backend};
use crate::support::ExposeText;
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
        let mut replies = self
            .replies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Checked under the lock `release` takes: nothing is held after it.
        if !self.released.load(Ordering::SeqCst) {
            replies.push(Box::new(reply));
        }
    }

    /// Answers every held request, and every later one, with an I/O error.
    fn release(&self) {
        let mut replies = self
            .replies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.released.store(true, Ordering::SeqCst);
        replies.clear();
    }
}

/// A mounted stalling filesystem: released, aborted and unmounted when
/// dropped.
struct Mounted {
    /// The mount point, `remote` in the temporary directory.
    at: PathBuf,
    /// The FUSE connection's number (the mount's minor device number).
    connection: Option<u64>,
    held: Arc<Held>,
    session: Option<BackgroundSession>,
    /// Removed after the filesystem is gone (removing it while the
    /// filesystem holds requests would wait on them).
    dir: tempfile::TempDir,
}

impl Mounted {
    /// The temporary directory the filesystem is mounted in.
    fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.held.release();
        // Every request still waiting fails at once. A thread of this
        // process left waiting on its own filesystem would keep the process
        // from exiting, and with it the server that could answer.
        if let Some(connection) = self.connection {
            let control = Path::new("/sys/fs/fuse/connections");
            if std::fs::read_dir(control).map_or(true, |mut d| d.next().is_none()) {
                let _ = std::process::Command::new("mount")
                    .args(["-t", "fusectl", "none"])
                    .arg(control)
                    .stderr(std::process::Stdio::null())
                    .status();
            }
            let _ = std::fs::write(control.join(connection.to_string()).join("abort"), "1");
        }
        // Lazily: the threads just released may still hold files there.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.at)
            .status();
        drop(self.session.take());
    }
}

/// The minor number of the device `dev` (Linux's encoding).
fn minor(dev: u64) -> u64 {
    (dev & 0xff) | ((dev >> 12) & 0xffff_ff00)
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

/// The stalling filesystem mounted at `remote` in a new temporary
/// directory, or `None` (after saying so) where FUSE is not available.
fn mount_stalling() -> Option<Mounted> {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = dir.path().join("remote");
    std::fs::create_dir(&at).expect("mount point");
    if !Path::new("/dev/fuse").exists() {
        eprintln!("\n*** SKIPPING: no /dev/fuse, so no FUSE filesystem to stall ***\n");
        return None;
    }
    let mut config = Config::default();
    config.mount_options = vec![MountOption::RO, MountOption::FSName("pp-stall".into())];
    let held = Arc::new(Held::default());
    match fuser::spawn_mount(Stalling(Arc::clone(&held)), &at, &config) {
        Ok(session) => Some(Mounted {
            connection: std::fs::metadata(&at).ok().map(|meta| minor(meta.dev())),
            at,
            held,
            session: Some(session),
            dir,
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
    let mut child = spawn_piped(cli(), config, args);
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

/// The hostile provider granted a local directory with the stalling
/// filesystem mounted below it (at `remote`), beside a `file` backend
/// `local`, in the config file `config`.
struct HostileSetup {
    config: PathBuf,
    remote: PathBuf,
    mounted: Mounted,
}

/// A [`HostileSetup`] with the provider's `limits`, or `None` where FUSE or
/// the guests are missing.
fn hostile_setup(limits: &str) -> Option<HostileSetup> {
    let mounted = mount_stalling()?;
    let config = hostile_config(mounted.dir(), limits)?;
    Some(HostileSetup {
        config,
        remote: mounted.at.clone(),
        mounted,
    })
}

#[test]
fn a_read_that_never_returns_ends_at_the_time_limit_and_the_process_exits() {
    let Some(HostileSetup {
        config,
        remote,
        mounted: _mounted,
    }) = hostile_setup("{ timeout_ms: 500 }")
    else {
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
    let Some(HostileSetup {
        config,
        remote,
        mounted,
    }) = hostile_setup("{ timeout_ms: 500 }")
    else {
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

/// A stalling filesystem mounted in a temporary directory and served by
/// the `dir` provider (backend `stalled`: one instance, 500 ms) beside a
/// local `.env` backend (`local`), with a runtime to call them from.
struct StalledSetup {
    secrets: SecretsManager,
    runtime: Runtime,
    mounted: Mounted,
}

/// A [`StalledSetup`], or `None` where FUSE or the guests are missing.
fn stalled_setup() -> Option<StalledSetup> {
    let dir_provider = guest("dir")?;
    let mounted = mount_stalling()?;
    let local = mounted.dir().join("local.env");
    std::fs::write(&local, "TOKEN=local-value\n").expect("write");
    let secrets = manager(&format!(
        "  backends:\n{}    local:\n      type: dotenv\n      path: {:?}\n",
        wasm_backend(
            "stalled",
            &dir_provider,
            &format!(
                "{}      limits: {{ instances: 1, timeout_ms: 500 }}\n",
                serving_dir(&mounted.at)
            )
        ),
        local.display().to_string()
    ));
    Some(StalledSetup {
        secrets,
        runtime: small_runtime(),
        mounted,
    })
}

/// A runtime with a small blocking pool, as an embedder may have: a
/// stalled backend's threads must not come from it.
fn small_runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(CALLER_BLOCKING_THREADS)
        .enable_all()
        .build()
        .expect("runtime")
}

/// What `calls` gives, run on `runtime`; the test fails (after `mounted`
/// is released, so that the runtime's threads let go) when they take past
/// `within`. The runtime is then stopped without waiting for threads the
/// filesystem still holds.
fn run_watched<T: Send + 'static>(
    runtime: Runtime,
    mounted: &Mounted,
    within: Duration,
    calls: impl Future<Output = T> + Send + 'static,
) -> T {
    let (done, finished) = std::sync::mpsc::channel();
    let handle = runtime.spawn(async move {
        let output = calls.await;
        let _ = done.send(());
        output
    });
    if finished.recv_timeout(within).is_err() {
        mounted.held.release();
        panic!("the calls hung past {within:?}");
    }
    let output = runtime.block_on(handle).expect("the calls ran");
    runtime.shutdown_background();
    output
}

/// Asks `stalled:secret` `times` times, then `local:TOKEN`: each stalled
/// call must end at its time limit, and the local backend serve.
async fn stalled_then_local(secrets: SecretsManager, times: usize) {
    for _ in 0..times {
        let started = Instant::now();
        let error = secrets
            .get_raw("stalled:secret")
            .await
            .expect_err("a stalled call is an error");
        let took = started.elapsed();
        assert_eq!(error.kind(), ErrorKind::Backend, "{error}");
        assert!(
            error.to_string().contains("did not answer within 500 ms"),
            "{error}"
        );
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }
    let local = secrets
        .get_raw("local:TOKEN")
        .await
        .expect("the other backend serves");
    assert_eq!(local.expose(), "local-value");
}

impl StalledSetup {
    /// What `calls` gives when run with the manager (see [`run_watched`]).
    fn run<T: Send + 'static, F: Future<Output = T> + Send + 'static>(
        self,
        within: Duration,
        calls: impl FnOnce(SecretsManager) -> F,
    ) -> T {
        let Self {
            secrets,
            runtime,
            mounted,
        } = self;
        run_watched(runtime, &mounted, within, calls(secrets))
    }
}

#[test]
fn a_stalled_backend_keeps_its_slot_and_others_serve() {
    let Some(setup) = stalled_setup() else {
        return;
    };
    // Twice: with one instance slot, a slot lost to the first stall would
    // hold the second call for ever.
    setup.run(ENDS_WITHIN, |secrets| stalled_then_local(secrets, 2));
}

#[test]
fn setting_up_an_instance_on_a_hung_grant_ends_at_the_time_limit() {
    let Some(setup) = stalled_setup() else {
        return;
    };
    // The grant was checked when the config was read, while it answered.
    setup.mounted.held.stall_everything();
    setup.run(ENDS_WITHIN, |secrets| stalled_then_local(secrets, 2));
}

#[test]
fn stalled_calls_do_not_take_the_callers_threads() {
    let Some(setup) = stalled_setup() else {
        return;
    };
    let own = setup.run(ENDS_WITHIN * 2, |secrets| async move {
        // Each call leaves a thread waiting on the filesystem.
        stalled_then_local(secrets, CALLER_BLOCKING_THREADS + 2).await;
        let own = tokio::task::spawn_blocking(|| "the caller's pool serves");
        tokio::time::timeout(Duration::from_secs(5), own).await
    });
    assert_eq!(
        own.ok().and_then(Result::ok),
        Some("the caller's pool serves")
    );
}

#[test]
fn a_close_that_never_returns_does_not_hold_the_call() {
    let Some(HostileSetup {
        config,
        remote,
        mounted,
    }) = hostile_setup("{ timeout_ms: 2000 }")
    else {
        return;
    };
    let asked = format!("hostile:file:{}", remote.join(SLOW_CLOSE).display());
    let document = pp_secrets::ConfigDocument::from_file(&config).expect("config");
    let secrets = SecretsManager::from_config(&document.secrets).expect("manager");
    let value = run_watched(small_runtime(), &mounted, ENDS_WITHIN, async move {
        let value = secrets.get_raw(&asked).await;
        value.map(|v| v.expose().to_owned())
    });
    assert_eq!(
        value.expect("read, and closed off the caller's thread"),
        "closing"
    );
}
