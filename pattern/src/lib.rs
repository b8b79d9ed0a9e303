//! Glob patterns over secret names.
//!
//! One matcher, shared by the `pp-secrets` host and the guest SDK, so a
//! pattern means the same thing on both sides of the Wasm boundary.
//!
//! The dialect is the one of shell-style `fnmatch`, case-sensitive:
//!
//! | syntax    | matches                                              |
//! |-----------|------------------------------------------------------|
//! | `*`       | any run of characters, `/` included                  |
//! | `?`       | exactly one character                                |
//! | `[abc]`   | one character of the set; ranges like `a-z` work     |
//! | `[!abc]`  | one character not in the set                         |
//!
//! `[^abc]` negates like `[!abc]`. Everything else is literal: `{a,b}`,
//! `\`, and an unclosed `[` match themselves. In a class, a `]` right after
//! the opening (or after the `!` or `^`) and a `-` first or last are
//! members. A range written backwards (`[z-a]`) is refused. Matching goes
//! by characters, not bytes: `?` takes `é` whole.
//!
//! A pattern without any of `*`, `?`, `[` is an *exact name* and is
//! compared as a string; `*` and `literal*` are compared as strings too.
//! Other patterns are compiled to a small token matcher (no regex engine:
//! guest components that match patterns stay small). For ASCII it agrees
//! with `globset` given the same dialect, which a test checks exhaustively
//! over short patterns.
//!
//! ```
//! use pp_secrets_pattern::Pattern;
//!
//! let p = Pattern::new("db_*").unwrap();
//! assert!(p.matches("db_password"));
//! assert!(!p.matches("DB_PASSWORD"));
//! assert_eq!(p.literal_prefix(), "db_");
//!
//! let exact = Pattern::new("API_KEY").unwrap();
//! assert!(exact.is_exact());
//! ```

use std::fmt;

mod glob;
#[cfg(test)]
mod globset_agreement;
#[cfg(any(test, feature = "reference"))]
#[doc(hidden)]
pub mod reference;
#[cfg(test)]
mod shared_cases;

use glob::Glob;

/// The characters that make a pattern a glob instead of an exact name.
const WILDCARDS: [char; 3] = ['*', '?', '['];

/// A compiled glob pattern, or an exact name.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    matcher: Matcher,
}

/// How a pattern is matched. The common shapes of `load` declarations
/// (`*`, `db_*`) get a string comparison instead of the general matcher.
#[derive(Clone)]
enum Matcher {
    /// No wildcard: the whole name must equal the pattern.
    Exact,
    /// `*` (or `**`...): every name.
    All,
    /// `literal*`: names starting with the literal.
    StartsWith(String),
    /// Anything else.
    Glob(Glob),
}

/// A pattern that could not be compiled.
///
/// The one pattern refused is a class with a range written backwards
/// (`[z-a]`): it could match nothing, so it is surely a typo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    /// The pattern as written.
    pub pattern: String,
    /// What the matcher complained about.
    pub reason: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid pattern {:?}: {}", self.pattern, self.reason)
    }
}

impl std::error::Error for PatternError {}

impl Pattern {
    /// Compiles `pattern`. Exact names are kept as strings.
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        let matcher = if !is_glob(pattern) {
            Matcher::Exact
        } else if let Some(simple) = simple_shape(pattern) {
            simple
        } else {
            Matcher::Glob(Glob::new(pattern).map_err(|reason| PatternError {
                pattern: pattern.to_owned(),
                reason,
            })?)
        };
        Ok(Self {
            source: pattern.to_owned(),
            matcher,
        })
    }

    /// A pattern that matches exactly `name`, even when `name` contains
    /// wildcard characters.
    pub fn exact(name: &str) -> Self {
        Self {
            source: name.to_owned(),
            matcher: Matcher::Exact,
        }
    }

    /// Whether `name` matches the whole pattern.
    pub fn matches(&self, name: &str) -> bool {
        match &self.matcher {
            Matcher::Exact => self.source == name,
            Matcher::All => true,
            Matcher::StartsWith(prefix) => name.starts_with(prefix.as_str()),
            Matcher::Glob(glob) => glob.matches(name),
        }
    }

    /// True when the pattern has no wildcard and names exactly one secret.
    pub fn is_exact(&self) -> bool {
        matches!(self.matcher, Matcher::Exact)
    }

    /// The literal text before the first wildcard (the whole pattern when it
    /// is exact). Every matching name starts with it, so backends can use it
    /// as a server-side prefix filter.
    pub fn literal_prefix(&self) -> &str {
        if self.is_exact() {
            return &self.source;
        }
        let end = self.source.find(WILDCARDS).unwrap_or(self.source.len());
        &self.source[..end]
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// This pattern with `prefix` put in front, the prefix taken literally
    /// (wildcard characters in it match only themselves).
    pub fn with_literal_prefix(&self, prefix: &str) -> Result<Self, PatternError> {
        if prefix.is_empty() {
            return Ok(self.clone());
        }
        if self.is_exact() {
            return Ok(Self::exact(&format!("{prefix}{}", self.source)));
        }
        Self::new(&format!("{}{}", escape(prefix), self.source))
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.is_exact() == other.is_exact()
    }
}

