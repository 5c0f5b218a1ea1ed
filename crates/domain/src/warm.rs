//! The warm phase (§3.7) in the picture: uitvragen (who was asked, who answered, who was
//! called) and handelingsperspectieven (who was advised, who read it), folded from the log
//! and shown per region.
//!
//! # Whom an uitvraag addresses
//! The locations its area holds in the registry *as the fold has it when it reaches the
//! opening event*: every node and every replay folds the log in the same order, so they
//! agree, and a location registered after the question was asked is not counted as one
//! that failed to answer it. (Everything else here, like the rest of the picture, does not
//! depend on arrival order: answers keep their earliest time, calls are a set.)
//!
//! # When a location has answered
//! When it reports an asked dimension (of an asked key, when keys are named) observed at
//! or after the opening, or says "niet getroffen" (for this uitvraag or none named);
//! partly while some asked dimensions are still missing. Closing freezes the result:
//! what was observed after the closing no longer counts.
//!
//! # Whether the notifications reached anyone
//! The notifier's outcome events (`notification.delivered`, `.failed`, `.given_up`) about
//! an uitvraag are kept per addressed location and receiver (the notification's id), the
//! newest (time, id) of each: so the dashboard shows "bereikt" or "niet afgeleverd". One
//! that reaches the fold before the opening waits at its location (see
//! [`LocationState::notices`]) and is taken in at the opening, so the order does not matter.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::area::Area;
use crate::payload::*;
use crate::picture::{keep_first, keep_newest_in, LocationState, Observation};
use crate::values::{RegionCode, Slug};
use crate::vocab::{
    AnswerState, Bron, CallOutcome, Channel, ContactRole, DeliveryState, Dimension, NotificationKind, Urgency,
};

/// One uitvraag as folded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UitvraagState {
    pub id: Slug,
    /// The region that asked.
    pub region: RegionCode,
    pub opened: Observation<UitvraagData>,
    pub addressed: BTreeSet<Slug>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Observation<UitvraagClosedData>>,
    /// Per location, when each asked dimension was first observed after the opening.
    #[serde(default)]
    pub answers: BTreeMap<Slug, BTreeMap<Dimension, DateTime<Utc>>>,
    /// Per location, when it first said "niet getroffen" after the opening.
    #[serde(default)]
    pub not_affected: BTreeMap<Slug, DateTime<Utc>>,
    /// Per location, the calls recorded, in (time, id) order.
    #[serde(default)]
    pub calls: BTreeMap<Slug, Vec<Observation<CallData>>>,
    /// Per addressed location, the newest outcome of each notification about this uitvraag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deliveries: BTreeMap<Slug, Deliveries>,
}

/// What became of one notification to one receiver, as its newest outcome event says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub state: DeliveryState,
    /// The event that called for it (the opening, or a round of reminders).
    pub cause: Uuid,
    pub kind: NotificationKind,
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_role: Option<ContactRole>,
    pub attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Delivery {
    pub fn of(state: DeliveryState, data: &NotificationData) -> Delivery {
        Delivery {
            state,
            cause: data.cause,
            kind: data.kind,
            channel: data.channel,
            contact_role: data.contact_role,
            attempt: data.attempt.get(),
            reason: data.reason.as_ref().map(|r| r.as_str().to_owned()),
        }
    }
}

/// The newest outcome per notification (its id) of one location.
pub type Deliveries = BTreeMap<Slug, Observation<Delivery>>;

/// Whether a notification's kind is about an uitvraag (and so folded into it).
pub fn about_uitvraag(kind: NotificationKind) -> bool {
    matches!(kind, NotificationKind::Uitvraag | NotificationKind::Herinnering | NotificationKind::Escalatie)
}

/// Keeps an outcome as the newest of its notification, if it is.
pub(crate) fn note_delivery(deliveries: &mut Deliveries, notification: Slug, outcome: Observation<Delivery>) {
    keep_newest_in(deliveries, notification, outcome);
}

/// The outcomes of the newest notification a location was sent (the cause of the newest
/// outcome), and what they add up to: reached when any receiver got it, still being tried
/// while one is, else not delivered.
pub fn newest_deliveries(deliveries: &Deliveries) -> (Option<DeliveryState>, Vec<&Observation<Delivery>>) {
    let Some(cause) = deliveries.values().max_by_key(|o| (o.time, o.id)).map(|o| o.value.cause) else {
        return (None, Vec::new());
    };
    let round: Vec<&Observation<Delivery>> = deliveries.values().filter(|o| o.value.cause == cause).collect();
    let any = |s: DeliveryState| round.iter().any(|o| o.value.state == s);
    let state = if any(DeliveryState::Afgeleverd) {
        DeliveryState::Afgeleverd
    } else if any(DeliveryState::Mislukt) {
        DeliveryState::Mislukt
    } else {
        DeliveryState::Opgegeven
    };
    (Some(state), round)
}

