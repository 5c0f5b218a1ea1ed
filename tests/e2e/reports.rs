//! The beeld and the evaluation (issue 13). The beeld: a scripted incident, a beeld issued,
//! the picture moving on, and the beeld of that later moment as HTML, Markdown and PDF, its
//! figures checked against the region's picture at the same moment; who may issue and read
//! one; refusals by field. The evaluation: a scripted incident whose reports, disbalances,
//! alert, acknowledgement and uitvraag are observed at set moments, evaluated from the log
//! as CSV, HTML and PDF.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::harness::{event, wait_for, Ghor};

fn moment(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A moment just passed: everything posted before it is in the picture known then.
async fn passed(ghor: &Ghor) -> DateTime<Utc> {
    let seq = ghor.get("im", "/v1/picture").await.1["seq"].as_u64();
    let at = Utc::now();
    wait_for(async || Utc::now() > at + Duration::milliseconds(2)).await;
    assert!(seq.is_some());
    at
}

/// Reports about `location` with its own token (the harness names each after its location).
async fn report(ghor: &Ghor, location: &str, event_type: &str, subject: &str, data: Value) {
    let e = event(&format!("/locations/{location}"), event_type, Some(subject), data);
    let (status, body) = ghor.post(location, "/v1/events", &e).await;
    assert_eq!(status, 201, "{event_type}: {body}");
}

fn issue(id: &str, at: DateTime<Utc>, summary: &str) -> Value {
    event(
        "/regions/VR01",
        "nl.ghor.beeld.issued.v1",
        Some(id),
        json!({ "at": moment(at), "summary": summary, "incident": "stroom-noord" }),
    )
}

/// A document as `token` gets it: status, content type and body.
async fn document(ghor: &Ghor, token: &str, path: &str) -> (u16, String, Vec<u8>) {
    let response =
        ghor.http.get(format!("{}{path}", ghor.url)).bearer_auth(ghor.token(token)).send().await.expect("request");
    let status = response.status().as_u16();
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, content_type, response.bytes().await.expect("body").to_vec())
}

/// The beeld of VR01 as `token` gets it.
async fn beeld(ghor: &Ghor, token: &str, query: &str) -> (u16, String, Vec<u8>) {
    document(ghor, token, &format!("/v1/picture/regions/VR01/beeld?{query}")).await
}

