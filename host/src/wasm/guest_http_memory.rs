//! The host memory behind a guest's HTTP objects (wasi:http), charged to
//! the instance's memory budget (`limits.memory_mb`) while the guest holds
//! them, in place of wasmtime's own functions that make, move and drop
//! them.
//!
//! wasmtime keeps in host memory, for as long as the guest holds a handle:
//! a set of header fields (one the guest builds may grow to 128 KiB of
//! names and values; one from a server is a response head of up to about
//! 400 KiB, hyper's limit), an outgoing request's or response's body
//! buffers and trailers, and a request's method, authority and path.
//! Counted only by `limits.handles`, a guest could hold a few hundred of
//! them. Here each is charged at its worst case ([`HEADERS_BYTES`],
//! [`BODY_BYTES`]) when the guest gets it:
//!
//! - fields made by the guest (`fields`, `from-list`, `clone`), a view of
//!   a message's headers (`headers`: it shares the message's map and keeps
//!   it alive after the message is gone), trailers received, and a
//!   response received (its head);
//! - a request or response made from fields takes their charge over (or,
//!   made from fields that had none, is charged anew); its body adds
//!   [`BODY_BYTES`];
//! - a request's method, authority and path are capped instead
//!   ([`MAX_METHOD_BYTES`], [`MAX_AUTHORITY_BYTES`], [`MAX_PATH_BYTES`]):
//!   a longer one is refused as the WIT allows.
//!
//! A charge is given back when the guest drops the handle, or when the
//! handle moves into something already counted: a request sent
//! (`outgoing-handler.handle`; from then on the connection's charge covers
//! it, `guest_files::CONNECTION_BYTES`, which the response's body keeps
//! until the guest lets go of all of the response: `http_grants`),
//! trailers passed to `finish` (their message's body reserved room for
//! them). Fields or a message that do not fit end the call with an
//! out-of-memory backend error (their constructors cannot fail in the
//! WIT); a body that does not fit is refused as the WIT allows (`body`
//! fails), and a response or trailers that do not fit arrive as an
//! `internal-error` naming the limit. The request options given to
//! `handle` are dropped with the request (wasmtime only reads them, and
//! would keep them in the table for the instance's life).
//!
//! Charges are kept by resource-table index, which is unique among an
//! instance's live handles of every type. `response-outparam.set` (which
//! also moves a response) and `incoming-request.headers` are not replaced:
//! only a server gets a `response-outparam` or an `incoming-request`, and
//! neither providers nor apps are servers.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use wasmtime::component::{Linker, LinkerInstance, Resource, ResourceType};
use wasmtime_wasi_http::p2::HttpResult;
use wasmtime_wasi_http::p2::bindings::http::outgoing_handler::{self, RequestOptions};
use wasmtime_wasi_http::p2::bindings::http::types::{
    ErrorCode, HeaderError, HostFields, HostFutureIncomingResponse, HostFutureTrailers,
    HostIncomingResponse, HostOutgoingBody, HostOutgoingRequest, HostOutgoingResponse,
    HostRequestOptions, Method,
};
use wasmtime_wasi_http::p2::body::{self, HostFutureTrailers as FutureTrailers};
use wasmtime_wasi_http::p2::types::{
    HostFutureIncomingResponse as FutureResponse, HostIncomingResponse as IncomingResponse,
    HostOutgoingRequest as OutgoingRequest, HostOutgoingResponse as OutgoingResponse,
};
use wasmtime_wasi_http::{FieldMap, WasiHttpCtxView, WasiHttpView};

use crate::wasm::guest_files::GuestFiles;
use crate::wasm::http_grants::{OUTGOING_BODY_BUFFER_CHUNKS, OUTGOING_BODY_CHUNK_BYTES};
use crate::wasm::limits::{HostCharge, HostMemoryRefused};

