//! Authorisation holes an attacker's own HTTP and websocket client found (issue 8), each
//! tried again from outside: contacts across scopes and regions, erasure, revoked tokens
//! whose tickets and streams lived on, aggregates that named locations or showed one
//! location's figure as a "total", institution tokens writing outside their regions,
//! tokens that became national by leaving out the region, and institutions claiming that
//! the GHOR took their report by phone (`bron`).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::process::Command;
use tokio_tungstenite::tungstenite::Message;

use crate::harness::{event, ic_occupied, Ghor, BIN, DEADLINE};

fn contact(name: &str) -> Value {
    json!({ "contacts": [{ "role": "crisiscoordinator", "name": name, "phone_24_7": "+31 50 000 0000", "verified_on": "2026-10-01" }] })
}

async fn put(ghor: &Ghor, token: &str, path: &str, body: &Value) -> (u16, Value) {
    let response = ghor
        .http
        .put(format!("{}{path}", ghor.url))
        .bearer_auth(ghor.token(token))
        .json(body)
        .send()
        .await
        .expect("PUT");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn delete(ghor: &Ghor, token: &str, path: &str) -> u16 {
    let response =
        ghor.http.delete(format!("{}{path}", ghor.url)).bearer_auth(ghor.token(token)).send().await.expect("DELETE");
    response.status().as_u16()
}

/// Creates a token with the CLI, known to `ghor` as `name`; returns its id.
async fn cli_token(ghor: &mut Ghor, name: &str, args: &[&str]) -> String {
    let mut full = vec!["token", "create", "--name", name];
    full.extend_from_slice(args);
    let secret = ghor.cli(&full).await;
    ghor.tokens.insert(name.to_owned(), secret);
    token_id(ghor, name).await
}

async fn token_id(ghor: &Ghor, name: &str) -> String {
    let (status, tokens) = ghor.get("admin", "/v1/tokens").await;
    assert_eq!(status, 200, "{tokens}");
    tokens["tokens"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["name"] == name))
        .and_then(|t| t["id"].as_str())
        .unwrap_or_else(|| panic!("token {name} is listed: {tokens}"))
        .to_owned()
}

// ---- 1. contacts are separated by scope and region ----

#[tokio::test]
async fn an_exercise_never_reads_or_overwrites_live_contacts() {
    let mut ghor = super::start().await;
    let (status, body) = put(&ghor, "netwerk", "/v1/registry/locations/umcg/contacts", &contact("J. de Vries")).await;
    assert_eq!(status, 200, "{body}");

    // An exercise registers a location under the live location's id, in another region.
    cli_token(
        &mut ghor,
        "oefen netwerk",
        &["--role", "netwerkfunctionaris", "--region", "VR03", "--scope", "oefening"],
    )
    .await;
    let e = event(
        "/locations/umcg",
        "nl.ghor.location.registered.v1",
        None,
        json!({ "name": "Oefen-UMCG", "organisation": "oefen", "type": "ziekenhuis", "region": "VR03", "point": { "lat": 52.5, "lon": 6.1 } }),
    );
    let (status, receipt) = ghor.post("oefen netwerk", "/v1/events", &e).await;
    assert_eq!(status, 201, "{receipt}");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (status, registry) = ghor.get("oto", "/v1/registry/locations").await;
        assert_eq!(status, 200, "{registry}");
        if registry["locations"].as_array().is_some_and(|l| l.iter().any(|l| l["id"] == "umcg")) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the exercise registration never reached the picture");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    for token in ["oto", "oefen netwerk"] {
        let (status, body) = ghor.get(token, "/v1/registry/locations/umcg/contacts").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["contacts"], json!([]), "{token} (oefening) reads no live contact: {body}");
        let (status, body) = ghor.get(token, "/v1/picture/locations/umcg").await;
        assert_eq!(status, 200, "{body}");
        assert!(!body.to_string().contains("J. de Vries"), "{token} reads no live contact with the location: {body}");
    }
    let (status, body) =
        put(&ghor, "oefen netwerk", "/v1/registry/locations/umcg/contacts", &contact("Oefen Persoon")).await;
    assert_eq!(status, 200, "the exercise keeps contacts of its own: {body}");
    let (status, live) = ghor.get("netwerk", "/v1/registry/locations/umcg/contacts").await;
    assert_eq!(status, 200, "{live}");
    assert_eq!(live["contacts"][0]["name"], "J. de Vries", "live contacts are untouched by the exercise: {live}");
    let (_, drill) = ghor.get("oefen netwerk", "/v1/registry/locations/umcg/contacts").await;
    assert_eq!(drill["contacts"][0]["name"], "Oefen Persoon", "{drill}");

    // Erasure in the exercise leaves live alone; erasure in live empties live.
    let (status, _) =
        put(&ghor, "oefen netwerk", "/v1/registry/locations/umcg/contacts", &json!({ "contacts": [] })).await;
    assert_eq!(status, 200);
    let (_, live) = ghor.get("netwerk", "/v1/registry/locations/umcg/contacts").await;
    assert_eq!(live["contacts"][0]["name"], "J. de Vries", "{live}");
    let (status, _) = put(&ghor, "netwerk", "/v1/registry/locations/umcg/contacts", &json!({ "contacts": [] })).await;
    assert_eq!(status, 200);
    let (_, live) = ghor.get("netwerk", "/v1/registry/locations/umcg/contacts").await;
    assert_eq!(live["contacts"], json!([]), "{live}");
}

