//! The JSON API: report events (one or a batch), read the picture, the registry and its
//! contacts, the quarantine, and manage tokens. Every endpoint asks the policy
//! ([`crate::policy::decide`]) about the object it touches, from the caller's token alone.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, NoContent, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use ghor_domain::error::ErrorCode;
use ghor_domain::payload::LocationInfo;
use ghor_domain::schema::AnyEvent;
use ghor_domain::view::{IncidentView, LocationStaleness, LocationView, RegionView, Staleness};
use ghor_domain::vocab::{Audience, Bron, Category, ContactRole, Dimension, ThresholdKey};
use ghor_domain::{FieldError, Picture, RegionCode, Role, Scope, Slug, Submission};
use ghor_store::{Appended, Contact, Filter, LogEntry, Quarantined, TokenInfo};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::openapi::{Batch, Body, Created, Holds, LocationPath, RegionPath, UuidPath};
use super::AppState;
use crate::auth::{issue, Caller, TokenRequest};
use crate::gateway::feed::FeedEntry;
use crate::gateway::lookback::{Clock, Past, Unanswered};
use crate::gateway::{visibility, Folded, Gateway};
use crate::ingest::{outcome, Receipt};
use crate::policy::{self, Action, Capability, TokenTarget};
use crate::problem::Problem;
use crate::security;

/// Who the caller is and what the policy lets it do: `may` (capabilities), the `bron` it
/// may claim, the roles whose tokens it may `mint`, and the `audience` whose share of other
/// locations it sees by agreement; the page shows what these allow.
pub async fn me(State(state): State<Arc<AppState>>, caller: Caller) -> Json<Me> {
    let t = &caller.token;
    let audience = match caller.visibility() {
        visibility::Visibility::Agreed { audience, .. } => audience,
        visibility::Visibility::Full => None,
    };
    // The national level shows the regions it is fed by, and offers no changes.
    let (linked, read_only) = (state.linked_regions(t.scope), state.read_only(t.scope));
    let regions = caller.regions().into_iter().filter(|r| !read_only || linked.contains(r)).collect();
    let may: Vec<Capability> =
        policy::capabilities(&caller).iter().copied().filter(|c| !(read_only && c.changes())).collect();
    Json(Me {
        audience,
        actor: t.name.clone(),
        role: t.role,
        regions,
        national: t.regions.is_empty(),
        organisation: t.organisation.clone(),
        scope: t.scope,
        expires: t.expires,
        bron: if read_only { &[] } else { policy::bron(&caller) },
        may,
        mints: policy::mintable(&caller),
    })
}

/// The caller as the policy sees it.
#[derive(Serialize, JsonSchema)]
pub struct Me {
    audience: Option<Audience>,
    /// The token's holder, recorded as `actor` on what it writes.
    actor: String,
    role: Role,
    regions: Vec<RegionCode>,
    national: bool,
    organisation: Option<Slug>,
    scope: Scope,
    expires: DateTime<Utc>,
    may: Vec<Capability>,
    bron: &'static [Bron],
    mints: Vec<Role>,
}

pub async fn post_event(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    body: Body<AnyEvent>,
) -> Result<Receipted, Problem> {
    let started = Instant::now();
    let result = async {
        let bytes = body.bytes(state.limits.body_bytes)?;
        let submission = Submission::from_slice(&bytes);
        if submission.is_err() && Problem::from_json(&bytes)?.is_array() {
            return Err(Problem::bad_request(
                "batch-on-single",
                "This endpoint takes one event; send arrays to /v1/events/batch.",
            ));
        }
        state.ingest.submit(&caller, submission, Utc::now()).await
    }
    .await;
    state.metrics.ingest_seconds.with_label_values(&["single"]).observe(started.elapsed().as_secs_f64());
    result.map(Receipted)
}

/// An accepted event's receipt: 201 when it was stored now, 200 when the same (source, id)
/// already was (a retry), with the sequence it holds in the log either way.
pub struct Receipted(Receipt);

impl IntoResponse for Receipted {
    fn into_response(self) -> Response {
        let status = match self.0.appended {
            Appended::Stored { .. } => StatusCode::CREATED,
            Appended::Duplicate { .. } => StatusCode::OK,
        };
        (status, Json(self.0)).into_response()
    }
}

impl aide::OperationOutput for Receipted {
    type Inner = Receipt;

    fn inferred_responses(
        ctx: &mut aide::generate::GenContext,
        operation: &mut aide::openapi::Operation,
    ) -> Vec<(Option<aide::openapi::StatusCode>, aide::openapi::Response)> {
        let Some(receipt) = Json::<Receipt>::operation_response(ctx, operation) else { return Vec::new() };
        [(201, "Stored."), (200, "Already stored: a retry of the same (source, id); nothing was stored twice.")]
            .into_iter()
            .map(|(status, description)| {
                let response = aide::openapi::Response { description: description.into(), ..receipt.clone() };
                (Some(aide::openapi::StatusCode::Code(status)), response)
            })
            .collect()
    }
}

