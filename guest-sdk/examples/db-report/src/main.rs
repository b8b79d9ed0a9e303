//! An app built with the guest SDK. It reads a database secret (a JSON
//! object with `host`, `port`, `user`, `password`, `dbname`) and an
//! optional API token from the host, and reports what it would connect
//! to, without printing either secret.
//!
//! Build and run it:
//!
//! ```text
//! cargo build --release --target wasm32-wasip2 -p pp-secrets-example-db-report
//! pp-secrets -c config.yaml run-wasm \
//!     target/wasm32-wasip2/release/pp-secrets-example-db-report.wasm \
//!     --allow local:database --allow env:API_TOKEN -- local:database env:API_TOKEN
//! ```
//!
//! Exit codes: 0 done, 2 usage, 3 a secret could not be read, 4 denied.

use pp_secrets_guest::{Error, app};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [database, token] = args.as_slice() else {
        eprintln!("usage: db-report DATABASE_KEY TOKEN_KEY");
        app::exit(2);
    };
    if let Err(e) = report(database, token) {
        eprintln!("db-report: {e}");
        app::exit(if e.is_access_denied() { 4 } else { 3 });
    }
}

fn report(database: &str, token: &str) -> Result<(), Error> {
    let db = app::get_object(database)?;
    let field = |name: &str| db.get(name).and_then(|v| v.as_str()).unwrap_or("?");
    let port = db.get("port").and_then(|v| v.as_u64()).unwrap_or(5432);
    let password_len = db
        .get("password")
        .and_then(|v| v.as_str())
        .map_or(0, str::len);
    println!(
        "database: postgres://{}@{}:{port}/{} (password: {password_len} characters)",
        field("user"),
        field("host"),
        field("dbname"),
    );
    match app::get_or_none(token)? {
        Some(secret) => println!("token: set ({} characters)", secret.into_bytes().len()),
        None => println!("token: not set"),
    }
    Ok(())
}
