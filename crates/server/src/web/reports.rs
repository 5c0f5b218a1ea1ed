//! Reports over HTTP, as the caller may see the region they are about, in Dutch or English:
//! - the beeld: a region's situational report at a moment (now, or `at` on either clock),
//!   as printable HTML, PDF or Markdown. Issuing one is an event like any other
//!   (`nl.ghor.beeld.issued.v1` through `/v1/events`); the beeld of the moment it names is
//!   then that issued beeld, numbered;
//! - the evaluation of an incident, from the log alone, as HTML, PDF or CSV.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use chrono::{DateTime, Utc};
use ghor_domain::error::ErrorCode;
use ghor_domain::vocab::Lang;
use ghor_domain::{FieldError, Picture, RegionCode, Slug};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::api::{look_back, moment, query_problem, readable_region, shown_region};
use super::openapi::{RegionPath, ReportFile, SlugPath};
use super::AppState;
use crate::auth::Caller;
use crate::gateway::lookback::Clock;
use crate::policy::{self, Action};
use crate::problem::Problem;
use crate::report::beeld::{self, Moment, Shown};
use crate::report::evaluation::{self, Evaluating};
use crate::report::{html, markdown, pdf, Document};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BeeldQuery {
    /// The moment (RFC 3339 with an offset); leave it out for now.
    #[schemars(with = "Option<chrono::DateTime<Utc>>")]
    at: Option<String>,
    /// `known` (the default) or `observed`, with `at`.
    #[schemars(with = "Option<Clock>")]
    clock: Option<String>,
    /// `nl` (the default) or `en`.
    #[schemars(with = "Option<Language>")]
    lang: Option<String>,
    /// `html` (the default), `pdf` or `md`.
    #[schemars(with = "Option<BeeldFormat>")]
    format: Option<String>,
}

/// The languages, as the schema says them.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // a schema only
pub(super) enum Language {
    Nl,
    En,
}

/// The formats a report is rendered in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Html,
    Pdf,
    Md,
    Csv,
}

/// The beeld's formats, as the schema says them.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // a schema only
enum BeeldFormat {
    Html,
    Pdf,
    Md,
}

/// The evaluation's formats, as the schema says them.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // a schema only
enum EvaluationFormat {
    Html,
    Pdf,
    Csv,
}

pub(super) const LANGUAGES: &[(&str, Lang)] = &[("nl", Lang::Nl), ("en", Lang::En)];

/// One value of a closed set of `allowed` given as `field`, its default when left out.
pub(super) fn one_of<T: Copy>(field: &str, given: Option<&str>, allowed: &[(&str, T)]) -> Result<T, Problem> {
    let Some(given) = given else { return Ok(allowed[0].1) };
    allowed.iter().find(|(name, _)| *name == given).map(|(_, v)| *v).ok_or_else(|| {
        let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
        let reason = format!("{given:?} is not one of {}", names.join(", "));
        Problem::invalid_parameter(FieldError::new(field, ErrorCode::NotInVocabulary, &reason).with("allowed", names))
    })
}

pub async fn beeld(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(RegionPath { region }): Path<RegionPath>,
    query: Result<Query<BeeldQuery>, QueryRejection>,
) -> Result<ReportFile, Problem> {
    let Query(query) = query.map_err(|e| query_problem(&e, "format"))?;
    let lang = one_of("lang", query.lang.as_deref(), LANGUAGES)?;
    let format =
        one_of("format", query.format.as_deref(), &[("html", Format::Html), ("pdf", Format::Pdf), ("md", Format::Md)])?;
    let asked = moment(query.at.as_deref(), query.clock.as_deref())?;
    let region = readable_region(&caller, &region)?;
    let gateway = state.gateway(caller.scope())?;
    let past = match asked {
        Some((at, clock)) => Some(look_back(gateway, at, clock).await?),
        None => None,
    };
    let (at, clock) = asked.unwrap_or_else(|| (Utc::now(), Clock::Known));
    let base_at = beeld::compared_with(&gateway.state().picture, region, at);
    let base = look_back(gateway, base_at, Clock::Known).await?;

    let document = {
        let st = gateway.state();
        let picture = past.as_ref().map_or(&st.picture, |p| &*p.picture);
        // Now: the gateway's own view, kept current; then: worked out from that picture.
        let view = match &past {
            Some(past) => Cow::Owned(past.picture.region_view(region)),
            None => st.region_view(region),
        };
        // What the caller sees follows from today's registrations and agreements, as for
        // every past view.
        let shown = Shown(shown_region(&caller, &st.picture, &view, at)?.view);
        let base_view = base.picture.region_view(region);
        let base_shown = Shown(shown_region(&caller, &st.picture, &base_view, base_at)?.view);
        let then = Moment { at, picture, view: &view, shown: &shown };
        let compared = Moment { at: base_at, picture: &base.picture, view: &base_view, shown: &base_shown };
        beeld::document(lang, clock, caller.scope().label(lang), &st.picture, &then, &compared)
    };
    Ok(file(&stem("beeld", region, at), format, &document, String::new))
}