pub async fn post_batch(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    body: Body<Batch>,
) -> Result<Json<BatchAnswer>, Problem> {
    let started = Instant::now();
    let bytes = body.bytes(state.limits.batch_bytes)?;
    // Each item is read from its own bytes (see `Submission::from_slice`).
    let Some(items) = Submission::batch_items(&bytes) else {
        Problem::from_json(&bytes)?;
        return Err(Problem::bad_request("batch-not-array", "A batch is a JSON array of events."));
    };
    batch_allowed(&state, &caller, items.len())?;
    let submissions = items.iter().map(|item| Submission::from_slice(item.get().as_bytes())).collect();
    let results = submit_batch(&state, &caller, submissions, started).await;
    Ok(Json(BatchAnswer { results }))
}

/// Whether `caller` may send a batch of `events` now: not over the size limit, and within
/// its rate, which a batch costs more of than a single request.
pub(super) fn batch_allowed(state: &AppState, caller: &Caller, events: usize) -> Result<(), Problem> {
    if events > state.limits.batch_items {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch-too-large",
            "The batch is too large",
            format!(
                "The batch holds {events} events; at most {} are accepted per request. Split it.",
                state.limits.batch_items
            ),
        ));
    }
    state
        .rate
        .take(caller.token.id, events as f64 / 10.0)
        .map_err(|wait| Problem::too_many("This token sends events faster than its rate limit.", wait))
}

/// A batch through ingest, timed: a result per item, in the order given.
pub(super) async fn submit_batch(
    state: &AppState,
    caller: &Caller,
    submissions: Vec<Result<Submission, FieldError>>,
    started: Instant,
) -> Vec<BatchItem> {
    let results = state.ingest.submit_batch(caller, submissions, Utc::now()).await;
    state.metrics.ingest_seconds.with_label_values(&["batch"]).observe(started.elapsed().as_secs_f64());
    results
        .into_iter()
        .enumerate()
        .map(|(index, result)| {
            let status = outcome(&result);
            match result {
                Ok(Receipt { id, source, appended }) => {
                    BatchItem::Accepted { index, id, source, status, seq: appended.seq() }
                }
                Err(problem) => BatchItem::Rejected { index, status, problem },
            }
        })
        .collect()
}

/// The answer to a batch: a result per item, in the order given.
#[derive(Serialize, JsonSchema)]
pub struct BatchAnswer {
    results: Vec<BatchItem>,
}

/// One item's result in a batch answer.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub(super) enum BatchItem {
    /// As [`Receipt`] serialises, with the index.
    Accepted {
        index: usize,
        id: uuid::Uuid,
        source: String,
        status: &'static str,
        seq: u64,
    },
    Rejected {
        index: usize,
        status: &'static str,
        problem: Problem,
    },
}

/// A region's view and staleness as the caller may see them: the visibility filter
/// leaves out what its role and the agreements withhold, so the shapes are those of the
/// types named, less that.
#[derive(Serialize, JsonSchema)]
pub struct RegionPicture {
    #[schemars(with = "RegionView")]
    pub(super) view: Value,
    #[schemars(with = "Staleness")]
    staleness: Value,
}

/// A region's view as `caller` may see it, with each value's age at `now`: `rules` holds
/// the registrations and agreements that decide what it sees (the present ones, also of a
/// past view).
pub(super) fn shown_region(
    caller: &Caller,
    rules: &Picture,
    view: &RegionView,
    now: DateTime<Utc>,
) -> Result<RegionPicture, Problem> {
    let visibility = caller.visibility();
    let mut staleness = serde_json::to_value(view.staleness(now)).map_err(Problem::internal)?;
    visibility.filter_staleness(rules, &mut staleness);
    let mut shown = serde_json::to_value(view).map_err(Problem::internal)?;
    visibility.filter_view(rules, || Cow::Borrowed(view), &mut shown);
    Ok(RegionPicture { view: shown, staleness })
}

/// Where in the log an answer stands: the epoch and the last sequence folded; of a past
/// moment also the moment, its clock, and where the fold stopped at an event this build
/// cannot read yet.
#[derive(Serialize, JsonSchema)]
pub struct Position {
    epoch: uuid::Uuid,
    seq: u64,
    now: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    clock: Option<Clock>,
    #[serde(skip_serializing_if = "Option::is_none")]
    held_back: Option<u64>,
}

fn position(state: &AppState, scope: Scope) -> Result<Position, Problem> {
    let gateway = state.gateway(scope)?;
    let st = gateway.state();
    Ok(Position { epoch: st.epoch, seq: st.seq, now: Utc::now(), at: None, clock: None, held_back: None })
}

/// A past moment to read the picture at, instead of now.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MomentQuery {
    /// The moment (RFC 3339 with an offset, e.g. 2026-11-22T14:00:00Z); leave it out for now.
    #[schemars(with = "Option<DateTime<Utc>>")]
    at: Option<String>,
    /// `known` (the default): the picture as ghor had received it then; `observed`: what
    /// had been observed by then, also what was reported later.
    #[schemars(with = "Option<Clock>")]
    clock: Option<String>,
}

