//! The port contracts, written once: every backend's tests call these with a fresh store
//! (the embedded one here; NATS and PostgreSQL beside it). They panic on a broken promise.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use chrono::{DateTime, TimeZone, Utc};
use ghor_domain::vocab::SubscriptionKind;
use ghor_domain::{Event, Picture, RegionCode, Role, Scope, Slug, Stamp, Submission};
use serde_json::json;
use uuid::Uuid;

use crate::ports::*;

/// A valid event about `location`, observed at minute `minute` of a fixed day.
pub fn sample_event(location: &str, minute: u32, occupied: u32) -> Event {
    let time = Utc.with_ymd_and_hms(2026, 11, 22, 12, minute, 0).single().unwrap_or_default();
    let body = json!({
        "specversion": "1.0",
        "id": Uuid::now_v7().to_string(),
        "source": format!("/locations/{location}"),
        "type": "nl.ghor.beds.reported.v1",
        "subject": "ic",
        "time": time.to_rfc3339(),
        "data": { "operational": 20, "occupied": occupied }
    });
    let stamp = Stamp { region: region("VR01"), scope: Scope::Live, actor: "contract".into(), received: time };
    match Submission::parse(body).and_then(|s| s.accept(stamp)) {
        Ok(e) => e,
        Err(e) => panic!("sample event is invalid: {e}"),
    }
}

fn region(code: &str) -> RegionCode {
    RegionCode::try_from(code).unwrap_or_else(|e| panic!("{e}"))
}

/// Appends are dense, ordered, idempotent on (source, id), and readers are notified.
pub async fn event_log(log: Arc<dyn EventLog>) {
    let mut watch = log.watch();
    let first = log.last_seq().await.expect("last_seq");
    let a = sample_event("umcg", 1, 10);
    let b = sample_event("martini", 2, 5);
    let results = log.append(&[a.clone(), b.clone()]).await;
    let seqs: Vec<Appended> = results.into_iter().map(|r| r.expect("append")).collect();
    assert_eq!(seqs, vec![Appended::Stored { seq: first + 1 }, Appended::Stored { seq: first + 2 }]);

    // The same (source, id) again: reported as a duplicate of the stored one, not stored twice.
    let again = log.append(&[b.clone(), a.clone()]).await;
    let again: Vec<Appended> = again.into_iter().map(|r| r.expect("append")).collect();
    assert_eq!(again, vec![Appended::Duplicate { seq: first + 2 }, Appended::Duplicate { seq: first + 1 }]);
    assert_eq!(log.last_seq().await.expect("last_seq"), first + 2);

    tokio::time::timeout(Duration::from_secs(10), watch.wait_for(|s| *s >= first + 2))
        .await
        .expect("readers are notified of new entries")
        .expect("watch open");

    let entries = log.read(first, 10).await.expect("read");
    assert_eq!(entries.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![first + 1, first + 2]);
    let decoded: Vec<Event> = entries.iter().map(|e| Event::from_stored(&e.body).expect("decodes")).collect();
    assert_eq!(decoded, vec![a, b], "the log returns what was appended, in order");
    assert!(log.read(first + 2, 10).await.expect("read").is_empty());
    assert_eq!(log.read(first, 1).await.expect("read").len(), 1, "read honours its limit");
}

