//! `${VAR}` and `${VAR:-default}` expansion from the process environment.
//!
//! A variable name is `[A-Za-z_][A-Za-z0-9_]*`; anything else between `${`
//! and `}` (such as `${secret://env:KEY}`) is not a variable and is left
//! untouched. `$${` is not special: there is no escape syntax.

use std::borrow::Cow;

/// A `${VAR}` without a default whose variable is not set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnsetVariable(pub String);

/// Replaces every `${VAR}` / `${VAR:-default}` in `text` using `lookup`.
pub(crate) fn expand_vars<'t>(
    text: &'t str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Cow<'t, str>, UnsetVariable> {
    if !text.contains("${") {
        return Ok(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match parse_reference(after) {
            Some((name, default, consumed)) => {
                match (lookup(name), default) {
                    (Some(value), _) => out.push_str(&value),
                    (None, Some(default)) => out.push_str(default),
                    (None, None) => return Err(UnsetVariable(name.to_owned())),
                }
                rest = &after[consumed..];
            }
            None => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(Cow::Owned(out))
}

/// Expands from the real process environment.
pub(crate) fn expand_from_env(text: &str) -> Result<Cow<'_, str>, UnsetVariable> {
    expand_vars(text, &|name| std::env::var(name).ok())
}

/// Parses `NAME}` or `NAME:-default}` at the start of `s`; returns the name,
/// the default, and how many bytes were consumed (through the `}`).
fn parse_reference(s: &str) -> Option<(&str, Option<&str>, usize)> {
    let name_len = s
        .char_indices()
        .take_while(|&(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()))
        .count();
    if name_len == 0 {
        return None;
    }
    let name = &s[..name_len];
    let tail = &s[name_len..];
    if tail.starts_with('}') {
        return Some((name, None, name_len + 1));
    }
    let default_and_rest = tail.strip_prefix(":-")?;
    let end = default_and_rest.find('}')?;
    Some((name, Some(&default_and_rest[..end]), name_len + 2 + end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.local".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn expand(text: &str) -> Result<String, UnsetVariable> {
        expand_vars(text, &lookup).map(Cow::into_owned)
    }

    #[test]
    fn set_variable_is_replaced() {
        assert_eq!(
            expand("postgres://${HOST}:5432").as_deref(),
            Ok("postgres://db.local:5432")
        );
    }

    #[test]
    fn default_is_used_only_when_unset() {
        assert_eq!(expand("${MISSING:-fallback}").as_deref(), Ok("fallback"));
        assert_eq!(expand("${HOST:-fallback}").as_deref(), Ok("db.local"));
        assert_eq!(expand("${EMPTY:-fallback}").as_deref(), Ok(""));
        assert_eq!(expand("${MISSING:-}").as_deref(), Ok(""));
    }

    #[test]
    fn unset_variable_without_default_is_an_error_naming_it() {
        assert_eq!(expand("x ${NOPE} y"), Err(UnsetVariable("NOPE".into())));
    }

    #[test]
    fn secret_tokens_and_non_variables_are_left_alone() {
        for text in [
            "${secret://env:KEY}",
            "${1ABC}",
            "${",
            "${HOST",
            "$HOST",
            "${ }",
        ] {
            assert_eq!(expand(text).as_deref(), Ok(text), "{text}");
        }
    }
}
