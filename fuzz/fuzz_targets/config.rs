//! Whole YAML documents as configs: parsed or refused, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|yaml: &str| pp_secrets::fuzzing::config_document(yaml));
