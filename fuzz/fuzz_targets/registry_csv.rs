#![no_main]
//! Fuzzes a registry CSV as ghor registry import reads it (`ghor_domain::fuzzing::registry_csv`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| ghor_domain::fuzzing::registry_csv(data));
