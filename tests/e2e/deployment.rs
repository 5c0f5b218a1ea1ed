//! The suite against a region's deployment from `deploy/` on loopback ([`crate::topology`]):
//! three NATS nodes from `deploy/nats/cluster.conf`, PostgreSQL, two ingest processes, a
//! projector, two gateways and a notifier as separate processes reading `deploy/ghor.toml`.
//! Clients reach it through Caddy from `deploy/Caddyfile`, as in production. The shared test
//! files below run here as on the other backbones; the tests in this file try what only a
//! deployment has: its parts apart, and losing one of them.

use futures::{SinkExt, StreamExt};
use serde_json::json;

use crate::harness::{event, ic_occupied, Backend, Ghor, DEADLINE};

const BACKEND: Backend = Backend::Deployment;

pub async fn start() -> Ghor {
    Ghor::start_on(BACKEND).await
}

pub async fn bare() -> Ghor {
    Ghor::bare_on(BACKEND).await
}

#[path = "authz.rs"]
mod authz;
#[path = "picture.rs"]
mod picture;
#[path = "stream.rs"]
mod stream;
#[path = "warm.rs"]
mod warm;

/// umcg's report of its IC beds: `occupied` of 30.
fn ic(occupied: u64) -> serde_json::Value {
    event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({"operational": 30, "occupied": occupied}))
}

/// Waits, up to `within`, until `url`'s picture holds `occupied` IC beds at umcg.
async fn until_seen(ghor: &Ghor, url: &str, occupied: u64, within: std::time::Duration) {
    let at = ghor.at(url);
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (_, region) = at.get("rot", "/v1/picture/regions/VR01").await;
        if ic_occupied(&region["view"], "umcg") == Some(occupied) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{url} never showed {occupied}: {region}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn every_part_runs_apart_and_a_report_through_either_ingest_reaches_both_gateways() {
    let ghor = start().await;
    let topology = ghor.topology.as_ref().expect("a deployment");
    let (ingests, gateways) = (topology.ingests.clone(), topology.gateways.clone());
    assert_eq!((ingests.len(), gateways.len(), topology.processes.len()), (2, 2, 6));
    assert_eq!(ghor.url, topology.url, "clients reach it through the proxy");

    // Each process serves what its role has, and only that.
    let status = |url: String| {
        let http = ghor.http.clone();
        async move { http.get(url).send().await.map(|r| r.status().as_u16()).unwrap_or(0) }
    };
    assert_eq!(status(format!("{}/v1/picture", ingests[0])).await, 404, "an ingest process serves no picture");
    let (at_gateway, _) = ghor.at(&gateways[0]).post("umcg", "/v1/events", &ic(3)).await;
    assert_eq!(at_gateway, 404, "a gateway takes no report");

    // A report through each ingest reaches both gateways' pictures and a page on each.
    let mut pages = Vec::new();
    for gateway in &gateways {
        pages.push(ghor.at(gateway).stream("rot", &["VR01"], None).await);
    }
    for (occupied, ingest) in [(4u64, &ingests[0]), (5, &ingests[1])] {
        let (status, body) = ghor.at(ingest).post("umcg", "/v1/events", &ic(occupied)).await;
        assert_eq!(status, 201, "{body}");
        for gateway in &gateways {
            until_seen(&ghor, gateway, occupied, DEADLINE).await;
        }
        for page in &mut pages {
            page.until(|regions| ic_occupied(&regions["VR01"], "umcg") == Some(occupied)).await;
        }
    }
    // A ticket one gateway issued opens a stream at the other (behind the proxy the two
    // requests seldom reach the same one).
    let ticket: serde_json::Value = ghor
        .http
        .post(format!("{}/v1/stream/ticket", gateways[0]))
        .bearer_auth(ghor.token("rot"))
        .json(&json!({}))
        .send()
        .await
        .expect("a ticket")
        .json()
        .await
        .expect("json");
    let ws = format!("{}/v1/stream", gateways[1].replace("http://", "ws://"));
    let (mut socket, _) = tokio_tungstenite::connect_async(ws).await.expect("a websocket");
    let hello = json!({"type": "hello", "ticket": ticket["ticket"], "regions": ["VR01"]}).to_string();
    socket.send(tokio_tungstenite::tungstenite::Message::Text(hello.into())).await.expect("hello");
    let first =
        tokio::time::timeout(DEADLINE, socket.next()).await.expect("an answer").expect("open").expect("a message");
    let first: serde_json::Value = serde_json::from_str(first.to_text().expect("text")).expect("json");
    assert_eq!(first["type"], "snapshot", "the other gateway took the ticket: {first}");

    // Both gateways tell the same chain: a page of one resumes on the other with nothing missed.
    let (epoch, seq) = (pages[0].epoch.clone(), pages[0].seq);
    let mut resumed = ghor.at(&gateways[1]).stream("rot", &["VR01"], Some((&epoch, seq))).await;
    let (status, _) = ghor.post("umcg", "/v1/events", &ic(6)).await;
    assert_eq!(status, 201);
    resumed.until(|regions| ic_occupied(&regions["VR01"], "umcg") == Some(6)).await;
    assert!(
        resumed.snapshots.is_empty(),
        "the resume on the other gateway needed no snapshot: {:?}",
        resumed.snapshots
    );
}

#[tokio::test]
async fn reports_go_on_when_an_ingest_process_and_a_nats_node_are_lost() {
    let mut ghor = start().await;
    let topology = ghor.topology.as_mut().expect("a deployment");

    // One ingest process stops (SIGTERM, as an orchestrator does); one NATS node dies.
    let mut ingest_1 = topology.process("ingest-1").child.take().expect("running");
    let pid = ingest_1.id().expect("pid").to_string();
    let stopped = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill");
    assert!(stopped.success());
    tokio::time::timeout(DEADLINE, ingest_1.wait()).await.expect("it stops in time").expect("wait");
    topology.nodes[0].kill().await;

    // Through the proxy the other ingest takes the reports, on the two nodes left (a quorum
    // of three), and the gateways show them.
    for occupied in 10..15u64 {
        let report = ic(occupied);
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let (status, body) = ghor.post("umcg", "/v1/events", &report).await;
            if status == 201 || status == 200 {
                break;
            }
            // While the streams elect new leaders a report may be answered 503 (or 502 by the
            // proxy, for the process that stopped); the institution retries with the same
            // id, and nothing is stored twice.
            assert!(status == 503 || status == 502, "{status} {body}");
            assert!(tokio::time::Instant::now() < deadline, "no leader again within {DEADLINE:?}: {body}");
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    let gateways = ghor.topology.as_ref().expect("a deployment").gateways.clone();
    // A gateway whose reader was on the lost node reads anew from another, after its
    // supervisor's backoff: on a busy machine that may take longer than a report.
    for gateway in &gateways {
        until_seen(&ghor, gateway, 14, DEADLINE * 3).await;
    }

    // The node comes back and catches up; the deployment is whole again.
    let topology = ghor.topology.as_mut().expect("a deployment");
    topology.nodes[0].start_again();
    let deadline = tokio::time::Instant::now() + DEADLINE * 2;
    while !topology.nodes[0].healthy(&ghor.http).await {
        assert!(tokio::time::Instant::now() < deadline, "the node never caught up");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
