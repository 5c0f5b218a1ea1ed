//! The event contract as a client sees it: the sample of every event type is accepted and
//! stored without loss, bad input is refused with the field and a reason a reporter can act
//! on, and the JSON Schemas say what a client must send (that `proto/` holds them as the code
//! makes them, `crates/server/tests/proto.rs` checks).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use ghor_domain::payload::EVENT_TYPES;
use ghor_domain::{Event, FieldError, RegionCode, Scope, Stamp, Submission};
use serde_json::{json, Value};

// ---------- helpers ----------

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples")
}

/// Every sample, by file stem (which must be its event type).
fn samples() -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(samples_dir()).expect("tests/samples exists") {
        let path = entry.expect("readable directory entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("utf-8 file name").to_owned();
        let text = std::fs::read_to_string(&path).expect("readable sample");
        let value: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
        out.insert(stem, value);
    }
    out
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("valid test timestamp").with_timezone(&Utc)
}

fn stamp_at(received: DateTime<Utc>) -> Stamp {
    Stamp {
        region: RegionCode::try_from("VR01").expect("VR01 is a region"),
        scope: Scope::Live,
        actor: "test".into(),
        received,
    }
}

/// The server's clock in the refusal cases: one minute after the base report's time.
const RECEIVED: &str = "2026-11-22T14:06:00Z";

/// A valid IC bed report from the UMCG, the starting point of every refusal case.
fn beds_report() -> Value {
    json!({
        "specversion": "1.0",
        "id": "0193a7c2-5e00-7000-8000-000000000001",
        "source": "/locations/umcg",
        "type": "nl.ghor.beds.reported.v1",
        "subject": "ic",
        "time": "2026-11-22T14:05:00Z",
        "data": { "operational": 42, "occupied": 39 }
    })
}

fn with(mut base: Value, pointer: &str, value: Value) -> Value {
    let (parent, name) = pointer.rsplit_once('/').expect("pointer like /data/operational");
    let obj = base.pointer_mut(parent).and_then(Value::as_object_mut).expect("parent object exists");
    obj.insert(name.to_owned(), value);
    base
}

fn without(mut base: Value, name: &str) -> Value {
    base.as_object_mut().expect("object").remove(name);
    base
}

/// What the server answers to a submission received at [`RECEIVED`]: the same whether it
/// is read from its JSON value or straight from its bytes.
#[track_caller]
fn submit(value: Value) -> Result<Event, FieldError> {
    let from_bytes =
        Submission::from_slice(value.to_string().as_bytes()).and_then(|s| s.accept(stamp_at(utc(RECEIVED))));
    let from_value = Submission::parse(value).and_then(|s| s.accept(stamp_at(utc(RECEIVED))));
    match (&from_value, from_bytes) {
        // An id left out is made up on each way in.
        (Ok(a), Ok(b)) => assert_eq!(a, &Event { id: a.id, ..b }, "the two ways in read it differently"),
        (Err(a), Err(b)) => assert_eq!(a, &b, "the two ways in refuse it differently"),
        (a, b) => panic!("the two ways in disagree: {a:?} / {b:?}"),
    }
    from_value
}

#[track_caller]
fn assert_refused(value: Value, field: &str, reason_contains: &str) {
    match submit(value) {
        Ok(event) => panic!("expected a refusal on {field:?}, but it was accepted: {event:?}"),
        Err(e) => {
            assert_eq!(e.field, field, "wrong field (reason: {:?})", e.reason);
            assert!(
                e.reason.contains(reason_contains),
                "reason for {field:?} should mention {reason_contains:?}, was {:?}",
                e.reason
            );
        }
    }
}

// ---------- (a) samples ----------

