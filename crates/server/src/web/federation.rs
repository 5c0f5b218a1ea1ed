//! The national level's links to the regions (DESIGN.md §5): for each region the caller may
//! read, whether its log still reaches the national picture, and if not since when. While a
//! link is down the national picture holds that region as it was when the link dropped; the
//! page marks it so. A region's own ghor answers that it is a region, with no links.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use ghor_domain::RegionCode;
use schemars::JsonSchema;
use serde::Serialize;

use super::AppState;
use crate::auth::Caller;
use crate::policy::{self, Action};
use crate::problem::Problem;

/// How long the national level may not hear from a region before its link counts as down.
/// A sourced stream hears from a linked region about every second, busy or idle.
pub const LINK_SILENCE: Duration = Duration::from_secs(10);

/// Which level this ghor serves, and its links to the regions.
#[derive(Serialize, JsonSchema)]
pub struct Federation {
    /// `national` when the picture is fed by the regions' logs, else `region`.
    level: Level,
    regions: Vec<RegionLink>,
}

#[derive(Serialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Level {
    National,
    Region,
}

/// One region's link, as the national level last heard from it.
#[derive(Serialize, JsonSchema)]
pub struct RegionLink {
    region: RegionCode,
    /// `up`, or `down`: the national picture shows this region as of `last_contact`.
    link: LinkState,
    /// When the national level last heard from the region; none if it never has.
    last_contact: Option<DateTime<Utc>>,
    /// Events the region holds that the national picture has not yet taken in.
    lag: u64,
}

#[derive(Serialize, JsonSchema, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum LinkState {
    Up,
    Down,
}

/// `GET /v1/federation`: the level, and the links of the regions the caller may read.
pub async fn links(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Federation>, Problem> {
    let scope = caller.scope();
    let log = state.backbone.logs.get(&scope).ok_or_else(|| Problem::internal(format!("no log for scope {scope}")))?;
    if log.sourced_from().is_empty() {
        return Ok(Json(Federation { level: Level::Region, regions: Vec::new() }));
    }
    let now = Utc::now();
    let regions = log
        .links()
        .await?
        .into_iter()
        .filter(|link| policy::decide(&caller, &Action::ReadPicture { region: link.region }).is_ok())
        .map(|link| RegionLink {
            region: link.region,
            link: match link.last_contact {
                Some(ago) if ago <= LINK_SILENCE => LinkState::Up,
                _ => LinkState::Down,
            },
            last_contact: link.last_contact.and_then(|ago| chrono::Duration::from_std(ago).ok()).map(|ago| now - ago),
            lag: link.lag,
        })
        .collect();
    Ok(Json(Federation { level: Level::National, regions }))
}
