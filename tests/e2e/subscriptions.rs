//! Subscriptions to alerts (issue 9), with real parts: the aiosmtpd sink and the webhook
//! receiver of [`super::notify`]. An informatiemanager subscribes to an SEH stop in VR01 by
//! email, a ROT member to "IC free below 5" by a signed webhook; each is told exactly once
//! when its condition starts, nothing while it continues; a subscription in another region
//! and one whose token was revoked are told nothing; an institution may not subscribe; a
//! bad email is a 422 naming `email`.
//!
//! "Nothing" is checked without sleeping: the notifier's checkpoint passes an event only
//! once every notification it called for is delivered (and recorded), so once it has
//! passed the event in question, what the sinks hold is all there will be.

use std::time::Duration;

use ghor_domain::Scope;
use serde_json::{json, Value};

use super::notify::{ghor_with, new_secret, until, verified, Receiver, Smtp, NOTIFY_GIVE_UP_SECS};
use crate::harness::{event, Ghor, DEADLINE};

/// Posts an event as `token`; its sequence number in the log.
async fn post(ghor: &Ghor, token: &str, e: &Value) -> u64 {
    let (status, body) = ghor.post(token, "/v1/events", e).await;
    assert_eq!(status, 201, "{body}");
    body["seq"].as_u64().expect("a stored event's seq")
}

async fn seh(ghor: &Ghor, location: &str, status: &str) -> u64 {
    let token = if location == "mcl" { "im2" } else { location };
    let mut e = event(
        &format!("/locations/{location}"),
        "nl.ghor.acute_function.reported.v1",
        Some("seh"),
        json!({ "status": status }),
    );
    if token.starts_with("im") {
        e["bron"] = json!("telefoon");
    }
    post(ghor, token, &e).await
}

async fn beds(ghor: &Ghor, location: &str, operational: u32, occupied: u32) -> u64 {
    let e = event(
        &format!("/locations/{location}"),
        "nl.ghor.beds.reported.v1",
        Some("ic"),
        json!({ "operational": operational, "occupied": occupied }),
    );
    post(ghor, location, &e).await
}

