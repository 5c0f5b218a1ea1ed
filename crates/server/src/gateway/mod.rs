//! The gateway: follows the whole scope log in sequence order, folds it in memory with the
//! one fold, turns each batch into per-region JSON Merge Patches, and keeps a bounded
//! history of them for clients that resume. Websocket sessions live in [`session`].

pub mod feed;
pub mod focus;
pub mod lookback;
pub mod session;
pub mod visibility;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use ghor_domain::patch;
use ghor_domain::picture::Touched;
use ghor_domain::view::Changed;
use ghor_domain::{DecodeError, Picture, RegionCode, RegionView, Scope, Views};
use ghor_store::trace;
use ghor_store::{EventLog, ReadModel, StoreError};
use serde_json::{Map, Value};
use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use crate::metrics::Metrics;
use crate::reader::{read_ahead, Decoded};
use crate::shutdown::Shutdown;
use crate::supervise::Tasks;
use feed::AlertFeed;
use visibility::Visibility;

/// Deltas kept for resumes and for clients that fell behind: at most this many, and at most
/// this much of their changes written as JSON (the byte bound holds when reports carry long
/// texts; the history is the only queue clients have).
const HISTORY: usize = 4096;
const HISTORY_BYTES: usize = 32 << 20;
/// Batches up to this size are folded one event at a time, so that every gateway that is
/// live has a history boundary at every sequence and a client can resume on any of them.
/// Larger batches (catching up) become one delta each.
const PER_EVENT: usize = 32;

/// The changes of one batch of the log: `(from, to]`, per region.
#[derive(Debug)]
pub struct Delta {
    pub from: u64,
    pub to: u64,
    pub changes: BTreeMap<RegionCode, Value>,
    /// False when the changes were not worked out: no client was connected while the
    /// gateway caught up with a large batch. A resume across it gets a snapshot.
    pub patched: bool,
    /// About how many bytes the changes take as JSON.
    weight: usize,
    /// When the oldest event of `(from, to]` was received: the push delay is measured from it.
    pub received: Option<DateTime<Utc>>,
    /// The changes as each subscription sees them, written once for all its clients;
    /// `None`: nothing in it for them.
    pub seen_as: Mutex<HashMap<Subscription, Option<Arc<session::Seen>>>>,
}

/// What a client asked to see and how it may see it: clients alike in all of it get the
/// same messages.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subscription {
    pub regions: Vec<RegionCode>,
    pub visibility: Visibility,
    pub focus: focus::Focus,
    /// Whether deltas the client has not taken yet are merged into one message.
    pub merge: bool,
}

/// What the gateway has folded so far.
pub struct Folded {
    pub epoch: Uuid,
    /// Sequence of the last entry folded in.
    pub seq: u64,
    pub picture: Picture,
    /// Every region's view, up to date with the picture but for what `views_behind` names.
    views: Views,
    /// What was folded in while nobody needed the views (catching up): they are brought up
    /// to date when next needed, once, instead of after every batch.
    views_behind: Touched,
    /// The views as JSON, as clients hold them; kept only while `json_current` (which
    /// implies the views are not behind).
    json: BTreeMap<RegionCode, Value>,
    json_current: bool,
    history: History,
    /// Snapshots written at `seq`, by subscription and reason: after a restart every page
    /// reconnects at once, and each subscription's snapshot is written (and compressed) once.
    pub snapshots: Mutex<HashMap<(Subscription, &'static str), Arc<session::Written>>>,
    /// What clients that fell behind are sent to catch up to `seq`, by subscription, where
    /// their chain ends and where their look back starts: those that fell behind together
    /// are sent the same messages, merged and written once.
    pub catch_ups: Mutex<HashMap<(Subscription, u64, u64), session::Slot>>,
    /// An event this build cannot read yet (a newer version): folding waits at it.
    pub held_back: Option<(u64, String)>,
    pub alert_feed: AlertFeed,
}

impl Folded {
    /// The current view of a region (also of one that has nothing in it yet), without
    /// copying it while the kept views are current.
    pub fn region_view(&self, region: RegionCode) -> Cow<'_, RegionView> {
        match self.views.get(region).filter(|_| self.views_behind.is_empty()) {
            Some(view) => Cow::Borrowed(view),
            None => Cow::Owned(self.picture.region_view(region)),
        }
    }

    /// The current view of a region as JSON.
    pub fn region_json(&self, region: RegionCode) -> Result<Value, serde_json::Error> {
        match self.json.get(&region).filter(|_| self.json_current) {
            Some(json) => Ok(json.clone()),
            None => to_json(&self.region_view(region)),
        }
    }

