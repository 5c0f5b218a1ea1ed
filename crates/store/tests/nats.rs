//! The event-log contract against a real `nats-server` with JetStream, plus what only
//! the JetStream log has to get right: declaring its stream, and a duplicate window.

use std::sync::Arc;
use std::time::Duration;

use ghor_domain::Scope;
use ghor_store::contract::{abandoned_appends, event_log, registrations, sample_event};
use ghor_store::nats::{connect, NatsLog, StreamSettings};
use ghor_store::testing::NatsServer;
use ghor_store::{Appended, EventLog, StoreError};

async fn open(server: &NatsServer, settings: &StreamSettings) -> Result<Arc<NatsLog>, StoreError> {
    NatsLog::open(connect(&server.url).await?, Scope::Live, settings).await
}

#[tokio::test]
async fn the_jetstream_log_keeps_the_event_log_contract() {
    let server = NatsServer::start();
    event_log(open(&server, &StreamSettings::default()).await.expect("open")).await;
}

#[tokio::test]
async fn an_abandoned_append_leaves_the_jetstream_log_as_good_as_before() {
    let server = NatsServer::start();
    abandoned_appends(open(&server, &StreamSettings::default()).await.expect("open")).await;
}

#[tokio::test]
async fn the_jetstream_log_follows_registrations_alone() {
    let server = NatsServer::start();
    registrations(open(&server, &StreamSettings::default()).await.expect("open")).await;
}

#[tokio::test]
async fn the_stream_is_verified_at_every_start_and_a_mismatch_is_refused() {
    let server = NatsServer::start();
    let first = open(&server, &StreamSettings::default()).await.expect("create");
    let again = open(&server, &StreamSettings::default()).await.expect("verify");
    assert_eq!(first.epoch(), again.epoch(), "the same stream is the same epoch");

    let other = StreamSettings { duplicate_window: Duration::from_secs(1), ..StreamSettings::default() };
    match open(&server, &other).await {
        Err(StoreError::Internal(message)) => {
            assert!(message.contains("duplicate_window"), "{message}");
            assert!(message.contains("never recreates"), "{message}");
        }
        Err(e) => panic!("expected a configuration mismatch, got {e}"),
        Ok(_) => panic!("a stream with another configuration must be refused"),
    }
    // Nothing was recreated: the events are still there.
    for r in first.append(&[sample_event("umcg", 1, 1)]).await {
        r.expect("append");
    }
    assert_eq!(again.epoch(), open(&server, &StreamSettings::default()).await.expect("reopen").epoch());
}

#[tokio::test]
async fn a_reader_in_another_process_is_notified_of_appends() {
    let server = NatsServer::start();
    let writer = open(&server, &StreamSettings::default()).await.expect("writer");
    let reader = open(&server, &StreamSettings::default()).await.expect("reader");
    let mut watch = reader.watch();
    for r in writer.append(&[sample_event("umcg", 1, 1), sample_event("umcg", 2, 2)]).await {
        r.expect("append");
    }
    tokio::time::timeout(Duration::from_secs(10), watch.wait_for(|s| *s >= 2)).await.expect("notified").expect("open");
    assert_eq!(reader.read(0, 10).await.expect("read").len(), 2);
}

#[tokio::test]
async fn within_the_duplicate_window_jetstream_drops_a_repeat_and_after_it_the_log_takes_it_again() {
    let server = NatsServer::start();
    let settings = StreamSettings { duplicate_window: Duration::from_secs(1), ..StreamSettings::default() };
    let log = open(&server, &settings).await.expect("open");
    let event = sample_event("umcg", 1, 3);
    let first = log.append(std::slice::from_ref(&event)).await.remove(0).expect("append");
    let repeat = log.append(std::slice::from_ref(&event)).await.remove(0).expect("append");
    assert_eq!(repeat, Appended::Duplicate { seq: first.seq() });
    // Past the window the server forgets; the archive and the fold keep it counted once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let late = log.append(std::slice::from_ref(&event)).await.remove(0).expect("append");
    assert!(matches!(late, Appended::Stored { seq } if seq > first.seq()), "{late:?}");
}

#[tokio::test]
async fn a_restarted_server_keeps_the_log_and_its_epoch() {
    let mut server = NatsServer::start();
    let log = open(&server, &StreamSettings::default()).await.expect("open");
    let epoch = log.epoch();
    for r in log.append(&[sample_event("umcg", 1, 1)]).await {
        r.expect("append");
    }
    server.restart();
    let again = open(&server, &StreamSettings::default()).await.expect("reopen");
    assert_eq!(again.epoch(), epoch);
    assert_eq!(again.read(0, 10).await.expect("read").len(), 1);
}

#[tokio::test]
async fn many_large_appends_at_once_all_complete() {
    let server = NatsServer::start();
    let log = open(&server, &StreamSettings::default()).await.expect("open");
    // 16 batches of 500 at once: more publishes in flight than the client has ack slots.
    let appends = (0..16).map(|b| {
        let log = log.clone();
        async move {
            let events: Vec<_> =
                (0..500).map(|i| sample_event(&format!("loc-{b}-{i}"), (i % 60) as u32, i as u32)).collect();
            log.append(&events).await
        }
    });
    let results = tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(appends))
        .await
        .expect("no append hangs");
    let stored = results.into_iter().flatten().filter(|r| matches!(r, Ok(Appended::Stored { .. }))).count();
    assert_eq!(stored, 8000);
    assert_eq!(log.last_seq().await.expect("last"), 8000);
}
