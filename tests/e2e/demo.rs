//! `ghor serve --demo` as a newcomer runs it: the page and a live picture, with no set-up.

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::harness::{BIN, DEADLINE};

#[tokio::test]
async fn the_demo_serves_a_live_picture_with_a_viewer_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = tokio::process::Command::new(BIN)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--sim-rate", "20"])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let page = loop {
        let line = tokio::time::timeout(DEADLINE * 4, lines.next_line())
            .await
            .expect("demo starts")
            .expect("read")
            .expect("line");
        if let Some(url) = line.strip_prefix("open the live picture: ") {
            break url.to_owned();
        }
    };
    let (base, token) = page.split_once("/#token=").expect("url with token fragment");
    let http = reqwest::Client::new();
    let html = http.get(format!("{base}/")).send().await.expect("page").text().await.expect("html");
    assert!(html.contains("<html") && html.contains("ghor"), "the page is served");

    let picture: Value = http
        .get(format!("{base}/v1/picture"))
        .bearer_auth(token)
        .send()
        .await
        .expect("picture")
        .json()
        .await
        .expect("json");
    let groningen = &picture["regions"]["VR01"]["view"];
    assert!(groningen["locations"]["umcg"]["dimensions"]["beds"].is_object(), "the demo hospitals report: {groningen}");
    assert!(groningen["locations"].as_object().expect("locations").len() >= 8);
    assert!(
        picture["regions"]["VR01"]["staleness"]["locations"]["umcg"]["age_seconds"].is_i64(),
        "every value's age is served"
    );
    let _ = child.kill().await;
}

/// Scenario mode: a person reports a power cut and the IC beds of a location while the
/// simulator plays the region at 20 changes a second; the simulator goes on with
/// everything else, and leaves those two values as the person reported them.
#[tokio::test]
async fn in_scenario_mode_the_simulator_leaves_alone_what_a_person_reported() {
    let ghor = crate::harness::Ghor::start().await;
    let power = crate::harness::event(
        "/locations/umcg",
        "nl.ghor.utility.reported.v1",
        Some("stroom"),
        serde_json::json!({ "status": "uitgevallen", "on_backup": true, "backup_hours_left": 6 }),
    );
    assert_eq!(ghor.post("umcg", "/v1/events", &power).await.0, 201);
    let started = ghor.report_beds("umcg", "umcg", 40, 39).await["seq"].as_u64().expect("seq");

    let mut sim = tokio::process::Command::new(BIN)
        .args(["sim", "--url", &ghor.url, "--token", ghor.token("im"), "--rate", "20", "--seed", "7", "--scenario"])
        .kill_on_drop(true)
        .spawn()
        .expect("ghor sim runs");
    let umcg = async || ghor.get("rot", "/v1/picture/locations/umcg").await.1["location"]["dimensions"].clone();
    // Long enough for the simulator to have touched every bed type of umcg many times.
    crate::harness::wait_for(async || {
        let seq = ghor.get("rot", "/v1/picture").await.1["seq"].as_u64().unwrap_or_default();
        seq > started + 150
    })
    .await;
    let _ = sim.kill().await;
    let dimensions = umcg().await;
    let actor = |dimension: &str, key: &str| dimensions[dimension]["values"][key]["actor"].clone();
    assert_eq!(actor("beds", "klinisch"), "IM Groningen", "the simulator plays the rest: {dimensions}");
    assert_eq!(actor("beds", "ic"), "UMCG ZIS", "{dimensions}");
    assert_eq!(actor("utility", "stroom"), "UMCG ZIS", "{dimensions}");
    assert_eq!(dimensions["utility"]["values"]["stroom"]["data"]["backup_hours_left"], 6);
}