/// Waits until the notifier has delivered everything the log asked for up to `seq`.
async fn notified_through(ghor: &Ghor, seq: u64) {
    let notify = ghor.stores().await.notify;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let at = notify.notifier_checkpoint(Scope::Live).await.expect("checkpoint").map_or(0, |(_, s)| s);
        if at >= seq {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the notifier never passed {seq} (at {at})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn subscribe(ghor: &Ghor, token: &str, body: Value) -> (u16, Value) {
    ghor.post(token, "/v1/subscriptions", &body).await
}

#[tokio::test]
async fn subscribers_hear_once_when_their_alert_starts_in_their_region_on_their_own_channels() {
    let smtp = Smtp::start(0.0).await;
    let hooks = Receiver::start(Duration::ZERO).await;
    let ghor = ghor_with(&smtp, NOTIFY_GIVE_UP_SECS).await;

    // Who may subscribe, and what is refused, naming the field.
    let (status, body) =
        subscribe(&ghor, "umcg", json!({ "region": "VR01", "kind": "seh_stop", "email": "zis@umcg.test" })).await;
    assert_eq!(status, 403, "an institution does not subscribe: {body}");
    let (status, body) =
        subscribe(&ghor, "im", json!({ "region": "VR01", "kind": "seh_stop", "email": "im at ghor" })).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        (body["errors"][0]["field"].as_str(), body["errors"][0]["code"].as_str()),
        (Some("email"), Some("not_an_email")),
        "{body}"
    );
    let (status, body) =
        subscribe(&ghor, "rot", json!({ "region": "VR01", "kind": "ic_free_below", "email": "rot@ghor.test" })).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "value", "ic_free_below needs its number: {body}");
    let (status, body) =
        subscribe(&ghor, "im", json!({ "region": "VR01", "kind": "seh_dicht", "email": "im@ghor.test" })).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("kind")), "{body}");
    let (status, body) =
        subscribe(&ghor, "im", json!({ "region": "VR02", "kind": "seh_stop", "email": "im@ghor.test" })).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (403, Some("region")), "VR02 is not im's: {body}");

    // The informatiemanager by email, the ROT by a signed webhook, IM Fryslân in VR02.
    let (status, body) =
        subscribe(&ghor, "im", json!({ "region": "VR01", "kind": "seh_stop", "email": "im@ghor.test" })).await;
    assert_eq!(status, 201, "{body}");
    let im_subscription = body["id"].as_str().expect("id").to_owned();
    let secret = new_secret();
    let rot = json!({ "region": "VR01", "kind": "ic_free_below", "value": 5,
                      "webhook": { "url": format!("{}/rot", hooks.url), "secret": secret } });
    let (status, body) = subscribe(&ghor, "rot", rot).await;
    assert_eq!(status, 201, "{body}");
    assert!(!body.to_string().contains(&secret), "the secret is never answered: {body}");
    let (status, body) =
        subscribe(&ghor, "im2", json!({ "region": "VR02", "kind": "seh_stop", "email": "im2@ghor.test" })).await;
    assert_eq!(status, 201, "{body}");
    // A ROT token that subscribes and is then revoked.
    let (status, minted) =
        ghor.post("netwerk", "/v1/tokens", &json!({ "name": "ROT weg", "role": "rot", "regions": ["VR01"] })).await;
    assert_eq!(status, 201, "{minted}");
    let gone = minted["token"].as_str().expect("secret");
    let request = ghor.http.post(format!("{}/v1/subscriptions", ghor.url)).bearer_auth(gone);
    let answer = request
        .json(&json!({ "region": "VR01", "kind": "seh_stop", "email": "weg@ghor.test" }))
        .send()
        .await
        .expect("send");
    assert_eq!(answer.status().as_u16(), 201);
    let revoke = format!("/v1/tokens/{}", minted["info"]["id"].as_str().expect("id"));
    let revoked = ghor
        .http
        .delete(format!("{}{revoke}", ghor.url))
        .bearer_auth(ghor.token("netwerk"))
        .send()
        .await
        .expect("revoke");
    assert_eq!(revoked.status().as_u16(), 204);

    // Each lists its own, never another's, never a secret.
    let (_, mine) = ghor.get("im", "/v1/subscriptions").await;
    let listed: Vec<&str> =
        mine["subscriptions"].as_array().expect("list").iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(listed, vec![im_subscription.as_str()], "{mine}");
    let (_, theirs) = ghor.get("rot", "/v1/subscriptions").await;
    assert_eq!(theirs["subscriptions"][0]["webhook"]["secret_set"], true, "{theirs}");
    assert!(!theirs.to_string().contains(&secret), "{theirs}");
    let (status, _) = ghor.get("umcg", "/v1/subscriptions").await;
    assert_eq!(status, 403);

    // umcg reports an SEH stop: exactly one email, to the IM, about umcg.
    let stop = seh(&ghor, "umcg", "stop").await;
    let mail = until("the IM's email", DEADLINE, || smtp.to("im@ghor.test").into_iter().next()).await;
    let subject = mail["subject"].as_str().expect("subject");
    let text = mail["body"].as_str().expect("body");
    assert!(subject.contains("SEH-stop") && subject.contains("Locatie umcg"), "{mail}");
    assert!(text.contains("(umcg)") && text.contains("SEH-stop") && text.contains(&im_subscription), "{text}");
    assert!(text.contains(&format!("{}/?location=umcg", ghor.url)), "a link to the location: {text}");
    assert!(mail["message_id"].as_str().is_some_and(|m| m.ends_with("@ghor>")), "{mail}");
    notified_through(&ghor, stop).await;

    // IC beds in VR01: 8 + 2 free, then 1 + 2: below 5, one signed webhook to the ROT.
    beds(&ghor, "umcg", 10, 2).await;
    let above = beds(&ghor, "martini", 4, 2).await;
    notified_through(&ghor, above).await;
    assert!(hooks.hooks().is_empty(), "10 free is not below 5");
    let below = beds(&ghor, "umcg", 10, 9).await;
    let hook = until("the ROT's webhook", DEADLINE, || hooks.hooks().into_iter().next()).await;
    assert_eq!(hook.path, "/rot");
    assert!(verified(&secret, &hook), "the Standard Webhooks signature verifies: {hook:?}");
    let tampered = super::notify::Hook { body: [hook.body.as_slice(), b" "].concat(), ..hook.clone() };
    assert!(!verified(&secret, &tampered), "the verification is not vacuous");
    let cloud_event = hook.json();
    assert_eq!(cloud_event["id"].as_str(), hook.headers.get("webhook-id").map(String::as_str));
    assert_eq!(cloud_event["source"], "/regions/VR01");
    assert_eq!(cloud_event["type"], "nl.ghor.notice.abonnement.v1");
    assert_eq!(cloud_event["data"]["condition"], "ic_free_below");
    assert_eq!(cloud_event["data"]["ic_free"], 3);
    assert_eq!(cloud_event["data"]["value"], 5);
    notified_through(&ghor, below).await;

    // The conditions continue: another stop from umcg, fewer beds still. Nothing new.
    let still = seh(&ghor, "umcg", "stop").await;
    let fewer = beds(&ghor, "martini", 4, 3).await;
    notified_through(&ghor, still.max(fewer)).await;
    assert_eq!(smtp.to("im@ghor.test").len(), 1, "a continuing stop is not told again");
    assert_eq!(hooks.hooks().len(), 1, "continuing below 5 is not told again");

    // Nothing reached the subscription in VR02, nor the revoked token's; an SEH stop in
    // VR02 reaches IM Fryslân (so its subscription works) and nobody in VR01.
    assert!(smtp.to("im2@ghor.test").is_empty(), "another region's subscription hears nothing of VR01");
    assert!(smtp.to("weg@ghor.test").is_empty(), "a revoked token's subscription hears nothing");
    let elsewhere = seh(&ghor, "mcl", "stop").await;
    let mail = until("IM Fryslân's email", DEADLINE, || smtp.to("im2@ghor.test").into_iter().next()).await;
    assert!(mail["body"].as_str().is_some_and(|b| b.contains("(mcl)")), "{mail}");
    assert_eq!(smtp.to("im@ghor.test").len(), 1);

    // Every delivery's outcome is a valid event in the log, on the location it concerns
    // (for the region's IC capacity: the location whose report started it).
    notified_through(&ghor, elsewhere).await;
    let log = ghor.log(Scope::Live).await;
    let mut outcomes = Vec::new();
    let mut from = 0;
    loop {
        let entries = log.read(from, 1000).await.expect("read the log");
        let Some(last) = entries.last().map(|e| e.seq) else { break };
        for entry in entries {
            let text = String::from_utf8_lossy(&entry.body).into_owned();
            if text.contains("nl.ghor.notification.") && text.contains("abonnement") {
                let e = ghor_domain::Event::from_stored(&entry.body).expect("a valid outcome event");
                assert!(text.contains("notification.delivered"), "delivered: {text}");
                outcomes.push(e.source.to_string());
            }
        }
        from = last;
    }
    outcomes.sort();
    assert_eq!(outcomes, ["/locations/mcl", "/locations/umcg", "/locations/umcg"], "one outcome per delivery");

    // Deleting: only one's own, and then it is gone.
    let path = format!("/v1/subscriptions/{im_subscription}");
    let by_rot =
        ghor.http.delete(format!("{}{path}", ghor.url)).bearer_auth(ghor.token("rot")).send().await.expect("delete");
    assert_eq!(by_rot.status().as_u16(), 404, "not the ROT's to delete");
    let by_im =
        ghor.http.delete(format!("{}{path}", ghor.url)).bearer_auth(ghor.token("im")).send().await.expect("delete");
    assert_eq!(by_im.status().as_u16(), 204);
    let (_, mine) = ghor.get("im", "/v1/subscriptions").await;
    assert_eq!(mine["subscriptions"], json!([]), "{mine}");
}
