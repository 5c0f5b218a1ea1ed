//! Looking back (issue 13): the picture at a past moment by either clock, over HTTP and
//! with `ghor replay`, checked against folding the log from scratch; visibility applies to
//! the past as to the present; a moment that cannot be read is refused by its field.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use ghor_domain::{Event, Picture, RegionCode, Scope, Stamp};
use ghor_store::EventLog;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use super::start_with_env;
use crate::harness::{wait_for, wait_for_within, Ghor};

const REGION: &str = "VR01";
/// Locations of the generated log, registered an hour before its first report.
const LOCATIONS: [&str; 4] = ["past-a", "past-b", "past-c", "past-d"];

/// The window the generated reports are received in, in milliseconds after the test's
/// start (after ghor's own first events, so that a prefix of the log is received before
/// every moment): short, so the moments lie in the past a few seconds later.
const WINDOW_MS: i64 = 4000;

/// One generated report: what, about which location, and its clocks in milliseconds:
/// `received` after the test's start, `late` how long before that it was observed
/// (negative, a clock slightly ahead).
#[derive(Debug, Clone)]
struct Report {
    kind: u8,
    location: usize,
    value: u32,
    received: i64,
    late: i64,
}

fn report() -> impl Strategy<Value = Report> {
    let late = prop_oneof![6 => 0i64..100, 2 => 100i64..6 * 3_600_000, 1 => -110i64..0];
    (0u8..4, 0..LOCATIONS.len(), 0u32..40, 0..WINDOW_MS, late)
        .prop_map(|(kind, location, value, received, late)| Report { kind, location, value, received, late })
}

fn stored(
    source: &str,
    event_type: &str,
    subject: Option<&str>,
    data: Value,
    time: DateTime<Utc>,
    received: DateTime<Utc>,
) -> Event {
    let region = RegionCode::try_from(REGION).expect("region");
    let stamp = Stamp { region, scope: Scope::Live, actor: "lookback test".into(), received };
    ghor_store::testing::accepted(source, event_type, subject, data, time, stamp)
}

impl Report {
    fn event(&self, start: DateTime<Utc>) -> Event {
        let received = start + Duration::milliseconds(self.received);
        let time = received - Duration::milliseconds(self.late);
        let source = format!("/locations/{}", LOCATIONS[self.location]);
        match self.kind {
            0 | 1 => {
                let subject = if self.kind == 0 { "ic" } else { "ccu" };
                let data = json!({ "operational": 40, "occupied": self.value });
                stored(&source, "nl.ghor.beds.reported.v1", Some(subject), data, time, received)
            }
            2 => {
                let status = ["normaal", "verstoord", "uitgevallen"][self.value as usize % 3];
                let data = json!({ "status": status, "on_backup": status != "normaal" });
                stored(&source, "nl.ghor.utility.reported.v1", Some("stroom"), data, time, received)
            }
            _ => {
                let state = if self.value.is_multiple_of(2) { "actief" } else { "afgeschaald" };
                let data = json!({ "name": "Stroomstoring", "state": state, "grip": self.value % 4, "area": { "regions": [REGION] } });
                stored(
                    &format!("/regions/{REGION}"),
                    "nl.ghor.incident.opened.v1",
                    Some("past-incident"),
                    data,
                    time,
                    received,
                )
            }
        }
    }
}

/// The registrations the generated reports are about, an hour before the window.
fn registrations(start: DateTime<Utc>) -> Vec<Event> {
    let at = start - Duration::hours(1);
    let region = format!("/regions/{REGION}");
    let mut events = vec![stored(
        &region,
        "nl.ghor.organisation.registered.v1",
        Some("past-org"),
        json!({ "name": "Zorggroep Terug" }),
        at,
        at,
    )];
    for (n, id) in LOCATIONS.iter().enumerate() {
        let data = json!({ "name": format!("Locatie {id}"), "organisation": "past-org", "type": "ziekenhuis", "region": REGION, "point": { "lat": 53.2 + n as f64 / 100.0, "lon": 6.5 } });
        events.push(stored(&format!("/locations/{id}"), "nl.ghor.location.registered.v1", None, data, at, at));
    }
    events
}

/// The region's view after folding, in log order, the entries `keep` selects.
fn folded(entries: &[Event], keep: impl Fn(&Event) -> bool) -> Value {
    let mut picture = Picture::default();
    for event in entries.iter().filter(|e| keep(e)) {
        picture.apply(event);
    }
    serde_json::to_value(picture.region_view(RegionCode::try_from(REGION).expect("region"))).expect("view")
}

async fn whole_log(log: &dyn EventLog) -> Vec<Event> {
    let entries = log.read(0, 1_000_000).await.expect("read the log");
    entries.iter().filter_map(|e| Event::from_stored(&e.body).ok()).collect()
}

