//! EDXL-HAVE 2.0 (OASIS Hospital AVailability Exchange), out and in. Out: a region's
//! facilities as the reader sees them, each with its bed capacity by HAVE bed type (from
//! [`HAVE_BED_TYPES`]), its emergency department's EMS traffic status (from the SEH's acute
//! function) and its facility status. In: a neighbouring system's document as reports with
//! bron `overig`, ids derived from what they say so that the same document twice stores
//! nothing twice. The schema is the 2.0 working draft in `proto/edxl-have-2.0/`; its
//! `STRUCTURE.md` says which element carries what.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use ghor_domain::error::ErrorCode;
use ghor_domain::payload::{AcuteFunctionData, BedsData, FacilityData, Payload, Status, TreatmentPlacesData};
use ghor_domain::values::Count;
use ghor_domain::view::{LocationView, RegionView, ValueView};
use ghor_domain::vocab::{AcuteFunction, Bron, Dimension, FacilityStatus, FunctionStatus, Lang, LocationType};
use ghor_domain::{FieldError, Slug, Source, Submission};
use roxmltree::Node;
use schemars::JsonSchema;
use serde::Serialize;

use super::{seen, Counted, HAVE_BED_TYPES};
use crate::report::beeld::Shown;
use crate::report::html::escape;

const HAVE: &str = "urn:oasis:names:tc:emergency:edxl:have:2.0";
const CT: &str = "urn:oasis:names:tc:emergency:edxl:ct:1.0";
const XNL: &str = "urn:oasis:names:tc:emergency:edxl:ciq:1.0:xnl";
const GML: &str = "http://www.opengis.net/gml/3.2";
/// The bed list's taxonomy: HAVE 1.0's bed types, as the 2.0 draft names none of its own.
pub const BED_TAXONOMY: &str = "urn:ghor:have:2.0:bed-type";
/// The scheme of the facility ids ghor writes: its location ids.
const ID_TYPE: &str = "ghor-location";
/// A facility's `facilityID` must be an XML name, which a location id starting with a digit
/// is not.
const ID_PREFIX: &str = "loc-";

/// ghor's facility states and HAVE's; the first of each HAVE state is what it is read as.
const FACILITY_STATUS: &[(FacilityStatus, &str)] = &[
    (FacilityStatus::Normaal, "Normal"),
    (FacilityStatus::DeelsGesloten, "Compromised"),
    (FacilityStatus::Evacuerend, "Evacuating"),
    (FacilityStatus::Gesloten, "Closed"),
    (FacilityStatus::EvacuatieVoorbereid, "Compromised"),
    (FacilityStatus::BinnenBlijven, "Compromised"),
    (FacilityStatus::Terugkeer, "Compromised"),
    (FacilityStatus::Ontruimd, "Closed"),
    (FacilityStatus::Geevacueerd, "Closed"),
];

/// The SEH open or stopped as HAVE's EMS traffic status, both ways. A scheduled stop is
/// written as `Advisory`, which is not read back: a limitation now is not a stop to come.
const EMS_TRAFFIC: &[(FunctionStatus, &str)] = &[(FunctionStatus::Open, "Normal"), (FunctionStatus::Stop, "Closed")];

fn dimension(counted: Counted) -> (Dimension, &'static str) {
    match counted {
        Counted::Beds(key) => (Dimension::Beds, key.as_str()),
        Counted::Places(key) => (Dimension::TreatmentPlaces, key.as_str()),
    }
}

/// The key of a dimension without keys, such as the facility's status.
const KEYLESS: &str = "-";

/// One capacity of a facility: its HAVE bed type, operational and in use, when observed.
struct Figure {
    have: &'static str,
    label: &'static str,
    operational: u32,
    in_use: u32,
    time: DateTime<Utc>,
}

/// The value of `dimension`/`key` the reader sees, not withdrawn.
fn seen_one<'v>(
    id: &Slug,
    location: &'v LocationView,
    shown: &Shown,
    dimension: Dimension,
    key: &str,
) -> Option<&'v ValueView> {
    seen(id, location, shown, dimension).find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
}

