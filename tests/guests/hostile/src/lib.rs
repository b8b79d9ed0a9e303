//! A provider component that misbehaves on request, built by the tests to
//! prove that the host's sandbox and limits hold.
//!
//! `get(name)` picks the behaviour from the name (`what:argument`):
//!
//! | name | behaviour |
//! |---|---|
//! | `ok`, anything unknown | returns `value-of-<name>` |
//! | `calls` | how many calls this instance has served (1 on a fresh one) |
//! | `file:PATH` | returns the content of PATH |
//! | `env:NAME` | returns the environment variable NAME |
//! | `connect:HOST:PORT` | opens a TCP connection, returns `connected` |
//! | `http:URL` | GETs URL (wasi:http), returns `status N, M bytes` |
//! | `loop` | spins forever |
//! | `sleep` | sleeps for an hour (in a host call) |
//! | `recurse` | recurses until the stack overflows |
//! | `allocate` | allocates 1 GiB and touches it |
//! | `try-allocate` | asks for 1 GiB with `try_reserve`, returns whether it got it |
//! | `panic` | panics |
//! | `huge` | returns a 100 MB string |
//! | `big` | returns a 3 MB string |
//! | `shout` | fails with a message full of terminal escapes, 100 KB long |
//! | `flood` | writes 1 MB to stderr, then returns `flooded` |
//! | `hoard:N:PATH` | opens PATH N times and keeps the files open across calls; returns `hoarded K` (all N) or `hoarded K, then: ERROR` |
//! | `listings:N:DIR` | lists the granted directory DIR (its own grant) N times and keeps the listings across calls; returns `listed K` (all N) or `listed K, then: ERROR` |
//! | `drop-listings` | drops the kept listings; returns `dropped K` |
//! | `pollables:N` | makes N clock pollables and keeps them across calls; returns `kept N` |
//! | `fields:N` | makes N sets of HTTP header fields (one small header each) and keeps them across calls; returns `kept N` |
//! | `drop-fields` | drops the kept fields; returns `dropped K` |
//! | `bodies:N` | makes N HTTP requests, then a body for each, and keeps those with a body across calls; returns `bodies N` or `bodies K, then refused` |
//! | `responses:N:HOST:PORT` | GETs http://HOST:PORT/ N times, one after another, reads each body to its end and keeps each response (its head) across calls; returns `responses N` or `responses K, then: ERROR` |
//! | `header-views:N` | makes one HTTP request, takes its headers N times and keeps them across calls (the request is dropped); returns `kept N` |
//! | `long:WHAT:N` | sets a request's `method`, `authority` or `path` (WHAT) to N bytes; returns `set` or `refused` |
//! | `options:N` | sends N requests with request options to an address nobody is granted, dropping each answer; returns `sent N` |
//! | `unclaimed:N:HOST:PORT` | GETs http://HOST:PORT/ N times, waits until each answer is ready and keeps it unclaimed; then claims the last one only; returns `last: ok` or `last: ERROR` |
//! | `hold-http:N:HOST:PORT` | sends N GETs to http://HOST:PORT/ without waiting for them, keeps them across calls, and after 300 ms returns `refused R` (how many the host refused as over its connection limit) |
//!
//! `list(pattern)` returns `ok` and `calls` when they match, except that the
//! pattern `garbage*` returns a name that does not match it, `twice*`
//! returns `twice` twice, and `many*` returns `many-0` to `many-999`.
//! `create` fails when the config has `fail_setup`.

use std::cell::{Cell, RefCell};
use std::hint::black_box;

use pp_secrets_guest::http::Request;
use pp_secrets_guest::{Config, Error, Pattern, Provider, Value};

/// The misbehaving provider.
pub struct Hostile {
    calls: Cell<u64>,
    /// What `hoard` and `pollables` keep.
    kept_files: RefCell<Vec<std::fs::File>>,
    #[cfg(target_arch = "wasm32")]
    kept_pollables: RefCell<Vec<wasip2::io::poll::Pollable>>,
    #[cfg(target_arch = "wasm32")]
    kept_requests: RefCell<Vec<wasip2::http::types::FutureIncomingResponse>>,
    #[cfg(target_arch = "wasm32")]
    kept_fields: RefCell<Vec<wasip2::http::types::Fields>>,
    #[cfg(target_arch = "wasm32")]
    kept_bodies: RefCell<
        Vec<(
            wasip2::http::types::OutgoingRequest,
            wasip2::http::types::OutgoingBody,
        )>,
    >,
    #[cfg(target_arch = "wasm32")]
    kept_responses: RefCell<Vec<wasip2::http::types::IncomingResponse>>,
    #[cfg(target_arch = "wasm32")]
    kept_views: RefCell<Vec<wasip2::http::types::Fields>>,
    #[cfg(target_arch = "wasm32")]
    kept_listings: RefCell<Vec<wasip2::filesystem::types::DirectoryEntryStream>>,
}

