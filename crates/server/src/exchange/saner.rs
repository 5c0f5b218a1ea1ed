//! HL7 FHIR R4 after the SANER implementation guide (Situational Awareness for Novel
//! Epidemic Response): a region's hospitals as a Bundle of PublicHealthMeasureReports, one
//! per hospital and Measure, with the Locations and Organizations they name, so that the
//! Bundle stands on its own. Three of SANER's Measures: bed capacity and occupancy (ICU and
//! the rest), supplies' days on hand (the five kinds of PPE SANER names) and critical
//! staffing shortage today and within a week. Codes and displays are the implementation
//! guide's; `tests/exchange/SANER.md` says where each comes from.

use chrono::{DateTime, SecondsFormat, Utc};
use ghor_domain::payload::{BedsData, StaffingData, SuppliesData};
use ghor_domain::view::{LocationView, RegionView, ValueView};
use ghor_domain::vocab::{BedType, Dimension, LocationType, StaffRole, State, Supply, ThresholdKey};
use ghor_domain::Slug;
use serde_json::{json, Value};
use uuid::Uuid;

use super::seen;
use crate::report::beeld::Shown;

const SANER: &str = "http://hl7.org/fhir/uv/saner";
const GROUPS: &str = "http://hl7.org/fhir/uv/saner/CodeSystem/MeasureGroupSystem";
const VALUES: &str = "http://hl7.org/fhir/uv/saner/CodeSystem/MeasuredValues";
const ROLES: &str = "http://terminology.hl7.org/CodeSystem/measure-population";
const SANER_ROLES: &str = "http://hl7.org/fhir/uv/saner/CodeSystem/MeasurePopulationSystem";
const YES_NO: &str = "http://terminology.hl7.org/CodeSystem/special-values";
const ABSENT: &str = "http://hl7.org/fhir/StructureDefinition/data-absent-reason";

/// The bed types counted as intensive care, as Dutch IC figures count them (CDC's would
/// add coronary and burn care).
const ICU: &[BedType] = &[BedType::Ic, BedType::KinderIc, BedType::Nicu];

/// ghor's supplies with a group of SANER's supply Measure: its code, display and the stem
/// of its populations' codes. Oxygen, disinfectant, medication and the rest have none.
const SUPPLIES: &[(Supply, &str, &str, &str)] = &[
    (Supply::Ffp2, "N95Masks", "N95 masks", "n95mask"),
    (Supply::ChirurgischMondmasker, "SurgicalMasks", "Surgical masks", "surgmask"),
    (Supply::Oogbescherming, "EyeProtection", "Eye protection including face shields or goggles", "shield"),
    (Supply::Schorten, "Gown", "Gowns (single use)", "gown"),
    (Supply::Handschoenen, "Glove", "Gloves", "glove"),
];

/// ghor's staff roles by the staff group of SANER's staffing Measure: the groups' code
/// stem and display.
const STAFF: &[(&[StaffRole], &str, &str)] = &[
    (&[StaffRole::Verpleegkundige, StaffRole::IcVerpleegkundige], "nurse", "Nurses"),
    (&[StaffRole::Arts], "phys", "Attending physicians, fellows"),
    (&[StaffRole::Verzorgende, StaffRole::Begeleider, StaffRole::Ondersteunend], "oth", "Other HCP"),
];

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// A stable id for what `name` names: the same hospital is the same resource in every export.
fn id(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes())
}

fn entry(uuid: Uuid, mut resource: Value) -> Value {
    resource["id"] = json!(uuid.to_string());
    json!({ "fullUrl": format!("urn:uuid:{uuid}"), "resource": resource })
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "system": system, "code": code, "display": display })
}

fn counted(codings: Vec<Value>, count: u32) -> Value {
    json!({ "code": { "coding": codings }, "count": count })
}