fn figures(id: &Slug, location: &LocationView, shown: &Shown, lang: Lang) -> Vec<Figure> {
    HAVE_BED_TYPES
        .iter()
        .filter_map(|&(counted, have)| {
            let (dimension, key) = dimension(counted);
            let value = seen_one(id, location, shown, dimension, key)?;
            let (operational, in_use) = match counted {
                Counted::Beds(_) => serde_json::from_value::<BedsData>(value.data.clone())
                    .ok()
                    .map(|d| (d.operational.get(), d.occupied.get()))?,
                Counted::Places(_) => serde_json::from_value::<TreatmentPlacesData>(value.data.clone())
                    .ok()
                    .map(|d| (d.operational.get(), d.in_use.get()))?,
            };
            let label = dimension.key_label(key, lang).unwrap_or(key);
            Some(Figure { have, label, operational, in_use, time: value.time })
        })
        .collect()
}

fn language(lang: Lang) -> &'static str {
    match lang {
        Lang::Nl => "nl",
        Lang::En => "en",
    }
}

/// A moment as the schema takes it: seconds, with the Dutch offset, never `Z`.
fn timestamp(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Amsterdam).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// An element with text, on a line of its own.
fn element(out: &mut String, depth: usize, name: &str, text: &str) {
    let _ = writeln!(out, "{:w$}<{name}>{}</{name}>", "", escape(text), w = depth * 2);
}

fn open(out: &mut String, depth: usize, tag: &str) {
    let _ = writeln!(out, "{:w$}<{tag}>", "", w = depth * 2);
}

fn close(out: &mut String, depth: usize, name: &str) {
    let _ = writeln!(out, "{:w$}</{name}>", "", w = depth * 2);
}

/// The region's facilities with a capacity HAVE names, as the reader sees them at `at`,
/// sent by `sender` (the region's GHOR); none when the reader sees no such facility (a
/// HAVE document tells of one at least).
pub fn export(view: &RegionView, shown: &Shown, at: DateTime<Utc>, sender: &str, lang: Lang) -> Option<String> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<have:HAVE xmlns:have=\"{HAVE}\" xmlns:edxl-ct=\"{CT}\" xmlns:xnl=\"{XNL}\" xmlns:gml=\"{GML}\" have:defaultLanguage=\"{}\">",
        language(lang)
    );
    open(&mut out, 1, "have:organizationInformation");
    let _ = writeln!(
        out,
        "    <xnl:OrganisationName xnl:OrganisationID=\"{}\" xnl:OrganisationIDType=\"ghor-region\">",
        view.region
    );
    element(&mut out, 3, "xnl:NameElement", sender);
    close(&mut out, 2, "xnl:OrganisationName");
    close(&mut out, 1, "have:organizationInformation");
    open(&mut out, 1, "have:reportingPeriod");
    element(&mut out, 2, "edxl-ct:FromDateTime", &timestamp(at));
    element(&mut out, 2, "edxl-ct:ToDateTime", &timestamp(at));
    close(&mut out, 1, "have:reportingPeriod");
    let mut facilities = 0;
    for (id, location) in &view.locations {
        let figures = figures(id, location, shown, lang);
        // A facility has one bed list with one item at least.
        let Some(newest) = figures.iter().map(|f| f.time).max() else { continue };
        facilities += 1;
        facility(&mut out, id, location, shown, &figures, newest.min(at), at, lang);
    }
    out.push_str("</have:HAVE>\n");
    (facilities > 0).then_some(out)
}

