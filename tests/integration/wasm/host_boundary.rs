//! The sandbox at the host boundary: what a guest makes the host do on its
//! behalf stays bounded. Files that are not regular files (FIFOs, device
//! nodes, a file swapped for a FIFO) are refused at once instead of
//! blocking the host; open files and host handles are capped per instance,
//! so a guest that hoards them cannot starve another backend.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pp_secrets::ErrorKind;

use super::{guest, manager, serving_dir, shared_cache, wasm_backend};
use crate::support::ExposeText;
use crate::support::{Run, block_on, cli, with_causes};

/// A call that was not stopped would hang for ever; one that was ends well
/// within this.
const ENDS_WITHIN: Duration = Duration::from_secs(20);

/// Makes a FIFO at `path`.
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// `pp-secrets -c <config> <args>` under `prlimit` options `limits`, killed
/// (and the test failed) if it runs past [`ENDS_WITHIN`].
pub(super) fn run_bounded(config: &Path, args: &[&str], limits: &[&str]) -> Run {
    let binary = cli().get_program().to_owned();
    let mut command = cli();
    if !limits.is_empty() {
        command = Command::new("prlimit");
        command
            .env_clear()
            .envs(cli().get_envs().filter_map(|(k, v)| Some((k, v?))));
        command.args(limits).arg("--").arg(binary);
    }
    let mut child = spawn_piped(command, config, args);
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > ENDS_WITHIN {
            let _ = child.kill();
            panic!("pp-secrets {args:?} hung past {ENDS_WITHIN:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output").into()
}

/// `command --config <config> <args>` started, its stdout and stderr piped.
pub(super) fn spawn_piped(mut command: Command, config: &Path, args: &[&str]) -> Child {
    command
        .arg("--config")
        .arg(config)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pp-secrets runs")
}

/// A config file in `dir` with the hostile provider granted `dir` (with
/// `limits`) and a `file` backend `local` reading `dir/secrets.yaml`.
pub(super) fn hostile_config(dir: &Path, limits: &str) -> Option<PathBuf> {
    let hostile = guest("hostile")?;
    let settings = format!(
        "      allow: {{ dirs: [{:?}] }}\n      limits: {limits}\n",
        dir.display().to_string()
    );
    std::fs::write(dir.join("secrets.yaml"), "api_key: boundary-value\n").expect("write");
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "secrets:\n  enabled: true\n  wasm_cache: {:?}\n  backends:\n{}    local:\n      \
             type: file\n      path: secrets.yaml\n",
            shared_cache().display().to_string(),
            wasm_backend("hostile", &hostile, &settings)
        ),
    )
    .expect("write config");
    Some(config)
}

/// The hostile guest of `config` reading `file`: refused at once, a
/// backend error (exit 3) that says the guest was denied.
#[track_caller]
fn reading_is_refused(config: &Path, file: &Path) {
    let run = run_bounded(
        config,
        &["get", &format!("hostile:file:{}", file.display())],
        &[],
    );
    run.expect_code(3);
    assert!(run.stderr.contains("Permission denied"), "{}", run.stderr);
}

#[test]
fn a_fifo_in_a_granted_directory_is_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(config) = hostile_config(dir.path(), "{ timeout_ms: 500 }") else {
        return;
    };
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    reading_is_refused(&config, &fifo);
}

#[test]
fn a_device_node_in_a_granted_directory_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(config) = hostile_config(dir.path(), "{ timeout_ms: 2000 }") else {
        return;
    };
    // A node like /dev/zero, which a reader would read for ever.
    let zero = dir.path().join("zero");
    let made = Command::new("mknod")
        .arg(&zero)
        .args(["c", "1", "5"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !made {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "mknod needs root, which CI has"
        );
        eprintln!("\n*** SKIPPING: mknod needs root ***\n");
        return;
    }
    reading_is_refused(&config, &zero);
}

