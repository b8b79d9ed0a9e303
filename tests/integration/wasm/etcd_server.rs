//! A real etcd (Debian's `etcd-server`, installed by `tests/run.sh`) on
//! free loopback ports with a temporary data directory, started by a test
//! and killed when it is dropped. Set up through etcd's JSON gateway over
//! plain HTTP; with [`EtcdTls`] it also serves HTTPS on a second port.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::support::free_port;

/// A running etcd.
pub struct EtcdServer {
    child: Child,
    _data: tempfile::TempDir,
    /// `127.0.0.1:PORT` of the plain HTTP client URL.
    pub addr: String,
    /// `127.0.0.1:PORT` of the HTTPS client URL, when started with TLS.
    pub https_addr: Option<String>,
}

/// The certificate of an etcd's HTTPS listener, and the CA whose client
/// certificates it demands there (mutual TLS), if any.
pub struct EtcdTls<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
    pub client_ca: Option<&'a Path>,
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The etcd binary, or `None` (after saying so; failing under `CI=true`).
fn etcd_binary() -> Option<PathBuf> {
    let found = std::env::var_os("PP_ETCD").map(PathBuf::from).or_else(|| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("etcd"))
                .find(|path| path.is_file())
        })
    });
    if found.is_none() {
        let message = "etcd not found: run `bash tests/run.sh` (it installs Debian's \
                       etcd-server) or set PP_ETCD";
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
        eprintln!("\n*** SKIPPING ETCD TEST: {message} ***\n");
    }
    found
}

impl EtcdServer {
    /// A fresh etcd holding `keys`, or `None` when etcd is not installed.
    pub fn start(keys: &[(&str, &str)]) -> Option<Self> {
        Self::start_with(keys, None)
    }

    /// As [`start`](Self::start), also serving HTTPS with `tls`.
    pub fn start_tls(keys: &[(&str, &str)], tls: &EtcdTls) -> Option<Self> {
        Self::start_with(keys, Some(tls))
    }

    fn start_with(keys: &[(&str, &str)], tls: Option<&EtcdTls>) -> Option<Self> {
        let binary = etcd_binary()?;
        let data = tempfile::tempdir().expect("tempdir");
        let (client, peer) = (free_port(), free_port());
        let client_url = format!("http://127.0.0.1:{client}");
        let peer_url = format!("http://127.0.0.1:{peer}");
        let mut command = Command::new(&binary);
        let mut listen = client_url.clone();
        let mut https_addr = None;
        if let Some(tls) = tls {
            let addr = format!("127.0.0.1:{}", free_port());
            listen = format!("{listen},https://{addr}");
            https_addr = Some(addr);
            command
                .arg("--cert-file")
                .arg(tls.cert)
                .arg("--key-file")
                .arg(tls.key);
            if let Some(ca) = tls.client_ca {
                command
                    .arg("--client-cert-auth")
                    .arg("--trusted-ca-file")
                    .arg(ca);
            }
        }
        let child = command
            .arg("--data-dir")
            .arg(data.path())
            .args(["--name", "test"])
            .args(["--listen-client-urls", &listen])
            .args(["--advertise-client-urls", &client_url])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("test={peer_url}")])
            .args(["--log-level", "error", "--logger", "zap"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let server = Self {
            child,
            _data: data,
            addr: format!("127.0.0.1:{client}"),
            https_addr,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while server
            .try_call("GET", "/health", None, None)
            .map(|(s, _)| s)
            != Some(200)
        {
            assert!(Instant::now() < deadline, "etcd did not become healthy");
            std::thread::sleep(Duration::from_millis(50));
        }
        for (key, value) in keys {
            server.put(key, value);
        }
        Some(server)
    }

    /// Freezes (`true`) or thaws (`false`) the etcd process, so that it
    /// accepts connections but answers nothing.
    pub fn freeze(&self, frozen: bool) {
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal}");
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `https://127.0.0.1:PORT` of the HTTPS listener.
    pub fn https_endpoint(&self) -> String {
        format!("https://{}", self.https_host())
    }

    /// `127.0.0.1:PORT` of the HTTPS listener.
    pub fn https_host(&self) -> &str {
        self.https_addr
            .as_deref()
            .expect("etcd was started with TLS")
    }

    /// Stores `key` = `value`.
    pub fn put(&self, key: &str, value: &str) {
        self.post(
            "/v3/kv/put",
            json!({ "key": BASE64.encode(key), "value": BASE64.encode(value) }),
            None,
        );
    }

    /// Deletes `key`.
    pub fn delete(&self, key: &str) {
        self.post(
            "/v3/kv/deleterange",
            json!({ "key": BASE64.encode(key) }),
            None,
        );
    }

    /// Turns authentication on: `root` (password `root-pw`) and `reader`
    /// (password `reader-pw`), who may read keys under `app/`.
    pub fn enable_auth(&self) {
        for (user, password) in [("root", "root-pw"), ("reader", "reader-pw")] {
            self.post(
                "/v3/auth/user/add",
                json!({ "name": user, "password": password }),
                None,
            );
        }
        self.post("/v3/auth/role/add", json!({ "name": "root" }), None);
        self.post("/v3/auth/role/add", json!({ "name": "app-reader" }), None);
        self.post(
            "/v3/auth/role/grant",
            json!({ "name": "app-reader", "perm": {
                "permType": "READ",
                "key": BASE64.encode("app/"),
                "range_end": BASE64.encode("app0"),
            }}),
            None,
        );
        self.post(
            "/v3/auth/user/grant",
            json!({ "user": "root", "role": "root" }),
            None,
        );
        self.post(
            "/v3/auth/user/grant",
            json!({ "user": "reader", "role": "app-reader" }),
            None,
        );
        self.post("/v3/auth/enable", json!({}), None);
    }

    /// How many range requests etcd has served (from its metrics).
    pub fn range_requests(&self) -> u64 {
        let (_, metrics) = self
            .try_call("GET", "/metrics", None, None)
            .expect("metrics");
        metrics
            .lines()
            .filter(|line| {
                line.starts_with("grpc_server_handled_total")
                    && line.contains("grpc_method=\"Range\"")
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    }

    fn post(&self, path: &str, body: Value, token: Option<&str>) -> Value {
        let (status, text) = self
            .try_call("POST", path, Some(&body.to_string()), token)
            .unwrap_or_else(|| panic!("etcd answers {path}"));
        assert_eq!(status, 200, "{path}: {text}");
        serde_json::from_str(&text).expect("json")
    }

    /// One HTTP/1.0 request (so the answer is neither chunked nor kept
    /// alive): the status and body, or `None` when etcd does not answer.
    fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
    ) -> Option<(u16, String)> {
        let mut stream = TcpStream::connect(&self.addr).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .ok()?;
        let body = body.unwrap_or("");
        let auth = token.map_or_else(String::new, |t| format!("authorization: {t}\r\n"));
        let request = format!(
            "{method} {path} HTTP/1.0\r\nhost: {}\r\ncontent-type: application/json\r\n\
             content-length: {}\r\n{auth}\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(request.as_bytes()).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        let status = head.split(' ').nth(1)?.parse().ok()?;
        Some((status, body.to_owned()))
    }
}
