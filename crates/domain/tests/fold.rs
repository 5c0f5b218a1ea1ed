//! The fold as the people watching a region observe it: given these events, when they are
//! folded, then the picture (and the region's view) shows this. The events are built the
//! way the server builds them: client JSON through `Submission::parse` and `accept`.
//!
//! The property tests at the end check what the fold promises: the picture does not depend
//! on arrival order, on how the log is cut into batches, or on repeated delivery.

use chrono::{DateTime, Duration, Utc};
use ghor_domain::condition::Conditions;
use ghor_domain::view::{LocationView, ValueView};
use ghor_domain::vocab::{SubscriptionKind, ThresholdKey};
use ghor_domain::{Dimension, Event, Picture, RegionCode, RegionView, Scope, Slug, Stamp, State, Submission};
use serde_json::{json, Value};

// ---------- the world ----------

struct Location {
    slug: &'static str,
    name: &'static str,
    organisation: &'static str,
    kind: &'static str,
    region: &'static str,
    municipality: &'static str,
    lat: f64,
    lon: f64,
}

#[rustfmt::skip]
const LOCATIONS: &[Location] = &[
    Location { slug: "umcg", name: "UMCG", organisation: "umcg", kind: "ziekenhuis", region: "VR01", municipality: "Groningen", lat: 53.2225, lon: 6.5763 },
    Location { slug: "martini", name: "Martini Ziekenhuis", organisation: "martini", kind: "ziekenhuis", region: "VR01", municipality: "Groningen", lat: 53.1806, lon: 6.5906 },
    Location { slug: "ommelander", name: "Ommelander Ziekenhuis Groningen", organisation: "ozg", kind: "ziekenhuis", region: "VR01", municipality: "Midden-Groningen", lat: 53.1700, lon: 6.9700 },
    Location { slug: "de-hooge-weyert", name: "De Hooge Weyert", organisation: "zorggroep-eemsdelta", kind: "verpleeg_verzorgingshuis", region: "VR01", municipality: "Eemsdelta", lat: 53.3300, lon: 6.9100 },
    Location { slug: "zonnehuis", name: "Zonnehuis Beatrixoord", organisation: "zonnehuisgroep", kind: "verpleeg_verzorgingshuis", region: "VR01", municipality: "Groningen", lat: 53.1720, lon: 6.6050 },
    Location { slug: "mcl", name: "Medisch Centrum Leeuwarden", organisation: "mcl", kind: "ziekenhuis", region: "VR02", municipality: "Leeuwarden", lat: 53.1860, lon: 5.8000 },
];

fn location(slug: &str) -> &'static Location {
    LOCATIONS.iter().find(|l| l.slug == slug).unwrap_or_else(|| panic!("no test location {slug}"))
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("valid test timestamp").with_timezone(&Utc)
}

/// `"10:05"` on the test day, in UTC.
fn at(hhmm: &str) -> String {
    format!("2026-11-22T{hhmm}:00Z")
}

fn region(code: &str) -> RegionCode {
    RegionCode::try_from(code).expect("test region code")
}

fn slug(s: &str) -> Slug {
    Slug::try_from(s).expect("test slug")
}

/// Parses and accepts a client event as the server would: received one minute after its
/// time, stamped with the region of its source.
fn event(v: Value) -> Event {
    let time = utc(v["time"].as_str().expect("test events carry a time"));
    let source = v["source"].as_str().expect("test events carry a source");
    let stamp_region = match source.strip_prefix("/regions/") {
        Some(code) => code,
        None => location(source.trim_start_matches("/locations/")).region,
    };
    let stamp = Stamp {
        region: region(stamp_region),
        scope: Scope::Live,
        actor: "test".into(),
        received: time + Duration::minutes(1),
    };
    Submission::parse(v.clone())
        .and_then(|s| s.accept(stamp))
        .unwrap_or_else(|e| panic!("test event refused: {e}\n{v:#}"))
}

/// A status report (or any other location event) of `type_stem`, e.g. `beds.reported`.
fn report(loc: &str, type_stem: &str, subject: Option<&str>, hhmm: &str, data: Value) -> Event {
    let mut v = json!({
        "specversion": "1.0",
        "source": format!("/locations/{loc}"),
        "type": format!("nl.ghor.{type_stem}.v1"),
        "time": at(hhmm),
        "data": data,
    });
    if let Some(s) = subject {
        v["subject"] = s.into();
    }
    event(v)
}

fn region_event(code: &str, type_stem: &str, subject: &str, hhmm: &str, data: Value) -> Event {
    event(json!({
        "specversion": "1.0",
        "source": format!("/regions/{code}"),
        "type": format!("nl.ghor.{type_stem}.v1"),
        "subject": subject,
        "time": at(hhmm),
        "data": data,
    }))
}

fn registered(loc: &str) -> Event {
    registered_with(loc, "06:00", 1440, 60)
}

fn registered_with(loc: &str, hhmm: &str, cold: u32, warm: u32) -> Event {
    let l = location(loc);
    // A fixed id, so that two worlds built from the same registrations are equal.
    let index = LOCATIONS.iter().position(|x| x.slug == loc).unwrap_or_default() as u128;
    let minutes: u128 = hhmm.split(':').map(|p| p.parse::<u128>().expect("hh:mm")).fold(0, |acc, p| acc * 60 + p);
    let id = uuid::Uuid::from_u128((index + 1) << 96 | minutes << 64 | u128::from(cold) << 32 | u128::from(warm));
    event(json!({
        "specversion": "1.0",
        "id": id.to_string(),
        "source": format!("/locations/{loc}"),
        "type": "nl.ghor.location.registered.v1",
        "time": at(hhmm),
        "data": {
            "name": l.name,
            "organisation": l.organisation,
            "type": l.kind,
            "region": l.region,
            "municipality": l.municipality,
            "point": { "lat": l.lat, "lon": l.lon },
            "report_interval_cold_minutes": cold,
            "report_interval_warm_minutes": warm,
        },
    }))
}

fn beds(loc: &str, key: &str, hhmm: &str, operational: u32, occupied: u32) -> Event {
    report(loc, "beds.reported", Some(key), hhmm, json!({ "operational": operational, "occupied": occupied }))
}

fn retraction(loc: &str, hhmm: &str, of: &Event) -> Event {
    report(
        loc,
        "observation.retracted",
        None,
        hhmm,
        json!({ "event_id": of.id.to_string(), "reason": "verkeerd ingevuld" }),
    )
}

/// The same event delivered again, later.
fn redelivered(e: &Event, minutes_later: i64) -> Event {
    let mut again = e.clone();
    again.stamp.received += Duration::minutes(minutes_later);
    again
}

fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Picture {
    let mut p = Picture::default();
    for e in events {
        p.apply(e);
    }
    p
}

/// The registrations of every test location, so views show them.
fn registrations() -> Vec<Event> {
    LOCATIONS.iter().map(|l| registered(l.slug)).collect()
}

/// Registrations followed by `events`.
fn world(events: &[Event]) -> Picture {
    let mut all = registrations();
    all.extend_from_slice(events);
    fold(&all)
}

fn vr01(p: &Picture) -> RegionView {
    p.region_view(region("VR01"))
}

fn loc<'a>(view: &'a RegionView, slug_: &str) -> &'a LocationView {
    view.locations.get(&slug(slug_)).unwrap_or_else(|| panic!("{slug_} not in the view of {}", view.region))
}

fn value<'a>(view: &'a RegionView, slug_: &str, dim: Dimension, key: &str) -> &'a ValueView {
    loc(view, slug_)
        .dimensions
        .get(&dim)
        .and_then(|d| d.values.get(key))
        .unwrap_or_else(|| panic!("{slug_} has no {dim}/{key}"))
}

fn state(view: &RegionView, slug_: &str, dim: Dimension, key: &str) -> Option<State> {
    value(view, slug_, dim, key).state
}

// ---------- newest wins ----------

#[test]
fn the_newest_observation_is_shown_whatever_order_they_arrive_in() {
    let morning = beds("umcg", "ic", "09:00", 42, 30);
    let noon = beds("umcg", "ic", "12:00", 42, 41);
    let in_order = world(&[morning.clone(), noon.clone()]);
    let reversed = world(&[noon.clone(), morning]);
    assert_eq!(in_order, reversed);
    let shown = value(&vr01(&in_order), "umcg", Dimension::Beds, "ic").clone();
    assert_eq!(shown.time, utc(&at("12:00")));
    assert_eq!(shown.id, noon.id);
    assert_eq!(shown.data["occupied"], 41);
}

