#![no_main]
//! Fuzzes three views and the JSON Merge Patches between them (`ghor_domain::fuzzing::merge_patch`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| ghor_domain::fuzzing::merge_patch(data));
