//! Sending one granted guest request: connect, TLS, HTTP/1.1, and the
//! guest's own connect, first-byte and between-bytes timeouts.
//!
//! The host's own client instead of wasmtime's default one, so that TLS
//! uses the backend's trust settings ([`TlsClient`]) and one crypto
//! back-end, and a failed handshake says what was wrong with the
//! certificate. Whatever the guest asks, the call's time limit (which runs
//! around every host call) bounds the whole exchange.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::uri::Scheme;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

use crate::wasm::tls::{TlsClient, TlsProblem, tls_problem};

/// A connection to a server, plain or TLS.
trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static {}
impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Stream for S {}

/// The response and the future that drives its connection.
pub(crate) type Sent = (
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
);

/// Why a request failed: the error the guest sees and, for a failed TLS
/// handshake, the host's account of it (for the log and the backend's
/// error).
pub(crate) struct SendFailure {
    pub(crate) error: HttpError,
    pub(crate) tls_problem: Option<String>,
}

impl From<TlsProblem> for SendFailure {
    fn from(problem: TlsProblem) -> Self {
        Self {
            error: problem.code,
            tls_problem: Some(problem.account),
        }
    }
}

impl From<HttpError> for SendFailure {
    fn from(error: HttpError) -> Self {
        Self {
            error,
            tls_problem: None,
        }
    }
}

/// Sends `request` (already checked against the grants) and returns the
/// response once its head has arrived.
pub(crate) async fn send(
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    tls: TlsClient,
) -> Result<Sent, SendFailure> {
    let options = options.unwrap_or_default();
    let uri = request.uri();
    let authority = uri.authority().ok_or(HttpError::HttpRequestUriInvalid)?;
    let https = uri.scheme() == Some(&Scheme::HTTPS);
    let host = authority.host().to_owned();
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });

    let connecting = TcpStream::connect((host.trim_start_matches('[').trim_end_matches(']'), port));
    let tcp = within(options.connect_timeout, connecting)
        .await
        .ok_or(HttpError::ConnectionTimeout)?
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => HttpError::ConnectionRefused,
            _ => HttpError::Connect(e),
        })?;
    let _ = tcp.set_nodelay(true);

    // Only the path goes on the wire (the host header names the server).
    let path = uri
        .path_and_query()
        .map_or("/", http::uri::PathAndQuery::as_str);
    *request.uri_mut() = http::Uri::try_from(path).map_err(|_| HttpError::HttpRequestUriInvalid)?;

    let server = format!("{host}:{port}");
    let stream: Box<dyn Stream> = if https {
        Box::new(handshake(tcp, &server, &host, &tls, options.connect_timeout).await?)
    } else {
        Box::new(tcp)
    };
    let (mut sender, connection) = within(
        options.connect_timeout,
        hyper::client::conn::http1::handshake::<_, WasiBody>(TokioIo::new(stream)),
    )
    .await
    .ok_or(HttpError::ConnectionTimeout)?
    .map_err(HttpError::from)?;

    let mut connection = Some(connection);
    let mut response = std::pin::pin!(within(
        options.first_byte_timeout,
        sender.send_request(request)
    ));
    // The connection must be driven while the response head is awaited.
    let response = std::future::poll_fn(|cx| {
        if let Poll::Ready(answer) = response.as_mut().poll(cx) {
            return Poll::Ready(answer);
        }
        if let Some(driving) = connection.as_mut()
            && let Poll::Ready(ended) = Pin::new(driving).poll(cx)
        {
            connection = None;
            if let Err(e) = ended {
                return Poll::Ready(Some(Err(e)));
            }
            return response.as_mut().poll(cx);
        }
        Poll::Pending
    })
    .await
    .ok_or(HttpError::ConnectionReadTimeout)?
    // With TLS 1.3 a server checks the client's certificate after the
    // handshake, so its refusal arrives here.
    .map_err(|e| match tls_problem(&e, &server, &host) {
        Some(problem) => SendFailure::from(problem),
        None => HttpError::from(e).into(),
    })?;

    let between = options.between_bytes_timeout;
    let response = response.map(|incoming| {
        BetweenBytes::new(incoming, between)
            .map_err(HttpError::from)
            .boxed_unsync()
    });
    let driver: Box<dyn Future<Output = Result<(), HttpError>> + Send> = Box::new(async move {
        match connection {
            Some(connection) => connection.await.map_err(HttpError::from),
            None => Ok(()),
        }
    });
    Ok((response, driver))
}

/// `future`, cut off after `limit` when there is one (`None` on time-out).
async fn within<F: Future>(limit: Option<Duration>, future: F) -> Option<F::Output> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, future).await.ok(),
        None => Some(future.await),
    }
}

/// The TLS handshake with `server` (`host:port`) for the name `host`,
/// over `tcp`.
async fn handshake(
    tcp: TcpStream,
    server: &str,
    host: &str,
    tls: &TlsClient,
    limit: Option<Duration>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, SendFailure> {
    let config = tls.config().map_err(|problem| SendFailure {
        error: HttpError::TlsProtocolError,
        tls_problem: Some(problem.report()),
    })?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let name =
        ServerName::try_from(bare.to_owned()).map_err(|_| HttpError::HttpRequestUriInvalid)?;
    let connector = tokio_rustls::TlsConnector::from(config);
    match within(limit, connector.connect(name, tcp)).await {
        None => Err(HttpError::ConnectionTimeout.into()),
        Some(Ok(stream)) => Ok(stream),
        Some(Err(e)) => Err(match tls_problem(&e, server, host) {
            Some(problem) => problem.into(),
            None => SendFailure {
                error: HttpError::TlsProtocolError,
                tls_problem: Some(format!("TLS with {server} failed: {e}")),
            },
        }),
    }
}

/// A response body that fails when the server pauses longer than the
/// guest's between-bytes timeout.
struct BetweenBytes {
    incoming: Incoming,
    limit: Option<Duration>,
    pause: Option<Pin<Box<Sleep>>>,
}

impl BetweenBytes {
    fn new(incoming: Incoming, limit: Option<Duration>) -> Self {
        Self {
            incoming,
            limit,
            pause: limit.map(|limit| Box::pin(tokio::time::sleep(limit))),
        }
    }
}

/// Why a body ended early.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error(transparent)]
    Hyper(#[from] hyper::Error),
    #[error("the server paused longer than the between-bytes timeout")]
    Paused,
}

impl From<BodyError> for HttpError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::Hyper(e) => HttpError::from(e),
            BodyError::Paused => HttpError::ConnectionReadTimeout,
        }
    }
}

impl Body for BetweenBytes {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.incoming).poll_frame(cx) {
            Poll::Ready(frame) => {
                if let (Some(pause), Some(limit)) = (this.pause.as_mut(), this.limit) {
                    pause.as_mut().reset(Instant::now() + limit);
                }
                Poll::Ready(frame.map(|f| f.map_err(BodyError::from)))
            }
            Poll::Pending => match this.pause.as_mut() {
                Some(pause) => {
                    ready!(pause.as_mut().poll(cx));
                    Poll::Ready(Some(Err(BodyError::Paused)))
                }
                None => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.incoming.size_hint()
    }
}
