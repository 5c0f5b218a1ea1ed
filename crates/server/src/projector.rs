//! The projector: its read-model checkpoint is its only cursor. It folds the log from
//! checkpoint + 1 with the one fold and writes each batch (views, quarantine, checkpoint,
//! now and then a snapshot) in ONE transaction fenced on the checkpoint.

use std::sync::Arc;
use std::time::Duration;

use ghor_domain::picture::Touched;
use ghor_domain::{DecodeError, Event, Picture, Scope, Views};
use ghor_store::trace;
use ghor_store::{stored_json, Archived, EventLog, ProjectionBatch, Quarantined, ReadModel, StoreError};
use serde_json::Value;
use tracing::Instrument;

use crate::reader::{read_ahead, Decoded};
use crate::shutdown::Shutdown;

const BATCH: usize = 1000;
/// How long a small batch waits for more before it is committed: how far the read model
/// may trail the log under a steady trickle of events.
const LINGER: Duration = Duration::from_millis(100);

/// How long a fenced-out projector stands by before it tries to take over.
const STANDBY: Duration = Duration::from_secs(5);

/// Projects `log` into `read_model` until shutdown. Fenced out by another projector, it
/// stands by and tries again from the checkpoint now and then, so a standby takes over
/// when the active one dies, and fencing guarantees nothing is applied twice. Any other
/// failure ends it (its supervisor starts it again from the checkpoint).
pub async fn run(
    log: Arc<dyn EventLog>,
    read_model: Arc<dyn ReadModel>,
    snapshot_every: u64,
    mut shutdown: Shutdown,
) -> Result<(), StoreError> {
    loop {
        match project(&log, &*read_model, snapshot_every, &mut shutdown).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Fenced { expected, found }) => {
                tracing::info!(scope = %log.scope(), expected, found, "another projector moved the checkpoint; standing by");
            }
            Err(e) => return Err(e),
        }
        tokio::select! {
            _ = tokio::time::sleep(STANDBY) => {}
            _ = shutdown.recv() => return Ok(()),
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
    let (mut seq, mut picture) = read_model.snapshot(scope, log.epoch(), checkpoint).await?.unwrap_or_default();
    let snapshot_seq = seq;
    while seq < checkpoint {
        let entries = log.read(seq, BATCH.min((checkpoint - seq) as usize)).await?;
        if entries.is_empty() {
            break;
        }
        for entry in entries {
            if let Ok(event) = Event::from_stored(&entry.body) {
                picture.apply(&event);
            }
            seq = entry.seq;
        }
    }
    Ok((checkpoint, snapshot_seq, picture))
}

/// Projects until shutdown (`Ok`) or a store error, fencing included. The next batch is
/// read and decoded while the previous one is committed.
async fn project(
    log: &Arc<dyn EventLog>,
    read_model: &dyn ReadModel,
    snapshot_every: u64,
    shutdown: &mut Shutdown,
) -> Result<(), StoreError> {
    let scope = log.scope();
    let (mut checkpoint, mut last_snapshot, mut picture) = restore(&**log, read_model, scope).await?;
    let mut views = Views::of(&picture);
    let mut batches = read_ahead(log.clone(), checkpoint, Decoded::of, shutdown.clone());
    loop {
        let mut entries = tokio::select! {
            entries = batches.recv() => match entries {
                Some(entries) => entries?,
                None => return Ok(()),
            },
            _ = shutdown.recv() => return Ok(()),
        };
        if entries.is_empty() {
            continue; // the log was asked and had nothing new
        }
        // Events that trickle in are committed together: a transaction per event would
        // rewrite the region's view for each one.
        let linger = tokio::time::sleep(LINGER);
        tokio::pin!(linger);
        while entries.len() < BATCH {
            tokio::select! {
                more = batches.recv() => match more {
                    Some(more) => entries.extend(more?),
                    None => break,
                },
                _ = &mut linger => break,
            }
        }
        let span = trace::batch("project", entries.iter().map(|e| e.trace.as_deref()));
        let (batch, held_back) = span.in_scope(|| fold_batch(&mut picture, &mut views, checkpoint, entries, scope));
        if let Some(batch) = batch {
            let batch = ProjectionBatch {
                snapshot: (batch.upto - last_snapshot >= snapshot_every).then(|| Arc::new(picture.clone())),
                ..batch
            };
            read_model.commit(scope, log.epoch(), &batch).instrument(span).await?;
            checkpoint = batch.upto;
            if batch.snapshot.is_some() {
                last_snapshot = checkpoint;
            }
        }
        if held_back {
            // Nothing after an event this build cannot read is projected until a newer one runs.
            shutdown.recv().await;
            return Ok(());
        }
    }
}

