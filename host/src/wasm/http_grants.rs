//! Outbound HTTP for guests (`wasi:http/outgoing-handler`), only to the
//! hosts their grants name.
//!
//! A request to any other host fails inside the guest with
//! `HTTP-request-denied` before a connection is attempted (and the denial
//! is logged). A granted request goes out through wasmtime's client (plain
//! HTTP or TLS with the web's root certificates); its response body is cut
//! off at [`MAX_RESPONSE_BYTES`]. Time spent waiting is bounded by the
//! call's (or the app's) time limit, which runs around every host call.
//! Raw sockets stay closed: `wasi:sockets` is not granted by this.

use std::future::Future;
use std::sync::Arc;

use http::uri::Scheme;
use http_body_util::{BodyExt, Limited};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use crate::config::HostGrant;
use crate::wasm::guest_text::shown;

/// The largest response body a guest may receive, in bytes.
pub(crate) const MAX_RESPONSE_BYTES: usize = 16 << 20;

/// The hosts one guest may reach, and its name for the log.
pub(crate) struct HttpGrants {
    guest: Arc<str>,
    hosts: Arc<[HostGrant]>,
}

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl HttpGrants {
    pub(crate) fn new(guest: Arc<str>, hosts: &[HostGrant]) -> Self {
        Self {
            guest,
            hosts: hosts.into(),
        }
    }

    /// Whether the request to `uri` is granted.
    fn permits(&self, uri: &http::Uri) -> bool {
        let Some(authority) = uri.authority() else {
            return false;
        };
        let default_port = if uri.scheme() == Some(&Scheme::HTTP) {
            80
        } else {
            443
        };
        let port = authority.port_u16().unwrap_or(default_port);
        self.hosts
            .iter()
            .any(|grant| grant.permits(authority.host(), port, default_port))
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
        if !self.permits(request.uri()) {
            let target = request
                .uri()
                .authority()
                .map_or_else(String::new, |a| a.to_string());
            tracing::warn!(guest = %self.guest, host = %shown(&target), "HTTP request denied");
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        Box::new(async move {
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            let response = response.map(|body| {
                Limited::new(body, MAX_RESPONSE_BYTES)
                    .map_err(too_large)
                    .boxed_unsync()
            });
            Ok((
                response,
                Box::new(io) as Box<dyn Future<Output = Result<(), HttpError>> + Send>,
            ))
        })
    }
}

/// The error of a capped body: the inner error, or "too large".
fn too_large(error: Box<dyn std::error::Error + Send + Sync>) -> HttpError {
    match error.downcast::<HttpError>() {
        Ok(inner) => *inner,
        Err(_) => HttpError::HttpResponseBodySize(Some(MAX_RESPONSE_BYTES as u64)),
    }
}