#[test]
fn a_secret_swapped_for_a_fifo_never_hangs_the_dir_provider() {
    let Some(dir_provider) = guest("dir") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (secret, regular, fifo) = (
        dir.path().join("token"),
        dir.path().join(".regular"),
        dir.path().join(".fifo"),
    );
    std::fs::write(&secret, "swap-value").expect("write");
    let secrets = Arc::new(manager(&format!(
        "  backends:\n{}",
        wasm_backend(
            "mounted",
            &dir_provider,
            &format!(
                "{}      limits: {{ timeout_ms: 500 }}\n",
                serving_dir(dir.path())
            )
        )
    )));
    // Swap the name between a regular file and a FIFO as fast as possible.
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = Arc::clone(&stop);
        let secret = secret.clone();
        std::thread::spawn(move || {
            let mut swaps = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::write(&regular, "swap-value");
                let _ = std::fs::rename(&regular, &secret);
                mkfifo(&fifo);
                let _ = std::fs::rename(&fifo, &secret);
                swaps += 1;
            }
            swaps
        })
    };
    let (done, finished) = std::sync::mpsc::channel();
    let reader = {
        let secrets = Arc::clone(&secrets);
        std::thread::spawn(move || {
            let mut served = 0;
            for _ in 0..300 {
                if let Ok(value) = block_on(secrets.get_raw("mounted:token")) {
                    assert_eq!(value.expose(), "swap-value");
                    served += 1;
                }
                secrets.invalidate("mounted:token");
            }
            let _ = done.send(served);
        })
    };
    let served = finished.recv_timeout(ENDS_WITHIN);
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().expect("swapper");
    let served = served.expect("every get ended: none hung on the FIFO");
    reader.join().expect("reader");
    assert!(swaps > 0);
    eprintln!("{served} of 300 gets served during {swaps} swaps");
}

#[test]
fn a_guest_hoarding_files_cannot_starve_another_backend() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(config) = hostile_config(dir.path(), "{ open_files: 8 }") else {
        return;
    };
    let target = dir.path().join("secrets.yaml");
    let template = dir.path().join("template.yaml");
    std::fs::write(
        &template,
        format!(
            "hoarded: ${{secret://hostile:hoard:1000:{}}}\nagain: \
             ${{secret://hostile:hoard:1000:{}/./secrets.yaml}}\nkey: \
             ${{secret://local:api_key}}\n",
            target.display(),
            dir.path().display()
        ),
    )
    .expect("write template");
    // Few enough descriptors that an uncapped hoard would take them all.
    let run = run_bounded(
        &config,
        &["render", &template.display().to_string()],
        &["--nofile=128:128"],
    );
    run.expect_code(0);
    assert!(run.stdout.contains("hoarded 8, then:"), "{}", run.stdout);
    // The same instance still holds its 8: it gets none more.
    assert!(run.stdout.contains("hoarded 0, then:"), "{}", run.stdout);
    assert!(run.stdout.contains("key: boundary-value"), "{}", run.stdout);
}

#[test]
fn a_guest_at_its_handle_cap_costs_one_call() {
    let Some(hostile) = guest("hostile") else {
        return;
    };
    let secrets = manager(&format!(
        "  backends:\n{}    env: {{}}\n",
        wasm_backend(
            "hostile",
            &hostile,
            "      limits: { handles: 64, instances: 1 }\n"
        )
    ));
    let kept = block_on(secrets.get_raw("hostile:pollables:10")).expect("under the cap");
    assert_eq!(kept.expose(), "kept 10");
    let error = block_on(secrets.get_raw("hostile:pollables:1000")).expect_err("over the cap");
    assert_eq!(error.kind(), ErrorKind::Backend, "{error}");
    // A fresh instance serves the next call; other backends never noticed.
    let kept = block_on(secrets.get_raw("hostile:pollables:1")).expect("fresh instance");
    assert_eq!(kept.expose(), "kept 1");
    assert!(block_on(secrets.get_raw("env:PATH")).is_ok());
}

#[test]
fn procfs_mounted_inside_a_granted_directory_is_not_readable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(config) = hostile_config(dir.path(), "{ timeout_ms: 2000 }") else {
        return;
    };
    let mount_point = dir.path().join("p");
    std::fs::create_dir(&mount_point).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "proc", "proc"])
        .arg(&mount_point)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("\n*** SKIPPING: mounting procfs needs root and CAP_SYS_ADMIN ***\n");
        return;
    }
    let read = std::panic::catch_unwind(|| {
        reading_is_refused(&config, &mount_point.join("self/environ"));
    });
    let _ = Command::new("umount").arg(&mount_point).status();
    if let Err(failure) = read {
        std::panic::resume_unwind(failure);
    }
}

#[test]
fn run_wasm_refuses_to_grant_procfs() {
    let Some(probe) = guest("probe") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "secrets:\n  enabled: true\n").expect("write");
    let run = run_bounded(
        &config,
        &[
            "run-wasm",
            &probe.display().to_string(),
            "--allow-dir",
            "/proc/self",
            "--",
            "read",
            "/proc/self/environ",
        ],
        &[],
    );
    run.expect_code(2);
    assert!(run.stderr.contains("is on procfs"), "{}", run.stderr);
}

