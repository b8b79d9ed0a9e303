//! Writing results to stdout. A closed pipe (`pp-secrets list | head`) is
//! not an error worth a message.

use std::io::Write;

/// Writes `text` and a newline to stdout.
pub fn line(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"));
}

/// Writes `bytes` to stdout as they are.
pub fn bytes(bytes: &[u8]) {
    let _ = std::io::stdout().lock().write_all(bytes);
}

/// Writes `text` to stdout as is.
pub fn raw(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes `pp-secrets: ` and `text` as one line to stderr: a diagnostic
/// that is not a failure.
pub fn note(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "pp-secrets: {text}");
}

/// Writes `value` as one line of JSON.
pub fn json(value: &serde_json::Value) {
    line(&value.to_string());
}
