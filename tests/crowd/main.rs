//! The live stream at scale (issue 11), on both backends: a thousand pages that come and go
//! while institutions report, and a page that stops reading. Its own test binary, which
//! `tests/run` builds with `--release`: at this scale a debug build measures itself (and
//! its debug server), not ghor. Run it alone with `cargo test --release --test crowd`.

// The tests are compiled once per backend, on purpose.
#![allow(clippy::duplicate_mod)]

// The crowd uses a part of the end-to-end tests' harness.
#[allow(dead_code)]
#[path = "../e2e/harness.rs"]
mod harness;

mod embedded;
mod production;

/// The tests load the whole machine (a thousand clients, a flood of reports) and take
/// turns: each holds this while it runs, so that the two backends' runs do not measure
/// each other.
static MACHINE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