#[test]
fn an_older_observation_arriving_late_does_not_overwrite_the_current_one() {
    let current = beds("umcg", "ic", "12:00", 42, 41);
    // Phoned in at 09:00, entered into ghor only in the afternoon.
    let mut late = beds("umcg", "ic", "09:00", 42, 20);
    late.stamp.received = utc(&at("15:30"));
    let view = vr01(&world(&[current.clone(), late]));
    let shown = value(&view, "umcg", Dimension::Beds, "ic");
    assert_eq!(shown.id, current.id);
    assert_eq!(shown.data["occupied"], 41);
}

#[test]
fn observations_of_different_keys_and_locations_are_kept_apart() {
    let view = vr01(&world(&[
        beds("umcg", "ic", "09:00", 42, 30),
        beds("umcg", "klinisch", "09:30", 300, 250),
        beds("martini", "ic", "10:00", 12, 4),
    ]));
    assert_eq!(value(&view, "umcg", Dimension::Beds, "ic").data["occupied"], 30);
    assert_eq!(value(&view, "umcg", Dimension::Beds, "klinisch").data["occupied"], 250);
    assert_eq!(value(&view, "martini", Dimension::Beds, "ic").data["occupied"], 4);
}

#[test]
fn the_same_event_delivered_twice_changes_nothing() {
    let report = beds("umcg", "ic", "10:00", 42, 39);
    let once = world(std::slice::from_ref(&report));
    let twice = world(&[report.clone(), redelivered(&report, 5)]);
    assert_eq!(once, twice);
    // Also after a newer report: the redelivered old one does not come back.
    let newer = beds("umcg", "ic", "11:00", 42, 20);
    assert_eq!(world(&[report.clone(), newer.clone()]), world(&[report.clone(), newer, redelivered(&report, 90)]));
}

// ---------- retraction ----------

#[test]
fn retracting_the_current_value_shows_it_retracted_and_unknown() {
    let mistaken = beds("umcg", "ic", "10:00", 42, 42);
    let before = vr01(&world(std::slice::from_ref(&mistaken)));
    assert_eq!(state(&before, "umcg", Dimension::Beds, "ic"), Some(State::Kritiek));

    let view = vr01(&world(&[mistaken.clone(), retraction("umcg", "10:05", &mistaken)]));
    let shown = value(&view, "umcg", Dimension::Beds, "ic");
    assert!(shown.retracted);
    assert_eq!(shown.state, Some(State::Onbekend));
    assert_eq!(loc(&view, "umcg").dimensions[&Dimension::Beds].state, Some(State::Onbekend));
    assert!(!view.alerts.contains_key("umcg/beds/ic"), "a retracted value raises no alert");
    assert!(!view.totals.beds.contains_key(&ghor_domain::vocab::BedType::Ic), "a retracted value does not count");
}

#[test]
fn a_retraction_arriving_before_the_observation_still_retracts_it() {
    let mistaken = beds("umcg", "ic", "10:00", 42, 42);
    let view = vr01(&world(&[retraction("umcg", "10:05", &mistaken), mistaken]));
    assert!(value(&view, "umcg", Dimension::Beds, "ic").retracted);
}

#[test]
fn a_new_report_after_a_retraction_is_shown_normally() {
    let mistaken = beds("umcg", "ic", "10:00", 42, 42);
    let view =
        vr01(&world(&[mistaken.clone(), retraction("umcg", "10:05", &mistaken), beds("umcg", "ic", "10:10", 42, 30)]));
    let shown = value(&view, "umcg", Dimension::Beds, "ic");
    assert!(!shown.retracted);
    assert_eq!(shown.state, Some(State::Goed));
}

#[test]
fn retracting_an_older_observation_leaves_the_current_one_alone() {
    let old = beds("umcg", "ic", "09:00", 42, 42);
    let view = vr01(&world(&[old.clone(), beds("umcg", "ic", "10:00", 42, 30), retraction("umcg", "10:05", &old)]));
    let shown = value(&view, "umcg", Dimension::Beds, "ic");
    assert!(!shown.retracted);
    assert_eq!(shown.state, Some(State::Goed));
}

// ---------- states per rule ----------

#[test]
fn ic_beds_with_no_free_bed_are_critical_and_raise_an_alert() {
    let view = vr01(&world(&[beds("umcg", "ic", "10:00", 42, 42)]));
    assert_eq!(state(&view, "umcg", Dimension::Beds, "ic"), Some(State::Kritiek));
    let alert = view.alerts.get("umcg/beds/ic").expect("alert umcg/beds/ic");
    assert_eq!(alert.state, State::Kritiek);
    assert_eq!(alert.location, Some(slug("umcg")));
    assert_eq!(alert.dimension, Some(Dimension::Beds));
    assert_eq!(alert.key.as_deref(), Some("ic"));
    assert_eq!(alert.since, utc(&at("10:00")));
    assert!(!alert.acknowledged);
    // With no IC bed free in the whole region, the region raises its own alert too.
    assert!(view.alerts.contains_key("VR01/beds/ic"));
}

#[test]
fn free_beds_at_or_below_the_attention_line_need_attention() {
    let view = vr01(&world(&[
        beds("umcg", "ic", "10:00", 42, 40),
        beds("umcg", "klinisch", "10:00", 300, 200),
        beds("martini", "nicu", "10:00", 0, 0),
    ]));
    assert_eq!(state(&view, "umcg", Dimension::Beds, "ic"), Some(State::Aandacht));
    assert_eq!(state(&view, "umcg", Dimension::Beds, "klinisch"), Some(State::Goed));
    assert_eq!(
        state(&view, "martini", Dimension::Beds, "nicu"),
        Some(State::Goed),
        "no beds in operation is not a shortage"
    );
    assert_eq!(
        loc(&view, "umcg").dimensions[&Dimension::Beds].state,
        Some(State::Aandacht),
        "a dimension shows its worst value"
    );
}

#[test]
fn a_scheduled_stop_needs_attention_but_raises_no_alert() {
    let view = vr01(&world(&[report(
        "ommelander",
        "acute_function.reported",
        Some("acute_verloskunde"),
        "16:45",
        json!({ "status": "gepland", "expected_end": at("23:00") }),
    )]));
    assert_eq!(state(&view, "ommelander", Dimension::AcuteFunction, "acute_verloskunde"), Some(State::Aandacht));
    assert!(view.alerts.is_empty(), "unexpected alerts: {:?}", view.alerts);
    assert!(view.totals.acute_function_stops.is_empty());
}

#[test]
fn a_stopped_acute_function_is_critical_with_an_alert() {
    let view =
        vr01(&world(&[report("umcg", "acute_function.reported", Some("seh"), "16:45", json!({ "status": "stop" }))]));
    assert_eq!(state(&view, "umcg", Dimension::AcuteFunction, "seh"), Some(State::Kritiek));
    assert!(view.alerts.contains_key("umcg/acute_function/seh"));
}

#[test]
fn supplies_are_judged_by_days_of_supply() {
    let supplies = |key: &str, on_hand: u32, daily_use: u32| {
        report("umcg", "supplies.reported", Some(key), "09:00", json!({ "on_hand": on_hand, "daily_use": daily_use }))
    };
    let view = vr01(&world(&[
        supplies("zuurstof", 1000, 100),    // 10 days
        supplies("ffp2", 500, 100),         // 5 days
        supplies("handschoenen", 150, 100), // 1.5 days
        supplies("voeding", 0, 0),          // nothing used
    ]));
    assert_eq!(state(&view, "umcg", Dimension::Supplies, "zuurstof"), Some(State::Goed));
    assert_eq!(state(&view, "umcg", Dimension::Supplies, "ffp2"), Some(State::Aandacht));
    assert_eq!(state(&view, "umcg", Dimension::Supplies, "handschoenen"), Some(State::Kritiek));
    assert_eq!(state(&view, "umcg", Dimension::Supplies, "voeding"), Some(State::Goed));
    assert!(view.alerts.contains_key("umcg/supplies/handschoenen"));
    assert_eq!(view.totals.supplies_under_line, 1);
    assert_eq!(view.totals.min_supply_days[&ghor_domain::vocab::Supply::Handschoenen].days, 1.5);
}

