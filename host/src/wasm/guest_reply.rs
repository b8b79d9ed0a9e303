//! A provider's replies, checked before the manager sees them.
//!
//! A `list` or bulk reply of more than `limits.max_names` names or
//! `limits.max_reply_mb` bytes of names and values, a value over the value
//! cap, a malformed name, a name outside the pattern, or a name that a bulk
//! reply gives twice, is refused: the call is a backend error and the
//! instance is thrown away; so is a version longer than
//! [`MAX_VERSION_BYTES`], and a change check that names a secret the host
//! did not ask about. Values become zeroizing [`StoredValue`]s before any
//! check, so a refused reply is wiped too.
//!
//! These checks run on the lifted reply (wasmtime 48 runs the guest's
//! post-return, which frees the reply in the guest, as soon as the call
//! returns, so a reply cannot be read lazily after it). The copy itself is
//! bounded before it is made: every call of a provider gets a hostcall
//! fuel ([`value_fuel`] for `get`, [`ReplyCaps::lift_fuel`] for `list`
//! and bulk calls), which wasmtime charges with the size
//! of each list (entries times their host size) and each string *before*
//! allocating them, and a reply past it fails the call unlifted. So a
//! reply of millions of names costs the host at most the fuel, not several
//! times its size in the guest.

use std::collections::HashSet;

use crate::secrets_provider::{Pattern, ProviderError};
use crate::value::{SecretBytes, SecretText, StoredValue};
use crate::wasm::bindings::{GuestBytes, GuestChanges, GuestError, GuestMatched, GuestValue};
use crate::wasm::guest_text::{MAX_VALUE_BYTES, escaped, name_problem, value_problem};

/// How much a `list` or bulk reply may hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReplyCaps {
    /// Names in one reply.
    pub(crate) names: usize,
    /// Bytes of names and values in one reply.
    pub(crate) bytes: usize,
}

/// What wasmtime may charge to lift one reply beyond its bytes: strings
/// and the outer `result`'s error text.
const LIFT_SLACK: usize = 64 << 10;

impl ReplyCaps {
    /// The hostcall fuel of a provider's store: enough to lift a reply of
    /// `names` entries (each at its host size, the largest being a bulk
    /// entry) and `bytes` bytes, and no more. Also what one host call of
    /// the guest may pass in.
    pub(crate) fn lift_fuel(&self) -> usize {
        self.names
            .saturating_mul(std::mem::size_of::<GuestMatched>())
            .saturating_add(self.bytes)
            .saturating_add(LIFT_SLACK)
    }
}

/// The hostcall fuel of a `get`: a value at the largest the host accepts
/// (and each host call the guest makes meanwhile gets as much).
pub(crate) fn value_fuel() -> usize {
    MAX_VALUE_BYTES + LIFT_SLACK
}

/// Why a reply was refused (the instance is then thrown away).
pub(crate) struct Refused(pub(crate) ProviderError);

fn refused(problem: impl std::fmt::Display) -> Refused {
    Refused(ProviderError::failed(format!(
        "the provider returned {problem}"
    )))
}

/// The longest version a guest may give (an opaque tag: a revision, a
/// file's identity, a version id).
pub(crate) const MAX_VERSION_BYTES: usize = 256;

/// A value as the host keeps it, with the guest's version of it.
pub(crate) type Versioned = (StoredValue, Option<String>);

/// A name with its value or its own error, as a bulk reply gives them.
pub(crate) type Matched = (String, Result<Versioned, GuestError>);

/// A guest's value made a zeroizing one, before any check.
fn stored(value: GuestValue) -> (StoredValue, Option<String>) {
    let stored = match value.value {
        GuestBytes::Text(text) => StoredValue::Text(SecretText::new(text)),
        GuestBytes::Bytes(bytes) => StoredValue::Bytes(SecretBytes::new(bytes)),
    };
    (stored, value.version)
}

/// Refuses a value that is too large. A version longer than
/// [`MAX_VERSION_BYTES`] is dropped (it is only a hint: a value without
/// one reads as changed at the next refresh).
fn check_versioned(versioned: &mut Versioned) -> Result<(), Refused> {
    if let Some(problem) = value_problem(versioned.0.len()) {
        return Err(refused(problem));
    }
    if versioned
        .1
        .as_ref()
        .is_some_and(|version| version.len() > MAX_VERSION_BYTES)
    {
        versioned.1 = None;
    }
    Ok(())
}

/// The reply of `get`: the value and its version, unless the value is too
/// large.
pub(crate) fn checked_value(value: GuestValue) -> Result<Versioned, Refused> {
    let mut versioned = stored(value);
    check_versioned(&mut versioned)?;
    Ok(versioned)
}