/// An append whose caller gives up halfway (an HTTP client hanging up) leaves the log as
/// good as before: later appends are stored, and the log stays dense and in order.
pub async fn abandoned_appends(log: Arc<dyn EventLog>) {
    let first = log.last_seq().await.expect("last_seq");
    // Many at once, each given up after 0 to 1 ms: somewhere in its transaction, before it
    // began, or after it ended.
    let abandoned = (0..400u64).map(|attempt| {
        let (log, event) = (log.clone(), sample_event("umcg", (attempt % 60) as u32, 1));
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_micros(attempt * 37 % 1_000), log.append(&[event])).await;
        })
    });
    for task in abandoned.collect::<Vec<_>>() {
        let _ = task.await;
    }
    let after = sample_event("martini", 1, 2);
    let stored = log.append(std::slice::from_ref(&after)).await.into_iter().next().expect("one result");
    let Ok(Appended::Stored { seq }) = stored else { panic!("an append after abandoned ones fails: {stored:?}") };
    let entries = log.read(first, 1_000).await.expect("read");
    let seqs: Vec<u64> = entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (first + 1..=seq).collect::<Vec<_>>(), "dense and in order");
    assert_eq!(Event::from_stored(&entries[entries.len() - 1].body).expect("decodes"), after);
}

/// A registration of `location` for `organisation` in `region`.
pub fn registration_event(location: &str, organisation: &str, region_code: &str) -> Event {
    let body = json!({
        "specversion": "1.0",
        "id": Uuid::now_v7().to_string(),
        "source": format!("/locations/{location}"),
        "type": REGISTRATION_TYPE,
        "time": "2026-11-22T12:00:00Z",
        "data": { "name": format!("Locatie {location}"), "organisation": organisation, "type": "ziekenhuis", "region": region_code, "point": { "lat": 53.2, "lon": 6.57 } }
    });
    let stamp =
        Stamp { region: region(region_code), scope: Scope::Live, actor: "contract".into(), received: Utc::now() };
    match Submission::parse(body).and_then(|s| s.accept(stamp)) {
        Ok(e) => e,
        Err(e) => panic!("sample registration is invalid: {e}"),
    }
}

/// The registrations alone are followed (those already there, then new ones as they are
/// appended), the newest registration of a location is found, in whichever region, and a
/// family of event types or a location's events are read as far as the log reaches.
pub async fn registrations(log: Arc<dyn EventLog>) {
    let first = log.last_seq().await.expect("last_seq");
    let events = [
        registration_event("reg-a", "umcg", "VR01"),
        sample_event("reg-a", 3, 4),
        registration_event("reg-b", "martini", "VR01"),
        registration_event("reg-a", "umcg", "VR02"),
    ];
    for result in log.append(&events).await {
        result.expect("append");
    }
    let mut followed = log.registrations(first).await.expect("registrations");
    async fn next(followed: &mut futures::stream::BoxStream<'static, StoreResult<LogEntry>>) -> (u64, Event) {
        let entry = tokio::time::timeout(Duration::from_secs(10), followed.next()).await;
        let entry = entry.expect("a registration arrives").expect("stream open").expect("entry");
        (entry.seq, Event::from_stored(&entry.body).expect("decodes"))
    }
    let expected = [(first + 1, &events[0]), (first + 3, &events[2]), (first + 4, &events[3])];
    for (seq, event) in expected {
        assert_eq!(next(&mut followed).await, (seq, event.clone()), "registrations only, in order");
    }
    let later = registration_event("reg-c", "umcg", "VR01");
    log.append(&[sample_event("reg-c", 5, 1), later.clone()]).await.into_iter().for_each(|r| {
        r.expect("append");
    });
    assert_eq!(next(&mut followed).await, (first + 6, later), "and new ones as they are appended");

    let slug = |s: &str| Slug::try_from(s).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(log.newest_registration(&slug("reg-a")).await.expect("lookup"), Some(first + 4));
    assert_eq!(log.newest_registration(&slug("reg-b")).await.expect("lookup"), Some(first + 3));
    assert_eq!(log.newest_registration(&slug("reg-none")).await.expect("lookup"), None);

    // A family is read in pages as far as the log reaches, and ends.
    let seqs = |entries: Vec<LogEntry>| entries.iter().map(|e| e.seq).collect::<Vec<_>>();
    let family = events[0].payload.family();
    let read = |filter, after, max| log.read_filtered(filter, after, max);
    assert_eq!(seqs(read(Filter::Family(family), first, 2).await.expect("page")), [first + 1, first + 3]);
    assert_eq!(seqs(read(Filter::Family(family), first + 3, 10).await.expect("rest")), [first + 4, first + 6]);
    assert!(read(Filter::Family(family), first + 6, 10).await.expect("end").is_empty(), "nothing after the newest");
    assert!(read(Filter::Family("threshold"), first, 10).await.expect("none").is_empty(), "a family with no events");
    // A location's own events, whatever their type, in whichever region.
    let reg_a = slug("reg-a");
    assert_eq!(
        seqs(read(Filter::Location(&reg_a), first, 10).await.expect("reg-a")),
        [first + 1, first + 2, first + 4]
    );
    assert!(read(Filter::Location(&slug("reg-none")), first, 10).await.expect("none").is_empty());
}