#[test]
fn a_utility_down_without_backup_is_critical() {
    let utility = |key: &str, data: Value| report("ommelander", "utility.reported", Some(key), "13:40", data);
    let view = vr01(&world(&[
        utility("stroom", json!({ "status": "uitgevallen" })),
        utility("water", json!({ "status": "uitgevallen", "on_backup": true, "backup_hours_left": 36 })),
        utility("verwarming", json!({ "status": "uitgevallen", "on_backup": true, "backup_hours_left": 6 })),
        utility("internet", json!({ "status": "verstoord", "cause": "cyberincident" })),
        utility("gas", json!({ "status": "normaal" })),
    ]));
    assert_eq!(state(&view, "ommelander", Dimension::Utility, "stroom"), Some(State::Kritiek));
    assert_eq!(state(&view, "ommelander", Dimension::Utility, "water"), Some(State::Aandacht));
    assert_eq!(
        state(&view, "ommelander", Dimension::Utility, "verwarming"),
        Some(State::Kritiek),
        "backup running out"
    );
    assert_eq!(state(&view, "ommelander", Dimension::Utility, "internet"), Some(State::Aandacht));
    assert_eq!(state(&view, "ommelander", Dimension::Utility, "gas"), Some(State::Goed));
    assert!(view.alerts.contains_key("ommelander/utility/stroom"));
    assert_eq!(view.totals.utilities_down, 1, "counted per location");
}

#[test]
fn a_note_is_information_without_a_state() {
    let view = vr01(&world(&[report(
        "umcg",
        "note.reported",
        None,
        "14:20",
        json!({ "text": "Toestroom SEH na ongeval A7" }),
    )]));
    assert_eq!(state(&view, "umcg", Dimension::Note, "-"), None);
    assert_eq!(loc(&view, "umcg").dimensions[&Dimension::Note].state, None);
}

// ---------- thresholds and acknowledgements ----------

#[test]
fn a_threshold_event_changes_the_state_in_its_region_only() {
    // 3 free: above the default attention line (2).
    let reports = [beds("umcg", "ic", "10:00", 10, 7), beds("mcl", "ic", "10:00", 10, 7)];
    let before = world(&reports);
    assert_eq!(state(&vr01(&before), "umcg", Dimension::Beds, "ic"), Some(State::Goed));

    let mut events = reports.to_vec();
    events.push(region_event("VR01", "threshold.set", "beds_free_attention", "10:30", json!({ "value": 4 })));
    let after = world(&events);
    let view = vr01(&after);
    assert_eq!(state(&view, "umcg", Dimension::Beds, "ic"), Some(State::Aandacht));
    assert_eq!(view.thresholds[&ghor_domain::vocab::ThresholdKey::BedsFreeAttention], 4);
    let fryslan = after.region_view(region("VR02"));
    assert_eq!(state(&fryslan, "mcl", Dimension::Beds, "ic"), Some(State::Goed));
}

#[test]
fn the_newest_threshold_is_in_force() {
    let events = [
        beds("umcg", "ic", "10:00", 10, 7),
        region_event("VR01", "threshold.set", "beds_free_attention", "11:00", json!({ "value": 2 })),
        region_event("VR01", "threshold.set", "beds_free_attention", "10:30", json!({ "value": 4 })),
    ];
    assert_eq!(state(&vr01(&world(&events)), "umcg", Dimension::Beds, "ic"), Some(State::Goed));
}

#[test]
fn acknowledging_an_alert_marks_it_and_a_newer_critical_report_unmarks_it() {
    let first = beds("umcg", "ic", "10:00", 42, 42);
    let ack = region_event("VR01", "alert.acknowledged", "umcg/beds/ic", "10:05", json!({ "note": "LCPS gebeld" }));
    let acknowledged = vr01(&world(&[first.clone(), ack.clone()]));
    assert!(acknowledged.alerts["umcg/beds/ic"].acknowledged);
    assert!(!acknowledged.alerts["VR01/beds/ic"].acknowledged, "acknowledging one alert leaves the others");

    let still_full = beds("umcg", "ic", "10:30", 42, 42);
    let view = vr01(&world(&[first, ack, still_full]));
    let alert = &view.alerts["umcg/beds/ic"];
    assert!(!alert.acknowledged);
    assert_eq!(alert.since, utc(&at("10:30")));
}

#[test]
fn an_acknowledgement_older_than_the_alert_does_not_count() {
    let view = vr01(&world(&[
        region_event("VR01", "alert.acknowledged", "umcg/beds/ic", "09:00", json!({})),
        beds("umcg", "ic", "10:00", 42, 42),
    ]));
    assert!(!view.alerts["umcg/beds/ic"].acknowledged);
}

#[test]
fn an_alert_names_the_threshold_it_crossed_and_who_acknowledged_it_when() {
    let full = beds("umcg", "ic", "10:00", 42, 42);
    let view = vr01(&world(std::slice::from_ref(&full)));
    let alert = &view.alerts["umcg/beds/ic"];
    assert_eq!(alert.threshold, Some(ThresholdKey::BedsFreeCritical));
    assert_eq!(view.thresholds[&ThresholdKey::BedsFreeCritical], 0, "the rule's value is in the same view");
    assert_eq!(view.alerts["VR01/beds/ic"].threshold, Some(ThresholdKey::RegionIcFreeCritical));
    assert_eq!((alert.acknowledged_by.as_deref(), alert.acknowledged_at), (None, None));

    let ack = region_event("VR01", "alert.acknowledged", "umcg/beds/ic", "10:05", json!({}));
    let view = vr01(&world(&[full, ack]));
    let alert = &view.alerts["umcg/beds/ic"];
    assert_eq!(alert.acknowledged_by.as_deref(), Some("test"));
    assert_eq!(alert.acknowledged_at, Some(utc(&at("10:05"))));
}

#[test]
fn a_value_judged_by_its_own_nature_names_no_threshold() {
    let stop = report("umcg", "acute_function.reported", Some("seh"), "11:00", json!({ "status": "stop" }));
    let view = vr01(&world(&[stop]));
    assert_eq!(view.alerts["umcg/acute_function/seh"].threshold, None);
}

#[test]
fn staff_shortage_is_graded_by_its_size() {
    let staffing = |shifts: u32, absence: Option<u32>| {
        let mut data = json!({ "unfilled_shifts_24h": shifts });
        if let Some(p) = absence {
            data["absence_percent"] = json!(p);
        }
        let view = vr01(&world(&[report("zonnehuis", "staffing.reported", Some("verzorgende"), "10:00", data)]));
        let v = value(&view, "zonnehuis", Dimension::Staffing, "verzorgende");
        (v.state, v.threshold)
    };
    assert_eq!(staffing(1, None), (Some(State::Goed), None), "one open shift is ordinary life");
    assert_eq!(staffing(2, None), (Some(State::Aandacht), Some(ThresholdKey::UnfilledShiftsAttention)));
    assert_eq!(staffing(5, None), (Some(State::Kritiek), Some(ThresholdKey::UnfilledShiftsCritical)));
    assert_eq!(staffing(0, Some(12)), (Some(State::Aandacht), Some(ThresholdKey::AbsencePercentAttention)));
    assert_eq!(staffing(2, Some(30)), (Some(State::Kritiek), Some(ThresholdKey::AbsencePercentCritical)));
}

#[test]
fn only_a_help_request_of_very_high_urgency_is_critical() {
    let help = |urgency: &str| {
        let data = json!({ "category": "middelen", "urgency": urgency, "text": "Zandzakken" });
        let view = vr01(&world(&[report("zonnehuis", "help_request.opened", Some("zand"), "10:00", data)]));
        (
            state(&view, "zonnehuis", Dimension::HelpRequest, "zand"),
            view.alerts.contains_key("zonnehuis/help_request/zand"),
        )
    };
    assert_eq!(help("hoog"), (Some(State::Aandacht), false));
    assert_eq!(help("zeer_hoog"), (Some(State::Kritiek), true));
}

// ---------- overdue ----------

fn overdue(loc: &str, due: &str) -> Event {
    report(loc, "report.overdue", None, due, json!({ "due": at(due), "interval_minutes": 120 }))
}

#[test]
fn a_missed_report_makes_the_location_overdue_with_an_alert() {
    let view = vr01(&world(&[beds("umcg", "ic", "09:00", 42, 30), overdue("umcg", "12:00")]));
    assert_eq!(loc(&view, "umcg").overdue_since, Some(utc(&at("12:00"))));
    let alert = view.alerts.get("umcg/report_overdue").expect("overdue alert");
    assert_eq!(alert.state, State::Aandacht);
    assert_eq!(alert.since, utc(&at("12:00")));
    assert_eq!(alert.dimension, None);
    assert_eq!(view.totals.not_reporting, 1);
}

