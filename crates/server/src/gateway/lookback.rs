//! Looking back (terugkijken): the picture at any past moment, by either clock of
//! DESIGN.md §4, for the HTTP API, `ghor replay` and the page's time slider.
//!
//! - **As known at T**: the fold of the log's prefix received up to T, what ghor showed
//!   then. `received` need not grow with the sequence across ingest processes, so the
//!   prefix ends before the first entry received after T.
//! - **As observed at T**: the fold, in log order, of every event observed (`time`) up to
//!   T, also those that arrived later: what was true then, as far as anyone knows now.
//!
//! Both start from the nearest projector snapshot, or a picture worked out a moment ago,
//! whose every event belongs in the answer, and fold the rest from the log. Which entries
//! belong is read from an index of both clocks per sequence (24 bytes an entry) that a
//! supervised task keeps by following the log. The fold is the one fold, under the
//! gateway's rules: an invalid entry is skipped, an event this build cannot read yet stops
//! it (and the answer says where).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use ghor_domain::{DecodeError, Event, Picture};
use ghor_store::{EventLog, LogEntry, ReadModel, StoreError};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::reader::read_ahead;
use crate::shutdown::Shutdown;
use crate::supervise::Tasks;

/// Which clock a moment is read on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Clock {
    /// What the log had received by then: the picture as ghor showed it.
    #[default]
    Known,
    /// What had been observed by then, including reports that arrived later.
    Observed,
}

/// The picture at a past moment.
#[derive(Debug, Clone)]
pub struct Past {
    pub at: DateTime<Utc>,
    pub clock: Clock,
    /// As known: the last sequence of the prefix. As observed: the last sequence looked at
    /// (reports that arrive later may still change the answer).
    pub seq: u64,
    pub picture: Arc<Picture>,
    /// The sequence of an event this build cannot read yet, where the fold stopped.
    pub held_back: Option<u64>,
}

/// Why a moment cannot be shown.
#[derive(Debug)]
pub enum Unanswered {
    /// The moment lies ahead.
    Future,
    /// The index has not read the log this far yet (after a start): try again shortly.
    Indexing {
        indexed: u64,
        last: u64,
    },
    Store(StoreError),
}

impl From<StoreError> for Unanswered {
    fn from(e: StoreError) -> Self {
        Unanswered::Store(e)
    }
}

/// Pictures worked out lately, kept for the next step of a slider.
const RECENT: usize = 4;
/// A picture worked out lately is started from instead of a snapshot when it is at most
/// this many entries before the moment (a slider's step), without asking for the snapshot.
const NEAR: u64 = 5_000;
/// Log entries read at once.
const WINDOW: usize = 1000;
/// How long an answer waits for the index to reach the log's end.
const INDEX_PATIENCE: Duration = Duration::from_secs(3);

/// Both clocks of every entry, in milliseconds, by sequence from `first`, with their
/// running maxima (whose prefixes are what a moment's binary search needs).
#[derive(Debug, Default)]
struct Moments {
    first: u64,
    time: Vec<i64>,
    time_max: Vec<i64>,
    received_max: Vec<i64>,
}

impl Moments {
    /// The last sequence indexed (0 before the first).
    fn last(&self) -> u64 {
        (self.first + self.time.len() as u64).saturating_sub(1)
    }

    /// Adds the next entry; false when it is not the next sequence (the log is dense).
    fn push(&mut self, seq: u64, clocks: Clocks) -> bool {
        if self.time.is_empty() {
            self.first = seq;
        } else if seq != self.last() + 1 {
            return false;
        }
        let max = |v: &[i64], x: i64| v.last().map_or(x, |m| x.max(*m));
        self.time_max.push(max(&self.time_max, clocks.time));
        self.received_max.push(max(&self.received_max, clocks.received));
        self.time.push(clocks.time);
        true
    }

    /// The sequence before `n` entries from the start.
    fn seq_after(&self, n: usize) -> u64 {
        if self.time.is_empty() {
            0
        } else {
            self.first - 1 + n as u64
        }
    }

    /// The last sequence of the prefix received up to `at`.
    fn known(&self, at: i64) -> u64 {
        self.seq_after(self.received_max.partition_point(|r| *r <= at))
    }