async fn view_at(ghor: &Ghor, at: DateTime<Utc>, clock: &str) -> Value {
    let at = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (status, body) = ghor.get("im", &format!("/v1/picture/regions/{REGION}?at={at}&clock={clock}")).await;
    assert_eq!(status, 200, "{body}");
    let named = body["at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    assert_eq!(
        named.map(|t| t.with_timezone(&Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
        Some(at.clone()),
        "the answer names its moment"
    );
    assert_eq!(body["clock"], json!(clock));
    body["view"].clone()
}

/// For random logs (reports received out of order, observed late, some hours late, a clock
/// slightly ahead) and random moments: as known at T is the fold of the log's prefix received up
/// to T, as observed at T the fold of every entry observed up to T; projector snapshots
/// every 16 events and the pictures kept for a slider are started from on the way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_picture_at_any_moment_is_the_fold_of_the_log_by_either_clock() {
    let ghor = tokio::sync::Mutex::new(start_with_env(&[("GHOR_SNAPSHOT_EVERY", "16".to_owned())]).await);
    let log = ghor.lock().await.log(Scope::Live).await;
    let start = Utc::now();
    let registered = std::cell::Cell::new(false);
    let handle = tokio::runtime::Handle::current();
    // Cases add to one log, so a failing case is reported as it is, not shrunk.
    let config = Config { cases: 6, failure_persistence: None, max_shrink_iters: 0, ..Config::default() };
    let mut runner = TestRunner::new(config);
    let case = (proptest::collection::vec(report(), 10..40), proptest::collection::vec(-1000..WINDOW_MS + 1000, 8));
    let checked = tokio::task::block_in_place(|| {
        runner.run(&case, |(reports, moments)| {
            handle.block_on(async {
                // Each case adds to the same log: the properties hold of the log as it is.
                // The reports carry their own clocks, so they are appended beside ghor, as
                // another process would; the embedded log takes appends from one process
                // at a time, so ghor is stopped meanwhile.
                let mut events: Vec<Event> = reports.iter().map(|r| r.event(start)).collect();
                if !registered.replace(true) {
                    events.splice(0..0, registrations(start));
                }
                let mut ghor = ghor.lock().await;
                ghor.terminate().await;
                let appended = log.append(&events).await;
                assert!(appended.iter().all(Result::is_ok), "{appended:?}");
                ghor.start_again().await;
                let last = start + Duration::milliseconds(WINDOW_MS + 1000);
                wait_for_within(std::time::Duration::from_secs(10), "the moments are past", async || Utc::now() > last)
                    .await;
                // The picture at `at` folded from `entries`: as known, the prefix that ends
                // before the first entry received after the moment; as observed, what was
                // observed by then.
                let fold = |entries: &[Event], at: DateTime<Utc>, clock| match clock {
                    "known" => {
                        let prefix = entries.iter().take_while(|e| e.stamp.received <= at).count();
                        folded(&entries[..prefix], |_| true)
                    }
                    _ => folded(entries, |e| e.time <= at),
                };
                for offset in &moments {
                    let at = start + Duration::milliseconds(*offset);
                    for clock in ["known", "observed"] {
                        // ghor's overdue scheduler may add to the log meanwhile (a location
                        // past its interval): the answer is the fold of the log as it was at
                        // some point while it was asked, before or after such an addition.
                        let before = whole_log(&*log).await;
                        let view = view_at(&ghor, at, clock).await;
                        let after = whole_log(&*log).await;
                        if view != fold(&before, at, clock) {
                            assert_eq!(view, fold(&after, at, clock), "as {clock} at {at}");
                        }
                    }
                }
            });
            Ok(())
        })
    });
    checked.unwrap_or_else(|e| panic!("{e}"));
    // Snapshots were there to start from.
    let stores = ghor.lock().await.stores().await;
    assert!(
        stores.read_model.snapshot(Scope::Live, log.epoch(), u64::MAX).await.expect("snapshot").is_some(),
        "the projector kept snapshots to look back from"
    );
}

/// Before an incident was opened the region had none; the answer says what moment and
/// which clock it is, and a report that arrived late shows only as observed.
#[tokio::test]
async fn a_region_before_an_incident_and_a_late_report() {
    let ghor = super::start().await;
    let before = Utc::now();
    wait_for(async || Utc::now() > before + Duration::milliseconds(5)).await;
    let opened = crate::harness::event(
        "/regions/VR01",
        "nl.ghor.incident.opened.v1",
        Some("brand-noord"),
        json!({ "name": "Brand Noord", "state": "actief", "grip": 2, "area": { "regions": ["VR01"] } }),
    );
    let (status, body) = ghor.post("im", "/v1/events", &opened).await;
    assert_eq!(status, 201, "{body}");
    // A report observed before the incident, that arrives after it.
    let mut late = crate::harness::event(
        "/locations/umcg",
        "nl.ghor.beds.reported.v1",
        Some("ic"),
        json!({ "operational": 30, "occupied": 29 }),
    );
    late["time"] = json!(before.to_rfc3339());
    let (status, body) = ghor.post("umcg", "/v1/events", &late).await;
    assert_eq!(status, 201, "{body}");

    let known = view_at(&ghor, before, "known").await;
    assert_eq!(known["incidents"], json!({}), "no incident before it was opened");
    assert!(known["locations"]["umcg"]["dimensions"].get("beds").is_none(), "the late report was not known then");
    let observed = view_at(&ghor, before, "observed").await;
    assert_eq!(observed["incidents"], json!({}));
    assert_eq!(
        observed["locations"]["umcg"]["dimensions"]["beds"]["values"]["ic"]["data"]["occupied"], 29,
        "{observed}"
    );
    let now = view_at(&ghor, Utc::now() - Duration::milliseconds(1), "known").await;
    assert_eq!(now["incidents"]["brand-noord"]["grip"], 2);

    // The whole picture and a location, at the same moment.
    let at = before.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (status, whole) = ghor.get("im", &format!("/v1/picture?at={at}")).await;
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["regions"]["VR01"]["view"]["incidents"], json!({}));
    let (status, umcg) = ghor.get("im", &format!("/v1/picture/locations/umcg?at={at}&clock=observed")).await;
    assert_eq!(status, 200, "{umcg}");
    assert_eq!(umcg["location"]["dimensions"]["beds"]["values"]["ic"]["data"]["occupied"], 29, "{umcg}");

    // From a terminal.
    let text = replay(&ghor, &["--at", &at, "--observed"]).await;
    assert!(text.contains("as observed"), "{text}");
    assert!(text.contains("Locatie umcg (umcg)"), "{text}");
    assert!(!text.contains("Brand Noord"), "{text}");
    let answer: Value =
        serde_json::from_str(&replay(&ghor, &["--at", &at, "--json"]).await).expect("--json prints the answer");
    assert_eq!(answer["clock"], "known");
}