#[allow(clippy::too_many_arguments)]
fn facility(
    out: &mut String,
    id: &Slug,
    location: &LocationView,
    shown: &Shown,
    figures: &[Figure],
    updated: DateTime<Utc>,
    at: DateTime<Utc>,
    lang: Lang,
) {
    open(out, 1, "have:facility");
    open(out, 2, "have:facilityInformation");
    element(out, 3, "have:facilityID", &format!("{ID_PREFIX}{id}"));
    element(out, 3, "have:facilityName", &location.name);
    open(out, 3, "have:facilityGeoLocation");
    open(out, 4, "edxl-ct:EDXLGeoLocation");
    let _ = writeln!(out, "          <gml:Point gml:id=\"pt-{id}\" srsName=\"urn:ogc:def:crs:EPSG::4326\">");
    element(out, 6, "gml:pos", &format!("{} {}", location.point.lat, location.point.lon));
    close(out, 5, "gml:Point");
    close(out, 4, "edxl-ct:EDXLGeoLocation");
    close(out, 3, "have:facilityGeoLocation");
    open(out, 3, "have:facilityDetails");
    let _ = writeln!(
        out,
        "        <xnl:OrganisationName xnl:OrganisationID=\"{id}\" xnl:OrganisationIDType=\"{ID_TYPE}\">"
    );
    element(out, 5, "xnl:NameElement", location.organisation_name.as_deref().unwrap_or(&location.name));
    close(out, 4, "xnl:OrganisationName");
    close(out, 3, "have:facilityDetails");
    match location.location_type {
        LocationType::Ziekenhuis => element(out, 3, "have:facilityKind", "Hospital"),
        LocationType::VerpleegVerzorgingshuis => element(out, 3, "have:facilityKind", "LongTermCare"),
        _ => {}
    }
    let seh = seen_one(id, location, shown, Dimension::AcuteFunction, AcuteFunction::Seh.as_str())
        .and_then(|v| serde_json::from_value::<AcuteFunctionData>(v.data.clone()).ok());
    if let Some(seh) = seh {
        let status = EMS_TRAFFIC.iter().find(|(s, _)| *s == seh.status).map_or("Advisory", |(_, have)| have);
        open(out, 3, "have:emergencyDepartmentStatus");
        open(out, 4, "have:emsTraffic");
        element(out, 5, "have:emsTrafficStatus", status);
        let reason = match (&seh.reason, seh.status) {
            (Some(reason), _) => Some(reason.as_str().to_owned()),
            (None, FunctionStatus::Gepland) => Some(FunctionStatus::Gepland.label(lang).to_owned()),
            (None, _) => None,
        };
        if let Some(reason) = reason {
            element(out, 5, "have:emsTrafficReason", &reason);
        }
        close(out, 4, "have:emsTraffic");
        close(out, 3, "have:emergencyDepartmentStatus");
    }
    let building = seen_one(id, location, shown, Dimension::Facility, KEYLESS)
        .and_then(|v| serde_json::from_value::<FacilityData>(v.data.clone()).ok());
    if let Some(building) = building {
        let status = FACILITY_STATUS.iter().find(|(s, _)| *s == building.status).map_or("Normal", |(_, have)| have);
        open(out, 3, "have:OBSOLETE_facilityStatus");
        element(out, 4, "have:status", status);
        let _ = writeln!(
            out,
            "        <have:commentText have:language=\"{}\">{}</have:commentText>",
            language(lang),
            escape(building.status.label(lang))
        );
        close(out, 3, "have:OBSOLETE_facilityStatus");
    }
    close(out, 2, "have:facilityInformation");
    open(out, 2, "have:reportingPeriod");
    element(out, 3, "edxl-ct:FromDateTime", &timestamp(updated));
    element(out, 3, "edxl-ct:ToDateTime", &timestamp(at));
    close(out, 2, "have:reportingPeriod");
    open(out, 2, "have:serviceList");
    element(out, 3, "have:taxonomyURI", BED_TAXONOMY);
    element(out, 3, "have:taxonomyName", "EDXL-HAVE 1.0 BedType");
    for figure in figures {
        let available = i64::from(figure.operational) - i64::from(figure.in_use);
        let availability = match available {
            _ if figure.operational == 0 => "Inactive",
            ..0 => "Exceeded",
            0 => "Full",
            _ => "Open",
        };
        open(out, 3, "have:serviceListItem");
        element(out, 4, "have:serviceTaxonomyKeyValue", figure.have);
        element(out, 4, "have:serviceName", figure.label);
        open(out, 4, "have:serviceBedCapacity");
        element(out, 5, "have:availableCount", &available.to_string());
        element(out, 5, "have:baselineCount", &figure.operational.to_string());
        let note = match lang {
            Lang::Nl => format!("bezet {}, waargenomen {}", figure.in_use, timestamp(figure.time)),
            Lang::En => format!("occupied {}, observed {}", figure.in_use, timestamp(figure.time)),
        };
        element(out, 5, "have:capacityNote", &note);
        element(out, 5, "have:availability", availability);
        close(out, 4, "have:serviceBedCapacity");
        close(out, 3, "have:serviceListItem");
    }
    close(out, 2, "have:serviceList");
    close(out, 1, "have:facility");
}

/// A document read in: the reports it makes, each with the path of what it says in the
/// document, and what of it ghor did not take and why.
pub struct Imported {
    pub reports: Vec<(String, Submission)>,
    pub skipped: Vec<Skipped>,
}

