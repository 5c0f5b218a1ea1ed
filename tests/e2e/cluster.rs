//! ghor on a 3-node JetStream cluster (streams with three replicas), started as the
//! README's production command says, with every node's URL. With no node killed, a minute
//! of reports while 100 pages stream: no reader position, checkpoint or page sequence ever
//! goes back (every page applies every message and fails on a gap or a step back). Then
//! the stream's leader is killed: reports are answered 201 or 503 with Retry-After, never
//! 500, readiness says the log cannot be reached while that lasts, and reporting resumes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ghor_domain::Scope;
use ghor_store::testing::NatsCluster;
use serde_json::{json, Value};

use crate::harness::{event, Ghor, Stream, DEADLINE};

/// Pages streaming at once.
const PAGES: usize = 100;
/// Pages per token: within a token's limit on open streams.
const PAGES_PER_TOKEN: usize = 8;
/// How long the reports go on before a node is killed.
const STEADY: Duration = Duration::from_secs(60);
/// Reports per second, spread over three institutions' tokens (each within its rate).
const REPORTS_PER_SECOND: u64 = 100;
/// How long reports go on after the leader is killed.
const OUTAGE: Duration = Duration::from_secs(15);

/// One report for one of the three registered locations; its HTTP status and Retry-After.
async fn report(ghor: &Ghor, n: u64) -> (u16, Option<String>) {
    let (token, location) = [("umcg", "umcg"), ("martini", "martini"), ("im2", "mcl")][(n % 3) as usize];
    let data = json!({ "operational": 100, "occupied": n % 100 });
    let body = event(&format!("/locations/{location}"), "nl.ghor.beds.reported.v1", Some("ic"), data);
    let request = ghor.http.post(format!("{}/v1/events", ghor.url)).bearer_auth(ghor.token(token)).json(&body);
    match request.timeout(Duration::from_secs(20)).send().await {
        Ok(r) => {
            let retry = r.headers().get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_owned);
            (r.status().as_u16(), retry)
        }
        Err(e) => panic!("report {n} got no answer: {e}"),
    }
}

/// Sends reports at [`REPORTS_PER_SECOND`] for `during`; returns every answer.
async fn reports(ghor: &Ghor, first: u64, during: Duration) -> Vec<(u16, Option<String>)> {
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / REPORTS_PER_SECOND));
    let until = tokio::time::Instant::now() + during;
    let mut answers = Vec::new();
    let mut in_flight = futures::stream::FuturesUnordered::new();
    let mut n = first;
    while tokio::time::Instant::now() < until {
        tokio::select! {
            _ = tick.tick() => {
                in_flight.push(report(ghor, n));
                n += 1;
            }
            Some(answer) = futures::StreamExt::next(&mut in_flight) => answers.push(answer),
        }
    }
    while let Some(answer) = futures::StreamExt::next(&mut in_flight).await {
        answers.push(answer);
    }
    answers
}

/// A page that applies every message until told to stop; returns the sequence it reached.
fn follow(mut page: Stream, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        while !stop.load(Ordering::Relaxed) {
            let m = page.next().await;
            page.apply(&m); // fails on a gap, a delta from elsewhere or a step back
        }
        page.seq
    })
}

