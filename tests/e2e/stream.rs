//! The websocket stream as a dashboard sees it: snapshot, then chained deltas; resumes
//! with (epoch, seq) get exactly what they missed, or an explicit snapshot.

use serde_json::json;

use crate::harness::{event, ic_occupied};

#[tokio::test]
async fn status_reported_over_http_arrives_as_chained_deltas() {
    let ghor = super::start().await;
    let mut dashboard = ghor.stream("rot", &["VR01"], None).await;
    let first = dashboard.next().await;
    assert_eq!(first["type"], "snapshot", "{first}");
    assert_eq!(first["reason"], "initial");
    dashboard.apply(&first);
    assert!(dashboard.regions["VR01"]["locations"]["umcg"].is_object(), "the snapshot holds the registered location");

    for occupied in [10, 11, 12, 13, 14] {
        ghor.report_beds("umcg", "umcg", 20, occupied).await;
        dashboard.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(u64::from(occupied))).await;
    }
    let view = &dashboard.regions["VR01"];
    assert_eq!(view["locations"]["umcg"]["dimensions"]["beds"]["values"]["ic"]["actor"], "UMCG ZIS");
    assert_eq!(view["totals"]["beds"]["ic"], json!({ "free": 6, "operational": 20, "occupied": 14 }));
    assert_eq!(dashboard.snapshots, vec!["initial"], "no resync was needed");
}

#[tokio::test]
async fn a_region_filter_leaves_other_regions_out() {
    let ghor = super::start().await;
    // A token that may see VR01 and VR02 asks for VR02 alone: only the filter keeps VR01 out.
    let mut dashboard = ghor.stream("netwerk", &["VR02"], None).await;
    let m = dashboard.next().await;
    assert_eq!(m["type"], "snapshot", "{m}");
    assert!(m["regions"].get("VR01").is_none(), "the snapshot holds VR02 alone: {m}");
    dashboard.apply(&m);
    ghor.report_beds("im", "umcg", 20, 3).await;
    ghor.report_beds("im2", "mcl", 30, 7).await;
    dashboard.until(|p| ic_occupied(&p["VR02"], "mcl") == Some(7)).await;
    assert!(dashboard.regions.get("VR01").is_none(), "VR01 never reaches a dashboard that asked for VR02");
}

#[tokio::test]
async fn reconnect_with_last_epoch_and_seq_yields_no_gap() {
    let ghor = super::start().await;
    let mut dashboard = ghor.stream("rot", &["VR01"], None).await;
    let m = dashboard.next().await;
    dashboard.apply(&m);
    ghor.report_beds("umcg", "umcg", 20, 5).await;
    dashboard.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(5)).await;
    let (epoch, seq, picture) = (dashboard.epoch.clone(), dashboard.seq, dashboard.regions.clone());
    dashboard.close().await;

    // While the dashboard is away, the picture moves on.
    ghor.report_beds("umcg", "umcg", 20, 6).await;
    ghor.report_beds("martini", "martini", 12, 12).await;

    let mut resumed = ghor.stream("rot", &["VR01"], Some((&epoch, seq))).await;
    resumed.regions = picture;
    resumed
        .until(|p| ic_occupied(&p["VR01"], "umcg") == Some(6) && ic_occupied(&p["VR01"], "martini") == Some(12))
        .await;
    assert!(resumed.snapshots.is_empty(), "the missing deltas came, not a snapshot");

    // What the resumed client holds equals what a new client is given.
    let mut fresh = ghor.stream("rot", &["VR01"], None).await;
    let m = fresh.next().await;
    fresh.apply(&m);
    ghor.report_beds("umcg", "umcg", 20, 19).await;
    for client in [&mut resumed, &mut fresh] {
        client.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(19)).await;
    }
    assert_eq!(resumed.regions, fresh.regions, "the resumed picture equals a fresh snapshot");
}