/// A part of the document that ghor has no counterpart for.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Skipped {
    /// Where in the document, e.g. `facility[1]/serviceList[1]/serviceListItem[3]`.
    pub path: String,
    pub reason: String,
}

fn children<'a, 'i>(node: Node<'a, 'i>, ns: &'a str, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| c.is_element() && c.has_tag_name((ns, name)))
}

fn child<'a, 'i>(node: Node<'a, 'i>, ns: &'a str, name: &'a str) -> Option<Node<'a, 'i>> {
    children(node, ns, name).next()
}

fn text<'a>(node: Node<'a, '_>, ns: &str, name: &str) -> Option<&'a str> {
    node.children().find(|c| c.is_element() && c.has_tag_name((ns, name))).map(|c| c.text().unwrap_or("").trim())
}

fn moment(node: Option<Node>, path: &str) -> Result<Option<DateTime<Utc>>, FieldError> {
    let Some(from) = node.and_then(|p| text(p, CT, "FromDateTime")) else { return Ok(None) };
    DateTime::parse_from_rfc3339(from).map(|t| Some(t.to_utc())).map_err(|e| {
        FieldError::new(&format!("{path}/reportingPeriod/FromDateTime"), ErrorCode::NotATimestamp, &e.to_string())
    })
}

fn count(capacity: Node, name: &str, path: &str) -> Result<Option<i64>, FieldError> {
    let Some(given) = text(capacity, HAVE, name) else { return Ok(None) };
    given.parse().map(Some).map_err(|_| {
        FieldError::new(&format!("{path}/serviceBedCapacity/{name}"), ErrorCode::NotWhole, &format!("{given:?}"))
    })
}

