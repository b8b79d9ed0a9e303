//! The host's checks of what a provider returns: names, values, caps,
//! duplicates, and the escaping of text shown to operators.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: (&str, Vec<String>, Vec<String>)| {
    let (pattern, names, values) = input;
    pp_secrets::fuzzing::guest_reply(pattern, names, values);
});
