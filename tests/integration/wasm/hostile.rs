//! A guest that misbehaves costs one backend error, within the time limit;
//! the manager keeps serving every other backend, and the same Wasm
//! backend serves again (from a fresh instance) once the behaviour stops.

use std::time::{Duration, Instant};

use pp_secrets::{ErrorKind, SecretsManager};

use super::{guest, manager, wasm_backend};
use crate::support::ExposeText;
use crate::support::{block_on, fixture};

/// The time limit of the hostile backend in the tests of the time limit.
const LIMIT_MS: u64 = 500;
/// The time limit in the other tests: roomy, because a debug build on a
/// busy machine is slow, and they test something else.
const ROOMY_MS: u64 = 20_000;
/// A call cut off at the limit returns well within this; one that was not
/// cut off would run for an hour (or for ever).
const CUT_OFF_WITHIN: Duration = Duration::from_secs(10);

/// A manager with the hostile guest (`memory_mb` as given, a roomy time
/// limit) next to a native file backend.
fn hostile_manager(memory_mb: u64) -> Option<SecretsManager> {
    hostile_manager_with(memory_mb, ROOMY_MS)
}

fn hostile_manager_with(memory_mb: u64, timeout_ms: u64) -> Option<SecretsManager> {
    let hostile = guest("hostile")?;
    let extra = format!("      limits: {{ timeout_ms: {timeout_ms}, memory_mb: {memory_mb} }}\n");
    Some(manager(&format!(
        "  backends:\n{}    local:\n      type: file\n      path: {:?}\n",
        wasm_backend("hostile", &hostile, &extra),
        fixture("basic/secrets.yaml").display().to_string()
    )))
}

/// Asks for `hostile:<behaviour>`, expects a backend error that names the
/// backend and contains `expected`, within the limit; then checks that the
/// manager and the hostile backend both still serve.
fn assert_contained(behaviour: &str, memory_mb: u64, timeout_ms: u64, expected: &str) {
    let Some(secrets) = hostile_manager_with(memory_mb, timeout_ms) else {
        return;
    };
    block_on(async {
        let started = Instant::now();
        let error = secrets
            .get(&format!("hostile:{behaviour}"))
            .await
            .expect_err("the hostile call fails");
        let elapsed = started.elapsed();
        assert_eq!(error.kind(), ErrorKind::Backend, "{error}");
        let message = error.to_string();
        assert!(message.contains("backend \"hostile\""), "{message}");
        assert!(message.contains(expected), "{message}");
        if timeout_ms == LIMIT_MS {
            assert!(elapsed < CUT_OFF_WITHIN, "took {elapsed:?}");
        }

        let native = secrets
            .get("local:db_host")
            .await
            .expect("the file backend serves");
        assert_eq!(native.as_text(), Some("localhost"));
        let again = secrets
            .get_raw("hostile:ok")
            .await
            .expect("the wasm backend serves again");
        assert_eq!(again.expose(), "value-of-ok");
    });
}

#[test]
fn a_guest_that_loops_is_stopped_at_the_time_limit() {
    assert_contained(
        "loop",
        64,
        LIMIT_MS,
        &format!("did not answer within {LIMIT_MS} ms"),
    );
}

#[test]
fn a_guest_waiting_in_a_host_call_is_stopped_at_the_time_limit() {
    assert_contained(
        "sleep",
        64,
        LIMIT_MS,
        &format!("did not answer within {LIMIT_MS} ms"),
    );
}

#[test]
fn a_guest_that_overflows_its_stack_is_a_backend_error() {
    assert_contained("recurse", 64, ROOMY_MS, "stack overflow");
}

#[test]
fn a_guest_that_allocates_past_the_limit_is_out_of_memory() {
    assert_contained(
        "allocate",
        64,
        ROOMY_MS,
        "ran out of memory (limits.memory_mb = 64)",
    );
}

#[test]
fn a_guest_that_panics_is_a_backend_error() {
    assert_contained("panic", 64, ROOMY_MS, "panicked");
}

#[test]
fn a_100_mb_value_is_refused() {
    // Enough memory for the guest to build the string: the host must refuse
    // it, not the allocator, and before copying it.
    assert_contained(
        "huge",
        512,
        ROOMY_MS,
        "more data than the host accepts from one call (a value: 1048576 bytes",
    );
}

