//! The page served at `/` with its embedded scripts, styles and map outline under
//! `/assets/`, the vocabulary it labels everything with, and the operational endpoints
//! (health, readiness, metrics).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use ghor_domain::{describe, vocab, EventType, Scope};
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::AppState;
use crate::gateway::Currency;
use crate::problem::Problem;

const INDEX: &str = include_str!("../../assets/index.html");

/// Scripts only from this server (no inline script); styles also set from script (badges);
/// never framed by another page.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'";

/// Everything the page loads, embedded in the binary: (name, content type, content).
const ASSETS: &[(&str, &str, &str)] = &[
    ("ghor.css", "text/css; charset=utf-8", include_str!("../../assets/ghor.css")),
    ("core.js", "text/javascript; charset=utf-8", include_str!("../../assets/core.js")),
    ("picture.js", "text/javascript; charset=utf-8", include_str!("../../assets/picture.js")),
    ("dashboard.js", "text/javascript; charset=utf-8", include_str!("../../assets/dashboard.js")),
    ("alarm.js", "text/javascript; charset=utf-8", include_str!("../../assets/alarm.js")),
    ("wall.js", "text/javascript; charset=utf-8", include_str!("../../assets/wall.js")),
    ("wall.css", "text/css; charset=utf-8", include_str!("../../assets/wall.css")),
    ("map.js", "text/javascript; charset=utf-8", include_str!("../../assets/map.js")),
    ("map.css", "text/css; charset=utf-8", include_str!("../../assets/map.css")),
    ("leaflet.js", "text/javascript; charset=utf-8", include_str!("../../assets/leaflet.js")),
    ("leaflet.css", "text/css; charset=utf-8", include_str!("../../assets/leaflet.css")),
    (
        "leaflet.markercluster.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/leaflet.markercluster.js"),
    ),
    ("leaflet.markercluster.css", "text/css; charset=utf-8", include_str!("../../assets/leaflet.markercluster.css")),
    ("topojson-client.js", "text/javascript; charset=utf-8", include_str!("../../assets/topojson-client.js")),
    (
        "veiligheidsregios-2025.topojson",
        "application/json",
        include_str!("../../assets/veiligheidsregios-2025.topojson"),
    ),
    ("gemeenten-2025.topojson", "application/json", include_str!("../../assets/gemeenten-2025.topojson")),
    ("detail.js", "text/javascript; charset=utf-8", include_str!("../../assets/detail.js")),
    ("report.js", "text/javascript; charset=utf-8", include_str!("../../assets/report.js")),
    ("warm.js", "text/javascript; charset=utf-8", include_str!("../../assets/warm.js")),
    ("desk.js", "text/javascript; charset=utf-8", include_str!("../../assets/desk.js")),
    ("subscriptions.js", "text/javascript; charset=utf-8", include_str!("../../assets/subscriptions.js")),
    ("institution.js", "text/javascript; charset=utf-8", include_str!("../../assets/institution.js")),
    ("admin.js", "text/javascript; charset=utf-8", include_str!("../../assets/admin.js")),
    ("lookback.js", "text/javascript; charset=utf-8", include_str!("../../assets/lookback.js")),
    ("beeld.js", "text/javascript; charset=utf-8", include_str!("../../assets/beeld.js")),
    ("evaluatie.js", "text/javascript; charset=utf-8", include_str!("../../assets/evaluatie.js")),
    ("federation.js", "text/javascript; charset=utf-8", include_str!("../../assets/federation.js")),
    ("app.js", "text/javascript; charset=utf-8", include_str!("../../assets/app.js")),
    ("nl-outline.geojson", "application/geo+json", include_str!("../../assets/nl-outline.geojson")),
];

pub async fn index() -> Response {
    let page = from_dev_dir("index.html").map_or(Cow::Borrowed(INDEX), Cow::Owned);
    ([(header::CACHE_CONTROL, "no-cache"), (header::CONTENT_SECURITY_POLICY, CSP)], Html(page)).into_response()
}

/// One embedded asset; `no-cache` so a new ghor is never run with an old script.
pub async fn asset(Path(file): Path<String>) -> Response {
    let embedded = ASSETS.iter().find(|(name, _, _)| *name == file);
    let content_type = embedded.map(|(_, content_type, _)| *content_type).or_else(|| content_type_of(&file));
    let body = from_dev_dir(&file).map(Cow::Owned).or_else(|| embedded.map(|(_, _, body)| Cow::Borrowed(*body)));
    match (content_type, body) {
        (Some(content_type), Some(body)) => {
            ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")], body).into_response()
        }
        _ => Problem::not_found(format!("There is no asset {file:?}.")).into_response(),
    }
}

