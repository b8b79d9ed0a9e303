//! The general glob matcher: a pattern compiled to a few tokens and
//! matched character by character, with one backtracking point per `*`.
//!
//! The dialect is small (`*`, `?`, classes, literals), so this is a few
//! dozen lines instead of a regex engine: a guest component that matches
//! patterns is a third to a fifth of the size it had with one, and matching
//! works on characters, so `?` and classes treat a name like `clé` as three
//! characters, as the dialect says.

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// This character.
    Literal(char),
    /// `?`: any one character.
    Any,
    /// `*`: any run of characters (runs of `*` are one token).
    Star,
    /// `[...]` / `[!...]`: one character in (or, negated, not in) the
    /// inclusive ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// A compiled glob pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles `pattern`; the only error is a class range written
    /// backwards (`[z-a]`), which matches nothing and is surely a typo.
    pub(crate) fn new(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' => {
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star);
                    }
                }
                '?' => tokens.push(Token::Any),
                '[' => match class_end(&chars, i) {
                    Some(end) => {
                        tokens.push(class(&chars[i + 1..end])?);
                        i = end;
                    }
                    None => tokens.push(Token::Literal('[')),
                },
                c => tokens.push(Token::Literal(c)),
            }
            i += 1;
        }
        Ok(Self { tokens })
    }

    /// Whether the whole of `name` matches.
    ///
    /// Tokens other than `*` take exactly one character, so when one fails
    /// only the latest `*` needs to take one more character and retry from
    /// there: at most (pattern length x name length) steps, never
    /// exponential.
    pub(crate) fn matches(&self, name: &str) -> bool {
        let tokens = &self.tokens;
        let (mut t, mut n) = (0, 0);
        // The token after the latest `*`, and where in `name` it was last
        // tried.
        let mut retry: Option<(usize, usize)> = None;
        loop {
            let next = name[n..].chars().next();
            match (tokens.get(t), next) {
                (Some(Token::Star), _) => {
                    retry = Some((t + 1, n));
                    t += 1;
                    continue;
                }
                (Some(token), Some(c)) if token.takes(c) => {
                    t += 1;
                    n += c.len_utf8();
                    continue;
                }
                (None, None) => return true,
                _ => {}
            }
            // A mismatch: let the latest `*` take one more character.
            let Some((after_star, from)) = retry else {
                return false;
            };
            let Some(c) = name[from..].chars().next() else {
                return false;
            };
            retry = Some((after_star, from + c.len_utf8()));
            t = after_star;
            n = from + c.len_utf8();
        }
    }
}

impl Token {
    /// Whether this one-character token takes `c`.
    fn takes(&self, c: char) -> bool {
        match self {
            Token::Literal(l) => *l == c,
            Token::Any => true,
            Token::Star => false,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
            }
        }
    }
}

/// Index of the `]` that closes the class opened at `start`, following
/// fnmatch: an optional `!` (or `^`) and then a `]` right after the opening
/// are part of the set, not its end. `None` when the class is never closed
/// (the `[` is then a literal).
pub(crate) fn class_end(chars: &[char], start: usize) -> Option<usize> {
    let mut j = start + 1;
    if matches!(chars.get(j), Some('!' | '^')) {
        j += 1;
    }
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    (j..chars.len()).find(|&k| chars[k] == ']')
}

/// The class whose text between the brackets is `body`: `!` or `^` first
/// negates; `a-z` is a range; a `-` first or last, and a `]` first, are
/// themselves. A `-` right after a range extends it (`[a-c-e]` is `a` to
/// `e`).
fn class(body: &[char]) -> Result<Token, String> {
    let (negated, body) = match body.split_first() {
        Some(('!' | '^', rest)) => (true, rest),
        _ => (false, body),
    };
    let mut ranges: Vec<(char, char)> = Vec::new();
    let mut in_range = false;
    for &c in body {
        match ranges.last_mut() {
            Some(last) if in_range => {
                if c < last.0 {
                    return Err(format!("invalid range {}-{}", last.0, c));
                }
                last.1 = c;
                in_range = false;
            }
            // Only after a member: a `-` first is one itself.
            Some(_) if c == '-' => in_range = true,
            _ => ranges.push((c, c)),
        }
    }
    if in_range {
        ranges.push(('-', '-'));
    }
    Ok(Token::Class { negated, ranges })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> bool {
        Glob::new(pattern).expect("compiles").matches(name)
    }

    #[test]
    fn characters_not_bytes() {
        assert!(m("cl?", "clé"));
        assert!(!m("cl??", "clé"));
        assert!(m("[é]", "é"));
        assert!(m("[!a]", "é"));
        assert!(m("[à-ü]", "é"));
        assert!(m("*é*", "café au lait"));
    }

    #[test]
    fn caret_negates_like_bang() {
        assert!(m("[^a]", "b"));
        assert!(!m("[^a]", "a"));
        assert!(m("[^]]", "a"));
        assert!(!m("[^]]", "]"));
        assert!(m("[a^]", "^"));
    }

    #[test]
    fn dashes_and_brackets_inside_classes() {
        assert!(m("[-a]", "-"));
        assert!(m("[a-]", "-"));
        assert!(m("[a-c-e]", "d"));
        assert!(m("[]-a]", "^"));
        assert!(m("[!]]", "a"));
        assert!(!m("[!]]", "]"));
        assert_eq!(
            Glob::new("[z-a]").map(|_| ()),
            Err("invalid range z-a".into())
        );
    }

    #[test]
    fn stars_backtrack_without_blowing_up() {
        let name = "a".repeat(200);
        assert!(!m(&format!("{}b", "*a".repeat(30)), &name));
        assert!(m(&"*a".repeat(30), &name));
        assert!(m("*/*/*", "a/b/c/d"));
        assert!(!m("*/*/x", "a/b/c/d"));
    }
}
