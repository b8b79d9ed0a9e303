//! A moto server (a real Secrets Manager implementation) on a free loopback
//! port, started by the tests and killed when the last test using it ends.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// A running moto server.
pub struct MotoServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The `127.0.0.1:PORT` address.
    pub addr: String,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static SHARED: Mutex<Weak<MotoServer>> = Mutex::new(Weak::new());

/// The moto server shared by the tests running now, started if needed.
/// Without moto installed this fails under `CI=true` and otherwise says
/// loudly that the test is skipped.
pub fn moto() -> Option<Arc<MotoServer>> {
    let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(server) = shared.upgrade() {
        return Some(server);
    }
    let Some(binary) = moto_binary() else {
        let message = "moto_server not found: run `bash tests/run.sh` (it installs moto into \
                       .venv) or set PP_MOTO_SERVER";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("\n*** SKIPPING AWS TEST: {message} ***\n");
        return None;
    };
    let server = Arc::new(start(binary));
    *shared = Arc::downgrade(&server);
    Some(server)
}

fn moto_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PP_MOTO_SERVER") {
        return Some(PathBuf::from(path));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    venv.exists().then_some(venv)
}

/// A moto server of the caller's own (for a test that stops and restarts
/// it), or `None` (skipped loudly) as [`moto`] says.
pub fn private_moto() -> Option<MotoServer> {
    // The same check as `moto`: fails under CI=true when missing.
    moto()?;
    Some(start(moto_binary()?))
}

impl MotoServer {
    /// Kills the server (its data goes with it).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts a fresh server on the same port, once `stop`ped.
    pub fn restart(&mut self) {
        let port = self
            .addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port");
        let binary = moto_binary().expect("moto was found before");
        // The old one, already stopped, is dropped (its kill and wait are
        // no-ops by then).
        drop(std::mem::replace(self, start_on(binary, port)));
    }
}

fn start(binary: PathBuf) -> MotoServer {
    start_on(binary, crate::support::free_port())
}

fn start_on(binary: PathBuf, port: u16) -> MotoServer {
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new(&binary)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let server = MotoServer {
        child,
        endpoint: format!("http://{addr}"),
        addr,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(&server.addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not start listening"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}
