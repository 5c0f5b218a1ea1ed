//! The warm phase from the outside (issue 9): the informatiemanager asks an area across two
//! regions; exactly the locations inside it are addressed (this test computes the set
//! itself); one answers, one says "niet getroffen", one does nothing and lands in the
//! call list with its contacts; a call is recorded; each caller sees only what its token
//! allows; a restart (a replay of the log) gives the same uitvraag; a handelingsperspectief
//! is read and the dashboard shows by whom.

use std::collections::BTreeSet;
use std::time::Duration;

use ghor_domain::values::Point;
use serde_json::{json, Value};

use crate::harness::{event, wait_for, Ghor, DEADLINE};

/// The centre and radius of the area asked: between Groningen and Leeuwarden, across the
/// border of VR01 and VR02.
const CENTRE: Point = Point { lat: 53.20, lon: 6.20 };
const RADIUS_KM: f64 = 30.0;

/// Locations added to the harness's registry (umcg, martini in VR01; mcl in VR02): one
/// more inside in VR02 and one outside in each region.
const MORE: &[(&str, &str, &str, &str, f64, f64)] = &[
    ("nij-smellinghe", "nij-smellinghe", "ziekenhuis", "VR02", 53.11, 6.09),
    ("ommelander", "ommelander", "ziekenhuis", "VR01", 53.15, 6.95),
    ("antonius-sneek", "antonius", "ziekenhuis", "VR02", 53.03, 5.66),
];

/// Every registered location with its point, as this test registered them.
fn registry() -> Vec<(&'static str, Point)> {
    let harness = [("umcg", 53.222, 6.576), ("martini", 53.199, 6.552), ("mcl", 53.186, 5.802)];
    let more = MORE.iter().map(|(id, _, _, _, lat, lon)| (*id, *lat, *lon));
    harness.into_iter().chain(more).map(|(id, lat, lon)| (id, Point { lat, lon })).collect()
}

/// The locations inside the circle, by great-circle distance computed here.
fn inside() -> BTreeSet<String> {
    let km = |p: &Point| {
        let (la1, la2) = (CENTRE.lat.to_radians(), p.lat.to_radians());
        let a = ((la2 - la1) / 2.0).sin().powi(2)
            + la1.cos() * la2.cos() * ((p.lon - CENTRE.lon).to_radians() / 2.0).sin().powi(2);
        6371.0 * 2.0 * a.sqrt().asin()
    };
    registry().into_iter().filter(|(_, p)| km(p) <= RADIUS_KM).map(|(id, _)| id.to_owned()).collect()
}

fn uitvraag(id: &str) -> Value {
    let deadline = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    event(
        "/regions/VR01",
        "nl.ghor.uitvraag.opened.v1",
        Some(id),
        json!({
            "title": "Stroomstoring Westerkwartier",
            "question": "Draait u op noodstroom, en hoeveel IC-bedden zijn vrij?",
            "area": { "circle": { "center": { "lat": CENTRE.lat, "lon": CENTRE.lon }, "radius_km": RADIUS_KM } },
            "asked": [{ "dimension": "beds", "keys": ["ic"] }, { "dimension": "utility", "keys": ["stroom"] }],
            "deadline": deadline,
            "renotify_minutes": 30,
        }),
    )
}

