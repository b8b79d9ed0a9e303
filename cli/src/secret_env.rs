//! Secrets as environment variables: the names `run --from` and `export`
//! give the secrets a `backend:glob` matches, and their values as
//! variables may hold them.
//!
//! The rule (the README's "Secrets as environment variables"): the
//! secret's logical name with every letter in upper case and every other
//! ASCII character than a letter, a digit or `_` replaced by `_`, after
//! `--prefix`. `db/password`, `db-password` and `db.password` all become
//! `DB_PASSWORD`. A name with a character outside ASCII, or one that would
//! start with a digit (or be empty), makes no variable name; two secrets
//! that would share a variable are an error, as is a value holding a NUL
//! byte, and so is a name that would set a variable that changes how a
//! program runs (`PATH`, `LD_PRELOAD`, ...) without a prefix. Each is
//! reported, by key, never silently dropped.

use std::collections::BTreeMap;

use pp_secrets::{SecretText, SecretsManager};

use crate::failure::Failure;
use crate::output;

/// One secret under its environment name.
pub struct EnvSecret {
    /// The environment variable's name.
    pub var: String,
    /// The secret's key, `backend:name`.
    pub key: String,
    /// Its value as the variable holds it (an object as compact JSON).
    pub value: SecretText,
}

/// Variables that change how a program (or the shell, or the dynamic
/// loader) runs, rather than what it reads: a secret may set one only
/// under a prefix, or when mapped by name.
const RUNTIME_VARIABLES: &[&str] = &[
    "PATH",
    "IFS",
    "ENV",
    "BASH_ENV",
    "SHELLOPTS",
    "BASHOPTS",
    "PS4",
    "PROMPT_COMMAND",
    "HOME",
    "SHELL",
    "TMPDIR",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PERL5LIB",
    "PERL5OPT",
    "RUBYOPT",
    "RUBYLIB",
    "NODE_OPTIONS",
    "JAVA_TOOL_OPTIONS",
    "GIT_SSH_COMMAND",
];

/// Prefixes of such variables (`LD_PRELOAD`, `DYLD_INSERT_LIBRARIES`, ...).
const RUNTIME_PREFIXES: &[&str] = &["LD_", "DYLD_"];

/// Whether `var` changes how a program runs (see [`RUNTIME_VARIABLES`]).
fn changes_how_programs_run(var: &str) -> bool {
    RUNTIME_VARIABLES.contains(&var) || RUNTIME_PREFIXES.iter().any(|p| var.starts_with(p))
}

/// The environment name for logical `name` after `prefix`, or why there
/// is none.
pub fn env_name(prefix: &str, name: &str) -> Result<String, &'static str> {
    if !name.is_ascii() {
        return Err("it holds characters outside ASCII");
    }
    let mut var = String::with_capacity(prefix.len() + name.len());
    var.push_str(prefix);
    var.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c.to_ascii_uppercase()
        } else {
            '_'
        }
    }));
    match var.chars().next() {
        None => Err("the name is empty"),
        Some(c) if c.is_ascii_digit() => Err("it would start with a digit"),
        Some(_) if changes_how_programs_run(&var) => {
            Err("it would set a variable that changes how programs run")
        }
        Some(_) => Ok(var),
    }
}

/// Checks a `--prefix`: letters, digits and `_`, not starting with a digit.
pub fn check_prefix(prefix: &str) -> Result<(), Failure> {
    let valid = prefix
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !prefix.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(Failure::Usage(format!(
            "--prefix {prefix:?}: an environment variable name may hold only letters, digits \
             and `_`, and may not start with a digit"
        )))
    }
}

/// Why `value` cannot be the value of an environment variable, if it
/// cannot.
pub fn unfit_value(value: &SecretText) -> Option<&'static str> {
    value
        .expose()
        .contains('\0')
        .then_some("its value holds a NUL byte, which no environment variable can hold")
}

/// Every secret the `patterns` (`backend:glob`) match, under its
/// environment name after `prefix`, with its value, sorted by name.
/// What the caller maps itself (`mapped`: `run --env` pairs, `VAR` and
/// `KEY`) wins: a secret whose variable it sets is left out, unread, and
/// so is one that makes no variable name when it maps its key. A pattern that matches
/// nothing is noted on stderr; names that make no variable, two secrets
/// for one variable and values a variable cannot hold fail the whole call,
/// naming each.
pub async fn matching(
    manager: &SecretsManager,
    patterns: &[String],
    prefix: &str,
    mapped: &[(&str, &str)],
) -> Result<Vec<EnvSecret>, Failure> {
    check_prefix(prefix)?;
    let mut by_var: BTreeMap<String, EnvSecret> = BTreeMap::new();
    let mut problems = Vec::new();
    for pattern in patterns {
        let backend = pattern.split_once(':').map_or("", |(backend, _)| backend);
        let names = manager.list(pattern).await?;
        if names.is_empty() {
            output::note(&format!(
                "no secret in backend {backend:?} matches {:?}",
                pattern.split_once(':').map_or("", |(_, glob)| glob)
            ));
        }
        for name in names {
            let key = format!("{backend}:{name}");
            let var = match env_name(prefix, &name) {
                Ok(var) => var,
                // The caller gives it a name of its own.
                Err(_) if mapped.iter().any(|(_, k)| *k == key) => continue,
                Err(why) => {
                    problems.push(format!("{key}: no environment variable name: {why}"));
                    continue;
                }
            };
            if mapped.iter().any(|(v, _)| *v == var) {
                continue;
            }
            if let Some(other) = by_var.get(&var) {
                if other.key != key {
                    problems.push(format!("{} and {key} would both be {var}", other.key));
                }
                continue;
            }
            let value = manager.get(&key).await?.text_of(&key)?;
            if let Some(why) = unfit_value(&value) {
                problems.push(format!("{key}: {why}"));
                continue;
            }
            by_var.insert(var.clone(), EnvSecret { var, key, value });
        }
    }
    if !problems.is_empty() {
        return Err(Failure::Usage(format!(
            "cannot give these secrets environment names (give them a --prefix, narrow the \
             pattern, or name one yourself with run's --env VAR=KEY):\n  {}",
            problems.join("\n  ")
        )));
    }
    Ok(by_var.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rule() {
        assert_eq!(env_name("", "db/password"), Ok("DB_PASSWORD".into()));
        assert_eq!(env_name("", "db-password"), Ok("DB_PASSWORD".into()));
        assert_eq!(env_name("", "db.password"), Ok("DB_PASSWORD".into()));
        assert_eq!(env_name("", "Api_Key2"), Ok("API_KEY2".into()));
        assert_eq!(env_name("", "a b"), Ok("A_B".into()));
        assert_eq!(env_name("APP_", "9lives"), Ok("APP_9LIVES".into()));
        assert!(env_name("", "ключ").is_err());
        assert!(env_name("", "9lives").is_err());
        assert!(env_name("", "").is_err());
    }

    #[test]
    fn names_that_change_how_programs_run_need_a_prefix() {
        for name in [
            "path",
            "ld_preload",
            "ld-library-path",
            "dyld_insert_libraries",
            "ifs",
        ] {
            assert!(env_name("", name).is_err(), "{name}");
        }
        assert_eq!(env_name("APP_", "path"), Ok("APP_PATH".into()));
        assert_eq!(env_name("", "db_path"), Ok("DB_PATH".into()));
    }

    #[test]
    fn prefixes_are_checked() {
        assert!(check_prefix("APP_").is_ok());
        assert!(check_prefix("").is_ok());
        assert!(check_prefix("1APP").is_err());
        assert!(check_prefix("APP-").is_err());
    }
}