/// Reads a HAVE 2.0 document: the reports it makes of the locations it names. Refuses a
/// document that is not one, naming where; skips (and says) what ghor has no word for.
pub fn import(xml: &str) -> Result<Imported, FieldError> {
    let document = roxmltree::Document::parse(xml)
        .map_err(|e| FieldError::new("body", ErrorCode::NotXml, &format!("not a well-formed XML document: {e}")))?;
    let root = document.root_element();
    if !root.has_tag_name((HAVE, "HAVE")) {
        let found = root.tag_name();
        return Err(FieldError::new(
            "body",
            ErrorCode::Malformed,
            &format!(
                "the document is a {{{}}}{}, not an EDXL-HAVE 2.0 {{{HAVE}}}HAVE",
                found.namespace().unwrap_or(""),
                found.name()
            ),
        ));
    }
    let sent = moment(child(root, HAVE, "reportingPeriod"), "")?;
    let (mut reports, mut skipped) = (Vec::new(), Vec::new());
    for (i, facility) in children(root, HAVE, "facility").enumerate() {
        let at = format!("facility[{}]", i + 1);
        let information = child(facility, HAVE, "facilityInformation").ok_or_else(|| {
            FieldError::new(
                &format!("{at}/facilityInformation"),
                ErrorCode::Required,
                "every facility has its information",
            )
        })?;
        // Its id in the scheme ghor writes, else the facility's own id.
        let named = child(information, HAVE, "facilityDetails")
            .and_then(|d| child(d, XNL, "OrganisationName"))
            .filter(|n| n.attribute((XNL, "OrganisationIDType")) == Some(ID_TYPE))
            .and_then(|n| n.attribute((XNL, "OrganisationID")));
        let (field, id) = match named {
            Some(id) => (format!("{at}/facilityInformation/facilityDetails/OrganisationName/@OrganisationID"), id),
            None => {
                let id = text(information, HAVE, "facilityID").unwrap_or("");
                (format!("{at}/facilityInformation/facilityID"), id.strip_prefix(ID_PREFIX).unwrap_or(id))
            }
        };
        let location = Slug::try_from(id).map_err(|refusal| refusal.at(&field))?;
        let time = moment(child(facility, HAVE, "reportingPeriod"), &at)?.or(sent);
        let mut report = |path: String, status: Status| {
            // The same statement of the same document twice is the same report.
            let said = format!("edxl-have|{location}|{}|{}|{time:?}", status.dimension(), status.key());
            let submission = Submission {
                id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, said.as_bytes()),
                source: Source::Location(location.clone()),
                time,
                bron: Bron::Overig,
                bevestigd: true,
                prognose: None,
                payload: Payload::Status(status),
            };
            reports.push((path, submission));
        };
        let ems = child(information, HAVE, "emergencyDepartmentStatus")
            .and_then(|e| child(e, HAVE, "emsTraffic"))
            .and_then(|t| text(t, HAVE, "emsTrafficStatus"));
        if let Some(ems) = ems {
            let path = format!("{at}/facilityInformation/emergencyDepartmentStatus/emsTraffic/emsTrafficStatus");
            match EMS_TRAFFIC.iter().find(|(_, have)| *have == ems) {
                Some((status, _)) => {
                    let data = AcuteFunctionData { status: *status, reason: None, expected_end: None };
                    report(path, Status::AcuteFunction { key: AcuteFunction::Seh, data });
                }
                None => skipped.push(Skipped {
                    path,
                    reason: format!("EMS traffic {ems:?} is not an open or stopped SEH (Normal or Closed)"),
                }),
            }
        }
        let building = child(information, HAVE, "OBSOLETE_facilityStatus").and_then(|s| text(s, HAVE, "status"));
        if let Some(building) = building {
            let path = format!("{at}/facilityInformation/OBSOLETE_facilityStatus/status");
            match FACILITY_STATUS.iter().find(|(_, have)| *have == building) {
                Some((status, _)) => {
                    report(path, Status::Facility { data: FacilityData { status: *status, reason: None } })
                }
                None => {
                    skipped.push(Skipped { path, reason: format!("facility status {building:?} is not a HAVE one") })
                }
            }
        }
        for (j, list) in children(facility, HAVE, "serviceList").enumerate() {
            let list_path = format!("{at}/serviceList[{}]", j + 1);
            if text(list, HAVE, "taxonomyURI") != Some(BED_TAXONOMY) {
                skipped.push(Skipped {
                    path: list_path,
                    reason: format!("only the bed list (taxonomyURI {BED_TAXONOMY}) is read"),
                });
                continue;
            }
            for (k, item) in children(list, HAVE, "serviceListItem").enumerate() {
                let path = format!("{list_path}/serviceListItem[{}]", k + 1);
                let key = text(item, HAVE, "serviceTaxonomyKeyValue").unwrap_or("");
                let Some((counted, _)) = HAVE_BED_TYPES.iter().find(|(_, have)| *have == key) else {
                    let known: Vec<&str> = HAVE_BED_TYPES.iter().map(|(_, have)| *have).collect();
                    let reason = format!("bed type {key:?} has no counterpart in ghor; taken are {}", known.join(", "));
                    skipped.push(Skipped { path, reason });
                    continue;
                };
                let Some(capacity) = child(item, HAVE, "serviceBedCapacity") else {
                    skipped.push(Skipped { path, reason: "no serviceBedCapacity".into() });
                    continue;
                };
                let available = count(capacity, "availableCount", &path)?;
                let baseline = count(capacity, "baselineCount", &path)?;
                let (Some(available), Some(baseline)) = (available, baseline) else {
                    let reason =
                        "ghor counts operational and occupied beds: it needs both availableCount and baselineCount";
                    skipped.push(Skipped { path, reason: reason.into() });
                    continue;
                };
                let counts = |value: i64, name: &str| {
                    let field = format!("{path}/serviceBedCapacity/{name}");
                    let value = u32::try_from(value).map_err(|_| {
                        let reason = format!("gives {value} beds in use or operational; counts are 0 or more");
                        FieldError::new(&field, ErrorCode::Negative, &reason)
                    })?;
                    Count::new(value).map_err(|refusal| refusal.at(&field))
                };
                let operational = counts(baseline, "baselineCount")?;
                let in_use = counts(baseline - available, "availableCount")?;
                let status = match counted {
                    Counted::Beds(key) => Status::Beds {
                        key: *key,
                        data: BedsData {
                            operational,
                            physical: None,
                            occupied: in_use,
                            occupied_infectious: None,
                            surge_24h: None,
                        },
                    },
                    Counted::Places(key) => {
                        Status::TreatmentPlaces { key: *key, data: TreatmentPlacesData { operational, in_use } }
                    }
                };
                report(path, status);
            }
        }
    }
    if reports.is_empty() && skipped.is_empty() {
        return Err(FieldError::new("body", ErrorCode::Required, "the document tells of no facility"));
    }
    Ok(Imported { reports, skipped })
}