/// One handelingsperspectief as folded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdviceState {
    pub region: RegionCode,
    pub published: Observation<HandelingsperspectiefData>,
    pub addressed: BTreeSet<Slug>,
    /// Per location, its first "gelezen".
    #[serde(default)]
    pub read: BTreeMap<Slug, Observation<ReadData>>,
}

fn keep_earliest<K: Ord>(slot: &mut BTreeMap<K, DateTime<Utc>>, key: K, time: DateTime<Utc>) {
    let entry = slot.entry(key).or_insert(time);
    *entry = (*entry).min(time);
}

/// The locations an area given in `region` holds, among those registered now.
fn addressed(locations: &BTreeMap<Slug, LocationState>, region: RegionCode, area: &Area) -> BTreeSet<Slug> {
    locations
        .iter()
        .filter(|(_, l)| l.info.as_ref().is_some_and(|info| area.holds(region, &info.value)))
        .map(|(id, _)| id.clone())
        .collect()
}

impl UitvraagState {
    /// Opens an uitvraag: addresses the locations of its area, and counts what they
    /// already observed at or after its time (an answer that reached the log first).
    pub(crate) fn open(
        locations: &BTreeMap<Slug, LocationState>,
        id: Slug,
        region: RegionCode,
        opened: Observation<UitvraagData>,
    ) -> Self {
        let mut state = UitvraagState {
            id,
            region,
            addressed: addressed(locations, region, &opened.value.area),
            opened,
            closed: None,
            answers: BTreeMap::new(),
            not_affected: BTreeMap::new(),
            calls: BTreeMap::new(),
            deliveries: BTreeMap::new(),
        };
        for id in state.addressed.clone() {
            // Outcomes that reached the fold before the opening.
            if let Some(waiting) = locations.get(&id).and_then(|l| l.notices.get(&state.id)) {
                state.deliveries.insert(id.clone(), waiting.clone());
            }
            let slots = locations.get(&id).map(|l| &l.slots);
            for observation in slots.into_iter().flat_map(|s| s.values()).flat_map(|keys| keys.values()) {
                state.note(&id, &observation.value, observation.time);
            }
        }
        state
    }

    /// Notes an observation of an addressed location, if it answers this uitvraag.
    pub(crate) fn note(&mut self, location: &Slug, status: &Status, time: DateTime<Utc>) {
        if time < self.opened.time || !self.addressed.contains(location) {
            return;
        }
        if let Status::NotAffected { data } = status {
            if data.uitvraag.as_ref().is_none_or(|u| *u == self.id) {
                keep_earliest(&mut self.not_affected, location.clone(), time);
            }
            return;
        }
        let (dimension, key) = (status.dimension(), status.key());
        if self.opened.value.asked.iter().any(|a| a.answered_by(dimension, &key)) {
            keep_earliest(self.answers.entry(location.clone()).or_default(), dimension, time);
        }
    }

    /// Records a call; the same event twice is one call, as first received.
    pub(crate) fn record_call(&mut self, call: Observation<CallData>) {
        let calls = self.calls.entry(call.value.location.clone()).or_default();
        match calls.binary_search_by(|c| (c.time, c.id).cmp(&(call.time, call.id))) {
            Ok(at) if calls[at].received > call.received => calls[at] = call,
            Ok(_) => {}
            Err(at) => calls.insert(at, call),
        }
    }

    /// The end of the answering window: the closing, if closed.
    fn until(&self) -> Option<DateTime<Utc>> {
        self.closed.as_ref().map(|c| c.time)
    }

    /// Where `location` stands, and since when it has answered (or said not affected).
    pub fn answer(&self, location: &Slug) -> Answer {
        let in_window = |t: &DateTime<Utc>| self.until().is_none_or(|until| *t <= until);
        let not_affected = self.not_affected.get(location).copied().filter(in_window);
        let answered: BTreeMap<Dimension, DateTime<Utc>> = self
            .answers
            .get(location)
            .map(|a| a.iter().filter(|(_, t)| in_window(t)).map(|(d, t)| (*d, *t)).collect())
            .unwrap_or_default();
        let complete = answered.len() == self.opened.value.asked.len();
        let (state, time) = if complete {
            (AnswerState::Beantwoord, answered.values().max().copied())
        } else if let Some(t) = not_affected {
            (AnswerState::NietGetroffen, Some(t))
        } else if !answered.is_empty() {
            (AnswerState::Deels, None)
        } else {
            (AnswerState::Open, None)
        };
        Answer { state, time, dimensions: answered.into_keys().collect() }
    }
}

