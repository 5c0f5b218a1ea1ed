//! Authorisation (§7), from the outside: every endpoint of the router × callers that vary
//! role, scope, region and organisation (and no token) against what the policy says,
//! and what each role sees of a region and a location over HTTP and the websocket.
//!
//! The expected status of each cell is derived from `ghor_server::policy::decide` (the one
//! table of §7) plus the facts of the world the test sets up: umcg and martini (VR01) and
//! mcl (VR02) are registered in `live` only, so a token of the `oefening` scope finds them
//! not (404, and a status report for them is a 422 on `source`). What the table itself
//! grants each role is pinned in `me_lists_what_the_role_table_grants`.
//!
//! Public endpoints (page and its assets, health, readiness, metrics, vocabulary, domain data) answer
//! everyone. A location's history is visible exactly where the location's detail is.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ghor_domain::vocab::Bron;
use ghor_domain::{RegionCode, Role, Scope, Slug};
use ghor_server::auth::Caller;
use ghor_server::policy::{self, Action, Capability, TokenTarget};
use ghor_store::TokenInfo;
use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::{event, ic_occupied, Backend, Ghor, TOKENS};

/// The callers the matrix adds to the harness's tokens, each crossing one bound: an
/// informatiemanager in the exercise (scope), a netwerkfunctionaris of VR03 (region), an
/// umcg token for VR02 (region, own organisation), a national ketenpartner.
const EXTRA: &[(&str, &[&str])] = &[
    ("im-oef", &["--role", "informatiemanager", "--name", "IM oefening", "--region", "VR01", "--scope", "oefening"]),
    ("netwerk3", &["--role", "netwerkfunctionaris", "--name", "netwerk IJsselland", "--region", "VR03"]),
    ("umcg-vr02", &["--role", "institution", "--name", "UMCG in VR02", "--region", "VR02", "--organisation", "umcg"]),
    ("keten-nl", &["--role", "ketenpartner", "--name", "Ketenpartner landelijk", "--national"]),
];

/// The columns of the matrix: harness tokens, the extra callers, then no token at all.
const CALLERS: [&str; 15] = [
    "admin",
    "netwerk",
    "netwerk3",
    "im",
    "im2",
    "im-oef",
    "rot",
    "keten",
    "keten-nl",
    "bestuur",
    "umcg",
    "umcg-vr02",
    "martini",
    "oto",
    "none",
];

/// Makes a row's body for one caller.
type BodyFor = Box<dyn Fn(&str) -> Option<Value>>;
/// The status a caller (its token as stored) should get.
type Expect = Box<dyn Fn(&Caller) -> u16>;

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
    expect: Expect,
    /// Without a token: 401, or what a public endpoint answers.
    anonymous: u16,
}

fn row(
    label: &'static str,
    method: Method,
    path: &str,
    body: impl Fn(&str) -> Option<Value> + 'static,
    expect: impl Fn(&Caller) -> u16 + 'static,
) -> Row {
    Row {
        label,
        method,
        path: path.to_owned(),
        body: Box::new(body),
        batch: false,
        expect: Box::new(expect),
        anonymous: 401,
    }
}

/// An endpoint that answers everyone alike.
fn public(label: &'static str, path: &str, status: u16) -> Row {
    Row { anonymous: status, ..row(label, Method::GET, path, no_body, move |_| status) }
}

fn no_body(_: &str) -> Option<Value> {
    None
}

fn region(code: &str) -> RegionCode {
    RegionCode::try_from(code).unwrap_or_else(|e| panic!("{code}: {e:?}"))
}

fn slug(id: &str) -> Slug {
    Slug::try_from(id).unwrap_or_else(|e| panic!("{id}: {e:?}"))
}

/// `ok` when the policy allows the action, else its refusal's 403.
fn allow(caller: &Caller, action: Action<'_>, ok: u16) -> u16 {
    if policy::decide(caller, &action).is_ok() {
        ok
    } else {
        403
    }
}