    /// The last sequence up to which every entry was observed by `at`.
    fn all_observed(&self, at: i64) -> u64 {
        self.seq_after(self.time_max.partition_point(|t| *t <= at))
    }

    /// The sequences after `after` observed by `at`.
    fn observed_after(&self, after: u64, at: i64) -> Vec<u64> {
        let skip = after.saturating_sub(self.first.saturating_sub(1)) as usize;
        let first = self.first;
        self.time.iter().enumerate().skip(skip).filter(|(_, t)| **t <= at).map(|(i, _)| first + i as u64).collect()
    }
}

/// The two clocks of a stored event, read without decoding the rest. An entry that does
/// not say them (it is not an event; the fold skips it) counts as received when the entry
/// before it was.
#[derive(Debug, Clone, Copy)]
struct Clocks {
    time: i64,
    received: i64,
}

/// An entry received this long after it was observed is kept in memory: the picture as
/// observed at a moment takes such late reports from anywhere later in the log, and a
/// slider's every step would otherwise read the log around each of them.
const LATE_MS: i64 = 60_000;
/// The most late entries kept (about 20 MB of events); beyond, the oldest are read again.
const LATE_KEPT: usize = 100_000;

/// An entry's clocks, and the entry itself when it was received late.
fn clocks(entry: LogEntry) -> (u64, Option<Clocks>, Option<LogEntry>) {
    let (seq, clocks) = clocks_of(&entry);
    let late = clocks.filter(|c| c.received - c.time > LATE_MS).map(|_| entry);
    (seq, clocks, late)
}

fn clocks_of(entry: &LogEntry) -> (u64, Option<Clocks>) {
    #[derive(Deserialize)]
    struct Stamped {
        time: Option<DateTime<Utc>>,
        received: DateTime<Utc>,
    }
    let stamped = serde_json::from_slice::<Stamped>(&entry.body).ok().map(|s| Clocks {
        time: s.time.unwrap_or(s.received).timestamp_millis(),
        received: s.received.timestamp_millis(),
    });
    (entry.seq, stamped)
}

pub struct Lookback {
    log: Arc<dyn EventLog>,
    read_model: Arc<dyn ReadModel>,
    moments: RwLock<Moments>,
    indexed: watch::Sender<u64>,
    /// Prefixes worked out lately (sequence, picture), newest last.
    recent: Mutex<VecDeque<(u64, Arc<Picture>)>>,
    /// Entries received late, by sequence (see [`LATE_MS`]).
    late: RwLock<BTreeMap<u64, LogEntry>>,
}

impl Lookback {
    /// Starts indexing the log from its beginning; `tasks` keeps following it.
    pub fn start(
        log: Arc<dyn EventLog>,
        read_model: Arc<dyn ReadModel>,
        tasks: &Tasks,
        shutdown: Shutdown,
    ) -> Arc<Lookback> {
        let lookback = Arc::new(Lookback {
            log,
            read_model,
            moments: RwLock::default(),
            indexed: watch::channel(0).0,
            recent: Mutex::default(),
            late: RwLock::default(),
        });
        let (index, stop) = (lookback.clone(), shutdown);
        tasks.spawn("lookback_index", move || index.clone().follow(stop.clone()));
        lookback
    }

    /// Indexes the log from where it got; fails when the log cannot be read or is not
    /// dense (then the index starts over).
    async fn follow(self: Arc<Self>, shutdown: Shutdown) -> Result<(), StoreError> {
        let indexed = *self.indexed.borrow();
        let from = match indexed {
            0 => self.log.first_seq().await?.saturating_sub(1),
            indexed => indexed,
        };
        let mut batches = read_ahead(self.log.clone(), from, clocks, shutdown);
        let mut last_received = 0;
        while let Some(batch) = batches.recv().await {
            let batch = batch?;
            let Some(&(upto, _, _)) = batch.last() else { continue };
            let mut moments = self.moments.write().unwrap_or_else(|poison| poison.into_inner());
            let mut late = self.late.write().unwrap_or_else(|poison| poison.into_inner());
            for (seq, stamped, late_entry) in batch {
                if let Some(entry) = late_entry {
                    late.insert(seq, entry);
                    if late.len() > LATE_KEPT {
                        late.pop_first();
                    }
                }
                let clocks = stamped.unwrap_or(Clocks { time: last_received, received: last_received });
                last_received = clocks.received;
                if !moments.push(seq, clocks) {
                    let expected = moments.last() + 1;
                    *moments = Moments::default();
                    late.clear();
                    self.indexed.send_replace(0);
                    return Err(StoreError::Internal(format!(
                        "the log skipped from {expected} to {seq}; indexing it again from the start"
                    )));
                }
            }
            drop((moments, late));
            self.indexed.send_replace(upto);
        }
        Ok(())
    }