#[tokio::test]
async fn a_netwerkfunctionaris_keeps_contacts_of_its_own_regions_only() {
    let ghor = super::start().await;
    // admin (national) registers a location in VR03, outside netwerk's VR01 and VR02.
    let e = event(
        "/locations/isala",
        "nl.ghor.location.registered.v1",
        None,
        json!({ "name": "Isala", "organisation": "isala", "type": "ziekenhuis", "region": "VR04", "point": { "lat": 52.51, "lon": 6.08 } }),
    );
    let (status, receipt) = ghor.post("admin", "/v1/events", &e).await;
    assert_eq!(status, 201, "{receipt}");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while ghor.get("admin", "/v1/picture/locations/isala").await.0 != 200 {
        assert!(tokio::time::Instant::now() < deadline, "isala never reached the picture");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, body) = put(&ghor, "admin", "/v1/registry/locations/isala/contacts", &contact("A. Bakker")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = ghor.get("netwerk", "/v1/registry/locations/isala/contacts").await;
    assert_eq!(status, 403, "netwerk of VR01/VR02 may not read VR04's contacts: {body}");
    let (status, body) = put(&ghor, "netwerk", "/v1/registry/locations/isala/contacts", &contact("Indringer")).await;
    assert_eq!(status, 403, "nor write them: {body}");
    let (_, body) = ghor.get("admin", "/v1/registry/locations/isala/contacts").await;
    assert_eq!(body["contacts"][0]["name"], "A. Bakker", "{body}");
}

// ---- 3. a revoked token's tickets and open streams die with it ----

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ticket(ghor: &Ghor, token: &str) -> String {
    let (status, body) = ghor.post(token, "/v1/stream/ticket", &json!({})).await;
    assert_eq!(status, 200, "{body}");
    body["ticket"].as_str().expect("ticket").to_owned()
}

async fn open(ghor: &Ghor, ticket: &str) -> Ws {
    let url = format!("{}/v1/stream", ghor.url.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("websocket");
    let hello = json!({ "type": "hello", "ticket": ticket, "regions": ["VR01"] });
    ws.send(Message::Text(hello.to_string().into())).await.expect("hello");
    ws
}

/// The next text message, or `None` once the stream has ended; within `within`.
async fn next_text(ws: &mut Ws, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, ws.next()).await.expect("the server answers in time") {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).expect("json")),
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// Reads until the 401 error; then the stream must end. Panics after `within`.
async fn ended_with_401(ws: &mut Ws, within: Duration) -> Value {
    let error = loop {
        let m = next_text(ws, within).await.expect("a 401 error before the stream ends");
        if m["type"] == "error" {
            break m;
        }
    };
    assert_eq!(error["status"], 401, "{error}");
    assert!(next_text(ws, within).await.is_none(), "the stream ends after the error");
    error
}

async fn revoked_stream_ends(by_cli: bool) {
    let mut ghor = super::start().await;
    let name = if by_cli { "ROT oud cli" } else { "ROT oud api" };
    let id = cli_token(&mut ghor, name, &["--role", "rot", "--region", "VR01"]).await;
    let mut ws = open(&ghor, &ticket(&ghor, name).await).await;
    let snapshot = next_text(&mut ws, DEADLINE).await.expect("snapshot");
    assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
    let spare = ticket(&ghor, name).await;

    if by_cli {
        ghor.cli(&["token", "revoke", &id]).await;
    } else {
        assert_eq!(delete(&ghor, "admin", &format!("/v1/tokens/{id}")).await, 204);
    }
    let error = ended_with_401(&mut ws, Duration::from_secs(3)).await;
    assert!(error["detail"].as_str().is_some_and(|d| d.contains("revoked")), "the error says why: {error}");

    // The ticket taken before the revocation opens nothing.
    let mut late = open(&ghor, &spare).await;
    let m = next_text(&mut late, DEADLINE).await.expect("an answer to the hello");
    assert_eq!(m["type"], "error", "a ticket of a revoked token is refused: {m}");
    assert_eq!(m["status"], 401, "{m}");
    assert!(next_text(&mut late, DEADLINE).await.is_none(), "and the stream ends");
}

#[tokio::test]
async fn revoking_over_the_api_ends_open_streams_and_tickets() {
    revoked_stream_ends(false).await;
}

#[tokio::test]
async fn revoking_with_the_cli_ends_open_streams_and_tickets() {
    revoked_stream_ends(true).await;
}

// ---- 4. aggregates never name a location ----

/// Every registered location id but `own` that occurs anywhere in `json`.
fn named(json: &Value, ids: &[&str], own: Option<&str>) -> Vec<String> {
    let text = json.to_string();
    ids.iter().filter(|id| Some(**id) != own && text.contains(*id)).map(|id| (*id).to_owned()).collect()
}

const IDS: [&str; 4] = ["umcg", "martini", "mcl", "ommelander"];

fn supplies(location: &str, on_hand: u32) -> Value {
    event(
        &format!("/locations/{location}"),
        "nl.ghor.supplies.reported.v1",
        Some("ffp2"),
        json!({ "on_hand": on_hand, "daily_use": 100 }),
    )
}

/// The leaves of a JSON tree of counts: numbers, or withheld markers.
fn leaves(tree: &Value) -> Vec<&Value> {
    match tree.as_object() {
        Some(map) if !map.contains_key("withheld") => map.values().flat_map(leaves).collect(),
        _ => vec![tree],
    }
}

#[tokio::test]
async fn aggregates_name_no_location_and_withhold_figures_of_too_few() {
    let ghor = super::start().await;
    let mut keten = ghor.stream("keten", &["VR01"], None).await;
    let mut umcg = ghor.stream("umcg", &["VR01"], None).await;
    let mut keten_raw = Vec::new();
    let mut umcg_raw = Vec::new();

    // Two VR01 locations report: their totals are theirs, and so withheld.
    ghor.report_beds("umcg", "umcg", 10, 4).await;
    ghor.report_beds("martini", "martini", 8, 6).await;
    for (location, token) in [("umcg", "umcg"), ("martini", "martini")] {
        let (status, body) = ghor.post(token, "/v1/events", &supplies(location, 150)).await;
        assert_eq!(status, 201, "{body}");
    }
    let mut im = ghor.stream("im", &["VR01"], None).await;
    im.until(|p| p["VR01"]["totals"]["min_supply_days"]["ffp2"]["location"].is_string()).await;
    assert_eq!(im.regions["VR01"]["totals"]["beds"]["ic"]["occupied"], 10, "full callers see the figure");
    assert_eq!(im.regions["VR01"]["totals"]["levels"]["beds/ic"], "goed", "and its level");

    let withheld = |p: &Value| p["VR01"]["totals"]["beds"]["ic"]["withheld"] == true;
    for (s, raw) in [(&mut keten, &mut keten_raw), (&mut umcg, &mut umcg_raw)] {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while !(withheld(&s.regions) && s.regions["VR01"]["totals"]["min_supply_days"]["ffp2"]["withheld"] == true) {
            assert!(tokio::time::Instant::now() < deadline, "never withheld: {}", s.regions);
            let m = s.next().await;
            s.apply(&m);
            raw.push(m);
        }
        let totals = &s.regions["VR01"]["totals"];
        assert!(totals["beds"]["ic"].get("occupied").is_none(), "no figure beside the marker: {totals}");
        assert!(totals["levels"].get("beds/ic").is_none(), "a withheld figure's level is withheld: {totals}");
        assert_eq!(totals["levels"]["not_reporting"], "goed", "the other levels are shown: {totals}");
        // Counts of what those two reported say it as plainly: withheld, count by count.
        let states = leaves(&totals["states"]);
        assert!(!states.is_empty() && states.iter().all(|c| c["withheld"] == true), "{totals}");
        assert_eq!(totals["on_backup_power"]["withheld"], true, "{totals}");
        assert!(totals["levels"].get("on_backup_power").is_none(), "{totals}");
    }
    for token in ["keten", "umcg"] {
        let (status, body) = ghor.get(token, "/v1/picture/regions/VR01").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["view"]["totals"]["beds"]["ic"]["withheld"], true, "{token}: {}", body["view"]["totals"]);
        assert_eq!(body["view"]["totals"]["beds"]["ic"]["reason"], "fewer_than_3_locations");
        assert!(body["view"]["totals"]["levels"].get("beds/ic").is_none(), "{token}: {}", body["view"]["totals"]);
    }

    // A third location reports: now the totals are the chain's, shown, and still nameless.
    ghor.register(&[("ommelander", "ommelander", "ziekenhuis", "VR01", 53.15, 6.95)]).await;
    ghor.report_beds("im", "ommelander", 5, 0).await;
    let (status, body) = ghor.post("im", "/v1/events", &supplies("ommelander", 120)).await;
    assert_eq!(status, 201, "{body}");
    for (s, raw) in [(&mut keten, &mut keten_raw), (&mut umcg, &mut umcg_raw)] {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while s.regions["VR01"]["totals"]["min_supply_days"]["ffp2"]["days"] != json!(1.2) {
            assert!(tokio::time::Instant::now() < deadline, "never shown: {}", s.regions);
            let m = s.next().await;
            s.apply(&m);
            raw.push(m);
        }
        let totals = &s.regions["VR01"]["totals"];
        assert_eq!(totals["beds"]["ic"], json!({ "free": 13, "operational": 23, "occupied": 10 }), "{totals}");
        assert_eq!(totals["levels"]["beds/ic"], "goed", "shown again with its figure: {totals}");
        assert!(totals["min_supply_days"]["ffp2"].get("location").is_none(), "{totals}");
        let states = leaves(&totals["states"]);
        assert!(!states.is_empty() && states.iter().all(|c| c.is_u64()), "counts shown again: {totals}");
        assert_eq!(totals["on_backup_power"], 0, "{totals}");
    }
    assert_eq!(ic_occupied(&umcg.regions["VR01"], "umcg"), Some(4), "umcg still sees its own location");

    // Nothing they received, over the websocket or the API, names another location.
    let mut api = Vec::new();
    for token in ["keten", "umcg"] {
        for path in ["/v1/picture", "/v1/picture/regions/VR01", "/v1/registry/locations", "/v1/incidents"] {
            let (status, body) = ghor.get(token, path).await;
            assert_eq!(status, 200, "{path}: {body}");
            api.push((token, path, body));
        }
    }
    let own = |token: &str| (token == "umcg").then_some("umcg");
    for (token, raw) in [("keten", &keten_raw), ("umcg", &umcg_raw)] {
        for m in raw {
            assert_eq!(named(m, &IDS, own(token)), Vec::<String>::new(), "{token} received: {m}");
        }
    }
    for (token, path, body) in &api {
        assert_eq!(named(body, &IDS, own(token)), Vec::<String>::new(), "{token} {path}: {body}");
    }
    keten.close().await;
    umcg.close().await;
    im.close().await;
}

