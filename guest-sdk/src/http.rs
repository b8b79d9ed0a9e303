//! A small blocking HTTP client for guests, on `wasi:http`.
//!
//! Enough for a provider or app that talks to a secrets service's HTTP
//! API: one request, one whole response. The host sends a request only to
//! the hosts the operator granted (`allow.hosts`); any other gets
//! [`Error::Backend`] saying it was denied, and no connection is made.
//! Time is bounded by the host's limit on the whole call, and the response
//! body by the host's cap; [`Request::timeout`] sets connect and
//! first-byte timeouts below those.
//!
//! ```no_run
//! use pp_secrets_guest::http::Request;
//!
//! # fn demo() -> Result<(), pp_secrets_guest::Error> {
//! let response = Request::post("http://127.0.0.1:2379/v3/kv/range")?
//!     .header("content-type", "application/json")
//!     .body(br#"{"key": "Zm9v"}"#.to_vec())
//!     .send()?;
//! if response.status == 200 {
//!     let text = String::from_utf8_lossy(&response.body);
//! }
//! # Ok(()) }
//! ```
//!
//! Only on `wasm32` targets; elsewhere [`Request::send`] fails.

use std::time::Duration;

use crate::Error;

/// The largest response body read, in bytes: a safety net for hosts
/// without a cap of their own (pp-secrets cuts bodies off at 16 MiB).
pub const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// An HTTP request to send. Header values and the body may hold
/// credentials: the `Debug` output shows only header names and the body's
/// length.
#[derive(Clone)]
// Natively only the URL is used, to say that HTTP needs a Wasm build.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub struct Request {
    method: Method,
    https: bool,
    authority: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    timeout: Option<Duration>,
}

/// The methods [`Request`] supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Get,
    Post,
}

/// A whole response.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The body (it may hold secrets: the `Debug` output leaves it out).
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("https", &self.https)
            .field("host", &self.host())
            .field("path", &self.path)
            .field("headers", &headers)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Request {
    /// A `GET` of `url` (`http://` or `https://`).
    pub fn get(url: &str) -> Result<Self, Error> {
        Self::new(Method::Get, url)
    }

    /// A `POST` to `url` (`http://` or `https://`).
    pub fn post(url: &str) -> Result<Self, Error> {
        Self::new(Method::Post, url)
    }

    fn new(method: Method, url: &str) -> Result<Self, Error> {
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err(Error::backend(format!(
                "{url:?} is not an http:// or https:// URL"
            )));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(Error::backend(format!("{url:?} has no host")));
        }
        Ok(Self {
            method,
            https,
            authority: authority.to_owned(),
            path: path.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
        })
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_bytes().to_vec()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    /// Sets the connect and first-byte timeouts.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// `host:port` as written in the URL (with a `user:password@` it may
    /// carry).
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// `host:port` as written in the URL, without the `user:password@` it
    /// may carry: what messages and `Debug` show.
    pub fn host(&self) -> &str {
        self.authority
            .rsplit_once('@')
            .map_or(self.authority.as_str(), |(_, host)| host)
    }

    /// Sends the request and reads the whole response.
    pub fn send(self) -> Result<Response, Error> {
        #[cfg(target_arch = "wasm32")]
        {
            wasi_client::send(self)
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            Err(Error::backend(format!(
                "HTTP to {} needs wasi:http (build for wasm32-wasip2)",
                self.authority
            )))
        }
    }
}

#[cfg(target_arch = "wasm32")]
mod wasi_client {
    use std::io::{Read, Write};

    use wasip2::http::outgoing_handler;
    use wasip2::http::types::{
        ErrorCode, Fields, IncomingResponse, Method as WasiMethod, OutgoingBody, OutgoingRequest,
        RequestOptions, Scheme,
    };

    use super::{MAX_RESPONSE_BYTES, Method, Request, Response};
    use crate::Error;