/// Samples a position every 100 ms until told to stop; fails the test if it ever goes back.
fn never_back<F, Fut>(what: &'static str, stop: Arc<AtomicBool>, position: F) -> tokio::task::JoinHandle<u64>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Option<u64>> + Send,
{
    tokio::spawn(async move {
        let mut highest = 0;
        while !stop.load(Ordering::Relaxed) {
            if let Some(now) = position().await {
                assert!(now >= highest, "the {what} went back from {highest} to {now}");
                highest = now;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        highest
    })
}

#[tokio::test]
async fn on_a_three_node_cluster_positions_only_grow_and_a_lost_leader_answers_503_not_500() {
    let mut ghor = Ghor::start_on_cluster(NatsCluster::start(3)).await;

    let mut pages = Vec::new();
    let stop = Arc::new(AtomicBool::new(false));
    for i in 0..PAGES {
        let token = format!("rot-{}", i / PAGES_PER_TOKEN);
        if !ghor.tokens.contains_key(&token) {
            let name = format!("ROT {token}");
            let secret = ghor.cli(&["token", "create", "--role", "rot", "--name", &name, "--region", "VR01"]).await;
            ghor.tokens.insert(token.clone(), secret);
        }
        let mut page = ghor.stream(&token, &["VR01"], None).await;
        page.until_current(true).await;
        pages.push(follow(page, stop.clone()));
    }
    let gateway = {
        let (http, url, token) = (ghor.http.clone(), ghor.url.clone(), ghor.token("im").to_owned());
        never_back("gateway's position", stop.clone(), move || {
            let request = http.get(format!("{url}/v1/picture")).bearer_auth(token.clone()).send();
            async move { request.await.ok()?.json::<Value>().await.ok()?["seq"].as_u64() }
        })
    };
    let checkpoint = {
        let read_model = ghor.stores().await.read_model;
        never_back("projector's checkpoint", stop.clone(), move || {
            let read_model = read_model.clone();
            async move { read_model.checkpoint(Scope::Live).await.ok() }
        })
    };

    let steady = reports(&ghor, 0, STEADY).await;
    let refused: Vec<_> = steady.iter().filter(|(status, _)| *status != 201).collect();
    assert!(refused.is_empty(), "with every node up, every report is stored: {refused:?}");
    let reached = ghor.get("im", "/v1/picture").await.1["seq"].as_u64().expect("seq");

    // Kill the node that leads the stream.
    let urls = ghor.cluster.as_ref().expect("cluster").urls();
    let js = async_nats::jetstream::new(async_nats::connect(urls.split(',').collect::<Vec<_>>()).await.expect("nats"));
    let info = js.get_stream("GHOR_LIVE").await.expect("stream").info().await.expect("info").clone();
    let leader = info.cluster.and_then(|c| c.leader).expect("the stream has a leader");
    ghor.cluster.as_mut().expect("cluster").node(&leader).stop();

    let unready = Arc::new(AtomicBool::new(false));
    let readiness = {
        let (http, url, unready, stop) = (ghor.http.clone(), ghor.url.clone(), unready.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let status = http.get(format!("{url}/readyz")).send().await.map_or(0, |r| r.status().as_u16());
                if status == 503 {
                    unready.store(true, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let outage = reports(&ghor, steady.len() as u64, OUTAGE).await;
    let wrong: Vec<_> =
        outage.iter().filter(|(status, retry)| !(*status == 201 || (*status == 503 && retry.is_some()))).collect();
    assert!(
        wrong.is_empty(),
        "while the leader is re-elected: 201, or 503 with Retry-After, nothing else; {} answers were not, the first: {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    let unavailable = outage.iter().filter(|(status, _)| *status == 503).count();
    if unavailable > 0 {
        assert!(
            unready.load(Ordering::Relaxed),
            "{unavailable} reports were refused as unavailable, yet /readyz stayed 200"
        );
    }
    // Reporting resumes on the remaining two nodes.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while report(&ghor, 1_000_000).await.0 != 201 {
        assert!(tokio::time::Instant::now() < deadline, "reporting did not resume after the leader was killed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    stop.store(true, Ordering::Relaxed);
    let _ = readiness.await;
    gateway.await.expect("the gateway's position never went back");
    checkpoint.await.expect("the projector's checkpoint never went back");
    for page in pages {
        let seq = page.await.expect("every page followed without a gap or a step back");
        assert!(seq >= reached, "a page stopped at {seq}, before {reached}");
    }
    eprintln!(
        "cluster: {} reports with all nodes up; after killing {leader}: {} answered, {unavailable} of them 503",
        steady.len(),
        outage.len()
    );
}
