//! Reading the log ahead of whoever folds it: a task follows the log from a sequence and
//! hands the batches on while the previous one is being decoded and folded, so that
//! reading and folding overlap (on two cores). Positions only grow: the folder sees each
//! sequence once, in order. A read error ends the batches and the folder fails, to be
//! started again by its supervisor from where it got. Every folder starts from the same
//! point: the newest snapshot, checked against the log.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ghor_domain::{DecodeError, Event, Picture};
use ghor_store::{EventLog, LogEntry, ReadModel, StoreError};
use tokio::sync::mpsc;

use crate::shutdown::Shutdown;

/// Log entries read at once.
const BATCH: usize = 1000;
/// Batches read ahead of the folder.
const AHEAD: usize = 2;

/// Where a folder starts: the newest snapshot of this epoch (or the beginning), once the
/// log is known to still hold everything after it.
pub async fn starting_point(log: &dyn EventLog, read_model: &dyn ReadModel) -> Result<(u64, Picture), StoreError> {
    let (seq, picture) = read_model.snapshot(log.scope(), log.epoch(), u64::MAX).await?.unwrap_or_default();
    let first = log.first_seq().await?;
    if first > seq + 1 {
        return Err(StoreError::Internal(format!(
            "the log starts at sequence {first} but the newest snapshot is at {seq}: events {} to {} are missing; rebuild the read model",
            seq + 1,
            first - 1
        )));
    }
    Ok((seq, picture))
}

/// One log entry with its decoded event.
pub struct Decoded {
    pub seq: u64,
    /// The stored CloudEvent (JSON), as the log holds it.
    pub body: Bytes,
    pub event: Result<Event, DecodeError>,
    /// The trace context its append carried ([`ghor_store::trace`]).
    pub trace: Option<String>,
}

impl Decoded {
    pub fn of(entry: LogEntry) -> Decoded {
        let event = Event::from_stored(&entry.body);
        Decoded { seq: entry.seq, body: entry.body, event, trace: entry.trace }
    }
}

/// How often a reader with nothing new asks the log itself, so that an unreachable log or
/// a stalled notification is noticed (and said) within seconds.
pub const PROBE_EVERY: Duration = Duration::from_secs(2);

/// Batches of the log after `after`, in sequence order, as they are appended, each entry
/// passed through `prepare` on the reading side (decoding there overlaps it with what the
/// folder waits for; a folder that waits for nothing decodes faster itself). While nothing
/// is appended, an empty batch says every [`PROBE_EVERY`] that the log was asked and had
/// nothing new. Positions only grow: an entry at or before the last one handed on (a
/// reader of the log that came back from an earlier sequence) is never passed on. The first
/// error ends the batches (the folder fails and its supervisor starts it again); so do
/// shutdown and dropping the receiver.
pub fn read_ahead<T: Send + 'static>(
    log: Arc<dyn EventLog>,
    after: u64,
    prepare: fn(LogEntry) -> T,
    mut shutdown: Shutdown,
) -> mpsc::Receiver<Result<Vec<T>, StoreError>> {
    let (tx, rx) = mpsc::channel(AHEAD);
    tokio::spawn(async move {
        let mut appended = log.watch();
        let mut seq = after;
        let mut probe = tokio::time::interval(PROBE_EVERY);
        probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let mut known = *appended.borrow_and_update();
            if known <= seq {
                tokio::select! {
                    changed = appended.changed() => {
                        if changed.is_err() { return }
                        continue;
                    }
                    _ = probe.tick() => match log.probe().await {
                        Ok(last) => known = last,
                        Err(e) => {
                            let _ = tx.send(Err(e)).await;
                            return;
                        }
                    },
                    _ = shutdown.recv() => return,
                    _ = tx.closed() => return,
                }
            }
            let batch = if known > seq { log.read(seq, BATCH).await } else { Ok(Vec::new()) };
            let batch = batch.map(|entries| {
                let before = entries.len();
                let mut fresh = Vec::with_capacity(before);
                for entry in entries {
                    if entry.seq > seq {
                        seq = entry.seq;
                        fresh.push(prepare(entry));
                    }
                }
                if fresh.len() < before {
                    tracing::warn!(scope = %log.scope(), position = seq, skipped = before - fresh.len(), "the log handed back entries at or before the position; skipped");
                }
                fresh
            });
            let failed = batch.is_err();
            if tx.send(batch).await.is_err() || failed {
                return;
            }
            probe.reset();
        }
    });
    rx
}
