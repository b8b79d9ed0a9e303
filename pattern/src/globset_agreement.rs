//! The pattern matcher against `globset`, the reference it replaced: every
//! pattern of up to four characters over the dialect's special characters
//! and a few letters, against every name of up to three characters.
//!
//! The dialect is put in globset's syntax the way this crate used to do it.
//! One difference is deliberate and left out: non-ASCII names, which
//! globset matches byte by byte (`?` does not take `é`); the crate's unit
//! tests cover them.

use globset::GlobBuilder;

use crate::Pattern;
use crate::glob::class_end;

const PATTERN_ALPHABET: [char; 10] = ['a', '*', '?', '[', ']', '!', '^', '-', '/', '{'];
const NAME_ALPHABET: [char; 8] = ['a', 'b', '-', ']', '!', '^', '/', '['];

/// Every string of up to `max` characters over `alphabet`.
fn strings(alphabet: &[char], max: usize) -> Vec<String> {
    let mut all = vec![String::new()];
    let mut last = vec![String::new()];
    for _ in 0..max {
        last = last
            .iter()
            .flat_map(|s| {
                alphabet.iter().map(move |c| {
                    let mut next = s.clone();
                    next.push(*c);
                    next
                })
            })
            .collect();
        all.extend(last.iter().cloned());
    }
    all
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

#[test]
fn agrees_with_globset_on_every_short_ascii_pattern() {
    let names = strings(&NAME_ALPHABET, 3);
    let mut compared = 0usize;
    for pattern in strings(&PATTERN_ALPHABET, 4) {
        let reference = GlobBuilder::new(&to_globset_syntax(&pattern))
            .literal_separator(false)
            .case_insensitive(false)
            .backslash_escape(false)
            .allow_unclosed_class(true)
            .build()
            .map(|glob| glob.compile_matcher());
        let ours = Pattern::new(&pattern);
        let (reference, ours) = match (reference, ours) {
            (Ok(reference), Ok(ours)) => (reference, ours),
            (Err(_), Err(_)) => continue,
            (reference, ours) => panic!(
                "{pattern:?}: globset {}, ours {}",
                if reference.is_ok() {
                    "accepts"
                } else {
                    "refuses"
                },
                if ours.is_ok() { "accepts" } else { "refuses" },
            ),
        };
        for name in &names {
            assert_eq!(
                ours.matches(name),
                reference.is_match(name),
                "pattern {pattern:?} against name {name:?}"
            );
            compared += 1;
        }
    }
    assert!(compared > 4_000_000, "{compared} comparisons");
}