#[tokio::test]
async fn a_restarted_server_resumes_or_resyncs_explicitly() {
    let mut ghor = super::start().await;
    let mut dashboard = ghor.stream("rot", &["VR01"], None).await;
    let m = dashboard.next().await;
    dashboard.apply(&m);
    ghor.report_beds("umcg", "umcg", 20, 8).await;
    dashboard.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(8)).await;
    let (epoch, seq, picture) = (dashboard.epoch.clone(), dashboard.seq, dashboard.regions.clone());

    ghor.restart().await;
    ghor.report_beds("umcg", "umcg", 20, 9).await;

    let mut resumed = ghor.stream("rot", &["VR01"], Some((&epoch, seq))).await;
    resumed.regions = picture;
    resumed.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(9)).await;
    // The restarted gateway either rebuilt its history up to the resume point (every delta
    // then chains on it: `apply` checks each) or says it cannot with exactly one snapshot.
    match resumed.snapshots.as_slice() {
        [] => assert!(resumed.seq > seq, "deltas carried the resumed page on"),
        [reason] => assert_eq!(reason, "resume_unavailable"),
        more => panic!("one explicit resync at most: {more:?}"),
    }
}

#[tokio::test]
async fn a_resume_from_another_epoch_gets_a_snapshot_with_the_reason() {
    let ghor = super::start().await;
    let mut dashboard = ghor.stream("rot", &["VR01"], Some(("00000000-0000-4000-8000-000000000000", 3))).await;
    let m = dashboard.next().await;
    assert_eq!(m["type"], "snapshot");
    assert_eq!(m["reason"], "epoch_changed");
}

#[tokio::test]
async fn a_bad_ticket_is_refused_with_an_error_message() {
    let ghor = super::start().await;
    let ws_url = format!("{}/v1/stream", ghor.url.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.expect("websocket");
    use futures::{SinkExt, StreamExt};
    let hello = json!({ "type": "hello", "ticket": "not-a-ticket" }).to_string();
    ws.send(tokio_tungstenite::tungstenite::Message::Text(hello.into())).await.expect("send");
    let reply = ws.next().await.expect("reply").expect("ws");
    let reply: serde_json::Value = serde_json::from_str(reply.to_text().expect("text")).expect("json");
    assert_eq!(reply["type"], "error");
    assert_eq!(reply["status"], 401);
}

/// A focus narrows the stream on the server: a bed board that asks for acute care and beds
/// alone gets neither the nursing home nor the hospital's staffing, in the snapshot as in
/// the deltas. A focus that names nothing, or something unknown, is refused naming it.
#[tokio::test]
async fn a_focus_narrows_the_stream_to_categories_and_dimensions() {
    let ghor = super::start().await;
    ghor.register(&[("zonnehuis", "zonnehuis", "verpleeg_verzorgingshuis", "VR01", 53.21, 6.56)]).await;
    let staffing = |location: &str| {
        let mut e = event(
            &format!("/locations/{location}"),
            "nl.ghor.staffing.reported.v1",
            Some("verpleegkundige"),
            json!({ "unfilled_shifts_24h": 6 }),
        );
        e["bron"] = json!("telefoon");
        e
    };
    for location in ["umcg", "zonnehuis"] {
        let (status, body) = ghor.post("im", "/v1/events", &staffing(location)).await;
        assert_eq!(status, 201, "{body}");
    }
    let focus = json!({ "regions": ["VR01"], "categories": ["acuut"], "dimensions": ["beds"] });
    let mut board = ghor.stream_with("rot", focus).await;
    let mut everything = ghor.stream("rot", &["VR01"], None).await;
    for client in [&mut board, &mut everything] {
        let m = client.next().await;
        assert_eq!(m["type"], "snapshot", "{m}");
        client.apply(&m);
    }
    let unfocused = &everything.regions["VR01"];
    assert!(unfocused["locations"]["zonnehuis"].is_object(), "{unfocused}");
    assert!(
        unfocused["alerts"]["umcg/staffing/verpleegkundige"].is_object(),
        "six open shifts are critical: {unfocused}"
    );
    let view = &board.regions["VR01"];
    assert!(view["locations"].get("zonnehuis").is_none(), "a nursing home is not acute care: {view}");
    assert_eq!(view["locations"]["umcg"]["dimensions"], json!({}), "no staffing on a bed board: {view}");
    assert!(view["alerts"].get("umcg/staffing/verpleegkundige").is_none(), "{view}");
    assert_eq!(view["totals"], unfocused["totals"], "totals stay the region's");

    // Deltas alike: beds arrive, the staffing reported between them does not (deltas come
    // in log order, so it would have come before the second).
    ghor.report_beds("umcg", "umcg", 20, 7).await;
    let (status, body) = ghor.post("im", "/v1/events", &staffing("umcg")).await;
    assert_eq!(status, 201, "{body}");
    ghor.report_beds("umcg", "umcg", 20, 8).await;
    board.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(8)).await;
    let view = &board.regions["VR01"];
    assert_eq!(view["locations"]["umcg"]["dimensions"].as_object().map(|d| d.len()), Some(1), "{view}");
    assert!(view["locations"].get("zonnehuis").is_none(), "{view}");

    for (focus, field) in [
        (json!({ "categories": [] }), "categories"),
        (json!({ "dimensions": ["bedden"] }), "dimensions"),
        (json!({ "categories": ["ziekenhuis"] }), "categories"),
    ] {
        let mut refused = ghor.stream_with("rot", focus.clone()).await;
        let reply = refused.until_closed().await.expect("a refusal");
        assert_eq!(reply["status"], 400, "{focus}: {reply}");
        assert!(reply["detail"].as_str().is_some_and(|d| d.contains(field)), "{focus}: {reply}");
    }
}

