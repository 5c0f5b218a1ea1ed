//! Reading the log ahead of whoever folds it: a task follows the log from a sequence and
//! hands the batches on while the previous one is being decoded and folded, so that
//! reading and folding overlap (on two cores). Read errors are retried here; the folder
//! sees an unbroken run of sequences. Every folder starts from the same point: the newest
//! snapshot, checked against the log.

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
    let (seq, picture) = read_model.latest_snapshot(log.scope(), log.epoch()).await?.unwrap_or_default();
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
}

impl Decoded {
    pub fn of(entry: LogEntry) -> Decoded {
        let event = Event::from_stored(&entry.body);
        Decoded { seq: entry.seq, body: entry.body, event }
    }
}

/// Batches of the log after `after`, in sequence order, as they are appended, each entry
/// passed through `prepare` on the reading side (decoding there overlaps it with what the
/// folder waits for; a folder that waits for nothing decodes faster itself). Ends at
/// shutdown or when the receiver is dropped.
pub fn read_ahead<T: Send + 'static>(
    log: Arc<dyn EventLog>,
    after: u64,
    prepare: fn(LogEntry) -> T,
    mut shutdown: Shutdown,
) -> mpsc::Receiver<Vec<T>> {
    let (tx, rx) = mpsc::channel(AHEAD);
    tokio::spawn(async move {
        let mut appended = log.watch();
        let mut seq = after;
        loop {
            if *appended.borrow_and_update() > seq {
                match log.read(seq, BATCH).await {
                    Ok(entries) if !entries.is_empty() => {
                        seq = entries.last().map_or(seq, |e| e.seq);
                        if tx.send(entries.into_iter().map(prepare).collect()).await.is_err() {
                            return;
                        }
                        continue;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(scope = %log.scope(), after = seq, error = %e, "cannot read the log; retrying");
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                            _ = shutdown.recv() => return,
                            _ = tx.closed() => return,
                        }
                    }
                }
            }
            tokio::select! {
                changed = appended.changed() => if changed.is_err() { return },
                _ = shutdown.recv() => return,
                _ = tx.closed() => return,
            }
        }
    });
    rx
}