// ---- 5. institution tokens write only in their regions ----

#[tokio::test]
async fn an_institution_token_writes_only_in_its_regions() {
    let mut ghor = super::start().await;
    cli_token(&mut ghor, "UMCG via VR02", &["--role", "institution", "--region", "VR02", "--organisation", "umcg"])
        .await;
    let e =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 10, "occupied": 1 }));
    let (status, body) = ghor.post("UMCG via VR02", "/v1/events", &e).await;
    assert_eq!(status, 403, "umcg lies in VR01, outside the token's VR02: {body}");
    assert_eq!(body["errors"][0]["field"], "source", "{body}");
}

#[tokio::test]
async fn a_netwerkfunctionaris_mints_institution_tokens_only_where_the_organisation_is() {
    let mut ghor = super::start().await;
    // An organisation whose locations all lie in VR03, registered by admin.
    let e = event(
        "/locations/wilhelmina",
        "nl.ghor.location.registered.v1",
        None,
        json!({ "name": "Wilhelmina", "organisation": "wza", "type": "ziekenhuis", "region": "VR03", "point": { "lat": 52.99, "lon": 6.56 } }),
    );
    let (status, receipt) = ghor.post("admin", "/v1/events", &e).await;
    assert_eq!(status, 201, "{receipt}");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while ghor.get("admin", "/v1/picture/locations/wilhelmina").await.0 != 200 {
        assert!(tokio::time::Instant::now() < deadline, "wilhelmina never reached the picture");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let request = json!({ "name": "WZA", "role": "institution", "organisation": "wza", "regions": ["VR01"] });
    let (status, body) = ghor.post("netwerk", "/v1/tokens", &request).await;
    assert_eq!(status, 403, "wza has no location in VR01: {body}");
    assert_eq!(body["errors"][0]["field"], "regions", "{body}");
    let request = json!({ "name": "WZA", "role": "institution", "organisation": "wza", "regions": ["VR03"] });
    let (status, body) = ghor.post("netwerk", "/v1/tokens", &request).await;
    assert_eq!(status, 403, "VR03 is outside netwerk's regions: {body}");

    // Even a token that does say VR01 (admin may make one) cannot write for VR03.
    let request = json!({ "name": "WZA", "role": "institution", "organisation": "wza", "regions": ["VR01"] });
    let (status, body) = ghor.post("admin", "/v1/tokens", &request).await;
    assert_eq!(status, 201, "{body}");
    ghor.tokens.insert("wza".into(), body["token"].as_str().expect("secret").to_owned());
    let e = event(
        "/locations/wilhelmina",
        "nl.ghor.beds.reported.v1",
        Some("ic"),
        json!({ "operational": 4, "occupied": 1 }),
    );
    let (status, body) = ghor.post("wza", "/v1/events", &e).await;
    assert_eq!(status, 403, "wilhelmina lies in VR03: {body}");

    // A live netwerkfunctionaris makes no exercise tokens (nor the other way round).
    let request = json!({ "name": "x", "role": "rot", "regions": ["VR01"], "scope": "oefening" });
    let (status, body) = ghor.post("netwerk", "/v1/tokens", &request).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["field"], "scope", "{body}");
}