/// A page that says `"encoding": "gzip"` gets large messages as gzip in binary frames: the
/// same snapshot, a fraction of the bytes. Small messages stay text.
#[tokio::test]
async fn a_client_that_takes_gzip_gets_the_same_snapshot_compressed() {
    let ghor = super::start().await;
    let homes: Vec<(String, f64)> = (0..60).map(|i| (format!("huis-{i:02}"), f64::from(i) / 1000.0)).collect();
    let homes: Vec<_> = homes
        .iter()
        .map(|(id, d)| (id.as_str(), "zorggroep", "verpleeg_verzorgingshuis", "VR01", 53.0 + d, 6.5))
        .collect();
    ghor.register(&homes).await;
    let mut plain = ghor.stream("rot", &["VR01"], None).await;
    let mut packed = ghor.stream_with("rot", json!({ "regions": ["VR01"], "encoding": "gzip" })).await;
    for client in [&mut plain, &mut packed] {
        let m = client.next().await;
        assert_eq!(m["type"], "snapshot", "{m}");
        client.apply(&m);
    }
    assert_eq!(packed.compressed, 1, "the snapshot came compressed");
    assert_eq!(plain.compressed, 0, "only to a client that asked");
    assert_eq!(packed.regions, plain.regions);
    assert_eq!(packed.regions["VR01"]["locations"].as_object().map(|l| l.len()), Some(62));

    ghor.report_beds("umcg", "umcg", 20, 4).await;
    packed.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(4)).await;
    assert_eq!(packed.compressed, 1, "a small delta stays text");
}

/// A client that was away gets what it missed merged into one delta; one that asks for
/// `"merge": false` (a recorder) gets every delta on its own, chained, from the same point.
#[tokio::test]
async fn a_resumed_client_gets_what_it_missed_merged_unless_it_asks_for_every_delta() {
    let ghor = super::start().await;
    let mut dashboard = ghor.stream("rot", &["VR01"], None).await;
    let m = dashboard.next().await;
    dashboard.apply(&m);
    let (epoch, seq) = (dashboard.epoch.clone(), dashboard.seq);
    dashboard.close().await;
    ghor.report_beds("umcg", "umcg", 20, 6).await;
    ghor.report_beds("martini", "martini", 12, 12).await;
    ghor.report_beds("umcg", "umcg", 20, 7).await;

    for (merge, expected) in [(true, vec![(seq, seq + 3)]), (false, (seq..seq + 3).map(|s| (s, s + 1)).collect())] {
        let hello = json!({ "regions": ["VR01"], "resume": { "epoch": epoch, "seq": seq }, "merge": merge });
        let mut resumed = ghor.stream_with("rot", hello).await;
        let mut deltas = Vec::new();
        loop {
            let m = resumed.next().await;
            match m["type"].as_str() {
                Some("delta") => deltas.push((m["from"].as_u64().unwrap_or(0), m["to"].as_u64().unwrap_or(0))),
                Some("heartbeat") => break,
                _ => panic!("merge {merge}: expected deltas, then a heartbeat: {m}"),
            }
        }
        assert_eq!(deltas, expected, "merge {merge}: the deltas' (from, to]");
    }
}
