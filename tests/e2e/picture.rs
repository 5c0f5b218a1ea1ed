//! The picture as the API serves it equals a replay of the log from the start, and the
//! projector's read model agrees; retries never store twice; the demo runs.

use std::time::Duration;

use ghor_domain::{Event, Picture, RegionCode, Scope};
use serde_json::{json, Value};

use crate::harness::{event, wait_for, Ghor, BIN};

/// Folds the whole live log of the server's data dir from sequence 1.
async fn replay(ghor: &Ghor, upto: u64) -> Picture {
    let log = ghor.log(Scope::Live).await;
    let mut picture = Picture::default();
    let mut seq = 0;
    while seq < upto {
        let entries = log.read(seq, 500).await.expect("read");
        assert!(!entries.is_empty(), "the log ends at {seq}, before {upto}");
        for e in entries.into_iter().take_while(|e| e.seq <= upto) {
            picture.apply(&Event::from_stored(&e.body).expect("stored events decode"));
            seq = e.seq;
        }
    }
    picture
}

#[tokio::test]
async fn replaying_the_log_from_the_start_equals_the_live_picture_and_the_read_model() {
    let ghor = super::start().await;
    for i in 0..20u32 {
        ghor.report_beds("umcg", "umcg", 30, i).await;
        ghor.report_beds("martini", "martini", 10, 10 - i % 10).await;
    }
    let stop = event(
        "/locations/umcg",
        "nl.ghor.acute_function.reported.v1",
        Some("seh"),
        json!({ "status": "stop", "reason": "vol" }),
    );
    assert_eq!(ghor.post("umcg", "/v1/events", &stop).await.0, 201);
    let incident = event(
        "/regions/VR01",
        "nl.ghor.incident.opened.v1",
        Some("stroomstoring-noord"),
        json!({ "name": "Stroomstoring", "state": "actief", "grip": 2, "area": { "regions": ["VR01"] } }),
    );
    assert_eq!(ghor.post("im", "/v1/events", &incident).await.0, 201);
    let threshold =
        event("/regions/VR01", "nl.ghor.threshold.set.v1", Some("beds_free_attention"), json!({ "value": 5 }));
    let (status, stored) = ghor.post("im", "/v1/events", &threshold).await;
    assert_eq!(status, 201, "{stored}");

    // The picture follows the log: wait until it holds the last event stored.
    let last = stored["seq"].as_u64().expect("seq");
    let mut live = Value::Null;
    wait_for(async || {
        live = ghor.get("im", "/v1/picture/regions/VR01").await.1;
        live["seq"].as_u64() >= Some(last)
    })
    .await;
    let seq = live["seq"].as_u64().expect("seq");
    let replayed = replay(&ghor, seq).await;
    let region = RegionCode::try_from("VR01").expect("region");
    assert_eq!(live["view"], serde_json::to_value(replayed.region_view(region)).expect("json"), "replay equals live");
    assert_eq!(live["view"]["totals"]["acute_function_stops"]["seh"], 1);
    assert_eq!(live["view"]["totals"]["active_incidents"], 1);
    assert_eq!(
        live["view"]["locations"]["umcg"]["incidents"],
        json!(["stroomstoring-noord"]),
        "the incident area holds umcg"
    );

    // The projector's read model reaches the same view.
    let db = ghor.stores().await.read_model;
    wait_for(async || db.checkpoint(Scope::Live).await.expect("checkpoint") >= seq).await;
    let checkpoint = db.checkpoint(Scope::Live).await.expect("checkpoint");
    let stored = db.region(Scope::Live, region).await.expect("read model").expect("region row");
    let mut replayed = serde_json::to_value(replay(&ghor, checkpoint).await.region_view(region)).expect("json");
    // A region's row holds all but its locations, which have rows of their own.
    let locations = replayed.as_object_mut().expect("view").remove("locations").expect("locations");
    assert_eq!(stored, replayed, "the region's row");
    for (id, view) in locations.as_object().expect("locations") {
        let id = ghor_domain::Slug::try_from(id.as_str()).expect("slug");
        assert_eq!(db.location(Scope::Live, &id).await.expect("read model").as_ref(), Some(view), "location {id}");
    }
}