fn archived(event: &Event, seq: u64) -> Archived {
    Archived::of(event, seq, event.to_bytes().expect("test events serialise").into())
}

/// Commits are atomic and fenced on the checkpoint; snapshots come back as written; the
/// archive holds an event once however often it is committed. For a backend whose log is
/// its own archive, pass `archives: false`.
pub async fn read_model(store: Arc<dyn ReadModel>, epoch: Uuid, archives: bool) {
    let scope = Scope::Oefening;
    assert_eq!(store.checkpoint(scope).await.expect("checkpoint"), 0);
    let event = sample_event("umcg", 1, 10);
    let mut picture = Picture::default();
    picture.apply(&event);
    let umcg = Slug::try_from("umcg").expect("slug");
    let batch = ProjectionBatch {
        after: 0,
        upto: 5,
        regions: vec![(region("VR01"), json!({"totals": {"locations": 1}}).to_string())],
        locations: vec![(umcg.clone(), region("VR01"), json!({"name": "UMCG"}).to_string())],
        quarantined: vec![Quarantined {
            seq: 3,
            location: Some(umcg.clone()),
            reason: "data.operational: negative".into(),
            body: json!({}),
        }],
        archive: vec![archived(&event, 4)],
        snapshot: Some(Arc::new(picture.clone())),
    };
    store.commit(scope, epoch, &batch).await.expect("commit");
    assert_eq!(store.checkpoint(scope).await.expect("checkpoint"), 5);
    assert_eq!(store.location(scope, &umcg).await.expect("location"), Some(json!({"name": "UMCG"})));
    assert_eq!(store.region(scope, region("VR01")).await.expect("region"), Some(json!({"totals": {"locations": 1}})));
    assert_eq!(store.quarantine(scope, 10).await.expect("quarantine").len(), 1);
    assert_eq!(store.snapshot(scope, epoch, u64::MAX).await.expect("snapshot"), Some((5, picture.clone())));
    assert_eq!(
        store.snapshot(scope, Uuid::new_v4(), u64::MAX).await.expect("snapshot"),
        None,
        "snapshots belong to one epoch"
    );

    if archives {
        assert_eq!(store.archived(scope, &event.source.to_string(), event.id).await.expect("archived"), 1);
        let keys = [(event.source.to_string(), event.id), (event.source.to_string(), Uuid::new_v4())];
        assert_eq!(store.find_archived(scope, &keys).await.expect("find"), vec![Some(4), None]);
        // The same event again at a later sequence (the log's duplicate window had passed).
        let again = ProjectionBatch { after: 5, upto: 6, archive: vec![archived(&event, 6)], ..Default::default() };
        store.commit(scope, epoch, &again).await.expect("commit");
        assert_eq!(
            store.archived(scope, &event.source.to_string(), event.id).await.expect("archived"),
            1,
            "archived once"
        );
    } else {
        let again = ProjectionBatch { after: 5, upto: 6, ..Default::default() };
        store.commit(scope, epoch, &again).await.expect("commit");
    }

    // A second projector that still believes the checkpoint is 0 is fenced out, and
    // nothing of its batch is written.
    let stale = ProjectionBatch {
        after: 0,
        upto: 9,
        locations: vec![(umcg.clone(), region("VR01"), json!({"name": "stale"}).to_string())],
        ..Default::default()
    };
    match store.commit(scope, epoch, &stale).await {
        Err(StoreError::Fenced { expected: 0, found: 6 }) => {}
        other => panic!("a stale projector must be fenced out, got {other:?}"),
    }
    assert_eq!(store.location(scope, &umcg).await.expect("location"), Some(json!({"name": "UMCG"})));
    assert_eq!(store.checkpoint(scope).await.expect("checkpoint"), 6);
    assert_eq!(store.checkpoint(Scope::Live).await.expect("checkpoint"), 0, "scopes have their own checkpoint");

    // Looking back starts from the nearest snapshot before the moment, so older ones stay.
    let later =
        ProjectionBatch { after: 6, upto: 9, snapshot: Some(Arc::new(Picture::default())), ..Default::default() };
    store.commit(scope, epoch, &later).await.expect("commit a second snapshot");
    assert_eq!(store.snapshot(scope, epoch, u64::MAX).await.expect("snapshot").map(|(s, _)| s), Some(9));
    assert_eq!(store.snapshot(scope, epoch, 8).await.expect("snapshot"), Some((5, picture)), "the one before");
    assert_eq!(store.snapshot(scope, epoch, 4).await.expect("snapshot"), None, "none before the first");

    // A rebuild empties the read model; the projector that was running is fenced out.
    store.reset(scope).await.expect("reset");
    assert_eq!(store.checkpoint(scope).await.expect("checkpoint"), 0);
    assert_eq!(store.location(scope, &umcg).await.expect("location"), None);
    assert_eq!(store.snapshot(scope, epoch, u64::MAX).await.expect("snapshot"), None);
    let old = ProjectionBatch { after: 6, upto: 7, ..Default::default() };
    assert!(matches!(store.commit(scope, epoch, &old).await, Err(StoreError::Fenced { expected: 6, found: 0 })));
}

