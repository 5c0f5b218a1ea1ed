//! Authorisation (§7), from the outside: every endpoint of the router × every harness token
//! (and no token) against a table of expected status codes, and what each role sees of a
//! region and a location over HTTP and the websocket.
//!
//! The rules the table encodes, as the code states them:
//! - institution: reports only for its own organisation's locations; sees its own
//!   locations in detail and the rest in aggregate;
//! - informatiemanager: reports and acts (incidents, alerts, thresholds) in its regions;
//!   reads the quarantine;
//! - netwerkfunctionaris: the registry (locations, organisations), contacts, and tokens for
//!   institutions, ROT, ketenpartner and bestuur in its regions and its own scope (an
//!   institution's only where the organisation has locations); never national ones;
//! - every token names its regions or is national by asking (`national`), which only admin
//!   may over the API;
//! - rot: reads at location level, without contacts;
//! - ketenpartner, bestuur: aggregates only;
//! - admin: tokens and configuration (thresholds), the registry; does not report status
//!   or run incidents;
//! - oto: like an informatiemanager, nationally, in the `oefening` scope only: its reads
//!   see the oefening picture, where umcg is not registered (404, and a status report for
//!   it is a 422 on `source`).
//!
//! Public endpoints (page and its assets, health, readiness, metrics, vocabulary, domain data) answer
//! everyone. A location's history is visible exactly where the location's detail is.

use std::fmt::Write as _;

use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::{event, ic_occupied, Ghor};

/// The columns of the matrix: every harness token, then no token at all.
const CALLERS: [&str; 11] =
    ["admin", "netwerk", "im", "im2", "rot", "keten", "bestuur", "umcg", "martini", "oto", "none"];

/// Makes a row's body for one caller.
type BodyFor = Box<dyn Fn(&str) -> Option<Value>>;

/// One row: a request, made afresh for each caller, and the status expected per caller.
struct Row {
    label: &'static str,
    method: Method,
    path: String,
    /// The body for this caller (fresh event ids on every call).
    body: BodyFor,
    /// For a batch: the cell holds the status of its one item (201 stored, 200 duplicate,
    /// the problem's status when rejected) when the batch itself is answered 200.
    batch: bool,
    expect: [u16; 11],
}

fn row(
    label: &'static str,
    method: Method,
    path: &str,
    body: impl Fn(&str) -> Option<Value> + 'static,
    expect: [u16; 11],
) -> Row {
    Row { label, method, path: path.to_owned(), body: Box::new(body), batch: false, expect }
}

fn no_body(_: &str) -> Option<Value> {
    None
}

/// A beds report for umcg with a fresh id.
fn status_umcg() -> Value {
    event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 10, "occupied": 3 }))
}