/// A manager with the hostile provider under `limits` and a load
/// declaration `declaration`.
fn loading(declaration: &str, limits: &str) -> Option<pp_secrets::SecretsManager> {
    let hostile = guest("hostile")?;
    Some(manager(&format!(
        "  backends:\n{}  load: [{declaration:?}]\n",
        wasm_backend("hostile", &hostile, &format!("      limits: {limits}\n"))
    )))
}

#[test]
fn a_bulk_reply_naming_a_secret_twice_is_refused_and_costs_the_instance() {
    let Some(secrets) = loading("hostile:twice*", "{ instances: 1 }") else {
        return;
    };
    let error = block_on(secrets.load()).expect_err("refused");
    assert_eq!(error.kind(), ErrorKind::Backend, "{error}");
    let message = with_causes(&error);
    assert!(
        message.contains("cannot list its secrets: ")
            && message.contains("the name \"twice\" twice in one reply"),
        "{message}"
    );
    let calls = block_on(secrets.get_raw("hostile:calls")).expect("serves");
    assert_eq!(calls.expose(), "1", "a fresh instance after the refusal");
}

#[test]
fn a_reply_past_max_names_is_refused_and_costs_the_instance() {
    let Some(secrets) = loading("hostile:many*", "{ instances: 1, max_names: 100 }") else {
        return;
    };
    let error = block_on(secrets.load()).expect_err("refused");
    let message = with_causes(&error);
    assert!(
        message.contains("1000 names in one reply (limits.max_names = 100)"),
        "{message}"
    );
    let calls = block_on(secrets.get_raw("hostile:calls")).expect("serves");
    assert_eq!(calls.expose(), "1", "a fresh instance after the refusal");
    let listed = block_on(secrets.list("hostile:many*")).expect_err("list is capped too");
    assert!(listed.to_string().contains("limits.max_names"), "{listed}");
}

#[test]
fn directory_listings_count_in_memory_mb_while_they_are_held() {
    let dir = tempfile::tempdir().expect("tempdir");
    // About 1 MiB of listing: 4000 names of 200 bytes.
    for i in 0..4_000 {
        std::fs::write(dir.path().join(format!("{i:0>200}")), "").expect("write");
    }
    let limits = "{ memory_mb: 24, instances: 1, timeout_ms: 20000 }";
    let Some(config) = hostile_config(dir.path(), limits) else {
        return;
    };
    let asked = format!("hostile:listings:100:{}", dir.path().display());
    // In one process, where the instance keeps its listings across calls.
    let secrets = pp_secrets::SecretsManager::from_config(
        &pp_secrets::ConfigDocument::from_file(&config)
            .expect("config")
            .secrets,
    )
    .expect("manager");
    let listed = |name: &str| -> String {
        block_on(secrets.get_raw(name))
            .expect("the guest handles the refusal")
            .expose()
            .to_owned()
    };
    let held = listed(&asked);
    let count = counted(&held, "listed ");
    assert!(
        (1..100).contains(&count) && held.contains("insufficient-memory"),
        "the budget stops the listings, not the handle cap: {held}"
    );
    assert_eq!(listed("hostile:drop-listings"), format!("dropped {count}"));
    assert_eq!(
        listed(&asked.replace(":100:", &format!(":{count}:"))),
        format!("listed {count}"),
        "dropped listings give their memory back"
    );
    assert_eq!(
        block_on(secrets.get_raw("local:api_key"))
            .expect("serves")
            .expose(),
        "boundary-value"
    );
}

#[test]
fn a_flood_of_names_is_refused_before_it_is_copied() {
    let Some(secrets) = loading(
        "hostile:flood*",
        "{ instances: 1, max_names: 1000, max_reply_mb: 1 }",
    ) else {
        return;
    };
    for error in [
        block_on(secrets.load()).expect_err("refused"),
        block_on(secrets.list("hostile:flood*")).expect_err("refused"),
    ] {
        assert_eq!(error.kind(), ErrorKind::Backend, "{error}");
        let message = with_causes(&error);
        // Counting the names would mean they had been copied.
        assert!(
            message.contains("refused before it was copied") && !message.contains("300000"),
            "{message}"
        );
    }
    let calls = block_on(secrets.get_raw("hostile:calls")).expect("serves");
    assert_eq!(calls.expose(), "1", "a fresh instance after the refusal");
}

/// What the hostile provider, granted a server that never answers and
/// held to `limits`, says after sending `requests` requests to it and
/// keeping them (`refused R`: how many the host refused), with how many
/// connections the server saw.
/// A manager with the hostile provider alone, granted `server` and held
/// to `limits`.
fn hostile_granted(
    server: &super::http_server::TestServer,
    limits: &str,
) -> Option<pp_secrets::SecretsManager> {
    let hostile = guest("hostile")?;
    Some(manager(&format!(
        "  backends:\n{}",
        wasm_backend(
            "hostile",
            &hostile,
            &format!(
                "      allow: {{ hosts: [{:?}] }}\n      limits: {limits}\n",
                server.authority()
            )
        )
    )))
}

