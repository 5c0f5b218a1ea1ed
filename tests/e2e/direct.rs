//! Institution systems publishing straight onto NATS, each from an account of its own:
//! only their own intake subjects, checked by ingest exactly as over HTTP; a bad payload is
//! quarantined with its reason, the location shows it, and what follows is still projected.

use std::time::Duration;

use ghor_store::testing::NatsServer;
use serde_json::{json, Value};

use crate::harness::{event, ic_occupied, Ghor, DEADLINE};

/// ghor's account, and one account per institution (as deploy/nats/accounts.conf): each
/// institution's user may publish its own intake subjects only, in its own account; ghor
/// declares the intake stream there and sources it into its own.
fn config(institutions: &[&str]) -> String {
    let mut imports = String::new();
    let mut accounts = String::new();
    for org in institutions {
        let account = org.to_uppercase();
        imports += &format!(
            r#"
      {{ service: {{ account: {account}, subject: "$JS.API.>" }}, to: "JS.{org}.API.>" }}
      {{ service: {{ account: {account}, subject: "$JS.FC.>" }} }}
      {{ stream: {{ account: {account}, subject: "ghor.deliver.{org}.>" }} }}"#
        );
        accounts += &format!(
            r#"
  {account} {{
    jetstream: enabled
    users = [
      {{ user: {org}, password: {org}-test,
        permissions: {{ publish: {{ allow: ["ghor.*.in.{org}.>"] }}, subscribe: {{ allow: ["_INBOX_{org}.>"] }} }} }}
    ]
    exports = [
      {{ service: "$JS.API.>", accounts: [GHOR] }}
      {{ service: "$JS.FC.>", accounts: [GHOR] }}
      {{ stream: "ghor.deliver.{org}.>", accounts: [GHOR] }}
    ]
  }}"#
        );
    }
    format!(
        r#"
accounts {{
  GHOR {{
    jetstream: enabled
    users = [ {{ user: ghor, password: ghor-test }} ]
    imports = [{imports}
    ]
  }}{accounts}
}}
"#
    )
}

async fn institution(server: &NatsServer) -> async_nats::jetstream::Context {
    let client = async_nats::ConnectOptions::with_user_and_password("umcg".into(), "umcg-test".into())
        .custom_inbox_prefix("_INBOX_umcg")
        .connect(&server.url)
        .await
        .expect("the institution connects");
    async_nats::jetstream::ContextBuilder::new().timeout(Duration::from_secs(3)).build(client)
}

