//! The informatiemanager's desk in the warm phase: an uitvraag across every region the
//! caller may see (a drawn area crosses region borders, a region's view shows its own
//! part), with the call list of those who have not answered, in the order to call them,
//! and their 24/7 contacts where the caller may read them. Writing (opening, calls,
//! closing, handelingsperspectief, "gelezen") goes through `/v1/events` like every report.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use chrono::Utc;
use ghor_domain::picture::LocationState;
use ghor_domain::warm::{call_order, UitvraagState};
use ghor_domain::{Picture, RegionCode, Slug};
use serde_json::{json, Value};

use super::AppState;
use crate::auth::Caller;
use crate::gateway::visibility::Visibility;
use crate::policy::{self, Action};
use crate::problem::Problem;

/// A registered location's region and organisation: what the policy decides on.
fn whose<'p>(picture: &'p Picture, id: &Slug) -> Option<(RegionCode, &'p Slug)> {
    let location = picture.locations.get(id)?;
    Some((location.region()?, &location.info.as_ref()?.value.organisation))
}

/// Whether the caller may see this location's detail.
fn sees(caller: &Caller, picture: &Picture, id: &Slug) -> bool {
    whose(picture, id).is_some_and(|(region, organisation)| {
        policy::decide(caller, &Action::ReadLocation { region, organisation }).is_ok()
    })
}

/// Whether the caller may read this location's 24/7 contacts.
fn may_read_contacts(caller: &Caller, picture: &Picture, id: &Slug) -> bool {
    whose(picture, id).is_some_and(|(region, organisation)| {
        policy::decide(caller, &Action::ReadContacts { region, organisation }).is_ok()
    })
}

/// Uitvragen that address a location the caller sees, newest first, each with what the
/// caller sees of it.
pub async fn list(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Value>, Problem> {
    let gateway = state.gateway(caller.scope())?;
    let st = gateway.state();
    let mut shown: Vec<(&Slug, &UitvraagState)> = st
        .picture
        .uitvragen
        .iter()
        .filter(|(_, u)| u.addressed.iter().any(|l| sees(&caller, &st.picture, l)))
        .collect();
    shown.sort_by_key(|(_, u)| std::cmp::Reverse(u.opened.time));
    let uitvragen = shown
        .into_iter()
        .map(|(id, u)| Ok(json!({ "id": id, "uitvraag": seen(&caller, &st.picture, u)? })))
        .collect::<Result<Vec<Value>, Problem>>()?;
    Ok(Json(json!({ "now": Utc::now(), "uitvragen": uitvragen })))
}

/// One uitvraag as the caller may see it, with its call list.
pub async fn one(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    let missing = || Problem::not_found(format!("No uitvraag {id:?} concerns a location this token may see."));
    let slug = Slug::try_from(id.as_str()).map_err(|_| missing())?;
    // What the call list needs, taken while the picture is held; contacts are read after.
    let (uitvraag, order) = {
        let gateway = state.gateway(caller.scope())?;
        let st = gateway.state();
        let picture = &st.picture;
        let u = picture.uitvragen.get(&slug).filter(|u| u.addressed.iter().any(|l| sees(&caller, picture, l)));
        let u = u.ok_or_else(missing)?;
        let order: Vec<(Slug, bool, Value)> = call_order(u, &picture.locations, |l| sees(&caller, picture, l))
            .into_iter()
            .map(|l| (l.clone(), may_read_contacts(&caller, picture, l), called_location(picture.locations.get(l))))
            .collect();
        (seen(&caller, picture, u)?, order)
    };
    let mut call_list = Vec::with_capacity(order.len());
    for (location, contacts, mut entry) in order {
        entry["id"] = json!(location);
        let addressed = &uitvraag["locations"][location.as_str()];
        entry["state"] = addressed["state"].clone();
        entry["calls"] = addressed.get("calls").cloned().unwrap_or_else(|| json!([]));
        if contacts {
            entry["contacts"] = json!(state.backbone.contacts.contacts(caller.scope(), &location).await?);
        }
        call_list.push(entry);
    }
    Ok(Json(json!({ "id": slug, "now": Utc::now(), "uitvraag": uitvraag, "call_list": call_list })))
}

/// An uitvraag with the addressed locations the caller sees; counts only for those who see
/// every location (they would tell others how the rest answered).
fn seen(caller: &Caller, picture: &Picture, u: &UitvraagState) -> Result<Value, Problem> {
    let mut view = u.view(|l| sees(caller, picture, l));
    if policy::visibility(caller) != Visibility::Full {
        view.counts.clear();
    }
    serde_json::to_value(view).map_err(Problem::internal)
}

/// What the call list says of a location besides its answer: who it is and when it last
/// reported anything.
fn called_location(location: Option<&LocationState>) -> Value {
    let info = location.and_then(|l| l.info.as_ref()).map(|i| &i.value);
    json!({
        "name": info.map(|i| i.name.as_str()),
        "organisation": info.map(|i| &i.organisation),
        "type": info.map(|i| i.location_type),
        "region": location.and_then(LocationState::region),
        "municipality": info.and_then(|i| i.municipality.as_ref()).map(|m| m.as_str()),
        "last_report": location.and_then(LocationState::last_report),
    })
}