/// A population: its codings and its count, or (data absent) why there is none.
fn population(codings: Vec<Value>, count: Option<u32>, absent: &str) -> Value {
    match count {
        Some(count) => counted(codings, count),
        None => {
            json!({ "code": { "coding": codings }, "_count": { "extension": [{ "url": ABSENT, "valueCode": absent }] } })
        }
    }
}

/// Keeps in `oldest` the older of it and `time`.
fn older(oldest: &mut Option<DateTime<Utc>>, time: DateTime<Utc>) {
    *oldest = Some(oldest.map_or(time, |o| o.min(time)));
}

/// Beds: all, occupied, available (SANER's total holds every bed in use, so over capacity
/// the total is the occupied and none is available).
#[derive(Default, Clone, Copy)]
struct Beds {
    total: u32,
    occupied: u32,
    available: u32,
}

impl Beds {
    fn add(&mut self, data: &BedsData) {
        let (operational, occupied) = (data.operational.get(), data.occupied.get());
        self.total += operational.max(occupied);
        self.occupied += occupied;
        self.available += operational.saturating_sub(occupied);
    }

    fn populations(self) -> Vec<Value> {
        let value = |code, display| coding(VALUES, code, display);
        vec![
            counted(
                vec![value("numTotBeds", "All Hospital Beds"), coding(ROLES, "denominator", "Denominator")],
                self.total,
            ),
            counted(
                vec![value("numTotBedsOcc", "Hospital Beds Occupied"), coding(ROLES, "numerator", "Numerator")],
                self.occupied,
            ),
            counted(
                vec![
                    value("numTotBedsAvail", "Hospital Beds Available"),
                    coding(SANER_ROLES, "numerator-complement", "Numerator Complement"),
                ],
                self.available,
            ),
        ]
    }
}

/// What one report says: its groups and the oldest observation behind them.
struct Said {
    groups: Vec<Value>,
    oldest: DateTime<Utc>,
}

fn beds(id: &Slug, location: &LocationView, shown: &Shown) -> Option<Said> {
    let (mut all, mut icu, mut rest, mut oldest) = (Beds::default(), None::<Beds>, None::<Beds>, None);
    for (key, value) in seen(id, location, shown, Dimension::Beds) {
        let Ok(data) = serde_json::from_value::<BedsData>(value.data.clone()) else { continue };
        all.add(&data);
        let stratum = if BedType::parse(key).is_some_and(|k| ICU.contains(&k)) { &mut icu } else { &mut rest };
        stratum.get_or_insert_default().add(&data);
        older(&mut oldest, value.time);
    }
    let by_type = "By Type of Location";
    let strata: Vec<Value> = [("Inpatient ICU", icu), ("Inpatient Non-ICU", rest)]
        .into_iter()
        .filter_map(|(name, beds)| {
            Some(json!({
                "component": [{ "code": { "text": by_type }, "value": { "text": name } }],
                "population": beds?.populations(),
            }))
        })
        .collect();
    let group = json!({
        "code": { "coding": [coding(GROUPS, "Beds", "Beds")], "text": "Bed Reporting" },
        "population": all.populations(),
        "stratifier": [{ "code": [{ "text": by_type }], "stratum": strata }],
    });
    Some(Said { groups: vec![group], oldest: oldest? })
}

fn supplies(id: &Slug, location: &LocationView, shown: &Shown) -> Option<Said> {
    let (mut groups, mut oldest) = (Vec::new(), None);
    let reported: Vec<_> = seen(id, location, shown, Dimension::Supplies).collect();
    for (supply, code, display, stem) in SUPPLIES {
        let Some((_, value)) = reported.iter().find(|(key, _)| key.as_str() == supply.as_str()) else { continue };
        let Ok(data) = serde_json::from_value::<SuppliesData>(value.data.clone()) else { continue };
        older(&mut oldest, value.time);
        let days = (data.daily_use.get() > 0).then(|| data.on_hand.get() / data.daily_use.get());
        let yes_no = |answer: Option<bool>| answer.map(u32::from);
        let measured =
            |what: &str, label: &str| coding(VALUES, &format!("{stem}{what}"), &format!("{display} - {label}"));
        groups.push(json!({
            "code": { "coding": [coding(GROUPS, code, display)] },
            "population": [
                population(vec![measured("supply", "On-hand Supply")], days, "not-applicable"),
                population(vec![measured("reuse", "Reusing or Extending Use")], yes_no(data.reusing), "unknown"),
                population(vec![measured("obtain", "Able to Obtain")], yes_no(data.can_obtain_more), "unknown"),
            ],
        }));
    }
    Some(Said { oldest: oldest?, groups })
}