/// The matrix, one row per endpoint (kept as a table: rustfmt would break it up).
#[rustfmt::skip]
fn matrix(revoke_target: &str) -> Vec<Row> {
    use Method as M;
    let incident = |who: &str| Some(event("/regions/VR01", "nl.ghor.incident.opened.v1", Some(&format!("authz-{who}")),
        json!({ "name": "Stroomstoring Groningen", "state": "actief", "grip": 2, "area": { "regions": ["VR01"] } })));
    let location = |who: &str| Some(event(&format!("/locations/authz-{who}"), "nl.ghor.location.registered.v1", None,
        json!({ "name": "Huisartsenpost Noord", "organisation": "authz", "type": "ziekenhuis", "region": "VR01", "point": { "lat": 53.21, "lon": 6.56 } })));
    let acknowledged = |_: &str| Some(event("/regions/VR01", "nl.ghor.alert.acknowledged.v1", Some("umcg/beds/ic"), json!({ "note": "gebeld met de crisiscoördinator" })));
    let threshold = |_: &str| Some(event("/regions/VR01", "nl.ghor.threshold.set.v1", Some("beds_free_attention"), json!({ "value": 3 })));
    let contacts = |_: &str| Some(json!({ "contacts": [{ "role": "crisiscoordinator", "name": "J. de Vries", "phone_24_7": "+31 50 000 0000", "verified_on": "2026-10-01" }] }));
    let new_token = |_: &str| Some(json!({ "name": "x", "role": "institution", "organisation": "umcg", "regions": ["VR01"] }));
    let national_token = |_: &str| Some(json!({ "name": "x", "role": "ketenpartner", "national": true }));
    let regionless_token = |_: &str| Some(json!({ "name": "x", "role": "ketenpartner" }));
    let oefening_token = |_: &str| Some(json!({ "name": "x", "role": "ketenpartner", "regions": ["VR01"], "scope": "oefening" }));
    let elsewhere_token = |_: &str| Some(json!({ "name": "x", "role": "institution", "organisation": "mcl", "regions": ["VR01"] }));
    let revoke = format!("/v1/tokens/{revoke_target}");
    let mut batch = row("batch: status umcg (item)", M::POST, "/v1/events/batch", |_| Some(json!([status_umcg()])),
                                                                               [403, 403, 201, 403, 403, 403, 403, 201, 403, 422, 401]);
    batch.batch = true;
    vec![
        //                                                                      admin netw  im   im2  rot  ketn best umcg mart oto  none
        row("public page",          M::GET,    "/",                             no_body,        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        row("health",               M::GET,    "/healthz",                      no_body,        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        row("readiness",            M::GET,    "/readyz",                       no_body,        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        row("metrics",              M::GET,    "/metrics",                      no_body,        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        row("vocabulary",           M::GET,    "/v1/vocabulary",                no_body,        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        row("domain data",          M::GET,    "/v1/domain",                    no_body,        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        row("page script",          M::GET,    "/assets/app.js",                no_body,        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
        row("no such asset",        M::GET,    "/assets/nope.js",               no_body,        [404, 404, 404, 404, 404, 404, 404, 404, 404, 404, 404]),
        row("who am I",             M::GET,    "/v1/me",                        no_body,        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401]),
        row("status report umcg",   M::POST,   "/v1/events", |_| Some(status_umcg()),           [403, 403, 201, 403, 403, 403, 403, 201, 403, 422, 401]),
        batch,
        row("incident in VR01",     M::POST,   "/v1/events",                    incident,       [403, 403, 201, 403, 403, 403, 403, 403, 403, 201, 401]),
        row("register location",    M::POST,   "/v1/events",                    location,       [201, 201, 403, 403, 403, 403, 403, 403, 403, 201, 401]),
        row("acknowledge alert",    M::POST,   "/v1/events",                    acknowledged,   [403, 403, 201, 403, 403, 403, 403, 403, 403, 201, 401]),
        row("set threshold",        M::POST,   "/v1/events",                    threshold,      [201, 403, 201, 403, 403, 403, 403, 403, 403, 201, 401]),
        row("picture",              M::GET,    "/v1/picture",                   no_body,        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401]),
        row("region VR01",          M::GET,    "/v1/picture/regions/VR01",      no_body,        [200, 200, 200, 403, 200, 200, 200, 200, 200, 200, 401]),
        row("region VR02",          M::GET,    "/v1/picture/regions/VR02",      no_body,        [200, 200, 403, 200, 403, 403, 403, 403, 403, 200, 401]),
        row("location umcg (VR01)", M::GET,    "/v1/picture/locations/umcg",    no_body,        [200, 200, 200, 403, 200, 403, 403, 200, 403, 404, 401]),
        row("location mcl (VR02)",  M::GET,    "/v1/picture/locations/mcl",     no_body,        [200, 200, 403, 200, 403, 403, 403, 403, 403, 404, 401]),
        row("history umcg (VR01)",  M::GET,    "/v1/picture/locations/umcg/history?limit=5", no_body, [200, 200, 200, 403, 200, 403, 403, 200, 403, 404, 401]),
        row("history mcl (VR02)",   M::GET,    "/v1/picture/locations/mcl/history", no_body,    [200, 200, 403, 200, 403, 403, 403, 403, 403, 404, 401]),
        row("history bad limit",    M::GET,    "/v1/picture/locations/umcg/history?limit=0", no_body, [422, 422, 422, 422, 422, 422, 422, 422, 422, 422, 401]),
        row("registry",             M::GET,    "/v1/registry/locations",        no_body,        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401]),
        row("incidents",            M::GET,    "/v1/incidents",                 no_body,        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401]),
        row("contacts umcg",        M::GET,    "/v1/registry/locations/umcg/contacts", no_body, [200, 200, 200, 403, 403, 403, 403, 403, 403, 404, 401]),
        row("set contacts umcg",    M::PUT,    "/v1/registry/locations/umcg/contacts", contacts,[200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 401]),
        row("quarantine",           M::GET,    "/v1/quarantine",                no_body,        [200, 403, 200, 200, 403, 403, 403, 403, 403, 200, 401]),
        row("create token",         M::POST,   "/v1/tokens",                    new_token,      [201, 201, 403, 403, 403, 403, 403, 403, 403, 403, 401]),
        row("create national token", M::POST, "/v1/tokens",                    national_token, [201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401]),
        row("create token no region", M::POST, "/v1/tokens",                    regionless_token, [422, 422, 403, 403, 403, 403, 403, 403, 403, 403, 401]),
        row("create oefening token", M::POST,  "/v1/tokens",                    oefening_token, [201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401]),
        row("token: org not in region", M::POST, "/v1/tokens",                  elsewhere_token,[201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401]),
        row("list tokens",          M::GET,    "/v1/tokens",                    no_body,        [200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 401]),
        row("revoke token",         M::DELETE, &revoke,                         no_body,        [204, 204, 403, 403, 403, 403, 403, 403, 403, 403, 401]),
        row("stream ticket",        M::POST,   "/v1/stream/ticket", |_| Some(json!({})),        [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 401]),
    ]
}

/// What one cell observed.
struct Cell {
    status: u16,
    /// A refusal that is not problem+json, or a batch whose items are missing.
    shape: Option<String>,
    body: Value,
}

async fn call(ghor: &Ghor, caller: &str, row: &Row) -> Cell {
    let mut request = ghor.http.request(row.method.clone(), format!("{}{}", ghor.url, row.path));
    if caller != "none" {
        request = request.bearer_auth(ghor.token(caller));
    }
    if let Some(body) = (row.body)(caller) {
        request = request.json(&body);
    }
    let response =
        request.send().await.unwrap_or_else(|e| panic!("{} {} as {caller}: no answer: {e}", row.method, row.path));
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let text = response.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text.chars().take(120).collect()));
    let mut shape = None;
    if status >= 400 && content_type != "application/problem+json" {
        shape = Some(format!("a {status} with content-type {content_type:?}, not application/problem+json"));
    }
    if row.batch && status == 200 {
        let item = &body["results"][0];
        let item_status = match item["status"].as_str() {
            Some("stored") => 201,
            Some("duplicate") => 200,
            Some("rejected") => item["problem"]["status"].as_u64().map_or(0, |s| s as u16),
            _ => {
                shape = Some("the batch answer has no result for its item".to_owned());
                0
            }
        };
        return Cell { status: item_status, shape, body: item.clone() };
    }
    Cell { status, shape, body }
}

#[tokio::test]
async fn every_endpoint_answers_every_token_as_the_rules_say() {
    let ghor = super::start().await;

    // A token to revoke: an institution in VR01, which admin and netwerk may revoke.
    ghor.cli(&[
        "token",
        "create",
        "--role",
        "institution",
        "--name",
        "authz revoke target",
        "--region",
        "VR01",
        "--organisation",
        "umcg",
    ])
    .await;
    let (status, tokens) = ghor.get("admin", "/v1/tokens").await;
    assert_eq!(status, 200, "{tokens}");
    let target = tokens["tokens"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["name"] == "authz revoke target"))
        .and_then(|t| t["id"].as_str())
        .unwrap_or_else(|| panic!("the target token is listed: {tokens}"))
        .to_owned();

    let rows = matrix(&target);
    let mut failures = Vec::new();
    let mut grid = String::new();
    let label_width = rows.iter().map(|r| r.label.len()).max().unwrap_or(0);
    let _ = write!(grid, "{:label_width$}", "");
    for c in CALLERS {
        let _ = write!(grid, " {c:>9}");
    }
    grid.push('\n');
    for row in &rows {
        let _ = write!(grid, "{:label_width$}", row.label);
        for (caller, expected) in CALLERS.iter().zip(row.expect) {
            let cell = call(&ghor, caller, row).await;
            let ok = cell.status == expected && cell.shape.is_none();
            if ok {
                let _ = write!(grid, " {:>9}", cell.status);
            } else {
                let _ = write!(grid, " {:>9}", format!("*{}≠{expected}", cell.status));
                let why = cell.shape.clone().unwrap_or_else(|| {
                    let detail =
                        cell.body["detail"].as_str().or(cell.body["problem"]["detail"].as_str()).map(str::to_owned);
                    detail.unwrap_or_else(|| cell.body.to_string().chars().take(160).collect())
                });
                failures.push(format!(
                    "{} {} ({}) as {caller}: expected {expected}, got {}: {why}",
                    row.method, row.path, row.label, cell.status
                ));
            }
        }
        grid.push('\n');
    }
    assert!(
        failures.is_empty(),
        "{} of {} cells differ from the rules (*got≠expected):\n\n{grid}\n{}",
        failures.len(),
        rows.len() * CALLERS.len(),
        failures.join("\n")
    );
}