#[test]
fn a_newer_report_clears_the_overdue_state() {
    let view = vr01(&world(&[
        beds("umcg", "ic", "09:00", 42, 30),
        overdue("umcg", "12:00"),
        beds("umcg", "ic", "12:20", 42, 31),
    ]));
    assert_eq!(loc(&view, "umcg").overdue_since, None);
    assert!(!view.alerts.contains_key("umcg/report_overdue"));
    assert_eq!(view.totals.not_reporting, 0);
}

#[test]
fn a_location_that_never_reported_is_overdue_once_a_slot_is_missed() {
    let view = vr01(&world(&[overdue("zonnehuis", "08:00")]));
    assert_eq!(loc(&view, "zonnehuis").overdue_since, Some(utc(&at("08:00"))));
    assert_eq!(loc(&view, "zonnehuis").last_report, None);
}

// ---------- incidents ----------

fn incident(stem: &str, hhmm: &str, state_: &str, center: &Location, radius_km: f64) -> Event {
    region_event(
        "VR01",
        stem,
        "storm-2026-11-22",
        hhmm,
        json!({
            "name": "Zware storm Groningen",
            "state": state_,
            "grip": 2,
            "area": { "circle": { "center": { "lat": center.lat, "lon": center.lon }, "radius_km": radius_km } },
            "theme": "extreem_weer",
        }),
    )
}

#[test]
fn a_location_inside_an_active_incident_circle_switches_to_the_warm_interval() {
    let view = vr01(&world(&[incident("incident.opened", "09:30", "actief", location("umcg"), 10.0)]));
    let storm = slug("storm-2026-11-22");
    let umcg = loc(&view, "umcg");
    assert_eq!(umcg.incidents, vec![storm.clone()]);
    assert_eq!(umcg.interval_minutes, 60);
    // Scheemda lies some 27 km from the UMCG, outside the circle.
    let ommelander = loc(&view, "ommelander");
    assert!(ommelander.incidents.is_empty());
    assert_eq!(ommelander.interval_minutes, 1440);
    assert!(view.incidents.contains_key(&storm));
    assert_eq!(view.totals.active_incidents, 1);
    assert_eq!(view.totals.max_grip, 2);
}

#[test]
fn an_incident_lists_the_locations_in_its_area_that_have_not_reported_since_it_opened() {
    let storm = slug("storm-2026-11-22");
    let opened = incident("incident.opened", "09:30", "actief", location("umcg"), 10.0);
    // The UMCG reported before the storm, Martini after it; Zonnehuis never did.
    let events = [opened.clone(), beds("umcg", "ic", "09:00", 42, 30), beds("martini", "ic", "10:00", 12, 5)];
    let view = vr01(&world(&events));
    let incident_view = &view.incidents[&storm];
    assert_eq!(incident_view.opened, Some(utc(&at("09:30"))));
    assert_eq!(incident_view.not_reported, vec![slug("umcg"), slug("zonnehuis")]);
    assert_eq!(view.totals.not_reporting, 2, "silent in the area counts as not reporting at once");

    // A later update of the incident does not move when it opened.
    let updated = incident("incident.updated", "11:00", "actief", location("umcg"), 10.0);
    let view = vr01(&world(&[opened, updated, beds("umcg", "ic", "10:30", 42, 30)]));
    assert_eq!(view.incidents[&storm].opened, Some(utc(&at("09:30"))));
    assert_eq!(view.incidents[&storm].not_reported, vec![slug("martini"), slug("zonnehuis")]);
}

#[test]
fn scaling_down_an_incident_returns_its_locations_to_the_cold_interval() {
    let view = vr01(&world(&[
        incident("incident.opened", "09:30", "actief", location("umcg"), 10.0),
        incident("incident.updated", "15:00", "afgeschaald", location("umcg"), 10.0),
    ]));
    let umcg = loc(&view, "umcg");
    assert!(umcg.incidents.is_empty());
    assert_eq!(umcg.interval_minutes, 1440);
}

// ---------- region totals ----------

#[test]
fn region_totals_sum_capacity_and_count_problems_across_locations() {
    let events = [
        beds("umcg", "ic", "10:00", 42, 39),
        beds("martini", "ic", "10:05", 12, 12),
        beds("umcg", "klinisch", "10:00", 300, 280),
        beds("mcl", "ic", "10:00", 20, 10), // Fryslân: not in Groningen's totals
        report("umcg", "acute_function.reported", Some("seh"), "11:00", json!({ "status": "stop" })),
        report("martini", "acute_function.reported", Some("seh"), "11:00", json!({ "status": "gepland" })),
        report(
            "ommelander",
            "acute_function.reported",
            Some("acute_verloskunde"),
            "11:00",
            json!({ "status": "stop" }),
        ),
        report(
            "ommelander",
            "utility.reported",
            Some("stroom"),
            "11:00",
            json!({ "status": "uitgevallen", "on_backup": true, "backup_hours_left": 36 }),
        ),
        report(
            "umcg",
            "utility.reported",
            Some("internet"),
            "11:00",
            json!({ "status": "verstoord", "on_backup": true }),
        ),
        report(
            "de-hooge-weyert",
            "help_request.opened",
            Some("vervoer-liggend"),
            "11:30",
            json!({ "category": "verplaatsing", "urgency": "hoog", "text": "Vervoer liggende cliënten" }),
        ),
        report(
            "de-hooge-weyert",
            "help_request.opened",
            Some("zandzakken"),
            "11:35",
            json!({ "category": "middelen", "urgency": "normaal", "text": "Zandzakken" }),
        ),
        report(
            "de-hooge-weyert",
            "help_request.updated",
            Some("zandzakken"),
            "12:00",
            json!({ "category": "middelen", "urgency": "hoog", "text": "Zandzakken, water stijgt" }),
        ),
        report(
            "zonnehuis",
            "help_request.opened",
            Some("extra-handen"),
            "11:40",
            json!({ "category": "personeel", "urgency": "laag", "text": "Extra verzorgenden" }),
        ),
        report("zonnehuis", "help_request.closed", Some("extra-handen"), "13:00", json!({})),
        report(
            "de-hooge-weyert",
            "relocation_need.reported",
            Some("psychogeriatrisch"),
            "11:25",
            json!({ "lopend": 12, "rolstoel": 9, "liggend": 4 }),
        ),
        report("zonnehuis", "receiving_capacity.reported", Some("psychogeriatrisch"), "12:00", json!({ "clients": 6 })),
        report("martini", "receiving_capacity.reported", Some("somatisch"), "12:00", json!({ "clients": 10 })),
    ];
    let view = vr01(&world(&events));
    let t = &view.totals;
    use ghor_domain::vocab::{AcuteFunction, BedType, CareType};

    assert_eq!(t.locations, 5);
    assert_eq!(t.reporting, 5);
    let ic = t.beds[&BedType::Ic];
    assert_eq!((ic.free, ic.operational, ic.occupied), (3, 54, 51));
    let ward = t.beds[&BedType::Klinisch];
    assert_eq!((ward.free, ward.operational), (20, 300));
    assert_eq!(t.acute_function_stops.get(&AcuteFunction::Seh), Some(&1));
    assert_eq!(t.acute_function_stops.get(&AcuteFunction::AcuteVerloskunde), Some(&1));
    assert_eq!(t.acute_function_stops.len(), 2, "a scheduled stop is not a stop");
    assert_eq!(t.on_backup_power, 1, "only power on backup counts");
    assert_eq!(t.utilities_down, 1);
    assert_eq!(t.open_help_requests, 2, "open and in progress count, closed does not");
    let pg = t.relocation[&CareType::Psychogeriatrisch];
    assert_eq!((pg.need, pg.capacity), (25, 6));
    let somatic = t.relocation[&CareType::Somatisch];
    assert_eq!((somatic.need, somatic.capacity), (0, 10));
    assert_eq!(t.states[&Dimension::Beds][&State::Kritiek], 1);
    assert_eq!(t.states[&Dimension::Beds][&State::Goed], 1, "the UMCG's 3 free IC beds are above the attention line");
    // 3 IC beds free in the region is at the regional critical line (3).
    assert!(view.alerts.contains_key("VR01/beds/ic"));
}