async fn publish(js: &async_nats::jetstream::Context, subject: &str, body: Vec<u8>) -> Result<(), String> {
    match js.publish(subject.to_owned(), body.into()).await {
        Ok(ack) => ack.await.map(|_| ()).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

async fn location(ghor: &Ghor, until: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        // The read model follows the log: until the registration is projected, a 404.
        let (status, body) = ghor.get("im", "/v1/picture/locations/umcg").await;
        assert!(status == 200 || status == 404, "{status}: {body}");
        if status == 200 && until(&body["location"]) {
            return body["location"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "not reached: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_institution_system_publishes_on_nats_and_a_bad_payload_is_quarantined() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("nats.conf");
    std::fs::write(&config, self::config(&["umcg", "martini"])).expect("config");
    let server = NatsServer::start_with(&["-c", config.to_str().expect("path")]);
    let url = format!("nats://ghor:ghor-test@127.0.0.1:{}", server.port);
    let ghor = Ghor::start_with_nats(server, url, &["umcg", "martini"]).await;
    let js = institution(ghor.nats.as_ref().expect("nats")).await;

    // A good report on its own intake subject lands in the picture.
    let good =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 20, "occupied": 11 }));
    publish(&js, "ghor.live.in.umcg.umcg", good.to_string().into_bytes()).await.expect("intake accepts");
    let umcg = location(&ghor, |l| l["dimensions"]["beds"]["values"]["ic"]["data"]["occupied"] == 11).await;
    assert_eq!(umcg["dimensions"]["beds"]["values"]["ic"]["actor"], "umcg (NATS)");

    // A bad one: refused with its reason, shown on the location, quarantined.
    let bad =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 20, "occupied": -3 }));
    publish(&js, "ghor.live.in.umcg.umcg", bad.to_string().into_bytes()).await.expect("intake takes it");
    let umcg = location(&ghor, |l| l["rejected"].is_object()).await;
    assert_eq!(umcg["rejected"]["field"], "data.occupied");
    assert!(umcg["rejected"]["reason"].as_str().expect("reason").contains("negative"));
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (_, q) = ghor.get("im", "/v1/quarantine").await;
        if let Some(item) = q["quarantined"].as_array().and_then(|a| a.first()) {
            assert_eq!(item["location"], "umcg");
            assert!(item["reason"].as_str().expect("reason").starts_with("data.occupied"), "{item}");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never quarantined: {q}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Another region's informatiemanager does not see VR01's quarantine.
    let (status, theirs) = ghor.get("im2", "/v1/quarantine").await;
    assert_eq!((status, &theirs["quarantined"]), (200, &json!([])), "VR01's quarantine is not VR02's: {theirs}");

    // A key given twice is refused as it is over HTTP, naming the key.
    let twice = format!(
        r#"{{"specversion":"1.0","id":"{}","source":"/locations/umcg","type":"nl.ghor.beds.reported.v1","subject":"ic","time":"{}","data":{{"operational":20,"occupied":1,"occupied":2}}}}"#,
        uuid::Uuid::now_v7(),
        chrono::Utc::now().to_rfc3339()
    );
    publish(&js, "ghor.live.in.umcg.umcg", twice.into_bytes()).await.expect("intake takes it");
    let umcg =
        location(&ghor, |l| l["rejected"]["reason"].as_str().is_some_and(|r| r.contains("more than once"))).await;
    assert_eq!(umcg["rejected"]["field"], "data.occupied", "{umcg}");

    // A system on NATS is an institution: it cannot claim the GHOR took its report by phone.
    let mut phoned =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 20, "occupied": 9 }));
    phoned["bron"] = json!("telefoon");
    publish(&js, "ghor.live.in.umcg.umcg", phoned.to_string().into_bytes()).await.expect("intake takes it");
    let umcg = location(&ghor, |l| l["rejected"]["field"] == "bron").await;
    assert_ne!(umcg["dimensions"]["beds"]["values"]["ic"]["data"]["occupied"], 9, "not stored: {umcg}");

    // Garbage is refused too, and what follows is projected and clears the mark.
    publish(&js, "ghor.live.in.umcg.umcg", b"{not json".to_vec()).await.expect("intake takes it");
    let next =
        event("/locations/umcg", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 20, "occupied": 12 }));
    publish(&js, "ghor.live.in.umcg.umcg", next.to_string().into_bytes()).await.expect("intake accepts");
    let umcg = location(&ghor, |l| l["dimensions"]["beds"]["values"]["ic"]["data"]["occupied"] == 12).await;
    assert!(umcg.get("rejected").is_none(), "a valid report after the refusal clears the mark: {umcg}");

    // It cannot write for another organisation, nor the canonical stream.
    let theirs =
        event("/locations/martini", "nl.ghor.beds.reported.v1", Some("ic"), json!({ "operational": 5, "occupied": 5 }));
    assert!(publish(&js, "ghor.live.in.martini.martini", theirs.to_string().into_bytes()).await.is_err());
    assert!(publish(&js, "ghor.live.ev.VR01.umcg.beds", good.to_string().into_bytes()).await.is_err());
    let (_, region) = ghor.get("im", "/v1/picture/regions/VR01").await;
    assert_eq!(ic_occupied(&region["view"], "martini"), None, "nothing reached martini");

    // What it sent waits in its own account, under that account's limits.
    let client = ghor_store::nats::connect(ghor.nats_url.as_ref().expect("url")).await.expect("ghor connects");
    let theirs = async_nats::jetstream::with_prefix(client, "JS.umcg.API");
    let mut stream = theirs.get_stream("GHOR_INTAKE_LIVE_UMCG").await.expect("umcg's intake stream");
    let info = stream.info().await.expect("info");
    assert_eq!(info.config.subjects, vec!["ghor.live.in.umcg.*".to_owned()]);
    assert_eq!(info.config.max_age, Duration::from_secs(7 * 24 * 3600), "messages not taken within a week expire");
    assert_eq!(info.state.messages, 6, "its three reports, the one with a key twice, the phoned one and the garbage");
}
