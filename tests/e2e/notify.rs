//! Notifications leave ghor (issue 9), with real parts: a real SMTP server (aiosmtpd, from
//! `tests/support/smtp_sink.py`) and a webhook receiver (axum) started by each test. An
//! uitvraag for a circle across two regions reaches exactly the locations inside it by
//! email (with a working deep link) and by a signed CloudEvent the test verifies itself;
//! re-notify reaches only those who did not answer, and escalates to the vervanger; an
//! exercise says OEFENING and uses only its own contacts and endpoints; a notifier killed
//! in the middle of 500 recipients delivers every one at least once, each repeat with the
//! same id; with the SMTP server down, deliveries retry and are given up ("niet
//! afgeleverd"), and nothing is lost when it comes back in time.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use chrono::Utc;
use ghor_domain::Scope;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::harness::{event, Ghor, DEADLINE};

pub(super) const NOTIFY_GIVE_UP_SECS: u64 = 30;

/// A free TCP port on the loopback interface.
pub(super) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The real SMTP server: aiosmtpd writing each message to a JSON file in `dir`.
pub(super) struct Smtp {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Smtp {
    pub(super) async fn start(delay_secs: f64) -> Smtp {
        let mut smtp = Smtp { port: free_port(), dir: tempfile::tempdir().expect("tempdir"), child: None };
        smtp.start_again(delay_secs).await;
        smtp
    }

    /// A server not started yet, on a port of its own (so ghor finds nothing there).
    fn stopped() -> Smtp {
        Smtp { port: free_port(), dir: tempfile::tempdir().expect("tempdir"), child: None }
    }

    async fn start_again(&mut self, delay_secs: f64) {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(self.port.to_string())
            .arg(self.dir.path())
            .arg(delay_secs.to_string())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start aiosmtpd (tests/run installs it)");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let line = tokio::time::timeout(DEADLINE, lines.next_line()).await.expect("aiosmtpd starts in time");
        assert_eq!(line.expect("read").as_deref(), Some("ready"), "aiosmtpd did not start");
        self.child = Some(child);
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub(super) fn messages(&self) -> Vec<Value> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).expect("read the sink").flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                let text = std::fs::read_to_string(&path).expect("read a message");
                found.push(serde_json::from_str(&text).expect("json"));
            }
        }
        found
    }

    /// Messages to `address`.
    pub(super) fn to(&self, address: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| m["to"].as_array().is_some_and(|t| t.contains(&json!(address))))
            .collect()
    }
}

/// One request the webhook receiver got.
#[derive(Debug, Clone)]
pub(super) struct Hook {
    pub(super) path: String,
    pub(super) headers: BTreeMap<String, String>,
    pub(super) body: Vec<u8>,
}

impl Hook {
    pub(super) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// A webhook receiver: answers 204 after `delay` and keeps every request.
pub(super) struct Receiver {
    pub(super) url: String,
    got: Arc<Mutex<Vec<Hook>>>,
}

impl Receiver {
    pub(super) async fn start(delay: Duration) -> Receiver {
        let got: Arc<Mutex<Vec<Hook>>> = Arc::default();
        let kept = got.clone();
        let app = axum::Router::new().fallback(
            move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let kept = kept.clone();
                async move {
                    tokio::time::sleep(delay).await;
                    let headers = headers
                        .iter()
                        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
                        .collect();
                    kept.lock().expect("lock").push(Hook { path: uri.path().to_owned(), headers, body: body.to_vec() });
                    axum::http::StatusCode::NO_CONTENT
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { url, got }
    }

    pub(super) fn hooks(&self) -> Vec<Hook> {
        self.got.lock().expect("lock").clone()
    }
}

/// Verifies a Standard Webhooks signature, written here from the specification (not from
/// ghor's code): HMAC-SHA256 with the secret's bytes over `{id}.{timestamp}.{body}`,
/// base64, after `v1,` in one of the space-separated signatures.
pub(super) fn verified(secret: &str, hook: &Hook) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ secret"))
        .expect("base64 secret");
    let (Some(id), Some(ts), Some(sigs)) =
        (hook.headers.get("webhook-id"), hook.headers.get("webhook-timestamp"), hook.headers.get("webhook-signature"))
    else {
        return false;
    };
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).expect("key");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(&hook.body);
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let fresh = ts.parse::<i64>().is_ok_and(|t| (Utc::now().timestamp() - t).abs() < 300);
    fresh && sigs.split(' ').any(|s| s.strip_prefix("v1,") == Some(expected.as_str()))
}

pub(super) fn new_secret() -> String {
    let key: [u8; 32] = rand::random();
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key))
}

