//! The glob matcher against its reference, globset: the same patterns
//! refused, and the same answer for every ASCII name (the documented
//! differences, non-ASCII names and `[:` in a class, left out).
#![no_main]

use pp_secrets_pattern::Pattern;
use pp_secrets_pattern::reference::{comparable, globset_matcher};

libfuzzer_sys::fuzz_target!(|input: (&str, Vec<&str>)| {
    let (pattern, names) = input;
    if !pattern.is_ascii() || !comparable(pattern) {
        let _ = Pattern::new(pattern).map(|p| names.iter().map(|n| p.matches(n)).count());
        return;
    }
    match (Pattern::new(pattern), globset_matcher(pattern)) {
        (Ok(ours), Ok(reference)) => {
            for name in names.iter().filter(|name| name.is_ascii()) {
                assert_eq!(
                    ours.matches(name),
                    reference.is_match(name),
                    "pattern {pattern:?} against {name:?}"
                );
            }
        }
        (Err(_), Err(_)) => {}
        (ours, reference) => panic!(
            "{pattern:?}: ours {}, globset {}",
            if ours.is_ok() { "accepts" } else { "refuses" },
            if reference.is_ok() {
                "accepts"
            } else {
                "refuses"
            }
        ),
    }
});
