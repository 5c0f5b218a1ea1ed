//! The gateway: follows the whole scope log in sequence order, folds it in memory with the
//! one fold, turns each batch into per-region JSON Merge Patches, and keeps a bounded
//! history of them for clients that resume. Websocket sessions live in [`session`].

pub mod patch;
pub mod session;
pub mod visibility;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Duration;

use ghor_domain::{DecodeError, Event, Picture, RegionCode, Scope};
use ghor_store::{EventLog, ReadModel, StoreError};
use serde_json::Value;
use tokio::sync::watch;
use uuid::Uuid;

use crate::shutdown::Shutdown;

/// Log entries read per batch.
const BATCH: usize = 1000;
/// Deltas kept for resumes.
const HISTORY: usize = 4096;
/// Batches up to this size are folded one event at a time, so that every gateway that is
/// live has a history boundary at every sequence and a client can resume on any of them.
/// Larger batches (catching up) become one delta each.
const PER_EVENT: usize = 32;

/// The changes of one batch of the log: `(from, to]`, per region.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    pub from: u64,
    pub to: u64,
    pub changes: BTreeMap<RegionCode, Value>,
}

/// What the gateway has folded so far.
pub struct Folded {
    pub epoch: Uuid,
    /// Sequence of the last entry folded in.
    pub seq: u64,
    pub picture: Picture,
    /// Current view of every region, as sent to clients.
    pub views: BTreeMap<RegionCode, Value>,
    history: VecDeque<Arc<Delta>>,
    /// An event this build cannot read yet (a newer version): folding waits at it.
    pub held_back: Option<(u64, String)>,
}

impl Folded {
    /// The deltas after `seq`, when the history still reaches back to it.
    pub fn deltas_since(&self, seq: u64) -> Option<Vec<Arc<Delta>>> {
        if seq == self.seq {
            return Some(Vec::new());
        }
        let start = self.history.partition_point(|d| d.from < seq);
        (self.history.get(start)?.from == seq).then(|| self.history.range(start..).cloned().collect())
    }
}

pub struct Gateway {
    scope: Scope,
    log: Arc<dyn EventLog>,
    state: RwLock<Folded>,
    /// The sequence folded up to; sessions wake on it and take their deltas from the history.
    position: watch::Sender<u64>,
}

impl Gateway {
    /// Starts from the newest snapshot of this epoch (or the beginning) and follows the log.
    pub async fn start(
        log: Arc<dyn EventLog>,
        read_model: Arc<dyn ReadModel>,
        shutdown: Shutdown,
    ) -> Result<Arc<Gateway>, StoreError> {
        let epoch = log.epoch();
        let (seq, picture) = read_model.latest_snapshot(log.scope(), epoch).await?.unwrap_or_default();
        let first = log.first_seq().await?;
        if first > seq + 1 {
            return Err(StoreError::Internal(format!(
                "the log starts at sequence {first} but the newest snapshot is at {seq}: events {} to {} are missing; rebuild the read model",
                seq + 1,
                first - 1
            )));
        }
        let views = picture.regions().into_iter().map(|r| (r, view_json(&picture, r))).collect();
        let state = Folded { epoch, seq, picture, views, history: VecDeque::new(), held_back: None };
        let gateway = Arc::new(Gateway {
            scope: log.scope(),
            log,
            state: RwLock::new(state),
            position: watch::channel(seq).0,
        });
        tokio::spawn(gateway.clone().follow(shutdown));
        Ok(gateway)
    }

    pub fn scope(&self) -> Scope {
        self.scope
    }

    pub fn epoch(&self) -> Uuid {
        self.log.epoch()
    }

    /// A read lock on the folded state; hold it briefly.
    pub fn state(&self) -> RwLockReadGuard<'_, Folded> {
        self.state.read().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Wakes whenever more of the log has been folded.
    pub fn positions(&self) -> watch::Receiver<u64> {
        self.position.subscribe()
    }

    /// Waits until the gateway has folded up to `seq` (or the deadline passes).
    pub async fn caught_up(&self, seq: u64, deadline: Duration) -> bool {
        let mut position = self.position.subscribe();
        let reached = matches!(tokio::time::timeout(deadline, position.wait_for(|s| *s >= seq)).await, Ok(Ok(_)));
        reached
    }

    /// Waits until everything in the log now has been folded.
    pub async fn caught_up_with_log(&self, deadline: Duration) -> bool {
        match self.log.last_seq().await {
            Ok(last) => self.caught_up(last, deadline).await,
            Err(_) => false,
        }
    }

    async fn follow(self: Arc<Self>, mut shutdown: Shutdown) {
        let mut appended = self.log.watch();
        loop {
            let (seq, held) = {
                let st = self.state();
                (st.seq, st.held_back.is_some())
            };
            if !held && *appended.borrow_and_update() > seq {
                match self.log.read(seq, BATCH).await {
                    Ok(entries) if entries.is_empty() => {}
                    Ok(entries) if entries.len() <= PER_EVENT => {
                        for entry in entries {
                            self.fold(vec![entry]);
                        }
                        continue;
                    }
                    Ok(entries) => {
                        self.fold(entries);
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(scope = %self.scope, error = %e, "gateway cannot read the log; retrying");
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                            _ = shutdown.recv() => return,
                        }
                    }
                }
            }
            tokio::select! {
                changed = appended.changed() => if changed.is_err() { return },
                _ = shutdown.recv() => return,
            }
        }
    }

    /// Folds a batch and publishes its changes.
    fn fold(&self, entries: Vec<ghor_store::LogEntry>) {
        let mut st = self.state.write().unwrap_or_else(|poison| poison.into_inner());
        let from = st.seq;
        let mut affected = BTreeSet::new();
        for entry in entries {
            match Event::from_stored((*entry.body).clone()) {
                Ok(event) => st.picture.apply_noting(&event, &mut affected),
                Err(DecodeError::NewerVersion(t)) => {
                    tracing::error!(scope = %self.scope, seq = entry.seq, event_type = %t, "held back: this build does not know this event version; upgrade ghor");
                    st.held_back = Some((entry.seq, t));
                    break;
                }
                Err(DecodeError::Invalid(e)) => {
                    tracing::warn!(scope = %self.scope, seq = entry.seq, error = %e, "skipped an invalid event (the projector quarantines it)");
                }
            }
            st.seq = entry.seq;
        }
        let mut changes = BTreeMap::new();
        for region in affected {
            let new = view_json(&st.picture, region);
            let old = st.views.get(&region).cloned().unwrap_or(Value::Null);
            if let Some(p) = patch::diff(&old, &new) {
                changes.insert(region, p);
                st.views.insert(region, new);
            }
        }
        let delta = Arc::new(Delta { from, to: st.seq, changes });
        st.history.push_back(delta);
        while st.history.len() > HISTORY {
            st.history.pop_front();
        }
        let seq = st.seq;
        drop(st);
        self.position.send_replace(seq);
    }
}

/// A region's view as JSON (the value clients hold and patch).
pub fn view_json(picture: &Picture, region: RegionCode) -> Value {
    serde_json::to_value(picture.region_view(region)).unwrap_or(Value::Null)
}