/// A server with the wider registry, an informatiemanager of both regions (`im12`) and
/// contacts for mcl.
async fn asked() -> Ghor {
    let mut ghor = super::start().await;
    ghor.register(MORE).await;
    let secret = ghor
        .cli(&[
            "token",
            "create",
            "--role",
            "informatiemanager",
            "--name",
            "IM Noord",
            "--region",
            "VR01",
            "--region",
            "VR02",
        ])
        .await;
    ghor.tokens.insert("im12".into(), secret);
    let contacts = json!({ "contacts": [
        { "role": "crisiscoordinator", "name": "A. Hoekstra", "phone_24_7": "+31 58 286 6666", "verified_on": "2026-10-01" },
        { "role": "crisiscoordinator_vervanger", "name": "B. Visser", "phone_24_7": "+31 58 286 6667", "fallback": "portier via 058 286 0000", "verified_on": "2026-10-01" },
    ] });
    let response = ghor
        .http
        .put(format!("{}/v1/registry/locations/mcl/contacts", ghor.url))
        .bearer_auth(ghor.token("netwerk"))
        .json(&contacts)
        .send()
        .await
        .expect("PUT contacts");
    assert_eq!(response.status().as_u16(), 200);
    let (status, body) = ghor.post("im", "/v1/events", &uitvraag("westerkwartier")).await;
    assert_eq!(status, 201, "the informatiemanager may ask: {body}");
    ghor
}

/// Polls the uitvraag as `token` sees it until `done` holds.
async fn uitvraag_until(ghor: &Ghor, token: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (status, body) = ghor.get(token, &format!("/v1/uitvragen/{id}")).await;
        if status == 200 && done(&body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "as {token}, /v1/uitvragen/{id} never got there: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default()
}

fn state<'a>(body: &'a Value, location: &str) -> &'a Value {
    &body["uitvraag"]["locations"][location]["state"]
}

#[tokio::test]
async fn an_uitvraag_across_two_regions_tracks_answers_and_calls_as_each_caller_may_see() {
    let ghor = asked().await;
    let expected = inside();
    assert_eq!(expected.len(), 4, "the area holds two locations of each region: {expected:?}");

    // Exactly the locations inside the circle are addressed, whichever region.
    let all = uitvraag_until(&ghor, "im12", "westerkwartier", |b| !keys(&b["uitvraag"]["locations"]).is_empty()).await;
    assert_eq!(keys(&all["uitvraag"]["locations"]), expected, "{all}");
    assert_eq!(all["uitvraag"]["counts"]["open"], 4, "{all}");

    // umcg answers what was asked; martini is not affected; mcl and nij-smellinghe do nothing.
    for (dimension, key, data) in [
        ("beds", "ic", json!({ "operational": 12, "occupied": 7 })),
        ("utility", "stroom", json!({ "status": "uitgevallen", "on_backup": true, "backup_hours_left": 20 })),
    ] {
        let e = event("/locations/umcg", &format!("nl.ghor.{dimension}.reported.v1"), Some(key), data);
        let (status, body) = ghor.post("umcg", "/v1/events", &e).await;
        assert_eq!(status, 201, "{body}");
    }
    let e =
        event("/locations/martini", "nl.ghor.not_affected.reported.v1", None, json!({ "uitvraag": "westerkwartier" }));
    assert_eq!(ghor.post("martini", "/v1/events", &e).await.0, 201);

    let call = event(
        "/regions/VR02",
        "nl.ghor.uitvraag_call.recorded.v1",
        Some("westerkwartier"),
        json!({ "location": "mcl", "outcome": "geen_gehoor", "note": "vervanger gebeld" }),
    );
    assert_eq!(ghor.post("im12", "/v1/events", &call).await.0, 201, "an IM of VR02 records a call to mcl");

    let all = uitvraag_until(&ghor, "im12", "westerkwartier", |b| {
        state(b, "umcg") == "beantwoord"
            && state(b, "martini") == "niet_getroffen"
            && b["uitvraag"]["locations"]["mcl"]["calls"][0].is_object()
    })
    .await;
    let counts = &all["uitvraag"]["counts"];
    assert_eq!(
        (&counts["beantwoord"], &counts["niet_getroffen"], &counts["open"]),
        (&json!(1), &json!(1), &json!(2)),
        "{all}"
    );
    // The call list: who did not answer, the one already called last, with contacts.
    let list: Vec<&str> = all["call_list"].as_array().into_iter().flatten().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(list, ["nij-smellinghe", "mcl"], "{all}");
    let mcl = &all["call_list"][1];
    assert_eq!(mcl["calls"][0]["outcome"], "geen_gehoor", "{mcl}");
    assert_eq!(all["call_list"][0]["calls"], json!([]), "not called yet: {all}");
    assert_eq!(mcl["contacts"][1]["fallback"], "portier via 058 286 0000", "the IM reads the contacts: {mcl}");

    // The IM of VR01 alone sees VR01's part; the ROT sees no contacts; an institution only
    // its own location and no counts; a bestuurder none of it.
    let vr01 = uitvraag_until(&ghor, "im", "westerkwartier", |_| true).await;
    assert_eq!(keys(&vr01["uitvraag"]["locations"]), ["martini", "umcg"].map(String::from).into(), "{vr01}");
    let rot = uitvraag_until(&ghor, "rot", "westerkwartier", |_| true).await;
    assert!(rot["call_list"].as_array().into_iter().flatten().all(|c| c.get("contacts").is_none()), "{rot}");
    let umcg = uitvraag_until(&ghor, "umcg", "westerkwartier", |_| true).await;
    assert_eq!(keys(&umcg["uitvraag"]["locations"]), ["umcg"].map(String::from).into(), "{umcg}");
    assert_eq!(umcg["uitvraag"]["counts"], json!({}), "{umcg}");
    let (status, _) = ghor.get("bestuur", "/v1/uitvragen/westerkwartier").await;
    assert_eq!(status, 404);
    let (_, region) = ghor.get("martini", "/v1/picture/regions/VR01").await;
    let seen = &region["view"]["uitvragen"]["westerkwartier"];
    assert_eq!(keys(&seen["locations"]), ["martini"].map(String::from).into(), "{seen}");
    assert!(seen.get("counts").is_none(), "{seen}");

    // Closing freezes the result: a report after it does not count.
    let close = event(
        "/regions/VR01",
        "nl.ghor.uitvraag.closed.v1",
        Some("westerkwartier"),
        json!({ "reason": "beeld compleet" }),
    );
    assert_eq!(ghor.post("im", "/v1/events", &close).await.0, 201);
    uitvraag_until(&ghor, "im12", "westerkwartier", |b| b["uitvraag"]["closed"].is_string()).await;
    let late = event("/locations/mcl", "nl.ghor.not_affected.reported.v1", None, json!({}));
    assert_eq!(ghor.post("im12", "/v1/events", &late).await.0, 201, "the IM reports on mcl's behalf");
    // The report itself reaches the picture (a 201 says it is in the log, not yet folded).
    wait_for(async || {
        let (_, after) = ghor.get("im12", "/v1/picture/locations/mcl").await;
        after["location"]["dimensions"]["not_affected"].is_object()
    })
    .await;
    let frozen = uitvraag_until(&ghor, "im12", "westerkwartier", |_| true).await;
    assert_eq!(state(&frozen, "mcl"), "open", "{frozen}");
}

