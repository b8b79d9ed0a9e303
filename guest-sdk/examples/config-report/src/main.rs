//! An app that knows nothing of pp-secrets: it uses only the standard
//! `wasi:config/store` interface, so it runs under any host that serves
//! it. Under `pp-secrets run-wasm` a key is `backend:name`, and the app
//! sees only what its `--allow` patterns name.
//!
//! With keys as arguments it reports, for each, whether it is set and how
//! long it is; with `--all` it does the same for every key the host gives
//! it. It never prints a value.
//!
//! ```text
//! cargo build --release --target wasm32-wasip2 -p pp-secrets-example-config-report
//! pp-secrets run-wasm target/wasm32-wasip2/release/pp-secrets-example-config-report.wasm \
//!     --allow 'env:APP_*' -- --all
//! ```

use std::process::ExitCode;

/// Bindings of the standard `wasi:config/store` interface.
mod config {
    wit_bindgen::generate!({
        path: "../../../wit/deps/wasi-config",
        world: "wasi:config/imports",
        generate_all,
    });
}

use config::wasi::config::store;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.is_empty() {
        eprintln!("usage: config-report --all | KEY...");
        return ExitCode::from(2);
    } else if args == ["--all"] {
        store::get_all().map(|all| {
            for (key, value) in all {
                println!("{key}: set ({} characters)", value.len());
            }
        })
    } else {
        args.iter().try_for_each(|key| {
            match store::get(key)? {
                Some(value) => println!("{key}: set ({} characters)", value.len()),
                None => println!("{key}: not set"),
            }
            Ok(())
        })
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(store::Error::Upstream(message) | store::Error::Io(message)) => {
            eprintln!("config-report: {message}");
            ExitCode::from(1)
        }
    }
}
