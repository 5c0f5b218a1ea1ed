//! Scale-out on the production backbone: gateways and ingest processes side by side on one
//! stream, as a region runs them. Clients see stream sequences, so they can move.

use serde_json::json;

use crate::harness::{event, ic_occupied, Backend, Ghor};

#[tokio::test]
async fn a_dashboard_moved_to_another_gateway_mid_stream_resumes_with_chained_sequences() {
    let ghor = Ghor::start_on(Backend::Production).await;
    let (second_url, _second) = ghor.spawn_role("gateway").await;
    let second = ghor.at(&second_url);

    let mut dashboard = ghor.stream("rot", &["VR01"], None).await;
    let m = dashboard.next().await;
    dashboard.apply(&m);
    for occupied in [1, 2, 3] {
        ghor.report_beds("umcg", "umcg", 20, occupied).await;
    }
    dashboard.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(3)).await;
    let (epoch, seq, picture) = (dashboard.epoch.clone(), dashboard.seq, dashboard.regions.clone());
    dashboard.close().await;

    // The first gateway's dashboard moves; the picture goes on meanwhile.
    ghor.report_beds("umcg", "umcg", 20, 4).await;
    ghor.report_beds("martini", "martini", 10, 9).await;
    let mut moved = second.stream("rot", &["VR01"], Some((&epoch, seq))).await;
    moved.regions = picture;
    moved.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(4) && ic_occupied(&p["VR01"], "martini") == Some(9)).await;
    assert!(
        moved.snapshots.is_empty(),
        "the second gateway continued the chain without a snapshot: {:?}",
        moved.snapshots
    );

    // And it holds what a fresh client of the first gateway holds.
    let mut fresh = ghor.stream("rot", &["VR01"], None).await;
    let m = fresh.next().await;
    fresh.apply(&m);
    ghor.report_beds("umcg", "umcg", 20, 5).await;
    for client in [&mut moved, &mut fresh] {
        client.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(5)).await;
    }
    assert_eq!(moved.regions, fresh.regions);
}

#[tokio::test]
async fn the_same_event_through_two_ingest_processes_is_stored_and_counted_once() {
    let ghor = Ghor::start_on(Backend::Production).await;
    let (other_url, _other) = ghor.spawn_role("ingest").await;
    let other = ghor.at(&other_url);
    let e =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 10, "occupied": 7 }));
    let (a, first) = ghor.post("umcg", "/v1/events", &e).await;
    let (b, second) = other.post("umcg", "/v1/events", &e).await;
    assert_eq!((a, b), (201, 200), "{first} {second}");
    assert_eq!(second["status"], "duplicate");
    assert_eq!(first["seq"], second["seq"]);
}

#[tokio::test]
async fn an_ingest_process_takes_reports_for_a_location_registered_a_moment_ago_elsewhere() {
    let ghor = Ghor::start_on(Backend::Production).await;
    let (ingest_url, _ingest) = ghor.spawn_role("ingest").await;
    let ingest = ghor.at(&ingest_url);
    let registration = event(
        "/locations/umcg-noord",
        "nl.ghor.location.registered.v1",
        None,
        json!({ "name": "UMCG Noord", "organisation": "umcg", "type": "ziekenhuis", "region": "VR01", "point": { "lat": 53.3, "lon": 6.6 } }),
    );
    let (status, body) = ghor.post("netwerk", "/v1/events", &registration).await;
    assert_eq!(status, 201, "{body}");
    // Straight away, through the other process: it finds the registration in the log.
    let report = |occupied| {
        event(
            "/locations/umcg-noord",
            "nl.ghor.beds.reported.v1",
            Some("ic"),
            json!({ "operational": 8, "occupied": occupied }),
        )
    };
    let (status, body) = ingest.post("umcg", "/v1/events", &report(3)).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = ingest.post("martini", "/v1/events", &report(4)).await;
    assert_eq!(status, 403, "another organisation's location: {body}");
    assert_eq!(body["errors"][0]["field"], "source", "{body}");
    let nowhere =
        event("/locations/nergens", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 1, "occupied": 0 }));
    let (status, body) = ingest.post("umcg", "/v1/events", &nowhere).await;
    assert_eq!(status, 422, "never registered: {body}");
    assert_eq!(body["errors"][0]["field"], "source", "{body}");
}
