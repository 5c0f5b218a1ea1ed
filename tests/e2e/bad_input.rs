//! What a reporter sees when it sends something ghor cannot accept: a problem+json answer
//! with the exact status, the field and the reason, a server that stays up, and nothing
//! stored. "Nothing stored" is checked on the picture, not on the log position (ghor's own
//! overdue scheduler may move that): after the refused request a sentinel report for
//! another location is sent and awaited on the stream; the gateway folds the log in
//! order, so once the sentinel shows, anything stored before it would show too, and
//! umcg's location must still be exactly what it was.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use ghor_domain::{Role, Scope, Slug};
use ghor_store::TokenInfo;
use serde_json::{json, Value};

use crate::harness::{event, ic_occupied, Ghor};

/// umcg's IC beds before every case: what a wrongly stored event would overwrite.
const BASE_OPERATIONAL: u64 = 10;
const BASE_OCCUPIED: u64 = 4;

/// A server with a known value at umcg, and what umcg's location looks like.
struct Fixture {
    ghor: Ghor,
    /// `location` of `GET /v1/picture/locations/umcg` as `im`, before the bad request.
    before: Value,
    sentinel: AtomicU64,
}

/// The answer to one request.
#[derive(Debug)]
struct Answer {
    status: u16,
    content_type: Option<String>,
    body: Value,
}

impl Fixture {
    async fn new() -> Fixture {
        let ghor = super::start().await;
        ghor.report_beds("umcg", "umcg", BASE_OPERATIONAL as u32, BASE_OCCUPIED as u32).await;
        let mut s = ghor.stream("im", &["VR01"], None).await;
        s.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(BASE_OCCUPIED)).await;
        s.close().await;
        let before = umcg_location(&ghor).await;
        assert_eq!(
            before["dimensions"]["beds"]["values"]["ic"]["data"]["operational"], BASE_OPERATIONAL,
            "baseline: {before}"
        );
        Fixture { ghor, before, sentinel: AtomicU64::new(0) }
    }

    /// POSTs `body` to `path` with `authorization` as the header value (none when `None`).
    async fn send(&self, authorization: Option<String>, path: &str, body: Vec<u8>) -> Answer {
        let mut request = self
            .ghor
            .http
            .post(format!("{}{path}", self.ghor.url))
            .header("content-type", "application/json")
            .body(body);
        if let Some(a) = authorization {
            request = request.header("authorization", a);
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("POST {path}: no answer at all: {e}"));
        let status = response.status().as_u16();
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, content_type, body }
    }

    /// POSTs JSON as the harness token `token`.
    async fn post_as(&self, token: &str, path: &str, body: &Value) -> Answer {
        self.send(Some(bearer(self.ghor.token(token))), path, body.to_string().into_bytes()).await
    }

    /// The server is still up, and nothing of the refused request reached the picture.
    async fn assert_nothing_stored(&self) {
        let health =
            self.ghor.http.get(format!("{}/healthz", self.ghor.url)).send().await.expect("the server still answers");
        assert_eq!(health.status().as_u16(), 200, "GET /healthz after the bad request");

        let sentinel = self.sentinel.fetch_add(1, Ordering::SeqCst) + 1;
        self.ghor.report_beds("martini", "martini", 50, sentinel as u32).await;
        let mut s = self.ghor.stream("im", &["VR01"], None).await;
        s.until(|p| ic_occupied(&p["VR01"], "martini") == Some(sentinel)).await;
        s.close().await;

        let after = umcg_location(&self.ghor).await;
        assert_eq!(after, self.before, "the refused request changed umcg's location: something was stored");
    }
}

fn bearer(secret: &str) -> String {
    format!("Bearer {secret}")
}

async fn umcg_location(ghor: &Ghor) -> Value {
    let (status, body) = ghor.get("im", "/v1/picture/locations/umcg").await;
    assert_eq!(status, 200, "GET /v1/picture/locations/umcg as im: {body}");
    body["location"].clone()
}

/// A beds report for umcg whose values differ from the baseline, so storing it would show.
fn beds_umcg() -> Value {
    event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 20, "occupied": 15 }))
}