/// The count in a guest's `answer` that starts with `prefix`: the number
/// after it, up to a comma or the end.
fn counted(answer: &str, prefix: &str) -> usize {
    answer
        .strip_prefix(prefix)
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected answer {answer:?}"))
}

fn holding_http(requests: usize, limits: &str) -> Option<(usize, usize)> {
    let server = super::http_server::TestServer::start(super::http_server::Reply::Hang);
    let secrets = hostile_granted(&server, limits)?;
    let asked = format!("hostile:hold-http:{requests}:{}", server.authority());
    let answer = block_on(secrets.get_raw(&asked)).expect("the guest handles the refusals");
    let refused = counted(answer.expose(), "refused ");
    std::thread::sleep(Duration::from_millis(200));
    Some((refused, server.connections()))
}

#[test]
fn a_guest_holding_http_connections_stops_at_open_files() {
    let Some((refused, seen)) = holding_http(20, "{ open_files: 4, instances: 1 }") else {
        return;
    };
    assert_eq!(refused, 16);
    // The server never saw more than the cap: 4 connections, not 20.
    assert_eq!(seen, 4);
}

#[test]
fn http_connections_count_in_memory_mb() {
    // Room for 16 connections by open_files, but 1 MiB of buffers each
    // does not fit 12 MiB beside the guest's own memory.
    let Some((refused, seen)) = holding_http(12, "{ memory_mb: 12, instances: 1 }") else {
        return;
    };
    assert!((1..12).contains(&refused), "refused {refused}");
    assert_eq!(seen, 12 - refused);
}

/// A manager with the hostile provider alone, held to `limits`.
fn hostile_alone(limits: &str) -> Option<pp_secrets::SecretsManager> {
    let hostile = guest("hostile")?;
    Some(manager(&format!(
        "  backends:\n{}",
        wasm_backend("hostile", &hostile, &format!("      limits: {limits}\n"))
    )))
}

