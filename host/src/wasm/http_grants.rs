//! Outbound HTTP for guests (`wasi:http/outgoing-handler`), only to the
//! hosts their grants name.
//!
//! A request to any other host fails inside the guest with
//! `HTTP-request-denied` before a connection is attempted (and the denial
//! is logged). A granted request goes out through the host's client
//! (`http_client`: plain HTTP, or TLS as the backend's `tls` settings say);
//! its response body is cut off at [`MAX_RESPONSE_BYTES`]. Time spent
//! waiting is bounded by the call's (or the app's) time limit, which runs
//! around every host call. Raw sockets stay closed: `wasi:sockets` is not
//! granted by this.
//!
//! A failed request reaches the guest as a wasi:http error code, which
//! cannot say what was wrong; the host keeps its own account in
//! [`CallProblems`] (a host that is not granted, one that cannot be
//! reached, a TLS handshake that failed: expired, wrong name, unknown CA,
//! ...), from where the provider host adds it to the backend's error and
//! takes the kind of the failure from it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::uri::Scheme;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body, Frame, SizeHint};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::config::HostGrant;
use crate::secrets_provider::BackendProblem;
use crate::wasm::guest_files::{ConnectionPermit, OpenFiles};
use crate::wasm::guest_text::escaped;
use crate::wasm::http_client::{self, Sent};
use crate::wasm::tls::TlsClient;
use crate::wasm::warning_limit::WarningLimit;

/// The largest response body a guest may receive, in bytes.
pub(crate) const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// The most one write to a request body's stream may hand the host
/// (wasmtime's default is 1 MiB a write).
pub(crate) const OUTGOING_BODY_CHUNK_BYTES: usize = 64 << 10;

/// The chunks of a request body wasmtime buffers besides the one being
/// sent: with [`OUTGOING_BODY_CHUNK_BYTES`], what an unsent body holds in
/// host memory.
pub(crate) const OUTGOING_BODY_BUFFER_CHUNKS: usize = 1;

/// The hosts one guest may reach, how it trusts them, and its name for the
/// log.
pub(crate) struct HttpGrants {
    guest: Arc<str>,
    hosts: Arc<[HostGrant]>,
    warnings: Arc<WarningLimit>,
    files: OpenFiles,
    tls: TlsClient,
    problems: CallProblems,
}

/// The host's accounts of the requests that failed during the current
/// call of one instance (the first few), each with the kind of failure it
/// shows; and the requests still waiting for an answer, so that a call
/// that runs out of time while one waits can say which server was silent.
#[derive(Clone, Default)]
pub(crate) struct CallProblems(Arc<Accounts>);

#[derive(Default)]
struct Accounts {
    kept: Mutex<Vec<(BackendProblem, String)>>,
    waiting: Mutex<Vec<String>>,
    /// Requests sent to granted hosts since the last `take_sent`.
    sent: std::sync::atomic::AtomicU64,
}

impl CallProblems {
    /// Accounts kept per call; later ones are only logged.
    const KEPT: usize = 3;

    fn record(&self, kind: BackendProblem, problem: String) {
        let mut kept = self.0.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() < Self::KEPT && !kept.iter().any(|(_, p)| *p == problem) {
            kept.push((kind, problem));
        }
    }