/// Folds entries into `picture` and gathers what the batch writes (`None` when nothing was
/// folded), and whether an event of a newer version stopped it.
fn fold_batch(
    picture: &mut Picture,
    views: &mut Views,
    after: u64,
    entries: Vec<Decoded>,
    scope: Scope,
) -> (Option<ProjectionBatch>, bool) {
    let mut touched = Touched::default();
    let mut quarantined = Vec::new();
    let mut archive = Vec::new();
    let mut upto = after;
    let mut held_back = false;
    for entry in entries {
        match entry.event {
            Ok(event) => {
                picture.apply_noting(&event, &mut touched);
                if let ghor_domain::Payload::IntakeRejected(r) = &event.payload {
                    quarantined.push(Quarantined {
                        seq: entry.seq,
                        location: event.location().cloned(),
                        reason: r
                            .field
                            .as_ref()
                            .map_or(r.reason.as_str().to_owned(), |f| format!("{}: {}", f.as_str(), r.reason.as_str())),
                        body: stored_json(&entry.body),
                    });
                }
                archive.push(Archived::of(&event, entry.seq, entry.body.clone()));
            }
            Err(DecodeError::NewerVersion(t)) => {
                tracing::error!(%scope, seq = entry.seq, event_type = %t, "held back: upgrade ghor to read this event version");
                held_back = true;
                break;
            }
            Err(DecodeError::Invalid(e)) => {
                let body = stored_json(&entry.body);
                let location = body.get("source").and_then(Value::as_str).and_then(|s| s.strip_prefix("/locations/"));
                quarantined.push(Quarantined {
                    seq: entry.seq,
                    location: location.and_then(|l| ghor_domain::Slug::try_from(l).ok()),
                    reason: e.to_string(),
                    body,
                });
            }
        }
        upto = entry.seq;
    }
    if upto == after {
        return (None, held_back);
    }
    // Whole regions after region-wide events (thresholds, incidents, organisation names
    // change the views of locations that sent nothing); else the locations that changed.
    let mut regions = Vec::new();
    let mut locations = Vec::new();
    for (region, changed) in views.update(picture, &touched) {
        let Some(view) = views.get(region) else { continue };
        regions.extend(to_text(&RegionRow::of(view)).map(|text| (region, text)));
        let changed_locations =
            view.locations.iter().filter(|(id, _)| changed.whole || changed.locations.contains(*id));
        locations.extend(changed_locations.filter_map(|(id, l)| Some((id.clone(), region, to_text(l)?))));
    }
    let batch = ProjectionBatch { after, upto, regions, locations, quarantined, archive, snapshot: None };
    (Some(batch), held_back)
}

/// A region's row in the read model: its view without the locations, which have rows of
/// their own. A batch so writes the locations that changed and the region's totals, alerts
/// and incidents, not every location of the region again.
#[derive(serde::Serialize)]
struct RegionRow<'a> {
    region: ghor_domain::RegionCode,
    name: &'a str,
    totals: &'a ghor_domain::view::Totals,
    alerts: &'a std::collections::BTreeMap<String, ghor_domain::view::Alert>,
    incidents: &'a std::collections::BTreeMap<ghor_domain::Slug, ghor_domain::view::IncidentView>,
    thresholds: &'a std::collections::BTreeMap<ghor_domain::vocab::ThresholdKey, u32>,
    uitvragen: &'a std::collections::BTreeMap<ghor_domain::Slug, ghor_domain::warm::UitvraagView>,
    handelingsperspectieven: &'a std::collections::BTreeMap<ghor_domain::Slug, ghor_domain::warm::AdviceView>,
}

impl<'a> RegionRow<'a> {
    fn of(view: &'a ghor_domain::RegionView) -> RegionRow<'a> {
        let ghor_domain::RegionView {
            region,
            name,
            totals,
            locations: _,
            alerts,
            incidents,
            thresholds,
            uitvragen,
            handelingsperspectieven,
        } = view;
        RegionRow { region: *region, name, totals, alerts, incidents, thresholds, uitvragen, handelingsperspectieven }
    }
}

/// A view as JSON text. One that cannot be written is logged and left out, so the read
/// model keeps the previous one instead of `null`.
fn to_text<T: serde::Serialize>(t: &T) -> Option<String> {
    serde_json::to_string(t)
        .inspect_err(
            |e| tracing::error!(error = %e, "a view cannot be written as JSON; the read model keeps the previous one"),
        )
        .ok()
}
