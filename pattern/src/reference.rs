//! The reference the matcher is checked against: `globset`, which it
//! replaced, with the dialect put in globset's syntax. For the agreement
//! test and the fuzz target (the `reference` cargo feature); not part of
//! the matcher.
//!
//! Two differences are deliberate. Non-ASCII names, which globset matches
//! byte by byte (`?` does not take `é`): compare ASCII names only. And
//! `[:` inside a class, which globset's regex engine reads as the start of
//! a POSIX class such as `[:alpha:]` (and refuses `[::]`), while this
//! dialect has no POSIX classes and takes the characters literally:
//! [`comparable`] leaves such patterns out.

/// Whether `pattern` is one globset reads as this dialect does (see the
/// module docs).
pub fn comparable(pattern: &str) -> bool {
    !pattern.contains("[:")
}

use globset::{GlobBuilder, GlobMatcher};

use crate::glob::class_end;

/// globset's matcher for `pattern` of this crate's dialect, or its error
/// (which must agree with [`Pattern::new`](crate::Pattern::new) refusing
/// the pattern).
pub fn globset_matcher(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    GlobBuilder::new(&to_globset_syntax(pattern))
        .literal_separator(false)
        .case_insensitive(false)
        .backslash_escape(false)
        .allow_unclosed_class(true)
        .build()
        .map(|glob| glob.compile_matcher())
}

/// The dialect in globset's syntax: `{` `}` `]` outside a class and an
/// unclosed `[` in one-character classes, runs of `*` as one `*` (globset
/// gives `**` directory semantics), closed classes copied through.
fn to_globset_syntax(pattern: &str) -> String {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' => {
                out.push('*');
                while chars.get(i + 1) == Some(&'*') {
                    i += 1;
                }
            }
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
