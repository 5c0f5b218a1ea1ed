//! Preparing an exercise in one step: the OTO copies the live registry of its regions
//! (organisations and locations, never contacts, which stay per scope) into the exercise
//! scope, so an exercise starts with the real chain on the map instead of an empty one.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use chrono::Utc;
use ghor_domain::{RegionCode, Scope, Submission};
use serde_json::{json, Value};

use super::AppState;
use crate::auth::Caller;
use crate::ingest::Receipt;
use crate::policy::{self, Capability};
use crate::problem::Problem;
use ghor_store::Appended;

/// `POST /v1/oefening/prepare`: appends, through ingest and so under the caller's own
/// rights, each live registration of its regions that the exercise does not hold yet; the
/// live event's id is kept, so a repeat within the log's duplicate window is a duplicate,
/// and one that already holds an equal registration is skipped.
pub async fn prepare(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Prepared>, Problem> {
    if caller.scope() != Scope::Oefening {
        return Err(Problem::conflict(
            "scope",
            "This token acts in the live scope. Preparing an exercise takes a token of the exercise scope (OTO).",
        ));
    }
    if !policy::may(&caller, Capability::Register) {
        return Err(Problem::forbidden(None, "Only who may register locations in the exercise can prepare it (OTO)."));
    }
    let (events, mut already) = missing(&state, &caller.regions())?;
    let mut stored = [0usize; 2];
    for (kind, events) in events.into_iter().enumerate() {
        for chunk in events.chunks(state.limits.batch_items) {
            let submissions = chunk.iter().map(|e| Submission::parse(e.clone())).collect();
            for result in state.ingest.submit_batch(&caller, submissions, Utc::now()).await {
                match result? {
                    Receipt { appended: Appended::Stored { .. }, .. } => stored[kind] += 1,
                    Receipt { appended: Appended::Duplicate { .. }, .. } => already += 1,
                }
            }
        }
    }
    Ok(Json(Prepared { organisations: stored[0], locations: stored[1], already }))
}

/// How many organisations and locations were copied into the exercise, and how many it
/// already held.
#[derive(serde::Serialize, schemars::JsonSchema)]
pub struct Prepared {
    organisations: usize,
    locations: usize,
    already: usize,
}

/// The registration events of `regions` the exercise lacks: organisations first, so each
/// location's organisation is known when it arrives, then locations; and how many it holds.
fn missing(state: &AppState, regions: &[RegionCode]) -> Result<([Vec<Value>; 2], usize), Problem> {
    let (live, exercise) = (state.gateway(Scope::Live)?.state(), state.gateway(Scope::Oefening)?.state());
    let mut already = 0;
    let mut organisations = Vec::new();
    let mut locations = Vec::new();
    for (id, location) in &live.picture.locations {
        let Some(info) = location.info.as_ref().filter(|i| regions.contains(&i.value.region)) else { continue };
        let held = exercise.picture.locations.get(id).and_then(|l| l.info.as_ref());
        if held.is_some_and(|h| h.value == info.value) {
            already += 1;
            continue;
        }
        locations.push(json!({
            "specversion": "1.0", "id": info.id, "source": format!("/locations/{id}"),
            "type": "nl.ghor.location.registered.v1", "time": info.time, "data": info.value,
        }));
        let organisation = &info.value.organisation;
        let Some(org) = live.picture.organisations.get(organisation) else { continue };
        let listed = organisations.iter().any(|(o, _)| o == organisation);
        if listed || exercise.picture.organisations.get(organisation).is_some_and(|h| h.value == org.value) {
            continue;
        }
        let event = json!({
            "specversion": "1.0", "id": org.id, "source": format!("/regions/{}", info.value.region),
            "type": "nl.ghor.organisation.registered.v1", "subject": organisation, "time": org.time, "data": org.value,
        });
        organisations.push((organisation.clone(), event));
    }
    Ok(([organisations.into_iter().map(|(_, e)| e).collect(), locations], already))
}