#[test]
fn a_region_sees_only_its_own_locations() {
    let p = world(&[beds("mcl", "ic", "10:00", 20, 10)]);
    assert!(!vr01(&p).locations.contains_key(&slug("mcl")));
    let fryslan = p.region_view(region("VR02"));
    assert_eq!(fryslan.locations.keys().cloned().collect::<Vec<_>>(), vec![slug("mcl")]);
    assert_eq!(fryslan.totals.beds[&ghor_domain::vocab::BedType::Ic].free, 10);
}

#[test]
fn an_unregistered_location_is_not_shown_until_it_is_registered() {
    let report = beds("umcg", "ic", "10:00", 42, 30);
    assert!(vr01(&fold([&report])).locations.is_empty());
    let later = registered_with("umcg", "11:00", 1440, 60);
    assert!(vr01(&fold([&report, &later])).locations.contains_key(&slug("umcg")));
}

// ---------- the warm phase: uitvraag and handelingsperspectief ----------

/// An uitvraag of VR01 for beds and utilities, in a 15 km circle around the UMCG (the
/// city of Groningen: UMCG, Martini, Zonnehuis), open from `hhmm` until 12:00.
fn uitvraag_opened(hhmm: &str) -> Event {
    let umcg = location("umcg");
    region_event(
        "VR01",
        "uitvraag.opened",
        "stroom-stad",
        hhmm,
        json!({
            "title": "Stroomstoring stad",
            "question": "Hoe staat het met stroom en bedden?",
            "area": { "circle": { "center": { "lat": umcg.lat, "lon": umcg.lon }, "radius_km": 15 } },
            "asked": [{ "dimension": "beds", "keys": ["ic"] }, { "dimension": "utility" }],
            "deadline": at("12:00"),
            "renotify_minutes": 30,
        }),
    )
}

fn utility(loc: &str, hhmm: &str) -> Event {
    report(loc, "utility.reported", Some("stroom"), hhmm, json!({ "status": "uitgevallen", "on_backup": true }))
}

fn not_affected(loc: &str, hhmm: &str) -> Event {
    report(loc, "not_affected.reported", None, hhmm, json!({ "uitvraag": "stroom-stad" }))
}

fn addressed_state(p: &Picture, loc: &str) -> ghor_domain::vocab::AnswerState {
    let view = vr01(p);
    let u = view.uitvragen.get(&slug("stroom-stad")).expect("the uitvraag is in VR01's view");
    u.locations.get(&slug(loc)).unwrap_or_else(|| panic!("{loc} is not addressed")).state
}

#[test]
fn an_uitvraag_addresses_exactly_the_registered_locations_inside_its_area() {
    let p = world(&[uitvraag_opened("10:00")]);
    let u = &p.uitvragen[&slug("stroom-stad")];
    let expected: Vec<Slug> = ["martini", "umcg", "zonnehuis"].into_iter().map(slug).collect();
    assert_eq!(u.addressed.iter().cloned().collect::<Vec<_>>(), expected);
    // A location registered after the question was asked was not asked.
    let mut events = vec![uitvraag_opened("10:00")];
    events.extend(registrations());
    assert!(fold(&events).uitvragen[&slug("stroom-stad")].addressed.is_empty());
}

#[test]
fn a_location_answers_by_reporting_what_was_asked_after_the_opening() {
    use ghor_domain::vocab::AnswerState::*;
    let p = world(&[
        beds("umcg", "ic", "09:00", 10, 5), // before the question: no answer
        uitvraag_opened("10:00"),
        beds("umcg", "ic", "10:05", 10, 6),
        utility("umcg", "10:06"),
        beds("martini", "ic", "10:10", 8, 8),
        beds("zonnehuis", "klinisch", "10:10", 8, 8), // a key not asked
    ]);
    assert_eq!(addressed_state(&p, "umcg"), Beantwoord);
    assert_eq!(addressed_state(&p, "martini"), Deels);
    assert_eq!(addressed_state(&p, "zonnehuis"), Open);
    let view = vr01(&p);
    let u = &view.uitvragen[&slug("stroom-stad")];
    assert_eq!(u.locations[&slug("umcg")].answered, Some(utc(&at("10:06"))));
    assert_eq!((u.counts[&Beantwoord], u.counts[&Deels], u.counts[&Open]), (1, 1, 1));
}

#[test]
fn niet_getroffen_is_an_answer_and_closing_freezes_the_result() {
    use ghor_domain::vocab::AnswerState::*;
    let close = region_event("VR01", "uitvraag.closed", "stroom-stad", "11:00", json!({}));
    let p = world(&[
        uitvraag_opened("10:00"),
        not_affected("martini", "10:20"),
        close.clone(),
        beds("umcg", "ic", "11:30", 10, 6),
        utility("umcg", "11:31"),
    ]);
    assert_eq!(addressed_state(&p, "martini"), NietGetroffen);
    assert_eq!(addressed_state(&p, "umcg"), Open, "answered after the closing");
    assert_eq!(vr01(&p).uitvragen[&slug("stroom-stad")].closed, Some(utc(&at("11:00"))));
}

#[test]
fn an_answer_folded_before_its_uitvraag_still_counts() {
    use ghor_domain::vocab::AnswerState::*;
    // Observed after the opening, but in the log before it.
    let p = world(&[beds("umcg", "ic", "10:05", 10, 6), utility("umcg", "10:06"), uitvraag_opened("10:00")]);
    assert_eq!(addressed_state(&p, "umcg"), Beantwoord);
}

fn notice(loc: &str, stem: &str, hhmm: &str, receiver: u128, cause: &str, reason: Option<&str>) -> Event {
    let mut data = json!({ "cause": cause, "kind": "uitvraag", "about": "stroom-stad", "channel": "email",
                           "contact_role": "crisiscoordinator", "attempt": 1 });
    if let Some(r) = reason {
        data["reason"] = json!(r);
    }
    let subject = uuid::Uuid::from_u128(receiver).to_string();
    report(loc, stem, Some(&subject), hhmm, data)
}

#[test]
fn the_newest_notification_outcome_per_receiver_says_whether_a_location_was_reached() {
    use ghor_domain::vocab::DeliveryState::*;
    let opening = uitvraag_opened("10:00");
    let cause = opening.id.to_string();
    let p = world(&[
        opening.clone(),
        notice("umcg", "notification.failed", "10:01", 1, &cause, Some("SMTP: connection refused")),
        notice("umcg", "notification.delivered", "10:02", 1, &cause, None),
        notice("martini", "notification.failed", "10:01", 2, &cause, Some("SMTP: connection refused")),
        notice("martini", "notification.given_up", "10:05", 2, &cause, Some("opgegeven")),
        notice("zonnehuis", "notification.failed", "10:01", 3, &cause, Some("SMTP: connection refused")),
        // Not addressed: not in the uitvraag.
        notice("mcl", "notification.delivered", "10:01", 4, &cause, None),
    ]);
    let view = vr01(&p);
    let u = &view.uitvragen[&slug("stroom-stad")];
    assert_eq!(u.locations[&slug("umcg")].delivery, Some(Afgeleverd));
    assert_eq!(u.locations[&slug("martini")].delivery, Some(Opgegeven));
    assert_eq!(u.locations[&slug("martini")].deliveries[0].reason.as_deref(), Some("opgegeven"));
    assert_eq!(u.locations[&slug("zonnehuis")].delivery, Some(Mislukt));
    assert!(!p.uitvragen[&slug("stroom-stad")].deliveries.contains_key(&slug("mcl")));
    // An outcome folded before its uitvraag's opening is taken in at the opening.
    let early = world(&[notice("umcg", "notification.delivered", "10:02", 1, &cause, None), opening]);
    assert_eq!(vr01(&early).uitvragen[&slug("stroom-stad")].locations[&slug("umcg")].delivery, Some(Afgeleverd));
}

