//! The live stream at scale (issue 11), on both backends: a thousand pages that come and go
//! while institutions report, and a page that stops reading. Its own test binary, which
//! `tests/run` runs after the rest, on the test build that Cargo.toml optimises a little:
//! unoptimised, at this scale the test would measure itself, not ghor. Run it alone with
//! `cargo test --test crowd`.

// The tests are compiled once per backend, on purpose.
#![allow(clippy::duplicate_mod)]

// The crowd uses a part of the end-to-end tests' harness (which names the deployment
// topology, unused here).
#[allow(dead_code)]
#[path = "../e2e/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../e2e/topology.rs"]
mod topology;

mod embedded;
mod production;

/// The tests load the whole machine (a thousand clients, a flood of reports) and take
/// turns: each holds this while it runs, so that the two backends' runs do not measure
/// each other.
static MACHINE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
