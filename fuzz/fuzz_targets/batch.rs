#![no_main]
//! Fuzzes a batch as POST /v1/events/batch reads it (`ghor_domain::fuzzing::batch`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| ghor_domain::fuzzing::batch(data));
