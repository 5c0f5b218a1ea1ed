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

use crate::harness::{event, ic_occupied, wait_for, Ghor};

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
    headers: reqwest::header::HeaderMap,
    /// The body's length in bytes, as sent.
    length: usize,
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

    /// POSTs `body` to `path` as JSON with `authorization` as the header value (none when
    /// `None`).
    async fn send(&self, authorization: Option<String>, path: &str, body: Vec<u8>) -> Answer {
        self.send_typed(authorization, path, Some("application/json"), body).await
    }

    /// POSTs `body` to `path` with this `Content-Type` (none when `None`).
    async fn send_typed(
        &self,
        authorization: Option<String>,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self.ghor.http.post(format!("{}{path}", self.ghor.url)).body(body);
        if let Some(t) = content_type {
            request = request.header("content-type", t);
        }
        if let Some(a) = authorization {
            request = request.header("authorization", a);
        }
        answer(request, path).await
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

/// Sends `request`; `what` names it in a failure.
async fn answer(request: reqwest::RequestBuilder, what: &str) -> Answer {
    let response = request.send().await.unwrap_or_else(|e| panic!("{what}: no answer at all: {e}"));
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let text = response.text().await.unwrap_or_default();
    let length = text.len();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer { status, content_type, headers, length, body }
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
async fn refused(token: &str, body: &Value, status: u16, field: Option<&str>, needle: &str) -> Answer {
    let fx = Fixture::new().await;
    let answer = fx.post_as(token, "/v1/events", body).await;
    assert_problem(&answer, status, field, needle);
    fx.assert_nothing_stored().await;
    answer
}

/// Asserts the stable code of the first field error, and its params (which the page words
/// the code's message with).
fn assert_code(answer: &Answer, code: &str, params: Value) {
    let error = &answer.body["errors"][0];
    assert_eq!(error["code"], code, "errors[0].code: {}", answer.body);
    assert_eq!(error["params"], params, "errors[0].params: {}", answer.body);
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
    let answer = refused("umcg", &e, 422, Some("data.operational"), "invalid type").await;
    assert_code(&answer, "not_a_number", json!({}));
}

/// JSON Schema's `integer` is any number without a fraction, however it is written: what
/// the schema of a count allows is accepted, and stored as the plain whole number.
#[tokio::test]
async fn a_whole_count_in_any_spelling_is_accepted_as_its_schema_says() {
    let ghor = super::start().await;
    let text = beds_umcg().to_string();
    let respelled =
        text.replace(r#""operational":20"#, r#""operational":2e1"#).replace(r#""occupied":15"#, r#""occupied":15.0"#);
    assert_ne!(text, respelled, "the counts were respelled");
    let (status, body, _) = ghor.post_raw(Some("umcg"), "/v1/events", respelled.into_bytes()).await;
    assert_eq!(status, 201, "{body}");
    let seq = body["seq"].as_u64().expect("seq");
    wait_for(async || ghor.get("im", "/v1/picture").await.1["seq"].as_u64() >= Some(seq)).await;
    let ic = &umcg_location(&ghor).await["dimensions"]["beds"]["values"]["ic"]["data"];
    assert_eq!(
        (ic["operational"].clone(), ic["occupied"].clone()),
        (json!(20), json!(15)),
        "stored as whole numbers: {ic}"
    );
}

#[tokio::test]
async fn a_negative_count_is_a_422_saying_negative() {
    let e =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 20, "occupied": -1 }));
    let answer = refused("umcg", &e, 422, Some("data.occupied"), "negative").await;
    assert_code(&answer, "negative", json!({}));
}