/// Polls `check` until it gives a value, at most `within`.
pub(super) async fn until<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(t) = check() {
            return t;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: not reached in {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// ghor on this suite's backend, sending email through `smtp`.
pub(super) async fn ghor_with(smtp: &Smtp, give_up_secs: u64) -> Ghor {
    Ghor::start_with_env(
        super::BACKEND,
        &[
            ("GHOR_SMTP_URL", smtp.url()),
            ("GHOR_SMTP_FROM", "ghor@ghor.test".into()),
            ("GHOR_NOTIFY_GIVE_UP", give_up_secs.to_string()),
            ("GHOR_NOTIFY_BACKOFF_MS", "200".into()),
            ("GHOR_NOTIFY_ESCALATE_AFTER", "1".into()),
        ],
    )
    .await
}

fn contacts_of(location: &str) -> Value {
    json!({ "contacts": [
        { "role": "crisiscoordinator", "name": "C. Coördinator", "phone_24_7": "+31 50 000 0001",
          "email": format!("cc@{location}.test"), "verified_on": "2026-10-01" },
        { "role": "crisiscoordinator_vervanger", "name": "V. Vervanger", "phone_24_7": "+31 50 000 0002",
          "email": format!("vv@{location}.test"), "verified_on": "2026-10-01" },
        { "role": "communicatie", "name": "C. Communicatie", "phone_24_7": "+31 50 000 0003",
          "email": format!("comm@{location}.test"), "verified_on": "2026-10-01" },
    ]})
}

/// An uitvraag of VR01 for IC beds in a circle, opened `ago` before now (so that its
/// reminder rounds fall due while the test runs), re-notifying every 5 minutes.
fn uitvraag(id: &str, center: (f64, f64), radius_km: f64, ago: chrono::Duration) -> Value {
    let mut e = event(
        "/regions/VR01",
        "nl.ghor.uitvraag.opened.v1",
        Some(id),
        json!({
            "title": "Stroomstoring Noord",
            "question": "Hoeveel IC-bedden zijn vrij?",
            "area": { "circle": { "center": { "lat": center.0, "lon": center.1 }, "radius_km": radius_km } },
            "asked": [{ "dimension": "beds", "keys": ["ic"] }],
            "deadline": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
            "renotify_minutes": 5,
        }),
    );
    e["time"] = json!((Utc::now() - ago).to_rfc3339());
    e
}

/// Great-circle distance, computed here independently of ghor.
fn km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (a.0.to_radians(), a.1.to_radians(), b.0.to_radians(), b.1.to_radians());
    let h = ((la2 - la1) / 2.0).sin().powi(2) + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

/// Where the delivery of the newest notification about `uitvraag` stands for `location`,
/// as `token` sees it.
async fn delivery(ghor: &Ghor, token: &str, uitvraag: &str, location: &str) -> Value {
    let (status, body) = ghor.get(token, &format!("/v1/uitvragen/{uitvraag}")).await;
    // Not found until the gateway has folded the opening.
    assert!(status == 200 || status == 404, "{body}");
    body["uitvraag"]["locations"][location].clone()
}

async fn await_delivery(
    ghor: &Ghor,
    token: &str,
    uitvraag: &str,
    location: &str,
    state: &str,
    within: Duration,
) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let seen = delivery(ghor, token, uitvraag, location).await;
        if seen["delivery"] == state {
            return seen;
        }
        assert!(tokio::time::Instant::now() < deadline, "{location} never showed delivery {state}: {seen}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_uitvraag_reaches_the_addressed_locations_by_email_and_signed_webhook_and_reminds_who_did_not_answer() {
    let smtp = Smtp::start(0.0).await;
    let hooks = Receiver::start(Duration::ZERO).await;
    let ghor = ghor_with(&smtp, NOTIFY_GIVE_UP_SECS).await;
    ghor.register(&[
        ("drachten", "nij-smellinghe", "ziekenhuis", "VR02", 53.107, 6.097),
        ("heerenveen", "tjongerschans", "ziekenhuis", "VR02", 52.96, 5.92),
        ("delfzijl", "ommelander", "ziekenhuis", "VR01", 53.33, 6.92),
    ])
    .await;
    // The addressed set, computed from the registry the test registered.
    let registry = [
        ("umcg", "VR01", (53.222, 6.576)),
        ("martini", "VR01", (53.199, 6.552)),
        ("delfzijl", "VR01", (53.33, 6.92)),
        ("mcl", "VR02", (53.186, 5.802)),
        ("drachten", "VR02", (53.107, 6.097)),
        ("heerenveen", "VR02", (52.96, 5.92)),
    ];
    let (center, radius) = ((53.2, 6.2), 30.0);
    let expected: BTreeSet<&str> =
        registry.iter().filter(|(_, _, p)| km(center, *p) <= radius).map(|(id, _, _)| *id).collect();
    let regions: BTreeSet<&str> =
        registry.iter().filter(|(id, _, _)| expected.contains(id)).map(|(_, r, _)| *r).collect();
    assert!(
        expected.len() < registry.len() && regions.len() == 2,
        "the circle crosses two regions, not all: {expected:?}"
    );
    for (id, _, _) in &registry {
        let (status, body) =
            ghor.put("netwerk", &format!("/v1/registry/locations/{id}/contacts"), &contacts_of(id)).await;
        assert_eq!(status, 200, "{body}");
    }
    let secret = new_secret();
    let (status, body) = ghor
        .put(
            "netwerk",
            "/v1/registry/organisations/umcg/webhooks",
            &json!({ "webhooks": [{ "url": format!("{}/umcg", hooks.url), "secret": secret }] }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.to_string().contains(&secret), "the secret is never answered: {body}");
    let (_, body) = ghor.get("netwerk", "/v1/registry/organisations/umcg/webhooks").await;
    assert!(!body.to_string().contains(&secret), "the secret is never answered: {body}");

    // Opened 4m40s ago with reminders every 5 minutes: round 1 falls due in 20 s.
    let (status, body) =
        ghor.post("im", "/v1/events", &uitvraag("stroom-noord", center, radius, chrono::Duration::seconds(280))).await;
    assert_eq!(status, 201, "{body}");

    // Every addressed location's crisiscoördinator gets an email with its own deep link.
    let first = until("an email to every addressed crisiscoördinator", DEADLINE, || {
        let mails: Vec<Value> =
            expected.iter().filter_map(|l| smtp.to(&format!("cc@{l}.test")).into_iter().next()).collect();
        (mails.len() == expected.len()).then_some(mails)
    })
    .await;
    for (location, mail) in expected.iter().zip(&first) {
        assert!(mail["subject"].as_str().is_some_and(|s| s.starts_with("Uitvraag: Stroomstoring Noord")), "{mail}");
        assert!(mail["message_id"].as_str().is_some_and(|m| m.ends_with("@ghor>")), "{mail}");
        let link = format!("{}/?uitvraag=stroom-noord&location={location}", ghor.url);
        let body = mail["body"].as_str().expect("body");
        assert!(body.contains(&link), "the deep link {link} is in the email: {body}");
        assert!(body.contains("Hoeveel IC-bedden zijn vrij?") && body.contains("Bedden (ic)"), "{body}");
        let page = ghor.http.get(&link).send().await.expect("follow the link");
        assert_eq!(page.status().as_u16(), 200, "the deep link opens the page");
    }
    for (id, _, _) in &registry {
        if !expected.contains(id) {
            assert!(smtp.to(&format!("cc@{id}.test")).is_empty(), "{id} lies outside the circle");
        }
        assert!(smtp.to(&format!("comm@{id}.test")).is_empty(), "only the roles a notification is for get it");
    }

    // The organisation's own system gets a signed CloudEvent about its location.
    let hook = until("a webhook for umcg", DEADLINE, || hooks.hooks().into_iter().next()).await;
    assert_eq!(hook.path, "/umcg");
    assert_eq!(hook.headers.get("content-type").map(String::as_str), Some("application/cloudevents+json"));
    assert!(verified(&secret, &hook), "the Standard Webhooks signature verifies: {hook:?}");
    let cloud_event = hook.json();
    assert_eq!(cloud_event["specversion"], "1.0");
    assert_eq!(cloud_event["id"].as_str(), hook.headers.get("webhook-id").map(String::as_str));
    assert_eq!(cloud_event["data"]["link"], format!("{}/?uitvraag=stroom-noord&location=umcg", ghor.url));
    assert!(cloud_event.get("oefening").is_none(), "live is no exercise");
    let tampered = Hook { body: [hook.body.as_slice(), b" "].concat(), ..hook.clone() };
    assert!(!verified(&secret, &tampered), "the test's verification is not vacuous");

    // The outcomes are events, folded into the uitvraag's view.
    await_delivery(&ghor, "im", "stroom-noord", "umcg", "afgeleverd", DEADLINE).await;
    await_delivery(&ghor, "im2", "stroom-noord", "mcl", "afgeleverd", DEADLINE).await;

    // umcg answers, martini is not affected, the rest do nothing: round 1 reminds the rest.
    ghor.report_beds("umcg", "umcg", 20, 5).await;
    let not_affected =
        event("/locations/martini", "nl.ghor.not_affected.reported.v1", None, json!({ "uitvraag": "stroom-noord" }));
    let (status, body) = ghor.post("martini", "/v1/events", &not_affected).await;
    assert_eq!(status, 201, "{body}");
    let silent: BTreeSet<&str> = expected.iter().copied().filter(|l| !["umcg", "martini"].contains(l)).collect();
    assert!(!silent.is_empty());
    let reminded = |l: &str| {
        smtp.to(&format!("cc@{l}.test"))
            .iter()
            .any(|m| m["subject"].as_str().is_some_and(|s| s.starts_with("Herinnering uitvraag")))
    };
    until("a reminder to every location that did not answer", Duration::from_secs(45), || {
        silent.iter().all(|l| reminded(l)).then_some(())
    })
    .await;
    assert!(!reminded("umcg") && !reminded("martini"), "those who answered get no reminder");
    assert!(silent.iter().all(|l| smtp.to(&format!("vv@{l}.test")).is_empty()), "one reminder does not escalate");

    // Opened 10m30s ago: round 2 is due at once and, after one unanswered reminder, goes to
    // the vervanger too.
    let (status, body) = ghor
        .post("im", "/v1/events", &uitvraag("stroom-noord-2", center, radius, chrono::Duration::seconds(630)))
        .await;
    assert_eq!(status, 201, "{body}");
    let escalated = |l: &str| {
        smtp.to(&format!("vv@{l}.test"))
            .iter()
            .any(|m| m["subject"].as_str().is_some_and(|s| s.starts_with("Escalatie uitvraag")))
    };
    // umcg's report answers this one too (observed after its opening); the others have not.
    let waiting: Vec<&str> = expected.iter().copied().filter(|l| *l != "umcg").collect();
    until("the escalation reaches the vervangers", DEADLINE, || waiting.iter().all(|l| escalated(l)).then_some(()))
        .await;
    assert!(!escalated("umcg"), "who answered is not escalated");
}

#[tokio::test]
async fn an_exercise_says_oefening_and_reaches_only_its_own_contacts_and_endpoints() {
    let smtp = Smtp::start(0.0).await;
    let hooks = Receiver::start(Duration::ZERO).await;
    let ghor = ghor_with(&smtp, NOTIFY_GIVE_UP_SECS).await;
    let stores = ghor.stores().await;
    // The exercise registers its own umcg; live keeps its own contacts and endpoint.
    let registration = [
        event("/regions/VR01", "nl.ghor.organisation.registered.v1", Some("umcg"), json!({ "name": "UMCG" })),
        event(
            "/locations/umcg",
            "nl.ghor.location.registered.v1",
            None,
            json!({ "name": "UMCG", "organisation": "umcg", "type": "ziekenhuis", "region": "VR01", "point": { "lat": 53.222, "lon": 6.576 } }),
        ),
    ];
    let (status, body) = ghor.post("oto", "/v1/events/batch", &Value::Array(registration.to_vec())).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["results"].as_array().into_iter().flatten().all(|r| r["status"] == "stored"), "{body}");
    let contact = |email: &str| -> ghor_store::Contact {
        serde_json::from_value(json!({ "role": "crisiscoordinator", "name": "C. C.", "phone_24_7": "+31 50 000 0001",
                                        "email": email, "verified_on": "2026-10-01" }))
        .expect("contact")
    };
    let umcg = ghor_domain::Slug::try_from("umcg").expect("slug");
    stores.contacts.set_contacts(Scope::Live, &umcg, &[contact("live@umcg.test")]).await.expect("live contacts");
    stores
        .contacts
        .set_contacts(Scope::Oefening, &umcg, &[contact("oefen@umcg.test")])
        .await
        .expect("oefening contacts");
    let secret = new_secret();
    let hook = |path: &str| ghor_store::Webhook { url: format!("{}/{path}", hooks.url), secret: secret.clone() };
    stores.notify.set_webhooks(Scope::Live, &umcg, &[hook("live")]).await.expect("live endpoint");
    stores.notify.set_webhooks(Scope::Oefening, &umcg, &[hook("oefening")]).await.expect("exercise endpoint");
    // The exercise's picture holds its registration before it is asked.
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while ghor.get("oto", "/v1/registry/locations").await.1["locations"].as_array().is_none_or(|l| l.is_empty()) {
        assert!(tokio::time::Instant::now() < deadline, "the exercise's registry never reached its picture");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (status, body) = ghor
        .post("oto", "/v1/events", &uitvraag("oefening-stroom", (53.222, 6.576), 5.0, chrono::Duration::zero()))
        .await;
    assert_eq!(status, 201, "{body}");
    let mail = until("the exercise's email", DEADLINE, || smtp.to("oefen@umcg.test").into_iter().next()).await;
    assert!(mail["subject"].as_str().is_some_and(|s| s.starts_with("[OEFENING]")), "{mail}");
    assert!(mail["body"].as_str().is_some_and(|b| b.starts_with("OEFENING")), "{mail}");
    assert_eq!(mail["headers"]["X-Ghor-Oefening"], "true", "{mail}");
    let posted = until("the exercise's webhook", DEADLINE, || hooks.hooks().into_iter().next()).await;
    assert_eq!(posted.path, "/oefening", "only the endpoint configured for exercises");
    assert!(verified(&secret, &posted));
    assert_eq!(posted.json()["oefening"], true, "the CloudEvent's extension says so");
    assert_eq!(posted.headers.get("x-ghor-oefening").map(String::as_str), Some("true"));
    await_delivery(&ghor, "oto", "oefening-stroom", "umcg", "afgeleverd", DEADLINE).await;
    assert!(smtp.to("live@umcg.test").is_empty(), "the exercise never mails a live contact");
    assert!(hooks.hooks().iter().all(|h| h.path == "/oefening"), "nor posts to a live endpoint");
}

#[tokio::test]
async fn a_notifier_killed_in_the_middle_of_500_recipients_delivers_each_at_least_once_with_the_same_ids() {
    const N: usize = 500;
    // Slow receivers, so that the kill falls in the middle.
    let smtp = Smtp::start(0.1).await;
    let hooks = Receiver::start(Duration::from_millis(100)).await;
    let mut ghor = ghor_with(&smtp, NOTIFY_GIVE_UP_SECS).await;
    let stores = ghor.stores().await;
    let ids: Vec<String> = (0..N).map(|i| format!("loc-{i:03}")).collect();
    let mut events = vec![event(
        "/regions/VR01",
        "nl.ghor.organisation.registered.v1",
        Some("keten"),
        json!({ "name": "Zorgketen" }),
    )];
    for (i, id) in ids.iter().enumerate() {
        let (lat, lon) = (53.0 + (i % 25) as f64 * 0.002, 6.5 + (i / 25) as f64 * 0.002);
        events.push(event(
            &format!("/locations/{id}"),
            "nl.ghor.location.registered.v1",
            None,
            json!({ "name": format!("Locatie {i}"), "organisation": "keten", "type": "verpleeg_verzorgingshuis", "region": "VR01", "point": { "lat": lat, "lon": lon } }),
        ));
    }
    for chunk in events.chunks(250) {
        let (status, body) = ghor.post("netwerk", "/v1/events/batch", &Value::Array(chunk.to_vec())).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["results"].as_array().into_iter().flatten().all(|r| r["status"] == "stored"), "{body}");
    }
    for id in &ids {
        let slug = ghor_domain::Slug::try_from(id.as_str()).expect("slug");
        let contact: ghor_store::Contact = serde_json::from_value(json!({
            "role": "crisiscoordinator", "name": "C. C.", "phone_24_7": "+31 50 000 0001",
            "email": format!("cc@{id}.test"), "verified_on": "2026-10-01" }))
        .expect("contact");
        stores.contacts.set_contacts(Scope::Live, &slug, &[contact]).await.expect("contacts");
    }
    let secret = new_secret();
    let keten = ghor_domain::Slug::try_from("keten").expect("slug");
    let endpoint = ghor_store::Webhook { url: format!("{}/keten", hooks.url), secret: secret.clone() };
    stores.notify.set_webhooks(Scope::Live, &keten, &[endpoint]).await.expect("endpoint");
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while ghor.get("netwerk", "/v1/registry/locations").await.1["locations"].as_array().map_or(0, Vec::len) < N + 3 {
        assert!(tokio::time::Instant::now() < deadline, "the registry never reached the picture");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut opening = uitvraag("groot", (53.025, 6.52), 10.0, chrono::Duration::zero());
    opening["data"].as_object_mut().expect("data").remove("renotify_minutes");
    let (status, body) = ghor.post("im", "/v1/events", &opening).await;
    assert_eq!(status, 201, "{body}");
    until("the first hundred emails", DEADLINE, || (smtp.messages().len() >= 100).then_some(())).await;
    ghor.restart().await; // SIGKILL, then the same server again
    let at_kill = (smtp.messages().len(), hooks.hooks().len());

    let recipients = |mails: &[Value]| -> BTreeMap<String, Vec<String>> {
        let mut by = BTreeMap::<String, Vec<String>>::new();
        for m in mails {
            for to in m["to"].as_array().into_iter().flatten() {
                by.entry(to.as_str().unwrap_or_default().to_owned())
                    .or_default()
                    .push(m["message_id"].as_str().unwrap_or_default().to_owned());
            }
        }
        by
    };
    let mails = until("an email to every one of the 500", Duration::from_secs(90), || {
        let mails = smtp.messages();
        (recipients(&mails).len() == N).then_some(mails)
    })
    .await;
    let posts = until("a webhook about every one of the 500", Duration::from_secs(90), || {
        let posts = hooks.hooks();
        let about: BTreeSet<String> =
            posts.iter().filter_map(|h| h.json()["data"]["location"].as_str().map(str::to_owned)).collect();
        (about.len() == N).then_some(posts)
    })
    .await;
    assert!(at_kill.0 < N || at_kill.1 < N, "the kill fell in the middle of sending: {at_kill:?}");
    // Every repeat carries the id of the first.
    let by_recipient = recipients(&mails);
    for (to, message_ids) in &by_recipient {
        let distinct: BTreeSet<&String> = message_ids.iter().collect();
        assert_eq!(distinct.len(), 1, "{to} got repeats under different Message-IDs: {message_ids:?}");
    }
    let mut by_location = BTreeMap::<String, BTreeSet<String>>::new();
    for h in &posts {
        assert!(verified(&secret, h));
        let location = h.json()["data"]["location"].as_str().unwrap_or_default().to_owned();
        by_location.entry(location).or_default().insert(h.headers.get("webhook-id").cloned().unwrap_or_default());
    }
    assert!(by_location.values().all(|ids| ids.len() == 1), "a repeated webhook carries the same webhook-id");
    let email_repeats = mails.len() - N;
    let webhook_repeats = posts.len() - N;
    eprintln!(
        "[{:?}] killed at {} emails and {} webhooks of {N} each; repeats after the restart: {email_repeats} emails, {webhook_repeats} webhooks",
        super::BACKEND,
        at_kill.0,
        at_kill.1
    );
}

#[tokio::test]
async fn with_the_smtp_server_down_deliveries_retry_are_given_up_in_time_and_nothing_is_lost_when_it_returns() {
    let mut smtp = Smtp::stopped();
    let ghor = ghor_with(&smtp, 6).await;
    for id in ["umcg", "martini"] {
        let (status, body) =
            ghor.put("netwerk", &format!("/v1/registry/locations/{id}/contacts"), &contacts_of(id)).await;
        assert_eq!(status, 200, "{body}");
    }
    // Nothing listens: retried with backoff, then given up: "niet afgeleverd".
    let (status, body) =
        ghor.post("im", "/v1/events", &uitvraag("alleen-umcg", (53.222, 6.576), 1.0, chrono::Duration::zero())).await;
    assert_eq!(status, 201, "{body}");
    let seen = await_delivery(&ghor, "im", "alleen-umcg", "umcg", "opgegeven", Duration::from_secs(20)).await;
    let attempts = seen["deliveries"][0]["attempt"].as_u64().unwrap_or_default();
    assert!(attempts >= 3, "retried with backoff before giving up: {seen}");
    assert!(seen["deliveries"][0]["reason"].as_str().is_some_and(|r| r.contains("SMTP")), "{seen}");

    // It fails while the server is down, and comes through once it is back in time.
    let (status, body) = ghor
        .post("im", "/v1/events", &uitvraag("alleen-martini", (53.199, 6.552), 1.0, chrono::Duration::zero()))
        .await;
    assert_eq!(status, 201, "{body}");
    await_delivery(&ghor, "im", "alleen-martini", "martini", "mislukt", DEADLINE).await;
    smtp.start_again(0.0).await;
    await_delivery(&ghor, "im", "alleen-martini", "martini", "afgeleverd", DEADLINE).await;
    let mail = smtp.to("cc@martini.test");
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert!(mail[0]["body"].as_str().is_some_and(|b| b.contains("uitvraag=alleen-martini&location=martini")));
    assert!(smtp.to("cc@umcg.test").is_empty(), "what was given up stays given up");
}

#[tokio::test]
async fn a_bad_email_address_or_webhook_endpoint_is_refused_on_its_field() {
    let ghor = super::start().await;
    let refused = |body: &Value, field: &str, code: &str| {
        assert_eq!(body["status"], 422, "{body}");
        assert_eq!(body["errors"][0]["field"], field, "{body}");
        assert_eq!(body["errors"][0]["code"], code, "{body}");
    };
    for email in
        ["cc at umcg.test", "cc@umcg", "@umcg.test", "cc@umcg.test\n", &format!("{}@umcg.test", "c".repeat(250))]
    {
        let mut contacts = contacts_of("umcg");
        contacts["contacts"][1]["email"] = json!(email);
        let (_, body) = ghor.put("netwerk", "/v1/registry/locations/umcg/contacts", &contacts).await;
        refused(&body, "contacts[1].email", "not_an_email");
    }
    let path = "/v1/registry/organisations/umcg/webhooks";
    let hook = |url: &str, secret: &str| json!({ "webhooks": [{ "url": url, "secret": secret }] });
    let (_, body) = ghor.put("netwerk", path, &hook("ftp://zis.umcg.example", &new_secret())).await;
    refused(&body, "webhooks[0].url", "not_a_webhook_url");
    for secret in ["geheim", "whsec_!!!", "whsec_c2hvcnQ="] {
        let (_, body) = ghor.put("netwerk", path, &hook("https://zis.umcg.example/ghor", secret)).await;
        refused(&body, "webhooks[0].secret", "not_a_secret");
    }
    let (status, body) = ghor
        .put("netwerk", "/v1/registry/organisations/nergens/webhooks", &hook("https://x.example", &new_secret()))
        .await;
    assert_eq!(status, 404, "an organisation without locations: {body}");
}