    /// Brings the views and their JSON up to date before patches are worked out from them;
    /// false (logged) when a view cannot be written as JSON, and then no patch is.
    fn bring_json_current(&mut self) -> bool {
        if !self.json_current {
            self.views.update(&self.picture, &std::mem::take(&mut self.views_behind));
            for (region, view) in self.views.iter() {
                self.alert_feed.note(*region, &view.alerts, Utc::now());
            }
            match self.views.iter().map(|(r, v)| Ok((*r, to_json(v)?))).collect() {
                Ok(json) => self.json = json,
                Err(e) => return unwritable(&e),
            }
            self.json_current = true;
        }
        true
    }

    /// Records what was folded since `from`: the patches to the views (or, unpatched, what
    /// the views must catch up on when next needed) as a delta in the history.
    fn record(&mut self, from: u64, touched: Touched, mut patched: bool, received: Option<DateTime<Utc>>) {
        let mut changes = BTreeMap::new();
        if patched {
            for (region, changed) in self.views.update(&self.picture, &touched) {
                let (Some(view), json) = (self.views.get(region), self.json.entry(region).or_default()) else {
                    continue;
                };
                self.alert_feed.note(region, &view.alerts, Utc::now());
                match refresh_json(json, view, &changed) {
                    Ok(Some(p)) => {
                        changes.insert(region, p);
                    }
                    Ok(None) => {}
                    // No patch then: clients get a snapshot, or are told it cannot be sent.
                    Err(e) => {
                        patched = unwritable(&e);
                        self.json_current = false;
                    }
                }
            }
            if !patched {
                changes.clear();
            }
        } else {
            self.views_behind.extend(touched);
            self.json_current = false;
        }
        let seen_as = Mutex::default();
        self.snapshots.get_mut().unwrap_or_else(|poison| poison.into_inner()).clear();
        self.catch_ups.get_mut().unwrap_or_else(|poison| poison.into_inner()).clear();
        let weight = changes.values().map(patch::weight).sum();
        self.history.push(Delta { from, to: self.seq, changes, patched, weight, received, seen_as });
    }

    /// The deltas after `seq`, when the history still reaches back to it.
    pub fn deltas_since(&self, seq: u64) -> Option<Vec<Arc<Delta>>> {
        if seq == self.seq {
            return Some(Vec::new());
        }
        self.history.since(seq)
    }
}

/// The deltas kept, oldest first, within [`HISTORY`] and [`HISTORY_BYTES`].
#[derive(Default)]
struct History {
    deltas: VecDeque<Arc<Delta>>,
    weight: usize,
}

impl History {
    fn push(&mut self, delta: Delta) {
        self.weight += delta.weight;
        self.deltas.push_back(Arc::new(delta));
        while self.deltas.len() > HISTORY || (self.weight > HISTORY_BYTES && self.deltas.len() > 1) {
            if let Some(oldest) = self.deltas.pop_front() {
                self.weight -= oldest.weight;
            }
        }
    }

    /// The deltas after `seq`, when they reach back to it unbroken.
    fn since(&self, seq: u64) -> Option<Vec<Arc<Delta>>> {
        let start = self.deltas.partition_point(|d| d.from < seq);
        let complete = self.deltas.get(start)?.from == seq && self.deltas.range(start..).all(|d| d.patched);
        complete.then(|| self.deltas.range(start..).cloned().collect())
    }
}

/// Whether the picture a gateway serves follows the log: what `/readyz` and every page say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Currency {
    /// The log was heard from within [`STALL`]: the picture is what the log holds.
    Current,
    /// The log has not been heard from since `since` (a read failed, or the follower is
    /// down and being restarted): the picture may be behind.
    NotCurrent { since: DateTime<Utc> },
}

/// How long the follower may go without word from the log before the picture is no longer
/// called current: a few probes' worth (the follower probes every
/// [`PROBE_EVERY`](crate::reader::PROBE_EVERY)).
pub const STALL: Duration = Duration::from_secs(5);

/// When the follower last heard from the log, and whether it has failed since.
struct Contact {
    at: Instant,
    wall: DateTime<Utc>,
    failed: bool,
}