#[tokio::test]
async fn a_retried_event_is_stored_once() {
    let ghor = super::start().await;
    let e =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 10, "occupied": 4 }));
    let (first, a) = ghor.post("umcg", "/v1/events", &e).await;
    let (second, b) = ghor.post("umcg", "/v1/events", &e).await;
    let (third, c) = ghor.post("umcg", "/v1/events/batch", &json!([e])).await;
    assert_eq!((first, second, third), (201, 200, 200));
    assert_eq!(a["status"], "stored");
    assert_eq!(b["status"], "duplicate");
    assert_eq!(c["results"][0]["status"], "duplicate");
    assert_eq!(a["seq"], b["seq"]);
    let id = e["id"].as_str().expect("id");
    assert_eq!(ghor.copies_in_log(id).await, 1);
    // And the read model's archive holds it once, once the projector has passed it.
    let read_model = ghor.stores().await.read_model;
    let seq = a["seq"].as_u64().expect("seq");
    wait_for(async || read_model.checkpoint(Scope::Live).await.expect("checkpoint") >= seq).await;
    let uuid = uuid::Uuid::parse_str(id).expect("uuid");
    assert_eq!(read_model.archived(Scope::Live, "/locations/umcg", uuid).await.expect("archived"), 1);
}

#[tokio::test]
async fn the_same_event_again_after_the_duplicate_window_is_still_stored_once() {
    let ghor = super::start().await;
    let e =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 10, "occupied": 2 }));
    let (status, first) = ghor.post("umcg", "/v1/events", &e).await;
    assert_eq!(status, 201, "{first}");
    let seq = first["seq"].as_u64().expect("seq");
    let read_model = ghor.stores().await.read_model;
    wait_for(async || read_model.checkpoint(Scope::Live).await.expect("checkpoint") >= seq).await;
    // Let the log's own duplicate window pass; the archive still knows the event.
    tokio::time::sleep(Duration::from_secs(crate::harness::DUPLICATE_WINDOW_SECS) + Duration::from_millis(500)).await;
    let (status, again) = ghor.post("umcg", "/v1/events", &e).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["status"], "duplicate");
    assert_eq!(again["seq"], first["seq"]);
    let id = e["id"].as_str().expect("id");
    assert_eq!(ghor.copies_in_log(id).await, 1, "stored once");
}

