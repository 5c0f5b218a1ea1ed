//! Test-only switches that break a part on purpose, so that tests can watch ghor notice,
//! say so and recover. Mounted only with `--fault-injection`; admin tokens only.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use crate::auth::Caller;
use crate::policy::{self, Action};
use crate::problem::Problem;

#[derive(Deserialize)]
pub struct For {
    /// How long the part stays broken.
    seconds: u64,
}

/// Stops the log follower of the caller's scope's gateway for `?seconds=`: it fails now
/// and at every restart until then.
pub async fn stop_gateway_follower(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Query(time): Query<For>,
) -> Result<StatusCode, Problem> {
    policy::decide(&caller, &Action::InjectFaults)?;
    state.gateway(caller.scope())?.stop_follower_for(Duration::from_secs(time.seconds.min(300)));
    Ok(StatusCode::ACCEPTED)
}
