//! What the informatiemanager's, the netwerkfunctionaris's and the OTO's screens rely on,
//! from the outside (issue 10): an incident names who in its area has not reported since it
//! opened, to who may see them; an alert names its rule and who acknowledged it when; stale
//! 24/7 contacts are flagged by the region's own threshold; an exercise starts from the
//! live registry in one step; the alert feed reaches back before a page opened.

use serde_json::{json, Value};

use crate::harness::{event, wait_for, Ghor, BIN};

fn incident(id: &str) -> Value {
    event(
        "/regions/VR01",
        "nl.ghor.incident.opened.v1",
        Some(id),
        json!({ "name": "Stroomstoring Groningen", "state": "actief", "grip": 2, "area": { "regions": ["VR01"] } }),
    )
}

async fn not_reported(ghor: &Ghor, token: &str, incident: &str) -> Option<Value> {
    let (status, body) = ghor.get(token, "/v1/incidents").await;
    assert_eq!(status, 200, "{body}");
    body["incidents"][incident].get("not_reported").cloned()
}

/// The view of VR01 as `token` sees it.
async fn region_view(ghor: &Ghor, token: &str) -> Value {
    let (status, body) = ghor.get(token, "/v1/picture/regions/VR01").await;
    assert_eq!(status, 200, "{body}");
    body["view"].clone()
}

#[tokio::test]
async fn an_incident_names_who_in_its_area_has_not_reported_since_it_opened_to_who_may_see_them() {
    let ghor = super::start().await;
    ghor.report_beds("umcg", "umcg", 40, 30).await; // before the incident: still to be called
    let (status, body) = ghor.post("im", "/v1/events", &incident("stroom")).await;
    assert_eq!(status, 201, "{body}");
    wait_for(async || not_reported(&ghor, "im", "stroom").await == Some(json!(["martini", "umcg"]))).await;
    let view = region_view(&ghor, "im").await;
    assert_eq!(view["totals"]["not_reporting"], 2, "silent in the area counts at once, not after its interval");
    assert!(view["incidents"]["stroom"]["opened"].is_string());

    ghor.report_beds("martini", "martini", 20, 10).await;
    wait_for(async || not_reported(&ghor, "im", "stroom").await == Some(json!(["umcg"]))).await;
    // An institution sees only its own; who sees no locations sees none of them.
    assert_eq!(not_reported(&ghor, "umcg", "stroom").await, Some(json!(["umcg"])));
    assert_eq!(not_reported(&ghor, "martini", "stroom").await, Some(json!([])));
    for aggregate in ["keten", "bestuur"] {
        assert_eq!(not_reported(&ghor, aggregate, "stroom").await, Some(json!([])), "{aggregate}");
        let view = region_view(&ghor, aggregate).await;
        assert_eq!(view["incidents"]["stroom"]["not_reported"], json!([]), "{aggregate}: {view}");
    }
}

#[tokio::test]
async fn an_alert_names_its_rule_and_who_acknowledged_it_when() {
    let ghor = super::start().await;
    ghor.report_beds("umcg", "umcg", 40, 40).await;
    let alert = async |ghor: &Ghor| region_view(ghor, "rot").await["alerts"]["umcg/beds/ic"].clone();
    wait_for(async || alert(&ghor).await.is_object()).await;
    let raised = alert(&ghor).await;
    assert_eq!(raised["threshold"], "beds_free_critical", "{raised}");
    assert!(raised.get("acknowledged_by").is_none(), "{raised}");

    let ack = event("/regions/VR01", "nl.ghor.alert.acknowledged.v1", Some("umcg/beds/ic"), json!({}));
    let (status, body) = ghor.post("im", "/v1/events", &ack).await;
    assert_eq!(status, 201, "{body}");
    wait_for(async || alert(&ghor).await["acknowledged"] == true).await;
    let acknowledged = alert(&ghor).await;
    assert_eq!(acknowledged["acknowledged_by"], "IM Groningen", "{acknowledged}");
    let time = |v: &Value| v.as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    assert_eq!(time(&acknowledged["acknowledged_at"]), time(&ack["time"]), "{acknowledged}");
}