pub struct Gateway {
    scope: Scope,
    log: Arc<dyn EventLog>,
    state: RwLock<Folded>,
    /// The sequence folded up to; sessions wake on it and take their deltas from the history.
    position: watch::Sender<u64>,
    /// Websocket sessions connected now.
    sessions: AtomicUsize,
    /// The end of the log when this gateway started: until it has folded that far it is
    /// still warming up (and not ready for clients).
    warm_at: u64,
    /// The follower's last word from the log; [`Gateway::watch_currency`] judges it.
    contact: Mutex<Contact>,
    currency: watch::Sender<Currency>,
    /// Test-only switch ([`Gateway::stop_follower_for`]): the follower fails until then.
    fault_until: watch::Sender<Option<Instant>>,
    /// The picture at past moments.
    pub lookback: Arc<lookback::Lookback>,
    /// What the sessions count: messages, snapshots, how they end, and the push delay.
    pub metrics: Metrics,
}

impl Gateway {
    /// Starts from the newest snapshot of this epoch (or the beginning); `tasks` follows the
    /// log and judges whether the picture is current.
    pub async fn start(
        log: Arc<dyn EventLog>,
        read_model: Arc<dyn ReadModel>,
        tasks: &Tasks,
        metrics: Metrics,
        shutdown: Shutdown,
    ) -> Result<Arc<Gateway>, StoreError> {
        let epoch = log.epoch();
        let (seq, picture) = crate::reader::starting_point(&*log, &*read_model).await?;
        let warm_at = log.last_seq().await?;
        let views = Views::of(&picture);
        let mut alert_feed = AlertFeed::default();
        for (region, view) in views.iter() {
            alert_feed.note(*region, &view.alerts, Utc::now());
        }
        let lookback = lookback::Lookback::start(log.clone(), read_model, tasks, shutdown.clone());
        let state = Folded {
            epoch,
            seq,
            picture,
            views,
            views_behind: Touched::default(),
            json: BTreeMap::new(),
            json_current: false,
            history: History::default(),
            snapshots: Mutex::default(),
            catch_ups: Mutex::default(),
            held_back: None,
            alert_feed,
        };
        let gateway = Arc::new(Gateway {
            scope: log.scope(),
            log,
            state: RwLock::new(state),
            position: watch::channel(seq).0,
            sessions: AtomicUsize::new(0),
            warm_at,
            contact: Mutex::new(Contact { at: Instant::now(), wall: Utc::now(), failed: false }),
            currency: watch::channel(Currency::Current).0,
            fault_until: watch::channel(None).0,
            lookback,
            metrics,
        });
        let (follower, stop) = (gateway.clone(), shutdown.clone());
        tasks.spawn("gateway_follower", move || follower.clone().follow(stop.clone()));
        let (judge, stop) = (gateway.clone(), shutdown);
        tasks.spawn("gateway_currency", move || judge.clone().watch_currency(stop.clone()));
        Ok(gateway)
    }

    /// Whether the picture follows the log now, and changes to that.
    pub fn currency(&self) -> watch::Receiver<Currency> {
        self.currency.subscribe()
    }

    /// Test-only: makes the log follower fail now and at every restart for `duration`, as
    /// if the log could not be read (enabled with `--fault-injection`).
    pub fn stop_follower_for(&self, duration: Duration) {
        self.fault_until.send_replace(Some(Instant::now() + duration));
    }

    /// Notes the follower's word from the log: it answered, or it failed.
    fn heard(&self, answered: bool) {
        let mut contact = self.contact.lock().unwrap_or_else(|p| p.into_inner());
        if answered {
            *contact = Contact { at: Instant::now(), wall: Utc::now(), failed: false };
        } else {
            contact.failed = true;
        }
    }

