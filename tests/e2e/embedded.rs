//! The suite on the embedded backbone; each test file reaches it through `super::start()`.

use crate::harness::{Backend, Ghor};

const BACKEND: Backend = Backend::Embedded;

pub async fn start() -> Ghor {
    Ghor::start_on(BACKEND).await
}

pub async fn bare() -> Ghor {
    Ghor::bare_on(BACKEND).await
}

pub async fn start_with_env(env: &[(&str, String)]) -> Ghor {
    Ghor::start_with_env(BACKEND, env).await
}

#[path = "authz.rs"]
mod authz;
#[path = "bad_input.rs"]
mod bad_input;
#[path = "exchange.rs"]
mod exchange;
#[path = "holes.rs"]
mod holes;
#[path = "metrics.rs"]
mod metrics;
#[path = "notify.rs"]
mod notify;
#[path = "past.rs"]
mod past;
#[path = "picture.rs"]
mod picture;
#[path = "reports.rs"]
mod reports;
#[path = "screens.rs"]
mod screens;
#[path = "stream.rs"]
mod stream;
#[path = "stream_limits.rs"]
mod stream_limits;
#[path = "subscriptions.rs"]
mod subscriptions;
#[path = "supervision.rs"]
mod supervision;
#[path = "warm.rs"]
mod warm;
