//! Throughput of the ingest path that every report takes, and of building a region's view.
//!
//! `decode + validate + fold`: 10 000 prebuilt JSON submissions (beds, supplies, utilities,
//! staffing, judgement) about 200 registered locations in 3 regions, each taken through
//! `serde_json::from_slice` → `Submission::parse` → `accept` → `Picture::apply`.
//! `region_view`: the view of the busiest region of the resulting picture.
//! `warm`: what one report costs a gateway's region view (`refresh_view` of that location)
//! in a region of 2 000 locations, without an uitvraag and with one that addresses all of
//! them (its view is summed again on every refresh).
//!
//! Run with `cargo bench --bench fold`.

use std::hint::black_box;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ghor_domain::{Picture, RegionCode, Scope, Stamp, Submission};
use ghor_store::testing::Mix;
use serde_json::{json, Value};

const SUBMISSIONS: usize = 10_000;
const LOCATIONS: usize = 200;
const REGIONS: [&str; 3] = ["VR01", "VR02", "VR03"];

fn day_start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0).single().expect("valid date")
}

/// Every report is received at the end of the day, so none lies in the future.
fn stamp(region: RegionCode) -> Stamp {
    Stamp { region, scope: Scope::Live, actor: "bench".into(), received: day_start() + chrono::Duration::hours(23) }
}

fn region_of(location: usize) -> RegionCode {
    RegionCode::try_from(REGIONS[location % REGIONS.len()]).expect("bench region")
}

fn registration(location: usize) -> Value {
    let kinds = ["ziekenhuis", "verpleeg_verzorgingshuis", "ggz", "huisartsenpost"];
    json!({
        "specversion": "1.0",
        "id": uuid::Uuid::from_u128(location as u128 + 1).to_string(),
        "source": format!("/locations/loc-{location:03}"),
        "type": "nl.ghor.location.registered.v1",
        "time": "2026-11-22T00:00:00Z",
        "data": {
            "name": format!("Zorglocatie {location}"),
            "organisation": format!("org-{:02}", location / 5),
            "type": kinds[location % kinds.len()],
            "region": region_of(location).to_string(),
            "municipality": "Groningen",
            "point": { "lat": 52.0 + (location % 100) as f64 / 100.0, "lon": 5.0 + (location / 100) as f64 },
        }
    })
}

/// One status report of a random kind about a random location.
fn report(mix: &mut Mix, n: usize) -> (Vec<u8>, RegionCode) {
    let location = mix.below(LOCATIONS as u64) as usize;
    let minute = mix.below(22 * 60);
    let time = day_start() + chrono::Duration::minutes(minute as i64);
    let (kind, subject, data) = match mix.below(5) {
        0 => {
            let operational = mix.below(60);
            (
                "beds",
                Some(mix.pick(&["ic", "klinisch", "mc", "vvt_somatisch"])),
                json!({ "operational": operational, "occupied": mix.below(operational + 1), "surge_24h": mix.below(5) }),
            )
        }
        1 => (
            "supplies",
            Some(mix.pick(&["zuurstof", "ffp2", "handschoenen", "voeding", "drinkwater"])),
            json!({ "on_hand": mix.below(2_000), "daily_use": 1 + mix.below(200), "can_obtain_more": mix.below(2) == 0 }),
        ),
        2 => {
            let status = mix.pick(&["normaal", "normaal", "verstoord", "uitgevallen"]);
            (
                "utility",
                Some(mix.pick(&["stroom", "water", "verwarming", "koeling"])),
                json!({ "status": status, "on_backup": status == "uitgevallen" && mix.below(2) == 0, "backup_hours_left": mix.below(72) }),
            )
        }
        3 => (
            "staffing",
            Some(mix.pick(&["verpleegkundige", "ic_verpleegkundige", "arts", "verzorgende"])),
            json!({ "unfilled_shifts_24h": mix.below(8), "absence_percent": mix.below(30), "critical": mix.below(10) == 0 }),
        ),
        _ => (
            "judgement",
            None,
            json!({ "care_next_24h": mix.pick(&["ja", "ja", "met_moeite", "nee"]), "reason": "Inschatting dienstdoend manager" }),
        ),
    };
    let mut v = json!({
        "specversion": "1.0",
        "id": uuid::Uuid::from_u128(((n as u128) << 16) | 0x7000_8000).to_string(),
        "source": format!("/locations/loc-{location:03}"),
        "type": format!("nl.ghor.{kind}.reported.v1"),
        "time": time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": data,
    });
    if let Some(s) = subject {
        v["subject"] = s.into();
    }
    (serde_json::to_vec(&v).expect("serialises"), region_of(location))
}

