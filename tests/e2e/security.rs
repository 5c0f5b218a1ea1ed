//! The security audit log from outside (issue 12). ghor runs with `GHOR_SECURITY_LOG` and its
//! application log at debug level, while callers do what an attacker and an administrator
//! would: a made-up token, a ROT member who tries to report, a token issued and revoked, a
//! location registered, contacts set and read, a stream ticket used. Each is a JSON line in
//! the security log naming who (by token id, name and role), none of them is in the
//! application log, and neither log holds a token, a ticket or a contact's details.

use serde_json::{json, Value};

use crate::harness::{wait_for, Backend, Ghor};

/// The security log's records.
fn records(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a JSON line ({e}): {l}"))).collect()
}

/// The first record of `kind`.
fn record<'a>(records: &'a [Value], kind: &str) -> &'a Value {
    let found = records.iter().find(|r| r["fields"]["kind"] == kind);
    found.unwrap_or_else(|| panic!("no {kind} record in {records:#?}"))
}

#[tokio::test]
async fn security_records_are_kept_apart_and_no_log_line_holds_a_secret() {
    let logs = tempfile::tempdir().expect("tempdir");
    let (security, application) = (logs.path().join("security.log"), logs.path().join("ghor.log"));
    let env = [("GHOR_SECURITY_LOG", security.display().to_string()), ("GHOR_LOG", "debug".to_owned())];
    let mut ghor = Ghor::start_with_env(Backend::Embedded, &env).await;
    ghor.stderr_to = Some(application.clone());
    ghor.restart().await;

    // A made-up token, and a ROT member who tries to report.
    let forged = "ghor_thisisnotatokenanyoneissued0000000000";
    let response = ghor.http.get(format!("{}/v1/picture", ghor.url)).bearer_auth(forged).send().await.expect("GET");
    assert_eq!(response.status().as_u16(), 401);
    let report = crate::harness::event(
        "/locations/umcg",
        "nl.ghor.beds.reported.v1",
        Some("ic"),
        json!({ "operational": 5, "occupied": 1 }),
    );
    assert_eq!(ghor.post("rot", "/v1/events", &report).await.0, 403);
    // A token issued and revoked by the administrator.
    let new = json!({ "name": "ROT Drenthe", "role": "rot", "regions": ["VR01"], "valid_days": 30 });
    let (status, issued) = ghor.post("admin", "/v1/tokens", &new).await;
    assert_eq!(status, 201, "{issued}");
    let (secret, id) =
        (issued["token"].as_str().expect("token").to_owned(), issued["info"]["id"].as_str().expect("id").to_owned());
    let revoked =
        ghor.http.delete(format!("{}/v1/tokens/{id}", ghor.url)).bearer_auth(ghor.token("admin")).send().await;
    assert_eq!(revoked.expect("DELETE").status().as_u16(), 204);
    // The registry and contacts.
    ghor.register(&[("wilhelmina", "wza", "ziekenhuis", "VR01", 52.99, 6.55)]).await;
    let contact = json!({ "contacts": [{ "role": "crisiscoordinator", "name": "Geheime Naam", "phone_24_7": "+31 50 999 1234", "email": "geheim@wza.example", "verified_on": "2026-11-01" }] });
    assert_eq!(ghor.put("netwerk", "/v1/registry/locations/wilhelmina/contacts", &contact).await.0, 200);
    assert_eq!(ghor.get("im", "/v1/registry/locations/wilhelmina/contacts").await.0, 200);
    // A stream ticket, used.
    let (status, ticket) = ghor.post("rot", "/v1/stream/ticket", &json!({})).await;
    assert_eq!(status, 200, "{ticket}");
    let ticket = ticket["ticket"].as_str().expect("ticket").to_owned();
    let mut page = ghor.stream("rot", &["VR01"], None).await;
    let first = page.next().await;
    page.apply(&first);

    let kinds =
        ["authentication_failed", "denied", "token_issued", "token_revoked", "registry_changed", "contacts_read"];
    wait_for(async || {
        let found = records(&security);
        kinds.iter().all(|k| found.iter().any(|r| r["fields"]["kind"] == *k))
    })
    .await;
    let found = records(&security);
    assert!(found.iter().all(|r| r["target"] == "security"), "only security records: {found:#?}");
    assert_eq!(record(&found, "authentication_failed")["fields"]["path"], "/v1/picture");
    let denied = &record(&found, "denied")["fields"];
    assert_eq!(
        (&denied["name"], &denied["role"], &denied["path"]),
        (&json!("ROT Groningen"), &json!("rot"), &json!("/v1/events")),
        "{denied}"
    );
    assert_eq!(record(&found, "token_issued")["fields"]["token"], id.as_str());
    assert_eq!(record(&found, "token_revoked")["fields"]["token"], id.as_str());
    let registered = found
        .iter()
        .find(|r| r["fields"]["kind"] == "registry_changed" && r["fields"]["subject"] == "/locations/wilhelmina");
    assert!(registered.is_some_and(|r| r["fields"]["name"] == "netwerk noord"), "{found:#?}");
    let read = found.iter().find(|r| r["fields"]["kind"] == "contacts_read" && r["fields"]["of"] == "wilhelmina");
    assert!(read.is_some_and(|r| r["fields"]["name"] == "IM Groningen"), "{found:#?}");

    // Apart, and without a secret in any line of either log.
    let security_text = std::fs::read_to_string(&security).expect("security log");
    let application_text = std::fs::read_to_string(&application).expect("application log");
    assert!(application_text.lines().count() > 50, "the application log was written at debug level");
    assert!(!application_text.contains("kind=\"denied\""), "security records stay out of the application log");
    let mut secrets: Vec<&str> = ghor.tokens.values().map(String::as_str).collect();
    secrets.extend([forged, secret.as_str(), ticket.as_str(), "Geheime Naam", "+31 50 999 1234", "geheim@wza.example"]);
    for (log, text) in [("security", &security_text), ("application", &application_text)] {
        for s in &secrets {
            let line = text.lines().find(|l| l.contains(s));
            assert!(line.is_none(), "the {log} log holds a secret ({s}): {}", line.unwrap_or_default());
        }
    }
}