/// The text of a PDF, as `pdftotext` (poppler) reads it.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("beeld.pdf");
    std::fs::write(&file, pdf).expect("write pdf");
    let out = std::process::Command::new("pdftotext")
        .args(["-layout"])
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils) reads the PDF; .ci/run installs it");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_beeld_of_a_scripted_incident_agrees_with_the_picture() {
    let ghor = super::start().await;
    let (status, body) = ghor
        .post(
            "im",
            "/v1/events",
            &event(
                "/regions/VR01",
                "nl.ghor.incident.opened.v1",
                Some("stroom-noord"),
                json!({ "name": "Stroomuitval Noord", "state": "actief", "grip": 2, "area": { "regions": ["VR01"] } }),
            ),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let beds = "nl.ghor.beds.reported.v1";
    report(&ghor, "umcg", beds, "ic", json!({ "operational": 30, "occupied": 10 })).await;
    report(&ghor, "martini", beds, "ic", json!({ "operational": 20, "occupied": 18 })).await;
    let first = passed(&ghor).await;
    let (status, body) = ghor.post("im", "/v1/events", &issue("beeld-1", first, "Eerste beeld.")).await;
    assert_eq!(status, 201, "{body}");

    // The picture moves on: fewer IC beds, an acute function stopped, power down on backup,
    // a critical staff shortage, a tipping point, a help request.
    let reports = [
        ("umcg", beds, "ic", json!({ "operational": 30, "occupied": 27 })),
        ("umcg", "nl.ghor.acute_function.reported.v1", "seh", json!({ "status": "stop", "reason": "Stroomuitval" })),
        (
            "martini",
            "nl.ghor.utility.reported.v1",
            "stroom",
            json!({ "status": "uitgevallen", "on_backup": true, "backup_hours_left": 6 }),
        ),
        (
            "martini",
            "nl.ghor.staffing.reported.v1",
            "verpleegkundige",
            json!({ "unfilled_shifts_24h": 5, "critical": true }),
        ),
        ("umcg", "nl.ghor.disbalance.reported.v1", "uitval_nutsvoorzieningen", json!({ "level": "kantelpunt" })),
        (
            "umcg",
            "nl.ghor.help_request.opened.v1",
            "aggregaat",
            json!({ "category": "nutsvoorziening", "urgency": "hoog", "text": "Tweede noodaggregaat nodig" }),
        ),
    ];
    for (location, event_type, subject, data) in reports {
        report(&ghor, location, event_type, subject, data).await;
    }
    let second = passed(&ghor).await;

    // The region's picture at that moment, computed directly.
    let (status, picture) = ghor.get("im", &format!("/v1/picture/regions/VR01?at={}", moment(second))).await;
    assert_eq!(status, 200, "{picture}");
    let ic = &picture["view"]["totals"]["beds"]["ic"];
    assert_eq!((ic["operational"].as_u64(), ic["free"].as_u64()), (Some(50), Some(5)), "{ic}");
    let (status, earlier) = ghor.get("im", &format!("/v1/picture/regions/VR01?at={}", moment(first))).await;
    assert_eq!(status, 200, "{earlier}");
    let free_before = earlier["view"]["totals"]["beds"]["ic"]["free"].as_u64().expect("free then");
    assert_eq!(free_before, 22);

    // As Markdown for LCMS: the figures of the picture, and the change since beeld 1.
    let (status, content_type, md) = beeld(&ghor, "rot", &format!("at={}&format=md", moment(second))).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&md));
    assert_eq!(content_type, "text/markdown; charset=utf-8");
    let md = String::from_utf8(md).expect("utf8");
    let row = format!("| IC | {} | {} | {} | -17 sinds het vorige beeld,", 50, ic["occupied"], 5);
    assert!(md.contains(&row), "the IC row with its change since beeld 1 ({row}):\n{md}");
    assert!(md.contains("- **Status:** Concept: niet uitgegeven"), "{md}");
    assert!(md.contains("| SEH | Locatie umcg | Stop | Stroomuitval |"), "{md}");
    assert!(md.contains("| Locatie martini | Stroom | Uitgevallen | ja | 6 |"), "{md}");
    assert!(md.contains("| Locatie martini | Verpleegkundigen | 5 |"), "{md}");
    assert!(md.contains("| Locatie umcg | Kantelpunt | Uitval nutsvoorzieningen |"), "{md}");
    assert!(md.contains("Tweede noodaggregaat nodig"), "{md}");
    assert!(md.contains("| Stroomuitval Noord | Actief | 2 |"), "{md}");
    assert!(md.contains("| IC vrij | 22 | 5 | -17 |"), "the changes since beeld 1:\n{md}");

    // Issued, the same moment is beeld 2, with its duiding.
    let (status, body) = ghor.post("im", "/v1/events", &issue("beeld-2", second, "Noodstroom houdt 6 uur.")).await;
    assert_eq!(status, 201, "{body}");
    let issued = async || beeld(&ghor, "rot", &format!("at={}&format=md", moment(second))).await.2;
    wait_for(async || String::from_utf8_lossy(&issued().await).contains("Noodstroom")).await;
    let md = String::from_utf8(issued().await).expect("utf8");
    assert!(md.contains("- **Status:** Beeld 2 — uitgegeven door IM Groningen"), "{md}");
    assert!(md.contains("## Duiding van de informatiemanager\n\nNoodstroom houdt 6 uur.\n"), "{md}");

    // As a printable page with nothing that runs, and as a PDF whose text says the same.
    let (status, content_type, html) = beeld(&ghor, "rot", &format!("at={}", moment(second))).await;
    assert_eq!((status, content_type.as_str()), (200, "text/html; charset=utf-8"));
    let html = String::from_utf8(html).expect("utf8");
    assert!(html.contains("<h2>Capaciteit per beddentype</h2>") && !html.contains("<script"), "{html}");
    let (status, content_type, pdf) = beeld(&ghor, "rot", &format!("at={}&format=pdf", moment(second))).await;
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    let text = pdf_text(&pdf);
    for expected in ["Beeld Groningen (VR01)", "Capaciteit per beddentype", "Stroomuitval", "Pagina 1 van"] {
        assert!(text.contains(expected), "the PDF says {expected:?}:\n{text}");
    }
    let ic_line = text.lines().find(|l| l.trim_start().starts_with("IC ")).unwrap_or_default().to_owned();
    let numbers: Vec<&str> = ic_line.split_whitespace().collect();
    assert_eq!(numbers.get(1..4), Some(&["50", "45", "5"][..]), "the PDF's IC row: {ic_line:?}\n{text}");

    // In English.
    let (_, _, en) = beeld(&ghor, "rot", &format!("at={}&format=md&lang=en", moment(second))).await;
    let en = String::from_utf8(en).expect("utf8");
    assert!(en.contains("## Capacity by bed type") && en.contains("| ICU | 50 | 45 | 5 |"), "{en}");
}