/// Takes one submission the whole way: bytes to folded picture.
fn ingest(picture: &mut Picture, bytes: &[u8], region: RegionCode) {
    let value: Value = serde_json::from_slice(bytes).expect("bench input is JSON");
    let event = Submission::parse(value).and_then(|s| s.accept(stamp(region))).expect("bench input is valid");
    picture.apply(&event);
}

fn registered_picture() -> Picture {
    let mut picture = Picture::default();
    for location in 0..LOCATIONS {
        let bytes = serde_json::to_vec(&registration(location)).expect("serialises");
        ingest(&mut picture, &bytes, region_of(location));
    }
    picture
}

fn submissions() -> Vec<(Vec<u8>, RegionCode)> {
    let mut mix = Mix(0x6768_6f72);
    (0..SUBMISSIONS).map(|n| report(&mut mix, n)).collect()
}

fn decode_validate_fold(c: &mut Criterion) {
    let base = registered_picture();
    let input = submissions();
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(SUBMISSIONS as u64));
    group.bench_function("decode + validate + fold", |b| {
        b.iter_batched(
            || base.clone(),
            |mut picture| {
                for (bytes, region) in &input {
                    ingest(&mut picture, black_box(bytes), *region);
                }
                picture
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn region_view(c: &mut Criterion) {
    let mut picture = registered_picture();
    for (bytes, region) in submissions() {
        ingest(&mut picture, &bytes, region);
    }
    let region = RegionCode::try_from(REGIONS[0]).expect("bench region");
    let locations = picture.region_view(region).locations.len() as u64;
    let mut group = c.benchmark_group("view");
    group.throughput(Throughput::Elements(locations));
    group.bench_function("region_view", |b| b.iter(|| picture.region_view(black_box(region))));
    group.finish();
}

/// A region of `n` registered locations (loc-0000 …), each with one beds report, and with
/// an uitvraag to all of them when `asked`.
fn warm_picture(n: usize, asked: bool) -> Picture {
    let region = RegionCode::try_from("VR01").expect("bench region");
    let mut picture = Picture::default();
    for location in 0..n {
        let mut registration = registration(location);
        registration["source"] = json!(format!("/locations/loc-{location:04}"));
        registration["data"]["region"] = json!("VR01");
        registration["data"]["point"] =
            json!({ "lat": 52.0 + (location % 100) as f64 / 100.0, "lon": 5.0 + (location / 100) as f64 / 10.0 });
        ingest(&mut picture, &serde_json::to_vec(&registration).expect("serialises"), region);
    }
    if asked {
        let uitvraag = json!({
            "specversion": "1.0", "id": uuid::Uuid::from_u128(1 << 100).to_string(), "source": "/regions/VR01",
            "type": "nl.ghor.uitvraag.opened.v1", "subject": "bench", "time": "2026-11-22T08:00:00Z",
            "data": { "title": "Bench", "area": { "regions": ["VR01"] }, "asked": [{ "dimension": "beds" }, { "dimension": "utility" }],
                      "deadline": "2026-11-22T20:00:00Z" },
        });
        ingest(&mut picture, &serde_json::to_vec(&uitvraag).expect("serialises"), region);
    }
    for location in 0..n {
        let beds = json!({
            "specversion": "1.0", "id": uuid::Uuid::from_u128((location as u128) << 20 | 5).to_string(),
            "source": format!("/locations/loc-{location:04}"), "type": "nl.ghor.beds.reported.v1", "subject": "ic",
            "time": "2026-11-22T09:00:00Z", "data": { "operational": 10, "occupied": location % 10 },
        });
        ingest(&mut picture, &serde_json::to_vec(&beds).expect("serialises"), region);
    }
    picture
}

fn warm_refresh(c: &mut Criterion) {
    const N: usize = 2_000;
    let region = RegionCode::try_from("VR01").expect("bench region");
    let location = ghor_domain::Slug::try_from("loc-0042").expect("slug");
    let mut group = c.benchmark_group("warm");
    for asked in [false, true] {
        let picture = warm_picture(N, asked);
        let mut view = picture.region_view(region);
        let name = if asked { "refresh_view, uitvraag to 2000" } else { "refresh_view, no uitvraag" };
        group.bench_function(name, |b| b.iter(|| picture.refresh_view(&mut view, [black_box(&location)])));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = decode_validate_fold, region_view, warm_refresh
}
criterion_main!(benches);
