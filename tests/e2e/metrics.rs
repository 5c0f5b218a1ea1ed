//! Metrics as Prometheus scrapes them (issue 14): `/metrics` on an address of its own (the
//! public port answers 404 there), scraped after reports (stored, repeated, refused), a
//! live page that gets its snapshot and a delta and then closes, and a webhook that cannot
//! be reached. Every metric `docs/metrics.md` names is exported with data, and the binary
//! exports none it does not name.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use serde_json::json;

use super::notify::{free_port, new_secret};
use std::time::Duration;

use crate::harness::{event, ic_occupied, Backend, Ghor, DEADLINE};

/// The metrics table of `docs/metrics.md`: each name with its type.
fn documented() -> BTreeMap<String, String> {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/metrics.md")).expect("docs/metrics.md");
    // Those of the national level alone are held to `ghor national` in federation.rs.
    let regional = doc.split("\n## The national level").next().unwrap_or_default();
    regional
        .lines()
        .filter_map(|line| {
            let mut cells = line.split('|').map(str::trim).skip(1);
            let name = cells.next()?.strip_prefix("`ghor_")?.strip_suffix('`')?;
            Some((format!("ghor_{name}"), cells.next()?.to_owned()))
        })
        .collect()
}

/// A scrape: each metric's declared type, and each sample (`name{labels}`) with its value.
struct Scrape {
    types: BTreeMap<String, String>,
    samples: BTreeMap<String, f64>,
}

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut types = BTreeMap::new();
        let mut samples = BTreeMap::new();
        for line in text.lines() {
            if let Some(declared) = line.strip_prefix("# TYPE ") {
                let (name, kind) = declared.split_once(' ').expect("# TYPE name kind");
                types.insert(name.to_owned(), kind.to_owned());
            } else if !line.starts_with('#') && !line.is_empty() {
                let (series, value) = line.rsplit_once(' ').expect("a sample: series value");
                samples.insert(series.to_owned(), value.parse().expect("a number"));
            }
        }
        Scrape { types, samples }
    }

    /// The sum of a metric's samples whose labels include every one of `labels`
    /// (`name="value"`); for a histogram, of its `_count`.
    fn value(&self, name: &str, labels: &[&str]) -> f64 {
        let series = if self.types.get(name).is_some_and(|t| t == "histogram") {
            format!("{name}_count")
        } else {
            name.to_owned()
        };
        self.samples
            .iter()
            .filter(|(s, _)| s.split('{').next() == Some(series.as_str()))
            .filter(|(s, _)| labels.iter().all(|l| s.contains(l)))
            .map(|(_, v)| v)
            .sum()
    }

    /// Whether a metric has any sample at all.
    fn has_samples(&self, name: &str) -> bool {
        self.samples.keys().any(|s| {
            let series = s.split('{').next().unwrap_or_default();
            series == name
                || series.strip_prefix(name).is_some_and(|rest| ["_count", "_sum", "_bucket"].contains(&rest))
        })
    }
}

async fn scrape(ghor: &Ghor, at: &str) -> Scrape {
    let response = ghor.http.get(format!("http://{at}/metrics")).send().await.expect("scrape");
    assert_eq!(response.status(), 200);
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(content_type.starts_with("text/plain"), "Prometheus text format, not {content_type}");
    Scrape::parse(&response.text().await.expect("text"))
}