/// The harness registered its locations in `live` only.
fn live(caller: &Caller) -> bool {
    caller.scope() == Scope::Live
}

/// A status report on umcg (VR01) claiming `bron`: a 422 where umcg is not registered.
fn report_umcg(caller: &Caller, bron: Bron) -> u16 {
    let umcg = slug("umcg");
    if !live(caller) {
        return 422;
    }
    allow(caller, Action::Report { location: &umcg, region: region("VR01"), organisation: &umcg, bron }, 201)
}

/// A location's detail (or history) of `organisation` in `code`: a 404 where it is not registered.
fn read_location(caller: &Caller, id: &str, code: &str) -> u16 {
    let organisation = slug(id);
    if !live(caller) {
        return 404;
    }
    allow(caller, Action::ReadLocation { region: region(code), organisation: &organisation }, 200)
}

/// A token request as the policy weighs it.
fn issue(caller: &Caller, role: Role, regions: &[&str], scope: Scope, organisation_in: &[&str]) -> u16 {
    let regions: Vec<RegionCode> = regions.iter().map(|r| region(r)).collect();
    let organisation_regions: Vec<RegionCode> = organisation_in.iter().map(|r| region(r)).collect();
    let target = TokenTarget { role, regions: &regions, scope, organisation_regions: &organisation_regions };
    allow(caller, Action::IssueToken(target), 201)
}

