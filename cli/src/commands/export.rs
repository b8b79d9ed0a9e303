//! `export PATTERN... [--format dotenv|json|shell] [--prefix P] [--output FILE]`:
//! print the secrets the `backend:glob` patterns match, under their
//! environment names (`secret_env`), in a form another tool reads back.
//!
//! Every format quotes so that the value read back is exactly the value
//! exported: `dotenv` as this project's `.env` parser reads it, `shell` as
//! a POSIX shell does (`. FILE` or `eval`), `json` as any JSON parser.
//! With `--output` the file is written atomically, mode 0600.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use zeroize::Zeroizing;

use crate::atomic_file::write_atomically;
use crate::exit_codes;
use crate::failure::Failure;
use crate::output;
use crate::secret_env::{self, EnvSecret};

/// The arguments of `export`.
#[derive(Debug, Args)]
pub struct Export {
    /// backend:glob; repeatable
    #[arg(required = true, value_name = "PATTERN")]
    patterns: Vec<String>,
    /// The output's form
    #[arg(long, short, value_enum, default_value_t = Format::Dotenv)]
    format: Format,
    /// Put in front of every variable name (letters, digits and `_`)
    #[arg(long, default_value = "")]
    prefix: String,
    /// Write to FILE (atomically, mode 0600) instead of printing
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The forms `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `NAME='value'` lines (double quotes and escapes where needed)
    Dotenv,
    /// One JSON object, `{"NAME": "value", ...}`
    Json,
    /// `export NAME='value'` lines for a POSIX shell
    Shell,
}

impl Export {
    /// Prints (or writes) the secrets.
    pub async fn run(self, config: &Path) -> Result<u8, Failure> {
        let (_, manager) = super::open(config)?;
        let secrets = secret_env::matching(&manager, &self.patterns, &self.prefix, &[]).await?;
        drop(manager);
        let text = match self.format {
            // Quoting at most doubles a dotenv value (`\\`, `\"`, `\n`...)
            // and quadruples a shell one (`'` is `'\''`).
            Format::Dotenv => lines(&secrets, 2, dotenv_line),
            Format::Shell => lines(&secrets, 4, shell_line),
            Format::Json => json(&secrets),
        };
        match &self.output {
            Some(path) => write_atomically(path, &text)?,
            None => output::raw(&text),
        }
        Ok(exit_codes::SUCCESS)
    }
}

/// One line per secret, each made by `line`, which writes at most
/// `growth` times a value's length (and its name, and 16 more bytes);
/// wiped when dropped.
fn lines(
    secrets: &[EnvSecret],
    growth: usize,
    line: fn(&EnvSecret, &mut String),
) -> Zeroizing<String> {
    // Sized up front: a buffer that grew would leave copies of values
    // behind, unwiped.
    let capacity = secrets
        .iter()
        .map(|s| s.var.len() + growth * s.value.len() + 16)
        .sum();
    let mut out = Zeroizing::new(String::with_capacity(capacity));
    let reserved = out.capacity();
    for secret in secrets {
        line(secret, &mut out);
        out.push('\n');
    }
    debug_assert_eq!(out.capacity(), reserved, "the buffer never grows");
    out
}

/// `NAME='value'`, or `NAME="value"` with `\\ \" \n \r \t` escaped when the
/// value holds a single quote or a line end (the only forms the `.env`
/// parser reads back exactly; it has no `$` expansion).
fn dotenv_line(secret: &EnvSecret, out: &mut String) {
    let value = secret.value.expose();
    out.push_str(&secret.var);
    out.push('=');
    if !value.contains(['\'', '\n', '\r']) {
        out.push('\'');
        out.push_str(value);
        out.push('\'');
        return;
    }
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `export NAME='value'`, each `'` in the value written `'\''` (inside
/// single quotes a POSIX shell takes every other character as it is).
fn shell_line(secret: &EnvSecret, out: &mut String) {
    out.push_str("export ");
    out.push_str(&secret.var);
    out.push_str("='");
    for c in secret.value.expose().chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
}

/// `{"NAME": "value", ...}` and a newline, written without a copy of any
/// value but the one returned (wiped when dropped).
fn json(secrets: &[EnvSecret]) -> Zeroizing<String> {
    let object: std::collections::BTreeMap<&str, &str> = secrets
        .iter()
        .map(|s| (s.var.as_str(), s.value.expose()))
        .collect();
    let text = pp_secrets::SecretText::json_of(&object);
    let mut out = Zeroizing::new(String::with_capacity(text.len() + 1));
    out.push_str(text.expose());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(value: &str) -> EnvSecret {
        EnvSecret {
            var: "V".into(),
            key: "local:v".into(),
            value: value.into(),
        }
    }

    fn line(f: fn(&EnvSecret, &mut String), value: &str) -> String {
        let mut out = String::new();
        f(&secret(value), &mut out);
        out
    }

    #[test]
    fn dotenv_quotes_as_the_parser_reads() {
        assert_eq!(line(dotenv_line, "a b $HOME #x"), "V='a b $HOME #x'");
        assert_eq!(line(dotenv_line, "it's\n"), "V=\"it's\\n\"");
        assert_eq!(line(dotenv_line, "a\\\"'"), "V=\"a\\\\\\\"'\"");
    }

    #[test]
    fn shell_quotes_single_quotes() {
        assert_eq!(line(shell_line, "it's"), "export V='it'\\''s'");
    }
}