/// For whoever works on the page: with `GHOR_ASSETS_DIR` set, the page and its assets are
/// read from that directory on every request (a plain file name only, never a path), so a
/// change shows on reload without rebuilding ghor. Unset, as in every deployment, only the
/// embedded copies are served.
fn from_dev_dir(file: &str) -> Option<String> {
    static DIR: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| std::env::var_os("GHOR_ASSETS_DIR").map(Into::into)).as_ref()?;
    let plain = !file.is_empty()
        && file.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !file.starts_with('.');
    plain.then(|| std::fs::read_to_string(dir.join(file)).ok()).flatten()
}

/// The content type of an asset that is not embedded (yet), by its extension.
fn content_type_of(file: &str) -> Option<&'static str> {
    match file.rsplit_once('.')?.1 {
        "js" => Some("text/javascript; charset=utf-8"),
        "css" => Some("text/css; charset=utf-8"),
        "json" | "topojson" => Some("application/json"),
        "geojson" => Some("application/geo+json"),
        _ => None,
    }
}

/// This process's OpenAPI document (see [`super::openapi`]).
pub async fn openapi(axum::Extension(api): axum::Extension<Arc<aide::openapi::OpenApi>>) -> Response {
    Json(&*api).into_response()
}

pub async fn healthz() -> &'static str {
    "ok"
}

/// How long readiness waits for the log (and the database) to answer.
const LOG_PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// What a ready process says of the rest it depends on.
#[derive(Serialize, JsonSchema)]
pub struct Readiness {
    /// `ready` (a 503 problem says what is not).
    status: &'static str,
    /// The database of tokens, contacts and the read model: `ok`, or that it cannot be
    /// reached. It does not decide readiness: the picture and the stream go on without it
    /// for the tokens already seen (reports are answered 503, retry), and every process
    /// shares it, so taking them all out of the load balancer would only add to it.
    database: &'static str,
    /// Each kind of supervised task and its failures in a row: 0 while it runs. One that
    /// keeps failing raises GhorTaskRestarting; the rest of the process serves on.
    tasks: BTreeMap<&'static str, u32>,
}

/// Ready when every scope's log answers, and every scope's gateway follows it, has folded it
/// as far as it reached at start, and holds nothing back; the answer says how the database
/// and the supervised tasks fare as well.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Result<Json<Readiness>, Problem> {
    for (scope, log) in &state.backbone.logs {
        // Asked now, not remembered: a log without a leader (an election, no quorum) takes
        // neither reports nor reads, whatever this process did last.
        let reached = tokio::time::timeout(LOG_PROBE_TIMEOUT, log.probe()).await;
        if !matches!(reached, Ok(Ok(_))) {
            return Err(Problem::unavailable(format!("the {scope} log cannot be reached"), 2));
        }
    }
    for (scope, gateway) in &state.gateways {
        if let Some((seq, t)) = &gateway.state().held_back {
            return Err(Problem::unavailable(format!("event {seq} of type {t} needs a newer ghor"), 30));
        }
        if let Currency::NotCurrent { since } = *gateway.currency().borrow() {
            return Err(Problem::unavailable(
                format!("the {scope} picture has not followed the log since {}", since.to_rfc3339()),
                1,
            ));
        }
        if !gateway.warmed_up() {
            let folded = gateway.state().seq;
            return Err(Problem::unavailable(format!("still folding the {scope} log (at sequence {folded})"), 1));
        }
    }
    let reached = tokio::time::timeout(LOG_PROBE_TIMEOUT, state.backbone.read_model.checkpoint(Scope::Live)).await;
    let database = if matches!(reached, Ok(Ok(_))) { "ok" } else { "unreachable" };
    Ok(Json(Readiness { status: "ready", database, tasks: state.tasks.failing() }))
}