// ---- what each role sees ----

/// A server where umcg and martini both reported IC beds, and it shows.
async fn reported() -> Ghor {
    let ghor = super::start().await;
    // A third location of VR01 reports too: totals over fewer than 3 locations are withheld
    // from those who see no locations (see holes.rs).
    ghor.register(&[("ommelander", "ommelander", "ziekenhuis", "VR01", 53.15, 6.95)]).await;
    ghor.report_beds("im", "ommelander", 5, 0).await;
    ghor.report_beds("umcg", "umcg", 10, 4).await;
    ghor.report_beds("martini", "martini", 8, 6).await;
    let response = ghor
        .http
        .put(format!("{}/v1/registry/locations/umcg/contacts", ghor.url))
        .bearer_auth(ghor.token("netwerk"))
        .json(&json!({ "contacts": [{ "role": "crisiscoordinator", "name": "J. de Vries", "phone_24_7": "+31 50 000 0000", "verified_on": "2026-10-01" }] }))
        .send()
        .await
        .expect("PUT contacts");
    assert_eq!(response.status().as_u16(), 200, "netwerk keeps the contacts");
    let mut s = ghor.stream("im", &["VR01"], None).await;
    s.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(4) && ic_occupied(&p["VR01"], "martini") == Some(6)).await;
    s.close().await;
    ghor
}