/// Where one location stands with an uitvraag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub state: AnswerState,
    /// When it answered in full, or said it is not affected.
    pub time: Option<DateTime<Utc>>,
    /// The asked dimensions it has reported.
    pub dimensions: Vec<Dimension>,
}

impl AdviceState {
    pub(crate) fn publish(
        locations: &BTreeMap<Slug, LocationState>,
        region: RegionCode,
        published: Observation<HandelingsperspectiefData>,
    ) -> Self {
        AdviceState {
            region,
            addressed: addressed(locations, region, &published.value.area),
            published,
            read: BTreeMap::new(),
        }
    }

    /// Notes a "gelezen" of an addressed location; the first counts.
    pub(crate) fn mark_read(&mut self, location: &Slug, read: Observation<ReadData>) {
        if !self.addressed.contains(location) {
            return;
        }
        let mut first = self.read.remove(location);
        keep_first(&mut first, read);
        self.read.extend(first.map(|f| (location.clone(), f)));
    }
}

// ---------- as a region sees them ----------

/// An uitvraag as a region's view shows it: the question, and where each addressed
/// location of the region stands. "Over the deadline" is for the reader to say, with its
/// clock, from `deadline` and each location's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UitvraagView {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<String>,
    pub asked: Vec<Asked>,
    pub area: Area,
    pub deadline: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renotify_minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<Slug>,
    pub asked_by: RegionCode,
    pub opened: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<DateTime<Utc>>,
    /// Addressed locations (of this view's region) per state.
    pub counts: BTreeMap<AnswerState, u32>,
    pub locations: BTreeMap<Slug, AddressedView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AddressedView {
    pub state: AnswerState,
    /// When it answered in full or said it is not affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered: Option<DateTime<Utc>>,
    /// The asked dimensions it has reported.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<Dimension>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<CallView>,
    /// Whether the newest notification about this uitvraag reached the location:
    /// `afgeleverd` ("bereikt"), `mislukt` (still being tried) or `opgegeven` ("niet
    /// afgeleverd"); none before any outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryState>,
    /// That notification's outcome per receiver (by channel and contact role).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deliveries: Vec<DeliveryView>,
}

/// One receiver's outcome of a notification: never an address, only its role and channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeliveryView {
    pub time: DateTime<Utc>,
    pub kind: NotificationKind,
    pub channel: Channel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_role: Option<ContactRole>,
    pub state: DeliveryState,
    pub attempt: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CallView {
    pub time: DateTime<Utc>,
    pub outcome: CallOutcome,
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A handelingsperspectief as a region's view shows it, with who of the region read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AdviceView {
    pub title: String,
    pub text: String,
    pub urgency: Urgency,
    pub area: Area,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<Slug>,
    pub published_by: RegionCode,
    pub published: DateTime<Utc>,
    /// Per addressed location of the region: whether (and when) it confirmed "gelezen".
    pub locations: BTreeMap<Slug, AdviceReceipt>,
}

/// Where one addressed location stands with a handelingsperspectief. An object even while
/// unread (`{}`): the stream's deltas are JSON Merge Patches (RFC 7396), in which a null
/// value deletes its key, so an unread location sent as null would vanish from the view.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AdviceReceipt {
    /// Its first "gelezen"; absent while unread.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<ReadView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReadView {
    pub time: DateTime<Utc>,
    pub actor: String,
    pub bron: Bron,
}

impl UitvraagState {
    /// As seen from a view that shows the addressed locations `shown` holds.
    pub fn view(&self, shown: impl Fn(&Slug) -> bool) -> UitvraagView {
        let d = &self.opened.value;
        let locations: BTreeMap<Slug, AddressedView> =
            self.addressed.iter().filter(|id| shown(id)).map(|id| (id.clone(), self.addressed_view(id))).collect();
        UitvraagView {
            title: d.title.as_str().to_owned(),
            question: d.question.as_ref().map(|q| q.as_str().to_owned()),
            asked: d.asked.clone(),
            area: d.area.clone(),
            deadline: d.deadline,
            renotify_minutes: d.renotify_minutes.map(|m| m.get()),
            incident: d.incident.clone(),
            asked_by: self.region,
            opened: self.opened.time,
            closed: self.until(),
            counts: counts(&locations),
            locations,
        }
    }