/// Asserts a problem+json answer: the status, the named field (when the server names one)
/// and a substring of its reason (or of the detail, when no field is named).
fn assert_problem(answer: &Answer, status: u16, field: Option<&str>, needle: &str) {
    let body = &answer.body;
    assert_eq!(answer.status, status, "HTTP status; body: {body}");
    assert_eq!(answer.content_type.as_deref(), Some("application/problem+json"), "content-type; body: {body}");
    assert_eq!(body["status"], status, "the problem's own status: {body}");
    assert!(body["type"].as_str().is_some_and(|t| !t.is_empty()), "the problem has a type: {body}");
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "the problem has a title: {body}");
    let detail = body["detail"].as_str().unwrap_or_else(|| panic!("the problem has a detail: {body}"));
    match field {
        Some(f) => {
            assert_eq!(body["errors"][0]["field"], f, "errors[0].field: {body}");
            let reason = body["errors"][0]["reason"].as_str().unwrap_or_else(|| panic!("errors[0].reason: {body}"));
            assert!(reason.contains(needle), "errors[0].reason should mention {needle:?}: {body}");
        }
        None => assert!(detail.contains(needle), "detail should mention {needle:?}: {body}"),
    }
}

/// Posts `body` to /v1/events as `token`, expects the problem, and that nothing was stored.
async fn refused(token: &str, body: &Value, status: u16, field: Option<&str>, needle: &str) {
    let fx = Fixture::new().await;
    let answer = fx.post_as(token, "/v1/events", body).await;
    assert_problem(&answer, status, field, needle);
    fx.assert_nothing_stored().await;
}

// ---- unreadable bodies ----

#[tokio::test]
async fn malformed_json_is_a_400_that_says_where() {
    let fx = Fixture::new().await;
    let answer = fx
        .send(Some(bearer(fx.ghor.token("umcg"))), "/v1/events", b"{\"specversion\": \"1.0\", \"source\": ".to_vec())
        .await;
    assert_problem(&answer, 400, None, "not valid JSON");
    assert!(
        answer.body["detail"].as_str().unwrap_or_default().contains("line 1"),
        "the detail names the position: {}",
        answer.body
    );
    fx.assert_nothing_stored().await;
}

#[tokio::test]
async fn an_array_on_the_single_event_endpoint_is_a_400_pointing_to_batch() {
    let fx = Fixture::new().await;
    let answer = fx.post_as("umcg", "/v1/events", &json!([beds_umcg()])).await;
    assert_problem(&answer, 400, None, "/v1/events/batch");
    fx.assert_nothing_stored().await;
}

// ---- invalid events ----

#[tokio::test]
async fn an_unknown_event_type_is_a_422_on_type() {
    let e = event(
        "/locations/umcg",
        "nl.ghor.teleporter.reported.v1",
        Some("ic"),
        json!({ "operational": 20, "occupied": 15 }),
    );
    refused("umcg", &e, 422, Some("type"), "not an event type ghor knows").await;
}

#[tokio::test]
async fn a_count_sent_as_a_string_is_a_422_on_that_field() {
    let e = event(
        "/locations/umcg",
        "nl.ghor.beds.reported.v1",
        Some("ic"),
        json!({ "operational": "20", "occupied": 15 }),
    );
    refused("umcg", &e, 422, Some("data.operational"), "invalid type").await;
}

#[tokio::test]
async fn a_negative_count_is_a_422_saying_negative() {
    let e =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 20, "occupied": -1 }));
    refused("umcg", &e, 422, Some("data.occupied"), "negative").await;
}

#[tokio::test]
async fn an_absurd_count_is_a_422_naming_the_largest_accepted() {
    let e = event(
        "/locations/umcg",
        "nl.ghor.beds.reported.v1",
        Some("ic"),
        json!({ "operational": 100_001, "occupied": 15 }),
    );
    refused("umcg", &e, 422, Some("data.operational"), "100000").await;
}

#[tokio::test]
async fn an_unknown_top_level_attribute_is_a_422_on_that_attribute() {
    let mut e = beds_umcg();
    e["priority"] = json!("high");
    refused("umcg", &e, 422, Some("priority"), "not an attribute ghor accepts").await;
}