async fn region_view(ghor: &Ghor, token: &str, region: &str) -> Value {
    let (status, body) = ghor.get(token, &format!("/v1/picture/regions/{region}")).await;
    assert_eq!(status, 200, "GET /v1/picture/regions/{region} as {token}: {body}");
    body["view"].clone()
}

/// The location ids of a region view (none when the key is absent).
fn location_ids(view: &Value) -> Vec<String> {
    view.get("locations").and_then(Value::as_object).map(|l| l.keys().cloned().collect()).unwrap_or_default()
}

#[tokio::test]
async fn rot_sees_locations_but_not_their_contacts() {
    let ghor = reported().await;
    let view = region_view(&ghor, "rot", "VR01").await;
    assert_eq!(ic_occupied(&view, "umcg"), Some(4), "rot sees umcg's detail in VR01: {view}");

    let (status, rot) = ghor.get("rot", "/v1/picture/locations/umcg").await;
    assert_eq!(status, 200, "{rot}");
    assert_eq!(rot["location"]["dimensions"]["beds"]["values"]["ic"]["data"]["occupied"], 4, "{rot}");
    assert!(rot.get("contacts").is_none(), "contacts are for GHOR roles, not for the ROT: {rot}");

    let (status, im) = ghor.get("im", "/v1/picture/locations/umcg").await;
    assert_eq!(status, 200, "{im}");
    assert_eq!(im["contacts"][0]["name"], "J. de Vries", "the informatiemanager sees the contacts: {im}");
}