#[tokio::test]
async fn the_uitvraag_after_a_restart_is_the_uitvraag_before_it() {
    let mut ghor = asked().await;
    let e =
        event("/locations/martini", "nl.ghor.not_affected.reported.v1", None, json!({ "uitvraag": "westerkwartier" }));
    assert_eq!(ghor.post("martini", "/v1/events", &e).await.0, 201);
    let call = event(
        "/regions/VR01",
        "nl.ghor.uitvraag_call.recorded.v1",
        Some("westerkwartier"),
        json!({ "location": "umcg", "outcome": "meldt_zelf" }),
    );
    assert_eq!(ghor.post("im", "/v1/events", &call).await.0, 201);
    let before = uitvraag_until(&ghor, "im12", "westerkwartier", |b| {
        state(b, "martini") == "niet_getroffen" && b["uitvraag"]["locations"]["umcg"]["calls"][0].is_object()
    })
    .await;
    ghor.terminate().await;
    ghor.start_again().await;
    let after = uitvraag_until(&ghor, "im12", "westerkwartier", |b| b["uitvraag"] == before["uitvraag"]).await;
    assert_eq!(after["call_list"], before["call_list"], "the same call list, in the same order");
}

#[tokio::test]
async fn a_handelingsperspectief_is_seen_by_its_area_and_read_receipts_are_shown() {
    let ghor = super::start().await;
    let advice = event(
        "/regions/VR01",
        "nl.ghor.handelingsperspectief.published.v1",
        Some("noodstroom-testen"),
        json!({
            "title": "Test uw noodstroom",
            "text": "Start het noodaggregaat proef en meld de brandstofvoorraad.",
            "urgency": "hoog",
            "area": { "regions": ["VR01"] },
        }),
    );
    let (status, body) = ghor.post("im", "/v1/events", &advice).await;
    assert_eq!(status, 201, "{body}");
    let read = event("/locations/umcg", "nl.ghor.handelingsperspectief.read.v1", Some("noodstroom-testen"), json!({}));
    assert_eq!(ghor.post("umcg", "/v1/events", &read).await.0, 201);
    // An institution confirms for its own locations only.
    let foreign =
        event("/locations/martini", "nl.ghor.handelingsperspectief.read.v1", Some("noodstroom-testen"), json!({}));
    assert_eq!(ghor.post("umcg", "/v1/events", &foreign).await.0, 403);

    let deadline = tokio::time::Instant::now() + DEADLINE;
    let advice = loop {
        let (_, region) = ghor.get("im", "/v1/picture/regions/VR01").await;
        let advice = region["view"]["handelingsperspectieven"]["noodstroom-testen"].clone();
        if advice["locations"]["umcg"]["read"].is_object() {
            break advice;
        }
        assert!(tokio::time::Instant::now() < deadline, "the read receipt never showed: {region}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(advice["locations"]["martini"], json!({}), "martini has not read it: {advice}");
    assert_eq!(advice["locations"]["umcg"]["read"]["actor"], "UMCG ZIS", "{advice}");
    let (_, martini) = ghor.get("martini", "/v1/picture/regions/VR01").await;
    let seen = &martini["view"]["handelingsperspectieven"]["noodstroom-testen"];
    assert_eq!(seen["text"], "Start het noodaggregaat proef en meld de brandstofvoorraad.", "{seen}");
    assert_eq!(keys(&seen["locations"]), ["martini"].map(String::from).into(), "not whether umcg read it: {seen}");
}

#[tokio::test]
async fn a_wrong_uitvraag_is_refused_naming_the_field_and_only_ghor_roles_ask() {
    let ghor = super::start().await;
    let mut twice = uitvraag("twice");
    twice["data"]["asked"] = json!([{ "dimension": "beds" }, { "dimension": "beds" }]);
    let mut bad_key = uitvraag("bad-key");
    bad_key["data"]["asked"] = json!([{ "dimension": "beds", "keys": ["ic", "zolder"] }]);
    let mut too_often = uitvraag("too-often");
    too_often["data"]["renotify_minutes"] = json!(2);
    let mut none = uitvraag("none");
    none["data"]["asked"] = json!([]);
    for (e, field, code) in [
        (twice, "data.asked[1].dimension", "asked_twice"),
        (bad_key, "data.asked[0].keys[1]", "not_in_vocabulary"),
        (too_often, "data.renotify_minutes", "out_of_range"),
        (none, "data.asked", "out_of_range"),
    ] {
        let (status, problem) = ghor.post("im", "/v1/events", &e).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(
            (problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()),
            (Some(field), Some(code)),
            "{problem}"
        );
    }
    for token in ["umcg", "rot", "netwerk"] {
        let (status, problem) = ghor.post(token, "/v1/events", &uitvraag("not-yours")).await;
        assert_eq!(status, 403, "{token}: {problem}");
    }
}

/// Runs `ghor uitvraag …` against the server as `token`: (success, stdout, stderr).
async fn uitvraag_cli(ghor: &Ghor, token: &str, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(crate::harness::BIN)
        .arg("uitvraag")
        .args(args)
        .env("GHOR_URL", &ghor.url)
        .env("GHOR_TOKEN", ghor.token(token))
        .output()
        .await
        .expect("run ghor uitvraag");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_informatiemanager_asks_calls_and_follows_from_the_terminal() {
    let ghor = asked().await;
    let circle = format!("{},{},{RADIUS_KM}", CENTRE.lat, CENTRE.lon);
    let (ok, id, err) = uitvraag_cli(
        &ghor,
        "im12",
        &[
            "open",
            "--region",
            "VR02",
            "--title",
            "Drinkwater Drachten",
            "--ask",
            "utility:water",
            "--circle",
            &circle,
            "--deadline",
            "30",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let id = id.trim().to_owned();
    assert!(id.starts_with("drinkwater-drachten-"), "{id}");
    uitvraag_until(&ghor, "im12", &id, |b| keys(&b["uitvraag"]["locations"]) == inside()).await;

    let (ok, _, err) =
        uitvraag_cli(&ghor, "im12", &["call", &id, "mcl", "geen_gehoor", "--region", "VR02", "--note", "bandje"]).await;
    assert!(ok, "{err}");
    uitvraag_until(&ghor, "im12", &id, |b| b["uitvraag"]["locations"]["mcl"]["calls"][0].is_object()).await;
    let (ok, status, err) = uitvraag_cli(&ghor, "im12", &["status", &id]).await;
    assert!(ok, "{err}");
    assert!(status.contains("Drinkwater Drachten") && status.contains("4 open"), "{status}");
    assert!(status.contains("called 1×, last: Gebeld, geen gehoor"), "{status}");
    assert!(status.contains("crisiscoordinator: A. Hoekstra +31 58 286 6666"), "{status}");

    // A mistake comes back naming the field, and nothing is asked.
    let (ok, _, err) = uitvraag_cli(
        &ghor,
        "im12",
        &["open", "--region", "VR02", "--title", "Fout", "--ask", "beds:zolder", "--id", "fout"],
    )
    .await;
    assert!(!ok && err.contains("data.asked[0].keys[0]"), "{err}");
    let (ok, _, err) = uitvraag_cli(&ghor, "umcg", &["close", &id, "--region", "VR01"]).await;
    assert!(!ok && err.contains("403"), "an institution cannot close it: {err}");
}

#[tokio::test]
async fn an_open_page_sees_the_uitvraag_and_its_answers_as_they_come() {
    let ghor = asked().await;
    // The institution's page and the informatiemanager's, both live.
    let mut page = ghor.stream("umcg", &["VR01"], None).await;
    let mut desk = ghor.stream("im", &["VR01"], None).await;
    let state_in = |regions: &Value, location: &str| {
        regions["VR01"]["uitvragen"]["westerkwartier"]["locations"][location]["state"].clone()
    };
    page.until(|r| state_in(r, "umcg") == "open").await;
    desk.until(|r| state_in(r, "martini") == "open").await;
    for (dimension, key, data) in [
        ("beds", "ic", json!({ "operational": 12, "occupied": 7 })),
        ("utility", "stroom", json!({ "status": "normaal" })),
    ] {
        let e = event("/locations/umcg", &format!("nl.ghor.{dimension}.reported.v1"), Some(key), data);
        assert_eq!(ghor.post("umcg", "/v1/events", &e).await.0, 201);
    }
    page.until(|r| state_in(r, "umcg") == "beantwoord").await;
    desk.until(|r| {
        state_in(r, "umcg") == "beantwoord" && r["VR01"]["uitvragen"]["westerkwartier"]["counts"]["beantwoord"] == 1
    })
    .await;
    // What the deltas built is what a fresh read gives.
    for (stream, token) in [(&page, "umcg"), (&desk, "im")] {
        let (_, fresh) = ghor.get(token, "/v1/picture/regions/VR01").await;
        assert_eq!(stream.regions["VR01"]["uitvragen"], fresh["view"]["uitvragen"], "as {token}");
    }
    page.close().await;
    desk.close().await;
}