// ---- 6. no token becomes national by leaving out its region ----

#[tokio::test]
async fn a_token_without_a_region_is_refused_unless_national() {
    let ghor = super::start().await;
    let out = Command::new(BIN)
        .args(["token", "create", "--role", "ketenpartner", "--name", "vergeten regio", "--data-dir"])
        .arg(ghor.dir.path())
        .output()
        .await
        .expect("run ghor");
    assert!(!out.status.success(), "a token without --region is refused");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--region") && stderr.contains("national"), "the error names the flag: {stderr}");
    let (_, tokens) = ghor.get("admin", "/v1/tokens").await;
    assert!(!tokens.to_string().contains("vergeten regio"), "nothing was stored: {tokens}");

    let secret = ghor.cli(&["token", "create", "--role", "bestuur", "--name", "landelijk", "--national"]).await;
    let me = ghor.http.get(format!("{}/v1/me", ghor.url)).bearer_auth(&secret).send().await.expect("GET /v1/me");
    let me: Value = me.json().await.expect("json");
    assert_eq!(me["national"], true, "{me}");

    for token in ["admin", "netwerk"] {
        let (status, body) = ghor.post(token, "/v1/tokens", &json!({ "name": "x", "role": "bestuur" })).await;
        assert_eq!(status, 422, "{token}: {body}");
        assert_eq!(body["errors"][0]["field"], "regions", "{body}");
    }
    let national = json!({ "name": "x", "role": "bestuur", "national": true });
    let (status, body) = ghor.post("netwerk", "/v1/tokens", &national).await;
    assert_eq!(status, 403, "only admin mints national tokens: {body}");
    assert_eq!(body["errors"][0]["field"], "national", "{body}");
    let (status, body) = ghor.post("admin", "/v1/tokens", &national).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["info"]["regions"], json!([]), "{body}");
    let both = json!({ "name": "x", "role": "bestuur", "national": true, "regions": ["VR01"] });
    let (status, body) = ghor.post("admin", "/v1/tokens", &both).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "national", "{body}");
}