fn staffing(id: &Slug, location: &LocationView, shown: &Shown, critical_shifts: u32) -> Option<Said> {
    let (mut groups, mut oldest) = (Vec::new(), None);
    let reported: Vec<_> = seen(id, location, shown, Dimension::Staffing).collect();
    for (roles, stem, display) in STAFF {
        let values: Vec<(&ValueView, StaffingData)> = reported
            .iter()
            .filter(|(key, _)| StaffRole::parse(key).is_some_and(|r| roles.contains(&r)))
            .filter_map(|(_, v)| Some((*v, serde_json::from_value::<StaffingData>(v.data.clone()).ok()?)))
            .collect();
        if values.is_empty() {
            continue;
        }
        for (value, _) in &values {
            older(&mut oldest, value.time);
        }
        // Today: ghor judges the staffing critical. Within a week: so, or 72 hours ahead
        // at the critical number of open shifts; unknown when 72 hours went unreported.
        let today = values.iter().any(|(v, _)| v.state == Some(State::Kritiek));
        let ahead = values.iter().map(|(_, d)| d.unfilled_shifts_72h.map(|n| n.get() >= critical_shifts));
        let week = if today || ahead.clone().any(|a| a == Some(true)) {
            Some(true)
        } else if ahead.clone().all(|a| a == Some(false)) {
            Some(false)
        } else {
            None
        };
        for (prefix, when, answer) in [("short", "Today", Some(today)), ("posshort", "Within a Week", week)] {
            let code = format!("{prefix}{stem}");
            let group_display = format!("{display} - Critical Staffing Shortage {when}");
            groups.push(json!({
                "code": { "coding": [coding(VALUES, &code, &group_display)] },
                "population": [
                    population(vec![coding(YES_NO, "true", "true")], answer.map(u32::from), "unknown"),
                    population(vec![coding(YES_NO, "false", "false")], answer.map(|a| u32::from(!a)), "unknown"),
                ],
            }));
        }
    }
    Some(Said { oldest: oldest?, groups })
}

