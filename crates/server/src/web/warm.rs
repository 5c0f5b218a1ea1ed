//! The informatiemanager's desk in the warm phase: an uitvraag across every region the
//! caller may see (a drawn area crosses region borders, a region's view shows its own
//! part), with the call list of those who have not answered, in the order to call them,
//! and their 24/7 contacts where the caller may read them. Writing (opening, calls,
//! closing, handelingsperspectief, "gelezen") goes through `/v1/events` like every report.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use ghor_domain::picture::LocationState;
use ghor_domain::vocab::{AnswerState, LocationType};
use ghor_domain::warm::{call_order, CallView, UitvraagState, UitvraagView};
use ghor_domain::{Picture, RegionCode, Slug};
use ghor_store::Contact;
use schemars::JsonSchema;
use serde::Serialize;

use super::openapi::SlugPath;
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
pub async fn list(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Uitvragen>, Problem> {
    let gateway = state.gateway(caller.scope())?;
    let st = gateway.state();
    let mut shown: Vec<(&Slug, &UitvraagState)> = st
        .picture
        .uitvragen
        .iter()
        .filter(|(_, u)| u.addressed.iter().any(|l| sees(&caller, &st.picture, l)))
        .collect();
    shown.sort_by_key(|(_, u)| std::cmp::Reverse(u.opened.time));
    let uitvragen =
        shown.into_iter().map(|(id, u)| Listed { id: id.clone(), uitvraag: seen(&caller, &st.picture, u) }).collect();
    Ok(Json(Uitvragen { now: Utc::now(), uitvragen }))
}

/// The uitvragen the caller sees, newest first.
#[derive(Serialize, JsonSchema)]
pub struct Uitvragen {
    now: DateTime<Utc>,
    uitvragen: Vec<Listed>,
}

#[derive(Serialize, JsonSchema)]
pub struct Listed {
    id: Slug,
    uitvraag: UitvraagView,
}

/// One uitvraag, with those to call in the order to call them.
#[derive(Serialize, JsonSchema)]
pub struct OneUitvraag {
    id: Slug,
    now: DateTime<Utc>,
    uitvraag: UitvraagView,
    call_list: Vec<ToCall>,
}

/// A location on the call list: who it is, when it last reported anything, how it
/// answered, the calls made, and its 24/7 contacts where the caller may read them.
#[derive(Serialize, JsonSchema)]
pub struct ToCall {
    id: Slug,
    name: Option<String>,
    organisation: Option<Slug>,
    #[serde(rename = "type")]
    location_type: Option<LocationType>,
    region: Option<RegionCode>,
    municipality: Option<String>,
    last_report: Option<DateTime<Utc>>,
    state: Option<AnswerState>,
    calls: Vec<CallView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contacts: Option<Vec<Contact>>,
}

/// One uitvraag as the caller may see it, with its call list.
pub async fn one(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(SlugPath { id }): Path<SlugPath>,
) -> Result<Json<OneUitvraag>, Problem> {
    let missing = || Problem::not_found(format!("No uitvraag {id:?} concerns a location this token may see."));
    let slug = Slug::try_from(id.as_str()).map_err(|_| missing())?;
    // What the call list needs, taken while the picture is held; contacts are read after.
    let (uitvraag, order) = {
        let gateway = state.gateway(caller.scope())?;
        let st = gateway.state();
        let picture = &st.picture;
        let u = picture.uitvragen.get(&slug).filter(|u| u.addressed.iter().any(|l| sees(&caller, picture, l)));
        let u = u.ok_or_else(missing)?;
        let uitvraag = seen(&caller, picture, u);
        let order: Vec<(ToCall, bool)> = call_order(u, &picture.locations, |l| sees(&caller, picture, l))
            .into_iter()
            .map(|l| (to_call(l, picture.locations.get(l), &uitvraag), may_read_contacts(&caller, picture, l)))
            .collect();
        (uitvraag, order)
    };
    let mut call_list = Vec::with_capacity(order.len());
    for (mut entry, contacts) in order {
        if contacts {
            entry.contacts = Some(state.backbone.contacts.contacts(caller.scope(), &entry.id).await?);
        }
        call_list.push(entry);
    }
    Ok(Json(OneUitvraag { id: slug, now: Utc::now(), uitvraag, call_list }))
}

/// An uitvraag with the addressed locations the caller sees; counts only for those who see
/// every location (they would tell others how the rest answered).
fn seen(caller: &Caller, picture: &Picture, u: &UitvraagState) -> UitvraagView {
    let mut view = u.view(|l| sees(caller, picture, l));
    if policy::visibility(caller) != Visibility::Full {
        view.counts.clear();
    }
    view
}

/// What the call list says of a location: who it is, when it last reported anything, and
/// its answer so far.
fn to_call(id: &Slug, location: Option<&LocationState>, uitvraag: &UitvraagView) -> ToCall {
    let info = location.and_then(|l| l.info.as_ref()).map(|i| &i.value);
    let addressed = uitvraag.locations.get(id);
    ToCall {
        id: id.clone(),
        name: info.map(|i| i.name.as_str().to_owned()),
        organisation: info.map(|i| i.organisation.clone()),
        location_type: info.map(|i| i.location_type),
        region: location.and_then(LocationState::region),
        municipality: info.and_then(|i| i.municipality.as_ref()).map(|m| m.as_str().to_owned()),
        last_report: location.and_then(LocationState::last_report),
        state: addressed.map(|a| a.state),
        calls: addressed.map(|a| a.calls.clone()).unwrap_or_default(),
        contacts: None,
    }
}