    pub(super) fn send(request: Request) -> Result<Response, Error> {
        let target = request.host().to_owned();
        let failed = |what: &str| Error::backend(format!("HTTP request to {target}: {what}"));

        let headers = Fields::from_list(&request.headers)
            .map_err(|e| failed(&format!("bad header: {e:?}")))?;
        let outgoing = OutgoingRequest::new(headers);
        let method = match request.method {
            Method::Get => WasiMethod::Get,
            Method::Post => WasiMethod::Post,
        };
        let scheme = if request.https {
            Scheme::Https
        } else {
            Scheme::Http
        };
        outgoing
            .set_method(&method)
            .and_then(|()| outgoing.set_scheme(Some(&scheme)))
            .and_then(|()| outgoing.set_authority(Some(&request.authority)))
            .and_then(|()| outgoing.set_path_with_query(Some(&request.path)))
            .map_err(|()| failed("the URL was refused"))?;
        let body = outgoing.body().map_err(|()| failed("no request body"))?;

        let options = request.timeout.map(|timeout| {
            let options = RequestOptions::new();
            let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
            // Hosts may not support every timeout; unsupported ones are
            // left to the host's own limit.
            let _ = options.set_connect_timeout(Some(nanos));
            let _ = options.set_first_byte_timeout(Some(nanos));
            options
        });
        let pending =
            outgoing_handler::handle(outgoing, options).map_err(|e| denial(&target, &e))?;

        // When the host refuses the request, writing its body fails first;
        // the response then says why.
        let sent = write_body(body, &request.body);
        pending.subscribe().block();
        let response = match pending.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(e))) => return Err(denial(&target, &e)),
            Some(Err(())) | None => return Err(failed("no response")),
        };
        sent.map_err(|what| failed(&what))?;
        let status = response.status();
        let expected = content_length(&response);
        let incoming = response
            .consume()
            .map_err(|()| failed("no response body"))?;
        // Room for the body as announced (up to a point: the server may
        // lie), so that reading it does not copy it again as it grows.
        let mut body = Vec::new();
        let _ = body.try_reserve(expected.min(PRESIZE_LIMIT));
        {
            let stream = incoming.stream().map_err(|()| failed("no response body"))?;
            let limit = u64::try_from(MAX_RESPONSE_BYTES).unwrap_or(u64::MAX) + 1;
            stream
                .take(limit)
                .read_to_end(&mut body)
                .map_err(|e| failed(&format!("cannot read the response: {e}")))?;
        }
        if body.len() > MAX_RESPONSE_BYTES {
            return Err(failed("the response is too large"));
        }
        Ok(Response { status, body })
    }

    /// At most this much room is made for a body before it is read.
    const PRESIZE_LIMIT: usize = 1 << 20;

    /// The response's `content-length`, or 0 when it has none (or a
    /// malformed one).
    fn content_length(response: &IncomingResponse) -> usize {
        response
            .headers()
            .get("content-length")
            .first()
            .and_then(|value| std::str::from_utf8(value).ok())
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Writes and finishes a request body.
    fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), String> {
        {
            let mut stream = body
                .write()
                .map_err(|()| "cannot write the body".to_owned())?;
            stream
                .write_all(bytes)
                .and_then(|()| Write::flush(&mut stream))
                .map_err(|e| format!("cannot send the body: {e}"))?;
        }
        OutgoingBody::finish(body, None).map_err(|e| format!("cannot finish the body: {e:?}"))
    }

    /// What a wasi:http error code means, in words (the code's name for
    /// the rare ones).
    fn described(error: &ErrorCode) -> String {
        match error {
            ErrorCode::TlsCertificateError => {
                "the server's TLS certificate was refused (the host's log says why)".into()
            }
            ErrorCode::TlsProtocolError => "the TLS handshake failed".into(),
            ErrorCode::TlsAlertReceived(_) => "the server ended the TLS handshake".into(),
            ErrorCode::ConnectionTimeout => "no connection within the timeout".into(),
            ErrorCode::ConnectionReadTimeout => "no answer within the timeout".into(),
            ErrorCode::ConnectionTerminated => "the server closed the connection".into(),
            ErrorCode::DnsError(_) | ErrorCode::DestinationNotFound => {
                "the host name could not be resolved".into()
            }
            ErrorCode::HttpResponseBodySize(_) => "the response is too large".into(),
            other => format!("{other:?}"),
        }
    }

    /// The error for a failed request; a denial says how to grant it.
    fn denial(target: &str, error: &ErrorCode) -> Error {
        match error {
            ErrorCode::HttpRequestDenied => Error::backend(format!(
                "HTTP request to {target} denied by the host (not in allow.hosts)"
            )),
            ErrorCode::ConnectionRefused => {
                Error::backend(format!("HTTP request to {target}: connection refused"))
            }
            other => Error::backend(format!(
                "HTTP request to {target} failed: {}",
                described(other)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_leaves_out_header_values_and_the_body() {
        let request = Request::post("http://etcd:2379/v3/auth/authenticate")
            .expect("valid URL")
            .header("authorization", "token-canary")
            .body(b"{\"password\":\"body-canary\"}".to_vec());
        let shown = format!("{request:?}");
        assert!(
            shown.contains("authorization") && shown.contains("etcd:2379"),
            "{shown}"
        );
        assert!(!shown.contains("canary"), "{shown}");
    }

    #[test]
    fn debug_output_and_host_leave_out_the_urls_credentials() {
        let request =
            Request::get("http://reader:pw-canary@etcd:2379/v3/kv/range").expect("valid URL");
        assert_eq!(request.host(), "etcd:2379");
        let shown = format!("{request:?}");
        assert!(
            shown.contains("etcd:2379") && !shown.contains("canary"),
            "{shown}"
        );
    }
}
