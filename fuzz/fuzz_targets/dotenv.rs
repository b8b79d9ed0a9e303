//! `.env` text: parsed, with the invariants of the syntax.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| pp_secrets::fuzzing::dotenv(text));