/// Tokens are found by hash only, listed, and revoked.
pub async fn tokens(store: Arc<dyn TokenStore>) {
    let now = Utc::now();
    let info = TokenInfo {
        id: Uuid::new_v4(),
        name: "UMCG ZIS".into(),
        role: Role::Institution,
        regions: vec![region("VR01")],
        organisation: Some(Slug::try_from("umcg").expect("slug")),
        scope: Scope::Live,
        created: now,
        expires: now + chrono::Duration::days(30),
        revoked: false,
    };
    store.insert(&info, "hash-1").await.expect("insert");
    let hashes = ["hash-2".to_owned(), "hash-1".to_owned(), "hash-1".to_owned()];
    assert_eq!(
        store.by_hashes(&hashes).await.expect("by_hashes"),
        vec![None, Some(info.clone()), Some(info.clone())],
        "one answer per hash, in order"
    );
    assert!(store.list().await.expect("list").contains(&info));
    let unknown = Uuid::new_v4();
    assert_eq!(
        store.by_ids(&[unknown, info.id]).await.expect("by_ids"),
        vec![None, Some(info.clone())],
        "one answer per id, in order"
    );
    assert!(store.revoke(info.id).await.expect("revoke"));
    let found = store.by_hashes(&["hash-1".to_owned()]).await.expect("by_hashes");
    assert!(found[0].as_ref().expect("still there").revoked);
    let found = store.by_ids(&[info.id]).await.expect("by_ids");
    assert!(found[0].as_ref().expect("still there").revoked, "by_ids sees the revocation");
    assert!(!store.revoke(Uuid::new_v4()).await.expect("revoke"));
}