/// The bestuur reads the beeld from the region's totals: no location named, and a figure
/// over fewer locations than the region's minimum withheld; issuing is the
/// informatiemanager's; another region's beeld is not for its informatiemanager.
#[tokio::test]
async fn who_may_issue_and_read_a_beeld() {
    let ghor = super::start().await;
    let stop = json!({ "status": "stop", "reason": "Stroomuitval" });
    report(&ghor, "umcg", "nl.ghor.acute_function.reported.v1", "seh", stop).await;
    ghor.report_beds("umcg", "umcg", 30, 10).await;
    let at = passed(&ghor).await;
    let (status, _, md) = beeld(&ghor, "bestuur", &format!("at={}&format=md", moment(at))).await;
    let md = String::from_utf8(md).expect("utf8");
    assert_eq!(status, 200, "{md}");
    assert!(!md.contains("Locatie umcg"), "the bestuur sees no location:\n{md}");
    let ic = md.lines().find(|l| l.starts_with("| IC |")).unwrap_or_default();
    assert!(ic.ends_with("| afgeschermd: te weinig locaties |") && !ic.contains("30"), "{md}");
    let (status, _, md) = beeld(&ghor, "rot", &format!("at={}&format=md", moment(at))).await;
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&md).contains("| SEH | Locatie umcg | Stop |"));

    for token in ["rot", "bestuur", "umcg"] {
        let (status, body) = ghor.post(token, "/v1/events", &issue(&format!("by-{token}"), at, "x")).await;
        assert_eq!(status, 403, "{token} may not issue a beeld: {body}");
    }
    let ahead = issue("ahead", Utc::now() + Duration::hours(1), "x");
    let (status, body) = ghor.post("im", "/v1/events", &ahead).await;
    assert_eq!(
        (status, body["errors"][0]["field"].as_str()),
        (422, Some("data.at")),
        "a beeld of a moment to come: {body}"
    );
    let (status, _, body) = beeld(&ghor, "im2", "").await;
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));

    for (query, field, code) in [
        ("format=docx", "format", "not_in_vocabulary"),
        ("lang=de", "lang", "not_in_vocabulary"),
        ("at=gisteren", "at", "not_a_timestamp"),
        ("extra=1", "extra", "malformed"),
    ] {
        let (status, content_type, body) = beeld(&ghor, "rot", query).await;
        let problem: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        assert_eq!((status, content_type.as_str()), (400, "application/problem+json"), "{query}: {problem}");
        assert_eq!(
            (problem["errors"][0]["field"].as_str(), problem["errors"][0]["code"].as_str()),
            (Some(field), Some(code)),
            "{query}: {problem}"
        );
    }
}