/// A file's name without extension: what it is, of which region, at what Dutch time.
pub(super) fn stem(kind: &str, region: RegionCode, at: DateTime<Utc>) -> String {
    format!("{kind}-{region}-{}", at.with_timezone(&chrono_tz::Europe::Amsterdam).format("%Y%m%d-%H%M"))
}

/// The document in `format` as a file named after `stem`; `csv` gives its CSV form.
fn file(stem: &str, format: Format, document: &Document, csv: impl FnOnce() -> String) -> ReportFile {
    let (extension, media_type, body, headers) = match format {
        Format::Html => (
            "html",
            "text/html; charset=utf-8",
            html::render(document).into_bytes(),
            vec![(header::CONTENT_SECURITY_POLICY, html::CSP)],
        ),
        Format::Pdf => ("pdf", "application/pdf", pdf::render(document), Vec::new()),
        Format::Md => ("md", "text/markdown; charset=utf-8", markdown::render(document).into_bytes(), Vec::new()),
        Format::Csv => ("csv", "text/csv; charset=utf-8", csv().into_bytes(), Vec::new()),
    };
    ReportFile { filename: format!("{stem}.{extension}"), media_type, body, headers }
}

/// The most log entries an evaluation reads after the incident opened.
const EVALUATION_EVENTS: u64 = 2_000_000;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationQuery {
    /// `nl` (the default) or `en`.
    #[schemars(with = "Option<Language>")]
    lang: Option<String>,
    /// `html` (the default), `pdf` or `csv` (every figure, one per row).
    #[schemars(with = "Option<EvaluationFormat>")]
    format: Option<String>,
}

pub async fn evaluation(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    Path(SlugPath { id }): Path<SlugPath>,
    query: Result<Query<EvaluationQuery>, QueryRejection>,
) -> Result<ReportFile, Problem> {
    let Query(query) = query.map_err(|e| query_problem(&e, "format"))?;
    let lang = one_of("lang", query.lang.as_deref(), LANGUAGES)?;
    let format = one_of(
        "format",
        query.format.as_deref(),
        &[("html", Format::Html), ("pdf", Format::Pdf), ("csv", Format::Csv)],
    )?;
    let missing = || Problem::not_found(format!("No incident {id:?} was ever active in a region this token may read."));
    let incident = Slug::try_from(id.as_str()).map_err(|_| missing())?;
    let gateway = state.gateway(caller.scope())?;
    let (region, opened) = {
        let st = gateway.state();
        let region = st.picture.incidents.get(&incident).map(|i| i.value.0);
        (region, st.picture.incidents_opened.get(&incident).copied())
    };
    let (Some(region), Some(opened)) = (region, opened) else { return Err(missing()) };
    policy::decide(&caller, &Action::ReadPicture { region }).map_err(|_| missing())?;
    // From what was known a minute before it opened, every later entry of the log.
    let before = look_back(gateway, opened - chrono::Duration::minutes(1), Clock::Known).await?;
    let start = Evaluating::new(Picture::clone(&before.picture), incident.clone());
    let (evaluating, cut_short) =
        gateway.lookback.replay(before.seq, EVALUATION_EVENTS, start, Evaluating::step).await?;
    let evaluation = evaluating.finish().ok_or_else(missing)?;
    // Locations by name only where the caller sees them now.
    let (document, csv) = {
        let st = gateway.state();
        let visibility = caller.visibility();
        let sees = |id: &Slug| visibility.sees_location(&st.picture, id.as_str());
        let mut document = evaluation::document(&evaluation, lang, caller.scope().label(lang), Utc::now(), &sees);
        if cut_short {
            let note = match lang {
                Lang::Nl => {
                    format!("Alleen de eerste {EVALUATION_EVENTS} gebeurtenissen na de opening zijn meegenomen.")
                }
                Lang::En => {
                    format!("Only the first {EVALUATION_EVENTS} events after the opening were taken into account.")
                }
            };
            document.meta.push((String::new(), note));
        }
        (document, evaluation::csv(&evaluation, &sees))
    };
    Ok(file(&format!("evaluatie-{incident}"), format, &document, || csv))
}
