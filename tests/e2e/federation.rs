//! Two regions and the national level, on loopback from `deploy/nats/`: each region a NATS
//! server of its own JetStream domain (`region.conf`) with its own ghor, and the national
//! server (`national.conf`) whose stream sources both over leaf links, with `ghor national`
//! on it. A region's leaf link runs through a relay the test can cut, as a WAN link is cut;
//! both regions take reports throughout, and afterwards the national picture is what both
//! regions' logs fold to, with no event missing or doubled.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ghor_domain::{RegionCode, Scope};
use ghor_store::nats::{connect, NatsLog, StreamSettings};
use ghor_store::EventLog;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::harness::{event, ic_occupied, Ghor, DEADLINE, DUPLICATE_WINDOW_SECS};
use crate::topology::{free_port, Node, NATS_PASSWORD};

const LEAF_PASSWORD: &str = "loopback-leaf";

/// A TCP relay in front of the national leaf port: what a region's WAN link is here.
struct Relay {
    port: u16,
    cut: watch::Sender<bool>,
    _task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn to(target: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the relay");
        let port = listener.local_addr().expect("address").port();
        let (cut, watching) = watch::channel(false);
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut watching = watching.clone();
                if *watching.borrow() {
                    continue; // cut: the connection is dropped at once
                }
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = watching.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Relay { port, cut, _task: task }
    }

    /// Drops every connection through it and refuses new ones, until mended.
    fn cut(&self) {
        self.cut.send_replace(true);
    }

    fn mend(&self) {
        self.cut.send_replace(false);
    }
}