#[test]
fn every_event_type_has_a_sample_and_every_sample_is_a_known_type() {
    let samples = samples();
    let missing: Vec<&&str> = EVENT_TYPES.iter().filter(|t| !samples.contains_key(**t)).collect();
    assert!(missing.is_empty(), "event types without a sample in tests/samples: {missing:?}");
    let strays: Vec<&String> = samples.keys().filter(|s| !EVENT_TYPES.contains(&s.as_str())).collect();
    assert!(strays.is_empty(), "samples named after no known event type: {strays:?}");
    for (name, sample) in &samples {
        assert_eq!(sample["type"], json!(name), "{name}.json carries a different type");
    }
}

#[test]
fn every_sample_is_accepted_and_its_stored_form_reads_back_equal() {
    for (name, sample) in samples() {
        let _both_ways_agree = submit(sample.clone());
        let submission = Submission::parse(sample.clone()).unwrap_or_else(|e| panic!("{name}: refused: {e}"));
        let time = utc(sample["time"].as_str().expect("samples carry a time"));
        let event = submission
            .accept(stamp_at(time + Duration::minutes(1)))
            .unwrap_or_else(|e| panic!("{name}: not accepted: {e}"));
        assert_eq!(event.time, time, "{name}: observation time kept");
        assert_eq!(event.id.to_string(), sample["id"].as_str().expect("samples carry an id"), "{name}: client id kept");

        let stored = event.to_json().expect("a sample serialises");
        for server_owned in ["region", "scope", "actor", "received"] {
            assert!(stored.get(server_owned).is_some(), "{name}: stored form lacks the server's {server_owned}");
        }
        assert_eq!(stored["region"], "VR01");
        assert_eq!(stored["scope"], "live");
        assert_eq!(stored["actor"], "test");
        let back = Event::from_stored(stored.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{name}: stored form unreadable: {e:?}"));
        assert_eq!(back, event, "{name}: stored form does not read back to the same event");
    }
}

#[test]
fn the_stored_form_keeps_every_attribute_and_data_field_the_client_sent() {
    for (name, sample) in samples() {
        let time = utc(sample["time"].as_str().expect("samples carry a time"));
        let event = Submission::parse(sample.clone())
            .and_then(|s| s.accept(stamp_at(time + Duration::minutes(1))))
            .unwrap_or_else(|e| panic!("{name}: refused: {e}"));
        let stored = event.to_json().expect("a sample serialises");
        for (attribute, value) in sample.as_object().expect("samples are objects") {
            assert_eq!(stored.get(attribute), Some(value), "{name}: stored {attribute} differs from what was sent");
        }
    }
}

#[test]
fn samples_follow_their_published_schema() {
    // A light structural check (no validator dependency): attributes and data fields are the
    // ones the schema in proto/ names, and every required one is present.
    let schemas: BTreeMap<String, Value> = ghor_domain::schema::all()
        .into_iter()
        .map(|(path, text)| (path, serde_json::from_str(&text).expect("schema is JSON")))
        .collect();
    for (name, sample) in samples() {
        let schema = &schemas[&format!("events/{name}.json")];
        check_object(&name, "", &sample, schema);
        check_object(&name, "data.", &sample["data"], &schema["properties"]["data"]);
    }
}

fn check_object(name: &str, prefix: &str, value: &Value, schema: &Value) {
    // An object with no fields (a read receipt's data) has no properties at all.
    let none = serde_json::Map::new();
    let props = match schema["properties"].as_object() {
        Some(props) => props,
        None if schema["type"] == "object" => &none,
        None => panic!("{name}: schema of {prefix:?} has properties"),
    };
    let obj = value.as_object().expect("an object");
    for key in obj.keys() {
        assert!(props.contains_key(key), "{name}: {prefix}{key} is not in the schema");
    }
    for req in schema["required"].as_array().into_iter().flatten() {
        let req = req.as_str().expect("required names are strings");
        assert!(obj.contains_key(req), "{name}: required {prefix}{req} is missing from the sample");
    }
}

#[test]
fn local_time_with_offset_is_accepted_as_the_same_instant() {
    let event = submit(with(beds_report(), "/time", json!("2026-11-22T15:05:00+01:00"))).expect("accepted");
    assert_eq!(event.time, utc("2026-11-22T14:05:00Z"));
}

#[test]
fn a_report_without_time_is_observed_at_receipt_and_without_id_gets_one() {
    let event = submit(without(without(beds_report(), "time"), "id")).expect("accepted");
    assert_eq!(event.time, utc(RECEIVED));
    assert!(!event.id.is_nil());
}

#[test]
fn a_clock_up_to_two_minutes_ahead_is_tolerated() {
    assert!(submit(with(beds_report(), "/time", json!("2026-11-22T14:08:00Z"))).is_ok());
}

// ---------- (b) refusals ----------

#[test]
fn a_body_that_is_not_a_json_object_is_refused() {
    for body in [json!([beds_report()]), json!("beds"), json!(42), Value::Null] {
        assert_refused(body, "", "JSON object");
    }
}

#[test]
fn malformed_json_never_becomes_a_submission() {
    // Bytes that are not JSON fail before the domain; a truncated object is one such body.
    let truncated = &serde_json::to_vec(&beds_report()).expect("serialises")[..40];
    assert!(serde_json::from_slice::<Value>(truncated).is_err());
}

#[test]
fn data_that_is_not_an_object_is_refused() {
    assert_refused(with(beds_report(), "/data", json!([42, 39])), "data", "JSON object");
    assert_refused(without(beds_report(), "data"), "data", "required");
}

#[test]
fn an_unknown_event_type_is_refused_on_type() {
    assert_refused(with(beds_report(), "/type", json!("nl.ghor.beds.counted.v1")), "type", "not an event type");
    assert_refused(with(beds_report(), "/type", json!("com.example.beds")), "type", "not an event type");
    assert_refused(without(beds_report(), "type"), "type", "required");
}

#[test]
fn a_newer_version_of_a_known_type_is_refused_on_type() {
    assert_refused(with(beds_report(), "/type", json!("nl.ghor.beds.reported.v2")), "type", "newer version");
}

#[test]
fn wrong_json_types_are_refused_on_their_field() {
    assert_refused(with(beds_report(), "/data/operational", json!("42")), "data.operational", "invalid type");
    assert_refused(with(beds_report(), "/data/occupied", json!(null)), "data.occupied", "invalid type");
    assert_refused(with(beds_report(), "/bevestigd", json!("ja")), "bevestigd", "true or false");
    assert_refused(with(beds_report(), "/subject", json!(1)), "subject", "string");
    assert_refused(with(beds_report(), "/specversion", json!(1.0)), "specversion", "1.0");
    assert_refused(with(beds_report(), "/id", json!("not-a-uuid")), "id", "UUID");
    assert_refused(with(beds_report(), "/time", json!("22-11-2026 14:05")), "time", "RFC 3339");
    assert_refused(with(beds_report(), "/bron", json!("fax")), "bron", "one of");
}

#[test]
fn a_negative_count_is_refused() {
    assert_refused(with(beds_report(), "/data/occupied", json!(-1)), "data.occupied", "negative");
}

#[test]
fn an_absurd_count_is_refused() {
    assert_refused(with(beds_report(), "/data/operational", json!(100_001)), "data.operational", "largest");
    assert_refused(with(beds_report(), "/data/operational", json!(5_000_000_000_u64)), "data.operational", "largest");
    assert!(submit(with(with(beds_report(), "/data/operational", json!(100_000)), "/data/occupied", json!(0))).is_ok());
}

#[test]
fn a_fractional_count_is_refused() {
    assert_refused(with(beds_report(), "/data/occupied", json!(12.5)), "data.occupied", "whole number");
}

#[test]
fn an_unknown_top_level_attribute_is_refused() {
    assert_refused(with(beds_report(), "/afdeling", json!("IC-Oost")), "afdeling", "not an attribute");
}

#[test]
fn each_server_owned_attribute_is_refused_with_a_reason_naming_the_server() {
    let values = [
        ("region", json!("VR01")),
        ("scope", json!("live")),
        ("actor", json!("umcg-koppeling")),
        ("received", json!("2026-11-22T14:05:30Z")),
    ];
    for (name, value) in values {
        assert_refused(with(beds_report(), &format!("/{name}"), value), name, "server");
    }
}

#[test]
fn an_unknown_field_inside_data_is_refused_and_named() {
    assert_refused(with(beds_report(), "/data/patient_name", json!("J. de Vries")), "data.patient_name", "not a field");
}

#[test]
fn an_unknown_field_nested_inside_data_is_named_with_its_full_path() {
    let incident = json!({
        "specversion": "1.0",
        "source": "/regions/VR01",
        "type": "nl.ghor.incident.opened.v1",
        "subject": "storm-2026-11-22",
        "time": "2026-11-22T14:00:00Z",
        "data": {
            "name": "Zware storm",
            "state": "actief",
            "grip": 2,
            "area": { "regions": ["VR01"], "postcode": "9700" }
        }
    });
    assert_refused(incident, "data.area.postcode", "not a field");
}

#[test]
fn a_time_more_than_two_minutes_ahead_is_refused_with_a_hint_about_utc() {
    assert_refused(with(beds_report(), "/time", json!("2026-11-22T14:09:00Z")), "time", "UTC");
    // The classic mistake: local time (UTC+1) sent with a Z.
    assert_refused(with(beds_report(), "/time", json!("2026-11-22T15:05:00Z")), "time", "UTC");
}

#[test]
fn text_over_its_limit_is_refused() {
    let judgement = json!({
        "specversion": "1.0",
        "source": "/locations/de-boeg-winschoten",
        "type": "nl.ghor.judgement.reported.v1",
        "time": "2026-11-22T14:00:00Z",
        "data": { "care_next_24h": "met_moeite", "reason": "x".repeat(201) }
    });
    assert_refused(judgement.clone(), "data.reason", "at most 200");
    assert!(
        submit(with(judgement, "/data/reason", json!("é".repeat(200)))).is_ok(),
        "the limit counts characters, not bytes"
    );
    assert_refused(note("a".repeat(1001)), "data.text", "at most 1000");
    assert_refused(with(beds_report(), "/prognose", json!("p".repeat(201))), "prognose", "at most 200");
}

fn note(text: String) -> Value {
    json!({
        "specversion": "1.0",
        "source": "/locations/umcg",
        "type": "nl.ghor.note.reported.v1",
        "time": "2026-11-22T14:00:00Z",
        "data": { "text": text }
    })
}

#[test]
fn a_bsn_like_number_in_a_note_is_refused() {
    assert_refused(note("Patiënt met BSN 111222333 overgeplaatst naar MCL".into()), "data.text", "BSN");
    // A phone number is fine.
    assert!(submit(note("Bel de teamleider op 0501234567".into())).is_ok());
}

#[test]
fn a_keyed_type_without_subject_is_refused() {
    assert_refused(without(beds_report(), "subject"), "subject", "required");
    assert_refused(with(beds_report(), "/subject", json!("icu")), "subject", "unknown variant");
}

#[test]
fn a_source_of_the_wrong_kind_is_refused() {
    assert_refused(with(beds_report(), "/source", json!("/regions/VR01")), "source", "/locations/");
    let threshold = json!({
        "specversion": "1.0",
        "source": "/locations/umcg",
        "type": "nl.ghor.threshold.set.v1",
        "subject": "beds_free_attention",
        "data": { "value": 4 }
    });
    assert_refused(threshold, "source", "/regions/");
    assert_refused(with(beds_report(), "/source", json!("/locations/UMCG")), "source", "identifier");
    assert_refused(with(beds_report(), "/source", json!("umcg")), "source", "neither");
}

#[test]
fn more_infectious_than_occupied_beds_is_refused() {
    let report = with(beds_report(), "/data/occupied_infectious", json!(40));
    assert_refused(report, "data.occupied_infectious", "more than the occupied");
}

#[test]
fn more_operational_than_physical_beds_is_refused() {
    let report = with(beds_report(), "/data/physical", json!(40));
    assert_refused(report, "data.operational", "more than the physical");
}

#[test]
fn a_cause_on_a_utility_that_is_not_ict_is_refused() {
    let utility = |key: &str| {
        json!({
            "specversion": "1.0",
            "source": "/locations/ommelander-ziekenhuis",
            "type": "nl.ghor.utility.reported.v1",
            "subject": key,
            "time": "2026-11-22T14:00:00Z",
            "data": { "status": "verstoord", "cause": "storing" }
        })
    };
    assert_refused(utility("stroom"), "data.cause", "ICT");
    assert!(submit(utility("ict_zorgsystemen")).is_ok());
}

// ---------- (c) schemas ----------

#[test]
fn there_is_one_event_schema_per_event_type_and_each_names_its_type() {
    let generated = ghor_domain::schema::all();
    for t in EVENT_TYPES {
        let (_, text) = generated
            .iter()
            .find(|(p, _)| *p == format!("events/{t}.json"))
            .unwrap_or_else(|| panic!("no schema for {t}"));
        let schema: Value = serde_json::from_str(text).expect("schema is JSON");
        assert_eq!(schema["properties"]["type"]["const"], json!(t));
        assert_eq!(schema["additionalProperties"], json!(false), "{t}: unknown attributes are refused");
        for server_owned in ["region", "scope", "actor", "received"] {
            assert!(schema["properties"].get(server_owned).is_none(), "{t}: {server_owned} is server-owned");
        }
    }
}

#[test]
fn every_reference_in_a_schema_resolves_inside_that_schema() {
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get("$ref") {
                    out.push(r);
                }
                o.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    for (path, text) in ghor_domain::schema::all() {
        let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
        let mut found = Vec::new();
        refs(&schema, &mut found);
        for r in found {
            let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{path}: external reference {r}"));
            assert!(schema.pointer(pointer).is_some(), "{path}: {r} does not resolve");
        }
    }
}

#[test]
fn a_missing_data_field_is_named_with_its_path() {
    let report = beds_report();
    let mut data = report["data"].clone();
    data.as_object_mut().expect("object").remove("occupied");
    assert_refused(with(report, "/data", data), "data.occupied", "required");
}

#[test]
fn a_subject_on_a_type_without_keys_is_refused() {
    let note = json!({
        "specversion": "1.0", "source": "/locations/umcg", "type": "nl.ghor.note.reported.v1",
        "subject": "seh", "time": "2026-11-22T14:05:00Z", "data": { "text": "Rustig" }
    });
    assert_refused(note, "subject", "no key");
}

#[test]
fn a_version_written_oddly_is_not_taken_for_version_one() {
    assert_refused(with(beds_report(), "/type", json!("nl.ghor.beds.reported.v01")), "type", "not an event type");
    assert_refused(with(beds_report(), "/type", json!("nl.ghor.beds.reported.v+1")), "type", "not an event type");
}

#[test]
fn a_note_with_windows_line_ends_and_tabs_is_accepted() {
    let note = json!({
        "specversion": "1.0", "source": "/locations/umcg", "type": "nl.ghor.note.reported.v1",
        "time": "2026-11-22T14:05:00Z", "data": { "text": "Eerste regel\r\n\tTweede regel" }
    });
    assert!(submit(note).is_ok());
}

// ---------- keys given twice, long values quoted briefly ----------

/// The base report's JSON text with `extra` spliced in right after the opening brace of
/// the object at `before` (a unique piece of the text, e.g. `"data": {`).
fn spliced(before: &str, extra: &str) -> Vec<u8> {
    let text = serde_json::to_string_pretty(&beds_report()).expect("json");
    let at = text.find(before).map(|i| i + before.len()).expect("the text to splice after");
    format!("{}{extra}{}", &text[..at], &text[at..]).into_bytes()
}

#[track_caller]
fn assert_duplicate(bytes: &[u8], field: &str) {
    match Submission::from_slice(bytes) {
        Ok(s) => panic!("a key given twice was accepted, as {s:?}"),
        Err(e) => {
            assert_eq!(e.field, field, "wrong field (reason: {:?})", e.reason);
            assert!(e.reason.contains("more than once"), "reason: {:?}", e.reason);
        }
    }
}

#[test]
fn a_key_given_twice_is_refused_and_named_at_any_depth() {
    assert_duplicate(&spliced("{", r#""subject": "mc","#), "subject");
    assert_duplicate(&spliced("{", r#""data": {"operational": 1, "occupied": 0},"#), "data");
    assert_duplicate(&spliced(r#""data": {"#, r#""operational": 41,"#), "data.operational");
    // The same value twice is still a key given twice.
    assert_duplicate(&spliced(r#""data": {"#, r#""occupied": 39,"#), "data.occupied");
    let incident = r#"{"specversion": "1.0", "source": "/regions/VR01", "type": "nl.ghor.incident.opened.v1",
        "subject": "storm", "time": "2026-11-22T14:00:00Z",
        "data": {"name": "Storm", "state": "actief", "grip": 2,
                 "area": {"regions": ["VR01"], "circle": {"center": {"lat": 53.2, "lon": 6.5, "lat": 53.3}, "radius_km": 5}}}}"#;
    assert_duplicate(incident.as_bytes(), "data.area.circle.center.lat");
    // Without the repeat, the same texts are accepted.
    assert!(Submission::from_slice(&spliced("{", "")).is_ok());
    assert!(Submission::from_slice(incident.replace(r#", "lat": 53.3"#, "").as_bytes()).is_ok());
}

#[test]
fn a_refusal_quotes_a_long_value_only_briefly_and_still_names_its_field() {
    let long = "x".repeat(10_000);
    for (pointer, field) in [
        ("/type", "type"),
        ("/source", "source"),
        ("/subject", "subject"),
        ("/bron", "bron"),
        ("/id", "id"),
        ("/prognose", "prognose"),
        ("/data/operational", "data.operational"),
    ] {
        let error = submit(with(beds_report(), pointer, json!(long))).expect_err("refused");
        assert_eq!(error.field, field, "{error:?}");
        assert!(error.to_string().len() < 400, "{field}: the refusal repeats too much: {error}");
    }
    let error = submit(with(beds_report(), &format!("/data/{long}"), json!(1))).expect_err("refused");
    assert!(error.field.starts_with("data.xxx") && error.field.chars().count() < 100, "{error:?}");
}

#[test]
fn a_repeat_is_the_same_report_only_when_the_client_said_the_same() {
    let first = submit(beds_report()).expect("accepted");
    let stored = first.to_bytes().expect("serialises");
    // Stamped later, by another token: still the same report.
    let later = Stamp { actor: "someone else".into(), ..stamp_at(utc("2026-11-22T15:00:00Z")) };
    let again = Submission::parse(beds_report()).and_then(|s| s.accept(later.clone())).expect("accepted");
    assert!(again.same_report(&stored, true));
    for (pointer, value) in [
        ("/data/occupied", json!(38)),
        ("/subject", json!("mc")),
        ("/time", json!("2026-11-22T14:04:00Z")),
        ("/bevestigd", json!(false)),
        ("/bron", json!("telefoon")),
    ] {
        let other = Submission::parse(with(beds_report(), pointer, value)).and_then(|s| s.accept(later.clone()));
        assert!(!other.expect("accepted").same_report(&stored, true), "{pointer} differs");
    }
    // Without a time, a report means "at receipt": the same as a stored one without.
    let untimed = Submission::parse(without(beds_report(), "time")).expect("parsed");
    let stored_untimed =
        untimed.clone().accept(stamp_at(utc(RECEIVED))).expect("accepted").to_bytes().expect("serialises");
    let retried = untimed.accept(later).expect("accepted");
    assert!(retried.same_report(&stored_untimed, false));
    assert!(!retried.same_report(&stored, false), "the stored one gave a time of its own");
}