/// A beds report for umcg with a fresh id, claiming `bron`.
fn status_umcg(bron: &str) -> Value {
    let mut e =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 10, "occupied": 3 }));
    e["bron"] = json!(bron);
    e
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
    // Shares nothing, so that it changes nothing the other rows see.
    let agreement = |_: &str| Some(event("/regions/VR01", "nl.ghor.agreement.recorded.v1", Some("umcg"), json!({ "location_level": {} })));
    let threshold = |_: &str| Some(event("/regions/VR01", "nl.ghor.threshold.set.v1", Some("beds_free_attention"), json!({ "value": 3 })));
    let contacts = |_: &str| Some(json!({ "contacts": [{ "role": "crisiscoordinator", "name": "J. de Vries", "phone_24_7": "+31 50 000 0000", "verified_on": "2026-10-01" }] }));
    let webhooks = |_: &str| Some(json!({ "webhooks": [{ "url": "https://zis.umcg.example/ghor", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }] }));
    let new_token = |_: &str| Some(json!({ "name": "x", "role": "institution", "organisation": "umcg", "regions": ["VR01"] }));
    let national_token = |_: &str| Some(json!({ "name": "x", "role": "ketenpartner", "national": true }));
    let regionless_token = |_: &str| Some(json!({ "name": "x", "role": "ketenpartner" }));
    let oefening_token = |_: &str| Some(json!({ "name": "x", "role": "ketenpartner", "regions": ["VR01"], "scope": "oefening" }));
    let subscribe = |region: &'static str, email: &'static str| {
        move |_: &str| Some(json!({ "region": region, "kind": "seh_stop", "email": email }))
    };
    let elsewhere_token = |_: &str| Some(json!({ "name": "x", "role": "institution", "organisation": "mcl", "regions": ["VR01"] }));
    let uitvraag = |who: &str| Some(event("/regions/VR01", "nl.ghor.uitvraag.opened.v1", Some(&format!("authz-{who}")),
        json!({ "title": "Stroom", "area": { "regions": ["VR01"] }, "asked": [{ "dimension": "utility" }], "deadline": "2030-01-01T00:00:00Z" })));
    let call = |_: &str| Some(event("/regions/VR01", "nl.ghor.uitvraag_call.recorded.v1", Some("authz"), json!({ "location": "umcg", "outcome": "geen_gehoor" })));
    let advice = |who: &str| Some(event("/regions/VR01", "nl.ghor.handelingsperspectief.published.v1", Some(&format!("authz-{who}")),
        json!({ "title": "Kook water", "text": "Kook drinkwater.", "urgency": "normaal", "area": { "regions": ["VR01"] } })));
    let beeld = |who: &str| Some(event("/regions/VR01", "nl.ghor.beeld.issued.v1", Some(&format!("authz-{who}")),
        json!({ "at": "2026-11-01T12:00:00Z", "summary": "Rustig." })));
    let read_umcg = |_: &str| Some(event("/locations/umcg", "nl.ghor.handelingsperspectief.read.v1", Some("authz"), json!({})));
    let revoke = format!("/v1/tokens/{revoke_target}");
    let (vr01, umcg) = (region("VR01"), slug("umcg"));
    let mut batch = row("batch: status umcg (item)", M::POST, "/v1/events/batch", |_| Some(json!([status_umcg("api")])), |c| report_umcg(c, Bron::Api));
    batch.batch = true;
    vec![
        public("public page",       "/",                  200),
        public("health",            "/healthz",           200),
        public("readiness",         "/readyz",            200),
        // A deployment serves metrics on each process's own address; the proxy never shows them.
        public("metrics",           "/metrics",           if super::BACKEND == Backend::Deployment { 404 } else { 200 }),
        public("vocabulary",        "/v1/vocabulary",     200),
        public("domain data",       "/v1/domain",         200),
        public("page script",       "/assets/app.js",     200),
        public("no such asset",     "/assets/nope.js",    404),
        row("who am I",             M::GET,  "/v1/me", no_body, |_| 200),
        row("status report umcg",   M::POST, "/v1/events", |_| Some(status_umcg("api")),       |c| report_umcg(c, Bron::Api)),
        batch,
        row("status by form",       M::POST, "/v1/events", |_| Some(status_umcg("formulier")), |c| report_umcg(c, Bron::Formulier)),
        row("status by phone",      M::POST, "/v1/events", |_| Some(status_umcg("telefoon")),  |c| report_umcg(c, Bron::Telefoon)),
        row("status via OvDG",      M::POST, "/v1/events", |_| Some(status_umcg("ovdg")),      |c| report_umcg(c, Bron::Ovdg)),
        row("status from LCMS",     M::POST, "/v1/events", |_| Some(status_umcg("lcms")),      |c| report_umcg(c, Bron::Lcms)),
        row("incident in VR01",     M::POST, "/v1/events", incident,     move |c| allow(c, Action::ManageIncidents { region: vr01, bron: Bron::Api }, 201)),
        row("register location",    M::POST, "/v1/events", location,     move |c| allow(c, Action::RegisterLocation { region: vr01, registered_in: None, bron: Bron::Api }, 201)),
        row("acknowledge alert",    M::POST, "/v1/events", acknowledged, move |c| allow(c, Action::Acknowledge { region: vr01, bron: Bron::Api }, 201)),
        row("set threshold",        M::POST, "/v1/events", threshold,    move |c| allow(c, Action::SetThreshold { region: vr01, bron: Bron::Api }, 201)),
        row("sharing agreement",    M::POST, "/v1/events", agreement,    move |c| allow(c, Action::RecordAgreement { region: vr01, bron: Bron::Api }, 201)),
        row("uitvraag in VR01",     M::POST, "/v1/events", uitvraag,     move |c| allow(c, Action::AskAndAdvise { region: vr01, bron: Bron::Api }, 201)),
        row("call recorded",        M::POST, "/v1/events", call,         move |c| allow(c, Action::AskAndAdvise { region: vr01, bron: Bron::Api }, 201)),
        row("handelingsperspectief", M::POST, "/v1/events", advice,      move |c| allow(c, Action::AskAndAdvise { region: vr01, bron: Bron::Api }, 201)),
        row("issue beeld",          M::POST, "/v1/events", beeld,        move |c| allow(c, Action::AskAndAdvise { region: vr01, bron: Bron::Api }, 201)),
        row("gelezen umcg",         M::POST, "/v1/events", read_umcg,    |c| report_umcg(c, Bron::Api)),
        row("picture",              M::GET,  "/v1/picture", no_body, |_| 200),
        row("region VR01",          M::GET,  "/v1/picture/regions/VR01", no_body, |c| allow(c, Action::ReadPicture { region: region("VR01") }, 200)),
        row("region VR02",          M::GET,  "/v1/picture/regions/VR02", no_body, |c| allow(c, Action::ReadPicture { region: region("VR02") }, 200)),
        row("alert feed VR01",      M::GET,  "/v1/picture/regions/VR01/alerts", no_body, |c| allow(c, Action::ReadPicture { region: region("VR01") }, 200)),
        row("location umcg (VR01)", M::GET,  "/v1/picture/locations/umcg", no_body, |c| read_location(c, "umcg", "VR01")),
        row("location mcl (VR02)",  M::GET,  "/v1/picture/locations/mcl", no_body, |c| read_location(c, "mcl", "VR02")),
        row("history umcg (VR01)",  M::GET,  "/v1/picture/locations/umcg/history?limit=5", no_body, |c| read_location(c, "umcg", "VR01")),
        row("history mcl (VR02)",   M::GET,  "/v1/picture/locations/mcl/history", no_body, |c| read_location(c, "mcl", "VR02")),
        row("history bad limit",    M::GET,  "/v1/picture/locations/umcg/history?limit=0", no_body, |_| 422),
        row("region VR01 then",     M::GET,  "/v1/picture/regions/VR01?at=2026-11-01T12:00:00Z", no_body, |c| allow(c, Action::ReadPicture { region: region("VR01") }, 200)),
        row("region VR02 observed", M::GET,  "/v1/picture/regions/VR02?at=2026-11-01T12:00:00Z&clock=observed", no_body, |c| allow(c, Action::ReadPicture { region: region("VR02") }, 200)),
        row("beeld VR01",           M::GET,  "/v1/picture/regions/VR01/beeld?format=md", no_body, |c| allow(c, Action::ReadPicture { region: region("VR01") }, 200)),
        row("beeld VR02 PDF then",  M::GET,  "/v1/picture/regions/VR02/beeld?format=pdf&at=2026-11-01T12:00:00Z", no_body, |c| allow(c, Action::ReadPicture { region: region("VR02") }, 200)),
        row("SANER bundle VR02",    M::GET,  "/v1/picture/regions/VR02/saner", no_body, |c| allow(c, Action::ReadPicture { region: region("VR02") }, 200)),
        row("location umcg then",   M::GET,  "/v1/picture/locations/umcg?at=2026-11-01T12:00:00Z", no_body, |c| read_location(c, "umcg", "VR01")),
        row("timeline umcg (VR01)", M::GET,  "/v1/picture/locations/umcg/timeline?dimension=beds", no_body, |c| read_location(c, "umcg", "VR01")),
        row("timeline mcl (VR02)",  M::GET,  "/v1/picture/locations/mcl/timeline?dimension=beds", no_body, |c| read_location(c, "mcl", "VR02")),
        row("timeline CSV umcg",    M::GET,  "/v1/picture/locations/umcg/timeline.csv?dimension=beds", no_body, |c| read_location(c, "umcg", "VR01")),
        row("registry",             M::GET,  "/v1/registry/locations", no_body, |_| 200),
        row("incidents",            M::GET,  "/v1/incidents", no_body, |_| 200),
        row("uitvragen",            M::GET,  "/v1/uitvragen", no_body, |_| 200),
        row("no such uitvraag",     M::GET,  "/v1/uitvragen/nope", no_body, |_| 404),
        row("contacts umcg",        M::GET,  "/v1/registry/locations/umcg/contacts", no_body,
            move |c| if live(c) { allow(c, Action::ReadContacts { region: vr01, organisation: &umcg }, 200) } else { 404 }),
        row("set contacts umcg",    M::PUT,  "/v1/registry/locations/umcg/contacts", contacts,
            move |c| if live(c) { allow(c, Action::WriteContacts { region: vr01, organisation: &slug("umcg") }, 200) } else { 404 }),
        row("webhooks umcg",        M::GET,  "/v1/registry/organisations/umcg/webhooks", no_body,
            move |c| if live(c) { allow(c, Action::ReadContacts { region: vr01, organisation: &slug("umcg") }, 200) } else { 404 }),
        row("set webhooks umcg",    M::PUT,  "/v1/registry/organisations/umcg/webhooks", webhooks,
            move |c| if live(c) { allow(c, Action::WriteContacts { region: vr01, organisation: &slug("umcg") }, 200) } else { 404 }),
        row("contacts overview",    M::GET,  "/v1/registry/contacts?region=VR01", no_body, |c| if policy::may(c, Capability::ReadContacts) { 200 } else { 403 }),
        row("contacts bad region",  M::GET,  "/v1/registry/contacts?region=VR99", no_body, |c| if policy::may(c, Capability::ReadContacts) { 422 } else { 403 }),
        row("prepare exercise",     M::POST, "/v1/oefening/prepare", |_| Some(json!({})),
            |c| if live(c) { 409 } else if policy::may(c, Capability::Register) { 200 } else { 403 }),
        row("quarantine",           M::GET,  "/v1/quarantine", no_body, |c| allow(c, Action::ReadQuarantine, 200)),
        row("create token",         M::POST, "/v1/tokens", new_token,        |c| issue(c, Role::Institution, &["VR01"], Scope::Live, &["VR01"])),
        row("create national token", M::POST, "/v1/tokens", national_token,  |c| issue(c, Role::Ketenpartner, &[], Scope::Live, &[])),
        row("create token no region", M::POST, "/v1/tokens", regionless_token,
            |c| if policy::may(c, Capability::IssueTokens) { 422 } else { 403 }),
        row("create oefening token", M::POST, "/v1/tokens", oefening_token,  |c| issue(c, Role::Ketenpartner, &["VR01"], Scope::Oefening, &[])),
        row("token: org not in region", M::POST, "/v1/tokens", elsewhere_token, |c| issue(c, Role::Institution, &["VR01"], Scope::Live, &["VR02"])),
        row("list tokens",          M::GET,  "/v1/tokens", no_body, |c| allow(c, Action::ListTokens, 200)),
        row("revoke token",         M::DELETE, &revoke, no_body, move |c| {
            let target = TokenTarget { role: Role::Institution, regions: &[vr01], scope: Scope::Live, organisation_regions: &[] };
            allow(c, Action::RevokeToken(target), 204)
        }),
        row("stream ticket",        M::POST, "/v1/stream/ticket", |_| Some(json!({})), |_| 200),
        row("own subscriptions",    M::GET,  "/v1/subscriptions", no_body, |c| allow(c, Action::OwnSubscriptions, 200)),
        row("subscribe VR01",       M::POST, "/v1/subscriptions", subscribe("VR01", "im@ghor.example"),
            move |c| allow(c, Action::Subscribe { region: vr01 }, 201)),
        row("subscribe VR02",       M::POST, "/v1/subscriptions", subscribe("VR02", "im@ghor.example"),
            |c| allow(c, Action::Subscribe { region: region("VR02") }, 201)),
        row("subscribe bad email",  M::POST, "/v1/subscriptions", subscribe("VR01", "im at ghor"),
            |c| allow(c, Action::OwnSubscriptions, 422)),
        row("unsubscribe no such",  M::DELETE, "/v1/subscriptions/0190c3a4-0000-7000-8000-000000000000", no_body,
            |c| allow(c, Action::OwnSubscriptions, 404)),
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

/// The `--name` a token was created with.
fn name_of(args: &[&str]) -> String {
    let at = args.iter().position(|a| *a == "--name").unwrap_or_else(|| panic!("no --name in {args:?}"));
    args[at + 1].to_owned()
}

/// A server with the harness's tokens and the extra callers, and each caller as its token
/// is stored (what the policy decides on).
async fn with_callers() -> (Ghor, BTreeMap<&'static str, Caller>) {
    let mut ghor = super::start().await;
    for (key, args) in EXTRA {
        let mut full = vec!["token", "create"];
        full.extend_from_slice(args);
        let secret = ghor.cli(&full).await;
        ghor.tokens.insert((*key).to_owned(), secret);
    }
    let (status, tokens) = ghor.get("admin", "/v1/tokens").await;
    assert_eq!(status, 200, "{tokens}");
    let stored: Vec<TokenInfo> = serde_json::from_value(tokens["tokens"].clone()).expect("tokens as stored");
    let mut callers = BTreeMap::new();
    for (key, args) in TOKENS.iter().chain(EXTRA) {
        let name = name_of(args);
        let token = stored.iter().find(|t| t.name == name).unwrap_or_else(|| panic!("token {name} is listed"));
        callers.insert(*key, Caller { token: token.clone() });
    }
    (ghor, callers)
}

#[tokio::test]
async fn every_endpoint_answers_every_caller_as_the_policy_says() {
    let (ghor, callers) = with_callers().await;

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
        for caller in CALLERS {
            let expected = match callers.get(caller) {
                Some(c) => (row.expect)(c),
                None => row.anonymous,
            };
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
        "{} of {} cells differ from the policy (*got≠expected):\n\n{grid}\n{}",
        failures.len(),
        rows.len() * CALLERS.len(),
        failures.join("\n")
    );
}

/// The role table as §7 states it, pinned here so that a change to the table is a change
/// to this test too: `/v1/me` lists what each caller may do, the `bron` it may claim and
/// the tokens it may mint.
#[tokio::test]
async fn me_lists_what_the_role_table_grants() {
    let (ghor, _) = with_callers().await;
    let reader = json!(["read_picture", "read_locations", "subscribe"]);
    let im = json!([
        "read_picture",
        "read_locations",
        "report_on_behalf",
        "acknowledge",
        "manage_incidents",
        "ask_and_advise",
        "set_thresholds",
        "subscribe",
        "read_contacts",
        "read_quarantine"
    ]);
    let own = json!(["api", "formulier"]);
    let every = json!(["api", "formulier", "telefoon", "ovdg", "lcms", "overig"]);
    let registry = json!(["api", "formulier", "telefoon", "overig"]);
    let cases = [
        ("umcg", json!(["read_picture", "read_own_locations", "report"]), own.clone(), json!([])),
        ("im", im.clone(), every.clone(), json!([])),
        ("im-oef", im, every.clone(), json!([])),
        (
            "netwerk",
            json!(["read_picture", "read_locations", "register", "read_contacts", "write_contacts", "issue_tokens"]),
            registry.clone(),
            json!(["institution", "rot", "ketenpartner", "bestuur"]),
        ),
        (
            "oto",
            json!([
                "read_picture",
                "read_locations",
                "report_on_behalf",
                "acknowledge",
                "manage_incidents",
                "ask_and_advise",
                "set_thresholds",
                "register",
                "subscribe",
                "read_contacts",
                "read_quarantine"
            ]),
            every,
            json!([]),
        ),
        ("rot", reader, json!([]), json!([])),
        ("keten", json!(["read_picture"]), json!([]), json!([])),
        ("bestuur", json!(["read_picture"]), json!([]), json!([])),
        (
            "admin",
            json!([
                "read_picture",
                "read_locations",
                "register",
                "set_thresholds",
                "read_contacts",
                "write_contacts",
                "read_quarantine",
                "issue_tokens",
                "inject_faults"
            ]),
            registry,
            json!([
                "institution",
                "informatiemanager",
                "netwerkfunctionaris",
                "oto",
                "rot",
                "ketenpartner",
                "bestuur",
                "admin"
            ]),
        ),
    ];
    for (token, may, bron, mints) in cases {
        let (status, me) = ghor.get(token, "/v1/me").await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["may"], may, "{token} may: {me}");
        assert_eq!(me["bron"], bron, "{token} claims: {me}");
        assert_eq!(me["mints"], mints, "{token} mints: {me}");
    }
    let (_, me) = ghor.get("umcg-vr02", "/v1/me").await;
    assert_eq!(
        (&me["organisation"], &me["regions"], &me["national"]),
        (&json!("umcg"), &json!(["VR02"]), &json!(false)),
        "{me}"
    );
    let (_, me) = ghor.get("keten-nl", "/v1/me").await;
    assert_eq!((me["national"].as_bool(), me["regions"].as_array().map(Vec::len)), (Some(true), Some(25)), "{me}");
    let (_, me) = ghor.get("im-oef", "/v1/me").await;
    assert_eq!(me["scope"], "oefening", "{me}");
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

/// umcg's agreement for VR01, as the netwerkfunctionaris records it.
async fn agree(ghor: &Ghor, location_level: Value) -> u64 {
    let agreement = event(
        "/regions/VR01",
        "nl.ghor.agreement.recorded.v1",
        Some("umcg"),
        json!({ "location_level": location_level, "reference": "Convenant informatiedeling 2026" }),
    );
    let (status, body) = ghor.post("netwerk", "/v1/events", &agreement).await;
    assert_eq!(status, 201, "the netwerkfunctionaris records the agreement: {body}");
    body["seq"].as_u64().expect("seq")
}

/// A staffing report of umcg: what its agreement keeps from ketenpartners.
async fn report_staffing_umcg(ghor: &Ghor, unfilled: u32) -> u64 {
    let staffing = event(
        "/locations/umcg",
        "nl.ghor.staffing.reported.v1",
        Some("ic_verpleegkundige"),
        json!({ "unfilled_shifts_24h": unfilled, "critical": true }),
    );
    let (status, body) = ghor.post("umcg", "/v1/events", &staffing).await;
    assert_eq!(status, 201, "{body}");
    body["seq"].as_u64().expect("seq")
}

/// Waits until the gateway has folded up to `seq`.
async fn folded(ghor: &Ghor, seq: u64) {
    crate::harness::wait_for(async || ghor.get("im", "/v1/picture").await.1["seq"].as_u64() >= Some(seq)).await;
}

/// An institution's agreement, recorded by the netwerkfunctionaris (seed 004: which
/// information is and is not shared), shows umcg's beds to ketenpartners at location level
/// and keeps its staffing from them: over HTTP (region, picture, location, history, alert
/// feed) and the websocket (the change itself, then deltas), while bestuur, whom it does not
/// name, still sees aggregates only and the ROT everything. Withdrawn, it closes again.
#[tokio::test]
async fn an_agreement_shares_beds_with_ketenpartners_and_keeps_staffing_from_them() {
    let ghor = reported().await;
    let staffing = report_staffing_umcg(&ghor, 4).await;
    folded(&ghor, staffing).await;
    let mut keten = ghor.stream("keten", &["VR01"], None).await;
    keten.until(|p| p["VR01"].is_object()).await;
    assert_eq!(location_ids(&keten.regions["VR01"]), Vec::<String>::new(), "no agreement yet: no location");

    assert_eq!(ghor.get("keten", "/v1/me").await.1["audience"], "ketenpartner", "the page learns whose share it sees");
    let agreed = agree(&ghor, json!({ "ketenpartner": ["beds"] })).await;
    folded(&ghor, agreed).await;
    keten.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(4)).await;
    let seen = |view: &Value, what: &str| {
        let umcg = &view["locations"]["umcg"];
        assert_eq!(location_ids(view), vec!["umcg".to_owned()], "{what}: umcg alone, martini agreed nothing: {view}");
        assert_eq!(umcg["name"], "Locatie umcg", "{what}: named: {umcg}");
        let dimensions: Vec<&String> = umcg["dimensions"].as_object().map(|d| d.keys().collect()).unwrap_or_default();
        assert_eq!(dimensions, vec!["beds"], "{what}: beds, not staffing: {umcg}");
        let beds_time = &umcg["dimensions"]["beds"]["values"]["ic"]["time"];
        assert_eq!(
            &umcg["last_report"], beds_time,
            "{what}: last reported as far as the beds say, not the staffing: {umcg}"
        );
        assert_eq!(umcg["shared"]["ketenpartner"], json!(["beds"]), "{what}: what was agreed: {umcg}");
    };
    seen(&keten.regions["VR01"], "the stream, as the agreement changed");

    // Deltas: a staffing report does not reach the ketenpartner, a beds report does.
    report_staffing_umcg(&ghor, 6).await;
    ghor.report_beds("umcg", "umcg", 10, 5).await;
    keten.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(5)).await;
    seen(&keten.regions["VR01"], "the stream, after a staffing and a beds report");

    // HTTP alike.
    seen(&region_view(&ghor, "keten", "VR01").await, "GET region");
    let (status, picture) = ghor.get("keten", "/v1/picture").await;
    assert_eq!(status, 200, "{picture}");
    seen(&picture["regions"]["VR01"]["view"], "GET picture");
    let ages = &picture["regions"]["VR01"]["staleness"]["locations"]["umcg"];
    assert!(ages["dimension_age_seconds"]["beds"].is_number(), "the age of the beds: {ages}");
    assert!(ages["dimension_age_seconds"].get("staffing").is_none() && ages.get("age_seconds").is_none(), "{ages}");
    let (status, detail) = ghor.get("keten", "/v1/picture/locations/umcg").await;
    assert_eq!(status, 200, "the ketenpartner may open umcg: {detail}");
    let dimensions: Vec<&String> =
        detail["location"]["dimensions"].as_object().map(|d| d.keys().collect()).unwrap_or_default();
    assert_eq!(dimensions, vec!["beds"], "{detail}");
    assert!(detail.get("contacts").is_none(), "never contacts: {detail}");
    let (status, history) = ghor.get("keten", "/v1/picture/locations/umcg/history?limit=100").await;
    assert_eq!(status, 200, "{history}");
    let types: std::collections::BTreeSet<&str> =
        history["changes"].as_array().expect("changes").iter().filter_map(|c| c["type"].as_str()).collect();
    assert_eq!(types, ["nl.ghor.beds.reported.v1"].into(), "the history of the beds alone: {history}");
    let (status, _) = ghor.get("keten", "/v1/picture/locations/martini").await;
    assert_eq!(status, 403, "martini agreed nothing");
    let (status, feed) = ghor.get("keten", "/v1/picture/regions/VR01/alerts").await;
    assert_eq!(status, 200, "{feed}");
    let feed = feed["feed"].as_array().expect("feed");
    assert!(
        feed.iter().all(|a| !a["id"].as_str().unwrap_or_default().contains("staffing")),
        "no staffing alert: {feed:?}"
    );

    // Bestuur is not named: aggregates only. The ROT sees all, staffing too.
    assert_eq!(location_ids(&region_view(&ghor, "bestuur", "VR01").await), Vec::<String>::new());
    assert_eq!(ghor.get("bestuur", "/v1/picture/locations/umcg").await.0, 403);
    assert!(region_view(&ghor, "rot", "VR01").await["locations"]["umcg"]["dimensions"]["staffing"].is_object());

    // Withdrawn: umcg leaves the ketenpartner's stream and is closed to it again.
    let withdrawn = agree(&ghor, json!({})).await;
    folded(&ghor, withdrawn).await;
    keten.until(|p| location_ids(&p["VR01"]).is_empty()).await;
    assert_eq!(ghor.get("keten", "/v1/picture/locations/umcg").await.0, 403);
    keten.close().await;
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