/// `ghor replay` of VR01 as the informatiemanager; its standard output.
async fn replay(ghor: &Ghor, args: &[&str]) -> String {
    let out = tokio::process::Command::new(crate::harness::BIN)
        .args(["replay", "--url", &ghor.url, "--token", ghor.token("im"), "--region", "VR01"])
        .args(args)
        .output()
        .await
        .expect("run ghor replay");
    assert!(out.status.success(), "ghor replay {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

/// What a role may not see now it may not see of the past either: a ketenpartner gets
/// totals and no locations, an informatiemanager of another region gets a 403.
#[tokio::test]
async fn visibility_applies_to_the_past() {
    let ghor = super::start().await;
    ghor.report_beds("umcg", "umcg", 30, 10).await;
    let at = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    wait_for(async || Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true) > at).await;
    let path = format!("/v1/picture/regions/VR01?at={at}");
    let (status, keten) = ghor.get("keten", &path).await;
    assert_eq!(status, 200, "{keten}");
    assert_eq!(keten["view"]["locations"], json!({}), "a ketenpartner sees no locations of the past either");
    let (status, im) = ghor.get("im", &path).await;
    assert_eq!(status, 200, "{im}");
    assert_eq!(im["view"]["locations"]["umcg"]["dimensions"]["beds"]["values"]["ic"]["data"]["occupied"], 10);
    let (status, other) = ghor.get("im2", &path).await;
    assert_eq!(status, 403, "{other}");
    let (status, other) = ghor.get("im2", &format!("/v1/picture/locations/umcg?at={at}")).await;
    assert_eq!(status, 403, "{other}");
}

/// A moment that cannot be read is refused by its field, with a stable code.
#[tokio::test]
async fn a_moment_that_cannot_be_read_is_refused_by_its_field() {
    let ghor = super::start().await;
    let ahead = (Utc::now() + Duration::hours(2)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let cases: BTreeMap<&str, (String, &str)> = BTreeMap::from([
        ("not a moment", ("at=gisteren".to_owned(), "not_a_timestamp")),
        ("no offset", ("at=2026-11-22T14:00:00".to_owned(), "not_a_timestamp")),
        ("ahead", (format!("at={ahead}"), "in_the_future")),
        ("unknown clock", ("at=2026-11-22T14:00:00Z&clock=gisteren".to_owned(), "not_in_vocabulary")),
        ("clock alone", ("clock=observed".to_owned(), "malformed")),
    ]);
    for (what, (query, code)) in cases {
        let (status, body) = ghor.get("im", &format!("/v1/picture/regions/VR01?{query}")).await;
        assert_eq!(status, 400, "{what}: {body}");
        let field = if query.starts_with("clock") || query.contains("clock=gisteren") { "clock" } else { "at" };
        assert_eq!(body["errors"][0]["field"], field, "{what}: {body}");
        assert_eq!(body["errors"][0]["code"], code, "{what}: {body}");
    }
    let (status, body) = ghor.get("im", "/v1/picture/regions/VR01?at=2026-11-22T14:00:00Z&extra=1").await;
    assert_eq!(status, 400, "an unknown parameter: {body}");
    assert_eq!(body["errors"][0]["field"], "extra", "{body}");
}

/// A location's timeline of one dimension: every value oldest first, a late report and a
/// withdrawn one marked, the state by the region's thresholds; as JSON and as CSV; only
/// for who may see the location.
#[tokio::test]
async fn a_location_timeline_marks_late_and_withdrawn_values() {
    let ghor = super::start().await;
    let report = |minutes_ago: i64, occupied: u32| {
        let mut e = crate::harness::event(
            "/locations/umcg",
            "nl.ghor.beds.reported.v1",
            Some("ic"),
            json!({ "operational": 30, "occupied": occupied }),
        );
        e["time"] = json!((Utc::now() - Duration::minutes(minutes_ago)).to_rfc3339());
        e
    };
    let mut ids = Vec::new();
    for (minutes_ago, occupied) in [(30, 10), (3, 29), (60, 5)] {
        let (status, body) = ghor.post("umcg", "/v1/events", &report(minutes_ago, occupied)).await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().expect("id").to_owned());
    }
    let power = crate::harness::event(
        "/locations/umcg",
        "nl.ghor.utility.reported.v1",
        Some("stroom"),
        json!({ "status": "normaal" }),
    );
    assert_eq!(ghor.post("umcg", "/v1/events", &power).await.0, 201);
    let retract = crate::harness::event(
        "/locations/umcg",
        "nl.ghor.observation.retracted.v1",
        None,
        json!({ "event_id": ids[0] }),
    );
    let (status, body) = ghor.post("umcg", "/v1/events", &retract).await;
    assert_eq!(status, 201, "{body}");

    let path = "/v1/picture/locations/umcg/timeline?dimension=beds";
    let mut timeline = Value::Null;
    wait_for(async || {
        timeline = ghor.get("im", path).await.1;
        timeline["points"].as_array().is_some_and(|p| p.iter().any(|p| p["retracted"] == true))
    })
    .await;
    let points = timeline["points"].as_array().expect("points");
    let occupied: Vec<&Value> = points.iter().map(|p| &p["data"]["occupied"]).collect();
    assert_eq!(occupied, [5, 10, 29], "oldest observation first: {timeline}");
    assert_eq!(points[0]["late"], true, "observed an hour before it came: {timeline}");
    assert_eq!(points[2]["late"], false, "{timeline}");
    assert_eq!(points[1]["retracted"], true, "{timeline}");
    assert_eq!(points[2]["state"], "aandacht", "1 free IC bed: {timeline}");
    assert_eq!(points[2]["actor"], "UMCG ZIS");
    assert!(points.iter().all(|p| p["key"] == "ic"), "no other dimension: {timeline}");

    let from = (Utc::now() - Duration::minutes(45)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, window) = ghor.get("im", &format!("{path}&from={from}")).await;
    assert_eq!(status, 200, "{window}");
    assert_eq!(window["points"].as_array().map(Vec::len), Some(2), "{window}");

    let response = ghor
        .http
        .get(format!("{}/v1/picture/locations/umcg/timeline.csv?dimension=beds", ghor.url))
        .bearer_auth(ghor.token("im"))
        .send()
        .await
        .expect("csv");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap_or("").starts_with("text/csv"));
    let csv = response.text().await.expect("csv text");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "a header and three rows: {csv}");
    assert_eq!(lines[0], "key,time,received,delay_seconds,late,retracted,state,actor,bron,occupied,operational");
    assert!(lines[1].starts_with("ic,") && lines[1].contains(",true,false,") && lines[1].ends_with(",5,30"), "{csv}");

    for (token, status) in [("keten", 403), ("im2", 403), ("rot", 200)] {
        assert_eq!(ghor.get(token, path).await.0, status, "{token}");
    }
    let (status, body) = ghor.get("im", "/v1/picture/locations/umcg/timeline?dimension=bedden").await;
    assert_eq!(
        (status, &body["errors"][0]["field"], &body["errors"][0]["code"]),
        (400, &json!("dimension"), &json!("not_in_vocabulary")),
        "{body}"
    );
    let (status, body) = ghor.get("im", &format!("{path}&from=gisteren")).await;
    assert_eq!((status, &body["errors"][0]["field"]), (400, &json!("from")), "{body}");
    let (status, body) = ghor.get("im", "/v1/picture/locations/umcg/timeline").await;
    assert_eq!(status, 400, "no dimension: {body}");
}
