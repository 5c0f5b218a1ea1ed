//! The projector: its read-model checkpoint is its only cursor. It folds the log from
//! checkpoint + 1 with the one fold and writes each batch (views, quarantine, checkpoint,
//! now and then a snapshot) in ONE transaction fenced on the checkpoint.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use ghor_domain::{DecodeError, Event, Picture, Scope};
use ghor_store::{Archived, EventLog, ProjectionBatch, Quarantined, ReadModel, StoreError};
use serde_json::Value;

use crate::shutdown::Shutdown;

const BATCH: usize = 1000;

/// How long a fenced-out projector stands by before it tries to take over.
const STANDBY: Duration = Duration::from_secs(5);

/// Projects `log` into `read_model` until shutdown. Fenced out by another projector, it
/// stands by and tries again from the checkpoint now and then, so a standby takes over
/// when the active one dies, and fencing guarantees nothing is applied twice.
pub async fn run(log: Arc<dyn EventLog>, read_model: Arc<dyn ReadModel>, snapshot_every: u64, mut shutdown: Shutdown) {
    loop {
        let pause = match project(&*log, &*read_model, snapshot_every, &mut shutdown).await {
            Ok(()) => return,
            Err(StoreError::Fenced { expected, found }) => {
                tracing::info!(scope = %log.scope(), expected, found, "another projector moved the checkpoint; standing by");
                STANDBY
            }
            Err(e) => {
                tracing::warn!(scope = %log.scope(), error = %e, "projector failed; resuming from its checkpoint");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.recv() => return,
        }
    }
}

/// The picture at the checkpoint: the newest snapshot, then the log up to the checkpoint.
async fn restore(
    log: &dyn EventLog,
    read_model: &dyn ReadModel,
    scope: Scope,
) -> Result<(u64, u64, Picture), StoreError> {
    let checkpoint = read_model.checkpoint(scope).await?;
    let (mut seq, mut picture) =
        read_model.latest_snapshot(scope, log.epoch()).await?.filter(|(s, _)| *s <= checkpoint).unwrap_or_default();
    let snapshot_seq = seq;
    while seq < checkpoint {
        let entries = log.read(seq, BATCH.min((checkpoint - seq) as usize)).await?;
        if entries.is_empty() {
            break;
        }
        for entry in entries {
            if let Ok(event) = Event::from_stored((*entry.body).clone()) {
                picture.apply(&event);
            }
            seq = entry.seq;
        }
    }
    Ok((checkpoint, snapshot_seq, picture))
}

/// Projects until shutdown (`Ok`) or a store error, fencing included.
async fn project(
    log: &dyn EventLog,
    read_model: &dyn ReadModel,
    snapshot_every: u64,
    shutdown: &mut Shutdown,
) -> Result<(), StoreError> {
    let scope = log.scope();
    let (mut checkpoint, mut last_snapshot, mut picture) = restore(log, read_model, scope).await?;
    let mut appended = log.watch();
    loop {
        if *appended.borrow_and_update() > checkpoint {
            let entries = log.read(checkpoint, BATCH).await?;
            if let Some(batch) = fold_batch(&mut picture, checkpoint, entries, scope) {
                let batch = ProjectionBatch {
                    snapshot: (batch.upto - last_snapshot >= snapshot_every).then(|| Arc::new(picture.clone())),
                    ..batch
                };
                read_model.commit(scope, log.epoch(), &batch).await?;
                checkpoint = batch.upto;
                if batch.snapshot.is_some() {
                    last_snapshot = checkpoint;
                }
                continue;
            }
        }
        tokio::select! {
            changed = appended.changed() => if changed.is_err() { return Ok(()) },
            _ = shutdown.recv() => return Ok(()),
        }
    }
}

/// Folds entries into `picture` and gathers what the batch writes; `None` when nothing
/// could be folded (an event of a newer version holds the projector back).
fn fold_batch(
    picture: &mut Picture,
    after: u64,
    entries: Vec<ghor_store::LogEntry>,
    scope: Scope,
) -> Option<ProjectionBatch> {
    let mut regions = BTreeSet::new();
    let mut quarantined = Vec::new();
    let mut archive = Vec::new();
    let mut upto = after;
    for entry in entries {
        match Event::from_stored((*entry.body).clone()) {
            Ok(event) => {
                picture.apply_noting(&event, &mut regions);
                if let ghor_domain::Payload::IntakeRejected(r) = &event.payload {
                    quarantined.push(Quarantined {
                        seq: entry.seq,
                        location: event.location().cloned(),
                        reason: r
                            .field
                            .as_ref()
                            .map_or(r.reason.as_str().to_owned(), |f| format!("{}: {}", f.as_str(), r.reason.as_str())),
                        body: (*entry.body).clone(),
                    });
                }
                archive.push(Archived::of(&event, entry.seq, entry.body.clone()));
            }
            Err(DecodeError::NewerVersion(t)) => {
                tracing::error!(%scope, seq = entry.seq, event_type = %t, "held back: upgrade ghor to read this event version");
                break;
            }
            Err(DecodeError::Invalid(e)) => {
                let location =
                    entry.body.get("source").and_then(Value::as_str).and_then(|s| s.strip_prefix("/locations/"));
                quarantined.push(Quarantined {
                    seq: entry.seq,
                    location: location.and_then(|l| ghor_domain::Slug::try_from(l).ok()),
                    reason: e.to_string(),
                    body: (*entry.body).clone(),
                });
            }
        }
        upto = entry.seq;
    }
    if upto == after {
        return None;
    }
    let views: Vec<_> = regions.iter().map(|r| (*r, picture.region_view(*r))).collect();
    // Every location of a touched region: region-wide events (thresholds, incidents,
    // organisation names) change the views of locations that sent nothing.
    let location_views =
        views.iter().flat_map(|(r, v)| v.locations.iter().map(move |(id, l)| (id.clone(), *r, json(l)))).collect();
    Some(ProjectionBatch {
        after,
        upto,
        regions: views.iter().map(|(r, v)| (*r, json(v))).collect(),
        locations: location_views,
        quarantined,
        archive,
        snapshot: None,
    })
}

fn json<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}