#[tokio::test]
async fn contacts_not_verified_within_the_regions_threshold_are_flagged() {
    let ghor = super::start().await;
    let today = chrono::Utc::now().date_naive();
    let contact = |verified: chrono::NaiveDate| json!({ "contacts": [{ "role": "crisiscoordinator", "name": "J. de Vries", "phone_24_7": "+31 50 000 0000", "verified_on": verified }] });
    let twenty_months_ago = today - chrono::Duration::days(610);
    for (location, verified) in [("umcg", twenty_months_ago), ("martini", today - chrono::Duration::days(1))] {
        let path = format!("/v1/registry/locations/{location}/contacts");
        let (status, body) = ghor.put("netwerk", &path, &contact(verified)).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, overview) = ghor.get("netwerk", "/v1/registry/contacts?region=VR01").await;
    assert_eq!(status, 200, "{overview}");
    assert_eq!(overview["verify_within_days"], 365);
    let umcg = &overview["locations"]["umcg"];
    assert_eq!((umcg["stale"].clone(), umcg["contacts"].clone()), (json!(true), json!(1)), "{overview}");
    assert_eq!(umcg["oldest_verified_on"], json!(twenty_months_ago));
    assert_eq!(overview["locations"]["martini"]["stale"], false, "{overview}");
    assert!(overview["locations"].get("mcl").is_none(), "only the region asked for: {overview}");
    let (_, one) = ghor.get("netwerk", "/v1/registry/locations/umcg/contacts").await;
    assert_eq!(one["verify_within_days"], 365);

    // The region allows two years: twenty months is fine then.
    let longer =
        event("/regions/VR01", "nl.ghor.threshold.set.v1", Some("contact_verified_days"), json!({ "value": 730 }));
    assert_eq!(ghor.post("im", "/v1/events", &longer).await.0, 201);
    wait_for(async || ghor.get("netwerk", "/v1/registry/contacts?region=VR01").await.1["verify_within_days"] == 730)
        .await;
    assert_eq!(ghor.get("netwerk", "/v1/registry/contacts").await.1["locations"]["umcg"]["stale"], false);

    for refused in ["rot", "umcg", "keten"] {
        let (status, body) = ghor.get(refused, "/v1/registry/contacts").await;
        assert_eq!(status, 403, "{refused}: {body}");
    }
    let (status, body) = ghor.get("netwerk", "/v1/registry/contacts?region=VR99").await;
    assert_eq!((status, body["errors"][0]["field"].clone()), (422, json!("region")), "{body}");
}

#[tokio::test]
async fn an_exercise_starts_from_the_live_registry_in_one_step_and_only_once() {
    let ghor = super::start().await;
    let (status, body) = ghor.get("oto", "/v1/registry/locations").await;
    assert_eq!((status, body["locations"].as_array().map(Vec::len)), (200, Some(0)), "the exercise starts empty");
    let (status, live_only) = ghor.post("im", "/v1/oefening/prepare", &json!({})).await;
    assert_eq!((status, live_only["errors"][0]["field"].clone()), (409, json!("scope")), "{live_only}");

    let out = tokio::process::Command::new(BIN)
        .args(["oefening", "prepare", "--url", &ghor.url, "--token", ghor.token("oto")])
        .output()
        .await
        .expect("ghor runs");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{printed}{}", String::from_utf8_lossy(&out.stderr));
    assert!(printed.contains("3 organisaties en 3 locaties overgenomen; 0 stonden er al"), "{printed}");

    let exercise =
        async || ghor.get("oto", "/v1/registry/locations").await.1["locations"].as_array().map_or(0, Vec::len);
    wait_for(async || exercise().await == 3).await;
    let view = region_view(&ghor, "oto").await;
    assert_eq!(view["locations"]["umcg"]["name"], "Locatie umcg", "{view}");
    let (status, again) = ghor.post("oto", "/v1/oefening/prepare", &json!({})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, json!({ "organisations": 0, "locations": 0, "already": 3 }));
    // The live picture is untouched, and no contact crosses into the exercise.
    assert_eq!(ghor.get("im", "/v1/registry/locations").await.1["locations"].as_array().map(Vec::len), Some(2));
    let (_, contacts) = ghor.get("oto", "/v1/registry/locations/umcg/contacts").await;
    assert_eq!(contacts["contacts"], json!([]), "{contacts}");
}

#[tokio::test]
async fn the_alert_feed_tells_a_page_what_happened_before_it_opened() {
    let ghor = super::start().await;
    ghor.report_beds("umcg", "umcg", 40, 40).await;
    ghor.report_beds("umcg", "umcg", 40, 30).await;
    let feed = async |token: &str| {
        let (status, body) = ghor.get(token, "/v1/picture/regions/VR01/alerts").await;
        assert_eq!(status, 200, "{body}");
        body["feed"].as_array().cloned().unwrap_or_default()
    };
    let changes = |feed: &[Value]| {
        feed.iter()
            .map(|e| format!("{} {}", e["change"].as_str().unwrap_or("?"), e["id"].as_str().unwrap_or("?")))
            .collect::<Vec<_>>()
    };
    wait_for(async || changes(&feed("rot").await).contains(&"cleared umcg/beds/ic".to_owned())).await;
    let seen = changes(&feed("rot").await);
    for expected in ["raised umcg/beds/ic", "cleared umcg/beds/ic", "raised VR01/beds/ic", "cleared VR01/beds/ic"] {
        assert!(seen.contains(&expected.to_owned()), "{expected}: {seen:?}");
    }
    let first = feed("rot").await[0].clone();
    assert_eq!(first["change"], "cleared", "newest first: {seen:?}");
    // Who sees no locations sees the region's own alerts only.
    let aggregate = changes(&feed("keten").await);
    assert!(!aggregate.is_empty() && aggregate.iter().all(|c| c.ends_with("VR01/beds/ic")), "{aggregate:?}");
    assert_eq!(ghor.get("rot", "/v1/picture/regions/VR02/alerts").await.0, 403, "another region's feed");
}
