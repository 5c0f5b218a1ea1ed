//! Supervision as a page and an operator see it: a gateway whose log follower stops says
//! at once that its picture is not current (on the stream and in `/readyz`) instead of
//! looking live over a frozen picture, and comes back by itself without a gap; SIGTERM
//! stops the server cleanly with reports in flight and pages connected.

use std::time::Duration;

use ghor_domain::Scope;
use serde_json::{json, Value};

use crate::harness::{event, ic_occupied, DEADLINE};

/// Waits until `/readyz` answers `status`, at most `within`.
async fn await_ready(ghor: &crate::harness::Ghor, status: u16, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let found = ghor.ready().await;
        if found == status {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "/readyz stayed {found}, never {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_stopped_log_follower_is_said_at_once_and_the_picture_returns_without_a_gap() {
    let ghor = super::start().await;
    ghor.report_beds("umcg", "umcg", 20, 5).await;
    let mut page = ghor.stream("rot", &["VR01"], None).await;
    page.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(5)).await;
    page.until_current(true).await;
    assert_eq!(ghor.ready().await, 200);

    let (status, body) = ghor.post("admin", "/v1/faults/gateway-follower?seconds=3", &json!({})).await;
    assert_eq!(status, 202, "{body}");
    let stopped = tokio::time::Instant::now();
    page.until_current(false).await;
    await_ready(&ghor, 503, Duration::from_secs(5).saturating_sub(stopped.elapsed())).await;

    // Institutions go on reporting meanwhile: what they send reaches the page once the
    // follower is back, chained on what the page holds (`apply` fails on any gap).
    ghor.report_beds("umcg", "umcg", 20, 6).await;
    page.until_current(true).await;
    page.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(6)).await;
    assert_eq!(page.snapshots, ["initial"], "the page resumed without a new snapshot");
    await_ready(&ghor, 200, DEADLINE).await;
    // Readiness says how the rest fares: the database answers, the follower failed lately.
    let readiness: Value =
        ghor.http.get(format!("{}/readyz", ghor.url)).send().await.expect("readyz").json().await.expect("JSON");
    assert_eq!(readiness["database"], "ok", "{readiness}");
    assert!(readiness["tasks"]["gateway_follower"].as_u64() >= Some(1), "{readiness}");
    assert_eq!(readiness["tasks"]["projector"], 0, "{readiness}");

    let metrics = ghor.http.get(format!("{}/metrics", ghor.url)).send().await.expect("metrics");
    let metrics = metrics.text().await.expect("text");
    let restarts = metrics
        .lines()
        .find_map(|l| l.strip_prefix("ghor_task_restarts_total{task=\"gateway_follower\"} "))
        .and_then(|n| n.parse::<u64>().ok());
    assert!(restarts.is_some_and(|n| n >= 1), "the restart is counted: {metrics}");
}

#[tokio::test]
async fn sigterm_with_a_batch_in_flight_and_pages_open_stops_cleanly() {
    let mut ghor = super::start().await;
    let mut pages = Vec::new();
    for token in ["rot", "im"] {
        let mut page = ghor.stream(token, &["VR01"], None).await;
        page.until_current(true).await;
        pages.push(page);
    }
    let batch: Vec<Value> = (0..500)
        .map(|i| {
            let data = json!({ "operational": 600, "occupied": i });
            event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), data)
        })
        .collect();
    let ids: Vec<String> = batch.iter().map(|e| e["id"].as_str().expect("id").to_owned()).collect();
    let request =
        ghor.http.post(format!("{}/v1/events/batch", ghor.url)).bearer_auth(ghor.token("umcg")).json(&batch).send();
    let answer = tokio::spawn(async move {
        let response = request.await.ok()?;
        let status = response.status().as_u16();
        Some((status, response.json::<Value>().await.ok()?))
    });

    let exit = ghor.terminate().await;
    assert!(exit.success(), "ghor exits 0 after SIGTERM: {exit:?}");
    for mut page in pages {
        page.until_closed().await;
        let (code, reason) = page.closed.clone().expect("the page got a close frame, not a broken connection");
        assert_eq!(code, 1001, "going away: {reason}");
        assert!(!reason.is_empty(), "the close frame says why");
    }

    // The client knows what became of its batch: an answer lists every event as stored,
    // and without an answer none of them is in the log.
    let answer = answer.await.expect("request task");
    ghor.start_again().await;
    let log = ghor.log(Scope::Live).await;
    let stored: Vec<String> = log
        .read(0, 100_000)
        .await
        .expect("read the log")
        .iter()
        .filter_map(|entry| entry.json()["id"].as_str().map(str::to_owned))
        .filter(|id| ids.contains(id))
        .collect();
    match answer {
        Some((status, body)) => {
            assert!(status < 300, "the batch was answered {status}: {body}");
            let results = body["results"].as_array().expect("results");
            assert_eq!(results.len(), ids.len(), "{body}");
            assert!(results.iter().all(|r| r["status"] == "stored"), "{body}");
            assert_eq!(stored.len(), ids.len(), "every event answered as stored is in the log");
        }
        None => assert!(stored.is_empty(), "unanswered, yet {} of the batch's events were stored", stored.len()),
    }
}
