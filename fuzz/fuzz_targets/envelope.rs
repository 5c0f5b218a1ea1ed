#![no_main]
//! Fuzzes an event as ingest reads it, stores it and reads it back (`ghor_domain::fuzzing::envelope`).

libfuzzer_sys::fuzz_target!(|data: &[u8]| ghor_domain::fuzzing::envelope(data));