#[tokio::test]
async fn every_documented_metric_is_exported_with_data_on_its_own_address() {
    let metrics_at = format!("127.0.0.1:{}", free_port());
    let limit = (1u64 << 30).to_string();
    let ghor =
        super::start_with_env(&[("GHOR_METRICS_LISTEN", metrics_at.clone()), ("GHOR_LOG_MAX_BYTES", limit.clone())])
            .await;

    // The public port does not show them.
    let public = ghor.http.get(format!("{}/metrics", ghor.url)).send().await.expect("public /metrics");
    assert_eq!(public.status(), 404, "/metrics is not on the public port when it has an address of its own");

    // A live page, then a report it sees, the same report again, and one refused.
    let mut page = ghor.stream("rot", &["VR01"], None).await;
    page.until(|regions| regions.get("VR01").is_some()).await; // its snapshot came first
    let report =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 30, "occupied": 12 }));
    let (status, body) = ghor.post("umcg", "/v1/events", &report).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = ghor.post("umcg", "/v1/events", &report).await;
    assert_eq!(status, 200, "a retry is a duplicate: {body}");
    let refused = event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 30 }));
    let (status, body) = ghor.post("umcg", "/v1/events", &refused).await;
    assert_eq!(status, 422, "{body}");
    let refused_for = body["errors"][0]["code"].as_str().expect("a field's code").to_owned();
    page.until(|regions| ic_occupied(&regions["VR01"], "umcg") == Some(12)).await;
    page.close().await;

    // A notification to an endpoint nobody listens on: an attempt that failed.
    let closed_port = free_port();
    let hook =
        json!({ "webhooks": [{ "url": format!("http://127.0.0.1:{closed_port}/hook"), "secret": new_secret() }] });
    let (status, body) = ghor.put("netwerk", "/v1/registry/organisations/umcg/webhooks", &hook).await;
    assert_eq!(status, 200, "{body}");
    let uitvraag = event(
        "/regions/VR01",
        "nl.ghor.uitvraag.opened.v1",
        Some("metrics-uitvraag"),
        json!({
            "title": "Stroomstoring",
            "area": { "regions": ["VR01"] },
            "asked": [{ "dimension": "beds", "keys": ["ic"] }],
            "deadline": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
        }),
    );
    let (status, body) = ghor.post("im", "/v1/events", &uitvraag).await;
    assert_eq!(status, 201, "{body}");

    // What the scrape must then show, each as soon as it does.
    let expected: &[(&str, &[&str])] = &[
        ("ghor_ingest_events_total", &[r#"outcome="stored""#]),
        ("ghor_ingest_events_total", &[r#"outcome="duplicate""#]),
        ("ghor_ingest_events_total", &[r#"outcome="rejected""#]),
        ("ghor_ingest_duration_seconds", &[r#"kind="single""#]),
        ("ghor_log_append_duration_seconds", &[r#"scope="live""#]),
        ("ghor_log_reachable", &[r#"scope="live""#]),
        ("ghor_log_bytes", &[r#"scope="live""#]),
        ("ghor_reader_position", &[r#"reader="gateway""#, r#"scope="live""#]),
        ("ghor_reader_position", &[r#"reader="projector""#, r#"scope="live""#]),
        ("ghor_reader_position", &[r#"reader="notifier""#, r#"scope="live""#]),
        ("ghor_picture_current", &[r#"scope="live""#]),
        ("ghor_websocket_messages_total", &[r#"kind="snapshot""#]),
        ("ghor_websocket_messages_total", &[r#"kind="delta""#]),
        ("ghor_websocket_messages_total", &[r#"kind="heartbeat""#]),
        ("ghor_websocket_messages_total", &[r#"kind="status""#]),
        ("ghor_websocket_snapshots_total", &[r#"reason="initial""#]),
        ("ghor_websocket_ends_total", &[r#"reason="client_closed""#]),
        ("ghor_push_delay_seconds", &[]),
        ("ghor_notifications_total", &[r#"channel="webhook""#, r#"outcome="mislukt""#]),
        ("ghor_build_info", &[]),
        ("ghor_process_start_time_seconds", &[]),
    ];
    let rejected_for = format!(r#"reason="{refused_for}""#);
    let rejections: (&str, &[&str]) = ("ghor_ingest_rejections_total", &[&rejected_for]);
    let deadline = tokio::time::Instant::now() + DEADLINE;
    let now = loop {
        let now = scrape(&ghor, &metrics_at).await;
        let missing: Vec<_> =
            expected.iter().chain([&rejections]).filter(|(name, labels)| now.value(name, labels) == 0.0).collect();
        if missing.is_empty() {
            break now;
        }
        assert!(tokio::time::Instant::now() < deadline, "no data within {DEADLINE:?} for {missing:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // Exactly the documented metrics, each with the documented type and with samples; the
    // embedded log has no limit but the disk, so no series of its limit.
    let limitless = |name: &str| name == "ghor_log_limit_bytes" && super::BACKEND == Backend::Embedded;
    let documented: BTreeMap<String, String> = documented().into_iter().filter(|(n, _)| !limitless(n)).collect();
    let exported: BTreeMap<&String, &String> = now.types.iter().filter(|(n, _)| n.starts_with("ghor_")).collect();
    let exported_names: BTreeSet<&str> = exported.keys().map(|n| n.as_str()).collect();
    let documented_names: BTreeSet<&str> = documented.keys().map(String::as_str).collect();
    assert_eq!(exported_names, documented_names, "docs/metrics.md and the binary name the same metrics");
    for (name, kind) in &documented {
        assert_eq!(exported[name], kind, "{name} is a {kind}, as documented");
        assert!(now.has_samples(name), "{name} has samples");
    }
    if super::BACKEND == Backend::Production {
        let limit: f64 = limit.parse().expect("a number");
        assert_eq!(now.value("ghor_log_limit_bytes", &[r#"scope="live""#]), limit, "the stream's limit");
    }
    // Caught up, the readers trail by nothing; the clients gauge is back to none.
    for reader in ["gateway", "projector"] {
        let labels = [format!(r#"reader="{reader}""#), r#"scope="live""#.to_owned()];
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        assert!(now.value("ghor_reader_position", &labels) >= 3.0, "the {reader} folded the registry and reports");
    }
    assert_eq!(now.value("ghor_websocket_clients", &[]), 0.0, "the page closed");
    assert_eq!(now.value("ghor_picture_current", &[r#"scope="live""#]), 1.0);
}
