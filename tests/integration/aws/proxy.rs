//! A small HTTP proxy in front of moto that counts calls by operation and
//! injects faults: throttling, server errors, denials, dropped connections,
//! hangs, and per-secret errors in `BatchGetSecretValue` responses.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What to do to a matching request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer 400 `ThrottlingException`.
    Throttle,
    /// Answer 500 `InternalServiceError`.
    ServerError,
    /// Answer 400 `AccessDeniedException`.
    AccessDenied,
    /// Close the connection without an answer.
    Drop,
    /// Read the request and never answer.
    Hang,
    /// Forward, then report this secret as a per-secret error with `code`.
    BatchEntryError { name: String, code: String },
    /// Forward, then leave this secret out of the response.
    BatchEntryMissing { name: String },
}

struct Rule {
    operation: Option<String>,
    remaining: usize,
    fault: Fault,
}

#[derive(Default)]
struct State {
    calls: HashMap<String, usize>,
    bodies: Vec<(String, String)>,
    rules: Vec<Rule>,
}

/// The proxy; stops when dropped.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`, to use as the endpoint.
    pub endpoint: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    addr: String,
}

impl FaultProxy {
    /// A proxy forwarding to `upstream` (`127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address").to_string();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_state, thread_stop, upstream) =
            (state.clone(), stop.clone(), upstream.to_owned());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if thread_stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (state, stop, upstream) =
                    (thread_state.clone(), thread_stop.clone(), upstream.clone());
                std::thread::spawn(move || serve(conn, &upstream, &state, &stop));
            }
        });
        Self {
            endpoint: format!("http://{addr}"),
            state,
            stop,
            addr,
        }
    }

    /// Apply `fault` to the next `times` calls of `operation` (any
    /// operation when `None`).
    pub fn inject(&self, operation: Option<&str>, times: usize, fault: Fault) {
        self.lock().rules.push(Rule {
            operation: operation.map(str::to_owned),
            remaining: times,
            fault,
        });
    }

    /// How many calls of `operation` reached the proxy (retries included).
    pub fn calls(&self, operation: &str) -> usize {
        self.lock().calls.get(operation).copied().unwrap_or(0)
    }

    /// Every call seen, by operation.
    pub fn all_calls(&self) -> HashMap<String, usize> {
        self.lock().calls.clone()
    }

    /// The request bodies of `operation`, in order.
    pub fn bodies(&self, operation: &str) -> Vec<String> {
        self.lock()
            .bodies
            .iter()
            .filter(|(op, _)| op == operation)
            .map(|(_, b)| b.clone())
            .collect()
    }

    /// Forget the calls seen so far.
    pub fn reset_counts(&self) {
        let mut state = self.lock();
        state.calls.clear();
        state.bodies.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr);
    }
}

/// Reads one HTTP request: its raw bytes and its body.
fn read_request(conn: &mut TcpStream) -> Option<(Vec<u8>, usize)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let header_end = loop {
        if let Some(pos) = find(&buf, b"\r\n\r\n") {
            break pos + 4;
        }
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let headers = String::from_utf8_lossy(&buf[..header_end]).to_lowercase();
    let length = headers
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(0);
    while buf.len() < header_end + length {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some((buf, header_end))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn operation_of(request: &[u8], header_end: usize) -> String {
    String::from_utf8_lossy(&request[..header_end])
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("x-amz-target")
                .then(|| value.trim().to_owned())
        })
        .and_then(|t| t.rsplit('.').next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn serve(mut conn: TcpStream, upstream: &str, state: &Mutex<State>, stop: &AtomicBool) {
    let Some((request, header_end)) = read_request(&mut conn) else {
        return;
    };
    let operation = operation_of(&request, header_end);
    let fault = {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        *s.calls.entry(operation.clone()).or_default() += 1;
        let body = String::from_utf8_lossy(&request[header_end..]).into_owned();
        s.bodies.push((operation.clone(), body));
        s.rules
            .iter_mut()
            .find(|r| r.remaining > 0 && r.operation.as_deref().is_none_or(|o| o == operation))
            .map(|r| {
                r.remaining -= 1;
                r.fault.clone()
            })
    };
    let answer = |status: &str, code: &str| {
        let body = format!(r#"{{"__type":"{code}","message":"injected by the test proxy"}}"#);
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let reply = match &fault {
        Some(Fault::Throttle) => answer("400 Bad Request", "ThrottlingException").into_bytes(),
        Some(Fault::ServerError) => {
            answer("500 Internal Server Error", "InternalServiceError").into_bytes()
        }
        Some(Fault::AccessDenied) => {
            answer("400 Bad Request", "AccessDeniedException").into_bytes()
        }
        Some(Fault::Drop) => {
            let _ = conn.shutdown(Shutdown::Both);
            return;
        }
        Some(Fault::Hang) => {
            for _ in 0..300 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            return;
        }
        other => {
            let Some(response) = forward(upstream, &request) else {
                return;
            };
            match other {
                Some(Fault::BatchEntryError { name, code }) => rewrite(&response, |json| {
                    take_entry(json, name);
                    push_error(json, name, code);
                }),
                Some(Fault::BatchEntryMissing { name }) => {
                    rewrite(&response, |json| take_entry(json, name))
                }
                _ => response,
            }
        }
    };
    let _ = conn.write_all(&reply);
    let _ = conn.shutdown(Shutdown::Both);
}

fn forward(upstream: &str, request: &[u8]) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(upstream).ok()?;
    up.write_all(request).ok()?;
    let mut response = Vec::new();
    up.read_to_end(&mut response).ok()?;
    Some(response)
}

/// Rewrites the JSON body of a response and fixes its length.
fn rewrite(response: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let Some(end) = find(response, b"\r\n\r\n").map(|p| p + 4) else {
        return response.to_vec();
    };
    let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&response[end..]) else {
        return response.to_vec();
    };
    edit(&mut json);
    let body = json.to_string();
    let head: Vec<String> = String::from_utf8_lossy(&response[..end - 4])
        .lines()
        .filter(|l| !l.to_lowercase().starts_with("content-length:"))
        .map(str::to_owned)
        .collect();
    format!(
        "{}\r\ncontent-length: {}\r\n\r\n{body}",
        head.join("\r\n"),
        body.len()
    )
    .into_bytes()
}

fn take_entry(json: &mut serde_json::Value, name: &str) {
    if let Some(values) = json.get_mut("SecretValues").and_then(|v| v.as_array_mut()) {
        values.retain(|v| v.get("Name").and_then(|n| n.as_str()) != Some(name));
    }
}

fn push_error(json: &mut serde_json::Value, name: &str, code: &str) {
    let error = serde_json::json!({"SecretId": name, "ErrorCode": code, "Message": "injected"});
    match json.get_mut("Errors").and_then(|v| v.as_array_mut()) {
        Some(errors) => errors.push(error),
        None => json["Errors"] = serde_json::json!([error]),
    }
}