/// Contacts are replaced whole, read back, kept apart per scope, and erased without a trace.
pub async fn contacts(store: Arc<dyn ContactStore>) {
    let loc = Slug::try_from("umcg").expect("slug");
    let (live, oefening) = (Scope::Live, Scope::Oefening);
    assert!(store.contacts(live, &loc).await.expect("contacts").is_empty());
    let c: Contact = serde_json::from_value(json!({
        "role": "crisiscoordinator", "name": "J. de Vries", "phone_24_7": "+31 50 000 0000", "verified_on": "2026-10-01"
    }))
    .expect("contact");
    store.set_contacts(live, &loc, std::slice::from_ref(&c)).await.expect("set");
    assert_eq!(store.contacts(live, &loc).await.expect("contacts"), vec![c.clone()]);
    assert!(store.contacts(oefening, &loc).await.expect("contacts").is_empty(), "oefening sees no live contacts");
    assert_eq!(store.holding_contacts(live).await.expect("holding"), vec![loc.clone()]);
    assert!(store.holding_contacts(oefening).await.expect("holding").is_empty());

    // An exercise writes its own contacts for the same location id; live keeps its own.
    let drill = Contact { name: "Oefen Persoon".into(), ..c.clone() };
    store.set_contacts(oefening, &loc, std::slice::from_ref(&drill)).await.expect("set oefening");
    assert_eq!(store.contacts(live, &loc).await.expect("contacts"), vec![c.clone()], "live is untouched");
    assert_eq!(store.contacts(oefening, &loc).await.expect("contacts"), vec![drill]);

    // Erasure deletes the row: nothing of the location is held any more, in that scope only.
    store.set_contacts(live, &loc, &[]).await.expect("erase");
    assert!(store.contacts(live, &loc).await.expect("contacts").is_empty(), "contacts can be erased");
    assert!(
        store.holding_contacts(live).await.expect("holding").is_empty(),
        "an erasure leaves no row behind (not even an empty list)"
    );
    assert_eq!(store.holding_contacts(oefening).await.expect("holding"), vec![loc.clone()], "oefening keeps its own");
    store.set_contacts(oefening, &loc, &[]).await.expect("erase oefening");
    assert!(store.holding_contacts(oefening).await.expect("holding").is_empty());
}

