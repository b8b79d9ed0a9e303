//! `${VAR}` expansion and `${secret://...}` tokens in one string.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| pp_secrets::fuzzing::interpolation(text));