impl MomentQuery {
    /// The moment asked for, if any, each mistake named by its field.
    pub(super) fn parse(
        query: Result<Query<MomentQuery>, QueryRejection>,
    ) -> Result<Option<(DateTime<Utc>, Clock)>, Problem> {
        let Query(query) = query.map_err(|e| query_problem(&e, "at"))?;
        moment(query.at.as_deref(), query.clock.as_deref())
    }
}

/// A query string that does not parse, as a problem naming its parameter (an unknown or
/// repeated one: serde names it between backquotes), else `field`.
pub(super) fn query_problem(e: &QueryRejection, field: &str) -> Problem {
    let text = e.body_text();
    Problem::invalid_parameter(FieldError::new(text.split('`').nth(1).unwrap_or(field), ErrorCode::Malformed, &text))
}

/// The past moment and clock `at` and `clock` ask for, if any.
pub(super) fn moment(at: Option<&str>, clock: Option<&str>) -> Result<Option<(DateTime<Utc>, Clock)>, Problem> {
    let clock_read = match clock {
        None | Some("known") => Clock::Known,
        Some("observed") => Clock::Observed,
        Some(other) => {
            let reason = format!("{other:?} is not a clock; give known or observed");
            let e =
                FieldError::new("clock", ErrorCode::NotInVocabulary, &reason).with("allowed", ["known", "observed"]);
            return Err(Problem::invalid_parameter(e));
        }
    };
    match parse_moment("at", at)? {
        Some(at) => Ok(Some((at, clock_read))),
        None if clock.is_some() => {
            let e = FieldError::new("clock", ErrorCode::Malformed, "a clock goes with a moment: give at as well");
            Err(Problem::invalid_parameter(e))
        }
        None => Ok(None),
    }
}

/// A moment given as the parameter `field`, if given.
pub(super) fn parse_moment(field: &str, text: Option<&str>) -> Result<Option<DateTime<Utc>>, Problem> {
    text.map(|t| {
        DateTime::parse_from_rfc3339(t).map(|t| t.with_timezone(&Utc)).map_err(|e| {
            let reason = format!("{t:?} is not a moment with an offset such as 2026-11-22T14:00:00Z: {e}");
            Problem::invalid_parameter(FieldError::new(field, ErrorCode::NotATimestamp, &reason))
        })
    })
    .transpose()
}

/// The picture at a past moment, or the problem to answer with.
pub(super) async fn look_back(gateway: &Gateway, at: DateTime<Utc>, clock: Clock) -> Result<Past, Problem> {
    gateway.lookback.at(at, clock).await.map_err(|e| match e {
        Unanswered::Future => {
            let minutes = (at - Utc::now()).num_minutes().max(1);
            let reason = "lies ahead: give a moment in the past, or leave at out for now";
            Problem::invalid_parameter(FieldError::new("at", ErrorCode::InTheFuture, reason).with("minutes", minutes))
        }
        Unanswered::Indexing { indexed, last } => Problem::unavailable(
            format!("ghor is still reading the log to look back ({indexed} of {last} events); try again shortly."),
            2,
        ),
        Unanswered::Store(e) => e.into(),
    })
}

/// The picture an answer is taken from: the gateway's now, or a past moment's.
enum Seen {
    Now(Position),
    Past(Position, Past),
}

impl Seen {
    async fn at(
        state: &AppState,
        caller: &Caller,
        moment: Result<Query<MomentQuery>, QueryRejection>,
    ) -> Result<Seen, Problem> {
        let Some((at, clock)) = MomentQuery::parse(moment)? else {
            return Ok(Seen::Now(position(state, caller.scope())?));
        };
        let gateway = state.gateway(caller.scope())?;
        let past = look_back(gateway, at, clock).await?;
        let position = Position {
            epoch: gateway.epoch(),
            seq: past.seq,
            now: Utc::now(),
            at: Some(at),
            clock: Some(clock),
            held_back: past.held_back,
        };
        Ok(Seen::Past(position, past))
    }

    fn position(self) -> Position {
        match self {
            Seen::Now(position) | Seen::Past(position, _) => position,
        }
    }

    /// A region's whole view then, and the moment its ages are counted to.
    fn view<'a>(&'a self, st: &'a Folded, region: RegionCode) -> (Cow<'a, RegionView>, DateTime<Utc>) {
        match self {
            Seen::Now(_) => (st.region_view(region), Utc::now()),
            Seen::Past(_, past) => (Cow::Owned(past.picture.region_view(region)), past.at),
        }
    }

    /// A region's view then, as the caller may see it now.
    fn region(&self, state: &AppState, caller: &Caller, region: RegionCode) -> Result<RegionPicture, Problem> {
        let gateway = state.gateway(caller.scope())?;
        let st = gateway.state();
        let (view, now) = self.view(&st, region);
        shown_region(caller, &st.picture, &view, now)
    }
}

/// The picture of every region the caller may read.
#[derive(Serialize, JsonSchema)]
pub struct WholePicture {
    #[serde(flatten)]
    position: Position,
    scope: Scope,
    regions: BTreeMap<RegionCode, RegionPicture>,
}

