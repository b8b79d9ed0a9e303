//! A test app: runs the commands on its command line in order, printing
//! one line per command, `COMMAND ARG: RESULT`, so tests can check what
//! the host let it see. Values are printed: the tests' secrets are fake.
//! Text is printed as it is (`get`, `maybe`: `text:VALUE` or
//! `object:JSON`; `raw`: the text alone); bytes as `bytes:HEX`, lowercase
//! hex.
//!
//! Commands (each takes the next argument, if any):
//! `get KEY`, `maybe KEY`, `raw KEY`, `list PATTERN`, `invalidate KEY`
//! (manager interface); `config KEY`, `config-all` (wasi:config/store);
//! `repeat N:KEY` (N gets, printing nothing: the benchmark); `env VAR`,
//! `read PATH`, `http URL`; `loop`, `allocate MIB`, `panic`, `exit CODE`.

use std::hint::black_box;

use pp_secrets_guest::app::{self, Secret};
use pp_secrets_guest::http::Request;
use pp_secrets_guest::{Error, StoredValue};

/// Bindings of the standard `wasi:config/store` interface.
mod config {
    wit_bindgen::generate!({
        path: "../../../wit/deps/wasi-config",
        world: "wasi:config/imports",
        generate_all,
    });
}

use config::wasi::config::store;

fn main() {
    let mut args = std::env::args().skip(1);
    while let Some(command) = args.next() {
        let arg = if matches!(command.as_str(), "config-all" | "loop" | "panic") {
            String::new()
        } else {
            args.next().unwrap_or_default()
        };
        let result = run(&command, &arg);
        println!("{command} {arg}: {result}");
    }
}

fn run(command: &str, arg: &str) -> String {
    match command {
        "get" => shown(app::get(arg).map(|s| secret(&s))),
        "maybe" => shown(app::get_or_none(arg).map(|s| s.map_or("none".into(), |s| secret(&s)))),
        "raw" => shown(app::get_raw(arg).map(|value| match value {
            StoredValue::Text(text) => text,
            StoredValue::Bytes(bytes) => format!("bytes:{}", hex(&bytes)),
        })),
        "list" => shown(app::list(arg).map(|names| names.join(","))),
        "invalidate" => shown(app::invalidate(arg).map(|()| "ok".to_owned())),
        "config" => match store::get(arg) {
            Ok(Some(value)) => format!("some:{value}"),
            Ok(None) => "none".into(),
            Err(e) => config_error(e),
        },
        "config-all" => match store::get_all() {
            Ok(all) => all
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(";"),
            Err(e) => config_error(e),
        },
        "repeat" => {
            let (count, key) = arg.split_once(':').unwrap_or(("0", arg));
            let count: u64 = count.parse().unwrap_or(0);
            for _ in 0..count {
                black_box(app::get(black_box(key)).ok());
            }
            "done".into()
        }
        "http" => shown(
            Request::get(arg)
                .and_then(Request::send)
                .map(|r| format!("status {}", r.status)),
        ),
        "env" => std::env::var(arg).unwrap_or_else(|_| "unset".into()),
        "read" => match std::fs::read_to_string(arg) {
            Ok(text) => format!("read:{}", text.trim()),
            Err(e) => format!("denied:{e}"),
        },
        "loop" => loop {
            black_box(());
        },
        "allocate" => {
            let mib: usize = arg.parse().unwrap_or(0);
            let block = black_box(vec![1u8; mib << 20]);
            format!("allocated {}", block.len())
        }
        "panic" => panic!("the probe was asked to panic"),
        "exit" => app::exit(arg.parse().unwrap_or(1)),
        other => format!("unknown command {other}"),
    }
}

fn secret(value: &Secret) -> String {
    match value {
        Secret::Text(text) => format!("text:{text}"),
        Secret::Object(_) => format!(
            "object:{}",
            String::from_utf8_lossy(&value.clone().into_bytes())
        ),
        Secret::Bytes(bytes) => format!("bytes:{}", hex(bytes)),
    }
}

/// `bytes` as lowercase hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn shown(result: Result<String, Error>) -> String {
    match result {
        Ok(text) => text,
        Err(Error::NotFound(m)) => format!("error:not-found:{m}"),
        Err(Error::AccessDenied(m)) => format!("error:access-denied:{m}"),
        Err(Error::Backend(m)) => format!("error:backend:{m}"),
    }
}

fn config_error(error: store::Error) -> String {
    match error {
        store::Error::Upstream(m) => format!("error:upstream:{m}"),
        store::Error::Io(m) => format!("error:io:{m}"),
    }
}