#[test]
fn calls_are_kept_once_each_and_the_call_list_puts_the_least_known_first() {
    let call = |loc: &str, hhmm: &str, outcome: &str| {
        region_event(
            "VR01",
            "uitvraag_call.recorded",
            "stroom-stad",
            hhmm,
            json!({ "location": loc, "outcome": outcome }),
        )
    };
    let first = call("zonnehuis", "10:30", "geen_gehoor");
    let p = world(&[
        beds("martini", "ic", "09:00", 8, 8),
        uitvraag_opened("10:00"),
        beds("umcg", "ic", "10:05", 10, 6),
        first.clone(),
        redelivered(&first, 3),
        call("zonnehuis", "10:40", "meldt_zelf"),
    ]);
    let view = vr01(&p);
    let calls = &view.uitvragen[&slug("stroom-stad")].locations[&slug("zonnehuis")].calls;
    assert_eq!(calls.iter().map(|c| c.outcome.as_str()).collect::<Vec<_>>(), ["geen_gehoor", "meldt_zelf"]);
    let u = &p.uitvragen[&slug("stroom-stad")];
    let order: Vec<&str> =
        ghor_domain::warm::call_order(u, &p.locations, |_| true).iter().map(|s| s.as_str()).collect();
    // Martini (not answered, not called) before Zonnehuis (called twice); UMCG answered in
    // part comes last.
    assert_eq!(order, ["martini", "zonnehuis", "umcg"]);
}

#[test]
fn a_handelingsperspectief_shows_who_of_its_area_read_it() {
    let umcg = location("umcg");
    let advice = region_event(
        "VR01",
        "handelingsperspectief.published",
        "water-koken",
        "10:00",
        json!({
            "title": "Kook drinkwater",
            "text": "Kook alle drinkwater tot nader bericht.",
            "urgency": "hoog",
            "area": { "circle": { "center": { "lat": umcg.lat, "lon": umcg.lon }, "radius_km": 15 } },
        }),
    );
    let read = |loc: &str, hhmm: &str| report(loc, "handelingsperspectief.read", Some("water-koken"), hhmm, json!({}));
    let p = world(&[advice, read("umcg", "10:10"), read("umcg", "10:20"), read("mcl", "10:15")]);
    let view = vr01(&p);
    let a = &view.handelingsperspectieven[&slug("water-koken")];
    assert_eq!(a.locations[&slug("umcg")].read.as_ref().map(|r| r.time), Some(utc(&at("10:10"))), "the first read");
    assert_eq!(a.locations[&slug("martini")].read, None);
    assert!(!a.locations.contains_key(&slug("mcl")), "not addressed, so not counted");
}

// ---------- properties ----------

mod properties {
    use super::*;
    use proptest::prelude::*;
    use uuid::Uuid;

    /// Three locations in two regions.
    const LOCS: [&str; 3] = ["umcg", "martini", "mcl"];
    const REGIONS: [&str; 2] = ["VR01", "VR02"];
    /// Few distinct times, so that ties on time happen.
    const TIMES: [&str; 4] = ["10:00", "10:10", "10:20", "10:30"];
    const ALERTS: [&str; 5] =
        ["umcg/beds/ic", "martini/utility/stroom", "mcl/report_overdue", "VR01/beds/ic", "umcg/judgement/-"];

    #[derive(Debug, Clone)]
    enum Spec {
        Beds {
            loc: usize,
            key: usize,
            operational: u32,
            occupied: u32,
        },
        Supplies {
            loc: usize,
            on_hand: u32,
            daily_use: u32,
        },
        Utility {
            loc: usize,
            status: usize,
            on_backup: bool,
            hours: u32,
        },
        AcuteFunction {
            loc: usize,
            status: usize,
        },
        Judgement {
            loc: usize,
            answer: usize,
        },
        HelpRequest {
            loc: usize,
            verb: usize,
            urgency: usize,
        },
        Retract {
            loc: usize,
            target: u128,
        },
        Overdue {
            loc: usize,
        },
        Reregister {
            loc: usize,
            warm: u32,
        },
        Threshold {
            region: usize,
            key: usize,
            value: u32,
        },
        Acknowledge {
            region: usize,
            alert: usize,
        },
        /// What an organisation shares, with whom.
        Agreement {
            region: usize,
            loc: usize,
            shares: usize,
        },
        Incident {
            active: bool,
            radius_km: u32,
        },
        NotAffected {
            loc: usize,
        },
        Call {
            loc: usize,
            outcome: usize,
        },
        CloseUitvraag,
        Read {
            loc: usize,
        },
        Reminder {
            round: u32,
        },
        /// An outcome of a notification about the uitvraag: to one of two receivers, of
        /// one of two causes, in one of the three states.
        Notice {
            loc: usize,
            receiver: usize,
            cause: usize,
            state: usize,
        },
    }

    fn spec() -> impl Strategy<Value = Spec> {
        let l = 0..LOCS.len();
        let l2 = l.clone();
        prop_oneof![
            4 => (l.clone(), 0..2usize, 0..6u32, 0..7u32).prop_map(|(loc, key, operational, occupied)| Spec::Beds { loc, key, operational, occupied }),
            2 => (l.clone(), 0..30u32, 0..5u32).prop_map(|(loc, on_hand, daily_use)| Spec::Supplies { loc, on_hand, daily_use }),
            2 => (l.clone(), 0..3usize, any::<bool>(), 0..24u32).prop_map(|(loc, status, on_backup, hours)| Spec::Utility { loc, status, on_backup, hours }),
            1 => (l.clone(), 0..3usize).prop_map(|(loc, status)| Spec::AcuteFunction { loc, status }),
            1 => (l.clone(), 0..3usize).prop_map(|(loc, answer)| Spec::Judgement { loc, answer }),
            1 => (l.clone(), 0..3usize, 0..4usize).prop_map(|(loc, verb, urgency)| Spec::HelpRequest { loc, verb, urgency }),
            2 => (l.clone(), 1..16u128).prop_map(|(loc, target)| Spec::Retract { loc, target }),
            1 => l.clone().prop_map(|loc| Spec::Overdue { loc }),
            1 => (l, 30..180u32).prop_map(|(loc, warm)| Spec::Reregister { loc, warm }),
            1 => (0..REGIONS.len(), 0..3usize, 0..8u32).prop_map(|(region, key, value)| Spec::Threshold { region, key, value }),
            2 => (0..REGIONS.len(), 0..ALERTS.len()).prop_map(|(region, alert)| Spec::Acknowledge { region, alert }),
            1 => (any::<bool>(), 1..40u32).prop_map(|(active, radius_km)| Spec::Incident { active, radius_km }),
            1 => (0..REGIONS.len(), l2, 0..3usize).prop_map(|(region, loc, shares)| Spec::Agreement { region, loc, shares }),
        ]
    }

    /// Status and the warm phase's answers, calls, closings and reads.
    fn warm_spec() -> impl Strategy<Value = Spec> {
        let l = 0..LOCS.len();
        prop_oneof![
            6 => spec(),
            1 => l.clone().prop_map(|loc| Spec::NotAffected { loc }),
            1 => (l.clone(), 0..4usize).prop_map(|(loc, outcome)| Spec::Call { loc, outcome }),
            1 => Just(Spec::CloseUitvraag),
            1 => l.clone().prop_map(|loc| Spec::Read { loc }),
            1 => (1..4u32).prop_map(|round| Spec::Reminder { round }),
            2 => (l, 0..2usize, 0..2usize, 0..3usize).prop_map(|(loc, receiver, cause, state)| Spec::Notice { loc, receiver, cause, state }),
        ]
    }

    /// What the warm phase's logs start with, after the registrations: an uitvraag and a
    /// handelingsperspectief for a circle around the UMCG (whom they address is decided by
    /// the registrations folded before them, so these stay in place when the rest is
    /// shuffled).
    fn warm_openings() -> Vec<Event> {
        let umcg = location("umcg");
        let area = json!({ "circle": { "center": { "lat": umcg.lat, "lon": umcg.lon }, "radius_km": 15 } });
        let uitvraag = json!({
            "title": "Stroom", "area": area, "deadline": at("10:20"),
            "asked": [{ "dimension": "beds", "keys": ["ic"] }, { "dimension": "utility" }],
        });
        let advice = json!({ "title": "Kook water", "text": "Kook drinkwater.", "urgency": "hoog", "area": area });
        vec![
            region_event("VR01", "uitvraag.opened", "u", "10:10", uitvraag),
            region_event("VR01", "handelingsperspectief.published", "a", "10:00", advice),
        ]
    }