pub async fn picture(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    moment: Result<Query<MomentQuery>, QueryRejection>,
) -> Result<Json<WholePicture>, Problem> {
    let seen = Seen::at(&state, &caller, moment).await?;
    let mut regions = BTreeMap::new();
    for region in caller.regions() {
        policy::decide(&caller, &Action::ReadPicture { region })?;
        regions.insert(region, seen.region(&state, &caller, region)?);
    }
    Ok(Json(WholePicture { position: seen.position(), scope: caller.scope(), regions }))
}

/// The region a path names, once the caller may read its picture.
pub(super) fn readable_region(caller: &Caller, region: &str) -> Result<RegionCode, Problem> {
    let region = RegionCode::try_from(region).map_err(|r| Problem::not_found(format!("No such region: {r}.")))?;
    policy::decide(caller, &Action::ReadPicture { region })?;
    Ok(region)
}

/// One region's picture.
#[derive(Serialize, JsonSchema)]
pub struct OneRegion {
    #[serde(flatten)]
    position: Position,
    #[serde(flatten)]
    picture: RegionPicture,
}

pub async fn region(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(RegionPath { region }): Path<RegionPath>,
    moment: Result<Query<MomentQuery>, QueryRejection>,
) -> Result<Json<OneRegion>, Problem> {
    let region = readable_region(&caller, &region)?;
    let seen = Seen::at(&state, &caller, moment).await?;
    let picture = seen.region(&state, &caller, region)?;
    Ok(Json(OneRegion { position: seen.position(), picture }))
}

/// A region's raised/cleared alert feed, newest first, as far as the caller may see the
/// alerts: what happened before a page was opened.
pub async fn alert_feed(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(RegionPath { region }): Path<RegionPath>,
) -> Result<Json<AlertFeed>, Problem> {
    let region = readable_region(&caller, &region)?;
    let gateway = state.gateway(caller.scope())?;
    let st = gateway.state();
    let visibility = caller.visibility();
    let feed: Vec<_> =
        st.alert_feed.of(region).into_iter().filter(|e| visibility.sees_alert(&st.picture, &e.id)).cloned().collect();
    Ok(Json(AlertFeed { region, feed }))
}

/// A region's raised and cleared alerts, newest first.
#[derive(Serialize, JsonSchema)]
pub struct AlertFeed {
    region: RegionCode,
    feed: Vec<FeedEntry>,
}

/// A registered location of the caller's scope: its id, region and organisation.
pub(super) struct Registered {
    pub slug: Slug,
    pub region: RegionCode,
    pub organisation: Slug,
}

pub(super) fn registered(state: &AppState, caller: &Caller, id: &str) -> Result<Registered, Problem> {
    let slug = Slug::try_from(id).map_err(|_| Problem::not_found(format!("No location {id:?}.")))?;
    let gateway = state.gateway(caller.scope())?;
    let st = gateway.state();
    let location = st.picture.locations.get(&slug);
    let info = location.and_then(|l| l.info.as_ref());
    let (Some(region), Some(info)) = (location.and_then(|l| l.region()), info) else {
        return Err(Problem::not_found(format!("No location {id:?} is registered.")));
    };
    Ok(Registered { organisation: info.value.organisation.clone(), slug, region })
}

/// How much of a registered location the caller sees: whole (`None`, the policy's word),
/// or (`Some`) the dimensions its organisation agreed to share with the caller's audience.
/// Neither: the policy's refusal.
pub(super) fn sight(state: &AppState, caller: &Caller, l: &Registered) -> Result<Option<BTreeSet<Dimension>>, Problem> {
    let denied = match policy::decide(caller, &Action::ReadLocation { region: l.region, organisation: &l.organisation })
    {
        Ok(()) => return Ok(None),
        Err(denied) => denied,
    };
    let gateway = state.gateway(caller.scope())?;
    let shared = caller.visibility().shared(&gateway.state().picture, l.slug.as_str());
    if shared.is_empty() || policy::decide(caller, &Action::ReadPicture { region: l.region }).is_err() {
        return Err(denied.into());
    }
    Ok(Some(shared))
}

/// A location as the caller may see it: whole, or (seen by agreement) its shared
/// dimensions alone; its contacts only when the caller may read them.
#[derive(Serialize, JsonSchema)]
pub struct OneLocation {
    id: Slug,
    region: RegionCode,
    #[serde(flatten)]
    position: Position,
    #[schemars(with = "Option<LocationView>")]
    location: Value,
    #[schemars(with = "Option<LocationStaleness>")]
    staleness: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    contacts: Option<Vec<Contact>>,
}