/// The notifier's cursor starts where it is put, moves only from where it is (fenced), and
/// is kept per scope; webhook endpoints are replaced whole per scope and organisation.
pub async fn notify(store: Arc<dyn NotifyStore>) {
    let (live, oefening) = (Scope::Live, Scope::Oefening);
    let epoch = Uuid::new_v4();
    assert_eq!(store.notifier_checkpoint(live).await.expect("checkpoint"), None, "never ran");
    store.set_notifier_checkpoint(live, epoch, None, 7).await.expect("start");
    assert_eq!(store.notifier_checkpoint(live).await.expect("checkpoint"), Some((epoch, 7)));
    store.set_notifier_checkpoint(live, epoch, Some(7), 9).await.expect("advance");
    match store.set_notifier_checkpoint(live, epoch, Some(7), 12).await {
        Err(StoreError::Fenced { expected: 7, found: 9 }) => {}
        other => panic!("a second notifier moving from an old cursor is fenced: {other:?}"),
    }
    assert_eq!(store.notifier_checkpoint(live).await.expect("checkpoint"), Some((epoch, 9)));
    assert_eq!(store.notifier_checkpoint(oefening).await.expect("checkpoint"), None, "per scope");

    let org = Slug::try_from("umcg").expect("slug");
    let hook =
        Webhook { url: "https://zis.umcg.example/ghor".into(), secret: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=".into() };
    assert!(store.webhooks(live, &org).await.expect("webhooks").is_empty());
    store.set_webhooks(live, &org, std::slice::from_ref(&hook)).await.expect("set");
    assert_eq!(store.webhooks(live, &org).await.expect("webhooks"), vec![hook.clone()]);
    assert!(store.webhooks(oefening, &org).await.expect("webhooks").is_empty(), "an exercise has its own endpoints");
    store.set_webhooks(live, &org, &[]).await.expect("remove");
    assert!(store.webhooks(live, &org).await.expect("webhooks").is_empty());

    // Subscriptions: per scope and owner, at most `max` per owner, deleted only by it.
    let (me, other) = (Uuid::new_v4(), Uuid::new_v4());
    let region = RegionCode::try_from("VR01").expect("region");
    let subscription = |owner: Uuid, minutes: i64| Subscription {
        id: Uuid::new_v4(),
        owner,
        region,
        kind: SubscriptionKind::IcFreeBelow,
        value: Some(5),
        email: Some("im@ghor.example".into()),
        webhook: Some(hook.clone()),
        created: DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(minutes),
    };
    let (second, first) = (subscription(me, 2), subscription(me, 1));
    assert!(store.add_subscription(live, &second, 2).await.expect("add"));
    assert!(store.add_subscription(live, &first, 2).await.expect("add"));
    assert!(!store.add_subscription(live, &subscription(me, 3), 2).await.expect("add"), "the limit holds");
    let theirs = subscription(other, 0);
    assert!(store.add_subscription(live, &theirs, 2).await.expect("add"), "the limit is per owner");
    assert_eq!(store.subscriptions_of(live, me).await.expect("mine"), vec![first.clone(), second.clone()]);
    assert_eq!(store.subscriptions(live).await.expect("all"), vec![theirs.clone(), first.clone(), second.clone()]);
    assert!(store.subscriptions(oefening).await.expect("all").is_empty(), "per scope");
    assert!(!store.remove_subscription(live, other, first.id).await.expect("remove"), "only its owner deletes it");
    assert!(!store.remove_subscription(oefening, me, first.id).await.expect("remove"), "per scope");
    assert!(store.remove_subscription(live, me, first.id).await.expect("remove"));
    assert!(!store.remove_subscription(live, me, first.id).await.expect("remove"), "gone");
    assert_eq!(store.subscriptions_of(live, me).await.expect("mine"), vec![second]);
}

#[cfg(test)]
mod embedded {
    use super::*;
    use crate::Embedded;

    async fn fresh() -> (tempfile::TempDir, Embedded) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Embedded::open(dir.path()).await.expect("open");
        (dir, db)
    }

    #[tokio::test]
    async fn registrations_contract() {
        let (_dir, db) = fresh().await;
        super::registrations(db.log(Scope::Live).await.expect("log")).await;
    }

    #[tokio::test]
    async fn event_log_contract() {
        let (_dir, db) = fresh().await;
        event_log(db.log(Scope::Live).await.expect("log")).await;
    }

    #[tokio::test]
    async fn abandoned_appends_contract() {
        let (_dir, db) = fresh().await;
        super::abandoned_appends(db.log(Scope::Live).await.expect("log")).await;
    }

    #[tokio::test]
    async fn read_model_contract() {
        let (_dir, db) = fresh().await;
        let epoch = db.log(Scope::Oefening).await.expect("log").epoch();
        read_model(Arc::new(db), epoch, false).await;
    }

    #[tokio::test]
    async fn token_contract() {
        let (_dir, db) = fresh().await;
        tokens(Arc::new(db)).await;
    }

    #[tokio::test]
    async fn contact_contract() {
        let (_dir, db) = fresh().await;
        contacts(Arc::new(db)).await;
    }

    #[tokio::test]
    async fn notify_contract() {
        let (_dir, db) = fresh().await;
        notify(Arc::new(db)).await;
    }

    #[tokio::test]
    async fn epoch_survives_reopen() {
        let (dir, db) = fresh().await;
        let epoch = db.log(Scope::Live).await.expect("log").epoch();
        drop(db);
        let again = Embedded::open(dir.path()).await.expect("reopen");
        assert_eq!(again.log(Scope::Live).await.expect("log").epoch(), epoch);
    }
}