// ---- 7. the provenance a caller may claim follows from its role ----

/// A beds report for umcg claiming `bron`.
fn beds_umcg_by(bron: &str) -> Value {
    let mut e =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 10, "occupied": 2 }));
    e["bron"] = json!(bron);
    e
}

#[tokio::test]
async fn an_institution_cannot_claim_that_the_ghor_relayed_its_report() {
    let ghor = super::start().await;
    for bron in ["telefoon", "ovdg", "lcms", "overig"] {
        let (status, body) = ghor.post("umcg", "/v1/events", &beds_umcg_by(bron)).await;
        assert_eq!(status, 403, "umcg may not claim bron {bron}: {body}");
        assert_eq!(body["errors"][0]["field"], "bron", "the refusal names bron: {body}");
        let (status, body) = ghor.post("umcg", "/v1/events/batch", &json!([beds_umcg_by(bron)])).await;
        assert_eq!(status, 200, "{body}");
        let problem = &body["results"][0]["problem"];
        assert_eq!((problem["status"].as_u64(), &problem["errors"][0]["field"]), (Some(403), &json!("bron")), "{body}");
    }
    for bron in ["api", "formulier"] {
        let (status, body) = ghor.post("umcg", "/v1/events", &beds_umcg_by(bron)).await;
        assert_eq!(status, 201, "umcg reports by {bron}: {body}");
    }
    // The informatiemanager relays: by phone, from the OvDG, from LCMS, otherwise.
    for bron in ["telefoon", "ovdg", "lcms", "overig"] {
        let (status, body) = ghor.post("im", "/v1/events", &beds_umcg_by(bron)).await;
        assert_eq!(status, 201, "im relays by {bron}: {body}");
    }
    let (status, history) = ghor.get("im", "/v1/picture/locations/umcg/history?limit=20").await;
    assert_eq!(status, 200, "{history}");
    let claimed: Vec<(String, String)> = history["changes"]
        .as_array()
        .map(|c| {
            let beds = c.iter().filter(|c| c["type"] == "nl.ghor.beds.reported.v1");
            beds.map(|c| (c["actor"].to_string(), c["bron"].to_string())).collect()
        })
        .unwrap_or_default();
    assert!(
        claimed.iter().all(|(actor, bron)| actor != "\"UMCG ZIS\"" || bron == "\"api\"" || bron == "\"formulier\""),
        "nothing umcg wrote claims a relayed bron: {claimed:?}"
    );
    assert_eq!(claimed.len(), 6, "umcg's two and im's four reports are stored: {claimed:?}");
}

#[tokio::test]
async fn the_registry_claims_no_observation_it_did_not_make() {
    let ghor = super::start().await;
    let registration = |id: &str, bron: &str| {
        let mut e = event(
            &format!("/locations/{id}"),
            "nl.ghor.location.registered.v1",
            None,
            json!({ "name": "Huisartsenpost", "organisation": "hap", "type": "ziekenhuis", "region": "VR01", "point": { "lat": 53.2, "lon": 6.5 } }),
        );
        e["bron"] = json!(bron);
        e
    };
    let (status, body) = ghor.post("netwerk", "/v1/events", &registration("hap-lcms", "lcms")).await;
    assert_eq!(status, 403, "a registration does not come from LCMS: {body}");
    assert_eq!(body["errors"][0]["field"], "bron", "{body}");
    let (status, body) = ghor.post("netwerk", "/v1/events", &registration("hap-tel", "telefoon")).await;
    assert_eq!(status, 201, "a registration taken down by phone: {body}");
}