    /// The picture at `at` on `clock`.
    pub async fn at(&self, at: DateTime<Utc>, clock: Clock) -> Result<Past, Unanswered> {
        if at > Utc::now() {
            return Err(Unanswered::Future);
        }
        // Everything in the log now must be indexed: a later entry may have been received
        // (or observed) before `at`. The log is asked, not its watch: another process may
        // have appended (the embedded log's watch hears only this one's appends at once).
        let last = self.log.last_seq().await?;
        let mut indexed = self.indexed.subscribe();
        if tokio::time::timeout(INDEX_PATIENCE, indexed.wait_for(|i| *i >= last)).await.is_err() {
            return Err(Unanswered::Indexing { indexed: *indexed.borrow(), last });
        }
        let ms = at.timestamp_millis();
        // The prefix of the log that belongs whole: received, or observed, by then.
        let (prefix, indexed) = {
            let moments = self.moments.read().unwrap_or_else(|poison| poison.into_inner());
            let prefix = match clock {
                Clock::Known => moments.known(ms),
                Clock::Observed => moments.all_observed(ms),
            };
            (prefix, moments.last())
        };
        let (start, picture) = self.nearest(prefix).await?;
        let (picture, held_back) = self.fold(picture, &(start + 1..=prefix).collect::<Vec<_>>()).await?;
        if held_back.is_some() {
            return Ok(Past { at, clock, seq: prefix, picture: Arc::new(picture), held_back });
        }
        // A slider's next step on either clock starts from here.
        let picture = Arc::new(picture);
        self.remember(prefix, picture.clone());
        let (seq, picture, held_back) = match clock {
            Clock::Known => (prefix, picture, None),
            Clock::Observed => {
                // And every later entry observed by then (late reports, wherever they are).
                let later = self.moments.read().unwrap_or_else(|poison| poison.into_inner()).observed_after(prefix, ms);
                let (picture, held_back) = self.fold(Picture::clone(&picture), &later).await?;
                (indexed, Arc::new(picture), held_back)
            }
        };
        Ok(Past { at, clock, seq, picture, held_back })
    }

