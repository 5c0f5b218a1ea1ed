//! Exchange over HTTP, so that institutions report once (see [`crate::exchange`]):
//! - a region's facilities as an EDXL-HAVE 2.0 document, and its hospitals' capacity,
//!   supplies and staffing as a FHIR R4 Bundle of SANER MeasureReports, now or at a
//!   moment on either clock, as the caller may see them;
//! - a HAVE document of a neighbouring system taken in as reports, each authorised as if
//!   the caller had sent it itself.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use ghor_domain::error::ErrorCode;
use ghor_domain::view::RegionView;
use ghor_domain::FieldError;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::api::{
    batch_allowed, look_back, moment, query_problem, readable_region, shown_region, submit_batch, BatchItem,
    MomentQuery,
};
use super::openapi::{Body, ExchangeFile, Exchanged, Holds, RegionPath, ReportFile};
use super::reports::{one_of, stem, Language, LANGUAGES};
use super::AppState;
use crate::auth::Caller;
use crate::exchange::{have, saner};
use crate::gateway::lookback::Clock;
use crate::problem::Problem;
use crate::report::beeld::Shown;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HaveQuery {
    /// The moment (RFC 3339 with an offset); leave it out for now.
    #[schemars(with = "Option<chrono::DateTime<Utc>>")]
    at: Option<String>,
    /// `known` (the default) or `observed`, with `at`.
    #[schemars(with = "Option<Clock>")]
    clock: Option<String>,
    /// The language of the names and notes: `nl` (the default) or `en`.
    #[schemars(with = "Option<Language>")]
    lang: Option<String>,
}

/// The region's view at the moment asked (now when none), and what of it the caller sees.
async fn seen_region(
    state: &AppState,
    caller: &Caller,
    region: &str,
    asked: Option<(DateTime<Utc>, Clock)>,
) -> Result<(DateTime<Utc>, RegionView, Shown), Problem> {
    let region = readable_region(caller, region)?;
    let gateway = state.gateway(caller.scope())?;
    let past = match asked {
        Some((at, clock)) => Some(look_back(gateway, at, clock).await?),
        None => None,
    };
    let at = asked.map_or_else(Utc::now, |(at, _)| at);
    let st = gateway.state();
    let view = match &past {
        Some(past) => past.picture.region_view(region),
        None => st.region_view(region).into_owned(),
    };
    // What the caller sees follows from today's registrations and agreements, as for
    // every past view.
    let shown = Shown(shown_region(caller, &st.picture, &view, at)?.view);
    Ok((at, view, shown))
}

/// EDXL-HAVE 2.0 XML.
pub struct HaveXml;