/// The reply of `list` for `pattern`.
pub(crate) fn checked_names(
    names: Vec<String>,
    pattern: &Pattern,
    caps: ReplyCaps,
) -> Result<Vec<String>, Refused> {
    within_caps(names.len(), names.iter().map(String::len), caps)?;
    for name in &names {
        check_name(name, pattern)?;
    }
    Ok(names)
}

/// The reply of `get-matching` for `pattern`.
pub(crate) fn checked_matches(
    matched: Vec<GuestMatched>,
    pattern: &Pattern,
    caps: ReplyCaps,
) -> Result<Vec<Matched>, Refused> {
    // Values into secrets first: whatever is refused below is wiped.
    let matched: Vec<Matched> = matched
        .into_iter()
        .map(|entry| (entry.name, entry.value.map(stored)))
        .collect();
    let sizes = matched
        .iter()
        .map(|(name, value)| name.len() + value.as_ref().map_or(0, |value| value.0.len()));
    within_caps(matched.len(), sizes, caps)?;
    let mut seen = HashSet::with_capacity(matched.len());
    let mut out = Vec::with_capacity(matched.len());
    for (name, value) in matched {
        check_name(&name, pattern)?;
        if !seen.insert(name.clone()) {
            return Err(refused(format_args!(
                "the name {:?} twice in one reply",
                escaped(&name)
            )));
        }
        let mut value = value;
        if let Ok(versioned) = &mut value {
            check_versioned(versioned)?;
        }
        out.push((name, value));
    }
    Ok(out)
}

/// What a checked change check found: the names to fetch again (changed
/// or added) and the held names that are gone.
pub(crate) struct CheckedChanges {
    /// Changed and added names, each once.
    pub(crate) fetch: Vec<String>,
    /// Held names that no longer exist.
    pub(crate) gone: Vec<String>,
}

/// The reply of `changes` about `held` names and `patterns`: `None` when
/// the provider cannot tell. A changed or gone name must be held (and not
/// both), an added one must match a pattern and not be held; no name may
/// come twice; every list is within `caps`.
pub(crate) fn checked_changes(
    changes: GuestChanges,
    held: &HashSet<&str>,
    patterns: &[Pattern],
    caps: ReplyCaps,
) -> Result<Option<CheckedChanges>, Refused> {
    let GuestChanges::Known {
        changed,
        added,
        gone,
    } = changes
    else {
        return Ok(None);
    };
    let count = changed.len() + added.len() + gone.len();
    let sizes = changed.iter().chain(&added).chain(&gone).map(String::len);
    within_caps(count, sizes, caps)?;
    let mut seen = HashSet::with_capacity(count);
    for name in changed.iter().chain(&added).chain(&gone) {
        if !seen.insert(name.as_str()) {
            return Err(refused(format_args!(
                "the name {:?} twice in one change check",
                escaped(name)
            )));
        }
    }
    for name in changed.iter().chain(&gone) {
        if let Some(problem) = name_problem(name) {
            return Err(refused(problem));
        }
        if !held.contains(name.as_str()) {
            return Err(refused(format_args!(
                "a change of {:?}, which the host does not hold",
                escaped(name)
            )));
        }
    }
    for name in &added {
        if let Some(problem) = name_problem(name) {
            return Err(refused(problem));
        }
        if held.contains(name.as_str()) || !patterns.iter().any(|p| p.matches(name)) {
            return Err(refused(format_args!(
                "{:?} as added, which is held or matches no pattern",
                escaped(name)
            )));
        }
    }
    let mut fetch: Vec<String> = changed.into_iter().chain(added).collect();
    fetch.sort_unstable();
    Ok(Some(CheckedChanges { fetch, gone }))
}

/// Refuses a reply of `count` entries of `sizes` bytes beyond `caps`.
fn within_caps(
    count: usize,
    sizes: impl Iterator<Item = usize>,
    caps: ReplyCaps,
) -> Result<(), Refused> {
    if count > caps.names {
        return Err(refused(format_args!(
            "{count} names in one reply (limits.max_names = {})",
            caps.names
        )));
    }
    let bytes = sizes.fold(0usize, usize::saturating_add);
    if bytes > caps.bytes {
        return Err(refused(format_args!(
            "a reply of {} MiB (limits.max_reply_mb = {})",
            bytes.div_ceil(1 << 20),
            caps.bytes >> 20
        )));
    }
    Ok(())
}