    /// The accounts since the last call to `take`, which starts afresh.
    pub(crate) fn take(&self) -> Vec<(BackendProblem, String)> {
        std::mem::take(&mut *self.0.kept.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// How many requests went out to granted hosts since the last call
    /// to this, which starts the count afresh.
    pub(crate) fn take_sent(&self) -> u64 {
        self.0.sent.swap(0, std::sync::atomic::Ordering::Relaxed)
    }

    /// A host a request is waiting on now (its response head has not
    /// come), if any.
    pub(crate) fn waiting_on(&self) -> Option<String> {
        let waiting = self
            .0
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        waiting.first().cloned()
    }

    /// Notes a request to `target` waiting for its answer until the
    /// returned guard is dropped.
    fn wait_for(&self, target: &str) -> Waiting {
        let mut waiting = self
            .0
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        waiting.push(target.to_owned());
        Waiting {
            problems: self.clone(),
            target: target.to_owned(),
        }
    }
}

/// A request waiting for its answer ([`CallProblems::wait_for`]).
struct Waiting {
    problems: CallProblems,
    target: String,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        let mut waiting = self
            .problems
            .0
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = waiting.iter().position(|t| *t == self.target) {
            waiting.remove(i);
        }
    }
}

/// The host's words for a request to `target` that failed with `error`
/// before a response came, when the error shows the server could not be
/// reached (the caller records it as [`BackendProblem::Unreachable`]);
/// `None` for the errors that say nothing about reaching it.
fn unreachable(target: &str, error: &HttpError) -> Option<String> {
    let what = match error {
        HttpError::ConnectionRefused => "the connection was refused",
        HttpError::ConnectionTimeout => "no connection within the timeout",
        HttpError::ConnectionReadTimeout => "no answer within the timeout",
        HttpError::ConnectionTerminated => "the server closed the connection",
        HttpError::DnsTimeout | HttpError::DnsError { .. } | HttpError::DestinationNotFound => {
            "the host name could not be resolved"
        }
        HttpError::DestinationUnavailable | HttpError::DestinationIpUnroutable => {
            "the destination cannot be reached"
        }
        HttpError::Connect(_) => "the connection failed",
        _ => return None,
    };
    Some(format!("{target}: {what}"))
}

type ResponseFuture = Box<dyn Future<Output = Result<Sent, HttpError>> + Send>;

impl HttpGrants {
    pub(crate) fn new(
        guest: Arc<str>,
        hosts: &[HostGrant],
        tls: TlsClient,
        warnings: Arc<WarningLimit>,
        files: OpenFiles,
    ) -> Self {
        Self {
            guest,
            hosts: hosts.into(),
            warnings,
            files,
            tls,
            problems: CallProblems::default(),
        }
    }

    /// Where this guest's failed requests are accounted for.
    pub(crate) fn call_problems(&self) -> &CallProblems {
        &self.problems
    }

    /// Whether the request to `uri` is granted.
    fn permits(&self, uri: &http::Uri) -> bool {
        let Some((host, port, default_port)) = host_and_port(uri) else {
            return false;
        };
        self.hosts
            .iter()
            .any(|grant| grant.permits(host, port, default_port))
    }
}

/// The host, the port (the scheme's default when none is written) and
/// the scheme's default port of `uri`.
fn host_and_port(uri: &http::Uri) -> Option<(&str, u16, u16)> {
    let authority = uri.authority()?;
    let default_port = if uri.scheme() == Some(&Scheme::HTTP) {
        80
    } else {
        443
    };
    Some((
        authority.host(),
        authority.port_u16().unwrap_or(default_port),
        default_port,
    ))
}

/// `host:port` of `uri`, escaped, for messages: never the user and
/// password a URL may carry before the host.
fn target_of(uri: &http::Uri) -> String {
    match host_and_port(uri) {
        Some((host, port, _)) => escaped(&format!("{host}:{port}")),
        None => "(no host)".to_owned(),
    }
}

impl WasiHttpHooks for HttpGrants {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> ResponseFuture {
        drop(fut);
        #[cfg(test)]
        forced_failure::before_send(&self.guest);
        if !self.permits(request.uri()) {
            let target = target_of(request.uri());
            if self.warnings.record(&target) {
                tracing::warn!(guest = %self.guest, host = %target, "HTTP request denied");
            }
            self.problems.record(
                BackendProblem::MissingGrant,
                format!("the provider tried {target}, which allow.hosts does not grant"),
            );
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        // A connection holds a descriptor: it counts in limits.open_files
        // until it ends, and its buffers in limits.memory_mb. The permit is
        // shared by the connection's driver and the response's body, so
        // that it also covers what the guest still holds of the response
        // after the connection closed: a response not yet taken, a body
        // frame, trailers not yet taken.
        let Some(permit) = self.files.connect().map(Arc::new) else {
            return Box::new(async { Err(HttpError::ConnectionLimitReached) });
        };
        let warnings = Arc::clone(&self.warnings);
        let tls = self.tls.clone();
        let problems = self.problems.clone();
        let guest = Arc::clone(&self.guest);
        let target = target_of(request.uri());
        self.problems
            .0
            .sent
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let waiting = problems.wait_for(&target);
        Box::new(async move {
            #[cfg(test)]
            forced_failure::while_sending(&guest);
            let sent = http_client::send(request, options, tls).await;
            drop(waiting);
            let (response, io) = match sent {
                Ok(sent) => sent,
                Err(failure) => {
                    if let Some(problem) = failure.tls_problem {
                        let problem = escaped(&problem);
                        if warnings.record(&problem) {
                            tracing::warn!(guest = %guest, "HTTPS request failed: {problem}");
                        }
                        problems.record(BackendProblem::Failed, problem);
                    } else if let Some(problem) = unreachable(&target, &failure.error) {
                        problems.record(BackendProblem::Unreachable, problem);
                    }
                    return Err(failure.error);
                }
            };
            let held = Arc::clone(&permit);
            let io: Box<dyn Future<Output = Result<(), HttpError>> + Send> = Box::new(async move {
                let _permit = permit;
                Box::into_pin(io).await
            });
            let response = response.map(|body| {
                let body = KeepsPermit {
                    body,
                    _permit: held,
                };
                Limited::new(body, MAX_RESPONSE_BYTES)
                    .map_err(too_large)
                    .boxed_unsync()
            });
            Ok((response, io))
        })
    }