/// The region's hospitals as the reader sees them at `at`, as a Bundle made `now`.
pub fn bundle(view: &RegionView, shown: &Shown, at: DateTime<Utc>, now: DateTime<Utc>) -> Value {
    let region = view.region.to_string();
    let region_id = id(&format!("urn:ghor:region:{region}"));
    let (mut places, mut reports) = (Vec::new(), Vec::new());
    let critical_shifts = view.thresholds.get(&ThresholdKey::UnfilledShiftsCritical).copied().unwrap_or(u32::MAX);
    for (slug, location) in view.locations.iter().filter(|(_, l)| l.location_type == LocationType::Ziekenhuis) {
        let measured = [
            ("ComputableCDCPatientImpactAndHospitalCapacity", beds(slug, location, shown)),
            ("CDCHealthcareSupplyPathway", supplies(slug, location, shown)),
            ("CDCHealthcareWorkerStaffingPathway", staffing(slug, location, shown, critical_shifts)),
        ];
        let measured: Vec<_> = measured
            .into_iter()
            .filter_map(|(m, said)| said.filter(|s| !s.groups.is_empty()).map(|s| (m, s)))
            .collect();
        if measured.is_empty() {
            continue;
        }
        let organisation = location.organisation_name.as_deref().unwrap_or(&location.name);
        let (location_id, organisation_id) =
            (id(&format!("urn:ghor:location:{slug}")), id(&format!("urn:ghor:organisation:{}", location.organisation)));
        let subject = json!({
            "extension": [{
                "url": format!("{SANER}/StructureDefinition/GeoLocation"),
                "extension": [
                    { "url": "latitude", "valueDecimal": location.point.lat },
                    { "url": "longitude", "valueDecimal": location.point.lon },
                ],
            }],
            "reference": format!("urn:uuid:{location_id}"),
            "type": "Location",
            "identifier": { "system": "urn:ghor:location", "value": slug.as_str() },
            "display": location.name,
        });
        let reporter = json!({
            "reference": format!("urn:uuid:{organisation_id}"),
            "type": "Organization",
            "identifier": { "system": "urn:ghor:organisation", "value": location.organisation.as_str() },
            "display": organisation,
        });
        for (measure, said) in measured {
            let report_id = id(&format!("urn:ghor:saner:{region}:{slug}:{measure}:{}", time(at)));
            reports.push(entry(
                report_id,
                json!({
                    "resourceType": "MeasureReport",
                    "meta": { "profile": [format!("{SANER}/StructureDefinition/PublicHealthMeasureReport")] },
                    "identifier": [{ "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{report_id}") }],
                    "status": "complete",
                    "type": "summary",
                    "measure": format!("{SANER}/Measure/{measure}"),
                    "subject": subject,
                    "date": time(now),
                    "reporter": reporter,
                    // From the oldest figure in it to the moment it describes: how old they are.
                    "period": { "start": time(said.oldest.min(at)), "end": time(at) },
                    "group": said.groups,
                }),
            ));
        }
        if !places.iter().any(|p: &Value| p["fullUrl"] == format!("urn:uuid:{organisation_id}")) {
            places.push(entry(
                organisation_id,
                json!({
                    "resourceType": "Organization",
                    "identifier": [{ "system": "urn:ghor:organisation", "value": location.organisation.as_str() }],
                    "active": true,
                    "type": [{ "coding": [coding("http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider")] }],
                    "name": organisation,
                }),
            ));
        }
        let mut place = json!({
            "resourceType": "Location",
            "identifier": [{ "system": "urn:ghor:location", "value": slug.as_str() }],
            "status": "active",
            "name": location.name,
            "mode": "instance",
            "type": [{ "coding": [coding("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "HOSP", "Hospital")] }],
            "physicalType": { "coding": [coding("http://terminology.hl7.org/CodeSystem/location-physical-type", "si", "Site")] },
            "position": { "longitude": location.point.lon, "latitude": location.point.lat },
            "managingOrganization": { "reference": format!("urn:uuid:{organisation_id}"), "display": organisation },
            "partOf": { "reference": format!("urn:uuid:{region_id}"), "display": view.name },
        });
        if let Some(city) = &location.municipality {
            place["address"] = json!({ "city": city, "country": "NL" });
        }
        places.push(entry(location_id, place));
    }
    let jurisdiction = entry(
        region_id,
        json!({
            "resourceType": "Location",
            "identifier": [{ "system": "urn:ghor:region", "value": region }],
            "status": "active",
            "name": view.name,
            "mode": "instance",
            "physicalType": { "coding": [coding("http://terminology.hl7.org/CodeSystem/location-physical-type", "jdn", "Jurisdiction")] },
        }),
    );
    let bundle_id = id(&format!("urn:ghor:saner:{region}:{}", time(at)));
    let entries: Vec<Value> = std::iter::once(jurisdiction).chain(places).chain(reports).collect();
    json!({
        "resourceType": "Bundle",
        "id": bundle_id.to_string(),
        "identifier": { "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{bundle_id}") },
        "type": "collection",
        "timestamp": time(now),
        "entry": entries,
    })
}