impl Eq for Pattern {}

/// True when `pattern` contains a wildcard (`*`, `?` or `[`).
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(WILDCARDS)
}

/// `*` and `literal*` (the literal free of wildcards), which need no matcher.
fn simple_shape(pattern: &str) -> Option<Matcher> {
    let literal = pattern.trim_end_matches('*');
    if literal.len() == pattern.len() || is_glob(literal) {
        return None;
    }
    Some(if literal.is_empty() {
        Matcher::All
    } else {
        Matcher::StartsWith(literal.to_owned())
    })
}

/// Escapes `text` so that, as a pattern, it matches only itself.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `glob` fuzz target, where globset (the reference)
    /// refused `[::]` as an empty POSIX class: this dialect has no POSIX
    /// classes, so `[` and `:` in a class are members like any other.
    #[test]
    fn a_colon_and_a_bracket_in_a_class_are_members() {
        let pattern = Pattern::new("x[[::]").expect("a class");
        assert!(pattern.matches("x[") && pattern.matches("x:"));
        assert!(!pattern.matches("xa") && !pattern.matches("x"));
    }

    fn m(pattern: &str, name: &str) -> bool {
        Pattern::new(pattern)
            .expect("pattern compiles")
            .matches(name)
    }

    #[test]
    fn star_matches_any_run_including_slash() {
        assert!(m("prod/*", "prod/app/key"));
        assert!(m("*", ""));
        assert!(m("a*c", "abbbc"));
        assert!(m("a*c", "a/b/c"));
        assert!(!m("a*c", "abcd"));
    }

    #[test]
    fn double_star_is_just_a_star() {
        assert!(m("**/x", "a/x"));
        assert!(!m("**/x", "x"));
        assert!(m("a**b", "a/c/b"));
    }

    #[test]
    fn question_mark_matches_exactly_one_character() {
        assert!(m("key?", "key1"));
        assert!(!m("key?", "key"));
        assert!(!m("key?", "key12"));
        assert!(m("?", "/"));
    }

    #[test]
    fn bracket_class_and_negated_class() {
        assert!(m("db_[abc]", "db_a"));
        assert!(!m("db_[abc]", "db_d"));
        assert!(m("db_[a-c]", "db_b"));
        assert!(m("db_[!abc]", "db_d"));
        assert!(!m("db_[!abc]", "db_a"));
        assert!(m("x[]]", "x]"));
        assert!(m("x[!]]", "xa"));
    }

    #[test]
    fn matching_is_case_sensitive() {
        assert!(!m("api_*", "API_KEY"));
        assert!(m("API_*", "API_KEY"));
    }

    #[test]
    fn braces_backslashes_and_unclosed_brackets_are_literal() {
        assert!(m("*{a,b}", "x{a,b}"));
        assert!(!m("*{a,b}", "xa"));
        assert!(m("a\\*", "a\\bc"));
        assert!(m("*[x", "ab[x"));
        assert!(m("*]", "a]"));
    }

    #[test]
    fn pattern_without_wildcards_is_an_exact_name() {
        let p = Pattern::new("prod/{x}").expect("compiles");
        assert!(p.is_exact());
        assert!(p.matches("prod/{x}"));
        assert!(!p.matches("prod/x"));
    }

    #[test]
    fn literal_prefix_stops_at_first_wildcard() {
        let p = Pattern::new("prod/app?/*").expect("compiles");
        assert_eq!(p.literal_prefix(), "prod/app");
        assert_eq!(
            Pattern::new("[ab]x").expect("compiles").literal_prefix(),
            ""
        );
        assert_eq!(
            Pattern::new("exact").expect("compiles").literal_prefix(),
            "exact"
        );
    }

    #[test]
    fn literal_prefix_wildcards_match_only_themselves() {
        let p = Pattern::new("*")
            .expect("compiles")
            .with_literal_prefix("env[1]/")
            .expect("compiles");
        assert!(p.matches("env[1]/key"));
        assert!(!p.matches("env1/key"));
        let exact = Pattern::new("key")
            .expect("compiles")
            .with_literal_prefix("a*/")
            .expect("compiles");
        assert!(exact.is_exact());
        assert!(exact.matches("a*/key"));
    }

    #[test]
    fn simple_shapes_match_like_the_general_matcher() {
        let names = ["", "db", "db_", "db_x", "db_x/y", "x_db_", "DB_x"];
        for pattern in ["*", "**", "db_*", "db_**"] {
            let fast = Pattern::new(pattern).expect("compiles");
            assert!(
                !matches!(fast.matcher, Matcher::Glob(_)),
                "{pattern} takes a fast path"
            );
            let glob = Glob::new(pattern).expect("compiles");
            for name in names {
                assert_eq!(
                    fast.matches(name),
                    glob.matches(name),
                    "{pattern} vs {name:?}"
                );
            }
        }
    }

    #[test]
    fn escape_round_trips_through_matching() {
        let name = "we*ird?[name]{}";
        assert!(m(&escape(name), name));
        assert!(!m(&escape(name), "weXird?[name]{}"));
    }
}
