//! A location's timeline per dimension: every value it reported, oldest first, with when it
//! was observed and received, who reported it and how, the state the region's thresholds
//! give it, and whether it came late or was withdrawn. As JSON for the detail panel's chart
//! and as CSV for a spreadsheet.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use ghor_domain::error::ErrorCode;
use ghor_domain::rules::Rules;
use ghor_domain::vocab::{Bron, Dimension};
use ghor_domain::{Event, FieldError, Payload, Slug, State as ValueState};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::api::{location_entries, parse_moment, query_problem, registered, sight};
use super::openapi::{Csv, LocationPath};
use super::AppState;
use crate::auth::Caller;
use crate::problem::Problem;
use crate::report::csv_cell as cell;

/// The most of a location's events a timeline looks through (all its dimensions).
const TIMELINE_EVENTS: usize = 5000;
/// A report received more than this after it was observed is marked late: the picture did
/// not show it in the meantime.
const LATE_AFTER_SECONDS: i64 = 5 * 60;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineQuery {
    /// The dimension, e.g. `beds` or `utility`.
    #[schemars(with = "Dimension")]
    dimension: String,
    /// Only values observed at or after this moment (RFC 3339).
    #[schemars(with = "Option<DateTime<Utc>>")]
    from: Option<String>,
    /// Only values observed at or before this moment (RFC 3339).
    #[schemars(with = "Option<DateTime<Utc>>")]
    to: Option<String>,
}

/// The values one location reported of one dimension, oldest first.
#[derive(Serialize, JsonSchema)]
pub struct Timeline {
    location: Slug,
    dimension: Dimension,
    /// The log position the timeline was read to.
    seq: u64,
    /// Whether older events of the location were beyond what a timeline looks through.
    truncated: bool,
    points: Vec<Point>,
}

/// One reported value.
#[derive(Serialize, JsonSchema)]
pub struct Point {
    /// The value's key within the dimension (`ic`, `stroom`, …; `-` when it has none).
    key: String,
    id: uuid::Uuid,
    /// When it was observed.
    time: DateTime<Utc>,
    /// When ghor received it.
    received: DateTime<Utc>,
    delay_seconds: i64,
    /// Received more than five minutes after it was observed.
    late: bool,
    /// Withdrawn by its reporter as mistaken.
    retracted: bool,
    /// The state the region's thresholds give it (none for information only).
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<ValueState>,
    actor: String,
    bron: Bron,
    data: Value,
}

async fn timeline(
    state: &AppState,
    caller: &Caller,
    id: &str,
    query: Result<Query<TimelineQuery>, QueryRejection>,
) -> Result<Timeline, Problem> {
    let Query(query) = query.map_err(|e| query_problem(&e, "dimension"))?;
    let dimension = Dimension::parse(&query.dimension).ok_or_else(|| {
        let allowed: Vec<&str> = Dimension::ALL.iter().map(|d| d.as_str()).collect();
        let reason = format!("{:?} is not a dimension", query.dimension);
        Problem::invalid_parameter(
            FieldError::new("dimension", ErrorCode::NotInVocabulary, &reason).with("allowed", allowed),
        )
    })?;
    let (from, to) = (parse_moment("from", query.from.as_deref())?, parse_moment("to", query.to.as_deref())?);
    let l = registered(state, caller, id)?;
    // Seen by agreement: a shared dimension alone.
    if sight(state, caller, &l)?.is_some_and(|shared| !shared.contains(&dimension)) {
        return Err(Problem::forbidden(
            Some("dimension"),
            format!("{} does not share {} with your organisation's audience.", l.slug, dimension.as_str()),
        ));
    }
    let (seq, entries) = location_entries(state, caller, &l.slug, TIMELINE_EVENTS + 1).await?;
    let truncated = entries.len() > TIMELINE_EVENTS;
    // Each event with the data as it was sent.
    let events: Vec<(Event, Value)> = entries
        .iter()
        .take(TIMELINE_EVENTS)
        .filter_map(|entry| Some((Event::from_stored(&entry.body).ok()?, entry.json()["data"].take())))
        .collect();
    let retracted: BTreeSet<uuid::Uuid> = events
        .iter()
        .filter_map(|(e, _)| match &e.payload {
            Payload::Retracted(r) => Some(r.event_id),
            _ => None,
        })
        .collect();
    let rules = {
        let gateway = state.gateway(caller.scope())?;
        Rules::for_region(&gateway.state().picture, l.region)
    };
    let mut points: Vec<Point> = events
        .iter()
        .filter(|(e, _)| from.is_none_or(|f| e.time >= f) && to.is_none_or(|t| e.time <= t))
        .filter_map(|(e, data)| match &e.payload {
            Payload::Status(status) if status.dimension() == dimension => Some((e, status, data)),
            _ => None,
        })
        .map(|(e, status, data)| {
            let delay_seconds = (e.stamp.received - e.time).num_seconds();
            Point {
                key: status.key(),
                id: e.id,
                time: e.time,
                received: e.stamp.received,
                delay_seconds,
                late: delay_seconds > LATE_AFTER_SECONDS,
                retracted: retracted.contains(&e.id),
                state: rules.state(status),
                actor: e.stamp.actor.clone(),
                bron: e.bron,
                data: data.clone(),
            }
        })
        .collect();
    points.sort_by_key(|p| (p.time, p.id));
    Ok(Timeline { location: l.slug, dimension, seq, truncated, points })
}

/// A location's values of one dimension over time, as the caller may see the location.
pub async fn json(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(LocationPath { location }): Path<LocationPath>,
    query: Result<Query<TimelineQuery>, QueryRejection>,
) -> Result<Json<Timeline>, Problem> {
    Ok(Json(timeline(&state, &caller, &location, query).await?))
}

/// The same as CSV: one row per value, the data's fields as columns.
pub async fn csv(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(LocationPath { location }): Path<LocationPath>,
    query: Result<Query<TimelineQuery>, QueryRejection>,
) -> Result<Csv, Problem> {
    let timeline = timeline(&state, &caller, &location, query).await?;
    let filename = format!("{}-{}.csv", timeline.location, timeline.dimension.as_str());
    Ok(Csv { filename, text: to_csv(&timeline) })
}

fn to_csv(timeline: &Timeline) -> String {
    let fields: BTreeSet<&str> = timeline
        .points
        .iter()
        .flat_map(|p| p.data.as_object().into_iter().flatten().map(|(k, _)| k.as_str()))
        .collect();
    let mut out = String::from("key,time,received,delay_seconds,late,retracted,state,actor,bron");
    for field in &fields {
        out.push(',');
        out.push_str(&cell(field));
    }
    out.push('\n');
    for p in &timeline.points {
        let state = p.state.map_or("", |s| s.as_str());
        let row = [
            cell(&p.key),
            p.time.to_rfc3339(),
            p.received.to_rfc3339(),
            p.delay_seconds.to_string(),
            p.late.to_string(),
            p.retracted.to_string(),
            state.to_owned(),
            cell(&p.actor),
            p.bron.as_str().to_owned(),
        ];
        out.push_str(&row.join(","));
        for field in &fields {
            out.push(',');
            match &p.data[*field] {
                Value::Null => {}
                Value::String(s) => out.push_str(&cell(s)),
                other => out.push_str(&cell(&other.to_string())),
            }
        }
        out.push('\n');
    }
    out
}