/// The `wasi:http/types` interface as wasmtime-wasi-http defines it
/// (guests importing any 0.2.x version are served by it).
const HTTP_TYPES: &str = "wasi:http/types@0.2.12";

/// The `wasi:http/outgoing-handler` interface, likewise.
const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

/// What one set of header fields may hold in host memory: a response head
/// from a server (hyper reads at most about 400 KiB of it), or fields a
/// guest builds (128 KiB of names and values, as wasmtime counts them, in
/// a map that may take three times that).
pub(crate) const HEADERS_BYTES: usize = 512 << 10;

/// What an outgoing body may hold before it is sent: the chunks wasmtime
/// buffers (and the one on its way), and room for its trailers.
pub(crate) const BODY_BYTES: usize =
    (OUTGOING_BODY_BUFFER_CHUNKS + 2) * OUTGOING_BODY_CHUNK_BYTES + HEADERS_BYTES;

/// The longest request method a guest may set (a method outside the
/// standard ones is kept by the request as a string of any length).
const MAX_METHOD_BYTES: usize = 64;

/// The longest authority a guest may set: a host name of 253 bytes and a
/// port.
const MAX_AUTHORITY_BYTES: usize = 261;

/// The longest path and query a guest may set (servers commonly refuse
/// anything over 8 KiB).
const MAX_PATH_BYTES: usize = 16 << 10;

/// The error a guest gets for `what` arriving from a server when it does
/// not fit the memory budget.
fn does_not_fit(what: &str) -> ErrorCode {
    ErrorCode::InternalError(Some(format!("{what} does not fit limits.memory_mb")))
}

/// The charges of the HTTP objects an instance holds, by handle.
#[derive(Default)]
pub(crate) struct HttpHoldings(Mutex<HashMap<u32, Vec<HostCharge>>>);

impl HttpHoldings {
    fn hold(&self, handle: u32, charge: HostCharge) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(handle)
            .or_default()
            .push(charge);
    }

    /// Gives back what `handle` held.
    fn release(&self, handle: u32) {
        let released = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&handle);
        drop(released);
    }

    /// Whether `handle` holds a charge.
    fn holds(&self, handle: u32) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&handle)
    }

    /// Moves what `from` held onto `to`.
    fn pass(&self, from: u32, to: u32) {
        let mut held = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(charges) = held.remove(&from) {
            held.entry(to).or_default().extend(charges);
        }
    }
}

/// Charges `bytes` to the instance's budget, or fails the call.
fn charge<T: GuestFiles>(state: &T, bytes: usize, what: &str) -> wasmtime::Result<HostCharge> {
    state.open_files().memory().charge(bytes).ok_or_else(|| {
        tracing::debug!(bytes, "{what} refused: limits.memory_mb reached");
        wasmtime::Error::new(HostMemoryRefused)
    })
}

/// wasmtime's answer to a call, as the guest gets it: its error code, or
/// a trap for an error that is not one.
fn for_the_guest<T>(answer: HttpResult<T>) -> wasmtime::Result<Result<T, ErrorCode>> {
    match answer {
        Ok(made) => Ok(Ok(made)),
        Err(e) => Ok(Err(e.downcast()?)),
    }
}

