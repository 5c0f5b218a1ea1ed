//! The PostgreSQL stores against a real server: the port contracts, plus what only a
//! shared database can show (two projectors racing, large batches, repeated migrations).
//! Each test gets a fresh database from `GHOR_TEST_DATABASE_URL`.

use std::net::TcpListener;
use std::sync::Arc;

use ghor_domain::{Event, RegionCode, Scope, Slug};
use ghor_store::contract::{self, sample_event};
use ghor_store::postgres::Postgres;
use ghor_store::testing::TestDatabase;
use ghor_store::{Archived, ProjectionBatch, ReadModel, StoreError};
use serde_json::json;
use uuid::Uuid;

async fn fresh() -> (TestDatabase, Postgres) {
    let db = TestDatabase::create().await;
    let pg = Postgres::connect(&db.url).await.expect("connect");
    (db, pg)
}

fn region() -> RegionCode {
    RegionCode::try_from("VR01").expect("region")
}

fn slug(s: &str) -> Slug {
    Slug::try_from(s).expect("slug")
}

fn archived(event: &Event, seq: u64) -> Archived {
    Archived::of(event, seq, event.to_bytes().expect("test events serialise").into())
}

async fn count(pg: &Postgres, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pg.pool()).await.expect("count")
}

#[tokio::test]
async fn read_model_contract() {
    let (_db, pg) = fresh().await;
    contract::read_model(Arc::new(pg), Uuid::new_v4(), true).await;
}

#[tokio::test]
async fn token_contract() {
    let (_db, pg) = fresh().await;
    contract::tokens(Arc::new(pg)).await;
}

#[tokio::test]
async fn contact_contract() {
    let (_db, pg) = fresh().await;
    contract::contacts(Arc::new(pg)).await;
}

#[tokio::test]
async fn notify_contract() {
    let (_db, pg) = fresh().await;
    contract::notify(Arc::new(pg)).await;
}

/// Two projectors commit from the same checkpoint at once, each on its own pool: exactly
/// one wins, the other is fenced and writes nothing. First without a checkpoint row (both
/// race to create it), then with one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_are_fenced() {
    let db = TestDatabase::create().await;
    let a = Postgres::connect(&db.url).await.expect("connect a");
    let b = Postgres::connect(&db.url).await.expect("connect b");
    let scope = Scope::Live;
    let epoch = Uuid::new_v4();
    let umcg = slug("umcg");
    let batch = |after: u64, upto: u64, name: &str| ProjectionBatch {
        after,
        upto,
        locations: vec![(umcg.clone(), region(), json!({ "name": name }).to_string())],
        ..Default::default()
    };

    let mut after = 0;
    for (round, (upto_a, upto_b)) in [(5, 7), (10, 11)].into_iter().enumerate() {
        let (batch_a, batch_b) = (batch(after, upto_a, "a"), batch(after, upto_b, "b"));
        let (ra, rb) = tokio::join!(a.commit(scope, epoch, &batch_a), b.commit(scope, epoch, &batch_b));
        let (winner, upto) = match (ra, rb) {
            (Ok(()), Err(StoreError::Fenced { expected, found })) => {
                assert_eq!((expected, found), (after, upto_a), "round {round}: b sees a's checkpoint");
                ("a", upto_a)
            }
            (Err(StoreError::Fenced { expected, found }), Ok(())) => {
                assert_eq!((expected, found), (after, upto_b), "round {round}: a sees b's checkpoint");
                ("b", upto_b)
            }
            other => panic!("round {round}: exactly one commit must win and the other be fenced, got {other:?}"),
        };
        assert_eq!(a.checkpoint(scope).await.expect("checkpoint"), upto);
        assert_eq!(b.location(scope, &umcg).await.expect("location"), Some(json!({ "name": winner })));
        after = upto;
    }
    assert_eq!(count(&a, "SELECT COUNT(*) FROM checkpoints").await, 1);
}