impl Provider for Hostile {
    fn create(config: Config) -> Result<Self, Error> {
        if config.contains_key("fail_setup") {
            return Err(Error::Backend("setup refused on purpose".into()));
        }
        Ok(Self {
            calls: Cell::new(0),
            kept_files: RefCell::new(Vec::new()),
            #[cfg(target_arch = "wasm32")]
            kept_pollables: RefCell::new(Vec::new()),
            #[cfg(target_arch = "wasm32")]
            kept_requests: RefCell::new(Vec::new()),
            #[cfg(target_arch = "wasm32")]
            kept_fields: RefCell::new(Vec::new()),
            #[cfg(target_arch = "wasm32")]
            kept_bodies: RefCell::new(Vec::new()),
            #[cfg(target_arch = "wasm32")]
            kept_responses: RefCell::new(Vec::new()),
            #[cfg(target_arch = "wasm32")]
            kept_views: RefCell::new(Vec::new()),
            #[cfg(target_arch = "wasm32")]
            kept_listings: RefCell::new(Vec::new()),
        })
    }

    fn get(&self, name: &str) -> Result<Value, Error> {
        self.answer(name).map(Value::from)
    }

    fn list(&self, pattern: &Pattern) -> Result<Vec<String>, Error> {
        if pattern.as_str().starts_with("garbage") {
            return Ok(vec!["not-what-was-asked".into()]);
        }
        if pattern.as_str().starts_with("twice") {
            return Ok(vec!["twice".into(), "twice".into()]);
        }
        if pattern.as_str().starts_with("flood") {
            // About 7 MiB in the guest, 11 MiB if lifted whole.
            return Ok((0..300_000).map(|i| format!("flood-{i}")).collect());
        }
        if pattern.as_str().starts_with("many") {
            return Ok((0..1_000).map(|i| format!("many-{i}")).collect());
        }
        Ok(["ok", "calls"]
            .into_iter()
            .filter(|name| pattern.matches(name))
            .map(String::from)
            .collect())
    }
}