    /// Turns specs into accepted events. Ids count up per source, so each (source, id) is
    /// unique while different sources share ids (a retraction must stay at its location).
    fn build(specs: &[(Spec, usize)], redeliveries: &[(usize, i64)], opening: Vec<Event>) -> Vec<Event> {
        let mut next_id = std::collections::BTreeMap::<String, u128>::new();
        let mut events: Vec<Event> = LOCS.iter().map(|l| registered(l)).chain(opening).collect();
        for (spec, t) in specs {
            let hhmm = TIMES[*t];
            let (source, stem, subject, data): (String, &str, Option<String>, Value) = match spec {
                Spec::Beds { loc, key, operational, occupied } => (
                    format!("/locations/{}", LOCS[*loc]),
                    "beds.reported",
                    Some(["ic", "klinisch"][*key].into()),
                    json!({ "operational": operational, "occupied": occupied }),
                ),
                Spec::Supplies { loc, on_hand, daily_use } => (
                    format!("/locations/{}", LOCS[*loc]),
                    "supplies.reported",
                    Some("zuurstof".into()),
                    json!({ "on_hand": on_hand, "daily_use": daily_use }),
                ),
                Spec::Utility { loc, status, on_backup, hours } => (
                    format!("/locations/{}", LOCS[*loc]),
                    "utility.reported",
                    Some("stroom".into()),
                    json!({ "status": (["normaal", "verstoord", "uitgevallen"][*status]), "on_backup": on_backup, "backup_hours_left": hours }),
                ),
                Spec::AcuteFunction { loc, status } => (
                    format!("/locations/{}", LOCS[*loc]),
                    "acute_function.reported",
                    Some("seh".into()),
                    json!({ "status": (["open", "gepland", "stop"][*status]) }),
                ),
                Spec::Judgement { loc, answer } => (
                    format!("/locations/{}", LOCS[*loc]),
                    "judgement.reported",
                    None,
                    json!({ "care_next_24h": (["ja", "met_moeite", "nee"][*answer]) }),
                ),
                Spec::HelpRequest { loc, verb, urgency } => {
                    let data = if *verb == 2 {
                        json!({})
                    } else {
                        json!({ "category": "middelen", "urgency": (["laag", "normaal", "hoog", "zeer_hoog"][*urgency]), "text": "zandzakken" })
                    };
                    let stem = ["help_request.opened", "help_request.updated", "help_request.closed"][*verb];
                    (format!("/locations/{}", LOCS[*loc]), stem, Some("zandzakken".into()), data)
                }
                Spec::Retract { loc, target } => (
                    format!("/locations/{}", LOCS[*loc]),
                    "observation.retracted",
                    None,
                    json!({ "event_id": Uuid::from_u128(*target).to_string() }),
                ),
                Spec::Overdue { loc } => (
                    format!("/locations/{}", LOCS[*loc]),
                    "report.overdue",
                    None,
                    json!({ "due": at(hhmm), "interval_minutes": 120 }),
                ),
                Spec::Reregister { loc, warm } => {
                    let mut data = registered(LOCS[*loc]).to_json().expect("serialises")["data"].clone();
                    data["report_interval_warm_minutes"] = json!(warm);
                    (format!("/locations/{}", LOCS[*loc]), "location.registered", None, data)
                }
                Spec::Threshold { region, key, value } => (
                    format!("/regions/{}", REGIONS[*region]),
                    "threshold.set",
                    Some(["beds_free_attention", "beds_free_critical", "supply_days_attention"][*key].into()),
                    json!({ "value": value }),
                ),
                Spec::Agreement { region, loc, shares } => (
                    format!("/regions/{}", REGIONS[*region]),
                    "agreement.recorded",
                    Some(location(LOCS[*loc]).organisation.into()),
                    {
                        let choices = [
                            json!({}),
                            json!({ "ketenpartner": ["beds"] }),
                            json!({ "ketenpartner": ["beds", "utility"], "bestuur": ["supplies"] }),
                        ];
                        json!({ "location_level": choices[*shares].clone() })
                    },
                ),
                Spec::Acknowledge { region, alert } => (
                    format!("/regions/{}", REGIONS[*region]),
                    "alert.acknowledged",
                    Some(ALERTS[*alert].into()),
                    json!({}),
                ),
                Spec::NotAffected { loc } => {
                    (format!("/locations/{}", LOCS[*loc]), "not_affected.reported", None, json!({}))
                }
                Spec::Call { loc, outcome } => (
                    "/regions/VR01".into(),
                    "uitvraag_call.recorded",
                    Some("u".into()),
                    json!({ "location": LOCS[*loc], "outcome": (["geen_gehoor", "ingesproken", "meldt_zelf", "doorgegeven"][*outcome]) }),
                ),
                Spec::CloseUitvraag => ("/regions/VR01".into(), "uitvraag.closed", Some("u".into()), json!({})),
                Spec::Read { loc } => {
                    (format!("/locations/{}", LOCS[*loc]), "handelingsperspectief.read", Some("a".into()), json!({}))
                }
                Spec::Reminder { round } => (
                    "/regions/VR01".into(),
                    "uitvraag.reminder_due",
                    Some("u".into()),
                    json!({ "round": round, "due": at(hhmm) }),
                ),
                Spec::Notice { loc, receiver, cause, state } => (
                    format!("/locations/{}", LOCS[*loc]),
                    ["notification.delivered", "notification.failed", "notification.given_up"][*state],
                    Some(Uuid::from_u128(1000 + *receiver as u128).to_string()),
                    json!({
                        "cause": Uuid::from_u128(2000 + *cause as u128).to_string(),
                        "kind": (["uitvraag", "herinnering"][*cause]),
                        "about": "u",
                        "channel": (["email", "webhook"][*receiver]),
                        "attempt": 1,
                    }),
                ),
                Spec::Incident { active, radius_km } => {
                    let umcg = location("umcg");
                    (
                        "/regions/VR01".into(),
                        "incident.updated",
                        Some("storm".into()),
                        json!({
                            "name": "Storm",
                            "state": if *active { "actief" } else { "afgeschaald" },
                            "grip": 1,
                            "area": { "circle": { "center": { "lat": umcg.lat, "lon": umcg.lon }, "radius_km": radius_km } },
                        }),
                    )
                }
            };
            let n = next_id.entry(source.clone()).or_insert(0);
            *n += 1;
            let mut v = json!({
                "specversion": "1.0",
                "id": Uuid::from_u128(*n).to_string(),
                "source": source,
                "type": format!("nl.ghor.{stem}.v1"),
                "time": at(hhmm),
                "data": data,
            });
            if let Some(s) = subject {
                v["subject"] = s.into();
            }
            events.push(event(v));
        }
        let originals = events.len();
        for (i, minutes) in redeliveries {
            let again = redelivered(&events[i % originals], *minutes);
            events.push(again);
        }
        events
    }

    fn events() -> impl Strategy<Value = Vec<Event>> {
        (
            prop::collection::vec((spec(), 0..TIMES.len()), 1..60),
            prop::collection::vec((any::<usize>(), 1..120i64), 0..8),
        )
            .prop_map(|(specs, redeliveries)| build(&specs, &redeliveries, Vec::new()))
    }

    /// A log of the warm phase: the registrations and [`warm_openings`], then the rest.
    fn warm_events() -> impl Strategy<Value = Vec<Event>> {
        (
            prop::collection::vec((warm_spec(), 0..TIMES.len()), 1..60),
            prop::collection::vec((any::<usize>(), 1..120i64), 0..8),
        )
            .prop_map(|(specs, redeliveries)| build(&specs, &redeliveries, warm_openings()))
    }

    /// The events after the registrations and the openings, which may come in any order.
    fn after_openings() -> usize {
        LOCS.len() + warm_openings().len()
    }