impl Exchanged for HaveXml {
    const MEDIA_TYPE: &'static str = "application/xml";
    const DESCRIPTION: &'static str = "The region's facilities as an OASIS EDXL-HAVE 2.0 document (the working draft's \
        schema, in proto/edxl-have-2.0/): bed capacity by HAVE bed type, the emergency department's EMS traffic status, \
        the facility status.";
    type Document = String;
}

pub async fn have_export(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(RegionPath { region }): Path<RegionPath>,
    query: Result<Query<HaveQuery>, QueryRejection>,
) -> Result<ExchangeFile<HaveXml>, Problem> {
    let Query(query) = query.map_err(|e| query_problem(&e, "lang"))?;
    let lang = one_of("lang", query.lang.as_deref(), LANGUAGES)?;
    let asked = moment(query.at.as_deref(), query.clock.as_deref())?;
    let (at, view, shown) = seen_region(&state, &caller, &region, asked).await?;
    let sender = format!("GHOR {}", view.name);
    let body = have::export(&view, &shown, at, &sender, lang).ok_or_else(|| {
        Problem::not_found(format!(
            "No facility in {} with a capacity EDXL-HAVE names is visible to this token at that moment; \
             a HAVE document tells of one at least.",
            view.region
        ))
    })?;
    let body = body.into_bytes();
    let filename = format!("{}.xml", stem("have", view.region, at));
    Ok(ExchangeFile(ReportFile { filename, media_type: HaveXml::MEDIA_TYPE, body, headers: Vec::new() }, PhantomData))
}

/// A FHIR R4 Bundle in JSON.
pub struct FhirJson;

impl Exchanged for FhirJson {
    const MEDIA_TYPE: &'static str = "application/fhir+json";
    const DESCRIPTION: &'static str = "The region's hospitals as an HL7 FHIR R4 Bundle (collection) of MeasureReports \
        after the SANER implementation guide: bed capacity and occupancy, supplies' days on hand, critical staffing \
        shortage; with the Locations and Organizations they name.";
    type Document = FhirBundle;
}

/// The outline of a FHIR R4 Bundle; its resources are as FHIR R4 and SANER define them.
#[derive(JsonSchema)]
#[allow(dead_code)] // a schema only
pub struct FhirBundle {
    #[serde(rename = "resourceType")]
    resource_type: BundleResource,
    id: String,
    #[serde(rename = "type")]
    kind: BundleKind,
    timestamp: DateTime<Utc>,
    entry: Vec<serde_json::Map<String, serde_json::Value>>,
}

#[derive(JsonSchema)]
#[allow(dead_code)] // a schema only
pub enum BundleResource {
    Bundle,
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // a schema only
pub enum BundleKind {
    Collection,
}

pub async fn saner_export(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(RegionPath { region }): Path<RegionPath>,
    query: Result<Query<MomentQuery>, QueryRejection>,
) -> Result<ExchangeFile<FhirJson>, Problem> {
    let (at, view, shown) = seen_region(&state, &caller, &region, MomentQuery::parse(query)?).await?;
    let bundle = saner::bundle(&view, &shown, at, Utc::now());
    let body = serde_json::to_vec_pretty(&bundle).map_err(Problem::internal)?;
    let filename = format!("{}.json", stem("saner", view.region, at));
    Ok(ExchangeFile(ReportFile { filename, media_type: FhirJson::MEDIA_TYPE, body, headers: Vec::new() }, PhantomData))
}

/// An EDXL-HAVE 2.0 document (XML), as `GET /v1/picture/regions/{region}/have` writes it
/// or as a neighbouring system does.
#[derive(JsonSchema)]
#[schemars(transparent)]
pub struct HaveDocument(#[allow(dead_code)] String);

impl Holds for HaveDocument {
    const MEDIA_TYPES: &'static [&'static str] = &["application/xml", "text/xml"];
}

/// What a HAVE document made: a result per report (as a batch's), with where in the
/// document it says so, and what ghor did not take and why.
#[derive(Serialize, JsonSchema)]
pub struct HaveImport {
    results: Vec<Traced>,
    skipped: Vec<have::Skipped>,
}

/// One report's result, with its place in the document.
#[derive(Serialize, JsonSchema)]
struct Traced {
    /// Where in the document, e.g. `facility[1]/serviceList[1]/serviceListItem[2]`.
    path: String,
    #[serde(flatten)]
    result: BatchItem,
}

pub async fn have_import(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    body: Body<HaveDocument>,
) -> Result<Json<HaveImport>, Problem> {
    let started = Instant::now();
    let bytes = body.bytes(state.limits.batch_bytes)?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| Problem::invalid(FieldError::new("body", ErrorCode::NotXml, &format!("not UTF-8: {e}"))))?;
    let imported = have::import(text).map_err(Problem::invalid)?;
    batch_allowed(&state, &caller, imported.reports.len())?;
    let (paths, submissions): (Vec<String>, Vec<_>) = imported.reports.into_iter().map(|(p, s)| (p, Ok(s))).unzip();
    let results = submit_batch(&state, &caller, submissions, started).await;
    let results = paths.into_iter().zip(results).map(|(path, result)| Traced { path, result }).collect();
    Ok(Json(HaveImport { results, skipped: imported.skipped }))
}
