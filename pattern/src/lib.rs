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
//! Everything else is literal: `{a,b}`, `\`, and an unclosed `[` match
//! themselves. A pattern without any of `*`, `?`, `[` is an *exact name*
//! and is compared as a string, without building a matcher.
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

use globset::{GlobBuilder, GlobMatcher};

/// The characters that make a pattern a glob instead of an exact name.
const WILDCARDS: [char; 3] = ['*', '?', '['];

/// A compiled glob pattern, or an exact name.
#[derive(Clone)]
pub struct Pattern {
    source: String,
    matcher: Matcher,
}

/// How a pattern is matched. The common shapes of `load` declarations
/// (`*`, `db_*`) get a string comparison instead of a regex.
#[derive(Clone)]
enum Matcher {
    /// No wildcard: the whole name must equal the pattern.
    Exact,
    /// `*` (or `**`...): every name.
    All,
    /// `literal*`: names starting with the literal.
    StartsWith(String),
    /// Anything else.
    Glob(GlobMatcher),
}

/// A pattern that could not be compiled.
///
/// With the translation this crate does, globset accepts every pattern it is
/// given; the error exists so that a future matcher change cannot panic.
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
            let translated = to_globset_syntax(pattern);
            let glob = GlobBuilder::new(&translated)
                .literal_separator(false)
                .case_insensitive(false)
                .backslash_escape(false)
                .allow_unclosed_class(true)
                .build()
                .map_err(|e| PatternError {
                    pattern: pattern.to_owned(),
                    reason: e.kind().to_string(),
                })?;
            Matcher::Glob(glob.compile_matcher())
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
            Matcher::Glob(m) => m.is_match(name),
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

/// `*` and `literal*` (the literal free of wildcards), which need no regex.
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

/// Rewrites an fnmatch-style pattern in globset's syntax: characters that
/// globset treats specially but fnmatch does not (`{`, `}`) are put in a
/// one-character class, runs of `*` become one `*` (globset gives `**`
/// directory semantics), and bracket classes are copied through.
fn to_globset_syntax(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => {
                out.push('*');
                while i + 1 < chars.len() && chars[i + 1] == '*' {
                    i += 1;
                }
            }
            '?' => out.push('?'),
            '[' => match class_end(&chars, i) {
                Some(end) => {
                    out.extend(&chars[i..=end]);
                    i = end;
                }
                None => out.push_str("[[]"),
            },
            c @ ('{' | '}' | ']') => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
        i += 1;
    }
    out
}

/// Index of the `]` that closes the class opened at `start`, following
/// fnmatch: an optional `!` and then a `]` right after the opening are part
/// of the set, not its end.
fn class_end(chars: &[char], start: usize) -> Option<usize> {
    let mut j = start + 1;
    if chars.get(j) == Some(&'!') {
        j += 1;
    }
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    (j..chars.len()).find(|&k| chars[k] == ']')
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let glob = GlobBuilder::new(&to_globset_syntax(pattern))
                .literal_separator(false)
                .backslash_escape(false)
                .build()
                .expect("compiles")
                .compile_matcher();
            for name in names {
                assert_eq!(
                    fast.matches(name),
                    glob.is_match(name),
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
