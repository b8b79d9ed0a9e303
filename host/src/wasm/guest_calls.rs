//! The three calls a provider answers (`get`, `list`, `get-matching`),
//! each made in an instance's store with its reply checked
//! (`guest_reply`) and its hostcall fuel (what wasmtime may copy out of the
//! guest for it).

use std::future::Future;

use wasmtime::Store;

use crate::secrets_provider::Pattern;
use crate::value::SecretText;
use crate::wasm::bindings::{GuestError, Provider};
use crate::wasm::guest_reply::{self, Matched, Refused, ReplyCaps};
use crate::wasm::sandbox::GuestState;

/// A guest's reply: its answer (or its own error), or a trap.
type Outcome<T> = wasmtime::Result<Result<Result<T, GuestError>, Refused>>;

/// One call into a provider instance.
pub(crate) trait GuestCall: Send + Sync {
    /// The checked answer.
    type Answer: Send;

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
        guest: &'a Provider,
        store: &'a mut Store<GuestState>,
        caps: ReplyCaps,
    ) -> impl Future<Output = Outcome<Self::Answer>> + Send + 'a;
}

/// `reply` with `check` applied to an answer (a guest's own error passes
/// as it is).
fn checked<T, U>(
    reply: Result<T, GuestError>,
    check: impl FnOnce(T) -> Result<U, Refused>,
) -> Result<Result<U, GuestError>, Refused> {
    match reply {
        Ok(answer) => check(answer).map(Ok),
        Err(e) => Ok(Err(e)),
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

impl GuestCall for GetValue<'_> {
    type Answer = SecretText;

    fn lift_fuel(&self, _caps: ReplyCaps) -> usize {
        guest_reply::value_fuel()
    }

    async fn make(
        &self,
        guest: &Provider,
        store: &mut Store<GuestState>,
        _caps: ReplyCaps,
    ) -> Outcome<SecretText> {
        let reply = guest
            .processpype_secrets_backend()
            .call_get(store, self.0)
            .await?;
        Ok(checked(reply, guest_reply::checked_value))
    }
}

impl GuestCall for ListNames<'_> {
    type Answer = Vec<String>;

    async fn make(
        &self,
        guest: &Provider,
        store: &mut Store<GuestState>,
        caps: ReplyCaps,
    ) -> Outcome<Vec<String>> {
        let reply = guest
            .processpype_secrets_backend()
            .call_list(store, &self.glob)
            .await?;
        Ok(checked(reply, |names| {
            guest_reply::checked_names(names, self.pattern, caps)
        }))
    }
}

impl GuestCall for GetMatching<'_> {
    type Answer = Vec<Matched>;

    async fn make(
        &self,
        guest: &Provider,
        store: &mut Store<GuestState>,
        caps: ReplyCaps,
    ) -> Outcome<Vec<Matched>> {
        let reply = guest
            .processpype_secrets_backend()
            .call_get_matching(store, &self.glob)
            .await?;
        Ok(checked(reply, |matched| {
            guest_reply::checked_matches(matched, self.pattern, caps)
        }))
    }
}