    /// Judges the follower's contact with the log four times a second: the picture is
    /// current while the log answered within [`STALL`] and has not failed since.
    async fn watch_currency(self: Arc<Self>, mut shutdown: Shutdown) -> Result<(), StoreError> {
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.recv() => return Ok(()),
            }
            let now = {
                let contact = self.contact.lock().unwrap_or_else(|p| p.into_inner());
                if contact.failed || contact.at.elapsed() >= STALL {
                    Currency::NotCurrent { since: contact.wall }
                } else {
                    Currency::Current
                }
            };
            self.currency.send_if_modified(|was| {
                if *was != now {
                    match now {
                        Currency::Current => tracing::info!(scope = %self.scope, "the picture follows the log again"),
                        Currency::NotCurrent { since } => {
                            tracing::error!(scope = %self.scope, %since, "the picture no longer follows the log")
                        }
                    }
                }
                std::mem::replace(was, now) != now
            });
        }
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

    /// Whether it has folded the log as far as it reached when the gateway started.
    pub fn warmed_up(&self) -> bool {
        *self.position.borrow() >= self.warm_at
    }

    /// Counts a websocket session for as long as the guard lives.
    pub fn connected(self: &Arc<Self>) -> SessionGuard {
        self.sessions.fetch_add(1, Ordering::Relaxed);
        SessionGuard(self.clone())
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

    /// Follows the log from what has been folded until shutdown; fails when the log cannot
    /// be read (its supervisor starts it again from where it got).
    async fn follow(self: Arc<Self>, shutdown: Shutdown) -> Result<(), StoreError> {
        let mut fault = self.fault_until.subscribe();
        let faulted = |until: &Option<Instant>| until.is_some_and(|t| t > Instant::now());
        let fault_injected = || Err(StoreError::Unavailable("the log follower was stopped (fault injection)".into()));
        if faulted(&fault.borrow_and_update()) {
            self.heard(false);
            return fault_injected();
        }
        let mut batches = read_ahead(self.log.clone(), self.state().seq, std::convert::identity, shutdown);
        loop {
            let batch = tokio::select! {
                batch = batches.recv() => batch,
                _ = fault.wait_for(faulted) => {
                    self.heard(false);
                    return fault_injected();
                }
            };
            let batch = match batch {
                Some(Ok(batch)) => batch,
                Some(Err(e)) => {
                    self.heard(false);
                    return Err(e);
                }
                None => return Ok(()), // shutdown
            };
            self.heard(true);
            if self.state().held_back.is_some() {
                continue; // until a newer ghor takes over
            }
            // Off the runtime's workers: the fold waits for the sessions' read locks, and
            // the requests on a worker would wait with it.
            let gateway = self.clone();
            let span = trace::batch("push", batch.iter().map(|e| e.trace.as_deref()));
            let folded = tokio::task::spawn_blocking(move || {
                let _traced = span.enter();
                let batch: Vec<Decoded> = batch.into_iter().map(Decoded::of).collect();
                if batch.len() <= PER_EVENT {
                    for entry in batch {
                        gateway.fold(vec![entry]);
                    }
                } else if !batch.is_empty() {
                    gateway.fold(batch);
                }
            });
            if let Err(e) = folded.await {
                return Err(StoreError::Internal(format!("the fold failed: {e}")));
            }
        }
    }

    /// Folds a batch and publishes its changes.
    fn fold(&self, entries: Vec<Decoded>) {
        // Patches are worked out for every event as it arrives live (a client may resume
        // here from another gateway at any sequence), and while catching up only when a
        // client is connected to receive them.
        let patched = entries.len() <= PER_EVENT || self.sessions.load(Ordering::Relaxed) > 0;
        let mut st = self.state.write().unwrap_or_else(|poison| poison.into_inner());
        let patched = patched && st.bring_json_current();
        let from = st.seq;
        let mut touched = Touched::default();
        let mut received: Option<DateTime<Utc>> = None;
        for entry in entries {
            if entry.seq <= st.seq {
                continue; // positions only grow (the reader already drops these)
            }
            match entry.event {
                Ok(event) => {
                    received = Some(received.map_or(event.stamp.received, |r| r.min(event.stamp.received)));
                    st.picture.apply_noting(&event, &mut touched);
                }
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
        st.record(from, touched, patched, received);
        let seq = st.seq;
        drop(st);
        self.position.send_replace(seq);
    }
}

/// A connected session; see [`Gateway::connected`].
pub struct SessionGuard(Arc<Gateway>);

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.0.sessions.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A view as JSON. The views hold no map with non-text keys and no number JSON cannot hold,
/// so this does not fail; should it ever, the caller gets an error, never `null`.
pub fn to_json<T: serde::Serialize>(t: &T) -> Result<Value, serde_json::Error> {
    serde_json::to_value(t)
}

/// Logs a view that cannot be written as JSON; false, for "no patch".
fn unwritable(e: &serde_json::Error) -> bool {
    tracing::error!(error = %e, "a view cannot be written as JSON; clients are sent no patch of it");
    false
}

/// Brings a region's JSON up to date with its view and returns the merge patch that does
/// so (`None` when nothing changed). Only what `changed` names is serialised again: the
/// locations that changed, the region's totals, alerts and incidents, and where the changed
/// locations stand with the uitvragen and handelingsperspectieven that address them (a
/// report, a delivery or a "gelezen" changes those without naming them).
fn refresh_json(json: &mut Value, view: &RegionView, changed: &Changed) -> Result<Option<Value>, serde_json::Error> {
    let Some(region) = json.as_object_mut().filter(|_| !changed.whole) else {
        let new = to_json(view)?;
        let p = patch::diff(json, &new);
        *json = new;
        return Ok(p);
    };
    let mut patches = Map::new();
    let mut location_patches = Map::new();
    if let Some(Value::Object(locations)) = region.get_mut("locations") {
        for id in &changed.locations {
            let old = locations.remove(id.as_str()).unwrap_or(Value::Null);
            let new = view.locations.get(id).map_or(Ok(Value::Null), to_json)?;
            if let Some(p) = patch::diff(&old, &new) {
                location_patches.insert(id.to_string(), p);
            }
            if !new.is_null() {
                locations.insert(id.to_string(), new);
            }
        }
    }
    if !location_patches.is_empty() {
        patches.insert("locations".into(), Value::Object(location_patches));
    }
    for (key, new) in [
        ("totals", to_json(&view.totals)?),
        ("alerts", to_json(&view.alerts)?),
        ("incidents", to_json(&view.incidents)?),
    ] {
        let old = region.entry(key).or_insert(Value::Null);
        if let Some(p) = patch::diff(old, &new) {
            patches.insert(key.into(), p);
            *old = new;
        }
    }
    // Of the uitvragen and handelingsperspectieven, only where a changed location stands.
    let mut warm = Map::new();
    for id in &changed.locations {
        for (u, view) in view.uitvragen.iter().filter(|(_, v)| v.locations.contains_key(id)) {
            let new = to_json(&view.locations[id])?;
            refresh_at(region, &mut warm, &["uitvragen", u.as_str(), "locations", id.as_str()], new);
            refresh_at(region, &mut warm, &["uitvragen", u.as_str(), "counts"], to_json(&view.counts)?);
        }
        for (a, view) in view.handelingsperspectieven.iter().filter(|(_, v)| v.locations.contains_key(id)) {
            let new = to_json(&view.locations[id])?;
            refresh_at(region, &mut warm, &["handelingsperspectieven", a.as_str(), "locations", id.as_str()], new);
        }
    }
    prune(&mut warm);
    patches.extend(warm);
    Ok((!patches.is_empty()).then_some(Value::Object(patches)))
}

/// Puts `new` at `path` in the region's JSON, and what changed there at the same path in
/// `patch` (which may be left holding empty objects: see [`prune`]).
fn refresh_at(json: &mut Map<String, Value>, patch: &mut Map<String, Value>, path: &[&str], new: Value) {
    let Some((last, parents)) = path.split_last() else { return };
    let (mut node, mut patch) = (json, patch);
    for key in parents {
        let (Some(n), Some(p)) = (
            node.entry(*key).or_insert_with(|| Value::Object(Map::new())).as_object_mut(),
            patch.entry(*key).or_insert_with(|| Value::Object(Map::new())).as_object_mut(),
        ) else {
            return;
        };
        (node, patch) = (n, p);
    }
    let old = node.entry(*last).or_insert(Value::Null);
    if let Some(p) = patch::diff(old, &new) {
        patch.insert((*last).to_owned(), p);
        *old = new;
    }
}

/// Removes the objects of a patch that came to hold nothing.
fn prune(patch: &mut Map<String, Value>) {
    patch.retain(|_, v| match v {
        Value::Object(inner) => {
            prune(inner);
            !inner.is_empty()
        }
        _ => true,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(from: u64, text: &str) -> Delta {
        let changes = BTreeMap::from([(RegionCode::try_from("VR01").expect("a region"), Value::from(text))]);
        let weight = changes.values().map(patch::weight).sum();
        Delta { from, to: from + 1, changes, patched: true, weight, received: None, seen_as: Mutex::default() }
    }

    #[test]
    fn the_history_keeps_as_many_deltas_as_it_may_count_and_hold() {
        let mut history = History::default();
        for from in 0..HISTORY as u64 + 10 {
            history.push(delta(from, "klein"));
        }
        assert_eq!(history.deltas.len(), HISTORY, "bounded by count");
        assert!(history.since(9).is_none(), "the oldest are gone");
        assert_eq!(history.since(10).map(|d| d.len()), Some(HISTORY));

        // Long texts: bounded by bytes long before the count.
        let long = "x".repeat(1 << 20);
        for from in HISTORY as u64 + 10..HISTORY as u64 + 60 {
            history.push(delta(from, &long));
        }
        assert!(history.weight <= HISTORY_BYTES, "{} bytes kept", history.weight);
        assert_eq!(history.weight, history.deltas.iter().map(|d| d.weight).sum::<usize>());
        let last = HISTORY as u64 + 59;
        assert_eq!(history.since(last).map(|d| d.len()), Some(1), "the newest is kept");
        assert!(history.since(last - 40).is_none(), "forty long ones do not fit");
        assert_eq!(history.since(last - 30).map(|d| d.len()), Some(31), "thirty-one do");
    }
}
