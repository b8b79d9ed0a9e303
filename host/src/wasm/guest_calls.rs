//! The calls a provider answers (`get`, `list`, `get-matching` and, from
//! 0.2.0 on, `changes`), each made in an instance's store with its reply
//! checked (`guest_reply`) and its hostcall fuel (what wasmtime may copy
//! out of the guest for it), in whichever version of the interface the
//! component speaks ([`Guest`]).

use std::collections::HashSet;
use std::future::Future;

use wasmtime::Store;
use wasmtime::component::ResourceAny;

use crate::secrets_provider::Pattern;
use crate::wasm::bindings::{GuestChanges, GuestError, GuestMatched, GuestValue, v0_1, v0_2};
use crate::wasm::guest_reply::{self, CheckedChanges, Matched, Refused, ReplyCaps, Versioned};
use crate::wasm::sandbox::GuestState;

/// A provider instance's exports, by the version of the interface it
/// speaks.
pub(crate) enum Guest {
    /// 0.2.0: the component and the `provider` resource `create` made.
    V0_2 {
        exports: v0_2::ProviderComponent,
        provider: ResourceAny,
    },
    /// 0.1.0: free functions over the provider `setup` made.
    V0_1(v0_1::Provider),
}

/// The calls a provider answers, for [`CallCounts`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum CallKind {
    Get,
    List,
    GetMatching,
    Changes,
}

/// How many calls of each kind a Wasm backend has made into its
/// component (set-up not counted): for metrics, and for tests that count
/// what a refresh costs.
#[derive(Debug, Default)]
pub struct CallCounts {
    get: std::sync::atomic::AtomicU64,
    list: std::sync::atomic::AtomicU64,
    get_matching: std::sync::atomic::AtomicU64,
    changes: std::sync::atomic::AtomicU64,
    requests: std::sync::atomic::AtomicU64,
}

/// A snapshot of [`CallCounts`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    /// `get` calls.
    pub get: u64,
    /// `list` calls.
    pub list: u64,
    /// `get-matching` calls (a `load`).
    pub get_matching: u64,
    /// `changes` calls (a refresh of a 0.2.0 provider).
    pub changes: u64,
    /// HTTP requests the component sent to granted hosts during its calls.
    pub requests: u64,
}

impl CallCounts {
    /// Counts one call of `kind`.
    pub(crate) fn count(&self, kind: CallKind) {
        let counter = match kind {
            CallKind::Get => &self.get,
            CallKind::List => &self.list,
            CallKind::GetMatching => &self.get_matching,
            CallKind::Changes => &self.changes,
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Counts `requests` HTTP requests the component sent.
    pub(crate) fn count_requests(&self, requests: u64) {
        self.requests
            .fetch_add(requests, std::sync::atomic::Ordering::Relaxed);
    }

    /// The counts now.
    pub fn snapshot(&self) -> Calls {
        let read = |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Relaxed);
        Calls {
            get: read(&self.get),
            list: read(&self.list),
            get_matching: read(&self.get_matching),
            changes: read(&self.changes),
            requests: read(&self.requests),
        }
    }
}

/// A guest's reply: its answer (or its own error), or a trap.
type Outcome<T> = wasmtime::Result<Result<Result<T, GuestError>, Refused>>;

/// One call into a provider instance.
pub(crate) trait GuestCall: Send + Sync {
    /// The checked answer.
    type Answer: Send;

    /// Which call this is, for [`CallCounts`].
    const KIND: CallKind;

    /// What wasmtime may copy out of the guest during the call: the reply
    /// at the most the host accepts (and each host call the guest makes
    /// meanwhile gets as much). A list or bulk reply by default.
    fn lift_fuel(&self, caps: ReplyCaps) -> usize {
        caps.lift_fuel()
    }

    /// Makes the call on `guest` in `store` and checks the reply: the
    /// answer or the guest's error, a refused reply, or a trap.
    fn make<'a>(
        &'a self,
        guest: &'a Guest,
        store: &'a mut Store<GuestState>,
        caps: ReplyCaps,
    ) -> impl Future<Output = Outcome<Self::Answer>> + Send + 'a;
}

/// `reply` (in either version's types) with `check` applied to an answer
/// (a guest's own error passes as it is).
fn checked<T, U, E: Into<GuestError>>(
    reply: Result<T, E>,
    check: impl FnOnce(T) -> Result<U, Refused>,
) -> Result<Result<U, GuestError>, Refused> {
    match reply {
        Ok(answer) => check(answer).map(Ok),
        Err(e) => Ok(Err(e.into())),
    }
}

/// `get(name)`.
pub(crate) struct GetValue<'a>(pub(crate) &'a str);

