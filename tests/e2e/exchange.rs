//! Exchange so that institutions report once (issue 13): the region's hospitals as an
//! EDXL-HAVE 2.0 document that the schema in `proto/edxl-have-2.0/` validates (xmllint) and
//! that a second ghor takes in as the same bed figures, once only; a neighbouring system's
//! document read strictly; and the same hospitals as a FHIR R4 Bundle of SANER
//! MeasureReports that a FHIR validator accepts (`tests/exchange/validate-fhir`).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{json, Value};

use crate::harness::{event, wait_for, Ghor};

const SCHEMA: &str = "proto/edxl-have-2.0/edxl-have-v2.0-working-draft.xsd";

/// Reports about `location` with its own token (the harness names each after its location).
async fn report(ghor: &Ghor, location: &str, event_type: &str, subject: Option<&str>, data: Value) {
    let e = event(&format!("/locations/{location}"), event_type, subject, data);
    let (status, body) = ghor.post(location, "/v1/events", &e).await;
    assert_eq!(status, 201, "{event_type}: {body}");
}

/// The hospitals' status the tests export: what HAVE names and what it does not (MC).
async fn hospitals(ghor: &Ghor) {
    let beds = "nl.ghor.beds.reported.v1";
    report(ghor, "umcg", beds, Some("ic"), json!({ "operational": 20, "occupied": 17 })).await;
    report(ghor, "umcg", beds, Some("klinisch"), json!({ "operational": 300, "occupied": 310 })).await;
    report(ghor, "umcg", beds, Some("mc"), json!({ "operational": 10, "occupied": 5 })).await;
    let places = "nl.ghor.treatment_places.reported.v1";
    report(ghor, "umcg", places, Some("ok"), json!({ "operational": 12, "in_use": 10 })).await;
    let seh = json!({ "status": "stop", "reason": "CT-scanner defect" });
    report(ghor, "umcg", "nl.ghor.acute_function.reported.v1", Some("seh"), seh).await;
    report(ghor, "umcg", "nl.ghor.facility.reported.v1", None, json!({ "status": "deels_gesloten" })).await;
    report(ghor, "martini", beds, Some("kinder_ic"), json!({ "operational": 6, "occupied": 6 })).await;
    // The last one folded, all are.
    value(ghor, "martini", "beds", "kinder_ic").await;
}

/// A document as `token` gets it: status, content type and body.
async fn document(ghor: &Ghor, token: &str, path: &str) -> (u16, String, String) {
    let response =
        ghor.http.get(format!("{}{path}", ghor.url)).bearer_auth(ghor.token(token)).send().await.expect("request");
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, content_type, response.text().await.expect("body"))
}