    /// Hands every event after `after` to `each`, in log order, a window at a time off the
    /// runtime's threads; at most `limit` entries (true when that cut it short), and never
    /// past an event this build cannot read yet.
    pub async fn replay<S: Send + 'static>(
        &self,
        after: u64,
        limit: u64,
        mut state: S,
        each: fn(&mut S, &Event),
    ) -> Result<(S, bool), StoreError> {
        let mut next = after;
        loop {
            let entries = self.log.read(next, WINDOW).await?;
            let Some(last) = entries.last().map(|e| e.seq) else { return Ok((state, false)) };
            next = last;
            let (folded, stopped) = tokio::task::spawn_blocking(move || {
                for entry in entries {
                    match Event::from_stored(&entry.body) {
                        Ok(event) => each(&mut state, &event),
                        Err(DecodeError::NewerVersion(_)) => return (state, true),
                        Err(DecodeError::Invalid(_)) => {}
                    }
                }
                (state, false)
            })
            .await
            .map_err(|e| StoreError::Internal(format!("the replay failed: {e}")))?;
            state = folded;
            if stopped {
                return Ok((state, false));
            }
            if next - after >= limit {
                return Ok((state, true));
            }
        }
    }

    /// The prefix fold nearest before `upto` (sequence, picture): one worked out lately, or
    /// the projector's snapshot, or the empty picture.
    async fn nearest(&self, upto: u64) -> Result<(u64, Picture), StoreError> {
        let recent = {
            let recent = self.recent.lock().unwrap_or_else(|poison| poison.into_inner());
            recent.iter().filter(|(s, _)| *s <= upto).max_by_key(|(s, _)| *s).cloned()
        };
        if let Some((seq, picture)) = recent.as_ref().filter(|(s, _)| upto - s <= NEAR) {
            return Ok((*seq, Picture::clone(picture)));
        }
        let snapshot = self.read_model.snapshot(self.log.scope(), self.log.epoch(), upto).await?;
        Ok(match (snapshot, recent) {
            (Some(snapshot), Some((seq, _))) if snapshot.0 >= seq => snapshot,
            (_, Some((seq, picture))) => (seq, Picture::clone(&picture)),
            (snapshot, None) => snapshot.unwrap_or_default(),
        })
    }

    fn remember(&self, seq: u64, picture: Arc<Picture>) {
        let mut recent = self.recent.lock().unwrap_or_else(|poison| poison.into_inner());
        recent.retain(|(s, _)| *s != seq);
        recent.push_back((seq, picture));
        while recent.len() > RECENT {
            recent.pop_front();
        }
    }

    /// Folds the entries at `seqs` (ascending) into `picture`: those kept in memory as they
    /// are, the others reading the log a window at a time; stops at an event this build
    /// cannot read yet and says where.
    async fn fold(&self, mut picture: Picture, seqs: &[u64]) -> Result<(Picture, Option<u64>), StoreError> {
        let mut rest = seqs;
        while let Some(&next) = rest.first() {
            let kept: Vec<LogEntry> = {
                let late = self.late.read().unwrap_or_else(|poison| poison.into_inner());
                rest.iter().map_while(|seq| late.get(seq).cloned()).collect()
            };
            let (entries, done) = if kept.is_empty() {
                let entries = self.log.read(next - 1, WINDOW).await?;
                let Some(end) = entries.last().map(|e| e.seq) else {
                    return Err(StoreError::Unavailable(format!("the log did not deliver sequence {next}")));
                };
                let wanted = &rest[..rest.partition_point(|s| *s <= end)];
                (entries.into_iter().filter(|e| wanted.binary_search(&e.seq).is_ok()).collect(), wanted.len())
            } else {
                let done = kept.len();
                (kept, done)
            };
            rest = &rest[done..];
            let (folded, held_back) = tokio::task::spawn_blocking(move || {
                let held_back = fold_entries(&mut picture, entries);
                (picture, held_back)
            })
            .await
            .map_err(|e| StoreError::Internal(format!("the fold failed: {e}")))?;
            picture = folded;
            if held_back.is_some() {
                return Ok((picture, held_back));
            }
        }
        Ok((picture, None))
    }
}

/// Folds stored entries in order by the gateway's rules: an invalid one is skipped, one of
/// a newer version than this build reads stops the fold (its sequence is returned).
pub fn fold_entries(picture: &mut Picture, entries: impl IntoIterator<Item = LogEntry>) -> Option<u64> {
    for entry in entries {
        match Event::from_stored(&entry.body) {
            Ok(event) => picture.apply(&event),
            Err(DecodeError::NewerVersion(_)) => return Some(entry.seq),
            Err(DecodeError::Invalid(_)) => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(entries: &[(i64, i64)]) -> Moments {
        let mut m = Moments::default();
        for (i, (time, received)) in entries.iter().enumerate() {
            assert!(m.push(i as u64 + 1, Clocks { time: *time, received: *received }));
        }
        m
    }

    #[test]
    fn known_ends_before_the_first_entry_received_after_the_moment() {
        // The third entry was received before the second (another ingest process).
        let m = moments(&[(10, 10), (20, 30), (15, 25), (40, 40)]);
        assert_eq!(m.known(9), 0);
        assert_eq!(m.known(25), 1, "the second entry was received at 30");
        assert_eq!(m.known(30), 3);
        assert_eq!(m.known(100), 4);
    }

    #[test]
    fn observed_takes_late_reports_from_anywhere_in_the_log() {
        // The fourth entry, received last, was observed first.
        let m = moments(&[(10, 10), (20, 20), (30, 30), (5, 40)]);
        assert_eq!(m.all_observed(25), 2);
        assert_eq!(m.observed_after(2, 25), vec![4]);
        assert_eq!(m.observed_after(0, 7), vec![4]);
        assert_eq!(m.all_observed(7), 0);
    }

    #[test]
    fn a_log_that_skips_a_sequence_is_refused() {
        let mut m = moments(&[(1, 1)]);
        assert!(!m.push(3, Clocks { time: 2, received: 2 }));
    }
}