pub async fn location(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(LocationPath { location: id }): Path<LocationPath>,
    moment: Result<Query<MomentQuery>, QueryRejection>,
) -> Result<Json<OneLocation>, Problem> {
    let l = registered(&state, &caller, &id)?;
    let sight = sight(&state, &caller, &l)?;
    let seen = Seen::at(&state, &caller, moment).await?;
    let contacts_shown = sight.is_none()
        && policy::decide(&caller, &Action::ReadContacts { region: l.region, organisation: &l.organisation }).is_ok();
    let (slug, region) = (l.slug, l.region);
    let (mut location, mut staleness) = {
        let gateway = state.gateway(caller.scope())?;
        let st = gateway.state();
        let (view, now) = seen.view(&st, region);
        let staleness = view.staleness(now).locations.remove(&slug);
        let location = serde_json::to_value(view.locations.get(&slug)).map_err(Problem::internal)?;
        (location, serde_json::to_value(staleness).map_err(Problem::internal)?)
    };
    let position = seen.position();
    if let Some(shared) = &sight {
        let full = location.clone();
        visibility::shared_part(&mut location, &full, shared, visibility::Part::Whole);
        let mut only = json!({ "locations": { slug.as_str(): staleness } });
        let gateway = state.gateway(caller.scope())?;
        caller.visibility().filter_staleness(&gateway.state().picture, &mut only);
        staleness = only["locations"][slug.as_str()].take();
    }
    let contacts =
        if contacts_shown { Some(state.backbone.contacts.contacts(caller.scope(), &slug).await?) } else { None };
    Ok(Json(OneLocation { id: slug, region, position, location, staleness, contacts }))
}

/// The most events a location's history answers with.
const HISTORY_LIMIT_MAX: usize = 100;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// How many events, newest first (default 20).
    #[schemars(range(min = 1, max = HISTORY_LIMIT_MAX))]
    limit: Option<usize>,
}

/// A location's recent events, newest first, and the sequence the log was read to.
#[derive(Serialize, JsonSchema)]
pub struct History {
    location: Slug,
    seq: u64,
    changes: Vec<Change>,
}

/// What a history shows of one stored event.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Change {
    #[serde(default)]
    seq: u64,
    id: uuid::Uuid,
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subject: Option<String>,
    time: DateTime<Utc>,
    received: DateTime<Utc>,
    actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bron: Option<Bron>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bevestigd: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prognose: Option<String>,
    data: Value,
}

/// A location's recent events (newest first), as the caller may see the location itself.
pub async fn location_history(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(LocationPath { location: id }): Path<LocationPath>,
    query: Result<Query<HistoryQuery>, QueryRejection>,
) -> Result<Json<History>, Problem> {
    let Query(query) =
        query.map_err(|e| Problem::invalid(FieldError::new("limit", ErrorCode::Malformed, &e.body_text())))?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=HISTORY_LIMIT_MAX).contains(&limit) {
        let e = FieldError::new("limit", ErrorCode::OutOfRange, &format!("give 1 to {HISTORY_LIMIT_MAX}"));
        return Err(Problem::invalid(e.with("min", 1).with("max", HISTORY_LIMIT_MAX)));
    }
    let l = registered(&state, &caller, &id)?;
    let sight = sight(&state, &caller, &l)?;
    let slug = l.slug;
    let (seq, entries) = location_entries(&state, &caller, &slug, limit).await?;
    // Seen by agreement: the reports of the shared dimensions alone.
    let shown = |body: &Value| {
        let dimension = || body["type"].as_str().and_then(|t| t.split('.').nth(2)).and_then(Dimension::parse);
        sight.as_ref().is_none_or(|shared| dimension().is_some_and(|d| shared.contains(&d)))
    };
    let changes = entries
        .iter()
        .map(|e| (e.seq, e.json()))
        .filter(|(_, body)| shown(body))
        .map(|(seq, body)| {
            let change = serde_json::from_value::<Change>(body).map_err(Problem::internal)?;
            Ok(Change { seq, ..change })
        })
        .collect::<Result<_, Problem>>()?;
    Ok(Json(History { location: slug, seq, changes }))
}

/// A location's newest `limit` events, newest first, and the log position read to: the
/// archive up to where it reaches, then the log after that (both indexed by location).
pub(super) async fn location_entries(
    state: &AppState,
    caller: &Caller,
    slug: &Slug,
    limit: usize,
) -> Result<(u64, Vec<LogEntry>), Problem> {
    let log = state
        .backbone
        .logs
        .get(&caller.scope())
        .ok_or_else(|| Problem::internal(format!("no log for scope {}", caller.scope())))?;
    let (archived, older) = state.backbone.read_model.location_history(caller.scope(), slug, limit).await?;
    let mut entries = Vec::new();
    let mut after = archived;
    loop {
        let newer = log.read_filtered(Filter::Location(slug), after, 1000).await?;
        let Some(last) = newer.last() else { break };
        after = last.seq;
        entries.extend(newer);
        entries.drain(..entries.len().saturating_sub(limit)); // only the newest are answered
    }
    entries.reverse();
    entries.extend(older);
    entries.truncate(limit);
    Ok((after, entries))
}

/// The registered locations the caller may read.
#[derive(Serialize, JsonSchema)]
pub struct Registry {
    locations: Vec<Registration>,
}

/// A location as registered, with its id and category.
#[derive(Serialize, JsonSchema)]
pub struct Registration {
    id: Slug,
    category: Category,
    #[serde(flatten)]
    info: LocationInfo,
}