/// Waits, up to `limit`, until `done` holds, asking five times a second (each ask costs the
/// national level a few requests of the admin token's rate).
async fn within(limit: Duration, what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !done().await {
        assert!(tokio::time::Instant::now() < deadline, "{what} not reached within {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the NATS server's monitoring says it is healthy (JetStream included).
async fn healthy(node: &Node, http: &reqwest::Client) {
    let url = format!("http://127.0.0.1:{}/healthz", node.monitor_port);
    within(DEADLINE * 2, &format!("{} healthy", node.name), async || {
        http.get(&url).send().await.is_ok_and(|r| r.status().is_success())
    })
    .await;
}

fn nats_url(node: &Node) -> String {
    format!("nats://ghor:{NATS_PASSWORD}@127.0.0.1:{}", node.client_port)
}

/// A region's NATS server (domain: its code in lower case), its leaf link through `relay`.
fn region_server(region: &str, relay: &Relay, store: &std::path::Path) -> Node {
    Node::start_from(
        "nats/region.conf",
        &format!("nats-{}", region.to_lowercase()),
        &[
            ("NATS_STORE_DIR", store.join(region).display().to_string()),
            ("NATS_DOMAIN", region.to_lowercase()),
            ("NATS_NATIONAL_URL", format!("nats-leaf://leaf:{LEAF_PASSWORD}@127.0.0.1:{}", relay.port)),
            ("GHOR_NATS_PASSWORD", NATS_PASSWORD.to_owned()),
            ("UMCG_NATS_PASSWORD", "loopback-umcg".to_owned()),
        ],
    )
}

/// A region's picture without where it stands in its log (which differs per level) and
/// the ages of its numbers (which differ by the moment of asking).
async fn region_picture(ghor: &Ghor, region: &str) -> Value {
    let (status, mut body) = ghor.get("admin", &format!("/v1/picture/regions/{region}")).await;
    assert_eq!(status, 200, "{body}");
    let object = body.as_object_mut().expect("an object");
    for position in ["epoch", "seq", "now", "staleness"] {
        object.remove(position);
    }
    body
}

/// Each region's link as the level says: region → `up` / `down`.
async fn links(ghor: &Ghor) -> BTreeMap<String, String> {
    let (status, body) = ghor.get("admin", "/v1/federation").await;
    assert_eq!(status, 200, "{body}");
    body["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .map(|l| {
            (l["region"].as_str().unwrap_or_default().to_owned(), l["link"].as_str().unwrap_or_default().to_owned())
        })
        .collect()
}

/// Every event of a log as (source|id) → its region and type, and how many the log holds.
async fn events_of(log: &dyn EventLog) -> (BTreeMap<String, (String, String)>, usize) {
    let mut events = BTreeMap::new();
    let mut count = 0;
    let mut after = 0;
    loop {
        let batch = log.read(after, 1000).await.expect("read the log");
        let Some(last) = batch.last() else { break };
        after = last.seq;
        for entry in &batch {
            let e = entry.json();
            count += 1;
            let key = format!("{}|{}", e["source"].as_str().unwrap_or_default(), e["id"].as_str().unwrap_or_default());
            let region_and_type = [&e["region"], &e["type"]].map(|v| v.as_str().unwrap_or_default().to_owned());
            events.insert(key, region_and_type.into());
        }
    }
    (events, count)
}

/// Reports IC beds for `location` as the institution `token`, expecting 201.
async fn report(ghor: &Ghor, token: &str, location: &str, occupied: u32) {
    let e = event(
        &format!("/locations/{location}"),
        "nl.ghor.beds.reported.v1",
        Some("ic"),
        json!({ "operational": 40, "occupied": occupied }),
    );
    let (status, body) = ghor.post(token, "/v1/events", &e).await;
    assert_eq!(status, 201, "a region takes reports whatever its link does: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_national_picture_sums_the_regions_and_survives_a_cut_link() {
    let http = reqwest::Client::new();
    let store = tempfile::tempdir().expect("tempdir");
    let national_leaf = free_port();
    let (link_1, link_2) = (Relay::to(national_leaf).await, Relay::to(national_leaf).await);
    // The national server announces the address regions reach it by, as in production: here
    // Fryslân's relay, so that Fryslân reconnecting goes through the relay the test cuts.
    let national_nats = Node::start_from(
        "nats/national.conf",
        "landelijk",
        &[
            ("NATS_STORE_DIR", store.path().join("landelijk").display().to_string()),
            ("NATS_LEAF_PORT", national_leaf.to_string()),
            ("NATS_LEAF_ADVERTISE", format!("127.0.0.1:{}", link_2.port)),
            ("GHOR_NATS_PASSWORD", NATS_PASSWORD.to_owned()),
            ("NATS_LEAF_PASSWORD", LEAF_PASSWORD.to_owned()),
        ],
    );
    let (nats_1, nats_2) = (region_server("VR01", &link_1, store.path()), region_server("VR02", &link_2, store.path()));
    for node in [&national_nats, &nats_1, &nats_2] {
        healthy(node, &http).await;
    }

    // Each region its own ghor with its own tokens; the national level on its own server.
    let groningen = Ghor::start_on_nats(nats_url(&nats_1)).await;
    let mut fryslan = Ghor::start_on_nats(nats_url(&nats_2)).await;
    let mcl = fryslan
        .cli(&[
            "token",
            "create",
            "--role",
            "institution",
            "--name",
            "MCL ZIS",
            "--region",
            "VR02",
            "--organisation",
            "mcl",
        ])
        .await;
    fryslan.tokens.insert("mcl".to_owned(), mcl);
    let national = Ghor::start_national(nats_url(&national_nats), "VR01,VR02").await;

    report(&groningen, "umcg", "umcg", 11).await;
    report(&groningen, "martini", "martini", 21).await;
    report(&fryslan, "mcl", "mcl", 31).await;
    within(DEADLINE * 2, "both regions in the national picture", async || {
        let (_, vr01) = national.get("admin", "/v1/picture/regions/VR01").await;
        let (_, vr02) = national.get("admin", "/v1/picture/regions/VR02").await;
        ic_occupied(&vr01["view"], "umcg") == Some(11)
            && ic_occupied(&vr01["view"], "martini") == Some(21)
            && ic_occupied(&vr02["view"], "mcl") == Some(31)
    })
    .await;
    let up = BTreeMap::from([("VR01".to_owned(), "up".to_owned()), ("VR02".to_owned(), "up".to_owned())]);
    assert_eq!(links(&national).await, up);
    let (status, body) = groningen.get("admin", "/v1/federation").await;
    assert_eq!((status, body), (200, json!({ "level": "region", "regions": [] })), "a region has no links of its own");

    // The national level shows the regions it is fed by and offers no changes: reports,
    // acknowledgements, subscriptions go to the region.
    let (_, me) = national.get("admin", "/v1/me").await;
    assert_eq!(me["regions"], json!(["VR01", "VR02"]), "{me}");
    let (_, me) = national.get("im", "/v1/me").await;
    let may: Vec<&str> = me["may"].as_array().expect("may").iter().filter_map(Value::as_str).collect();
    assert!(may.contains(&"read_locations"), "{me}");
    let (_, at_region) = groningen.get("im", "/v1/me").await;
    for change in ["report_on_behalf", "acknowledge", "ask_and_advise", "subscribe"] {
        assert!(!may.contains(&change), "the national level offers no {change}: {me}");
        assert!(at_region["may"].as_array().expect("may").contains(&json!(change)), "the region does: {at_region}");
    }
    let subscription = json!({ "region": "VR01", "kind": "ic_free_below", "value": 3, "email": "lcms@example.org" });
    let (status, body) = national.post("im", "/v1/subscriptions", &subscription).await;
    assert_eq!((status, &body["type"]), (409, &json!("https://ghor.example/problems/read-only")), "{body}");
    let e =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 40, "occupied": 1 }));
    let (status, body) = national.post("umcg", "/v1/events", &e).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["type"], "https://ghor.example/problems/read-only", "{body}");
    assert!(body["detail"].as_str().unwrap_or_default().contains("region"), "{body}");

    // Fryslân's WAN link drops. Both regions go on taking reports.
    link_2.cut();
    let at_cut = region_picture(&fryslan, "VR02").await;
    within(DEADLINE * 2, "the national level sees Fryslân's link down", async || {
        links(&national).await.get("VR02").map(String::as_str) == Some("down")
    })
    .await;
    for occupied in 1..=10 {
        report(&groningen, "umcg", "umcg", 100 + occupied).await;
        report(&fryslan, "mcl", "mcl", 300 + occupied).await;
    }
    within(DEADLINE, "Groningen's reports in the national picture while Fryslân is cut off", async || {
        let (_, vr01) = national.get("admin", "/v1/picture/regions/VR01").await;
        ic_occupied(&vr01["view"], "umcg") == Some(110)
    })
    .await;
    assert_eq!(links(&national).await.get("VR01").map(String::as_str), Some("up"));
    // The ICT on duty sees it in the metrics (the alert GhorNationalLinkDown reads them).
    let metrics = national.http.get(format!("{}/metrics", national.url)).send().await.expect("metrics");
    let metrics = metrics.text().await.expect("text");
    let silence = |region: &str| -> f64 {
        let series = format!("ghor_national_link_silence_seconds{{region=\"{region}\",scope=\"live\"}} ");
        metrics.lines().find_map(|l| l.strip_prefix(&series)).and_then(|v| v.parse().ok()).unwrap_or(-1.0)
    };
    assert!(silence("VR02") > 10.0 && (0.0..10.0).contains(&silence("VR01")), "{metrics}");
    assert!(metrics.contains("ghor_national_link_lag_events{region=\"VR01\",scope=\"live\"} 0"), "{metrics}");
    assert_eq!(
        region_picture(&national, "VR02").await,
        at_cut,
        "the national level shows Fryslân as it was when the link dropped"
    );
    let (_, fed) = national.get("admin", "/v1/federation").await;
    let vr02 =
        fed["regions"].as_array().expect("regions").iter().find(|l| l["region"] == "VR02").expect("VR02").clone();
    assert!(vr02["last_contact"].is_string(), "when it was last heard from: {vr02}");

    // The link comes back: Fryslân catches up, nothing lost or doubled.
    link_2.mend();
    within(DEADLINE * 4, "Fryslân caught up in the national picture", async || {
        links(&national).await.get("VR02").map(String::as_str) == Some("up")
            && region_picture(&national, "VR02").await == region_picture(&fryslan, "VR02").await
    })
    .await;
    assert_eq!(region_picture(&national, "VR01").await, region_picture(&groningen, "VR01").await);

    // The national log holds each region's own events exactly once, and nothing else.
    let national_settings = StreamSettings {
        duplicate_window: Duration::from_secs(DUPLICATE_WINDOW_SECS),
        sourced_from: vec![region("VR01"), region("VR02")],
        ..StreamSettings::default()
    };
    let national_log: Arc<dyn EventLog> =
        NatsLog::open(connect(&nats_url(&national_nats)).await.expect("nats"), Scope::Live, &national_settings)
            .await
            .expect("the national stream");
    let (in_national, count) = events_of(&*national_log).await;
    assert_eq!(count, in_national.len(), "no event doubled in the national log");
    let (in_groningen, _) = events_of(&*groningen.log(Scope::Live).await).await;
    let (in_fryslan, _) = events_of(&*fryslan.log(Scope::Live).await).await;
    // Both regions seed the same defaults (the same ids); what institutions sent is each
    // region's own.
    let reports = |events: &BTreeMap<String, (String, String)>| -> Vec<String> {
        events.iter().filter(|(_, (_, kind))| kind == "nl.ghor.beds.reported.v1").map(|(k, _)| k.clone()).collect()
    };
    assert!(
        reports(&in_groningen).iter().all(|key| !in_fryslan.contains_key(key)),
        "no report of one region lands in the other's log over the links"
    );
    let mut expected = BTreeMap::new();
    for (events, own) in [(in_groningen, "VR01"), (in_fryslan, "VR02")] {
        expected.extend(events.into_iter().filter(|(_, (region, _))| region == own));
    }
    assert_eq!(in_national, expected, "the national log holds each region's own events, none missing");
    assert_eq!(reports(&in_national).len(), 3 + 2 * 10, "every report sent is among them");
}

fn region(code: &str) -> RegionCode {
    RegionCode::try_from(code).expect("a region")
}