#[test]
fn header_fields_count_in_memory_mb_while_they_are_held() {
    // 512 KiB charged for each set of fields: 100 do not fit 16 MiB, far
    // below the handle cap; 20 fit, twice only if the first 20 are given
    // back.
    let Some(secrets) = hostile_alone("{ memory_mb: 16, handles: 1000, instances: 1 }") else {
        return;
    };
    let error = block_on(secrets.get_raw("hostile:fields:100")).expect_err("over the budget");
    assert_eq!(error.kind(), ErrorKind::Backend, "{error}");
    assert!(
        error
            .to_string()
            .contains("ran out of memory (limits.memory_mb = 16)"),
        "{error}"
    );
    let answer = |name: &str| -> String {
        block_on(secrets.get_raw(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .expose()
            .to_owned()
    };
    assert_eq!(
        answer("hostile:calls"),
        "1",
        "a fresh instance after the refusal"
    );
    assert_eq!(answer("hostile:fields:20"), "kept 20");
    assert_eq!(answer("hostile:drop-fields"), "dropped 20");
    assert_eq!(
        answer("hostile:fields:20"),
        "kept 20",
        "dropped fields give their memory back"
    );
}

#[test]
fn request_bodies_count_in_memory_mb_while_they_are_held() {
    // 512 KiB charged for each request (its headers): 16 fit 16 MiB; with
    // a body each (its buffers and room for trailers, 704 KiB more) they
    // do not, far below the handle cap, and the guest is told so by
    // `body`.
    let Some(secrets) = hostile_alone("{ memory_mb: 16, handles: 1000, instances: 1 }") else {
        return;
    };
    let answer = block_on(secrets.get_raw("hostile:bodies:16")).expect("the guest handles it");
    let made = counted(answer.expose(), "bodies ");
    assert!(
        (1..16).contains(&made) && answer.expose().ends_with(", then refused"),
        "bodies {made}"
    );
}

#[test]
fn response_heads_count_in_memory_mb_while_they_are_held() {
    // Each response is read to its end, so its connection closes and
    // gives back its charge (and its open_files slot: more than 8
    // responses are kept); the head (512 KiB charged) stays with the
    // response the guest keeps: 40 do not fit 16 MiB, far below the
    // handle cap. The refusal is the response's, or the next connection's
    // when its buffers no longer fit.
    let server = super::http_server::TestServer::start(super::http_server::Reply::Text("ok"));
    let limits = "{ memory_mb: 16, open_files: 8, handles: 1000, instances: 1 }";
    let Some(secrets) = hostile_granted(&server, limits) else {
        return;
    };
    let asked = format!("hostile:responses:40:{}", server.authority());
    let answer = block_on(secrets.get_raw(&asked)).expect("the guest handles the refusal");
    let answer = answer.expose();
    let got = counted(answer, "responses ");
    assert!(
        (9..40).contains(&got)
            && (answer.contains("does not fit limits.memory_mb")
                || answer.contains("ConnectionLimitReached")),
        "{answer}"
    );
}

#[test]
fn the_handle_table_is_reserved_in_memory_mb() {
    // 65536 handles reserve 16 MiB (256 bytes each): more than 8 MiB is a
    // config error; beside 24 MiB it leaves too little for 12 sets of
    // fields (6 MiB), which would fit without the reservation.
    let Some(hostile) = guest("hostile") else {
        return;
    };
    let yaml = format!(
        "secrets:\n  backends:\n{}",
        wasm_backend(
            "hostile",
            &hostile,
            "      limits: { memory_mb: 8, handles: 65536 }\n"
        )
    );
    let error = pp_secrets::SecretsManager::from_yaml_str(&yaml, ".").expect_err("too small");
    assert!(
        error
            .to_string()
            .contains("65536 handles reserve 16384 KiB of memory_mb (8 MiB), more than all of it"),
        "{error}"
    );
    let Some(secrets) = hostile_alone("{ memory_mb: 24, handles: 65536, instances: 1 }") else {
        return;
    };
    let answer = |asked: &str| block_on(secrets.get_raw(asked));
    assert_eq!(answer("hostile:fields:4").expect("fits").expose(), "kept 4");
    let error = answer("hostile:fields:12").expect_err("the table's share is taken");
    assert!(
        error
            .to_string()
            .contains("ran out of memory (limits.memory_mb = 24)"),
        "{error}"
    );
}

#[test]
fn views_of_a_message_s_headers_count_in_memory_mb() {
    // Each view shares the request's 100 KB header map and keeps it alive
    // after the request is dropped: 512 KiB charged each, so 100 views do
    // not fit 16 MiB, far below the handle cap.
    let Some(secrets) = hostile_alone("{ memory_mb: 16, handles: 1000, instances: 1 }") else {
        return;
    };
    let error = block_on(secrets.get_raw("hostile:header-views:100")).expect_err("over");
    assert!(
        error
            .to_string()
            .contains("ran out of memory (limits.memory_mb = 16)"),
        "{error}"
    );
    assert_eq!(
        block_on(secrets.get_raw("hostile:header-views:10"))
            .expect("fits")
            .expose(),
        "kept 10"
    );
}

#[test]
fn a_request_s_method_authority_and_path_are_capped() {
    let Some(secrets) = hostile_alone("{ instances: 1 }") else {
        return;
    };
    let set = |asked: &str| -> String {
        block_on(secrets.get_raw(&format!("hostile:long:{asked}")))
            .unwrap_or_else(|e| panic!("{asked}: {e}"))
            .expose()
            .to_owned()
    };
    for (part, fits, too_long) in [
        ("method", 64, 65),
        ("authority", 261, 262),
        // The path is `/` and the letters.
        ("path", 16383, 16384),
    ] {
        assert_eq!(set(&format!("{part}:{fits}")), "set", "{part}");
        assert_eq!(set(&format!("{part}:{too_long}")), "refused", "{part}");
    }
}

#[test]
fn request_options_given_to_handle_do_not_hold_handles() {
    // wasmtime reads the options and leaves them in the table; 100
    // requests would fill 32 handles with them.
    let Some(secrets) = hostile_alone("{ handles: 32, instances: 1 }") else {
        return;
    };
    assert_eq!(
        block_on(secrets.get_raw("hostile:options:100"))
            .expect("no handle is kept")
            .expose(),
        "sent 100"
    );
}

#[test]
fn an_answer_not_yet_claimed_keeps_its_connection_counted() {
    // An empty body: the connection closes as soon as the head arrives,
    // but the unclaimed answers still hold what it read, so they keep
    // their open_files slots: the fifth request is refused.
    let server = super::http_server::TestServer::start(super::http_server::Reply::Text(""));
    let Some(secrets) = hostile_granted(&server, "{ open_files: 4, instances: 1 }") else {
        return;
    };
    let asked = format!("hostile:unclaimed:5:{}", server.authority());
    let answer = block_on(secrets.get_raw(&asked)).expect("the guest handles it");
    assert!(
        answer.expose().contains("ConnectionLimitReached"),
        "{:?}",
        answer.expose()
    );
}
