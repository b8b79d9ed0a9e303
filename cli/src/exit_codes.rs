//! The exit codes of `pp-secrets`: one table, used by the help text and
//! checked against the README by a test.

use pp_secrets::ErrorKind;

/// Success.
pub const SUCCESS: u8 = 0;
/// No such secret, or an unknown backend in a key.
pub const NOT_FOUND: u8 = 1;
/// Bad arguments (a malformed key or glob included), an invalid or
/// unreadable config, or the subsystem disabled.
pub const USAGE: u8 = 2;
/// A backend failed (I/O, network, a guest trap, ...).
pub const BACKEND: u8 = 3;
/// A Wasm app asked outside its allow-list.
pub const ACCESS_DENIED: u8 = 4;
/// `run`: the command exists but cannot be executed (as a shell reports
/// it).
pub const CANNOT_EXECUTE: u8 = 126;
/// `run`: the command was not found (as a shell reports it).
pub const COMMAND_NOT_FOUND: u8 = 127;

/// Every code with what it means, as the help text and the README say it.
pub const TABLE: &[(u8, &str)] = &[
    (SUCCESS, "success"),
    (NOT_FOUND, "not found"),
    (
        USAGE,
        "usage or configuration error, a malformed key or glob included (or subsystem disabled)",
    ),
    (BACKEND, "backend error"),
    (ACCESS_DENIED, "access denied"),
    (CANNOT_EXECUTE, "run: the command cannot be executed"),
    (COMMAND_NOT_FOUND, "run: the command was not found"),
];

/// The exit code for a library error of `kind`.
pub fn for_kind(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::NotFound => NOT_FOUND,
        ErrorKind::Config | ErrorKind::Usage => USAGE,
        ErrorKind::AccessDenied => ACCESS_DENIED,
        // Backend, and any kind a later library adds.
        _ => BACKEND,
    }
}

/// The table in one line: `0 success, 1 not found, ...`.
pub fn summary() -> String {
    TABLE
        .iter()
        .map(|(code, meaning)| format!("{code} {meaning}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The help text's paragraph on exit codes.
pub fn help() -> String {
    format!(
        "Exit codes: {}. run and run-wasm exit with the child's code (run: 128+N when it died of signal N).",
        summary()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readme() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn the_readme_lists_the_same_exit_codes() {
        let readme = readme();
        let line = format!("Exit codes: {}.", summary());
        // The README wraps its lines: compare with whitespace collapsed.
        let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(&line), "the README should say: {line}");
    }

    #[test]
    fn the_readme_error_table_matches_the_kinds() {
        let readme = readme();
        let kinds = [
            ("`NotFound`", ErrorKind::NotFound),
            ("`Usage` / `Config`", ErrorKind::Usage),
            ("`Backend`", ErrorKind::Backend),
            ("`AccessDenied`", ErrorKind::AccessDenied),
        ];
        assert_eq!(for_kind(ErrorKind::Config), for_kind(ErrorKind::Usage));
        for (name, kind) in kinds {
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| {name} |")))
                .unwrap_or_else(|| panic!("no README row for {name}"));
            let code = row.trim_end_matches('|').rsplit('|').next().map(str::trim);
            assert_eq!(
                code,
                Some(for_kind(kind).to_string().as_str()),
                "README row: {row}"
            );
        }
    }
}