#[tokio::test]
async fn a_registry_csv_is_imported_through_the_api_and_again_stores_nothing() {
    let ghor = super::bare().await;
    let csv = ghor.dir.path().join("locaties.csv");
    std::fs::write(
        &csv,
        "# test registry\nid,name,organisation,organisation_name,type,region,municipality,lat,lon\n\
         wza,Wilhelmina Ziekenhuis Assen,wza,WZA,ziekenhuis,VR03,Assen,52.990,6.545\n\
         demo-vvt-emmen,Zorgcentrum Emmen,zorgkring,Zorgkring,verpleeg_verzorgingshuis,VR03,Emmen,52.785,6.897\n",
    )
    .expect("write csv");
    let import = |token: String| {
        let csv = csv.clone();
        let url = ghor.url.clone();
        async move {
            tokio::process::Command::new(BIN)
                .args(["registry", "import"])
                .arg(&csv)
                .args(["--url", &url, "--token", &token])
                .output()
                .await
                .expect("run import")
        }
    };
    let first = import(ghor.token("admin").to_owned()).await;
    let progress = String::from_utf8_lossy(&first.stderr);
    assert!(first.status.success(), "{progress}");
    assert!(progress.contains("imported 4/4") && progress.contains("4 stored"), "{progress}");
    let again = import(ghor.token("admin").to_owned()).await;
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 stored, 4 already known"));

    let (status, registry) = ghor.get("admin", "/v1/registry/locations").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> =
        registry["locations"].as_array().expect("list").iter().filter_map(|l| l["id"].as_str()).collect();
    assert_eq!(ids, vec!["demo-vvt-emmen", "wza"]);

    // A netwerkfunctionaris of other regions is refused per row, and told which.
    let refused = import(ghor.token("netwerk").to_owned()).await;
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("line 3"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}

#[tokio::test]
async fn a_locations_history_lists_its_own_recent_events_newest_first_with_who_reported_them() {
    let ghor = super::start().await;
    let mut stored = Vec::new();
    for occupied in [1, 2, 3] {
        stored.push(ghor.report_beds("umcg", "umcg", 10, occupied).await["seq"].as_u64().expect("seq"));
        ghor.report_beds("martini", "martini", 8, occupied).await;
    }
    let (status, body) = ghor.get("im", "/v1/picture/locations/umcg/history?limit=2").await;
    assert_eq!(status, 200, "{body}");
    let changes = body["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2, "the limit holds: {body}");
    let seqs: Vec<u64> = changes.iter().filter_map(|c| c["seq"].as_u64()).collect();
    assert_eq!(seqs, vec![stored[2], stored[1]], "newest first, umcg's own: {body}");
    assert_eq!(changes[0]["type"], "nl.ghor.beds.reported.v1");
    assert_eq!(changes[0]["subject"], "ic");
    assert_eq!(changes[0]["data"]["occupied"], 3);
    assert!(changes[0]["actor"].as_str().is_some_and(|a| !a.is_empty()), "who reported it: {body}");
    assert!(changes[0]["bron"].is_string() && changes[0]["time"].is_string(), "{body}");

    // Read from the log's tail while the projector has not archived them, and from the
    // archive once it has: the same answer.
    let read_model = ghor.stores().await.read_model;
    wait_for(async || read_model.checkpoint(Scope::Live).await.is_ok_and(|c| c >= stored[2])).await;
    let (_, archived) = ghor.get("im", "/v1/picture/locations/umcg/history?limit=2").await;
    assert_eq!(archived["changes"], body["changes"], "from the archive as from the log");

    let (status, body) = ghor.get("im", "/v1/picture/locations/umcg/history?limit=1000").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "limit", "{body}");
}

/// The level of the region's IC tile is decided by the server, on the region's own
/// threshold (not the page's arithmetic): 3 free IC beds are critical at the default
/// `region_ic_free_critical` of 3, and fine once VR01 sets it to 2.
#[tokio::test]
async fn the_ic_tile_level_follows_the_regions_own_threshold() {
    let ghor = super::start().await;
    ghor.report_beds("umcg", "umcg", 10, 7).await;
    let mut view = Value::Null;
    wait_for(async || {
        view = ghor.get("im", "/v1/picture/regions/VR01").await.1["view"].clone();
        view["totals"]["beds"]["ic"]["free"] == 3
    })
    .await;
    assert_eq!(view["totals"]["levels"]["beds/ic"], "kritiek", "{}", view["totals"]);
    let threshold =
        event("/regions/VR01", "nl.ghor.threshold.set.v1", Some("region_ic_free_critical"), json!({ "value": 2 }));
    assert_eq!(ghor.post("im", "/v1/events", &threshold).await.0, 201);
    wait_for(async || {
        view = ghor.get("im", "/v1/picture/regions/VR01").await.1["view"].clone();
        view["thresholds"]["region_ic_free_critical"] == 2
    })
    .await;
    assert_eq!(view["totals"]["levels"]["beds/ic"], "goed", "{}", view["totals"]);
    assert!(view["alerts"].get("VR01/beds/ic").is_none(), "and the region's IC alert is gone: {}", view["alerts"]);
}

#[tokio::test]
async fn restarts_write_the_default_thresholds_once_ever() {
    let mut ghor = super::start().await;
    let thresholds = async |ghor: &Ghor| {
        let entries = ghor.log(Scope::Live).await.read(0, 100_000).await.expect("read the log");
        entries.iter().filter(|e| e.json()["type"] == "nl.ghor.threshold.set.v1").count()
    };
    let first = thresholds(&ghor).await;
    assert!(first >= 25, "every region got its defaults: {first}");
    for _ in 0..3 {
        // Past the log's own duplicate window (1 s in the tests): only ghor's check keeps
        // a second copy out.
        tokio::time::sleep(Duration::from_secs(crate::harness::DUPLICATE_WINDOW_SECS) + Duration::from_millis(200))
            .await;
        ghor.restart().await;
    }
    assert_eq!(thresholds(&ghor).await, first, "three restarts added no threshold events");
}

#[tokio::test]
async fn a_type_declared_once_is_described_reported_and_folded() {
    // `preparedness` was added by its declaration, data type, rule and labels alone.
    let ghor = super::start().await;
    let domain = ghor.http.get(format!("{}/v1/domain", ghor.url)).send().await.expect("domain");
    let domain: Value = domain.json().await.expect("json");
    let dimension = domain["dimensions"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["name"] == "preparedness"))
        .unwrap_or_else(|| panic!("the page is told of preparedness: {domain}"));
    let fields = &dimension["reports"][0]["fields"];
    assert_eq!(dimension["reports"][0]["type"], "nl.ghor.preparedness.reported.v1", "{dimension}");
    assert!(
        fields.as_array().is_some_and(|f| f.iter().any(|f| f["name"] == "trained_coordinator" && f["kind"] == "bool")),
        "{fields}"
    );
    let report = event(
        "/locations/umcg",
        "nl.ghor.preparedness.reported.v1",
        None,
        json!({ "trained_coordinator": false, "plan_revised": "2026-03-01T00:00:00Z" }),
    );
    let (status, stored) = ghor.post("umcg", "/v1/events", &report).await;
    assert_eq!(status, 201, "{stored}");
    let mut page = ghor.stream("rot", &["VR01"], None).await;
    page.until(|p| p["VR01"]["locations"]["umcg"]["dimensions"]["preparedness"]["state"] == "aandacht").await;
}