/// A client setting an attribute only the server sets.
async fn server_owned(attribute: &str, value: Value) {
    let mut e = beds_umcg();
    e[attribute] = value;
    refused("umcg", &e, 422, Some(attribute), "server").await;
}

#[tokio::test]
async fn a_client_set_region_is_a_422_saying_the_server_sets_it() {
    server_owned("region", json!("VR01")).await;
}

#[tokio::test]
async fn a_client_set_scope_is_a_422_saying_the_server_sets_it() {
    server_owned("scope", json!("live")).await;
}

#[tokio::test]
async fn a_client_set_actor_is_a_422_saying_the_server_sets_it() {
    server_owned("actor", json!("someone else")).await;
}

#[tokio::test]
async fn a_client_set_received_is_a_422_saying_the_server_sets_it() {
    server_owned("received", json!(Utc::now().to_rfc3339())).await;
}

#[tokio::test]
async fn patient_data_inside_data_is_a_422_on_that_field() {
    let e = event(
        "/locations/umcg",
        "nl.ghor.beds.reported.v1",
        Some("ic"),
        json!({ "operational": 20, "occupied": 15, "patient_name": "J. Jansen" }),
    );
    refused("umcg", &e, 422, Some("data.patient_name"), "not a field of this event type").await;
}

#[tokio::test]
async fn a_time_ten_minutes_ahead_is_a_422_on_time_mentioning_utc() {
    let mut e = beds_umcg();
    e["time"] = json!((Utc::now() + chrono::Duration::minutes(10)).to_rfc3339());
    refused("umcg", &e, 422, Some("time"), "UTC").await;
}

// ---- sizes ----

