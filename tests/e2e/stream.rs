//! The websocket stream as a dashboard sees it: snapshot, then chained deltas; resumes
//! with (epoch, seq) get exactly what they missed, or an explicit snapshot.

use serde_json::json;

use crate::harness::ic_occupied;

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

/// The limits on streams are the deployment's (`GHOR_WEBSOCKETS_PER_TOKEN`,
/// `GHOR_MAX_CONNECTIONS`): a token over its own is told so and closed; a full server
/// answers the upgrade with 503 and when to retry, and takes the next page once one left.
#[tokio::test]
async fn stream_limits_are_set_per_deployment_and_a_full_server_says_when_to_retry() {
    use crate::harness::{wait_for, Ghor};
    let limits = [("GHOR_WEBSOCKETS_PER_TOKEN", "1".to_owned()), ("GHOR_MAX_CONNECTIONS", "2".to_owned())];
    let ghor = Ghor::start_with_env(super::BACKEND, &limits).await;
    let mut rot = ghor.stream("rot", &["VR01"], None).await;
    rot.until(|p| p["VR01"].is_object()).await;

    let mut second = ghor.stream("rot", &["VR01"], None).await;
    let refusal = second.until_closed().await.expect("a refusal before the close");
    assert_eq!(refusal["status"], 429, "{refusal}");
    assert_eq!(second.closed.as_ref().map(|(code, _)| *code), Some(1013));

    let mut im = ghor.stream("im", &["VR01"], None).await;
    im.until(|p| p["VR01"].is_object()).await;
    let ws_url = format!("{}/v1/stream", ghor.url.replace("http://", "ws://"));
    match tokio_tungstenite::connect_async(&ws_url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(answer)) => {
            assert_eq!(answer.status(), 503);
            assert_eq!(answer.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
        }
        other => panic!("a full server let a third stream in: {:?}", other.map(|(_, r)| r.status())),
    }

    rot.close().await;
    wait_for(async || tokio_tungstenite::connect_async(&ws_url).await.is_ok()).await;
}