#[test]
fn a_3_mb_value_is_refused_before_it_is_copied() {
    // Under every reply cap but the value's: a get's own allowance stops it.
    assert_contained(
        "big",
        64,
        ROOMY_MS,
        "more data than the host accepts from one call (a value: 1048576 bytes",
    );
}

#[test]
fn a_100_mb_value_within_the_default_memory_limit_is_out_of_memory() {
    assert_contained("huge", 64, ROOMY_MS, "ran out of memory");
}

/// How many calls the instance now serving `hostile:` has served.
async fn instance_calls(secrets: &SecretsManager) -> String {
    let calls = secrets.get_raw("hostile:calls").await.expect("served");
    calls.expose().to_owned()
}

#[test]
fn a_refused_allocation_the_guest_handles_is_not_an_error() {
    let Some(secrets) = hostile_manager(64) else {
        return;
    };
    block_on(async {
        let got = secrets
            .get_raw("hostile:try-allocate")
            .await
            .expect("served");
        assert_eq!(got.expose(), "false");
        // Same instance: nothing trapped.
        assert_eq!(instance_calls(&secrets).await, "2");
    });
}

#[test]
fn a_fresh_instance_replaces_one_that_trapped() {
    let Some(secrets) = hostile_manager(64) else {
        return;
    };
    block_on(async {
        assert_eq!(instance_calls(&secrets).await, "1");
        assert_eq!(instance_calls(&secrets).await, "2");
        secrets.get_raw("hostile:panic").await.expect_err("traps");
        assert_eq!(
            instance_calls(&secrets).await,
            "1",
            "a new instance after the trap"
        );
    });
}

#[test]
fn guest_error_messages_are_escaped_and_capped() {
    let Some(secrets) = hostile_manager(64) else {
        return;
    };
    let error = block_on(secrets.get("hostile:shout")).expect_err("fails");
    let message = error.to_string();
    assert!(
        !message.contains('\u{1b}') && !message.contains('\n'),
        "{message:?}"
    );
    assert!(message.contains("\\u{1b}[31mALERT"), "{message}");
    assert!(message.len() < 2_000, "{} bytes", message.len());
    assert!(message.contains("more bytes)"), "{message}");
}

#[test]
fn a_guest_flooding_stderr_still_answers() {
    let Some(secrets) = hostile_manager(64) else {
        return;
    };
    let got = block_on(secrets.get_raw("hostile:flood")).expect("served");
    assert_eq!(got.expose(), "flooded");
}

#[test]
fn names_outside_the_pattern_are_refused() {
    let Some(secrets) = hostile_manager(64) else {
        return;
    };
    block_on(async {
        let error = secrets.list("hostile:garbage*").await.expect_err("refused");
        assert_eq!(error.kind(), ErrorKind::Backend);
        assert!(error.to_string().contains("does not match"), "{error}");
        let error = secrets
            .load_declarations(&["hostile:garbage*".to_owned()])
            .await;
        assert!(error.is_err(), "a load of garbage names fails");
        let names = secrets.list("hostile:*").await.expect("listed");
        assert_eq!(names, ["calls", "ok"]);
    });
}

#[test]
fn a_failing_setup_fails_every_call_with_its_reason() {
    let Some(hostile) = guest("hostile") else {
        return;
    };
    let secrets = manager(&format!(
        "  backends:\n{}",
        wasm_backend("hostile", &hostile, "      config: { fail_setup: 'yes' }\n")
    ));
    for _ in 0..2 {
        let error = block_on(secrets.get("hostile:ok")).expect_err("setup fails");
        assert!(
            error
                .to_string()
                .contains("setup failed: setup refused on purpose"),
            "{error}"
        );
    }
}

#[test]
fn calls_from_many_tasks_at_once_are_served() {
    let Some(secrets) = hostile_manager(64) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let tasks: Vec<tokio::task::JoinHandle<pp_secrets::Result<()>>> = (0..64)
            .map(|i| {
                let secrets = secrets.clone();
                tokio::spawn(async move {
                    let name = format!("task-{i}");
                    let got = secrets.get_raw(&format!("hostile:{name}")).await?;
                    assert_eq!(got.expose(), format!("value-of-{name}"));
                    // One in eight traps; the others must not notice.
                    if i % 8 == 0 {
                        assert!(secrets.get_raw("hostile:panic").await.is_err());
                    }
                    Ok(())
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task ran").expect("served");
        }
    });
}