impl Hostile {
    /// What `get(name)` answers, as text.
    fn answer(&self, name: &str) -> Result<String, Error> {
        self.calls.set(self.calls.get() + 1);
        let (what, argument) = name.split_once(':').unwrap_or((name, ""));
        match what {
            "calls" => Ok(self.calls.get().to_string()),
            "file" => std::fs::read_to_string(argument)
                .map_err(|e| Error::Backend(format!("cannot read {argument}: {e}"))),
            "env" => std::env::var(argument)
                .map_err(|e| Error::Backend(format!("cannot read {argument}: {e}"))),
            "connect" => std::net::TcpStream::connect(argument)
                .map(|_| "connected".to_owned())
                .map_err(|e| Error::Backend(format!("cannot connect to {argument}: {e}"))),
            "http" => Request::get(argument)?
                .send()
                .map(|r| format!("status {}, {} bytes", r.status, r.body.len())),
            // An access-denied error of its own after a request to
            // `argument` (which the host may refuse).
            "deny-after-http" => {
                let _ = Request::get(argument).and_then(|r| r.send());
                Err(Error::AccessDenied("the server refused this reader".into()))
            }
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            "sleep" => {
                std::thread::sleep(std::time::Duration::from_secs(3_600));
                Ok("woke up".into())
            }
            "recurse" => Ok(recurse(black_box(1)).to_string()),
            "allocate" => {
                let block = black_box(vec![1u8; 1 << 30]);
                Ok(block.len().to_string())
            }
            "try-allocate" => {
                let mut block: Vec<u8> = Vec::new();
                Ok(black_box(block.try_reserve(1 << 30)).is_ok().to_string())
            }
            "panic" => panic!("hostile guest panics on purpose"),
            "big" => Ok("b".repeat(3 << 20)),
            "huge" => Ok("x".repeat(100 * 1024 * 1024)),
            "shout" => Err(Error::Backend(
                "\u{1b}[31mALERT\u{1b}[0m\nforged log line\n".repeat(4_000),
            )),
            "flood" => {
                for _ in 0..16_384 {
                    eprintln!("{}", "z".repeat(63));
                }
                Ok("flooded".into())
            }
            "hoard" => {
                let (count, path) = argument.split_once(':').unwrap_or(("0", argument));
                let count: usize = count.parse().unwrap_or(0);
                let mut kept = self.kept_files.borrow_mut();
                let mut opened = 0;
                for _ in 0..count {
                    match std::fs::File::open(path) {
                        Ok(file) => {
                            kept.push(file);
                            opened += 1;
                        }
                        Err(e) => return Ok(format!("hoarded {opened}, then: {e}")),
                    }
                }
                Ok(format!("hoarded {opened}"))
            }
            #[cfg(target_arch = "wasm32")]
            "listings" => {
                let (count, dir) = argument.split_once(':').unwrap_or(("0", argument));
                let count: usize = count.parse().unwrap_or(0);
                let Some((granted, _)) = wasip2::filesystem::preopens::get_directories()
                    .into_iter()
                    .find(|(_, path)| path == dir)
                else {
                    return Err(Error::Backend(format!("{dir} is not granted")));
                };
                let mut kept = self.kept_listings.borrow_mut();
                for listed in 0..count {
                    match granted.read_directory() {
                        Ok(stream) => kept.push(stream),
                        Err(e) => return Ok(format!("listed {listed}, then: {e:?}")),
                    }
                }
                Ok(format!("listed {count}"))
            }
            #[cfg(target_arch = "wasm32")]
            "drop-listings" => {
                let mut kept = self.kept_listings.borrow_mut();
                let dropped = kept.len();
                kept.clear();
                Ok(format!("dropped {dropped}"))
            }
            #[cfg(target_arch = "wasm32")]
            "pollables" => {
                let count: usize = argument.parse().unwrap_or(0);
                let mut kept = self.kept_pollables.borrow_mut();
                for _ in 0..count {
                    kept.push(wasip2::clocks::monotonic_clock::subscribe_duration(
                        3_600_000_000_000,
                    ));
                }
                Ok(format!("kept {}", kept.len()))
            }
            #[cfg(target_arch = "wasm32")]
            "fields" => {
                let count: usize = argument.parse().unwrap_or(0);
                let mut kept = self.kept_fields.borrow_mut();
                for _ in 0..count {
                    let fields = wasip2::http::types::Fields::new();
                    let _ = fields.append("x-kept", b"1");
                    kept.push(fields);
                }
                Ok(format!("kept {}", kept.len()))
            }
            #[cfg(target_arch = "wasm32")]
            "drop-fields" => {
                let mut kept = self.kept_fields.borrow_mut();
                let dropped = kept.len();
                kept.clear();
                Ok(format!("dropped {dropped}"))
            }
            #[cfg(target_arch = "wasm32")]
            "bodies" => {
                use wasip2::http::types::{Fields, OutgoingRequest};
                let count: usize = argument.parse().unwrap_or(0);
                let requests: Vec<OutgoingRequest> = (0..count)
                    .map(|_| OutgoingRequest::new(Fields::new()))
                    .collect();
                let mut kept = self.kept_bodies.borrow_mut();
                for (made, request) in requests.into_iter().enumerate() {
                    match request.body() {
                        Ok(body) => kept.push((request, body)),
                        Err(()) => return Ok(format!("bodies {made}, then refused")),
                    }
                }
                Ok(format!("bodies {count}"))
            }
            #[cfg(target_arch = "wasm32")]
            "responses" => {
                use wasip2::http::outgoing_handler::handle;
                let (count, authority) = argument.split_once(':').unwrap_or(("0", argument));
                let count: usize = count.parse().unwrap_or(0);
                let mut kept = self.kept_responses.borrow_mut();
                for got in 0..count {
                    let request = get_request(authority);
                    let pending = match handle(request, None) {
                        Ok(pending) => pending,
                        Err(e) => return Ok(format!("responses {got}, then: {e:?}")),
                    };
                    pending.subscribe().block();
                    let response = match pending.get() {
                        Some(Ok(Ok(response))) => response,
                        other => return Ok(format!("responses {got}, then: {other:?}")),
                    };
                    if let Ok(body) = response.consume() {
                        if let Ok(stream) = body.stream() {
                            while stream.blocking_read(65536).is_ok() {}
                        }
                        drop(wasip2::http::types::IncomingBody::finish(body));
                    }
                    kept.push(response);
                }
                Ok(format!("responses {count}"))
            }
            #[cfg(target_arch = "wasm32")]
            "header-views" => {
                use wasip2::http::types::{Fields, OutgoingRequest};
                let count: usize = argument.parse().unwrap_or(0);
                let request = OutgoingRequest::new(
                    Fields::from_list(&[("x-big".to_owned(), vec![b'v'; 100_000])])
                        .map_err(|e| Error::Backend(format!("{e:?}")))?,
                );
                let mut kept = self.kept_views.borrow_mut();
                for _ in 0..count {
                    kept.push(request.headers());
                }
                drop(request);
                Ok(format!("kept {}", kept.len()))
            }
            #[cfg(target_arch = "wasm32")]
            "long" => {
                use wasip2::http::types::{Fields, Method, OutgoingRequest};
                let (what, length) = argument.split_once(':').unwrap_or((argument, "0"));
                let long = "a".repeat(length.parse().unwrap_or(0));
                let request = OutgoingRequest::new(Fields::new());
                let set = match what {
                    "method" => request.set_method(&Method::Other(long)),
                    "authority" => request.set_authority(Some(&long)),
                    "path" => request.set_path_with_query(Some(&format!("/{long}"))),
                    _ => return Err(Error::Backend(format!("no such part {what}"))),
                };
                Ok(if set.is_ok() { "set" } else { "refused" }.to_owned())
            }
            #[cfg(target_arch = "wasm32")]
            "options" => {
                use wasip2::http::outgoing_handler::handle;
                use wasip2::http::types::{Fields, OutgoingRequest, RequestOptions, Scheme};
                let count: usize = argument.parse().unwrap_or(0);
                for _ in 0..count {
                    let request = OutgoingRequest::new(Fields::new());
                    let _ = request.set_scheme(Some(&Scheme::Http));
                    let _ = request.set_authority(Some("192.0.2.1:9"));
                    drop(handle(request, Some(RequestOptions::new())));
                }
                Ok(format!("sent {count}"))
            }
            #[cfg(target_arch = "wasm32")]
            "unclaimed" => {
                use wasip2::http::outgoing_handler::handle;
                let (count, authority) = argument.split_once(':').unwrap_or(("0", argument));
                let count: usize = count.parse().unwrap_or(0);
                let mut pending = Vec::new();
                for _ in 0..count {
                    let request = get_request(authority);
                    let answer =
                        handle(request, None).map_err(|e| Error::Backend(format!("{e:?}")))?;
                    answer.subscribe().block();
                    // Time for a closed connection to be given back.
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    pending.push(answer);
                }
                let last = pending.last().and_then(|answer| answer.get());
                Ok(match last {
                    Some(Ok(Ok(_))) => "last: ok".to_owned(),
                    other => format!("last: {other:?}"),
                })
            }
            #[cfg(target_arch = "wasm32")]
            "hold-http" => {
                use wasip2::http::outgoing_handler::handle;
                use wasip2::http::types::ErrorCode;
                let (count, authority) = argument.split_once(':').unwrap_or(("0", argument));
                let count: usize = count.parse().unwrap_or(0);
                let mut kept = self.kept_requests.borrow_mut();
                for _ in 0..count {
                    let request = get_request(authority);
                    match handle(request, None) {
                        Ok(pending) => kept.push(pending),
                        Err(e) => return Err(Error::Backend(format!("handle: {e:?}"))),
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(300));
                let refused = kept
                    .iter()
                    .filter(|pending| {
                        // `ready` polls the request once, without waiting.
                        pending.subscribe().ready()
                            && matches!(
                                pending.get(),
                                Some(Ok(Err(ErrorCode::ConnectionLimitReached)))
                            )
                    })
                    .count();
                Ok(format!("refused {refused}"))
            }
            _ => Ok(format!("value-of-{name}")),
        }
    }
}

/// A GET of http://AUTHORITY/.
#[cfg(target_arch = "wasm32")]
fn get_request(authority: &str) -> wasip2::http::types::OutgoingRequest {
    use wasip2::http::types::{Fields, OutgoingRequest, Scheme};
    let request = OutgoingRequest::new(Fields::new());
    let _ = request.set_scheme(Some(&Scheme::Http));
    let _ = request.set_authority(Some(authority));
    let _ = request.set_path_with_query(Some("/"));
    request
}

/// Recurses without end; the arithmetic after the call keeps it from
/// becoming a loop.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth; 64]);
    recurse(black_box(depth + 1)).wrapping_add(frame[depth as usize % 64])
}

#[cfg(target_arch = "wasm32")]
pp_secrets_guest::export_provider!(Hostile);