/// The page words a refusal from its code: `/v1/domain` (public, like the page) holds the
/// code's message in both languages, naming the params the refusal carries, and the field
/// refused with its limit.
#[tokio::test]
async fn the_domain_data_words_the_code_of_a_refusal_and_knows_the_field() {
    let ghor = super::start().await;
    let e = event(
        "/locations/umcg",
        "nl.ghor.beds.reported.v1",
        Some("ic"),
        json!({ "operational": 100_001, "occupied": 1 }),
    );
    let (status, refusal) = ghor.post("umcg", "/v1/events", &e).await;
    assert_eq!(status, 422, "{refusal}");
    let error = &refusal["errors"][0];
    let domain = answer(ghor.http.get(format!("{}/v1/domain", ghor.url)), "/v1/domain").await;
    assert_eq!(domain.status, 200, "GET /v1/domain without a token: {}", domain.body);
    let code = error["code"].as_str().unwrap_or_else(|| panic!("a code: {error}"));
    let message = &domain.body["errors"][code];
    for lang in ["nl", "en"] {
        let text = message[lang].as_str().unwrap_or_else(|| panic!("{code} has no {lang} text: {message}"));
        for (param, _) in error["params"].as_object().into_iter().flatten() {
            assert!(text.contains(&format!("{{{param}}}")), "{code} ({lang}) names {{{param}}}: {text}");
        }
    }
    let beds = domain.body["dimensions"].as_array().and_then(|d| d.iter().find(|d| d["name"] == "beds")).cloned();
    let beds = beds.unwrap_or_else(|| panic!("the beds dimension: {}", domain.body["dimensions"]));
    assert_eq!(beds["key"], "BedType");
    assert_eq!(beds["reports"][0]["type"], "nl.ghor.beds.reported.v1");
    let operational = &beds["reports"][0]["fields"][0];
    assert_eq!(operational["name"], "operational", "{beds}");
    assert_eq!((operational["kind"].as_str(), operational["required"].as_bool()), (Some("count"), Some(true)));
    assert_eq!(operational["max"], error["params"]["max"], "the limit the form shows is the one refused");
}

#[tokio::test]
async fn an_absurd_count_is_a_422_naming_the_largest_accepted() {
    let e = event(
        "/locations/umcg",
        "nl.ghor.beds.reported.v1",
        Some("ic"),
        json!({ "operational": 100_001, "occupied": 15 }),
    );
    let answer = refused("umcg", &e, 422, Some("data.operational"), "100000").await;
    assert_code(&answer, "too_large", json!({ "max": 100_000 }));
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
    let answer = refused("umcg", &e, 422, Some("data.patient_name"), "not a field of this event type").await;
    assert_code(&answer, "unknown_field", json!({}));
}