/// `list(glob)` for `pattern` (the glob as sent).
pub(crate) struct ListNames<'a> {
    pub(crate) glob: String,
    pub(crate) pattern: &'a Pattern,
}

/// `get-matching(glob)` for `pattern` (the glob as sent).
pub(crate) struct GetMatching<'a> {
    pub(crate) glob: String,
    pub(crate) pattern: &'a Pattern,
}

/// `changes(held, globs)` for `patterns` (the globs as sent). A 0.1.0
/// provider cannot tell: its answer is `None` without a call.
pub(crate) struct Changes<'a> {
    pub(crate) held: Vec<v0_2::HeldSecret>,
    pub(crate) globs: Vec<String>,
    pub(crate) patterns: &'a [Pattern],
}

impl GuestCall for GetValue<'_> {
    type Answer = Versioned;
    const KIND: CallKind = CallKind::Get;

    fn lift_fuel(&self, _caps: ReplyCaps) -> usize {
        guest_reply::value_fuel()
    }

    async fn make(
        &self,
        guest: &Guest,
        store: &mut Store<GuestState>,
        _caps: ReplyCaps,
    ) -> Outcome<Versioned> {
        Ok(match guest {
            Guest::V0_2 { exports, provider } => {
                let reply = exports
                    .processpype_secrets_provider()
                    .provider()
                    .call_get(store, *provider, self.0)
                    .await?;
                checked(reply, |v| guest_reply::checked_value(GuestValue::from(v)))
            }
            Guest::V0_1(exports) => {
                let reply = exports
                    .processpype_secrets_backend()
                    .call_get(store, self.0)
                    .await?;
                checked(reply, |v| guest_reply::checked_value(GuestValue::from(v)))
            }
        })
    }
}

impl GuestCall for ListNames<'_> {
    type Answer = Vec<String>;
    const KIND: CallKind = CallKind::List;

    async fn make(
        &self,
        guest: &Guest,
        store: &mut Store<GuestState>,
        caps: ReplyCaps,
    ) -> Outcome<Vec<String>> {
        let check = |names| guest_reply::checked_names(names, self.pattern, caps);
        Ok(match guest {
            Guest::V0_2 { exports, provider } => {
                let reply = exports
                    .processpype_secrets_provider()
                    .provider()
                    .call_list(store, *provider, &self.glob)
                    .await?;
                checked(reply, check)
            }
            Guest::V0_1(exports) => {
                let reply = exports
                    .processpype_secrets_backend()
                    .call_list(store, &self.glob)
                    .await?;
                checked(reply, check)
            }
        })
    }
}

impl GuestCall for GetMatching<'_> {
    type Answer = Vec<Matched>;
    const KIND: CallKind = CallKind::GetMatching;

    async fn make(
        &self,
        guest: &Guest,
        store: &mut Store<GuestState>,
        caps: ReplyCaps,
    ) -> Outcome<Vec<Matched>> {
        let check =
            |matched: Vec<GuestMatched>| guest_reply::checked_matches(matched, self.pattern, caps);
        Ok(match guest {
            Guest::V0_2 { exports, provider } => {
                let reply = exports
                    .processpype_secrets_provider()
                    .provider()
                    .call_get_matching(store, *provider, &self.glob)
                    .await?;
                checked(reply, |m: Vec<v0_2::MatchedSecret>| {
                    check(m.into_iter().map(GuestMatched::from).collect())
                })
            }
            Guest::V0_1(exports) => {
                let reply = exports
                    .processpype_secrets_backend()
                    .call_get_matching(store, &self.glob)
                    .await?;
                checked(reply, |m: Vec<v0_1::MatchedSecret>| {
                    check(m.into_iter().map(GuestMatched::from).collect())
                })
            }
        })
    }
}

impl GuestCall for Changes<'_> {
    type Answer = Option<CheckedChanges>;
    const KIND: CallKind = CallKind::Changes;

    async fn make(
        &self,
        guest: &Guest,
        store: &mut Store<GuestState>,
        caps: ReplyCaps,
    ) -> Outcome<Option<CheckedChanges>> {
        let Guest::V0_2 { exports, provider } = guest else {
            return Ok(Ok(Ok(None)));
        };
        let reply = exports
            .processpype_secrets_provider()
            .provider()
            .call_changes(store, *provider, &self.held, &self.globs)
            .await?;
        let held: HashSet<&str> = self.held.iter().map(|h| h.name.as_str()).collect();
        Ok(checked(reply, |changes: v0_2::Changes| {
            guest_reply::checked_changes(GuestChanges::from(changes), &held, self.patterns, caps)
        }))
    }
}