/// Refuses `name` when malformed or outside `pattern`.
fn check_name(name: &str, pattern: &Pattern) -> Result<(), Refused> {
    if let Some(problem) = name_problem(name) {
        return Err(refused(problem));
    }
    if !pattern.matches(name) {
        return Err(refused(format_args!(
            "{:?}, which does not match {:?}",
            escaped(name),
            pattern.as_str()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPS: ReplyCaps = ReplyCaps {
        names: 3,
        bytes: 1 << 20,
    };

    fn matched(name: &str, value: &str) -> GuestMatched {
        GuestMatched {
            name: name.into(),
            value: Ok(GuestValue::from(value.to_owned())),
        }
    }

    fn refusal(result: Result<impl Sized, Refused>) -> String {
        match result {
            Ok(_) => panic!("refused"),
            Err(Refused(error)) => error.to_string(),
        }
    }

    #[test]
    fn a_bulk_reply_naming_a_secret_twice_is_refused() {
        let pattern = Pattern::new("db_*").expect("glob");
        let reply = vec![
            matched("db_a", "1"),
            matched("db_b", "2"),
            matched("db_a", "3"),
        ];
        let message = refusal(checked_matches(reply, &pattern, CAPS));
        assert!(message.contains("\"db_a\" twice"), "{message}");
    }

    #[test]
    fn replies_past_the_caps_are_refused() {
        let pattern = Pattern::new("*").expect("glob");
        let names: Vec<String> = ["a", "b", "c", "d"].map(String::from).into();
        let message = refusal(checked_names(names, &pattern, CAPS));
        assert!(
            message.contains("4 names in one reply (limits.max_names = 3)"),
            "{message}"
        );

        let tight = ReplyCaps { names: 3, bytes: 8 };
        let reply = vec![matched("a", "12345"), matched("b", "12345")];
        let message = refusal(checked_matches(reply, &pattern, tight));
        assert!(message.contains("limits.max_reply_mb"), "{message}");
        assert!(checked_names(vec!["a".into()], &pattern, tight).is_ok());
    }

    #[test]
    fn a_name_outside_the_pattern_is_refused() {
        let pattern = Pattern::new("db_*").expect("glob");
        let message = refusal(checked_names(vec!["api".into()], &pattern, CAPS));
        assert!(message.contains("does not match"), "{message}");
    }

    fn known(changed: &[&str], added: &[&str], gone: &[&str]) -> GuestChanges {
        let owned = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
        GuestChanges::Known {
            changed: owned(changed),
            added: owned(added),
            gone: owned(gone),
        }
    }

    fn check(changes: GuestChanges) -> Result<Option<CheckedChanges>, Refused> {
        let held: HashSet<&str> = ["db_a", "db_b"].into_iter().collect();
        let patterns = [Pattern::new("db_*").expect("glob")];
        checked_changes(changes, &held, &patterns, CAPS)
    }

    #[test]
    fn a_change_check_may_name_only_what_it_was_asked_about() {
        let ok = check(known(&["db_a"], &["db_c"], &["db_b"]))
            .ok()
            .flatten()
            .expect("accepted");
        assert_eq!(ok.fetch, ["db_a", "db_c"]);
        assert_eq!(ok.gone, ["db_b"]);
        assert!(matches!(check(GuestChanges::Unknown), Ok(None)));
        for (changes, problem) in [
            (known(&["api"], &[], &[]), "does not hold"),
            (known(&[], &[], &["api"]), "does not hold"),
            (known(&[], &["db_a"], &[]), "held or matches no pattern"),
            (known(&[], &["api"], &[]), "held or matches no pattern"),
            (known(&["db_a"], &[], &["db_a"]), "twice"),
            (known(&[], &[], &["db_b", "db_b"]), "twice"),
            (
                known(&["db_a", "db_b"], &["db_c", "db_d"], &[]),
                "names in one reply",
            ),
        ] {
            let message = refusal(check(changes));
            assert!(message.contains(problem), "{message}");
        }
    }

    #[test]
    fn an_over_long_version_is_dropped_and_an_over_large_value_refused() {
        let value = GuestValue {
            value: GuestBytes::Bytes(vec![1, 2, 3]),
            version: Some("v".repeat(MAX_VERSION_BYTES + 1)),
        };
        let (stored, version) = checked_value(value).ok().expect("kept");
        assert_eq!(stored.expose_bytes(), [1, 2, 3]);
        assert_eq!(version, None);
        let large = GuestValue {
            value: GuestBytes::Bytes(vec![0; MAX_VALUE_BYTES + 1]),
            version: None,
        };
        assert!(refusal(checked_value(large)).contains("bytes"));
    }
}