    fn p2_outgoing_body_chunk_size(&mut self) -> usize {
        OUTGOING_BODY_CHUNK_BYTES
    }

    fn p2_outgoing_body_buffer_chunks(&mut self) -> usize {
        OUTGOING_BODY_BUFFER_CHUNKS
    }

    fn p2_error_from_hyper(&mut self, error: &hyper::Error) -> ErrorCode {
        let error = escaped(&error.to_string());
        if self.warnings.record(&error) {
            tracing::warn!(guest = %self.guest, "HTTP exchange failed: {error}");
        }
        ErrorCode::HttpProtocolError
    }

    fn p2_error_from_connect(&mut self, error: &std::io::Error) -> ErrorCode {
        let error = escaped(&error.to_string());
        if self.warnings.record(&error) {
            tracing::warn!(guest = %self.guest, "cannot connect: {error}");
        }
        ErrorCode::ConnectionRefused
    }
}

/// The error of a capped body: the inner error, or "too large".
fn too_large(error: Box<dyn std::error::Error + Send + Sync>) -> HttpError {
    match error.downcast::<HttpError>() {
        Ok(inner) => *inner,
        Err(_) => HttpError::HttpResponseBodySize(Some(MAX_RESPONSE_BYTES as u64)),
    }
}

/// A response body that keeps its connection's permit for as long as the
/// guest holds any part of the response.
struct KeepsPermit {
    body: WasiBody,
    _permit: Arc<ConnectionPermit>,
}

impl Body for KeepsPermit {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Unit tests' way to make the host panic while serving a guest's HTTP
/// request, in the host call itself or in the task that sends it, for
/// guests whose name starts with the chosen prefix.
#[cfg(test)]
pub(crate) mod forced_failure {
    /// Guests named `panic-in-call…` panic in the host call.
    pub(crate) const IN_CALL: &str = "panic-in-call";
    /// Guests named `panic-in-task…` panic in the sending task.
    pub(crate) const IN_TASK: &str = "panic-in-task";

    pub(super) fn before_send(guest: &str) {
        assert!(
            !guest.starts_with(IN_CALL),
            "forced host panic (in the call)"
        );
    }

    pub(super) fn while_sending(guest: &str) {
        assert!(
            !guest.starts_with(IN_TASK),
            "forced host panic (in the task)"
        );
    }
}
