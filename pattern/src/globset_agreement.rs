//! The pattern matcher against `globset`, the reference it replaced: every
//! pattern of up to four characters over the dialect's special characters
//! and a few letters, against every name of up to three characters.
//!
//! The dialect is put in globset's syntax by [`crate::reference`]. One
//! difference is deliberate and left out: non-ASCII names, which globset
//! matches byte by byte (`?` does not take `é`); the crate's unit tests
//! cover them.

use crate::Pattern;
use crate::reference::globset_matcher;

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

#[test]
fn agrees_with_globset_on_every_short_ascii_pattern() {
    let names = strings(&NAME_ALPHABET, 3);
    let mut compared = 0usize;
    for pattern in strings(&PATTERN_ALPHABET, 4) {
        let reference = globset_matcher(&pattern);
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