/// Posts a HAVE document as `token`.
async fn import(ghor: &Ghor, token: &str, xml: &str) -> (u16, Value) {
    let response = ghor
        .http
        .post(format!("{}/v1/exchange/have", ghor.url))
        .bearer_auth(ghor.token(token))
        .header("content-type", "application/xml")
        .body(xml.to_owned())
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Runs a checker of the repository on `input` (a file it writes): its output, failing
/// the test with it when the checker refuses.
fn check(program: &str, args: &[&str], input: &str, name: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(name);
    std::fs::write(&file, input).expect("write");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(program)
        .args(args)
        .arg(&file)
        .current_dir(repo)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (tests/run installs it): {e}"));
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{program} refuses {name}:\n{said}\n{input}");
    said
}

/// A facility's figure: `(availableCount, baselineCount)` of a HAVE bed type.
fn have_beds(xml: &str, facility: &str, bed_type: &str) -> Option<(i64, i64)> {
    let document = roxmltree::Document::parse(xml).expect("XML");
    let facility = document
        .descendants()
        .filter(|n| n.has_tag_name("facility"))
        .find(|f| f.descendants().any(|n| n.has_tag_name("facilityID") && n.text() == Some(facility)))?;
    let item = facility
        .descendants()
        .filter(|n| n.has_tag_name("serviceListItem"))
        .find(|i| i.descendants().any(|n| n.has_tag_name("serviceTaxonomyKeyValue") && n.text() == Some(bed_type)))?;
    let count = |name: &str| {
        item.descendants().find(|n| n.has_tag_name(name)).and_then(|n| n.text()).and_then(|t| t.parse().ok())
    };
    Some((count("availableCount")?, count("baselineCount")?))
}

/// The value `location` has in the picture now (null when none).
async fn value_now(ghor: &Ghor, location: &str, dimension: &str, key: &str) -> Value {
    // As the informatiemanager of its region reads it.
    let token = if location == "mcl" { "im2" } else { "im" };
    let (status, body) = ghor.get(token, &format!("/v1/picture/locations/{location}")).await;
    assert_eq!(status, 200, "{body}");
    body["location"]["dimensions"][dimension]["values"][key].clone()
}

/// The value `location` has once the picture has folded what was stored.
async fn value(ghor: &Ghor, location: &str, dimension: &str, key: &str) -> Value {
    wait_for(async || !value_now(ghor, location, dimension, key).await.is_null()).await;
    value_now(ghor, location, dimension, key).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_have_document_validates_and_round_trips_to_the_same_bed_figures() {
    let ghor = super::start().await;
    hospitals(&ghor).await;
    let (status, content_type, xml) = document(&ghor, "im", "/v1/picture/regions/VR01/have").await;
    assert_eq!(status, 200, "{xml}");
    assert!(content_type.starts_with("application/xml"), "{content_type}");
    check("xmllint", &["--noout", "--nonet", "--schema", SCHEMA], &xml, "have.xml");

    // The figures as HAVE says them: available = operational − occupied, baseline = operational.
    assert_eq!(have_beds(&xml, "loc-umcg", "AdultICU"), Some((3, 20)), "{xml}");
    assert_eq!(have_beds(&xml, "loc-umcg", "MedicalSurgical"), Some((-10, 300)), "over capacity: {xml}");
    assert_eq!(have_beds(&xml, "loc-umcg", "OperatingRooms"), Some((2, 12)), "{xml}");
    assert_eq!(have_beds(&xml, "loc-martini", "PediatricICU"), Some((0, 6)), "{xml}");
    assert!(xml.contains("<have:availability>Exceeded</have:availability>"), "{xml}");
    assert!(xml.contains("<have:emsTrafficStatus>Closed</have:emsTrafficStatus>"), "{xml}");
    assert!(xml.contains("<have:emsTrafficReason>CT-scanner defect</have:emsTrafficReason>"), "{xml}");
    assert!(xml.contains("<have:status>Compromised</have:status>"), "{xml}");
    assert!(!xml.contains("loc-mcl"), "a facility of another region: {xml}");

    // Another ghor (a neighbouring region's, with the same registry) takes it in.
    let other = super::start().await;
    let (status, answer) = import(&other, "im", &xml).await;
    assert_eq!(status, 200, "{answer}");
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len(), 6, "ic, klinisch, ok, kinder_ic, the SEH and the facility: {answer}");
    assert!(results.iter().all(|r| r["status"] == "stored"), "{answer}");
    let paths: Vec<&str> = results.iter().filter_map(|r| r["path"].as_str()).collect();
    assert!(paths.contains(&"facility[1]/serviceList[1]/serviceListItem[1]"), "{paths:?}");
    let ic = value(&other, "umcg", "beds", "ic").await;
    assert_eq!((ic["data"]["operational"].as_u64(), ic["data"]["occupied"].as_u64()), (Some(20), Some(17)), "{ic}");
    assert_eq!((ic["bron"].as_str(), ic["actor"].as_str()), (Some("overig"), Some("IM Groningen")), "{ic}");
    let ward = value(&other, "umcg", "beds", "klinisch").await;
    assert_eq!((ward["data"]["operational"].as_u64(), ward["data"]["occupied"].as_u64()), (Some(300), Some(310)));
    let ok = value(&other, "umcg", "treatment_places", "ok").await;
    assert_eq!((ok["data"]["operational"].as_u64(), ok["data"]["in_use"].as_u64()), (Some(12), Some(10)), "{ok}");
    let picu = value(&other, "martini", "beds", "kinder_ic").await;
    assert_eq!((picu["data"]["operational"].as_u64(), picu["data"]["occupied"].as_u64()), (Some(6), Some(6)));
    assert_eq!(value(&other, "umcg", "acute_function", "seh").await["data"]["status"], "stop");
    assert_eq!(value(&other, "umcg", "facility", "-").await["data"]["status"], "deels_gesloten");
    assert_eq!(value_now(&other, "umcg", "beds", "mc").await, Value::Null, "MC has no HAVE bed type");
    // Observed when the document says, to the second.
    let sent = value(&ghor, "umcg", "beds", "klinisch").await["time"].as_str().expect("time").to_owned();
    let taken = ward["time"].as_str().expect("time");
    assert_eq!(taken.get(..19), sent.get(..19), "the newest figure's time, in seconds");

    // The same document again stores nothing twice.
    let (status, again) = import(&other, "im", &xml).await;
    assert_eq!(status, 200, "{again}");
    assert!(again["results"].as_array().expect("results").iter().all(|r| r["status"] == "duplicate"), "{again}");
    // And the exported picture of the second ghor is the first's.
    let (_, _, back) = document(&other, "im", "/v1/picture/regions/VR01/have").await;
    for (facility, bed_type) in
        [("loc-umcg", "AdultICU"), ("loc-umcg", "MedicalSurgical"), ("loc-martini", "PediatricICU")]
    {
        assert_eq!(have_beds(&back, facility, bed_type), have_beds(&xml, facility, bed_type), "{facility} {bed_type}");
    }
}

/// A neighbouring system's document with one of each thing ghor reads, skips or refuses.
fn neighbours(available: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<h:HAVE xmlns:h="urn:oasis:names:tc:emergency:edxl:have:2.0" xmlns:ct="urn:oasis:names:tc:emergency:edxl:ct:1.0"
        xmlns:xnl="urn:oasis:names:tc:emergency:edxl:ciq:1.0:xnl">
  <h:organizationInformation><xnl:OrganisationName><xnl:NameElement>Buurregio</xnl:NameElement></xnl:OrganisationName></h:organizationInformation>
  <h:facility>
    <h:facilityInformation>
      <h:facilityID>loc-umcg</h:facilityID>
      <h:facilityName>UMCG</h:facilityName>
      <h:facilityDetails><xnl:OrganisationName/></h:facilityDetails>
      <h:emergencyDepartmentStatus><h:emsTraffic><h:emsTrafficStatus>Advisory</h:emsTrafficStatus></h:emsTraffic></h:emergencyDepartmentStatus>
    </h:facilityInformation>
    <h:reportingPeriod><ct:FromDateTime>2026-01-05T10:00:00+01:00</ct:FromDateTime><ct:ToDateTime>2026-01-05T11:00:00+01:00</ct:ToDateTime></h:reportingPeriod>
    <h:serviceList>
      <h:taxonomyURI>urn:ghor:have:2.0:bed-type</h:taxonomyURI>
      <h:taxonomyName>EDXL-HAVE 1.0 BedType</h:taxonomyName>
      <h:serviceListItem><h:serviceTaxonomyKeyValue>AdultICU</h:serviceTaxonomyKeyValue><h:serviceName>IC</h:serviceName>
        <h:serviceBedCapacity><h:availableCount>{available}</h:availableCount><h:baselineCount>10</h:baselineCount></h:serviceBedCapacity></h:serviceListItem>
      <h:serviceListItem><h:serviceTaxonomyKeyValue>NurseryBeds</h:serviceTaxonomyKeyValue><h:serviceName>Nursery</h:serviceName>
        <h:serviceBedCapacity><h:availableCount>2</h:availableCount><h:baselineCount>4</h:baselineCount></h:serviceBedCapacity></h:serviceListItem>
      <h:serviceListItem><h:serviceTaxonomyKeyValue>Burn</h:serviceTaxonomyKeyValue><h:serviceName>Burn</h:serviceName>
        <h:serviceBedCapacity><h:availableCount>1</h:availableCount></h:serviceBedCapacity></h:serviceListItem>
    </h:serviceList>
    <h:serviceList>
      <h:taxonomyURI>urn:example:departments</h:taxonomyURI><h:taxonomyName>Afdelingen</h:taxonomyName>
      <h:serviceListItem><h:serviceTaxonomyKeyValue>X</h:serviceTaxonomyKeyValue><h:serviceName>X</h:serviceName></h:serviceListItem>
    </h:serviceList>
  </h:facility>
  <h:facility>
    <h:facilityInformation>
      <h:facilityID>loc-mcl</h:facilityID><h:facilityName>MCL</h:facilityName>
      <h:facilityDetails><xnl:OrganisationName/></h:facilityDetails>
    </h:facilityInformation>
    <h:serviceList>
      <h:taxonomyURI>urn:ghor:have:2.0:bed-type</h:taxonomyURI><h:taxonomyName>EDXL-HAVE 1.0 BedType</h:taxonomyName>
      <h:serviceListItem><h:serviceTaxonomyKeyValue>Pediatrics</h:serviceTaxonomyKeyValue><h:serviceName>Kinderen</h:serviceName>
        <h:serviceBedCapacity><h:availableCount>5</h:availableCount><h:baselineCount>20</h:baselineCount></h:serviceBedCapacity></h:serviceListItem>
    </h:serviceList>
  </h:facility>
</h:HAVE>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_neighbours_have_document_is_read_strictly_and_authorised_per_report() {
    let ghor = super::start().await;
    let xml = neighbours("4");
    check("xmllint", &["--noout", "--nonet", "--schema", SCHEMA], &xml, "neighbours.xml");

    // Each report as if the caller had sent it: the informatiemanager of VR01 reports on
    // the UMCG, not on the MCL in VR02; what ghor has no word for is skipped, and said where.
    let (status, answer) = import(&ghor, "im", &xml).await;
    assert_eq!(status, 200, "{answer}");
    let results = answer["results"].as_array().expect("results");
    let by_path = |path: &str| results.iter().find(|r| r["path"] == path).cloned().unwrap_or(Value::Null);
    assert_eq!(by_path("facility[1]/serviceList[1]/serviceListItem[1]")["status"], "stored", "{answer}");
    let mcl = by_path("facility[2]/serviceList[1]/serviceListItem[1]");
    assert_eq!((mcl["status"].as_str(), mcl["problem"]["status"].as_u64()), (Some("rejected"), Some(403)), "{answer}");
    let skipped: Vec<&str> =
        answer["skipped"].as_array().expect("skipped").iter().filter_map(|s| s["path"].as_str()).collect();
    assert_eq!(
        skipped,
        [
            "facility[1]/facilityInformation/emergencyDepartmentStatus/emsTraffic/emsTrafficStatus",
            "facility[1]/serviceList[1]/serviceListItem[2]",
            "facility[1]/serviceList[1]/serviceListItem[3]",
            "facility[1]/serviceList[2]",
        ],
        "Advisory, NurseryBeds, Burn without a baseline, another taxonomy: {answer}"
    );
    let ic = value(&ghor, "umcg", "beds", "ic").await;
    assert_eq!((ic["data"]["operational"].as_u64(), ic["data"]["occupied"].as_u64()), (Some(10), Some(6)), "{ic}");
    assert_eq!(
        (ic["time"].as_str().map(|t| &t[..19]), ic["actor"].as_str()),
        (Some("2026-01-05T09:00:00"), Some("IM Groningen"))
    );
    assert_eq!(value_now(&ghor, "mcl", "beds", "kinderafdeling").await, Value::Null, "not VR01's to report");

    // A reader takes in nothing; nor does an institution, whose own system reports what
    // it saw itself (bron api), not what others saw.
    for token in ["rot", "umcg"] {
        let (status, answer) = import(&ghor, token, &xml).await;
        assert_eq!(status, 200, "{answer}");
        let results = answer["results"].as_array().expect("results");
        assert!(results.iter().all(|r| r["problem"]["status"] == 403), "{token}: {answer}");
    }

    // What is not a HAVE document is refused whole, naming where and why.
    let refusals = [
        (
            neighbours("drie"),
            "facility[1]/serviceList[1]/serviceListItem[1]/serviceBedCapacity/availableCount",
            "not_whole",
        ),
        (
            neighbours("12"),
            "facility[1]/serviceList[1]/serviceListItem[1]/serviceBedCapacity/availableCount",
            "negative",
        ),
        ("<HAVE>".to_owned(), "body", "not_xml"),
        (
            "<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><l>&b;</l>".to_owned(),
            "body",
            "not_xml",
        ),
        ("<EDXLDistribution xmlns=\"urn:oasis:names:tc:emergency:EDXL:DE:1.0\"/>".to_owned(), "body", "malformed"),
        (xml.replace("loc-umcg", "1 2"), "facility[1]/facilityInformation/facilityID", "not_an_identifier"),
    ];
    for (document, field, code) in refusals {
        let (status, problem) = import(&ghor, "im", &document).await;
        assert_eq!(status, 422, "{field}: {problem}");
        assert_eq!(
            (problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()),
            (Some(field), Some(code)),
            "{problem}"
        );
    }
    let json =
        ghor.http.post(format!("{}/v1/exchange/have", ghor.url)).bearer_auth(ghor.token("im")).json(&json!({})).send();
    assert_eq!(json.await.expect("request").status().as_u16(), 415, "a HAVE document is XML");
    // Nothing of the refused documents was stored.
    assert_eq!(value(&ghor, "umcg", "beds", "ic").await["data"]["operational"], 10);

    // A reader who sees no facility by name gets no HAVE document, and is told why.
    let (status, _, problem) = document(&ghor, "bestuur", "/v1/picture/regions/VR01/have").await;
    assert_eq!(status, 404, "{problem}");
}

/// The MeasureReports of a SANER Bundle.
fn measure_reports(bundle: &Value) -> Vec<&Value> {
    let entries = bundle["entry"].as_array().expect("entries").iter().map(|e| &e["resource"]);
    entries.filter(|r| r["resourceType"] == "MeasureReport").collect()
}

/// In the report of `measure` on `location`, the count of population `code` of the group
/// coded `group` (or of its stratum `stratum`); a data-absent reason as `Err`.
fn saner_count(
    bundle: &Value,
    location: &str,
    measure: &str,
    group: &str,
    stratum: Option<&str>,
    code: &str,
) -> Result<i64, String> {
    let coded = |v: &Value, code: &str| v["code"]["coding"].as_array().into_iter().flatten().any(|c| c["code"] == code);
    let report = measure_reports(bundle)
        .into_iter()
        .find(|r| {
            r["subject"]["identifier"]["value"] == location
                && r["measure"].as_str().is_some_and(|m| m.ends_with(measure))
        })
        .ok_or("no report")?;
    let group = report["group"].as_array().into_iter().flatten().find(|g| coded(g, group)).ok_or("no group")?;
    let populations = match stratum {
        None => &group["population"],
        Some(name) => {
            let strata = group["stratifier"][0]["stratum"].as_array().into_iter().flatten();
            &strata.clone().find(|s| s["component"][0]["value"]["text"] == name).ok_or("no stratum")?["population"]
        }
    };
    let population = populations.as_array().into_iter().flatten().find(|p| coded(p, code)).ok_or("no population")?;
    population["count"].as_i64().ok_or_else(|| population["_count"]["extension"][0]["valueCode"].to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hospitals_as_saner_measure_reports_pass_a_fhir_validator() {
    let ghor = super::start().await;
    report(&ghor, "umcg", "nl.ghor.supplies.reported.v1", Some("ffp2"), json!({ "on_hand": 3500, "daily_use": 1000 }))
        .await;
    let staffing = json!({ "unfilled_shifts_24h": 6, "unfilled_shifts_72h": 9, "critical": true });
    report(&ghor, "umcg", "nl.ghor.staffing.reported.v1", Some("ic_verpleegkundige"), staffing).await;
    let staffing = json!({ "unfilled_shifts_24h": 0, "unfilled_shifts_72h": 0 });
    report(&ghor, "umcg", "nl.ghor.staffing.reported.v1", Some("arts"), staffing).await;
    hospitals(&ghor).await;
    let (status, content_type, body) = document(&ghor, "im", "/v1/picture/regions/VR01/saner").await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.starts_with("application/fhir+json"), "{content_type}");
    check("tests/exchange/validate-fhir", &[], &body, "bundle.json");
    let bundle: Value = serde_json::from_str(&body).expect("JSON");

    // Beds: every bed type (MC too); over capacity the total is the occupied, none free.
    let beds = |location, stratum, code| {
        saner_count(&bundle, location, "ComputableCDCPatientImpactAndHospitalCapacity", "Beds", stratum, code)
    };
    assert_eq!(beds("umcg", None, "numTotBeds"), Ok(20 + 310 + 10), "{body}");
    assert_eq!(beds("umcg", None, "numTotBedsOcc"), Ok(17 + 310 + 5), "{body}");
    assert_eq!(beds("umcg", None, "numTotBedsAvail"), Ok(3 + 5), "{body}");
    assert_eq!(beds("umcg", Some("Inpatient ICU"), "numTotBeds"), Ok(20), "{body}");
    assert_eq!(beds("umcg", Some("Inpatient ICU"), "numTotBedsAvail"), Ok(3), "{body}");
    assert_eq!(beds("umcg", Some("Inpatient Non-ICU"), "numTotBedsOcc"), Ok(315), "{body}");
    assert_eq!(beds("martini", Some("Inpatient ICU"), "numTotBedsOcc"), Ok(6), "the paediatric IC is intensive care");
    // Supplies: whole days on hand; what was not said is absent, with its reason.
    let supply = |group, code| saner_count(&bundle, "umcg", "CDCHealthcareSupplyPathway", group, None, code);
    assert_eq!(supply("N95Masks", "n95masksupply"), Ok(3), "{body}");
    assert_eq!(supply("N95Masks", "n95maskreuse"), Err("\"unknown\"".into()), "{body}");
    // Staffing: the IC nurses' shortage is critical today; the doctors' is not, nor ahead.
    let staff = |group, code| saner_count(&bundle, "umcg", "CDCHealthcareWorkerStaffingPathway", group, None, code);
    assert_eq!((staff("shortnurse", "true"), staff("shortnurse", "false")), (Ok(1), Ok(0)), "{body}");
    assert_eq!(staff("posshortnurse", "true"), Ok(1), "{body}");
    assert_eq!((staff("shortphys", "true"), staff("posshortphys", "false")), (Ok(0), Ok(1)), "{body}");

    // An institution's system gets its own hospital only.
    let (status, _, body) = document(&ghor, "umcg", "/v1/picture/regions/VR01/saner").await;
    assert_eq!(status, 200, "{body}");
    let bundle: Value = serde_json::from_str(&body).expect("JSON");
    let subjects: BTreeSet<&str> =
        measure_reports(&bundle).iter().filter_map(|r| r["subject"]["identifier"]["value"].as_str()).collect();
    assert_eq!(subjects, BTreeSet::from(["umcg"]), "{body}");
    assert!(!body.contains("Martini"), "{body}");

    // The bestuur sees no hospital by name: a Bundle of the region alone.
    let (status, _, body) = document(&ghor, "bestuur", "/v1/picture/regions/VR01/saner").await;
    assert_eq!(status, 200, "{body}");
    let bundle: Value = serde_json::from_str(&body).expect("JSON");
    assert!(measure_reports(&bundle).is_empty(), "{body}");
    assert!(!body.contains("umcg"), "{body}");
}