pub async fn registry_locations(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Registry>, Problem> {
    let gateway = state.gateway(caller.scope())?;
    let st = gateway.state();
    let locations = st
        .picture
        .locations
        .iter()
        .filter_map(|(id, l)| Some((id, l.info.as_ref()?)))
        .filter(|(_, info)| {
            let (region, organisation) = (info.value.region, &info.value.organisation);
            policy::decide(&caller, &Action::ReadLocation { region, organisation }).is_ok()
        })
        .map(|(id, info)| Registration {
            id: id.clone(),
            category: info.value.location_type.category(),
            info: info.value.clone(),
        })
        .collect();
    Ok(Json(Registry { locations }))
}

/// Incidents of the caller's regions, by id (of those in its area that have not reported,
/// only the locations the caller sees).
#[derive(Serialize, JsonSchema)]
pub struct Incidents {
    #[schemars(with = "BTreeMap<Slug, IncidentView>")]
    incidents: serde_json::Map<String, Value>,
}

/// Incidents of the caller's regions, with their state, GRIP and area.
pub async fn incidents(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Incidents>, Problem> {
    let gateway = state.gateway(caller.scope())?;
    let st = gateway.state();
    let mut incidents = serde_json::Map::new();
    for region in caller.regions() {
        if policy::decide(&caller, &Action::ReadPicture { region }).is_err() {
            continue;
        }
        let mut shown = json!({ "incidents": st.region_view(region).incidents });
        caller.visibility().filter(&st, region, &mut shown);
        if let Value::Object(mut shown) = shown {
            if let Some(Value::Object(these)) = shown.remove("incidents") {
                incidents.extend(these);
            }
        }
    }
    Ok(Json(Incidents { incidents }))
}

/// A location's contacts; answering a read, the age they may reach before they are checked again.
#[derive(Serialize, JsonSchema)]
pub struct LocationContacts {
    location: Slug,
    contacts: Vec<Contact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verify_within_days: Option<u32>,
}

pub async fn contacts(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(LocationPath { location: id }): Path<LocationPath>,
) -> Result<Json<LocationContacts>, Problem> {
    let l = registered(&state, &caller, &id)?;
    policy::decide(&caller, &Action::ReadContacts { region: l.region, organisation: &l.organisation })?;
    let contacts = state.backbone.contacts.contacts(caller.scope(), &l.slug).await?;
    security::contacts_read(&caller, l.slug.as_str());
    let within = verify_within_days(&state, &caller, l.region)?;
    Ok(Json(LocationContacts { location: l.slug, contacts, verify_within_days: Some(within) }))
}

/// Days after which a contact's `verified_on` is too old: the region's threshold.
fn verify_within_days(state: &AppState, caller: &Caller, region: RegionCode) -> Result<u32, Problem> {
    Ok(state.gateway(caller.scope())?.state().picture.threshold(region, ThresholdKey::ContactVerifiedDays))
}

#[derive(Deserialize, JsonSchema)]
pub struct ContactsQuery {
    /// Only this region's locations (default: every region of the caller).
    #[schemars(with = "Option<RegionCode>")]
    region: Option<String>,
}

/// Per location, how many contacts it has and whether the oldest check is too old.
#[derive(Serialize, JsonSchema)]
pub struct ContactsOverview {
    verify_within_days: Option<u32>,
    locations: BTreeMap<Slug, ContactsChecked>,
}

#[derive(Serialize, JsonSchema)]
pub struct ContactsChecked {
    contacts: usize,
    oldest_verified_on: Option<NaiveDate>,
    stale: bool,
}

/// Per location of the caller's regions (or `?region=`) whose contacts it may read: how
/// many contacts it has, the oldest `verified_on`, and whether that is older than the
/// region allows, so the netwerkfunctionaris sees at once whom to call to check.
pub async fn contacts_overview(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    query: Result<Query<ContactsQuery>, QueryRejection>,
) -> Result<Json<ContactsOverview>, Problem> {
    if !policy::may(&caller, Capability::ReadContacts) {
        return Err(Problem::forbidden(None, "This token may not read contacts."));
    }
    let refused = |reason: &str| Problem::invalid(FieldError::new("region", ErrorCode::Malformed, reason));
    let Query(query) = query.map_err(|e| refused(&e.body_text()))?;
    let only = query.region.as_deref().map(RegionCode::try_from).transpose().map_err(|e| refused(&e.to_string()))?;
    // Each location the caller may read the contacts of, with its region's allowed age.
    let registered: Vec<(Slug, u32)> = {
        let gateway = state.gateway(caller.scope())?;
        let st = gateway.state();
        st.picture
            .locations
            .iter()
            .filter_map(|(id, l)| Some((id, l.info.as_ref()?)))
            .filter(|(_, info)| only.is_none_or(|r| r == info.value.region))
            .filter(|(_, info)| {
                let (region, organisation) = (info.value.region, &info.value.organisation);
                policy::decide(&caller, &Action::ReadContacts { region, organisation }).is_ok()
            })
            .map(|(id, info)| (id.clone(), st.picture.threshold(info.value.region, ThresholdKey::ContactVerifiedDays)))
            .collect()
    };
    let today = Utc::now().date_naive();
    let mut locations = BTreeMap::new();
    for (id, within) in registered {
        let contacts = state.backbone.contacts.contacts(caller.scope(), &id).await?;
        let oldest = contacts.iter().map(|c| c.verified_on).min();
        let stale = oldest.is_some_and(|d| (today - d).num_days() > i64::from(within));
        locations.insert(id, ContactsChecked { contacts: contacts.len(), oldest_verified_on: oldest, stale });
    }
    let region = only.or_else(|| caller.regions().into_iter().next());
    security::contacts_read(&caller, &region.map_or_else(|| "every region".to_owned(), |r| format!("overview of {r}")));
    let within = region.map(|r| verify_within_days(&state, &caller, r)).transpose()?;
    Ok(Json(ContactsOverview { verify_within_days: within, locations }))
}

/// A location's contacts, all of them: what is sent replaces what was kept.
#[derive(JsonSchema)]
pub struct NewContacts {
    #[schemars(length(max = MAX_CONTACTS))]
    #[allow(dead_code)] // read by `set_contacts` from the JSON, field by field
    contacts: Vec<Contact>,
}

impl Holds for NewContacts {}

/// The most contacts a location keeps: three per role.
const MAX_CONTACTS: usize = ContactRole::ALL.len() * 3;

pub async fn set_contacts(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(LocationPath { location: id }): Path<LocationPath>,
    body: Body<NewContacts>,
) -> Result<Json<LocationContacts>, Problem> {
    let l = registered(&state, &caller, &id)?;
    policy::decide(&caller, &Action::WriteContacts { region: l.region, organisation: &l.organisation })?;
    let slug = l.slug;
    let body = body.json(state.limits.body_bytes)?;
    let contacts: Vec<Contact> = parse_json(body.get("contacts").cloned().unwrap_or(Value::Null), "contacts")?;
    if contacts.len() > MAX_CONTACTS {
        let e = FieldError::new("contacts", ErrorCode::TooMany, "too many contacts for one location");
        return Err(Problem::invalid(e.with("max", MAX_CONTACTS)));
    }
    for (i, c) in contacts.iter().enumerate() {
        for (field, value, max) in [("name", &c.name, 100), ("phone_24_7", &c.phone_24_7, 40)] {
            if value.trim().is_empty() || value.chars().count() > max {
                let at = format!("contacts[{i}].{field}");
                let e = FieldError::new(&at, ErrorCode::TextLength, &format!("give 1 to {max} characters"));
                return Err(Problem::invalid(e.with("min", 1).with("max", max)));
            }
        }
        if c.fallback.as_ref().is_some_and(|f| f.chars().count() > 200) {
            let e = FieldError::new(&format!("contacts[{i}].fallback"), ErrorCode::TooLong, "at most 200 characters");
            return Err(Problem::invalid(e.with("max", 200)));
        }
        if let Some(reason) = c.email.as_deref().and_then(email_fault) {
            let e = FieldError::new(&format!("contacts[{i}].email"), ErrorCode::NotAnEmail, &reason);
            return Err(Problem::invalid(e.with("max", EMAIL_MAX)));
        }
    }
    state.backbone.contacts.set_contacts(caller.scope(), &slug, &contacts).await?;
    security::registry_changed(&caller, "contacts", slug.as_str());
    Ok(Json(LocationContacts { location: slug, contacts, verify_within_days: None }))
}

/// The longest email address SMTP carries (RFC 5321's path limit less its brackets).
pub(super) const EMAIL_MAX: usize = 254;

/// What is wrong with an email address, if anything: checked as far as the notifier needs
/// it to be one mailbox (whether it exists, only the mail server knows).
pub(super) fn email_fault(email: &str) -> Option<String> {
    if email.chars().count() > EMAIL_MAX {
        return Some(format!("at most {EMAIL_MAX} characters"));
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("contains a space or a control character".into());
    }
    match email.rsplit_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') =>
        {
            None
        }
        _ => Some("is not an address like name@institution.nl".into()),
    }
}

/// Deserialises with the offending path named.
fn parse_json<T: serde::de::DeserializeOwned>(value: Value, root: &str) -> Result<T, Problem> {
    serde_json::from_value::<T>(value).map_err(|e| Problem::invalid(FieldError::from_serde(root, &e.to_string())))
}

/// The newest quarantined events looked through, and how many of the caller's are shown.
const QUARANTINE_SCAN: usize = 1000;
const QUARANTINE_SHOWN: usize = 100;

/// The newest events ingest accepted but the fold refused, of the caller's regions.
#[derive(Serialize, JsonSchema)]
pub struct Quarantine {
    quarantined: Vec<Quarantined>,
}

pub async fn quarantine(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Quarantine>, Problem> {
    policy::decide(&caller, &Action::ReadQuarantine)?;
    let items = state.backbone.read_model.quarantine(caller.scope(), QUARANTINE_SCAN).await?;
    // Each item as the region ingest stamped it with: a caller sees its own regions' only.
    let region = |q: &ghor_store::Quarantined| {
        q.body.get("region").and_then(Value::as_str).and_then(|r| RegionCode::try_from(r).ok())
    };
    let visible: Vec<_> = items
        .into_iter()
        .filter(|q| policy::decide(&caller, &Action::ReadQuarantined { region: region(q) }).is_ok())
        .take(QUARANTINE_SHOWN)
        .collect();
    Ok(Json(Quarantine { quarantined: visible }))
}

/// A token to create: for whom, with which role, where (regions, or every region), for an
/// institution which organisation, in which scope and for how long.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[schemars(length(min = 1, max = 100), regex(pattern = r"\S"))]
    name: String,
    role: Role,
    #[serde(default)]
    regions: Vec<RegionCode>,
    /// Every region; only administrators create national tokens.
    #[serde(default)]
    national: bool,
    #[serde(default)]
    organisation: Option<Slug>,
    #[serde(default = "live")]
    scope: Scope,
    #[serde(default = "default_valid_days")]
    #[schemars(range(min = 1, max = 800))]
    valid_days: i64,
}

impl Holds for NewToken {}

fn live() -> Scope {
    Scope::Live
}

fn default_valid_days() -> i64 {
    365
}

/// The regions where a new institution token's organisation has registered locations
/// (the policy bounds such a token by them); none for other roles.
fn organisation_regions(state: &AppState, new: &NewToken) -> Result<Vec<RegionCode>, Problem> {
    let Some(organisation) = new.organisation.as_ref() else {
        return Ok(Vec::new());
    };
    let gateway = state.gateway(new.scope)?;
    let st = gateway.state();
    let regions: std::collections::BTreeSet<RegionCode> = st
        .picture
        .locations
        .values()
        .filter_map(|l| l.info.as_ref())
        .filter(|i| &i.value.organisation == organisation)
        .map(|i| i.value.region)
        .collect();
    Ok(regions.into_iter().collect())
}

/// A stored token as the target of the policy's token actions.
fn target(token: &ghor_store::TokenInfo) -> TokenTarget<'_> {
    TokenTarget { role: token.role, regions: &token.regions, scope: token.scope, organisation_regions: &[] }
}