/// The metrics, with what each reader of the log has folded read now: the gateways here,
/// and the projector's and the notifier's checkpoints wherever they run.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let metrics = &state.metrics;
    for (scope, log) in &state.backbone.logs {
        metrics.observe_log(&**log).await;
        metrics.observe_links(&**log).await;
        let Ok(end) = log.last_seq().await else { continue };
        if let Some(folded) = state.gateways.get(scope).map(|g| g.state().seq) {
            metrics.observe_reader("gateway", &**log, folded, end).await;
        }
        if let Ok(checkpoint) = state.backbone.read_model.checkpoint(*scope).await {
            metrics.observe_reader("projector", &**log, checkpoint, end).await;
        }
        if let Ok(Some((epoch, checkpoint))) = state.backbone.notify.notifier_checkpoint(*scope).await {
            if epoch == log.epoch() {
                metrics.observe_reader("notifier", &**log, checkpoint, end).await;
            }
        }
    }
    let current =
        state.gateways.iter().map(|(scope, g)| (*scope, *g.currency().borrow() == Currency::Current)).collect();
    metrics.observe_currency(&current);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], metrics.render()).into_response()
}

/// Every wire value with its Dutch and English label and its rank (display order), the
/// colours of the states, and the key vocabulary of each keyed dimension.
fn vocabulary_body() -> Map<String, Value> {
    let all: Map<String, Value> = vocab::served()
        .into_iter()
        .map(|v| {
            let entries: Map<String, Value> = v
                .values
                .iter()
                .enumerate()
                .map(|(rank, (wire, nl, en))| ((*wire).to_owned(), json!({ "nl": nl, "en": en, "rank": rank })))
                .collect();
            (v.name.to_owned(), Value::Object(entries))
        })
        .collect();
    let mut all = all;
    // What the page needs beside the labels: a state's colour and severity, a threshold's
    // default, a location type's category.
    let states =
        vocab::State::ALL.iter().map(|s| (s.as_str(), json!({ "colour": s.colour(), "severity": s.severity() })));
    annotate(&mut all, "State", states);
    let defaults = vocab::ThresholdKey::ALL.iter().map(|k| (k.as_str(), json!({ "default": k.default_value() })));
    annotate(&mut all, "ThresholdKey", defaults);
    let categories = vocab::LocationType::ALL.iter().map(|t| (t.as_str(), json!({ "category": t.category() })));
    annotate(&mut all, "LocationType", categories);
    let keys: Map<String, Value> = describe::dimensions()
        .into_iter()
        .filter_map(|d| Some((d.name.as_str().to_owned(), json!(d.key.filter(|k| *k != describe::IDENTIFIER)?))))
        .collect();
    let mut body = Map::new();
    body.insert("vocabularies".into(), Value::Object(all));
    body.insert("dimension_keys".into(), Value::Object(keys));
    body
}

/// Adds `extra`'s fields to the entries of the vocabulary `name`.
fn annotate<'a>(all: &mut Map<String, Value>, name: &str, extra: impl Iterator<Item = (&'a str, Value)>) {
    let Some(Value::Object(entries)) = all.get_mut(name) else { return };
    for (wire, fields) in extra {
        if let (Some(Value::Object(entry)), Value::Object(fields)) = (entries.get_mut(wire), fields) {
            entry.extend(fields);
        }
    }
}

/// The vocabularies (see [`vocabulary_body`]); needs no token.
pub async fn vocabulary() -> Json<Value> {
    Json(Value::Object(vocabulary_body()))
}

/// The domain as data for the page, needing no token: the vocabularies; per status
/// dimension its key, the event types it is reported with and their fields; the error
/// catalogue; the states with colour and severity; and every event type's wire name by
/// its stem (`alert.acknowledged`). See `ghor_domain::describe`.
pub async fn domain() -> Json<Value> {
    let mut body = vocabulary_body();
    body.insert("dimensions".into(), json!(describe::dimensions()));
    body.insert("errors".into(), json!(describe::errors()));
    body.insert("levels".into(), json!(describe::levels()));
    let types: Map<String, Value> = EventType::ALL.iter().map(|t| (t.stem().to_owned(), json!(t.name()))).collect();
    body.insert("event_types".into(), Value::Object(types));
    Json(Value::Object(body))
}

pub async fn not_found() -> Problem {
    Problem::not_found("There is no such endpoint. The API starts at /v1; see proto/ and README.md.")
}

pub async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "This endpoint does not take this HTTP method.",
    )
}

#[cfg(test)]
mod tests {
    /// A file added to `assets/` is served by a deployment only once it is embedded here
    /// (with `GHOR_ASSETS_DIR`, as in development, any file is, which hides the omission).
    #[test]
    fn every_asset_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let files = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for file in files {
            let name = file.expect("an entry").file_name().to_string_lossy().into_owned();
            if name != "index.html" {
                assert!(super::ASSETS.iter().any(|(embedded, _, _)| *embedded == name), "{name} is not embedded");
            }
        }
    }
}