#[tokio::test]
async fn a_single_event_over_64_kib_is_a_413() {
    let fx = Fixture::new().await;
    // A valid event, padded with JSON whitespace: only the size is wrong.
    let mut body = beds_umcg().to_string().into_bytes();
    body.extend(std::iter::repeat_n(b' ', 64 * 1024 + 1));
    let answer = fx.send(Some(bearer(fx.ghor.token("umcg"))), "/v1/events", body).await;
    assert_problem(&answer, 413, None, "larger than 65536 bytes");
    fx.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_batch_of_501_events_is_a_413_that_says_split_it() {
    let fx = Fixture::new().await;
    let items: Vec<Value> = (0..501)
        .map(|i| {
            event(
                "/locations/umcg",
                "nl.ghor.beds.reported.v1",
                Some("ic"),
                json!({ "operational": 600, "occupied": i }),
            )
        })
        .collect();
    let answer = fx.post_as("umcg", "/v1/events/batch", &Value::Array(items)).await;
    assert_problem(&answer, 413, None, "at most 500");
    fx.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_batch_body_over_1_mib_is_a_413() {
    let fx = Fixture::new().await;
    // Three valid events, padded with JSON whitespace past the limit.
    let items = Value::Array((0..3).map(|_| beds_umcg()).collect());
    let mut body = items.to_string().into_bytes();
    body.extend(std::iter::repeat_n(b' ', 1024 * 1024 + 1));
    let answer = fx.send(Some(bearer(fx.ghor.token("umcg"))), "/v1/events/batch", body).await;
    assert_problem(&answer, 413, None, "larger than 1048576 bytes");
    fx.assert_nothing_stored().await;
}

// ---- a mixed batch ----

#[tokio::test]
async fn a_mixed_batch_stores_the_valid_items_and_names_the_problem_of_each_other() {
    let fx = Fixture::new().await;
    let mut unknown_attribute = beds_umcg();
    unknown_attribute["priority"] = json!("high");
    let items = vec![
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 12, "occupied": 9 })),
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("mc"), json!({ "operational": 30, "occupied": -3 })),
        event(
            "/locations/umcg",
            "nl.ghor.beds.reported.v1",
            Some("klinisch"),
            json!({ "operational": 200, "occupied": 150 }),
        ),
        event(
            "/locations/martini",
            "nl.ghor.beds.reported.v1",
            Some("ic"),
            json!({ "operational": 99, "occupied": 98 }),
        ),
        unknown_attribute,
    ];
    let answer = fx.post_as("umcg", "/v1/events/batch", &Value::Array(items.clone())).await;
    assert_eq!(answer.status, 200, "a batch is answered per item: {}", answer.body);
    let results = answer.body["results"].as_array().unwrap_or_else(|| panic!("results: {}", answer.body));
    assert_eq!(results.len(), items.len(), "one result per item: {}", answer.body);

    // (status, problem status, problem field) per item.
    let expected: [(&str, Option<u16>, Option<&str>); 5] = [
        ("stored", None, None),
        ("rejected", Some(422), Some("data.occupied")),
        ("stored", None, None),
        ("rejected", Some(403), Some("source")),
        ("rejected", Some(422), Some("priority")),
    ];
    for (i, (r, (status, problem_status, field))) in results.iter().zip(expected).enumerate() {
        assert_eq!(r["index"], i, "results are in the order sent: {r}");
        assert_eq!(r["status"], status, "item {i}: {r}");
        match problem_status {
            None => {
                assert!(r["seq"].as_u64().is_some(), "item {i} has its log position: {r}");
                assert_eq!(r["id"], items[i]["id"], "item {i} echoes its id: {r}");
            }
            Some(p) => {
                assert_eq!(r["problem"]["status"], p, "item {i}'s problem: {r}");
                assert_eq!(r["problem"]["errors"][0]["field"], field.unwrap_or_default(), "item {i}'s field: {r}");
                assert!(
                    r["problem"]["detail"].as_str().is_some_and(|d| !d.is_empty()),
                    "item {i}'s problem has a detail: {r}"
                );
            }
        }
    }

    // The stored items really are in the picture; the rejected ones are not.
    let mut s = fx.ghor.stream("im", &["VR01"], None).await;
    s.until(|p| {
        ic_occupied(&p["VR01"], "umcg") == Some(9)
            && p["VR01"]["locations"]["umcg"]["dimensions"]["beds"]["values"]["klinisch"]["data"]["occupied"] == 150
    })
    .await;
    s.close().await;
    let (status, picture) = fx.ghor.get("im", "/v1/picture").await;
    assert_eq!(status, 200, "{picture}");
    let umcg = &picture["regions"]["VR01"]["view"]["locations"]["umcg"]["dimensions"]["beds"]["values"];
    assert_eq!(umcg["ic"]["data"]["operational"], 12, "item 0 stored: {umcg}");
    assert_eq!(umcg["klinisch"]["data"]["operational"], 200, "item 2 stored: {umcg}");
    assert!(umcg.get("mc").is_none(), "item 1 (negative count) was not stored: {umcg}");
    let martini = &picture["regions"]["VR01"]["view"]["locations"]["martini"];
    assert!(
        martini["dimensions"]["beds"].is_null(),
        "item 3 (another organisation's location) was not stored: {martini}"
    );
}

// ---- who is calling ----