    /// Brings `view` up to date after only what `changed` locations did may have changed
    /// (their answers, deliveries): those are computed again, and the counts.
    pub fn refresh_view<'a>(&self, view: &mut UitvraagView, changed: impl IntoIterator<Item = &'a Slug>) {
        let mut any = false;
        for id in changed {
            if let Some(entry) = view.locations.get_mut(id) {
                *entry = self.addressed_view(id);
                any = true;
            }
        }
        if any {
            view.counts = counts(&view.locations);
        }
    }

    /// Where one addressed location stands: its answer, calls and deliveries.
    fn addressed_view(&self, id: &Slug) -> AddressedView {
        let answer = self.answer(id);
        let calls = self.calls.get(id).into_iter().flatten().map(|c| CallView {
            time: c.time,
            outcome: c.value.outcome,
            actor: c.actor.clone(),
            note: c.value.note.as_ref().map(|n| n.as_str().to_owned()),
        });
        let (delivery, round) = self.deliveries.get(id).map(newest_deliveries).unwrap_or((None, Vec::new()));
        let deliveries = round.into_iter().map(|o| DeliveryView {
            time: o.time,
            kind: o.value.kind,
            channel: o.value.channel,
            contact_role: o.value.contact_role,
            state: o.value.state,
            attempt: o.value.attempt,
            reason: o.value.reason.clone(),
        });
        AddressedView {
            state: answer.state,
            answered: answer.time,
            dimensions: answer.dimensions,
            calls: calls.collect(),
            delivery,
            deliveries: deliveries.collect(),
        }
    }
}

/// Addressed locations per state (every state named, also at 0).
fn counts(locations: &BTreeMap<Slug, AddressedView>) -> BTreeMap<AnswerState, u32> {
    let mut counts: BTreeMap<AnswerState, u32> = AnswerState::ALL.iter().map(|s| (*s, 0)).collect();
    for view in locations.values() {
        *counts.entry(view.state).or_default() += 1;
    }
    counts
}

impl AdviceState {
    pub fn view(&self, shown: impl Fn(&Slug) -> bool) -> AdviceView {
        let d = &self.published.value;
        AdviceView {
            title: d.title.as_str().to_owned(),
            text: d.text.as_str().to_owned(),
            urgency: d.urgency,
            area: d.area.clone(),
            incident: d.incident.clone(),
            published_by: self.region,
            published: self.published.time,
            locations: self.addressed.iter().filter(|id| shown(id)).map(|id| (id.clone(), self.receipt(id))).collect(),
        }
    }

    /// Brings `view` up to date after a "gelezen" of one of the `changed` locations.
    pub fn refresh_view<'a>(&self, view: &mut AdviceView, changed: impl IntoIterator<Item = &'a Slug>) {
        for id in changed {
            if let Some(entry) = view.locations.get_mut(id) {
                *entry = self.receipt(id);
            }
        }
    }

    fn receipt(&self, id: &Slug) -> AdviceReceipt {
        let read = self.read.get(id).map(|r| ReadView { time: r.time, actor: r.actor.clone(), bron: r.bron });
        AdviceReceipt { read }
    }
}

/// The order in which to call the locations that have not answered: those not answered at
/// all before those that answered in part; then those called least often; then those
/// whose last report is oldest (never reported first), so the least known is called first;
/// then by name.
pub fn call_order<'a>(
    uitvraag: &'a UitvraagState,
    locations: &'a BTreeMap<Slug, LocationState>,
    shown: impl Fn(&Slug) -> bool,
) -> Vec<&'a Slug> {
    let mut waiting: Vec<(&Slug, Answer)> = uitvraag
        .addressed
        .iter()
        .filter(|id| shown(id))
        .map(|id| (id, uitvraag.answer(id)))
        .filter(|(_, a)| matches!(a.state, AnswerState::Open | AnswerState::Deels))
        .collect();
    let name = |id: &Slug| locations.get(id).and_then(|l| l.info.as_ref()).map(|i| i.value.name.as_str().to_owned());
    let last_report = |id: &Slug| locations.get(id).and_then(LocationState::last_report);
    waiting.sort_by_cached_key(|(id, answer)| {
        let calls = uitvraag.calls.get(*id).map_or(0, Vec::len);
        (answer.state == AnswerState::Deels, calls, last_report(id), name(id), (*id).clone())
    });
    waiting.into_iter().map(|(id, _)| id).collect()
}