/// An event observed `minutes` before now.
fn observed(mut e: Value, minutes: i64) -> Value {
    e["time"] = json!(moment(Utc::now() - Duration::minutes(minutes)));
    e
}

async fn post_at(ghor: &Ghor, token: &str, minutes_ago: i64, e: Value) {
    let (status, body) = ghor.post(token, "/v1/events", &observed(e, minutes_ago)).await;
    assert_eq!(status, 201, "{body}");
}

/// The evaluation of `incident` as `token` gets it.
async fn evaluation(ghor: &Ghor, token: &str, incident: &str, query: &str) -> (u16, String, Vec<u8>) {
    document(ghor, token, &format!("/v1/incidents/{incident}/evaluation?{query}")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_evaluation_of_a_scripted_incident_follows_from_the_log() {
    let ghor = super::start().await;
    let incident = |state: &str, grip: u8| json!({ "name": "Stroomuitval Noord", "state": state, "grip": grip, "area": { "regions": ["VR01"] } });
    let region_event = |t: &str, subject: &str, data: Value| event("/regions/VR01", t, Some(subject), data);
    let beds = |l: &str, occupied: u32| {
        let operational = if l == "umcg" { 30 } else { 20 };
        let data = json!({ "operational": operational, "occupied": occupied });
        event(&format!("/locations/{l}"), "nl.ghor.beds.reported.v1", Some("ic"), data)
    };
    let power_disbalance = |level: &str| {
        let data = json!({ "level": level });
        event("/locations/umcg", "nl.ghor.disbalance.reported.v1", Some("uitval_nutsvoorzieningen"), data)
    };
    // Who reports what, how many minutes before now: opened at 90, GRIP 2 at 60, closed at
    // 10; umcg's IC full at 80 (an alert, acknowledged at 75), a tipping point from 70 to 40.
    let opening = [
        ("im", 90, region_event("nl.ghor.incident.opened.v1", "stroom-noord", incident("actief", 1))),
        ("umcg", 80, beds("umcg", 30)),
        ("umcg", 70, power_disbalance("kantelpunt")),
    ];
    for (token, minutes_ago, e) in opening {
        post_at(&ghor, token, minutes_ago, e).await;
    }
    let alert = async || {
        let (_, view) = ghor.get("im", "/v1/picture/regions/VR01").await;
        let alerts = view["view"]["alerts"].as_object().cloned().unwrap_or_default();
        alerts.into_iter().find(|(_, a)| a["location"] == "umcg").map(|(id, _)| id)
    };
    wait_for(async || alert().await.is_some()).await;
    let alert = alert().await.expect("umcg's IC alert");
    let uitvraag = json!({
        "title": "Bedden Noord", "area": { "regions": ["VR01"] }, "asked": [{ "dimension": "beds" }],
        "deadline": moment(Utc::now() + Duration::hours(1)), "incident": "stroom-noord",
    });
    let course = [
        ("im", 75, region_event("nl.ghor.alert.acknowledged.v1", &alert, json!({}))),
        ("im", 60, region_event("nl.ghor.incident.updated.v1", "stroom-noord", incident("actief", 2))),
        ("im", 50, region_event("nl.ghor.uitvraag.opened.v1", "bedden-noord", uitvraag)),
        ("martini", 45, beds("martini", 10)),
        ("umcg", 40, power_disbalance("zelfredzaam")),
        ("umcg", 35, beds("umcg", 28)),
        ("im", 10, region_event("nl.ghor.incident.updated.v1", "stroom-noord", incident("gesloten", 2))),
    ];
    for (token, minutes_ago, e) in course {
        post_at(&ghor, token, minutes_ago, e).await;
    }

    let csv_ready = async || {
        let (status, _, body) = evaluation(&ghor, "im", "stroom-noord", "format=csv").await;
        status == 200 && String::from_utf8_lossy(&body).contains("gesloten")
    };
    wait_for(csv_ready).await;
    let (status, content_type, csv) = evaluation(&ghor, "im", "stroom-noord", "format=csv").await;
    assert_eq!((status, content_type.as_str()), (200, "text/csv; charset=utf-8"));
    let csv = String::from_utf8(csv).expect("utf8");
    let value = |section: &str, subject: &str, measure: &str| {
        csv.lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .find(|c| c.len() == 5 && c[0] == section && c[1] == subject && c[2] == measure)
            .map(|c| c[3].to_owned())
    };
    let grips: Vec<&str> = csv
        .lines()
        .filter(|l| l.starts_with("incident,stroom-noord,grip,"))
        .map(|l| l.split(',').nth(3).unwrap_or(""))
        .collect();
    assert_eq!(grips, ["1", "2", "2"], "{csv}");
    assert_eq!(value("first_report", "umcg", "minutes_after_opening").as_deref(), Some("10"), "{csv}");
    assert_eq!(value("first_report", "martini", "minutes_after_opening").as_deref(), Some("45"), "{csv}");
    assert_eq!(value("disbalance", "umcg", "minutes_kantelpunt").as_deref(), Some("30"), "{csv}");
    assert_eq!(value("disbalance", "umcg", "minutes_zelfredzaam").as_deref(), Some("30"), "{csv}");
    assert_eq!(value("alert", &alert, "acknowledged_after_minutes").as_deref(), Some("5"), "{csv}");
    assert_eq!(value("uitvraag", "Bedden Noord", "addressed").as_deref(), Some("2"), "{csv}");
    assert_eq!(
        value("uitvraag", "Bedden Noord", "answered_after_minutes").as_deref(),
        Some("5"),
        "martini answered 5 minutes after: {csv}"
    );

    let (status, content_type, html) = evaluation(&ghor, "im", "stroom-noord", "").await;
    assert_eq!((status, content_type.as_str()), (200, "text/html; charset=utf-8"));
    let html = String::from_utf8(html).expect("utf8");
    assert!(html.contains("<h1>Evaluatie Stroomuitval Noord</h1>") && html.contains("<svg"), "{html}");
    assert!(html.contains("<td>Locatie umcg</td>") && html.contains("<td class=\"num\">10 min</td>"), "{html}");
    assert!(
        html.contains("<td>Bedden vrij: kritiek bij ten hoogste 0</td>"),
        "the threshold crossed, with its value: {html}"
    );
    assert!(
        html.contains("<div class=\"value\">27 min</div><div class=\"label\">Mediane tijd tot eerste melding</div>"),
        "{html}"
    );
    let (status, _, pdf) = evaluation(&ghor, "im", "stroom-noord", "format=pdf&lang=en").await;
    assert_eq!(status, 200);
    let text = pdf_text(&pdf);
    for expected in ["Evaluation Stroomuitval Noord", "Reporting coverage", "Time per disbalance level", "Page 1 of"] {
        assert!(text.contains(expected), "the PDF says {expected:?}:\n{text}");
    }

    // The bestuur sees the figures, never a location by name; another region's
    // informatiemanager finds no such incident.
    let (status, _, body) = evaluation(&ghor, "bestuur", "stroom-noord", "format=csv").await;
    let body = String::from_utf8(body).expect("utf8");
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("umcg") && body.contains("grip"), "{body}");
    let (status, _, _) = evaluation(&ghor, "im2", "stroom-noord", "").await;
    assert_eq!(status, 404);
    let (status, _, _) = evaluation(&ghor, "im", "no-such-incident", "").await;
    assert_eq!(status, 404);
    let (status, _, body) = evaluation(&ghor, "im", "stroom-noord", "format=md").await;
    assert_eq!(status, 400, "{}", String::from_utf8_lossy(&body));
}