#[tokio::test]
async fn a_time_ten_minutes_ahead_is_a_422_on_time_mentioning_utc() {
    let mut e = beds_umcg();
    e["time"] = json!((Utc::now() + chrono::Duration::minutes(10)).to_rfc3339());
    let answer = refused("umcg", &e, 422, Some("time"), "UTC").await;
    let minutes = answer.body["errors"][0]["params"]["minutes"].as_i64();
    assert!(minutes.is_some_and(|m| (9..=10).contains(&m)), "minutes ahead: {}", answer.body);
    assert_code(&answer, "in_the_future", json!({ "minutes": minutes }));
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

#[tokio::test]
async fn notification_outcomes_and_reminders_sent_by_a_client_are_a_403() {
    // Even the informatiemanager may not say a notification reached someone, nor that a
    // round of reminders is due: ghor's notifier and scheduler write those.
    let data = json!({ "cause": uuid::Uuid::now_v7().to_string(), "kind": "uitvraag", "about": "stroom",
                       "channel": "email", "contact_role": "crisiscoordinator", "attempt": 1 });
    let subject = uuid::Uuid::now_v7().to_string();
    let delivered = event("/locations/umcg", "nl.ghor.notification.delivered.v1", Some(&subject), data);
    refused("im", &delivered, 403, Some("type"), "notifier").await;
    let due = json!({ "round": 1, "due": Utc::now().to_rfc3339() });
    let reminder = event("/regions/VR01", "nl.ghor.uitvraag.reminder_due.v1", Some("stroom"), due);
    refused("im", &reminder, 403, Some("type"), "scheduler").await;
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

// ---- strict at the door ----

#[tokio::test]
async fn a_report_sent_as_another_media_type_is_a_415_that_names_content_type() {
    let fx = Fixture::new().await;
    let umcg = || Some(bearer(fx.ghor.token("umcg")));
    let single = beds_umcg().to_string().into_bytes();
    let batch = json!([beds_umcg()]).to_string().into_bytes();
    let long = format!("application/{}", "x".repeat(10_000));
    for (path, content_type, body) in [
        ("/v1/events", Some("text/plain"), &single),
        ("/v1/events", Some("application/x-www-form-urlencoded"), &single),
        ("/v1/events", None, &single),
        ("/v1/events", Some("application/cloudevents-batch+json"), &single),
        ("/v1/events", Some(long.as_str()), &single),
        ("/v1/events/batch", Some("text/plain; charset=utf-8"), &batch),
        ("/v1/events/batch", None, &batch),
    ] {
        let answer = fx.send_typed(umcg(), path, content_type, body.clone()).await;
        assert_problem(&answer, 415, Some("Content-Type"), "application/json");
        assert_code(&answer, "unsupported_media_type", json!({}));
        assert!(answer.length < 1024, "{path} as {content_type:?}: the answer repeats too much: {}", answer.body);
    }
    let token = fx.send_typed(Some(bearer(fx.ghor.token("admin"))), "/v1/tokens", Some("text/plain"), b"{}".to_vec());
    assert_problem(&token.await, 415, Some("Content-Type"), "application/json");
    fx.assert_nothing_stored().await;

    // What a CloudEvents client sends is read, parameters and all.
    let answer = fx.send_typed(umcg(), "/v1/events", Some("application/cloudevents+json; charset=utf-8"), single).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let answer = fx.send_typed(umcg(), "/v1/events/batch", Some("application/cloudevents-batch+json"), batch).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["results"][0]["status"], "stored", "{}", answer.body);
}

#[tokio::test]
async fn a_key_given_twice_is_a_422_that_names_its_path() {
    let fx = Fixture::new().await;
    let text = beds_umcg().to_string();
    // The repeat goes first, so the last one (which a lenient reader keeps) is the valid one.
    let cases = [
        (text.replacen('{', r#"{"subject":"mc","#, 1), "subject"),
        (text.replacen(r#""data":{"#, r#""data":{"operational":99,"#, 1), "data.operational"),
        (text.replacen(r#""data":{"#, r#""data":{"occupied":15,"#, 1), "data.occupied"),
    ];
    for (body, field) in &cases {
        assert!(serde_json::from_str::<Value>(body).is_ok(), "the case is valid JSON: {body}");
        let answer = fx.send(Some(bearer(fx.ghor.token("umcg"))), "/v1/events", body.clone().into_bytes()).await;
        assert_problem(&answer, 422, Some(field), "more than once");
        assert_code(&answer, "duplicate_key", json!({}));
    }
    let batch = format!("[{}]", cases[1].0);
    let answer = fx.send(Some(bearer(fx.ghor.token("umcg"))), "/v1/events/batch", batch.into_bytes()).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let item = &answer.body["results"][0];
    assert_eq!((item["status"].as_str(), item["problem"]["status"].as_u64()), (Some("rejected"), Some(422)), "{item}");
    assert_eq!(item["problem"]["errors"][0]["field"], "data.operational", "{item}");
    fx.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_long_value_is_quoted_only_briefly_and_its_field_still_named() {
    let fx = Fixture::new().await;
    let long = "x".repeat(10_000);
    for (pointer, field) in [
        ("/type", "type"),
        ("/source", "source"),
        ("/subject", "subject"),
        ("/bron", "bron"),
        ("/id", "id"),
        ("/data/operational", "data.operational"),
    ] {
        let mut e = beds_umcg();
        let (parent, name) = pointer.rsplit_once('/').unwrap_or_default();
        let parent = e.pointer_mut(parent).and_then(Value::as_object_mut);
        parent.unwrap_or_else(|| panic!("{pointer}'s parent in the report")).insert(name.to_owned(), json!(long));
        for (path, body) in [("/v1/events", e.clone()), ("/v1/events/batch", json!([e]))] {
            let answer = fx.post_as("umcg", path, &body).await;
            let start: String = answer.body.to_string().chars().take(300).collect();
            assert!(answer.length < 1024, "{field} on {path}: the answer repeats too much: {start}…");
            let problem = if path.ends_with("batch") { &answer.body["results"][0]["problem"] } else { &answer.body };
            assert_eq!(problem["errors"][0]["field"], field, "{path}: {}", answer.body);
        }
    }
    let mut e = beds_umcg();
    e["data"][long.as_str()] = json!(1);
    let answer = fx.post_as("umcg", "/v1/events", &e).await;
    assert_problem(&answer, 422, None, "data.xxx");
    assert!(answer.length < 1024, "a long key: the answer repeats too much: {}", answer.body);
    fx.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_reused_id_with_other_content_is_a_409_before_and_after_the_duplicate_window() {
    let fx = Fixture::new().await;
    let original = beds_umcg();
    let mut correction = original.clone();
    correction["data"]["occupied"] = json!(16);
    let first = fx.post_as("umcg", "/v1/events", &original).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let seq = first.body["seq"].as_u64().unwrap_or_else(|| panic!("seq: {}", first.body));

    let assert_repeats_answered = async |when: &str| {
        let same = fx.post_as("umcg", "/v1/events", &original).await;
        assert_eq!(
            (same.status, &same.body["status"], &same.body["seq"]),
            (200, &json!("duplicate"), &json!(seq)),
            "{when}: {:?}",
            same
        );
        let other = fx.post_as("umcg", "/v1/events", &correction).await;
        assert_problem(&other, 409, Some("id"), "new id");
        assert_code(&other, "conflict", json!({}));
        assert!(
            other.body["type"].as_str().is_some_and(|t| t.ends_with("/problems/conflict")),
            "{when}: {}",
            other.body
        );
        let batch = fx.post_as("umcg", "/v1/events/batch", &json!([correction, original])).await;
        let results = &batch.body["results"];
        assert_eq!(results[0]["status"], "rejected", "{when}: {}", batch.body);
        assert_eq!(results[0]["problem"]["status"], 409, "{when}: {}", batch.body);
        assert_eq!(results[1]["status"], "duplicate", "{when}: {}", batch.body);
    };
    assert_repeats_answered("within the duplicate window").await;
    // Past the log's own duplicate window (on JetStream) only the archive knows the id.
    let read_model = fx.ghor.stores().await.read_model;
    wait_for_checkpoint(&*read_model, seq).await;
    tokio::time::sleep(std::time::Duration::from_millis(crate::harness::DUPLICATE_WINDOW_SECS * 1000 + 500)).await;
    assert_repeats_answered("after the duplicate window").await;

    // Stored once, as first sent.
    let id = original["id"].as_str().unwrap_or_default();
    assert_eq!(fx.ghor.copies_in_log(id).await, 1, "stored once");
    let mut s = fx.ghor.stream("im", &["VR01"], None).await;
    s.until(|p| ic_occupied(&p["VR01"], "umcg") == Some(15)).await;
    s.close().await;
}

async fn wait_for_checkpoint(read_model: &dyn ghor_store::ReadModel, seq: u64) {
    let deadline = tokio::time::Instant::now() + crate::harness::DEADLINE;
    while read_model.checkpoint(Scope::Live).await.expect("checkpoint") < seq {
        assert!(tokio::time::Instant::now() < deadline, "the projector did not reach {seq} in time");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_401_challenges_for_a_bearer_token_and_says_when_the_one_sent_is_invalid() {
    let fx = Fixture::new().await;
    let body = beds_umcg().to_string().into_bytes();
    let challenge = |a: &Answer| a.headers.get("www-authenticate").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let none = fx.send(None, "/v1/events", body.clone()).await;
    assert_eq!(none.status, 401);
    let none = challenge(&none).unwrap_or_else(|| panic!("no WWW-Authenticate without a token: {:?}", none.headers));
    assert!(none.starts_with("Bearer") && !none.contains("error="), "{none}");
    let unknown = fx.send(Some(bearer(&random_secret())), "/v1/events", body).await;
    assert_eq!(unknown.status, 401);
    let unknown = challenge(&unknown).unwrap_or_else(|| panic!("no WWW-Authenticate: {:?}", unknown.headers));
    assert!(unknown.starts_with("Bearer") && unknown.contains(r#"error="invalid_token""#), "{unknown}");
    fx.assert_nothing_stored().await;
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_the_page_may_not_be_framed() {
    let ghor = super::start().await;
    let get = |path: &str| ghor.http.get(format!("{}{path}", ghor.url));
    let answers = [
        ("/", answer(get("/"), "/").await),
        ("/assets/core.js", answer(get("/assets/core.js"), "/assets/core.js").await),
        ("/v1/me", answer(get("/v1/me").bearer_auth(ghor.token("im")), "/v1/me").await),
        ("/v1/me without a token", answer(get("/v1/me"), "/v1/me").await),
        ("/nowhere", answer(get("/nowhere"), "/nowhere").await),
    ];
    for (what, answer) in &answers {
        for (name, value) in
            [("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer"), ("x-frame-options", "DENY")]
        {
            assert_eq!(answer.headers.get(name).and_then(|v| v.to_str().ok()), Some(value), "{what}: {name}");
        }
    }
    let csp = answers[0].1.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "the page's CSP: {csp}");
}

/// Opens `/v1/stream`, sends `hello`, and returns the messages up to the end: the texts
/// and the close frame's code (`None` when the socket just dropped).
async fn refused_stream(ghor: &Ghor, hello: String) -> (Vec<Value>, Option<u16>) {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let url = format!("{}/v1/stream", ghor.url.replace("http://", "ws://"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("websocket");
    ws.send(Message::Text(hello.into())).await.expect("hello");
    let mut texts = Vec::new();
    loop {
        let next = tokio::time::timeout(crate::harness::DEADLINE, ws.next()).await.expect("the server ends in time");
        match next {
            Some(Ok(Message::Text(t))) => texts.push(serde_json::from_str(&t).expect("json")),
            Some(Ok(Message::Close(frame))) => return (texts, frame.map(|f| u16::from(f.code))),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return (texts, None),
        }
    }
}

#[tokio::test]
async fn a_refused_stream_ends_with_the_error_and_a_close_frame_with_its_code() {
    let ghor = super::start().await;
    let ticket = async |token: &str| {
        let (status, body) = ghor.post(token, "/v1/stream/ticket", &json!({})).await;
        assert_eq!(status, 200, "{body}");
        body["ticket"].clone()
    };
    let cases = [
        (json!({ "type": "hello", "ticket": "no-such-ticket" }).to_string(), 401, 1008),
        (json!({ "type": "hello", "ticket": ticket("im").await, "regions": ["VR02"] }).to_string(), 403, 1008),
        ("not a hello".to_owned(), 400, 1002),
    ];
    for (hello, status, code) in cases {
        let (texts, close) = refused_stream(&ghor, hello.clone()).await;
        assert_eq!(texts.len(), 1, "{hello}: one message, the error: {texts:?}");
        assert_eq!((texts[0]["type"].as_str(), texts[0]["status"].as_u64()), (Some("error"), Some(status)), "{hello}");
        assert_eq!(close, Some(code), "{hello}: the close frame's code (None: no close frame)");
    }
}