/// A full projector batch: 1000 archived events (one of them twice, as a log may hold
/// it) and 1000 location views, in one commit; the same events again are archived once.
#[tokio::test]
async fn commits_a_thousand_rows() {
    let (_db, pg) = fresh().await;
    let scope = Scope::Oefening;
    let epoch = Uuid::new_v4();
    let events: Vec<Event> =
        (0..1000).map(|i| sample_event(&format!("loc-{i}"), (i % 60) as u32, (i % 20) as u32)).collect();
    let mut archive: Vec<Archived> = events.iter().zip(1..).map(|(e, seq)| archived(e, seq)).collect();
    archive.push(archived(&events[0], 1001));
    let locations = (0..1000).map(|i| (slug(&format!("loc-{i}")), region(), json!({ "n": i }).to_string())).collect();
    let batch = ProjectionBatch { after: 0, upto: 1001, locations, archive, ..Default::default() };
    pg.commit(scope, epoch, &batch).await.expect("commit");

    assert_eq!(pg.checkpoint(scope).await.expect("checkpoint"), 1001);
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM archive").await, 1000);
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM read_locations").await, 1000);
    assert_eq!(pg.location(scope, &slug("loc-999")).await.expect("location"), Some(json!({ "n": 999 })));
    for e in [&events[0], &events[500], &events[999]] {
        assert_eq!(pg.archived(scope, &e.source.to_string(), e.id).await.expect("archived"), 1);
    }
    let first: i64 = sqlx::query_scalar("SELECT seq FROM archive WHERE id = $1")
        .bind(events[0].id)
        .fetch_one(pg.pool())
        .await
        .expect("seq");
    assert_eq!(first, 1, "an event in the batch twice is archived at its first sequence");

    let again: Vec<Archived> = events.iter().zip(1002..).map(|(e, seq)| archived(e, seq)).collect();
    pg.commit(scope, epoch, &ProjectionBatch { after: 1001, upto: 2001, archive: again, ..Default::default() })
        .await
        .expect("commit again");
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM archive").await, 1000, "archived once");
    assert_eq!(pg.checkpoint(scope).await.expect("checkpoint"), 2001);
}

/// Only the newest snapshots of the current epoch are kept, enough to look back from.
#[tokio::test]
async fn prunes_snapshots() {
    let (_db, pg) = fresh().await;
    let scope = Scope::Live;
    let (old, new) = (Uuid::new_v4(), Uuid::new_v4());
    let picture = Arc::new(ghor_domain::Picture::default());
    let snapshot =
        |after: u64, upto: u64| ProjectionBatch { after, upto, snapshot: Some(picture.clone()), ..Default::default() };
    let newest = ghor_store::SNAPSHOTS_KEPT as u64 + 2;
    for upto in 1..=newest {
        pg.commit(scope, old, &snapshot(upto - 1, upto)).await.expect("commit");
    }
    let seqs = |epoch: Uuid| {
        let pool = pg.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT seq FROM snapshots WHERE epoch = $1 ORDER BY seq")
                .bind(epoch)
                .fetch_all(&pool)
                .await
                .expect("seqs")
        }
    };
    assert_eq!(seqs(old).await, (3..=newest as i64).collect::<Vec<_>>(), "the newest SNAPSHOTS_KEPT");
    assert_eq!(pg.snapshot(scope, old, u64::MAX).await.expect("snapshot").map(|(s, _)| s), Some(newest));
    assert_eq!(pg.snapshot(scope, old, 7).await.expect("snapshot").map(|(s, _)| s), Some(7), "at or before");
    assert_eq!(pg.snapshot(Scope::Oefening, old, u64::MAX).await.expect("snapshot"), None, "per scope");

    // A new epoch (the log was recreated): its first snapshot is kept; the old epoch's
    // can never be used again.
    pg.commit(scope, new, &snapshot(newest, newest + 1)).await.expect("commit");
    assert_eq!(seqs(new).await, vec![newest as i64 + 1]);
    assert!(seqs(old).await.is_empty());
}

/// The schema is brought up to date on every connect, once, also when replicas start together.
#[tokio::test]
async fn migrations_run_twice() {
    let db = TestDatabase::create().await;
    let first = Postgres::connect(&db.url).await.expect("first connect");
    first
        .commit(Scope::Live, Uuid::new_v4(), &ProjectionBatch { after: 0, upto: 3, ..Default::default() })
        .await
        .expect("commit");
    let second = Postgres::connect(&db.url).await.expect("second connect");
    let (third, fourth) = tokio::join!(Postgres::connect(&db.url), Postgres::connect(&db.url));
    third.expect("third connect");
    fourth.expect("fourth connect");
    assert_eq!(second.checkpoint(Scope::Live).await.expect("checkpoint"), 3, "data survives");
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .expect("migrations")
        .count() as i64;
    assert_eq!(count(&second, "SELECT COUNT(*) FROM _sqlx_migrations").await, migrations, "each migration once");
}

/// An unreachable server is reported as unavailable, naming the host and never the password.
#[tokio::test]
async fn unreachable_server_is_unavailable_without_password() {
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let url = format!("postgres://ghor:Sup3r-Secret@127.0.0.1:{port}/ghor");
    match Postgres::connect(&url).await {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains(&format!("127.0.0.1:{port}")), "names the host: {message}");
            assert!(!message.contains("Sup3r-Secret"), "hides the password: {message}");
        }
        Err(other) => panic!("expected Unavailable, got {other:?}"),
        Ok(_) => panic!("nothing listens on port {port}"),
    }
}
