//! ghor's ports and their embedded implementation.
//!
//! # Layout
//! - [`ports`]: the event log, the read model, the token and contact stores (§5).
//! - [`coalesce`]: many callers' lookups (or appends) in one round.
//! - [`sqlite`]: the embedded default on one SQLite file through sqlx.
//! - [`nats`]: the production log on NATS JetStream.
//! - [`postgres`]: the production read model and stores on PostgreSQL.
//! - [`trace`]: trace context carried across the log.
//! - [`contract`]: the port tests, written once and run against every backend.
//! - [`testing`]: real `nats-server` and PostgreSQL fixtures for tests.
//!
//! The last two are the test kit: built only with the `testing` feature (which the
//! workspace's tests and benchmarks turn on), never into the `ghor` binary.

pub mod coalesce;
#[cfg(any(test, feature = "testing"))]
pub mod contract;
pub mod nats;
pub mod ports;
pub mod postgres;
pub mod sqlite;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod trace;

pub use ports::*;
pub use sqlite::Embedded;