/// A new token: its secret, shown this once, and what was stored.
#[derive(Serialize, JsonSchema)]
pub struct NewTokenAnswer {
    token: String,
    info: TokenInfo,
}

pub async fn create_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    body: Body<NewToken>,
) -> Result<Created<NewTokenAnswer>, Problem> {
    let body = body.json(state.limits.body_bytes)?;
    let new: NewToken = parse_json(body, "body")?;
    let check = |request: &TokenRequest| request.check().map_err(Problem::invalid);
    let request = TokenRequest {
        name: new.name.clone(),
        role: new.role,
        regions: new.regions.clone(),
        national: new.national,
        organisation: new.organisation.clone(),
        scope: new.scope,
        valid_for: chrono::Duration::days(new.valid_days),
    };
    // A token with neither regions nor `national` is a mistake: said so (naming `regions`)
    // to whoever may create tokens at all, before what it may create is weighed.
    if policy::may(&caller, Capability::IssueTokens) && new.regions.is_empty() && !new.national {
        check(&request)?;
    }
    let organisation_regions = organisation_regions(&state, &new)?;
    policy::decide(
        &caller,
        &Action::IssueToken(TokenTarget {
            role: new.role,
            regions: &new.regions,
            scope: new.scope,
            organisation_regions: &organisation_regions,
        }),
    )?;
    check(&request)?;
    let (secret, info) = issue(&*state.backbone.tokens, request, Utc::now()).await?;
    security::token_issued(Some(&caller), info.id, &info.name, info.role.as_str());
    Ok(Created(NewTokenAnswer { token: secret, info }))
}

/// The tokens the caller may see (never their secrets).
#[derive(Serialize, JsonSchema)]
pub struct Tokens {
    tokens: Vec<TokenInfo>,
}

pub async fn list_tokens(State(state): State<Arc<AppState>>, caller: Caller) -> Result<Json<Tokens>, Problem> {
    policy::decide(&caller, &Action::ListTokens)?;
    let tokens: Vec<_> = state
        .backbone
        .tokens
        .list()
        .await?
        .into_iter()
        .filter(|t| policy::decide(&caller, &Action::SeeToken(target(t))).is_ok())
        .collect();
    Ok(Json(Tokens { tokens }))
}

pub async fn revoke_token(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(UuidPath { id }): Path<UuidPath>,
) -> Result<NoContent, Problem> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| Problem::not_found("No such token."))?;
    let tokens = state.backbone.tokens.list().await?;
    let found = tokens.iter().find(|t| t.id == id).ok_or_else(|| Problem::not_found("No such token."))?;
    policy::decide(&caller, &Action::RevokeToken(target(found)))?;
    state.backbone.tokens.revoke(id).await?;
    security::token_revoked(Some(&caller), id);
    Ok(NoContent)
}