    fn views(p: &Picture) -> Vec<RegionView> {
        REGIONS.iter().map(|r| p.region_view(region(r))).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_arrival_order_gives_the_same_picture_and_views(
            (events, shuffled) in events().prop_flat_map(|e| (Just(e.clone()), Just(e).prop_shuffle()))
        ) {
            let p = fold(&events);
            let q = fold(&shuffled);
            prop_assert_eq!(&p, &q);
            prop_assert_eq!(views(&p), views(&q));
        }

        #[test]
        fn after_the_openings_any_arrival_order_gives_the_same_warm_phase(
            (events, rest) in warm_events().prop_flat_map(|e| {
                let rest = e[after_openings()..].to_vec();
                (Just(e), Just(rest).prop_shuffle())
            })
        ) {
            let mut shuffled = events[..after_openings()].to_vec();
            shuffled.extend(rest);
            let (p, q) = (fold(&events), fold(&shuffled));
            prop_assert_eq!(&p.uitvragen, &q.uitvragen);
            prop_assert_eq!(&p, &q);
            prop_assert_eq!(views(&p), views(&q));
        }

        #[test]
        fn folding_in_batches_and_resuming_from_a_snapshot_gives_the_same_picture(
            events in warm_events(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..5),
        ) {
            let whole = fold(&events);
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(events.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.push(events.len());
            let mut p = Picture::default();
            let mut start = 0;
            for (n, end) in cuts.into_iter().enumerate() {
                for e in &events[start..end] {
                    p.apply(e);
                }
                start = end;
                // Hand over to a fresh projector: alternately a clone and a stored snapshot.
                p = if n % 2 == 0 {
                    p.clone()
                } else {
                    let snapshot = serde_json::to_string(&p).expect("picture serialises");
                    serde_json::from_str(&snapshot).expect("snapshot reads back")
                };
            }
            prop_assert_eq!(&p, &whole);
            prop_assert_eq!(views(&p), views(&whole));
        }

        #[test]
        fn views_kept_current_by_what_events_touched_equal_views_computed_whole(
            events in warm_events(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
        ) {
            // Start from a part of the log (as a gateway from a snapshot), then one event at a
            // time and in chunks, as the gateway and the projector do.
            let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(events.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.push(events.len());
            let start = cuts[0];
            let mut p = fold(&events[..start]);
            let mut kept = ghor_domain::Views::of(&p);
            let mut from = start;
            for (n, end) in cuts.into_iter().enumerate() {
                let chunks: Vec<&[Event]> =
                    if n % 2 == 0 { events[from..end].chunks(1).collect() } else { vec![&events[from..end]] };
                for chunk in chunks {
                    let mut touched = ghor_domain::picture::Touched::default();
                    for e in chunk {
                        p.apply_noting(e, &mut touched);
                    }
                    kept.update(&p, &touched);
                    let whole = ghor_domain::Views::of(&p);
                    for (r, view) in whole.iter() {
                        prop_assert_eq!(kept.get(*r), Some(view), "region {}", r);
                    }
                }
                from = end;
            }
        }

        #[test]
        fn folding_the_log_twice_is_the_same_as_once(events in warm_events()) {
            let once = fold(&events);
            let mut twice = once.clone();
            for e in &events {
                twice.apply(e);
            }
            prop_assert_eq!(&twice, &once);
            prop_assert_eq!(views(&twice), views(&once));
        }
    }

    #[test]
    fn the_generated_logs_exercise_ties_duplicates_and_alerts() {
        // Guard against a vacuous property: the generator must produce the interesting cases.
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let (mut ties, mut duplicates, mut alerts, mut retracted) = (0, 0, 0, 0);
        for _ in 0..64 {
            let events = events().new_tree(&mut runner).expect("generates").current();
            let mut seen = std::collections::BTreeSet::new();
            let mut slots = std::collections::BTreeMap::<_, std::collections::BTreeSet<Uuid>>::new();
            for e in &events {
                duplicates += usize::from(!seen.insert(e.dedup_key()));
                if let ghor_domain::Payload::Status(s) = &e.payload {
                    slots.entry((e.source.clone(), s.dimension(), s.key(), e.time)).or_default().insert(e.id);
                }
            }
            ties += slots.values().filter(|ids| ids.len() > 1).count();
            let p = fold(&events);
            alerts += views(&p).iter().map(|v| v.alerts.len()).sum::<usize>();
            retracted += views(&p)
                .iter()
                .flat_map(|v| v.locations.values())
                .flat_map(|l| l.dimensions.values())
                .flat_map(|d| d.values.values())
                .filter(|v| v.retracted)
                .count();
        }
        assert!(ties > 0, "no ties on time generated");
        assert!(duplicates > 0, "no redeliveries generated");
        assert!(alerts > 0, "no alerts generated");
        assert!(retracted > 0, "no retracted current values generated");
    }

    #[test]
    fn the_generated_warm_logs_fold_delivery_outcomes_and_reminders() {
        use proptest::strategy::ValueTree;
        use proptest::test_runner::TestRunner;
        let mut runner = TestRunner::deterministic();
        let (mut outcomes, mut reminders) = (0, 0);
        for _ in 0..64 {
            let events = warm_events().new_tree(&mut runner).expect("generates").current();
            let p = fold(&events);
            outcomes += views(&p)
                .iter()
                .flat_map(|v| v.uitvragen.values())
                .flat_map(|u| u.locations.values())
                .filter(|l| l.delivery.is_some())
                .count();
            reminders += p.reminders.values().map(|r| r.len()).sum::<usize>();
        }
        assert!(outcomes > 0, "no delivery outcome reached an uitvraag's view");
        assert!(reminders > 0, "no reminders generated");
    }
}

// ---------- conditions one may subscribe to ----------

/// Folds `events` one at a time after the registrations: per event, the conditions of
/// `kind` (with `value`) it started in VR01.
fn started(events: &[Event], kind: SubscriptionKind, value: Option<u32>) -> Vec<Vec<String>> {
    let vr01 = region("VR01");
    let mut p = fold(&registrations());
    events
        .iter()
        .map(|e| {
            let before = Conditions::of(&p, vr01);
            p.apply(e);
            let after = Conditions::of(&p, vr01);
            after.started_since(&before, vr01, kind, value).into_iter().map(|s| s.condition).collect()
        })
        .collect()
}

fn none() -> Vec<String> {
    Vec::new()
}

fn just(condition: &str) -> Vec<String> {
    vec![condition.to_owned()]
}

#[test]
fn an_seh_stop_starts_once_and_again_only_after_it_ended_or_was_retracted() {
    let seh = |loc: &str, hhmm: &str, status: &str| {
        report(loc, "acute_function.reported", Some("seh"), hhmm, json!({ "status": status }))
    };
    let first = seh("umcg", "10:00", "stop");
    let events = [
        first.clone(),
        seh("umcg", "10:10", "stop"),
        seh("mcl", "10:15", "stop"),
        seh("umcg", "10:20", "open"),
        seh("umcg", "10:30", "stop"),
    ];
    let stop = "umcg/acute_function/seh";
    assert_eq!(started(&events, SubscriptionKind::SehStop, None), [just(stop), none(), none(), none(), just(stop)]);
    let retracted = [first.clone(), retraction("umcg", "10:05", &first), seh("umcg", "10:10", "stop")];
    assert_eq!(started(&retracted, SubscriptionKind::SehStop, None), [just(stop), none(), just(stop)]);
}

#[test]
fn ic_free_below_starts_when_the_regions_free_ic_beds_fall_below_the_number() {
    let events = [
        beds("umcg", "ic", "10:00", 10, 2),   // 8 free
        beds("martini", "ic", "10:01", 4, 2), // 10
        beds("umcg", "ic", "10:02", 10, 9),   // 3: below 5
        beds("martini", "ic", "10:03", 4, 3), // 2: still below
        beds("mcl", "ic", "10:04", 10, 10),   // another region
        beds("umcg", "ic", "10:05", 10, 2),   // 9
        beds("umcg", "ic", "10:06", 10, 9),   // 2: below again
        beds("umcg", "kinder_ic", "10:07", 10, 10),
    ];
    let below = "VR01/beds/ic";
    assert_eq!(
        started(&events, SubscriptionKind::IcFreeBelow, Some(5)),
        [none(), none(), just(below), none(), none(), none(), just(below), none()]
    );
    assert!(started(&events, SubscriptionKind::IcFreeBelow, Some(1)).iter().all(Vec::is_empty), "never below 1");
}

#[test]
fn a_utility_down_starts_only_without_a_backup() {
    let utility = |hhmm: &str, data: Value| report("umcg", "utility.reported", Some("stroom"), hhmm, data);
    let events = [
        utility("10:00", json!({ "status": "uitgevallen", "on_backup": true, "backup_hours_left": 12 })),
        utility("10:10", json!({ "status": "uitgevallen", "on_backup": false })),
        utility("10:20", json!({ "status": "uitgevallen" })),
        utility("10:30", json!({ "status": "normaal" })),
    ];
    assert_eq!(
        started(&events, SubscriptionKind::UtilityDownWithoutBackup, None),
        [none(), just("umcg/utility/stroom"), none(), none()]
    );
}

#[test]
fn report_overdue_starts_when_a_location_misses_its_interval() {
    let events = [
        beds("umcg", "ic", "09:00", 42, 30),
        overdue("umcg", "12:00"),
        beds("umcg", "ic", "12:30", 42, 31),
        overdue("umcg", "14:30"),
    ];
    let late = "umcg/report_overdue";
    assert_eq!(started(&events, SubscriptionKind::ReportOverdue, None), [none(), just(late), none(), just(late)]);
}