#[tokio::test]
async fn ketenpartner_and_bestuur_see_totals_without_locations() {
    let ghor = reported().await;
    for token in ["keten", "bestuur"] {
        let view = region_view(&ghor, token, "VR01").await;
        assert_eq!(location_ids(&view), Vec::<String>::new(), "{token} sees no location of VR01: {view}");
        let totals = &view["totals"];
        assert!(totals.is_object(), "{token} sees the totals: {view}");
        assert_eq!(totals["locations"], 3, "{token}'s totals count the three locations: {totals}");
        assert_eq!(totals["beds"]["ic"]["occupied"], 10, "{token}'s totals add up both reports: {totals}");
        let alerts = view["alerts"].as_object().map(|a| a.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
        assert!(alerts.iter().all(|a| a.starts_with("VR")), "{token} sees only region-wide alerts: {alerts:?}");
    }
}

#[tokio::test]
async fn an_institution_sees_its_own_locations_only() {
    let ghor = reported().await;
    let view = region_view(&ghor, "umcg", "VR01").await;
    assert_eq!(location_ids(&view), vec!["umcg".to_owned()], "umcg's token sees umcg and not martini: {view}");
    assert_eq!(view["totals"]["beds"]["ic"]["occupied"], 10, "and the region in aggregate: {}", view["totals"]);

    let (status, body) = ghor.get("umcg", "/v1/picture/locations/martini").await;
    assert_eq!(status, 403, "umcg may not see martini's detail: {body}");
    let (status, body) = ghor.get("umcg", "/v1/picture").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        location_ids(&body["regions"]["VR01"]["view"]),
        vec!["umcg".to_owned()],
        "the whole picture is filtered alike: {body}"
    );
    let staleness = body["regions"]["VR01"]["staleness"]["locations"]
        .as_object()
        .map(|l| l.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    assert!(!staleness.contains(&"martini".to_owned()), "nor does staleness name martini: {staleness:?}");
}

#[tokio::test]
async fn the_stream_snapshot_is_filtered_like_the_api() {
    let ghor = reported().await;

    let mut keten = ghor.stream("keten", &["VR01"], None).await;
    let m = keten.next().await;
    assert_eq!(m["type"], "snapshot", "{m}");
    keten.apply(&m);
    let view = &keten.regions["VR01"];
    assert_eq!(location_ids(view), Vec::<String>::new(), "the ketenpartner's snapshot holds no location: {view}");
    assert_eq!(view["totals"]["beds"]["ic"]["occupied"], 10, "but the totals: {view}");
    keten.close().await;

    let mut umcg = ghor.stream("umcg", &["VR01"], None).await;
    let m = umcg.next().await;
    assert_eq!(m["type"], "snapshot", "{m}");
    umcg.apply(&m);
    let view = &umcg.regions["VR01"];
    assert_eq!(
        location_ids(view),
        vec!["umcg".to_owned()],
        "the institution's snapshot holds its own location only: {view}"
    );
    assert_eq!(ic_occupied(view, "umcg"), Some(4), "{view}");
    umcg.close().await;

    let mut rot = ghor.stream("rot", &["VR02"], None).await;
    let m = rot.next().await;
    assert_eq!(m["type"], "error", "a rot token of VR01 asking for VR02 is refused: {m}");
    assert_eq!(m["status"], 403, "{m}");
    rot.close().await;
}

#[tokio::test]
async fn deltas_to_an_institution_leave_out_other_organisations() {
    let ghor = reported().await;
    let mut umcg = ghor.stream("umcg", &["VR01"], None).await;
    let m = umcg.next().await;
    umcg.apply(&m);
    // martini reports first, umcg after: once umcg's report arrives, martini's was folded
    // before it, and must not have reached this client.
    ghor.report_beds("martini", "martini", 8, 7).await;
    ghor.report_beds("umcg", "umcg", 10, 5).await;
    umcg.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(5)).await;
    assert_eq!(
        location_ids(&umcg.regions["VR01"]),
        vec!["umcg".to_owned()],
        "no martini detail in the deltas: {}",
        umcg.regions
    );
    let alerts =
        umcg.regions["VR01"]["alerts"].as_object().map(|a| a.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    assert!(
        alerts.iter().all(|a| a.starts_with("VR") || a.starts_with("umcg/")),
        "no alert of martini reaches umcg: {alerts:?}"
    );
    assert_eq!(
        umcg.regions["VR01"]["totals"]["beds"]["ic"]["occupied"], 12,
        "the totals follow both: {}",
        umcg.regions["VR01"]["totals"]
    );
    umcg.close().await;
}

#[tokio::test]
async fn oto_works_in_the_oefening_picture_only() {
    let ghor = reported().await;
    let (status, me) = ghor.get("oto", "/v1/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["scope"], "oefening", "{me}");

    let (status, picture) = ghor.get("oto", "/v1/picture").await;
    assert_eq!(status, 200, "{picture}");
    assert_eq!(picture["scope"], "oefening", "oto reads the oefening picture: {}", picture["scope"]);
    assert_eq!(
        location_ids(&picture["regions"]["VR01"]["view"]),
        Vec::<String>::new(),
        "the live locations are not in oefening: {}",
        picture["regions"]["VR01"]
    );
    let (status, registry) = ghor.get("oto", "/v1/registry/locations").await;
    assert_eq!(status, 200, "{registry}");
    assert_eq!(registry["locations"], json!([]), "nothing is registered in oefening yet: {registry}");

    // What oto registers lands in oefening, not in the live picture.
    let e = event(
        "/locations/oefenziekenhuis",
        "nl.ghor.location.registered.v1",
        None,
        json!({ "name": "Oefenziekenhuis", "organisation": "oefen", "type": "ziekenhuis", "region": "VR01", "point": { "lat": 53.2, "lon": 6.5 } }),
    );
    let (status, receipt) = ghor.post("oto", "/v1/events", &e).await;
    assert_eq!(status, 201, "{receipt}");
    let mut oto = ghor.stream("oto", &["VR01"], None).await;
    oto.until(|p| p["VR01"]["locations"].get("oefenziekenhuis").is_some()).await;
    oto.close().await;
    let (status, body) = ghor.get("im", "/v1/picture/locations/oefenziekenhuis").await;
    assert_eq!(status, 404, "the exercise location is not in the live picture: {body}");
}