#[tokio::test]
async fn an_incident_drawn_as_a_polygon_holds_exactly_the_locations_inside_it() {
    let ghor = super::start().await;
    // A square around umcg (53.222, 6.576) that leaves martini (53.199, 6.552), 3 km away, out.
    let square = json!([
        { "lat": 53.21, "lon": 6.565 }, { "lat": 53.21, "lon": 6.59 },
        { "lat": 53.235, "lon": 6.59 }, { "lat": 53.235, "lon": 6.565 },
    ]);
    let incident = event(
        "/regions/VR01",
        "nl.ghor.incident.opened.v1",
        Some("brand-umcg"),
        json!({ "name": "Brand", "state": "actief", "grip": 1, "area": { "polygon": square } }),
    );
    let (status, body) = ghor.post("im", "/v1/events", &incident).await;
    assert_eq!(status, 201, "{body}");
    let mut page = ghor.stream("rot", &["VR01"], None).await;
    page.until(|p| p["VR01"]["locations"]["umcg"]["incidents"] == json!(["brand-umcg"])).await;
    assert!(
        page.regions["VR01"]["locations"]["martini"].get("incidents").is_none(),
        "martini lies outside the square: {}",
        page.regions["VR01"]["locations"]["martini"]
    );

    // A corner abroad is refused, naming the corner.
    let mut abroad = incident.clone();
    abroad["id"] = json!(uuid::Uuid::now_v7().to_string());
    abroad["data"]["area"]["polygon"][1] = json!({ "lat": 48.0, "lon": 6.59 });
    let (status, body) = ghor.post("im", "/v1/events", &abroad).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "data.area.polygon[1]", "{body}");
}