#[tokio::test]
async fn no_token_is_a_401_that_says_how_to_send_one() {
    let fx = Fixture::new().await;
    let answer = fx.send(None, "/v1/events", beds_umcg().to_string().into_bytes()).await;
    assert_problem(&answer, 401, None, "Authorization: Bearer");
    fx.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_malformed_authorization_header_is_a_401() {
    let fx = Fixture::new().await;
    let body = beds_umcg().to_string().into_bytes();
    // Basic auth; the right secret without "Bearer"; a bearer that is not a ghor secret.
    for header in
        ["Basic dW1jZzpzZWNyZXQ=".to_owned(), fx.ghor.token("umcg").to_owned(), "Bearer not-a-ghor-token".to_owned()]
    {
        let answer = fx.send(Some(header.clone()), "/v1/events", body.clone()).await;
        assert_eq!(answer.status, 401, "Authorization: {header}: {:?}", answer);
        assert_problem(&answer, 401, None, "Bearer ghor_");
    }
    fx.assert_nothing_stored().await;
}

/// A secret of the right form that ghor never issued.
fn random_secret() -> String {
    format!("ghor_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn an_unknown_token_is_a_401() {
    let fx = Fixture::new().await;
    let answer = fx.send(Some(bearer(&random_secret())), "/v1/events", beds_umcg().to_string().into_bytes()).await;
    assert_problem(&answer, 401, None, "not known");
    fx.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_revoked_token_is_a_401_that_says_revoked() {
    let fx = Fixture::new().await;
    let secret = fx
        .ghor
        .cli(&[
            "token",
            "create",
            "--role",
            "institution",
            "--name",
            "UMCG ZIS oud",
            "--region",
            "VR01",
            "--organisation",
            "umcg",
        ])
        .await;
    let me = fx.ghor.http.get(format!("{}/v1/me", fx.ghor.url)).bearer_auth(&secret).send().await.expect("GET /v1/me");
    assert_eq!(me.status().as_u16(), 200, "the new token works before it is revoked");
    let (status, tokens) = fx.ghor.get("admin", "/v1/tokens").await;
    assert_eq!(status, 200, "{tokens}");
    let id = tokens["tokens"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["name"] == "UMCG ZIS oud"))
        .and_then(|t| t["id"].as_str())
        .unwrap_or_else(|| panic!("the new token is listed: {tokens}"))
        .to_owned();
    fx.ghor.cli(&["token", "revoke", &id]).await;

    let answer = fx.send(Some(bearer(&secret)), "/v1/events", beds_umcg().to_string().into_bytes()).await;
    assert_problem(&answer, 401, None, "revoked");
    fx.assert_nothing_stored().await;
}

#[tokio::test]
async fn an_expired_token_is_a_401_that_says_expired() {
    let fx = Fixture::new().await;
    let secret = random_secret();
    let now = Utc::now();
    let info = TokenInfo {
        id: uuid::Uuid::new_v4(),
        name: "UMCG ZIS verlopen".to_owned(),
        role: Role::Institution,
        regions: vec!["VR01".try_into().expect("region")],
        organisation: Some(Slug::try_from("umcg").expect("slug")),
        scope: Scope::Live,
        created: now - chrono::Duration::days(400),
        expires: now - chrono::Duration::days(1),
        revoked: false,
    };
    let store = fx.ghor.stores().await.tokens;
    store.insert(&info, &ghor_server::auth::hash(&secret)).await.expect("insert the expired token");
    drop(store);

    let answer = fx.send(Some(bearer(&secret)), "/v1/events", beds_umcg().to_string().into_bytes()).await;
    assert_problem(&answer, 401, None, "expired");
    fx.assert_nothing_stored().await;
}

// ---- what the token may write ----

#[tokio::test]
async fn an_institution_reporting_for_another_organisations_location_is_a_403_on_source() {
    refused("martini", &beds_umcg(), 403, Some("source"), "another organisation").await;
}

#[tokio::test]
async fn a_report_for_an_unregistered_location_is_a_422_on_source() {
    let e = event(
        "/locations/nergens",
        "nl.ghor.beds.reported.v1",
        Some("ic"),
        json!({ "operational": 20, "occupied": 15 }),
    );
    refused("umcg", &e, 422, Some("source"), "not a registered location").await;
}

#[tokio::test]
async fn report_overdue_sent_by_a_client_is_a_403() {
    let e = event(
        "/locations/umcg",
        "nl.ghor.report.overdue.v1",
        None,
        json!({ "due": Utc::now().to_rfc3339(), "interval_minutes": 60 }),
    );
    refused("umcg", &e, 403, Some("type"), "scheduler").await;
}

// ---- repeat safety ----

#[tokio::test]
async fn the_same_event_twice_is_stored_once_and_then_reported_duplicate() {
    let fx = Fixture::new().await;
    let e =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 11, "occupied": 5 }));
    let first = fx.post_as("umcg", "/v1/events", &e).await;
    assert_eq!(first.status, 201, "first post: {}", first.body);
    assert_eq!(first.body["status"], "stored", "{}", first.body);
    assert_eq!(first.body["id"], e["id"], "{}", first.body);
    let seq = first.body["seq"].as_u64().unwrap_or_else(|| panic!("seq: {}", first.body));

    let second = fx.post_as("umcg", "/v1/events", &e).await;
    assert_eq!(second.status, 200, "the retry: {}", second.body);
    assert_eq!(second.body["status"], "duplicate", "{}", second.body);
    assert_eq!(second.body["seq"], seq, "the retry names where the first one is: {}", second.body);

    let mut s = fx.ghor.stream("im", &["VR01"], None).await;
    s.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(5)).await;
    s.close().await;
}