/// Replaces, in `linker` (which must already have wasi:http), wasmtime's
/// functions that make, move and drop HTTP objects with ones that charge
/// them to the instance's memory budget.
pub(crate) fn charge_http_objects<T: GuestFiles + WasiHttpView + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut types = linker.instance(HTTP_TYPES)?;
    replace_fields(&mut types)?;
    replace_messages(&mut types)?;
    replace_arrivals(&mut types)?;
    linker.instance(OUTGOING_HANDLER)?.func_wrap(
        "handle",
        |mut store,
         (request, options): (Resource<OutgoingRequest>, Option<Resource<RequestOptions>>)| {
            let state = store.data_mut();
            let rep = request.rep();
            let options_rep = options.as_ref().map(Resource::rep);
            let sent = outgoing_handler::Host::handle(&mut state.http(), request, options);
            // Sent or refused, the request is gone from the guest's table.
            state.open_files().http().release(rep);
            // The guest gave its options up too; wasmtime only reads them.
            if let Some(rep) = options_rep {
                let options = Resource::<RequestOptions>::new_own(rep);
                HostRequestOptions::drop(&mut state.http(), options)?;
            }
            Ok((for_the_guest(sent)?,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Fields the guest makes, and their destructor.
fn replace_fields<T: GuestFiles + WasiHttpView + 'static>(
    types: &mut LinkerInstance<'_, T>,
) -> wasmtime::Result<()> {
    types.func_wrap("[constructor]fields", |mut store, (): ()| {
        Ok((new_fields(store.data_mut(), |http| HostFields::new(http))?,))
    })?;
    types.func_wrap(
        "[static]fields.from-list",
        |mut store, (entries,): (Vec<(String, Vec<u8>)>,)| {
            let state = store.data_mut();
            let charge = charge(state, HEADERS_BYTES, "header fields")?;
            let made: Result<Resource<FieldMap>, HeaderError> =
                match HostFields::from_list(&mut state.http(), entries) {
                    Ok(fields) => {
                        state.open_files().http().hold(fields.rep(), charge);
                        Ok(fields)
                    }
                    Err(e) => Err(e.downcast()?),
                };
            Ok((made,))
        },
    )?;
    types.func_wrap(
        "[method]fields.clone",
        |mut store, (fields,): (Resource<FieldMap>,)| {
            Ok((new_fields(store.data_mut(), |http| {
                HostFields::clone(http, fields)
            })?,))
        },
    )?;
    types.resource(
        "fields",
        ResourceType::host::<FieldMap>(),
        |mut store, fields| {
            dropped(store.data_mut(), fields, |http, handle| {
                HostFields::drop(http, handle)
            })
        },
    )
}

/// Fields wasmtime makes, once [`HEADERS_BYTES`] are charged to them.
fn new_fields<T: GuestFiles + WasiHttpView>(
    state: &mut T,
    make: impl FnOnce(&mut WasiHttpCtxView<'_>) -> wasmtime::Result<Resource<FieldMap>>,
) -> wasmtime::Result<Resource<FieldMap>> {
    let charge = charge(state, HEADERS_BYTES, "header fields")?;
    let fields = make(&mut state.http())?;
    state.open_files().http().hold(fields.rep(), charge);
    Ok(fields)
}

/// Requests and responses the guest makes from fields, their bodies and
/// their destructors; trailers passed to `finish`.
fn replace_messages<T: GuestFiles + WasiHttpView + 'static>(
    types: &mut LinkerInstance<'_, T>,
) -> wasmtime::Result<()> {
    types.func_wrap(
        "[constructor]outgoing-request",
        |mut store, (headers,): (Resource<FieldMap>,)| {
            Ok((new_message(store.data_mut(), headers, |http, handle| {
                HostOutgoingRequest::new(http, handle)
            })?,))
        },
    )?;
    types.func_wrap(
        "[constructor]outgoing-response",
        |mut store, (headers,): (Resource<FieldMap>,)| {
            Ok((new_message(store.data_mut(), headers, |http, handle| {
                HostOutgoingResponse::new(http, handle)
            })?,))
        },
    )?;
    types.func_wrap(
        "[method]outgoing-request.body",
        |mut store, (request,): (Resource<OutgoingRequest>,)| {
            Ok((message_body(store.data_mut(), request, |http, handle| {
                HostOutgoingRequest::body(http, handle)
            })?,))
        },
    )?;
    types.func_wrap(
        "[method]outgoing-response.body",
        |mut store, (response,): (Resource<OutgoingResponse>,)| {
            Ok((message_body(store.data_mut(), response, |http, handle| {
                HostOutgoingResponse::body(http, handle)
            })?,))
        },
    )?;
    types.func_wrap(
        "[static]outgoing-body.finish",
        |mut store,
         (body, trailers): (Resource<body::HostOutgoingBody>, Option<Resource<FieldMap>>)| {
            let state = store.data_mut();
            let trailers_rep = trailers.as_ref().map(Resource::rep);
            let finished =
                for_the_guest(HostOutgoingBody::finish(&mut state.http(), body, trailers))?;
            // The trailers are gone from the guest's table (into the body,
            // whose message reserved room for them).
            if let Some(rep) = trailers_rep {
                state.open_files().http().release(rep);
            }
            Ok((finished,))
        },
    )?;
    types.func_wrap(
        "[method]outgoing-request.headers",
        |mut store, (request,): (Resource<OutgoingRequest>,)| {
            Ok((new_fields(store.data_mut(), |http| {
                HostOutgoingRequest::headers(http, request)
            })?,))
        },
    )?;
    types.func_wrap(
        "[method]outgoing-response.headers",
        |mut store, (response,): (Resource<OutgoingResponse>,)| {
            Ok((new_fields(store.data_mut(), |http| {
                HostOutgoingResponse::headers(http, response)
            })?,))
        },
    )?;
    types.func_wrap(
        "[method]outgoing-request.set-method",
        |mut store, (request, method): (Resource<OutgoingRequest>, Method)| {
            if matches!(&method, Method::Other(name) if name.len() > MAX_METHOD_BYTES) {
                return Ok((Err(()),));
            }
            Ok((HostOutgoingRequest::set_method(
                &mut store.data_mut().http(),
                request,
                method,
            )?,))
        },
    )?;
    types.func_wrap(
        "[method]outgoing-request.set-authority",
        |mut store, (request, authority): (Resource<OutgoingRequest>, Option<String>)| {
            if authority
                .as_ref()
                .is_some_and(|a| a.len() > MAX_AUTHORITY_BYTES)
            {
                return Ok((Err(()),));
            }
            Ok((HostOutgoingRequest::set_authority(
                &mut store.data_mut().http(),
                request,
                authority,
            )?,))
        },
    )?;
    types.func_wrap(
        "[method]outgoing-request.set-path-with-query",
        |mut store, (request, path): (Resource<OutgoingRequest>, Option<String>)| {
            if path.as_ref().is_some_and(|p| p.len() > MAX_PATH_BYTES) {
                return Ok((Err(()),));
            }
            Ok((HostOutgoingRequest::set_path_with_query(
                &mut store.data_mut().http(),
                request,
                path,
            )?,))
        },
    )?;
    types.resource(
        "outgoing-request",
        ResourceType::host::<OutgoingRequest>(),
        |mut store, request| {
            dropped(store.data_mut(), request, |http, handle| {
                HostOutgoingRequest::drop(http, handle)
            })
        },
    )?;
    types.resource(
        "outgoing-response",
        ResourceType::host::<OutgoingResponse>(),
        |mut store, response| {
            dropped(store.data_mut(), response, |http, handle| {
                HostOutgoingResponse::drop(http, handle)
            })
        },
    )
}

/// wasmtime's constructor of a message from `headers`, whose charge the
/// message takes over (or, for headers that had none, such as another
/// message's, that keep a map alive, is charged anew).
fn new_message<T: GuestFiles + WasiHttpView, M: 'static>(
    state: &mut T,
    headers: Resource<FieldMap>,
    make: impl FnOnce(&mut WasiHttpCtxView<'_>, Resource<FieldMap>) -> wasmtime::Result<Resource<M>>,
) -> wasmtime::Result<Resource<M>> {
    let from = headers.rep();
    let fresh = if state.open_files().http().holds(from) {
        None
    } else {
        Some(charge(state, HEADERS_BYTES, "a message's headers")?)
    };
    let message = make(&mut state.http(), headers)?;
    let held = state.open_files().http();
    held.pass(from, message.rep());
    if let Some(charge) = fresh {
        held.hold(message.rep(), charge);
    }
    Ok(message)
}

/// wasmtime's `body` of a message, once [`BODY_BYTES`] are charged to it;
/// refused, as the WIT allows, when they do not fit.
fn message_body<T: GuestFiles + WasiHttpView, M: 'static>(
    state: &mut T,
    message: Resource<M>,
    body: impl FnOnce(
        &mut WasiHttpCtxView<'_>,
        Resource<M>,
    ) -> wasmtime::Result<Result<Resource<body::HostOutgoingBody>, ()>>,
) -> wasmtime::Result<Result<Resource<body::HostOutgoingBody>, ()>> {
    let rep = message.rep();
    let Some(charge) = state.open_files().memory().charge(BODY_BYTES) else {
        tracing::debug!("a body refused: limits.memory_mb reached");
        return Ok(Err(()));
    };
    let made = body(&mut state.http(), message)?;
    if made.is_ok() {
        state.open_files().http().hold(rep, charge);
    }
    Ok(made)
}

/// wasmtime's destructor of the handle `rep`, and its charge given back.
fn dropped<T: GuestFiles + WasiHttpView, R: 'static>(
    state: &mut T,
    rep: u32,
    drop: impl FnOnce(&mut WasiHttpCtxView<'_>, Resource<R>) -> wasmtime::Result<()>,
) -> wasmtime::Result<()> {
    drop(&mut state.http(), Resource::new_own(rep))?;
    state.open_files().http().release(rep);
    Ok(())
}

/// What arrives from a server: a response (its head), trailers.
fn replace_arrivals<T: GuestFiles + WasiHttpView + 'static>(
    types: &mut LinkerInstance<'_, T>,
) -> wasmtime::Result<()> {
    types.func_wrap(
        "[method]future-incoming-response.get",
        |mut store, (pending,): (Resource<FutureResponse>,)| {
            let state = store.data_mut();
            let mut arrived = HostFutureIncomingResponse::get(&mut state.http(), pending)?;
            if let Some(Ok(Ok(response))) = &arrived {
                let rep = response.rep();
                match state.open_files().memory().charge(HEADERS_BYTES) {
                    Some(charge) => state.open_files().http().hold(rep, charge),
                    None => {
                        HostIncomingResponse::drop(&mut state.http(), Resource::new_own(rep))?;
                        arrived = Some(Ok(Err(does_not_fit("the response"))));
                    }
                }
            }
            Ok((arrived,))
        },
    )?;
    types.func_wrap(
        "[method]future-trailers.get",
        |mut store, (pending,): (Resource<FutureTrailers>,)| {
            let state = store.data_mut();
            let mut arrived = HostFutureTrailers::get(&mut state.http(), pending)?;
            if let Some(Ok(Ok(Some(trailers)))) = &arrived {
                let rep = trailers.rep();
                match state.open_files().memory().charge(HEADERS_BYTES) {
                    Some(charge) => state.open_files().http().hold(rep, charge),
                    None => {
                        HostFields::drop(&mut state.http(), Resource::new_own(rep))?;
                        arrived = Some(Ok(Err(does_not_fit("the trailers"))));
                    }
                }
            }
            Ok((arrived,))
        },
    )?;
    types.func_wrap(
        "[method]incoming-response.headers",
        |mut store, (response,): (Resource<IncomingResponse>,)| {
            Ok((new_fields(store.data_mut(), |http| {
                HostIncomingResponse::headers(http, response)
            })?,))
        },
    )?;
    types.resource(
        "incoming-response",
        ResourceType::host::<IncomingResponse>(),
        |mut store, response| {
            dropped(store.data_mut(), response, |http, handle| {
                HostIncomingResponse::drop(http, handle)
            })
        },
    )
}
